#!/usr/bin/env bash
# make fuzz: runs every libFuzzer target of the fuzz build for FUZZ_SECONDS each, one after another.
# Each target starts from its committed seed corpus (fuzz/corpus/<target>, read only) and grows a
# working corpus in the build directory; crashes, leaks and timeouts land in
# <build>/fuzz-artifacts/<target>/ and stop the run with a non-zero exit. A reproducer that is fixed
# belongs in fuzz/corpus/<target>/ as crash-<what> so the test build replays it from then on.
set -euo pipefail

BUILD_DIR=${1:?usage: fuzz.sh BUILD_DIR}
SECONDS_EACH=${FUZZ_SECONDS:-600}
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
TARGETS=${FUZZ_TARGETS:-$(cat "$BUILD_DIR/fuzz-targets.txt")}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for t in $TARGETS; do
  work="$BUILD_DIR/fuzz-corpus/$t"
  artifacts="$BUILD_DIR/fuzz-artifacts/$t"
  mkdir -p "$work" "$artifacts"
  echo "fuzz: $t for ${SECONDS_EACH}s"
  # -timeout: a session input that leaves an operation pending would hang its io_context run.
  set +e
  "$BUILD_DIR/fuzz/mgw_fuzz_$t" -max_total_time="$SECONDS_EACH" -timeout=25 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" "$SRC_DIR/fuzz/corpus/$t" \
    2>&1 | tee "$BUILD_DIR/fuzz-$t.log" | grep --line-buffered -E '^#[0-9]+.*(INITED|DONE)|^stat::|ERROR|SUMMARY|Test unit written'
  status=${PIPESTATUS[0]}
  set -e
  if [ "$status" -ne 0 ]; then
    echo "fuzz: $t failed (exit $status); see $BUILD_DIR/fuzz-$t.log and $artifacts/" >&2
    exit "$status"
  fi
done
