"""rtmon serve --malloc-budget PCT: rtmon_malloc_size_bytes and rtmon_malloc_calls_total from rtmon
malloc's collector under its budget. The truth is testprog/alloc.c's known pattern (test_malloc.py's
ONE_ROUND, CALLS, BYTES per round): exact under --malloc-budget 100; under 5 %, estimates that say
so (rtmon_malloc_sampled_ratio < 1), counters that never go back, and the pattern's size buckets."""
import re
import subprocess
import time

import pytest

from conftest import RTMON, Tracer, tp
from test_malloc import ALLOCS, BYTES, CALLS, ONE_ROUND
from test_serve import get, promtool_accepts, serve_addr

LABELS = r'pid="\d+",exe="[^"]*",runtime="native"'


def value(text, name, extra=""):
    m = re.search(rf'^{name}{{{LABELS}{extra}}} (\S+)$', text, re.M)
    return float(m.group(1)) if m else None


def buckets(text):
    """{lo: count} of rtmon_malloc_size_bytes, from its cumulative le buckets (le = 2 * lo)."""
    cum = {int(float(m.group(1))): float(m.group(2)) for m in re.finditer(
        rf'^rtmon_malloc_size_bytes_bucket{{{LABELS},le="([0-9.e+]+)"}} (\S+)$', text, re.M)}
    out, prev = {}, 0
    for le in sorted(cum):
        if cum[le] != prev:
            out[le // 2] = cum[le] - prev
        prev = cum[le]
    return out


def poll(addr, cond, what, timeout=60):
    end = time.monotonic() + timeout
    text = ""
    while time.monotonic() < end:
        status, _, text = get(f"http://{addr}/metrics")
        assert status == 200
        if cond(text):
            return text
        time.sleep(0.1)
    raise AssertionError(f"{what} not within {timeout} s:\n{text}")


def test_budget_100_counts_every_call():
    rounds = 50
    tracer = Tracer(["serve", "--listen", "127.0.0.1:0", "--malloc-budget", "100", "--",
                     tp("alloc"), str(rounds), "0", "w"], stdin=subprocess.PIPE)
    try:
        addr = serve_addr(tracer)
        tracer.write("\n")
        text = poll(addr, lambda t: value(t, "rtmon_malloc_calls_total", ',function="free"')
                    == CALLS["free"] * rounds, "every free counted")
        for fn, n in CALLS.items():
            assert value(text, "rtmon_malloc_calls_total", f',function="{fn}"') == n * rounds, fn
        assert buckets(text) == {lo: n * rounds for lo, n in ONE_ROUND.items()}
        assert value(text, "rtmon_malloc_size_bytes_count") == ALLOCS * rounds
        assert value(text, "rtmon_malloc_size_bytes_sum") == BYTES * rounds
        assert value(text, "rtmon_malloc_sampled_ratio") == 1
        assert value(text, "rtmon_malloc_scale_uncertain") == 0
        assert value(text, "rtmon_probe_hits_total", ',collector="malloc"') == \
            sum(CALLS.values()) * rounds
        promtool_accepts(text)
        tracer.write("\n")
        rc, _, err = tracer.stop()
        assert rc == 0, err
    finally:
        tracer.stop()


def test_budget_5_says_its_counts_are_estimates():
    rounds = 4000
    tracer = Tracer(["serve", "--listen", "127.0.0.1:0", "--malloc-budget", "5", "--",
                     tp("alloc"), str(rounds), "0", "w"], stdin=subprocess.PIPE)
    try:
        addr = serve_addr(tracer)
        tracer.write("\n\n")  # the rounds, then the exit
        seen = []
        while not any("ended; serving its last values" in l for l in tracer.stderr_lines):
            seen.append(get(f"http://{addr}/metrics")[2])
            time.sleep(0.05)
        seen.append(get(f"http://{addr}/metrics")[2])
        last = seen[-1]
        ratio = value(last, "rtmon_malloc_sampled_ratio")
        assert 0 < ratio < 1, ratio
        assert set(buckets(last)) == set(ONE_ROUND)
        hits = value(last, "rtmon_probe_hits_total", ',collector="malloc"')
        assert 0 < hits < sum(CALLS.values()) * rounds  # sampled: not every call was seen
        for fn in ("malloc", "free"):
            series = [value(t, "rtmon_malloc_calls_total", f',function="{fn}"') or 0 for t in seen]
            assert series == sorted(series), fn  # a counter never goes back
            assert series[-1] > 0
        promtool_accepts(last)
        rc, _, err = tracer.stop()
        assert rc == 0, err
    finally:
        tracer.stop()


@pytest.mark.parametrize("args,what", [(["--malloc-budget", "0"], "invalid --malloc-budget '0'"),
                                       (["--malloc-budget", "x5"], "invalid --malloc-budget 'x5'"),
                                       (["--malloc-budget", "5", "--all"], "not with --all"),
                                       (["--malloc-budget", "5", "--binpath", "/bin/true"],
                                        "not with --binpath")])
def test_bad_malloc_budget(args, what):
    r = subprocess.run([RTMON, "serve"] + args, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r.stderr
    assert what in r.stderr and r.stderr.count("\n") == 1, r.stderr
