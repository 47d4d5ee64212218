#!/usr/bin/env bash
# Times `keyward admin import-keys` on 100,000 rows into SQLite with the release binary
# (issue 13: at most 10 s). The rows are spread over 100 workspaces (1,000 each) on the
# `unlimited` plan, with max_keys_per_workspace raised to fit them, so every row is imported
# and the limit checks still run for each one.
#
#   bench/import.sh               # 100,000 rows, 3 timed runs
#   ROWS=20000 RUNS=1 bench/import.sh
#
# Each run starts from the same seeded database (users and workspaces, no keys), copied
# fresh, so no run skips rows an earlier one imported. Timing uses hyperfine when it is
# installed (Debian: apt-get install hyperfine), else /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-100000}
WORKSPACES=${WORKSPACES:-100}
RUNS=${RUNS:-3}

echo "==> cargo build --release -p keyward"
cargo build --release -p keyward --locked --quiet
BIN="$PWD/target/release/keyward"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
CONFIG="$WORK/keyward.toml"
cat >"$CONFIG" <<EOF
default_plan = "unlimited"
max_keys_per_workspace = $(((ROWS / WORKSPACES) + 1000))
EOF

echo "==> seeding $WORKSPACES workspaces, each with an owner"
"$BIN" migrate --config "$CONFIG" --data-dir "$WORK/seed" >/dev/null
for i in $(seq 0 $((WORKSPACES - 1))); do
  "$BIN" admin user create --email "owner$i@example.com" --verified --workspace "ws-$i" \
    --config "$CONFIG" --data-dir "$WORK/seed" >/dev/null
done

echo "==> writing $ROWS rows of CSV (plaintext keys, round-robin over the workspaces)"
awk -v n="$ROWS" -v w="$WORKSPACES" 'BEGIN {
  print "workspace,name,key,scopes,created_at"
  for (i = 0; i < n; i++)
    printf "ws-%d,legacy key %d,legacy_%012d_9f8e7d6c5b4a3928,*,2024-01-01T00:00:00Z\n", i % w, i, i
}' >"$WORK/keys.csv"

PREPARE="rm -rf '$WORK/run' && cp -a '$WORK/seed' '$WORK/run'"
IMPORT="'$BIN' admin import-keys '$WORK/keys.csv' --config '$CONFIG' --data-dir '$WORK/run'"

# One run outside the timer, to check that every row is imported (a timed run that
# imported nothing would be fast for the wrong reason).
eval "$PREPARE"
SUMMARY=$(eval "$IMPORT --json")
echo "$SUMMARY" | tr -d ' \n'
echo
if ! echo "$SUMMARY" | grep -q "\"imported\": $ROWS,"; then
  echo "error: not every row was imported" >&2
  exit 1
fi

echo "==> timing $RUNS run(s) of: keyward admin import-keys ($ROWS rows)"
if command -v hyperfine >/dev/null 2>&1; then
  hyperfine --runs "$RUNS" --prepare "$PREPARE" "$IMPORT"
else
  for _ in $(seq "$RUNS"); do
    eval "$PREPARE"
    /usr/bin/time -f "%e s elapsed, %M KiB max RSS" sh -c "$IMPORT >/dev/null"
  done
fi
