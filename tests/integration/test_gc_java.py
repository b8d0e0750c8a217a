"""rtmon gc on HotSpot JVMs through libjvm.so's USDT probes (hotspot:gc__begin/gc__end,
mem__pool__gc__begin/end), against testprog/java/GcProg.java: exactly N System.gc() calls.

The JVM runs with the serial collector and a fixed 32 MiB heap: the program allocates too little for
any other collection, and each System.gc() is one full collection (one gc__begin(is_full=1)/gc__end
pair) whose memory manager, MarkSweepCompact, reports every memory pool before and after.
Every JDK under /usr/lib/jvm that the tests know is checked: Debian's 17 and Temurin 25 if installed.
"""
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import BUILD, Target, Tracer, json_lines, run

N = 4
JDKS = {
    "17": "/usr/lib/jvm/java-17-openjdk-amd64",
    "25": "/usr/lib/jvm/temurin-25-jdk-amd64",
}
FLAGS = ["-XX:+UseSerialGC", "-Xms32m", "-Xmx32m", "-XX:TieredStopAtLevel=1"]
HEAP_POOLS = {"Eden Space", "Survivor Space", "Tenured Gen"}


def java(version):
    path = os.path.join(JDKS[version], "bin", "java")
    if not os.path.exists(path):
        pytest.skip(f"JDK {version} not installed ({path})")
    return path


def command(version, n=N):
    classes = os.path.join(BUILD, "testprog", "java")
    assert os.path.exists(os.path.join(classes, "GcProg.class")), "run make testprogs"
    return [java(version), *FLAGS, "-cp", classes, "GcProg", str(n)]


def check_records(out, version, n=N):
    lines = json_lines(out)
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["runtime"] == "java"
    assert summary["version"].split(".")[0] == version
    assert summary["lost"] == 0 and summary["unpaired"] == 0 and summary["probe"] == "usdt"
    gc = [o for o in lines if o["type"] == "gc"]
    assert all(o["runtime"] == "java" and o["gc"] for o in gc)
    pauses = [o for o in gc if o["phase"] == "pause"]
    pools = [o for o in gc if o["phase"] == "pool"]
    assert len(pauses) + len(pools) == len(gc) == summary["events"]
    assert [o["full"] for o in pauses] == [True] * n
    assert [o["cycle"] for o in pauses] == list(range(1, n + 1))
    assert all(o["stw"] for o in pauses) and not any(o["stw"] for o in pools)
    # The same pools every cycle, the heap's among them, all from the full collector, inside the pause.
    names = None
    for p in pauses:
        mine = [o for o in pools if o["cycle"] == p["cycle"]]
        assert all(o["collector"] == "MarkSweepCompact" for o in mine), mine
        assert len({o["pool"] for o in mine}) == len(mine)
        names = names or {o["pool"] for o in mine}
        assert {o["pool"] for o in mine} == names
        for o in mine:
            assert p["start_ns"] <= o["start_ns"]
            assert o["start_ns"] + o["dur_ns"] <= p["start_ns"] + p["dur_ns"]
            assert o["used_before"] <= o["committed_before"] and o["used_after"] <= o["committed_after"]
    assert HEAP_POOLS <= names, names
    assert len(pools) == n * len(names)
    # After the first full collection the program's live objects sit in the old generation.
    assert all(o["used_after"] > 0 for o in pools if o["pool"] == "Tenured Gen")
    assert all(o["used_after"] == 0 for o in pools if o["pool"] == "Eden Space")
    # The argument order (init, used, committed, max): a fixed heap is committed whole from the start,
    # and eden, two survivor spaces and the old generation make up -Xmx exactly.
    for p in pauses:
        heap = {o["pool"]: o for o in pools if o["cycle"] == p["cycle"] and o["pool"] in HEAP_POOLS}
        assert all(o["init"] == o["committed_before"] == o["committed_after"] == o["max"]
                   for o in heap.values()), heap
        assert (heap["Eden Space"]["max"] + 2 * heap["Survivor Space"]["max"]
                + heap["Tenured Gen"]["max"]) == 32 << 20
    cycles = [o for o in lines if o["type"] == "gc_cycle"]
    assert [c["cycle"] for c in cycles] == list(range(1, n + 1))
    assert all(c["stw_count"] == 1 for c in cycles)
    # A collection's heap: the heap pools' use summed (the others are code and class metadata).
    for c in cycles:
        heap = [o for o in pools if o["cycle"] == c["cycle"] and o["pool"] in HEAP_POOLS]
        assert c["heap_before"] == sum(o["used_before"] for o in heap)
        assert c["heap_after"] == sum(o["used_after"] for o in heap)
        assert c["collector"] == "MarkSweepCompact"
    hist = [o for o in lines if o["type"] == "hist"]
    assert len(hist) == 1 and hist[0]["count"] == n
    assert summary["cycles"] == summary["gc_pauses"] == summary["full"] == n
    assert summary["not_full"] == 0 and summary["pool_records"] == len(pools)
    return summary


