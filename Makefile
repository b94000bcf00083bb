# nnetlib: build, test and report.
#
#   make report   set up .venv, check the data, run every notebook in place,
#                 build the HTML report in report/ (prints report/index.html);
#                 QUICK=1: classroom mode, copies run small in report/quick/
#   make html     the HTML report from the stored outputs (no execution)
#   make test     set up .venv, run the unit tests, then nbval over the notebooks
#
# Other targets: venv (set-up only), data, bench, lab, clean.
# Nothing outside this folder is touched except the MNIST cache
# ($XDG_CACHE_HOME/nnetlib or ~/.cache/nnetlib) when the data must be fetched.

PY ?= python3
VENV = .venv
BIN = $(VENV)/bin
PIP = $(BIN)/python -m pip
STAMP = $(VENV)/.installed
PYX = $(wildcard nnetlib/_ext/*.pyx)
NOTEBOOKS = $(sort $(wildcard notebooks/*.ipynb))
# seconds one notebook cell may run, in `make report` and in nbval
CELL_TIMEOUT ?= 1200

# Progress bars off under CI (CI=true) unless NNETLIB_PROGRESS says otherwise.
ifneq ($(filter-out 0 false no,$(strip $(CI))),)
export NNETLIB_PROGRESS ?= 0
export TQDM_DISABLE ?= 1
endif

# The kernel of the venv, not a same-named kernel spec in ~/.local/share/jupyter.
export JUPYTER_PATH := $(abspath $(VENV))/share/jupyter
export JUPYTER_PLATFORM_DIRS = 1
# Reproducible hashing in tests; threads (OMP_NUM_THREADS...) are left alone.
TEST_ENV = PYTHONHASHSEED=0
# Unit tests draw off-screen. Notebooks must not inherit MPLBACKEND: ipykernel
# picks the inline backend only when it is unset.
UNIT_ENV = $(TEST_ENV) MPLBACKEND=Agg
NB_ENV = env -u MPLBACKEND $(TEST_ENV)

.PHONY: all venv data test unit nbval report html bench lab clean lint format

all: test

# ---------------------------------------------------------------- set-up

$(BIN)/python:
	$(PY) -m venv $(VENV)

# torch first, from constraints.txt (2.13.0: the CPU wheel found via
# PIP_FIND_LINKS when present); then the build tools, so the editable install
# can build the Cython kernel with --no-build-isolation against exactly the
# pinned Cython/scipy of the venv. That install is the one build: it compiles
# the kernel in place (after editing a .pyx: `python setup.py build_ext --inplace`).
# Without a C compiler it installs without the kernel (CyNet unavailable) and
# the check below says so.
$(STAMP): $(BIN)/python pyproject.toml setup.py reporting/pyproject.toml constraints.txt $(PYX) $(wildcard nnetlib/_ext/*.h)
	$(PIP) install --quiet -c constraints.txt torch==2.13.0
	$(PIP) install --quiet -c constraints.txt setuptools wheel Cython scipy
	$(PIP) install --quiet --no-build-isolation -c constraints.txt -e '.[torch,test]' -e ./reporting
	@$(BIN)/python -c 'from nnetlib.nets import cynet; k = cynet._frontprop; \
	    print("nnetlib: WARNING: Cython kernel NOT built (no C compiler?): CyNet unavailable," \
	          " notebooks fall back to NpNet" if k is None else \
	          "nnetlib: kernel built, OpenMP on, max threads %d" % k.max_threads() \
	          if k.openmp_enabled() else \
	          "nnetlib: WARNING: kernel built WITHOUT OpenMP (serial)")'
	touch $@

venv: $(STAMP)

# ---------------------------------------------------------------- data

# Loads both splits: finds the files (NNETLIB_DATA, cache, or download into
# the cache), verifies checksums, prints where they came from.
data: $(STAMP)
	$(BIN)/python -m nnetlib data

# ---------------------------------------------------------------- tests

test: lint unit nbval

# ruff: lint and format check (settings in pyproject.toml); `make format` fixes the format
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .

unit: $(STAMP)
	$(UNIT_ENV) $(BIN)/python -m pytest tests

# nbval re-runs each notebook and compares cell outputs with the stored ones,
# after the regexes in tests/nbval_sanitize.cfg (timings, addresses, dates).
# nbval 0.11 compares stderr streams too and has no option to skip them;
# conftest.py drops stderr from the comparison (progress bars, warnings).
# Cells whose results vary run to run carry the tag nbval-ignore-output
# (or nbval-skip). --nbval-current-env: the venv's Python, whatever kernel
# name the notebook stores.
# A check writes no results: NNETLIB_RESULTS is unset, so save_results writes
# nothing (only `make report` asks for them) and 00 reads the stored ones.
nbval: $(STAMP)
ifeq ($(NOTEBOOKS),)
	@echo "nbval: no notebooks/*.ipynb yet, nothing to validate"
else
	env -u NNETLIB_RESULTS NNETLIB_QUICK=0 NNETLIB_PROGRESS=0 $(NB_ENV) $(BIN)/python -m pytest --nbval --nbval-current-env \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg \
	    --nbval-cell-timeout $(CELL_TIMEOUT) -p no:cacheprovider $(NOTEBOOKS)
endif

# ---------------------------------------------------------------- report

# make report           executes the notebooks in order, in place (their stored
#                       outputs are the report; 00-overview runs first, as the
#                       reader meets it, and again last, to sum up this run's
#                       saved results), then `make html`.
# make report QUICK=1   classroom mode: every notebook runs with NNETLIB_QUICK=1
#                       as a copy in report/quick/ (results in report/quick/results),
#                       never over the stored full-scale outputs; prints the
#                       notebook time; then `make html QUICK=1`.
# make html             the site from the STORED outputs, nothing re-executed:
#                       report/index.html (landing page, headline results from
#                       notebooks/results/*.json), one page per notebook,
#                       MathJax inside report/mathjax (offline; zip and go).
#                       With QUICK=1: from report/quick/ into report/quick/.
#                       Both: the Spanish edition (notebooks/es, or report/quick/es)
#                       is rebuilt from the executed English notebooks and
#                       notebooks/es/translations, and its pages go to es/.
ifneq ($(filter-out 0 false no off,$(strip $(QUICK))),)
REPORT_DIR = report/quick
EXEC_FLAGS = --quick --out $(REPORT_DIR)
HTML_FLAGS = --quick --notebooks $(REPORT_DIR) --results $(REPORT_DIR)/results --out $(REPORT_DIR)
SPANISH_FLAGS = --notebooks $(REPORT_DIR) --translations notebooks/es/translations
else
REPORT_DIR = report
EXEC_FLAGS =
HTML_FLAGS = --notebooks notebooks --results notebooks/results --out $(REPORT_DIR)
SPANISH_FLAGS = --notebooks notebooks
endif

report: $(STAMP) data
ifeq ($(NOTEBOOKS),)
	@echo "report: no notebooks/*.ipynb yet, nothing to execute"
else
	@# every prose cell translated before the long run, not after it
	$(BIN)/python -m nnetreport translate --prose --notebooks notebooks
	NNETLIB_PROGRESS=$${NNETLIB_PROGRESS:-0} $(NB_ENV) $(BIN)/python -m nnetreport.site \
	    execute $(EXEC_FLAGS) --timeout $(CELL_TIMEOUT) $(NOTEBOOKS)
	$(BIN)/python -m nnetreport translate $(SPANISH_FLAGS)
	@$(MAKE) --no-print-directory html
endif

html: $(STAMP)
	$(BIN)/python -m nnetreport.site build $(HTML_FLAGS)
	@echo "report: $(CURDIR)/$(REPORT_DIR)/index.html (en español: $(REPORT_DIR)/es/index.html)"

# ---------------------------------------------------------------- misc

bench: $(STAMP)
	$(BIN)/python -m nnetreport bench

# JupyterLab refuses to run as root (in a container, say) without --allow-root.
lab: $(STAMP)
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

clean:
	rm -rf $(VENV) build dist report *.egg-info .pytest_cache .hypothesis
	rm -f nnetlib/_ext/*.so nnetlib/_ext/*.c
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
