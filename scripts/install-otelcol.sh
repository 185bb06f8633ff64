#!/usr/bin/env bash
# install-otelcol.sh builds otelcol-bench, the OpenTelemetry Collector that
# the benchmarks run beside sluice, from bench/otelcol/builder.yaml with the
# collector builder, into $SLUICE_TEST_TOOLS/bin (default
# ~/.cache/sluice-test-tools/bin) unless that build is already there, and
# prints the binary's path on standard output. It needs Go and the Go module
# proxy, nothing else: no root, no packages. Only bench/ uses it; the tests
# and .ci/run do not.
set -euo pipefail

TOOLS="${SLUICE_TEST_TOOLS:-${HOME:-/root}/.cache/sluice-test-tools}"
BIN="$TOOLS/bin"
MANIFEST="$(cd "$(dirname "$0")/.." && pwd)/bench/otelcol/builder.yaml"

# The builder's release; keep in step with the components in the manifest.
OTELCOL_VERSION=0.165.0
BUILDER_PKG=go.opentelemetry.io/collector/cmd/builder

log() { printf 'install-otelcol: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || die "go not on PATH: cannot build the collector"
[ -r "$MANIFEST" ] || die "no builder manifest at $MANIFEST"

# The version the binary reports is the marker: the release plus a hash of
# the manifest, so that a new release or another set of components rebuilds.
# A half-written file reports none.
want="$OTELCOL_VERSION+$(sha256sum "$MANIFEST" | cut -c1-12)"
version() {
	"$1" --version 2>/dev/null | awk '$2 == "version" { print $3; exit }'
}

bin="$BIN/otelcol-bench"
if ! [ -x "$bin" ] || [ "$(version "$bin")" != "$want" ]; then
	log "building the OpenTelemetry Collector $want into $BIN (1 to 15 minutes, depending on the Go cache)"
	mkdir -p "$BIN"
	work="$(mktemp -d)"
	tmp="$BIN/.otelcol-bench.$$"
	trap 'rm -rf "$work" "$tmp"' EXIT
	# The builder writes its sources and binary to output_path, given here
	# as a folder of our own, and stamps the binary with version.
	sed -e "s|^  output_path: .*|  output_path: $work/dist|" \
		-e "s|^  version: .*|  version: $want|" "$MANIFEST" >"$work/builder.yaml"
	grep -q "^  output_path: $work/dist\$" "$work/builder.yaml" &&
		grep -q "^  version: $want\$" "$work/builder.yaml" ||
		die "$MANIFEST lacks the dist output_path or version line this script rewrites"
	# Outside any module and with GOFLAGS cleared, so that the caller's
	# go.mod and flags cannot change what is built. The builder's and go's
	# chatter is shown only when the build fails.
	if ! (cd / && GOFLAGS= go run "$BUILDER_PKG@v$OTELCOL_VERSION" --config "$work/builder.yaml") >"$work/out" 2>&1; then
		cat "$work/out" >&2
		die "cannot build the collector from $MANIFEST"
	fi
	[ "$(version "$work/dist/otelcol-bench")" = "$want" ] ||
		die "the built collector does not report version $want"
	# Copied next to its final name, then renamed over it, so that a reader
	# never finds a half-written binary.
	cp "$work/dist/otelcol-bench" "$tmp"
	mv -f "$tmp" "$bin"
	log "installed $bin"
fi
printf '%s\n' "$bin"
