"""rtmon gc against testprog/go/gcprog: GC off except N runtime.GC() calls, then one ReadMemStats.

Every cycle must be seen with its four phases in order, triggered "forced"; the ReadMemStats stop is
a non-GC stop-the-world; the pause histogram holds exactly the GC pauses; the target exits 0.
"""
import glob
import os
import re
import subprocess
import time

import pytest

from conftest import BUILD, Target, Tracer, json_lines, run, tp

N = 5
PHASES = ["sweep-term", "mark", "mark-term", "sweep"]
VARIANTS = ["gcprog", "gcprog-stripped", "gcprog-pie"]
# One or more per goid-offset era (<= 1.22, 1.23/1.24, >= 1.25), and 1.17/1.20: before Go 1.21
# stopTheWorldWithSema had no reason argument, so rtmon infers it.
OLD_VERSIONS = ["go1.17.13", "go1.19.8", "go1.20.14", "go1.22.12", "go1.23.12", "go1.24.13", "go1.25.0"]


def check_gc(out, n=N, memstats=True, target_exit=True):
    """Checks a --json run's records; returns them by type."""
    lines = json_lines(out)
    assert lines, "no JSON output"
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["command"] == "gc"
    assert summary["lost"] == 0
    assert summary["runtime"] == "go"
    gc = [o for o in lines if o["type"] == "gc"]
    assert summary["events"] == len(gc)
    for o in gc:
        assert o["runtime"] == "go" and o["dur_ns"] >= 0 and o["start_ns"] > 0
        assert not o.get("incomplete"), o

    phases = [o for o in gc if o["gc"]]
    cycles = sorted({o["cycle"] for o in phases})
    assert len(cycles) == n, cycles
    assert summary["cycles"] == n
    for c in cycles:
        mine = [o for o in phases if o["cycle"] == c and o["phase"] != "mark-term-restart"]
        assert [o["phase"] for o in mine] == PHASES, mine
        assert all(o["trigger"] == "forced" for o in mine)
        starts = [o["start_ns"] for o in mine]
        assert starts == sorted(starts)
        assert [o["stw"] for o in mine] == [True, False, True, False]
    cyc = [o for o in lines if o["type"] == "gc_cycle"]
    assert sorted(o["cycle"] for o in cyc) == cycles
    assert all(o["stw_count"] >= 2 and o["trigger"] == "forced" for o in cyc)

    nongc = [o for o in gc if not o["gc"]]
    if memstats:
        assert len(nongc) == 1, nongc
        assert nongc[0]["reason"] == "ReadMemStats"
        assert nongc[0]["phase"] == "stw" and nongc[0]["stw"] and nongc[0]["cycle"] is None
        assert nongc[0]["start_ns"] > max(o["start_ns"] for o in phases)
    else:
        assert nongc == []

    pauses = [o for o in phases if o["stw"]]
    hists = [o for o in lines if o["type"] == "hist" and o["name"] == "gc_pause"]
    assert len(hists) == 1
    assert hists[0]["unit"] == "us"
    assert hists[0]["count"] == len(pauses) >= 2 * n
    assert summary["gc_pauses"] == len(pauses)
    assert summary["nongc_stw"] == len(nongc)
    if target_exit:
        assert summary["end"] == "target-exit" and summary["target_exit"] == 0
    return gc, summary


@pytest.mark.parametrize("variant", VARIANTS)
def test_command(variant):
    """-- CMD: probes are live before the runtime starts."""
    r = run(["gc", "--json", "--", tp("go/" + variant), str(N), "-memstats"])
    assert r.returncode == 0, r.stderr
    check_gc(r.stdout)


@pytest.mark.parametrize("variant", VARIANTS)
def test_pid(variant):
    """-p attaches to a running program held before its first runtime.GC()."""
    target = Target(tp("go/" + variant), str(N), "-memstats")
    try:
        tracer = Tracer(["gc", "--json", "-p", str(target.pid)])
        target.go()
        assert target.wait() == 0
        rc, out, err = tracer.wait()
        assert rc == 0, err
        _, summary = check_gc(out, target_exit=False)
        assert summary["end"] == "target-exit"
    finally:
        target.kill()


