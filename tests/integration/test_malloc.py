"""rtmon malloc against testprog/alloc.c's known pattern: exact counts per log2 bucket."""
import os
import signal
import subprocess
import time

import pytest

from conftest import RTMON, Target, Tracer, json_lines, run, tp

# testprog/alloc.c, one round: {bucket lower bound: allocating calls}.
ONE_ROUND = {8: 10, 16: 20, 32: 30, 64: 47, 128: 50, 256: 65, 512: 73, 1024: 80, 2048: 92, 4096: 101}
ALLOCS, FREES = 568, 563
BYTES = sum((k - 2) * 10 * (1 << k) for k in range(3, 13)) + 7 * 100 + 5 * 300 + 3 * 1000 + 2 * 2048 + 5000
CALLS = {"malloc": 550, "calloc": 7, "realloc": 5, "aligned_alloc": 2, "posix_memalign": 3, "valloc": 1,
         "pvalloc": 0, "free": 563}


def buckets(hist):
    return {b["lo"]: b["count"] for b in hist["buckets"]}


def check_rounds(hist, rounds):
    assert buckets(hist) == {lo: n * rounds for lo, n in ONE_ROUND.items()}
    for b in hist["buckets"]:
        assert b["hi"] == (1 if b["lo"] == 0 else 2 * b["lo"] - 1)
    assert hist["count"] == ALLOCS * rounds
    assert hist["sum"] == BYTES * rounds
    assert hist["frees"] == FREES * rounds
    assert hist["calls"] == {k: v * rounds for k, v in CALLS.items()}
    # The extremes of the requests (malloc(8), valloc(5000)) bound the percentiles: the p99 falls
    # in the bucket 4096..8191, whose interpolation alone would give about 7,900.
    assert (hist["min"], hist["max"]) == (8, 5000)
    assert 8 <= hist["p50"] <= hist["p99"] <= 5000


def records(out):
    lines = json_lines(out)
    hists = [o for o in lines if o["type"] == "hist"]
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["lost"] == 0
    return hists, summary


@pytest.mark.parametrize("variant", ["alloc", "alloc-nopie", "alloc-stripped"])
def test_command_exact_buckets(variant):
    """-- CMD traces from the first instruction: a dynamic program allocates nothing before main."""
    r = run(["malloc", "--json", "--", tp(variant), "2"])
    assert r.returncode == 0, r.stderr
    hists, summary = records(r.stdout)
    assert len(hists) == 1
    check_rounds(hists[0], 2)
    assert hists[0]["allocator"].endswith("libc.so.6")
    assert summary["end"] == "target-exit" and summary["target_exit"] == 0
    assert summary["events"] == (ALLOCS + FREES) * 2


@pytest.mark.parametrize("probe", ["uprobe_multi", "uprobe"])
def test_both_probe_kinds_count_the_same(probe):
    """uprobe_multi links (one for all functions) and classic uprobes (one per function) give the same
    exact counts, for -- CMD and for a threaded -p target."""
    env = {"RTMON_NO_UPROBE_MULTI": "1" if probe == "uprobe" else "0"}
    r = run(["malloc", "--json", "--", tp("alloc"), "3"], env=env)
    assert r.returncode == 0, r.stderr
    hists, _ = records(r.stdout)
    check_rounds(hists[0], 3)
    assert hists[0]["probe"] == probe
    target = Target(tp("alloc"), "1", "3")
    try:
        tracer = Tracer(["malloc", "--json", "-p", str(target.pid)], env=env)
        target.go()
        assert target.wait() == 0
        rc, out, err = tracer.wait()
        assert rc == 0, err
        hists, _ = records(out)
        assert hists[0]["calls"]["malloc"] == CALLS["malloc"] * 3
        assert hists[0]["probe"] == probe
    finally:
        target.kill()


def test_full_kernel_btf_fallback():
    """Off the build kernel (forced here), rtmon relocates against the running kernel's full BTF."""
    r = run(["malloc", "--json", "-v", "--", tp("alloc")], env={"RTMON_NO_MIN_BTF": "1"})
    assert r.returncode == 0, r.stderr
    check_rounds(records(r.stdout)[0][0], 1)
    assert "loading kernel BTF '/sys/kernel/btf/vmlinux'" in r.stderr  # libbpf's debug log
    r = run(["malloc", "--json", "-v", "--", tp("alloc")])
    check_rounds(records(r.stdout)[0][0], 1)
    # On the build kernel the cut BTF serves the CO-RE relocations: the 5.5 MB one is never read.
    assert "CO-RE relocating" in r.stderr
    assert "loading kernel BTF" not in r.stderr


