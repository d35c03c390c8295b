#!/usr/bin/env bash
# deploy/haproxy/haproxy.cfg end to end: a real HAProxy (Debian's) with the shipped configuration, loopback
# ports substituted (haproxy_config.py), in front of a real gateway and redis-server, plus a stand-in for
# Matomo (an HAProxy `listen` answering "matomo-ui"). Checks that tracking paths reach the gateway and
# land in Redis with REMOTE_ADDR = the peer (127.0.0.1, since the gateway trusts no proxy by default, and a
# forged X-Forwarded-For changes nothing), that other paths reach Matomo, and that the /readyz health
# check takes the gateway out of rotation when Redis goes away.
#   tests/deploy/haproxy_e2e.sh <matomo-gateway binary>
set -euo pipefail
binary="${1:?usage: haproxy_e2e.sh <matomo-gateway binary>}"
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
deploy_init haproxy haproxy redis-server redis-cli curl php /usr/bin/python3
[ -x "$binary" ] || deploy_fail "$binary is not an executable"

haproxy -c -q -f "$src/deploy/haproxy/haproxy.cfg" || deploy_fail "haproxy -c rejects deploy/haproxy/haproxy.cfg"

deploy_start_redis
redis_pid=$SPAWNED_PID
# --ack redis: readiness then follows Redis alone. (With the default spool the gateway stays ready
# while Redis is down and turns unready only once the spool is full.)
deploy_start_gateway "$binary" --queues 1 --ack redis

# HAProxy binds its ports itself, so a port taken between choosing and binding is retried.
cfg="$DEPLOY_DIR/haproxy.cfg"
started=no
for _ in 1 2 3 4 5; do
  front="$(deploy_free_port)"; ui="$(deploy_free_port)"; stats="$(deploy_free_port)"
  /usr/bin/python3 "$here/haproxy_config.py" "$src/deploy/haproxy/haproxy.cfg" "$cfg" \
    "$front" "$GATEWAY_PORT" "$ADMIN_PORT" "$ui" "$stats"
  deploy_spawn "$DEPLOY_DIR/haproxy.log" haproxy -db -f "$cfg"
  haproxy_pid=$SPAWNED_PID
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$stats/stats" 2>/dev/null && { started=yes; break; }
    kill -0 "$haproxy_pid" 2>/dev/null || break
    sleep 0.05
  done
  [ "$started" = yes ] && break
  kill -KILL "$haproxy_pid" 2>/dev/null || true
done
[ "$started" = yes ] || deploy_fail "haproxy did not start"

# A field of a server's row in the stats CSV (columns found by name in the header).
server_field() {  # backend server column
  curl -fsS "http://127.0.0.1:$stats/stats;csv" |
    awk -F, -v b="$1" -v s="$2" -v c="$3" '
      NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
      $1 == b && $2 == s { print $(col[c]) }'
}
check_passed() { [ "$(server_field matomo_gateway gw1 check_status)" = L7OK ] && [ "$(server_field matomo_gateway gw1 status)" = UP ]; }
deploy_wait 20 "haproxy's /readyz check of the gateway to pass (L7OK)" check_passed

base="http://127.0.0.1:$front"
expect() {  # expect STATUS BODY_MATCH DESCRIPTION CURL_ARGS...: BODY_MATCH "ui" / "not-ui" / "-"
  local want="$1" body_rule="$2" what="$3"; shift 3
  local out="$DEPLOY_DIR/body" status
  status="$(curl -sS -o "$out" -w '%{http_code}' "$@")" || deploy_fail "$what: curl failed"
  case " $want " in *" $status "*) ;; *) deploy_fail "$what: status $status, expected $want" ;; esac
  case "$body_rule" in
    ui) grep -qx matomo-ui "$out" || deploy_fail "$what: did not reach the matomo backend" ;;
    not-ui) ! grep -q matomo-ui "$out" || deploy_fail "$what: reached the matomo backend, not the gateway" ;;
  esac
  echo "ok:   $what -> $status"
}

# Tracking through HAProxy: a GET image hit (with a forged X-Forwarded-For), a form POST, a /js/ hit.
expect 200 not-ui "GET /matomo.php hit" -H 'X-Forwarded-For: 203.0.113.9' \
  "$base/matomo.php?idsite=1&rec=1&action_name=get-hit&url=https%3A%2F%2Fexample.org%2F&_id=0123456789abcdef"
