"""rtmon malloc --stacks: allocations and bytes per call stack, against programs that count their
own allocations.

testprog/stacks/allocpaths.c allocates from three call paths (main -> path_X -> alloc_X -> malloc)
in known numbers and sizes and prints them; built -O2 with and without frame pointers, PIE and
static. Each path's stacks must add up to its count and bytes exactly, with its frames in order up
to main. With "leak" it keeps path a's blocks and frees the others at once: --live --stacks must
show path a's outstanding blocks only. testprog/go/gomalloc allocates a known pattern from three
call sites of main.alloc. The targets are traced with -p, held at their gate until rtmon traces:
their files are read while they run (a -- CMD that ends within a drain period of its first
allocation may leave a stack unnamed)."""
import glob
import gzip
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import RTMON, Target, Tracer, json_lines, run, tp

ROUNDS = 100
C_PATHS = {  # path: (allocations per round, bytes per allocation)
    "a": (3, 48),
    "b": (2, 1000),
    "c": (1, 40000),
}


def truth(out):
    m = re.search(r"a (\d+) (\d+) b (\d+) (\d+) c (\d+) (\d+)", out)
    assert m, out
    v = [int(x) for x in m.groups()]
    return {"a": (v[0], v[1]), "b": (v[2], v[3]), "c": (v[4], v[5])}


def traced(args, prog, *prog_args):
    """rtmon malloc ARGS -p on prog held at its gate: (rtmon's stdout, stderr, prog's stdout)."""
    target = Target(tp(prog), *prog_args)
    try:
        tracer = Tracer(["malloc"] + args + ["-p", str(target.pid)])
        target.go()
        out, _ = target.proc.communicate(timeout=60)
        rc, rout, rerr = tracer.wait()
        assert rc == 0, rerr
        return rout, rerr, out.decode()
    finally:
        target.kill()


def traced_stderr(args, prog, *prog_args):
    """As traced, for outputs whose summary is on stderr (--folded): rtmon's stderr goes to a file
    (conftest's Tracer shares its stderr pipe with communicate)."""
    target = Target(tp(prog), *prog_args)
    try:
        with tempfile.TemporaryFile("w+") as errf:
            proc = subprocess.Popen([RTMON, "malloc"] + args + ["-p", str(target.pid)],
                                    stdout=subprocess.PIPE, stderr=errf, text=True)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                errf.seek(0)
                if "Tracing " in errf.read() or proc.poll() is not None:
                    break
                time.sleep(0.02)
            target.go()
            target.proc.communicate(timeout=60)
            out, _ = proc.communicate(timeout=30)
            errf.seek(0)
            err = errf.read()
            assert proc.returncode == 0, err
            return out, err
    finally:
        target.kill()


def funcs(stack):
    return [f.get("func") for f in stack["frames"]]


def per_path(stacks):
    """(allocations, bytes) per path of the stacks whose frames are malloc <- alloc_X <- path_X <-
    main (innermost first); asserts that a stack through alloc_X has exactly those frames."""
    seen = {p: [0, 0] for p in C_PATHS}
    for s in stacks:
        f = funcs(s)
        for p in C_PATHS:
            if f"alloc_{p}" in f:
                assert f[:4] == ["malloc", f"alloc_{p}", f"path_{p}", "main"], f
                seen[p][0] += s["values"]["allocations"]
                seen[p][1] += s["values"]["bytes"]
    return {p: tuple(v) for p, v in seen.items()}


def expected(rounds=ROUNDS):
    return {p: (n * rounds, n * rounds * size) for p, (n, size) in C_PATHS.items()}


VARIANTS = [
    ("allocpaths-fp", []),
    ("allocpaths-nofp", []),
    ("allocpaths-fp-static", []),
    ("allocpaths-nofp-static", []),
    ("allocpaths-fp", ["--unwind", "fp"]),
    ("allocpaths-fp-static", ["--unwind", "fp"]),
]


