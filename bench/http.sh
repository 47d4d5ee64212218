#!/usr/bin/env bash
# HTTP benchmarks on loopback with wrk (issue 15, parts c, e and f):
#
#   - keyward's POST /api/v1/keys/verify of a valid key (service token, cached key);
#   - the ceiling: a bare axum endpoint returning a constant (crates/keyward/examples/ceiling.rs);
#   - the peer: djangorestframework-api-key, started by ../shared/peers/drf-api-key/serve.sh;
#   - keyward's Bearer-authenticated GET /api/v1/users/current;
#
# each at 32 and 256 connections, with the same wrk settings, the targets alternated within
# each round, ROUNDS rounds; the median of the rounds is reported. Then key creates per
# second through POST /api/v1/api-keys on SQLite, and a plot of requests/s against
# connections (docs/http-throughput.svg).
#
#   bench/http.sh                       # 3 rounds of 10 s per cell
#   ROUNDS=1 DURATION=5s bench/http.sh  # a quick look
#   PEER=0 bench/http.sh                # without the peer (it needs PyPI the first time)
#   KW_DATABASE_URL=postgres://…/empty_db PEER=0 bench/http.sh
#                                       # keyward over PostgreSQL (an empty database) instead
#                                       # of SQLite; results go to http-postgres.{csv,md}
#
# Results: bench/results/http.csv (every run), bench/results/http.md (the medians). Installs
# wrk with apt-get when it is missing (as root on Debian), and matplotlib into
# target/bench-venv for the plot. Traffic goes to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-"32 256"}
PEER=${PEER:-1}
KW_PORT=${KW_PORT:-9100}
CEILING_PORT=${CEILING_PORT:-9101}
PEER_PORT=${PEER_PORT:-9102}
PEER_SCRIPT=${PEER_SCRIPT:-../shared/peers/drf-api-key/serve.sh}
# The peer's venv and database persist here between runs: setting them up takes minutes.
PEER_DIR=${PEER_DIR:-$PWD/target/bench-peer}

if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing wrk"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    echo "error: wrk is not installed (Debian: apt-get install wrk)" >&2
    exit 2
  fi
fi

echo "==> cargo build --release (keyward and the ceiling)"
cargo build --release -p keyward --locked --quiet
cargo build --release -p keyward --example ceiling --locked --quiet
BIN="$PWD/target/release/keyward"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# keyward on SQLite; the unlimited plan lets the creates benchmark fill each workspace to its cap.
cat >"$WORK/keyward.toml" <<EOF
default_plan = "unlimited"
auth_failures_per_minute = 1000000
EOF
RESULTS=http
if [ -n "${KW_DATABASE_URL:-}" ]; then
  echo "database_url = \"$KW_DATABASE_URL\"" >>"$WORK/keyward.toml"
  RESULTS=http-postgres
fi
KW=("$BIN" --config "$WORK/keyward.toml" --data-dir "$WORK/data")
"${KW[@]}" migrate >/dev/null
echo 'correct horse battery staple' |
  "${KW[@]}" admin user create --email bench@example.com --password-stdin --verified --workspace Bench >/dev/null
KEY=$("${KW[@]}" admin apikey create --name bench --user-id bench@example.com | sed 's/^Created: //')
TOKEN=$("${KW[@]}" admin service-token create --name bench)
# The creates benchmark spreads its creates over CREATE_WORKSPACES workspaces under the
# default cap of 50 keys each: a workspace's limit check counts its keys, so one workspace
# growing by thousands of keys would measure that count, not a create.
CREATE_WORKSPACES=${CREATE_WORKSPACES:-400}
echo "==> making $CREATE_WORKSPACES workspaces for the creates benchmark"
for i in $(seq 1 "$CREATE_WORKSPACES"); do
  echo 'correct horse battery staple' |
    "${KW[@]}" admin user create --email "create$i@example.com" --password-stdin --verified \
      --workspace "Creates $i" >/dev/null
  "${KW[@]}" admin apikey create --name creates --user-id "create$i@example.com" |
    sed 's/^Created: //'
done >"$WORK/create-keys.txt"
RUST_LOG=warn "${KW[@]}" serve --listen "127.0.0.1:$KW_PORT" >"$WORK/keyward.log" 2>&1 &
PIDS+=($!)
"$PWD/target/release/examples/ceiling" "127.0.0.1:$CEILING_PORT" >"$WORK/ceiling.log" 2>&1 &
PIDS+=($!)

wait_for() { # URL
  for _ in $(seq 1 600); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    sleep 0.5
  done
  echo "error: nothing answers at $1" >&2
  exit 1
}
wait_for "http://127.0.0.1:$KW_PORT/healthz"
wait_for "http://127.0.0.1:$CEILING_PORT/"

TARGETS="keyward-verify ceiling keyward-current"
if [ "$PEER" = 1 ]; then
  echo "==> starting the peer (the first time sets up its venv and 100,000 filler keys)"
  bash "$PEER_SCRIPT" "$PEER_PORT" "$PEER_DIR" >"$WORK/peer.log" 2>&1 &
  PIDS+=($!)
  wait_for "http://127.0.0.1:$PEER_PORT/verify"
  PEER_KEY=$(cat "$PEER_DIR/key.txt")
  TARGETS="keyward-verify ceiling peer keyward-current"
fi

