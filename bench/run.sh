#!/usr/bin/env bash
# Benchmarks: the Go benchmarks of each component, then an end-to-end run of
# the real binary over pre-written kubelet-style logs, once per sink in $SINKS:
# stdout to /dev/null, and loki and elasticsearch to a local VictoriaLogs
# (SINKS="stdout loki elasticsearch" for all three; GOBENCH=0 skips the
# Go benchmarks, SCALE=0 the 10,000-file / 5,000-pod run of bench/cmd/scale;
# PROFILE=prefix writes <prefix>-<sink>.prof CPU profiles). It reports lines/s,
# CPU seconds per million lines and peak RSS of sluice (and the server's CPU).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $(go version)"

if [ "${GOBENCH:-1}" = 1 ]; then
	echo "== go benchmarks"
	go test -run '^$' -bench . -benchmem -count "${COUNT:-1}" \
		./inputs/cri ./inputs/docker ./inputs/timestamp ./inputs/file ./inputs/file/glob ./buffer/... \
		./enrich/... ./outputs/...
fi

if [ "${SCALE:-1}" = 1 ]; then
	# Go raises its soft open-file limit to the hard one; the tailer holds
	# every file open, so the hard limit must exceed SCALE_FILES.
	echo "== scale: idle tailer over many files, Stage over many pods (SCALE=0 skips)"
	go build -o bin/scale ./bench/cmd/scale
	bin/scale -files "${SCALE_FILES:-10000}" -pods "${SCALE_PODS:-5000}" -window "${SCALE_WINDOW:-30s}"
fi

echo "== end to end"
PODS=${PODS:-4}
LINES=${LINES:-500000}
SINKS=${SINKS:-stdout loki}
work=$(mktemp -d /tmp/sluice-bench.XXXXXX)
vl_pid=
cleanup() {
	[ -n "$vl_pid" ] && kill -TERM "$vl_pid" 2>/dev/null && wait "$vl_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
go build -o bin/loggen ./bench/cmd/loggen
go build -trimpath -o bin/sluice ./cmd/sluice
bin/loggen -dir "$work/log" -pods "$PODS" -lines "$LINES" -line-size 150
bytes=$(cat "$work"/log/pods/*/*/0.log | wc -c)
want=$((PODS * LINES))

# start_victorialogs starts the Loki push server the loki run ships to.
start_victorialogs() {
	local vl port
	vl=$(bash scripts/install-victorialogs.sh)
	port=$((20000 + RANDOM % 20000))
	"$vl" -httpListenAddr "127.0.0.1:$port" -storageDataPath "$work/vl" -retentionPeriod=100y \
		-futureRetention=1y -loki.disableMessageParsing -loggerLevel=WARN >"$work/vl.log" 2>&1 &
	vl_pid=$!
	for _ in $(seq 1 300); do
		curl -sf "127.0.0.1:$port/health" >/dev/null 2>&1 && break
		sleep 0.1
	done
	vl_url="http://127.0.0.1:$port/insert/loki/api/v1/push"
	vl_es="http://127.0.0.1:$port/insert/elasticsearch"
}

# run_e2e SINK OUTPUT_YAML: one sluice run over the pre-written logs, from a
# fresh data folder, until the sink accepted every line.
run_e2e() {
	local sink=$1 output=$2 port pid sent start end utime stime hwm vl_cpu0=0 vl_cpu1=0
	rm -rf "$work/data"
	port=$((20000 + RANDOM % 20000))
	cat >"$work/sluice.yaml" <<YAML
data_dir: $work/data
metrics: {address: "127.0.0.1:$port"}
inputs:
  files:
    include: ["$work/log/containers/*.log"]
outputs:
$output
YAML
	[ -n "$vl_pid" ] && vl_cpu0=$(awk '{print $14 + $15}' "/proc/$vl_pid/stat")
	start=$(date +%s.%N)
	NODE_NAME=bench bin/sluice run -config "$work/sluice.yaml" ${PROFILE:+-cpuprofile "$PROFILE-$sink.prof"} 2>"$work/sluice-$sink.log" &
	pid=$!
	sent=0
	for _ in $(seq 1 6000); do
		# Prometheus prints large counters as floats (2e+06): compare in awk.
		sent=$(curl -s "127.0.0.1:$port/metrics" 2>/dev/null |
			awk -v s="$sink" '$1 == "sluice_output_records_total{sink=\"" s "\"}" {printf "%d", $2}' || true)
		sent=${sent:-0}
		[ "$sent" -ge "$want" ] && break
		sleep 0.05
	done
	end=$(date +%s.%N)
	read -r utime stime < <(awk '{print $14, $15}' "/proc/$pid/stat")
	hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
	[ -n "$vl_pid" ] && vl_cpu1=$(awk '{print $14 + $15}' "/proc/$vl_pid/stat")
	kill -TERM "$pid"
	wait "$pid"
	awk -v sink="$sink" -v n="$want" -v b="$bytes" -v s="$start" -v e="$end" -v u="$utime" -v st="$stime" \
		-v t="$(getconf CLK_TCK)" -v h="$hwm" -v sent="$sent" -v vl="$((vl_cpu1 - vl_cpu0))" 'BEGIN {
		wall = e - s; cpu = (u + st) / t
		printf "%s: lines %d (sent %s), %.1f MB, wall %.2f s: %.0f lines/s, %.1f MB/s; sluice CPU %.2f s = %.2f CPU s per million lines; peak RSS %.1f MiB",
			sink, n, sent, b / 1e6, wall, n / wall, b / 1e6 / wall, cpu, cpu / (n / 1e6), h / 1024
		if (vl > 0) printf "; server CPU %.2f s", vl / t
		printf "\n"
	}'
}

for sink in $SINKS; do
	case $sink in
	stdout) run_e2e stdout "  stdout: {path: /dev/null}" ;;
	loki)
		[ -n "$vl_pid" ] || start_victorialogs
		run_e2e loki "  loki: {url: \"$vl_url\"}"
		;;
	elasticsearch)
		[ -n "$vl_pid" ] || start_victorialogs
		run_e2e elasticsearch "  elasticsearch: {url: \"$vl_es\", headers: {VL-Msg-Field: message, VL-Time-Field: \"@timestamp\", VL-Stream-Fields: \"kubernetes.namespace,kubernetes.pod.name,kubernetes.container.name\"}}"
		;;
	*) echo "unknown sink $sink" >&2; exit 2 ;;
	esac
done
