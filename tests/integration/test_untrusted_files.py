"""The target's files are untrusted input (issue 18): rtmon opens every file on a target's behalf
without blocking and only if it is a regular file (user/binary/target_file.c), and checks the ELF
class and machine before anything else reads the file. On the old code a FIFO given as --binpath or
as the command hung rtmon for ever (a plain open() of a FIFO waits for a writer): the subprocess
timeouts below are what turns that hang into a failure. They are not timing assertions: rtmon is
expected to answer at once, and 20 s is far beyond any load."""
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import RTMON, Target, json_lines, tp, trace_gated

HANG = 20


def rtmon(args, cwd=None):
    return subprocess.run([RTMON] + args, capture_output=True, text=True, timeout=HANG, cwd=cwd)


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="rtmon-untrusted-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def one_line_error(r, *words):
    assert r.returncode != 0, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("cmd", ["malloc", "thr", "lat", "gc"])
def test_fifo_as_binpath_refused(tmp, cmd):
    fifo = os.path.join(tmp, "f")
    os.mkfifo(fifo)
    one_line_error(rtmon([cmd, "--binpath", fifo, "-d", "1"]), "is a FIFO", "regular file")


def test_fifo_as_command_refused(tmp):
    os.mkfifo(os.path.join(tmp, "f"))
    one_line_error(rtmon(["malloc", "-d", "1", "--", "./f"], cwd=tmp), "./f is a FIFO")


def test_fifo_as_script_interpreter_path_refused(tmp):
    """A script's #! line naming a FIFO: the interpreter lookup must not block on it either."""
    fifo = os.path.join(tmp, "interp")
    os.mkfifo(fifo)
    script = os.path.join(tmp, "s")
    with open(script, "w") as f:
        f.write("#!%s\n" % fifo)
    os.chmod(script, 0o755)
    r = rtmon(["malloc", "-d", "1", "--", script])
    assert r.returncode != 0
    assert len(r.stderr.strip().splitlines()) >= 1


def patched(tmp, offset, data):
    path = os.path.join(tmp, "patched")
    shutil.copy(tp("alloc"), path)
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)
    return path


@pytest.mark.parametrize("cmd", ["malloc", "thr"])
def test_elf_class_patched_binary_refused(tmp, cmd):
    """A 64-bit body under EI_CLASS 1: the old code called it static and stripped (malloc) or
    traced it (thr)."""
    path = patched(tmp, 4, b"\x01")
    one_line_error(rtmon([cmd, "--binpath", path, "-d", "1"]), "32-bit", "EI_CLASS 1", "64-bit")


def test_other_machine_named(tmp):
    path = patched(tmp, 18, b"\x03\x00")  # e_machine EM_386
    one_line_error(rtmon(["malloc", "--binpath", path, "-d", "1"]), "i386", "e_machine 3")


def test_library_swapped_for_fifo_of_running_process(tmp):
    """A process maps a library, whose file is then replaced by a FIFO: ps, tree, info and
    malloc -p must neither hang nor fail on it."""
    lib = os.path.join(tmp, "libz.so.1")
    shutil.copy("/usr/lib/x86_64-linux-gnu/libz.so.1", lib)
    env = dict(os.environ, LD_PRELOAD=lib)
    p = subprocess.Popen(["sleep", "60"], env=env)
    try:
        for _ in range(200):
            with open("/proc/%d/maps" % p.pid) as f:
                if lib in f.read():
                    break
            subprocess.run(["sleep", "0.05"])
        os.unlink(lib)
        os.mkfifo(lib)
        for args in (["ps"], ["tree"], ["info", str(p.pid)], ["malloc", "-d", "1", "-p", str(p.pid)]):
            r = rtmon(args)
            assert r.returncode == 0, (args, r.stderr)
    finally:
        p.kill()
        p.wait()


def make_chroot(tmp):
    """A plain chroot (rtmon's own mount namespace) holding testprog/alloc, libc and the loader."""
    root = os.path.join(tmp, "root")
    for d in ("lib/x86_64-linux-gnu", "lib64", "etc"):
        os.makedirs(os.path.join(root, d))
    shutil.copy(tp("alloc"), os.path.join(root, "alloc"))
    shutil.copy("/lib/x86_64-linux-gnu/libc.so.6", os.path.join(root, "lib/x86_64-linux-gnu"))
    shutil.copy("/lib64/ld-linux-x86-64.so.2", os.path.join(root, "lib64"))
    return root


class FifoWatch:
    """A FIFO on the host and a thread blocked opening it for writing: that open returns the moment
    anything opens the FIFO for reading, so opened tells exactly whether rtmon opened it."""

    def __init__(self, path):
        self.path = path
        os.mkfifo(path)
        self.opened = threading.Event()
        self.thread = threading.Thread(target=self._wait, daemon=True)
        self.thread.start()

    def _wait(self):
        fd = os.open(self.path, os.O_WRONLY)
        self.opened.set()
        os.close(fd)

    def close(self):
        """Whether it was opened; releases the thread either way."""
        was = self.opened.is_set()
        if not was:
            os.close(os.open(self.path, os.O_RDONLY | os.O_NONBLOCK))
        self.thread.join(HANG)
        return was


