"""rtmon gc on Node.js: entry and return probes on V8's Heap::PerformGarbageCollection, against
node's own --trace-gc, which prints one line per collection with its kind, reason and pause
(testprog/nodegc.js: allocation that makes V8 collect by itself, then exactly FULL gc() and MINOR
gc({type: "minor"}) calls; also a growing old generation, which V8 marks incrementally, and heap
snapshots).

The node on this machine (/usr/bin/node, node 20, V8 11.3) and, when
tests/integration/fetch-node-fixtures.sh has put it in BUILD/node-fixtures, npm's node 22 (V8 12.4).
Each collection --trace-gc prints must be one rtmon record, in the same order, with the same kind
and reason; per isolate (--trace-gc's [pid:isolate]) and per heap (rtmon's "heap") the sequences
are the same. Durations: V8 times its pause from before the collection's prologue to after its
epilogue, around PerformGarbageCollection, on the same clock (CLOCK_MONOTONIC), so rtmon's duration
can never exceed it (beyond --trace-gc's rounding to 10 us), however loaded the machine is.
"""
import os
import re
import shutil
import subprocess

import pytest

from conftest import BUILD, Target, Tracer, json_lines, run

SCRIPT = os.path.abspath("testprog/nodegc.js")
NODE20 = "/usr/bin/node"
NODE22 = os.path.join(BUILD, "node-fixtures", "node22", "bin", "node")
SYMBOL = b"_ZN2v88internal4Heap24PerformGarbageCollectionENS0_16GarbageCollectorENS0_23GarbageCollectionReasonEPKc"

TRACE = re.compile(r"^\[(\d+):(0x[0-9a-f]+)\]\s+\d+ ms: "
                   r"(Scavenge|Minor Mark-Compact|Minor Mark-Sweep|Mark-Compact(?: \(reduce\))?) "
                   r".*? MB, (?:pooled: \S+ MB, )?([\d.]+) / [\d.]+ ms .*?"
                   r"\(average mu = [\d.]+, current mu = [\d.]+\) ([^;]*);")
pytestmark = pytest.mark.skipif(not os.path.exists(NODE20), reason=f"{NODE20} not installed")
KINDS = {"Scavenge": "scavenge", "Minor Mark-Compact": "minor-mc", "Minor Mark-Sweep": "minor-ms"}


def nodes():
    """(path, its flag for the minor mark collector, rtmon's name for that) of each node."""
    out = [pytest.param(NODE20, "--minor-mc", "minor-mc", id="node20")]
    out.append(pytest.param(NODE22, "--minor-ms", "minor-ms", id="node22",
                            marks=pytest.mark.skipif(not os.path.exists(NODE22),
                                                     reason="run tests/integration/fetch-node-fixtures.sh BUILD")))
    return out


