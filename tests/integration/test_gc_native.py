"""rtmon gc on native code: Boehm GC (testprog/gc_boehm.c, linked with libgc) found without flags, and a
program's own collector (testprog/gc_custom.c) with --cycle/--phase.

gc_boehm calls GC_gcollect() N times, then GC_gcollect_and_unmap(), GC_try_to_collect(), GC_gcollect()
while collection is disabled, and allocates until the collector starts collections itself; it prints
the collector's own count (GC_get_gc_no) before its start signal and at the end, so every collection
can be checked by number. gc_custom's gc_collect() calls gc_mark() (which calls the recursive
mark_obj() once per root, 100 deep) and gc_sweep().
"""
import re
import subprocess
import time

import pytest

from conftest import Target, Tracer, json_lines, run, tp

N = 4
ALLOC = "20000"
BOEHM_VARIANTS = ["gc_boehm", "gc_boehm-nopie", "gc_boehm-static", "gc_boehm-stripped"]
CUSTOM_VARIANTS = ["gc_custom", "gc_custom-nopie", "gc_custom-static"]
NROOTS, CHAIN = 4, 100  # as in testprog/gc_custom.c


def gc_counts(text):
    m = re.search(r"gc_no_start=(\d+) gc_no_end=(\d+)", text)
    assert m, text
    return int(m.group(1)), int(m.group(2))


def check_boehm(out, first, last, forced_funcs, without=0):
    """Every collection first+1..last seen once, by the collector's own number; the ones the program
    asked for timed, in order, by the function it called; the others seen by their start only."""
    lines = json_lines(out)
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["runtime"] == "boehm", summary
    assert summary["lost"] == 0 and summary["version"] == "8.2.2"
    gc = [o for o in lines if o["type"] == "gc"]
    assert summary["events"] == len(gc)
    assert sorted(o["cycle"] for o in gc) == list(range(first + 1, last + 1))
    assert summary["cycles"] == last - first
    assert all(o["runtime"] == "boehm" and o["phase"] == "collect" and o["gc"] for o in gc)
    forced = [o for o in gc if o["trigger"] == "forced"]
    assert [o["function"] for o in forced] == forced_funcs
    for o in forced:
        assert o["stw"] and o["dur_ns"] > 0 and o["gc_no"] == o["cycle"] and "incomplete" not in o
    auto = [o for o in gc if o["trigger"] == "auto"]
    assert len(auto) + len(forced) == len(gc)
    for o in auto:
        assert o["incomplete"] and o["dur_ns"] == 0 and not o["stw"] and o["function"] is None
    assert summary["untimed_collections"] == len(auto)
    # The mark probe fires once in every collection, the timed ones too.
    assert summary["mark_hits"] == last - first and summary["mark_repeats"] == 0
    assert summary["calls_without_collection"] == without
    assert summary["unreadable_count"] == 0
    hist = [o for o in lines if o["type"] == "hist" and o["name"] == "gc_pause"]
    assert len(hist) == 1 and hist[0]["count"] == len(forced) == summary["gc_pauses"]
    cyc = [o for o in lines if o["type"] == "gc_cycle"]
    assert sorted(o["cycle"] for o in cyc) == list(range(first + 1, last + 1))
    return forced, auto, summary


BOEHM_FUNCS = ["GC_gcollect"] * N + ["GC_gcollect_and_unmap", "GC_try_to_collect"]


@pytest.mark.parametrize("variant", BOEHM_VARIANTS)
def test_boehm_command(variant):
    """-- CMD: every collection from GC_init's on, the allocation-started ones included."""
    r = run(["gc", "--json", "--", tp(variant), str(N), "-unmap", "-try", "-disabled", "-alloc", ALLOC])
    assert r.returncode == 0, r.stderr
    start, end = gc_counts(r.stderr)  # with --json the program's stdout goes to rtmon's stderr
    assert start == 1  # GC_init collects once
    forced, auto, summary = check_boehm(r.stdout, 0, end, BOEHM_FUNCS, without=1)
    assert auto[0]["cycle"] == 1  # GC_init's
    assert len(auto) >= 3, "the allocation loop should make the collector start collections itself"
    assert summary["end"] == "target-exit" and summary["target_exit"] == 0


def test_boehm_pid():
    """-p on a program held after GC_init: the collections from then on, numbered by the collector."""
    target = Target(tp("gc_boehm"), str(N), "-alloc", ALLOC)
    try:
        tracer = Tracer(["gc", "--json", "-p", str(target.pid)])
        target.go()
        out, _ = target.proc.communicate(timeout=30)
        assert target.proc.returncode == 0
        rc, rout, err = tracer.wait()
        assert rc == 0, err
        start, end = gc_counts(out.decode())
        check_boehm(rout, start, end, ["GC_gcollect"] * N)
    finally:
        target.kill()