@pytest.mark.parametrize("prog,extra", VARIANTS)
def test_paths_exact(prog, extra):
    """Each path's allocations and bytes exactly, its frames in order up to main; the stacks add
    up to the allocations counted."""
    out, err, prog_out = traced(["--stacks", "--json"] + extra, prog, str(ROUNDS))
    assert truth(prog_out) == expected()
    lines = json_lines(out)
    stacks = [o for o in lines if o["type"] == "stack"]
    summary = lines[-1]
    assert summary["type"] == "summary", summary
    assert per_path(stacks) == expected()
    assert summary["stacks_lost"] == 0, summary
    assert sum(s["values"]["allocations"] for s in stacks) == summary["allocations"]
    assert sum(s["values"]["bytes"] for s in stacks) == summary["bytes"]


def test_frame_pointer_walk_without_frame_pointers_is_cut():
    """--unwind fp on code built without frame pointers: malloc and its immediate caller (read at
    [sp] at malloc's entry) are still there; deeper frames are what the kernel's walk finds."""
    out, _, _ = traced(["--stacks", "--json", "--unwind", "fp"], "allocpaths-nofp", str(ROUNDS))
    stacks = [o for o in json_lines(out) if o["type"] == "stack"]
    for p, (n, size) in expected().items():
        through = [s for s in stacks if funcs(s)[:2] == ["malloc", f"alloc_{p}"]]
        assert sum(s["values"]["allocations"] for s in through) == n, stacks
        assert sum(s["values"]["bytes"] for s in through) == size


def test_folded_adds_up_and_value_bytes():
    out, err = traced_stderr(["--stacks", "--folded"], "allocpaths-nofp", str(ROUNDS))
    lines = [l for l in out.splitlines() if l]
    total = 0
    by_path = {p: 0 for p in C_PATHS}
    for l in lines:
        frames, value = l.rsplit(" ", 1)
        total += int(value)
        for p in C_PATHS:
            if frames.endswith(f";main;path_{p};alloc_{p};malloc"):
                by_path[p] += int(value)
    assert by_path == {p: v[0] for p, v in expected().items()}
    m = re.search(r"allocations (\d+)", err)
    assert m and int(m.group(1)) == total, err
    out, err = traced_stderr(["--stacks", "--folded", "--value", "bytes"], "allocpaths-fp",
                             str(ROUNDS))
    total = sum(int(l.rsplit(" ", 1)[1]) for l in out.splitlines() if l)
    m = re.search(r"bytes (\d+)", err)
    assert m and int(m.group(1)) == total, err


def test_text_top_n():
    out, _, _ = traced(["--stacks", "--top", "2"], "allocpaths-fp", str(ROUNDS))
    assert re.search(r"Top 2 of \d+ stacks by allocations", out), out
    ranks = re.findall(r"^#(\d+) allocations (\d+) \((\d+\.\d)%\)", out, re.M)
    assert [r[0] for r in ranks] == ["1", "2"], out
    assert ranks[0][1] == str(3 * ROUNDS)  # path a: the most allocations


LIVE_VARIANTS = [
    ("allocpaths-fp", ["--unwind", "fp"]),
    # no frame pointers: the default for --live is DWARF unwinding, each block naming its record
    ("allocpaths-nofp", []),
    ("allocpaths-nofp-static", []),
    ("allocpaths-fp", ["--unwind", "dwarf"]),
]


@pytest.mark.parametrize("prog,extra", LIVE_VARIANTS)
def test_live_stacks_leaking_path_only(prog, extra):
    """Path a leaks, b and c free at once: outstanding blocks and bytes on path a only, exactly,
    with every frame down to main (per_path)."""
    out, _, prog_out = traced(["--live", "--stacks", "--json"] + extra, prog, str(ROUNDS),
                              "leak")
    assert truth(prog_out) == expected()
    lines = json_lines(out)
    stacks = [o for o in lines if o["type"] == "stack"]
    got = per_path(stacks)
    n, size = expected()["a"]
    assert got == {"a": (n, size), "b": (0, 0), "c": (0, 0)}, got
    leak = [s for s in stacks if "alloc_a" in funcs(s)]
    assert all(s["labels"]["oldest_age"] >= 0 for s in leak), leak
    hist = next(o for o in lines if o.get("name") == "malloc_size")
    # every outstanding block is in a stack (path a's, and stdio's buffer)
    assert sum(s["values"]["allocations"] for s in stacks) == hist["live_allocs"]
    assert sum(s["values"]["bytes"] for s in stacks) == hist["live_bytes"]
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["live_stacks_lost"] == 0, summary


