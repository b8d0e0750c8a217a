"""rtmon serve's /debug/pprof/ paths, read by their real consumer (`go tool pprof`) and compared
with what the programs say themselves: testprog/stacks/cpuburn.c and testprog/go/cpuburn burn
their CPU in two burners reached as main -> level1 -> level2 -> level3 -> burner;
testprog/go/gostack writes runtime.Stack(buf, true) and runtime.NumGoroutine() once its
goroutines are parked (as test_go_inspect.py compares with rtmon stack)."""
import collections
import os
import re
import shutil
import subprocess
import threading

import pytest

from conftest import Tracer, tp
from test_go_inspect import check_stack, parse_dump, spinner, target_factory  # noqa: F401
from test_serve import get, serve_addr

GO = shutil.which("go") or "/usr/local/go/bin/go"
ROUNDS = "1000000"  # far more than the test lasts: the program is ended with rtmon


def fetch(url, path):
    """The body of a 200 answer, written to path."""
    req = subprocess.run(["curl", "-sS", "-o", str(path), "-w", "%{http_code} %{content_type}",
                          url], capture_output=True, text=True, timeout=120)
    assert req.returncode == 0, req.stderr
    return req.stdout


def pprof_traces(path):
    """`go tool pprof -traces`: [(value, [func, ...] innermost first)], inline marks dropped."""
    r = subprocess.run([GO, "tool", "pprof", "-traces", str(path)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = []
    for block in r.stdout.split("-----------+-------------------------------------------------------")[1:]:
        # label lines ("pid:  812") come first
        lines = [x for x in block.split("\n")
                 if x.strip() and not x.split()[0].endswith(":")]
        if not lines:
            continue
        m = re.match(r"^\s+(\S+)\s+(.*)$", lines[0])
        assert m, block
        value = m.group(1)
        funcs = [m.group(2)] + [x.strip() for x in lines[1:]]
        funcs = [re.sub(r" \(inline\)$", "", f) for f in funcs]
        out.append((value, funcs))
    return out


def cpu_ms(value):
    """A -traces value of the cpu sample type: "90ms", "1.20s"."""
    m = re.match(r"^([\d.]+)(ms|s)$", value)
    assert m, value
    return float(m.group(1)) * (1000 if m.group(2) == "s" else 1)


def pprof_raw(path):
    r = subprocess.run([GO, "tool", "pprof", "-raw", str(path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("prog,burners,main", [
    ("cpuburn-nofp", ["burn_a", "burn_b"], "main"),
    ("go/cpuburn", ["main.burnA", "main.burnB"], "main.main"),
])
def test_cpu_profile_names_the_burners(tmp_path, prog, burners, main):
    tracer = Tracer(["serve", "--listen", "127.0.0.1:0", "--", tp(prog), ROUNDS])
    try:
        addr = serve_addr(tracer)
        pb = tmp_path / "cpu.pb.gz"
        assert fetch(f"http://{addr}/debug/pprof/profile?seconds=2", pb) == \
            "200 application/octet-stream"
        raw = pprof_raw(pb)
        assert "PeriodType: cpu nanoseconds" in raw, raw
        for b in burners:
            assert re.search(rf"^\s+\d+: 0x[0-9a-f]+ M=\d+ {re.escape(b)}\b", raw, re.M), raw
        traces = pprof_traces(pb)
        ms = {b: sum(cpu_ms(v) for v, f in traces if f[0] == b) for b in burners}
        # the burners are where the program's CPU goes, each seen as the leaf under main
        # (rtmon profile's own test checks every caller; Go's frame-pointer walk can miss the
        # frameless leaf's caller, so only main is required here)
        assert sum(ms.values()) > 0.5 * sum(cpu_ms(v) for v, _ in traces), traces
        for b in burners:
            assert any(f[0] == b and main in f for _, f in traces), (b, traces)
        rc, _, err = tracer.stop()
        assert rc in (0, 143), err
    finally:
        tracer.stop()


def dump_records(text):
    """debug=1's text: (total, Counter of ((func, file:line), ...) per stack record)."""
    head, *records = text.strip("\n").split("\n\n")
    lines = head.split("\n")
    m = re.match(r"^goroutine profile: total (\d+)$", lines[0])
    assert m, text
    records = ["\n".join(lines[1:])] + records
    counts = collections.Counter()
    for rec in records:
        rl = rec.split("\n")
        m = re.match(r"^(\d+) @( 0x[0-9a-f]+)*$", rl[0])
        assert m, rec
        frames = []
        for x in rl[1:]:
            f = re.match(r"^#\t0x[0-9a-f]+\t+(\S+)\+0x[0-9a-f]+\t+(\S+:\d+)$", x)
            assert f or x.startswith("#\t"), x
            if f:
                frames.append((f.group(1), f.group(2)))
        counts[tuple(frames)] += int(m.group(1))
    return int(re.match(r"^goroutine profile: total (\d+)", text).group(1)), counts


def parked_stacks(t):
    """The program's own dump: the frames of each goroutine that stays parked (not main's, which
    was running when it wrote the dump, nor the spinner's), as (func, file:line) tuples."""
    want = parse_dump(t.stack)
    spin = spinner(want)
    out = collections.Counter()
    for goid, (_, frames, _) in want.items():
        if goid not in (1, spin):
            out[tuple((f, loc.split(" +")[0]) for f, loc in frames)] += 1
    return out


def test_goroutine_dumps(target_factory, tmp_path):  # noqa: F811
    t = target_factory(tp("go/gostack"), extra=5)
    tracer = Tracer(["serve", "--listen", "127.0.0.1:0", "-p", str(t.pid)])
    try:
        addr = serve_addr(tracer)
        # debug=2: runtime.Stack's text, as rtmon stack prints it
        status, ctype, text = get(f"http://{addr}/debug/pprof/goroutine?debug=2")
        assert (status, ctype) == (200, "text/plain; charset=utf-8"), text
        check_stack(t, text)
        want = parked_stacks(t)
        assert max(want.values()) == 5  # the EXTRA goroutines share one stack

        # debug=1: one record per distinct stack with its count
        status, _, text = get(f"http://{addr}/debug/pprof/goroutine?debug=1")
        assert status == 200, text
        total, got = dump_records(text)
        assert total == t.numgoroutine
        assert sum(got.values()) == total
        parked = collections.Counter({k: v for k, v in got.items()
                                      if k and not {"main.main", "main.spin"} & {f for f, _ in k}})
        assert parked == want, (parked, want)

        # debug=0 (the default): a goroutine profile that go tool pprof reads
        pb = tmp_path / "goroutine.pb.gz"
        assert fetch(f"http://{addr}/debug/pprof/goroutine", pb) == \
            "200 application/octet-stream"
        assert "PeriodType: goroutine count" in pprof_raw(pb)
        traces = pprof_traces(pb)
        from_pprof = collections.Counter()
        for value, funcs in traces:
            while funcs and funcs[0].startswith("runtime."):  # debug=2 hides these
                funcs = funcs[1:]
            if funcs and not {"main.main", "main.spin"} & set(funcs):
                from_pprof[tuple(funcs)] += int(value)
        assert from_pprof == collections.Counter(
            {tuple(f for f, _ in k): v for k, v in want.items()}), (from_pprof, want)
        rc, _, err = tracer.stop()
        assert rc == 0, err
    finally:
        tracer.stop()


def wait_served(addr, pid):
    """--binpath: until the scan's process is on /metrics (published every 100 ms)."""
    for _ in range(300):
        if f'pid="{pid}"' in get(f"http://{addr}/metrics")[2]:
            return
        threading.Event().wait(0.1)
    raise AssertionError(f"PID {pid} never appeared on /metrics")


def one_line(addr, path, status, *words):
    got, _, body = get(f"http://{addr}{path}")
    assert got == status, (path, got, body)
    assert body.count("\n") == 1 and body.endswith("\n"), body
    for w in words:
        assert w in body, (path, body)


def test_bad_pprof_requests(target_factory):  # noqa: F811
    c_prog = Tracer(["serve", "--listen", "127.0.0.1:0", "--", tp("cpuburn-fp"), ROUNDS])
    try:
        addr = serve_addr(c_prog)
        for bad in ("0", "-1", "abc", "601", "1.5", ""):
            one_line(addr, f"/debug/pprof/profile?seconds={bad}", 400, "bad seconds", "600")
        one_line(addr, "/debug/pprof/profile?seconds=1&pid=1", 404, "PID 1 is not served")
        one_line(addr, "/debug/pprof/profile?seconds=1&pid=x", 400, "bad pid")
        one_line(addr, "/debug/pprof/goroutine?debug=2", 400, "is not a Go program")
        one_line(addr, "/debug/pprof/goroutine?debug=3", 400, "bad debug")
        one_line(addr, "/debug/pprof/heap", 400, "no heap profile", "is not a Go program")
        rc, _, err = c_prog.stop()
        assert rc in (0, 143), err
    finally:
        c_prog.stop()


def test_heap_profile_read_by_go_tool_pprof(tmp_path):
    """/debug/pprof/heap on testprog/go/goheap (MemProfileRate=1, its work done, still running):
    `go tool pprof` fetches it from the URL, with the four sample types and keepA's 3000 objects
    in use, exactly (test_heap.py has rtmon heap's own checks)."""
    from test_heap import KEEP, on_path, pprof_samples
    tracer = Tracer(["serve", "--listen", "127.0.0.1:0", "--", tp("go/goheap"), str(tmp_path),
                     "3000", "2000", "1", "30"])
    try:
        addr = serve_addr(tracer)
        for _ in range(100):  # the program does its work, then stays
            if (tmp_path / "counts.json").exists():
                break
            threading.Event().wait(0.1)
        threading.Event().wait(0.3)  # the next publication drains what is left of the ring
        one_line(addr, "/debug/pprof/heap?gc=1", 400, "never runs the target's collector")
        one_line(addr, "/debug/pprof/heap?debug=1", 400, "bad debug")
        pb = tmp_path / "served.pb.gz"
        assert fetch(f"http://{addr}/debug/pprof/heap", pb) == "200 application/octet-stream"
        types, samples = pprof_samples(f"http://{addr}/debug/pprof/heap")
        assert types == ["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"], types
        assert sum(v[2] for v, f, _ in samples if on_path(f, KEEP)) == 3000, samples
        assert sum(v[3] for v, f, _ in samples if on_path(f, KEEP)) == 3000 * 96, samples
        raw = pprof_raw(pb)
        assert "PeriodType: space bytes" in raw and "Period: 1\n" in raw, raw
    finally:
        tracer.stop()


def test_pid_chooses_among_binpath_processes(target_factory):  # noqa: F811
    t = target_factory(tp("go/gostack"))
    tracer = Tracer(["serve", "--listen", "127.0.0.1:0", "--binpath", tp("go/gostack")])
    try:
        addr = serve_addr(tracer)
        wait_served(addr, t.pid)
        one_line(addr, "/debug/pprof/goroutine?debug=2", 400, "?pid=N", "--binpath")
        status, _, text = get(f"http://{addr}/debug/pprof/goroutine?debug=2&pid={t.pid}")
        assert status == 200, text
        check_stack(t, text)
        one_line(addr, f"/debug/pprof/goroutine?pid={t.pid + 100000}", 404, "is not served")
    finally:
        tracer.stop()


def perf_fds(pid):
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:[perf_event]"
        except OSError:
            pass
    return n


def test_scrapes_answered_while_a_profile_is_taken():
    """A 5 s profile runs on a worker: once its CPU-clock events are open (one per CPU, seen in
    rtmon's /proc/PID/fd), /metrics is answered, several times, before the profile's answer."""
    tracer = Tracer(["serve", "--listen", "127.0.0.1:0", "--", tp("cpuburn-fp"), ROUNDS])
    try:
        addr = serve_addr(tracer)
        before = perf_fds(tracer.proc.pid)
        result = {}
        th = threading.Thread(target=lambda: result.update(
            p=fetch(f"http://{addr}/debug/pprof/profile?seconds=5", "/dev/null")))
        th.start()
        for _ in range(3000):
            if perf_fds(tracer.proc.pid) >= before + os.cpu_count() or not th.is_alive():
                break
            threading.Event().wait(0.01)
        assert th.is_alive(), result
        for _ in range(5):
            assert get(f"http://{addr}/metrics")[0] == 200
        assert th.is_alive() and "p" not in result
        th.join(60)
        assert result["p"] == "200 application/octet-stream"
        rc, _, err = tracer.stop()
        assert rc in (0, 143), err
    finally:
        tracer.stop()
