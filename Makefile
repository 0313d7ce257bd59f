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

.PHONY: setup demo test lint typecheck audit unit system-deps bench clean lock lock-check upgrade

# Exact versions with hashes (requirements/*.lock, made by scripts/lock.py with uv): a fresh
# machine gets what CI tested. The demo installs only what the demo needs.
DEMO_LOCK := requirements/demo.lock
DEV_LOCK := requirements/dev.lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(BIN)/.demo-installed: $(DEMO_LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEMO_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(BIN)/.installed: $(DEV_LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@ $(BIN)/.demo-installed

setup: $(BIN)/.installed  ## create .venv with Shigu and its development tools (from the lock)

demo: $(BIN)/.demo-installed  ## detect + track on the bundled sample clip; outputs in shigu-demo/
	$(BIN)/shigu demo

lock-check:  ## fail when pyproject.toml's dependencies changed and the locks were not redone
	$(PYTHON) scripts/lock.py check

lock: setup  ## re-resolve the lock files after changing dependencies in pyproject.toml
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python scripts/lock.py update

upgrade: setup  ## the lock files with the newest releases pyproject.toml allows
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python scripts/lock.py upgrade

system-deps:  ## Debian packages the tests need (RTSP server, PostgreSQL, Mosquitto, Chromium)
	./scripts/install-system-deps.sh

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: setup
	$(BIN)/mypy

unit: setup  ## fast tests only
	$(BIN)/pytest -m "not slow and not integration" -q

audit: setup  ## known vulnerabilities in the locked dependencies (says so when it cannot check)
	$(BIN)/python scripts/audit.py requirements/dev.lock

test: lock-check setup system-deps lint typecheck audit  ## the whole suite, as CI runs it
	$(BIN)/pytest -q

bench: setup  ## every benchmark; results go in docs/benchmarks.md
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) shigu-demo .pytest_cache .mypy_cache .ruff_cache
