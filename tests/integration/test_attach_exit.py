"""A -p target that exits while rtmon attaches its probes: libbpf's USDT attach by PID then fails with
ENOENT or ESRCH, which said "cannot attach ...: No such file or directory". rtmon must say that the
process exited instead, and what to do.

Whether a given run loses the race depends on timing, so each run may end either way; what is
asserted is that every run ends in one of the two right ways: a full summary, or the one line."""
import os
import subprocess

import pytest

from conftest import json_lines, run

PYTHON = "/usr/bin/python3.11"

pytestmark = pytest.mark.skipif(not os.path.exists(PYTHON), reason=f"{PYTHON} not installed")

# Exits after these many ms: early ones lose the race for gc's USDT attach (~20 ms here), late ones win.
DELAYS_MS = [0, 2, 5, 10, 20, 40]


@pytest.mark.parametrize("cmd", ["gc", "thr"])
def test_target_exits_during_attach(cmd):
    outcomes = []
    for ms in DELAYS_MS:
        target = subprocess.Popen([PYTHON, "-c", f"import time; time.sleep({ms / 1000})"])
        try:
            r = run([cmd, "--json", "-p", str(target.pid)])
        finally:
            target.wait()
        if r.returncode == 0:
            assert json_lines(r.stdout)[-1]["type"] == "summary", r.stdout
            outcomes.append("traced")
            continue
        lines = r.stderr.splitlines()
        assert r.returncode == 1 and len(lines) == 1, r.stderr
        # The test reaps its target only after rtmon ends: one that exited before rtmon read it
        # is still a zombie, or gone, or on its way.
        if any(s in lines[0] for s in ("no process with PID", "is a zombie", "has no executable",
                                       "exited before rtmon could read it")):
            outcomes.append("gone before open")  # exited before rtmon looked at it: also right
            continue
        assert lines[0] == (f"rtmon {cmd}: PID {target.pid} (python3.11) exited while rtmon was attaching "
                            "to it: nothing was traced; to trace a short-lived program from its start, "
                            "give it as -- PROGRAM ARGS"), lines[0]
        outcomes.append("exited during attach")
    assert len(outcomes) == len(DELAYS_MS)
