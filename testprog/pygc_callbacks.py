"""rtmon gc's CPython truth from the interpreter itself: every collection as gc.callbacks reports it
(its generation, and the objects it found unreachable: collected + uncollectable, which is what
gc__done and the collector function's return value carry), and gc.get_stats()'s totals per
generation. Collections of every generation: gc.collect(0), (1), (2) with known garbage, then
automatic ones from low thresholds and reference cycles made in a loop.

Usage: pythonX.Y pygc_callbacks.py [ROUNDS]. Prints "ready" once the callback is registered and
automatic collection is off, waits for one line on stdin (EOF starts it at once; rtmon -p attaches
meanwhile), then one JSON line: {"collections": [[generation, found], ...], "stats_before": ...,
"stats_after": ...} (gc.get_stats() at "ready" and at the end), then os._exit (no collections at
shutdown).
"""
import gc
import json
import os
import sys

gc.disable()
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
seen = []
pending = []


def on_gc(phase, info):
    # "start" carries the generation, "stop" what was found; paired here, one entry per collection.
    if phase == "start":
        pending.append(info["generation"])
    else:
        seen.append([pending.pop(), info["collected"] + info["uncollectable"]])


def stats():
    return [[s["collections"], s["collected"] + s["uncollectable"]] for s in gc.get_stats()]


gc.callbacks.append(on_gc)
before = stats()
os.write(1, b"ready\n")  # one write: rtmon shares stdout with -- CMD
sys.stdin.readline()
for generation in range(3):
    for _ in range(generation + 1):
        cycle = []
        cycle.append(cycle)
        del cycle
    gc.collect(generation)
gc.set_threshold(100, 4, 4)
gc.enable()
for i in range(rounds):
    a, b = [], {}
    a.append(b)
    b[i] = a
    del a, b
gc.disable()
after = stats()
os.write(1, (json.dumps({"collections": seen, "stats_before": before, "stats_after": after}) + "\n")
         .encode())
os._exit(0)
