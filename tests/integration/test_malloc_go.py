"""rtmon malloc on Go programs: runtime.mallocgc sizes, Go size classes, stripped and PIE builds."""
import os
import re

import pytest

from conftest import Target, Tracer, json_lines, run, tp

# testprog/go/gomalloc, one round: 1000 x 5000 B (class 5376), 300 x 40000 B (large), 700 x 3000 B
# (class 3072).
PER_ROUND = {5376: 1000, 3072: 700}
LARGE = 300


def parse(out):
    lines = json_lines(out)
    hist = [o for o in lines if o["type"] == "hist"]
    classes = [o for o in lines if o["type"] == "size_classes"]
    assert len(hist) == 1 and len(classes) == 1
    assert lines[-1]["type"] == "summary" and lines[-1]["lost"] == 0
    return hist[0], classes[0]


@pytest.mark.parametrize("variant", ["gomalloc", "gomalloc-stripped", "gomalloc-pie"])
def test_go_pid_exact_classes(variant):
    target = Target(tp(f"go/{variant}"), "3")
    try:
        tracer = Tracer(["malloc", "--json", "-p", str(target.pid)])
        target.go()
        assert target.wait() == 0  # never crashes the target
        rc, out, err = tracer.wait()
        assert rc == 0, err
        hist, classes = parse(out)
        assert hist["runtime"] == "go" and hist["go_version"].startswith("go1.")
        assert "frees" not in hist
        by_size = {c["size"]: c["count"] for c in classes["classes"]}
        assert by_size[5376] == 3 * PER_ROUND[5376]
        assert by_size[3072] == 3 * PER_ROUND[3072]
        assert classes["large"] == {"count": 3 * LARGE, "bytes": 3 * LARGE * 40000}
        # 40000 B requests land in the 32768..65535 log2 bucket, 5000 B in 4096..8191, 3000 B in
        # 2048..4095.
        buckets = {b["lo"]: b["count"] for b in hist["buckets"]}
        assert buckets[32768] == 3 * LARGE
        assert buckets[4096] == 3 * PER_ROUND[5376]
        assert buckets[2048] == 3 * PER_ROUND[3072]
        assert hist["calls"] == {"mallocgc": hist["count"]}
    finally:
        target.kill()


def test_go_command_text_output():
    r = run(["malloc", "--", tp("go/gomalloc-stripped")])
    assert r.returncode == 0, r.stderr
    assert "runtime.mallocgc" in r.stdout
    row = [l for l in r.stdout.splitlines() if l.strip().startswith("5376B :")]
    assert len(row) == 1 and int(row[0].split(":")[1].split()[0]) == 1000
    assert "large allocations (> 32 KiB): 301" in r.stdout  # + the sink's own 96000 B array
    assert "exited with status 0" in r.stdout


# testprog/go/gomemstats: a mix through every allocator path (tiny, small with and without
# pointers, large) and 100 size-0 requests per round, with nothing else allocating while rtmon
# is attached; it prints the rise of its own MemStats.Mallocs. -sizespec is built with
# GOEXPERIMENT=sizespecializedmalloc (Go 1.26+), where the compiler calls the specialized entry
# points (runtime.mallocgcTinySizeN, mallocgcSmallNoScanSCN, mallocgcSmallScanNoHeaderSCN).
MEMSTATS_VARIANTS = ["gomemstats", "gomemstats-stripped", "gomemstats-pie", "gomemstats-sizespec"]


@pytest.mark.parametrize("variant", MEMSTATS_VARIANTS)
def test_go_counts_equal_memstats_mallocs(variant):
    path = tp(f"go/{variant}")
    if variant.endswith("-sizespec") and not os.path.exists(path):
        pytest.skip(f"{path} not built: the installed Go has no GOEXPERIMENT=sizespecializedmalloc")
    target = Target(path, "300")
    try:
        tracer = Tracer(["malloc", "--json", "-p", str(target.pid)])
        target.go()
        out, _ = target.proc.communicate(timeout=30)
        assert target.proc.returncode == 0
        m = re.fullmatch(rb"mallocs (\d+) zero (\d+)\n", out)
        assert m, out
        mallocs, zero = int(m.group(1)), int(m.group(2))
        assert zero == 300 * 100
        rc, out, err = tracer.wait()
        assert rc == 0, err
        hist, classes = parse(out)
        assert hist["count"] == mallocs, (hist, mallocs)
        assert hist["zero_size"] == zero
        assert hist["size_specialized"] == variant.endswith("-sizespec")
        # No size-0 class: counts by class add up to the allocations.
        assert sum(c["count"] for c in classes["classes"]) + classes["large"]["count"] == mallocs
        assert all(c["size"] > 0 for c in classes["classes"])
        assert classes["large"]["count"] == 300  # the 40000 B requests
        if variant.endswith("-sizespec"):
            assert hist["calls"]["mallocgc_specialized"] > 0
    finally:
        target.kill()
