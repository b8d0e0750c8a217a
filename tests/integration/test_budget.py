"""rtmon malloc --budget PCT: validation, estimates marked as such, the distribution of a steady workload,
and --budget 100 tracing every call. No timing assertions: what the controller achieves in time and CPU
is measured by `make bench` (docs/PERFORMANCE.md)."""
import re
import signal
import subprocess
import time

import pytest

from conftest import Target, Tracer, json_lines, run, tp
from test_malloc import ALLOCS, CALLS, ONE_ROUND, check_rounds, one_line_error, records

# testprog/alloc.c rounds for a run that lasts well beyond the first live window: about 0.2 s untraced,
# seconds if every call were traced.
STEADY_ROUNDS = "4000"


def budget_fields(h):
    assert h["budget_pct"] > 0
    assert isinstance(h["estimated"], bool)
    assert 0 < h["sampled_fraction"] <= 1
    assert 0 <= h["live_fraction"] <= 1  # 0: an interval between two live windows
    assert h["sampled_basis"] in ("live", "runtime", "cpu", "user_cpu", "time")
    assert isinstance(h["mix_uncertain"], bool)
    assert isinstance(h["scale_uncertain"], bool)
    if not h["estimated"]:
        assert h["sampled_fraction"] == 1 and h["sampled_basis"] == "live"


def shares(hist):
    total = sum(b["count"] for b in hist["buckets"])
    return {b["lo"]: b["count"] / total for b in hist["buckets"]}


def tvd(p, q):
    return sum(abs(p.get(k, 0) - q.get(k, 0)) for k in set(p) | set(q)) / 2


@pytest.mark.parametrize("bad", ["0", "-5", "101", "abc", "5x", "", "nan", "inf", "1e999"])
def test_bad_budget_is_a_usage_error(bad):
    one_line_error(["malloc", "--budget", bad, "--", tp("alloc")], "invalid budget", "at most 100", rc=2)


def test_budget_is_only_for_hot_probes():
    """thr, lat and gc probe once per thread or GC cycle: they have no --budget."""
    for cmd in ("thr", "lat"):
        one_line_error([cmd, "--budget", "5", "--", tp("alloc")], "unrecognized option", rc=2)


@pytest.mark.parametrize("probe", ["uprobe_multi", "uprobe"])
def test_budget_100_traces_every_call(probe):
    """100% of the target's CPU may go to the probes: they stay attached, counts are exact."""
    env = {"RTMON_NO_UPROBE_MULTI": "1" if probe == "uprobe" else "0"}
    r = run(["malloc", "--json", "--budget", "100", "--", tp("alloc"), "50"], env=env)
    assert r.returncode == 0, r.stderr
    hists, summary = records(r.stdout)
    assert len(hists) == 1
    check_rounds(hists[0], 50)
    budget_fields(hists[0])
    assert hists[0]["estimated"] is False and hists[0]["sampled_fraction"] == 1
    assert hists[0]["sampled_count"] == ALLOCS * 50
    assert hists[0]["probe"] == probe
    assert summary["budget_pct"] == 100 and summary["estimated"] is False and summary["windows"] == 1
    assert summary["cost_per_hit_ns"] > 0
    r = run(["malloc", "--budget", "100%", "--", tp("alloc")])
    assert r.returncode == 0, r.stderr
    assert "counts are exact" in r.stdout and f"allocations {ALLOCS}, bytes " in r.stdout