@pytest.mark.parametrize("variant", ["alloc", "alloc-static", "alloc-nopie", "alloc-stripped"])
def test_pid_exact_buckets(variant):
    """-p attaches to a running process; static glibc's start-up allocations happen before the gate."""
    target = Target(tp(variant))
    try:
        tracer = Tracer(["malloc", "--json", "-p", str(target.pid)])
        target.go()
        assert target.wait() == 0
        rc, out, err = tracer.wait()  # the traced PID exited: final output, exit 0
        assert rc == 0, err
        hists, summary = records(out)
        check_rounds(hists[0], 1)
        assert hists[0]["pid"] == target.pid
        assert summary["end"] == "target-exit"
        if variant == "alloc-static":
            assert hists[0]["allocator"] == f"/proc/{target.pid}/exe"
    finally:
        target.kill()


def test_binpath_counts_later_processes_only_of_that_binary():
    """--binpath filters in BPF by the executable: two runs of alloc started after rtmon count, a
    concurrent alloc-nopie (same libc, other binary) does not."""
    tracer = Tracer(["malloc", "--json", "--binpath", tp("alloc")])
    try:
        others = [subprocess.Popen([tp("alloc-nopie"), "3"], stdin=subprocess.DEVNULL) for _ in range(2)]
        for _ in range(2):
            subprocess.run([tp("alloc"), "1"], stdin=subprocess.DEVNULL, check=True)
        for o in others:
            assert o.wait() == 0
    finally:
        rc, out, err = tracer.stop(signal.SIGTERM)
    assert rc == 0, err
    hists, summary = records(out)
    check_rounds(hists[0], 2)
    assert hists[0]["pid"] is None
    assert summary["end"] == "signal"


def test_pid_ignores_other_process_of_same_binary():
    target = Target(tp("alloc"))
    other = Target(tp("alloc"), "4")
    try:
        tracer = Tracer(["malloc", "--json", "-p", str(target.pid)])
        other.go()
        target.go()
        assert target.wait() == 0 and other.wait() == 0
        rc, out, err = tracer.wait()
        assert rc == 0, err
        hists, _ = records(out)
        check_rounds(hists[0], 1)
    finally:
        target.kill()
        other.kill()


def test_pid_counts_every_thread():
    """A PID-targeted uprobe covers all threads of the process, including ones created after attach."""
    target = Target(tp("alloc"), "2", "4")
    try:
        tracer = Tracer(["malloc", "--json", "-p", str(target.pid)])
        target.go()
        assert target.wait() == 0
        rc, out, err = tracer.wait()
        assert rc == 0, err
        hists, _ = records(out)
        calls = hists[0]["calls"]
        assert calls["malloc"] == CALLS["malloc"] * 8
        assert calls["calloc"] == CALLS["calloc"] * 8 + 4  # + one TLS vector per pthread_create
        assert calls["posix_memalign"] == CALLS["posix_memalign"] * 8
        assert hists[0]["count"] == ALLOCS * 8 + 4
    finally:
        target.kill()


def test_text_output_names_target_and_totals():
    r = run(["malloc", "--", tp("alloc")])
    assert r.returncode == 0, r.stderr
    assert "Tracing allocations in " in r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"Allocation sizes in {tp('alloc')}")
    row = [l for l in lines if l.strip().startswith("4096 -> 8191")]
    assert len(row) == 1 and row[0].split(":")[1].split()[0] == "101"
    # Text gives sizes in binary units (JSON the integers): 751,656 bytes are 734.0 KiB.
    assert f"allocations {ALLOCS}, bytes {BYTES / 1024:.1f} KiB," in r.stdout
    assert ", min 8 B, max 4.9 KiB, frees " in r.stdout
    assert f"frees {FREES}" in r.stdout
    assert "memalign/aligned_alloc" not in r.stdout  # aliases are named under the first name
    assert "aligned_alloc/memalign 2" in r.stdout
    assert "exited with status 0" in r.stdout


def test_nothing_seen_is_said():
    """A run that sees no allocation says so instead of printing an empty table."""
    tracer = Tracer(["malloc", "-d", "0.3", "--binpath", tp("alloc")])
    rc, out, err = tracer.wait()
    assert rc == 0, err
    assert "no allocation calls seen" in out


