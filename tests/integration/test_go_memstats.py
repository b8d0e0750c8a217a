"""rtmon memstats and stats on a running Go program (testprog/go/gostack), against what the
program's own runtime wrote a moment before it parked: runtime.ReadMemStats (the last thing it did
that allocates nothing after) and runtime.NumGoroutine. Plain, stripped and PIE builds of the
installed toolchain and of the older releases tests/unit/build-go-fixtures.sh made. While rtmon
reads, a goroutine keeps incrementing a counter, and no thread of the program may be stopped."""
import json
import os
import re
import subprocess

import pytest

from conftest import RTMON, run, tp
from test_go_inspect import (OLD_SUFFIXES, OLD_VERSIONS, VARIANTS, StopWatch,  # noqa: F401
                             old_fixture, one_line_error, target_factory)


def run_watched(t, args, tries=10):
    """rtmon args PID while every thread's state is sampled: none may be stopped or traced. A
    memstats read takes a few milliseconds, in which the counter goroutine may get no CPU on a
    loaded machine: the read is repeated (each one checked) until the counter moved during one."""
    for _ in range(tries):
        before = t.counter()
        w = StopWatch(t.pid)
        r = run(args + [str(t.pid)], timeout=60)
        w.stop()
        assert w.samples > 0 and w.stopped == [], w.stopped
        if t.counter() > before:
            return r
    raise AssertionError(f"the counter goroutine did not run during any of {tries} reads")

EXACT = ["NumGC", "NumForcedGC", "LastGC", "PauseTotalNs", "Lookups"]
# Heap figures: the program allocates a few bytes after its ReadMemStats, and the scavenger may
# return a page meanwhile.
WITHIN_5 = ["Alloc", "TotalAlloc", "Sys", "Mallocs", "Frees", "HeapAlloc", "HeapSys", "HeapIdle",
            "HeapInuse", "HeapReleased", "HeapObjects", "StackInuse", "StackSys", "MSpanInuse",
            "MSpanSys", "MCacheInuse", "MCacheSys", "NextGC"]
# persistentalloc takes its chunks on OtherSys's account and moves each piece it hands out to its
# user's (GCSys, BuckHashSys, ...): after the program's ReadMemStats, bytes may move between them.
PERSISTENT = ["OtherSys", "GCSys", "BuckHashSys"]
# A thread the runtime starts after the program's ReadMemStats (its last writes can block) takes
# its g0 and signal stacks from the idle heap: two 32 KiB stack spans move, at most.
STACK_SPANS = {"StackInuse", "StackSys", "HeapIdle", "HeapSys", "HeapReleased"}


def go_minor(path):
    """The release of an old fixture from its name; the installed toolchain's is recent."""
    m = re.search(r"-go1\.(\d+)\.", os.path.basename(path))
    return int(m.group(1)) if m else 99


def check_memstats(t, r):
    assert r.returncode == 0 and r.stderr == "", r.stderr
    got, want = json.loads(r.stdout), t.memstats
    assert got["type"] == "memstats" and got["pid"] == t.pid
    assert got["not_derived"] == "" and got["changing"] is False
    for k in EXACT:
        assert got[k] == want[k], (k, got[k], want[k])
    for k in WITHIN_5:
        slack = 64 << 10 if k in STACK_SPANS else 0
        assert abs(got[k] - want[k]) <= 0.05 * want[k] + slack, (k, got[k], want[k])
    g, w = sum(got[k] for k in PERSISTENT), sum(want[k] for k in PERSISTENT)
    assert abs(g - w) <= 0.05 * w, (PERSISTENT, g, w)
    assert abs(got["GCCPUFraction"] - want["GCCPUFraction"]) <= 1e-5 + 1e-5 * want["GCCPUFraction"]
    assert len(got["PauseNs"]) == 256 and len(got["BySize"]) == 61
    assert sum(got["PauseNs"]) == want["PauseTotalNs"]  # fewer than 256 collections
    assert got["BySize"][1]["Size"] == 8 and got["BySize"][60]["Size"] == 18432


def check_stats(t, path, out):
    got = json.loads(out)
    assert got["goroutines"] == t.numgoroutine
    assert got["os_threads"] == len(os.listdir(f"/proc/{t.pid}/task"))
    assert got["gomaxprocs"] == len(os.sched_getaffinity(t.pid))
    assert got["gogc"] == int(os.environ.get("GOGC", "100"))
    stripped = path.endswith("-stripped")
    assert got["num_cpu"] == (None if stripped else len(os.sched_getaffinity(t.pid)))
    assert got["cgo_calls"] == (None if stripped else 0)  # CGO_ENABLED=0: none
    return got


