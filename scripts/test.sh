#!/usr/bin/env bash
# test.sh is the project's test command (`make test`). In order it runs:
#   1. scripts/install-test-tools.sh (Wine and the rest; quick when done before)
#   2. gofmt -l, which must list nothing
#   3. go vet ./... for Linux and for Windows
#   4. go test -race ./... on Linux (cmd/flb-sluice builds the Fluent Bit
#      plugin without -race, as a c-shared library and a mingw-w64 DLL, and
#      loads each into a C host, natively and under Wine)
#   5. GOOS=windows go test ./... under Wine, through go_windows_amd64_exec
#   6. a short fuzz run of every Fuzz target (SLUICE_FUZZTIME each, default 100000x)
# Every step runs even when an earlier test step fails, so one run shows all
# failures; the script exits non-zero if any step failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export SLUICE_TEST_TOOLS="${SLUICE_TEST_TOOLS:-${HOME:-/root}/.cache/sluice-test-tools}"
# A count, not a duration: a duration-based -fuzztime can fail with a spurious
# "context deadline exceeded" on Go 1.26 (go.dev/issue/75804).
FUZZTIME="${SLUICE_FUZZTIME:-100000x}"
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH="/usr/local/go/bin:$PATH"
fi

failed=()

# run NAME CMD...: print a header, run the command, remember a failure.
run() {
	local name=$1
	shift
	printf '\n==> %s\n' "$name"
	if ! "$@"; then
		failed+=("$name")
		printf '==> FAILED: %s\n' "$name"
	fi
}

# go_files lists the module's Go files, leaving out test fixtures.
go_files() {
	find . -path ./.git -prune -o \( -name testdata -o -name vendor \) -prune -o -name '*.go' -print | sort
}

check_gofmt() {
	local unformatted
	unformatted="$(go_files | xargs -r gofmt -l)" || return 1
	if [ -n "$unformatted" ]; then
		printf 'gofmt -l lists files that need formatting:\n%s\n' "$unformatted"
		return 1
	fi
}

# fuzz_targets prints "dir name" for every func FuzzXxx in a _test.go file.
fuzz_targets() {
	local f
	go_files | grep '_test\.go$' | while read -r f; do
		grep -oE '^func Fuzz[A-Za-z0-9_]*\(' "$f" | sed -E 's/^func (Fuzz[A-Za-z0-9_]*)\(/\1/' |
			while read -r name; do printf '%s %s\n' "$(dirname "$f")" "$name"; done
	done | sort -u
}

# Targets whose every input opens and rewrites files, or builds two sinks
# (FuzzEncode), run fewer times, so the smoke run stays within a minute or
# so; SLUICE_FUZZTIME overrides them all.
declare -A FUZZ_COUNT=([FuzzOpenCorrupt]=2000x [FuzzFlip]=2000x [FuzzReader]=5000x [FuzzEncode]=5000x)

# run_fuzz TARGETS fuzzes each "dir name" line of TARGETS.
run_fuzz() {
	local dir name n rc=0
	while read -r dir name; do
		n="${FUZZ_COUNT[$name]:-$FUZZTIME}"
		[ -n "${SLUICE_FUZZTIME:-}" ] && n="$SLUICE_FUZZTIME"
		echo "--- fuzz $name in $dir for $n"
		go test -run '^$' -fuzz "^${name}\$" -fuzztime "$n" "$dir" || rc=1
	done <<<"$1"
	return "$rc"
}

printf '==> install test tools\n'
if ! bash scripts/install-test-tools.sh; then
	echo "==> FAILED: install test tools" >&2
	exit 1
fi
WINE_BIN="$SLUICE_TEST_TOOLS/bin"
FUZZ_TARGETS="$(fuzz_targets)"
printf 'fuzz targets: %s\n' "$(printf '%s' "$FUZZ_TARGETS" | grep -c . || true)"

run "gofmt" check_gofmt
run "go vet (linux)" go vet ./...
run "go vet (windows)" env GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go vet ./...
# e2e alone takes several minutes (its kubelet rotation tests about five),
# more than go test's default ten-minute limit per package allows for.
run "go test -race (linux)" env CGO_ENABLED=1 go test -race -count=1 -timeout 30m ./...
run "go test (windows, under Wine)" env PATH="$WINE_BIN:$PATH" GOOS=windows GOARCH=amd64 CGO_ENABLED=0 \
	go test -count=1 ./...
if [ -n "$FUZZ_TARGETS" ]; then
	run "fuzz smoke runs ($FUZZTIME each)" run_fuzz "$FUZZ_TARGETS"
fi

if [ "${#failed[@]}" -ne 0 ]; then
	printf '\ntest.sh: failed steps:\n' >&2
	printf '  %s\n' "${failed[@]}" >&2
	exit 1
fi