def test_interval_reports_and_resets():
    """-i prints per-interval deltas: the rounds spread over intervals add up to the total exactly."""
    target = Target(tp("alloc"), "5")
    try:
        tracer = Tracer(["malloc", "--json", "-i", "0.2", "-p", str(target.pid)])
        time.sleep(0.5)  # at least one empty interval first
        target.go()
        assert target.wait() == 0
        rc, out, err = tracer.wait()
        assert rc == 0, err
        hists, _ = records(out)
        assert len(hists) >= 2
        assert [h["interval"] for h in hists] == list(range(1, len(hists) + 1))
        assert sum(h["count"] for h in hists) == ALLOCS * 5
        assert hists[0]["count"] == 0
    finally:
        target.kill()


def test_duration_ends_tracing():
    t0 = time.monotonic()
    tracer = Tracer(["malloc", "--json", "-d", "0.5", "--binpath", tp("alloc")])
    rc, out, _ = tracer.wait()
    assert rc == 0
    assert 0.4 < time.monotonic() - t0 < 5
    assert json_lines(out)[-1]["end"] == "duration"


def test_static_stripped_has_no_allocator_symbols(tmp_path):
    exe = tmp_path / "alloc-static-stripped"
    subprocess.run(["strip", "-o", str(exe), tp("alloc-static")], check=True)
    r = run(["malloc", "--binpath", str(exe)])
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "static and stripped" in r.stderr


def one_line_error(args, *needles, rc=None):
    t0 = time.monotonic()
    r = run(args, timeout=10)
    assert time.monotonic() - t0 < 1.0, "bad input must be refused within a second"
    assert r.returncode != 0 and (rc is None or r.returncode == rc)
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1, r.stderr
    for n in needles:
        assert n in r.stderr, r.stderr
    return r


def test_bad_binpaths(tmp_path):
    one_line_error(["malloc", "-b", "/nonexistent/app"], "does not exist")
    one_line_error(["malloc", "-b", str(tmp_path)], "is a directory")
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    one_line_error(["malloc", "-b", str(text)], "not an ELF file")
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\necho hi\n")
    one_line_error(["malloc", "-b", str(script)], "is a script run by /bin/sh: trace --binpath /bin/sh")
    trunc = tmp_path / "trunc"
    trunc.write_bytes(open(tp("alloc"), "rb").read()[:3000])
    one_line_error(["malloc", "-b", str(trunc)], "truncated")


def test_no_allocator(tmp_path):
    """A static program that never links malloc in: nothing to probe."""
    src = tmp_path / "noalloc.c"
    src.write_text("#include <unistd.h>\nint main(void){ return write(1, \"\", 0); }\n")
    exe = tmp_path / "noalloc"
    subprocess.run(["cc", "-static", "-nostartfiles", "-nostdlib", "-o", str(exe), "-x", "c", "-",
                    "-Wl,-e,main"], input="int main(void){for(;;);}\n", text=True, check=True)
    one_line_error(["malloc", "-b", str(exe)], "no allocator")


def test_bad_pid_and_options():
    one_line_error(["malloc", "-p", "99999999999"], "invalid PID")
    one_line_error(["malloc", "-p", "4194000"], "no process with PID 4194000")
    one_line_error(["malloc", "-p", "abc"], "invalid PID 'abc'", rc=2)
    one_line_error(["malloc", "-d", "soon", "--", "true"], "invalid duration", rc=2)
    one_line_error(["malloc", "-i", "0", "--", "true"], "invalid interval", rc=2)
    one_line_error(["malloc", "--frobnicate"], "unrecognized option", rc=2)
    one_line_error(["frobnicate"], "unknown command", rc=2)
    one_line_error(["malloc"], "no target", rc=2)
    one_line_error(["malloc", "-p", "1", "-b", "/bin/ls"], "more than one target", rc=2)
    one_line_error(["malloc", "--", "no-such-command-here"], "command not found")


def test_not_root_is_refused():
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", RTMON, "malloc",
                        "-b", "/bin/ls"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "needs root" in r.stderr


def test_help_has_examples():
    r = run(["malloc", "--help"])
    assert r.returncode == 0
    assert "--binpath" in r.stdout and "Examples:" in r.stdout
    r = run(["--help"])
    assert r.returncode == 0 and "malloc" in r.stdout


