#!/usr/bin/env bash
# make image: builds the Dockerfile with Debian's podman, without a Docker engine or a registry.
#
# The base image is made here: `debootstrap --variant=minbase bookworm` (what debian:bookworm-slim
# is made from), imported into podman's local storage as $BASE_IMAGE and passed to the Dockerfile as
# both BUILD_BASE and RUNTIME_BASE. `--isolation=chroot` runs the RUN steps in a chroot, so no
# container runtime (runc, user namespaces) is needed; `--pull=never` keeps podman from asking a
# registry for anything. Needs root (debootstrap, podman's storage) and a reachable Debian mirror.
#
#   scripts/image.sh            builds $IMAGE (default localhost/matomo-gateway:latest)
#   REBUILD_BASE=1 scripts/image.sh   makes the base again (e.g. for newer security updates)
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
IMAGE="${IMAGE:-localhost/matomo-gateway:latest}"
BASE_IMAGE="${BASE_IMAGE:-localhost/debian-minbase:bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

[ "$(id -u)" -eq 0 ] || { echo "image: run as root (debootstrap and podman's system storage need it)" >&2; exit 1; }

if [ -n "${REBUILD_BASE:-}" ] || ! podman image exists "$BASE_IMAGE"; then
  root="$(mktemp -d /var/tmp/mgw-debootstrap.XXXXXX)"
  trap 'rm -rf "$root"' EXIT
  echo "image: debootstrap --variant=minbase bookworm from $MIRROR"
  debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$root.log" 2>&1 \
    || { tail -n 30 "$root.log" >&2; rm -f "$root.log"; exit 1; }
  rm -f "$root.log"
  # The same suites as the official image: the release, its updates and the security archive.
  cat >"$root/etc/apt/sources.list" <<SOURCES
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECURITY_MIRROR bookworm-security main
SOURCES
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  # An imported tarball carries no configuration; give it the PATH every Debian image has.
  tar -C "$root" -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' - "$BASE_IMAGE" >/dev/null
  echo "image: base $BASE_IMAGE imported"
fi

podman build --isolation=chroot --pull=never \
  --build-arg BUILD_BASE="$BASE_IMAGE" --build-arg RUNTIME_BASE="$BASE_IMAGE" \
  -t "$IMAGE" -f "$src/Dockerfile" "$src"
echo "image: built $IMAGE"
