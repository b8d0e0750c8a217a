"""rtmon malloc on a program whose allocator is preloaded (testprog/lib/tpmalloc.c: an arena of its
own, so libc's malloc never sees a call): the preloaded library is probed, with -p (its environment
read from /proc/PID/environ, its libraries taken in the loader's order and checked against its maps)
and with -- env LD_PRELOAD=... (env read as the program it runs). testprog/alloc.c's pattern gives
the exact counts, and the library's own count of its calls agrees."""
import os
import tempfile

from conftest import Target, json_lines, run, tp, trace_gated

# testprog/alloc.c, one round; the library defines memalign apart from aligned_alloc (glibc aliases
# them), so its calls are listed under their own names.
CALLS = {"malloc": 550, "calloc": 7, "realloc": 5, "aligned_alloc": 2, "posix_memalign": 3,
         "memalign": 0, "valloc": 1, "pvalloc": 0, "free": 563}
LIB = "libtpmalloc.so"


def library_counts(path):
    """The calls the library saw after the program's gate, from its TPMALLOC_REPORT file."""
    with open(path) as f:
        first = f.readline().split()
    return {k: int(v) for k, v in (x.split("=") for x in first)}


def hist_of(out):
    lines = json_lines(out)
    hists = [o for o in lines if o["type"] == "hist"]
    assert len(hists) == 1, lines
    assert lines[-1]["type"] == "summary" and lines[-1]["lost"] == 0
    return hists[0], lines[-1]


def trace_pid(env):
    target = Target(tp("alloc"), env=env)
    out, _ = trace_gated(target, ["malloc", "--json"])
    return target.pid, out


def test_pid_probes_the_preloaded_allocator():
    """The audit's case: a -p process with an LD_PRELOAD'ed allocator. Its maps in address order put
    libc first, and rtmon reported no allocation at all."""
    with tempfile.TemporaryDirectory() as d:
        report = os.path.join(d, "counts")
        pid, out = trace_pid({"LD_PRELOAD": tp(LIB), "TPMALLOC_REPORT": report})
        hist, summary = hist_of(out)
        assert hist["allocator"] == tp(LIB)  # its path as rtmon sees it: same mount namespace
        assert hist["calls"] == CALLS
        assert hist["count"] == 568 and hist["frees"] == 563
        assert library_counts(report) == CALLS
        assert summary["end"] == "target-exit"


def test_pid_preload_the_loader_refused_is_skipped():
    """An LD_PRELOAD entry that does not exist (ld.so says so and goes on) is not mapped, so not
    taken: libc's allocator is probed."""
    _, out = trace_pid({"LD_PRELOAD": "/nonexistent/libnothere.so"})
    hist, _ = hist_of(out)
    assert hist["allocator"].endswith("/libc.so.6")
    assert hist["calls"]["malloc"] == 550 and hist["frees"] == 563


def test_command_env_preload():
    """-- env LD_PRELOAD=LIB PROGRAM: what runs, and what rtmon reads, is PROGRAM with LIB preloaded;
    env's own allocations, made in libc before it runs PROGRAM, are not counted."""
    with tempfile.TemporaryDirectory() as d:
        report = os.path.join(d, "counts")
        r = run(["malloc", "--json", "--", "env", f"TPMALLOC_REPORT={report}", f"LD_PRELOAD={tp(LIB)}",
                 tp("alloc")])
        assert r.returncode == 0, r.stderr
        hist, summary = hist_of(r.stdout)
        assert hist["allocator"] == tp(LIB)
        assert hist["calls"] == CALLS
        assert library_counts(report) == CALLS
        assert summary["target_exit"] == 0
        # The label names the program env runs.
        assert f"Tracing allocations in {tp('alloc')} (PID " in r.stderr


def test_command_env_options():
    """env's -i and -u are followed (-i clears the environment, a later assignment sets it again);
    env without a program to run is traced as itself."""
    r = run(["malloc", "--json", "--", "env", "-u", "LD_PRELOAD", "-i", f"LD_PRELOAD={tp(LIB)}", "FOO=1",
             tp("alloc")])
    assert r.returncode == 0, r.stderr
    hist, _ = hist_of(r.stdout)
    assert hist["allocator"] == tp(LIB) and hist["calls"] == CALLS
    r = run(["malloc", "--json", "--", "env", "-i", tp("alloc")])
    assert r.returncode == 0, r.stderr
    hist, _ = hist_of(r.stdout)
    # libc's functions: env's own calls, before it runs the program, are counted too.
    assert hist["allocator"].endswith("/libc.so.6") and hist["calls"]["malloc"] > 550
    r = run(["malloc", "--json", "--", "env"])
    assert r.returncode == 0, r.stderr
    assert "Tracing allocations in env (PID " in r.stderr