def test_boehm_binpath():
    """--binpath: processes of that file only, though the probes are in the libgc every libgc program
    shares (gc_boehm-nopie runs the same library)."""
    path = tp("gc_boehm")
    tracer = Tracer(["gc", "--json", "--binpath", path])
    try:
        outs = [subprocess.run([p, str(N)], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=30) for p in (path, tp("gc_boehm-nopie"), path)]
        assert all(p.returncode == 0 for p in outs)
        time.sleep(0.1)  # the loop drains every 10 ms
    finally:
        rc, out, err = tracer.stop()
    assert rc == 0, err
    gc = [o for o in json_lines(out) if o["type"] == "gc"]
    pids = sorted({o["pid"] for o in gc})
    assert len(pids) == 2
    for pid in pids:
        mine = [o for o in gc if o["pid"] == pid]
        assert [o["function"] for o in mine if o["trigger"] == "forced"] == ["GC_gcollect"] * N
        assert sorted(o["cycle"] for o in mine) == list(range(1, N + 2))


def test_boehm_table():
    r = run(["gc", "--phases", "--", tp("gc_boehm"), "2", "-disabled"])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    head = [l for l in lines if l.startswith("CYCLE")]
    assert len(head) == 1 and head[0].split()[-1] == "FUNCTION"
    rows = [l.split() for l in lines if re.match(r"\d+ +(auto|forced) ", l)]
    assert [(row[0], row[1], row[2]) for row in rows] == [("1", "auto", "collect"), ("2", "forced", "collect"),
                                                          ("3", "forced", "collect")]
    assert next(l for l in lines if l.startswith("1 ")).endswith("(end not seen)")
    assert [row[5] for row in rows[1:]] == ["GC_gcollect", "GC_gcollect"]
    assert any("(Boehm GC 8.2.2, libgc.so.1):" in l for l in lines)
    assert any(l.startswith("cycles 3 (forced 2), GC pauses 2") for l in lines), r.stdout
    assert any(l.startswith("collections the program did not ask for (allocation, GC_init) 1") for l in lines)
    assert any(l.startswith("calls that collected nothing (collector disabled or stopped) 1") for l in lines)


def check_custom(out, n, phases, outside=0, nested=0, unreturned=0, same_thread=True):
    """n cycles of gc_collect, numbered 1..n; in each, the phases (name, function) in order, each inside
    its cycle's time."""
    lines = json_lines(out)
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["runtime"] == "custom", summary
    assert summary["lost"] == 0 and summary["cycles"] == n
    assert summary["phases_outside_cycle"] == outside
    assert summary["nested_calls"] == nested
    assert summary["unreturned_calls"] == unreturned and summary["too_deep_calls"] == 0
    gc = [o for o in lines if o["type"] == "gc"]
    assert summary["events"] == len(gc)
    cycles = [o for o in gc if o["phase"] == "cycle"]
    assert [o["cycle"] for o in cycles] == list(range(1, n + 1))
    for c in cycles:
        assert c["function"] == "gc_collect" and c["stw"] and c["dur_ns"] > 0 and "trigger" not in c
        mine = [o for o in gc if o["cycle"] == c["cycle"] and o["phase"] != "cycle"]
        assert [(o["phase"], o["function"]) for o in mine] == phases[c["cycle"] - 1], mine
        for o in mine:
            assert not o["stw"] and (o["tid"] == c["tid"]) == same_thread
            assert c["start_ns"] <= o["start_ns"]
            assert o["start_ns"] + o["dur_ns"] <= c["start_ns"] + c["dur_ns"]
    assert len([o for o in gc if o["cycle"] is None]) == outside
    hist = [o for o in lines if o["type"] == "hist" and o["name"] == "gc_pause"]
    assert len(hist) == 1 and hist[0]["count"] == n
    return gc, summary


MARK_SWEEP = [("mark", "gc_mark"), ("sweep", "gc_sweep")]


