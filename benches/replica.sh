#!/usr/bin/env bash
# The replicated mode's figures (BENCHMARKS.md, "Replicas over etcd"), all
# measured in one run on this machine against one etcd member started here
# (Debian's `etcd-server`; a three-member cluster on the same two cores
# would measure the cores, not the mode):
#
# 1. An import of the generated dataset through etcd, and what etcd's
#    database holds per record afterwards (compacted and defragmented).
# 2. Catch-up: a fresh replica loading that from etcd, in records per second.
# 3. Reads: `diplomacy-tools bench` on the replica's index and on a data dir
#    made by an embedded import of the same file, and the ratio.
# 4. Durable writes through etcd for 1 and 64 clients, next to embedded.
# 5. etcd's own figure: `etcdctl check perf`, loads s and l (60 s each).
#
#   benches/replica.sh [SCALE] [ROUNDS] [quick]   (default 0.1 3: the 10% dataset)
#
# `quick` (the test suite's smoke run) leaves out etcd's own figure and runs
# each scenario for one second.
set -euo pipefail
scale=${1:-0.1}
rounds=${2:-3}
quick=${3:-}
bin=${DIPLOMACY_BIN:-target/release/diplomacy}
tools=${DIPLOMACY_TOOLS_BIN:-$(dirname "$bin")/diplomacy-tools}
etcd=${ETCD:-/usr/bin/etcd}
etcdctl=${ETCDCTL:-/usr/bin/etcdctl}
for tool in "$etcd" "$etcdctl"; do
  [ -x "$tool" ] || { echo "error: $tool is missing; install it with: apt-get install etcd-server etcd-client" >&2; exit 1; }
done
[ -x "$bin" ] && [ -x "$tools" ] || { echo "error: run cargo build --release --workspace first" >&2; exit 1; }