def memstats_case(target_factory, path):
    t = target_factory(path)
    check_memstats(t, run_watched(t, ["memstats", "--json"]))
    r = run_watched(t, ["memstats"])
    assert r.returncode == 0 and r.stderr == "", r.stderr
    text = {line.split()[0]: line.split()[1] for line in r.stdout.splitlines()}
    for k in ["NumGC", "NumForcedGC", "LastGC", "PauseTotalNs"]:
        assert int(text[k]) == t.memstats[k], k
    r = run_watched(t, ["stats", "--json"])
    assert r.returncode == 0 and r.stderr == "", r.stderr
    got = check_stats(t, path, r.stdout)
    minor = go_minor(path)
    assert got["gomemlimit"] == (None if minor < 19 else 2**63 - 1)
    r = run(["stats", str(t.pid)])
    assert r.returncode == 0 and f"goroutines   {t.numgoroutine}\n" in r.stdout, r.stdout


@pytest.mark.parametrize("variant", VARIANTS)
def test_memstats(target_factory, variant):
    memstats_case(target_factory, tp(variant))


@pytest.mark.parametrize("suffix", OLD_SUFFIXES)
@pytest.mark.parametrize("version", OLD_VERSIONS)
def test_memstats_old_releases(target_factory, version, suffix):
    memstats_case(target_factory, old_fixture(version, suffix))


def test_memstats_10000_goroutines(target_factory):
    t = target_factory(tp("go/gostack-stripped"), extra=10000)
    check_memstats(t, run_watched(t, ["memstats", "--json"]))
    r = run_watched(t, ["stats", "--json"])
    assert json.loads(r.stdout)["goroutines"] == t.numgoroutine > 10000


def test_stats_gogc_and_memory_limit(target_factory, monkeypatch):
    """GOGC and GOMEMLIMIT as the program's environment set them; under a memory limit NextGC
    needs what rtmon cannot hold still, and is said to be not derived (null), not invented."""
    monkeypatch.setenv("GOGC", "200")  # 50 would collect the 2 MiB heap again
    monkeypatch.setenv("GOMEMLIMIT", "1GiB")
    path = tp("go/gostack-stripped")
    t = target_factory(path)
    got = check_stats(t, path, run(["stats", "--json", str(t.pid)]).stdout)
    assert got["gomemlimit"] == 1 << 30
    r = run(["memstats", "--json", str(t.pid)])
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)
    assert m["NextGC"] is None and m["not_derived"] == "NextGC"
    assert m["NumGC"] == t.memstats["NumGC"]
    r = run(["memstats", str(t.pid)])
    assert "NextGC         not derived: GOMEMLIMIT or GOGC=off sets the goal" in r.stdout


def test_memstats_while_allocating():
    """On a program that keeps allocating (gochurn: goroutines in batches, GOGC off), each read
    holds together: counts only grow, the heap's parts add up, NextGC is not derived (GOGC=off),
    and the one collection the program ran is counted."""
    p = subprocess.Popen([tp("go/gochurn-stripped")], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        pid = int(p.stdout.readline().split()[1])
        p.stdin.write("go\n")
        p.stdin.flush()
        prev = None
        for _ in range(5):
            r = run(["memstats", "--json", str(pid)])
            assert r.returncode == 0 and r.stderr == "", r.stderr
            m = json.loads(r.stdout)
            assert m["NumGC"] == 1 and m["NextGC"] is None and m["not_derived"] == "NextGC"
            assert m["Frees"] <= m["Mallocs"] and m["HeapObjects"] == m["Mallocs"] - m["Frees"]
            assert m["Alloc"] == m["HeapAlloc"] <= m["HeapInuse"] <= m["HeapSys"]
            assert m["HeapIdle"] == m["HeapSys"] - m["HeapInuse"] >= m["HeapReleased"]
            assert m["Sys"] >= m["HeapSys"] + m["StackSys"]
            if prev:
                assert m["Mallocs"] >= prev["Mallocs"] and m["TotalAlloc"] >= prev["TotalAlloc"]
            prev = m
    finally:
        p.kill()
        p.wait()


@pytest.mark.parametrize("cmd", ["memstats", "stats"])
def test_bad_input(target_factory, cmd):
    for args, code, words in [([cmd, "12x"], 2, ["invalid PID"]), ([cmd], 2, ["no PID"]),
                              ([cmd, "1", "2"], 2, ["one PID only"]),
                              ([cmd, "4194304"], 1, ["no process with PID 4194304"]),
                              ([cmd, str(os.getpid())], 1,
                               [f"PID {os.getpid()} (", "is not a Go program"])]:
        one_line_error(run(args), code, *words)
    t = target_factory(tp("go/gostack"))
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", RTMON,
                        cmd, str(t.pid)], capture_output=True, text=True, timeout=30)
    one_line_error(r, 1, f"PID {t.pid} (gostack)", "Permission denied")
