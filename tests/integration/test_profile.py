"""rtmon profile: CPU time by stack, against programs whose own loop counts are the truth.

testprog/stacks/cpuburn.c (built -O2 with and without frame pointers) and testprog/go/cpuburn run a
fixed amount of work in two burners in a 3:1 ratio, each reached as main -> level1 -> level2 ->
level3 -> burner, and print the iterations each burner ran. Every sample in a burner must show the
four frames in order up to main, and the burners' samples must be in the ratio of their iterations
within 10%. Enough samples for that: about 4 s of CPU at -F 997 (a prime, so that the sampling
period does not beat with the program's rounds)."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import json_lines, run, tp

ROUNDS = "1000"  # 4000 units of 1e6 iterations: about 4 s of CPU
HZ = "997"

C_CHAIN = ["level3", "level2", "level1", "main"]
GO_CHAIN = ["main.level3", "main.level2", "main.level1", "main.main"]


def samples_of(stack):
    """The sample count of a {"type":"stack"} object (pprof's samples/count value)."""
    if "samples" in stack:
        return stack["samples"]
    return stack["values"]["samples"]


def truth(stdout):
    m = re.search(r"burn_a (\d+) burn_b (\d+)", stdout)
    assert m, stdout
    return int(m.group(1)), int(m.group(2))


def check_profile(args, prog, burners, chain):
    r = run(["profile", "--json", "-F", HZ] + args + ["--", tp(prog), ROUNDS], timeout=300)
    assert r.returncode == 0, r.stderr
    iters_a, iters_b = truth(r.stderr)  # --json: the program's stdout is on stderr
    assert iters_a == 3 * iters_b
    lines = json_lines(r.stdout)
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["command"] == "profile", summary
    stacks = [o for o in lines if o["type"] == "stack"]
    assert sum(samples_of(o) for o in stacks) == summary["events"] - summary["lost"]
    counts = dict.fromkeys(burners, 0)
    for o in stacks:
        funcs = [f["func"] for f in o["frames"]]
        if funcs[0] in burners:
            # innermost first: the burner, level3, level2, level1, main, then the C runtime
            assert funcs[1:5] == chain, funcs
            counts[funcs[0]] += samples_of(o)
    a, b = counts[burners[0]], counts[burners[1]]
    # the burners are almost all the program's CPU time
    assert a + b >= 0.9 * summary["events"], (counts, summary)
    assert abs((a / b) / (iters_a / iters_b) - 1) <= 0.10, (counts, iters_a, iters_b)
    return summary


@pytest.mark.parametrize("prog", ["cpuburn-fp", "cpuburn-nofp"])
def test_profile_c_frames_and_ratio(prog):
    """DWARF unwinding (the default for native code): complete with and without frame pointers."""
    summary = check_profile([], prog, ["burn_a", "burn_b"], C_CHAIN)
    # Every burner sample was complete (check_profile). A sample can land in the loader while the
    # process starts, where the copy or the walk may fail: counted as lost, never dropped, and rare.
    assert summary["stacks_lost"] <= summary["events"] // 100, summary


# The kernel's frame-pointer walk loses the caller of a leaf function that sets up no frame (GCC
# gives none to a leaf that needs no stack, even with -fno-omit-frame-pointer; Go neither): its
# return address is at [sp], and the walk starts from the caller's frame pointer. Not fixed yet:
# the fix reads the return address where the leaf's CFI (or Go's pcsp table) puts it.
FRAMELESS_LEAF = pytest.mark.xfail(strict=True, reason="frame-pointer walk skips a frameless "
                                   "leaf's caller (docs/profile.md)")


@FRAMELESS_LEAF
def test_profile_c_frame_pointer_walk():
    """--unwind fp on code that keeps frame pointers: the kernel's walk is complete too."""
    summary = check_profile(["--unwind", "fp"], "cpuburn-fp", ["burn_a", "burn_b"], C_CHAIN)
    assert summary["stacks_lost"] == 0 and summary["stacks_truncated"] == 0


@FRAMELESS_LEAF
def test_profile_go_frames_and_ratio():
    """Go: frame pointers (the default), function names from the Go function table."""
    summary = check_profile([], "go/cpuburn", ["main.burnA", "main.burnB"], GO_CHAIN)
    assert summary["stacks_lost"] == 0 and summary["stacks_truncated"] == 0


def test_profile_go_dwarf():
    """Go with --unwind dwarf: the CFI in .debug_frame also covers frameless leaves."""
    check_profile(["--unwind", "dwarf"], "go/cpuburn", ["main.burnA", "main.burnB"], GO_CHAIN)


@FRAMELESS_LEAF
def test_profile_go_stripped():
    """A stripped Go binary has no .symtab: the names come from .gopclntab."""
    check_profile([], "go/cpuburn-stripped", ["main.burnA", "main.burnB"], GO_CHAIN)


@pytest.mark.parametrize("args,what", [
    (["-F", "0"], "invalid frequency '0'"),
    (["-F", "20000"], "invalid frequency '20000'"),
    (["--unwind", "lbr"], "invalid --unwind 'lbr'"),
    (["-i", "1"], "profile has no -i"),
    (["--folded", "--pprof", "/tmp/x.pb.gz"], "--folded and --pprof together"),
    (["--folded", "--json"], "--folded and --json together"),
    (["--top", "0"], "invalid --top '0'"),
    (["--value", "bytes"], "unknown --value 'bytes'"),
    (["--pprof", "/nonexistent-dir/p.pb.gz"], "cannot write the profile to /nonexistent-dir/"),
])
def test_profile_bad_input(args, what):
    r = run(["profile"] + args + ["--", tp("cpuburn-fp"), "1"])
    assert r.returncode == 2, r
    assert what in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def text_summary(stderr):
    """(samples, lost) from the text summary's last line: "N samples in S s (...), L lost; ..."."""
    m = re.search(r"^(\d+) samples in .*?, (\d+) lost", stderr, re.M)
    assert m, stderr
    return int(m.group(1)), int(m.group(2))


def test_profile_folded(tmp_path):
    """--folded: one line per stack, root first, its samples last; the lines add up to the samples
    recorded, the burners' lines end main;level1;level2;level3;burner in the ratio of their work.
    The file holds nothing else: the summary goes to stderr."""
    out = tmp_path / "cpu.folded"
    r = run(["profile", "--folded", "-F", HZ, "-o", str(out), "--", tp("cpuburn-fp"), "300"],
            timeout=300)
    assert r.returncode == 0, r.stderr
    iters_a, iters_b = truth(r.stdout)  # -o: the program keeps rtmon's stdout
    samples, lost = text_summary(r.stderr)
    counts = {"burn_a": 0, "burn_b": 0}
    total = 0
    for line in out.read_text().splitlines():
        m = re.fullmatch(r"(\S(?:.*\S)?) (\d+)", line)
        assert m, line
        frames, value = m.group(1).split(";"), int(m.group(2))
        assert value > 0, line
        total += value
        if frames[-1] in counts:
            assert frames[-5:-1] == C_CHAIN[::-1], line
            counts[frames[-1]] += value
    assert total == samples - lost
    a, b = counts["burn_a"], counts["burn_b"]
    assert a + b >= 0.9 * samples, (counts, samples)
    assert abs((a / b) / (iters_a / iters_b) - 1) <= 0.10, (counts, iters_a, iters_b)


def test_profile_top_and_value():
    """--top N shows N stacks; --value cpu orders them by CPU time, one period per sample."""
    r = run(["profile", "--top", "2", "--value", "cpu", "-F", HZ, "--", tp("cpuburn-fp"), "100"],
            timeout=300)
    assert r.returncode == 0, r.stderr
    samples, lost = text_summary(r.stdout)
    # Text gives the CPU time in a human unit (--json has the nanoseconds): one period a sample.
    m = re.search(r"^Top 2 of (\d+) stacks by cpu \(cpu ([\d.]+) (ns|us|ms|s) in all, "
                  r"samples (\d+)\)", r.stdout, re.M)
    assert m, r.stdout
    assert int(m.group(4)) == samples - lost
    unit = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[m.group(3)]
    expected = int(m.group(4)) * (1000000000 // int(HZ))
    assert abs(float(m.group(2)) * unit - expected) <= 0.051 * unit, (m.group(0), expected)
    assert len(re.findall(r"^#\d+ cpu ", r.stdout, re.M)) == min(2, int(m.group(1)))


GO = shutil.which("go") or "/usr/local/go/bin/go"


@pytest.mark.skipif(not os.path.exists(GO), reason="no go toolchain for go tool pprof")
def test_profile_pprof_read_by_go_tool_pprof(tmp_path):
    """--pprof FILE beside --json: go tool pprof reads the file, with the samples the JSON has."""
    pb = tmp_path / "cpu.pb.gz"
    r = run(["profile", "--json", "--pprof", str(pb), "-F", HZ, "--", tp("cpuburn-fp"), "100"],
            timeout=300)
    assert r.returncode == 0, r.stderr
    summary = json_lines(r.stdout)[-1]
    raw = subprocess.run([GO, "tool", "pprof", "-raw", str(pb)], capture_output=True, text=True,
                         timeout=120)
    assert raw.returncode == 0, raw.stderr
    # pprof opens on samples, the value the text shows ([dflt])
    head = re.search(r"^samples/count\[dflt\] cpu/nanoseconds$", raw.stdout, re.M)
    assert head, raw.stdout[:500]
    body = raw.stdout[head.end():].split("Locations", 1)[0]
    got = sum(int(m.group(1)) for m in re.finditer(r"^\s+(\d+)\s+\d+: ", body, re.M))
    assert got == summary["events"] - summary["lost"]
    top = subprocess.run([GO, "tool", "pprof", "-top", str(pb)], capture_output=True, text=True,
                         timeout=120)
    assert top.returncode == 0 and re.search(r" burn_a\n", top.stdout), top.stdout
