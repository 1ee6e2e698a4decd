#!/usr/bin/env bash
# Cross-check of one unary scenario with h2load (Debian `nghttp2-client`):
# the health Check and GetRelation of one pair, each as a fixed gRPC frame,
# against a server on a data dir made by `diplomacy import`. h2load counts
# HTTP statuses only; gRPC success is in the `grpc-status` trailer, so one
# call of each is first made with `nghttp` and its trailer checked.
#
#   benches/h2load.sh DATA_DIR [PAIR_NAME] [REQUESTS]
set -euo pipefail

data_dir=${1:?usage: benches/h2load.sh DATA_DIR [PAIR_NAME] [REQUESTS]}
pair=${2:-countries/AM/relations/AZ}
requests=${3:-50000}
bin=${DIPLOMACY_BIN:-target/release/diplomacy}
for tool in h2load nghttp python3; do
  command -v "$tool" >/dev/null || {
    echo "error: $tool is missing; install it with: apt-get install nghttp2-client python3" >&2
    exit 1
  }
done
[ -x "$bin" ] || { echo "error: $bin is missing; run: cargo build --release" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

# gRPC frames: a zero flag byte, a big-endian length, the protobuf message.
python3 - "$work" "$pair" <<'EOF'
import sys
work, pair = sys.argv[1], sys.argv[2].encode()
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
open(f"{work}/health.bin", "wb").write(frame(b""))
open(f"{work}/relation.bin", "wb").write(frame(get_relation))
EOF

DIPLOMACY_TOKEN=h2load-0123456789abcdef DIPLOMACY_MAX_CONCURRENT_CALLS=100000 \
  RUST_LOG=warn \
  "$bin" serve --listen 127.0.0.1:0 --data-dir "$data_dir" --cache-mb 128 \
  --ready-file "$work/ready.json" --drain-delay-secs 0 2>"$work/server.log" &
server=$!
# The ready file (`serve --ready-file`) names the address; measured as a
# server that has been up a while, as `diplomacy-tools bench` does: once
# the file says the relation cache is no longer warming (seconds at full
# scale, loading pairs on the same two cores).
address=$(python3 - "$work/ready.json" "$server" <<'EOF'
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
) || { cat "$work/server.log" >&2; exit 1; }

url="http://$address"
headers=(-H 'content-type: application/grpc' -H 'te: trailers')
run() {
  local name=$1 path=$2 body=$3
  local status
  status=$(nghttp "${headers[@]}" --data="$body" -v "$url$path" | grep -a -o 'grpc-status: [0-9]*' | tail -1)
  if [ "$status" != "grpc-status: 0" ]; then
    echo "error: $name answered '$status', not grpc-status 0" >&2
    exit 1
  fi
  echo "== $name ($path): one call checked, $status"
  h2load -n "$requests" -c 2 -m 32 "${headers[@]}" --data="$body" "$url$path" |
    grep -E 'finished in|requests:|status codes|time for request'
}
run "health Check (baseline)" /grpc.health.v1.Health/Check "$work/health.bin"
run "GetRelation $pair on 2020-01-01" /diplomacy.v1.RelationService/GetRelation "$work/relation.bin"
