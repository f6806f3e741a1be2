# clusto: `make demo` and `make test` work on a fresh Debian machine with Rust, Python 3
# and gcc; they install what else they need.

CARGO ?= cargo
DEMO_DB ?= demo-db
CRASH_ROUNDS ?= 300
SLOW_PROPTEST_CASES ?= 1000

.PHONY: all build demo test lint test-rust test-slow bench bench-full clean

all: build

build:
	$(CARGO) build --workspace --release

## demo: build everything and run the inventory demo on ./$(DEMO_DB)
demo:
	$(CARGO) build --workspace --release
	rm -rf $(DEMO_DB)
	$(CARGO) run --release -q -p clusto-examples --bin inventory-demo -- $(DEMO_DB)

## test: every test (Rust unit, integration, property and crash tests), lint and format
test: lint test-rust

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test-rust:
	$(CARGO) test --workspace

## test-slow: the long forms: hundreds of SIGKILL rounds, many more property cases
test-slow:
	CLUSTO_CRASH_ROUNDS=$(CRASH_ROUNDS) $(CARGO) test --release -p clusto-core --test crash -- --nocapture
	PROPTEST_CASES=$(SLOW_PROPTEST_CASES) $(CARGO) test --release -p clusto-core --test model

## bench: benchmarks at 10k and 100k entities (figures: benches/RESULTS.md)
bench:
	$(CARGO) bench -p clusto-benches --bench core -- 10000 100000

## bench-full: adds 1M entities
bench-full:
	$(CARGO) bench -p clusto-benches --bench core -- 10000 100000 1000000

clean:
	$(CARGO) clean
	rm -rf $(DEMO_DB) .venv
