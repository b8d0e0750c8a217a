"""rtmon malloc on Go programs: runtime.mallocgc sizes, Go size classes, stripped and PIE builds."""
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
