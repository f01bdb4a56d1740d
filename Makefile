# schemaproxy — build, run and check.
GO ?= go
BIN := bin/schemaproxy
# Packages whose tests run under the race detector (all of them: the suite
# is small enough, and concurrency lives everywhere from proxy to shards).
RACE ?= -race

.PHONY: all build run test test-short deps bench bench-snapshot lint fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/schemaproxy

run:
	$(GO) run ./cmd/schemaproxy

# deps makes sure redis-server (the reference of the differential and
# end-to-end tests) is installed, installing the Debian package if it can.
deps:
	@scripts/ensure-deps.sh redis-server

test: deps
	$(GO) vet ./...
	$(GO) test $(RACE) -count=1 -timeout 15m ./...

test-short:
	$(GO) test -short -count=1 ./...

bench: deps
	@scripts/ensure-deps.sh redis-benchmark nutcracker
	@scripts/bench.sh

bench-snapshot: deps
	@scripts/bench-snapshot.sh

lint:
	@test -z "$$(gofmt -l .)" || (gofmt -l .; echo "gofmt: files above need formatting"; exit 1)
	$(GO) vet ./...
	@command -v staticcheck >/dev/null 2>&1 || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" staticcheck ./...

fuzz:
	$(GO) test ./proto/resp -run '^$$' -fuzz FuzzParse -fuzztime 30s

clean:
	rm -rf bin
