#!/usr/bin/env bash
# Installs the Debian 12 packages that the build, the test suite and `make run` need.
# Idempotent: when every package is already installed it does nothing (no apt-get update either).
set -euo pipefail

# Build: compiler, CMake and the libraries we link.
BUILD_PKGS=(
  cmake g++ make pkg-config
  libboost1.81-dev libboost-json1.81-dev libhiredis-dev libmaxminddb-dev prometheus-cpp-dev
  libssl-dev libdeflate-dev libtomlplusplus-dev catch2
)
# Run and test: the real parts the tests start (Redis, PHP to decode values as the plugin does,
# HAProxy in front of the gateway, the Perl writer for test .mmdb files), zlib to inflate what our
# own encoder writes, curl for the README, and python3 + Go (with the sprig template functions Helm
# uses) for the deployment checks in tests/deploy.
RUN_PKGS=(
  redis-server redis-sentinel redis-tools php-cli haproxy libmaxmind-db-writer-perl zlib1g-dev curl
  python3 python3-yaml golang-go golang-github-masterminds-sprig-dev golang-github-ghodss-yaml-dev
)

# make bench only: the nginx reference, the pictures, reading results, the optional callgrind profile.
BENCH_PKGS=(nginx gnuplot-nox jq valgrind)

# make fuzz only: clang with libFuzzer and the sanitizer runtimes (the test build replays the corpora
# with g++); llvm-symbolizer comes with llvm-14 for readable stack traces.
FUZZ_PKGS=(clang-14 libclang-rt-14-dev llvm-14)

# make lint / make format only.
LINT_PKGS=(clang-format-14 clang-tidy-14)

# make image / make image-test only: podman builds the Dockerfile on a base made by debootstrap.
IMAGE_PKGS=(podman debootstrap)

want=("${BUILD_PKGS[@]}" "${RUN_PKGS[@]}")
# The container image's build stage: the compiler and libraries, none of the test toolchain.
if [ "${1:-}" = "--build" ]; then want=("${BUILD_PKGS[@]}"); fi
if [ "${1:-}" = "--bench" ]; then want+=("${BENCH_PKGS[@]}"); fi
if [ "${1:-}" = "--fuzz" ]; then want+=("${FUZZ_PKGS[@]}"); fi
if [ "${1:-}" = "--lint" ]; then want+=("${LINT_PKGS[@]}"); fi
if [ "${1:-}" = "--image" ]; then want+=("${IMAGE_PKGS[@]}"); fi
if [ "${1:-}" = "--runtime-list" ]; then printf '%s\n' "${RUN_PKGS[@]}"; exit 0; fi
if [ "${1:-}" = "--build-list" ]; then printf '%s\n' "${BUILD_PKGS[@]}"; exit 0; fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root or install them" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine often runs unattended-upgrades: wait for its apt/dpkg locks (bounded) instead of
# failing at once. apt-get install waits for the dpkg lock itself (DPkg::Lock::Timeout, apt >= 1.9.11);
# apt-get update does not wait for the package lists' lock, so it is retried while that is held.
LOCK_WAIT_SECONDS="${INSTALL_DEPS_LOCK_WAIT:-600}"
deadline=$((SECONDS + LOCK_WAIT_SECONDS))
until out="$(apt-get -o DPkg::Lock::Timeout="$LOCK_WAIT_SECONDS" update -qq 2>&1)"; do
  if ! grep -q "Could not get lock" <<<"$out" || [ "$SECONDS" -ge "$deadline" ]; then
    echo "$out" >&2
    exit 1
  fi
  echo "install-deps: another apt or dpkg holds the package lists' lock; waiting (at most $((deadline - SECONDS)) s more)"
  sleep 10
done
[ -z "$out" ] || echo "$out"
left=$((deadline - SECONDS))
[ "$left" -gt 0 ] || left=1
echo "install-deps: if another apt or dpkg holds the package lock, waiting up to ${left} s for it"
apt-get -o DPkg::Lock::Timeout="$left" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packaged redis-server and haproxy start system services; the gateway's tests start their own.
for svc in redis-server redis-sentinel haproxy nginx; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
done
