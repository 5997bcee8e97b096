"""What code a rule runs, as a digest: the rule's script and every ``snnconv`` module it can import.

Snakemake reruns a ``script:`` rule when the script file is *newer* than the outputs and never looks at the
package modules the script imports: an edit to ``snnconv/simulate/neurons.py`` that changes every accuracy
reruns nothing, and a checkout that only renews modification times reruns everything. Each rule therefore gets
the digest of the code it runs as a param (``params: code=...``), so Snakemake's params trigger reruns exactly
the jobs whose code changed, by content.

The digest covers the *syntax tree* of each file (:func:`ast.dump`, without line numbers and without
docstrings), not its bytes: a comment, a docstring, blank lines or reformatting change no result and rerun
nothing; any change to a statement or an expression reruns. The set of modules is the closure of every
``import`` statement of the script over the package (imports inside functions included, and every package
``__init__`` on the way, since importing ``a.b.c`` runs ``a/__init__.py`` and ``a/b/__init__.py``): it may hold
a module a job never calls, which reruns too much, never too little.

DAG-time code: nothing here imports torch or any module it hashes; files are read and parsed, never run.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from functools import cache
from pathlib import Path

PACKAGE = "snnconv"
DIGEST_CHARS = 16  # 64 bits of SHA-256: a param short enough to read in `snakemake --summary`


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    """``tree`` with the docstring of every module, class and function removed (they change no behaviour)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
                if isinstance(body[0].value.value, str):
                    node.body = body[1:] or [ast.Pass()]
    return tree


# One import statement: (level of a relative import, module after ``from`` or None, imported names).
ImportSpec = tuple[int, str | None, tuple[str, ...]]


@cache
def _read(path: Path) -> tuple[tuple[ImportSpec, ...], str]:
    """A file's import statements and its code text, from one parse (every rule's closure shares most files).

    The code text is :func:`ast.dump` of the tree without positions or docstrings; ValueError naming the file
    if it is not valid Python.
    """
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except SyntaxError as exc:
        raise ValueError(f"{path}: not valid Python ({exc.msg}, line {exc.lineno}); cannot digest the code") from exc
    imports: list[ImportSpec] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports.append((0, None, tuple(alias.name for alias in node.names)))
        elif isinstance(node, ast.ImportFrom):
            imports.append((node.level, node.module or "", tuple(alias.name for alias in node.names)))
    return tuple(imports), ast.dump(_strip_docstrings(tree), include_attributes=False)


def code_text(path: str | Path) -> str:
    """The part of a Python file that can change what it does: its syntax tree without positions or docstrings."""
    return _read(Path(path).resolve())[1]


def module_file(root: Path, dotted: str) -> Path | None:
    """The file of module ``dotted`` under ``root`` (``a/b.py`` or ``a/b/__init__.py``), None if neither exists."""
    base = root.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_package(path: Path) -> bool:
    """Whether ``path`` is a package's ``__init__.py`` (relative imports then start at the package itself)."""
    return path.name == "__init__.py"


@cache
def imported_names(path: Path, module: str | None) -> tuple[str, ...]:
    """Every dotted name that an ``import`` statement anywhere in ``path`` may load (relative ones resolved).

    ``from a.b import c`` yields ``a.b`` and ``a.b.c`` (``c`` may be a submodule or a name in ``a.b``);
    ``module`` is the file's own dotted name (None for a script outside the package: no relative imports).
    """
    names: list[str] = []
    for level, source, aliases in _read(path.resolve())[0]:
        if source is None:  # import a.b, c
            names += aliases
            continue
        base = source
        if level:
            if module is None:
                continue
            parts = module.split(".") if _is_package(path) else module.split(".")[:-1]
            parts = parts[: len(parts) - (level - 1)]
            base = ".".join(parts + ([source] if source else []))
        names.append(base)
        names += [f"{base}.{alias}" for alias in aliases if alias != "*"]
    return tuple(names)


def _with_parents(dotted: str) -> list[str]:
    """``a.b.c`` → ``a``, ``a.b``, ``a.b.c``: importing a module runs every package ``__init__`` above it."""
    parts = dotted.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def package_closure(
    script: str | Path, root: str | Path, package: str = PACKAGE, modules: Iterable[str] = ()
) -> list[Path]:
    """The files of ``package`` (under ``root``) that ``script`` can import, directly or through each other;
    ``modules`` names the ones it imports by name at run time (the generic figure rule's drawer), which no
    import statement shows."""
    root = Path(root).resolve()
    seen: dict[Path, None] = {}
    todo: list[tuple[Path, str | None]] = [(Path(script).resolve(), None)]
    for name in modules:
        for dotted in _with_parents(name):
            found = module_file(root, dotted)
            if found is None:
                raise FileNotFoundError(f"module {dotted} (named by {script}) has no file under {root}")
            if found not in seen:
                seen[found] = None
                todo.append((found, dotted))
    while todo:
        path, module = todo.pop()
        for name in imported_names(path, module):
            if name != package and not name.startswith(package + "."):
                continue
            for dotted in _with_parents(name):
                found = module_file(root, dotted)
                if found is not None and found not in seen:
                    seen[found] = None
                    todo.append((found, dotted))
    return sorted(seen)


def digest(files: Iterable[Path], root: str | Path) -> str:
    """SHA-256 over (relative path, code text) of ``files``, in path order, cut to :data:`DIGEST_CHARS`."""
    root = Path(root).resolve()
    h = hashlib.sha256()
    for path in sorted(Path(f).resolve() for f in files):
        name = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
        h.update(name.encode() + b"\0" + code_text(path).encode() + b"\0")
    return h.hexdigest()[:DIGEST_CHARS]


@cache
def script_digest(script: str | Path, root: str | Path, modules: tuple[str, ...] = ()) -> str:
    """The digest of the code a rule script runs: the script itself and its :func:`package_closure` under ``root``
    (with ``modules``, those it imports by name)."""
    script = Path(script)
    return digest([script, *package_closure(script, root, modules=modules)], root)