def test_no_memstats_no_stw():
    r = run(["gc", "--json", "--", tp("go/gcprog"), "3"])
    assert r.returncode == 0, r.stderr
    check_gc(r.stdout, n=3, memstats=False)


def test_binpath():
    """--binpath: every process running the file, started after rtmon."""
    path = tp("go/gcprog")
    tracer = Tracer(["gc", "--json", "--binpath", path])
    try:
        p = subprocess.run([path, str(N), "-memstats"], stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=30)
        assert p.returncode == 0
        time.sleep(0.1)  # the loop drains every 10 ms
    finally:
        rc, out, err = tracer.stop()
    assert rc == 0, err
    gc, summary = check_gc(out, target_exit=False)
    assert summary["end"] == "signal"
    assert {o["pid"] for o in gc} == {gc[0]["pid"]}


def test_table():
    r = run(["gc", "--phases", "--", tp("go/gcprog"), "3", "-memstats"])
    assert r.returncode == 0, r.stderr
    # The target shares rtmon's stdout: leave its own lines out.
    lines = [l for l in r.stdout.splitlines() if not l.startswith(("ready ", "done "))]
    head = next(i for i, l in enumerate(lines) if l.startswith("CYCLE"))
    assert lines[head].split() == ["CYCLE", "TRIGGER", "PHASE", "START(ms)", "DURATION(us)"]
    rows = lines[head + 1:head + 14]
    labels = ["sweep-term (STW)", "mark", "mark-term (STW)", "sweep"]
    for c in range(3):
        for p, label in enumerate(labels):
            row = rows[4 * c + p]
            assert row.split()[:2] == [str(c + 1), "forced"], row
            assert label in row
    assert rows[12].split()[:2] == ["-", "-"] and "stw (ReadMemStats)" in rows[12]
    assert any("pause (us)" in l for l in lines)
    assert any(l.startswith("cycles 3 (forced 3), GC pauses 6") for l in lines), r.stdout
    assert "0 lost" in r.stdout and "exited with status 0" in r.stdout


@pytest.mark.parametrize("variant", ["alloc", "alloc-static"])
def test_not_go(variant):
    r = run(["gc", "--", tp(variant), "1"])
    assert r.returncode == 1
    errs = r.stderr.strip().splitlines()
    assert len(errs) == 1, r.stderr
    assert " is not a Go, " in errs[0] and "runtimes supported: go, python, java" in errs[0], errs
    assert r.stdout == ""


def test_not_go_binpath():
    r = run(["gc", "--binpath", tp("alloc")])
    assert r.returncode == 1
    errs = r.stderr.strip().splitlines()
    assert len(errs) == 1 and errs[0].startswith(f"rtmon gc: {tp('alloc')} is not a Go, "), errs
    assert "runtimes supported: go, python, java" in errs[0] and "--cycle SYM" in errs[0], errs


def test_help():
    r = run(["gc", "--help"])
    assert r.returncode == 0
    assert "Examples:" in r.stdout and "rtmon gc -- ./app" in r.stdout


@pytest.mark.parametrize("version", OLD_VERSIONS)
@pytest.mark.parametrize("suffix", ["", "-stripped", "-pie"])
def test_old_toolchains(version, suffix):
    """gcprog built by older Go releases (tests/unit/build-go-fixtures.sh BUILD_DIR)."""
    path = os.path.join(BUILD, "testprog", "go", "vers", f"gcprog-{version}{suffix}")
    if not os.path.exists(path):
        pytest.skip(f"{path} not built: run tests/unit/build-go-fixtures.sh {BUILD}")
    r = run(["gc", "--json", "--", path, str(N), "-memstats"])
    assert r.returncode == 0, r.stderr
    _, summary = check_gc(r.stdout)
    assert summary["version"] == version


# GODEBUG=gctrace=1's line for cycle N: "gc N @T s P%: ... ms cpu, A->B->C MB, D MB goal, ..."
GCTRACE = re.compile(r"^gc (\d+) @[\d.]+s (\d+)%: .* (\d+)->(\d+)->(\d+) MB, (\d+) MB goal,", re.M)


