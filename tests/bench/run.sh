#!/usr/bin/python3
# rtmon benchmark driver (`sudo make bench` runs `tests/bench/run.sh BUILD`). Python, despite the name:
# process handling, timing and medians are much cleaner here than in bash.
#
# What it measures, over BENCH_ROUNDS rounds (default 5; configurations interleaved within a round),
# reporting medians: the CPU time a malloc workload (BENCH_THREADS threads x BENCH_ITERS malloc+free
# pairs, default 2 x 200000) spends when
#   - uninstrumented;
#   - under `rtmon malloc -p PID` (probes malloc, free, calloc, realloc, ...);
#   - under the floor: a minimal loader whose BPF program only bumps a per-CPU counter, on malloc only,
#     and on malloc + free (the fair comparison for rtmon, which probes free too);
#   - under bpftrace (malloc-size histogram), libbpf-tools funclatency (malloc entry + return) and
#     heaptrack (LD_PRELOAD; wall-clock slowdown only).
# Also the time each tracer takes to attach (start to its ready line) and its peak RSS (ru_maxrss from
# wait4). Added cost per malloc = (median CPU instrumented - median CPU uninstrumented) / mallocs, where
# the CPU time is the workload's own (getrusage RUSAGE_SELF around its threads): uprobe traps taken by the
# workload count, the tracer's own CPU does not.
#
# Go section (issue 4): the same for a Go program (tests/bench/gomalloc: BENCH_GO_GOROUTINES goroutines x
# BENCH_GO_ITERS heap allocations of 16..4096 B, default 2 x 500000), uninstrumented and under
# `rtmon malloc -p PID` (Go mode: one probe in runtime.mallocgc, after its stack-check prologue). Added
# cost per call = (median CPU instrumented - median CPU uninstrumented) / mallocgc calls counted by rtmon
# (calls.mallocgc; they include the runtime's own allocations, hence a little over GOROUTINES x ITERS).
# bpftrace 0.17 can only probe mallocgc's entry (it cannot place a probe inside a function), whose first
# instruction the kernel single-steps (~35 us per hit here), so it runs a smaller workload
# (BENCH_GO_BPFTRACE_ITERS per goroutine, default 20000) against its own uninstrumented baseline.
#
# --budget section (issue 7): the C workload made longer (BENCH_BUDGET_ITERS pairs per thread, default
# 10,000,000) and the Go workload, uninstrumented and under `rtmon malloc --budget BENCH_BUDGET_PCT -p PID`
# (default 5): the target's CPU slowdown, the total variation distance (TVD) between the reported size
# distribution and the full trace's (the rtmon rows above), and the estimated count against the true one.
# Goals: slowdown <= 1.05x, TVD <= 0.05. BENCH_ONLY=budget runs the C and the Go workloads' budget rows
# (with the Go section's go-base and go-rtmon rows they are compared with), then the estimates on
# testprog/go/gobudget, steady and phased: the estimated count against its MemStats.Mallocs delta and the
# mean size against its own (goal: within 10%).
#
# Attach on a ~100 MB stripped Go binary (BUILD/bench/gobig: 100,000 generated functions, built once by
# tests/bench/bench.mk, a few minutes): `rtmon malloc -p PID` start to Tracing line. Goal <= 150 ms.
#
# Per-event costs on Go (tests/bench/goevents): BENCH_GOROUTINES goroutines (default 100000) under
# `rtmon thr` and `rtmon lat`, BENCH_GCS runtime.GC() calls (default 300) under `rtmon gc`.
#
# Per-hit goals for the full trace: added CPU per probe hit <= 0.95 x the classic-uprobe floor on the same
# sites, and <= 0.8 x bpftrace's.
#
# serve section (issue 15): what `rtmon serve -p PID` costs the target, per collector (thread churn,
# goroutines, GC cycles: the workloads of the sections above; malloc under --malloc-budget
# BENCH_BUDGET_PCT: the --budget section's C workload, next to rtmon malloc --budget), how long a scrape
# of /metrics takes while testprog/go/gochurn churns goroutines (BENCH_SERVE_SCRAPES, default 500, over
# one kept-alive connection; goal: median <= 5 ms for at least 100 series), and the load test
# tests/integration/test_serve_load.py for BENCH_SERVE_LOAD_S seconds (default 60; `make test` runs it
# for 10 s). BENCH_ONLY=serve runs only this section.
#
# inspect section (issue 13): `rtmon stack`, `memstats` and `stats` on testprog/go/gostack with 10,000
# parked goroutines against gdb (runtime-gdb.py's `info goroutines`) and delve (`goroutines -t`): time,
# CPU, and how long the target was paused (tests/bench/go_inspect.py; goals 100 ms and 20 ms).
#
# stacks section (issue 12): rtmon profile -F 49 against perf record -g and --call-graph dwarf on
# testprog/stacks/cpuburn with and without frame pointers (target CPU, samples reaching main), and rtmon
# malloc --stacks (fp, dwarf) against bpftrace's @[ustack] = count() and heaptrack on
# tests/bench/malloc_stacks_loop.c (CPU per pair, stacks reaching main, malloc's caller kept).
#
# BENCH_ONLY names: base, rtmon, floor, floor-mf, floor-mf-emul, bpftrace, funclatency, heaptrack, budget,
# go-rtmon, go-bpftrace (the Go section), gobig, churn, events, serve, inspect, stacks, heap.
#
# heap section (issue 12): `rtmon heap -p PID` on the Go workload with MemProfileRate at its default
# (tests/bench/heap_cost.py, run last; BENCH_ONLY=heap runs only it). Goal: <= 1.02x the workload's CPU.
#
# Protocol per run: start the workload held (it blocks reading stdin), start the tracer on its PID, wait
# for the tracer's ready line, sleep BENCH_SETTLE seconds (default 0.1), send the newline, wait for the
# workload, SIGINT the tracer and reap it.
#
# Environment: BENCH_ROUNDS, BENCH_THREADS, BENCH_ITERS, BENCH_SETTLE, BENCH_PAUSE, BENCH_ONLY (comma-separated
# configuration names, e.g. "base,rtmon,floor-mf"; the Go section runs when BENCH_ONLY is unset or names a
# go-* configuration: go-rtmon, go-bpftrace), BENCH_GO_GOROUTINES, BENCH_GO_ITERS, BENCH_GO_BPFTRACE_ITERS.
# Results also go to BUILD/bench/results.json.
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
BUILD_ABS = BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD)
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
ITERS = int(os.environ.get("BENCH_ITERS", "200000"))
SETTLE = float(os.environ.get("BENCH_SETTLE", "0.1"))
PAUSE = float(os.environ.get("BENCH_PAUSE", "0.3"))  # between runs: let the previous teardown finish
ONLY = [s for s in os.environ.get("BENCH_ONLY", "").split(",") if s]
GO_GOROUTINES = int(os.environ.get("BENCH_GO_GOROUTINES", "2"))
GO_ITERS = int(os.environ.get("BENCH_GO_ITERS", "500000"))
GO_BT_ITERS = int(os.environ.get("BENCH_GO_BPFTRACE_ITERS", "20000"))
READY_TIMEOUT = 60.0
RUN_TIMEOUT = 900.0
BPFTRACE_LIBC = "/lib/x86_64-linux-gnu/libc.so.6"

RTMON = os.path.join(BUILD_ABS, "rtmon")
FLOOR = os.path.join(BUILD_ABS, "bench", "floor")
WORKLOAD = os.path.join(BUILD_ABS, "bench", "malloc_workload")
GOWORKLOAD = os.path.join(BUILD_ABS, "bench", "gomalloc")

live = []  # Popen objects to kill on exit (tracers run in their own process group)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def cleanup():
    for p in live:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                try:
                    p.kill()
                except OSError:
                    pass
            try:
                p.wait(timeout=5)
            except (subprocess.TimeoutExpired, ChildProcessError):
                pass
    live.clear()


def on_term(sig, frame):
    raise SystemExit(128 + sig)


def spawn(argv, **kw):
    p = subprocess.Popen(argv, start_new_session=True, **kw)
    live.append(p)
    return p


