# Two commands get a new user going: `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
GOTESTFLAGS ?= -timeout 15m
FUZZTIME ?= 30s
JS := crypto/js
# golangci-lint, installed into ./bin by `make lint` / `make test` if absent.
GOLANGCI_VERSION := v2.15.0
GOLANGCI := bin/golangci-lint-$(GOLANGCI_VERSION)

.PHONY: run stop test test-go test-js test-openapi fuzz-short fuzz bench bench-system lint golangci js js-deps clean

## run: local PostgreSQL in ./.data (or $$DATABASE_URL), migrations, demo ballot, server on localhost
run:
	@scripts/run.sh

## stop: stop the local PostgreSQL cluster started by `make run`
stop:
	@scripts/pg.sh stop

## test: every test, against real PostgreSQL clusters the tests start themselves, and golangci-lint
test: test-go test-js test-openapi fuzz-short golangci

test-go: js-deps
	@scripts/pg.sh bindir >/dev/null
	@scripts/chromium.sh >/dev/null
	$(GO) test $(GOTESTFLAGS) ./...

test-js: js-deps
	@if [ -d $(JS)/test ]; then node --test --test-concurrency=2 $(JS)/test/; else echo "no JavaScript tests yet"; fi

# docs/board-api.yaml validated and linted by Redocly CLI (the version
# pinned in scripts/openapi/package.json); the service is checked against
# it by internal/systemtest's TestBoardAPIContract.
test-openapi: js-deps
	@cd scripts/openapi && npm run --silent lint

# The decoders of crypto/ and the scrutineer's files, a few seconds each
# (the database-backed fuzz targets start PostgreSQL per worker: `make fuzz`).
fuzz-short:
	@scripts/fuzz.sh 2s '^(crypto|cmd)/'

## fuzz: every fuzz target for $(FUZZTIME)
fuzz:
	@scripts/fuzz.sh $(FUZZTIME)

## bench: every Go benchmark once (numbers go to docs/benchmarks.md)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x ./...

## bench-system: the whole service under load (ephemeral PostgreSQL, ballotd ×1 and ×2, cmd/loadgen, scrutineer verify)
bench-system:
	@scripts/bench-system.sh

## lint: gofmt, go vet, golangci-lint (.golangci.yml: staticcheck, depguard, errname, sqlclosecheck, …)
lint: golangci
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

golangci: $(GOLANGCI)
	$(GOLANGCI) run --allow-parallel-runners ./...

$(GOLANGCI):
	@mkdir -p bin
	GOBIN=$(CURDIR)/bin $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)
	mv bin/golangci-lint $@

## js: rebuild the committed JavaScript bundle reproducibly
js: js-deps
	cd $(JS) && npm run --silent build && npm run --silent build-verifier && npm run --silent build-worker && npm run --silent build-ranked

js-deps:
	@for d in $(JS) internal/e2e scripts/openapi; do \
	  if [ -f $$d/package-lock.json ] && [ ! -d $$d/node_modules ]; then (cd $$d && npm ci --no-audit --no-fund --loglevel=error); fi; \
	done

## clean: stop the local database and remove ./.data and build output
clean:
	@scripts/pg.sh clean
	rm -rf bin
