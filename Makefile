# The two commands a newcomer needs (both install everything on a fresh machine first):
#   make plan [STACK=prod]   offline plan of a stack with its policy report (no cloud account)
#   make test                lint, type check and the whole test suite (what CI runs)
# Containers (docs/containers.md): make image, make image-test, make compose-test, make newcomer-test.
STACK ?= dev
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
# uv: the one on PATH, else a pinned uv bootstrapped into a venv of the project's own (.tools/uv)
# from PyPI. Never `pip install` into the system Python: Debian 12 and Ubuntu 24.04 refuse it (PEP 668),
# and Debian's python3 has no pip at all.
# (An absolute path: some recipes cd into app/.)
UV ?= $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/$(TOOLS)/uv/bin/uv)
UV_BOOTSTRAP := $(filter $(CURDIR)/$(TOOLS)/%,$(UV))
export UV
# Never download a Python toolchain: use $(PYTHON), the one the user has.
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
export UV_LINK_MODE := copy
# Compile .pyc at install: pulumi_aws is ~100 MB of generated Python, and with
# PYTHONDONTWRITEBYTECODE set (as on these machines) every process would recompile it (~6 s).
export UV_COMPILE_BYTECODE := 1
# Run in the synced venv without syncing again: `uv run` alone re-checks the environment and, with
# UV_COMPILE_BYTECODE, recompiles it (~0.5 s each time). .venv/.synced tracks the lock instead.
RUN := $(UV) run --frozen --no-sync

# The suite starts private servers (tests/app/servers.py): redis-server, openssl for TLS certificates,
# and PostgreSQL's initdb/pg_ctl, which Debian keeps in /usr/lib/postgresql/<version>/bin (appended
# to PATH, after anything the machine already has). tools/apt-install adds only what is missing.
TEST_PACKAGES := redis-server postgresql openssl

.PHONY: setup plan test test-packages lint typecheck bench image image-test compose-test newcomer-test clean

setup: .venv/.synced

$(CURDIR)/$(TOOLS)/uv/bin/uv:
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { \
	  echo "make: $(PYTHON) cannot create a venv (no ensurepip): install python3-venv (apt-get install python3-venv)" >&2; \
	  exit 1; }
	@echo "make: no uv on PATH; installing uv $(UV_VERSION) from PyPI into $(TOOLS)/uv (a venv of this checkout)"
	@$(PYTHON) -m venv $(TOOLS)/uv
	@$(TOOLS)/uv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

.venv/.synced: pyproject.toml uv.lock app/pyproject.toml | $(UV_BOOTSTRAP)
	@echo "make: installing the locked dependencies into .venv with $$($(UV) --version)"
	@echo "make: the first time takes about a minute (pulumi_aws is compiled to bytecode once, silently)"
	@$(UV) sync --frozen --quiet
	@touch $@

app/.venv/.synced: app/pyproject.toml app/uv.lock | $(UV_BOOTSTRAP)
	@cd app && $(UV) sync --frozen --quiet
	@touch $@

plan: setup
	$(RUN) python -m offline.plan $(STACK) $(ARGS)

lint: setup
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: setup app/.venv/.synced
	$(RUN) mypy
	cd app && $(UV) run --frozen --no-sync --project . mypy src

test-packages:
	@tools/apt-install $(TEST_PACKAGES)

test: lint typecheck test-packages
	@echo "$(RUN) pytest -n 2 --dist loadfile"
	@PATH="$$PATH$$(for d in /usr/lib/postgresql/*/bin; do [ -d "$$d" ] && printf ':%s' "$$d"; done)" \
	  $(RUN) pytest -n 2 --dist loadfile

# make bench [ARGS="--only http"]: the benchmark suite, a few minutes against the local PostgreSQL
# (its own database catalog_bench) and private redis-servers; prints the tables, writes JSON and PNG to
# bench/results/ and the tables into docs/benchmarks.md. Installs its own extras: the uv dependency
# group "bench" (matplotlib, numpy, cashews; `make test` does not need it), and wrk and memcached
# (the engines section) from apt. BENCH_QUICK=1 (or ARGS=--quick): every section in short form.
bench: setup
	@tools/apt-install wrk memcached redis-server
	$(UV) sync --frozen --group bench
	$(UV) run --frozen --no-sync --group bench python -m bench $(ARGS)

# The app image, built with BuildKit as catalog-service:local. Starts a Docker engine when none
# answers (and leaves it running: tools/docker-engine stop).
image: setup
	@tools/docker-engine start
	@$(RUN) python -m tools.containers.image

# The image run as its ECS task definition says, one line per check (starts and stops an engine
# when none answers).
image-test: setup
	$(RUN) python -m tools.containers.image_test

# app/compose.yaml up for real: name-based networking, named volumes kept across down + up.
compose-test: setup
	$(RUN) python -m tools.containers.compose_test

# `make plan` and `make test` from a clean clone in a Debian 12 container with only
# python3 python3-venv make git installed.
newcomer-test: setup
	$(RUN) python -m tools.containers.newcomer_test

clean:
	rm -rf .venv app/.venv $(TOOLS) build .pytest_cache .mypy_cache .ruff_cache