def reap(p, timeout):
    """wait4 the process (so that its rusage is ours): returns (status, maxrss_kb) or (None, None)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        except ChildProcessError:
            return None, None
        if pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            if p in live:
                live.remove(p)
            return p.returncode, ru.ru_maxrss
        if time.monotonic() > deadline:
            return None, None
        time.sleep(0.005)


def stop(p, timeout=20.0):
    """SIGINT, then reap; SIGKILL if it does not end. Returns (exit code, maxrss_kb)."""
    try:
        os.kill(p.pid, signal.SIGINT)
    except ProcessLookupError:
        pass
    rc, rss = reap(p, timeout)
    if rc is None:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        rc, rss = reap(p, 5)
    return rc, rss


def kill_left(*procs):
    """After a run: kills and reaps what of PROCS (None allowed) still runs, e.g. after an error."""
    for p in procs:
        if p is not None and p.poll() is None and p in live:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            reap(p, 5)


def vmhwm_kb(pid):
    m = re.search(r"^VmHWM:\s+(\d+) kB", read(f"/proc/{pid}/status"), re.M)
    return int(m.group(1)) if m else None


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def task_states(pid):
    return [read(f"/proc/{pid}/task/{t}/stat").rsplit(")", 1)[1].split()[0] for t in os.listdir(f"/proc/{pid}/task")]


def wait_held(pid, timeout=10.0, workload=None, go=None):
    """Wait until PID runs the workload (exec done, libraries mapped) and sleeps in its read of stdin.
    A Go workload (static, no libc) is held once all its threads sleep."""
    exe = os.path.realpath(workload or WORKLOAD)
    if go is None:
        go = exe == os.path.realpath(GOWORKLOAD)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.readlink(f"/proc/{pid}/exe") == exe and (
                    all(st == "S" for st in task_states(pid)) if go else
                    (read(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()[0] == "S"
                     and "/libc" in read(f"/proc/{pid}/maps"))):
                return True
        except (OSError, IndexError):
            return False
        time.sleep(0.001)
    return False


def libc_of(pid):
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            path = line.split(None, 5)[-1].strip() if len(line.split(None, 5)) == 6 else ""
            if re.search(r"/libc(\.so|-)", path):
                return path
    return None


def first_emulated_offset(libc, func):
    """Offset into FUNC of its first instruction that x86 uprobes emulate (push reg, direct jmp/jcc/call),
    provided no instruction before it can leave the function; None if not found."""
    try:
        nm = subprocess.run(["nm", "-D", "--defined-only", libc], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    addr = None
    for line in nm.stdout.splitlines():
        f = line.split()
        if len(f) == 3 and f[2].split("@")[0] == func and f[1] in "Tti":
            addr = int(f[0], 16)
            break
    if addr is None:
        return None
    try:
        od = subprocess.run(["objdump", "-d", "--no-show-raw-insn", f"--start-address={addr:#x}",
                             f"--stop-address={addr + 64:#x}", libc], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    for line in od.stdout.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\s+(.*)$", line)
        if not m:
            continue
        off = int(m.group(1), 16) - addr
        ins = m.group(2).split()
        while ins and ins[0] in ("bnd", "notrack", "rex.W", "data16", "cs", "ds"):
            ins = ins[1:]
        if not ins:
            continue
        mnem, ops = ins[0], " ".join(ins[1:])
        if mnem.startswith("push") and re.fullmatch(r"%r\w+", ops):
            return off
        if (mnem.startswith("j") or mnem.startswith("call")) and "*" not in ops:
            return off
        if mnem.startswith(("ret", "j", "call", "syscall", "int", "ud2", "hlt")):
            return None  # control can leave before any emulated instruction
    return None


def probe_hits(out):
    """Probe hits a tracer took in one run, from its output: rtmon (every probed call), the floor, bpftrace's
    histogram total, funclatency's (one entry and one return probe per call: 2 hits)."""
    for line in out.splitlines():
        if line.startswith('{"type":"hist"'):
            return sum(json.loads(line)["calls"].values())
        if line.startswith('{"malloc_hits"'):
            d = json.loads(line)
            return d["malloc_hits"] + d["free_hits"]
    n = sum(int(m.group(1)) for m in re.finditer(r"^\[[^\]\n)]+[)\]]\s+(\d+)", out, re.M))
    if n:
        return n
    n = sum(int(m.group(1)) for m in re.finditer(r"->\s*\d+\s*:\s*(\d+)", out))
    return 2 * n if n else None


def rtmon_hist(out):
    """rtmon's "hist" JSON object of a run, and its "size_classes" one (Go), or None."""
    for line in out.splitlines():
        if line.startswith('{"type":"hist"'):
            return json.loads(line)
    return None


def tvd(a, b):
    """Total variation distance between two histograms given as {bucket: count}."""
    ta, tb = sum(a.values()), sum(b.values())
    if not ta or not tb:
        return None
    return sum(abs(a.get(k, 0) / ta - b.get(k, 0) / tb) for k in set(a) | set(b)) / 2


def buckets(h):
    return {b["lo"]: b["count"] for b in h["buckets"]} if h else {}


def rtmon_hits(out):
    for line in out.splitlines():
        if line.startswith('{"type":"hist"'):
            d = json.loads(line)
            return f"malloc {d['calls'].get('malloc', 0)}, free {d['calls'].get('free', 0)}"
    return "?"


def floor_hits(out):
    for line in out.splitlines():
        if line.startswith("{"):
            d = json.loads(line)
            return f"malloc {d['malloc_hits']}, free {d['free_hits']}"
    return "?"


def bpftrace_hits(out):
    n = sum(int(m.group(1)) for m in re.finditer(r"^\[[^\]\n)]+[)\]]\s+(\d+)", out, re.M))
    return f"malloc {n}" if n else "?"


def rtmon_go_hits(out):
    for line in out.splitlines():
        if line.startswith('{"type":"hist"'):
            return json.loads(line)["calls"].get("mallocgc")
    return None


def bpftrace_count(out):
    return sum(int(m.group(1)) for m in re.finditer(r"^\[[^\]\n)]+[)\]]\s+(\d+)", out, re.M)) or None


def funclatency_hits(out):
    n = sum(int(m.group(1)) for m in re.finditer(r"->\s*\d+\s*:\s*(\d+)", out))
    return f"malloc {n}" if n else "?"


class Config:
    def __init__(self, name, label, probes, argv=None, ready=None, ready_stream="stderr", hits=None,
                 wrap=None, role="peer", wargs=None, base=None):
        self.name, self.label, self.probes = name, label, probes
        self.argv, self.ready, self.ready_stream, self.hits = argv, ready, ready_stream, hits
        self.wrap, self.role = wrap, role
        self.wargs, self.base = wargs, base  # workload argv (default: the C one); baseline config's name
        self.calls, self.go_mallocs = [], []  # Go: calls counted by the tracer, and by the runtime
        self.cpu, self.wall, self.attach, self.rss, self.hitlog = [], [], [], [], []
        self.nhits, self.hists = [], []  # probe hits per run; rtmon's hist object per run
        self.failed = None
        self.errors = 0  # consecutive failed runs
        self.lost = []  # errors of runs that failed


def configs(tmp, free_off):
    bt_script = ('BEGIN { printf("ready\\n"); } '
                 f'uprobe:{BPFTRACE_LIBC}:malloc /pid == %d/ {{ @ = hist(arg0); }}')
    cs = [
        Config("base", "uninstrumented", "-", role="base"),
        Config("rtmon", "rtmon malloc -p PID", "malloc, free, calloc, realloc, ... (entry)",
               argv=lambda pid: [RTMON, "malloc", "--json", "-p", str(pid)], ready=r"^Tracing",
               hits=rtmon_hits, role="rtmon"),
        Config("floor", "floor (malloc)", "malloc (entry)",
               argv=lambda pid: [FLOOR, "-p", str(pid)], ready=r"^Tracing", hits=floor_hits, role="floor"),
        Config("floor-mf", "floor (malloc+free)", "malloc, free (entry)",
               argv=lambda pid: [FLOOR, "-p", str(pid), "--free"], ready=r"^Tracing", hits=floor_hits,
               role="floor"),
    ]
    if free_off:
        cs.append(Config("floor-mf-emul", f"floor (malloc+free@+{free_off})",
                         f"malloc (entry), free+{free_off} (emulated insn)",
                         argv=lambda pid: [FLOOR, "-p", str(pid), f"--free-offset={free_off}"],
                         ready=r"^Tracing", hits=floor_hits, role="floor"))
    cs += [
        Config("bpftrace", "bpftrace hist(arg0)", "malloc (entry)",
               argv=lambda pid: ["bpftrace", "-B", "line", "-e", bt_script % pid], ready=r"^ready",
               ready_stream="stdout", hits=bpftrace_hits),
        Config("funclatency", "funclatency (libbpf-tools)", "malloc (entry + return)",
               argv=lambda pid: ["stdbuf", "-oL", "funclatency", "-p", str(pid), "c:malloc"],
               ready=r"^Tracing", ready_stream="stdout", hits=funclatency_hits),
        Config("heaptrack", "heaptrack (LD_PRELOAD)", "all allocator calls (LD_PRELOAD)",
               wrap=["heaptrack"], role="wallonly"),
    ]
    need = {"bpftrace": "bpftrace", "funclatency": "funclatency", "heaptrack": "heaptrack"}
    out = []
    for c in cs:
        if ONLY and c.name not in ONLY and c.name != "base":
            continue
        if c.name in need and not shutil.which(need[c.name]):
            c.failed = f"{need[c.name]} not installed (.ci/install-deps installs it)"
        out.append(c)
    return out


