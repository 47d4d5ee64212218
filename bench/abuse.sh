#!/usr/bin/env bash
# Memory under abuse (issue 17): starts a release `keyward serve` on SQLite with the default
# limits and cache, then floods it with COUNT (default 100,000) distinct unknown keys on the
# verify API and COUNT distinct malformed Bearer tokens on the management API, and prints
# the server's RSS before and after each (crates/keyward/examples/abuse_rss.rs).
#
#   bench/abuse.sh
#   COUNT=20000 bench/abuse.sh
#
# Traffic goes to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-100000}
PORT=${PORT:-9110}

echo "==> cargo build --release (keyward and the flood)"
cargo build --release -p keyward --locked --quiet
cargo build --release -p keyward --example abuse_rss --locked --quiet
BIN="$PWD/target/release/keyward"

WORK=$(mktemp -d)
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

KW=("$BIN" --data-dir "$WORK/data")
"${KW[@]}" migrate >/dev/null
TOKEN=$("${KW[@]}" admin service-token create --name flood)
RUST_LOG=warn "${KW[@]}" serve --listen "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
# A few requests first, so that "before" is a server that has served, not a cold one.
for _ in $(seq 1 20); do
  curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"key":"kw_warmup"}' "http://127.0.0.1:$PORT/api/v1/keys/verify" || true
done
echo "==> $COUNT distinct unknown keys, then $COUNT distinct bad tokens"
target/release/examples/abuse_rss "http://127.0.0.1:$PORT" "$TOKEN" "$SERVER" "$COUNT"
