#!/usr/bin/env bash
# diplomacy against the PostgreSQL peer (#30): the same generated dataset in
# PostgreSQL 15 (benches/postgres/: schema, loader, GetRelation as one SQL
# function), driven by pgbench with pairs and dates drawn as the load
# generator draws them, next to `diplomacy-tools bench --scenarios
# get-relation` at the same concurrency (64 calls in flight), on the same
# cores, rounds alternating. PostgreSQL is also measured at 2 clients, its
# best concurrency here, so that the comparison does not rest on its worst.
#
#   benches/postgres.sh [SCALE] [ROUNDS] [SECONDS]     # default 0.1 3 10
#
# Needs Debian's postgresql (server, psql, pgbench) and a release build
# (cargo build --release --workspace).
set -euo pipefail
cd "$(dirname "$0")/.."

scale=${1:-0.1}
rounds=${2:-3}
seconds=${3:-10}
bin=${DIPLOMACY_BIN:-target/release/diplomacy}
tools=${DIPLOMACY_TOOLS_BIN:-$(dirname "$bin")/diplomacy-tools}
peer=benches/postgres/peer.sh
for tool in psql pgbench python3; do
  command -v "$tool" >/dev/null || {
    echo "error: $tool is missing; install it with: apt-get install postgresql python3 (as root)" >&2
    exit 1
  }
done
[ -x "$bin" ] || { echo "error: $bin is missing; run: cargo build --release" >&2; exit 1; }
[ -x "$tools" ] || { echo "error: $tools is missing; run: cargo build --release --workspace" >&2; exit 1; }

work=$(mktemp -d)
trap 'bash "$peer" stop "$work/pgdata" || true; rm -rf "$work"' EXIT

"$tools" generate --seed 1 --scale "$scale" --output "$work/facts.jsonl" 2>/dev/null
"$bin" import "$work/facts.jsonl" --data-dir "$work/db" --cache-mb 128 >/dev/null 2>&1
"$bin" export --data-dir "$work/db" >"$work/export.jsonl" 2>/dev/null
"$tools" pairs --seed 1 >"$work/pairs.csv"
records=$(wc -l <"$work/export.jsonl")
npairs=$(wc -l <"$work/pairs.csv")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

bash "$peer" start "$work/pgdata" "$port" >/dev/null
started=$(date +%s.%N)
bash "$peer" load "$port" "$work/export.jsonl" "$work/pairs.csv"
loaded=$(date +%s.%N)
pg_bytes=$(psql -X -At -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "select pg_database_size('postgres')")
echo "records: $records (scale $scale); PostgreSQL loaded them in $(awk -v a="$started" -v b="$loaded" 'BEGIN {printf "%.1f", b - a}') s (schema, copy, pair tables, indexes), $((pg_bytes / 1024 / 1024)) MiB; pairs drawn from: $npairs"

# Runs pgbench with $1 clients for $2 s and prints "TPS P99_MS".
pgbench_run() {
  local clients=$1 secs=$2 log="$work/pgbench-log"
  rm -f "$log".*
  local out
  out=$(pgbench -n -h 127.0.0.1 -p "$port" -U postgres -M prepared -c "$clients" -j 2 -T "$secs" \
    -f benches/postgres/get_relation.pgbench -D npairs="$npairs" -l --log-prefix="$log" postgres 2>&1) || {
    echo "$out" >&2
    exit 1
  }
  local tps failed
  tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out")
  failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out")
  [ -n "$tps" ] && [ "${failed:-0}" = 0 ] || {
    echo "error: pgbench reported no rate or failed transactions:" >&2
    echo "$out" >&2
    exit 1
  }
  # The per-transaction log: the third column is the latency in µs.
  local p99
  p99=$(cat "$log".* | awk '{print $3}' | sort -n | awk '{v[NR]=$1} END {i=int(NR*0.99); if (i<1) i=1; printf "%.1f", v[i]/1000}')
  echo "$tps $p99"
}

# Runs diplomacy's GetRelation scenario for $1 s and prints "CALLS_PER_S P99_MS".
diplomacy_run() {
  local out row
  out=$("$tools" bench --data-dir "$work/db" --server-bin "$bin" --seed 1 --scenarios get-relation \
    --connections 2 --in-flight 32 --duration-secs "$1" --rounds 1 --cache-mb 128 2>/dev/null)
  row=$(grep '^| GetRelation |' <<<"$out") || {
    echo "error: diplomacy-tools bench printed no GetRelation row:" >&2
    echo "$out" >&2
    exit 1
  }
  awk -F'|' '{gsub(/ /, ""); printf "%s %.1f\n", $3, $7 / 1000}' <<<"$row"
}

pgbench_run 64 2 >/dev/null # warms PostgreSQL's buffers and plan caches
: >"$work/rounds"
for round in $(seq 1 "$rounds"); do
  read -r pg_tps pg_p99 < <(pgbench_run 64 "$seconds")
  read -r best_tps best_p99 < <(pgbench_run 2 "$seconds")
  read -r our_tps our_p99 < <(diplomacy_run "$seconds")
  printf 'round %s: PostgreSQL 64 clients %.0f tx/s p99 %s ms; 2 clients %.0f tx/s p99 %s ms; diplomacy 2x32 %s calls/s p99 %s ms\n' \
    "$round" "$pg_tps" "$pg_p99" "$best_tps" "$best_p99" "$our_tps" "$our_p99"
  echo "$pg_tps $pg_p99 $best_tps $best_p99 $our_tps $our_p99" >>"$work/rounds"
done

python3 - "$work/rounds" <<'EOF2'
import statistics, sys
rows = [list(map(float, line.split())) for line in open(sys.argv[1])]
pg, pg99, best, best99, ours, ours99 = (statistics.median(col) for col in zip(*rows))
print(f"== median of {len(rows)} rounds: diplomacy {ours:,.0f} calls/s p99 {ours99:.1f} ms; "
      f"PostgreSQL at 64 clients {pg:,.0f} tx/s p99 {pg99:.1f} ms, at 2 clients {best:,.0f} tx/s p99 {best99:.1f} ms")
print(f"== ratios: {ours / pg:.2f}x PostgreSQL's throughput at the same concurrency (p99 {ours99 / pg99:.2f}x its p99); "
      f"{ours / best:.2f}x its throughput at 2 clients")
EOF2
