# kelips — the two commands: `make demo` and `make test`. Each does all of its own set-up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

NPM_STAMP := node_modules/.install-stamp

.PHONY: help setup build demo test test-unit bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

setup: $(NPM_STAMP) ## install npm dependencies (from the lockfile)

build: setup ## compile TypeScript to dist/
	npm run -s build

demo: build ## run a local cluster you can look things up in
	scripts/demo.sh

test: build setup-system ## every test: type-check (tests included), unit, simulator scenarios, real-process cluster
	npm run -s typecheck
	npx vitest run

bench: build ## the simulator benchmark at 1,000 nodes
	node dist/bench/sim.js --nodes 1000 --files 10000 --minutes 10 --json

clean: ## remove build output
	rm -rf dist

.PHONY: setup-system churn-demo

setup-system: ## install system tools the deploy tests use (prometheus, shellcheck, systemd-analyze, ...)
	scripts/ensure-deploy-tools.sh

churn-demo: build setup-system ## churn a local cluster for 3 minutes; chart in .tmp/churn-demo/churn.svg
	npx tsc -p scripts/churn-demo.tsconfig.json
	node .tmp/churn-demo/build/scripts/churn-demo.js
