"""How a target and rtmon end together: a -- CMD still running when tracing ends is ended (SIGTERM,
then SIGKILL after 2 s) unless --keep-running; rtmon exits with the status of a -- CMD that ended by
itself (128+N for signal N); SIGHUP and SIGQUIT end tracing with the final output like SIGINT; the
end of a -p target is said; and the messages for a -p target that cannot be traced (a zombie, a
kernel thread, another user's process without CAP_SYS_PTRACE), with the target's name escaped."""
import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import RTMON, Tracer, json_lines, run

# A command that ignores SIGTERM (so only SIGKILL ends it) and says when it is ready.
STUBBORN = ("import signal, sys, time\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n")


def command_pid(stderr):
    m = re.search(r"\(PID (\d+)\)\.\.\. Hit Ctrl-C", stderr)
    assert m, stderr
    return int(m.group(1))


def gone(pid, timeout=3.0):
    """The process no longer runs: reaped, or a zombie waiting for its new parent."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.02)
    return False


def ran(pid, name, timeout=5.0):
    """Waits until the -- CMD child has left rtmon's gate and runs name ("Tracing" comes first)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if os.path.basename(os.readlink(f"/proc/{pid}/exe")) == name:
                return
        except OSError:
            pass
        time.sleep(0.01)
    raise AssertionError(f"PID {pid} never ran {name}")


def kill_quietly(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.mark.parametrize("cmd", ["thr", "malloc", "lat"])
def test_duration_ends_the_command(cmd):
    t0 = time.monotonic()
    r = run([cmd, "-d", "1", "--", "sleep", "60"])
    assert r.returncode == 0, r.stderr
    pid = command_pid(r.stderr)
    assert time.monotonic() - t0 < 5
    # rtmon ended it and reaped it: nothing is left, not even a zombie.
    assert not os.path.exists(f"/proc/{pid}"), open(f"/proc/{pid}/stat").read()
    assert "left" not in r.stderr and "killed" not in r.stderr


def test_keep_running_leaves_the_command():
    # Files, not pipes: the command left running keeps rtmon's stdout and stderr open.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile("w+") as err:
        rc = subprocess.run([RTMON, "thr", "-d", "0.5", "--keep-running", "--", "sleep", "60"],
                            stdin=subprocess.DEVNULL, stdout=out, stderr=err, timeout=30).returncode
        err.seek(0)
        stderr = err.read()
    assert rc == 0, stderr
    pid = command_pid(stderr)
    try:
        assert not gone(pid, timeout=0.3)
        assert f"rtmon thr: left sleep (PID {pid}) running, untraced (--keep-running)" in stderr
    finally:
        kill_quietly(pid)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT])
def test_signal_ends_tracing_and_the_command(sig):
    tracer = Tracer(["thr", "--json", "--", "sleep", "60"])
    pid = command_pid("".join(tracer.stderr_lines))
    rc, out, err = tracer.stop(sig)
    assert rc == 0, err
    summary = json_lines(out)[-1]
    assert summary["type"] == "summary" and summary["end"] == "signal"
    assert "target_exit" not in summary and "target_signal" not in summary
    assert not os.path.exists(f"/proc/{pid}")


def test_command_ignoring_sigterm_is_killed():
    t0 = time.monotonic()
    r = run(["thr", "-d", "0.5", "--", sys.executable, "-c", STUBBORN])
    elapsed = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    pid = command_pid(r.stderr)
    assert not os.path.exists(f"/proc/{pid}")
    assert 2.4 <= elapsed < 6, elapsed
    assert f"did not end within 2 s of SIGTERM: killed it (SIGKILL)" in r.stderr


def test_rtmon_killed_ends_the_command():
    """rtmon killed outright (no final output): the command still gets SIGTERM, unless
    --keep-running."""
    for keep in (False, True):
        tracer = Tracer(["thr"] + (["--keep-running"] if keep else []) + ["--", "sleep", "60"])
        pid = command_pid("".join(tracer.stderr_lines))
        try:
            ran(pid, "sleep")
            tracer.proc.kill()
            tracer.proc.wait()  # not its pipes: a command left running holds them
            assert gone(pid) != keep
        finally:
            kill_quietly(pid)


