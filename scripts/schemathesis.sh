#!/usr/bin/env bash
# API fuzzing against keyward's own OpenAPI document (issue 17, item 3; docs/api-fuzzing.md).
# schemathesis reads /api/v1/openapi.json from a live debug keyward, generates requests from
# it, valid and invalid, and checks every answer against the document with all its checks
# on; its stateful phase then chains operations through the document's links (create a key,
# then read, edit, rotate, revoke and delete it). Any failure fails the script: a 5xx, a
# status, header or body the document does not describe, a valid request refused or an
# invalid one accepted.
#
#   scripts/schemathesis.sh                    # the CI budget: about 2.5 minutes in all
#   MAX_TIME=600 scripts/schemathesis.sh       # a longer look
#   SEED=42 scripts/schemathesis.sh            # replay a run's generation (its seed is printed)
#   KW_DATABASE_URL=postgres://…/empty_db scripts/schemathesis.sh   # over PostgreSQL
#
# Installs schemathesis (pinned) into target/st-venv on first run. The server runs on a
# temporary data directory, on 127.0.0.1 only, and is stopped on exit. The configuration
# (credentials, known ids, the one tuning) is tests/schemathesis/schemathesis.toml and the
# hooks tests/schemathesis/hooks.py, each with its reasons; the reports (JUnit, and every
# request and answer as NDJSON) go to target/schemathesis/.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
# Fuzzing and the stateful phase repeat until MAX_TIME is spent; MAX_EXAMPLES bounds each
# operation's cases per round.
MAX_EXAMPLES=${MAX_EXAMPLES:-25}
MAX_TIME=${MAX_TIME:-120}
VENV=target/st-venv
REPORT_DIR=target/schemathesis

if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
  echo "==> installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  mkdir -p target
  rm -rf "$VENV"
  if ! python3 -m venv "$VENV"; then
    echo "error: cannot make a Python virtualenv; install python3 and python3-venv" \
      "(Debian/Ubuntu: apt-get install python3-venv), then rerun" >&2
    exit 2
  fi
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION"
fi

echo "==> cargo build -p keyward (debug)"
cargo build -p keyward --locked --quiet
BIN="$PWD/target/debug/keyward"

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# A port nobody holds now; the server binds it a moment later.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"

# The fuzzer sends bad credentials and wrong passwords by the thousand (its ignored_auth
# check, the log-in operation), so the failure limits are raised out of its way; and it
# creates a key for every create it generates, so the hard cap is raised too, or every
# create after the 50th would be the (documented) 409 and little would reach a live key.
cat >"$WORK/keyward.toml" <<EOF
auth_failures_per_minute = 1000000
login_failures_per_minute = 1000000
max_keys_per_workspace = 100000
EOF
if [ -n "${KW_DATABASE_URL:-}" ]; then
  echo "database_url = \"$KW_DATABASE_URL\"" >>"$WORK/keyward.toml"
fi
# A product catalog, so that the scope schemas have product scopes to describe.
export KEYWARD_SCOPES="apps:read,apps:deploy,billing:read"
KW=("$BIN" --config "$WORK/keyward.toml" --data-dir "$WORK/data")
"${KW[@]}" migrate >/dev/null
echo 'correct horse battery staple' |
  "${KW[@]}" admin user create --email owner@example.com --password-stdin --verified \
    --workspace Fuzz >/dev/null
API_KEY=$("${KW[@]}" admin apikey create --name schemathesis --user-id owner@example.com |
  sed 's/^Created: //')
# A second key, so that a listing of one key per page has a next page, and so a cursor.
"${KW[@]}" admin apikey create --name second --user-id owner@example.com >/dev/null
SERVICE_TOKEN=$("${KW[@]}" admin service-token create --name schemathesis 2>/dev/null)
RUST_LOG=warn "${KW[@]}" serve --listen "127.0.0.1:$PORT" >"$WORK/keyward.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
  curl -s -o /dev/null "$BASE/healthz" && break
  sleep 0.1
done

# The owner's workspace, user id and key id, and a cursor the server issued: the
# configuration and the hooks take them from KW_*.
read -r WORKSPACE_ID OWNER_ID API_KEY_ID < <(curl -sf "$BASE/api/v1/users/current" \
  -H "Authorization: Bearer $API_KEY" | python3 -c 'import json, sys
me = json.load(sys.stdin)
print(me["workspace"]["id"], me["user"]["id"], me["auth"]["key_id"])') || true
CURSOR=$(curl -sf -D - -o /dev/null "$BASE/api/v1/api-keys?limit=1" \
  -H "Authorization: Bearer $API_KEY" |
  sed -n 's/^[Ll]ink: <[^>]*cursor=\([^&>]*\).*/\1/p')
if [ -z "${API_KEY_ID:-}" ] || [ -z "$CURSOR" ]; then
  echo "error: keyward did not answer as expected at $BASE; its log:" >&2
  tail -n 20 "$WORK/keyward.log" >&2
  exit 1
fi
export KW_API_KEY="$API_KEY" KW_SERVICE_TOKEN="$SERVICE_TOKEN" KW_WORKSPACE_ID="$WORKSPACE_ID" \
  KW_OWNER_ID="$OWNER_ID" KW_API_KEY_ID="$API_KEY_ID" KW_CURSOR="$CURSOR"

echo "==> schemathesis $SCHEMATHESIS_VERSION: all checks, all phases, up to $MAX_EXAMPLES" \
  "cases per operation and round, ${MAX_TIME}s"
rm -rf "$REPORT_DIR"
SEED_ARGS=()
if [ -n "${SEED:-}" ]; then SEED_ARGS=(--seed "$SEED"); fi
# One worker: with two, hypothesis (Python 3.11) parses source from two threads at once and
# now and then fails inside CPython's ast module, an error of the tool, not of keyward; and
# the machine running the suite has two cores, one of them the server's.
status=0
"$VENV/bin/schemathesis" --config-file tests/schemathesis/schemathesis.toml \
  run "$BASE/api/v1/openapi.json" \
  --checks all \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "$MAX_EXAMPLES" \
  --max-time "$MAX_TIME" \
  --workers 1 \
  --report junit,ndjson --report-dir "$REPORT_DIR" \
  "${SEED_ARGS[@]}" || status=$?
if [ "$status" != 0 ]; then
  echo "error: schemathesis found failures (above, each with a curl command that repeats" \
    "it); the server's last log lines:" >&2
  tail -n 40 "$WORK/keyward.log" >&2
  exit "$status"
fi
