#!/usr/bin/env bash
# demo.sh (`make demo`) ships kubelet-style container logs to a real Loki push
# server (or, with SINK=elasticsearch, to its Elasticsearch bulk API) and
# shows what arrived. It needs Go and nothing else:
#   1. VictoriaLogs (which speaks the Loki push API) is built once by
#      scripts/install-victorialogs.sh and started on $SLUICE_DEMO_ADDR
#      (default 127.0.0.1:9428) with its data in the temporary folder; a
#      server that already answers there is used as it is and left running;
#   2. bench/cmd/loggen writes $PODS pods x $LINES lines, rotating like
#      kubelet, while sluice tails containers/*.log and pushes to the server
#      with its buffer in the temporary folder;
#   3. the server is polled until every line arrived (at most
#      $SLUICE_DEMO_TIMEOUT seconds), then asked for the count per pod and
#      for a few records with their labels and structured metadata.
# What it started is stopped on exit, Ctrl-C included; the temporary folder
# with every log is kept. Exits non-zero when a line is missing.
#
# KEEP=1 (`make demo KEEP=1`) leaves the VictoriaLogs it started running
# after a demo in which every line arrived, with its pid in $SLUICE_DEMO_PID
# (default ${TMPDIR:-/tmp}/sluice-demo-<host>-<port>.pid), and ends by
# printing the address of its web UI with a query for the demo's pods filled
# in, and the same query as one curl of the LogsQL API. `demo.sh stop`
# (`make demo-stop`) stops the server that pid file names, with the same
# SLUICE_DEMO_ADDR, and fails if the address still answers afterwards.
# SLUICE_BIN runs another sluice binary than bin/sluice.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH="/usr/local/go/bin:$PATH"
fi

ADDR=${SLUICE_DEMO_ADDR:-127.0.0.1:9428}
PODS=${PODS:-3}
LINES=${LINES:-20000}
TIMEOUT=${SLUICE_DEMO_TIMEOUT:-60}
SINK=${SINK:-loki}
SLUICE_BIN=${SLUICE_BIN:-bin/sluice}
case "${KEEP:-}" in '' | 0 | no | false) KEEP='' ;; *) KEEP=1 ;; esac
# The fields the chosen sink stores a record's namespace, pod and container in.
case "$SINK" in
loki) ns_f=namespace pod_f=pod ctr_f=container ;;
elasticsearch) ns_f=kubernetes.namespace pod_f=kubernetes.pod.name ctr_f=kubernetes.container.name ;;
*)
	printf 'demo: SINK=%s: want loki or elasticsearch\n' "$SINK" >&2
	exit 2
	;;
esac
# A tenant of its own, so that a server used before holds no other run's
# lines under it. VictoriaLogs tenants are numbers.
TENANT=$(date +%s)

work=''
host=${ADDR%:*} port=${ADDR##*:}
pidfile=${SLUICE_DEMO_PID:-${TMPDIR:-/tmp}/sluice-demo-$host-$port.pid}
sluice_pid='' vlogs_pid='' loggen_pid=''

say() { printf '%s\n' "$*"; }
fail() {
	say "demo: $*" >&2
	exit 1
}

# stop PID SECONDS sends SIGTERM, then SIGKILL after SECONDS, and leaves the
# exit status in $stopped.
stopped=0
stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	stopped=0
	wait "$pid" 2>/dev/null || stopped=$?
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -z "$loggen_pid" ] || stop "$loggen_pid" 5
	[ -z "$sluice_pid" ] || stop "$sluice_pid" 30
	if [ -n "$vlogs_pid" ] && { [ -z "$KEEP" ] || [ "$rc" -ne 0 ]; }; then
		stop "$vlogs_pid" 10
		rm -f "$pidfile"
	fi
	[ "$rc" -eq 0 ] || [ -z "$work" ] || say "demo: exit status $rc; everything is in $work" >&2
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# http REQUEST sends a raw HTTP/1.0 request to $host:$port (no curl needed)
# and prints the body of the answer; it fails unless the status is 2xx.
http() {
	timeout "${http_timeout:-30}" bash -c '
		exec 3<>"/dev/tcp/$1/$2" || exit 1
		printf "%s" "$3" >&3
		IFS= read -r status <&3 || exit 1
		case "$status" in
		"HTTP/1."?" 2"*) ;;
		*) printf "%s\n" "${status%$'"'\r'"'}" >&2; cat <&3 >&2; exit 1 ;;
		esac
		while IFS= read -r line <&3 && [ -n "${line%$'"'\r'"'}" ]; do :; done
		cat <&3' demo "$host" "$port" "$1"
}

