#!/usr/bin/env python3
"""Static checks of helm/matomo-gateway that need no helm binary (driven by helm_chart.sh).

  helm_chart.py SOURCE_DIR

* Chart.yaml and values.yaml parse as YAML; Chart.yaml names the chart after its directory and its
  appVersion is project(VERSION) in CMakeLists.txt.
* Every .Values path the templates reference (directly or through `$x := .Values...` variables)
  exists in values.yaml, and every value in values.yaml is used by a template (no dead settings).
* Template actions are balanced (if/range/with/define against end), every include/template names a
  define or a template file, every .Files.Get names a file in the chart.
* The chart's dashboard copy is identical to deploy/grafana/matomo-gateway.json, and its alert rules
  copy to deploy/prometheus/matomo-gateway-rules.yml.
Prints one line per failure and exits 1 if there is any.
"""
import os
import re
import sys

import yaml  # Debian: python3-yaml

from checklib import fail, failures, ok  # noqa: E402,F401  (tests/deploy/checklib.py)


def load_yaml(path):
    try:
        with open(path) as f:
            return yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        fail(f"{path}: {e}")
        return None


def value_paths(node, prefix=()):
    """Every path of a mapping tree, leaves and inner nodes."""
    if isinstance(node, dict):
        for k, v in node.items():
            path = prefix + (str(k),)
            yield path, v
            yield from value_paths(v, path)


ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
VALUES_REF = re.compile(r"(\$?)\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


def template_actions(text):
    """The text of each {{ ... }} action, comments removed."""
    out = []
    for m in ACTION.finditer(text):
        body = m.group(1)
        if body.startswith("/*"):
            continue
        out.append(body)
    return out


def check_balance(name, actions):
    stack = []
    for a in actions:
        word = a.split()[0] if a.split() else ""
        if word in ("if", "range", "with", "define", "block"):
            stack.append(word)
        elif word == "end":
            if not stack:
                fail(f"{name}: `end` without an open block")
                return
            stack.pop()
    if stack:
        fail(f"{name}: unclosed {stack}")


def main():
    src = sys.argv[1]
    chart_dir = os.path.join(src, "helm", "matomo-gateway")
    chart = load_yaml(os.path.join(chart_dir, "Chart.yaml"))
    values = load_yaml(os.path.join(chart_dir, "values.yaml"))
    if chart is None or values is None:
        return 1
    if not isinstance(values, dict):
        fail("values.yaml is not a mapping")
        return 1
    ok("Chart.yaml and values.yaml parse")

    for key in ("apiVersion", "name", "version", "appVersion"):
        if key not in chart:
            fail(f"Chart.yaml has no {key}")
    if chart.get("apiVersion") != "v2":
        fail("Chart.yaml: apiVersion must be v2 (Helm 3)")
    if chart.get("name") != os.path.basename(chart_dir):
        fail(f"Chart.yaml: name {chart.get('name')!r} differs from the directory name")
    if not re.fullmatch(r"\d+\.\d+\.\d+([-+].*)?", str(chart.get("version", ""))):
        fail(f"Chart.yaml: version {chart.get('version')!r} is not SemVer")
    with open(os.path.join(src, "CMakeLists.txt")) as f:
        m = re.search(r"project\(\s*matomo-gateway\s+VERSION\s+([0-9.]+)", f.read())
    if not m:
        fail("CMakeLists.txt: no project(matomo-gateway VERSION ...)")
    elif str(chart.get("appVersion")) != m.group(1):
        fail(f"Chart.yaml: appVersion {chart.get('appVersion')!r} differs from the project version {m.group(1)}")
    else:
        ok(f"appVersion {m.group(1)} matches CMakeLists.txt")

    tdir = os.path.join(chart_dir, "templates")
    files = sorted(f for f in os.listdir(tdir) if os.path.isfile(os.path.join(tdir, f)))
    defines, includes, referenced = set(), [], {}
    for name in files:
        with open(os.path.join(tdir, name)) as f:
            text = f.read()
        actions = template_actions(text)
        check_balance(name, actions)
        variables = {}
        for a in actions:
            for d in re.findall(r'^define\s+"([^"]+)"', a):
                defines.add(d)
            for inc in re.findall(r'\b(?:include|template)\s+"([^"]+)"', a):
                includes.append((name, inc))
            for g in re.findall(r'\.Files\.Get\s+"([^"]+)"', a):
                if not os.path.isfile(os.path.join(chart_dir, g)):
                    fail(f"{name}: .Files.Get {g!r}: no such file in the chart")
            # `$x := .Values.a.b` makes `$x.c` mean .Values.a.b.c in the rest of the file.
            for var, path in re.findall(r"(\$[A-Za-z_][A-Za-z0-9_]*)\s*:?=\s*\$?\.Values((?:\.[A-Za-z_]\w*)+)", a):
                variables[var] = path
            for _, path in VALUES_REF.findall(a):
                referenced.setdefault(tuple(path.strip(".").split(".")), name)
            for var, path in variables.items():
                for sub in re.findall(re.escape(var) + r"((?:\.[A-Za-z_][A-Za-z0-9_]*)+)", a):
                    referenced.setdefault(tuple((path + sub).strip(".").split(".")), name)

    for name, inc in includes:
        if inc not in defines:
            fail(f"{name}: include {inc!r} names no define")
    ok(f"{len(includes)} includes resolve to {len(defines)} defines")

    known = dict(value_paths(values))
    missing = [(p, n) for p, n in sorted(referenced.items()) if p not in known]
    for p, n in missing:
        fail(f"{n}: .Values.{'.'.join(p)} is not in values.yaml")
    if not missing:
        ok(f"all {len(referenced)} .Values references exist in values.yaml")

    # A leaf is used when it, or a map above it (passed whole with toYaml or range), is referenced.
    leaves = [p for p, v in known.items() if not isinstance(v, dict) or not v]
    dead = [p for p in leaves if not any(p[:i] in referenced for i in range(1, len(p) + 1))]
    for p in dead:
        fail(f"values.yaml: {'.'.join(p)} is used by no template")
    if not dead:
        ok(f"all {len(leaves)} values in values.yaml are used by a template")

    for shipped_rel, copy_rel, what in (
            (("deploy", "grafana", "matomo-gateway.json"), ("dashboards", "matomo-gateway.json"), "dashboard"),
            (("deploy", "prometheus", "matomo-gateway-rules.yml"), ("prometheus", "matomo-gateway-rules.yml"),
             "alert rules")):
        shipped = os.path.join(src, *shipped_rel)
        copy = os.path.join(chart_dir, *copy_rel)
        try:
            with open(shipped, "rb") as a, open(copy, "rb") as b:
                if a.read() != b.read():
                    fail(f"{copy} differs from {shipped}: cp {shipped} {copy}")
                else:
                    ok(f"the chart's {what} is {'/'.join(shipped_rel)}")
        except OSError as e:
            fail(str(e))

    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
