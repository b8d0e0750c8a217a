"""rtmon gc on CPython through its USDT probes (python:gc__start/gc__done), against testprog/pygc.py:
automatic collection off, then exactly N gc.collect() calls, the i-th finding i unreachable cycles.

Debian's /usr/bin/python3.11 has the probes. CPython built without them (pyenv's) is in
test_gc_python_nousdt.py.
"""
import os

import pytest

from conftest import Target, Tracer, json_lines, run

PYTHON = "/usr/bin/python3.11"
SCRIPT = os.path.abspath("testprog/pygc.py")
N = 5

pytestmark = pytest.mark.skipif(not os.path.exists(PYTHON), reason=f"{PYTHON} not installed")


def check_records(out, startup_allowed):
    """The N collections, exactly, with their generation and objects collected; returns the summary.
    startup_allowed: -- CMD also sees the interpreter's own collections before the script turned
    automatic collection off (young generations only, all before the first of ours)."""
    lines = json_lines(out)
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["runtime"] == "python"
    assert summary["lost"] == 0 and summary["unpaired"] == 0 and summary["probe"] == "usdt"
    assert summary["version"].startswith("3.11.")
    gc = [o for o in lines if o["type"] == "gc"]
    assert all(o["runtime"] == "python" and o["phase"] == "collect" and o["stw"] and o["gc"] for o in gc)
    ours = [o for o in gc if o["generation"] == 2]
    assert [o["collected"] for o in ours] == list(range(1, N + 1)), ours
    first = gc.index(ours[0])
    assert gc[first:] == ours  # nothing after ours: os._exit skips the collections at shutdown
    startup = gc[:first]
    if not startup_allowed:
        assert startup == []
    assert all(o["generation"] in (0, 1) for o in startup)
    assert [o["cycle"] for o in gc] == list(range(1, len(gc) + 1))
    cycles = [o for o in lines if o["type"] == "gc_cycle"]
    assert [c["cycle"] for c in cycles] == [o["cycle"] for o in gc]
    assert all(c["stw_count"] == 1 and "trigger" not in c for c in cycles)
    hist = [o for o in lines if o["type"] == "hist"]
    assert len(hist) == 1 and hist[0]["name"] == "gc_pause" and hist[0]["count"] == len(gc)
    assert summary["cycles"] == summary["gc_pauses"] == summary["events"] == len(gc)
    assert summary["generations"] == [sum(1 for o in gc if o["generation"] == g) for g in range(3)]
    assert summary["collected"] == sum(o["collected"] for o in gc)
    assert summary["probe_hits"] == 2 * len(gc)
    return summary


def test_command():
    """-- CMD: the probes are live before the interpreter starts."""
    r = run(["gc", "--json", "--", PYTHON, SCRIPT, str(N)])
    assert r.returncode == 0, r.stderr
    summary = check_records(r.stdout, startup_allowed=True)
    assert summary["end"] == "target-exit" and summary["target_exit"] == 0


def test_pid():
    """-p on an interpreter that already turned automatic collection off: exactly N records."""
    target = Target(PYTHON, SCRIPT, str(N))
    try:
        assert target.proc.stdout.readline() == b"ready\n"
        tracer = Tracer(["gc", "--json", "-p", str(target.pid)])
        target.go()
        assert target.wait() == 0
        rc, out, err = tracer.wait()
        assert rc == 0, err
        summary = check_records(out, startup_allowed=False)
        assert summary["end"] == "target-exit"
    finally:
        target.kill()


def test_table():
    r = run(["gc", "--phases", "--", PYTHON, SCRIPT, "3"])
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if l not in ("ready", "done")]
    head = next(i for i, l in enumerate(lines) if l.startswith("CYCLE"))
    assert lines[head].split() == ["CYCLE", "TRIGGER", "PHASE", "START(ms)", "DURATION(us)", "DETAIL"]
    end = lines.index("", head)
    rows = lines[head + 1:end]
    ours = [l for l in rows if "generation 2," in l]
    assert [l.split()[-2:] for l in ours] == [["1", "collected"], ["2", "collected"], ["3", "collected"]]
    assert all(l.split()[1:3] == ["-", "collect"] for l in rows)
    assert any("GC pauses (collections, run with the GIL held)" in l and "CPython 3.11." in l for l in lines)
    assert any(l.startswith(f"cycles {len(rows)}, GC pauses {len(rows)}, total pause") for l in lines)
    assert any(l.startswith("collections by generation:") for l in lines)


def test_binpath_copy(tmp_path):
    """--binpath on a private copy of the interpreter (tests never --binpath a system binary): the
    kernel sets the probes' semaphores in every process of the file, including ones started later;
    the system interpreter running at the same time is not counted."""
    copy = tmp_path / "python3.11"
    copy.write_bytes(open(PYTHON, "rb").read())
    copy.chmod(0o755)
    tracer = Tracer(["gc", "--json", "--binpath", str(copy)])
    try:
        mine = Target(str(copy), SCRIPT, str(N))
        other = Target(PYTHON, SCRIPT, str(N))
        for t in (mine, other):
            assert t.proc.stdout.readline() == b"ready\n"
            t.go()
        assert mine.wait() == 0 and other.wait() == 0
    finally:
        rc, out, err = tracer.stop()
    assert rc == 0, err
    gc = [o for o in json_lines(out) if o["type"] == "gc"]
    assert {o["pid"] for o in gc} == {mine.pid}
    check_records(out, startup_allowed=True)


@pytest.mark.parametrize("shebang", [f"#!{PYTHON}", "#!/usr/bin/env -S python3.11"])
def test_script_runs_with_its_interpreter(tmp_path, shebang):
    """-- SCRIPT: the kernel runs a "#!" script with its interpreter, so rtmon reads the interpreter
    (env's argument looked up in PATH, as env does)."""
    script = tmp_path / "app.py"
    with open(SCRIPT) as f:
        script.write_text(f"{shebang}\n" + f.read())
    script.chmod(0o755)
    r = run(["gc", "--json", "--", str(script), str(N)], env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    summary = check_records(r.stdout, startup_allowed=True)
    assert summary["target_exit"] == 0


def test_script_errors(tmp_path):
    """--binpath SCRIPT names the interpreter to trace instead; a missing interpreter is one line."""
    script = tmp_path / "app.py"
    script.write_text(f"#!{PYTHON}\npass\n")
    script.chmod(0o755)
    r = run(["gc", "--binpath", str(script)])
    assert r.returncode == 1
    assert r.stderr == (f"rtmon gc: {script} is a script run by {PYTHON}: trace --binpath {PYTHON}, "
                        f"or run it with -- {script}\n")
    script.write_text("#!/nonexistent/python\npass\n")
    for target in (["--", str(script)], ["--binpath", str(script)]):
        r = run(["gc"] + target)
        assert r.returncode == 1
        assert r.stderr == (f"rtmon gc: {script} is a script whose interpreter (#! line) does not exist: "
                            "fix its first line\n")
