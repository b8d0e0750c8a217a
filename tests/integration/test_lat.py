"""rtmon lat against testprog/threads.c's known lifetimes and testprog/churn.c: exact counts per log2
bucket, per start routine with --by-start, -i deltas that add up."""
import time

import pytest

from conftest import Target, Tracer, json_lines, run, tp

# testprog/threads.c: start routine -> {bucket lower bound (us): threads}.
BY_START = {
    "joined_worker": {32768: 3},
    "detached_worker": {16384: 2},
    "exiting_worker": {16384: 2},
    "cancelled_worker": {65536: 2},
    "lingering_worker": {65536: 2},
}
ALL = {16384: 4, 32768: 3, 65536: 4}


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
    assert buckets(h) == ALL
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
    assert {h["start"]: buckets(h) for h in hists} == BY_START
    for h in hists:
        assert h["count"] == sum(BY_START[h["start"]].values())
    check_summary(summary)


def test_by_start_text():
    r = run(["lat", "--by-start", "--", tp("threads")])
    assert r.returncode == 0, r.stderr
    for name in BY_START:
        assert f"start routine: {name}\n" in r.stdout
    assert "32768 -> 65535  : 3" in r.stdout or "32768 -> 65535 : 3" in r.stdout
    assert "threads 3, mean " in r.stdout
    assert "1 exit of a thread not seen created" in r.stdout


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
        assert {h["start"]: buckets(h) for h in hists} == BY_START
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
    assert {h["start"]: buckets(h) for h in hists} == {
        k: {lo: 2 * n for lo, n in v.items()} for k, v in BY_START.items()}
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
