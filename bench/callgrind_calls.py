#!/usr/bin/env python3
"""Prints the program's total instructions and its number of heap allocations from a callgrind
output file: the Ir total, then the calls into malloc/calloc/realloc/memalign (operator new goes
through malloc, so it is counted once there). Used by bench/profile.sh.
Usage: callgrind_calls.py <callgrind.out>"""
import re
import sys

ALLOC = {"malloc", "calloc", "realloc", "memalign", "aligned_alloc", "posix_memalign"}


def main(path):
    names = {}  # compressed id -> function name
    total = None
    allocs = 0
    target = None  # name of the function the next calls= line calls
    ref = re.compile(r"^\((\d+)\)(?: (.*))?$")
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("cfn=") or line.startswith("cfunc="):
                spec = line.split("=", 1)[1].strip()
                m = ref.match(spec)
                if m:
                    if m.group(2) is not None:
                        names[m.group(1)] = m.group(2)
                    target = names.get(m.group(1), "")
                else:
                    target = spec
            elif line.startswith("fn="):
                spec = line[3:].strip()
                m = ref.match(spec)
                if m and m.group(2) is not None:
                    names[m.group(1)] = m.group(2)
            elif line.startswith("calls="):
                if target in ALLOC:
                    allocs += int(line[6:].split()[0])
                target = None
            elif line.startswith("totals:") or line.startswith("summary:"):
                total = int(line.split()[1])
    if total is None:
        sys.exit(f"{path}: no totals line")
    print(total, allocs)


if __name__ == "__main__":
    main(sys.argv[1])