@pytest.mark.parametrize("version", sorted(JDKS))
def test_command(version):
    """-- CMD: the JVM is held before exec; rtmon finds libjvm.so from the JDK's layout."""
    r = run(["gc", "--json", "--"] + command(version), timeout=60)
    assert r.returncode == 0, r.stderr
    summary = check_records(r.stdout, version)
    assert summary["end"] == "target-exit" and summary["target_exit"] == 0


@pytest.mark.parametrize("version", sorted(JDKS))
def test_pid(version):
    """-p on a running JVM: libjvm.so from its memory map."""
    target = Target(*command(version))
    try:
        assert target.proc.stdout.readline() == b"ready\n"
        tracer = Tracer(["gc", "--json", "-p", str(target.pid)])
        target.go()
        assert target.wait(60) == 0
        rc, out, err = tracer.wait()
        assert rc == 0, err
        summary = check_records(out, version)
        assert summary["end"] == "target-exit"
    finally:
        target.kill()


def test_one_line_per_collection():
    """Without --phases: one line per collection, with its pause, heap before and after, and the
    collector; no pool rows."""
    r = run(["gc", "--"] + command("17", 2), timeout=60)
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if l not in ("ready", "done")]
    head = next(i for i, l in enumerate(lines) if l.startswith("CYCLE"))
    rows = lines[head + 1:lines.index("", head)]
    assert [l.split()[0] for l in rows] == ["1", "2"], rows
    for row in rows:
        f = row.split()
        assert float(f[3]) == float(f[4])  # the whole collection is the pause
        assert re.search(r"\d (B|KiB|MiB) -> [\d.]+ (B|KiB|MiB) +MarkSweepCompact \(System\.gc\(\)\)$",
                         row), row
    assert not any("Tenured Gen" in l for l in lines)


def test_table():
    r = run(["gc", "--phases", "--"] + command("17", 2), timeout=60)
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if l not in ("ready", "done")]
    head = next(i for i, l in enumerate(lines) if l.startswith("CYCLE"))
    assert lines[head].split() == ["CYCLE", "TRIGGER", "PHASE", "START(ms)", "DURATION(us)", "DETAIL"]
    rows = lines[head + 1:lines.index("", head)]
    full = [l for l in rows if "pause (full)" in l]
    assert [l.split()[0] for l in full] == ["1", "2"]
    assert all(l.endswith("  full collection (System.gc())") for l in full), full
    assert any("MarkSweepCompact: Tenured Gen used" in l for l in rows)
    assert any("HotSpot JVM 17." in l for l in lines)
    assert "cycles 2, GC pauses 2, total pause" in r.stdout
    assert "GC operations: full 2, not full 0;" in r.stdout


# GC causes: every pause rtmon reports carries the cause -Xlog:gc gives the same collection, in order.
COLLECTORS = {
    "Serial": ["-XX:+UseSerialGC", "-Xmn16m"],
    "Parallel": ["-XX:+UseParallelGC", "-XX:-UseAdaptiveSizePolicy", "-Xmn16m"],
    "G1": ["-XX:+UseG1GC"],
    # System.gc() starts a concurrent cycle and waits for its end: its Remark and Cleanup pauses.
    "G1-concurrent": ["-XX:+UseG1GC", "-XX:+ExplicitGCInvokesConcurrent"],
}
ALL_HEAP_POOLS = HEAP_POOLS | {"PS Eden Space", "PS Survivor Space", "PS Old Gen", "G1 Eden Space",
                               "G1 Survivor Space", "G1 Old Gen"}
# rounds of garbage, MiB of garbage a round (a young collection every few), humongous arrays (G1)
CAUSE_ARGS = ["2", "40", "10"]
LOG_PAUSE = re.compile(r"\[gc\s*\] GC\((\d+)\) Pause (\w+)(.*?) \d+M->\d+M\(\d+M\) [\d.]+ms$")
LOG_PAREN = re.compile(r"\(((?:[^()]|\(\))*)\)")


