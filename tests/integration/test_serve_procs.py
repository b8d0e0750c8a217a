"""rtmon serve --all and --binpath: one series per process (labels pid, exe, runtime), processes
started after rtmon picked up within 5 s, exited ones dropped. The truth is testprog/nthreads.c's
own "created K joined K"; it holds after its work so that its counts can be read while it lives."""
import re
import subprocess
import time

import pytest

from conftest import Tracer, tp
from test_serve import get, promtool_accepts, serve_addr

PICKUP_S = 5


def series(text, family):
    """{pid: value} of family's samples."""
    return {int(m.group(1)): float(m.group(2))
            for m in re.finditer(rf'^{family}{{pid="(\d+)",[^}}]*}} (\S+)$', text, re.M)}


def wait_metrics(addr, cond, what, timeout=PICKUP_S):
    """Polls /metrics until cond(text); returns the text and how long it took."""
    start = time.monotonic()
    text = ""
    while time.monotonic() - start < timeout:
        status, _, text = get(f"http://{addr}/metrics")
        assert status == 200
        if cond(text):
            return text, time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"{what} not within {timeout} s:\n{text}")


def start_nthreads(k):
    p = subprocess.Popen([tp("nthreads"), str(k), "hold"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    return p


@pytest.mark.parametrize("target", [["--all"], ["--binpath", "nthreads"]],
                         ids=["all", "binpath"])
def test_processes_come_and_go(target):
    """Two processes started after rtmon: each appears within 5 s with its own series and its exact
    thread counts; the one that exits disappears, the other stays."""
    if target[0] == "--binpath":
        target = ["--binpath", tp(target[1])]
    tracer = Tracer(["serve", "--listen", "127.0.0.1:0"] + target, ready_timeout=60)
    procs = []
    try:
        addr = serve_addr(tracer)
        procs = [start_nthreads(5), start_nthreads(9)]
        a, b = procs
        wait_metrics(addr, lambda t: {a.pid, b.pid} <= series(t, "rtmon_threads_created_total").keys(),
                     "both processes")
        for p in procs:
            p.stdin.write("\n")
            p.stdin.flush()
        assert a.stdout.readline() == "created 5 joined 5\n"
        assert b.stdout.readline() == "created 9 joined 9\n"

        def counted(t):
            c, e = series(t, "rtmon_threads_created_total"), series(t, "rtmon_threads_exited_total")
            return (c.get(a.pid), e.get(a.pid), c.get(b.pid), e.get(b.pid)) == (5, 5, 9, 9)
        text, _ = wait_metrics(addr, counted, "the exact thread counts")
        promtool_accepts(text)
        exe = tp("nthreads")
        assert f'rtmon_thread_lifetime_seconds_count{{pid="{a.pid}",exe="{exe}",runtime="native"}} 5\n' in text
        assert f'rtmon_thread_lifetime_seconds_count{{pid="{b.pid}",exe="{exe}",runtime="native"}} 9\n' in text
        if target[0] == "--binpath":
            # only the file's processes
            assert set(series(text, "rtmon_threads_created_total")) == {a.pid, b.pid}
        a.stdin.close()
        assert a.wait(10) == 0
        text, _ = wait_metrics(addr, lambda t: a.pid not in series(t, "rtmon_threads_created_total"),
                               "the exited process dropped")
        assert series(text, "rtmon_threads_created_total")[b.pid] == 9
        assert f'pid="{a.pid}"' not in text
        rc, _, err = tracer.stop()
        tracer = None
        assert rc == 0, err
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if tracer:
            tracer.stop()
