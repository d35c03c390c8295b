#!/usr/bin/env bash
# `make bench`: builds Release, starts a private redis-server, the gateway and an nginx `return 204`
# reference on free loopback ports, runs the same load against each with bench/matomo-loadgen, and
# prints one table (hits/s, ratio to nginx, p50/p99, gateway CPU per 100,000 hits, peak RSS, Redis
# bytes per hit, acknowledged vs queued). It then draws the open-loop curves with gnuplot into
# docs/img/. Loopback only; every process it starts is stopped by the trap; time-boxed (~4 min of runs).
#
# Knobs (environment, defaults below): BUILD_DIR JOBS CONNECTIONS DURATION REPEAT OPEN_DURATION
# OPEN_FRACTIONS LOADGEN_THREADS GATEWAY_THREADS QUEUES COMPRESSION IMG_DIR RESULTS_DIR BUDGET_S;
# GATEWAY_BIN + LOADGEN_BIN to measure existing binaries without building; STOCK_URL (+ STOCK_REDIS to
# verify it) to measure a stock matomo.php on this machine as well.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
JOBS=${JOBS:-$(nproc)}
CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-10}                  # each closed-loop run, seconds
REPEAT=${REPEAT:-3}                       # closed-loop pairs (nginx, gateway)
OPEN_DURATION=${OPEN_DURATION:-6}         # each open-loop run, seconds
OPEN_FRACTIONS=${OPEN_FRACTIONS:-"0.05 0.1 0.2 0.3 0.4 0.5 0.7 0.9"}   # of nginx's closed-loop rate
LOADGEN_THREADS=${LOADGEN_THREADS:-1}
GATEWAY_THREADS=${GATEWAY_THREADS:-0}
QUEUES=${QUEUES:-4}
COMPRESSION=${COMPRESSION:-1}   # the gateway default
IMG_DIR=${IMG_DIR:-$ROOT/docs/img}
RESULTS_DIR=${RESULTS_DIR:-$BUILD_DIR/bench-results}
STOCK_URL=${STOCK_URL:-}
STOCK_REDIS=${STOCK_REDIS:-}
BUDGET_S=${BUDGET_S:-420}                 # runs start no later than this many seconds after the build

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

for tool in cmake redis-server redis-cli nginx curl jq gnuplot; do
    command -v "$tool" >/dev/null 2>&1 || die "missing '$tool' (make deps installs it)"
done

# --- build -----------------------------------------------------------------------------------------
# GATEWAY_BIN and LOADGEN_BIN, when both are given, measure existing binaries instead of building.
if [ -n "${GATEWAY_BIN:-}" ] && [ -n "${LOADGEN_BIN:-}" ]; then
    GW_BIN=$GATEWAY_BIN
    LOADGEN=$LOADGEN_BIN
    log "using $GW_BIN and $LOADGEN (no build)"
else
    log "building Release in $BUILD_DIR (-j $JOBS)"
    cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DMGW_BUILD_TESTS=OFF >/dev/null
    cmake --build "$BUILD_DIR" -j "$JOBS" --target matomo-gateway matomo-loadgen matomo-geo-bench >/dev/null
    GW_BIN=$BUILD_DIR/matomo-gateway
    LOADGEN=$BUILD_DIR/matomo-loadgen
fi
if [ ! -x "$GW_BIN" ] || [ ! -x "$LOADGEN" ]; then die "missing $GW_BIN or $LOADGEN"; fi

