#!/usr/bin/env python3
"""What rtmon gc costs a Node.js program and how its durations compare with V8's own (not part of
make bench: run it by hand as root). Usage: node_gc_cost.py RTMON [NODE] [N]

1. Cost per collection: a script doing N gc({type: "minor"}) calls on an almost empty young
   generation (the cheapest collection V8 has: ~tens of us), the CPU time of the loop as the script
   measures it (process.cpuUsage), untraced and under `rtmon gc -p PID`, 9 rounds
   interleaved, medians.
2. Durations: testprog/nodegc.js full=20 minor=20 mb=64 under
   `rtmon gc --json -- NODE --trace-gc`: for each collection, V8's pause as --trace-gc prints it
   minus rtmon's duration of PerformGarbageCollection (what CollectGarbage does around it:
   prologue, epilogue, callbacks, the tracer's own work)."""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

RT = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build/rtmon"
NODE = sys.argv[2] if len(sys.argv) > 2 else "/usr/bin/node"
N = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
ROUNDS = 9
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# CPU time (user + system, process.cpuUsage) around the loop: the probes' traps are the target's
# system time; wall time would add whatever else the machine runs.
LOOP = ("const fs = require('fs'); fs.writeSync(1, 'ready\\n'); fs.readSync(0, Buffer.alloc(1), 0, 1, null);"
        "const t = process.cpuUsage(); for (let i = 0; i < %d; i++) gc({type: 'minor'});"
        "const d = process.cpuUsage(t); fs.writeSync(1, `${(d.user + d.system) * 1000}\\n`);" % N)


def loop(traced):
    p = subprocess.Popen([NODE, "--expose-gc", "-e", LOOP], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    assert p.stdout.readline() == "ready\n"
    t = None
    out = tempfile.TemporaryFile(mode="w+")  # a file, not a pipe: nothing ever waits on its reader
    if traced:
        t = subprocess.Popen([RT, "gc", "--json", "-p", str(p.pid)], stdout=out,
                             stderr=subprocess.PIPE, text=True)
        for line in t.stderr:
            if line.startswith("Tracing"):
                break
    p.stdin.write("\n")
    p.stdin.flush()
    ns = float(p.stdout.readline())
    p.wait()
    records = 0
    if t:
        t.communicate()
        out.seek(0)
        lines = out.read().splitlines()
        records = sum(1 for l in lines if l.startswith('{"type":"gc"'))
        assert json.loads(lines[-1])["lost"] == 0
    return ns, records


def main():
    # Rounds interleave the two, and medians leave out the rounds another process disturbed.
    plain, runs = [], []
    for _ in range(ROUNDS):
        plain.append(loop(False)[0])
        runs.append(loop(True))
    plain = statistics.median(plain)
    traced = statistics.median(ns for ns, _ in runs)
    print(f"{N} gc({{type:'minor'}}) calls, CPU: untraced {plain / N / 1e3:.1f} us each, "
          f"under rtmon gc {traced / N / 1e3:.1f} us each ({(traced - plain) / N / 1e3:+.1f} us), "
          f"records {sorted({r for _, r in runs})}")
    r = subprocess.run([RT, "gc", "--json", "--", NODE, "--expose-gc", "--trace-gc",
                        os.path.join(ROOT, "testprog", "nodegc.js"), "full=20", "minor=20", "mb=64"],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL)
    gc = [json.loads(l) for l in r.stdout.splitlines() if l.startswith('{"type":"gc"')]
    trace = [float(m.group(1)) for m in re.finditer(r" MB, (?:pooled: \S+ MB, )?([\d.]+) / ", r.stderr)]
    assert len(gc) == len(trace), (len(gc), len(trace))
    gaps = [t * 1e3 - o["dur_ns"] / 1e3 for o, t in zip(gc, trace)]
    print(f"{len(gc)} collections: --trace-gc's pause minus rtmon's duration, us: median "
          f"{statistics.median(gaps):.1f}, min {min(gaps):.1f}, max {max(gaps):.1f}")


main()