def go_configs():
    want = not ONLY or "budget" in ONLY or any(n.startswith("go-") for n in ONLY)
    if not want:
        return []
    full = [GOWORKLOAD, str(GO_GOROUTINES), str(GO_ITERS)]
    small = [GOWORKLOAD, str(GO_GOROUTINES), str(GO_BT_ITERS)]
    bt_script = ('BEGIN { printf("ready\\n"); } '
                 f'uprobe:{GOWORKLOAD}:runtime.mallocgc /pid == %d/ {{ @ = hist(reg("ax")); }}')
    cs = [
        Config("go-base", "uninstrumented", "-", role="base", wargs=full),
        Config("go-rtmon", "rtmon malloc -p PID", "runtime.mallocgc (after the stack check; emulated push)",
               argv=lambda pid: [RTMON, "malloc", "--json", "-p", str(pid)], ready=r"^Tracing",
               hits=rtmon_go_hits, role="rtmon", wargs=full, base="go-base"),
        # Its calls are estimates: the per-call figures use the runtime's own count (MemStats).
        Config("go-budget", f"rtmon malloc --budget {BUDGET_PCT:g} -p PID", "runtime.mallocgc (duty-cycled)",
               argv=lambda pid: [RTMON, "malloc", "--json", "--budget", f"{BUDGET_PCT:g}", "-p", str(pid)],
               ready=r"^Tracing", role="rtmon", wargs=full, base="go-base"),
    ]
    if not ONLY or "go-bpftrace" in ONLY:
        cs += [
            Config("go-base-small", f"uninstrumented ({GO_GOROUTINES} x {GO_BT_ITERS})", "-", role="base",
                   wargs=small),
            Config("go-bpftrace", f"bpftrace hist(reg(\"ax\")) ({GO_GOROUTINES} x {GO_BT_ITERS})",
                   "runtime.mallocgc (entry; single-stepped cmp)",
                   argv=lambda pid: ["bpftrace", "-B", "line", "-e", bt_script % pid], ready=r"^ready",
                   ready_stream="stdout", hits=bpftrace_count, wargs=small, base="go-base-small"),
        ]
        if not shutil.which("bpftrace"):
            cs[-1].failed = "bpftrace not installed (.ci/install-deps installs it)"
    return cs


BUDGET_PCT = float(os.environ.get("BENCH_BUDGET_PCT", "5"))
BUDGET_ITERS = int(os.environ.get("BENCH_BUDGET_ITERS", "10000000"))
GOBIG = os.path.join(BUILD_ABS, "bench", "gobig")


def budget_configs():
    """The C workload made long enough for duty cycles (BENCH_BUDGET_ITERS pairs per thread, about a
    second untraced), uninstrumented and under --budget."""
    if ONLY and "budget" not in ONLY:
        return []
    wl = [WORKLOAD, str(THREADS), str(BUDGET_ITERS)]
    return [
        Config("budget-base", f"uninstrumented ({THREADS} x {BUDGET_ITERS})", "-", role="base", wargs=wl),
        Config("budget-rtmon", f"rtmon malloc --budget {BUDGET_PCT:g} -p PID ({THREADS} x {BUDGET_ITERS})",
               "malloc, free, ... (duty-cycled)",
               argv=lambda pid: [RTMON, "malloc", "--json", "--budget", f"{BUDGET_PCT:g}", "-p", str(pid)],
               ready=r"^Tracing", role="rtmon", wargs=wl, base="budget-base"),
    ]


def exact_c_sizes():
    """The C workload's size distribution by log2 bucket: sizes 16 + x % 4081, x uniform."""
    d = {}
    for size in range(16, 4097):
        lo = 1 << (size.bit_length() - 1)
        d[lo] = d.get(lo, 0) + 1
    return d


def paired(c, b):
    """Per-round ratios of C's CPU to its baseline's (runs of one round are interleaved)."""
    return [x / y for x, y in zip(c.cpu, b.cpu)] if c.cpu and b.cpu and len(c.cpu) == len(b.cpu) else []


def budget_row(c, b, ref, true_count):
    """The budget run's slowdown, how far its distribution is from the full trace's (TVD), and its
    estimate of the number of allocations against the true one."""
    if not c.cpu or not b.cpu:
        return None
    ref_b = {}
    for h in ref.hists if ref else []:
        for k, v in buckets(h).items():
            ref_b[k] = ref_b.get(k, 0) + v
    tvds = [tvd(buckets(h), ref_b) for h in c.hists] if ref_b else []
    tvds = [t for t in tvds if t is not None]
    ests = [h["count"] for h in c.hists]
    ratios = paired(c, b)
    return {
        "name": c.name, "label": c.label, "runs": len(c.cpu),
        "cpu_x": med(c.cpu) / med(b.cpu), "cpu_x_min": min(ratios) if ratios else None,
        "cpu_x_max": max(ratios) if ratios else None,
        "wall_x": med(c.wall) / med(b.wall),
        "tvd": med(tvds), "tvd_max": max(tvds) if tvds else None,
        "tvd_exact": med([tvd(buckets(h), exact_c_sizes()) for h in c.hists]) if c.name.startswith("budget")
        else None,
        "estimate_x": med([e / true_count for e in ests]) if ests and true_count else None,
        "estimate_min_x": min(e / true_count for e in ests) if ests and true_count else None,
        "estimate_max_x": max(e / true_count for e in ests) if ests and true_count else None,
        "sampled_fraction": med([h["sampled_fraction"] for h in c.hists]),
        "live_fraction": med([h["live_fraction"] for h in c.hists]),
        "bases": sorted(set(h["sampled_basis"] for h in c.hists)),
        "uncertain": sum(1 for h in c.hists if h.get("scale_uncertain")),
        "seen": med([h["sampled_count"] for h in c.hists]),
        "attach_ms": med(c.attach) * 1e3 if c.attach else None,
        "rss_mib": med(c.rss) / 1024 if c.rss else None,
    }


def budget_report(cs, gcs):
    """--budget: the C and Go workloads' slowdown and distribution error; goals 1.05x and 5% TVD."""
    byname = {c.name: c for c in cs + gcs}
    rows = []
    pairs = [("budget-rtmon", "budget-base", "rtmon", THREADS * BUDGET_ITERS),
             ("go-budget", "go-base", "go-rtmon", None)]
    for name, base, ref, true_count in pairs:
        c, b = byname.get(name), byname.get(base)
        if not c or not b:
            continue
        if true_count is None:  # Go: the runtime's own count of the run's allocations
            true_count = med(c.go_mallocs)
        r = budget_row(c, b, byname.get(ref), true_count)
        if r:
            rows.append(r)
    if not rows:
        return None

    def fmt(x, spec, none="-"):
        return none if x is None else format(x, spec)

    print()
    print(f"--budget {BUDGET_PCT:g}")
    print()
    print(f"Workloads: C {THREADS} threads x {BUDGET_ITERS} malloc+free pairs; Go {GO_GOROUTINES} goroutines x "
          f"{GO_ITERS} allocations. Slowdown = target CPU under --budget / uninstrumented (medians; per-round "
          f"ratios min..max). TVD = total variation distance between the reported log2 size distribution and "
          f"the full trace's (the rtmon malloc rows of the same bench run); estimate = reported allocations / "
          f"true allocations.")
    print()
    print("| configuration | CPU x (min..max) | wall x | TVD vs full trace (max) | TVD vs exact sizes | "
          "sampled fraction (basis) | live fraction | estimate x true (min..max) | attach ms | peak RSS MiB |")
    print("|" + "---|" * 10)
    for r in rows:
        print(f"| {r['label']} | {fmt(r['cpu_x'], '.3f')} ({fmt(r['cpu_x_min'], '.2f')}..{fmt(r['cpu_x_max'], '.2f')}) | "
              f"{fmt(r['wall_x'], '.3f')} | {fmt(r['tvd'], '.4f')} ({fmt(r['tvd_max'], '.4f')}) | "
              f"{fmt(r['tvd_exact'], '.4f')} | {fmt(r['sampled_fraction'], '.4f')} ({', '.join(r['bases'])}) | "
              f"{fmt(r['live_fraction'], '.3f')} | {fmt(r['estimate_x'], '.2f')} ({fmt(r['estimate_min_x'], '.2f')}.."
              f"{fmt(r['estimate_max_x'], '.2f')}) | {fmt(r['attach_ms'], '.1f')} | {fmt(r['rss_mib'], '.1f')} |")
    print()
    for r in rows:
        ok_cpu = r["cpu_x"] is not None and r["cpu_x"] <= 1.05
        # Without the full trace's rows (BENCH_ONLY=budget), C's against its exact sizes.
        tvd_v = r["tvd"] if r["tvd"] is not None else r["tvd_exact"]
        ok_tvd = tvd_v is not None and tvd_v <= 0.05
        tvd_what = "TVD" if r["tvd"] is not None else "TVD vs exact sizes"
        print(f"  {r['name']}: slowdown {'PASS' if ok_cpu else 'FAIL'} ({fmt(r['cpu_x'], '.3f')}x, goal <= 1.05x); "
              f"distribution {'PASS' if ok_tvd else 'FAIL'} ({tvd_what} {fmt(tvd_v, '.4f')}, goal <= 0.05); "
              f"scale marked uncertain in {r['uncertain']}/{r['runs']} runs")
    return rows


GOBUDGET = os.path.join(BUILD_ABS, "testprog", "go", "gobudget")
GOBUDGET_RUNS = {"steady": "500000", "phased": "3"}


