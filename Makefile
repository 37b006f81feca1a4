# Every target installs what it needs first, so each works on a fresh clone.
# Node tools (the CDK CLI, dynalite) are pinned in package-lock.json; Go modules in go.sum.

GO ?= go
# The module's packages: everything under the root except node_modules, whose CDK init
# templates contain Go files that are not part of this module.
PKGS = $(shell $(GO) list -e ./... | grep -v /node_modules/)

# The laptops the lab runs on: labctl, the local lab and the web server build for each, and the
# code they are made of (tests included) vets for each OS.
PLATFORMS = linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
CROSS_PKGS = ./cmd/... ./webserver/... ./internal/...
# Whether it builds is the question, not how fast it runs: for the other platforms, unoptimized
# compiles take about half the CPU time on a cold cache (docs/benchmarks.md). The host builds
# and vets as the tests do, sharing their compiled packages.
CROSS_GCFLAGS = all=-N -l
HOST = $(shell $(GO) env GOHOSTOS)/$(shell $(GO) env GOHOSTARCH)
HOST_OS = $(shell $(GO) env GOHOSTOS)
# The OSes whose code `cross` vets: by default every OS of PLATFORMS.
VET_OSES = $(sort $(foreach p,$(PLATFORMS),$(firstword $(subst /, ,$(p)))))

.PHONY: deps node-version synth test cross bench

## node-version: the Node.js release that runs the CDK CLI and dynalite. 22 and 24 are the
## maintained releases; 20 has reached its end of life and still works (internal/nodeversion
## says the same to `labctl local up`).
node-version:
	@v=$$(node --version 2>/dev/null) || { echo "Node.js not found: install Node.js 22 or 24 (nodejs.org)"; exit 1; }; \
	case "$$v" in \
	v22.* | v24.*) echo "Node.js $$v" ;; \
	v20.* | v21.*) echo "Node.js $$v has reached its end of life; the lab still works on it, but install Node.js 22 or 24" ;; \
	v1[0-9].* | v[0-9].*) echo "Node.js $$v is too old for the lab's Node tools: install Node.js 22 or 24"; exit 1 ;; \
	*) echo "Node.js $$v (the lab is tested on 20, 22 and 24)" ;; \
	esac

deps: node-version
	npm ci --no-audit --no-fund
	$(GO) mod download

## synth: synthesize both stacks into cdk.out (pass CDK_ARGS='-c ServerCode=healthcheck' etc.)
synth: deps
	npx cdk synth $(CDK_ARGS) > /dev/null
	@echo "synthesized: $$(ls cdk.out/*.template.json)"

## cross: build labctl and the web server for every platform, and vet their code for each OS
cross:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	for p in $(PLATFORMS); do \
		echo "build $$p"; \
		if [ "$$p" = "$(HOST)" ]; then gc=; else gc="$(CROSS_GCFLAGS)"; fi; \
		GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -gcflags="$$gc" -ldflags='-s -w' -o "$$tmp/$${p%/*}-$${p#*/}/" \
			./cmd/labctl ./webserver || exit 1; \
	done && \
	for os in $(VET_OSES); do \
		echo "vet $$os"; \
		if [ "$$os" = "$(HOST_OS)" ]; then gc=; else gc="$(CROSS_GCFLAGS)"; fi; \
		GOOS=$$os $(GO) vet -gcflags="$$gc" $(CROSS_PKGS) || exit 1; \
	done

## test: every test, unit, CDK assertions and the local end-to-end lab, and the cross builds.
## The cross builds run first, not alongside: the local labs' 1 s health checks in the tests
## must not compete with two compilers for the machine's cores.
test: deps cross
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 45m $(PKGS)

## bench: the benchmarks recorded in docs/benchmarks.md
bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 3s $(PKGS)
