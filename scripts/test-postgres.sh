#!/usr/bin/env bash
# Sourced by scripts/test.sh: finds a PostgreSQL server for the tests, or makes one, and
# exports KEYWARD_TEST_POSTGRES_URL (an admin URL whose role may create databases).
#
#   1. KEYWARD_TEST_POSTGRES_URL, when set, is used as it is.
#   2. Otherwise a server already running at 127.0.0.1:5432 that lets `postgres` in without a
#      password (trust auth, as on a developer's or CI machine) is used.
#   3. Otherwise the tests run their own server: PostgreSQL is installed with apt-get when
#      its binaries are missing (as root on Debian), and a private cluster with trust auth
#      on loopback only is made once under $KEYWARD_TEST_PG_DIR (default
#      /tmp/keyward-test-pg) and started on port 54329. It keeps running after the tests, so
#      the next run starts at once; `pg_ctl -D /tmp/keyward-test-pg stop` (as postgres)
#      stops it.

pg_answers() { # URL
  psql "$1" -qAtc 'SELECT 1' >/dev/null 2>&1
}

pg_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing PostgreSQL (for the PostgreSQL backend's tests)"
    apt_install postgresql
  else
    echo "error: the tests need PostgreSQL; install it (Debian/Ubuntu: apt-get install" \
      "postgresql) or set KEYWARD_TEST_POSTGRES_URL to a server where you may create" \
      "databases, then rerun" >&2
    exit 2
  fi
}

pg_private_cluster() {
  local dir=${KEYWARD_TEST_PG_DIR:-/tmp/keyward-test-pg} port=54329 bin owner
  local url="postgres://postgres@127.0.0.1:$port/postgres"
  if pg_answers "$url"; then
    KEYWARD_TEST_POSTGRES_URL=$url
    return
  fi
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    pg_install
  fi
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  # PostgreSQL refuses to run as root; its package made the postgres user.
  owner=postgres
  as_owner() { if [ "$(id -un)" = "$owner" ]; then "$@"; else runuser -u "$owner" -- "$@"; fi; }
  if [ ! -f "$dir/PG_VERSION" ]; then
    echo "==> making a private PostgreSQL cluster in $dir"
    mkdir -p "$dir"
    chown "$owner" "$dir"
    as_owner "$bin/initdb" -D "$dir" -U postgres --auth=trust >/dev/null
  fi
  echo "==> starting the private PostgreSQL on 127.0.0.1:$port"
  as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $dir" start >/dev/null
  if ! pg_answers "$url"; then
    echo "error: the private PostgreSQL did not start; see $dir/server.log" >&2
    exit 1
  fi
  KEYWARD_TEST_POSTGRES_URL=$url
}

if ! command -v psql >/dev/null 2>&1; then
  pg_install
fi
if [ -n "${KEYWARD_TEST_POSTGRES_URL:-}" ]; then
  if ! pg_answers "$KEYWARD_TEST_POSTGRES_URL"; then
    echo "error: KEYWARD_TEST_POSTGRES_URL does not answer (psql could not run SELECT 1)" >&2
    exit 2
  fi
elif pg_answers "postgres://postgres@127.0.0.1:5432/postgres"; then
  KEYWARD_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/postgres"
else
  pg_private_cluster
fi
export KEYWARD_TEST_POSTGRES_URL
echo "==> PostgreSQL for the tests: $KEYWARD_TEST_POSTGRES_URL"

# Drops the databases of binary-run tests, which no guard drops (support/postgres.rs), and
# any a killed run left behind; the migrated templates stay for the next run.
# Writes every row of every test database left (those of the `keyward` binary's runs; the
# tests dump their own as they drop them) into $1, one file per database, for the leak scan.
pg_dump_test_databases() {
  local out="$1"
  mkdir -p "$out"
  psql "$KEYWARD_TEST_POSTGRES_URL" -qAt -c \
    "SELECT datname FROM pg_database WHERE datname LIKE 'kwt\_%' AND datname NOT LIKE 'kwt\_template\_%'" |
    while read -r name; do
      psql "$KEYWARD_TEST_POSTGRES_URL" -qAt -v ON_ERROR_STOP=1 -o "$out/$name.rows" <<SQL
\\c "$name"
SELECT format('SELECT %L || E''\\t'' || row_to_json(t)::text FROM public.%I t', tablename, tablename)
  FROM pg_tables WHERE schemaname = 'public' \\gexec
SQL
    done
}

pg_drop_test_databases() {
  psql "$KEYWARD_TEST_POSTGRES_URL" -qAt -c \
    "SELECT datname FROM pg_database WHERE datname LIKE 'kwt\_%' AND datname NOT LIKE 'kwt\_template\_%'" |
    while read -r name; do
      psql "$KEYWARD_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null
    done
}
