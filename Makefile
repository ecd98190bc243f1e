# otscope — make help lists the targets.
GO        ?= go
BIN       ?= otscope
PKGS      := ./...
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
BENCHFILE ?= /tmp/otscope-bench.pcap
BENCHPKTS ?= 1000000
FUZZTIME  ?= 10s
# make bench: plant sizes, packets per plant, where the plants are cached,
# and the live-capture rate (0: no live row; it needs root)
BENCHASSETS  ?= 300,3000,10000,30000
BENCHPACKETS ?= 2000000
BENCHDIR     ?= /tmp/otscope-bench
BENCHLIVE    ?= 0

.PHONY: help build run test test-short speed peers itest bench bench-go fuzz lint fmt vet oui clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build ./otscope (pure Go, no libpcap: CGO_ENABLED=0)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

run: build ## run the TUI on the built-in demo plant
	./$(BIN) demo

test: ## run every test (race detector on); tests missing ../shared, tshark, a peer or root skip (fail with OTSCOPE_STRICT=1)
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

# The speed tests skip under -race (the detector slows everything 5-20x):
# this runs them without it, the read floors of the whole pipeline too
# (1.5 M packets per CPU-second on the 300-asset plant, 0.5 M on the
# 10,000-asset plant over 2 million packets).
SPEED_TESTS := TestKeypressUnder16ms|TestAuditSpeed|TestAuditorSpeed|TestKeypressFastAtSize|TestImportAndMatchAtSize|TestSpeedSmallPlant|TestSpeedLargePlant
speed: ## the speed tests (budgets in CPU time, so a busy machine cannot fail them), without the race detector
	OTSCOPE_SPEED=1 $(GO) test -count=1 -v -run '^($(SPEED_TESTS))$$' ./ui/ ./ui/pane/walkdownpane/ ./assets/ ./assets/policy/ ./assets/walkdown/

# The npm peers (node-opcua, @bacnet-js/client, node-snap7) of the probe
# tests and of make itest, in testdata/lab/node_modules.
peers: ## install the npm protocol peers into testdata/lab (needs npm)
	@if [ ! -d testdata/lab/node_modules ] && command -v npm >/dev/null; then \
	  echo "npm ci in testdata/lab (node-opcua, @bacnet-js/client, node-snap7)"; \
	  ( cd testdata/lab && npm_config_nodedir=/usr npm ci --no-audit --no-fund --loglevel=error && \
	    { [ -f node_modules/node-snap7/build/Release/node_snap7.node ] || npm_config_nodedir=/usr npm rebuild node-snap7; } ) \
	  || { rm -rf testdata/lab/node_modules; echo "npm install failed: the node peers will be skipped"; }; \
	fi

# itest needs root and, from Debian (what .ci/run installs):
#   apt-get install -y --no-install-recommends snmpd snmp python3-pymodbus python3-serial python3-serial-asyncio \
#     python3-scapy libmodbus-dev gcc pkg-config tcpdump iproute2 tshark
# It installs the npm peers (testdata/lab/node_modules) itself when they are missing; a peer whose package is
# missing is skipped (the test says which), one that is installed and does not answer fails the test.
ITEST_OUT ?= /tmp/otscope-itest-runs
itest: peers ## the scanner against real servers in a network-namespace plant, checked from a capture (root)
	ITEST_OUT=$(ITEST_OUT) $(GO) test -tags itest -count=1 -v -timeout 20m ./scan/probe/itest/

test-short: ## quick unit tests only
	$(GO) test -short -count=1 $(PKGS)

bench-go: ## go test benchmarks (decoder, pipeline, store, UI), allocations included
	$(GO) test -run '^$$' -bench . -benchmem -cpu 1 ./scan/... ./assets/... ./ui/...

bench: build ## scale table: otscope read (whole process), assets json, audit, TUI keypress p99 + idle CPU in tmux, tshark on generated 300-30,000-asset plants; BENCHLIVE=50000 (root) adds live capture with the TUI open
	$(GO) run ./scan/internal/benchcmp -otscope ./$(BIN) -assets $(BENCHASSETS) \
	  -packets $(BENCHPACKETS) -dir $(BENCHDIR) -live $(BENCHLIVE)

fuzz: ## run each fuzz target for FUZZTIME (default 10s)
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg; \
	  done; done

lint: vet ## gofmt + go vet + staticcheck (pinned in go.mod: go tool staticcheck)
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
	$(GO) tool staticcheck ./...

fmt: ## gofmt the tree
	gofmt -w .

vet: ## go vet
	$(GO) vet $(PKGS)

oui: ## regenerate the embedded IEEE OUI table (needs Debian's ieee-data)
	$(GO) generate ./assets/oui

clean: ## remove build outputs
	rm -f $(BIN) $(BENCHFILE)
