#!/usr/bin/python3
"""Benchmark of the agentless Go readers (issue 13): `rtmon stack` and `rtmon memstats` on a Go
program with 10,000 parked goroutines, against the debuggers that can list goroutines from outside,
gdb with Go's runtime-gdb.py (`info goroutines`) and delve (`goroutines -t`).

    tests/bench/go_inspect.py BUILD [ROUNDS] [JSON_OUT]

The target is testprog/go/gostack with BENCH_INSPECT_GOROUTINES (default 10000) extra goroutines:
rtmon reads the stripped build (what it must handle), the debuggers the plain one (they need DWARF).
One goroutine of the target increments a counter without ever parking; a sampler thread reads it
through /proc/PID/mem every ~1 ms (more often, the sampler itself would take the CPU the tool
needs: the target already spins on one of the two). From that:
  - pause: the longest time the counter did not move while the tool ran. A debugger stops every
    thread (ptrace) from attach to detach; rtmon only reads, so its figure is scheduling noise.
  - throughput: the counter's rate while the tool ran / its rate in an untouched window of the same
    length just before (1.0 = no effect).
Wall time is from spawning the tool to its exit; CPU is the tool's own (RUSAGE_CHILDREN).
Goals: rtmon stack <= 100 ms end to end, rtmon memstats <= 20 ms (medians)."""
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
OUT = sys.argv[3] if len(sys.argv) > 3 else None
EXTRA = int(os.environ.get("BENCH_INSPECT_GOROUTINES", "10000"))
RTMON = os.path.join(BUILD, "rtmon")


class Target:
    """gostack held parked, with its counter sampled in a thread."""

    def __init__(self, binary, tmp):
        os.makedirs(tmp, exist_ok=True)
        self.p = subprocess.Popen([binary, tmp, str(EXTRA)], stdout=subprocess.PIPE, text=True)
        ready = self.p.stdout.readline().split()
        if len(ready) != 3 or ready[0] != "ready":
            raise RuntimeError(f"{binary}: no ready line: {ready}")
        self.pid, self.addr = int(ready[1]), int(ready[2], 16)
        self.mem = os.open(f"/proc/{self.pid}/mem", os.O_RDONLY)
        self.samples = []  # (monotonic s, counter)
        self.stop_ev = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self):
        while not self.stop_ev.is_set():
            v = int.from_bytes(os.pread(self.mem, 8, self.addr), "little")
            self.samples.append((time.monotonic(), v))
            time.sleep(0.001)  # 1 ms: the sampler must not take the CPU rtmon needs (2 CPUs, one spinning)

    def window(self, t0, t1):
        """(counter rate per s, longest stall s) between t0 and t1."""
        s = [x for x in self.samples if t0 <= x[0] <= t1]
        if len(s) < 2:
            return None, None
        rate = (s[-1][1] - s[0][1]) / (s[-1][0] - s[0][0])
        stall, since = 0.0, s[0][0]
        for (ta, va), (tb, vb) in zip(s, s[1:]):
            if vb != va:
                stall = max(stall, tb - since)
                since = tb
        stall = max(stall, s[-1][0] - since)
        return rate, stall

    def close(self):
        self.stop_ev.set()
        self.thread.join()
        os.close(self.mem)
        self.p.kill()
        self.p.wait()


