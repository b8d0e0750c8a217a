"""rtmon profile: CPU time by stack, against programs whose own loop counts are the truth.

testprog/stacks/cpuburn.c (built -O2 with and without frame pointers) and testprog/go/cpuburn run a
fixed amount of work in two burners in a 3:1 ratio, each reached as main -> level1 -> level2 ->
level3 -> burner, and print the iterations each burner ran. Every sample in a burner must show the
four frames in order up to main, and the burners' samples must be in the ratio of their iterations
within 10%. Enough samples for that: about 4 s of CPU at -F 997 (a prime, so that the sampling
period does not beat with the program's rounds)."""
import re

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
])
def test_profile_bad_input(args, what):
    r = run(["profile"] + args + ["--", tp("cpuburn-fp"), "1"])
    assert r.returncode == 2, r
    assert what in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
