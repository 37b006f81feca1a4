# Every target installs what it needs first, so each works on a fresh clone.
# Node tools (the CDK CLI, dynalite) are pinned in package-lock.json; Go modules in go.sum.

GO ?= go
# The module's packages: everything under the root except node_modules, whose CDK init
# templates contain Go files that are not part of this module.
PKGS = $(shell $(GO) list -e ./... | grep -v /node_modules/)

.PHONY: deps synth test bench

deps:
	npm ci --no-audit --no-fund
	$(GO) mod download

## synth: synthesize both stacks into cdk.out (pass CDK_ARGS='-c ServerCode=healthcheck' etc.)
synth: deps
	npx cdk synth $(CDK_ARGS) > /dev/null
	@echo "synthesized: $$(ls cdk.out/*.template.json)"

## test: every test, unit, CDK assertions and the local end-to-end lab
test: deps
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 45m $(PKGS)

## bench: the benchmarks recorded in docs/benchmarks.md
bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 3s $(PKGS)
