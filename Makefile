# Speech & Audio Processing — the course's two commands:
#   make lab    build the environment if needed, then open JupyterLab on notebooks/
#   make test   build the environment if needed, then run every test and notebook
#
# The environment lives in $(VENV) (default .venv; `make test VENV=~/venvs/course`).
# A stamp named after a hash of the pins decides when to rebuild: changing
# pyproject.toml's dependencies or constraints.txt rebuilds, nothing else does.

SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= $(shell command -v python3.11 || command -v python3)
PY := $(VENV)/bin/python
LAB_PORT ?= 8888
LAB_ARGS ?=
PYTEST_ARGS ?=

# Hash of what decides what gets installed: pyproject's dependency pins and
# constraints.txt (not the rest of pyproject.toml, so editing pytest settings
# does not rebuild the environment).
PIN_HASH := $(shell { $(PYTHON) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print(p["requires-python"], p["dependencies"], p["optional-dependencies"])' 2>&1; cat constraints.txt; } | sha256sum | cut -c1-16)
# The editable install points at this checkout: redo it (seconds) if the checkout moved.
SRC_HASH := $(shell echo "$(PIN_HASH) $(CURDIR)" | sha256sum | cut -c1-16)
DEPS_STAMP := $(VENV)/.course-deps-$(PIN_HASH)
SRC_STAMP := $(VENV)/.course-src-$(SRC_HASH)

.PHONY: help setup lab test test-lib test-notebooks stubs kernel-user freeze bench corpus clean distclean

help:
	@echo "make lab        build the environment if needed and open JupyterLab"
	@echo "make test       build the environment if needed and run all tests and notebooks (fast mode)"
	@echo "make setup      only build the environment ($(VENV))"
	@echo "make test-lib   library and exercise tests only"
	@echo "make test-notebooks   run every notebook with nbval (fast mode)"
	@echo "make stubs      regenerate exercises/ from solutions/"
	@echo "make kernel-user  register the course kernel for other Jupyter installs (VS Code...)"
	@echo "make bench      speed comparisons against the reference libraries"
	@echo "make corpus     regenerate data/ (maintainers; needs: apt-get install espeak-ng flite sox fluidsynth fluid-soundfont-gm)"
	@echo "make freeze     rewrite constraints.txt from the current environment (maintainers)"
	@echo "make clean / distclean   remove caches / also the environment"

setup: $(SRC_STAMP)

$(DEPS_STAMP):
	@if [ -z "$(PYTHON)" ]; then echo "No python3.11 found: install Python 3.11 with venv (e.g. apt install python3.11-venv)"; exit 1; fi
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "The course is pinned for Python 3.11; $(PYTHON) is " + sys.version.split()[0] + ". Run: make PYTHON=/path/to/python3.11 ...")'
	@test -x $(PY) || { echo "Creating the environment in $(VENV) ..."; $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet --constraint constraints.txt -e '.[test]'
	@rm -f $(VENV)/.course-deps-* $(VENV)/.course-src-*
	@touch $@

$(SRC_STAMP): $(DEPS_STAMP)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (Speech & Audio course)" >/dev/null
	@rm -f $(VENV)/.course-src-*
	@touch $@
	@echo "Environment ready in $(VENV)"

lab: setup
	@# the environment's bin/ first on PATH, so `!course check ex01` works in every notebook
	PATH="$(abspath $(VENV))/bin:$$PATH" COURSE_IMPL=$${COURSE_IMPL:-exercises} \
		$(PY) -m jupyter lab --notebook-dir=notebooks --port=$(LAB_PORT) $(LAB_ARGS)

# Everything CI runs. COURSE_FAST=1 picks each notebook's small configuration;
# COURSE_IMPL=solutions makes notebooks call the reference exercise answers.
test: setup
	$(PY) -m course_lib.grading.cli stubs --check
	COURSE_FAST=1 COURSE_IMPL=solutions MPLBACKEND=Agg $(PY) -m pytest tests notebooks course_lib --doctest-modules \
		--nbval-lax --nbval-current-env --nbval-cell-timeout=120 -p no:cacheprovider $(PYTEST_ARGS)

test-lib: setup
	COURSE_FAST=1 COURSE_IMPL=solutions MPLBACKEND=Agg $(PY) -m pytest tests course_lib --doctest-modules -p no:cacheprovider $(PYTEST_ARGS)

test-notebooks: setup
	COURSE_FAST=1 COURSE_IMPL=solutions MPLBACKEND=Agg $(PY) -m pytest notebooks \
		--nbval-lax --nbval-current-env --nbval-cell-timeout=120 -p no:cacheprovider $(PYTEST_ARGS)

stubs: setup
	$(PY) -m course_lib.grading.cli stubs

kernel-user: setup
	$(PY) -m ipykernel install --user --name speech-audio-course --display-name "Python 3 (Speech & Audio course)"

bench: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

corpus: setup
	$(PY) tools/make_corpus.py

freeze:
	$(PY) -m pip freeze --exclude-editable | grep -v '^speech-audio-course' > constraints.txt
	@echo "constraints.txt rewritten ($$(wc -l < constraints.txt) pins)"

clean:
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -rf .pytest_cache .hypothesis build *.egg-info

distclean: clean
	rm -rf $(VENV)
