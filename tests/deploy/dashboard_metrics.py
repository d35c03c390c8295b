#!/usr/bin/env python3
"""Checks a Grafana dashboard's PromQL against a real /metrics scrape (driven by grafana_metrics.sh).

  dashboard_metrics.py DASHBOARD.json SCRAPE.txt

Every metric name a panel or template variable queries must exist in the scrape: as a sample, as a
declared family (`# TYPE`; a labelled counter has no sample until its first event), or as the
_bucket/_sum/_count series of a declared histogram. Label names used in a selector must exist on that
metric's samples (job and instance are added by Prometheus). Names must start with matomo_gateway_ or
process_. Also checks that the JSON is a dashboard with unique panel ids and a data source per query.

The other direction too: every spool family the gateway exports (matomo_gateway_spool_*) is queried by
some panel, so the dashboard cannot lag behind the spool. And no text in the dashboard (text panels,
titles, descriptions) announces a feature as missing ("does not exist yet", "not yet available", "upcoming",
"until then", ...): such a sentence goes stale the day the feature lands, as it did once for the spool.
Prints one line per failure, exits 1 if there is any.
"""
import json
import re
import sys

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
            "offset", "inf", "nan"}
ADDED_BY_PROMETHEUS = {"job", "instance"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
# Families whose every member must appear in some query.
MUST_BE_SHOWN = ("matomo_gateway_spool_",)
# Words that announce a missing feature in dashboard text.
MISSING_FEATURE = re.compile(
    r"\b((?:does|do|is|are)\s+not\s+(?:yet\s+)?(?:exist|available|implemented|supported)|(?:does|do)n't\s+exist|"
    r"not\s+yet\s+(?:available|implemented|supported|exist|there|done|built|shipped)|upcoming|coming\s+soon|"
    r"will\s+(?:be\s+added|come|follow)|until\s+then|planned|todo|tbd|placeholder)\b",
    re.IGNORECASE)

from checklib import fail, failures, ok  # noqa: E402,F401  (tests/deploy/checklib.py)


def parse_scrape(text):
    """({sample name: set of label names}, {family: type})"""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            types[name] = kind.strip()
        elif line and not line.startswith("#"):
            m = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s", line)
            if not m:
                fail(f"unparsable exposition line: {line!r}")
                continue
            labels = set(re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="', m.group(3) or ""))
            samples.setdefault(m.group(1), set()).update(labels)
    return samples, types


def blank_strings(expr):
    return re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)


def selectors(expr):
    """[(metric name, [label names in its matcher])] for every vector selector of a PromQL expression."""
    s = blank_strings(expr)
    s = re.sub(r"\[[^\]]*\]", " ", s)  # range and subquery durations
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "{":
            end = s.index("}", i)
            fail(f"selector without a metric name in {expr!r}")
            i = end + 1
            continue
        if c.isdigit() or (c == "." and i + 1 < len(s) and s[i + 1].isdigit()):
            m = re.match(r"[0-9.]+(e[+-]?[0-9]+)?", s[i:], re.I)
            i += m.end()
            continue
        if c == "$":  # a Grafana variable outside a string, e.g. $__interval
            m = re.match(r"\$\{?[A-Za-z0-9_]+\}?", s[i:])
            i += m.end() if m else 1
            continue
        m = IDENT.match(s, i)
        if not m:
            i += 1
            continue
        name, j = m.group(0), m.end()
        rest = s[j:].lstrip()
        if rest.startswith("("):
            i = j  # a function or aggregation
            continue
        if name.lower() in KEYWORDS:
            i = j
            continue
        labels = []
        if rest.startswith("{"):
            start = s.index("{", j)
            end = s.index("}", start)
            labels = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)", s[start + 1:end])
            j = end + 1
        out.append((name, labels))
        i = j
    return out


def label_values_queries(query):
    """[(metric or None, [matcher labels], label)] for Grafana's label_values(...) template queries."""
    out = []
    for m in re.finditer(r"label_values\(\s*(?:([A-Za-z_:][A-Za-z0-9_:]*)\s*(\{[^}]*\})?\s*,\s*)?([A-Za-z_]\w*)\s*\)",
                         blank_strings(query)):
        labels = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)", m.group(2) or "")
        out.append((m.group(1), labels, m.group(3)))
    return out


def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


