#!/usr/bin/env bash
# Cross-check of one unary scenario with h2load (Debian `nghttp2-client`):
# the health Check of an empty tonic server (`diplomacy-tools empty-server`),
# our own health Check and GetRelation of one pair, each as a fixed gRPC frame,
# against a server on a data dir made by `diplomacy import`. h2load counts
# HTTP statuses only; gRPC success is in the `grpc-status` trailer, so one
# call of each is first made with `nghttp` and its trailer checked.
#
#   benches/h2load.sh DATA_DIR [PAIR_NAME] [REQUESTS]
#
# Each figure is the median of ROUNDS (default 3) rounds of REQUESTS calls
# a run (default 300,000: runs of 50,000 last half a second, within the
# machine's drift), the three kinds of run alternating as the load
# generator's do; beside calls a second, the server's CPU a call (all its
# threads', from schedstat) during each run.
#
# With VIEW=basic, GetRelation asks for the BASIC view (default: the view
# left unset, which is FULL). AS_OF is its date (default 2020-01-01), or
# `spread`: 1 July of every fifth year from 1945 to 2025, the span the load
# generator draws its dates from, the calls split evenly among them.
#
# With FLAMEGRAPH=out.svg, the server is also sampled during the last round's
# GetRelation run (`perf record`, software clock, DWARF call stacks: Debian's
# linux-perf) and the samples drawn as a flame graph by inferno
# (`cargo install inferno --root .tools/inferno`; INFERNO names its bin dir).
set -euo pipefail

data_dir=${1:?usage: benches/h2load.sh DATA_DIR [PAIR_NAME] [REQUESTS]}
pair=${2:-countries/AM/relations/AZ}
requests=${3:-300000}
bin=${DIPLOMACY_BIN:-target/release/diplomacy}
tools=${DIPLOMACY_TOOLS_BIN:-$(dirname "$bin")/diplomacy-tools}
for tool in h2load nghttp python3; do
  command -v "$tool" >/dev/null || {
    echo "error: $tool is missing; install it with: apt-get install nghttp2-client python3" >&2
    exit 1
  }
done
[ -x "$bin" ] || { echo "error: $bin is missing; run: cargo build --release" >&2; exit 1; }
[ -x "$tools" ] || { echo "error: $tools is missing; run: cargo build --release --workspace" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill "$server" "${empty:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

# gRPC frames: a zero flag byte, a big-endian length, the protobuf message.
view=${VIEW:-full}
case "$view" in
  full | basic) ;;
  *) echo "error: VIEW is full or basic, not $view" >&2; exit 2 ;;
esac
as_of=${AS_OF:-2020-01-01}
python3 - "$work" "$pair" "$view" "$as_of" <<'EOF'
import re, sys
work, pair, view, as_of = sys.argv[1], sys.argv[2].encode(), sys.argv[3], sys.argv[4]
def frame(msg):
    return bytes([0]) + len(msg).to_bytes(4, "big") + msg
def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)
if as_of == "spread":
    # The load generator's span (it draws a year in 1945-2025): 1 July
    # of every fifth year.
    dates = [(year, 7, 1) for year in range(1945, 2026, 5)]
elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", as_of):
    dates = [tuple(int(part) for part in as_of.split("-"))]
else:
    sys.exit(f"error: AS_OF is a date such as 2020-01-01 or 'spread', not {as_of!r}")
for i, (year, month, day) in enumerate(dates):
    date = b"\x08" + varint(year) + b"\x10" + varint(month) + b"\x18" + varint(day)  # google.type.Date
    get_relation = b"\x0a" + varint(len(pair)) + pair + b"\x12" + varint(len(date)) + date
    if view == "basic":
        get_relation += b"\x18\x01"  # view = RELATION_VIEW_BASIC
    open(f"{work}/relation-{i:02}.bin", "wb").write(frame(get_relation))
open(f"{work}/health.bin", "wb").write(frame(b""))
EOF
relations=("$work"/relation-*.bin)

