#!/usr/bin/env python3
"""CPU that rtmon malloc [--stacks] adds to a tight malloc+free loop, per pair (not part of make
bench: run it by hand as root on a quiet machine). Usage: malloc_stacks_cost.py RTMON [N]
Builds tests/bench/malloc_stacks_loop.c with and without frame pointers into a temporary folder;
for each mode starts the loop held at its gate, attaches `rtmon malloc ARGS -p PID`, releases it
and takes its user+system CPU from wait4; the best of 3 runs."""
import os
import subprocess
import sys
import tempfile

RT = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build/rtmon"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "malloc_stacks_loop.c")


def one(prog, args):
    p = subprocess.Popen([prog, str(N)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    t = None
    if args is not None:
        t = subprocess.Popen([RT, "malloc"] + args + ["-p", str(p.pid)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        for line in t.stderr:
            if line.startswith("Tracing"):
                break
    p.stdin.write(b"\n")
    p.stdin.flush()
    _, _, ru = os.wait4(p.pid, 0)
    out = ""
    if t:
        o, e = t.communicate()
        out = o + e
    return ru.ru_utime + ru.ru_stime, out


def main():
    d = tempfile.mkdtemp()
    fp, nofp = os.path.join(d, "loop-fp"), os.path.join(d, "loop-nofp")
    subprocess.check_call(["cc", "-O2", "-fno-omit-frame-pointer", "-mno-omit-leaf-frame-pointer",
                           SRC, "-o", fp])
    subprocess.check_call(["cc", "-O2", "-fomit-frame-pointer", SRC, "-o", nofp])
    stacks = ["--stacks", "--top", "1"]
    for prog, modes in [(fp, [("none", None), ("malloc", []),
                              ("stacks fp", stacks + ["--unwind", "fp"]),
                              ("stacks dwarf", stacks + ["--unwind", "dwarf"])]),
                        (nofp, [("none", None), ("malloc", []), ("stacks dwarf", stacks)])]:
        base = None
        for name, args in modes:
            cpu, out = min((one(prog, args) for _ in range(3)), key=lambda r: r[0])
            base = cpu if base is None else base
            lost = [l for l in out.splitlines() if l.startswith("allocations ")]
            print(f"{os.path.basename(prog):10s} {name:13s} CPU {cpu:.3f} s, "
                  f"+{(cpu - base) / N * 1e9:.0f} ns per malloc+free pair  {lost[0] if lost else ''}")


main()