def log_pauses(path):
    """[(gc id, kind, cause or None)] from -Xlog:gc's file: "GC(3) Pause Young (Normal) (G1 Evacuation
    Pause) 16M->1M(64M) 0.374ms" gives (3, "Young", "G1 Evacuation Pause"); the cause is the last word in
    parentheses (G1 puts the young pause's kind before it), none for "Pause Remark"."""
    out = []
    with open(path) as f:
        for line in f:
            m = LOG_PAUSE.search(line.rstrip("\n"))
            if m:
                words = LOG_PAREN.findall(m.group(3))
                out.append((int(m.group(1)), m.group(2), words[-1] if words else None))
    return out


def cause_command(version, collector, log):
    classes = os.path.join(BUILD, "testprog", "java")
    assert os.path.exists(os.path.join(classes, "GcCauseProg.class")), "run make testprogs"
    return [java(version), *COLLECTORS[collector], "-Xms64m", "-Xmx64m", f"-Xlog:gc:file={log}",
            "-cp", classes, "GcCauseProg", *CAUSE_ARGS]


def collections(pause, pools):
    """The collectors that ran in one GC operation, in order: one memory manager's pool records in a
    row each (the parallel collector of JDK 17 runs System.gc() as PS Scavenge then PS MarkSweep in one
    operation, two -Xlog:gc lines)."""
    out = []
    for o in pools:
        if o["cycle"] == pause["cycle"] and (not out or out[-1] != o["collector"]):
            out.append(o["collector"])
    return out or [None]


def check_causes(out, log):
    lines = json_lines(out)
    pauses = [o for o in lines if o["type"] == "gc" and o["phase"] == "pause"]
    pools = [o for o in lines if o["type"] == "gc" and o["phase"] == "pool"]
    cycles = [o for o in lines if o["type"] == "gc_cycle"]
    want = log_pauses(log)
    # Each collection of a GC operation is a line of -Xlog:gc with the operation's cause.
    got = [(o["cause"], coll) for o in pauses for coll in collections(o, pools)]
    assert [c for c, _ in got] == [c for _, _, c in want], (got, want)
    assert [c["cause"] for c in cycles] == [o["cause"] for o in pauses]
    for c, p in zip(cycles, pauses):
        assert c["cycle"] == p["cycle"]
        assert c.get("collector") == ("+".join(collections(p, pools)) if collections(p, pools) != [None]
                                      else None)
        heap = [o for o in pools if o["cycle"] == c["cycle"] and o["pool"] in ALL_HEAP_POOLS]
        if heap:  # the heap before the first collection and after the last
            first, last = collections(p, pools)[0], collections(p, pools)[-1]
            assert c["heap_before"] == sum(o["used_before"] for o in heap if o["collector"] == first)
            assert c["heap_after"] == sum(o["used_after"] for o in heap if o["collector"] == last)
    assert lines[-1]["lost"] == 0 and lines[-1]["unpaired"] == 0
    # The program's causes: young collections for its garbage, one System.gc() a round.
    causes = [c for _, _, c in want]
    assert [o["cause"] for o in pauses].count("System.gc()") == int(CAUSE_ARGS[0]), causes
    assert len(set(causes)) >= 2, causes
    return causes


@pytest.mark.parametrize("collector", sorted(COLLECTORS))
@pytest.mark.parametrize("version", sorted(JDKS))
def test_causes_match_xlog(version, collector, tmp_path):
    """-- CMD: each pause's cause (JSON "cause", null for a pause without one) is the one -Xlog:gc
    prints for it, in the same order; System.gc(), the young collections' own cause, and for G1
    humongous allocations and the Remark and Cleanup pauses of a concurrent cycle (no cause)."""
    log = tmp_path / "gc.log"
    r = run(["gc", "--json", "--"] + cause_command(version, collector, log), timeout=120)
    assert r.returncode == 0, r.stderr
    assert "warning" not in r.stderr, r.stderr
    causes = check_causes(r.stdout, log)
    if collector == "G1":
        assert "G1 Evacuation Pause" in causes and "G1 Humongous Allocation" in causes, causes
    elif collector == "G1-concurrent":
        assert "G1 Evacuation Pause" in causes and None in causes, causes
    else:
        assert "Allocation Failure" in causes, causes