# Waits for a ready file (`serve --ready-file`) naming process $2, with its
# relation cache no longer warming, and prints its gRPC address: measured
# as a server that has been up a while, as `diplomacy-tools bench` does.
wait_ready() {
  python3 - "$1" "$2" <<'EOF'
import json, os, sys, time
path, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    try:
        with open(path) as file:
            ready = json.load(file)
        if ready["pid"] == pid and ready["relation_cache"] != "warming":
            print(ready["grpc"])
            sys.exit(0)
    except (FileNotFoundError, json.JSONDecodeError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("the server exited before it was ready")
    time.sleep(0.05)
sys.exit("the server was not ready with a warm relation cache within 120 s")
EOF
}

DIPLOMACY_TOKEN=h2load-0123456789abcdef DIPLOMACY_MAX_CONCURRENT_CALLS=100000 \
  RUST_LOG=warn \
  "$bin" serve --listen 127.0.0.1:0 --data-dir "$data_dir" --cache-mb 128 \
  --ready-file "$work/ready.json" --drain-delay-secs 0 2>"$work/server.log" &
server=$!
address=$(wait_ready "$work/ready.json" "$server") || { cat "$work/server.log" >&2; exit 1; }
# The physical limit: tonic-health's Check with no layer of ours
# (`diplomacy-tools empty-server`), every call's second ratio.
"$tools" empty-server --ready-file "$work/empty.json" 2>"$work/empty.log" &
empty=$!
empty_address=$(wait_ready "$work/empty.json" "$empty") || { cat "$work/empty.log" >&2; exit 1; }

headers=(-H 'content-type: application/grpc' -H 'te: trailers')
# CPU time of process $1 so far, all its threads', in nanoseconds.
cpu_ns() {
  python3 -c '
import glob, sys
print(sum(int(open(p).read().split()[0]) for p in glob.glob(f"/proc/{sys.argv[1]}/task/*/schedstat")))
' "$1"
}
# check NAME ADDRESS PATH BODY: one call made with nghttp, its grpc-status 0.
check() {
  local status
  status=$(nghttp "${headers[@]}" --data="$4" -v "http://$2$3" | grep -a -o 'grpc-status: [0-9]*' | tail -1)
  if [ "$status" != "grpc-status: 0" ]; then
    echo "error: $1 answered '$status', not grpc-status 0" >&2
    exit 1
  fi
  echo "== $1 ($3): one call checked, $status"
}
# run SERIES PID ADDRESS PATH BODY...: one h2load run against process PID
# for each body, the REQUESTS calls split evenly among them; appends the
# calls a second over them all and the server's CPU microseconds a call to
# the file $work/SERIES.
run() {
  local series=$1 pid=$2 url="http://$3" path=$4
  shift 4
  local each=$((requests / $#)) before after output rates=()
  before=$(cpu_ns "$pid")
  for body in "$@"; do
    output=$(h2load -n "$each" -c 2 -m 32 "${headers[@]}" --data="$body" "$url$path")
    if ! grep -qE "requests: .* $each succeeded" <<<"$output" \
      || ! grep -qE "status codes: $each 2xx" <<<"$output"; then
      echo "error: not every call of the $series run succeeded:" >&2
      grep -E 'requests:|status codes' <<<"$output" >&2
      exit 1
    fi
    rates+=("$(grep -oE '[0-9.]+ req/s' <<<"$output" | head -1 | cut -d' ' -f1)")
  done
  after=$(cpu_ns "$pid")
  # Calls a second over the whole run: each part's time is its calls over
  # its rate.
  python3 -c '
import sys
each, before, after, rates = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
calls = each * len(rates)
print(calls / sum(each / float(rate) for rate in rates), (after - before) / 1000 / calls)
' "$each" "$before" "$after" "${rates[@]}" | tee -a "$work/$series" \
    | { read -r rate _; printf '   %-8s %12.0f calls/s\n' "$series" "$rate"; }
}
# profile_start / profile_stop: perf samples the server for a flame graph.
profile_start() {
  inferno=${INFERNO:-.tools/inferno/bin}
  command -v perf >/dev/null && [ -x "$inferno/inferno-flamegraph" ] || {
    echo "error: FLAMEGRAPH needs perf (apt-get install linux-perf) and inferno (cargo install inferno --root .tools/inferno)" >&2
    exit 1
  }
  perf record -e cpu-clock -F 997 --call-graph dwarf,16384 -o "$work/perf.data" -p "$server" 2>"$work/perf.log" &
  perf_pid=$!
  sleep 0.5
}
profile_stop() {
  kill -INT "$perf_pid"
  wait "$perf_pid" || true
  perf script -i "$work/perf.data" 2>/dev/null | "$inferno/inferno-collapse-perf" >"$work/folded.txt"
  "$inferno/inferno-flamegraph" --title "diplomacy: GetRelation $pair under h2load (2x32)" <"$work/folded.txt" >"$FLAMEGRAPH"
  echo "   flame graph: $FLAMEGRAPH ($(wc -l <"$work/folded.txt") distinct stacks; perf's own cost is in this run's figures)"
}

health_path=/grpc.health.v1.Health/Check
relation_path=/diplomacy.v1.RelationService/GetRelation
check "health Check, empty tonic server" "$empty_address" "$health_path" "$work/health.bin"
check "health Check (baseline)" "$address" "$health_path" "$work/health.bin"
for body in "${relations[@]}"; do
  check "GetRelation $pair, $view view, $(basename "$body")" "$address" "$relation_path" "$body"
done
rounds=${ROUNDS:-3}
echo "== $rounds rounds of $requests calls a run, 2 connections x 32 in flight; GetRelation as of $as_of (${#relations[@]} date(s))"
for round in $(seq 1 "$rounds"); do
  echo "-- round $round"
  # Each kind of run goes first, second and third in turn, so that the
  # machine's drift within a round falls on each alike.
  for slot in 0 1 2; do
    case $(((round + slot) % 3)) in
      0) run empty "$empty" "$empty_address" "$health_path" "$work/health.bin" ;;
      1) run health "$server" "$address" "$health_path" "$work/health.bin" ;;
      2)
        [ -n "${FLAMEGRAPH:-}" ] && [ "$round" = "$rounds" ] && profile_start
        run relation "$server" "$address" "$relation_path" "${relations[@]}"
        [ -n "${perf_pid:-}" ] && profile_stop
        ;;
    esac
  done
done
# The median of each series, and the ratios of the medians: calls a second
# (more is better) and the server's CPU a call (less is better).
python3 - "$work" <<'EOF'
import statistics, sys
work = sys.argv[1]
def median(name):
    rows = [line.split() for line in open(f"{work}/{name}")]
    return statistics.median(float(r[0]) for r in rows), statistics.median(float(r[1]) for r in rows)
empty, health, relation = median("empty"), median("health"), median("relation")
for name, (rate, cpu) in (
    ("the empty tonic server's health Check", empty),
    ("our health Check", health),
    ("GetRelation", relation),
):
    print(f"== median, {name}: {rate:,.0f} calls/s, {cpu:.1f} us of server CPU a call")
print(f"== ratios: health Check {health[0] / empty[0]:.2f}x the empty tonic server; "
      f"GetRelation {relation[0] / empty[0]:.2f}x the empty server, {relation[0] / health[0]:.2f}x our health Check")
print(f"== server CPU a call: health Check {health[1] / empty[1]:.2f}x the empty server's; GetRelation {relation[1] / empty[1]:.2f}x")
EOF
