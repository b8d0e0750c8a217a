"""rtmon stack, memstats and stats on a running Go program (testprog/go/gostack), against what the
program's own runtime wrote a moment before: runtime.Stack(buf, true), runtime.ReadMemStats and
runtime.NumGoroutine. Plain, stripped and PIE builds of the installed toolchain, and the older
releases' builds when tests/unit/build-go-fixtures.sh made them (skipped when absent). While rtmon
reads, a goroutine of the program keeps incrementing a counter: the test reads it from
/proc/PID/mem and checks that no thread of the program was ever stopped."""
import json
import os
import re
import subprocess
import threading
import time

import pytest

from conftest import BUILD, RTMON, run, tp

VARIANTS = ["go/gostack", "go/gostack-stripped", "go/gostack-pie"]
OLD_VERSIONS = ["go1.17.13", "go1.18.10", "go1.19.8", "go1.20.14", "go1.21.13", "go1.22.12",
                "go1.23.12", "go1.24.13", "go1.25.0"]
OLD_SUFFIXES = ["", "-stripped", "-pie"]
HEADER = re.compile(r"^goroutine (\d+) \[([^\]]*)\]:$")


def old_fixture(version, suffix):
    path = os.path.join(BUILD, "testprog", "go", "vers", f"gostack-{version}{suffix}")
    if not os.path.exists(path):
        pytest.skip(f"{path} not built: run tests/unit/build-go-fixtures.sh {BUILD}")
    return path


