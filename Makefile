# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make run   — create .venv, install, run the pipeline on the embedded default (digits)
#   make test  — create .venv, install, run the test suite (every layer of tests/ except `slow`)
#   make test-fast — the unit layer only (tests/unit: in-process, no Snakemake, no subprocess, no real data), on
#                    FAST_WORKERS pytest-xdist workers: about 50 s on a quiet 2-core machine
#
# Knobs (make VAR=value):
#   TORCH_SPEC   the torch requirement (default torch==2.13.0); TORCH_PIP the pip options for torch only,
#                e.g. TORCH_PIP="--index-url https://download.pytorch.org/whl/cpu" (README "PyTorch builds")
#   EXTRAS       extras of snnconv to install (default: test,nir: the nir extra's round-trip test runs in `make test`)
#   SLURM=1      also install the SLURM executor plugin (default: 1 where .ci/start_slurm.sh exported
#                SNNCONV_SLURM, else 0). Installed, the plugin probes sacct/squeue/scontrol at every
#                snakemake start, local runs included, so only cluster set-ups get it (docs/slurm.md).
#   FAST_WORKERS workers of `make test-fast` (default 2: each imports torch and draws the figures' test data
#                once, so more workers pay that again for little gain on a few cores)
#   WITH_LINT=0  skip `make lint` (ruff, snakefmt, snakemake --lint), which `make test` runs first by default
#                (the tree is kept clean with `make fmt`).
PYTHON ?= python3.11
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
TORCH_PIP ?=
EXTRAS ?= test,nir
SLURM ?= $(if $(SNNCONV_SLURM),1,0)
WITH_LINT ?= 1  # not LINT: GNU make predefines LINT = lint, which `?=` would keep
LOCK ?= requirements.lock
CORES ?= all
FAST_WORKERS ?= 2
BIN := $(VENV)/bin
comma := ,
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
# Every install is constrained by the lock: the versions CI passed with (torch itself: TORCH_SPEC).
PIP_LOCKED := $(BIN)/python -m pip install -q -c $(LOCK)

.PHONY: install run test test-fast lint fmt lock dag docs report paper snapshot bench clean

$(STAMP): pyproject.toml $(LOCK)
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH_PIP) "$(TORCH_SPEC)"
	$(PIP_LOCKED) -e ".[$(EXTRAS)]"
	touch $@

$(VENV)/.installed-slurm: $(STAMP)
	$(PIP_LOCKED) -e ".[slurm]"
	touch $@

$(VENV)/.installed-dev: $(STAMP)
	$(PIP_LOCKED) -e ".[dev]"
	touch $@

install: $(STAMP) $(if $(filter 1,$(SLURM)),$(VENV)/.installed-slurm)

# Through snnconv.workflow.preflight: the config files on the command line are checked (a target after --configfile, a
# YAML problem) before Snakemake reads them, then Snakemake runs with the same arguments. Progress on the console
# through Snakemake's rich logger plugin (bars drawn in place on a terminal, a failed job's log printed), then the
# end-of-run summary: under 100 lines (tests/integration/test_console.py). Details: logs/.
run: install
	$(BIN)/python -m snnconv.workflow.preflight --cores $(CORES) --logger rich

test: install $(if $(filter 1,$(WITH_LINT)),lint)
	$(BIN)/python -m pytest -q

# The unit layer alone (README "Tests"): what to run after each edit; `make test` before a commit. Modules are
# units of work, and the modules that read the shared figure rendering share a worker (tests/unit/conftest.py).
test-fast: install
	$(BIN)/python -m pytest tests/unit -q -n $(FAST_WORKERS) --dist loadscope

# Style and workflow checks (CI runs them from `make test`; WITH_LINT=0 skips them); `make fmt` fixes what it can.
lint: install $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check .
	$(BIN)/snakemake --lint

fmt: install $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/snakefmt .

# Refresh requirements.lock: newest releases that pyproject.toml allows, every extra, any platform,
# Python 3.11, resolved against TORCH_SPEC (torch itself is left out: TORCH_SPEC installs it).
lock: $(VENV)/.installed-dev
	echo "$(TORCH_SPEC)" > $(VENV)/torch-constraint.txt
	$(BIN)/uv pip compile pyproject.toml --all-extras --universal --python-version 3.11 --quiet \
		-c $(VENV)/torch-constraint.txt --no-emit-package torch --custom-compile-command "make lock" -o $(LOCK)

# docs/rulegraph.dot, the rule graph of the default config, and the README's docs/rulegraph.svg drawn
# from it (needs Graphviz's dot); tests/integration/test_rulegraph.py checks both against `snakemake --rulegraph`.
dag: install
	$(BIN)/snakemake --rulegraph > docs/rulegraph.dot
	dot -Tsvg docs/rulegraph.dot > docs/rulegraph.svg

# Generated documentation: config/README.md from the config schema.
docs: install
	$(BIN)/python -m snnconv.workflow.schema_doc workflow/schemas/config.schema.yaml > config/README.md

report: install
	$(BIN)/snakemake --report report.html

paper: install
	$(BIN)/python -m snnconv.workflow.preflight --cores $(CORES) paper

# Publish the finished run in this folder (made with CONFIG) as docs/results/NAME: tables, figures, paper PDF,
# config and PROVENANCE (python -m snnconv.publish make). COMMAND is recorded as the run's command; FORCE=1 replaces
# an existing snapshot.
COMMAND ?= snakemake --cores $(CORES) --configfile $(CONFIG) && snakemake paper --cores $(CORES) --configfile $(CONFIG)
snapshot: install
	@test -n "$(CONFIG)" -a -n "$(NAME)" || { echo "usage: make snapshot CONFIG=config/x.yaml NAME=x [FORCE=1]"; exit 2; }
	$(BIN)/python -m snnconv.publish make --config "$(CONFIG)" --workdir . --out "docs/results/$(NAME)" \
		--command "$(COMMAND)" $(if $(filter 1,$(FORCE)),--force)

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf results logs benchmarks .snakemake report.html paper/build