get() { http "GET $1 HTTP/1.0"$'\r\n'"Host: $host:$port"$'\r\n\r\n'; }

healthy() { [ "$(http_timeout=3 get /health 2>/dev/null)" = OK ]; }

urlencode() {
	local LC_ALL=C s=$1 i c out=''
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case "$c" in
		[a-zA-Z0-9._~-]) out+=$c ;;
		*) out+=$(printf '%%%02X' "'$c") ;;
		esac
	done
	printf '%s' "$out"
}

# query LOGSQL prints the matching rows of this run's tenant, one JSON object
# per line.
query() {
	local body
	body="query=$(urlencode "$1")"
	http "POST /select/logsql/query HTTP/1.0"$'\r\n'"Host: $ADDR"$'\r\n'"AccountID: $TENANT"$'\r\n'"ProjectID: 0"$'\r\n'"Content-Type: application/x-www-form-urlencoded"$'\r\n'"Content-Length: ${#body}"$'\r\n\r\n'"$body"
}

# parse ROW fills the associative array f with the fields of one row:
# VictoriaLogs answers flat objects whose values are all strings.
declare -A f
parse() {
	local s=$1 re='^[{,]"(([^"\\]|\\.)*)":"(([^"\\]|\\.)*)"' v
	f=()
	while [[ $s =~ $re ]]; do
		v=${BASH_REMATCH[3]}
		v=${v//\\\"/\"}
		v=${v//\\\\/\\}
		f[${BASH_REMATCH[1]}]=$v
		s=${s:${#BASH_REMATCH[0]}}
	done
}

# count LOGSQL prints the n of a "... | stats count() n" query.
count() {
	local row
	row=$(query "$1") || return 1
	parse "$row"
	printf '%s' "${f[n]:-0}"
}

# kept_pid prints the pid in $pidfile if that process is still the
# VictoriaLogs a KEEP=1 demo started on $ADDR, and fails otherwise.
kept_pid() {
	local pid cmd
	[ -r "$pidfile" ] && read -r pid <"$pidfile" && [ -n "$pid" ] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	if [ -r "/proc/$pid/cmdline" ]; then
		cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline")
		[[ $cmd == *victoria-logs*"-httpListenAddr=$ADDR "* ]] || return 1
	fi
	printf '%s' "$pid"
}

# stop_kept is `demo.sh stop`: it stops the server a KEEP=1 demo left on
# $ADDR and removes its pid file.
stop_kept() {
	local pid i
	if pid=$(kept_pid); then
		stop "$pid" 10
		say "demo-stop: stopped VictoriaLogs (pid $pid) on $ADDR"
	else
		say "demo-stop: no VictoriaLogs kept by make demo KEEP=1 on $ADDR ($pidfile)"
	fi
	rm -f "$pidfile"
	for ((i = 0; i < 50; i++)); do
		healthy || return 0
		sleep 0.1
	done
	fail "something still answers on $ADDR, not started by make demo KEEP=1"
}

case "${1:-run}" in
run) ;;
stop)
	stop_kept
	exit 0
	;;
*)
	say "usage: demo.sh [run|stop]" >&2
	exit 2
	;;
esac

work=$(mktemp -d /tmp/sluice-demo.XXXXXX)
say "demo folder: $work"

# 1. The server.
push_url="http://$ADDR/insert/loki/api/v1/push"
if healthy; then
	if pid=$(kept_pid); then
		say "VictoriaLogs: using the server an earlier make demo KEEP=1 left on $ADDR (pid $pid), tenant $TENANT"
	else
		say "VictoriaLogs: using the server already on $ADDR (left running), tenant $TENANT"
	fi
else
	vlogs=$(bash scripts/install-victorialogs.sh)
	# A kept server gets a session of its own, so that neither Ctrl-C in
	# this terminal later nor its closing stops it.
	detach=()
	[ -z "$KEEP" ] || ! command -v setsid >/dev/null || detach=(setsid)
	"${detach[@]}" "$vlogs" -httpListenAddr="$ADDR" -storageDataPath="$work/victoria-logs-data" \
		-loki.disableMessageParsing -loggerLevel=WARN >"$work/victoria-logs.log" 2>&1 </dev/null &
	vlogs_pid=$!
	[ -z "$KEEP" ] || printf '%s\n' "$vlogs_pid" >"$pidfile"
	for ((i = 0; ; i++)); do
		healthy && break
		kill -0 "$vlogs_pid" 2>/dev/null || {
			vlogs_pid=''
			tail -n 5 "$work/victoria-logs.log" >&2
			fail "VictoriaLogs did not start on $ADDR (is the address taken? set SLUICE_DEMO_ADDR)"
		}
		[ "$i" -lt 300 ] || fail "VictoriaLogs did not answer /health on $ADDR within 30 s"
		sleep 0.1
	done
	say "VictoriaLogs: started $vlogs on $ADDR, tenant $TENANT"
fi

# 2. sluice, then the logs it tails.
if [ "$SINK" = loki ]; then
	outputs="  loki:
    url: $push_url
    tenant_id: \"$TENANT\"
    labels: [namespace, pod, container]
    batch_wait: 200ms
    dead_letter: {path: $work/dead-letter.jsonl}"
else
	push_url="http://$ADDR/insert/elasticsearch"
	outputs="  elasticsearch:
    url: $push_url
    headers: {AccountID: \"$TENANT\", VL-Msg-Field: message, VL-Time-Field: \"@timestamp\", VL-Stream-Fields: \"$ns_f,$pod_f,$ctr_f\"}
    batch_wait: 200ms
    dead_letter: {path: $work/dead-letter.jsonl}"
fi
mkdir -p bin "$work/log/containers"
go build -o bin/loggen ./bench/cmd/loggen
cat >"$work/sluice.yaml" <<YAML
data_dir: $work/data
metrics: {address: "127.0.0.1:0"}
log: {format: text}
inputs:
  files:
    include: ["$work/log/containers/*.log"]
buffer:
  path: $work/buffer
outputs:
$outputs
YAML
"$SLUICE_BIN" validate -config "$work/sluice.yaml" >/dev/null
# The DaemonSet sets NODE_NAME from the downward API; here it is this host.
NODE_NAME="${NODE_NAME:-$(hostname)}" "$SLUICE_BIN" run -config "$work/sluice.yaml" 2>"$work/sluice.log" &
sluice_pid=$!
start=$SECONDS
say "sluice: running (pid $sluice_pid), shipping to $SINK at $push_url"
# Written while sluice runs, rotated like kubelet every 1 MB.
bin/loggen -dir "$work/log" -pods "$PODS" -lines "$LINES" -rate 5000 -rotate-bytes 1000000 >"$work/loggen.log" 2>&1 &
loggen_pid=$!
wait "$loggen_pid" || {
	loggen_pid=''
	cat "$work/loggen.log" >&2
	fail "loggen failed"
}
loggen_pid=''
want=$(cat "$work"/log/pods/*/*/* | wc -l)
say "loggen: wrote $want lines in $PODS pods, $(find "$work/log/pods" -name '0.log.*' | wc -l) rotated files ($((SECONDS - start)) s)"

# 3. Wait for everything, then look.
got=0
for ((i = 0; i < TIMEOUT * 2; i++)); do
	get /internal/force_flush >/dev/null 2>&1 || true
	got=$(count '* | stats count() n' 2>/dev/null) || got=0
	[ "$got" -ge "$want" ] && break
	kill -0 "$sluice_pid" 2>/dev/null || break
	sleep 0.5
done
say "arrived: $got of $want lines after $((SECONDS - start)) s"

# sluice's own view, from its metrics endpoint (its log names the port).
metrics_addr=$(sed -n 's/.*msg="serving metrics" address=\([^ ]*\).*/\1/p' "$work/sluice.log" | head -n 1)
metrics=''
if [ -n "$metrics_addr" ]; then
	metrics=$(host=${metrics_addr%:*} port=${metrics_addr##*:} get /metrics 2>/dev/null |
		grep -E '^sluice_(output_(records|requests|retries|rejected_records)_total|enrich_misses_total|input_rotations_total)') || true
fi
if [ -n "$metrics" ]; then
	say
	say "sluice metrics (http://$metrics_addr/metrics):"
	say "$metrics" | sed 's/^/  /'
fi
stop "$sluice_pid" 30
sluice_pid=''
sluice_rc=$stopped
[ "$sluice_rc" -eq 0 ] || say "sluice exited with status $sluice_rc"
[ ! -s "$work/dead-letter.jsonl" ] || say "rejected records were dead-lettered to $work/dead-letter.jsonl"

say
printf '  %-24s %9s %9s %9s\n' "namespace/pod" written arrived distinct
declare -A arrived distinct
rows=$(query "* | stats by ($ns_f, $pod_f) count() n, count_uniq(_msg) u") ||
	fail "cannot query VictoriaLogs on $ADDR"
while IFS= read -r row; do
	parse "$row"
	arrived[${f[$ns_f]:-}/${f[$pod_f]:-}]=${f[n]:-0}
	distinct[${f[$ns_f]:-}/${f[$pod_f]:-}]=${f[u]:-0}
done <<<"$rows"
missing=0
for d in "$work"/log/pods/*/; do
	name=$(basename "$d") # <namespace>_<pod>_<uid>
	key=${name%%_*}/${name#*_}
	key=${key%_*}
	w=$(cat "$d"*/* | wc -l)
	a=${arrived[$key]:-0} u=${distinct[$key]:-0}
	mark=''
	if [ "$u" -lt "$w" ]; then
		mark="  <- $((w - u)) missing"
		missing=$((missing + w - u))
	fi
	printf '  %-24s %9s %9s %9s%s\n' "$key" "$w" "$a" "$u" "$mark"
done

say
say "the last record of each pod, as stored:"
for d in $(find "$work/log/pods" -mindepth 1 -maxdepth 1 | sort | head -n 3); do
	name=$(basename "$d")
	pod=${name#*_}
	pod=${pod%_*}
	row=$(query "$pod_f:=\"$pod\" | sort by (_time) desc | limit 1" 2>/dev/null) || continue
	[ -n "$row" ] || continue
	parse "$row"
	printf '  %s  %s/%s/%s  %s\n' "${f[_time]:-}" "${f[$ns_f]:-}" "${f[$pod_f]:-}" "${f[$ctr_f]:-}" "${f[_msg]:-}"
	printf '      stream   %s\n' "${f[_stream]:-}"
	meta=''
	for k in $(printf '%s\n' "${!f[@]}" | sort); do
		case "$k" in
		_* | "$ns_f" | "$pod_f" | "$ctr_f" | job) ;;
		container_id | container.id) meta+=" $k=${f[$k]:0:12}…" ;;
		filename | log.file.path) meta+=" $k=…/$(sed -E 's,.*/([^/]+/[^/]+)$,\1,; s/-([0-9a-f]{12})[0-9a-f]{52}\.log$/-\1….log/' <<<"${f[$k]}")" ;;
		*) meta+=" $k=${f[$k]}" ;;
		esac
	done
	printf '      fields  %s\n' "$meta"
