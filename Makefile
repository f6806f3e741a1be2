# clusto: `make demo` and `make test` work on a fresh Debian machine with Rust, Python 3
# and gcc; they install what else they need.

CARGO ?= cargo
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
# maturin shares cargo's target dir, so a cold build (CI's) compiles the dependencies
# once; the price is that pyo3 and clusto-py (about 40 s) are rebuilt when the other
# tool built them last, since maturin builds them with its own environment.
MATURIN_TARGET := target
DEMO_DB ?= demo-db
CRASH_ROUNDS ?= 300
SLOW_PROPTEST_CASES ?= 1000

.PHONY: all build demo test lint test-rust test-python test-c python-dev python-release test-slow test-install fuzz audit bench bench-full clean

all: build

build:
	$(CARGO) build --workspace --release

## demo: build everything; run the Rust, legacy-style Python and shell demos on ./$(DEMO_DB)*
demo: python-release
	$(CARGO) build --workspace --release
	rm -rf $(DEMO_DB) $(DEMO_DB)-py $(DEMO_DB)-sh
	$(CARGO) run --release -q -p clusto-examples --bin inventory-demo -- $(DEMO_DB)
	cd examples/python && ../../$(VPY) legacy_datacenter.py clusto.conf
	CLUSTO=target/release/clusto examples/shell/inventory.sh $(DEMO_DB)-sh
	gcc -std=c99 -Wall -Wextra -Werror -Iclusto-ffi/include examples/c/inventory.c -Ltarget/release -lclusto -Wl,-rpath,$(CURDIR)/target/release -o target/inventory-c
	target/inventory-c $(DEMO_DB) demo

## test: every test (Rust unit, integration, property and crash tests; Python; C), lint and
## format; a throwaway PostgreSQL on loopback for the PostgreSQL backend, stopped at the end
test: lint test-rust test-python test-c
	$(PG_SERVER) stop

# A throwaway PostgreSQL (installed if missing, started once, reused): `$(WITH_PG) cmd`
# runs cmd with CLUSTO_TEST_POSTGRES_DSN set, and fails when the server does not start.
PG_TEST_DIR ?= /tmp/clusto-pg-make
PG_SERVER := CLUSTO_SQL_SERVERS_DIR=$(PG_TEST_DIR) bash clusto-migrate/tests/start-sql-servers.sh
WITH_PG = pg_env="$$($(PG_SERVER) start postgres)" && eval "$$pg_env" &&

lint:
	bash .ci/no-shared
	$(CARGO) metadata --locked --format-version 1 > /dev/null
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --lib

# The PostgreSQL backend's own tests need clusto-core's `postgres` feature; named here
# (and handed to .ci/core-tests-per-engine) rather than left to what other crates ask for.
CORE_TEST_FEATURES := --features clusto-core/postgres

## test-rust: every Rust test; clusto-core's suite (model, history, faults, crash) runs
## once per engine: LMDB (the default), then sled, memory and PostgreSQL through the
## same test binaries (see .ci/core-tests-per-engine)
test-rust:
	$(WITH_PG) $(CARGO) test --workspace $(CORE_TEST_FEATURES)
	$(WITH_PG) CARGO=$(CARGO) CORE_TEST_FEATURES='$(CORE_TEST_FEATURES)' .ci/core-tests-per-engine sled memory postgresql

$(VENV)/.ready:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q "maturin>=1.9.4,<2" pytest ruff
	touch $@

## python-dev: the package built in debug mode into .venv (for the tests)
python-dev: $(VENV)/.ready
	cd clusto-py && CARGO_TARGET_DIR=../$(MATURIN_TARGET) ../$(VENV)/bin/maturin develop -q

## python-release: the package built optimised into .venv (for the demo and benchmarks)
python-release: $(VENV)/.ready
	cd clusto-py && CARGO_TARGET_DIR=../$(MATURIN_TARGET) ../$(VENV)/bin/maturin develop --release -q

test-python: python-dev
	test -x $(VENV)/bin/ruff || $(VENV)/bin/pip install -q ruff
	$(VENV)/bin/ruff check --config clusto-py/pyproject.toml clusto-py/python clusto-py/tests examples/python benches/python clusto-ffi/tests/python
	$(VPY) -m pytest -q clusto-py/tests

CFLAGS_TEST := -std=c99 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Iclusto-ffi/include
# valgrind's default leak kinds (definite and possible are errors), less the entries of
# valgrind.supp, each explained there
VALGRIND := valgrind -q --error-exitcode=1 --leak-check=full --suppressions=clusto-ffi/tests/c/valgrind.supp
FFI_DIR := target/debug

## test-c: the C tests against libclusto.so and libclusto.a, under valgrind; the header
## compiled as C++; the library from Python's ctypes; a Python script, the CLI and a C
## program on one database at once
# The whole workspace, as `cargo test --workspace` resolved it: a build of
# `-p clusto-ffi -p clusto-cli` alone would pick other features and rebuild dependencies.
test-c: python-dev
	$(CARGO) build --workspace
	gcc $(CFLAGS_TEST) clusto-ffi/tests/c/test_clusto.c -L$(FFI_DIR) -lclusto -Wl,-rpath,$(CURDIR)/$(FFI_DIR) -o target/c-test-shared
	gcc $(CFLAGS_TEST) clusto-ffi/tests/c/test_clusto.c $(FFI_DIR)/libclusto.a -lpthread -ldl -lm -o target/c-test-static
	printf '#include "clusto.h"\nint main() { return clusto_version() == nullptr; }\n' > target/header-cxx.cpp
	g++ -std=c++11 -Wall -Wextra -Werror -Iclusto-ffi/include -fsyntax-only target/header-cxx.cpp
	@if command -v valgrind >/dev/null; then $(VALGRIND) target/c-test-shared && $(VALGRIND) target/c-test-static; \
	else echo "valgrind not installed: running the C tests without it"; target/c-test-shared && target/c-test-static; fi
	$(WITH_PG) CLUSTO_LIB=$(CURDIR)/$(FFI_DIR)/libclusto.so CLUSTO_BIN=$(CURDIR)/$(FFI_DIR)/clusto $(VPY) -m pytest -q clusto-ffi/tests/python

