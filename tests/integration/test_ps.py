"""rtmon ps, tree, info and -n NAME (user/commands/ps.c, info.c, procinfo.c, runtime_id.c; docs/ps.md).

References come from outside rtmon: `go version -m` for Go binaries, the interpreter's own
platform.python_version(), `java -version`. Other helpers' processes may be running: every check
looks up the processes the test started, by PID, and names are made unique per test."""
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid

import pytest

from conftest import RTMON, Target, Tracer, json_lines, pyenv_pythons, run, tp

DEBIAN_PYTHON = "/usr/bin/python3.11"
GO = shutil.which("go") or ("/usr/local/go/bin/go" if os.path.exists("/usr/local/go/bin/go") else None)
HOLD = "import sys, time; print('ready', flush=True); sys.stdin.read()"


def one_line_error(args, text, rc=1):
    r = run(args)
    assert r.returncode == rc, (r.returncode, r.stderr)
    assert r.stderr.count("\n") == 1 and text in r.stderr, r.stderr
    assert r.stdout == ""
    return r


def ps_json():
    r = run(["ps", "--json"])
    assert r.returncode == 0 and r.stderr == "", r.stderr
    objs = json_lines(r.stdout)
    assert objs and objs[-1]["type"] == "summary" and objs[-1]["command"] == "ps"
    procs = [o for o in objs if o["type"] == "process"]
    assert len(procs) == len(objs) - 1 == objs[-1]["processes"]
    return {p["pid"]: p for p in procs}, objs[-1]


def go_reference(path):
    """(version, module) per `go version -m`."""
    out = subprocess.run([GO, "version", "-m", path], capture_output=True, text=True, check=True).stdout
    version = out.splitlines()[0].split()[-1]
    mod = re.search(r"^\tmod\t(\S+)", out, re.M)
    return version, mod.group(1) if mod else ""


class Held:
    """A process that waits on stdin (a test program's gate, or HOLD for an interpreter) and prints
    'ready' first when told to."""

    def __init__(self, argv, ready=False, cwd=None):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, cwd=cwd)
        self.pid = self.proc.pid
        if ready:
            line = self.proc.stdout.readline()
            assert line.startswith("ready"), (line, self.proc.stderr.read())
        else:
            time.sleep(0.1)  # exec and the loader done

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


@pytest.fixture
def held():
    started = []

    def start(argv, **kw):
        h = Held(argv, **kw)
        started.append(h)
        return h

    yield start
    for h in started:
        h.stop()


