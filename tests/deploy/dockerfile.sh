#!/usr/bin/env bash
# Keeps the Dockerfile from rotting without a Docker engine: its runtime packages against what the
# binary links, its build steps against the Makefile, its user and ENTRYPOINT. See dockerfile_check.py.
#   tests/deploy/dockerfile.sh <matomo-gateway binary>     (a Release or Debug build; both link the same)
set -euo pipefail
binary="${1:?usage: dockerfile.sh <matomo-gateway binary>}"
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
[ -x "$binary" ] || { echo "FAIL: $binary is not an executable" >&2; exit 1; }
exec /usr/bin/python3 "$here/dockerfile_check.py" "$src" "$binary"
