# pyqldb-rs task runner. CI runs `make lint test` through .ci/run.
# Everything a target needs is installed by the target itself.

CARGO ?= cargo
PYTHON ?= python3
export CARGO_TERM_COLOR ?= never

# The development virtualenv of our package (git-ignored): pinned build and test tools.
VENV := .venv
DEV_TOOLS := maturin==1.16.0 pytest==9.2.0 ruff==0.17.6
# Optional dependencies, kept OFF the package's path (tests put them on sys.path in subprocesses).
TEST_EXTRAS := boto3==1.40.60 botocore==1.40.60
# What the extension module is built from: a change here rebuilds it on `make develop`.
NATIVE_SOURCES := Cargo.toml Cargo.lock pyproject.toml $(shell find src crates -name '*.rs' -o -name Cargo.toml 2>/dev/null)
PYTHON_SOURCES := python tests/python tests/qldb_local.py examples/quickstart.py
# The built module (maturin develop puts it next to the Python sources); rebuilt when missing.
NATIVE_MODULE := $(wildcard python/pyqldb/_native*.so)

.PHONY: help test test-rust test-peer test-compat test-python develop lint fmt demo bench clean

help: ## List the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

test: test-rust test-peer test-python test-compat ## Run every test (dev profile)

# The benches run once as tests too; benches/ion_python.rs imports amazon.ion from .venv.
test-rust: $(VENV)/.develop-stamp ## Rust unit and integration tests of all crates (benches run once)
	$(CARGO) test --workspace --all-targets --no-fail-fast
	$(CARGO) test --workspace --doc

test-peer: ## Original pyqldb 3.2.4 + boto3 against qldb-local (tests/peer, venv in .peer-venv)
	$(CARGO) build -p qldb-server
	bash scripts/peer-venv.sh
	.peer-venv/bin/python -m pytest tests/peer -q

# ours-http runs with boto3/botocore (the extras) on the path, as the peer does; ours-embedded without them.
test-compat: $(VENV)/extras/.stamp ## One pyqldb API suite (tests/compat): original 3.2.4, then ours over HTTP and embedded
	$(CARGO) build -p qldb-server
	bash scripts/peer-venv.sh
	$(MAKE) develop
	.peer-venv/bin/python -m pytest tests/compat -q --target peer --ignore-glob='tests/compat/test_v2_*.py'
	PYTHONPATH=$(CURDIR)/$(VENV)/extras $(VENV)/bin/python -m pytest tests/compat -q --target ours-http
	$(VENV)/bin/python -m pytest tests/compat -q --target ours-embedded

develop: $(VENV)/.develop-stamp ## Build our package into .venv (maturin develop, dev profile; no-op when up to date)

$(VENV)/.tools-stamp: Makefile
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --disable-pip-version-check --quiet $(DEV_TOOLS)
	echo "$(DEV_TOOLS)" > $@

$(VENV)/.develop-stamp: $(VENV)/.tools-stamp $(NATIVE_SOURCES) $(if $(NATIVE_MODULE),,FORCE)
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(VENV)/bin/maturin develop --quiet
	touch $@

$(VENV)/extras/.stamp: $(VENV)/.tools-stamp
	$(VENV)/bin/python -m pip install --disable-pip-version-check --quiet --target $(VENV)/extras $(TEST_EXTRAS)
	echo "$(TEST_EXTRAS)" > $@

test-python: develop $(VENV)/extras/.stamp ## Our package's pytest suite (tests/python): embedded ledgers and qldb-local; ruff
	$(CARGO) build -p qldb-server
	$(VENV)/bin/ruff format --check $(PYTHON_SOURCES)
	$(VENV)/bin/ruff check $(PYTHON_SOURCES)
	$(VENV)/bin/python -m pytest tests/python -q

FORCE:

lint: ## rustfmt and clippy, warnings are errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format all Rust code
	$(CARGO) fmt --all

demo: develop ## The quickstart (examples/quickstart.py) on an embedded file ledger in a temporary directory
	$(VENV)/bin/python examples/quickstart.py

# The benchmark virtualenv: our package as a RELEASE wheel (the dev .venv stays a dev build).
BENCH_VENV := .venv-bench
BENCH_WHEELS := target/bench-wheels
PACKAGE_SOURCES := $(shell find python -name '*.py' -o -name '*.pyi' 2>/dev/null)
# Extra arguments of benches/run.py, e.g. `make bench BENCH_ARGS=--quick` (see `python3 benches/run.py -h`).
BENCH_ARGS ?=

$(BENCH_VENV)/.stamp: $(VENV)/.tools-stamp $(NATIVE_SOURCES) $(PACKAGE_SOURCES)
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	rm -rf $(BENCH_WHEELS)
	$(VENV)/bin/maturin build --release --quiet --interpreter $(BENCH_VENV)/bin/python --out $(BENCH_WHEELS)
	$(BENCH_VENV)/bin/python -m pip install --disable-pip-version-check --quiet --force-reinstall --no-deps $(BENCH_WHEELS)/*.whl
	$(BENCH_VENV)/bin/python -m pip install --disable-pip-version-check --quiet $(BENCH_WHEELS)/*.whl
	touch $@

bench: $(BENCH_VENV)/.stamp ## Criterion benches (target/criterion), then ours vs the original pyqldb side by side (benches/)
	$(CARGO) bench -p qldb-ion -p qldb-ledger -p qldb-wire
	PYQLDB_BENCH_SITE_PACKAGES="$$($(BENCH_VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
		$(CARGO) bench -p pyqldb-rs --bench ion_python
	$(CARGO) build --release -p qldb-server --bin qldb-local --example load
	bash scripts/peer-venv.sh
	$(PYTHON) benches/run.py $(BENCH_ARGS)

clean:
	$(CARGO) clean