def gobudget_estimates():
    """--budget's estimates on testprog/go/gobudget, steady and phased (phases of 64 B, of 16 and 64 KiB
    allocations and idle ones): `rtmon malloc --json --budget PCT -- gobudget MODE N`, the estimated count
    against the program's MemStats.Mallocs delta and the estimated mean size against its own bytes / count,
    BENCH_ROUNDS runs each (interleaved)."""
    if not os.path.exists(GOBUDGET):
        return None
    res = {m: [] for m in GOBUDGET_RUNS}
    for _ in range(ROUNDS):
        for mode, n in GOBUDGET_RUNS.items():
            r = subprocess.run([RTMON, "malloc", "--json", "--budget", f"{BUDGET_PCT:g}", "--", GOBUDGET, mode, n],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
            m = re.search(r"mallocs (\d+) count (\d+) bytes (\d+)", r.stderr)
            hists = [json.loads(l) for l in r.stdout.splitlines() if l.startswith('{"type":"hist"')]
            if r.returncode or not m or not hists:
                continue
            h, (mallocs, count, nbytes) = hists[-1], map(int, m.groups())
            res[mode].append({"estimate_x": h["count"] / mallocs,
                              "mean_x": (h["sum"] / h["count"]) / (nbytes / count) if h["count"] else None,
                              "basis": h["sampled_basis"], "uncertain": h["scale_uncertain"],
                              "mix_uncertain": h.get("mix_uncertain"), "sampled_fraction": h["sampled_fraction"]})
    print()
    print(f"--budget {BUDGET_PCT:g} estimates on testprog/go/gobudget (steady: 2 x {GOBUDGET_RUNS['steady']} "
          f"allocations of 16..4096 B; phased: {GOBUDGET_RUNS['phased']} rounds of 4,000,000 x 64 B, idle 150 ms, "
          f"40,000 x 16 KiB + 2,000 x 64 KiB, idle 150 ms). Estimate = reported allocations / MemStats.Mallocs "
          f"delta; mean = reported mean size / the program's own.")
    print()
    print("| workload | runs | estimate x true (min..max) | mean x true (min..max) | sampled fraction | basis | "
          "scale uncertain | mix uncertain |")
    print("|" + "---|" * 8)
    for mode, rs in res.items():
        if not rs:
            print(f"| {mode} | 0 | - | - | - | - | - | - |")
            continue
        e = [x["estimate_x"] for x in rs]
        mx = [x["mean_x"] for x in rs if x["mean_x"] is not None]
        print(f"| {mode} | {len(rs)} | {med(e):.3f} ({min(e):.3f}..{max(e):.3f}) | {med(mx):.3f} ({min(mx):.3f}.."
              f"{max(mx):.3f}) | {med([x['sampled_fraction'] for x in rs]):.4f} | "
              f"{', '.join(sorted(set(x['basis'] for x in rs)))} | {sum(1 for x in rs if x['uncertain'])}/{len(rs)} | "
              f"{sum(1 for x in rs if x['mix_uncertain'])}/{len(rs)} |")
        ok = all(abs(x - 1) <= 0.10 for x in e + mx)
        print(f"  {mode}: estimates within 10% {'PASS' if ok else 'FAIL'}")
    return res


def gobig_attach():
    """Attach time of `rtmon malloc -p PID` on a ~100 MB stripped Go binary (BUILD/bench/gobig, 100,000
    functions): from starting rtmon to its Tracing line; and rtmon's peak RSS."""
    if ONLY and "gobig" not in ONLY:
        return None
    if not os.path.exists(GOBIG):
        return {"failed": "not built (make BUILD/bench/gobig)"}
    size = os.path.getsize(GOBIG)
    attach, rss, calls = [], [], []
    for rnd in range(ROUNDS):
        w = spawn([GOBIG], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        tr = None
        try:
            if not wait_held(w.pid, workload=GOBIG, go=True):
                raise RuntimeError("gobig did not start")
            time.sleep(PAUSE)
            t0 = time.monotonic()
            tr = spawn([RTMON, "malloc", "--json", "-p", str(w.pid)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
            line = tr.stderr.readline()
            if not line.startswith("Tracing"):
                raise RuntimeError(f"rtmon did not attach: {line.strip()}")
            attach.append(time.monotonic() - t0)
            rss.append(vmhwm_kb(tr.pid) or 0)
            w.stdin.write(b"\n")
            w.stdin.flush()
            time.sleep(0.2)
            w.stdin.close()
            reap(w, RUN_TIMEOUT)
            out, _ = tr.communicate(timeout=RUN_TIMEOUT)
            live.remove(tr)
            h = rtmon_hist(out)
            calls.append(h["calls"]["mallocgc"] if h else 0)
            log(f"  round {rnd + 1}/{ROUNDS} gobig attach {attach[-1] * 1e3:6.1f} ms  mallocgc calls {calls[-1]}")
        finally:
            kill_left(tr, w)
    return {"size_mb": size / 1e6, "attach_ms": med(attach) * 1e3, "attach_min_ms": min(attach) * 1e3,
            "attach_max_ms": max(attach) * 1e3, "rss_mib": med(rss) / 1024, "mallocgc_calls": med(calls)}


def gobig_report(r):
    if not r:
        return
    if r.get("failed"):
        print(f"note: gobig: {r['failed']}")
        return
    print()
    print(f"Attach on a {r['size_mb']:.0f} MB stripped Go binary (BUILD/bench/gobig, 100,000 generated functions): "
          f"rtmon malloc -p PID ready in {r['attach_ms']:.1f} ms (min..max {r['attach_min_ms']:.1f}.."
          f"{r['attach_max_ms']:.1f}), peak RSS {r['rss_mib']:.1f} MiB, {r['mallocgc_calls']:,.0f} mallocgc calls "
          f"counted in 0.2 s.")
    print(f"  attach <= 150 ms on a 100 MB stripped Go binary: {'PASS' if r['attach_ms'] <= 150 else 'FAIL'}")


def parse_workload(text):
    for line in text.splitlines():
        if line.startswith(('{"threads"', '{"goroutines"', '{"mode"')):
            return json.loads(line)
    return None


def run_one(c, tmp, rnd):
    """One run of the workload under configuration C. Returns a dict or raises RuntimeError."""
    wargs = c.wargs or [WORKLOAD, str(THREADS), str(ITERS)]
    tout, terr = os.path.join(tmp, f"{c.name}.{rnd}.out"), os.path.join(tmp, f"{c.name}.{rnd}.err")
    wout = os.path.join(tmp, f"{c.name}.{rnd}.wout")
    res = {}
    with open(wout, "w") as wo:
        w = spawn((c.wrap or []) + wargs, stdin=subprocess.PIPE, stdout=wo, stderr=subprocess.STDOUT,
                  cwd=tmp)
    tracer = None
    try:
        if c.argv:
            if not wait_held(w.pid, workload=wargs[0]):
                raise RuntimeError("the workload did not start")
            with open(tout, "w") as fo, open(terr, "w") as fe:
                t0 = time.monotonic()
                tracer = spawn(c.argv(w.pid), stdin=subprocess.DEVNULL, stdout=fo, stderr=fe)
            rpath = terr if c.ready_stream == "stderr" else tout
            pat = re.compile(c.ready, re.M)
            while not pat.search(read(rpath)):
                if tracer.poll() is not None:
                    raise RuntimeError(f"tracer exited ({tracer.returncode}) before it was ready: "
                                       f"{read(terr).strip()[-400:]}")
                if time.monotonic() - t0 > READY_TIMEOUT:
                    raise RuntimeError(f"tracer not ready after {READY_TIMEOUT:.0f} s")
                time.sleep(0.001)
            res["attach_s"] = time.monotonic() - t0
            time.sleep(SETTLE)
            # Peak RSS: VmHWM now (setup is over) and again just before the stop. Not ru_maxrss from
            # wait4: it includes the RSS of the forked Python child before its exec.
            res["rss_kb"] = vmhwm_kb(tracer.pid)
        w.stdin.write(b"\n")
        w.stdin.close()
        rc, wrss = reap(w, RUN_TIMEOUT)
        if rc is None:
            raise RuntimeError("workload did not finish")
        if rc != 0:
            raise RuntimeError(f"workload exited {rc}: {read(wout).strip()[-400:]}")
        if c.wrap:
            # Largest process in the wrapper's tree (heaptrack_interpret, here); this one may include
            # the forked Python's RSS (~14 MB) before exec, far below heaptrack's own.
            res["rss_kb"] = wrss
        data = parse_workload(read(wout))
        if not data:
            raise RuntimeError(f"no result line from the workload: {read(wout).strip()[-400:]}")
        res.update(cpu_ns=data["cpu_ns"], wall_ns=data["wall_ns"], mallocs=data["mallocs"],
                   go_mallocs=data.get("go_mallocs"))
        if tracer:
            hwm = vmhwm_kb(tracer.pid)  # None if it already ended (rtmon -p ends with its target)
            if hwm and (not res.get("rss_kb") or hwm > res["rss_kb"]):
                res["rss_kb"] = hwm
            trc, _ = stop(tracer)
            if trc not in (0, None, -signal.SIGINT, 130):
                raise RuntimeError(f"tracer exited {trc}: {read(terr).strip()[-400:]}")
            res["hits"] = c.hits(read(tout)) if c.hits else ""
            res["nhits"] = probe_hits(read(tout))
            res["hist"] = rtmon_hist(read(tout))
    finally:
        kill_left(tracer, w)
    return res


def run_rounds(cs, tmp):
    """BENCH_ROUNDS rounds of the configurations CS, interleaved; returns the elapsed seconds."""
    t_start = time.monotonic()
    for rnd in range(ROUNDS):
        for c in cs:
            if c.failed:
                continue
            time.sleep(PAUSE)
            try:
                r = run_one(c, tmp, rnd)
                c.errors = 0
            except RuntimeError as e:
                c.errors += 1
                c.lost.append(f"round {rnd + 1}: {e}")
                if c.errors >= 2:
                    c.failed = str(e)
                    log(f"bench: {c.name}: {e}; failed twice in a row, skipping it from now on")
                else:
                    log(f"bench: {c.name}: {e}; this round's run is lost")
                continue
            c.cpu.append(r["cpu_ns"])
            c.wall.append(r["wall_ns"])
            if "attach_s" in r:
                c.attach.append(r["attach_s"])
            if r.get("rss_kb"):
                c.rss.append(r["rss_kb"])
            c.hitlog.append(r.get("hits", ""))
            if isinstance(r.get("hits"), int):
                c.calls.append(r["hits"])
            if r.get("go_mallocs"):
                c.go_mallocs.append(r["go_mallocs"])
            if r.get("nhits"):
                c.nhits.append(r["nhits"])
            if r.get("hist"):
                c.hists.append(r["hist"])
            log(f"  round {rnd + 1}/{ROUNDS} {c.name:<14} cpu {r['cpu_ns'] / 1e6:9.1f} ms  wall "
                f"{r['wall_ns'] / 1e6:9.1f} ms" + (f"  attach {r['attach_s'] * 1e3:6.1f} ms" if "attach_s" in r
                                                  else "") + (f"  hits: {r['hits']}" if r.get("hits") else ""))
    return time.monotonic() - t_start


def go_report(gcs, elapsed, ver):
    """Print the Go section's table; return its numbers for results.json."""
    byname = {c.name: c for c in gcs}
    rows = []
    for c in gcs:
        b = byname.get(c.base) if c.base else None
        # Calls: as counted by the tracer (rtmon's calls.mallocgc, bpftrace's histogram total), else the
        # runtime's own count (MemStats.Mallocs delta) of this run or of its baseline.
        calls = med(c.calls) or med(c.go_mallocs) or (b and med(b.go_mallocs))
        ok = b is not None and b.cpu and c.cpu and calls
        bcpu = med(b.cpu) if ok else None
        spread = [(x - bcpu) / calls for x in c.cpu] if ok else []
        rows.append({
            "name": c.name, "label": c.label, "probes": c.probes, "runs": len(c.cpu), "failed": c.failed,
            "workload": " ".join(os.path.basename(a) for a in c.wargs),
            "calls": calls, "runtime_mallocs": med(c.go_mallocs),
            "cpu_ms": med(c.cpu) / 1e6 if c.cpu else None, "wall_ms": med(c.wall) / 1e6 if c.wall else None,
            "cpu_ns_per_call": med(c.cpu) / calls if c.cpu and calls else None,
            "added_ns_per_call": (med(c.cpu) - bcpu) / calls if ok else None,
            "added_min": min(spread) if spread else None, "added_max": max(spread) if spread else None,
            "wall_x": med(c.wall) / med(b.wall) if ok and b.wall else None,
            "attach_ms": med(c.attach) * 1e3 if c.attach else None,
            "attach_min_ms": min(c.attach) * 1e3 if c.attach else None,
            "attach_max_ms": max(c.attach) * 1e3 if c.attach else None,
            "rss_mib": med(c.rss) / 1024 if c.rss else None,
        })

    def fmt(x, spec, none="-"):
        return none if x is None else format(x, spec)

    gb = byname.get("go-base")
    print()
    print("Go: runtime.mallocgc")
    print()
    print(f"Workload: tests/bench/gomalloc ({ver}, CGO_ENABLED=0), {GO_GOROUTINES} goroutines x {GO_ITERS} "
          f"make([]byte, 16..4096) kept in a 64-slot ring; medians of {ROUNDS} rounds; bench time "
          f"{elapsed:.0f} s. mallocgc calls include the runtime's own allocations (GC, goroutines, ...).")
    if gb and gb.cpu:
        print(f"Uninstrumented: {med(gb.cpu) / 1e6:.1f} ms CPU (GC included), {med(gb.wall) / 1e6:.1f} ms wall.")
    print()
    print("| configuration | probe | mallocgc calls per run | CPU ms | CPU ns per call | CPU ns added per call "
          "(min..max) | wall x | attach ms (min..max) | peak RSS MiB |")
    print("|" + "---|" * 9)
    for r in rows:
        if not r["runs"]:
            print(f"| {r['label']} | {r['probes']} | not run: {r['failed']} | | | | | | |")
            continue
        ns = fmt(r["added_ns_per_call"], ",.0f")
        if r["added_min"] is not None:
            ns += f" ({r['added_min']:,.0f}..{r['added_max']:,.0f})"
        calls = fmt(r["calls"], ",.0f", "?")
        if r["runtime_mallocs"] and r["calls"] != r["runtime_mallocs"]:
            calls += f" (runtime: {r['runtime_mallocs']:,.0f})"
        print(f"| {r['label']} | {r['probes']} | {calls} | {fmt(r['cpu_ms'], ',.1f')} | "
              f"{fmt(r['cpu_ns_per_call'], ',.0f')} | {ns} | {fmt(r['wall_x'], '.2f')} | "
              f"{fmt(r['attach_ms'], '.1f')}"
              + (f" ({r['attach_min_ms']:.1f}..{r['attach_max_ms']:.1f})" if r["attach_ms"] is not None else "")
              + f" | {fmt(r['rss_mib'], '.1f')} |")
    print()
    for c in gcs:
        if c.failed and not c.lost:
            print(f"note: {c.name}: {c.failed}")
        for e in c.lost:
            print(f"note: {c.name}: lost {e}")
    return {"goroutines": GO_GOROUTINES, "iters": GO_ITERS, "bpftrace_iters": GO_BT_ITERS, "go_version": ver,
            "rows": rows, "raw": {c.name: {"cpu_ns": c.cpu, "wall_ns": c.wall, "attach_s": c.attach,
                                          "rss_kb": c.rss, "calls": c.calls, "runtime_mallocs": c.go_mallocs}
                                  for c in gcs}}


def med(xs):
    return statistics.median(xs) if xs else None


def machine():
    cpu = "?"
    for line in read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"nproc": os.cpu_count(), "kernel": platform.release(), "cpu": cpu,
            "date": datetime.date.today().isoformat()}


def tool_versions():
    v = {}
    for name, argv in (("bpftrace", ["bpftrace", "--version"]), ("funclatency", ["funclatency", "-V"]),
                       ("heaptrack", ["heaptrack", "--version"])):
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            v[name] = (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            v[name] = None
    return v


CHURN = os.path.join(BUILD_ABS, "testprog", "churn")
CHURN_THREADS = int(os.environ.get("BENCH_CHURN_THREADS", "10000"))


def churn_once(tracer_args):
    """One churn run (create+join CHURN_THREADS threads): the target's own CPU seconds from wait4's
    rusage (all its threads, including the kernel time its tracepoints and uprobe traps take), and
    rtmon's summary line when traced."""
    w = spawn([CHURN, str(CHURN_THREADS)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    wait_held(w.pid, workload=CHURN)
    tr = start_rtmon(tracer_args, w.pid)
    w.stdin.write(b"\n")
    w.stdin.close()
    _, status, ru = os.wait4(w.pid, 0)
    w.returncode = status
    live.remove(w)
    return ru.ru_utime + ru.ru_stime, rtmon_summary(tr)


def start_rtmon(args, pid):
    """rtmon ARGS --json -p PID, once it is tracing (and SETTLE seconds more); None without ARGS."""
    if not args:
        return None
    # serve prints no summary; it says where it serves before its Tracing line
    extra = ["--listen", "127.0.0.1:0"] if args[0] == "serve" else ["--json"]
    tr = spawn([RTMON] + args + extra + ["-p", str(pid)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
               text=True)
    tr.serve_addr = None
    line = tr.stderr.readline()
    while line and not line.startswith("Tracing") and (": note: " in line or line.startswith("rtmon serve:")
                                                        or line.startswith("rtmon gc: warning")):
        m = re.match(r"rtmon serve: serving http://(\S+)/metrics", line)
        if m:
            tr.serve_addr = m.group(1)
        line = tr.stderr.readline()
    if not line.startswith("Tracing"):
        stop(tr)
        raise RuntimeError(f"rtmon {' '.join(args)} did not attach: {line.strip()}")
    time.sleep(SETTLE)
    return tr


def rtmon_summary(tr):
    """The summary object of an rtmon started by start_rtmon, which ends by itself with its PID."""
    if not tr:
        return None
    if tr.serve_addr:  # serve stays until told: its target's last values are still served
        stop(tr)
        return None
    out, _ = tr.communicate(timeout=RUN_TIMEOUT)
    live.remove(tr)
    return json.loads(out.strip().splitlines()[-1])


def churn_report():
    """Thread churn uninstrumented, under rtmon thr and under rtmon lat (issue 3's benchmark)."""
    cfgs = [("base", None), ("thr", ["thr"]), ("lat", ["lat"])]
    cpu = {n: [] for n, _ in cfgs}
    lost = {n: 0 for n, _ in cfgs}
    for rnd in range(ROUNDS):
        for name, args in cfgs:
            c, summary = churn_once(args)
            cpu[name].append(c)
            if summary:
                lost[name] += summary.get("lost", 0)
            log(f"  round {rnd + 1}/{ROUNDS} churn-{name:5s} cpu {c * 1e3:8.1f} ms")
    base = med(cpu["base"])
    print()
    print("Thread churn")
    print()
    print(f"Workload: testprog/churn, {CHURN_THREADS} x pthread_create + pthread_join; target CPU from wait4 "
          f"(all its threads); medians of {ROUNDS} rounds.")
    print()
    print("| configuration | target CPU ms (min..max) | CPU us per thread | x uninstrumented | lost |")
    print("|---|---|---|---|---|")
    rows = {}
    for name, args in cfgs:
        m = med(cpu[name])
        label = "uninstrumented" if not args else f"rtmon {args[0]} -p PID"
        rows[name] = {"cpu_ms": m * 1e3, "us_per_thread": m * 1e6 / CHURN_THREADS, "ratio": m / base,
                      "lost": lost[name]}
        print(f"| {label} | {m * 1e3:,.1f} ({min(cpu[name]) * 1e3:,.1f}..{max(cpu[name]) * 1e3:,.1f}) | "
              f"{m * 1e6 / CHURN_THREADS:.2f} | {m / base:.2f} | {lost[name] if args else '-'} |")
    print()
    for name in ("thr", "lat"):
        r = rows[name]["ratio"]
        print(f"  rtmon {name}: {'PASS' if r <= 1.1 else 'FAIL'} (target CPU {r:.2f}x uninstrumented, goal <= 1.1x)")
    return {"threads": CHURN_THREADS, "rows": rows, "raw_cpu_s": cpu}


GOEVENTS = os.path.join(BUILD_ABS, "bench", "goevents")
EV_GOROUTINES = int(os.environ.get("BENCH_GOROUTINES", "100000"))
EV_GCS = int(os.environ.get("BENCH_GCS", "300"))


def goevents_once(mode, n, tracer_args):
    """One goevents run: the program's own CPU ns (its rusage around the work) and rtmon's summary."""
    w = spawn([GOEVENTS, mode, str(n)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    wait_held(w.pid, workload=GOEVENTS, go=True)
    tr = start_rtmon(tracer_args, w.pid)
    out, _ = w.communicate(b"\n", timeout=RUN_TIMEOUT)
    live.remove(w)
    data = parse_workload(out.decode(errors="replace"))
    summary = rtmon_summary(tr)
    if not data:
        raise RuntimeError(f"no result from goevents {mode}")
    return data["cpu_ns"], summary


def events_report():
    """Per-event cost of the cold probes on a Go program: goroutines under rtmon thr and lat, GC cycles
    under rtmon gc. (Native threads: the "Thread churn" section.)"""
    if ONLY and "events" not in ONLY:
        return None
    cases = [("goroutines", EV_GOROUTINES, [("base", None), ("thr", ["thr"]), ("lat", ["lat"])]),
             ("gc", EV_GCS, [("base", None), ("gc", ["gc"])])]
    res = {}
    for mode, n, cfgs in cases:
        cpu = {name: [] for name, _ in cfgs}
        events = {name: [] for name, _ in cfgs}
        for rnd in range(ROUNDS):
            for name, args in cfgs:
                try:
                    c, summary = goevents_once(mode, n, args)
                except (RuntimeError, subprocess.TimeoutExpired) as e:
                    log(f"bench: goevents {mode} {name}: {e}")
                    continue
                cpu[name].append(c)
                if summary:
                    # Probe hits per event where rtmon reports them (gc), else its events per event.
                    events[name].append(summary.get("probe_hits", summary.get("events", 0)) / n)
                log(f"  round {rnd + 1}/{ROUNDS} goevents-{mode}-{name:5s} cpu {c / 1e6:8.1f} ms")
        base = med(cpu["base"])
        res[mode] = {"n": n, "base_cpu_ms": base / 1e6 if base else None, "rows": {}}
        for name, args in cfgs:
            if not args or not cpu[name] or not base:
                continue
            ratios = [x / y for x, y in zip(cpu[name], cpu["base"])]
            res[mode]["rows"][name] = {"cpu_ms": med(cpu[name]) / 1e6, "us_added_per_event": (med(cpu[name]) - base) / n / 1e3,
                                       "x": med(cpu[name]) / base, "x_min": min(ratios), "x_max": max(ratios),
                                       "rtmon_per_event": med(events[name])}
    print()
    print("Per-event costs on a Go program (tests/bench/goevents)")
    print()
    print(f"Workloads: {EV_GOROUTINES} goroutines started one after another (each returns at once); {EV_GCS} "
          f"runtime.GC() calls on a small heap. Target CPU from its own rusage around the work; medians of "
          f"{ROUNDS} rounds.")
    print()
    print("| workload | configuration | target CPU ms | us added per event | x uninstrumented (per-round min..max) "
          "| probe hits (gc) or rtmon events (thr, lat) per event |")
    print("|---|---|---|---|---|---|")
    for mode, r in res.items():
        if r["base_cpu_ms"]:
            print(f"| {mode} x {r['n']} | uninstrumented | {r['base_cpu_ms']:,.1f} | - | 1.00 | - |")
        for name, row in r["rows"].items():
            print(f"| {mode} x {r['n']} | rtmon {name} -p PID | {row['cpu_ms']:,.1f} | {row['us_added_per_event']:.2f} | "
                  f"{row['x']:.2f} ({row['x_min']:.2f}..{row['x_max']:.2f}) | {row['rtmon_per_event'] or 0:.2f} |")
    return res


GOCHURN = os.path.join(BUILD_ABS, "testprog", "go", "gochurn")
SERVE_SCRAPES = int(os.environ.get("BENCH_SERVE_SCRAPES", "500"))
SERVE_LOAD_S = float(os.environ.get("BENCH_SERVE_LOAD_S", "60"))


def ratio_row(base, cpu, n):
    """Median target CPU (and the baseline's), CPU added per event (of n), x uninstrumented (median)
    and the per-round ratios' min..max."""
    ratios = [x / y for x, y in zip(cpu, base)]
    return {"cpu_ms": med(cpu) * 1e3, "base_ms": med(base) * 1e3, "n": n,
            "us_per_event": (med(cpu) - med(base)) / n * 1e6, "x": med(cpu) / med(base),
            "x_min": min(ratios), "x_max": max(ratios)}


def serve_scrapes():
    """SERVE_SCRAPES scrapes of rtmon serve -p on gochurn, one after another over one kept-alive
    connection: each one's time from request to the whole body, and the number of series."""
    import http.client
    w = spawn([GOCHURN], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    tr = None
    try:
        w.stdout.readline()  # ready PID
        tr = start_rtmon(["serve"], w.pid)
        w.stdin.write(b"\n")
        w.stdin.flush()
        time.sleep(1)  # the churn is under way
        conn = http.client.HTTPConnection(tr.serve_addr, timeout=10)
        times, series, failed = [], 0, 0
        for _ in range(SERVE_SCRAPES):
            t0 = time.perf_counter()
            conn.request("GET", "/metrics")
            r = conn.getresponse()
            body = r.read()
            times.append(time.perf_counter() - t0)
            failed += r.status != 200
            series = sum(1 for l in body.decode().splitlines() if l and not l.startswith("#"))
            time.sleep(0.01)
        conn.close()
        w.stdin.write(b"\n")
        w.stdin.close()
        reap(w, 30)
    finally:
        if tr:
            stop(tr)
        kill_left(tr, w)
    times.sort()
    return {"n": len(times), "series": series, "failed": failed, "median_ms": med(times) * 1e3,
            "p90_ms": times[int(0.9 * len(times))] * 1e3, "min_ms": times[0] * 1e3, "max_ms": times[-1] * 1e3}


def serve_load():
    """tests/integration/test_serve_load.py for SERVE_LOAD_S seconds: (passed, its last line)."""
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "tests/integration/test_serve_load.py"],
                       cwd=ROOT, capture_output=True, text=True, timeout=SERVE_LOAD_S + 300,
                       env=dict(os.environ, RTMON=RTMON, RTMON_BUILD=BUILD_ABS,
                                RTMON_SERVE_LOAD_S=f"{SERVE_LOAD_S:g}"))
    lines = [l for l in r.stdout.splitlines() if "scrapes in" in l or "passed" in l or "failed" in l
             or "Error" in l]
    return r.returncode == 0, "; ".join(lines[-3:])


def serve_report(tmp):
    """rtmon serve: its cost to the target per collector, the time of a scrape, the load test."""
    if ONLY and "serve" not in ONLY:
        return None
    log("bench: serve: thread churn, goroutines, GC cycles, malloc under --malloc-budget "
        f"{BUDGET_PCT:g}; {ROUNDS} rounds")
    res = {"rows": {}}
    cpu = {k: [] for k in ("threads-base", "threads", "goroutines-base", "goroutines", "gc-base", "gc")}
    for rnd in range(ROUNDS):
        for key, args in (("threads-base", None), ("threads", ["serve"])):
            time.sleep(PAUSE)
            cpu[key].append(churn_once(args)[0])
        for key, mode, n, args in (("goroutines-base", "goroutines", EV_GOROUTINES, None),
                                   ("goroutines", "goroutines", EV_GOROUTINES, ["serve"]),
                                   ("gc-base", "gc", EV_GCS, None), ("gc", "gc", EV_GCS, ["serve"])):
            time.sleep(PAUSE)
            cpu[key].append(goevents_once(mode, n, args)[0] / 1e9)
        log(f"  round {rnd + 1}/{ROUNDS} serve: " + ", ".join(f"{k} {v[-1] * 1e3:.1f} ms" for k, v in cpu.items()))
    wl = [WORKLOAD, str(THREADS), str(BUDGET_ITERS)]
    mcs = [Config("serve-malloc-base", f"uninstrumented ({THREADS} x {BUDGET_ITERS})", "-", role="base", wargs=wl),
           Config("serve-malloc", f"rtmon serve --malloc-budget {BUDGET_PCT:g} -p PID", "malloc, free, ...",
                  argv=lambda pid: [RTMON, "serve", "--listen", "127.0.0.1:0", "--malloc-budget",
                                    f"{BUDGET_PCT:g}", "-p", str(pid)],
                  ready=r"^Tracing", role="rtmon", wargs=wl, base="serve-malloc-base"),
           Config("serve-malloc-cmp", f"rtmon malloc --budget {BUDGET_PCT:g} -p PID", "malloc, free, ...",
                  argv=lambda pid: [RTMON, "malloc", "--json", "--budget", f"{BUDGET_PCT:g}", "-p", str(pid)],
                  ready=r"^Tracing", role="rtmon", wargs=wl, base="serve-malloc-base")]
    run_rounds(mcs, tmp)
    for name, n in (("threads", CHURN_THREADS), ("goroutines", EV_GOROUTINES), ("gc", EV_GCS)):
        if cpu[name]:
            res["rows"][name] = ratio_row(cpu[name + "-base"], cpu[name], n)
    mb = [x / 1e9 for x in mcs[0].cpu]
    for c in mcs[1:]:
        if c.cpu and mb:
            res["rows"][c.name] = ratio_row(mb, [x / 1e9 for x in c.cpu], THREADS * BUDGET_ITERS)
    log(f"bench: serve: {SERVE_SCRAPES} scrapes while gochurn runs")
    res["scrape"] = serve_scrapes()
    log(f"bench: serve: load test for {SERVE_LOAD_S:g} s")
    res["load_passed"], res["load"] = serve_load()
    print()
    print("rtmon serve")
    print()
    print(f"Target CPU (its own rusage) uninstrumented and under `rtmon serve -p PID`, which runs every collector "
          f"at once; each workload exercises one: testprog/churn ({CHURN_THREADS} threads), goevents "
          f"({EV_GOROUTINES} goroutines; {EV_GCS} GC cycles), the --budget section's C workload ({THREADS} x "
          f"{BUDGET_ITERS} malloc+free pairs) under --malloc-budget {BUDGET_PCT:g}. Medians of {ROUNDS} rounds.")
    print()
    print("| collector (workload) | configuration | target CPU ms (uninstrumented) | us added per event "
          "(thread, goroutine, GC cycle, malloc+free pair) | x uninstrumented (per-round min..max) |")
    print("|---|---|---|---|---|")
    labels = {"threads": "threads (churn)", "goroutines": "goroutines (goevents)", "gc": "GC (goevents gc)",
              "serve-malloc": f"malloc, --malloc-budget {BUDGET_PCT:g}",
              "serve-malloc-cmp": f"malloc, rtmon malloc --budget {BUDGET_PCT:g} (for comparison)"}
    for name, r in res["rows"].items():
        conf = "rtmon malloc --budget -p PID" if name == "serve-malloc-cmp" else "rtmon serve -p PID"
        print(f"| {labels[name]} | {conf} | {r['cpu_ms']:,.1f} ({r['base_ms']:,.1f}) | {r['us_per_event']:.4g} | "
              f"{r['x']:.3f} ({r['x_min']:.3f}..{r['x_max']:.3f}) |")
    sc = res["scrape"]
    print()
    print(f"Scrape of /metrics ({sc['series']} series, target gochurn churning goroutines): {sc['n']} scrapes, "
          f"median {sc['median_ms']:.2f} ms, p90 {sc['p90_ms']:.2f} ms, min..max {sc['min_ms']:.2f}.."
          f"{sc['max_ms']:.2f} ms, {sc['failed']} not 200.")
    print(f"  scrape median <= 5 ms with >= 100 series: "
          f"{'PASS' if sc['median_ms'] <= 5 and sc['series'] >= 100 else 'FAIL'}")
    print(f"  load test ({SERVE_LOAD_S:g} s, 100 scrapes a second): {'PASS' if res['load_passed'] else 'FAIL'}: "
          f"{res['load']}")
    return res


def script_section(script, timeout):
    """A section that is a script of its own (tests/bench/SCRIPT BUILD ROUNDS JSON_OUT): its parsed JSON,
    or None if it failed. The script prints its own report."""
    out = os.path.join(BUILD_ABS, "bench", f"results-{os.path.splitext(script)[0]}.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "bench", script), BUILD_ABS, str(ROUNDS),
                        out], cwd=ROOT, timeout=timeout)
    if r.returncode:
        return None
    with open(out) as f:
        return json.load(f)


def inspect_report():
    """rtmon stack/memstats/stats against gdb and delve on 10,000 goroutines (tests/bench/go_inspect.py)."""
    return script_section("go_inspect.py", 1800)


def stacks_report():
    """rtmon profile and malloc --stacks against perf, bpftrace and heaptrack (tests/bench/stacks.py)."""
    if make(*[os.path.join(BUILD_ABS, "testprog", n) for n in ("cpuburn-fp", "cpuburn-nofp")]).returncode:
        return None
    return script_section("stacks.py", 3600)


def make(*targets):
    """make TARGETS in the tree, named as the Makefile's rules name them (relative to it)."""
    rel = [os.path.relpath(t, ROOT) if os.path.isabs(t) else t for t in targets]
    return subprocess.run(["make", "-s", "--no-print-directory", f"BUILD={BUILD}"] + rel, cwd=ROOT)


def main():
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    if os.geteuid() != 0:
        log("bench: needs root (BPF, uprobes): run `sudo make bench`")
        return 1
    if not (shutil.which("bpftrace") and shutil.which("funclatency") and shutil.which("heaptrack")):
        subprocess.run([os.path.join(ROOT, ".ci", "install-deps")], cwd=ROOT)
    mk = make(RTMON, FLOOR, WORKLOAD, os.path.join(BUILD_ABS, "testprog", "churn"))
    if mk.returncode:
        log("bench: cannot build the benchmark tools")
        return 1
    go_ok = True
    if not ONLY or any(n.startswith("go-") or n in ("events", "gobig", "serve", "inspect", "budget") for n in ONLY):
        mk = make(GOWORKLOAD, GOEVENTS, GOCHURN, "testprogs")
        if mk.returncode:
            log("bench: cannot build the Go workload (is Go installed?): skipping the Go section")
            go_ok = False
    if go_ok and (not ONLY or "gobig" in ONLY) and not os.path.exists(GOBIG):
        log("bench: building the 100 MB stripped Go binary for the attach measurement (a few minutes, once)")
        make(GOBIG)

    if ONLY == ["heap"]:
        return heap_cost()
    tmp = tempfile.mkdtemp(prefix="rtmon-bench.")
    if ONLY == ["serve"]:
        try:
            if not go_ok:
                return 1
            m = machine()
            log(f"bench: {m['nproc']} CPUs, {m['cpu']}, kernel {m['kernel']}; serve section only")
            serve = serve_report(tmp)
        finally:
            cleanup()
            shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(os.path.join(BUILD_ABS, "bench"), exist_ok=True)
        with open(os.path.join(BUILD_ABS, "bench", "results-serve.json"), "w") as f:
            json.dump({"machine": m, "rounds": ROUNDS, "serve": serve}, f, indent=1)
        print(f"(raw numbers: {os.path.join(BUILD, 'bench', 'results-serve.json')})")
        return 0
    try:
        # Warm-up, and find libc and where free's first emulated instruction is.
        w = spawn([WORKLOAD, str(THREADS), str(ITERS)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        wait_held(w.pid)
        libc = libc_of(w.pid)
        w.communicate(b"\n", timeout=RUN_TIMEOUT)
        live.remove(w)
        free_off = first_emulated_offset(libc, "free") if libc else None
        cs = configs(tmp, free_off)
        gcs = go_configs() if go_ok else []
        go_elapsed, go_version = 0, "?"
        bcs, gobig = [], None
        m = machine()
        log(f"bench: {m['nproc']} CPUs, {m['cpu']}, kernel {m['kernel']}; workload {THREADS} threads x "
            f"{ITERS} malloc+free pairs; {ROUNDS} rounds; libc {libc}")
        elapsed = run_rounds(cs, tmp)
        bcs = budget_configs()
        if bcs:
            log(f"bench: --budget {BUDGET_PCT:g}: {THREADS} threads x {BUDGET_ITERS} pairs; {ROUNDS} rounds")
            elapsed += run_rounds(bcs, tmp)
        if gcs:
            # Warm-up (page cache, CPU frequency) for the Go workload too.
            warm = subprocess.run([GOWORKLOAD, str(GO_GOROUTINES), str(GO_ITERS)], input=b"\n",
                                  capture_output=True, timeout=RUN_TIMEOUT)
            go_version = (parse_workload(warm.stdout.decode(errors="replace")) or {}).get("go_version", "?")
            log(f"bench: Go workload {GO_GOROUTINES} goroutines x {GO_ITERS} allocations (bpftrace: x "
                f"{GO_BT_ITERS}); {ROUNDS} rounds")
            go_elapsed = run_rounds(gcs, tmp)
        if go_ok:
            gobig = gobig_attach()
    finally:
        cleanup()
        shutil.rmtree(tmp, ignore_errors=True)

    mallocs = THREADS * ITERS
    byname = {c.name: c for c in cs}
    base = byname["base"]
    if not base.cpu:
        log("bench: no uninstrumented run succeeded")
        return 1
    bcpu, bwall = med(base.cpu), med(base.wall)

    def added(c):
        return (med(c.cpu) - bcpu) / mallocs if c.cpu else None

    floor, floor_mf = byname.get("floor"), byname.get("floor-mf")
    f1 = added(floor) if floor else None
    f2 = added(floor_mf) if floor_mf else None
    # The fair floor: the same two functions rtmon's hot path probes, at the same emulated sites.
    floor_same = byname.get("floor-mf-emul")
    f3 = added(floor_same) if floor_same else None
    rows = []
    for c in cs:
        cpu_ok = c.role not in ("base", "wallonly")
        a = added(c) if cpu_ok else None
        spread = [(x - bcpu) / mallocs for x in c.cpu] if cpu_ok and c.cpu else []
        rows.append({
            "name": c.name, "label": c.label, "probes": c.probes, "runs": len(c.cpu), "failed": c.failed,
            "cpu_ms": med(c.cpu) / 1e6 if c.cpu else None, "wall_ms": med(c.wall) / 1e6 if c.wall else None,
            "added_ns_per_malloc": a,
            "hits_per_run": med(c.nhits),
            "added_ns_per_hit": (med(c.cpu) - bcpu) / med(c.nhits) if cpu_ok and c.cpu and c.nhits else None,
            "added_min": min(spread) if spread else None, "added_max": max(spread) if spread else None,
            "vs_floor": a / f1 if a is not None and f1 else None,
            "vs_floor_mf": a / f2 if a is not None and f2 else None,
            "wall_x": med(c.wall) / bwall if c.wall else None,
            "attach_ms": med(c.attach) * 1e3 if c.attach else None,
            "attach_min_ms": min(c.attach) * 1e3 if c.attach else None,
            "attach_max_ms": max(c.attach) * 1e3 if c.attach else None,
            "rss_mib": med(c.rss) / 1024 if c.rss else None,
            "hits": c.hitlog[-1] if c.hitlog else "",
        })

    def fmt(x, spec, none="-"):
        return none if x is None else format(x, spec)

    hdr = ("| configuration | probes | CPU ns added per malloc (min..max) | probe hits per run | "
           "CPU ns added per hit | x floor (malloc) | x floor (malloc+free) | wall x | attach ms (min..max) | "
           "peak RSS MiB |")
    print()
    print(f"Workload: {THREADS} threads x {ITERS} malloc+free pairs ({mallocs} mallocs, as many frees), sizes "
          f"16..4096; medians of {ROUNDS} rounds. Uninstrumented: {bcpu / 1e6:.1f} ms CPU, {bwall / 1e6:.1f} ms "
          f"wall ({bcpu / mallocs:.0f} ns CPU per malloc+free pair).")
    print(f"Machine: {m['nproc']} CPUs, {m['cpu']}, kernel {m['kernel']}, {m['date']}. Bench time {elapsed:.0f} s.")
    print()
    print(hdr)
    print("|" + "---|" * 10)
    for r in rows:
        if r["name"] == "base":
            continue
        if not r["runs"]:
            print(f"| {r['label']} | {r['probes']} | not run: {r['failed']} | | | | | | | |")
            continue
        ns = fmt(r["added_ns_per_malloc"], ",.0f")
        if r["added_min"] is not None:
            ns += f" ({r['added_min']:,.0f}..{r['added_max']:,.0f})"
        print(f"| {r['label']} | {r['probes']} | {ns} | {fmt(r['hits_per_run'], ',.0f')} | "
              f"{fmt(r['added_ns_per_hit'], ',.0f')} | {fmt(r['vs_floor'], '.2f')} | "
              f"{fmt(r['vs_floor_mf'], '.2f')} | {fmt(r['wall_x'], '.1f')} | "
              f"{fmt(r['attach_ms'], '.1f')}"
              + (f" ({r['attach_min_ms']:.1f}..{r['attach_max_ms']:.1f})" if r["attach_ms"] is not None else "")
              + f" | {fmt(r['rss_mib'], '.1f')} |")
    print()
    rt = next((r for r in rows if r["name"] == "rtmon"), None)
    per_hit = {r["name"]: r["added_ns_per_hit"] for r in rows}

    def scaled(name, factor):
        v = per_hit.get(name)
        return v * factor if v is not None else None

    if rt and rt["runs"]:
        checks = [
            ("added CPU per hit <= 0.95 x the classic floor (same emulated sites)", rt["added_ns_per_hit"],
             scaled("floor-mf-emul", 0.95), "ns"),
            ("added CPU per hit <= 0.8 x bpftrace hist(arg0)", rt["added_ns_per_hit"], scaled("bpftrace", 0.8), "ns"),
            ("added CPU per malloc <= floor (malloc+free, same emulated sites)", rt["added_ns_per_malloc"], f3,
             "ns"),
            ("attach <= 40 ms (native target)", rt["attach_ms"], 40.0, "ms"),
            ("peak RSS <= 16 MiB", rt["rss_mib"], 16.0, "MiB"),
        ]
        print("rtmon targets:")
        for what, val, lim, unit in checks:
            if val is None or lim is None:
                print(f"  {what}: not measured")
                continue
            print(f"  {what}: {'PASS' if val <= lim else 'FAIL'} ({val:,.1f} {unit} vs {lim:,.1f} {unit})")
        print(f"  hits seen in the last round: {rt['hits']}")
    for c in cs:
        if c.failed and not c.lost:
            print(f"note: {c.name}: {c.failed}")
        for e in c.lost:
            print(f"note: {c.name}: lost {e}")

    go = go_report(gcs, go_elapsed, go_version) if gcs else None
    budget = budget_report(cs + bcs, gcs)
    gobudget = gobudget_estimates() if go_ok and (not ONLY or "budget" in ONLY) else None
    gobig_report(gobig)
    churn = churn_report() if not ONLY or "churn" in ONLY else None
    events = events_report() if go_ok else None
    stmp = tempfile.mkdtemp(prefix="rtmon-bench.")
    try:
        serve = serve_report(stmp) if go_ok else None
        inspect = inspect_report() if go_ok and (not ONLY or "inspect" in ONLY) else None
        stacks = stacks_report() if not ONLY or "stacks" in ONLY else None
    finally:
        cleanup()
        shutil.rmtree(stmp, ignore_errors=True)

    os.makedirs(os.path.join(BUILD_ABS, "bench"), exist_ok=True)
    with open(os.path.join(BUILD_ABS, "bench", "results.json"), "w") as f:
        json.dump({"machine": m, "tools": tool_versions(), "threads": THREADS, "iters": ITERS,
                   "rounds": ROUNDS, "free_emulated_offset": free_off, "base_cpu_ms": bcpu / 1e6,
                   "base_wall_ms": bwall / 1e6, "rows": rows,
                   "raw": {c.name: {"cpu_ns": c.cpu, "wall_ns": c.wall, "attach_s": c.attach, "rss_kb": c.rss}
                           for c in cs + bcs}, "go": go, "churn": churn, "budget": budget, "gobudget": gobudget,
                   "gobig": gobig,
                   "events": events, "serve": serve, "inspect": inspect, "stacks": stacks}, f,
                  indent=1)
    print(f"(raw numbers: {os.path.join(BUILD, 'bench', 'results.json')})")
    if go_ok and (not ONLY or "heap" in ONLY):
        heap_cost()
    return 0


def heap_cost():
    """rtmon heap on the Go allocation bench: tests/bench/heap_cost.py, its own rounds."""
    return subprocess.run([sys.executable, os.path.join(ROOT, "tests", "bench", "heap_cost.py"),
                           BUILD_ABS, str(ROUNDS)], cwd=ROOT).returncode


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        cleanup()
        sys.exit(130)
    finally:
        cleanup()
