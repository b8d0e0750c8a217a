#!/usr/bin/env python3
"""What rtmon heap costs a Go program: tests/bench/gomalloc (GOROUTINES x ITERS heap allocations of
16..4096 B) with runtime.MemProfileRate at the runtime's default, 524288 (GOMALLOC_MEMPROFILERATE:
the workload does not link runtime/pprof, and would otherwise sample nothing), uninstrumented and
under `rtmon heap -p PID`, ROUNDS rounds interleaved; the median of the workload's own CPU time
(getrusage around its goroutines: the uprobe traps it takes count, rtmon's own CPU does not). Goal
(issue 12): at most 1.02x uninstrumented. Run by `make bench` (tests/bench/run.sh, after its other
sections; BENCH_ONLY=heap runs only this one), or by hand as root:

    tests/bench/heap_cost.py BUILD [ROUNDS]

Also prints rtmon's probe hits and sampled allocations per run, and with MemProfileRate=1 (every
allocation sampled: the cost per trap) on a smaller workload."""
import json
import os
import statistics
import subprocess
import sys

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
ROUNDS = int(sys.argv[2] if len(sys.argv) > 2 else os.environ.get("BENCH_ROUNDS", "7"))
GOROUTINES = int(os.environ.get("BENCH_GO_GOROUTINES", "2"))
ITERS = int(os.environ.get("BENCH_GO_ITERS", "500000"))
RTMON = os.path.join(BUILD, "rtmon")
WORKLOAD = os.path.join(BUILD, "bench", "gomalloc")


def one(traced, rate, iters):
    env = dict(os.environ, GOMALLOC_MEMPROFILERATE=str(rate))
    w = subprocess.Popen([WORKLOAD, str(GOROUTINES), str(iters)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, env=env)
    t = None
    if traced:
        t = subprocess.Popen([RTMON, "heap", "--json", "-p", str(w.pid)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        for line in t.stderr:
            if line.startswith("Tracing"):
                break
    out, _ = w.communicate(b"\n", timeout=600)
    res = json.loads(out.decode().strip().splitlines()[-1])
    summary = {}
    if t:
        o, _ = t.communicate(timeout=60)
        summary = [json.loads(x) for x in o.splitlines() if '"type":"summary"' in x][0]
    return res["cpu_ns"], res["mallocs"], summary


def measure(rate, iters, rounds):
    base, heap, hits, allocs = [], [], [], []
    for _ in range(rounds):
        base.append(one(False, rate, iters)[0])
        cpu, _, s = one(True, rate, iters)
        heap.append(cpu)
        hits.append(s.get("events", 0))
        allocs.append(s.get("sampled_allocs", 0))
    b, h = statistics.median(base), statistics.median(heap)
    return b, h, statistics.median(hits), statistics.median(allocs)


def main():
    if os.geteuid() != 0:
        print("heap_cost.py: needs root (BPF, uprobes)", file=sys.stderr)
        return 1
    if subprocess.run(["make", "--no-print-directory", f"BUILD={BUILD}", RTMON, WORKLOAD]).returncode:
        return 1
    one(False, 524288, ITERS)  # warm-up: page cache, CPU frequency
    b, h, hits, allocs = measure(524288, ITERS, ROUNDS)
    print(f"heap: gomalloc {GOROUTINES} x {ITERS} allocations, MemProfileRate 524288, {ROUNDS} rounds: "
          f"CPU {b / 1e6:.1f} ms uninstrumented, {h / 1e6:.1f} ms under rtmon heap: {h / b:.3f}x "
          f"(goal <= 1.02x); {hits:.0f} probe hits, {allocs:.0f} sampled allocations a run")
    small = max(ITERS // 10, 1000)
    b1, h1, hits1, _ = measure(1, small, ROUNDS)
    per_hit = (h1 - b1) / max(hits1, 1)
    print(f"heap: MemProfileRate 1 (every allocation sampled), {GOROUTINES} x {small}: CPU "
          f"{b1 / 1e6:.1f} ms uninstrumented, {h1 / 1e6:.1f} ms traced: "
          f"+{per_hit / 1e3:.2f} us per probe hit ({hits1:.0f} hits)")
    # The default rate's cost is within the noise of two shared CPUs: the hits times their cost
    # says what the medians cannot.
    print(f"heap: estimated at the default rate from the cost per hit: {hits:.0f} hits x "
          f"{per_hit / 1e3:.2f} us = {hits * per_hit / 1e6:.1f} ms of {b / 1e6:.1f} ms: "
          f"{1 + hits * per_hit / b:.3f}x")
    return 0


sys.exit(main())
