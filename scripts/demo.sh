#!/usr/bin/env bash
# The main job on a local default: kubelet-style container logs (with a
# rotation) are generated in a temporary folder and shipped by sluice; the
# shipped records are then summarised per pod.
set -euo pipefail
cd "$(dirname "$0")/.."

PODS=${PODS:-3}
LINES=${LINES:-20000}
work=$(mktemp -d /tmp/sluice-demo.XXXXXX)
echo "demo folder: $work"

go build -o bin/loggen ./bench/cmd/loggen
mkdir -p "$work/log/containers"
: >"$work/out.jsonl"

cat >"$work/sluice.yaml" <<YAML
data_dir: $work/data
metrics: {address: "127.0.0.1:0"}
log: {format: text}
inputs:
  files:
    include: ["$work/log/containers/*.log"]
outputs:
  stdout: {path: "$work/out.jsonl"}
YAML
bin/sluice validate -config "$work/sluice.yaml"
bin/sluice run -config "$work/sluice.yaml" 2>"$work/sluice.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
# Written while sluice runs, rotated like kubelet every 1 MB.
bin/loggen -dir "$work/log" -pods "$PODS" -lines "$LINES" -rate 5000 -rotate-bytes 1000000
echo "generated $PODS pods x $LINES lines; rotated files: $(find "$work/log/pods" -name '0.log.*' | wc -l)"
want=$((PODS * LINES))
for _ in $(seq 1 600); do
	got=$(wc -l <"$work/out.jsonl" 2>/dev/null || echo 0)
	[ "$got" -ge "$want" ] && break
	sleep 0.1
done
kill -TERM "$pid"
wait "$pid"
trap - EXIT
got=$(wc -l <"$work/out.jsonl")
echo
echo "shipped $got of $want lines; per source file:"
grep -o '"path":"[^"]*"' "$work/out.jsonl" | sort | uniq -c
echo
echo "first records:"
head -n 3 "$work/out.jsonl"
echo
echo "sluice's own log: $work/sluice.log; checkpoint: $work/data/checkpoints/files.json"
[ "$got" -eq "$want" ]
