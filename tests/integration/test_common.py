"""Behaviour every tracing command shares (user/cli/command.c, user/proc/target.c)."""
import pytest

from conftest import json_lines, run

KILLED = ["/bin/sh", "-c", "kill -KILL $$"]


@pytest.mark.parametrize("cmd", ["malloc", "thr", "lat"])
def test_command_killed_by_signal_is_reported(cmd):
    """A -- CMD that dies by a signal ends tracing normally, the summary says how it ended, and rtmon
    exits 128 + the signal, as a shell reports it."""
    r = run([cmd, "--json", "--"] + KILLED)
    assert r.returncode == 128 + 9, r.stderr
    summary = json_lines(r.stdout)[-1]
    assert summary["type"] == "summary" and summary["end"] == "target-exit"
    assert summary["target_signal"] == 9 and "target_exit" not in summary
    r = run([cmd, "--"] + KILLED)
    assert r.returncode == 128 + 9, r.stderr
    assert "; /bin/sh (PID " in r.stdout and ") was killed by signal 9\n" in r.stdout


@pytest.mark.parametrize("cmd", ["malloc", "thr", "lat"])
def test_command_exit_status_is_reported(cmd):
    """rtmon's exit status is the command's (tests/integration/test_target_lifecycle.py has more)."""
    r = run([cmd, "--json", "--", "/bin/sh", "-c", "exit 3"])
    assert r.returncode == 3, r.stderr
    summary = json_lines(r.stdout)[-1]
    assert summary["target_exit"] == 3 and "target_signal" not in summary
