"""rtmon gc's CPython test program: automatic collection off, then exactly N gc.collect() calls, the
i-th (from 1) with i unreachable reference cycles to find, then os._exit (no collections at shutdown).

Usage: python3.11 pygc.py N. Prints "ready" once automatic collection is off, then waits for one line
on stdin (EOF starts it at once), like testprog/tp_gate.h.
"""
import gc
import os
import sys

gc.disable()
n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
os.write(1, b"ready\n")  # one write: rtmon shares stdout with -- CMD
sys.stdin.readline()
for i in range(1, n + 1):
    for _ in range(i):
        cycle = []
        cycle.append(cycle)
        del cycle
    gc.collect()
os.write(1, b"done\n")
os._exit(0)
