#!/usr/bin/env bash
# What a hit costs, deterministically (unlike timings on a shared machine): runs the gateway under
# `valgrind --tool=callgrind` twice with a private redis-server, once serving HITS single GET
# pageviews (matomo-loadgen, one keep-alive connection, closed loop, verified against Redis) and once
# serving none, and prints
#   instructions per hit = (user-space instructions of the run with HITS - of the run with 0) / HITS
#   allocations per hit  = (malloc/calloc/realloc calls of the run with HITS - of the run with 0) / HITS
# so start-up and shutdown cancel out. The gateway runs in its default configuration (access log on,
# --ack=spool, compression level 1); GW_ARGS adds options (e.g. GW_ARGS="--access-log false").
# With BREAKDOWN=1 it also prints the inclusive instructions per hit of the main steps.
# Used for docs/performance.md.
# Usage: bench/profile.sh <matomo-gateway> <matomo-loadgen> [hits (2000)]
set -euo pipefail

GW_BIN=${1:?usage: profile.sh <matomo-gateway> <matomo-loadgen> [hits]}
LOADGEN=${2:?usage: profile.sh <matomo-gateway> <matomo-loadgen> [hits]}
HITS=${3:-2000}
GW_ARGS=${GW_ARGS:-}
OUT=${OUT:-$PWD/callgrind-default.out}
TMP=$(mktemp -d /tmp/mgw-profile.XXXXXX)
HERE=$(dirname "$0")
REDIS_PID='' VG_PID=''

# shellcheck source=../scripts/process-lib.sh
source "$HERE/../scripts/process-lib.sh"
cleanup() { stop_pid "$VG_PID" TERM 600; stop_pid "$REDIS_PID"; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

for _ in 1 2 3 4 5; do
    REDIS_PORT=$(random_port) || continue
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --dir "$TMP" --logfile "$TMP/redis.log" &
    REDIS_PID=$!
    poll 100 our_redis "$REDIS_PORT" "$REDIS_PID" && break
    stop_pid "$REDIS_PID"
    REDIS_PID=''
done
[ -n "$REDIS_PID" ] || { echo "profile: redis-server did not start" >&2; exit 1; }

# run_once HITS CALLGRIND-OUT: one gateway under callgrind serving HITS hits, stopped with SIGTERM.
run_once() {
    local hits=$1 out=$2 log="$TMP/gateway-$1.log"
    rm -rf "$TMP/spool"
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" flushall >/dev/null
    # shellcheck disable=SC2086
    valgrind --tool=callgrind --callgrind-out-file="$out" "$GW_BIN" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
        --redis "redis://127.0.0.1:$REDIS_PORT/0" --queues 4 --spool-dir "$TMP/spool" $GW_ARGS \
        >"$log" 2>"$TMP/valgrind.log" &
    VG_PID=$!
    poll 1200 grep -q '"listener":"admin"' "$log" || { cat "$TMP/valgrind.log" >&2; exit 1; }
    local addr admin
    addr=$(sed -n 's/.*"listener":"tracking","address":"\([^"]*\)".*/\1/p' "$log" | head -1)
    admin=$(sed -n 's/.*"listener":"admin","address":"\([^"]*\)".*/\1/p' "$log" | head -1)
    poll 1200 curl -sf "http://$admin/readyz" || { echo "profile: gateway not ready" >&2; exit 1; }
    if [ "$hits" -gt 0 ]; then
        # One keep-alive connection, closed loop: every hit is read, stored and answered on its own,
        # so no batching across connections flatters the figure.
        "$LOADGEN" --url "http://$addr/matomo.php" --requests "$hits" --connections 1 --duration 600 \
            --verify-redis "redis://127.0.0.1:$REDIS_PORT/0" >"$TMP/loadgen.txt"
        grep -E 'requests|redis' "$TMP/loadgen.txt" | sed 's/^/  loadgen: /'
        # The run only counts when every hit was answered 2xx and Redis holds each of them.
        if ! grep -q "requests *$hits sent, $hits completed, $hits 2xx" "$TMP/loadgen.txt" ||
            ! grep -q "queued $hits (.*0 undecodable): OK" "$TMP/loadgen.txt"; then
            echo "profile: not every hit was stored" >&2
            exit 1
        fi
    fi
    stop_pid "$VG_PID" TERM 600
    VG_PID=''
}

run_once 0 "$OUT.0"
run_once "$HITS" "$OUT"
read -r base_ir base_alloc < <(python3 "$HERE/callgrind_calls.py" "$OUT.0")
read -r ir alloc < <(python3 "$HERE/callgrind_calls.py" "$OUT")
BYTES=$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --raw eval \
    "local t=0 for _,k in ipairs(redis.call('keys','trackingQueueV1*')) do for _,v in ipairs(redis.call('lrange',k,0,-1)) do t=t+#v end end return t" 0)
printf 'instructions per hit: %d   (%d - %d) / %d\n' $(((ir - base_ir) / HITS)) "$ir" "$base_ir" "$HITS"
printf 'allocations per hit:  %d.%02d\n' $(((alloc - base_alloc) / HITS)) $((((alloc - base_alloc) * 100 / HITS) % 100))
printf 'stored bytes per hit: %d.%02d\n' $((BYTES / HITS)) $(((BYTES * 100 / HITS) % 100))

if [ "${BREAKDOWN:-0}" = 1 ]; then
    # Inclusive instructions per hit of the steps of a hit's path (start-up not removed here).
    callgrind_annotate --inclusive=yes "$OUT" 2>/dev/null >"$TMP/inclusive.txt"
    for step in 'Session::on_read' 'Session::handle_tracking' 'mgw::tracking::' 'mgw::queue::compress_value' \
        'Session::send()' 'mgw::php::parse_str' 'mgw::queue::encode_json' 'basic_parser<true>::put' \
        'mgw::gateway::access_log' 'RedisWriter::submit' 'Impl::flush' 'malloc'; do
        { grep -m1 -F "$step" "$TMP/inclusive.txt" || true; } | awk -v s="$step" -v h="$HITS" '{gsub(",", "", $1); printf "  %-28s %7d\n", s, $1 / h}'
    done
fi
echo "profile: $OUT (callgrind_annotate --inclusive=yes $OUT)"