def gctrace_cycles(text):
    """{N: (P, A, B, C, D)} from gctrace's lines in text. gcheap's own lines ("ready", "go",
    "done": on stderr too, --json keeps the command's stdout off rtmon's) may cut into one."""
    text = re.sub(r"(ready \d+|go|done cycles=\d+)\n", "", text)
    return {int(m[0]): tuple(int(x) for x in m[1:]) for m in GCTRACE.findall(text)}


def check_heap_figures(cycles, trace):
    """Each gc_cycle's heap figures in whole MB (bytes >> 20, as gctrace rounds) and its GC CPU
    share as gctrace's P% (int(100 * fraction)) are gctrace's for the same cycle."""
    checked = 0
    for n, o in sorted(cycles.items()):
        if n not in trace:
            continue
        mine = (int(100 * o["gc_cpu_fraction"]), o["heap_before"] >> 20, o["heap_after"] >> 20,
                o["heap_live"] >> 20, o["heap_goal"] >> 20)
        assert mine == trace[n], (n, o, trace[n])
        checked += 1
    return checked


GCHEAP = ["gcheap", "gcheap-stripped", "gcheap-pie"] + sorted(
    "vers/" + os.path.basename(p)
    for p in glob.glob(os.path.join(BUILD, "testprog", "go", "vers", "gcheap-go*")))


@pytest.mark.parametrize("variant", GCHEAP)
def test_pid_cycle_numbers_are_the_runtimes(variant):
    """-p on a program that already ran heap-triggered cycles: each cycle carries the number
    GODEBUG=gctrace=1 prints for it ("gc N @..."), from the first cycle seen, not 1, 2, ... from
    attach (issue 14, item 6)."""
    proc = subprocess.Popen([tp("go/" + variant), "5", "6"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, GODEBUG="gctrace=1"))
    try:
        assert proc.stdout.readline().startswith(b"ready ")
        tracer = Tracer(["gc", "--json", "-p", str(proc.pid)])
        proc.stdin.write(b"\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0 and out.startswith(b"done"), (out, err)
        rc, tout, terr = tracer.wait()
        assert rc == 0, terr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = err.decode()
    before, after = text.split("\ngo\n", 1) if "\ngo\n" in text else ("", text)
    traced = [int(n) for n in re.findall(r"^gc (\d+) @", after, re.M)]
    earlier = [int(n) for n in re.findall(r"^gc (\d+) @", before, re.M)]
    # gcheap runs AFTER (6) cycles from the count it reads after the gate; a cycle that ends
    # while it prints "go" is counted there but its gctrace line comes before "go" (seen under
    # the sanitizers with go1.17): 5 lines after the gate is then the whole run.
    assert len(traced) >= 5 and earlier and min(traced) > 5, text
    gc = [o for o in json_lines(tout) if o["type"] == "gc" and o["gc"]]
    ended = {o["cycle"] for o in gc if o["phase"] == "mark-term"}
    seen = {o["cycle"] for o in gc}
    # Every cycle gctrace reported after the gate, by its number; besides them only the one that
    # may have been running when rtmon attached (ended before the gate) and one that may have begun
    # (or even ended its mark termination, the world restarted, before gctrace printed it) before
    # the process exited.
    assert set(traced) <= ended, (sorted(ended), traced)
    assert ended - set(traced) <= {min(traced) - 1, max(traced) + 1}, (sorted(ended), traced)
    assert seen <= set(range(min(traced) - 1, max(traced) + 2)), (sorted(seen), traced)
    # Attached by -p: the heap figures are gctrace's too.
    cycles = {o["cycle"]: o for o in json_lines(tout) if o["type"] == "gc_cycle"}
    assert check_heap_figures(cycles, gctrace_cycles(after)) >= len(traced) - 1


@pytest.mark.parametrize("variant", ["gcheap", "gcheap-stripped", "gcheap-pie"])
def test_probe_hits_per_cycle_on_a_sleep_paced_program(variant):
    """An allocating program paced by sleeps (gcheap's PAUSE_MS): at most 12 probe hits per cycle
    (issue 14, item 2; the sweep-end probe used to fire on every turn of bgsweep's loop: about 700
    a cycle here). Every cycle still has its sweep."""
    r = run(["gc", "--json", "--", tp("go/" + variant), "0", "30", "1"])
    assert r.returncode == 0, r.stderr
    lines = json_lines(r.stdout)
    summary = lines[-1]
    assert summary["cycles"] >= 30
    assert summary["probe_hits"] <= 12 * summary["cycles"], summary
    gc = [o for o in lines if o["type"] == "gc" and o["gc"]]
    ended = {o["cycle"] for o in gc if o["phase"] == "mark-term"}
    swept = {o["cycle"] for o in gc if o["phase"] == "sweep"}
    assert ended - swept <= {max(ended)}, (sorted(ended), sorted(swept))


def test_one_line_per_cycle():
    """Without --phases, one line per collection: the cycle, its trigger, the STW total (the two
    STW phases of --phases) and the concurrent mark; non-GC stops only in the summary."""
    r = run(["gc", "--", tp("go/gcprog"), "3", "-memstats"])
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if not l.startswith(("ready ", "done "))]
    head = next(i for i, l in enumerate(lines) if l.startswith("CYCLE"))
    assert lines[head].split() == ["CYCLE", "TRIGGER", "START(ms)", "DURATION(us)", "STW(us)",
                                   "MARK(us)", "GC-CPU", "HEAP", "COLLECTOR/DETAIL"]
    rows = lines[head + 1:lines.index("", head)]
    assert [row.split()[:2] for row in rows] == [[str(c), "forced"] for c in (1, 2, 3)], rows
    for row in rows:
        start, dur, stw, mark = (float(x) for x in row.split()[2:6])
        assert 0 < stw < dur and 0 < mark < dur, row
        # the GC's CPU share, then gctrace's heap figures in human units
        assert re.search(r" \d+\.\d% +\S+ [KM]?i?B -> \S+ [KM]?i?B -> \S+ [KM]?i?B, goal none -$",
                         row), row  # gcprog runs with GOGC=off
    assert not any("ReadMemStats" in l for l in lines)
    assert any("non-GC stops 1 " in l for l in lines), r.stdout
    # The same run in JSON: each gc_cycle's stw_ns is the sum of its STW phases' durations.
    r = run(["gc", "--json", "--", tp("go/gcprog"), "3"])
    objs = json_lines(r.stdout)
    for c in (o for o in objs if o["type"] == "gc_cycle"):
        phases = [o for o in objs if o["type"] == "gc" and o.get("cycle") == c["cycle"]]
        assert c["stw_ns"] == sum(o["dur_ns"] for o in phases if o["stw"])
        assert c["mark_ns"] == sum(o["dur_ns"] for o in phases if o["phase"] == "mark")