def run_tool(argv, target, stdin=None):
    """One run: (wall s, cpu s, ok, pause s, throughput ratio, output lines)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=300)
    t1 = time.monotonic()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    time.sleep(max(0.05, t1 - t0))  # the untouched window after, as long as the run
    t2 = time.monotonic()
    rate, stall = target.window(t0, t1)
    base, _ = target.window(t1 + (t2 - t1) * 0.1, t2)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": t1 - t0, "cpu": cpu, "rc": r.returncode, "pause": stall,
            "throughput": rate / base if rate is not None and base else None,
            "lines": r.stdout.count("\n"), "err": r.stderr.strip().splitlines()[-1:] if r.returncode else []}


def summary(runs):
    def m(k):
        xs = [r[k] for r in runs if r[k] is not None]
        return (statistics.median(xs), min(xs), max(xs)) if xs else None
    return {"runs": len(runs), "ok": sum(r["rc"] == 0 for r in runs), "wall_s": m("wall"),
            "cpu_s": m("cpu"), "pause_s": m("pause"), "throughput": m("throughput"),
            "lines": runs[-1]["lines"] if runs else 0, "errors": sorted({e for r in runs for e in r["err"]})}


def go_root():
    go = shutil.which("go") or "/usr/local/go/bin/go"
    return subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True).stdout.strip()


def main():
    if os.geteuid() != 0:
        print("go_inspect: needs root (reads another process's memory)", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="rtmon-inspect.")
    gdb_py = os.path.join(go_root(), "src", "runtime", "runtime-gdb.py")
    tools = {
        "rtmon stack (stripped)": ("stripped", lambda pid: ([RTMON, "stack", str(pid)], None)),
        "rtmon memstats (stripped)": ("stripped", lambda pid: ([RTMON, "memstats", str(pid)], None)),
        "rtmon stats (stripped)": ("stripped", lambda pid: ([RTMON, "stats", str(pid)], None)),
    }
    if shutil.which("gdb") and os.path.exists(gdb_py):
        tools["gdb info goroutines (plain)"] = ("plain", lambda pid: (
            ["gdb", "-nx", "-batch", "-p", str(pid), "-ex", f"source {gdb_py}", "-ex", "info goroutines"],
            None))
    if shutil.which("dlv"):
        # `exit` asks whether to kill the attached process: "n" detaches and lets it run.
        tools["delve goroutines -t (plain)"] = ("plain", lambda pid: (
            ["dlv", "attach", str(pid), "--check-go-version=false", "--allow-non-terminal-interactive=true"],
            "goroutines -t\nexit\nn\n"))
    # One target at a time: each spins one of the machine's two CPUs (its counter goroutine), and
    # two at once would leave the tool measured none.
    runs = {name: [] for name in tools}
    try:
        for which in ("stripped", "plain"):
            names = [n for n, (w, _) in tools.items() if w == which]
            t = Target(os.path.join(BUILD, "testprog/go/gostack" + ("-stripped" if which == "stripped"
                                                                     else "")), f"{tmp}/{which}")
            try:
                time.sleep(1)
                for _ in range(ROUNDS):
                    for name in names:
                        argv, stdin = tools[name][1](t.pid)
                        runs[name].append(run_tool(argv, t, stdin))
                        if t.p.poll() is not None:
                            raise RuntimeError(f"the target died under {name}")
            finally:
                t.close()
        res = {name: summary(r) for name, r in runs.items()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"Go inspection: testprog/go/gostack with {EXTRA} extra parked goroutines, {ROUNDS} rounds "
          f"(median, min..max)")
    print(f"{'tool':32} {'ok':>5} {'wall ms':>22} {'CPU ms':>20} {'target paused ms':>22} "
          f"{'target rate x':>16} {'lines':>7}")

    def fmt(v, k=1e3):
        return f"{v[0] * k:8.1f} ({v[1] * k:.1f}..{v[2] * k:.1f})" if v else "-"
    for name, s in res.items():
        thr = f"{s['throughput'][0]:.2f}" if s["throughput"] else "-"
        print(f"{name:32} {s['ok']:>2}/{s['runs']:<2} {fmt(s['wall_s']):>22} {fmt(s['cpu_s']):>20} "
              f"{fmt(s['pause_s']):>22} {thr:>16} {s['lines']:>7}")
        for e in s["errors"]:
            print(f"  {name}: {e}")
    checks = [("rtmon stack <= 100 ms end to end", res["rtmon stack (stripped)"], 0.100),
              ("rtmon memstats <= 20 ms end to end", res["rtmon memstats (stripped)"], 0.020)]
    for what, s, lim in checks:
        v = s["wall_s"][0] if s["wall_s"] else None
        print(f"  {what}: {'PASS' if v is not None and v <= lim and s['ok'] == s['runs'] else 'FAIL'}"
              f" ({v * 1e3 if v is not None else float('nan'):.1f} ms)")
    if OUT:
        with open(OUT, "w") as f:
            json.dump({"goroutines": EXTRA, "rounds": ROUNDS, "tools": res}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
