#!/usr/bin/env bash
# install-victorialogs.sh builds the pinned VictoriaLogs, the Loki push server
# that the output tests (internal/vlogs) and `make demo` ship to, into
# $SLUICE_TEST_TOOLS/bin (default ~/.cache/sluice-test-tools/bin) unless that
# version is already there, and prints the binary's path on standard output.
# It needs Go and the Go module proxy, nothing else: no root, no packages.
# scripts/install-test-tools.sh calls it too.
set -euo pipefail

TOOLS="${SLUICE_TEST_TOOLS:-${HOME:-/root}/.cache/sluice-test-tools}"
BIN="$TOOLS/bin"

# Keep in step with Version in internal/vlogs.
VICTORIALOGS_VERSION=v1.52.1
VICTORIALOGS_PKG=github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs

log() { printf 'install-victorialogs: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || die "go not on PATH: cannot install VictoriaLogs"

# version prints the module version recorded in a victoria-logs binary. That
# record is the version marker: the binary prints no version of its own when
# built by go install, and a half-written file has none.
version() {
	go version -m "$1" 2>/dev/null | awk '$1 == "mod" { print $3; exit }'
}

bin="$BIN/victoria-logs"
if ! [ -x "$bin" ] || [ "$(version "$bin")" != "$VICTORIALOGS_VERSION" ]; then
	log "building VictoriaLogs $VICTORIALOGS_VERSION into $BIN (15 s to a few minutes on a cold Go cache)"
	mkdir -p "$BIN"
	# go install refuses to replace a file that is not a Go binary, such as
	# one cut short by an earlier interrupted run.
	rm -f "$bin"
	out="$(mktemp)"
	trap 'rm -f "$out"' EXIT
	# Outside any module and with GOFLAGS cleared, so that the caller's
	# go.mod and flags cannot change what is built. go's download chatter is
	# shown only when the build fails.
	if ! (cd / && GOFLAGS= GOBIN="$BIN" go install "$VICTORIALOGS_PKG@$VICTORIALOGS_VERSION") >"$out" 2>&1; then
		cat "$out" >&2
		die "cannot install $VICTORIALOGS_PKG@$VICTORIALOGS_VERSION"
	fi
	[ "$(version "$bin")" = "$VICTORIALOGS_VERSION" ] ||
		die "$bin does not report VictoriaLogs $VICTORIALOGS_VERSION after go install"
	log "installed $bin"
fi
printf '%s\n' "$bin"
