#!/usr/bin/env python3
"""Checks the alert rules file against a real /metrics scrape (driven by prometheus_rules.sh).

  prometheus_rules.py RULES.yml SCRAPE.txt

The file must be a Prometheus rule file (groups of rules, each alert with expr, for, a severity label
and a summary). Every metric name an expression uses must be exported by the gateway, with the labels
its matchers name (the same check as the Grafana dashboard's, dashboard_metrics.py). Alert names are
unique. Prints one line per failure, exits 1 if there is any.
"""
import re
import sys

import yaml  # Debian: python3-yaml

from checklib import fail, failures, ok  # noqa: E402,F401  (tests/deploy/checklib.py)
from dashboard_metrics import check_name, parse_scrape, selectors

DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


def main():
    with open(sys.argv[1]) as f:
        rules = yaml.safe_load(f)
    with open(sys.argv[2]) as f:
        samples, types = parse_scrape(f.read())
    if not samples:
        fail("the scrape holds no samples")
    groups = rules.get("groups") if isinstance(rules, dict) else None
    if not groups:
        fail("the rules file has no groups")
        groups = []
    names, checked, count = set(), set(), 0
    for g in groups:
        for r in g.get("rules", []):
            count += 1
            alert = r.get("alert")
            where = f"group {g.get('name')!r} alert {alert!r}"
            if not alert:
                fail(f"{where}: not an alerting rule")
                continue
            if alert in names:
                fail(f"{where}: duplicate alert name")
            names.add(alert)
            if not DURATION.match(str(r.get("for", ""))):
                fail(f"{where}: no valid 'for' duration")
            if r.get("labels", {}).get("severity") not in ("warning", "critical"):
                fail(f"{where}: severity must be warning or critical")
            if not r.get("annotations", {}).get("summary"):
                fail(f"{where}: no summary annotation")
            expr = str(r.get("expr", ""))
            sels = selectors(expr)
            if not sels:
                fail(f"{where}: no metric in {expr!r}")
            for name, labels in sels:
                check_name(name, labels, where, samples, types)
                checked.add(name)
    print(f"checked {count} rules using {len(checked)} metric names: {' '.join(sorted(checked))}")
    print(f"{len(failures)} failure(s)")
    return 1 if failures or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
