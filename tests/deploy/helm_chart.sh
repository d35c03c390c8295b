#!/usr/bin/env bash
# Static checks of the Helm chart without helm (not in Debian 12): YAML well-formed, every .Values path
# the templates use exists in values.yaml and every value is used, includes resolve. See helm_chart.py.
#   tests/deploy/helm_chart.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# Debian's python3 with python3-yaml, not whatever python3 comes first in PATH.
/usr/bin/python3 -c 'import yaml' 2>/dev/null || { echo "FAIL: python3-yaml is not installed" >&2; exit 1; }
exec /usr/bin/python3 "$here/helm_chart.py" "$(cd "$here/../.." && pwd)"
