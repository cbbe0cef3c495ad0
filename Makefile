# geoplan — two commands on a fresh machine:  make app  |  make test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: app test lint typecheck bench data calibration browser wheel clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[app,dask,bench,dev]"
	touch $(STAMP)

## make app: create the venv, install, start the map app on the embedded Xiamen data
app: $(STAMP)
	$(PY) apps/serve.py --server.headless true --browser.gatherUsageStats false --server.port $(PORT)

## Debian packages the tests use: Chromium (real-browser tests), Noto Sans CJK (Chinese in the report and
## screenshots), poppler-utils (the report's PDF pages as images). Root on CI; sudo elsewhere.
DEBS := chromium fonts-noto-cjk poppler-utils
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] \
	    || ! command -v pdftoppm >/dev/null; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBS) >/dev/null; \
	fi
	@/usr/bin/chromium --version 2>/dev/null; pdftoppm -v 2>&1 | head -1

## make test: create the venv, install, run every test (unit, doctests, CLI, app, browser, and
## tests/test_wheel.py: the wheel built, installed in a fresh venv and run outside the checkout), on every core
## (pytest-xdist; a test file stays on one worker, so module fixtures such as the app's first run are made once)
test: $(STAMP) browser
	$(VENV)/bin/ruff check geoplan apps tests benchmarks scripts
	$(VENV)/bin/mypy geoplan
	$(VENV)/bin/pytest -q -n auto --maxprocesses 4 --dist loadfile --durations 15

lint: $(STAMP)
	$(VENV)/bin/ruff check geoplan apps tests benchmarks scripts

typecheck: $(STAMP)
	$(VENV)/bin/mypy geoplan

## make bench: every benchmark, before (BEFORE, a git revision) and after (this tree) in one run
BEFORE ?= cf6a83a
bench: $(STAMP)
	$(PY) benchmarks/run.py $(if $(BEFORE),--before $(BEFORE))

## regenerate the embedded modelled data (seeded: the same files every time)
data: $(STAMP)
	$(PY) scripts/build_xiamen_data.py
	$(PY) scripts/build_xiamen_demand.py
	$(PY) scripts/build_xiamen_siting.py

## docs/radio-calibration.md from geoplan.radio at its cited defaults and the embedded data
calibration: $(STAMP)
	$(PY) scripts/radio_calibration.py

## the sdist and the wheel (with layers/ and data/gis/ inside) in dist/
wheel: $(STAMP)
	$(PY) -m build --outdir dist .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