## test-install: `pip install ./clusto-py` into a fresh venv, then import it
test-install:
	rm -rf target/install-venv
	$(PYTHON) -m venv target/install-venv
	target/install-venv/bin/pip install -q ./clusto-py
	cd /tmp && $(CURDIR)/target/install-venv/bin/python -c "import clusto, clusto.drivers; print('clusto', clusto.__version__, 'installs')"

## test-slow: the long forms: hundreds of SIGKILL rounds (Rust and Python), many more
## property cases, damaged copies of a larger database, a real full tmpfs (as root),
## a minute of 8 threads, the fuzzers, and `pip install` into a fresh venv
SOAK_SECS ?= 60
CORRUPT_ROUNDS ?= 300
PY_CRASH_ROUNDS ?= 200
test-slow: python-dev
	CLUSTO_CRASH_ROUNDS=$(CRASH_ROUNDS) $(CARGO) test --release -p clusto-core --test crash -- --nocapture
	CLUSTO_TEST_ENGINE=sled CLUSTO_CRASH_ROUNDS=$(CRASH_ROUNDS) $(CARGO) test --release -p clusto-core --test crash -- --nocapture
	PROPTEST_CASES=$(SLOW_PROPTEST_CASES) $(CARGO) test --release -p clusto-core --test model --test inputs
	CLUSTO_CORRUPT_ROUNDS=$(CORRUPT_ROUNDS) CLUSTO_CORRUPT_VERSIONS=3000 $(CARGO) test --release -p clusto-core --test corruption -- --nocapture
	CLUSTO_DISK_FULL_ROUNDS=20 CLUSTO_TMPFS_TEST=$$( [ "$$(id -u)" = 0 ] && echo 1 ) $(CARGO) test --release -p clusto-core --test faults -- --nocapture
	CLUSTO_SNAPSHOT_SECS=60 $(CARGO) test --release -p clusto-core --test storage a_long_reader -- --nocapture
	CLUSTO_SOAK_SECS=$(SOAK_SECS) CLUSTO_CONTEND_ROUNDS=30 $(CARGO) test --release -p clusto-core --test concurrency -- --nocapture
	CLUSTO_PY_CRASH_ROUNDS=$(PY_CRASH_ROUNDS) $(VPY) -m pytest -q -s clusto-py/tests/test_crash.py
	eval "$$(bash clusto-migrate/tests/start-sql-servers.sh start)" && \
	  $(CARGO) test -p clusto-migrate --test sql_servers -- --nocapture; \
	  status=$$?; bash clusto-migrate/tests/start-sql-servers.sh stop; exit $$status
	$(MAKE) fuzz
	$(MAKE) test-install
	$(MAKE) audit

FUZZ_SECONDS ?= 120
FUZZ_TARGETS := json_entry damaged_store names dump_import

## audit: cargo audit of Cargo.lock with warnings denied (installs cargo-audit if
## missing); the advisories accepted, each with its reason, are in .cargo/audit.toml.
## ADVISORY_DB=DIR reads a local copy of the RustSec database instead of fetching it.
ADVISORY_DB ?=
audit:
	command -v cargo-audit >/dev/null || $(CARGO) install cargo-audit --locked
	$(CARGO) audit $(if $(ADVISORY_DB),--db $(ADVISORY_DB) --no-fetch --stale)

## fuzz: each cargo-fuzz target for FUZZ_SECONDS (installs cargo-fuzz if missing; stable
## rustc runs it with RUSTC_BOOTSTRAP=1 and without a sanitizer)
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$t fuzz/seeds/$$t && \
	  (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run $$t --sanitizer none corpus/$$t seeds/$$t -- -max_total_time=$(FUZZ_SECONDS)) || exit 1; \
	done

## bench: benchmarks at 10k and 100k entities, IP allocation, Python with each
## durability (figures: benches/RESULTS.md)
bench: python-release
	$(CARGO) bench -p clusto-benches --bench core -- 10000 100000
	$(CARGO) bench -p clusto-benches --bench ipalloc -- 16
	$(CARGO) bench -p clusto-benches --bench versus -- 10000 100000
	$(CARGO) bench -p clusto-benches --bench feed -- 100000
	$(VPY) benches/python/bench_build.py 10000
	CLUSTO_BENCH_DURABILITY=grouped $(VPY) benches/python/bench_build.py 10000
	$(CARGO) bench -p clusto-cli --bench startup -- 100000

## bench-full: adds 1M entities (start-up of the CLI and of Python's connect() too)
bench-full: python-release
	$(CARGO) bench -p clusto-benches --bench core -- 10000 100000 1000000
	rm -rf target/bench-1m && mkdir -p target/bench-1m
	CLUSTO_BENCH_DB=$(CURDIR)/target/bench-1m/db $(CARGO) bench -p clusto-cli --bench startup -- 1000000
	$(VPY) benches/python/bench_connect.py $(CURDIR)/target/bench-1m/db s500000
	CLUSTO_BENCH_ROUNDS=1 $(CARGO) bench -p clusto-benches --bench versus -- 10000 100000 1000000

clean:
	$(CARGO) clean
	rm -rf $(DEMO_DB) .venv