def unique_copy(tmp_path, src, prefix="rtps"):
    """src copied under a name no other process has: -n NAME tests match on it."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    dst = tmp_path / name
    shutil.copy2(src, dst)
    return str(dst), name


# ---- runtimes ----

@pytest.mark.skipif(GO is None, reason="no go command for the reference")
def test_go_plain_stripped_pie_and_old_versions(held):
    paths = [tp("go/goroutines"), tp("go/goroutines-stripped"), tp("go/gcprog-pie")]
    # The same program built by older Go releases (make go-fixtures), when present.
    paths += sorted(glob.glob(os.path.join(os.path.dirname(tp("go/goroutines")), "vers",
                                           "goroutines-go1.2[0-9]*-stripped")))[:2]
    procs = [held([p]) for p in paths]
    rows, _ = ps_json()
    for p, h in zip(paths, procs):
        row = rows[h.pid]
        version, module = go_reference(p)
        assert row["runtime"] == "go", row
        assert row["version"] == version and row["module"] == module, row
        assert row["exe"] == p and row["ppid"] == os.getpid()
        assert row["name"] == os.path.basename(p)[:15]
        assert row["traced"] is True


def test_c_program_is_native(held):
    progs = [tp("alloc"), tp("alloc-static"), tp("alloc-stripped")]
    procs = [held([p]) for p in progs]
    rows, _ = ps_json()
    for p, h in zip(progs, procs):
        row = rows[h.pid]
        assert row["runtime"] == "native" and row["version"] == "" and row["module"] == "", row
        assert row["exe"] == p and row["traced"] is True


def python_version(interp):
    return subprocess.run([interp, "-c", "import platform; print(platform.python_version())"],
                          capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.skipif(not os.path.exists(DEBIAN_PYTHON), reason="no Debian python3.11")
def test_python_with_and_without_probes(held):
    debian = held([DEBIAN_PYTHON, "-c", HOLD], ready=True)
    rows, _ = ps_json()
    row = rows[debian.pid]
    assert row["runtime"] == "python" and row["version"] == python_version(DEBIAN_PYTHON), row
    assert row["traced"] is True  # USDT probes
    # pyenv's builds (shared libpython, no USDT probes): recognised; traced fully where rtmon gc
    # probes the collector's functions instead (3.9 to 3.13), not before.
    pyenv = {v: p for v, p in pyenv_pythons().items() if v >= (3, 6)}
    if not pyenv:
        pytest.skip("no pyenv CPython 3.6 or later ($PYENV_ROOT or ~/.pyenv)")
    for (_, minor), interp in sorted(pyenv.items()):
        other = held([interp, "-c", HOLD], ready=True)
        rows, _ = ps_json()
        row = rows[other.pid]
        assert row["runtime"] == "python" and row["version"] == python_version(interp), row
        assert row["traced"] is (minor >= 9), row
        r = run(["info", str(other.pid)])
        assert re.search(r"^runtime file: +/\S+/libpython3\.\d+m?\.so\S*$", r.stdout, re.M), r.stdout
        if minor >= 9:
            func = "collect" if minor == 9 else "gc_collect_main"
            gen = r", generation from invoke_gc_callback\S*" if minor >= 13 else ""
            assert re.search(rf"^  gc +yes +no USDT probes: entry and return of {func}{gen} in "
                             r"/\S+libpython", r.stdout, re.M), r.stdout
        else:
            assert re.search(r"^  gc +no +/\S+libpython\S+ has no USDT probes, and .*only in "
                             r"CPython 3\.9 to 3\.13.*\(build CPython with --with-dtrace",
                             r.stdout, re.M), r.stdout


def java_version(java):
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    return re.search(r' version "([^"]+)"', out).group(1)


@pytest.mark.skipif(not shutil.which("java"), reason="no java")
def test_java(held, tmp_path):
    src = tmp_path / "RtmonPsHold.java"
    src.write_text("public class RtmonPsHold { public static void main(String[] a) throws Exception {"
                   " System.out.println(\"ready\"); System.in.read(); } }\n")
    java = shutil.which("java")
    h = held([java, str(src)], ready=True)  # the source launcher: no javac step
    rows, _ = ps_json()
    row = rows[h.pid]
    assert row["runtime"] == "java" and row["version"] == java_version(java), row
    assert row["exe"] == os.path.realpath(java) and row["traced"] is True


# ---- output forms ----

def test_table_and_tree(held):
    h = held([tp("go/goroutines")])
    r = run(["ps"])
    assert r.returncode == 0 and r.stderr == ""
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["PID", "PPID", "NAME", "RUNTIME", "VERSION", "MODULE", "EXE"]
    row = next(line for line in lines if re.match(rf"^[* ] +{h.pid} ", line))
    mark, fields = row[0], row[1:].split()
    assert mark == "*"
    assert fields[:4] == [str(h.pid), str(os.getpid()), "goroutines", "go"]
    assert fields[4].startswith("go1.") and fields[5] == "rtmon/testprog/goroutines"
    assert fields[6] == tp("go/goroutines")
    assert re.fullmatch(r"\d+ processes, \d+ traced fully \(\*\); skipped \d+: \d+ kernel threads, "
                        r"\d+ zombies, \d+ exited while listed, \d+ not readable.*", lines[-1])

    r = run(["tree"])
    assert r.returncode == 0 and r.stderr == ""
    lines = r.stdout.splitlines()
    me = next(i for i, line in enumerate(lines) if re.search(rf"\b{os.getpid()} \(", line))
    child = next(i for i, line in enumerate(lines) if re.search(rf"\b{h.pid} \(goroutines\) \{{go go1\.", line))
    assert lines[child].endswith(" *")
    # The child hangs under this test process, one level deeper.
    depth = lambda line: len(re.match(r"^[│ ├└─]*", line).group(0))
    assert child > me and depth(lines[child]) == depth(lines[me]) + 4
    assert all(depth(line) > depth(lines[me]) for line in lines[me + 1:child])
    assert lines[-1].startswith(lines[-1].split(" ")[0]) and "processes" in lines[-1]


def test_json_summary_counts(held):
    rows, summary = ps_json()
    assert summary["skipped"] == (summary["kernel_threads"] + summary["zombies"] +
                                  summary["not_permitted"] + summary["exited"])
    assert summary["traced"] == sum(1 for r in rows.values() if r["traced"])
    assert summary["kernel_threads"] > 0  # kthreadd's children are never listed
    assert all(set(r) == {"type", "time", "pid", "ppid", "name", "runtime", "version", "module", "exe", "traced"}
               for r in rows.values())


def pause_ps(args):
    """rtmon ps stopped right after it listed /proc (RTMON_TEST_PS_PAUSE_FD): returns (proc, sock)."""
    mine, theirs = socket.socketpair()
    env = dict(os.environ, RTMON_TEST_PS_PAUSE_FD=str(theirs.fileno()))
    p = subprocess.Popen([RTMON] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env, pass_fds=[theirs.fileno()])
    theirs.close()
    mine.settimeout(10)
    assert mine.recv(7) == b"listed\n"
    return p, mine


def test_process_exiting_while_listed(held):
    """A process listed, then gone (reaped) or a zombie before rtmon reads it: skipped and counted, no
    error."""
    gone = held([tp("alloc")])
    zombie = held([tp("alloc")])
    p, sock = pause_ps(["ps", "--json"])
    gone.proc.kill()
    gone.proc.wait()
    zombie.proc.send_signal(signal.SIGKILL)
    deadline = time.time() + 5
    while time.time() < deadline:  # not reaped: a zombie once the kill is done
        with open(f"/proc/{zombie.pid}/stat") as f:
            if f.read().split(") ")[1].startswith("Z"):
                break
        time.sleep(0.01)
    sock.send(b"g")
    out, err = p.communicate(timeout=10)
    assert p.returncode == 0 and err == "", err
    objs = json_lines(out)
    pids = {o["pid"] for o in objs if o["type"] == "process"}
    assert gone.pid not in pids and zombie.pid not in pids
    assert objs[-1]["exited"] >= 1 and objs[-1]["zombies"] >= 1


def test_churn_never_errors(tmp_path):
    """Processes starting and exiting all the time while rtmon ps and tree run: never an error."""
    churn = subprocess.Popen(["/bin/sh", "-c", "while :; do /bin/true; done"])
    try:
        for i in range(15):
            r = run(["ps", "--json"] if i % 3 else ["tree"])
            assert r.returncode == 0 and r.stderr == "", r.stderr
            if i % 3:
                json_lines(r.stdout)  # every line parses
    finally:
        churn.kill()
        churn.wait()


def test_not_root_sees_own_processes_and_counts_the_rest():
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", RTMON, "ps", "--json"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    objs = json_lines(r.stdout)
    procs = [o for o in objs if o["type"] == "process"]
    summary = objs[-1]
    # rtmon itself (uid 65534) is readable; this root test process is not.
    assert any(o["name"] == "rtmon" and o["exe"] == RTMON for o in procs)
    assert all(o["pid"] != os.getpid() for o in procs)
    assert summary["not_permitted"] >= 1
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", RTMON, "ps"],
                       capture_output=True, text=True, timeout=20)
    assert "not readable (run as root)" in r.stdout.splitlines()[-1]


def test_ps_usage_errors():
    one_line_error(["ps", "extra"], "unexpected argument 'extra'", rc=2)
    one_line_error(["ps", "--frobnicate"], "unrecognized option", rc=2)
    one_line_error(["tree", "x"], "unexpected argument", rc=2)
    one_line_error(["tree", "--json"], "unrecognized option", rc=2)
    r = run(["ps", "--help"])
    assert r.returncode == 0 and "Examples:" in r.stdout and "traces fully" in r.stdout


# ---- info ----

def info_fields(out):
    fields = {}
    for line in out.splitlines():
        m = re.match(r"^([a-zA-Z ]+):\s+(.*)$", line)
        if m and not line.startswith(" "):
            fields.setdefault(m.group(1), m.group(2))
    return fields


@pytest.mark.skipif(not os.path.exists(DEBIAN_PYTHON), reason="no Debian python3.11")
def test_info_python_server(held, tmp_path):
    sock_path = tmp_path / "rtps.sock"
    code = ("import socket, sys, time\n"
            "t = socket.socket(); t.bind(('127.0.0.1', 0)); t.listen()\n"
            "c = socket.socket(); c.connect(t.getsockname())\n"  # connected: not listening
            "u = socket.socket(socket.AF_UNIX); u.bind(sys.argv[1]); u.listen()\n"
            "d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); d.bind(('127.0.0.1', 0))\n"
            "print('ready', t.getsockname()[1], d.getsockname()[1], flush=True); sys.stdin.read()\n")
    p = subprocess.Popen([DEBIAN_PYTHON, "-c", code, str(sock_path)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        _, tcp_port, udp_port = p.stdout.readline().split()
        r = run(["info", str(p.pid)])
        assert r.returncode == 0 and r.stderr == "", r.stderr
        f = info_fields(r.stdout)
        assert f["PID"] == f"{p.pid} (python3.11)"
        assert f["parent PID"].startswith(f"{os.getpid()} (")
        assert f["threads"] == "1"
        assert re.match(r"RSS \d+\.\d MiB \(\d+\.\d+% of memory\), VSZ \d+\.\d MiB", f["memory"])
        assert f["user"] == "root (uid 0)"
        # Arguments joined by spaces; the newlines inside the -c argument shown as '?'.
        assert f["command line"].startswith(f"{DEBIAN_PYTHON} -c import socket, sys, time?t = socket")
        assert f["command line"].endswith(f"sys.stdin.read()? {sock_path}")
        assert re.fullmatch(r"\d\d:\d\d", f["elapsed time"])
        assert f["executable"] == DEBIAN_PYTHON
        assert f["runtime"] == f"python {python_version(DEBIAN_PYTHON)}"
        assert f["traced fully"] == "yes (*)"
        listening = re.findall(r"^(?:listening:)?\s+(tcp6?|udp6?|unix)\s+(\S+)$", r.stdout, re.M)
        assert sorted(listening) == sorted([("tcp", f"127.0.0.1:{tcp_port}"), ("udp", f"127.0.0.1:{udp_port}"),
                                            ("unix", str(sock_path))])
        assert re.search(r"^  gc +yes +USDT python:gc__start", r.stdout, re.M)
        assert re.search(r"^  malloc +yes ", r.stdout, re.M)
    finally:
        p.kill()
        p.communicate()


def test_info_go_and_native(held):
    g = held([tp("go/goroutines-stripped")])
    r = run(["info", str(g.pid)])
    assert r.returncode == 0, r.stderr
    f = info_fields(r.stdout)
    assert f["runtime"].startswith("go go1.") and f["module"] == "rtmon/testprog/goroutines"
    assert f["listening"] == "none"
    assert re.search(r"^  thr +yes +OS threads and goroutines", r.stdout, re.M)
    n = held([tp("alloc")])
    r = run(["info", str(n.pid)])
    f = info_fields(r.stdout)
    assert f["runtime"] == "native" and f["traced fully"] == "yes (*)"
    assert re.search(r"^  gc +with +--cycle SYM", r.stdout, re.M)


def test_info_kernel_thread_and_bad_pids():
    kthread = None
    for pid in sorted(int(d) for d in os.listdir("/proc") if d.isdigit()):
        try:
            with open(f"/proc/{pid}/stat") as f:
                flags = int(f.read().rsplit(") ", 1)[1].split()[6])
        except (OSError, IndexError):
            continue
        if flags & 0x00200000:
            kthread = pid
            break
    assert kthread
    r = run(["info", str(kthread)])
    assert r.returncode == 0 and "runtime:        none (a kernel thread" in r.stdout
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    one_line_error(["info", str(pid_max)], f"no process with PID {pid_max}")
    one_line_error(["info", "abc"], "invalid PID 'abc'", rc=2)
    one_line_error(["info"], "no PID", rc=2)
    one_line_error(["info", "1", "2"], "one PID only", rc=2)


# ---- -n NAME ----

ALLOCS = 568  # testprog/alloc.c: allocating calls in one round (test_malloc.py)


def test_name_one_match_is_traced(held, tmp_path):
    exe, name = unique_copy(tmp_path, tp("alloc"))
    target = Target(exe)
    try:
        tracer = Tracer(["malloc", "--json", "-n", name])
        target.go()
        assert target.wait() == 0
        rc, out, err = tracer.wait()
        assert rc == 0, err
        hist = next(o for o in json_lines(out) if o["type"] == "hist")
        assert hist["pid"] == target.pid and hist["count"] == ALLOCS
        assert f"PID {target.pid} ({name})" in err
    finally:
        target.kill()


@pytest.mark.parametrize("cmd", ["malloc", "thr", "lat", "gc"])
def test_name_two_matches_are_listed(held, tmp_path, cmd):
    exe, name = unique_copy(tmp_path, tp("go/goroutines-stripped"))
    a, b = held([exe]), held([exe])
    r = run([cmd, "-n", name, "-d", "1"])
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.count("\n") == 1, r.stderr
    assert f"2 processes named '{name}': {a.pid} ({name}), {b.pid} ({name}); choose one with -p PID" in r.stderr


def test_name_none_and_bad():
    one_line_error(["thr", "-n", f"rtps-none-{uuid.uuid4().hex[:8]}"], "no process named")
    one_line_error(["thr", "-n", ""], "empty process name", rc=2)
    one_line_error(["thr", "-n", "x", "-p", "1"], "more than one target", rc=2)


def test_name_matches_executable_past_the_comm_limit(held, tmp_path):
    """The kernel keeps 15 characters of a name; the executable's file name matches in full."""
    exe, name = unique_copy(tmp_path, tp("alloc"), prefix="rtps-long-name-x")
    assert len(name) > 15
    h = held([exe])
    for n in (name, name[:15]):
        tracer = Tracer(["thr", "-n", n])
        rc, _, err = tracer.stop()
        assert rc == 0 and f"PID {h.pid} (" in err, err


def test_name_never_matches_rtmon_or_its_parents(held, tmp_path):
    """A parent of rtmon with the name asked for is not a candidate; another process of that name is."""
    sh, name = unique_copy(tmp_path, "/bin/sh")
    script = f"'{RTMON}' thr -n {name} -d 0.2; echo rc=$?"
    r = subprocess.run([sh, "-c", script], capture_output=True, text=True, timeout=20)
    assert "rc=1" in r.stdout and "no process named" in r.stderr, (r.stdout, r.stderr)
    other = held([sh, "-c", "read x"])
    r = subprocess.run([sh, "-c", script], capture_output=True, text=True, timeout=20)
    assert "rc=0" in r.stdout and f"PID {other.pid} ({name})" in r.stderr, (r.stdout, r.stderr)
