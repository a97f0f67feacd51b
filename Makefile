# The two commands a newcomer needs (both install everything on a fresh machine first):
#   make plan [STACK=prod]   offline plan of a stack with its policy report (no cloud account)
#   make test                lint, type check and the whole test suite (what CI runs)
STACK ?= dev
PYTHON ?= python3
UV_VERSION := 0.13.9
# uv from PyPI (a wheel with the binary inside); never download a Python toolchain.
UV := $(PYTHON) -m uv
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
# Compile .pyc at install: pulumi_aws is ~100 MB of generated Python, and with
# PYTHONDONTWRITEBYTECODE set (as on these machines) every process would recompile it (~6 s).
export UV_COMPILE_BYTECODE := 1

.PHONY: setup plan test lint typecheck bench clean

setup: .venv/.synced

.venv/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen
	@touch $@

plan: setup
	$(UV) run --frozen python -m offline.plan $(STACK) $(ARGS)

lint: setup
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

typecheck: setup
	$(UV) run --frozen mypy
	cd app && $(UV) run --frozen --project . mypy src

test: lint typecheck
	$(UV) run --frozen pytest -n 2 --dist loadfile

# make bench [ARGS="--only http"]: the benchmark suite, a few minutes against the local PostgreSQL
# (its own database catalog_bench) and private redis-servers; prints the tables, writes JSON and PNG to
# bench/results/ and the tables into docs/benchmarks.md. Installs its own extras: the uv dependency
# group "bench" (matplotlib, numpy, cashews; `make test` does not need it) and wrk from apt.
bench: setup
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk; }
	$(UV) sync --frozen --group bench
	$(UV) run --frozen --group bench python -m bench $(ARGS)

clean:
	rm -rf .venv build .pytest_cache .mypy_cache .ruff_cache
