# hogsend-proxy: `make run` serves on the embedded default; `make test` installs
# what the tests need and runs them all; `make bench` measures throughput.

SHELL       := /bin/bash
GO          ?= go
BIN         := bin/hogsend-proxy
CHDB_DIR    ?= $(CURDIR)/.deps/chdb
CHDB_LIB    := $(CHDB_DIR)/node_modules/@chdb/lib-linux-x64-gnu/libchdb.so
VERSION     ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X main.version=$(VERSION)
# Packages with goroutines and shared state run under the race detector too.
# Those that drive the built binary (internal/faulttest, internal/abuse,
# cmd/hogsend-proxy) are left out: the detector would watch only the test side.
RACE_PKGS   := ./sinks/... ./translate/... ./proxy/... ./conversions/... \
               ./internal/app/ ./internal/fakeads/... ./internal/testenv/
FUZZTIME    ?= 10s

export CHDB_LIB_PATH := $(CHDB_LIB)

# Any non-empty CI means CI (services set "true", "1" or their own name); tests
# outside internal/testenv's InCI still compare it with "true".
ifneq ($(strip $(CI)),)
override CI := true
export CI
endif

.PHONY: run build test test-deps libchdb bench bench-once vet fuzz clean

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/hogsend-proxy

$(CHDB_LIB):
	CHDB_DIR=$(CHDB_DIR) scripts/install-libchdb.sh

libchdb: $(CHDB_LIB)

run: libchdb build
	./$(BIN) serve

test-deps: libchdb
	scripts/install-test-deps.sh

vet:
	$(GO) vet ./...

test: test-deps vet
	$(GO) test -count=1 -timeout 30m ./...
	$(GO) test -count=1 -race -timeout 30m $(RACE_PKGS)
	$(MAKE) --no-print-directory bench-once
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME)

# Every fuzz target runs for FUZZTIME; `make fuzz FUZZTIME=5m` digs deeper.
fuzz:
	scripts/run-fuzz.sh $(FUZZTIME)

# Every benchmark runs one iteration, so none rots unnoticed between `make bench`es.
bench-once:
	$(GO) test -count=1 -run '^$$' -bench . -benchtime=1x -timeout 30m ./...

bench: libchdb
	scripts/install-test-deps.sh --bench
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./translate/... ./sinks/...
	$(GO) run ./cmd/hogsend-bench

clean:
	rm -rf bin
