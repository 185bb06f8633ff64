# sluice: build, test, demo and benchmark targets.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN     := bin
# helm: the one scripts/install-test-tools.sh installs, else helm on PATH.
HELM    ?= $(shell p=$${SLUICE_TEST_TOOLS:-$$HOME/.cache/sluice-test-tools}/bin/helm; [ -x "$$p" ] && echo "$$p" || echo helm)
# Go from the official tarball lives here when it is not on PATH.
export PATH := $(PATH):/usr/local/go/bin

.PHONY: build build-windows plugin plugin-windows images push test soak demo demo-stop screenshot bench bench-components manifests clean

# Static binaries, as the images ship them: no libc mapped into the agent.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/sluice ./cmd/sluice

build-windows:
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/sluice.exe ./cmd/sluice

# The Fluent Bit output plugin (see the README's "Fluent Bit plugin"
# section): a Go c-shared library, so cgo and a C compiler are needed; the
# Windows DLL is cross-built with mingw-w64 (Debian's gcc-mingw-w64-x86-64,
# which scripts/install-test-tools.sh installs). The flags match the ones
# cmd/flb-sluice's tests build with, so the two share the build cache.
PLUGIN_FLAGS := -buildmode=c-shared -trimpath -ldflags=-s\ -w
MINGW_CC     ?= x86_64-w64-mingw32-gcc

plugin:
	CGO_ENABLED=1 $(GO) build $(PLUGIN_FLAGS) -o $(BIN)/out_sluice.so ./cmd/flb-sluice

plugin-windows:
	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=$(MINGW_CC) $(GO) build $(PLUGIN_FLAGS) -o $(BIN)/out_sluice.dll ./cmd/flb-sluice

# OCI images without a container engine: a static linux/amd64 binary and the
# windows/amd64 .exe, each on an empty base, in one multi-platform index
# written as an OCI layout to bin/image. WINDOWS_BASE=ref builds the Windows
# image on a HostProcess base image instead (see README, Container images).
IMAGE_DIR := $(BIN)/image
images:
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/linux-amd64/sluice ./cmd/sluice
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/windows-amd64/sluice.exe ./cmd/sluice
	$(GO) run ./cmd/sluice-image build -linux $(BIN)/linux-amd64/sluice -windows $(BIN)/windows-amd64/sluice.exe \
		-version $(VERSION) $(if $(WINDOWS_BASE),-windows-base $(WINDOWS_BASE)) -out $(IMAGE_DIR)

# Pushes the index make images wrote: make push IMAGE=registry.example/sluice:1.0
# (credentials from the Docker configuration; PUSH_FLAGS=-insecure for plain HTTP).
push: images
	@test -n "$(IMAGE)" || { echo "usage: make push IMAGE=registry.example/sluice:TAG" >&2; exit 2; }
	$(GO) run ./cmd/sluice-image push $(PUSH_FLAGS) -from $(IMAGE_DIR) $(IMAGE)

# Every test: gofmt, vet, Linux with -race, Windows under Wine, fuzz smoke runs.
test:
	bash scripts/test.sh

# Long end-to-end runs kept out of make test (they need what make test
# installs: run make test once first).
soak:
	SLUICE_SOAK=1 CGO_ENABLED=1 PATH="$(HOME)/.cache/sluice-test-tools/bin:$(PATH)" \
		$(GO) test -race -count=1 -timeout 30m -v -run 'Soak|TestKubeletRotationWineStopped' ./e2e/

# Ships kubelet-style container logs (with rotations) to a local VictoriaLogs,
# built on first use, and shows what arrived per pod. Needs Go only.
# SLUICE_DEMO_ADDR (default 127.0.0.1:9428), PODS and LINES change it.
# KEEP=1 leaves VictoriaLogs running afterwards and prints its web UI
# address and a curl of its query API for the demo's records; demo-stop
# (with the same SLUICE_DEMO_ADDR) stops it.
demo: build
	bash scripts/demo.sh

demo-stop:
	bash scripts/demo.sh stop

# The README's picture, docs/demo.png: the demo with KEEP=1 and its web UI in
# headless Chromium (Debian's chromium, installed when missing; not needed
# by make test).
screenshot: build
	bash scripts/demo-screenshot.sh

# Side by side (bench/README.md): sluice and, once scripts/install-otelcol.sh
# is there, the OpenTelemetry Collector over the same kubelet-style logs, each
# to a fresh VictoriaLogs; a table, bench/results/<date>.json and .svg.
# BENCH_AGENTS=sluice runs sluice alone, BENCH_CASES=a,c some cases.
# Needs what make test installs (VictoriaLogs, kube-apiserver and etcd).
bench:
	PATH="$(HOME)/.cache/sluice-test-tools/bin:$(PATH)" \
		$(GO) test -tags bench -count=1 -run TestTable -timeout 20m -v ./bench/harness
	$(GO) run ./bench/cmd/benchchart

# The Go benchmarks of each component, the scale run and the end-to-end
# runs of bench/run.sh.
bench-components:
	bash bench/run.sh

# Plain manifests for kubectl apply -k/-f users: the chart with default
# values (deploy/manifests/sluice.yaml, which deploy/manifests_test.go
# checks is up to date) next to the namespace it needs.
manifests:
	{ printf '%s\n' '# Rendered by make manifests from deploy/helm/sluice with default values: do not edit.'; \
	  $(HELM) template sluice deploy/helm/sluice --namespace sluice; } > deploy/manifests/sluice.yaml.tmp
	mv deploy/manifests/sluice.yaml.tmp deploy/manifests/sluice.yaml

clean:
	rm -rf $(BIN)