@pytest.mark.parametrize("version", sorted(JDKS))
def test_causes_pid(version, tmp_path):
    """-p on a running JVM: the cause found at attach."""
    log = tmp_path / "gc.log"
    target = Target(*cause_command(version, "Serial", log))
    try:
        assert target.proc.stdout.readline() == b"ready\n"
        tracer = Tracer(["gc", "--json", "-p", str(target.pid)])
        target.go()
        assert target.wait(120) == 0
        rc, out, err = tracer.wait()
        assert rc == 0, err
        assert "warning" not in err, err
        check_causes(out, log)
    finally:
        target.kill()


def private_jdk(version, root):
    """A copy of the JDK whose launcher and libjvm.so are files of their own (the rest links to the
    JDK): --binpath on it traces only the tests' JVMs, not those other programs run."""
    home = JDKS[version]
    java(version)
    for dirpath, dirs, files in os.walk(home):
        rel = os.path.relpath(dirpath, home)
        os.makedirs(os.path.join(root, rel), exist_ok=True)
        for f in files:
            src, dst = os.path.join(dirpath, f), os.path.join(root, rel, f)
            if os.path.join(rel, f) in ("bin/java", "lib/server/libjvm.so"):
                shutil.copy2(src, dst)
            else:
                os.symlink(src, dst)
    return os.path.join(root, "bin", "java")


def test_causes_binpath(tmp_path):
    """--binpath: a JVM running before rtmon attached (its cause found at attach) and one started
    after (found at vm__init__end), each pause's cause that of its own -Xlog:gc."""
    exe = private_jdk("17", tmp_path / "jdk")
    logs = [tmp_path / "gc0.log", tmp_path / "gc1.log"]
    cmds = [cause_command("17", c, log) for c, log in zip(("Serial", "Parallel"), logs)]
    for cmd in cmds:
        cmd[0] = exe
    before = Target(*cmds[0])
    try:
        assert before.proc.stdout.readline() == b"ready\n"
        tracer = Tracer(["gc", "--json", "--binpath", exe])
        before.go()
        assert before.wait(120) == 0
        r = subprocess.run(cmds[1], stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
        assert r.returncode == 0, r.stderr
        rc, out, err = tracer.stop()
        assert rc == 0, err
        assert "warning" not in err, err
        lines = json_lines(out)
        pids = [before.pid, None]
        by_pid = {}
        for o in lines:
            if o["type"] in ("gc", "gc_cycle"):
                by_pid.setdefault(o["pid"], []).append(o)
        assert len(by_pid) == 2 and before.pid in by_pid, by_pid.keys()
        pids[1] = next(p for p in by_pid if p != before.pid)
        for pid, log in zip(pids, logs):
            check_causes("\n".join(json.dumps(o) for o in by_pid[pid] + [lines[-1]]), log)
    finally:
        before.kill()


def test_cause_in_the_line(tmp_path):
    """The line per collection names the cause after the collector, as -Xlog:gc does after the pause."""
    log = tmp_path / "gc.log"
    r = run(["gc", "--"] + cause_command("17", "Serial", log), timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    head = next(i for i, l in enumerate(lines) if l.startswith("CYCLE"))
    rows = [l for l in lines[head + 1:lines.index("", head)] if l not in ("ready", "done")]
    want = log_pauses(log)
    assert len(rows) == len(want)
    for row, (_, kind, cause) in zip(rows, want):
        coll = "MarkSweepCompact" if kind == "Full" else "Copy"
        assert row.endswith(f"  {coll} ({cause})"), (row, cause)


def test_no_perf_data(tmp_path):
    """-XX:-UsePerfData: the JVM keeps no cause where rtmon reads it; one warning line, pauses with a
    null cause, the collections traced as before."""
    log = tmp_path / "gc.log"
    cmd = cause_command("17", "Serial", log)
    cmd.insert(1, "-XX:-UsePerfData")
    r = run(["gc", "--json", "--"] + cmd, timeout=120)
    assert r.returncode == 0, r.stderr
    warnings = [l for l in r.stderr.splitlines() if "warning" in l]
    assert len(warnings) == 1 and "GC causes not known" in warnings[0] and "-XX:-UsePerfData" in warnings[0]
    pauses = [o for o in json_lines(r.stdout) if o["type"] == "gc" and o["phase"] == "pause"]
    assert len(pauses) == len(log_pauses(log)) and all(o["cause"] is None for o in pauses)
