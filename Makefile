# schemaproxy — build, run and check.
GO ?= go
BIN := bin/schemaproxy
# Packages whose tests run under the race detector (all of them: the suite
# is small enough, and concurrency lives everywhere from proxy to shards).
RACE ?= -race

.PHONY: all build run test test-short deps bench bench-snapshot bench-redis bench-memory lint fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/schemaproxy

run:
	$(GO) run ./cmd/schemaproxy

# deps makes sure redis-server (the reference of the differential and
# end-to-end tests) and the job frameworks the end-to-end tests run are
# installed, installing their Debian packages if it can.
deps:
	@scripts/ensure-deps.sh redis-server py:rq py:celery rb:sidekiq npm:tests/frameworks/bullmq

test: deps
	$(GO) vet ./...
	$(GO) test $(RACE) -count=1 -timeout 15m ./...

test-short:
	$(GO) test -short -count=1 ./...

# bench measures the embedded store against redis-server and twemproxy,
# then schemaproxy over 4 redis-servers (bench-redis), in one run.
bench: deps
	@scripts/ensure-deps.sh redis-benchmark nutcracker
	@scripts/bench.sh
	@scripts/bench-redis.sh

bench-snapshot: deps
	@scripts/bench-snapshot.sh

# bench-memory: RSS and used_memory per key, embedded store against
# redis-server, for strings and each collection type, before and after SAVE.
bench-memory: deps
	@scripts/bench-memory.sh

bench-redis: deps
	@scripts/ensure-deps.sh redis-benchmark nutcracker
	@scripts/bench-redis.sh

lint:
	@test -z "$$(gofmt -l .)" || (gofmt -l .; echo "gofmt: files above need formatting"; exit 1)
	@$(GO) mod tidy -diff >/dev/null || (echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1)
	$(GO) vet ./...
	@command -v staticcheck >/dev/null 2>&1 || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" staticcheck ./...

# fuzz runs every fuzz target of the project in turn, FUZZTIME each.
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for f in $$(grep -h '^func Fuzz' $$pkg/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
			echo "== $$pkg $$f"; \
			$(GO) test $$pkg -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) || exit 1; \
		done; \
	done

clean:
	rm -rf bin
