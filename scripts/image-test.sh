#!/usr/bin/env bash
# make image-test: checks the image `make image` built, from its file system (podman create + mount,
# then chroot; nothing is started, so no container runtime is needed):
#   1. every shared library the binary links resolves inside the image (ldd in a chroot);
#   2. the image's USER is numeric and not root;
#   3. `matomo-gateway --check-config` succeeds inside the image, as that user, with the image's ENV
#      (so the listen addresses, the spool directory's permissions and the libraries are right).
set -euo pipefail
IMAGE="${IMAGE:-localhost/matomo-gateway:latest}"
[ "$(id -u)" -eq 0 ] || { echo "image-test: run as root (podman image mount and chroot need it)" >&2; exit 1; }
podman image exists "$IMAGE" || { echo "image-test: no image $IMAGE; run make image first" >&2; exit 1; }
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok:   $*"; }

binary="$(podman image inspect --format '{{index .Config.Entrypoint 0}}' "$IMAGE")"
user="$(podman image inspect --format '{{.Config.User}}' "$IMAGE")"
mapfile -t image_env < <(podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$IMAGE" | sed '/^$/d')

# A created (never started) container: its file system is the image's plus a writable layer, as a
# running container's would be (a read-only image mount would fail the spool directory's check).
container="$(podman create --pull=never "$IMAGE")"
trap 'podman umount "$container" >/dev/null; podman rm "$container" >/dev/null' EXIT
root="$(podman mount "$container")"

# 1. Libraries.
[ -x "$root$binary" ] || fail "the ENTRYPOINT $binary is not an executable in the image"
libs="$(chroot "$root" ldd "$binary" 2>&1)" || fail "ldd $binary failed in the image: $libs"
count="$(grep -c '=>' <<<"$libs" || true)"
if grep -q 'not found' <<<"$libs"; then
  fail "libraries missing from the runtime stage: $(grep 'not found' <<<"$libs" | awk '{print $1}' | tr '\n' ' ')"
elif [ "$count" -lt 5 ]; then
  fail "ldd lists only $count libraries: $libs"
else
  ok "all $count shared libraries of $binary resolve inside the image"
fi

# 2. User.
uid="${user%%:*}"
gid="${user#*:}"
if [ -z "$user" ]; then
  fail "the image sets no USER: it would run as root"
elif ! [[ "$uid" =~ ^[0-9]+$ && "$gid" =~ ^[0-9]+$ ]]; then
  fail "USER $user is not numeric (Kubernetes' runAsNonRoot cannot verify it)"
elif [ "$uid" -eq 0 ] || [ "$gid" -eq 0 ]; then
  fail "USER $user is root"
else
  ok "the image runs as $user (non-root)"
fi

# 3. --check-config inside the image, as the image's user, with only the image's environment.
if out="$(chroot --userspec="$uid:$gid" "$root" /usr/bin/env -i "${image_env[@]}" "$binary" --check-config 2>&1)"; then
  grep -q '^listen = "0.0.0.0:8080"$' <<<"$out" || fail "--check-config in the image does not show listen = 0.0.0.0:8080: $out"
  ok "--check-config succeeds inside the image as $user"
else
  fail "--check-config fails inside the image as $user: $out"
fi
version="$(chroot --userspec="$uid:$gid" "$root" "$binary" --version 2>&1)" || fail "--version fails: $version"
ok "the image's binary: $version"

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
