"""rtmon lat against testprog/threads.c's known lifetimes and testprog/churn.c: exact counts per log2
bucket, per start routine with --by-start, -i deltas that add up."""
import re
import time

import pytest

from conftest import Target, Tracer, json_lines, run, tp

# testprog/threads.c: start routine -> (threads, shortest possible lifetime in us). A sleep never ends
# early, so a lifetime is at least that; how much longer depends on scheduling, and on a loaded machine
# (or a descheduled virtual CPU) a thread can land one bucket higher. So the buckets are checked exactly
# against rtmon thr's per-thread lifetimes of the same run (test_agrees_with_thr), and elsewhere only
# from below.
THREADS = {
    "joined_worker": (3, 36000),
    "detached_worker": (2, 18000),
    "exiting_worker": (2, 18000),
    "cancelled_worker": (2, 70000),
    "lingering_worker": (2, 70000),
}


def bucket_lo(us):
    return 0 if us < 2 else 1 << (int(us).bit_length() - 1)


def buckets(hist):
    return {b["lo"]: b["count"] for b in hist["buckets"]}


def split(out):
    lines = json_lines(out)
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["command"] == "lat"
    hists = [o for o in lines if o["type"] == "hist"]
    for h in hists:
        assert h["name"] == "thread_lifetime" and h["unit"] == "us"
    return hists, summary


def check_by_start(hists, runs=1):
    """One histogram per start routine, each with its exact thread count, none below its floor."""
    assert {h["start"]: h["count"] for h in hists} == {k: n * runs for k, (n, _) in THREADS.items()}
    for h in hists:
        assert sum(buckets(h).values()) == h["count"]
        assert min(buckets(h)) >= bucket_lo(THREADS[h["start"]][1]), h


def check_summary(summary, created=11, exited=12):
    assert summary["created"] == created and summary["exited"] == exited
    assert summary["exited_unknown_lifetime"] == 1  # the main thread
    assert summary["lost"] == 0


@pytest.mark.parametrize("variant", ["threads", "threads-static"])
def test_command_exact_buckets(variant):
    r = run(["lat", "--json", "--", tp(variant)])
    assert r.returncode == 0, r.stderr
    hists, summary = split(r.stdout)
    assert len(hists) == 1
    h = hists[0]
    assert sum(buckets(h).values()) == 11
    assert min(buckets(h)) >= bucket_lo(min(us for _, us in THREADS.values()))
    assert h["count"] == 11
    assert 16384 <= h["p50"] < 131072 and 65536 <= h["p99"] < 131072
    assert 16384 < h["mean"] < 131072
    assert "start" not in h
    check_summary(summary)
    assert summary["target_exit"] == 0


@pytest.mark.parametrize("variant", ["threads", "threads-nopie", "threads-static"])
def test_by_start_exact_buckets(variant):
    r = run(["lat", "--json", "--by-start", "--", tp(variant)])
    assert r.returncode == 0, r.stderr
    hists, summary = split(r.stdout)
    check_by_start(hists)
    check_summary(summary)


def test_by_start_text():
    r = run(["lat", "--by-start", "--", tp("threads")])
    assert r.returncode == 0, r.stderr
    for name in THREADS:
        assert f"start routine: {name}\n" in r.stdout
    joined = r.stdout.split("start routine: joined_worker\n")[1].split("start routine:")[0]
    rows = [re.fullmatch(r"\s*(\d+) -> (\d+)\s*: (\d+)\s+\|[* ]+\|", l) for l in joined.splitlines()[1:]]
    rows = [tuple(map(int, m.groups())) for m in rows if m]
    assert sum(n for _, _, n in rows) == 3
    assert all(lo >= 32768 for lo, _, n in rows if n)
    assert "threads 3, mean " in joined
    assert "1 exit of a thread not seen created" in r.stdout


