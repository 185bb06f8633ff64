#!/usr/bin/env bash
# demo-screenshot.sh (`make screenshot`) runs the demo with KEEP=1, opens the
# web UI address it printed in headless Chromium (Debian's chromium package,
# installed with apt-get when missing) and writes docs/demo.png, the picture
# the README shows. It fails unless the UI's own query API answers the
# printed query with records of every demo pod and the picture is not blank
# (scripts/demoshot checks both). The server is stopped afterwards, unless
# KEEP=1 is given here too. SLUICE_DEMO_ADDR, SINK, PODS and LINES pass on
# to the demo; OUT (default docs/demo.png) names the picture.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH="/usr/local/go/bin:$PATH"
fi
OUT=${OUT:-docs/demo.png}
PODS=${PODS:-3}
keep=${KEEP:-}

say() { printf 'screenshot: %s\n' "$*"; }

chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
	say "installing Debian's chromium package"
	sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get install -y -q chromium >/dev/null ||
		{ "${sudo[@]}" apt-get update -q >/dev/null && "${sudo[@]}" apt-get install -y -q chromium >/dev/null; }
	chromium=$(command -v chromium)
fi

log=$(mktemp /tmp/sluice-screenshot.XXXXXX)
stop_demo() { [ -n "$keep" ] || bash scripts/demo.sh stop >/dev/null || true; }
trap 'stop_demo; rm -f "$log"' EXIT
KEEP=1 PODS=$PODS bash scripts/demo.sh | tee "$log"
url=$(sed -n 's,^  \(http://.*/select/vmui/.*\)$,\1,p' "$log" | tail -n 1)
[ -n "$url" ] || {
	say "the demo printed no web UI address" >&2
	exit 1
}
pods=$(seq -s, -f 'web-%g' 0 $((PODS - 1)))

mkdir -p "$(dirname "$OUT")"
profile=$(mktemp -d /tmp/sluice-chromium.XXXXXX)
trap 'stop_demo; rm -rf "$log" "$profile"' EXIT
say "opening $url"
# --no-sandbox: Chromium refuses to run as root with its sandbox. The
# virtual time budget lets the page load and run its queries first.
timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars \
	--user-data-dir="$profile" --window-size=1400,1000 --virtual-time-budget=15000 \
	--screenshot="$OUT" "$url" >"$profile/chromium.log" 2>&1 || {
	cat "$profile/chromium.log" >&2
	say "chromium failed" >&2
	exit 1
}
go run ./scripts/demoshot -url "$url" -pods "$pods" -png "$OUT"
say "wrote $OUT"
