#!/usr/bin/env bash
# Runs keyward's whole test suite: formatting, lints, unit tests, the storage contract suite
# and the HTTP/process integration tests (mail included, against a real SMTP server). It is
# the command README.md names and .ci/run calls.
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

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi
