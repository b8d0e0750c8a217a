"""rtmon heap on testprog/go/goheap, against the program's own accounting: keepA(N) allocates N
objects of 96 B that stay reachable, dropB(M) M objects of 2000 B (size class 2048) that become
garbage; two collections sweep them; then the program writes runtime/pprof's heap profile
(WriteHeapProfile). With runtime.MemProfileRate=1 every allocation is sampled, and the two paths'
counts are exact; with the default rate (512 KiB) rtmon sees the same sampled allocations as the
runtime, and its top stacks and inuse_space agree with the program's own profile. Plain, stripped
and PIE builds of the installed toolchain, and the older releases' builds when
tests/unit/build-go-fixtures.sh made them."""
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import BUILD, Target, json_lines, run, tp, trace_gated

GO = shutil.which("go") or "/usr/local/go/bin/go"
VARIANTS = ["go/goheap", "go/goheap-stripped", "go/goheap-pie"]
OLD_VERSIONS = ["go1.17.13", "go1.18.10", "go1.19.8", "go1.20.14", "go1.21.13", "go1.22.12",
                "go1.23.12", "go1.24.13", "go1.25.0"]
OLD = [f"{v}{s}" for v in OLD_VERSIONS for s in ("", "-stripped", "-pie")]
KEEP, DROP = ("main.keepA", "main.pathA"), ("main.dropB", "main.pathB")


def fixture(name):
    if name.startswith("go1."):  # an older release's build
        path = os.path.join(BUILD, "testprog", "go", "vers", f"goheap-{name}")
        if not os.path.exists(path):
            pytest.skip(f"{path} not built: run tests/unit/build-go-fixtures.sh {BUILD}")
        return path
    return tp(name)


def heap(path, tmp, n, m, rate, args=("--json",)):
    """rtmon heap -p on the program, held at its gate until rtmon traces; (rtmon's stdout,
    stderr, the program's counts.json)."""
    t = Target(path, str(tmp), str(n), str(m), str(rate))
    out, err = trace_gated(t, ["heap", *args])
    counts = json.loads((tmp / "counts.json").read_text())
    return out, err, counts


def stacks(out):
    """rtmon's JSON stacks: [(values, [func, ...] innermost first, labels)]."""
    return [(o["values"], [f.get("func") for f in o["frames"]], o["labels"])
            for o in json_lines(out) if o["type"] == "stack"]


