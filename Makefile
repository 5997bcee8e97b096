# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make run   — create .venv, install, run the pipeline on the embedded default (digits)
#   make test  — create .venv, install, run the test suite
PYTHON ?= python3.11
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
CORES ?= all
BIN := $(VENV)/bin

.PHONY: install run test lint dag report paper bench clean

$(BIN)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[test,slurm]"
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/snakemake --cores $(CORES)

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/snakemake --lint

dag: install
	$(BIN)/snakemake --rulegraph | dot -Tsvg > docs/rulegraph.svg

report: install
	$(BIN)/snakemake --report report.html

paper: install
	$(BIN)/snakemake --cores $(CORES) paper

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf results logs benchmarks .snakemake report.html paper/build
