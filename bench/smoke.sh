#!/usr/bin/env bash
# Smoke test of the load generator against a real gateway and Redis (ctest: a few seconds).
# Usage: bench/smoke.sh <matomo-gateway> <matomo-loadgen>
# Starts a private redis-server and the gateway on free loopback ports, runs two short loads (closed
# loop with the realistic mix and keep-alive; open loop without keep-alive) and fails unless every
# request got a 2xx and the hits acknowledged equal the hits counted in the queue lists.
# No performance number is asserted. Everything it starts is stopped by the trap.
set -euo pipefail

GW_BIN=${1:?usage: smoke.sh <matomo-gateway> <matomo-loadgen>}
LOADGEN=${2:?usage: smoke.sh <matomo-gateway> <matomo-loadgen>}
TMP=$(mktemp -d /tmp/mgw-loadgen-smoke.XXXXXX)
REDIS_PID='' GW_PID=''

# shellcheck source=../scripts/process-lib.sh
source "$(dirname "$0")/../scripts/process-lib.sh"
cleanup() {
    stop_pid "$GW_PID"
    stop_pid "$REDIS_PID"
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


for _ in 1 2 3 4 5; do
    REDIS_PORT=$((20000 + RANDOM % 12000))
    port_free "$REDIS_PORT" || continue
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize no \
        --dir "$TMP" --logfile "$TMP/redis.log" &
    REDIS_PID=$!
    poll 100 our_redis "$REDIS_PORT" "$REDIS_PID" && break
    stop_pid "$REDIS_PID"
    REDIS_PID=''
done
[ -n "$REDIS_PID" ] || { echo "smoke: redis-server did not start" >&2; cat "$TMP/redis.log" >&2 || true; exit 1; }
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"

"$GW_BIN" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --redis "$REDIS_URL" --queues 2 \
    --access-log false --spool-dir "$TMP/spool" >"$TMP/gateway.log" 2>&1 &
GW_PID=$!
if ! poll 200 grep -q '"listener":"admin"' "$TMP/gateway.log"; then
    echo "smoke: the gateway did not start" >&2; cat "$TMP/gateway.log" >&2; exit 1
fi
GW_ADDR=$(sed -n 's/.*"listener":"tracking","address":"\([^"]*\)".*/\1/p' "$TMP/gateway.log" | head -1)
GW_ADMIN=$(sed -n 's/.*"listener":"admin","address":"\([^"]*\)".*/\1/p' "$TMP/gateway.log" | head -1)
poll 200 curl -sf "http://$GW_ADMIN/readyz" || { echo "smoke: gateway not ready" >&2; cat "$TMP/gateway.log" >&2; exit 1; }
# /readyz is 200 as soon as the spool could take hits; wait for the Redis connection itself.
redis_up() { curl -sf "http://$GW_ADMIN/metrics" | grep -q '^matomo_gateway_redis_up [1-9]'; }
poll 200 redis_up || { echo "smoke: gateway not connected to Redis" >&2; cat "$TMP/gateway.log" >&2; exit 1; }

URL="http://$GW_ADDR/matomo.php"
echo "smoke: gateway $GW_ADDR, redis 127.0.0.1:$REDIS_PORT"
# Refuses a non-loopback target without sending anything.
if "$LOADGEN" --url http://192.0.2.1/matomo.php --smoke >/dev/null 2>&1; then
    echo "smoke: loadgen accepted a non-loopback URL" >&2; exit 1
fi
# Closed loop, realistic mix (bulk 10/100, form POSTs, send_image=0), keep-alive.
"$LOADGEN" --url "$URL" --smoke --verify-redis "$REDIS_URL"
# Open loop, no keep-alive; the count is taken before and after, so earlier values do not matter.
"$LOADGEN" --url "$URL" --smoke --duration 1 --rate 200 --connections 4 --keep-alive off --verify-redis "$REDIS_URL"
echo "smoke: OK"