def start_in_chroot(root):
    target = Target("/usr/sbin/chroot", root, "/alloc")
    for _ in range(400):  # until chroot has run /alloc (the same PID)
        try:
            if os.readlink(f"/proc/{target.pid}/exe") == os.path.join(root, "alloc"):
                return target
        except OSError:
            pass
        time.sleep(0.01)
    target.kill()
    pytest.fail("chroot did not run /alloc")


def test_malloc_pid_in_chroot(tmp):
    """The ship issue's symptom: malloc -p on a process in a plain chroot said it had no allocator
    (its maps name files as rtmon sees them, /proc/PID/root was put in front anyway). The chroot's
    /etc/ld.so.preload is an absolute link to a host FIFO: resolved inside the chroot it does not
    exist (the chroot's loader finds none either), resolved against the host it is the FIFO, which
    rtmon must not open. testprog/alloc's own pattern gives the counts."""
    root = make_chroot(tmp)
    watch = FifoWatch(os.path.join(tmp, "host-fifo"))
    os.symlink(watch.path, os.path.join(root, "etc/ld.so.preload"))
    out, _ = trace_gated(start_in_chroot(root), ["malloc", "--json"])
    assert not watch.close(), "rtmon opened the host's FIFO through the chroot's absolute link"
    hists = [o for o in json_lines(out) if o["type"] == "hist"]
    assert len(hists) == 1, out
    assert hists[0]["allocator"] == os.path.join(root, "lib/x86_64-linux-gnu/libc.so.6")
    assert hists[0]["count"] == 568 and hists[0]["frees"] == 563
    assert hists[0]["calls"]["malloc"] == 550
    assert json_lines(out)[-1]["lost"] == 0


def test_info_ps_do_not_follow_chroot_links_to_host(tmp):
    """The same link, the process held at its gate: ps, tree, info and malloc -p read its files
    and never the host's FIFO."""
    root = make_chroot(tmp)
    watch = FifoWatch(os.path.join(tmp, "host-fifo"))
    os.symlink(watch.path, os.path.join(root, "etc/ld.so.preload"))
    target = start_in_chroot(root)
    try:
        for args in (["ps"], ["tree"], ["info", str(target.pid)],
                     ["malloc", "-d", "1", "-p", str(target.pid)],
                     ["thr", "-d", "1", "-p", str(target.pid)]):
            r = rtmon(args)
            assert r.returncode == 0, (args, r.stderr)
    finally:
        target.kill()
    assert not watch.close()


@pytest.fixture
def stalled_file(tmp):
    """MOUNT/prog on a hung FUSE server (tests/integration/fuse_stall.py): a process of the test's
    holds the server in a request that never ends, so anything touching prog waits."""
    mnt = os.path.join(tmp, "mnt")
    os.mkdir(mnt)
    server = subprocess.Popen(["/usr/bin/python3", os.path.join(os.path.dirname(__file__),
                                                                "fuse_stall.py"), mnt],
                              stdout=subprocess.PIPE, text=True)
    staller = None
    try:
        for _ in range(500):
            if os.path.ismount(mnt):
                break
            assert server.poll() is None, "the FUSE server did not start"
            time.sleep(0.01)
        assert os.path.ismount(mnt)
        staller = subprocess.Popen(["stat", os.path.join(mnt, "d", "stall")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert server.stdout.readline().strip() == "stalled"
        yield os.path.join(mnt, "prog")
    finally:
        # The server's death aborts the mount's requests: the staller (and a stuck rtmon) end.
        server.kill()
        server.wait()
        if staller:
            staller.kill()
            staller.wait()
        subprocess.run(["umount", "-l", mnt], capture_output=True)


def waits_on_fuse(pid):
    """Whether pid waits for the FUSE server's answer (its request queued)."""
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return f.read() == "request_wait_answer"
    except OSError:
        return False


@pytest.mark.parametrize("cmd", ["malloc", "thr", "gc"])
def test_ctrl_c_while_a_file_stalls(stalled_file, cmd):
    """rtmon blocks its signals for the loop before it touches the target's files; a file that
    never answers held Ctrl-C off for ever (only SIGKILL ended rtmon). Now a signal during setup
    ends rtmon with one line naming it, and 130 as a shell gives for Ctrl-C."""
    p = subprocess.Popen([RTMON, cmd, "--binpath", stalled_file], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(HANG * 100):  # until rtmon waits on the server
            if waits_on_fuse(p.pid) or p.poll() is not None:
                break
            time.sleep(0.01)
        assert waits_on_fuse(p.pid), "rtmon never reached the stalled file"
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=HANG)
    finally:
        if p.poll() is None:
            p.kill()  # killable: its request is still queued
            p.wait()
    assert p.returncode == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Interrupt while setting up" in lines[0], err
    assert out == ""
