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
# With VIEW=basic, GetRelation asks for the BASIC view (default: the view
# left unset, which is FULL).
#
# With FLAMEGRAPH=out.svg, the server is also sampled during the GetRelation
# run (`perf record`, software clock, DWARF call stacks: Debian's
# linux-perf) and the samples drawn as a flame graph by inferno
# (`cargo install inferno --root .tools/inferno`; INFERNO names its bin dir).
set -euo pipefail

data_dir=${1:?usage: benches/h2load.sh DATA_DIR [PAIR_NAME] [REQUESTS]}
pair=${2:-countries/AM/relations/AZ}
requests=${3:-50000}
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
python3 - "$work" "$pair" "$view" <<'EOF'
import sys
work, pair, view = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
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
date = b"\x08" + varint(2020) + b"\x10\x01\x18\x01"  # google.type.Date 2020-01-01
get_relation = b"\x0a" + varint(len(pair)) + pair + b"\x12" + varint(len(date)) + date
if view == "basic":
    get_relation += b"\x18\x01"  # view = RELATION_VIEW_BASIC
open(f"{work}/health.bin", "wb").write(frame(b""))
open(f"{work}/relation.bin", "wb").write(frame(get_relation))
EOF

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
# run NAME ADDRESS PATH BODY: one call's grpc-status checked, then h2load;
# prints h2load's figures and sets `rate` to its requests a second.
run() {
  local name=$1 url="http://$2" path=$3 body=$4
  local status output
  status=$(nghttp "${headers[@]}" --data="$body" -v "$url$path" | grep -a -o 'grpc-status: [0-9]*' | tail -1)
  if [ "$status" != "grpc-status: 0" ]; then
    echo "error: $name answered '$status', not grpc-status 0" >&2
    exit 1
  fi
  echo "== $name ($path): one call checked, $status"
  output=$(h2load -n "$requests" -c 2 -m 32 "${headers[@]}" --data="$body" "$url$path")
  grep -E 'finished in|requests:|status codes|time for request' <<<"$output"
  rate=$(grep -oE '[0-9.]+ req/s' <<<"$output" | head -1 | cut -d' ' -f1)
}
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }
run "health Check, empty tonic server" "$empty_address" /grpc.health.v1.Health/Check "$work/health.bin"
empty_rate=$rate
run "health Check (baseline)" "$address" /grpc.health.v1.Health/Check "$work/health.bin"
baseline_rate=$rate
if [ -n "${FLAMEGRAPH:-}" ]; then
  inferno=${INFERNO:-.tools/inferno/bin}
  command -v perf >/dev/null && [ -x "$inferno/inferno-flamegraph" ] || {
    echo "error: FLAMEGRAPH needs perf (apt-get install linux-perf) and inferno (cargo install inferno --root .tools/inferno)" >&2
    exit 1
  }
  perf record -e cpu-clock -F 997 --call-graph dwarf,16384 -o "$work/perf.data" -p "$server" 2>"$work/perf.log" &
  perf_pid=$!
  sleep 0.5
fi
run "GetRelation $pair on 2020-01-01, $view view" "$address" /diplomacy.v1.RelationService/GetRelation "$work/relation.bin"
if [ -n "${FLAMEGRAPH:-}" ]; then
  kill -INT "$perf_pid"
  wait "$perf_pid" || true
  perf script -i "$work/perf.data" 2>/dev/null | "$inferno/inferno-collapse-perf" >"$work/folded.txt"
  "$inferno/inferno-flamegraph" --title "diplomacy: GetRelation $pair under h2load (2x32)" <"$work/folded.txt" >"$FLAMEGRAPH"
  echo "== flame graph: $FLAMEGRAPH ($(wc -l <"$work/folded.txt") distinct stacks)"
fi
echo "== ratios: health Check $(ratio "$baseline_rate" "$empty_rate")x the empty tonic server; GetRelation $(ratio "$rate" "$empty_rate")x the empty server, $(ratio "$rate" "$baseline_rate")x our health Check"
