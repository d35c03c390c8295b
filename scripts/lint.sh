#!/usr/bin/env bash
# make lint:   lint.sh BUILD_DIR [FILES...]  clang-format --dry-run -Werror, then clang-tidy (.clang-tidy)
#              with BUILD_DIR/compile_commands.json; exits non-zero on any finding.
# make format: lint.sh --format [FILES...]   applies clang-format in place.
# FILES defaults to every C++ source and header the repository tracks.
set -uo pipefail
cd "$(dirname "$0")/.."
CLANG_FORMAT=${CLANG_FORMAT:-clang-format-14}
CLANG_TIDY=${CLANG_TIDY:-clang-tidy-14}

format_only=0
if [ "${1:-}" = "--format" ]; then format_only=1; shift; else build_dir=${1:?usage: lint.sh BUILD_DIR [FILES...]}; shift; fi

if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(git ls-files '*.cpp' '*.hpp'); fi

if [ $format_only -eq 1 ]; then
  "$CLANG_FORMAT" -i "${files[@]}"
  exit 0
fi

status=0
echo "lint: clang-format over ${#files[@]} files"
if ! "$CLANG_FORMAT" --dry-run -Werror "${files[@]}"; then status=1; fi

# clang-tidy reads each .cpp with its compile command; headers are checked through the .cpp files
# that include them (HeaderFilterRegex in .clang-tidy).
sources=()
for f in "${files[@]}"; do [[ $f == *.cpp ]] && sources+=("$f"); done
echo "lint: clang-tidy over ${#sources[@]} translation units, ${LINT_JOBS:=$(nproc)} at a time"
# Each file's findings are printed in one piece. -Wno-unknown-warning-option: the database is GCC's,
# with a few GCC-only -W flags.
export CLANG_TIDY build_dir
if ! printf '%s\0' "${sources[@]}" | xargs -0 -n 1 -P "$LINT_JOBS" bash -c '
    out=$("$CLANG_TIDY" -p "$build_dir" --quiet --extra-arg=-Wno-unknown-warning-option "$1" 2>/dev/null)
    rc=$?
    if [ -n "$out" ]; then printf "%s\n" "$out"; fi
    exit $(( rc == 0 ? 0 : 1 ))' _; then
  status=1
fi
exit $status
