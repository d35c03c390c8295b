#!/usr/bin/env python3
"""Derives the fuzz seed corpora (fuzz/corpus/<target>/) from the recorded QueuedTracking fixtures.

Usage: fuzz/make_corpus.py [FIXTURES_DIR]   (default: tests/fixtures/queuedtracking of this repository,
where the tests find them too). Rewrites the seed-* files; reproducers saved by hand as
crash-* files are left alone. Deterministic: the same fixtures give the same files.
"""
import base64
import json
import pathlib
import sys
from urllib.parse import urlsplit

ROOT = pathlib.Path(__file__).resolve().parent
FIXTURES = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "tests/fixtures/queuedtracking"


def load_fixtures():
    cases = []
    for path in sorted(FIXTURES.glob("[0-9][0-9]_*.json")):
        case = json.loads(path.read_text())
        req = case["request"]
        cases.append({
            "name": path.stem,
            "target": req["target"],
            "headers": req["headers"],
            "body": base64.b64decode(req["body"]["base64"]) if req.get("body") else b"",
            "raw": base64.b64decode(req["raw_base64"]),
            "values": [e["decompressed_text"].encode() for e in case["redis"]["new_entries"]],
        })
    if not cases:
        sys.exit(f"make_corpus: no fixtures in {FIXTURES}")
    return cases


def header(case, name):
    return [v for n, v in case["headers"] if n.lower() == name.lower()]


def keep_alive(raw):
    return raw.replace(b"Connection: close\r\n", b"Connection: keep-alive\r\n")


def chunked(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = [l for l in head.split(b"\r\n") if not l.lower().startswith(b"content-length:")]
    lines.append(b"Transfer-Encoding: chunked")
    half = len(body) // 2
    parts = [body[:half], body[half:]]
    encoded = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts if p) + b"0\r\n\r\n"
    return b"\r\n".join(lines) + b"\r\n\r\n" + encoded


PROXY_V1 = b"PROXY TCP4 198.51.100.22 127.0.0.1 51234 8080\r\n"
PROXY_V1_V6 = b"PROXY TCP6 2001:db8::22 ::1 51234 8080\r\n"
PROXY_V1_UNKNOWN = b"PROXY UNKNOWN\r\n"
V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"
# v2 PROXY, TCP over IPv4: 198.51.100.22:51234 -> 127.0.0.1:8080
PROXY_V2 = V2_SIG + b"\x21\x11\x00\x0c" + bytes([198, 51, 100, 22, 127, 0, 0, 1]) + b"\xc8\x22\x1f\x90"
# v2 PROXY, TCP over IPv6, with one NOOP TLV
PROXY_V2_V6 = (V2_SIG + b"\x21\x21\x00\x27" + bytes.fromhex("20010db8000000000000000000000022")
               + bytes(15) + b"\x01" + b"\xc8\x22\x1f\x90" + b"\x04\x00\x00")
PROXY_V2_LOCAL = V2_SIG + b"\x20\x00\x00\x00"


