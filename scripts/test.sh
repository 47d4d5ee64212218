#!/usr/bin/env bash
# Runs keyward's whole test suite: formatting, lints, unit tests, the storage contract suite,
# the HTTP/process integration tests (mail included, against a real SMTP server), API fuzzing
# against the OpenAPI document (schemathesis), and the console's browser tests in headless
# Chromium. It is the command README.md names and .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo is not installed; install Rust from your distribution or rustup, then rerun" >&2
  exit 2
fi

# Two tests use Python packages from PyPI, kept in one virtualenv under target/, made once:
# the OpenAPI test checks the served document with a real validator, openapi-spec-validator,
# and the mail tests deliver to a real SMTP server on loopback, aiosmtpd. The packages are
# checked by importing them, so a virtualenv made before a package was added gets it too.
# The tests find them through OPENAPI_VALIDATOR and TEST_PYTHON (and fail, saying how to
# install them, when they are absent).
TEST_VENV=target/openapi-venv
TEST_PYTHON="$TEST_VENV/bin/python"
OPENAPI_VALIDATOR="$TEST_VENV/bin/openapi-spec-validator"
if [ ! -x "$TEST_PYTHON" ]; then
  echo "==> making the test virtualenv $TEST_VENV"
  mkdir -p target
  if ! command -v python3 >/dev/null 2>&1 || ! python3 -m venv "$TEST_VENV" >/dev/null 2>&1; then
    rm -rf "$TEST_VENV"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
      python3 -m venv "$TEST_VENV"
    else
      echo "error: cannot make a Python virtualenv; install python3 and python3-venv" \
        "(Debian/Ubuntu: apt-get install python3-venv), then rerun" >&2
      exit 2
    fi
  fi
fi
if [ ! -x "$OPENAPI_VALIDATOR" ] || ! "$TEST_PYTHON" -c 'import aiosmtpd' >/dev/null 2>&1; then
  echo "==> installing openapi-spec-validator and aiosmtpd into $TEST_VENV"
  "$TEST_PYTHON" -m pip install --quiet --disable-pip-version-check \
    "openapi-spec-validator~=0.9.0" "aiosmtpd~=1.4"
fi
export OPENAPI_VALIDATOR="$PWD/$OPENAPI_VALIDATOR"
export TEST_PYTHON="$PWD/$TEST_PYTHON"

# The browser tests (tests/browser/) drive Debian's Chromium with playwright-core from npm,
# run by Node's own test runner. Playwright's browser download is not used: the browser is
# /usr/bin/chromium. Install what is missing, as root on Debian; say what to do otherwise.
apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    if [ -z "${APT_UPDATED:-}" ]; then
      apt-get update -qq
      APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "error: the tests need $*; install them (Debian/Ubuntu: apt-get install $*), then rerun" >&2
    exit 2
  fi
}
# The wire-profile tests run each seed doc's curl examples as written, with the real curl.
if ! command -v curl >/dev/null 2>&1; then
  echo "==> installing curl (for the wire-profile tests)"
  apt_install curl
fi
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "==> installing chromium (for the browser tests)"
  apt_install chromium
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "==> installing nodejs and npm (for the browser tests)"
  apt_install nodejs npm
fi
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
if [ "$NODE_MAJOR" -lt 20 ]; then
  echo "error: the browser tests need Node.js 20 or newer (playwright-core requires it); this is" \
    "$(node --version). Install Node.js 20+ (e.g. Debian 13's nodejs), then rerun" >&2
  exit 2
fi
# npm ci when node_modules is missing or older than the lock file (npm ci writes
# node_modules/.package-lock.json, so its age is the install's).
if [ ! -f tests/browser/node_modules/.package-lock.json ] ||
  [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
  echo "==> npm ci in tests/browser"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

# PostgreSQL: the store contract suite, the multi-node test and the second pass below run
# against it. Uses the one already running when it can, else starts (or installs) one.
# shellcheck source=scripts/test-postgres.sh
source scripts/test-postgres.sh

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

if ! cargo nextest --version >/dev/null 2>&1; then
  echo "==> installing cargo-nextest (the test runner: one process per test)"
  cargo install --locked cargo-nextest
fi

echo "==> tests (SQLite; the store contract and the multi-node test on PostgreSQL too)"
# Every secret the tests are issued, and every log line (JSON, debug level), database file,
# mail and /metrics text of their servers, are kept here for the leak scan below.
LEAKS="$PWD/target/leak-scan"
rm -rf "$LEAKS"
KEYWARD_TEST_LEAKS="$LEAKS" cargo nextest run --workspace --locked --no-fail-fast

echo "==> leak scan: no secret issued may appear in a log, a database, a mail or the metrics"
python3 scripts/leak-scan.py --self-test
python3 scripts/leak-scan.py "$LEAKS"
rm -rf "$LEAKS"

echo "==> the HTTP and process tests again, over PostgreSQL (.config/nextest.toml says which)"
# With the same leak scan: the databases' rows stand in for SQLite's files.
KEYWARD_TEST_LEAKS="$LEAKS" KEYWARD_TEST_BACKEND=postgres \
  cargo nextest run -p keyward --profile postgres --locked --no-fail-fast
pg_dump_test_databases "$LEAKS/data"
pg_drop_test_databases
echo "==> leak scan of the PostgreSQL pass"
python3 scripts/leak-scan.py "$LEAKS"
rm -rf "$LEAKS"

echo "==> API fuzzing: schemathesis against the OpenAPI document of a live keyward (2 minutes)"
scripts/schemathesis.sh

echo "==> browser tests (headless Chromium against a debug keyward)"
cargo build -p keyward --locked
rm -rf target/screenshots/failures
if ! KEYWARD_BIN="$PWD/target/debug/keyward" CHROMIUM_PATH="$CHROMIUM" \
  node --test --test-concurrency=1 --test-reporter=spec tests/browser/; then
  echo "error: browser tests failed (above: each failing step, with keyward's last log lines);" \
    "the pages as they were are in target/screenshots/failures/, every page in target/screenshots/" >&2
  exit 1
fi

# Fuzzing (docs/fuzzing.md): the fuzz targets are built, every committed corpus input is
# replayed, and each target is fuzzed for a bounded time. The bound is what keeps this step
# to a few minutes of CI (2 cores): TEST_FUZZ_SECONDS per target, 20 by default, on top of
# the build. A long run is `FUZZ_SECONDS=600 scripts/fuzz.sh`.
TEST_FUZZ_SECONDS="${TEST_FUZZ_SECONDS:-20}"
echo "==> fuzzing (${TEST_FUZZ_SECONDS}s per target)"
FUZZ_SECONDS="$TEST_FUZZ_SECONDS" ./scripts/fuzz.sh
