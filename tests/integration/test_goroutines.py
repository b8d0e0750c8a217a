"""rtmon thr and rtmon lat on a Go program (testprog/go/goroutines): one row per goroutine created and
exited, named by start function, with parent goid and lifetime; goroutine lifetime histograms per start
function. Plain, stripped and PIE builds of the installed toolchain, and older toolchains' builds when
tests/unit/build-go-fixtures.sh made them (one per goid-offset era; skipped when absent)."""
import glob
import os

import pytest

from conftest import BUILD, Target, Tracer, json_lines, run, tp

VARIANTS = ["go/goroutines", "go/goroutines-stripped", "go/goroutines-pie"]
# The fixture's own goroutines: start function -> (count, lowest lifetime bucket in us).
EXPECTED = {"main.worker": (10, 4096), "main.shortWorker": (5, 0)}
# Go 1.17 (callergp in RDI), <= 1.22 (goid at 152), 1.23/1.24 (160), >= 1.25 (152 again).
OLD_VERSIONS = ["go1.17.13", "go1.19.8", "go1.22.12", "go1.24.13", "go1.25.0"]


def bucket_lo(us):
    return 0 if us < 2 else 1 << (int(us).bit_length() - 1)


def old_fixture(version, suffix):
    path = os.path.join(BUILD, "testprog", "go", "vers", f"goroutines-{version}{suffix}")
    if not os.path.exists(path):
        pytest.skip(f"{path} not built: run tests/unit/build-go-fixtures.sh {BUILD}")
    return path


def thr_split(out):
    lines = json_lines(out)
    assert lines, "no JSON output"
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["command"] == "thr"
    return [o for o in lines if o["type"] == "goroutine"], summary


def check_goroutines(events, pid, summary):
    """The fixture's 15 goroutines: exact counts per start function, distinct goids, parent 1, one exit
    each with its lifetime."""
    assert events and all(e["pid"] == pid for e in events)
    creates = [e for e in events if e["event"] == "create"]
    exits = [e for e in events if e["event"] == "exit"]
    goids = [e["goid"] for e in creates]
    assert len(goids) == len(set(goids)) and all(g > 0 for g in goids)
    for start, (n, lo) in EXPECTED.items():
        mine = [e for e in creates if e["start"] == start]
        assert len(mine) == n, (start, creates)
        for c in mine:
            assert c["parent_goid"] == 1, c  # the main goroutine
            ex = [e for e in exits if e["goid"] == c["goid"]]
            assert len(ex) == 1, (c, ex)
            x = ex[0]
            assert x["start"] == start and x["parent_goid"] == 1
            assert x["lifetime_ns"] > 0 and x["ts_ns"] >= c["ts_ns"]
            assert bucket_lo(x["lifetime_ns"] / 1000) >= lo, x
    for e in exits:
        # -p: exits of goroutines listed at attach say so (test_thr_pid_lists_goroutines_alive_at_attach)
        assert set(e) - {"started_before_tracing", "system"} == {
            "type", "time", "event", "pid", "tid", "goid", "parent_goid", "start", "ts_ns", "lifetime_ns"}
    g = summary["goroutines"]
    assert g["lost"] == 0 and summary["lost"] == 0
    assert g["created"] == len(creates) and g["exited"] == len(exits)


def run_thr_command(path):
    r = run(["thr", "--json", "--", path])
    assert r.returncode == 0, r.stderr
    events, summary = thr_split(r.stdout)
    pid = events[0]["pid"]
    check_goroutines(events, pid, summary)
    assert summary["end"] == "target-exit" and summary["target_exit"] == 0
    # Started under rtmon: the runtime's first goroutine is seen created, by nobody (goid 0 is g0).
    main = [e for e in events if e["event"] == "create" and e["goid"] == 1]
    assert len(main) == 1 and main[0]["start"] == "runtime.main" and main[0]["parent_goid"] == 0
    return events, summary


@pytest.mark.parametrize("variant", VARIANTS)
def test_thr_command(variant):
    run_thr_command(tp(variant))


@pytest.mark.parametrize("variant", VARIANTS)
def test_thr_pid_after_gate(variant):
    target = Target(tp(variant))
    try:
        assert target.proc.stdout.readline().startswith(b"ready")
        tracer = Tracer(["thr", "--json", "-p", str(target.pid)])
        target.go()
        assert target.wait() == 0
        rc, out, err = tracer.wait()
        assert rc == 0, err
        events, summary = thr_split(out)
        check_goroutines(events, target.pid, summary)
        assert summary["end"] == "target-exit"
        # Goroutines from before tracing are not shown created but listed alive; their exits have
        # no lifetime, and their start function from that list.
        assert not any(e["event"] == "create" and e["start"] == "runtime.main" for e in events)
        listed = {e["goid"]: e for e in events if e["event"] == "alive"}
        assert listed[1]["start"] == "runtime.main"
        for e in events:
            if e["event"] == "exit" and e["lifetime_ns"] is None:
                assert e["started_before_tracing"] and e["start"] == listed[e["goid"]]["start"]
    finally:
        target.kill()


def test_thr_text_rows():
    r = run(["thr", "--", tp("go/goroutines")])
    assert r.returncode == 0, r.stderr
    rows = [l.split() for l in r.stdout.splitlines() if l and l[0].isdigit()]
    g = [x for x in rows if x[2].startswith("g") and x[6] == "goroutine"]
    creates = [x for x in g if x[3] == "create" and x[7] == "main.worker"]
    exits = [x for x in g if x[3] == "exit" and x[7] == "main.worker"]
    assert len(creates) == 10 and len(exits) == 10
    assert all(x[4] == "g1" for x in creates + exits)
    assert all(int(x[5]) >= 4096 for x in exits)
    # OS threads stay thread rows (Go's raw-clone threads).
    assert any(x[2].isdigit() and x[3] == "create" for x in rows)
    assert "goroutines: created" in r.stdout


@pytest.mark.parametrize("variant", VARIANTS)
def test_lat_by_start(variant):
    r = run(["lat", "--json", "--by-start", "--", tp(variant)])
    assert r.returncode == 0, r.stderr
    lines = json_lines(r.stdout)
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["target_exit"] == 0
    assert summary["goroutines"]["lost"] == 0
    hists = {h["start"]: h for h in lines if h["type"] == "hist" and h["name"] == "goroutine_lifetime"}
    for start, (n, lo) in EXPECTED.items():
        h = hists[start]
        assert h["count"] == n and h["unit"] == "us" and h["pid"] > 0
        assert all(b["lo"] >= lo for b in h["buckets"]), h
        assert sum(b["count"] for b in h["buckets"]) == n
    # Thread lifetimes are still there.
    assert any(h["type"] == "hist" and h["name"] == "thread_lifetime" for h in lines)


def test_lat_all_and_text():
    r = run(["lat", "--json", "--", tp("go/goroutines")])
    assert r.returncode == 0, r.stderr
    hists = [h for h in json_lines(r.stdout) if h["type"] == "hist" and h["name"] == "goroutine_lifetime"]
    assert len(hists) == 1 and "start" not in hists[0]
    workers = sum(b["count"] for b in hists[0]["buckets"] if b["lo"] >= 4096)
    assert workers == 10 and hists[0]["count"] >= 15
    r = run(["lat", "--by-start", "--", tp("go/goroutines-stripped")])
    assert r.returncode == 0, r.stderr
    assert "Goroutine lifetimes in" in r.stdout
    assert "start function: main.worker" in r.stdout and "goroutines 10," in r.stdout


def test_lat_goroutine_alive_through_a_burst():
    """A goroutine alive while 70,000 others are created and end (more than the slots of rtmon's
    table of live goroutines, so one of them finds the holder's slot taken): every lifetime is
    counted, the holder's too; none is unknown."""
    n = 70000
    r = run(["lat", "--json", "--by-start", "--", tp("go/goroutines"), str(n)])
    assert r.returncode == 0, r.stderr
    lines = json_lines(r.stdout)
    summary = lines[-1]
    g = summary["goroutines"]
    assert g["lost"] == 0 and g["exited_unknown_lifetime"] == 0, summary
    hists = {h["start"]: h for h in lines if h["type"] == "hist" and h["name"] == "goroutine_lifetime"}
    assert hists["main.burstWorker"]["count"] == n
    assert hists["main.burstHolder"]["count"] == 1
    assert g["exited"] == sum(h["count"] for h in hists.values())


def kernel_optimizes_nop5_uprobes():
    """Linux 6.18+ on x86-64 turns a uprobe on a 5-byte NOP into a call of a trampoline page it maps
    into the process ([uprobes-trampoline]), the uprobe syscall doing the rest."""
    with open("/proc/kallsyms") as f:
        return any(line.rstrip().endswith(" __x64_sys_uprobe") for line in f)


def test_create_probe_on_a_nop_takes_the_trampoline():
    """On Go 1.26, newproc.func1 has a 5-byte NOP just before its call of runqput: rtmon probes it
    there, so the kernel maps its uprobe trampoline into the target once goroutines are created
    (with the probe on the call it never does: every hit is an int3 trap). The counts stay exact:
    rtmon's creates and exits equal the program's own count."""
    import re
    import subprocess
    import time

    if not kernel_optimizes_nop5_uprobes():
        pytest.skip("this kernel does not optimize uprobes on NOPs")
    target = subprocess.Popen([tp("go/gochurn")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    tracer = None
    try:
        assert target.stdout.readline() == f"ready {target.pid}\n"
        tracer = Tracer(["lat", "--json", "-p", str(target.pid)])
        maps = lambda: open(f"/proc/{target.pid}/maps").read()
        assert "[uprobes-trampoline]" not in maps()
        target.stdin.write("\n")
        target.stdin.flush()
        deadline = time.monotonic() + 20
        while "[uprobes-trampoline]" not in maps() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "[uprobes-trampoline]" in maps()
        target.stdin.write("\n")
        target.stdin.flush()
        created = int(re.fullmatch(r"created (\d+)\n", target.stdout.readline()).group(1))
        target.stdin.close()
        assert target.wait(timeout=30) == 0
        rc, out, err = tracer.wait(timeout=30)
        assert rc == 0, err
    finally:
        if target.poll() is None:
            target.kill()
            target.wait()
    g = json_lines(out)[-1]["goroutines"]
    # Its churn goroutines and the one that waits for the second line, each seen created and exited.
    assert g["created"] == created and g["exited"] == created and g["lost"] == 0, (g, created)


def test_not_go_has_no_goroutines():
    r = run(["thr", "--json", "--", tp("threads")])
    assert r.returncode == 0, r.stderr
    lines = json_lines(r.stdout)
    assert not any(o["type"] == "goroutine" for o in lines)
    assert "goroutines" not in lines[-1]


@pytest.mark.parametrize("suffix", ["", "-stripped", "-pie"])
@pytest.mark.parametrize("version", OLD_VERSIONS)
def test_old_toolchains(version, suffix):
    run_thr_command(old_fixture(version, suffix))


@pytest.mark.parametrize("variant", VARIANTS)
def test_thr_rows_in_time_order(variant):
    """Thread and goroutine rows come from two ring buffers; thr merges them: every row's ts_ns is
    at least the one before it (JSON), and TIME never goes back (text); no goroutine row after the
    main thread's exit (issue 14, item 7)."""
    r = run(["thr", "--json", "--", tp(variant)])
    assert r.returncode == 0, r.stderr
    rows = [o for o in json_lines(r.stdout) if o["type"] in ("thread", "goroutine")]
    assert any(o["type"] == "thread" for o in rows) and any(o["type"] == "goroutine" for o in rows)
    ts = [o["ts_ns"] for o in rows]
    assert ts == sorted(ts), [(o["type"], o["event"], o["ts_ns"]) for o in rows]
    main_exit = [i for i, o in enumerate(rows) if o["type"] == "thread" and o["event"] == "exit"
                 and o["main"]]
    assert main_exit and all(o["type"] == "thread" for o in rows[main_exit[-1]:])
    r = run(["thr", "--", tp(variant)])
    assert r.returncode == 0, r.stderr
    times = [float(line.split()[0]) for line in r.stdout.splitlines()[1:]
             if line[:1].isdigit() and len(line.split()) > 5]
    assert len(times) > 20 and times == sorted(times)


def test_thr_goroutine_losses_apart():
    """A forced overflow of the goroutine ring (rtmon stopped while the fixture runs a burst of
    100,000 goroutines, 200,000 events for a ring of about 65,000): the losses are counted exactly
    and as goroutines', never in the threads' lost, in JSON and in text."""
    import re
    import signal
    import subprocess
    import time

    for json_mode in (True, False):
        tracer = Tracer(["thr"] + (["--json"] if json_mode else []) + ["--", tp("go/goroutines"), "100000"],
                        stdin=subprocess.PIPE)
        pid = int(re.search(r"\(PID (\d+)\)", "".join(tracer.stderr_lines)).group(1))
        # "Tracing" comes just before rtmon lets the command exec: stop rtmon only after that.
        deadline = time.monotonic() + 10
        while os.readlink(f"/proc/{pid}/exe") != tp("go/goroutines"):
            assert time.monotonic() < deadline, "the command never ran"
            time.sleep(0.01)
        os.kill(tracer.proc.pid, signal.SIGSTOP)
        try:
            tracer.write("\n")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # the fixture is done: a zombie, rtmon not reaping
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                        break
                time.sleep(0.05)
        finally:
            os.kill(tracer.proc.pid, signal.SIGCONT)
        rc, out, err = tracer.wait(timeout=60)
        assert rc == 0, err
        if json_mode:
            lines = json_lines(out)
            summary = lines[-1]
            g = summary["goroutines"]
            records = sum(1 for o in lines if o["type"] == "goroutine")
            assert g["lost"] > 0 and summary["lost"] == 0, summary
            assert records + g["lost"] == g["created"] + g["exited"], (records, g)
            assert g["created"] >= 100000
        else:
            m = re.search(r"^created \d+, exited \d+, alive \d+, lost (\d+)$", out, re.M)
            assert m and m.group(1) == "0", out[-2000:]
            m = re.search(r"^goroutines: created \d+, exited \d+, alive \d+, lost (\d+)", out, re.M)
            assert m and int(m.group(1)) > 0, out[-2000:]


GOPARKED = ["goparked", "goparked-stripped", "goparked-pie"] + sorted(
    "vers/" + os.path.basename(p)
    for p in glob.glob(os.path.join(BUILD, "testprog", "go", "vers", "goparked-go*")))


@pytest.mark.parametrize("variant", GOPARKED)
def test_thr_pid_lists_goroutines_alive_at_attach(variant):
    """-p: the goroutines alive at attach are listed once, before any other goroutine row ("alive",
    read from the process as rtmon stack reads it): exactly runtime.NumGoroutine() of them are the
    program's (its N parked ones and main), the rest the runtime's own ("system"). The parked ones
    that return while rtmon traces exit with their start function, and the alive count at the end is
    the runtime's own count then plus its goroutines listed at attach (issue 13)."""
    n = 12
    target = Target(tp("go/" + variant), str(n))
    try:
        ready = target.proc.stdout.readline().split()
        assert ready[0] == b"ready" and int(ready[2]) == n + 1, ready
        tracer = Tracer(["thr", "--json", "-p", str(target.pid)])
        target.go()
        out, _ = target.proc.communicate(timeout=30)
        assert target.proc.returncode == 0
        done = out.split()
        assert done[0] == b"done" and int(done[1]) == n - n // 2 + 4, out
        rc, tout, err = tracer.wait()
        assert rc == 0, err
    finally:
        target.kill()
    events, summary = thr_split(tout)
    kinds = [e["event"] for e in events]
    alive = [e for e in events if e["event"] == "alive"]
    assert kinds[:len(alive)] == ["alive"] * len(alive), kinds
    mine = [e for e in alive if not e.get("system")]
    rt = [e for e in alive if e.get("system")]
    assert len(mine) == int(ready[2])
    assert sorted(e["start"] for e in mine) == ["main.parked"] * n + ["runtime.main"]
    assert rt and all(e["start"].startswith("runtime.") for e in rt), rt
    assert len({e["goid"] for e in alive}) == len(alive)
    assert all(e["started_before_tracing"] and e["tid"] is None and e["pid"] == target.pid
               for e in alive)
    # Go 1.21 on records the parent (main); before, none is known.
    parents = {e["parent_goid"] for e in alive if e["start"] == "main.parked"}
    assert parents in ({1}, {None}), parents
    creates = [e for e in events if e["event"] == "create"]
    assert sorted(e["start"] for e in creates) == ["main.late"] * 3 + ["main.short"] * 2
    exits = [e for e in events if e["event"] == "exit"]
    before = [e for e in exits if e.get("started_before_tracing")]
    assert len(before) == n // 2 and len(exits) == n // 2 + 2, exits
    parked = {e["goid"] for e in alive if e["start"] == "main.parked"}
    for e in before:
        assert e["goid"] in parked and e["start"] == "main.parked" and e["lifetime_ns"] is None
        assert e["parent_goid"] in parents
    g = summary["goroutines"]
    assert g["alive_at_attach"] == len(alive)
    assert g["created"] == 5 and g["exited"] == n // 2 + 2 and g["lost"] == 0
    assert g["alive"] == int(done[1]) + len(rt), (g, len(rt))
