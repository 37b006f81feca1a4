# Every target installs what it needs first, so each works on a fresh clone.
# Node tools (the CDK CLI, dynalite) are pinned in package-lock.json; Go modules in go.sum.

GO ?= go
# The module's packages: everything under the root except node_modules, whose CDK init
# templates contain Go files that are not part of this module.
PKGS = $(shell $(GO) list -e ./... | grep -v /node_modules/)

# The laptops the lab runs on: labctl, the local lab and the web server are written for each of
# these. The code has no architecture-specific files (internal/repo's test keeps it so), so
# whether it compiles depends on the OS only. `make test` type-checks every package, tests
# included, for each foreign OS of this list from source, without compiling anything
# (internal/portability reads the list from this line); `cross` also vets them, which compiles
# every dependency for each OS; `cross-build` links the binaries for all six.
PLATFORMS = linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
CROSS_PKGS = ./cmd/... ./webserver/... ./internal/...
# Whether it compiles is the question, not how fast it runs: unoptimized compiles take about
# half the CPU time on a cold cache (docs/benchmarks.md).
CROSS_GCFLAGS = all=-N -l
HOST_OS = $(shell $(GO) env GOHOSTOS)
# The foreign OSes whose code `cross` vets: every OS of PLATFORMS but the host's, which the
# tests' own `go vet` covers.
VET_OSES = $(filter-out $(HOST_OS),$(sort $(foreach p,$(PLATFORMS),$(firstword $(subst /, ,$(p))))))

.PHONY: deps node-version synth workshop test cross cross-build bench

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

## workshop: the CloudFormation-only package (AWS Workshop Studio, or any account without
## cdk bootstrap) in build/workshop; pass WORKSHOP_ARGS='-c LabId=team7' etc. See its README.md.
workshop: deps
	$(GO) run ./cmd/workshop -out build/workshop $(WORKSHOP_ARGS)

## cross: type-check and vet the code of labctl, the local lab and the web server for each
## foreign OS (compiles, links nothing; about 5 minutes on an empty build cache). A release
## check, not in test: the tests' internal/portability type-checks the same for each OS in seconds.
cross:
	@for os in $(VET_OSES); do \
		echo "vet GOOS=$$os"; \
		GOOS=$$os $(GO) vet -gcflags="$(CROSS_GCFLAGS)" $(CROSS_PKGS) || exit 1; \
	done

## cross-build: link labctl and the web server for all six platforms (release check, not in test)
cross-build:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	for p in $(PLATFORMS); do \
		echo "build $$p"; \
		GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -ldflags='-s -w' -o "$$tmp/$${p%/*}-$${p#*/}/" \
			./cmd/labctl ./webserver || exit 1; \
	done

## test: every test (unit, CDK assertions, the local end-to-end lab). Among them
## internal/portability type-checks every package for the other OSes of PLATFORMS, from
## source and without compiling, so `cross` (which compiles every dependency for each OS) is
## not part of it.
## go vet runs every analyzer on the same packages, tests included, so go test's own vet
## pass (a subset, about 20 s on a cold cache) is off.
test: deps
	$(GO) vet $(PKGS)
	$(GO) test -vet=off -count=1 -timeout 45m $(PKGS)

## bench: the benchmarks recorded in docs/benchmarks.md
bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 3s $(PKGS)
