#!/usr/bin/env bash
# The one command that runs every check and test of the project. It installs
# the test tools it needs into project-local places first: a Python
# virtualenv (.venv) and node_modules (tests/clients/node), all pinned.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

need() {
  command -v "$1" >/dev/null 2>&1 || {
    echo "error: '$1' is required: $2" >&2
    exit 1
  }
}

# A cold run writes several GB under target/; incremental caches would add
# about 450 MB per test binary and are of no use to a one-off run.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

need cargo "install Rust with rustup (https://rustup.rs)"
need python3 "install Python 3.9+ with venv (Debian: apt-get install python3 python3-venv)"
need node "install Node.js 18+ with npm (Debian: apt-get install nodejs npm)"
need npm "install npm (Debian: apt-get install npm)"
need git "install git (Debian: apt-get install git)"

step "disk: free space where target/ is written (a cold run leaves about 2.5 GB there, 2026-12-07)"
df -h . | tail -1

step "system tools: nginx for the proxy test, nghttp2-client for the h2load cross-check, etcd for the replicas, PostgreSQL for the peer (Debian packages)"
if [ -z "${NGINX:-}" ] && [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
  else
    echo "error: nginx is required for tests/api/nginx.rs: apt-get install nginx-light (as root), or set NGINX" >&2
    exit 1
  fi
fi
echo "nginx: $("${NGINX:-/usr/sbin/nginx}" -v 2>&1)"
if ! command -v h2load >/dev/null 2>&1 || ! command -v nghttp >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nghttp2-client >/dev/null
  else
    echo "error: h2load and nghttp are required for benches/h2load.sh: apt-get install nghttp2-client (as root)" >&2
    exit 1
  fi
fi
echo "h2load: $(h2load --version 2>&1 | head -1)"
if [ -z "${CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "error: chromium is required for the page's browser test: apt-get install chromium chromium-driver (as root), or set CHROMIUM" >&2
    exit 1
  fi
fi
echo "chromium: $("${CHROMIUM:-/usr/bin/chromium}" --version 2>&1 | head -1)"
if { [ -z "${ETCD:-}" ] && [ ! -x /usr/bin/etcd ]; } || { [ -z "${ETCDCTL:-}" ] && [ ! -x /usr/bin/etcdctl ]; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    # The package starts no server here (no systemd); the tests start their own.
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server etcd-client >/dev/null
  else
    echo "error: etcd and etcdctl are required for tests/replica/: apt-get install etcd-server etcd-client (as root), or set ETCD and ETCDCTL" >&2
    exit 1
  fi
fi
echo "etcd: $("${ETCD:-/usr/bin/etcd}" --version 2>&1 | head -1)"
# PostgreSQL 15 (server, psql, pgbench) for the PostgreSQL peer: its
# cross-check in the Python suite and benches/postgres.sh.
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || ! command -v pgbench >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    # The package's own cluster is not used: the tests start theirs (benches/postgres/peer.sh).
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "error: PostgreSQL (postgres, psql, pgbench) is required for the PostgreSQL peer: apt-get install postgresql (as root)" >&2
    exit 1
  fi
fi
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
echo "postgresql: $("$pg_bin/postgres" --version), $(pgbench --version)"

step "test tools: Python packages into .venv, npm packages into tests/clients/node/node_modules"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
(cd tests/clients/node && npm ci --no-audit --no-fund --loglevel=error)
export GRPCURL="$PWD/.venv/bin/grpcurl"
BUF="$PWD/tests/clients/node/node_modules/.bin/buf"
echo "grpcurl $("$GRPCURL" -version 2>&1 | awk '{print $2}'), buf $("$BUF" --version), node $(node --version)"

step "proto contract: buf lint (STANDARD, AIP exceptions)"
"$BUF" lint proto
echo "buf lint: clean"

step "proto contract: buf breaking (WIRE_JSON) against the API as last released (proto/baseline/)"
"$BUF" breaking proto --against proto/baseline/diplomacy-v1.json
echo "buf breaking: no wire or JSON incompatibility with proto/baseline/diplomacy-v1.json"

step "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy --workspace --all-targets --locked --features otlp -- -D warnings

step "the service builds none of its tools' dependencies"
# The load and data generators live in tools/ (a workspace member that
# depends on the service, never the reverse).
# (rand_chacha itself reaches the service through metrics-util, so only its
# direct dependencies are checked for it.)
server_tree=$(cargo tree --locked -p diplomacy -e normal,build --prefix none)
direct=$(cargo tree --locked -p diplomacy -e normal,build --prefix none --depth 1)
for tool_only in hdrhistogram diplomacy-tools; do
  if grep -q "^$tool_only " <<<"$server_tree"; then
    echo "error: the service's build depends on $tool_only, which only the tools need" >&2
    exit 1
  fi
done
for tool_direct in rand rand_chacha; do
  if grep -q "^$tool_direct " <<<"$direct"; then
    echo "error: the service depends on $tool_direct directly; only the tools need it" >&2
    exit 1
  fi
done
echo "cargo tree -p diplomacy: no hdrhistogram or diplomacy-tools; no direct rand or rand_chacha"

step "Rust suites: unit, API, grpcurl (each once)"
# Every test target but the crash harness, which runs next with its report
# shown. A new tests/<name>/ target must be added here.
cargo test --locked -p diplomacy --lib --bins --test api --test grpcurl

step "tools: the data and load generators against the real server, the storage benches once"
cargo build --locked --workspace --quiet
cargo test --locked -p diplomacy-tools --lib --bins --benches --test smoke

step "OTLP export (cargo feature otlp) to a collector started by the test"
cargo test --locked --features otlp --test otlp

step "replicas: three diplomacy processes on a three-member etcd cluster (one test at a time: each starts six processes)"
cargo test --locked --test replica -- --test-threads=1

step "crash harness (SIGKILL under concurrent writes, and during compaction; CRASH_CYCLES=${CRASH_CYCLES:-20})"
cargo test --locked --test crash -- --nocapture

step "Python client suite (grpcio, stubs generated from proto/ now)"
export DIPLOMACY_BIN="$PWD/target/debug/diplomacy"
.venv/bin/python -m pytest tests/clients/python -q

step "h2load cross-check script, smoke run on tiny data (benches/h2load.sh)"
h2_data=$(mktemp -d)
trap 'rm -rf "$h2_data"' EXIT
target/debug/diplomacy-tools generate --seed 1 --scale 0.001 --output "$h2_data/facts.jsonl"
"$DIPLOMACY_BIN" import "$h2_data/facts.jsonl" --data-dir "$h2_data/db"
bash benches/h2load.sh "$h2_data/db" countries/AM/relations/AZ 2000 | tee "$h2_data/h2load.out"
grep -qE '^== ratios: health Check [0-9.]+x the empty tonic server; GetRelation [0-9.]+x' "$h2_data/h2load.out" || {
  echo "error: benches/h2load.sh printed no ratios to the empty tonic server" >&2
  exit 1
}

step "replicated-mode bench script, smoke run on tiny data (benches/replica.sh quick: no etcd check perf, 1 s scenarios)"
bash benches/replica.sh 0.001 1 quick | tee "$h2_data/replica.out"
grep -qE '^reads, GetRelation: replica [0-9,]+ calls/s, embedded [0-9,]+: [0-9.]+x' "$h2_data/replica.out" \
  && grep -qE '^catch-up: [0-9,]+ records' "$h2_data/replica.out" \
  && grep -qE "^etcd's bytes per record: " "$h2_data/replica.out" \
  && [ "$(grep -c 'CreateEvent, durable' "$h2_data/replica.out")" = 4 ] || {
  echo "error: benches/replica.sh did not print its figures" >&2
  exit 1
}

step "PostgreSQL peer bench script, smoke run on tiny data (benches/postgres.sh: PostgreSQL 15 and pgbench beside the load generator)"
bash benches/postgres.sh 0.001 1 1 | tee "$h2_data/postgres.out"
grep -qE '^== ratios: [0-9.]+x PostgreSQL.s throughput at the same concurrency' "$h2_data/postgres.out" || {
  echo "error: benches/postgres.sh printed no ratio to PostgreSQL" >&2
  exit 1
}

step "Node.js client suite (@grpc/grpc-js + @grpc/proto-loader) and the page in headless Chromium (playwright-core)"
(cd tests/clients/node && node --test)

step "disk: what this run left under target/"
du -sh target
