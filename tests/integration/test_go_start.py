"""Goroutine start functions as the user wrote them (issue 14, item 3): testprog/go/gostart starts
`go f(a)`, `go f(a, b)`, `go f()`, `go p.m()`, `go v.m(a)`, `go func(){...}()`,
`go func(a){...}(x)` (inlined into its wrapper) and `go small(a)`, then prints its own
runtime.Stack(all). Each goroutine's "start" in rtmon thr --json must be the outermost frame
runtime.Stack shows for it (Go hides the compiler's wrapper); "start_wrapper" names the wrapper
when there is one. lat --by-start groups by the
same names. Every Go release tests/unit/build-go-fixtures.sh built, plain, stripped and PIE."""
import glob
import os
import re

import pytest

from conftest import BUILD, json_lines, run, tp

VARIANTS = ["go/gostart", "go/gostart-stripped", "go/gostart-pie"]
OLD = sorted(glob.glob(os.path.join(BUILD, "testprog", "go", "vers", "gostart-go*")))
USER = {"main.withArg", "main.twoArgs", "main.noArg", "main.(*counter).ptrMethod",
        "main.counter.valMethod", "main.main.func1", "main.main.func2", "main.small"}
# Started without arguments and not a method: the start PC is the function itself.
NO_WRAPPER = {"main.noArg", "main.main.func1"}


def stack_starts(text):
    """goid -> outermost function of each goroutine in a runtime.Stack(all) dump."""
    dump = text.split("stack-begin\n", 1)[1].split("stack-end\n", 1)[0]
    out = {}
    for block in dump.strip().split("\n\n"):
        lines = block.split("\n")
        m = re.match(r"goroutine (\d+) \[", lines[0])
        assert m, block
        frames = [ln for ln in lines[1:] if not ln.startswith("\t")]
        frames = [f for f in frames if not f.startswith("created by")]
        out[int(m.group(1))] = frames[-1].rsplit("(", 1)[0]
    return out


def check(path):
    r = run(["thr", "--json", "--", path])
    assert r.returncode == 0, r.stderr
    truth = stack_starts(r.stderr)  # --json -- CMD: the command's stdout is on rtmon's stderr
    creates = {e["goid"]: e for e in json_lines(r.stdout)
               if e["type"] == "goroutine" and e["event"] == "create"}
    mine = {g: s for g, s in truth.items() if s.startswith("main.") and s != "main.main"}
    assert set(mine.values()) == USER, truth
    for goid, name in mine.items():
        e = creates[goid]
        assert e["start"] == name, (e, truth)
        if name in NO_WRAPPER:
            assert "start_wrapper" not in e, e
        else:
            # main.main.gowrapN, main.main.funcN, main.main.dwrap.N (1.17's .gopclntab: ·dwrap·N)
            assert e["start_wrapper"].startswith("main.main"), e
            assert e["start_wrapper"] != name, e
    # The runtime's own goroutines that runtime.Stack showed (parked ones) carry the same names.
    for goid, name in truth.items():
        if goid in creates and name.startswith("runtime.") and goid != 1:
            assert creates[goid]["start"] == name, (creates[goid], truth)


@pytest.mark.parametrize("variant", VARIANTS)
def test_start_names(variant):
    check(tp(variant))


@pytest.mark.parametrize("path", OLD or [None], ids=[os.path.basename(p) for p in OLD] or ["none"])
def test_start_names_old_releases(path):
    if not path:
        pytest.skip(f"no gostart-go* fixtures: run tests/unit/build-go-fixtures.sh {BUILD}")
    check(path)


def test_lat_by_start_uses_user_names():
    r = run(["lat", "--by-start", "--json", "--", tp("go/gostart")])
    assert r.returncode == 0, r.stderr
    hists = [o for o in json_lines(r.stdout)
             if o["type"] == "hist" and o["name"] == "goroutine_lifetime"]
    starts = {h["start"]: h["count"] for h in hists}
    for name in USER:
        assert starts.get(name) == 1, (name, starts)
    assert not [s for s in starts if ".gowrap" in s or ".dwrap" in s], starts
