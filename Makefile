# Two commands on a fresh machine with Python 3.11: `make test` and `make run`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# Stage commands in dvc.yaml call `python`: it must be the venv's.
export PATH := $(BIN):$(PATH)

.PHONY: setup setup-dev test run lint bench clean

# `make run` installs what running needs (requirements.txt: no PyTorch); `make test` adds the test,
# lint and training tools (requirements-dev.txt, with PyTorch for the parity tests).
$(VENV)/.installed: requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt requirements-ray.txt requirements-int8.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt -e .
	touch $@

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev

test: setup-dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

run: setup
	$(BIN)/dvc repro
	@echo "dataset: data/dataset/ (metrics: dvc metrics show)"
	@echo "report:  file://$(CURDIR)/data/report/index.html (open it in a browser)"

lint: setup-dev
	$(BIN)/ruff check .

bench: setup-dev
	$(BIN)/python bench/detect.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