# testprog/alloc.c's mode k leaves 10 blocks a round allocated: 5 x realloc(300), malloc(4096),
# calloc(4, 25), posix_memalign(1000), aligned_alloc(2048), valloc(5000).
LIVE_ALLOCS, LIVE_BYTES = 10, 5 * 300 + 4096 + 100 + 1000 + 2048 + 5000


@pytest.mark.parametrize("probe", ["uprobe_multi", "uprobe"])
def test_live_counts_blocks_not_freed(probe):
    """--live: return probes on every allocating function put each block in a table; free and realloc
    take it out. Exact for -- CMD and for a -p target that frees memory allocated before rtmon attached
    (mode p: 9 such frees, counted apart and not subtracted)."""
    env = {"RTMON_NO_UPROBE_MULTI": "1" if probe == "uprobe" else "0"}
    r = run(["malloc", "--live", "--json", "--", tp("alloc"), "3", "0", "k"], env=env)
    assert r.returncode == 0, r.stderr
    hists, summary = records(r.stdout)
    h = hists[0]
    assert h["probe"] == probe
    assert (h["live_allocs"], h["live_bytes"]) == (LIVE_ALLOCS * 3, LIVE_BYTES * 3)
    assert h["frees_untracked"] == 0 and h["live_table_full"] == 0
    assert h["count"] == ALLOCS * 3 and h["frees"] == (FREES - LIVE_ALLOCS) * 3
    target = Target(tp("alloc"), "2", "0", "kp")
    try:
        tracer = Tracer(["malloc", "--live", "--json", "-p", str(target.pid)], env=env)
        target.go()
        assert target.wait() == 0
        rc, out, err = tracer.wait()
        assert rc == 0, err
        h = records(out)[0][0]
        assert (h["live_allocs"], h["live_bytes"]) == (LIVE_ALLOCS * 2, LIVE_BYTES * 2)
        assert h["frees_untracked"] == 9
        assert h["frees"] == (FREES - LIVE_ALLOCS) * 2 + 9
    finally:
        target.kill()


def test_live_all_freed_is_zero_and_text():
    """alloc.c's plain pattern frees everything (realloc releases its old blocks itself): live 0."""
    r = run(["malloc", "--live", "--", tp("alloc"), "2"])
    assert r.returncode == 0, r.stderr
    assert "live: 0 allocations, 0 bytes (allocated while tracing and not freed)" in r.stdout
    assert "frees of memory allocated before tracing" not in r.stdout
    r = run(["malloc", "--live", "--", tp("alloc"), "1", "0", "k"])
    assert f"live: {LIVE_ALLOCS} allocations, {LIVE_BYTES} bytes" in r.stdout
    r = run(["malloc", "--json", "--", tp("alloc")])  # without --live: no live fields
    assert "live_allocs" not in records(r.stdout)[0][0]


def test_live_interval_is_a_level():
    """With -i, live figures are what is allocated at the report, not a per-interval delta: an interval
    without allocations still shows the blocks kept earlier."""
    target = Target(tp("alloc"), "2", "0", "kw")
    try:
        tracer = Tracer(["malloc", "--live", "--json", "-i", "0.1", "-p", str(target.pid)])
        target.go()
        time.sleep(1.0)  # the rounds take milliseconds; several intervals pass afterwards
        target.go()
        assert target.wait() == 0
        rc, out, err = tracer.wait()
        assert rc == 0, err
        hists, _ = records(out)
        assert sum(h["count"] for h in hists) == ALLOCS * 2
        quiet_after = [h for h in hists if h["count"] == 0 and h["live_allocs"]]
        assert quiet_after and all(h["live_allocs"] == LIVE_ALLOCS * 2 and h["live_bytes"] == LIVE_BYTES * 2
                                   for h in quiet_after)
        assert hists[-1]["live_allocs"] == LIVE_ALLOCS * 2
    finally:
        target.kill()


def test_live_refusals():
    r = run(["malloc", "--live", "--budget", "5", "--", tp("alloc")])
    assert r.returncode == 2
    assert "--live cannot be used with --budget" in r.stderr and len(r.stderr.splitlines()) == 1
    r = run(["malloc", "--live", "--", tp("go/gomalloc")])
    assert r.returncode == 2
    assert "Go program" in r.stderr and "rtmon gc" in r.stderr and len(r.stderr.splitlines()) == 1
    assert r.stdout == ""