# --- processes and cleanup -------------------------------------------------------------------------
TMP=$(mktemp -d /tmp/mgw-bench.XXXXXX)
mkdir -p "$RESULTS_DIR" "$IMG_DIR"
rm -f "$RESULTS_DIR"/*.json "$RESULTS_DIR"/*.row
REDIS_PID='' GW_PID='' NGINX_PID=''

# shellcheck source=process-lib.sh
source "$(dirname "$0")/process-lib.sh"
cleanup() {
    stop_pid "$GW_PID" TERM
    stop_pid "$NGINX_PID" QUIT
    stop_pid "$REDIS_PID" TERM
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

alive() { kill -0 "$1" 2>/dev/null; }

start_redis() {
    for _ in 1 2 3 4 5; do
        REDIS_PORT=$(random_port) || die "no free port"
        redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize no \
            --dir "$TMP" --logfile "$TMP/redis.log" --maxmemory 0 &
        REDIS_PID=$!
        if poll 100 our_redis "$REDIS_PORT" "$REDIS_PID"; then return 0; fi
        stop_pid "$REDIS_PID" KILL
    done
    die "redis-server did not start (see $TMP/redis.log)"
}

redis_up() { curl -sf "http://$GW_ADMIN/metrics" | grep -q '^matomo_gateway_redis_up [1-9]'; }

start_gateway() {
    "$GW_BIN" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --redis "redis://127.0.0.1:$REDIS_PORT/0" \
        --queues "$QUEUES" --threads "$GATEWAY_THREADS" --compression-level "$COMPRESSION" \
        --access-log false --spool-dir "$TMP/spool" >"$TMP/gateway.log" 2>&1 &
    GW_PID=$!
    poll 200 grep -q '"listener":"admin"' "$TMP/gateway.log" || { cat "$TMP/gateway.log" >&2; die "gateway did not start"; }
    GW_ADDR=$(sed -n 's/.*"listener":"tracking","address":"\([^"]*\)".*/\1/p' "$TMP/gateway.log" | head -1)
    GW_ADMIN=$(sed -n 's/.*"listener":"admin","address":"\([^"]*\)".*/\1/p' "$TMP/gateway.log" | head -1)
    if [ -z "$GW_ADDR" ] || [ -z "$GW_ADMIN" ]; then die "cannot read the gateway's addresses"; fi
    poll 200 curl -sf "http://$GW_ADMIN/readyz" || die "gateway not ready (/readyz)"
    # /readyz is 200 as soon as the spool could take hits; wait for the Redis connection itself.
    poll 200 redis_up || die "gateway not connected to Redis"
}

start_nginx() {
    mkdir -p "$TMP/nginx/tmp"
    for _ in 1 2 3 4 5; do
        NGINX_PORT=$(random_port) || die "no free port"
        cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/tmp;
    proxy_temp_path $TMP/nginx/tmp;
    fastcgi_temp_path $TMP/nginx/tmp;
    uwsgi_temp_path $TMP/nginx/tmp;
    scgi_temp_path $TMP/nginx/tmp;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / { return 204; }
    }
}
EOF
        nginx -e "$TMP/nginx/error.log" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" &
        NGINX_PID=$!
        # Alive afterwards: nginx exits at once when the port was taken after all.
        if poll 100 curl -sf "http://127.0.0.1:$NGINX_PORT/matomo.php" && sleep 0.2 && alive "$NGINX_PID"; then return 0; fi
        stop_pid "$NGINX_PID" KILL
    done
    die "nginx did not start (see $TMP/nginx/error.log)"
}

# --- measurements ------------------------------------------------------------------------------------
TICKS=$(getconf CLK_TCK)
cpu_ticks() {   # utime+stime of a process and its children still running (nginx workers)
    local total=0 p f
    for p in "$1" $(pgrep -P "$1" 2>/dev/null || true); do
        # Fields after "pid (comm) ": state is 1st, utime the 12th, stime the 13th.
        read -r -a f < <(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
        total=$((total + f[11] + f[12]))
    done
    echo "$total"
}
reset_peak_rss() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || true; }
peak_rss_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

# loadgen NAME URL [extra options...]: one run, JSON kept in $RESULTS_DIR/NAME.json
loadgen() {
    local name=$1 url=$2
    shift 2
    timeout 700 "$LOADGEN" --url "$url" --connections "$CONNECTIONS" --threads "$LOADGEN_THREADS" \
        --keep-alive on --mix pageview --label "$name" --json "$RESULTS_DIR/$name.json" "$@" >"$TMP/$name.txt" 2>&1
    local rc=$?
    sed 's/^/    /' "$TMP/$name.txt" >&2
    return $rc
}

