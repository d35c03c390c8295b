#!/usr/bin/env bash
# Every metric the alert rules (deploy/prometheus/matomo-gateway-rules.yml) query exists in a real
# /metrics scrape: starts redis-server and the gateway on loopback with queue sampling on, sends a hit,
# waits for a queue sample, scrapes the admin listener and checks each rule (prometheus_rules.py).
#   tests/deploy/prometheus_rules.sh <matomo-gateway binary>
set -euo pipefail
binary="${1:?usage: prometheus_rules.sh <matomo-gateway binary>}"
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
deploy_init rules redis-server redis-cli curl /usr/bin/python3
[ -x "$binary" ] || deploy_fail "$binary is not an executable"
/usr/bin/python3 -c 'import yaml' 2>/dev/null || deploy_fail "python3-yaml is not installed"

deploy_start_redis
deploy_start_gateway "$binary" --access-log false --queues 2 --queue-sample-interval-ms 100

base="http://127.0.0.1:$GATEWAY_PORT"
status="$(curl -sS -o /dev/null -w '%{http_code}' \
  "$base/matomo.php?idsite=1&rec=1&action_name=Home&url=https%3A%2F%2Fexample.org%2F&_id=0123456789abcdef")"
[ "$status" = 200 ] || deploy_fail "the hit was answered $status, expected 200"

scrape="$DEPLOY_DIR/metrics.txt"
sampled() {
  curl -fsS -o "$scrape" "http://127.0.0.1:$ADMIN_PORT/metrics" &&
    grep -Eq '^matomo_gateway_queue_samples_total\{[^}]*outcome="ok"[^}]*\} [1-9]' "$scrape" &&
    grep -Eq '^matomo_gateway_queue_length\{[^}]*queue="0"[^}]*\} 1$' "$scrape"
}
deploy_wait 20 "a queue sample that sees the hit" sampled

/usr/bin/python3 "$here/prometheus_rules.py" "$src/deploy/prometheus/matomo-gateway-rules.yml" "$scrape"