def pprof_samples(path):
    """`go tool pprof -raw`: (sample type names, [(values, [func, ...] innermost first,
    {label: [values]})])."""
    r = subprocess.run([GO, "tool", "pprof", "-raw", str(path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    text = r.stdout
    samples_part = text.split("Samples:\n", 1)[1].split("\nLocations\n", 1)[0]
    locs_part = text.split("\nLocations\n", 1)[1].split("\nMappings\n", 1)[0]
    locs, cur = {}, None
    for line in locs_part.split("\n"):
        m = re.match(r"^\s*(\d+): 0x[0-9a-f]+ M=\d+ (\S+)", line)
        if m:
            cur = int(m.group(1))
            locs[cur] = [m.group(2)]
        elif line.strip() and cur is not None:
            locs[cur].append(line.split()[0])  # the callers this location's code was inlined in
    lines = samples_part.split("\n")
    types = [t.split("/")[0] for t in lines[0].split()]
    out = []
    for line in lines[1:]:
        m = re.match(r"^\s*([\d\s]+): ([\d ]+)\s*$", line)
        if m:
            funcs = [f for i in m.group(2).split() for f in locs[int(i)]]
            out.append(([int(v) for v in m.group(1).split()], funcs, {}))
            continue
        for key, vals in re.findall(r"(\w+):\[([^\]]*)\]", line) if out else ():
            out[-1][2][key] = [int(x) for x in vals.split()]
    return types, out


def on_path(funcs, path):
    return list(funcs[:len(path)]) == list(path)


def path_sum(samples, path, key, value):
    """The sum of one value over the samples whose innermost frames are path."""
    return sum(key(v, value) for v, f, _ in samples if on_path(f, path))


def rtmon_path(st, path, value, size=None):
    return sum(v[value] for v, f, lab in st
               if on_path(f, path) and (size is None or lab.get("bytes") == size))


@pytest.mark.parametrize("name", VARIANTS + OLD)
def test_every_allocation_sampled_counts_exact(tmp_path, name):
    """MemProfileRate=1: the two paths' counts exactly as the program made them, and as its own
    heap profile says."""
    n, m = 3000, 2000
    out, err, counts = heap(fixture(name), tmp_path, n, m, 1)
    assert counts["rate"] == 1 and counts["kept_live"] == n, counts
    st = stacks(out)
    assert rtmon_path(st, KEEP, "alloc_objects") == counts["keep_objects"] == n, st
    assert rtmon_path(st, KEEP, "alloc_space") == n * 96
    assert rtmon_path(st, KEEP, "inuse_objects") == n
    assert rtmon_path(st, KEEP, "inuse_space") == n * 96
    # dropB's own objects (2000 B in the 2048 B class); the runtime allocates on that path too
    # (a collection it starts), in other sizes, as its own profile shows
    assert rtmon_path(st, DROP, "alloc_objects", 2048) == counts["drop_objects"] == m
    assert rtmon_path(st, DROP, "alloc_space", 2048) == m * 2048
    assert rtmon_path(st, DROP, "inuse_objects", 2048) == 0
    assert rtmon_path(st, DROP, "inuse_space", 2048) == 0
    types, own = pprof_samples(tmp_path / "heap.pb.gz")
    assert types == ["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"]
    for path in (KEEP, DROP):
        for i, t in enumerate(types):
            want = sum(v[i] for v, f, lab in own if on_path(f, path) and
                       (path == KEEP or lab.get("bytes") == [2048]))
            assert rtmon_path(st, path, t, None if path == KEEP else 2048) == want, (path, t)
    summary = [o for o in json_lines(out) if o["type"] == "summary"][0]
    assert summary["memprofilerate"] == 1 and summary["lost"] == 0, summary
    assert summary["stacks_lost"] == 0, summary


@pytest.mark.parametrize("name", VARIANTS + OLD)
def test_default_rate_matches_the_programs_own_profile(tmp_path, name):
    """The default MemProfileRate: the same top stacks as runtime/pprof's profile, inuse_space
    within 10% (the same sampled objects, scaled the same way)."""
    n, m = 200000, 20000  # 19.2 MB kept, 41 MB dropped: tens of samples each
    out, err, counts = heap(fixture(name), tmp_path, n, m, 0)
    assert counts["rate"] == 512 * 1024, counts
    st = stacks(out)
    _, own = pprof_samples(tmp_path / "heap.pb.gz")
    index = {"alloc_objects": 0, "alloc_space": 1, "inuse_objects": 2, "inuse_space": 3}

    own_inuse = max(own, key=lambda s: s[0][3])[1][:2]
    own_alloc = max(own, key=lambda s: s[0][1])[1][:2]
    assert tuple(own_inuse) == KEEP and tuple(own_alloc) == DROP, own
    assert tuple(max(st, key=lambda s: s[0]["inuse_space"])[1][:2]) == KEEP, st
    assert tuple(max(st, key=lambda s: s[0]["alloc_space"])[1][:2]) == DROP, st
    for path, t in ((KEEP, "inuse_space"), (KEEP, "alloc_space"), (DROP, "alloc_space")):
        want = sum(v[index[t]] for v, f, _ in own if on_path(f, path))
        got = rtmon_path(st, path, t)
        assert want > 0 and abs(got - want) <= 0.1 * want, (path, t, got, want)
    assert "MemProfileRate 524288" not in err  # JSON: the rate is in the summary
    summary = [o for o in json_lines(out) if o["type"] == "summary"][0]
    assert summary["memprofilerate"] == 512 * 1024, summary


def test_pprof_read_by_go_tool_pprof_and_folded_adds_up(tmp_path):
    """--pprof: the four sample types and MemProfileRate as the period, read by go tool pprof;
    --folded: one line per stack whose values add up to the JSON totals."""
    pb = tmp_path / "heap.pb.gz"
    d1, d2 = tmp_path / "a", tmp_path / "b"
    d1.mkdir()
    d2.mkdir()
    heap(tp("go/goheap"), d1, 3000, 2000, 1, ("--pprof", str(pb)))
    r = subprocess.run([GO, "tool", "pprof", "-raw", str(pb)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "PeriodType: space bytes" in r.stdout and "Period: 1\n" in r.stdout, r.stdout
    types, samples = pprof_samples(pb)
    assert types == ["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"], types
    assert sum(v[2] for v, f, _ in samples if on_path(f, KEEP)) == 3000
    out, err, _ = heap(tp("go/goheap"), d2, 3000, 2000, 1, ("--folded", "--value", "bytes"))
    total = 0
    for line in out.splitlines():
        m = re.match(r"^(\S.*) (-?\d+)$", line)
        assert m, line
        total += int(m.group(2))
    summary = [x for x in err.splitlines() if x.startswith("sampled allocations")]
    assert summary, err
    assert total >= 3000 * 96 and any("main.keepA 288000" in x for x in out.splitlines()), out


def test_text_report_and_note_on_earlier_objects(tmp_path):
    out, err, _ = heap(tp("go/goheap"), tmp_path, 3000, 2000, 1, ("--top", "2"))
    assert re.search(r"^Top 2 of \d+ stacks by inuse_objects", out, re.M), out
    assert re.search(r"^#1 inuse_objects 3000 ", out, re.M), out
    assert "main.keepA" in out and "MemProfileRate 1" in out, out
    assert "objects sampled before tracing began are not known" in err, err


def test_not_go_one_line():
    r = run(["heap", "--", tp("alloc")])
    assert r.returncode != 0
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "is not a Go program" in lines[0], r.stderr


def test_interval_refused():
    r = run(["heap", "-i", "1", "--", "/bin/true"])
    assert r.returncode == 2 and "heap has no -i" in r.stderr, r.stderr


@pytest.mark.parametrize("name", VARIANTS)
def test_command_started_by_rtmon(tmp_path, name):
    """-- CMD: the process is traced from its first instruction; its MemProfileRate is read while
    it runs (it ends before any timer)."""
    r = run(["heap", "--json", "--", fixture(name), str(tmp_path), "3000", "2000", "1"])
    assert r.returncode == 0, r.stderr
    st = stacks(r.stdout)
    assert rtmon_path(st, KEEP, "inuse_objects") == 3000, st
    assert rtmon_path(st, DROP, "alloc_objects", 2048) == 2000, st
    summary = [o for o in json_lines(r.stdout) if o["type"] == "summary"][0]
    assert summary["memprofilerate"] == 1 and summary["frees_untraced"] == 0, summary


def test_release_without_the_functions_one_line(tmp_path):
    """A Go binary whose runtime has no mProf_Free (its name changed in a copy's function table,
    as a release that renamed it would look): one line naming the function, exit 1."""
    data = open(tp("go/goheap-stripped"), "rb").read()
    old = b"runtime.mProf_Free\x00"
    assert old in data
    path = tmp_path / "renamed"
    path.write_bytes(data.replace(old, b"runtime.mProf_Frex\x00"))
    path.chmod(0o755)
    r = run(["heap", "--", str(path), str(tmp_path), "10", "10", "1"])
    assert r.returncode == 1, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "has no runtime.mProf_Free" in lines[0], r.stderr
