#!/usr/bin/env bash
# install-test-tools.sh installs what the test suite needs on a Debian machine
# and prepares Wine to run the Windows test binaries. Run it as root. It is
# idempotent: a second run only checks that everything is still in place.
#
# What it sets up, under $SLUICE_TEST_TOOLS (default ~/.cache/sluice-test-tools):
#   wineprefix/   a 64-bit Wine prefix, initialised headless
#   bin/          go_windows_amd64_exec, which `GOOS=windows go test` calls,
#                 victoria-logs, the Loki push server that internal/vlogs starts,
#                 and helm, which the chart's tests in deploy/ run
#   dll/          the ProcessPrng forwarder (see build_forwarder)
#   kube-1.37.2/  etcd and kube-apiserver, the control plane internal/kubetest
#                 starts (built from source on first use: about 12 minutes)
#   ready         marker written once everything above has been checked
#
# Put bin/ on PATH and `GOOS=windows go test ./...` runs the tests under Wine.
set -euo pipefail

TOOLS="${SLUICE_TEST_TOOLS:-${HOME:-/root}/.cache/sluice-test-tools}"
PREFIX="$TOOLS/wineprefix"
BIN="$TOOLS/bin"
DLL_DIR="$TOOLS/dll"
MARKER="$TOOLS/ready"

# Bump when the set-up below changes, so old caches are redone.
SETUP_VERSION=1

# Debian packages the tests need: Wine for the Windows test binaries, the
# mingw-w64 binutils to build the forwarder DLL, a C compiler because
# `go test -race` needs cgo, and mingw-w64's C compiler for the Fluent Bit
# plugin's DLL and the C host that loads it (cmd/flb-sluice; about 20 s to
# install on a machine that has Wine already).
PACKAGES=(wine wine64 binutils-mingw-w64-x86-64 gcc libc6-dev gcc-mingw-w64-x86-64)

