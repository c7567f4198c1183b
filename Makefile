# Two entry points: `make demo` and `make test`. Each creates or updates .venv itself.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.8
UV := .uv/bin/uv
HOST ?= 127.0.0.1
PORT ?= 8000
SEED ?= 42
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv

.PHONY: demo test test-fast install lint types pytest chromium clean

demo: .venv/.installed
	.venv/bin/crosspromo demo --host $(HOST) --port $(PORT) --seed $(SEED)

test: .venv/.installed chromium lint types pytest

install: .venv/.installed

# uv itself lives in its own small venv, pinned; the project venv is synced from uv.lock.
# Bytecode is compiled at install (and ours before each test run): where the environment sets
# PYTHONDONTWRITEBYTECODE, every process would otherwise compile its imports again (the CLI's
# start took 5.3 s instead of 2.1 s).
$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.installed: uv.lock pyproject.toml hatch_build.py $(wildcard src/crosspromo/*/*.c) | $(UV)
	$(UV) sync --frozen --compile-bytecode --extra dev --extra spark --extra embeddings --python $(PYTHON)
	touch $@

lint: .venv/.installed
	.venv/bin/ruff check src tests benchmarks hatch_build.py
	.venv/bin/ruff format --check src tests benchmarks hatch_build.py

types: .venv/.installed
	.venv/bin/mypy --strict src

# The whole suite, spread over processes by pytest-xdist (settings in pyproject.toml); it prints
# its 25 slowest tests.
pytest: .venv/.installed
	.venv/bin/python -m compileall -q src tests benchmarks >/dev/null
	.venv/bin/pytest

# The inner loop: unit and service tests on SQLite; no PostgreSQL, server, browser or Spark.
test-fast: .venv/.installed
	.venv/bin/python -m compileall -q src tests >/dev/null
	.venv/bin/pytest -m "not postgres and not spark and not browser" tests/analytics \
		tests/domain tests/engine tests/sample tests/services tests/store tests/test_*.py

# Browser tests drive Debian's chromium; install it when we are root and it is missing.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium is missing and we are not root: browser tests will skip (fail under CI=true)"; fi

clean:
	rm -rf .venv .uv .mypy_cache .ruff_cache .pytest_cache build src/crosspromo/*/*.so
