"""English for generated prose: counts with the right noun form and lists of any length.

Every sentence of the paper that depends on a count or a list goes through these helpers, so no template prints
"seed(s)", "1 networks" or an empty list: the caller decides what an empty list means (usually: say that the
thing was not done, or leave the sentence out), and :func:`human_list` / :func:`format_set` say it plainly
when asked to print one anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# Nouns whose plural is not noun + "s".
_IRREGULAR = {"matrix": "matrices", "analysis": "analyses", "child": "children", "index": "indices"}


def plural(noun: str, count: Any) -> str:
    """``noun`` in the form that agrees with ``count``: singular only for exactly one (1, 1.0, "1")."""
    if _is_one(count):
        return noun
    head, _, last = noun.rpartition(" ")
    if last in _IRREGULAR:
        word = _IRREGULAR[last]
    elif last.endswith(("s", "x", "ch", "sh")):
        word = last + "es"
    elif last.endswith("y") and last[-2:-1] not in tuple("aeiou"):
        word = last[:-1] + "ies"
    else:
        word = last + "s"
    return f"{head} {word}" if head else word


def _is_one(count: Any) -> bool:
    """Whether ``count`` (a number or its printed form) is exactly one."""
    try:
        return float(count) == 1.0
    except (TypeError, ValueError):
        raise ValueError(f"count must be a number or its printed form, got {count!r}") from None


def count_noun(count: Any, noun: str) -> str:
    """'1 seed', '3 seeds', '0 layers', '12.5 percentage points': the count as given, the noun agreeing."""
    return f"{count} {plural(noun, count)}"


def human_list(items: Iterable[Any], empty: str = "") -> str:
    """'a', 'a and b', 'a, b and c'; ``empty`` for no items (callers say what nothing means there)."""
    items = [str(i) for i in items]
    if not items:
        return empty
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def format_set(items: Iterable[Any]) -> str:
    r"""A set in LaTeX math mode (to be used inside ``$…$``): '\{1, 4, \infty\}'; the empty set is '\emptyset'."""
    items = [str(i) for i in items]
    return r"\{" + ", ".join(items) + r"\}" if items else r"\emptyset"
