# learnlr: build the book, run the tests, work on the notebooks.
#
#   make book      execute the notebooks and build the HTML book into _build/html
#   make test      unit tests + every notebook re-run and compared with its stored outputs
#   make lab       open the notebooks in JupyterLab
#   make execute   re-run every notebook and save its outputs (after editing a notebook)
#   make lint      check formatting and lint (ruff), as CI does
#   make format    reformat and apply safe lint fixes
#   make bench     performance benchmarks: prints a table, writes benchmarks/results/latest.json
#   make clean     remove build output and caches (keeps .venv)
#
# Every target creates .venv on first use. PYTHON picks the interpreter (>= 3.10):
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

help:
	@echo "make book | test | lab | execute | lint | format | bench | clean | distclean | venv"
	@echo "See the top of the Makefile or README.md for what each does."

# The stamp is redone when the project's requirements change, and once learnlr/ exists
# (an editable install made before the package directory existed cannot import it).
venv: $(STAMP)

$(STAMP): pyproject.toml requirements.txt $(wildcard learnlr/__init__.py)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -e ".[dev]"
	touch $@

# Jupyter Book executes the notebooks itself (execute_notebooks: cache in _config.yml), so the
# rendered outputs always come from the current code; the outputs stored in the .ipynb files are
# what `make test` compares against.
book: $(STAMP) npm
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo
	@echo "Open _build/html/index.html"

test: $(STAMP)
	$(BIN)/python -m pytest

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

# Coursework (learnlr/coursework.py; see its docstring for the rules):
#   make student                     student copies of notebooks/ in student/ (git-ignored):
#                                    solutions replaced by stubs, their outputs cleared
#   make grade SUBMISSIONS=dir       run dir/<student>.ipynb or dir/<student>/*.ipynb, each in a
#                                    fresh kernel (TIMEOUT=60 s per cell), and write grades.csv,
#                                    summary.csv, runs.csv and executed/ to GRADES=grades
.PHONY: student grade
TIMEOUT ?= 60
GRADES ?= grades

student: $(STAMP)
	$(BIN)/python -m learnlr.coursework student --src notebooks --out student

grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=dir [GRADES=grades] [TIMEOUT=60]"; exit 2; }
	$(BIN)/python -m learnlr.coursework grade "$(SUBMISSIONS)" --out "$(GRADES)" --timeout $(TIMEOUT)

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
