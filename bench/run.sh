#!/usr/bin/env bash
# Benchmarks: the Go benchmarks of each component, then an end-to-end run of
# the real binary (pre-written kubelet-style logs -> sluice -> stdout output
# to /dev/null), reporting lines/s, CPU seconds per million lines and peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $(go version)"

echo "== go benchmarks"
go test -run '^$' -bench . -benchmem -count "${COUNT:-1}" \
	./inputs/cri ./inputs/docker ./inputs/timestamp ./inputs/file ./inputs/file/glob ./outputs/stdout

echo "== end to end"
PODS=${PODS:-4}
LINES=${LINES:-500000}
work=$(mktemp -d /tmp/sluice-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
go build -o bin/loggen ./bench/cmd/loggen
go build -trimpath -o bin/sluice ./cmd/sluice
bin/loggen -dir "$work/log" -pods "$PODS" -lines "$LINES" -line-size 150
bytes=$(cat "$work"/log/pods/*/*/0.log | wc -c)
port=$((20000 + RANDOM % 20000))
cat >"$work/sluice.yaml" <<YAML
data_dir: $work/data
metrics: {address: "127.0.0.1:$port"}
inputs:
  files:
    include: ["$work/log/containers/*.log"]
outputs:
  stdout: {path: /dev/null}
YAML
want=$((PODS * LINES))
start=$(date +%s.%N)
bin/sluice run -config "$work/sluice.yaml" 2>"$work/sluice.log" &
pid=$!
sent=0
for _ in $(seq 1 3000); do
	# Prometheus prints large counters as floats (2e+06): compare in awk.
	sent=$(curl -s "127.0.0.1:$port/metrics" 2>/dev/null | awk '/^sluice_output_records_total/ {printf "%d", $2}' || true)
	sent=${sent:-0}
	[ "$sent" -ge "$want" ] && break
	sleep 0.05
done
end=$(date +%s.%N)
read -r utime stime < <(awk '{print $14, $15}' "/proc/$pid/stat")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
kill -TERM "$pid"
wait "$pid"
tck=$(getconf CLK_TCK)
awk -v n="$want" -v b="$bytes" -v s="$start" -v e="$end" -v u="$utime" -v st="$stime" -v t="$tck" -v h="$hwm" -v sent="$sent" 'BEGIN {
	wall = e - s; cpu = (u + st) / t
	printf "lines %d (sent %s), %.1f MB, wall %.2f s: %.0f lines/s, %.1f MB/s; CPU %.2f s = %.2f CPU s per million lines; peak RSS %.1f MiB\n",
		n, sent, b / 1e6, wall, n / wall, b / 1e6 / wall, cpu, cpu / (n / 1e6), h / 1024
}'
