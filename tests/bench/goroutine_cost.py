#!/usr/bin/python3
"""Where a goroutine's tracing cost goes (docs/PERFORMANCE.md, "Where a goroutine's cost goes").

Runs tests/bench/goevents (N goroutines one after another) untraced and under each configuration
given, interleaved, R rounds, with run.sh's protocol (goevents_once: the workload held at its gate,
rtmon attached with -p, the target's own rusage around the work), and prints the median CPU per
goroutine and what each configuration adds to the untraced one. With STATS=1 it also turns on the
kernel's BPF run-time statistics (kernel.bpf_stats_enabled, a global setting: off again at the end)
and prints each new BPF program's run time per run and run count (the statistics themselves add
two clock reads to every run).

    sudo R=3 N=100000 tests/bench/goroutine_cost.py base=build:base thr=build:thr lat=build:lat \\
        old=/tmp/main/build:thr

A configuration is NAME=BUILD:ARGS, ARGS rtmon's arguments joined by commas ("base": untraced),
optionally followed by @VAR=VALUE for rtmon's environment. The first configuration is the baseline.
goevents is BUILD/bench/goevents of the first configuration's build (make BUILD=... bench-tools).
"""
import importlib.machinery
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def load_bench(build):
    """run.sh as a module (it is Python), for its goevents protocol."""
    loader = importlib.machinery.SourceFileLoader("bench_run", os.path.join(HERE, "run.sh"))
    spec = importlib.util.spec_from_loader("bench_run", loader)
    mod = importlib.util.module_from_spec(spec)
    argv, sys.argv = sys.argv, [sys.argv[0], build]
    try:
        loader.exec_module(mod)
    finally:
        sys.argv = argv
    return mod


def progs():
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True).stdout
    return json.loads(out) if out.strip() else []


def poll_stats(before, stop, out):
    """Run time and count of the BPF programs loaded since `before` (this run's rtmon), until stop."""
    while not stop.is_set():
        for p in progs():
            if p["id"] not in before and p.get("run_cnt"):
                out[p["name"]] = (p["run_time_ns"], p["run_cnt"])
        time.sleep(0.05)


def main():
    rounds, n = int(os.environ.get("R", "3")), int(os.environ.get("N", "100000"))
    stats = os.environ.get("STATS") == "1"
    cfgs = []
    for a in sys.argv[1:]:
        name, rest = a.split("=", 1)
        build, args = rest.split(":", 1)
        args, _, env = args.partition("@")
        cfgs.append((name, os.path.abspath(build), None if args == "base" else args.split(","), env))
    if not cfgs:
        print(__doc__, file=sys.stderr)
        return 2
    b = load_bench(cfgs[0][1])
    b.GOEVENTS = os.path.join(cfgs[0][1], "bench", "goevents")
    if stats:
        subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=1"], check=True)
    cpu = {c[0]: [] for c in cfgs}
    try:
        for r in range(rounds):
            for name, build, args, env in cfgs:
                b.RTMON = os.path.join(build, "rtmon")
                saved = dict(os.environ)
                if env:
                    k, v = env.split("=", 1)
                    os.environ[k] = v
                before, seen, stop = {p["id"] for p in progs()} if stats else set(), {}, threading.Event()
                t = threading.Thread(target=poll_stats, args=(before, stop, seen)) if stats else None
                if t:
                    t.start()
                try:
                    c, _ = b.goevents_once("goroutines", n, args)
                finally:
                    stop.set()
                    if t:
                        t.join()
                    os.environ.clear()
                    os.environ.update(saved)
                cpu[name].append(c / n)
                line = f"round {r + 1} {name}: {c / n:.0f} ns a goroutine"
                if seen:
                    line += "; " + " ".join(f"{k} {t_ / k_:.0f} ns x {k_}" for k, (t_, k_) in seen.items())
                print(line, flush=True)
    finally:
        if stats:
            subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=0"])
        b.cleanup()
    base = statistics.median(cpu[cfgs[0][0]])
    for name, *_ in cfgs:
        m = statistics.median(cpu[name])
        runs = ", ".join(f"{x / 1e3:.2f}" for x in cpu[name])
        print(f"{name}: median {m / 1e3:.2f} us a goroutine, {(m - base) / 1e3:+.2f} us (runs {runs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