done

say
logs="logs: $work/sluice.log"
[ ! -e "$work/victoria-logs.log" ] || logs+=", $work/victoria-logs.log"
[ "$missing" -eq 0 ] || fail "$missing lines did not arrive; $logs"
[ "$sluice_rc" -eq 0 ] || fail "sluice exited with status $sluice_rc; $logs"
say "demo: every line arrived; $logs"
[ -n "$KEEP" ] || exit 0

# What KEEP=1 leaves to look at: the last records of each pod, in the web UI
# and through the LogsQL API, in this run's tenant.
q="{$ns_f=\"demo\"} | last 5 by (_time) partition by ($pod_f)"
say
if pid=$(kept_pid); then
	say "VictoriaLogs is left running on $ADDR (pid $pid);"
	stop_cmd='make demo-stop'
	[ -z "${SLUICE_DEMO_ADDR:-}" ] || stop_cmd="make demo-stop SLUICE_DEMO_ADDR=$ADDR"
	say "stop it with: $stop_cmd"
fi
say "browse the demo's logs of the last hour (the last 5 of each pod; edit the query for more):"
say "  http://$ADDR/select/vmui/#/?query=$(urlencode "$q")&accountID=$TENANT&projectID=0&limit=100&g0.range_input=1h&g0.relative_time=last_1_hour&displayFields=$(urlencode "$pod_f,_msg")"
say "or fetch the same records:"
say "  curl -s http://$ADDR/select/logsql/query -H 'AccountID: $TENANT' --data-urlencode 'query=$q'"
