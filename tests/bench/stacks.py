#!/usr/bin/python3
"""Benchmark of rtmon's stack commands against their peers (issue 12), in one run, rounds interleaved:

    tests/bench/stacks.py BUILD [ROUNDS] [JSON_OUT]

profile: testprog/stacks/cpuburn (main -> level1 -> level2 -> level3 -> burn_a|burn_b, -O2, built
with and without frame pointers: BUILD/testprog/cpuburn-fp, -nofp), BENCH_PROFILE_ROUNDS rounds of
about 4 ms of CPU each (default 750), untraced and under
  rtmon profile -F 49 (its default unwinding: DWARF CFI for native code),
  perf record -F 49 -g (the kernel's frame-pointer walk), perf record -F 49 --call-graph dwarf.
The target's own CPU (user + system, wait4) against untraced; and of the samples in burn_a/burn_b,
the share whose stack reaches main (complete stacks).

malloc --stacks: tests/bench/malloc_stacks_loop.c (main -> level1 -> loop -> one -> malloc(64), then
free; BENCH_MSTACK_N pairs, default 300000), built -O2 with and without frame pointers, untraced and
under rtmon malloc, rtmon malloc --stacks (--unwind fp on the frame-pointer build, dwarf on both),
bpftrace `@[ustack] = count()` on malloc, and heaptrack (LD_PRELOAD: it starts the loop itself). The
target's CPU added per malloc+free pair, and the share of malloc calls counted with main on the stack.
Goal: --stacks per probe hit <= 1.5x rtmon malloc without stacks, on frame-pointer code.
Also rtmon malloc --live, and --live --stacks (--unwind fp on the frame-pointer build, dwarf on
both): the cost per pair with the return probes and the live table (the loop frees every block, so
there are no stacks to count).
BENCH_SECTIONS=malloc (or profile) runs one section only."""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
OUT = sys.argv[3] if len(sys.argv) > 3 else None
RTMON = os.path.join(BUILD, "rtmon")
HERE = os.path.dirname(os.path.abspath(__file__))
PROFILE_ROUNDS = int(os.environ.get("BENCH_PROFILE_ROUNDS", "750"))
MSTACK_N = int(os.environ.get("BENCH_MSTACK_N", "300000"))
SECTIONS = os.environ.get("BENCH_SECTIONS", "profile,malloc").split(",")
LIBC = "/lib/x86_64-linux-gnu/libc.so.6"


def wait_line(stream, pred, timeout=30):
    end = time.monotonic() + timeout
    for line in stream:
        if pred(line):
            return True
        if time.monotonic() > end:
            break
    return False


def run_held(argv, tracer, settle=0.0, end_gate=False):
    """Starts argv held at its gate (a line on stdin), attaches tracer(pid) -> (Popen, post), releases
    it; returns (target CPU s, target stdout, tracer output). end_gate: the target waits for a second
    line when done (malloc_stacks_loop.c), and the tracer is stopped before it is sent."""
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    t = None
    if tracer:
        t = tracer(p.pid)
        time.sleep(settle)
    p.stdin.write("\n")
    p.stdin.flush()
    out = p.stdout.readline() if end_gate else p.stdout.read()
    tout = ""
    if t:
        proc, post = t
        if proc.poll() is None:
            proc.send_signal(2)
        o, e = proc.communicate(timeout=120)
        tout = post() if post else (o or "") + (e or "")
    p.stdin.close()
    _, _, ru = os.wait4(p.pid, 0)
    return ru.ru_utime + ru.ru_stime, out, tout