expect "200 204" not-ui "POST /matomo.php form hit" \
  --data 'idsite=1&rec=1&action_name=post-hit&url=https%3A%2F%2Fexample.org%2Fp&_id=0123456789abcdef' \
  "$base/matomo.php"
expect 200 not-ui "GET /js/ hit" "$base/js/?idsite=1&rec=1&action_name=js-hit&_id=0123456789abcdef"
# The tracker files are the gateway's too (404 until it has an origin or local files configured).
expect "200 404" not-ui "GET /matomo.js" "$base/matomo.js"
expect "200 404" not-ui "GET /piwik.js" "$base/piwik.js"
# So are the other public-edge paths (404 here: this gateway has no --matomo-origin).
expect "200 404" not-ui "GET a Tag Manager container" "$base/js/container_AbCd1234.js"
expect "200 404" not-ui "GET configs.php" "$base/plugins/HeatmapSessionRecording/configs.php?idsite=1&trackerid=abc123"
expect "200 404" not-ui "GET the opt-out" "$base/index.php?module=CoreAdminHome&action=optOutJS&language=auto"
# Everything else is Matomo's, JavaScript included.
expect 200 ui "GET /index.php" "$base/index.php?module=CoreHome&action=index"
expect 200 ui "GET /index.php, CoreAdminHome but not the opt-out" "$base/index.php?module=CoreAdminHome&action=generalSettings"
expect 200 ui "GET a plugin's JavaScript" "$base/plugins/CoreHome/javascripts/piwikHelper.js"
expect 200 ui "GET /jsx.js (not under /js/)" "$base/jsx.js"
expect 200 ui "GET /matomo.php.bak" "$base/matomo.php.bak"

# Exactly the eight tracking and public-edge requests reached the gateway.
metrics="$DEPLOY_DIR/metrics.txt"
curl -fsS -o "$metrics" "http://127.0.0.1:$ADMIN_PORT/metrics"
served="$(awk '/^matomo_gateway_http_requests_total\{/ && !/endpoint="admin"/ { n += $NF } END { print n + 0 }' "$metrics")"
[ "$served" = 8 ] || deploy_fail "the gateway answered $served tracking-path requests, expected 8"
echo "ok:   the gateway answered exactly the 8 tracking and public-edge requests"

# The three hits are in Redis, with the peer address and no proxy header.
len="$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" llen trackingQueueV1)"
[ "$len" = 3 ] || deploy_fail "trackingQueueV1 holds $len values, expected 3"
seen=""
for i in 0 1 2; do
  # redis-cli --raw writes the value's bytes followed by one newline, which PHP strips.
  # shellcheck disable=SC2016  # PHP code, not shell
  line="$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --raw lindex trackingQueueV1 "$i" | php -r '
    $v = substr(stream_get_contents(STDIN), 0, -1);
    $json = ($v !== "" && $v[0] === "{") ? $v : @gzuncompress($v);
    $set = json_decode((string)$json, true);
    if (!is_array($set)) { echo "undecodable\n"; exit(1); }
    $server = $set["env"]["server"] ?? [];
    $proxy = array_filter(array_keys($server), fn($k) => stripos($k, "FORWARDED") !== false);
    printf("%s %s %s\n", $set["requests"][0]["action_name"] ?? "-", $server["REMOTE_ADDR"] ?? "-",
           $proxy ? "proxy-header" : "clean");
  ')" || deploy_fail "value $i does not decode as QueuedTracking's gzcompress(json): $line"
  read -r action addr headers <<<"$line"
  [ "$addr" = 127.0.0.1 ] || deploy_fail "value $i ($action): REMOTE_ADDR is $addr, expected the peer 127.0.0.1"
  [ "$headers" = clean ] || deploy_fail "value $i ($action): a Forwarded header reached env.server"
  seen="$seen $action"
  echo "ok:   queued $action with REMOTE_ADDR $addr"
done
for action in get-hit post-hit js-hit; do
  case "$seen " in *" $action "*) ;; *) deploy_fail "hit $action is not in Redis (found:$seen)" ;; esac
done

# /readyz drives HAProxy: without Redis the gateway turns unready and HAProxy stops routing to it.
kill -TERM "$redis_pid"
check_down() { [ "$(server_field matomo_gateway gw1 status)" = DOWN ]; }
deploy_wait 30 "haproxy to mark the gateway DOWN after Redis stopped" check_down
expect 503 not-ui "GET /matomo.php with the only gateway DOWN" \
  "$base/matomo.php?idsite=1&rec=1&action_name=down&_id=0123456789abcdef"
echo "PASS"
