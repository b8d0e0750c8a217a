"""rtmon malloc on other allocators, found without flags: jemalloc and tcmalloc (Debian's libjemalloc2
and libgoogle-perftools4), linked or preloaded, with their own entry points; an allocator that exports
only prefixed names (je_malloc), traced with --allocator-prefix; CPython's object allocator
(pymalloc), reported apart from malloc.

The truth is the programs' own: testprog/alloc.c's pattern (the expectations of test_malloc.py),
testprog/allocators/*.c's documented calls, the prefixed test allocator's count of its calls
(libtpmalloc-je.so, TPMALLOC_REPORT) and the interpreter's count of its pymalloc blocks
(testprog/pyobjects.py). Every program is traced with -p from its gate, so that nothing it does
while starting is counted."""
import os
import subprocess
import tempfile

import pytest

from conftest import ROOT, Target, Tracer, json_lines, run, tp, trace_gated
from test_malloc import ALLOCS, BYTES, FREES, ONE_ROUND, buckets

LIBDIR = "/usr/lib/x86_64-linux-gnu"
LIBS = {"jemalloc": f"{LIBDIR}/libjemalloc.so.2", "tcmalloc": f"{LIBDIR}/libtcmalloc.so.4"}
# testprog/alloc.c's calls, one round. jemalloc has no pvalloc, and its memalign is not
# aligned_alloc; tcmalloc's memalign is aligned_alloc (one function, reported as one).
PATTERN_CALLS = {"malloc": 550, "calloc": 7, "realloc": 5, "aligned_alloc": 2, "posix_memalign": 3,
                 "valloc": 1, "free": 563}


def nonzero(calls):
    return {k: v for k, v in calls.items() if v}


def trace(path, *args, env=None, flags=()):
    """Traces path with -p from its gate; returns (hist records, summary, stderr)."""
    out, err = trace_gated(Target(path, *args, env=env), ["malloc", "--json", *flags])
    lines = json_lines(out)
    assert lines[-1]["type"] == "summary" and lines[-1]["lost"] == 0, lines
    return [o for o in lines if o["type"] == "hist"], lines[-1], err


def check_pattern(hist, kind):
    assert hist["allocator_name"] == kind
    assert buckets(hist) == ONE_ROUND
    assert (hist["count"], hist["sum"], hist["frees"]) == (ALLOCS, BYTES, FREES)
    assert nonzero(hist["calls"]) == PATTERN_CALLS


@pytest.mark.parametrize("kind", ["jemalloc", "tcmalloc"])
def test_linked(kind):
    """alloc.c linked with -ljemalloc / -ltcmalloc: the allocator's library defines malloc first in
    the loader's order, and is probed."""
    hists, _, _ = trace(tp(f"alloc-{kind}"))
    assert len(hists) == 1
    assert hists[0]["allocator"].endswith(os.path.realpath(LIBS[kind]))
    check_pattern(hists[0], kind)


@pytest.mark.parametrize("kind", ["jemalloc", "tcmalloc"])
def test_preloaded(kind):
    """The plain alloc program with LD_PRELOAD of each: -p reads it from the process's environment;
    -- env LD_PRELOAD=... reads it from env's arguments."""
    hists, _, _ = trace(tp("alloc"), env={"LD_PRELOAD": LIBS[kind]})
    assert len(hists) == 1 and hists[0]["allocator"].endswith(os.path.realpath(LIBS[kind]))
    check_pattern(hists[0], kind)
    r = run(["malloc", "--json", "--", "env", f"LD_PRELOAD={LIBS[kind]}", tp("alloc")])
    assert r.returncode == 0, r.stderr
    hist = [o for o in json_lines(r.stdout) if o["type"] == "hist"][0]
    assert hist["allocator"] == LIBS[kind] and hist["allocator_name"] == kind
    # From the first instruction: the allocator's own start-up calls are counted too.
    assert hist["calls"]["malloc"] >= 550 and hist["frees"] >= FREES