def rtmon_tracer(args):
    def start(pid):
        t = subprocess.Popen([RTMON] + args + ["-p", str(pid)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        wait_line(t.stderr, lambda l: l.startswith("Tracing"))
        return t, None
    return start


def perf_tracer(args, tmp):
    data = os.path.join(tmp, "perf.data")

    def start(pid):
        t = subprocess.Popen(["perf", "record", "-q", "-o", data] + args + ["-p", str(pid)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)  # perf says nothing when attached

        def post():
            r = subprocess.run(["perf", "script", "-i", data, "-F", "ip,sym"], capture_output=True, text=True)
            return r.stdout
        return t, post
    return start


def bpftrace_tracer():
    def start(pid):
        prog = (f'BEGIN {{ printf("ready\\n"); }} uprobe:{LIBC}:malloc /pid == {pid}/ '
                '{ @[ustack] = count(); }')
        t = subprocess.Popen(["bpftrace", "-e", prog], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        wait_line(t.stdout, lambda l: l.strip() == "ready")
        return t, None
    return start


def folded_stacks(text):
    """Folded lines `root;...;leaf N` -> [(frames leaf first, N)]."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^(.*) (\d+)$", line)
        if m:
            out.append(([f.split()[0] for f in reversed(m.group(1).split(";"))], int(m.group(2))))
    return out


def perf_stacks(text):
    """perf script -F ip,sym: one block per sample, a line `ADDR SYMBOL` per frame, leaf first."""
    return [([l.split()[1] for l in b.splitlines() if len(l.split()) > 1], 1)
            for b in text.strip().split("\n\n")]


def bpftrace_stacks(text):
    """bpftrace's @[ustack] map: `@[`, a `SYMBOL+OFF` line per frame (leaf first), `]: COUNT`."""
    return [([l.strip().split("+")[0] for l in e[0].splitlines()], int(e[1]))
            for e in re.findall(r"@\[\n(.*?)\n\]: (\d+)", text, re.S)]


def shares(stacks, leafs, callers=None):
    """(samples whose leaf, or the frame under a kernel or libc leaf, is in leafs; the share of those
    reaching main; the share whose frame right below the leaf is one of callers)."""
    tot = main = caller = 0
    for frames, n in stacks:
        k = next((i for i, f in enumerate(frames[:2]) if f.startswith(leafs)), None)
        if k is None:
            continue
        tot += n
        main += n * ("main" in frames)
        caller += n * bool(callers and len(frames) > k + 1 and frames[k + 1] in callers)
    if not tot:
        return 0, None, None
    return tot, main / tot, (caller / tot if callers else None)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def profile_section(tmp):
    leafs = ("burn_a", "burn_b")
    modes = [("untraced", None, None),
             ("rtmon profile -F 49", rtmon_tracer(["profile", "-F", "49", "--folded"]),
              lambda o: shares(folded_stacks(o), leafs)),
             ("perf record -F 49 -g", perf_tracer(["-F", "49", "-g"], tmp),
              lambda o: shares(perf_stacks(o), leafs)),
             ("perf record -F 49 --call-graph dwarf", perf_tracer(["-F", "49", "--call-graph", "dwarf"], tmp),
              lambda o: shares(perf_stacks(o), leafs))]
    res = {}
    for build in ("cpuburn-fp", "cpuburn-nofp"):
        prog = os.path.join(BUILD, "testprog", build)
        runs = {m[0]: [] for m in modes}
        for _ in range(ROUNDS):
            for name, tracer, parse in modes:
                cpu, _, tout = run_held([prog, str(PROFILE_ROUNDS)], tracer)
                samples, share, _ = parse(tout) if parse else (None, None, None)
                runs[name].append((cpu, samples, share))
        base = med([r[0] for r in runs["untraced"]])
        res[build] = {name: {"cpu_s": med([r[0] for r in rs]), "x_untraced": med([r[0] for r in rs]) / base,
                             "samples": med([r[1] for r in rs]), "reach_main": med([r[2] for r in rs])}
                      for name, rs in runs.items()}
    print(f"profile: testprog cpuburn, {PROFILE_ROUNDS} rounds (~{PROFILE_ROUNDS * 4 / 1000:.0f} s CPU), "
          f"{ROUNDS} runs each, medians")
    print(f"{'build':14} {'tool':38} {'target CPU s':>12} {'x untraced':>10} {'samples':>8} {'reach main':>10}")
    for build, rows in res.items():
        for name, r in rows.items():
            share = f"{r['reach_main'] * 100:.1f}%" if r["reach_main"] is not None else "-"
            samples = f"{r['samples']:.0f}" if r["samples"] is not None else "-"
            print(f"{build:14} {name:38} {r['cpu_s']:12.3f} {r['x_untraced']:10.3f} {samples:>8} {share:>10}")
    return res


def malloc_section(tmp):
    src = os.path.join(HERE, "malloc_stacks_loop.c")
    fp, nofp = os.path.join(tmp, "loop-fp"), os.path.join(tmp, "loop-nofp")
    subprocess.check_call(["cc", "-O2", "-fno-omit-frame-pointer", "-mno-omit-leaf-frame-pointer", src,
                           "-o", fp])
    subprocess.check_call(["cc", "-O2", "-fomit-frame-pointer", src, "-o", nofp])
    stacks = ["malloc", "--stacks", "--folded"]
    live = ["malloc", "--live"]
    live_stacks = live + ["--stacks", "--folded"]
    leafs, callers = ("malloc", "__libc_malloc", "__GI___libc_malloc"), ("loop", "one")  # one() tail-calls malloc

    def rt(o):
        return shares(folded_stacks(o), leafs, callers)

    def bt(o):
        return shares(bpftrace_stacks(o), leafs, callers)
    modes = {
        fp: [("untraced", None, None), ("rtmon malloc", rtmon_tracer(["malloc"]), None),
             ("rtmon malloc --stacks --unwind fp", rtmon_tracer(stacks + ["--unwind", "fp"]),
              rt),
             ("rtmon malloc --stacks --unwind dwarf", rtmon_tracer(stacks + ["--unwind", "dwarf"]), rt),
             ("rtmon malloc --live", rtmon_tracer(live), None),
             ("rtmon malloc --live --stacks --unwind fp", rtmon_tracer(live_stacks + ["--unwind", "fp"]),
              None),
             ("rtmon malloc --live --stacks --unwind dwarf",
              rtmon_tracer(live_stacks + ["--unwind", "dwarf"]), None)],
        nofp: [("untraced", None, None), ("rtmon malloc", rtmon_tracer(["malloc"]), None),
               ("rtmon malloc --stacks --unwind dwarf", rtmon_tracer(stacks + ["--unwind", "dwarf"]), rt),
               ("rtmon malloc --live", rtmon_tracer(live), None),
               ("rtmon malloc --live --stacks --unwind dwarf",
                rtmon_tracer(live_stacks + ["--unwind", "dwarf"]), None)],
    }
    if shutil.which("bpftrace"):
        for prog in (fp, nofp):
            modes[prog].append(("bpftrace @[ustack] = count()", bpftrace_tracer(), bt))
    res = {}
    for prog, ms in modes.items():
        runs = {m[0]: [] for m in ms}
        for _ in range(ROUNDS):
            for name, tracer, parse in ms:
                cpu, _, tout = run_held([prog, str(MSTACK_N)], tracer, settle=0.1, end_gate=True)
                calls, share, caller = parse(tout) if parse else (None, None, None)
                runs[name].append((cpu, calls, share, caller))
            if shutil.which("heaptrack"):
                runs.setdefault("heaptrack (LD_PRELOAD)", []).append(heaptrack_run(prog, tmp))
        base = med([r[0] for r in runs["untraced"]])
        res[os.path.basename(prog)] = {
            name: {"cpu_s": med([r[0] for r in rs]), "added_ns_per_pair": (med([r[0] for r in rs]) - base) / MSTACK_N * 1e9,
                   "calls": med([r[1] for r in rs]), "reach_main": med([r[2] for r in rs]),
                   "caller_kept": med([r[3] for r in rs])}
            for name, rs in runs.items()}
    print(f"malloc --stacks: tests/bench/malloc_stacks_loop.c, {MSTACK_N} malloc(64)+free pairs, {ROUNDS} runs "
          f"each, medians")
    print(f"{'build':10} {'tool':44} {'target CPU s':>12} {'+ns/pair':>9} {'mallocs seen':>12} {'reach main':>10} "
          f"{'caller kept':>11}")

    def pct(v):
        return f"{v * 100:.1f}%" if v is not None else "-"
    for build, rows in res.items():
        for name, r in rows.items():
            calls = f"{r['calls']:.0f}" if r["calls"] is not None else "-"
            print(f"{build:10} {name:44} {r['cpu_s']:12.3f} {r['added_ns_per_pair']:9.0f} {calls:>12} "
                  f"{pct(r['reach_main']):>10} {pct(r['caller_kept']):>11}")
    fpr = res["loop-fp"]
    plain, st = fpr["rtmon malloc"]["added_ns_per_pair"], fpr["rtmon malloc --stacks --unwind fp"]["added_ns_per_pair"]
    if plain and plain > 0:
        # two hits a pair (malloc and free), one of them with a stack
        print(f"  --stacks (fp) per pair {st:.0f} ns vs {plain:.0f} without: {st / plain:.2f}x "
              f"({'PASS' if st / plain <= 1.5 else 'FAIL'} <= 1.5x)")
    return res


def heaptrack_run(prog, tmp):
    """heaptrack starts the loop itself (LD_PRELOAD). Its CPU is that of heaptrack's whole process tree
    (the loop and heaptrack_interpret, from wait4 of the wrapper): an upper bound of the loop's own.
    Returns (CPU s, allocation calls heaptrack counted, 1.0 if its top stack reaches main else 0.0, 1.0 if
    its top site is malloc's real caller else 0.0)."""
    out = os.path.join(tmp, "ht")
    p = subprocess.Popen(["heaptrack", "-o", out, prog, str(MSTACK_N)], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    time.sleep(0.5)
    p.stdin.write("\n\n")
    p.stdin.close()
    _, _, ru = os.wait4(p.pid, 0)
    cpu = ru.ru_utime + ru.ru_stime
    calls = share = caller = None
    for f in [f for f in os.listdir(tmp) if f.startswith("ht")]:
        path = os.path.join(tmp, f)
        r = subprocess.run(["heaptrack_print", "-f", path, "-p", "0", "-a", "1", "-n", "1", "-s", "1"],
                           capture_output=True, text=True)
        c = re.search(r"calls to allocation functions: (\d+)", r.stdout)
        calls = int(c.group(1)) if c else None
        share = 1.0 if re.search(r"\bmain\b", r.stdout) else 0.0
        # its top allocation site is printed as "... from\nFUNCTION": the caller of malloc
        caller = 1.0 if re.search(r"allocation functions with .* from\n(loop|one)\n", r.stdout) else 0.0
        os.unlink(path)
    return cpu, calls, share, caller


def main():
    if os.geteuid() != 0:
        print("stacks bench: needs root", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="rtmon-stacks.")
    try:
        res = {}
        if "profile" in SECTIONS:
            res["profile"] = profile_section(tmp)
        if "malloc" in SECTIONS:
            res["malloc_stacks"] = malloc_section(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if OUT:
        with open(OUT, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
