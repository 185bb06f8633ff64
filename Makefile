# sluice: build, test, demo and benchmark targets.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN     := bin

.PHONY: build build-windows test demo bench clean

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/sluice ./cmd/sluice

build-windows:
	GOOS=windows GOARCH=amd64 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/sluice.exe ./cmd/sluice

# Every test: gofmt, vet, Linux with -race, Windows under Wine, fuzz smoke runs.
test:
	bash scripts/test.sh

# Generates kubelet-style container logs with a rotation and ships them.
demo: build
	bash scripts/demo.sh

bench:
	bash bench/run.sh

clean:
	rm -rf $(BIN)
