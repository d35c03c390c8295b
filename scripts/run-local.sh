#!/usr/bin/env bash
# `make run`: runs the gateway in the foreground on 127.0.0.1:8080 (admin on 127.0.0.1:9090).
# Without a configured Redis (--redis, MATOMO_GATEWAY_REDIS or a config file) it starts a private
# redis-server on a unix socket under run/ and stops it when the gateway exits (Ctrl-C).
set -euo pipefail
binary="$1"; shift
cd "$(dirname "$0")/.."

args=(--listen "${LISTEN:-127.0.0.1:8080}" --admin-listen "${ADMIN_LISTEN:-127.0.0.1:9090}")
configured=no
[ -n "${MATOMO_GATEWAY_REDIS:-}" ] && configured=yes
[ -n "${MATOMO_GATEWAY_CONFIG:-}" ] && grep -qE '^\s*redis\s*=' "$MATOMO_GATEWAY_CONFIG" && configured=yes
for a in "$@"; do case "$a" in --redis|--redis=*) configured=yes;; esac; done

redis_pid=""
cleanup() {
  if [ -n "$redis_pid" ]; then
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

if [ "$configured" = no ]; then
  rundir="$PWD/run"
  mkdir -p "$rundir"
  sock="$rundir/redis.sock"
  rm -f "$sock"
  # Its own session, so Ctrl-C reaches only the gateway; the gateway drains into Redis first.
  setsid redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 --save "" --appendonly no \
    --dir "$rundir" --logfile "$rundir/redis.log" &
  redis_pid=$!
  for _ in $(seq 1 100); do
    [ -S "$sock" ] && redis-cli -s "$sock" ping >/dev/null 2>&1 && break
    sleep 0.05
  done
  echo "private redis-server on $sock (inspect with: redis-cli -s $sock lrange trackingQueueV1 0 -1)" >&2
  args+=(--redis "unix://$sock?db=0")
fi

# The spool (hits Redis could not take yet) under run/ unless configured.
spool_set=no
[ -n "${MATOMO_GATEWAY_SPOOL_DIR:-}" ] && spool_set=yes
for a in "$@"; do case "$a" in --spool-dir|--spool-dir=*) spool_set=yes;; esac; done
[ "$spool_set" = no ] && args+=(--spool-dir "$PWD/run/spool")

"$binary" "${args[@]}" "$@" &
gw=$!
trap 'kill -TERM $gw 2>/dev/null || true' INT TERM
status=0
wait "$gw" || status=$?
# A trapped signal interrupts `wait`; wait again for the gateway's drain to finish.
if kill -0 "$gw" 2>/dev/null; then wait "$gw" || status=$?; fi
exit "$status"
