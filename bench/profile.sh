#!/usr/bin/env bash
# Where a hit's CPU goes, as instructions per hit (deterministic, unlike timings on a shared machine):
# runs the gateway under `valgrind --tool=callgrind` with a private redis-server, sends HITS pageviews
# with matomo-loadgen (open loop, verified against Redis), and prints the inclusive instruction count
# per hit of the main steps. Used for docs/performance.md.
# Usage: bench/profile.sh <matomo-gateway> <matomo-loadgen> [compression-level (6)] [hits (2000)]
set -euo pipefail

GW_BIN=${1:?usage: profile.sh <matomo-gateway> <matomo-loadgen> [level] [hits]}
LOADGEN=${2:?usage: profile.sh <matomo-gateway> <matomo-loadgen> [level] [hits]}
LEVEL=${3:-6}
HITS=${4:-2000}
OUT=${OUT:-$PWD/callgrind-level$LEVEL.out}
TMP=$(mktemp -d /tmp/mgw-profile.XXXXXX)
REDIS_PID='' VG_PID=''

# shellcheck source=../scripts/process-lib.sh
source "$(dirname "$0")/../scripts/process-lib.sh"
cleanup() { stop_pid "$VG_PID" TERM 600; stop_pid "$REDIS_PID"; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

for _ in 1 2 3 4 5; do
    REDIS_PORT=$((20000 + RANDOM % 12000))
    ! (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null || continue
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --dir "$TMP" --logfile "$TMP/redis.log" &
    REDIS_PID=$!
    poll 100 our_redis "$REDIS_PORT" "$REDIS_PID" && break
    stop_pid "$REDIS_PID"
    REDIS_PID=''
done
[ -n "$REDIS_PID" ] || { echo "profile: redis-server did not start" >&2; exit 1; }

valgrind --tool=callgrind --callgrind-out-file="$OUT" "$GW_BIN" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
    --redis "redis://127.0.0.1:$REDIS_PORT/0" --queues 4 --access-log false --compression-level "$LEVEL" --spool-dir "$TMP/spool" \
    >"$TMP/gateway.log" 2>"$TMP/valgrind.log" &
VG_PID=$!
poll 1200 grep -q '"listener":"admin"' "$TMP/gateway.log" || { cat "$TMP/valgrind.log" >&2; exit 1; }
GW_ADDR=$(sed -n 's/.*"listener":"tracking","address":"\([^"]*\)".*/\1/p' "$TMP/gateway.log" | head -1)
GW_ADMIN=$(sed -n 's/.*"listener":"admin","address":"\([^"]*\)".*/\1/p' "$TMP/gateway.log" | head -1)
poll 1200 curl -sf "http://$GW_ADMIN/readyz" || { echo "profile: gateway not ready" >&2; exit 1; }

"$LOADGEN" --url "http://$GW_ADDR/matomo.php" --rate 400 --requests "$HITS" --connections 8 \
    --verify-redis "redis://127.0.0.1:$REDIS_PORT/0" | grep -E 'requests|redis'
stop_pid "$VG_PID"
VG_PID=''

# Inclusive instructions per hit of the steps of a hit's path (start-up is ~7 M instructions, not removed).
callgrind_annotate --inclusive=yes "$OUT" 2>/dev/null >"$TMP/inclusive.txt"
callgrind_annotate "$OUT" 2>/dev/null >"$TMP/self.txt"
total=$(awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}' "$TMP/self.txt")
printf 'compression level %s: %d instructions per hit in total\n' "$LEVEL" $((total / HITS))
for step in 'Session::on_read' 'build_tracking' 'mgw::queue::compress_value' 'Session::send()' 'mgw::php::parse_str' \
    'mgw::queue::encode_json' 'basic_parser<true>::put' 'worker_exception_reason' 'build_server_env' 'param_string' \
    'RedisWriter::submit' 'Impl::flush' 'read_loop'; do
    grep -m1 -F "$step" "$TMP/inclusive.txt" | awk -v s="$step" -v h="$HITS" '{gsub(",", "", $1); printf "  %-28s %7d\n", s, $1 / h}'
done
awk -v h="$HITS" '/malloc\.c:|operator new|operator delete/ {gsub(",", "", $1); n += $1} END {printf "  %-28s %7d (self)\n", "malloc/free", n / h}' "$TMP/self.txt"
echo "profile: $OUT (callgrind_annotate --inclusive=yes $OUT)"
