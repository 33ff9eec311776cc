# Friends Pizza Hut platform. The two commands a newcomer needs:
#   make run    build everything and start the whole stack on http://127.0.0.1:5000
#   make test   run every test (unit, integration, end-to-end; with -race)
# `make help` lists the rest. Variables such as PORT, DEMO, MONGODB_URI and
# REDIS_URL given on the command line or in the environment reach the dev
# stack (see test/cmd/devstack/run.go).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO          ?= go
NPM         ?= npm
GO_PKGS     := ./shared/... ./orderapi/... ./gateway/... ./test/...
GO_SERVICES := ./orderapi/cmd/orderapi ./gateway/cmd/gateway
TEST_FLAGS  ?= -race -count=1 -timeout 20m
# The dev stack embeds FerretDB with SQLite only: leaving out its PostgreSQL
# backend makes the cold build of `make run` shorter.
RUN_TAGS    := ferretdb_no_postgresql

# Node packages: every folder below that has a package.json gets `npm ci`.
NPM_DIRS   := $(patsubst %/package.json,%,$(wildcard test/js/package.json test/browser/package.json test/bench/node/package.json admin/package.json demo/package.json))
NPM_STAMPS := $(addsuffix /node_modules/.package-lock.json,$(NPM_DIRS))
# Commands the tests need and the Debian packages providing them; `make deps`
# installs the missing ones when run as root (fonts for the browser test;
# nginx runs deploy/nginx.conf in front of a test stack; redis-sentinel runs
# the failover test; promtool checks deploy/prometheus).
APT_redis-server   := redis-server
APT_redis-sentinel := redis-sentinel
APT_promtool       := prometheus
APT_chromium       := chromium fonts-dejavu-core
APT_nginx          := nginx-light

.PHONY: help deps system-deps node-deps build run test vet demo conformance bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

deps: system-deps node-deps ## install what builds and tests need (apt packages as root, npm ci)

system-deps:
	@missing=""; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing $(APT_redis-server)"; \
	command -v redis-sentinel >/dev/null 2>&1 || missing="$$missing $(APT_redis-sentinel)"; \
	command -v promtool >/dev/null 2>&1 || missing="$$missing $(APT_promtool)"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing $(APT_chromium)"; \
	command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$$missing $(APT_nginx)"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "deps: installing$$missing"; \
		apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else \
		echo "deps: missing$$missing; install them (Debian/Ubuntu: sudo apt-get install$$missing)" >&2; \
	fi

node-deps: $(NPM_STAMPS)

# npm ci only when the lock file changed since the last install.
%/node_modules/.package-lock.json: %/package-lock.json %/package.json
	$(NPM) ci --prefix $* --no-audit --no-fund --loglevel=error
	@touch $@

build: node-deps ## build bin/orderapi, bin/gateway and the admin bundle (admin/dist)
	$(GO) build -o bin/ $(GO_SERVICES)
	@if [ -f admin/package.json ]; then $(NPM) --prefix admin run build --silent; fi

run: node-deps ## build, then start the whole stack on http://127.0.0.1:5000 (PORT, DEMO=1, ...)
	$(GO) build -tags $(RUN_TAGS) -o bin/ $(GO_SERVICES) ./test/cmd/devstack
	@if [ -f admin/package.json ]; then $(NPM) --prefix admin run build --silent; fi
	./bin/devstack

vet: ## gofmt check and go vet of every module
	@unformatted=$$(gofmt -l shared orderapi gateway test); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(GO_PKGS)

test: deps vet ## run every test with -race (what CI runs)
	$(GO) test $(TEST_FLAGS) $(GO_PKGS)

demo: node-deps ## drive a running stack with the demo simulator (BASE_URL, RATE, ...)
	node demo/simulator.mjs

# Protocol conformance: the official Engine.IO / Socket.IO test suites
# against `gateway --conformance` and the Node reference (test/conformance/run.sh).
conformance: node-deps ## run the Engine.IO/Socket.IO protocol suites against the gateway
	bash test/conformance/run.sh

# Our gateway against the Node socket.io reference, side by side (test/bench,
# docs/testing.md). Sizes: BENCH_SOCKETS, BENCH_IDLE_MAX, ... or ARGS="-sockets 2000".
BENCH_JSON ?= bench-results.json
bench: node-deps ## benchmark the gateway against Node socket.io 4.8 (prints a table, writes bench-results.json)
	$(GO) run ./test/bench/cmd/bench -json $(BENCH_JSON) $(ARGS)

clean: ## remove build outputs (keeps .data/ and node_modules)
	rm -rf bin admin/dist
	rm -rf "$${TMPDIR:-/tmp}/fph-bin"
