#!/usr/bin/env bash
# Fuzzes keyward (docs/fuzzing.md): builds the libFuzzer targets in fuzz/, replays each
# target's committed corpus (fuzz/corpus/<target>/), then fuzzes each target for
# FUZZ_SECONDS seconds (default 60). Fails if any input crashes, panics, hangs or breaks a
# property. scripts/test.sh calls it with a short bound; a long run is
#
#   FUZZ_SECONDS=600 scripts/fuzz.sh
#
# FUZZ_TARGETS="key_format" limits it to some targets. A crashing input is saved under
# fuzz/artifacts/<target>/; replay it with `fuzz/target/x86_64-unknown-linux-gnu/release/<target> FILE`.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
read -r -a TARGETS <<<"${FUZZ_TARGETS:-key_format native_bodies compat_bodies}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz (the libFuzzer driver for cargo)"
  cargo install --locked cargo-fuzz
fi

# cargo fuzz passes rustc the flags of LLVM's coverage instrumentation, which only a nightly
# compiler takes by default; RUSTC_BOOTSTRAP=1 lets the stable toolchain (the only one this
# project's machines have) take them.
export RUSTC_BOOTSTRAP=1
# cargo fuzz's default build: optimised, with debug assertions and overflow checks (which
# its -O would turn off). No sanitizer: keyward forbids unsafe code, so AddressSanitizer
# would check only the standard library and dependencies, at half the executions per
# second. 16 codegen units build in a fraction of the time one unit takes, for a few
# percent of speed.
BUILD=(--sanitizer none --codegen-units 16)

echo "==> building the fuzz targets"
# cargo fuzz has no --locked: check first that fuzz/Cargo.lock needs no change, so the
# targets build the dependency versions the main workspace's lock file pins.
cargo metadata --locked --manifest-path fuzz/Cargo.toml --format-version 1 >/dev/null
cargo fuzz build "${BUILD[@]}"
BIN=fuzz/target/x86_64-unknown-linux-gnu/release

# The HTTP targets run keyward in-process over a SQLite database of their own, on tmpfs where
# there is one (SQLite syncs every commit, which costs nothing there). This run's databases
# go when it ends.
scratch=$(mktemp -d "$([ -d /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")/keyward-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export KEYWARD_FUZZ_TMP="$scratch"

failed=()
for target in "${TARGETS[@]}"; do
  mkdir -p "fuzz/work/$target" "fuzz/artifacts/$target"
  log="fuzz/work/$target.log"
  # -timeout: an input that takes 10 s is a hang, reported as a failure.
  common=(-timeout=10 -artifact_prefix="fuzz/artifacts/$target/" -print_final_stats=1)

  echo "==> $target: replaying fuzz/corpus/$target ($(find "fuzz/corpus/$target" -type f | wc -l) inputs)"
  if ! "$BIN/$target" "${common[@]}" -runs=0 "fuzz/corpus/$target" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    failed+=("$target (committed corpus)")
    continue
  fi

  echo "==> $target: fuzzing for ${FUZZ_SECONDS}s"
  # New inputs go to fuzz/work/ (the first directory), never into the committed corpus.
  if ! "$BIN/$target" "${common[@]}" -max_total_time="$FUZZ_SECONDS" \
    "fuzz/work/$target" "fuzz/corpus/$target" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    failed+=("$target")
    continue
  fi
  # The last status line and the final statistics: coverage, features, corpus, speed.
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  rate=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}')
  echo "    $execs executions, $rate/s; ${done_line#*DONE   }"
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "error: fuzzing failed: ${failed[*]}; the inputs are in fuzz/artifacts/, the logs in fuzz/work/*.log" >&2
  exit 1
fi
echo "==> fuzzing found nothing"
