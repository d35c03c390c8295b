#!/usr/bin/env python3
"""Turns deploy/haproxy/haproxy.cfg into a loopback test configuration (driven by haproxy_e2e.sh).

  haproxy_config.py SHIPPED OUT FRONT_PORT GATEWAY_PORT ADMIN_PORT UI_PORT STATS_PORT

Keeps the shipped routing, checks and options as they are and changes only where things run: the
frontend binds 127.0.0.1:FRONT_PORT, the gateway backend has one server 127.0.0.1:GATEWAY_PORT checked on
ADMIN_PORT, the matomo backend points at a `listen matomo_ui` answering "matomo-ui", and a stats page
listens on STATS_PORT. The process runs in the foreground without privileges, syslog or a large maxconn.
Fails (exit 1) when the shipped file lacks what the deployment docs promise.
"""
import re
import sys

shipped, out_path = sys.argv[1], sys.argv[2]
front, gateway, admin, ui, stats = sys.argv[3:8]

problems = []
sections = []  # [header, [lines]]
with open(shipped) as f:
    for raw in f:
        line = raw.rstrip("\n")
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not line[0].isspace():
            sections.append([stripped, []])
        elif sections:
            sections[-1][1].append(stripped)


def section(header):
    for s in sections:
        if s[0] == header:
            return s
    problems.append(f"no `{header}` section")
    return [header, []]


def require(sec, pattern, what):
    if not any(re.fullmatch(pattern, line) for line in sec[1]):
        problems.append(f"`{sec[0]}` has no {what}")


glob = section("global")
glob[1] = [l for l in glob[1] if not re.match(r"(log|user|group|daemon|chroot|pidfile|stats socket|maxconn)\b", l)]
glob[1].append("maxconn 1000")  # the production value needs an fd limit an unprivileged test may not have

fe = section("frontend www")
require(fe, r"bind :80", "`bind :80`")
require(fe, r"use_backend matomo_gateway if tracking", "`use_backend matomo_gateway if tracking`")
require(fe, r"default_backend matomo", "`default_backend matomo`")
for p in ("/matomo.php", "/piwik.php", "/matomo.js", "/piwik.js"):
    require(fe, rf"acl tracking path (\S+ )*{re.escape(p)}( \S+)*", f"`acl tracking path ... {p}`")
require(fe, r"acl tracking path_beg /js/", "`acl tracking path_beg /js/`")
fe[1] = [l for l in fe[1] if not l.startswith("bind ")] + [f"bind 127.0.0.1:{front}"]

gw = section("backend matomo_gateway")
require(gw, r"option forwardfor( .*)?", "`option forwardfor`")
require(gw, r"option httpchk GET /readyz", "`option httpchk GET /readyz`")
require(gw, r"server \S+ \S+ .*\bcheck port 9090\b.*", "server checked with `check port 9090`")
first = next((l for l in gw[1] if l.startswith("server ")), None)
if first:
    words = first.split()
    words[2] = f"127.0.0.1:{gateway}"
    first = re.sub(r"\bport 9090\b", f"port {admin}", " ".join(words))
gw[1] = [l for l in gw[1] if not l.startswith("server ")] + ([first] if first else [])

ui_backend = section("backend matomo")
if not any(l.startswith("server ") for l in ui_backend[1]):
    problems.append("`backend matomo` has no server")
ui_backend[1] = [l for l in ui_backend[1] if not l.startswith("server ")] + [f"server matomo1 127.0.0.1:{ui} check"]

if problems:
    for p in problems:
        print(f"FAIL: {shipped}: {p}", file=sys.stderr)
    sys.exit(1)

sections.append(["listen matomo_ui", [f"bind 127.0.0.1:{ui}",
                                      "http-request return status 200 content-type text/plain string matomo-ui"]])
sections.append(["listen stats", [f"bind 127.0.0.1:{stats}", "stats enable", "stats uri /stats", "stats refresh 1s"]])
with open(out_path, "w") as f:
    for header, lines in sections:
        f.write(header + "\n")
        for l in lines:
            f.write("    " + l + "\n")
        f.write("\n")
