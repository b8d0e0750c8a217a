"""rtmon gc on HotSpot JVMs through libjvm.so's USDT probes (hotspot:gc__begin/gc__end,
mem__pool__gc__begin/end), against testprog/java/GcProg.java: exactly N System.gc() calls.

The JVM runs with the serial collector and a fixed 32 MiB heap: the program allocates too little for
any other collection, and each System.gc() is one full collection (one gc__begin(is_full=1)/gc__end
pair) whose memory manager, MarkSweepCompact, reports every memory pool before and after.
Every JDK under /usr/lib/jvm that the tests know is checked: Debian's 17 and Temurin 25 if installed.
"""
import os
import re

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
        assert re.search(r"\d (B|KiB|MiB) -> [\d.]+ (B|KiB|MiB) +MarkSweepCompact$", row), row
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
    assert any("MarkSweepCompact: Tenured Gen used" in l for l in rows)
    assert any("HotSpot JVM 17." in l for l in lines)
    assert "cycles 2, GC pauses 2, total pause" in r.stdout
    assert "GC operations: full 2, not full 0;" in r.stdout