def test_agrees_with_thr():
    """lat's kernel-side histograms hold exactly the log2 buckets of the lifetimes rtmon thr reports
    thread by thread for the same run, whatever the machine's load made them."""
    target = Target(tp("threads"))
    try:
        lat = Tracer(["lat", "--json", "--by-start", "-p", str(target.pid)])
        thr = Tracer(["thr", "--json", "-p", str(target.pid)])
        target.go()
        assert target.wait() == 0
        (lat_rc, lat_out, lat_err), (thr_rc, thr_out, thr_err) = lat.wait(), thr.wait()
        assert lat_rc == 0, lat_err
        assert thr_rc == 0, thr_err
    finally:
        target.kill()
    hists, summary = split(lat_out)
    check_by_start(hists)
    check_summary(summary)
    exits = [o for o in json_lines(thr_out) if o["type"] == "thread" and o["event"] == "exit"
             and o["lifetime_ns"] is not None]
    expected = {}
    for e in exits:
        assert e["lifetime_ns"] >= THREADS[e["start"]][1] * 1000, e
        lo = bucket_lo(e["lifetime_ns"] // 1000)
        expected.setdefault(e["start"], {}).setdefault(lo, 0)
        expected[e["start"]][lo] += 1
    assert {h["start"]: buckets(h) for h in hists} == expected
    # Percentiles stay within the extremes the kernel kept, and those are the run's: thr's own
    # lifetimes of the same threads (its timestamps are its own, so microseconds apart).
    for h in hists:
        lives = [e["lifetime_ns"] / 1000 for e in exits if e["start"] == h["start"]]
        assert h["min"] <= h["p50"] <= h["p99"] <= h["max"], h
        assert abs(h["min"] - min(lives)) < 500 and abs(h["max"] - max(lives)) < 500, (h, lives)


def test_churn_10000():
    r = run(["lat", "--json", "--by-start", "--", tp("churn"), "10000"], timeout=120)
    assert r.returncode == 0, r.stderr
    hists, summary = split(r.stdout)
    assert len(hists) == 1 and hists[0]["start"] == "churn_worker"
    assert hists[0]["count"] == 10000
    check_summary(summary, 10000, 10001)


def test_interval_deltas_add_up():
    """-i prints and resets: the interval histograms sum to every thread exactly once. The target is
    held at its gate for several intervals first, so there are always at least two intervals whatever
    the machine's speed, and the first ones are empty."""
    target = Target(tp("churn"), "3000")
    try:
        tracer = Tracer(["lat", "--json", "-i", "0.05", "-p", str(target.pid)])
        time.sleep(0.3)
        target.go()
        assert target.wait() == 0
        rc, out, err = tracer.wait()
        assert rc == 0, err
    finally:
        target.kill()
    hists, summary = split(out)
    assert len(hists) >= 2
    assert [h["interval"] for h in hists] == list(range(1, len(hists) + 1))
    assert hists[0]["count"] == 0
    assert sum(h["count"] for h in hists) == 3000
    check_summary(summary, 3000, 3001)


def test_pid_and_other_process_not_counted():
    target = Target(tp("threads"))
    other = Target(tp("churn"), "500")
    try:
        tracer = Tracer(["lat", "--json", "--by-start", "-p", str(target.pid)])
        other.go()
        target.go()
        assert target.wait() == 0 and other.wait() == 0
        rc, out, err = tracer.wait()
        assert rc == 0, err
        hists, summary = split(out)
        check_by_start(hists)
        assert all(h["pid"] == target.pid for h in hists)
        check_summary(summary)
    finally:
        target.kill()
        other.kill()


def test_binpath_two_processes_merge_by_start():
    """Two processes of one PIE binary load it at different addresses: --by-start still gives one
    histogram per start routine, with both processes' threads."""
    tracer = Tracer(["lat", "--json", "--by-start", "--binpath", tp("threads")])
    try:
        a, b = Target(tp("threads")), Target(tp("threads"))
        a.go()
        b.go()
        assert a.wait() == 0 and b.wait() == 0
    finally:
        rc, out, err = tracer.stop()
    assert rc == 0, err
    hists, summary = split(out)
    check_by_start(hists, runs=2)
    assert all(h["pid"] is None for h in hists)
    assert summary["created"] == 22 and summary["exited"] == 24 and summary["lost"] == 0


def test_help_has_examples():
    r = run(["lat", "--help"])
    assert r.returncode == 0
    assert "--by-start" in r.stdout and "Examples:" in r.stdout


@pytest.mark.parametrize("args, needle", [
    (["--binpath", "/nonexistent/app"], "does not exist"),
    (["-p", "2147483647"], "no process with PID"),
    (["-i", "0"], "invalid interval"),
    (["--by-start"], "no target"),
])
def test_bad_input_one_line(args, needle):
    r = run(["lat"] + args)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert needle in lines[0]
    assert r.stdout == ""


def test_pid_threads_started_before_tracing_counted():
    """lat -p: the lifetimes of threads that started before tracing (from the kernel's start time)
    are in the histogram: exactly the 4 of testprog/prethreads, between its own bounds (issue 14,
    item 8)."""
    from test_thr import prethreads_run

    out, bounds = prethreads_run(["lat", "--json"])
    lines = json_lines(out)
    hist = [o for o in lines if o["type"] == "hist" and o["name"] == "thread_lifetime"]
    assert len(hist) == 1 and hist[0]["count"] == 4, hist
    lo = min(b[0] for b in bounds.values()) / 1000
    hi = max(b[1] for b in bounds.values()) / 1000
    assert lo <= hist[0]["min"] <= hist[0]["max"] <= hi, (hist[0], bounds)
    summary = lines[-1]
    assert summary["exited_before_tracing"] == 4 and summary["exited_unknown_lifetime"] == 1
