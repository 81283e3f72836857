# CropSM: two commands do all set-up (see README).
#   make run   create the environment, build the demo world if missing, serve the app
#   make test  create the environment, lint, run the tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 5006
# server processes behind the one port (`make run PROCS=2` for a team, one per core)
PROCS ?= 1
PROFILE ?= demo

.PHONY: run test browser lint audit background

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[app,test]"
	touch $(STAMP)

# Paths are cropsm.config's defaults under this folder (./data/demo, ./catalogs/cropsm.yaml,
# ./models); the app shows the validation reports committed in docs/validation.
run: export CROPSM_REPORTS ?= docs/validation
run: $(STAMP)
	$(BIN)/cropsm demo build --profile $(PROFILE) --if-missing
	$(BIN)/cropsm train --if-missing
	$(BIN)/cropsm predict --if-missing
	mkdir -p data && $(MAKE) --no-print-directory background > data/background.log 2>&1 &
	$(BIN)/panel serve app.py --setup cropsm/app/warm.py --num-procs $(PROCS) --port $(PORT) --address 127.0.0.1 --allow-websocket-origin=localhost:$(PORT) --allow-websocket-origin=127.0.0.1:$(PORT)

# While the app serves: the models only some tabs use (the CropSM method's forests with
# those of the rain-fed stations, the network; the app says to wait until they exist),
# the climate record of the 0-10 cm products (every 8th cell, 2009-2018) and its
# percentiles, then the rest of the 2018 season (published month by month). Each step
# resumes or is skipped when done; the log is data/background.log.
background: $(STAMP)
	$(BIN)/cropsm train --method cropsm --rainfed --if-missing
	$(BIN)/cropsm network train --if-missing --grid single
	$(BIN)/cropsm predict --years 2009-2018 --every 8 --depth 0-10cm --if-missing --quiet
	$(BIN)/cropsm climatology --years 2009-2017 --depth 0-10cm --if-missing --quiet
	$(BIN)/cropsm predict --season 2018 --quiet

# The UI tests drive Debian's Chromium through Playwright (no browser download).
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Known vulnerabilities of the installed packages (needs pypi.org's per-version JSON).
audit: $(STAMP)
	$(BIN)/pip-audit --skip-editable --progress-spinner off

# Style, then the architecture contracts (docs/architecture.md), then the types.
lint: $(STAMP)
	$(BIN)/ruff check cropsm tests app.py benchmarks scripts
	$(BIN)/lint-imports
	$(BIN)/mypy

test: $(STAMP) browser lint
	$(BIN)/python -m pytest