MISMATCH=0
# run_target NAME KIND URL [loadgen options]: KIND gateway|nginx|stock; appends a table row
run_target() {
    local name=$1 kind=$2 url=$3
    shift 3
    local pid='' t0=0 t1=0 rss='-' cpu='-' redis_b='-' ack='-' rc=0 extra=()
    case $kind in
        gateway)
            redis-cli -h 127.0.0.1 -p "$REDIS_PORT" flushall >/dev/null
            pid=$GW_PID
            reset_peak_rss "$pid"
            extra=(--verify-redis "redis://127.0.0.1:$REDIS_PORT/0")
            ;;
        nginx) pid=$NGINX_PID ;;
        stock) [ -n "$STOCK_REDIS" ] && extra=(--verify-redis "$STOCK_REDIS") ;;
    esac
    [ -n "$pid" ] && t0=$(cpu_ticks "$pid")
    log "run $name"
    loadgen "$name" "$url" "${extra[@]}" "$@" || rc=$?
    [ -n "$pid" ] && t1=$(cpu_ticks "$pid")
    local j=$RESULTS_DIR/$name.json
    [ -s "$j" ] || { log "$name: no result (loadgen exit $rc)"; MISMATCH=1; return 0; }
    local hits
    hits=$(jq -r '.hits.acknowledged' "$j")
    if [ -n "$pid" ] && [ "$hits" -gt 0 ]; then
        cpu=$(awk -v d=$((t1 - t0)) -v t="$TICKS" -v h="$hits" 'BEGIN {printf "%.2f", d / t / h * 100000}')
    fi
    if [ "$kind" = gateway ] && [ "$hits" -gt 0 ]; then
        cpu+=$(jq -r --arg h "$hits" 'if .redis.redis_cpu_s then " + \(.redis.redis_cpu_s / ($h | tonumber) * 100000 * 100 | round / 100)" else "" end' "$j")
    fi
    if [ "$kind" = gateway ]; then
        rss=$(awk -v k="$(peak_rss_kb "$pid")" 'BEGIN {printf "%.1f MB", k / 1024}')
        redis_b=$(jq -r 'if .redis.queued > 0 then "\((.redis.used_memory_after - .redis.used_memory_before) / .redis.queued | floor) (\(.redis.value_bytes / .redis.queued | floor))" else "-" end' "$j")
    fi
    if jq -e '.redis' "$j" >/dev/null; then
        ack=$(jq -r 'if .redis.error then "error: \(.redis.error)" else "\(.redis.acknowledged) / \(.redis.queued)" + (if .redis.match then "" else " MISMATCH" end) end' "$j")
        jq -e '.redis.match == true' "$j" >/dev/null || MISMATCH=1
    fi
    echo "$name|$kind|$cpu|$rss|$redis_b|$ack" >"$RESULTS_DIR/$name.row"
}

# --- the runs ----------------------------------------------------------------------------------------
start_redis
start_gateway
start_nginx
log "redis 127.0.0.1:$REDIS_PORT, gateway $GW_ADDR (admin $GW_ADMIN), nginx 127.0.0.1:$NGINX_PORT"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
RUNS_START=$SECONDS

NGINX_URL="http://127.0.0.1:$NGINX_PORT/matomo.php"
GW_URL="http://$GW_ADDR/matomo.php"
# Closed loop: nginx and the gateway alternately, REPEAT times, so that both see the same noise;
# the table shows the pair with the median ratio, the notes every pair.
for ((i = 1; i <= REPEAT; i++)); do
    run_target "closed-nginx-$i" nginx "$NGINX_URL" --duration "$DURATION"
    run_target "closed-gateway-$i" gateway "$GW_URL" --duration "$DURATION"
done
[ -n "$STOCK_URL" ] && run_target closed-stock stock "$STOCK_URL" --duration "$DURATION"
median_run() {   # median_run PREFIX: the run PREFIX-N with the median hits/s
    local f
    for f in "$RESULTS_DIR/$1"-[0-9]*.json; do
        echo "$(jq -r '.hits.per_second' "$f") $(basename "$f" .json)"
    done | sort -g | awk '{name[NR] = $2} END {print name[int((NR + 1) / 2)]}'
}
pair_ratio() { jq -rn --slurpfile n "$RESULTS_DIR/closed-nginx-$1.json" --slurpfile g "$RESULTS_DIR/closed-gateway-$1.json" \
    '$g[0].hits.per_second / $n[0].hits.per_second'; }
# The table shows the pair whose gateway/nginx ratio is the median: both rows measured side by side.
PAIR=$(for ((i = 1; i <= REPEAT; i++)); do echo "$(pair_ratio "$i") $i"; done | sort -g | awk '{p[NR] = $2} END {print p[int((NR + 1) / 2)]}')
MEDIAN_NGINX=closed-nginx-$PAIR
MEDIAN_GW=closed-gateway-$PAIR
TABLE_ROWS=("$MEDIAN_NGINX" "$MEDIAN_GW")
[ -n "$STOCK_URL" ] && TABLE_ROWS+=(closed-stock)