log() { printf 'install-test-tools: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Wine settings for every call made here: quiet, headless, and no prompts to
# install Mono or Gecko (the tests need neither).
wine_env() {
	export WINEPREFIX="$PREFIX" WINEARCH=win64 WINEDEBUG=-all
	export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
	unset DISPLAY WAYLAND_DISPLAY
}

install_packages() {
	local missing=() p
	for p in "${PACKAGES[@]}"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$p")
		fi
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages ${missing[*]}; run as root to install them"
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
}

wine_loader() {
	local w
	for w in wine64 /usr/lib/wine/wine64 wine; do
		if command -v "$w" >/dev/null 2>&1; then
			command -v "$w"
			return 0
		fi
	done
	die "no wine64 loader found"
}

wineserver_bin() {
	local w
	for w in wineserver /usr/lib/wine/wineserver64 /usr/lib/wine/wineserver; do
		if command -v "$w" >/dev/null 2>&1; then
			command -v "$w"
			return 0
		fi
	done
	die "no wineserver found"
}

# init_prefix creates the Wine prefix without an X display. wineboot then
# cannot open windows; it carries on without them. The null graphics driver
# is selected afterwards so that later runs do not even try X11.
init_prefix() {
	local wine server
	wine="$(wine_loader)"
	server="$(wineserver_bin)"
	mkdir -p "$PREFIX"
	if [ ! -f "$PREFIX/system.reg" ]; then
		log "creating Wine prefix $PREFIX"
		"$wine" wineboot -i >/dev/null 2>&1 || true
	else
		"$wine" wineboot -u >/dev/null 2>&1 || true
	fi
	"$server" -w
	[ -d "$PREFIX/drive_c/windows/system32" ] || die "wineboot did not create $PREFIX/drive_c/windows/system32"
	"$wine" reg add 'HKCU\Software\Wine\Drivers' /v Graphics /d null /f >/dev/null 2>&1 ||
		die "cannot set the null graphics driver in the Wine registry"
	# Wine 8 ships no bcryptprimitives.dll at all, so the native forwarder in
	# system32 is loaded without this; the override keeps it first should a
	# later Wine bring a builtin one.
	"$wine" reg add 'HKCU\Software\Wine\DllOverrides' /v bcryptprimitives /d native,builtin /f >/dev/null 2>&1 ||
		die "cannot set the bcryptprimitives override in the Wine registry"
	"$server" -w
}

# build_forwarder builds bcryptprimitives.dll with one export, ProcessPrng,
# forwarded to advapi32!SystemFunction036 (RtlGenRandom). Go's Windows runtime
# looks ProcessPrng up at start-up and Wine 8 does not provide it. The
# signatures agree where it matters: (buffer, length) -> non-zero on success.
build_forwarder() {
	local dll="$DLL_DIR/bcryptprimitives.dll" tmp
	[ -s "$dll" ] && return 0
	tmp="$(mktemp -d)"
	cat >"$tmp/bcryptprimitives.def" <<'DEF'
LIBRARY "bcryptprimitives.dll"
EXPORTS
    ProcessPrng = advapi32.SystemFunction036
DEF
	# A DLL entry point that only says "loaded fine".
	cat >"$tmp/entry.s" <<'ASM'
	.text
	.globl	DllEntry
DllEntry:
	movl	$1, %eax
	ret
ASM
	x86_64-w64-mingw32-as -o "$tmp/entry.o" "$tmp/entry.s"
	x86_64-w64-mingw32-dlltool --input-def "$tmp/bcryptprimitives.def" \
		--dllname bcryptprimitives.dll --output-exp "$tmp/bcryptprimitives.exp"
	x86_64-w64-mingw32-ld --dll --subsystem windows -e DllEntry \
		-o "$tmp/bcryptprimitives.dll" "$tmp/entry.o" "$tmp/bcryptprimitives.exp"
	local exports
	exports="$(x86_64-w64-mingw32-objdump -p "$tmp/bcryptprimitives.dll")"
	if ! grep -q 'Forwarder RVA -- advapi32\.SystemFunction036' <<<"$exports" ||
		! grep -q '\] ProcessPrng$' <<<"$exports"; then
		printf '%s\n' "$exports" >&2
		die "the built bcryptprimitives.dll does not forward ProcessPrng"
	fi
	mkdir -p "$DLL_DIR"
	mv "$tmp/bcryptprimitives.dll" "$dll"
	rm -rf "$tmp"
	log "built $dll"
}

install_forwarder() {
	local src="$DLL_DIR/bcryptprimitives.dll" dst="$PREFIX/drive_c/windows/system32/bcryptprimitives.dll"
	cmp -s "$src" "$dst" 2>/dev/null && return 0
	cp "$src" "$dst"
	log "installed $dst"
}

# install_wrapper writes go_windows_amd64_exec. go test with GOOS=windows
# runs `go_windows_amd64_exec <test.exe> <args...>` in the package folder;
# Wine maps that folder to Z:\..., so relative testdata/ paths keep working.
install_wrapper() {
	local wrapper="$BIN/go_windows_amd64_exec" tmp
	mkdir -p "$BIN"
	tmp="$(mktemp "$BIN/.wrapper.XXXXXX")"
	cat >"$tmp" <<WRAPPER
#!/usr/bin/env bash
# go_windows_amd64_exec runs a Windows binary built by the go command under
# Wine, in the prefix that scripts/install-test-tools.sh prepared. The exit
# code and the environment (CI and the rest) pass through.
export WINEPREFIX="\${SLUICE_WINEPREFIX:-$PREFIX}"
export WINEDEBUG="\${SLUICE_WINEDEBUG:--all}"
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d;bcryptprimitives=n,b"
unset DISPLAY WAYLAND_DISPLAY
exec "$(wine_loader)" "\$@"
WRAPPER
	chmod 755 "$tmp"
	if cmp -s "$tmp" "$wrapper"; then
		rm -f "$tmp"
	else
		mv "$tmp" "$wrapper"
		log "installed $wrapper"
	fi
}

# smoke_test builds a tiny Windows program that needs ProcessPrng (every Go
# program does) and runs it through the wrapper.
smoke_test() {
	local tmp out
	command -v go >/dev/null 2>&1 || { log "go not on PATH: skipping the Wine smoke test"; return 0; }
	tmp="$(mktemp -d)"
	cat >"$tmp/go.mod" <<'MOD'
module smoke

go 1.21
MOD
	cat >"$tmp/main.go" <<'GO'
package main

import (
	"crypto/rand"
	"fmt"
	"os"
)

func main() {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		fmt.Println("rand:", err)
		os.Exit(1)
	}
	fmt.Println("wine smoke ok")
	os.Exit(3)
}
GO
	(cd "$tmp" && GOFLAGS= GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -o smoke.exe .) ||
		die "cannot build the Windows smoke test"
	set +e
	out="$("$BIN/go_windows_amd64_exec" "$tmp/smoke.exe" 2>&1)"
	local rc=$?
	set -e
	rm -rf "$tmp"
	if [ "$out" != "wine smoke ok" ] || [ "$rc" -ne 3 ]; then
		log "smoke test printed: $out (exit $rc, want 3)"
		die "a Go Windows binary does not run under Wine"
	fi
	log "a Go Windows binary runs under Wine"
}