class GoTarget:
    """The fixture, started and waited for until it has written its reports."""

    def __init__(self, path, tmp, extra=0):
        self.proc = subprocess.Popen([path, str(tmp), str(extra)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        assert line and line[0] == "ready", (line, self.proc.stderr.read())
        self.pid, self.counter_addr = int(line[1]), int(line[2], 16)
        self.stack = (tmp / "stack.txt").read_text()
        self.memstats = json.loads((tmp / "memstats.json").read_text())
        self.numgoroutine = int((tmp / "numgoroutine.txt").read_text())

    def counter(self):
        with open(f"/proc/{self.pid}/mem", "rb") as f:
            f.seek(self.counter_addr)
            return int.from_bytes(f.read(8), "little")

    def close(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def target_factory(tmp_path):
    made = []

    def make(path, extra=0):
        d = tmp_path / str(len(made))
        d.mkdir()
        t = GoTarget(path, d, extra)
        made.append(t)
        return t

    yield make
    for t in made:
        t.close()


class StopWatch:
    """Samples the state of every thread of pid while rtmon runs: a stopped thread ('t' traced,
    'T' stopped) or a tracer would mean the program was stopped."""

    def __init__(self, pid):
        self.pid, self.stopped, self.samples, self.done = pid, [], 0, False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.done:
            for tid in os.listdir(f"/proc/{self.pid}/task"):
                try:
                    with open(f"/proc/{self.pid}/task/{tid}/stat") as f:
                        state = f.read().rsplit(")", 1)[1].split()[0]
                    with open(f"/proc/{self.pid}/task/{tid}/status") as f:
                        tracer = [x for x in f if x.startswith("TracerPid:")][0].split()[1]
                except OSError:
                    continue
                if state in "tT" or tracer != "0":
                    self.stopped.append((tid, state, tracer))
            self.samples += 1

    def stop(self):
        self.done = True
        self.thread.join()


def run_watched(t, args):
    before = t.counter()
    w = StopWatch(t.pid)
    r = run(args + [str(t.pid)], timeout=60)
    w.stop()
    after = t.counter()
    assert w.samples > 0 and w.stopped == [], w.stopped
    assert after > before, "the counter goroutine did not run while rtmon read"
    return r


def parse_dump(text):
    """runtime.Stack's text: goid -> (status, frames [(func, "file:line +off")], created_by)."""
    out = {}
    for block in text.strip("\n").split("\n\n"):
        lines = block.split("\n")
        m = HEADER.match(lines[0])
        assert m, lines[0]
        frames, created, i = [], None, 1
        while i < len(lines):
            if lines[i].startswith("\tgoroutine running on other thread"):
                i += 1
                continue
            assert i + 1 < len(lines) and lines[i + 1].startswith("\t"), block
            loc = lines[i + 1][1:]
            if lines[i].startswith("created by "):
                created = (lines[i], loc)
            else:
                frames.append((re.sub(r"\([^()]*\)$", "", lines[i]), loc))
            i += 2
        goid = int(m.group(1))
        assert goid not in out
        out[goid] = (m.group(2), frames, created)
    return out


def spinner(dump):
    ids = [g for g, (_, frames, _) in dump.items() if frames and frames[0][0] == "main.spin"]
    assert len(ids) == 1, dump
    return ids[0]


def check_stack(t, text):
    want, got = parse_dump(t.stack), parse_dump(text)
    assert sorted(got) == sorted(want)
    assert len(got) == t.numgoroutine
    spin = spinner(want)
    for goid, (status, frames, created) in want.items():
        gstatus, gframes, gcreated = got[goid]
        assert gcreated == created, goid
        if goid == 1:  # it was running when it wrote the dump, and parked since
            continue
        if goid == spin:
            assert gstatus in ("running", "runnable"), gstatus
            continue
        assert gstatus == status, (goid, gstatus, status)
        assert gframes == frames, (goid, gframes, frames)
    return want, got


def check_stack_json(t, out, text_dump):
    lines = [json.loads(x) for x in out.splitlines()]
    assert [x["goid"] for x in lines] == list(text_dump)
    spin = spinner(parse_dump(t.stack))
    for x in lines:
        assert x["type"] == "goroutine" and x["pid"] == t.pid
        status, frames, created = text_dump[x["goid"]]
        assert (x["created_by"] is None) == (created is None)
        if x["goid"] == spin:  # running or runnable: its frames differ from one read to the next
            assert x["status"] in ("running", "runnable") and x["wait_reason"] is None
            continue
        assert [f["func"] for f in x["frames"]] == [f for f, _ in frames]
        assert [f"{f['file']}:{f['line']}" for f in x["frames"]] == \
            [loc.split(" +")[0] for _, loc in frames]
        if x["status"] == "waiting":
            assert x["wait_reason"] == status.split(",")[0]


def stack_case(target_factory, path):
    t = target_factory(path)
    r = run_watched(t, ["stack"])
    assert r.returncode == 0 and r.stderr == "", r.stderr
    _, got = check_stack(t, r.stdout)
    r = run(["stack", "--json", str(t.pid)])
    assert r.returncode == 0, r.stderr
    check_stack_json(t, r.stdout, got)


@pytest.mark.parametrize("variant", VARIANTS)
def test_stack(target_factory, variant):
    stack_case(target_factory, tp(variant))


@pytest.mark.parametrize("suffix", OLD_SUFFIXES)
@pytest.mark.parametrize("version", OLD_VERSIONS)
def test_stack_old_releases(target_factory, version, suffix):
    stack_case(target_factory, old_fixture(version, suffix))


def test_stack_10000_goroutines(target_factory):
    t = target_factory(tp("go/gostack-stripped"), extra=10000)
    r = run_watched(t, ["stack"])
    assert r.returncode == 0 and r.stderr == "", r.stderr
    want, got = check_stack(t, r.stdout)
    assert len(got) == t.numgoroutine > 10000


def one_line_error(r, code, *words):
    assert r.returncode == code and r.stdout == "", (r.returncode, r.stdout)
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    for w in words:
        assert w in lines[0], lines[0]


def test_stack_not_go():
    p = subprocess.Popen(["sleep", "30"])
    try:
        one_line_error(run(["stack", str(p.pid)]), 1, f"PID {p.pid} (sleep) is not a Go program")
    finally:
        p.kill()
        p.wait()


def test_stack_bad_pid():
    one_line_error(run(["stack", "12x"]), 2, "invalid PID")
    one_line_error(run(["stack"]), 2, "no PID")
    one_line_error(run(["stack", "1", "2"]), 2, "one PID only")
    pid = 4194304  # above the kernel's largest pid_max: never a process
    one_line_error(run(["stack", str(pid)]), 1, f"no process with PID {pid}")


def test_stack_other_user(target_factory):
    t = target_factory(tp("go/gostack"))
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", RTMON,
                        "stack", str(t.pid)], capture_output=True, text=True, timeout=30)
    one_line_error(r, 1, f"PID {t.pid} (gostack)", "Permission denied")
