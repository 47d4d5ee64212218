#!/usr/bin/env bash
# Runs keyward's whole test suite: formatting, lints, unit tests, the storage contract suite
# and the HTTP/process integration tests. It is the command README.md names and .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo is not installed; install Rust from your distribution or rustup, then rerun" >&2
  exit 2
fi

# The OpenAPI test checks the served document with a real validator, Python's
# openapi-spec-validator. It lives in a virtualenv under target/, made once; the test finds it
# through OPENAPI_VALIDATOR (and fails, saying how to install it, when it is absent).
OPENAPI_VENV=target/openapi-venv
OPENAPI_VALIDATOR="$OPENAPI_VENV/bin/openapi-spec-validator"
if [ ! -x "$OPENAPI_VALIDATOR" ]; then
  echo "==> installing openapi-spec-validator into $OPENAPI_VENV"
  mkdir -p target
  if ! command -v python3 >/dev/null 2>&1 || ! python3 -m venv "$OPENAPI_VENV" >/dev/null 2>&1; then
    rm -rf "$OPENAPI_VENV"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
      python3 -m venv "$OPENAPI_VENV"
    else
      echo "error: cannot make a Python virtualenv; install python3 and python3-venv" \
        "(Debian/Ubuntu: apt-get install python3-venv), then rerun" >&2
      exit 2
    fi
  fi
  "$OPENAPI_VENV/bin/pip" install --quiet --disable-pip-version-check "openapi-spec-validator~=0.9.0"
fi
export OPENAPI_VALIDATOR="$PWD/$OPENAPI_VALIDATOR"

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