work=$(mktemp -d)
cleanup() {
  kill "${etcd_pid:-}" "${replica_pid:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
client=$(port)
peer=$(port)
endpoint="http://127.0.0.1:$client"
"$etcd" --name bench --data-dir "$work/etcd" \
  --listen-client-urls "$endpoint" --advertise-client-urls "$endpoint" \
  --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
  --initial-cluster "bench=http://127.0.0.1:$peer" \
  --quota-backend-bytes $((8 * 1024 * 1024 * 1024)) 2>"$work/etcd.log" &
etcd_pid=$!
ctl() { ETCDCTL_API=3 "$etcdctl" --endpoints "$endpoint" "$@"; }
for _ in $(seq 100); do ctl endpoint health >/dev/null 2>&1 && break; sleep 0.1; done

echo "== the dataset: diplomacy-tools generate --scale $scale"
"$tools" generate --seed 1 --scale "$scale" --output "$work/facts.jsonl" 2>&1 | tail -1
records=$(wc -l <"$work/facts.jsonl")

echo "== import through etcd"
before=$(ctl endpoint status -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["dbSize"])')
start=$(date +%s.%N)
RUST_LOG=warn "$bin" import "$work/facts.jsonl" --etcd-endpoints "$endpoint" 2>&1 | grep -E "^imported|written through" 
end=$(date +%s.%N)
ctl compact "$(ctl endpoint status -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["header"]["revision"])')" >/dev/null
ctl defrag >/dev/null
after=$(ctl endpoint status -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["dbSize"])')
keys=$(ctl get /diplomacy/records/ --prefix --keys-only | grep -c . || true)
values=$(ctl get /diplomacy/records/ --prefix --print-value-only | wc -c)
python3 - "$records" "$start" "$end" "$before" "$after" "$keys" "$values" <<'EOF'
import sys
records, start, end, before, after, keys, values = sys.argv[1:]
records, keys = int(records), int(keys)
seconds = float(end) - float(start)
print(f"import: {records:,} records in {seconds:.1f} s: {records / seconds:,.0f} records/s (with reading etcd into a temporary index and checking the input)")
print(f"etcd's bytes per record: {int(after):,} bytes after compaction and defrag for {keys:,} records = {int(after) / keys:,.0f} bytes per record; the values alone {int(values) / keys:,.0f} bytes (empty etcd: {int(before):,} bytes)")
EOF

echo "== catch-up: a fresh replica loads etcd's records"
DIPLOMACY_TOKEN=bench-0123456789abcdef RUST_LOG=info \
  "$bin" serve --listen 127.0.0.1:0 --etcd-endpoints "$endpoint" --data-dir "$work/index" \
  --drain-delay-secs 0 --ready-file "$work/ready.json" 2>"$work/replica.log" &
replica_pid=$!
for _ in $(seq 6000); do grep -q "loaded etcd's records at one revision" "$work/replica.log" && break; sleep 0.1; done
grep -o "loaded etcd's records at one revision.*" "$work/replica.log" | python3 -c '
import re, sys
line = sys.stdin.read()
records = int(re.search(r"records=(\d+)", line).group(1))
seconds = float(re.search(r"seconds=([0-9.]+)", line).group(1))
print(f"catch-up: {records:,} records in {seconds:.1f} s: {records / seconds:,.0f} records/s")'
kill -TERM "$replica_pid"; wait "$replica_pid" 2>/dev/null || true; replica_pid=

echo "== the same file into an embedded data dir"
RUST_LOG=warn "$bin" import "$work/facts.jsonl" --data-dir "$work/embedded" 2>&1 | grep -E "^imported"

bench() {
  "$tools" bench --server-bin "$bin" --seed 1 --scale "$scale" --rounds "$rounds" \
    --duration-secs "$([ -n "$quick" ] && echo 1 || echo 5)" "$@" 2>/dev/null
}
replica_flag="--server-arg=--etcd-endpoints=$endpoint"
echo "== reads: embedded, then the replica (4 connections x 16 in flight)"
bench --data-dir "$work/embedded" --scenarios get-relation,get-relation-typical --connections 4 --in-flight 16 | tee "$work/reads-embedded.md"
bench --data-dir "$work/index" "$replica_flag" --scenarios get-relation,get-relation-typical --connections 4 --in-flight 16 | tee "$work/reads-replica.md"
python3 - "$work/reads-embedded.md" "$work/reads-replica.md" <<'EOF'
import sys
def rows(path):
    out = {}
    for line in open(path):
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 3 and cells[2][:1].isdigit():
            out[cells[1]] = float(cells[2].split()[0].replace(",", ""))
    return out
embedded, replica = rows(sys.argv[1]), rows(sys.argv[2])
for name, value in replica.items():
    if name in embedded and "empty" not in name and "Health" not in name:
        print(f"reads, {name}: replica {value:,.0f} calls/s, embedded {embedded[name]:,.0f}: {value / embedded[name]:.2f}x")
EOF

echo "== durable writes: 1 client, then 64 (2 connections x 32), embedded then the replica"
for load in "--connections 1 --in-flight 1" "--connections 2 --in-flight 32"; do
  # shellcheck disable=SC2086
  bench --data-dir "$work/embedded" --scenarios writes $load | tee "$work/writes-embedded.md"
  # shellcheck disable=SC2086
  bench --data-dir "$work/index" "$replica_flag" --scenarios writes $load | tee "$work/writes-replica.md"
done

# Last: its writes would be counted in etcd's bytes per record above.
echo "== etcd's own figure: etcdctl check perf, loads s (50 clients) and l (1,000 clients), 60 s each"
for load in $([ -n "$quick" ] || echo s l); do
  # Its progress bar is one long line; the verdicts follow it.
  ctl check perf --load="$load" 2>&1 | tr '\r' '\n' | grep -E "PASS|FAIL" | sed "s/^/load $load: /" || true
  ctl del --prefix /etcdctl-check-perf/ >/dev/null || true
done