@pytest.mark.parametrize("probe", ["uprobe_multi", "uprobe"])
def test_budget_5_estimates_a_steady_distribution(probe):
    """A steady pattern, sampled: marked as estimates, the same buckets as the full trace, and a
    distribution close to it."""
    env = {"RTMON_NO_UPROBE_MULTI": "1" if probe == "uprobe" else "0"}
    r = run(["malloc", "--json", "--budget", "5", "--", tp("alloc"), STEADY_ROUNDS], env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    hists, summary = records(r.stdout)
    assert len(hists) == 1
    h = hists[0]
    budget_fields(h)
    assert h["estimated"] is True and h["sampled_fraction"] < 1 and h["live_fraction"] < 1
    assert 0 < h["sampled_count"] < ALLOCS * int(STEADY_ROUNDS)
    assert summary["estimated"] is True and summary["windows"] >= 1
    assert summary["events"] < (ALLOCS + 563) * int(STEADY_ROUNDS)  # probe hits actually taken
    # The buckets of the full trace, no others, and the same shape within sampling noise.
    assert set(b["lo"] for b in h["buckets"]) == set(ONE_ROUND)
    full = {lo: n / ALLOCS for lo, n in ONE_ROUND.items()}
    assert tvd(shares(h), full) < 0.25, (shares(h), full)
    # Estimates are at least what was seen, and per-function estimates keep the pattern's order.
    assert h["count"] >= h["sampled_count"]
    assert h["calls"]["malloc"] > h["calls"]["calloc"]


def test_budget_text_marks_estimates():
    r = run(["malloc", "--budget", "5", "--", tp("alloc"), STEADY_ROUNDS], timeout=60)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "counts are estimates (~)" in out
    assert "sampled " in out and "% of the time" in out
    row = [l for l in out.splitlines() if l.strip().startswith("4096 -> 8191")]
    assert len(row) == 1 and row[0].split(":")[1].split()[0].startswith("~")
    assert "allocations ~" in out and "frees ~" in out and "malloc ~" in out
    assert re.search(r"probe hits in [0-9.]+ s \([0-9]+ live windows?, ", out)  # the summary line


def test_budget_pid_intervals_and_signal():
    """-p with -i: every interval is marked, and SIGINT still gives the final report."""
    target = Target(tp("alloc"), "100000")
    try:
        tracer = Tracer(["malloc", "--json", "--budget", "5", "-i", "0.3", "-p", str(target.pid)])
        target.go()
        time.sleep(1.5)
        rc, out, err = tracer.stop(signal.SIGINT)
        assert rc == 0, err
        lines = json_lines(out)
        hists = [o for o in lines if o["type"] == "hist"]
        assert len(hists) >= 2
        for h in hists:
            budget_fields(h)
        assert any(h["estimated"] for h in hists)
        assert lines[-1]["type"] == "summary" and lines[-1]["end"] == "signal"
    finally:
        target.kill()


def test_budget_binpath():
    """--binpath: the target's CPU is summed over the processes running the executable."""
    tracer = Tracer(["malloc", "--json", "--budget", "5", "--binpath", tp("alloc-nopie")])
    try:
        subprocess.run([tp("alloc-nopie"), STEADY_ROUNDS], stdin=subprocess.DEVNULL, check=True, timeout=60)
    finally:
        rc, out, err = tracer.stop(signal.SIGTERM)
    assert rc == 0, err
    hists, summary = records(out)
    budget_fields(hists[0])
    assert hists[0]["estimated"] is True
    assert set(b["lo"] for b in hists[0]["buckets"]) == set(ONE_ROUND)


def test_budget_go():
    """Go mode: the size-class object carries the same marks."""
    r = run(["malloc", "--json", "--budget", "5", "--", tp("go/gomalloc"), "3"], timeout=60)
    assert r.returncode == 0, r.stderr
    lines = json_lines(r.stdout)
    hist = [o for o in lines if o["type"] == "hist"][0]
    classes = [o for o in lines if o["type"] == "size_classes"][0]
    budget_fields(hist)
    budget_fields(classes)
    assert hist["runtime"] == "go" and hist["calls"] == {"mallocgc": hist["count"]}
    assert classes["estimated"] == hist["estimated"]
    assert lines[-1]["type"] == "summary" and lines[-1]["target_exit"] == 0


# testprog/go/gobudget: the runtime's own count of the work's allocations (MemStats.Mallocs delta),
# the program's count of them and the bytes it asked for. Its collector runs (unprobed background
# workers), so the target's CPU time is not proportional to its allocations: the estimate is scaled
# by the runtime's own count of the allocations made while the probes were attached.
GOBUDGET = {"steady": "300000", "phased": "2"}


def gobudget_truth(text):
    m = re.search(r"mallocs (\d+) count (\d+) bytes (\d+)", text)
    assert m, text
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def within(x, truth, tol=0.10):
    return abs(x / truth - 1) <= tol


@pytest.mark.parametrize("workload", ["steady", "phased"])
def test_budget_go_estimates_equal_memstats(workload):
    """--budget 5 on Go: the count within 10% of MemStats.Mallocs and the mean size within 10% of
    the program's own, on a steady workload and on one with phases of small, of large and of no
    allocations (where the duty cycle samples the phases unevenly)."""
    target = Target(tp("go/gobudget"), workload, GOBUDGET[workload])
    try:
        tracer = Tracer(["malloc", "--json", "--budget", "5", "-p", str(target.pid)])
        target.go()
        out, _ = target.proc.communicate(timeout=60)
        assert target.proc.returncode == 0
        mallocs, count, nbytes = gobudget_truth(out.decode())
        rc, out, err = tracer.wait()
        assert rc == 0, err
    finally:
        target.kill()
    hists, summary = records(out)
    h = hists[-1]
    budget_fields(h)
    assert h["estimated"] is True and h["sampled_basis"] == "runtime", h
    assert h["scale_uncertain"] is False  # the runtime's count is no guess
    assert h["sampled_count"] < mallocs  # sampled, not traced
    assert within(h["count"], mallocs), (h["count"], mallocs)
    assert within(h["sum"] / h["count"], nbytes / count), (h["sum"] / h["count"], nbytes / count)
    assert isinstance(h["mix_uncertain"], bool) and h["mix_ratio"] > 0
    assert h["mix_uncertain"] == (abs(h["mix_ratio"] - 1) > 0.1)
    assert summary["sampled_basis"] == "runtime" and summary["cost_target_x"] >= 1


def test_budget_go_cmd_text():
    """-- CMD: the runtime's count is read from the exec on; the text names it as the basis, and a
    mix that differed says the distribution is the windows'."""
    r = run(["malloc", "--budget", "5", "--", tp("go/gobudget"), "phased", GOBUDGET["phased"]], timeout=60)
    assert r.returncode == 0, r.stderr
    mallocs, count, nbytes = gobudget_truth(r.stdout + r.stderr)
    assert "the target's own allocations (the Go runtime's count, MemStats.Mallocs" in r.stdout
    assert "uncertain" not in r.stdout.replace("mix", "")
    m = re.search(r"^allocations ~(\d+), ", r.stdout, re.M)
    assert m and within(int(m.group(1)), mallocs), (r.stdout, mallocs)
    mixed = re.search(r"were ([0-9.e+]+)x the size of the rest on average: the size distribution "
                      r"above is theirs, not the whole run's", r.stdout)
    jr = run(["malloc", "--json", "--budget", "5", "--", tp("go/gobudget"), "steady", GOBUDGET["steady"]],
             timeout=60)
    assert jr.returncode == 0, jr.stderr
    mallocs, _, _ = gobudget_truth(jr.stderr)
    h = records(jr.stdout)[0][-1]
    assert h["sampled_basis"] == "runtime" and within(h["count"], mallocs), (h["count"], mallocs)
    if mixed:
        assert abs(float(mixed.group(1)) - 1) > 0.1


def test_budget_c_estimate_or_uncertain():
    """C (testprog/alloc, whose calls are known exactly): within 10% of the true count where the
    scale is not flagged uncertain; where it is, the text says so."""
    rounds = int(STEADY_ROUNDS)
    for _ in range(2):
        r = run(["malloc", "--json", "--budget", "5", "--", tp("alloc"), STEADY_ROUNDS], timeout=60)
        assert r.returncode == 0, r.stderr
        h = records(r.stdout)[0][0]
        budget_fields(h)
        assert h["sampled_basis"] != "runtime"
        if not h["scale_uncertain"]:
            assert within(h["count"], ALLOCS * rounds), (h["count"], ALLOCS * rounds)
    t = run(["malloc", "--budget", "5", "--", tp("alloc"), STEADY_ROUNDS], timeout=60)
    assert t.returncode == 0, t.stderr
    m = re.search(r"^allocations ~(\d+), ", t.stdout, re.M)
    assert m
    if "the scale of these counts is uncertain" not in t.stdout:
        assert within(int(m.group(1)), ALLOCS * rounds), (t.stdout, ALLOCS * rounds)


def test_budget_go_intervals_add_up():
    """-i on Go: intervals between two live windows get the run's rate; together they equal the
    runtime's count of the work's allocations within 10%."""
    target = Target(tp("go/gobudget"), "phased", GOBUDGET["phased"])
    try:
        tracer = Tracer(["malloc", "--json", "--budget", "5", "-i", "0.3", "-p", str(target.pid)])
        target.go()
        out, _ = target.proc.communicate(timeout=60)
        assert target.proc.returncode == 0
        mallocs, _, _ = gobudget_truth(out.decode())
        rc, out, err = tracer.wait()
        assert rc == 0, err
    finally:
        target.kill()
    hists, _ = records(out)
    assert len(hists) >= 3
    for h in hists:
        budget_fields(h)
    assert any(h["sampled_basis"] == "runtime" for h in hists)
    total = sum(h["count"] for h in hists)
    assert within(total, mallocs), (total, mallocs)
