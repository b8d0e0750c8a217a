"""Helpers for rtmon's integration tests: run build/rtmon as root against real processes.

Test programs (testprog/) wait for one line on stdin before the work under test, so a test can start
them, attach rtmon, wait for its "Tracing ..." line, then let them go (see testprog/tp_gate.h).
"""
import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest

RTMON = os.environ.get("RTMON", os.path.abspath("build/rtmon"))
BUILD = os.environ.get("RTMON_BUILD", os.path.abspath("build"))
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def tp(name):
    """Path of a built test program, e.g. tp("alloc-static") or tp("go/goroutines-stripped")."""
    path = os.path.join(BUILD, "testprog", name)
    assert os.path.exists(path), f"{path} not built: run make testprogs"
    return path


def run(args, timeout=30, stdin=subprocess.DEVNULL, env=None):
    """Runs rtmon to completion; returns CompletedProcess with text stdout/stderr. env adds variables."""
    full_env = dict(os.environ, **env) if env else None
    return subprocess.run([RTMON] + args, stdin=stdin, capture_output=True, text=True, timeout=timeout,
                          env=full_env)


def release():
    """The release, from VERSION."""
    with open(os.path.join(ROOT, "VERSION")) as f:
        return f.read().split()[0]


def help_options(cmd):
    """{long option: its short option or None} from argp's option lines in `rtmon CMD --help`
    ("  -b, --binpath=PATH ...", "      --json ...")."""
    r = run([cmd, "--help"])
    assert r.returncode == 0, r.stderr
    opts = {}
    for line in r.stdout.splitlines():
        m = re.match(r"^  (?:(-\S), |    )--([a-z][a-z0-9-]*)", line)
        if m:
            opts["--" + m.group(2)] = m.group(1)
    assert opts, r.stdout
    return opts


def pyenv_pythons():
    """{(major, minor): interpreter} of pyenv's CPythons (3.x), found where pyenv keeps them:
    $PYENV_ROOT, else ~/.pyenv. Empty when pyenv is not installed; callers skip and say so."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = {}
    versions = os.path.join(root, "versions")
    for v in sorted(os.listdir(versions)) if os.path.isdir(versions) else []:
        m = re.fullmatch(r"3\.(\d+)\.\d+", v)
        path = os.path.join(versions, v, "bin", f"python3.{m.group(1)}") if m else None
        if path and os.access(path, os.X_OK):
            found[(3, int(m.group(1)))] = path
    return found


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


class Tracer:
    """rtmon running in the background: waits for its "Tracing" line, then can be stopped with a
    signal and its output collected."""

    def __init__(self, args, stdin=subprocess.DEVNULL, ready_timeout=15, env=None):
        full_env = dict(os.environ, **env) if env else None
        self.proc = subprocess.Popen([RTMON] + args, stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=full_env)
        self.stderr_lines = []
        self.stdout_chunks = []
        self.ready = threading.Event()
        # One reader per pipe, and nothing else reads them: communicate() would also read stderr
        # and take lines (the last ones, often) from under the stderr reader.
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._out_reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        self._out_reader.start()
        if not self.ready.wait(ready_timeout):
            self.proc.kill()
            self.proc.wait()
            self._reader.join(2)
            self._out_reader.join(2)
            out = "".join(self.stdout_chunks)
            raise AssertionError(f"rtmon never said Tracing: stderr={self.stderr_lines} stdout={out}")

    def _read_stdout(self):
        for chunk in iter(lambda: self.proc.stdout.read(65536), ""):
            self.stdout_chunks.append(chunk)

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line)
            if line.startswith("Tracing "):
                self.ready.set()
        self.ready.set()  # rtmon ended before tracing: the waiter sees the error

    def stop(self, sig=signal.SIGINT, timeout=20):
        """Sends sig (unless rtmon already ended), returns (rc, stdout, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait(timeout)

    def wait(self, timeout=30):
        self.proc.wait(timeout=timeout)
        self._out_reader.join(timeout)
        self._reader.join(timeout)
        return self.proc.returncode, "".join(self.stdout_chunks), "".join(self.stderr_lines)

    def write(self, text):
        self.proc.stdin.write(text)
        self.proc.stdin.flush()


class Target:
    """A test program started held at its gate; go() lets it run, wait() reaps it. env adds
    variables to its environment."""

    def __init__(self, path, *args, env=None):
        full_env = dict(os.environ, **env) if env else None
        self.proc = subprocess.Popen([path, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=full_env)
        self.pid = self.proc.pid
        time.sleep(0.05)  # let it reach its gate (exec and loader done)

    def go(self):
        self.proc.stdin.write(b"\n")
        self.proc.stdin.flush()

    def wait(self, timeout=30):
        self.proc.communicate(timeout=timeout)
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def trace_gated(target, args):
    """rtmon ARGS -p TARGET on a Target held at its gate: attaches, lets it run to its end (exit 0)
    and returns rtmon's (stdout, stderr) once both have ended; rtmon must exit 0. The target is
    killed if anything fails."""
    try:
        tracer = Tracer([*args, "-p", str(target.pid)])
        target.go()
        assert target.wait() == 0
        rc, out, err = tracer.wait()
        assert rc == 0, err
    finally:
        target.kill()
    return out, err


@pytest.fixture(autouse=True, scope="session")
def _need_root():
    if os.geteuid() != 0:
        pytest.exit("rtmon's integration tests run as root (they load BPF programs)", returncode=1)