def test_jemalloc_api():
    """testprog/allocators/jemalloc_api.c: mallocx, rallocx (allocations), xallocx (a call only),
    sdallocx and dallocx (frees), nallocx (nothing); realloc(NULL, n) and realloc(p, 0), which
    jemalloc handles inside realloc, counted there; C++'s operators, some of which jump to free or
    operator new or call aligned_alloc: those inner calls counted once, apart."""
    hists, summary, _ = trace(tp("jemalloc_api"))
    hist = hists[0]
    assert hist["allocator_name"] == "jemalloc"
    assert nonzero(hist["calls"]) == {"mallocx": 10, "rallocx": 10, "xallocx": 10, "sdallocx": 5,
                                      "dallocx": 5, "realloc": 6, "free": 2, "operator_new": 8,
                                      "operator_delete": 8}
    assert buckets(hist) == {64: 10, 128: 6, 512: 12, 2048: 4}
    assert (hist["count"], hist["frees"], hist["nested_calls"]) == (32, 22, 10)
    assert summary["events"] == 74


def test_tcmalloc_api():
    """testprog/allocators/tcmalloc_api.c: tc_new and its forms, the deletes that are not free itself,
    and realloc(NULL, n), realloc(p, 0), handled inside tcmalloc's realloc."""
    hists, _, _ = trace(tp("tcmalloc_api"))
    hist = hists[0]
    assert hist["allocator_name"] == "tcmalloc"
    assert nonzero(hist["calls"]) == {"tc_new": 11, "tc_delete": 9, "free": 4, "realloc": 6}
    assert buckets(hist) == {32: 3, 128: 6, 2048: 4, 4096: 2}
    assert (hist["count"], hist["frees"]) == (15, 15)


def test_prefixed_allocator():
    """alloc.c calling je_malloc, je_free... (libtpmalloc-je.so exports only those, as jemalloc built
    with a prefix does): without the flag, libc is traced (it sees none of those calls) and one line
    names the flag; with --allocator-prefix je_ the prefixed functions are probed, and the
    library's own count of its calls agrees."""
    lib = os.path.join(os.path.dirname(tp("alloc-je")), "libtpmalloc-je.so")
    with tempfile.TemporaryDirectory() as d:
        report = os.path.join(d, "counts")
        hists, _, err = trace(tp("alloc-je"), env={"TPMALLOC_REPORT": report})
        notes = [line for line in err.splitlines() if "--allocator-prefix je_" in line]
        assert len(notes) == 1 and "libtpmalloc-je.so" in notes[0] and "je_malloc" in notes[0], err
        assert hists[0]["allocator_name"] == "glibc" and hists[0]["count"] == 0

        hists, _, err = trace(tp("alloc-je"), env={"TPMALLOC_REPORT": report},
                              flags=["--allocator-prefix", "je_"])
        assert "--allocator-prefix" not in err
        hist = hists[0]
        assert hist["allocator"].endswith(lib) and hist["allocator_name"] == "other"
        assert buckets(hist) == ONE_ROUND
        assert nonzero(hist["calls"]) == PATTERN_CALLS
        with open(report) as f:
            lib_counts = dict(x.split("=") for x in f.readline().split())
        assert {k: int(v) for k, v in lib_counts.items() if int(v)} == PATTERN_CALLS


def test_prefix_errors():
    r = run(["malloc", "--allocator-prefix", "je-", "--", "true"])
    assert r.returncode == 2 and "invalid --allocator-prefix 'je-'" in r.stderr
    r = run(["malloc", "--allocator-prefix", "zz_", "--", tp("alloc")])
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "no allocator named zz_malloc" in lines[0], r.stderr


PYTHONS = {"debian": "/usr/bin/python3.11",
           "pyenv": os.path.expanduser("~/.pyenv/versions/3.11.7/bin/python3.11")}
N_OBJECTS = 5000


