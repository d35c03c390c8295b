#!/usr/bin/env bash
# Every metric the Grafana dashboard (deploy/grafana/matomo-gateway.json) queries exists in a real
# /metrics scrape: starts redis-server and the gateway on loopback, sends a hit and a refused request,
# scrapes the admin listener and checks the dashboard's PromQL against it (dashboard_metrics.py).
#   tests/deploy/grafana_metrics.sh <matomo-gateway binary>
set -euo pipefail
binary="${1:?usage: grafana_metrics.sh <matomo-gateway binary>}"
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
deploy_init grafana redis-server redis-cli curl /usr/bin/python3
[ -x "$binary" ] || deploy_fail "$binary is not an executable"

deploy_start_redis
deploy_start_gateway "$binary" --access-log false

base="http://127.0.0.1:$GATEWAY_PORT"
status="$(curl -sS -o /dev/null -w '%{http_code}' \
  "$base/matomo.php?idsite=1&rec=1&action_name=Home&url=https%3A%2F%2Fexample.org%2F&_id=0123456789abcdef")"
[ "$status" = 200 ] || deploy_fail "the hit was answered $status, expected 200"
# A refused request, so matomo_gateway_hits_rejected_total has a series with its reason label.
status="$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE "$base/matomo.php?idsite=1&rec=1")"
case "$status" in 4*) ;; *) deploy_fail "DELETE /matomo.php was answered $status, expected a 4xx refusal" ;; esac

scrape="$DEPLOY_DIR/metrics.txt"
curl -fsS -o "$scrape" "http://127.0.0.1:$ADMIN_PORT/metrics" || deploy_fail "GET /metrics failed"
grep -Eq '^matomo_gateway_hits_total\{[^}]*outcome="queued"[^}]*\} [1-9]' "$scrape" ||
  deploy_fail "the scrape does not count the queued hit"

/usr/bin/python3 "$here/dashboard_metrics.py" "$src/deploy/grafana/matomo-gateway.json" "$scrape"
