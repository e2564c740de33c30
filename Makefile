# Arc: the whole setup is `make run` (install, build, start) and `make test`.
SHELL := /bin/bash
NPM_FLAGS := --no-audit --no-fund

.PHONY: all install build run lint test test-unit test-crash test-faults bench bench-smoke clean

all: build

# npm ci when the lock file is newer than the installed tree (or nothing is installed).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci $(NPM_FLAGS)

install: node_modules/.package-lock.json

# tsc writes files without the execute bit; the CLI's package `bin` entry (npm's arc link) needs it.
build: install
	npx tsc -b packages/cli bench
	chmod +x packages/cli/dist/main.js

run: build
	./start.sh native

# ESLint with typescript-eslint's type-aware rules (eslint.config.js), then the dependency rule
# (.dependency-cruiser.cjs: the package graph, front doors only, node:fs only in storage and wal), then
# the packaging files (scripts/lint-packaging.sh: shellcheck, systemd-analyze verify, docker-compose
# config, the Dockerfile linter; the Debian tools installed first when root or sudo allows).
lint: install
	npm run --silent lint
	npm run --silent depcheck
	bash scripts/lint-packaging.sh --install

# The test S3 server (a single-node Ceph RADOS Gateway on 127.0.0.1, scripts/s3-server.sh) for the
# object-storage tests: installed (Debian packages, root or sudo) and started when it can be, its
# ARC_TEST_S3_* variables exported to the tests; without it those tests skip, saying why.
WITH_TEST_S3 = set -a; if bash scripts/s3-server.sh install >&2 && bash scripts/s3-server.sh start >&2; then eval "$$(bash scripts/s3-server.sh env)"; else echo "make: no test S3 server: the object-storage tests skip" >&2; fi; set +a;

# The test PostgreSQL (Debian's `postgresql`, scripts/postgres.sh: a cluster of our own on 127.0.0.1
# with password authentication) for the PostgreSQL import driver's tests: installed (root or sudo)
# and started when it can be, its ARC_TEST_PG_* variables exported; without it those tests skip, saying why.
WITH_TEST_PG = set -a; if bash scripts/postgres.sh install >&2 && bash scripts/postgres.sh start >&2; then eval "$$(bash scripts/postgres.sh env)"; else echo "make: no test PostgreSQL: the PostgreSQL import tests skip" >&2; fi; set +a;

# Headless Chromium (scripts/chromium.sh: the Debian package, root or sudo) for the test that loads
# /docs and /redoc in a browser: installed when it can be; without it that test skips, saying why.
WITH_CHROMIUM = bash scripts/chromium.sh install >&2 || echo "make: no chromium: the API documentation browser test skips" >&2;

# A real Prometheus (Debian's `prometheus`, scripts/prometheus.sh) for the scrape test: installed when
# it can be (root or sudo; the Debian service is left stopped and disabled), its ARC_TEST_PROMETHEUS_*
# variables exported to the tests, which start their own Prometheus on a free port; without it the
# scrape test skips, saying why.
WITH_TEST_PROMETHEUS = set -a; if bash scripts/prometheus.sh install >&2; then eval "$$(bash scripts/prometheus.sh env)"; else echo "make: no Prometheus: the Prometheus scrape test skips" >&2; fi; set +a;

# Lints (above), type-checks the tests (tsc -b covers src/ only), then runs unit and integration tests
# (integration tests start the built server as a child process).
# The last line printed is the summary: "N passed, N failed, N skipped".
test: build lint
	npx tsc -p tsconfig.tests.json
	$(WITH_CHROMIUM) $(WITH_TEST_S3) $(WITH_TEST_PROMETHEUS) $(WITH_TEST_PG) node scripts/run-tests.mjs

# kill -9 of a server with the WAL on at random moments during ingest and recovery (22 times),
# then every acknowledged row is checked to be there exactly once. ~1.5 min here; CI runs it.
test-crash: build
	ARC_CRASH_TESTS=1 node scripts/run-tests.mjs packages/server/test/wal-crash.e2e.test.ts

# Fault tests (packages/server/test/faults/**/*.fault.test.ts, only with ARC_FAULT_TESTS=1):
# hostile input on every write and query endpoint, overload, slow and aborted clients, and more.
# One file at a time: each starts its own server and measures its memory and descriptors.
# Each case prints one JSON line of figures ({"fault": ...}) for docs/reliability.md. CI runs it.
test-faults: build
	$(WITH_TEST_S3) ARC_FAULT_TESTS=1 node scripts/run-tests.mjs --no-file-parallelism packages/server/test/faults

# The benchmarks of docs/benchmarks.md (well over an hour: the 10-minute RSS and compaction runs
# among them). The last thing printed is the targets table (bench/targets.mjs: measured, target,
# ratio, met or not); every benchmark line behind it is kept in bench/results/targets.jsonl
# (`node bench/targets.mjs --from bench/results/targets.jsonl` prints the table again).
bench: build
	node bench/decode.mjs 5000 3
	node bench/writer-flush.mjs
	node bench/catalog-memory.mjs
	node bench/metrics/scrape.mjs
	node bench/ingest/import-source.mjs --rows 1000000 --runs 3 --json
	$(WITH_TEST_S3) node bench/targets.mjs --out bench/results/targets.jsonl

# What CI runs: a few seconds of each benchmark, to prove they still work (no timing assertions);
# targets.mjs --smoke prints the targets table of those runs and fails only if a benchmark breaks.
bench-smoke: build
	node bench/writer-flush.mjs 100000
	node bench/decode.mjs 1000 1
	node bench/catalog-memory.mjs --files 1000 --json
	node bench/metrics/scrape.mjs --smoke --json
	node bench/ingest/import-source.mjs --smoke --json
	$(WITH_TEST_S3) node bench/targets.mjs --smoke --out bench/results/targets-smoke.jsonl

clean:
	npx tsc -b --clean packages/cli bench
