"""Shared reporting for the tests/deploy checkers: ok/fail lines and the exit status."""
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def ok(msg):
    print("ok:   " + msg)