@pytest.mark.parametrize("cmd", ["thr", "malloc", "lat"])
def test_exit_status_is_the_commands(cmd):
    r = run([cmd, "--", "sh", "-c", "exit 3"])
    assert r.returncode == 3, r.stderr
    assert "exited with status 3" in r.stdout
    r = run([cmd, "--json", "--", "sh", "-c", "exit 3"])
    assert r.returncode == 3 and json_lines(r.stdout)[-1]["target_exit"] == 3
    r = run([cmd, "--json", "--", "sh", "-c", "kill -KILL $$"])
    assert r.returncode == 128 + 9, r.stderr
    assert json_lines(r.stdout)[-1]["target_signal"] == 9
    r = run([cmd, "--", "sh", "-c", "kill -TERM $$"])
    assert r.returncode == 128 + 15 and "was killed by signal 15" in r.stdout


def test_keep_running_needs_a_command():
    r = run(["thr", "--keep-running", "-p", str(os.getpid())])
    assert r.returncode == 2
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and "--keep-running is for a command rtmon starts (-- CMD)" in lines[0]


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGQUIT])
@pytest.mark.parametrize("cmd", ["thr", "malloc"])
def test_sighup_sigquit_give_the_summary(cmd, sig):
    """The terminal closing (SIGHUP) or Ctrl-\\ (SIGQUIT) used to kill rtmon with no output."""
    target = subprocess.Popen(["sleep", "30"])
    try:
        tracer = Tracer([cmd, "-p", str(target.pid)])
        rc, out, err = tracer.stop(sig)
        assert rc == 0, err
        assert ("created 0, exited 0" if cmd == "thr" else "probe hits") in out, out
        assert target.poll() is None  # a -p target is never ended by rtmon
    finally:
        target.kill()
        target.wait()


@pytest.mark.parametrize("cmd", ["thr", "malloc", "lat"])
def test_pid_target_end_is_said(cmd):
    target = subprocess.Popen(["sleep", "0.5"])
    try:
        r = run([cmd, "-p", str(target.pid)])
    finally:
        target.wait()
    assert r.returncode == 0, r.stderr
    assert r.stdout.rstrip().splitlines()[-1].endswith(f"; PID {target.pid} (sleep) exited"), r.stdout
    r = subprocess.run([RTMON, cmd, "--json", "-p", str(os.getpid()), "-d", "0.2"],
                       capture_output=True, text=True, timeout=30)
    assert json_lines(r.stdout)[-1]["end"] == "duration"


EVIL = b"z\x1b[7m\xffq"  # the zombie's name: an escape sequence and a byte that is not UTF-8


def test_zombie_is_named_and_escaped():
    """A zombie is called a zombie (not "a kernel thread, or it exited"), and its name, which its
    owner chose, reaches the terminal escaped."""
    pid = os.fork()
    if pid == 0:
        ctypes.CDLL(None).prctl(15, ctypes.c_char_p(EVIL), 0, 0, 0)
        os._exit(0)
    try:
        time.sleep(0.2)  # not reaped: a zombie
        r = subprocess.run([RTMON, "thr", "-p", str(pid)], capture_output=True, timeout=30)
    finally:
        os.waitpid(pid, 0)
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0] == (f"rtmon thr: PID {pid} (z?[7m?q) is a zombie: it has exited and waits for its "
                        f"parent (PID {os.getpid()}) to reap it; nothing is left to trace").encode()


def test_kernel_thread_is_named():
    kthreads = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[6]) & 0x00200000:
                        kthreads.append(int(d))
            except (OSError, ValueError):
                pass
    if not kthreads:
        pytest.skip("no kernel thread visible in this PID namespace")
    r = run(["thr", "-p", str(min(kthreads))])
    assert r.returncode == 1
    assert "is a kernel thread: it runs no program to trace" in r.stderr, r.stderr


def test_permission_denied_names_cap_sys_ptrace():
    """Root without CAP_SYS_PTRACE may not read another user's /proc/PID/exe."""
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.skip("setpriv (util-linux) not installed")
    target = subprocess.Popen([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                               "sleep", "30"])
    try:
        time.sleep(0.2)
        r = subprocess.run([setpriv, "--bounding-set=-sys_ptrace", "--inh-caps=-sys_ptrace", RTMON, "thr",
                            "-p", str(target.pid)], capture_output=True, text=True, timeout=30)
    finally:
        target.kill()
        target.wait()
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert f"cannot open /proc/{target.pid}/exe: Permission denied" in lines[0]
    assert "needs CAP_SYS_PTRACE" in lines[0]
