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
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
# pip's full output goes here; the terminal only shows what is happening.
SETUP_LOG := $(VENV)/setup.log
SETUP_FAILED = { echo "Setup failed. The last lines of the log:"; tail -n 25 $(SETUP_LOG); echo "Full log: $(SETUP_LOG)"; exit 1; }
# JupyterLab refuses to run as root unless told; containers, cloud notebooks and
# classroom VMs often run as root.
ALLOW_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: help setup lab test test-lib test-notebooks book stubs kernel-user freeze bench corpus clean distclean

help:
	@echo "make lab        build the environment if needed and open JupyterLab"
	@echo "make test       build the environment if needed and run all tests and notebooks (fast mode)"
	@echo "make setup      only build the environment ($(VENV))"
	@echo "make test-lib   library and exercise tests only"
	@echo "make test-notebooks   run every notebook with nbval (fast mode)"
	@echo "make book       the course website: every notebook run (fast mode) to HTML in build/book/"
	@echo "make stubs      regenerate exercises/ from solutions/"
	@echo "make kernel-user  register the course kernel for other Jupyter installs (VS Code...)"
	@echo "make bench      speed comparisons against the reference libraries"
	@echo "make corpus     regenerate data/ (maintainers; needs: apt-get install espeak-ng flite sox fluidsynth fluid-soundfont-gm)"
	@echo "make freeze     rewrite constraints.txt from the current environment (maintainers)"
	@echo "make clean / distclean   remove caches / also the environment"

setup: $(SRC_STAMP) $(LAB_SETTINGS)

$(DEPS_STAMP):
	@if [ -z "$(PYTHON)" ]; then echo "No python3.11 found: install Python 3.11 with venv (e.g. apt install python3.11-venv)"; exit 1; fi
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "The course is pinned for Python 3.11; $(PYTHON) is " + sys.version.split()[0] + ". Run: make PYTHON=/path/to/python3.11 ...")'
	@if [ -x $(PY) ]; then echo "Updating the course environment in $(VENV) to the changed pins ..."; else \
		echo "Building the course environment in $(VENV): about 3.3 GB to download, 6.6 GB on disk"; \
		echo "(mostly PyTorch and its CUDA libraries); 3 to 20 minutes, depending on your connection."; fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "  installing pip, setuptools, wheel ..."
	@$(PY) -m pip install --upgrade pip setuptools wheel > $(SETUP_LOG) 2>&1 || $(SETUP_FAILED)
	@echo "  installing the pinned packages (numpy, torch, librosa, jupyterlab, ...) ..."
	@$(PY) -m pip install --constraint constraints.txt -e '.[test]' >> $(SETUP_LOG) 2>&1 || $(SETUP_FAILED)
	@rm -f $(VENV)/.course-deps-* $(VENV)/.course-src-*
	@touch $@

$(SRC_STAMP): $(DEPS_STAMP)
	@$(PY) -m pip install --no-deps --no-build-isolation -e . >> $(SETUP_LOG) 2>&1 || $(SETUP_FAILED)
	@$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (Speech & Audio course)" >> $(SETUP_LOG) 2>&1 || $(SETUP_FAILED)
	@rm -f $(VENV)/.course-src-*
	@touch $@
	@echo "Environment ready in $(VENV). Next: make lab (open the course) or make test (check everything)."

# JupyterLab settings for the course environment (no "Jupyter news?" pop-up on
# every first screen). A file target of its own, so environments built before
# it existed (CI's cached one) get it without a rebuild.
$(LAB_SETTINGS): tools/lab_overrides.json | $(SRC_STAMP)
	@mkdir -p $(dir $@)
	@cp tools/lab_overrides.json $@

lab: setup
	@$(if $(ALLOW_ROOT),echo "Running as root (a container or VM?): starting JupyterLab with --allow-root.")
	@# the environment's bin/ first on PATH, so `!course check ex01` works in every notebook
	PATH="$(abspath $(VENV))/bin:$$PATH" COURSE_IMPL=$${COURSE_IMPL:-exercises} \
		$(PY) -m jupyter lab --notebook-dir=notebooks --port=$(LAB_PORT) $(ALLOW_ROOT) $(LAB_ARGS)

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

# The course website: every notebook executed in fast mode, rendered with nbconvert, with
# an index and previous/next links (tools/build_book.py says why nbconvert).
book: setup
	$(PY) tools/build_book.py --out build/book

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