NGINX_RPS=$(jq -r '.requests.per_second | floor' "$RESULTS_DIR/$(median_run closed-nginx).json")
OPEN_RATES=()
for f in $OPEN_FRACTIONS; do OPEN_RATES+=("$(awk -v f="$f" -v r="$NGINX_RPS" 'BEGIN {printf "%d", f * r / 100 + 0.5}')00"); done
SKIPPED=0
for rate in "${OPEN_RATES[@]}"; do
    if ((SECONDS - RUNS_START > BUDGET_S)); then SKIPPED=$((SKIPPED + 1)); continue; fi
    run_target "open-$rate-nginx" nginx "$NGINX_URL" --rate "$rate" --duration "$OPEN_DURATION"
    run_target "open-$rate-gateway" gateway "$GW_URL" --rate "$rate" --duration "$OPEN_DURATION"
    TABLE_ROWS+=("open-$rate-nginx" "open-$rate-gateway")
done
((SKIPPED == 0)) || log "time box: skipped $SKIPPED open-loop rates"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the table -----------------------------------------------------------------------------------------
nginx_hits_at() {   # nginx hits/s of the run with the same offered rate (closed: the closed run)
    local f=$RESULTS_DIR/$1.json
    [ -s "$f" ] && jq -r '.hits.per_second' "$f" || echo 0
}
TABLE=$RESULTS_DIR/table.md
{
    echo "| run | offered/s | hits/s | vs nginx | p50 ms | p99 ms | CPU s / 100k hits (+ Redis) | peak RSS | Redis B/hit (value B) | acknowledged / queued |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    for name in "${TABLE_ROWS[@]}"; do
        IFS='|' read -r _ kind cpu rss redis_b ack <"$RESULTS_DIR/$name.row"
        j=$RESULTS_DIR/$name.json
        offered=$(jq -r 'if .offered_rate then (.offered_rate | floor | tostring) else "closed" end' "$j")
        case $name in
            closed-*) ref=$MEDIAN_NGINX ;;
            *) ref=${name%-*}-nginx ;;
        esac
        ratio=$(awk -v a="$(jq -r '.hits.per_second' "$j")" -v b="$(nginx_hits_at "$ref")" 'BEGIN {if (b > 0) printf "%.0f%%", 100 * a / b; else print "-"}')
        [ "$kind" = nginx ] && ratio='100%'
        jq -r --arg cpu "$cpu" --arg rss "$rss" --arg rb "$redis_b" --arg ack "$ack" --arg ratio "$ratio" --arg off "$offered" \
            '"| \(.label | sub("^(?<r>closed-(nginx|gateway))-[0-9]+$"; "\(.r) (median pair)")) | \($off) | \(.hits.per_second | floor) | \($ratio) | \(.latency_ms.p50 * 100 | round / 100) | \(.latency_ms.p99 * 100 | round / 100) | \($cpu) | \($rss) | \($rb) | \($ack) |"' "$j"
    done
} >"$TABLE"

CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
NOTES="$(nproc) CPUs ($CPU_MODEL), $(uname -r); loadavg before/after the runs: $LOAD_BEFORE / $LOAD_AFTER"
{
    echo
    pairs=''
    for ((i = 1; i <= REPEAT; i++)); do
        pairs+=$(jq -rn --slurpfile n "$RESULTS_DIR/closed-nginx-$i.json" --slurpfile g "$RESULTS_DIR/closed-gateway-$i.json" \
            '"\($g[0].hits.per_second | floor) / \($n[0].hits.per_second | floor) = \(100 * $g[0].hits.per_second / $n[0].hits.per_second | round)%"')
        if ((i < REPEAT)); then pairs+='; '; fi
    done
    echo "Closed-loop pairs (gateway / nginx hits/s, run one after the other): $pairs."
    # The acceptance figure of docs/performance.md: what a hit costs the gateway and its Redis together
    # against what a request costs nginx, from the two runs of the median pair.
    gw_cpu=$(IFS='|' read -r _ _ c _ <"$RESULTS_DIR/$MEDIAN_GW.row"; awk -v c="$c" 'BEGIN {n = split(c, p, " [+] "); s = 0; for (i = 1; i <= n; i++) s += p[i]; printf "%.2f", s}')
    nginx_cpu=$(IFS='|' read -r _ _ c _ <"$RESULTS_DIR/$MEDIAN_NGINX.row"; echo "$c")
    echo "CPU s per 100,000 hits in the median pair: gateway + Redis $gw_cpu, nginx $nginx_cpu ($(awk -v g="$gw_cpu" -v n="$nginx_cpu" 'BEGIN {if (n > 0) printf "%.1f", g / n; else print "-"}') times nginx's)."
    echo "Load generator CPU per 100k requests in the median pair: $(jq -r '.loadgen_cpu_s / .requests.completed * 100000 * 100 | round / 100' "$RESULTS_DIR/$MEDIAN_NGINX.json") s against nginx, $(jq -r '.loadgen_cpu_s / .requests.completed * 100000 * 100 | round / 100' "$RESULTS_DIR/$MEDIAN_GW.json") s against the gateway."
    verified=$(cat "$RESULTS_DIR"/*gateway*.json | jq -s '[.[] | select(.redis.match == true)] | length')
    echo "Acknowledged = queued in $verified of $(find "$RESULTS_DIR" -name '*gateway*.json' | wc -l) gateway runs."
    echo "Machine: $NOTES"
    echo "Load: $CONNECTIONS connections, loadgen $LOADGEN_THREADS thread(s), keep-alive, pageview mix; closed runs ${DURATION} s, open runs ${OPEN_DURATION} s."
    echo "Gateway: --queues $QUEUES --threads $GATEWAY_THREADS --compression-level $COMPRESSION --access-log false; nginx: worker_processes auto, return 204."
    echo "CPU s / 100k hits: the server's own utime+stime (nginx: master and workers), + Redis's used_cpu_user+sys during the run; Redis B/hit: used_memory growth per queued hit (stored value bytes per hit)."
} >>"$TABLE"

# Open-loop curve: offered, nginx hits/s p50 p99, gateway hits/s p50 p99.
DATA=$RESULTS_DIR/open.dat
{
    echo "# offered nginx_hits nginx_p50 nginx_p99 gateway_hits gateway_p50 gateway_p99"
    for rate in "${OPEN_RATES[@]}"; do
        line=$rate
        for kind in nginx gateway; do
            f=$RESULTS_DIR/open-$rate-$kind.json
            if [ -s "$f" ]; then line+=" $(jq -r '"\(.hits.per_second) \(.latency_ms.p50) \(.latency_ms.p99)"' "$f")"
            else line+=" ? ? ?"; fi
        done
        echo "$line"
    done
} >"$DATA"
if ((${#OPEN_RATES[@]} > SKIPPED)); then
    gnuplot -e "data='$DATA'; outdir='$IMG_DIR'; subtitle='$(nproc) CPUs, $CONNECTIONS connections, $(date -u +%Y-%m-%d)'" \
        "$ROOT/scripts/plot-bench.gp" || log "gnuplot failed; the table is still valid"
fi

echo
cat "$TABLE"
echo
echo "Pictures: $IMG_DIR/bench-throughput.png, $IMG_DIR/bench-latency.png; raw results: $RESULTS_DIR"

# Geolocation cost per hit: the test database written by libmaxmind-db-writer-perl, and a full-size
# city database when GEOIP_DB names one (e.g. GEOIP_DB=dbip-city-lite-2026-11.mmdb make bench).
GEO_BENCH="$(dirname "$GW_BIN")/matomo-geo-bench"
if [ -x "$GEO_BENCH" ]; then
    GEO_DIR="$RESULTS_DIR/geo"
    mkdir -p "$GEO_DIR"
    if perl "$ROOT/tests/geoip/make_test_mmdb.pl" "$GEO_DIR" >/dev/null 2>&1; then
        echo "Geo lookup cost (test database): $("$GEO_BENCH" "$GEO_DIR/city.mmdb" 1000000)"
    fi
    if [ -n "${GEOIP_DB:-}" ]; then
        echo "Geo lookup cost (full database): $("$GEO_BENCH" "$GEOIP_DB" 1000000)"
    fi
fi
if ((MISMATCH)); then
    log "FAILED: a run's acknowledged hits differ from the hits queued in Redis (or a run produced no result)"
    exit 1
fi
