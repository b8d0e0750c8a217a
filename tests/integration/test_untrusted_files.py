"""The target's files are untrusted input (issue 18): rtmon opens every file on a target's behalf
without blocking and only if it is a regular file (user/binary/target_file.c), and checks the ELF
class and machine before anything else reads the file. On the old code a FIFO given as --binpath or
as the command hung rtmon for ever (a plain open() of a FIFO waits for a writer): the subprocess
timeouts below are what turns that hang into a failure. They are not timing assertions: rtmon is
expected to answer at once, and 20 s is far beyond any load."""
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import RTMON, tp

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