@pytest.mark.parametrize("variant", CUSTOM_VARIANTS)
def test_custom_command(variant):
    """Cycles and their phases, and a phase called outside any cycle, PIE, non-PIE and static."""
    r = run(["gc", "--json", "--cycle", "gc_collect", "--phase", "mark=gc_mark", "--phase",
             "sweep=gc_sweep", "--", tp(variant), str(N), "-outside"])
    assert r.returncode == 0, r.stderr
    gc, summary = check_custom(r.stdout, N, [MARK_SWEEP] * N, outside=1)
    outside = [o for o in gc if o["cycle"] is None]
    assert outside[0]["phase"] == "sweep" and outside[0]["start_ns"] < gc[1]["start_ns"]
    assert summary["target_exit"] == 0


@pytest.mark.parametrize("multi", ["uprobe_multi", "uprobe"])
def test_custom_recursive(multi):
    """A recursive phase function, 100 calls deep (past the kernel's 64 pending return probes): only
    each outermost call is a phase, the inner ones are counted as nested. Both attach paths."""
    n = 5
    env = {"RTMON_NO_UPROBE_MULTI": "1"} if multi == "uprobe" else None
    r = run(["gc", "--json", "--cycle", "gc_collect", "--phase", "trace=mark_obj", "--", tp("gc_custom"),
             str(n)], env=env)
    assert r.returncode == 0, r.stderr
    # Cycle i has min(i, NROOTS) chains of CHAIN objects: mark_obj recurses CHAIN times below each.
    nested = sum(CHAIN * min(i, NROOTS) for i in range(1, n + 1))
    _, summary = check_custom(r.stdout, n, [[("trace", "mark_obj")] * NROOTS] * n, nested=nested)
    assert summary["probe"] == multi


def test_custom_helper_thread_and_longjmp():
    """A phase run by a helper thread belongs to the cycle open in its process; a phase left by
    longjmp (its return never fires) is dropped and counted, and its cycle still ends."""
    r = run(["gc", "--json", "--cycle", "gc_collect", "--phase", "mark=gc_mark", "--phase",
             "sweep=gc_sweep", "--", tp("gc_custom"), str(N), "-helper", "-longjmp"])
    assert r.returncode == 0, r.stderr
    check_custom(r.stdout, N, [[("sweep", "gc_sweep")]] * N, unreturned=N, same_thread=False)


def test_custom_pid():
    target = Target(tp("gc_custom-nopie"), str(N))
    try:
        tracer = Tracer(["gc", "--json", "--cycle", "gc_collect", "--phase", "sweep=gc_sweep", "-p",
                         str(target.pid)])
        target.go()
        assert target.wait() == 0
        rc, out, err = tracer.wait()
        assert rc == 0, err
        check_custom(out, N, [[("sweep", "gc_sweep")]] * N)
    finally:
        target.kill()


def one_error(r, rc):
    assert r.returncode == rc, r.stderr
    errs = r.stderr.strip().splitlines()
    assert len(errs) == 1, r.stderr
    assert r.stdout == ""  # a -- CMD target never ran
    return errs[0]


def test_absent_symbol():
    e = one_error(run(["gc", "--cycle", "gc_collect", "--phase", "mark=no_such_fn", "--", tp("gc_custom"),
                       "1"]), 1)
    assert e.startswith("rtmon gc: no function no_such_fn in ") and "check the name" in e


def test_stripped():
    e = one_error(run(["gc", "--cycle", "gc_collect", "--", tp("gc_custom-stripped"), "1"]), 1)
    assert "no function gc_collect" in e and "is stripped" in e


@pytest.mark.parametrize("args,msg", [
    (["--cycle", "gc_collect", "--phase", "mark"], "invalid --phase 'mark': give NAME=SYM"),
    (["--cycle", "gc_collect", "--phase", "a b=gc_mark"], "invalid phase name"),
    (["--phase", "mark=gc_mark"], "--phase needs --cycle SYM"),
    (["--cycle", "gc_collect", "--phase", "m=gc_collect"], "is the --cycle function"),
])
def test_usage_errors(args, msg):
    e = one_error(run(["gc"] + args + ["--", tp("gc_custom"), "1"]), 2)
    assert msg in e, e


def test_go_refused():
    """Return probes crash Go code: --cycle on a Go program is refused before anything is attached."""
    e = one_error(run(["gc", "--cycle", "runtime.GC", "--", tp("go/gcprog"), "1"]), 1)
    assert "is a Go program (go1." in e and "crash" in e


def test_native_without_cycle():
    e = one_error(run(["gc", "--", tp("gc_custom"), "1"]), 1)
    assert "is not a Go" in e and "boehm" in e and "--cycle SYM" in e


def test_help():
    r = run(["gc", "--help"])
    assert r.returncode == 0
    assert "--cycle=SYM" in r.stdout and "--phase=NAME=SYM" in r.stdout and "boehm" in r.stdout