def check_name(name, labels, where, samples, types):
    if not (name.startswith("matomo_gateway_") or name.startswith("process_")):
        fail(f"{where}: {name} is not a matomo_gateway_* or process_* metric")
    base = next((name[: -len(s)] for s in HISTOGRAM_SUFFIXES if name.endswith(s)), None)
    if types.get(name) in ("histogram", "summary") and name not in samples:
        fail(f"{where}: {name} is a {types[name]}: query {name}_bucket, _sum or _count")
        return
    if name in samples or name in types:
        pass
    elif base and types.get(base) in ("histogram", "summary"):
        pass
    elif base and base in types:
        fail(f"{where}: {name}: {base} is a {types[base]}, not a histogram")
        return
    else:
        fail(f"{where}: {name} is not in /metrics")
        return
    if name in samples:
        for label in labels:
            if label not in samples[name] and label not in ADDED_BY_PROMETHEUS:
                fail(f"{where}: {name} has no label {label!r} (it has {sorted(samples[name])})")


def panel_texts(p):
    """Human-readable strings of a panel: title, description, a text panel's content."""
    out = [p.get("title") or "", p.get("description") or ""]
    opts = p.get("options") or {}
    if isinstance(opts, dict) and isinstance(opts.get("content"), str):
        out.append(opts["content"])
    if isinstance(p.get("content"), str):  # old text panels
        out.append(p["content"])
    return [t for t in out if t]


def queried_family(name, types):
    """The exported family a queried series belongs to (histogram _bucket/_sum/_count -> the histogram)."""
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and types.get(name[: -len(suffix)]) in ("histogram", "summary"):
            return name[: -len(suffix)]
    return name


def main():
    with open(sys.argv[1]) as f:
        dash = json.load(f)
    with open(sys.argv[2]) as f:
        samples, types = parse_scrape(f.read())
    if not samples:
        fail("the scrape holds no samples")

    for key in ("title", "uid", "panels", "schemaVersion"):
        if key not in dash:
            fail(f"the dashboard has no {key!r}")
    ids, names_checked = set(), set()
    for p in walk_panels(dash.get("panels", [])):
        where = f"panel {p.get('id')} {p.get('title')!r}"
        if p.get("id") in ids:
            fail(f"{where}: duplicate panel id")
        ids.add(p.get("id"))
        if "gridPos" not in p:
            fail(f"{where}: no gridPos")
        for text in panel_texts(p):
            m = MISSING_FEATURE.search(text)
            if m:
                fail(f"{where}: its text announces a missing feature ({m.group(0)!r}): {text!r}")
        for t in p.get("targets", []):
            if "datasource" not in t and "datasource" not in p:
                fail(f"{where}: query {t.get('refId')} has no data source")
            expr = t.get("expr", "")
            if not expr.strip():
                fail(f"{where}: query {t.get('refId')} has no expr")
                continue
            sels = selectors(expr)
            if not sels:
                fail(f"{where}: no metric found in {expr!r}")
            for name, labels in sels:
                check_name(name, labels, where, samples, types)
                names_checked.add(name)

    for var in dash.get("templating", {}).get("list", []):
        if var.get("type") != "query":
            continue
        q = var.get("query")
        q = q.get("query", "") if isinstance(q, dict) else (q or "")
        where = f"variable ${var.get('name')}"
        found = label_values_queries(q)
        if not found:
            fail(f"{where}: not a label_values() query: {q!r}")
        for metric, labels, label in found:
            if metric is None:
                fail(f"{where}: label_values without a metric scans every series; name one")
                continue
            check_name(metric, labels, where, samples, types)
            names_checked.add(metric)
            if metric in samples and label not in samples[metric] and label not in ADDED_BY_PROMETHEUS:
                fail(f"{where}: {metric} has no label {label!r}")

    for text in (dash.get("title") or "", dash.get("description") or ""):
        m = MISSING_FEATURE.search(text)
        if m:
            fail(f"the dashboard's own text announces a missing feature ({m.group(0)!r}): {text!r}")

    shown = {queried_family(n, types) for n in names_checked}
    for family in sorted(types):
        if family.startswith(MUST_BE_SHOWN) and family not in shown:
            fail(f"{family} is exported but no panel queries it")

    print(f"checked {len(names_checked)} metric names in {len(ids)} panels: {' '.join(sorted(names_checked))}")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
