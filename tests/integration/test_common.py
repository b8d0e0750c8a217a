"""Behaviour every tracing command shares (user/cli/command.c, user/proc/target.c)."""
import json
import subprocess

import pytest

from conftest import RTMON, json_lines, run

KILLED = ["/bin/sh", "-c", "kill -KILL $$"]


@pytest.mark.parametrize("cmd", ["malloc", "thr", "lat"])
def test_command_killed_by_signal_is_reported(cmd):
    """A -- CMD that dies by a signal ends tracing normally (exit 0) and the summary says how it ended."""
    r = run([cmd, "--json", "--"] + KILLED)
    assert r.returncode == 0, r.stderr
    summary = json_lines(r.stdout)[-1]
    assert summary["type"] == "summary" and summary["end"] == "target-exit"
    assert summary["target_signal"] == 9 and "target_exit" not in summary
    r = run([cmd, "--"] + KILLED)
    assert r.returncode == 0, r.stderr
    assert "; /bin/sh (PID " in r.stdout and ") was killed by signal 9\n" in r.stdout


@pytest.mark.parametrize("cmd", ["malloc", "thr", "lat"])
def test_command_exit_status_is_reported(cmd):
    r = run([cmd, "--json", "--", "/bin/sh", "-c", "exit 3"])
    assert r.returncode == 0, r.stderr
    summary = json_lines(r.stdout)[-1]
    assert summary["target_exit"] == 3 and "target_signal" not in summary


# A command that writes a lot to stdout, partial lines and bytes that are not UTF-8 among them.
CHATTY = ["/bin/sh", "-c", "i=0; while [ $i -lt 300 ]; do printf 'out %d {\\377' $i; "
          "echo ' tail'; i=$((i+1)); done; printf 'no newline'"]


@pytest.mark.parametrize("cmd", ["malloc", "thr", "lat"])
def test_json_stream_stays_clean_with_a_chatty_command(cmd):
    """With --json, stdout holds rtmon's JSON lines only: the command's own stdout goes to stderr
    (docs/json.md), all of it, so `rtmon CMD --json -- PROG | jq` works whatever PROG prints."""
    r = subprocess.run([RTMON, cmd, "--json", "--"] + CHATTY, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode("utf-8").splitlines()  # strict: raises on a stray byte
    assert lines and all(json.loads(l)["type"] for l in lines)
    assert json.loads(lines[-1])["type"] == "summary"
    assert r.stderr.count(b"\xff tail\n") == 300 and r.stderr.endswith(b"no newline")
