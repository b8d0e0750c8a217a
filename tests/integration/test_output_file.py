"""-o FILE, on every command (user/cli/output_opt.c): rtmon's stdout goes to FILE, truncated; the
target started with -- CMD keeps writing to rtmon's own stdout; a path that cannot be written is
one line on stderr and exit 2, before anything is traced."""
import os

import pytest

from conftest import json_lines, run, tp
from test_go_inspect import GoTarget


def test_tracing_output_to_file_target_keeps_stdout(tmp_path):
    out = tmp_path / "malloc.json"
    out.write_text("old contents that must be gone\n" * 10)
    r = run(["malloc", "--json", "-o", str(out), "--", "/bin/sh", "-c", "echo from-target"])
    assert r.returncode == 0, r.stderr
    assert r.stdout == "from-target\n"
    lines = json_lines(out.read_text())
    assert out.read_text().startswith("{")
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["command"] == "malloc"
    assert summary["target_exit"] == 0


def test_ps_output_to_file(tmp_path):
    out = tmp_path / "ps.json"
    r = run(["ps", "--json", "--output", str(out)])
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    pids = {o["pid"] for o in json_lines(out.read_text()) if o["type"] == "process"}
    assert os.getpid() in pids


def test_info_output_to_file(tmp_path):
    out = tmp_path / "info.txt"
    r = run(["info", str(os.getpid()), "-o", str(out)])
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert out.read_text().startswith(f"PID:            {os.getpid()} (")


def test_stack_output_to_file(tmp_path):
    t = GoTarget(tp("go/gostack"), tmp_path)
    try:
        out = tmp_path / "stack.json"
        r = run(["stack", "--json", "-o", str(out), str(t.pid)])
    finally:
        t.close()
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    goids = {o["goid"] for o in json_lines(out.read_text()) if o["type"] == "goroutine"}
    assert 1 in goids and len(goids) == t.numgoroutine, (goids, t.numgoroutine)


@pytest.mark.parametrize("cmd", [["thr"], ["tree"], ["info", "1"], ["stack", "1"]])
def test_unwritable_output_is_refused(cmd, tmp_path):
    after = ["--", "/bin/true"] if cmd[0] == "thr" else []
    r = run(cmd + ["-o", "/nonexistent-dir/out.txt"] + after)
    assert r.returncode == 2
    assert r.stdout == ""
    name = cmd[0]
    assert r.stderr == (f"rtmon {name}: cannot write the output to /nonexistent-dir/out.txt: No "
                        f"such file or directory; give a writable path (see 'rtmon {name} "
                        f"--help')\n")
    r = run(cmd + ["-o", str(tmp_path)] + after)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and ": Is a directory; give a writable path" in r.stderr