def test_live_stacks_dwarf_many_blocks():
    """180,000 allocations, 90,000 of them kept: past the seq table's prune threshold (65,536
    records), so the seqs of freed blocks are dropped while the target runs. Records the ring had
    no room for leave their blocks under "[stack lost]": with those, path a's count is exact, b and c
    have nothing, and no more blocks lack a stack than calls lost theirs (a prune that dropped live
    blocks' seqs would show more)."""
    rounds = 30000
    out, _, prog_out = traced(["--live", "--stacks", "--json"], "allocpaths-nofp", str(rounds),
                              "leak")
    assert truth(prog_out) == expected(rounds)
    lines = json_lines(out)
    stacks = [o for o in lines if o["type"] == "stack"]
    summary = lines[-1]
    got = per_path(stacks)
    lost = [s for s in stacks if funcs(s) == ["[stack lost]"]]
    lost_n = sum(s["values"]["allocations"] for s in lost)
    lost_b = sum(s["values"]["bytes"] for s in lost)
    n, size = expected(rounds)["a"]
    assert got["b"] == got["c"] == (0, 0), got
    hist = next(o for o in lines if o.get("name") == "malloc_size")
    # the lost blocks are path a's missing ones, and perhaps stdio's buffer (the others' blocks)
    others_n, others_b = hist["live_allocs"] - n, hist["live_bytes"] - size
    assert got["a"][0] <= n and 0 <= lost_n - (n - got["a"][0]) <= others_n, (got, lost_n)
    assert 0 <= lost_b - (size - got["a"][1]) <= others_b, (got, lost_b)
    assert summary["live_stacks_lost"] == lost_n <= summary["stacks_lost"], summary
    assert sum(s["values"]["allocations"] for s in stacks) == hist["live_allocs"]
    assert sum(s["values"]["bytes"] for s in stacks) == hist["live_bytes"]


@pytest.mark.parametrize("extra", [["--unwind", "fp"], ["--unwind", "dwarf"]])
def test_live_stacks_nested_call_keeps_outer_stack(extra):
    """tcmalloc's posix_memalign calls memalign through its public name (a nested call, counted
    once): the block is posix_memalign's, under its stack, not lost. testprog/alloc.c's mode k
    keeps 10 blocks a round, one of them posix_memalign's."""
    out, _, _ = traced(["--live", "--stacks", "--json"] + extra, "alloc-tcmalloc", "2", "0", "k")
    lines = json_lines(out)
    stacks = [o for o in lines if o["type"] == "stack"]
    hist = next(o for o in lines if o.get("name") == "malloc_size")
    assert hist["live_allocs"] == 20, hist
    assert sum(s["values"]["allocations"] for s in stacks) == 20, stacks
    assert sum(s["values"]["bytes"] for s in stacks) == hist["live_bytes"], stacks
    pm = [s for s in stacks if funcs(s)[:2] == ["posix_memalign", "run_rounds"]]
    assert sum(s["values"]["allocations"] for s in pm) == 2, stacks
    assert not [s for s in stacks if funcs(s) == ["[stack lost]"]], stacks


@pytest.mark.parametrize("prog,extra", [("allocpaths-fp", ["--unwind", "fp"]),
                                        ("allocpaths-nofp", [])])
def test_live_min_age_keeps_older_blocks(prog, extra):
    """Two passes 3 s apart: --min-age 1.5 keeps the first pass's blocks only."""
    target = Target(tp(prog), str(ROUNDS), "leak", "hold")
    try:
        tracer = Tracer(["malloc", "--live", "--stacks", "--json", "--min-age", "1.5", "-p",
                         str(target.pid)] + extra)
        target.go()
        first = target.proc.stdout.readline().decode()
        time.sleep(3)
        target.go()
        second = target.proc.stdout.readline().decode()
        rc, out, err = tracer.stop()
        assert rc == 0, err
        assert truth(first)["a"] == expected()["a"]
        assert truth(second)["a"] == expected(2 * ROUNDS)["a"]
        stacks = [o for o in json_lines(out) if o["type"] == "stack"]
        assert per_path(stacks)["a"] == expected()["a"]
        assert all(s["labels"]["oldest_age"] >= 1500 for s in stacks), stacks
    finally:
        target.kill()