def seeds(cases):
    out = {"query_form": {}, "bulk_json": {}, "session": {}, "client_ip": {}, "small_deflate": {}}

    for c in cases:
        query = urlsplit(c["target"]).query
        if query:
            out["query_form"][f"seed-query-{c['name']}"] = query.encode()
        if c["body"] and not c["body"].lstrip().startswith(b"{"):
            out["query_form"][f"seed-form-{c['name']}"] = c["body"]
        for i, cookie in enumerate(header(c, "Cookie")):
            out["query_form"][f"seed-cookie-{c['name']}-{i}"] = cookie.encode()
    out["query_form"]["seed-nested-arrays"] = b"a[]=1&a[]=2&b[x][y]=3&c[=4&d.e f=5&a[5]=6&%61%5B%5D=7"
    out["query_form"]["seed-invalid-utf8"] = b"action_name=%C3%28%FF&url=%E2%82&%F0%9F%98=x"
    out["query_form"]["seed-entities"] = b"uid=a%26amp%3B%26%23x41%3B%26lt%3B%0D%0A%00b"

    for c in cases:
        if c["body"].lstrip().startswith(b"{"):
            out["bulk_json"][f"seed-{c['name']}"] = c["body"]
    for c in cases:
        query = urlsplit(c["target"]).query
        if query and c["target"].startswith("/matomo.php"):
            out["bulk_json"][f"seed-as-bulk-{c['name']}"] = json.dumps({"requests": ["?" + query]}).encode()
    out["bulk_json"]["seed-objects"] = json.dumps({"requests": [
        {"idsite": 1, "rec": 1, "_id": "1111000000000001", "url": "http://example.test/a", "cip": "1.2.3.4"},
        {"idsite": "1", "rec": "1", "uid": "user@example.com", "country": "fr", "cdt": "1600000000"},
        "?idsite=1&rec=1&cid=0123456789abcdef&token_auth=abc&lat=1.5", "no-query-entry", 7, None,
    ], "token_auth": "client-token"}).encode()
    out["bulk_json"]["seed-send-image"] = b'{"requests":["?idsite=1&rec=1&send_image=0&gclid=x&url=http%3A%2F%2Fa.test%2F%3Fgclid%3D1"]}'
    out["bulk_json"]["seed-empty"] = b'{"requests":[]}'
    out["bulk_json"]["seed-crlf"] = b'{"requests":\r\n["?idsite=2&rec=1&_id=ffff\r\n000000000000"]}'

    for c in cases:
        out["session"][f"seed-{c['name']}"] = b"\x00" + c["raw"]
    by_name = {c["name"]: c for c in cases}
    first, second = cases[0]["raw"], cases[1]["raw"]
    out["session"]["seed-pipelined"] = b"\x00" + keep_alive(first) + keep_alive(second) + first
    out["session"]["seed-pipelined-partial-reads"] = b"\x08" + keep_alive(first) + second
    for name, c in by_name.items():
        if c["body"]:
            out["session"][f"seed-chunked-{name}"] = b"\x10" + chunked(c["raw"])
        if header(c, "X-Forwarded-For"):
            out["session"][f"seed-trusted-{name}"] = b"\x02" + c["raw"]
    out["session"]["seed-strict-overloaded"] = b"\x24" + first
    out["session"]["seed-proxy-v1"] = b"\x01" + PROXY_V1 + first
    out["session"]["seed-proxy-v2"] = b"\x03" + PROXY_V2 + keep_alive(first) + second
    out["session"]["seed-options-preflight"] = (b"\x00OPTIONS /matomo.php HTTP/1.1\r\nHost: a\r\n"
                                                b"Origin: https://example.test\r\nAccess-Control-Request-Method: POST\r\n\r\n")
    out["session"]["seed-js-and-404"] = b"\x00GET /matomo.js HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n"
    # Large limits (mode bit 6): a field longer than Beast's fields hold is answered 431; one at the
    # longest it holds is handled, and the connection goes on.
    out["session"]["seed-large-limits-long-field"] = (b"\x40GET /matomo.php?idsite=1&rec=1 HTTP/1.1\r\nHost: a\r\n"
                                                      b"X-Long: " + b"a" * 70000 + b"\r\n\r\n")
    out["session"]["seed-large-limits-longest-field"] = (b"\x40GET /matomo.php?idsite=1&rec=1 HTTP/1.1\r\nHost: a\r\n"
                                                         b"Connection: keep-alive\r\nX-Long: " + b"a" * 65533 +
                                                         b"\r\n\r\n" + first)

    for name, c in by_name.items():
        for i, xff in enumerate(header(c, "X-Forwarded-For")):
            out["client_ip"][f"seed-xff-{name}-{i}"] = f"10.0.0.1\n10.0.0.0/8\nX-Forwarded-For: {xff}\n".encode()
    out["client_ip"]["seed-forwarded"] = (b"127.0.0.1\n127.0.0.1, 192.0.2.0/24\n"
                                          b'Forwarded: for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711"\n'
                                          b"X-Real-IP: 203.0.113.9\n")
    out["client_ip"]["seed-ipv6-mapped"] = b"::ffff:10.1.2.3\n::ffff:10.0.0.0/104, fe80::/10\nX-Forwarded-For: unknown, fe80::1%eth0, 2001:DB8::1\n"
    out["client_ip"]["seed-proxy-v1"] = PROXY_V1 + b"GET / HTTP/1.1\r\n"
    out["client_ip"]["seed-proxy-v1-ipv6"] = PROXY_V1_V6
    out["client_ip"]["seed-proxy-v1-unknown"] = PROXY_V1_UNKNOWN
    out["client_ip"]["seed-proxy-v2"] = PROXY_V2 + b"GET / HTTP/1.1\r\n"
    out["client_ip"]["seed-proxy-v2-ipv6-tlv"] = PROXY_V2_V6
    out["client_ip"]["seed-proxy-v2-local"] = PROXY_V2_LOCAL

    # small_deflate: the queue values stock wrote, and the edge cases of the encoder.
    for c in cases:
        for i, value in enumerate(c["values"]):
            out["small_deflate"][f"seed-value-{c['name']}-{i}"] = value
    out["small_deflate"]["seed-empty"] = b""
    out["small_deflate"]["seed-one-byte"] = b"x"
    out["small_deflate"]["seed-three-bytes"] = b"abc"
    out["small_deflate"]["seed-run-259"] = b"a" * 259
    out["small_deflate"]["seed-all-bytes"] = bytes(range(256)) * 2
    out["small_deflate"]["seed-far-copy"] = (b"<marker of a far copy>" + bytes(i * 7 % 251 for i in range(30000))
                                             + b"<marker of a far copy>")
    return out


def main():
    for target, files in seeds(load_fixtures()).items():
        folder = ROOT / "corpus" / target
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("seed-*"):
            old.unlink()
        for name, data in sorted(files.items()):
            (folder / name).write_bytes(data)
        print(f"{target}: {len(files)} seeds")


if __name__ == "__main__":
    main()