def node_version(node):
    r = subprocess.run([node, "-p", "process.version.slice(1) + ' ' + process.versions.v8"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def traced(text):
    """node's --trace-gc lines: [(isolate, kind, pause in ms, reason)]."""
    out = []
    for line in text.splitlines():
        m = TRACE.match(line)
        if m:
            kind = KINDS.get(m.group(3), "mark-compact")
            out.append((m.group(2), kind, float(m.group(4)), m.group(5)))
    return out


def by_first_seen(pairs):
    """[(key, value)] -> [[values of the first key], [of the second], ...], keys in order of first
    appearance."""
    groups = {}
    for key, value in pairs:
        groups.setdefault(key, []).append(value)
    return list(groups.values())


def check(out, trace_text, node, full, minor, isolates=1):
    """rtmon's records against node's --trace-gc; returns the gc records."""
    lines = json_lines(out)
    summary = lines[-1]
    version, v8 = node_version(node)
    assert summary["type"] == "summary" and summary["runtime"] == "node"
    assert summary["lost"] == 0 and summary["version"] == version
    gc = [o for o in lines if o["type"] == "gc"]
    trace = traced(trace_text)
    assert len({t[0] for t in trace}) == isolates
    # Every collection, in order, with its kind and reason.
    assert [(o["phase"], o["reason"]) for o in gc] == [(t[1], t[3]) for t in trace]
    assert by_first_seen((o["heap"], (o["phase"], o["reason"])) for o in gc) == \
        by_first_seen((t[0], (t[1], t[3])) for t in trace)
    assert len({o["heap"] for o in gc}) == isolates
    # What the script asked for, in each isolate: at least that many full collections. Node 22's
    # V8 sometimes follows a requested full GC with a second one under the same reason (seen in CI,
    # 1 run in 3 here), and --trace-gc shows both: rtmon's records equal its lines above.
    tested = [o for o in gc if o["reason"] == "testing"]
    forced = {"testing", "heap profiler"}
    assert sum(o["phase"] == "mark-compact" for o in tested) >= full * isolates
    assert sum(o["phase"] != "mark-compact" for o in tested) == minor * isolates
    assert any(o["reason"] == "allocation failure" for o in gc)
    for o, t in zip(gc, trace):
        assert o["runtime"] == "node" and o["stw"] and o["gc"]
        assert o["trigger"] == ("forced" if o["reason"] in forced else "auto")
        assert o["dur_ns"] / 1e6 <= t[2] + 0.005 + 1e-9, (o, t)
        assert o["dur_ns"] > 0
    assert [o["cycle"] for o in gc] == list(range(1, len(gc) + 1))
    cycles = [o for o in lines if o["type"] == "gc_cycle"]
    assert [c["cycle"] for c in cycles] == [o["cycle"] for o in gc]
    hist = [o for o in lines if o["type"] == "hist"]
    assert len(hist) == 1 and hist[0]["name"] == "gc_pause" and hist[0]["count"] == len(gc)
    assert summary["cycles"] == summary["gc_pauses"] == summary["events"] == len(gc)
    assert summary["probe_hits"] == 2 * len(gc)
    # Collections by kind, as --trace-gc counts them.
    kinds = summary["kinds"]
    assert set(kinds) == {"scavenge", "mark-compact", "minor-mc" if v8.startswith("11.") else "minor-ms"}
    assert kinds == {k: sum(t[1] == k for t in trace) for k in kinds}
    assert summary["nested_calls"] == summary["unreturned_calls"] == 0
    return gc


@pytest.mark.parametrize("node,minor_flag,minor_kind", nodes())
def test_command(node, minor_flag, minor_kind):
    """-- CMD: every collection from the first, scavenges by allocation and the forced ones."""
    r = run(["gc", "--json", "--", node, "--expose-gc", "--trace-gc", SCRIPT, "full=3", "minor=2", "mb=8"])
    assert r.returncode == 0, r.stderr
    gc = check(r.stdout, r.stderr, node, 3, 2)  # with --json, node's stdout goes to stderr
    assert {o["phase"] for o in gc} == {"scavenge", "mark-compact"}


@pytest.mark.parametrize("node,minor_flag,minor_kind", nodes())
def test_reasons(node, minor_flag, minor_kind):
    """More of V8's reasons: a heap snapshot's collections (heap profiler, forced), and an old
    generation grown until V8 marks it incrementally (finalize incremental marking via ...)."""
    r = run(["gc", "--json", "--", node, "--expose-gc", "--trace-gc", SCRIPT, "full=1", "minor=0",
             "mb=2", "retain=32", "snapshots=1"])
    assert r.returncode == 0, r.stderr
    gc = check(r.stdout, r.stderr, node, 1, 0)
    reasons = {o["reason"] for o in gc}
    assert {"allocation failure", "testing", "heap profiler"} <= reasons, reasons
    assert all(o["trigger"] == "forced" for o in gc if o["reason"] == "heap profiler")
    summary = json_lines(r.stdout)[-1]
    assert summary["end"] == "target-exit"


@pytest.mark.parametrize("node,minor_flag,minor_kind", nodes())
def test_minor_mark(node, minor_flag, minor_kind):
    """The young generation's mark collector instead of the scavenger (GarbageCollector 2)."""
    r = run(["gc", "--json", "--", node, "--expose-gc", minor_flag, "--trace-gc", SCRIPT, "full=2", "minor=2", "mb=8"])
    assert r.returncode == 0, r.stderr
    gc = check(r.stdout, r.stderr, node, 2, 2)
    assert {o["phase"] for o in gc} == {minor_kind, "mark-compact"}


@pytest.mark.parametrize("node,minor_flag,minor_kind", nodes())
def test_worker_isolate(node, minor_flag, minor_kind):
    """A worker_threads thread has its own isolate and heap: its collections run on its thread."""
    r = run(["gc", "--json", "--", node, "--expose-gc", "--trace-gc", SCRIPT, "full=2", "minor=1", "mb=4", "worker=1"])
    assert r.returncode == 0, r.stderr
    gc = check(r.stdout, r.stderr, node, 2, 1, isolates=2)
    tids = by_first_seen((o["heap"], o["tid"]) for o in gc)
    assert [len(set(t)) for t in tids] == [1, 1] and tids[0][0] != tids[1][0]


def test_pid():
    """-p on a node waiting at its gate: exactly the collections it prints after "ready"."""
    target = Target(NODE20, "--expose-gc", "--trace-gc", SCRIPT, "full=3", "minor=2", "mb=8")
    try:
        assert target.proc.stdout.readline() == b"ready\n"
        tracer = Tracer(["gc", "--json", "-p", str(target.pid)])
        target.go()
        stdout, _ = target.proc.communicate(timeout=60)
        rc, out, err = tracer.wait()
        assert rc == 0, err
        check(out, stdout.decode(), NODE20, 3, 2)
        assert json_lines(out)[-1]["end"] == "target-exit"
    finally:
        target.kill()


def test_binpath_copy(tmp_path):
    """--binpath on a private copy of node (tests never --binpath a system binary): a process of
    the copy started after rtmon is traced, the system node running at the same time is not."""
    copy = tmp_path / "node"
    shutil.copyfile(NODE20, copy)
    copy.chmod(0o755)
    tracer = Tracer(["gc", "--json", "--binpath", str(copy)])
    try:
        mine = Target(str(copy), "--expose-gc", "--trace-gc", SCRIPT, "full=2", "minor=1", "mb=4")
        other = Target(NODE20, "--expose-gc", SCRIPT, "full=2", "minor=1", "mb=4")
        outs = []
        for t in (mine, other):
            assert t.proc.stdout.readline() == b"ready\n"
            t.go()
        for t in (mine, other):
            stdout, _ = t.proc.communicate(timeout=60)
            assert t.proc.returncode == 0
            outs.append(stdout.decode())
    finally:
        rc, out, err = tracer.stop()
    assert rc == 0, err
    gc = [o for o in json_lines(out) if o["type"] == "gc"]
    assert {o["pid"] for o in gc} == {mine.pid}
    trace = traced(outs[0])
    assert [(o["phase"], o["reason"]) for o in gc] == [(t[1], t[3]) for t in trace]


def test_table():
    """The default table: a line per collection with the collector and reason as --trace-gc names
    them; the summary counts gc() calls as forced."""
    r = run(["gc", "--", NODE20, "--expose-gc", SCRIPT, "full=3", "minor=2", "mb=8"])
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if l not in ("ready", "done")]
    head = next(i for i, l in enumerate(lines) if l.startswith("CYCLE"))
    rows = lines[head + 1:lines.index("", head)]
    details = [l.split("  ")[-1].strip() for l in rows]
    assert details.count("Mark-Compact: testing") == 3
    assert details.count("Scavenge: testing") == 2
    assert "Scavenge: allocation failure" in details
    version, v8 = node_version(NODE20)
    assert any(l.startswith("GC pauses (V8 collections: the isolate's JavaScript stopped) in ")
               and l.endswith(f"(node {version}, V8 {'.'.join(v8.split('.')[:3])}):") for l in lines), lines
    assert any(l.startswith(f"cycles {len(rows)} (forced 5), GC pauses {len(rows)}, total pause")
               for l in lines), lines
    scavenges = sum(d.startswith("Scavenge: ") for d in details)
    assert f"collections by kind: scavenge {scavenges}, mark-compact 3, minor-mc 0" in lines, lines
    r = run(["gc", "--phases", "--", NODE20, "--expose-gc", SCRIPT, "full=1", "minor=0", "mb=0"])
    assert r.returncode == 0, r.stderr
    head = next(l for l in r.stdout.splitlines() if l.startswith("CYCLE"))
    assert head.split() == ["CYCLE", "TRIGGER", "PHASE", "START(ms)", "DURATION(us)", "COLLECTOR:", "REASON"]
    assert any(l.split()[1:3] == ["forced", "mark-compact"] and l.endswith("Mark-Compact: testing")
               for l in r.stdout.splitlines())


@pytest.mark.parametrize("node,minor_flag,minor_kind", nodes())
def test_ps_and_info(node, minor_flag, minor_kind):
    """rtmon info and ps name node with its version and V8's, read from the binary."""
    version, v8 = node_version(node)
    target = Target(node, "--expose-gc", SCRIPT)
    try:
        assert target.proc.stdout.readline() == b"ready\n"
        r = run(["info", str(target.pid)])
        assert r.returncode == 0, r.stderr
        info = r.stdout.splitlines()
        assert f"runtime:        node {version}" in info
        assert f"engine:         V8 {'.'.join(v8.split('.')[:3])}" in info
        assert f"runtime file:   {os.path.realpath(node)}" in info
        assert "traced fully:   yes (*)" in info
        assert any(l.split()[:2] == ["gc", "yes"] for l in info)
        r = run(["ps", "--json"])
        assert r.returncode == 0, r.stderr
        mine = [o for o in json_lines(r.stdout) if o.get("pid") == target.pid]
        assert len(mine) == 1 and mine[0]["runtime"] == "node" and mine[0]["version"] == version, mine
        target.go()
        assert target.wait() == 0
    finally:
        target.kill()


def node_without_symbol(tmp_path):
    """A copy of node whose V8 no longer defines the function rtmon probes: the symbol's name
    changed in both symbol tables (.dynstr and .strtab), nothing else. It still runs."""
    data = open(NODE20, "rb").read()
    assert data.count(SYMBOL + b"\0") >= 1
    copy = tmp_path / "node"
    copy.write_bytes(data.replace(SYMBOL + b"\0", SYMBOL.replace(b"Perform", b"Pxrform") + b"\0"))
    copy.chmod(0o755)
    r = subprocess.run([str(copy), "-p", "1 + 1"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout == "2\n", r.stderr
    nm = subprocess.run(["nm", "-D", str(copy)], capture_output=True, text=True, timeout=60).stdout
    assert SYMBOL.decode() not in nm
    return str(copy)


def test_stripped_node(tmp_path):
    """objcopy --strip-all drops .symtab but keeps .dynsym, where node exports the function: such a
    node is traced the same."""
    copy = tmp_path / "node"
    subprocess.run(["objcopy", "--strip-all", NODE20, str(copy)], check=True, timeout=120)
    sections = subprocess.run(["readelf", "-S", str(copy)], capture_output=True, text=True).stdout
    assert ".symtab" not in sections and ".dynsym" in sections
    r = run(["gc", "--json", "--", str(copy), "--expose-gc", "--trace-gc", SCRIPT, "full=2", "minor=1",
             "mb=4"])
    assert r.returncode == 0, r.stderr
    check(r.stdout, r.stderr, str(copy), 2, 1)


def test_node_without_symbol_refused(tmp_path):
    node = node_without_symbol(tmp_path)
    version, v8 = node_version(node)
    for target in (["--", node, "-e", "0"], ["--binpath", node]):
        r = run(["gc"] + target)
        assert r.returncode == 1
        assert r.stdout == ""
        err = r.stderr.strip().splitlines()
        assert err == [f"rtmon gc: {node} is node {version} (V8 {'.'.join(v8.split('.')[:3])}) and {node} does not "
                       "define v8::internal::Heap::PerformGarbageCollection(GarbageCollector, "
                       "GarbageCollectionReason, const char*), the function rtmon probes; use a node that "
                       "exports it (docs/gc.md lists the versions checked, e.g. node 20 and 22)"], r.stderr
    target = Target(node, "--expose-gc", SCRIPT)
    try:
        assert target.proc.stdout.readline() == b"ready\n"
        r = run(["info", str(target.pid)])
        info = r.stdout.splitlines()
        assert "traced fully:   no" in info
        assert any(l.split()[:2] == ["gc", "no"] and "does not define v8::internal::Heap::PerformGarbageCollection"
                   in l for l in info), info
        target.go()
        assert target.wait() == 0
    finally:
        target.kill()