# install_victorialogs builds the pinned VictoriaLogs into bin/ unless it is
# there already; see install-victorialogs.sh, which `make demo` uses alone.
install_victorialogs() {
	SLUICE_TEST_TOOLS="$TOOLS" bash "$(dirname "${BASH_SOURCE[0]}")/install-victorialogs.sh" >/dev/null
}

# install_kube_apiserver builds the pinned etcd and kube-apiserver into
# kube-1.37.2/ unless they are there already; see install-kube-apiserver.sh.
install_kube_apiserver() {
	SLUICE_TEST_TOOLS="$TOOLS" bash "$(dirname "${BASH_SOURCE[0]}")/install-kube-apiserver.sh" >/dev/null
}

# HELM_VERSION is the helm the chart's tests render and lint with.
HELM_VERSION=v4.3.2

# install_helm builds the pinned helm into bin/ unless that version is there
# already. A cold build (empty build cache, helm's modules downloaded) took
# 669 s (350 s of CPU) on two cores shared with other builds; later runs
# only check the version.
install_helm() {
	local helm="$BIN/helm" have
	command -v go >/dev/null 2>&1 || die "go not on PATH: cannot build helm $HELM_VERSION"
	# A helm built by go install says only "v4.3" in `helm version`; the
	# module version it was built from is in its build information.
	if [ -x "$helm" ]; then
		have="$(go version -m "$helm" 2>/dev/null | awk '$1 == "mod" && $2 == "helm.sh/helm/v4" { print $3 }')"
		[ "$have" = "$HELM_VERSION" ] && return 0
	fi
	log "building helm $HELM_VERSION into $BIN"
	mkdir -p "$BIN"
	GOBIN="$BIN" GOFLAGS= go install "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" ||
		die "cannot build helm $HELM_VERSION"
	log "installed $helm"
}

marker_text() {
	printf 'setup %s\n' "$SETUP_VERSION"
	dpkg-query -W -f='${Package} ${Version}\n' "${PACKAGES[@]}" 2>/dev/null
	if command -v go >/dev/null 2>&1; then go env GOVERSION; fi
}

# setup_wine makes the Wine prefix ready unless the marker says it is.
setup_wine() {
	wine_env
	local want
	want="$(marker_text)"
	if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$want" ] &&
		[ -f "$PREFIX/system.reg" ] &&
		cmp -s "$DLL_DIR/bcryptprimitives.dll" "$PREFIX/drive_c/windows/system32/bcryptprimitives.dll" &&
		[ -x "$BIN/go_windows_amd64_exec" ]; then
		return 0
	fi
	rm -f "$MARKER"
	init_prefix
	build_forwarder
	install_forwarder
	install_wrapper
	smoke_test
	printf '%s\n' "$want" >"$MARKER"
}

main() {
	# The test servers are Go builds, minutes of CPU on a new machine; the
	# packages and the Wine prefix are mostly downloads and waiting. They
	# overlap, and the script fails when either does.
	mkdir -p "$BIN"
	(install_victorialogs && install_kube_apiserver && install_helm) &
	local builds=$!
	if ! (install_packages && setup_wine); then
		wait "$builds" || true
		die "installing the packages or setting up Wine failed"
	fi
	wait "$builds" || die "building VictoriaLogs, kube-apiserver or helm failed"
	log "ready: put $BIN on PATH"
}

main "$@"
