# Shigu: set-up and everyday commands. Everything installs into .venv at the project root.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHIGU_TEST_DATA ?= $(abspath ../shared/data)
export SHIGU_TEST_DATA
# Offline machines: models come from a mirror folder. Use the shared data's models when present.
ifeq ($(SHIGU_MODEL_MIRROR),)
ifneq ($(wildcard $(SHIGU_TEST_DATA)/models/yolox_nano.onnx),)
export SHIGU_MODEL_MIRROR := $(SHIGU_TEST_DATA)/models
endif
endif

.PHONY: setup demo test lint typecheck unit system-deps bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(BIN)/.installed  ## create .venv with Shigu and its development tools

demo: setup  ## detect + track on the bundled sample clip; outputs in shigu-demo/
	$(BIN)/shigu demo

system-deps:  ## Debian packages the tests need (RTSP server, PostgreSQL, Mosquitto, Chromium)
	./scripts/install-system-deps.sh

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: setup
	$(BIN)/mypy

unit: setup  ## fast tests only
	$(BIN)/pytest -m "not slow and not integration" -q

test: setup system-deps lint typecheck  ## the whole suite, as CI runs it
	$(BIN)/pytest -q

bench: setup  ## every benchmark; results go in docs/benchmarks.md
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) shigu-demo .pytest_cache .mypy_cache .ruff_cache