@pytest.mark.parametrize("variant", GCHEAP)
def test_heap_figures_are_gctraces(variant):
    """Each cycle's heap before, after and live, its goal and the GC's CPU share are the runtime's
    own (issue 13): what GODEBUG=gctrace=1 prints for the same cycle, in whole MB as it rounds them
    (bytes >> 20), and its "P%" == int(100 * gc_cpu_fraction), cycle by cycle. gcheap's live set
    (LIVE_MB 40) changes from cycle to cycle, so that figures are not all alike."""
    r = run(["gc", "--json", "--", tp("go/" + variant), "2", "20", "0", "40"],
            env={"GODEBUG": "gctrace=1"})
    assert r.returncode == 0, r.stderr
    trace = gctrace_cycles(r.stderr)
    assert len(trace) >= 20, r.stderr
    cycles = {o["cycle"]: o for o in json_lines(r.stdout) if o["type"] == "gc_cycle"}
    # The same cycles, but for the last: its sweep may end unseen, or the program exit before
    # gctrace prints it (gcheap stops once the runtime counts the cycle, before that print).
    last = max(trace)
    assert set(cycles) - set(trace) <= {last + 1}, (sorted(cycles), trace, r.stderr)
    assert set(trace) - set(cycles) <= {last}, (sorted(cycles), trace)
    assert check_heap_figures(cycles, trace) >= len(trace) - 1
    assert len({t[1:] for t in trace.values()}) >= 5, trace
    assert max(t[3] for t in trace.values()) >= 5, trace
