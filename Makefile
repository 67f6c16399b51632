# werkeffect: two commands do everything on a fresh Debian machine with Python 3.11.
#   make demo   simulate Groningen -> run the analyses -> render the reports
#   make test   run the test suite (what CI runs)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
SEED   ?= 2026
DATA   ?= data/groningen
RESULTS ?= results

.PHONY: demo test test-slow lint format bench docs clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/werkeffect simulate --scenario groningen --seed $(SEED) --out $(DATA)
	$(VENV)/bin/werkeffect run all --data $(DATA) --out $(RESULTS)
	$(VENV)/bin/werkeffect report all --to html,pdf --results $(RESULTS)

test: $(VENV)/.installed
	$(PY) -m pytest -q -p no:cacheprovider -n 2

test-slow: $(VENV)/.installed
	$(PY) -m pytest -q -p no:cacheprovider -m slow

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests analyses benchmarks
	$(VENV)/bin/ruff format --check src tests analyses benchmarks

format: $(VENV)/.installed
	$(VENV)/bin/ruff format src tests analyses benchmarks
	$(VENV)/bin/ruff check --fix src tests analyses benchmarks

bench: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) benchmarks/run.py

docs: $(VENV)/.installed
	$(PY) -m werkeffect.data.schema > docs/data.md

clean:
	rm -rf $(VENV) data results reports/_output .pytest_cache