GO_SITES = [(1000, 5000), (300, 40000), (700, 3000)]  # testprog/go/gomalloc's calls of alloc
GO_ROUNDS = 3


@pytest.mark.parametrize("prog", ["gomalloc", "gomalloc-stripped", "gomalloc-pie"])
def test_go_stacks(prog):
    """mallocgc's stacks by frame pointers: per call site of main.alloc, the program's counts;
    frames with file:line from .gopclntab (stripped too)."""
    out, _, _ = traced(["--stacks", "--json"], f"go/{prog}", str(GO_ROUNDS))
    stacks = [o for o in json_lines(out) if o["type"] == "stack"]
    sites = {}
    for s in stacks:
        f = funcs(s)
        if "main.alloc" not in f:
            continue
        assert f[:4] == ["runtime.mallocgc", "runtime.makeslice", "main.alloc", "main.main"], f
        main = s["frames"][3]
        assert main["file"].endswith("gomalloc/main.go") and main["line"] > 0, main
        v = sites.setdefault(main["line"], [0, 0])
        v[0] += s["values"]["allocations"]
        v[1] += s["values"]["bytes"]
    got = sorted(tuple(v) for v in sites.values())
    assert got == sorted((n * GO_ROUNDS, n * GO_ROUNDS * size) for n, size in GO_SITES), sites


def find_go():
    go = shutil.which("go")
    if go:
        return go
    if os.access("/usr/local/go/bin/go", os.X_OK):
        return "/usr/local/go/bin/go"
    found = sorted(glob.glob("/usr/lib/go-*/bin/go"))
    return found[-1] if found else None


@pytest.mark.parametrize("prog", ["allocpaths-nofp", "go/gomalloc"])
def test_pprof_read_by_go_tool_pprof(tmp_path, prog):
    go = find_go()
    assert go, "no Go toolchain for go tool pprof"
    path = tmp_path / "malloc.pb.gz"
    traced(["--stacks", "--pprof", str(path)], prog, "3")
    with gzip.open(path) as f:
        assert f.read(1)
    r = subprocess.run([go, "tool", "pprof", "-raw", str(path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^allocations/count(\[dflt\])? bytes/bytes$", r.stdout, re.M), r.stdout
    want = "alloc_a" if prog.startswith("allocpaths") else "main.alloc"
    assert want in r.stdout, r.stdout


def test_budget_with_stacks():
    """--budget: sampled stacks, scaled like the counts: they still add up to the estimate."""
    out, err, _ = traced(["--stacks", "--json", "--budget", "50"], "allocpaths-fp", str(ROUNDS))
    lines = json_lines(out)
    stacks = [o for o in lines if o["type"] == "stack"]
    summary = lines[-1]
    assert stacks and summary["type"] == "summary", out
    total = sum(s["values"]["allocations"] for s in stacks)
    # each stack is rounded apart: within one per stack of the estimated total
    assert abs(total - summary["allocations"]) <= len(stacks), (total, summary)


@pytest.mark.parametrize("args,what", [
    (["--stacks", "--min-age", "5"], "--min-age needs --live"),
    (["--live", "--min-age", "5"], "--min-age needs --stacks"),
    (["--live", "--stacks", "--min-age", "x"], "invalid --min-age"),
    (["--live", "--stacks", "--min-age", "0"], "invalid --min-age"),
    (["--stacks", "--folded", "--pprof", "/tmp/x.pb.gz"], "--folded and --pprof"),
    (["--stacks", "--pprof", "/nonexistent/dir/x.pb.gz"], "/nonexistent/dir/x.pb.gz"),
    (["--stacks", "--top", "0"], "invalid --top"),
    (["--stacks", "--value", "frobs"], "unknown --value"),
    (["--stacks", "-i", "1"], "--stacks has no -i"),
    (["--stacks", "--unwind", "x"], "invalid --unwind"),
    (["--folded"], "--folded needs --stacks"),
    (["--top", "3"], "--top needs --stacks"),
])
def test_bad_input(args, what):
    r = run(["malloc"] + args + ["--", tp("allocpaths-fp"), "1"])
    assert r.returncode != 0
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert what in r.stderr, r.stderr
    assert len(lines) <= 2, r.stderr  # the error, and argp's "Try --help" hint