# One wrk run: prints "requests_per_s p50_ms p99_ms non_2xx".
run() { # TARGET CONNECTIONS
  local target=$1 conns=$2 out
  case $target in
  keyward-verify)
    out=$(WRK_AUTH="Bearer $TOKEN" WRK_BODY="{\"key\": \"$KEY\"}" \
      wrk -t1 -c"$conns" -d"$DURATION" --latency -s bench/wrk/post.lua \
      "http://127.0.0.1:$KW_PORT/api/v1/keys/verify")
    ;;
  ceiling)
    out=$(WRK_AUTH="Bearer $TOKEN" WRK_BODY="{\"key\": \"$KEY\"}" \
      wrk -t1 -c"$conns" -d"$DURATION" --latency -s bench/wrk/post.lua \
      "http://127.0.0.1:$CEILING_PORT/verify")
    ;;
  peer)
    out=$(WRK_AUTH="Api-Key $PEER_KEY" WRK_BODY="{}" \
      wrk -t1 -c"$conns" -d"$DURATION" --latency -s bench/wrk/post.lua \
      "http://127.0.0.1:$PEER_PORT/verify")
    ;;
  keyward-current)
    out=$(WRK_AUTH="Bearer $KEY" wrk -t1 -c"$conns" -d"$DURATION" --latency \
      -s bench/wrk/get.lua "http://127.0.0.1:$KW_PORT/api/v1/users/current")
    ;;
  esac
  echo "$out" | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx/ { bad = $NF }
    END { printf "%s %.3f %.3f %s\n", rps, p50, p99, (bad == "" ? 0 : bad) }'
}

mkdir -p bench/results
CSV=bench/results/$RESULTS.csv
echo "round,target,connections,requests_per_s,p50_ms,p99_ms,non_2xx" >"$CSV"
# A short warm-up: the key enters the cache, the peer's workers start.
for target in $TARGETS; do run "$target" 32 >/dev/null || true; done
for round in $(seq 1 "$ROUNDS"); do
  for conns in $CONNECTIONS; do
    for target in $TARGETS; do
      read -r rps p50 p99 bad < <(run "$target" "$conns")
      echo "round $round  $target  c=$conns  ${rps} req/s  p50 ${p50} ms  p99 ${p99} ms  non-2xx ${bad}"
      echo "$round,$target,$conns,$rps,$p50,$p99,$bad" >>"$CSV"
    done
  done
done

# Creates per second through the API, on SQLite.
echo "==> key creates through POST /api/v1/api-keys, over $CREATE_WORKSPACES workspaces"
CREATES=$(WRK_KEYS="$WORK/create-keys.txt" \
  wrk -t1 -c8 -d"$DURATION" -s bench/wrk/create.lua "http://127.0.0.1:$KW_PORT/api/v1/api-keys")
echo "$CREATES" | grep -E 'Requests/sec|Non-2xx|requests in' | sed 's/^/    /'
CREATES_PER_S=$(echo "$CREATES" | awk '/Requests\/sec/ { print $2 }')
if echo "$CREATES" | grep -q 'Non-2xx'; then
  echo "error: some creates failed" >&2
  exit 1
fi

# The medians, as a Markdown table.
DATABASE=sqlite
[ "$RESULTS" = http ] || DATABASE=postgres
python3 - "$CSV" "$CREATES_PER_S" "$DATABASE" >"bench/results/$RESULTS.md" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
cells = {}
for r in rows:
    cells.setdefault((r["target"], int(r["connections"])), []).append(r)
print("| target | connections | requests/s (median) | p50 ms | p99 ms | non-2xx |")
print("|---|---|---|---|---|---|")
ceiling = {}
for (target, conns), rs in sorted(cells.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    med = statistics.median(float(r["requests_per_s"]) for r in rs)
    p50 = statistics.median(float(r["p50_ms"]) for r in rs)
    p99 = statistics.median(float(r["p99_ms"]) for r in rs)
    bad = sum(int(r["non_2xx"]) for r in rs)
    if target == "ceiling":
        ceiling[conns] = med
    print(f"| {target} | {conns} | {med:,.0f} | {p50:.2f} | {p99:.2f} | {bad} |")
print()
for (target, conns), rs in sorted(cells.items()):
    if target.startswith("keyward") and conns in ceiling:
        med = statistics.median(float(r["requests_per_s"]) for r in rs)
        print(f"- {target} at {conns} connections: {100 * med / ceiling[conns]:.0f} % of the ceiling")
peer = {c: statistics.median(float(r["requests_per_s"]) for r in rs) for (t, c), rs in cells.items() if t == "peer"}
for (target, conns), rs in sorted(cells.items()):
    if target == "keyward-verify" and peer.get(conns):
        med = statistics.median(float(r["requests_per_s"]) for r in rs)
        print(f"- keyward-verify at {conns} connections: {med / peer[conns]:.0f}x the peer")
print(f"- key creates through the API (wrk -t1 -c8, {sys.argv[3]}): {float(sys.argv[2]):,.0f}/s")
PY
cat "bench/results/$RESULTS.md"

if [ "$RESULTS" != http ]; then
  echo "==> wrote bench/results/$RESULTS.csv and bench/results/$RESULTS.md (no plot for this run)"
  exit 0
fi
# The plot: requests/s against connections for the three verification targets.
VENV=target/bench-venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import matplotlib' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'matplotlib>=3.8'
fi
"$VENV/bin/python" bench/plot.py "$CSV" docs/http-throughput.svg
echo "==> wrote bench/results/http.csv, bench/results/http.md and docs/http-throughput.svg"