@pytest.mark.parametrize("which", ["debian", "pyenv"])
def test_python_objects(which):
    """testprog/pyobjects.py makes N bytes objects of 300 bytes between two markers, and prints how
    much more sys.getallocatedblocks() rose than in the same loop storing None: N (each object is
    one pymalloc block). rtmon's pymalloc row, apart from malloc's, has exactly that many
    allocations in the 256..511 bucket, from PyObject_Calloc: nothing else the script does after its
    gate asks for that size. Debian's python3.11 exports the allocator from the executable,
    pyenv's from libpython3.11.so."""
    py = PYTHONS[which]
    if not os.access(py, os.X_OK):
        pytest.skip(f"{py} is not installed")
    target = subprocess.Popen([py, os.path.join(ROOT, "testprog", "pyobjects.py"), str(N_OBJECTS)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert target.stdout.readline() == b"ready\n"
        tracer = Tracer(["malloc", "--json", "-p", str(target.pid)])
        target.stdin.write(b"\n")
        target.stdin.flush()
        blocks = int(target.stdout.readline())
        assert target.wait(30) == 0
        rc, out, err = tracer.wait()
        assert rc == 0, err
    finally:
        if target.poll() is None:
            target.kill()
            target.wait()
    assert blocks == N_OBJECTS
    hists = [o for o in json_lines(out) if o["type"] == "hist"]
    assert [h["allocator_name"] for h in hists] == ["glibc", "pymalloc"]
    obj = hists[1]
    # -p names the executable by /proc/PID/exe, a library by its maps path (rtmon's mount namespace)
    assert obj["allocator"].endswith("/exe" if which == "debian" else "/libpython3.11.so.1.0")
    assert buckets(obj).get(256) == blocks
    assert obj["calls"]["PyObject_Calloc"] == blocks
    assert set(obj["calls"]) == {"PyObject_Malloc", "PyObject_Calloc", "PyObject_Realloc",
                                 "PyObject_Free"}


def test_python_text_report():
    """The text report has a section of its own for the object allocator, after malloc's."""
    r = run(["malloc", "--", PYTHONS["debian"], "-c", "x = [bytes(267) for _ in range(100)]"])
    assert r.returncode == 0, r.stderr
    assert ", allocator /lib/x86_64-linux-gnu/libc.so.6 (glibc):" in r.stdout
    assert "allocator pymalloc (CPython's object allocator) in /usr/bin/python3.11:" in r.stdout
    assert "calls: PyObject_Malloc " in r.stdout


def test_live_tcmalloc():
    """--live through tcmalloc: alloc.c's mode k leaves 10 blocks of 13744 bytes a round, among
    them the posix_memalign and valloc blocks, which tcmalloc allocates by calling memalign: the
    inner call's return records the block, once."""
    hists, _, _ = trace(tp("alloc-tcmalloc"), "2", "0", "k", flags=["--live"])
    hist = hists[0]
    assert (hist["live_allocs"], hist["live_bytes"]) == (20, 2 * 13744)
    assert hist["count"] == 2 * ALLOCS and hist["frees"] == 2 * 553 and hist["nested_calls"] == 8
    assert hist["frees_untracked"] == 0 and hist["live_table_full"] == 0


def test_live_jemalloc_api():
    """--live through jemalloc's API: rallocx moves its block, sdallocx, dallocx, realloc(p, 0) and
    the operators delete free theirs (the inner free of a delete finds its block gone, and is not
    an untracked free); nothing is left."""
    hists, _, _ = trace(tp("jemalloc_api"), flags=["--live"])
    hist = hists[0]
    assert (hist["count"], hist["frees"], hist["nested_calls"]) == (32, 22, 10)
    assert (hist["live_allocs"], hist["live_bytes"]) == (0, 0)
    assert hist["frees_untracked"] == 0 and hist["live_table_full"] == 0


def test_python_live_leaves_objects_out():
    """--live traces malloc only in a CPython program, and says so: the object allocator's large
    blocks are malloc's too."""
    r = run(["malloc", "--live", "--json", "--", PYTHONS["debian"], "-c", "pass"])
    assert r.returncode == 0, r.stderr
    assert "CPython's object allocator (PyObject_Malloc...) is not traced with --live" in r.stderr
    assert [o["allocator_name"] for o in json_lines(r.stdout) if o["type"] == "hist"] == ["glibc"]
