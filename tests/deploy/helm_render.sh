#!/usr/bin/env bash
# Renders the Helm chart with Helm's own template engine (Go text/template + sprig, built here from
# Debian packages: helm itself is not in Debian 12) and checks the manifests, including that the real
# gateway accepts the configuration the chart produces. See helmrender/main.go and helm_render.py.
#   tests/deploy/helm_render.sh <matomo-gateway binary>
set -euo pipefail
binary="${1:?usage: helm_render.sh <matomo-gateway binary>}"
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
for need in go /usr/bin/python3; do
  command -v "$need" >/dev/null || { echo "FAIL: $need is not installed (scripts/install-deps.sh)" >&2; exit 1; }
done
[ -d /usr/share/gocode/src/github.com/Masterminds/sprig ] ||
  { echo "FAIL: golang-github-masterminds-sprig-dev is not installed" >&2; exit 1; }
[ -x "$binary" ] || { echo "FAIL: $binary is not an executable" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/mgw-helmrender.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# GOPATH mode over Debian's /usr/share/gocode. The go.mod only switches on "minimal module
# compatibility", which maps the import github.com/Masterminds/sprig/v3 to Debian's unversioned path.
pkg="$work/gopath/src/mgw-helmrender"
mkdir -p "$pkg"
cp "$here/helmrender/main.go" "$pkg/"
printf 'module mgw-helmrender\n\ngo 1.19\n' >"$pkg/go.mod"
# The build cache persists between runs in go's default location, or in the work dir without a HOME.
[ -n "${GOCACHE:-}" ] || [ -n "${XDG_CACHE_HOME:-}" ] || [ -n "${HOME:-}" ] || export GOCACHE="$work/go-cache"
(cd "$pkg" && GO111MODULE=off GOPATH="$work/gopath:/usr/share/gocode" GOFLAGS='' GOPROXY=off \
  go build -o "$work/helmrender" .)

/usr/bin/python3 "$here/helm_render.py" "$work/helmrender" "$src/helm/matomo-gateway" "$binary" \
  "$src/deploy/grafana/matomo-gateway.json"
