# pyqldb-rs task runner. CI runs `make lint test` through .ci/run.
# Everything a target needs is installed by the target itself.

CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: help test test-rust test-peer test-compat lint fmt demo bench clean

help: ## List the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

test: test-rust test-peer ## Run every test (dev profile)

test-rust: ## Rust unit and integration tests of all crates
	$(CARGO) test --workspace --all-targets --no-fail-fast
	$(CARGO) test --workspace --doc

test-peer: ## Original pyqldb 3.2.4 + boto3 against qldb-local (tests/peer, venv in .peer-venv)
	$(CARGO) build -p qldb-server
	bash scripts/peer-venv.sh
	.peer-venv/bin/python -m pytest tests/peer -q

test-compat: ## One pyqldb API suite (tests/compat): original 3.2.4, then ours over HTTP and embedded
	$(CARGO) build -p qldb-server
	bash scripts/peer-venv.sh
	$(MAKE) develop
	.peer-venv/bin/python -m pytest tests/compat -q --target peer --ignore-glob='tests/compat/test_v2_*.py'
	.venv/bin/python -m pytest tests/compat -q --target ours-http
	.venv/bin/python -m pytest tests/compat -q --target ours-embedded

lint: ## rustfmt and clippy, warnings are errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format all Rust code
	$(CARGO) fmt --all

demo: ## Run the demo against an embedded, file-backed ledger
	$(CARGO) run --release -p qldb-ledger --example demo

bench: ## Criterion benchmarks of the ledger engine (results in target/criterion)
	$(CARGO) bench -p qldb-ion -p qldb-ledger

clean:
	$(CARGO) clean
