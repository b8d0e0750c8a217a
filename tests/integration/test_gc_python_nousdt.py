"""rtmon gc on CPython builds without USDT probes (pyenv's): entry and return probes on the
collector's main function (gc_collect_main; collect in 3.9), against what the interpreter itself
reports (testprog/pygc_callbacks.py): every collection's generation and objects found through
gc.callbacks, and gc.get_stats()'s totals per generation. Debian's /usr/bin/python3.11, which has
the probes, runs the same checks, so both ways give the same records.

pyenv is looked for in $PYENV_ROOT, else ~/.pyenv; its versions are skipped (with the reason) when
it is absent. 3.9 to 3.13 are traced (3.13 through a third probe, on invoke_gc_callback, for the
generation of automatic collections); 3.8 and a stripped libpython are refused with one line.
"""
import json
import os
import shutil
import subprocess

import pytest

from conftest import Target, Tracer, json_lines, pyenv_pythons, run

SCRIPT = os.path.abspath("testprog/pygc_callbacks.py")
DEBIAN = "/usr/bin/python3.11"
PYENV = pyenv_pythons()
FUNC = {9: "collect", 10: "gc_collect_main", 11: "gc_collect_main", 12: "gc_collect_main",
        13: "gc_collect_main"}


def interpreters():
    params = [pytest.param(DEBIAN, "usdt", 11, id="debian-3.11",
                           marks=pytest.mark.skipif(not os.path.exists(DEBIAN),
                                                    reason=f"{DEBIAN} not installed"))]
    for minor in sorted(FUNC):
        path = PYENV.get((3, minor))
        params.append(pytest.param(path, "uprobe", minor, id=f"pyenv-3.{minor}", marks=pytest.mark.skipif(
            path is None, reason=f"no pyenv CPython 3.{minor} ($PYENV_ROOT or ~/.pyenv)")))
    return params


def truth(stdout):
    """What the script printed: its collections [[generation, found], ...] and the stats."""
    line = [l for l in stdout.splitlines() if l.startswith('{"collections"')]
    assert len(line) == 1, stdout
    return json.loads(line[0])


def records(out, kind, minor=11):
    lines = json_lines(out)
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["runtime"] == "python", summary
    assert summary["lost"] == 0 and summary["unpaired"] == 0 and summary["nested_calls"] == 0
    assert summary["probe"] == ("usdt" if kind == "usdt" else "uprobe_multi"), summary
    gc = [o for o in lines if o["type"] == "gc"]
    assert all(o["phase"] == "collect" and o["stw"] and o["gc"] for o in gc)
    assert [o["cycle"] for o in gc] == list(range(1, len(gc) + 1))
    assert summary["cycles"] == summary["events"] == len(gc)
    assert summary["generation_unread"] == 0
    if minor == 13:
        # gc_collect_main's entry and return, invoke_gc_callback's start and stop; a call that
        # chose no generation returns at once (2 hits, no record).
        assert summary["probe_hits"] == 4 * len(gc) + 2 * summary["calls_without_collection"]
    else:
        assert summary["calls_without_collection"] == 0
        assert summary["probe_hits"] == 2 * len(gc)
    assert summary["generations"] == [sum(1 for o in gc if o["generation"] == g) for g in range(3)]
    assert summary["collected"] == sum(o["collected"] for o in gc)
    return [[o["generation"], o["collected"]] for o in gc], summary


def check_against(got, t, since_start):
    """got: rtmon's [[generation, collected], ...]. Each collection gc.callbacks saw, in order, with
    the same generation and count; per generation, the count and sum gc.get_stats() reports
    (since the interpreter started for -- CMD, since "ready" for -p)."""
    ours = t["collections"]
    assert {g for g, _ in ours} == {0, 1, 2}, ours  # every generation, automatic ones included
    assert len(ours) > 10
    assert got[len(got) - len(ours):] == ours
    base = [[0, 0]] * 3 if since_start else t["stats_before"]
    for g in range(3):
        n = t["stats_after"][g][0] - base[g][0]
        found = t["stats_after"][g][1] - base[g][1]
        assert sum(1 for x in got if x[0] == g) == n, (g, got, t)
        assert sum(c for x, c in got if x == g) == found, (g, got, t)
    if not since_start:
        assert got == ours


@pytest.mark.parametrize("python,kind,minor", interpreters())
def test_command(python, kind, minor):
    """-- CMD: from the interpreter's first instruction, so its start-up collections too."""
    r = run(["gc", "--json", "--", python, SCRIPT], timeout=60)
    assert r.returncode == 0, r.stderr
    got, summary = records(r.stdout, kind, minor)
    check_against(got, truth(r.stderr), since_start=True)  # --json: the command's stdout on stderr
    assert summary["end"] == "target-exit" and summary["target_exit"] == 0


@pytest.mark.parametrize("python,kind,minor", interpreters())
def test_pid(python, kind, minor):
    """-p on an interpreter waiting at "ready": exactly the collections its callback saw."""
    target = Target(python, SCRIPT)
    try:
        assert target.proc.stdout.readline() == b"ready\n"
        tracer = Tracer(["gc", "--json", "-p", str(target.pid)])
        target.go()
        rest = target.proc.stdout.read().decode()
        assert target.wait() == 0
        rc, out, err = tracer.wait()
        assert rc == 0, err
    finally:
        target.kill()
    got, summary = records(out, kind, minor)
    check_against(got, truth(rest), since_start=False)
    assert summary["end"] == "target-exit"


@pytest.mark.skipif((3, 11) not in PYENV, reason="no pyenv CPython 3.11 ($PYENV_ROOT or ~/.pyenv)")
def test_table():
    """The table shows the collections as with the probes."""
    python = PYENV[(3, 11)]
    r = run(["gc", "--phases", "--", python, SCRIPT, "500"])
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if l != "ready" and not l.startswith("{")]
    head = next(i for i, l in enumerate(lines) if l.startswith("CYCLE"))
    rows = lines[head + 1:lines.index("", head)]
    assert rows and all(l.split()[1:3] == ["-", "collect"] for l in rows)
    assert any(" generation 2, 3 collected" in l for l in rows), rows
    assert any("GC pauses (collections, run with the GIL held)" in l and "(CPython 3.11." in l
               for l in lines)
    assert any(l.startswith("collections by generation: 0: ") for l in lines)


def refused(args, path, version):
    r = run(["gc"] + args)
    assert r.returncode == 1, r
    assert r.stdout == ""
    err = r.stderr.splitlines()
    assert len(err) == 1, r.stderr
    assert err[0].startswith(f"rtmon gc: {path} is CPython {version} built without USDT probes "
                             "(--with-dtrace), and "), err[0]
    assert err[0].endswith("; use a build with them, e.g. Debian's /usr/bin/python3.11") or \
        err[0].endswith("; use a build with them, e.g. Debian's /usr/bin/python3"), err[0]
    return err[0]


def version_of(python):
    return subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                          capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.skipif((3, 8) not in PYENV, reason="no pyenv CPython 3.8 ($PYENV_ROOT or ~/.pyenv)")
def test_old_version_refused():
    """3.8 and older: gcc splits collect() into copies (collect.constprop.0, .1) that different
    callers use; rtmon does not go there."""
    python = PYENV[(3, 8)]
    line = refused(["--", python, SCRIPT], python, version_of(python))
    assert "rtmon probes the collector's functions only in CPython 3.9 to 3.13" in line


@pytest.mark.skipif((3, 11) not in PYENV, reason="no pyenv CPython 3.11 ($PYENV_ROOT or ~/.pyenv)")
def test_stripped_refused(tmp_path):
    """A libpython without .symtab has no gc_collect_main: the line names the stripped file. The
    interpreter finds the copy through LD_LIBRARY_PATH (before its DT_RUNPATH), as rtmon does."""
    python = PYENV[(3, 11)]
    lib = os.path.join(os.path.dirname(os.path.dirname(python)), "lib", "libpython3.11.so.1.0")
    copy = tmp_path / "libpython3.11.so.1.0"
    shutil.copy(lib, copy)
    subprocess.run(["strip", "--strip-all", str(copy)], check=True)
    line = refused(["--", "env", f"LD_LIBRARY_PATH={tmp_path}", python, SCRIPT], python,
                   version_of(python))
    assert f"{copy} is stripped (no .symtab), so it has no gc_collect_main to probe" in line


@pytest.mark.skipif((3, 11) not in PYENV, reason="no pyenv CPython 3.11 ($PYENV_ROOT or ~/.pyenv)")
def test_binpath_copy(tmp_path):
    """--binpath on a private copy of pyenv's interpreter (its DT_RUNPATH still names pyenv's
    libpython, where the probes are, shared with every pyenv python3.11): only the copy's process
    is counted, from its first collection."""
    python = PYENV[(3, 11)]
    copy = tmp_path / "python3.11"
    shutil.copy(python, copy)
    tracer = Tracer(["gc", "--json", "--binpath", str(copy)])
    try:
        mine = Target(str(copy), SCRIPT)
        other = Target(python, SCRIPT)
        for t in (mine, other):
            assert t.proc.stdout.readline() == b"ready\n"
            t.go()
        rest = mine.proc.stdout.read().decode()
        assert mine.wait() == 0 and other.wait() == 0
    finally:
        rc, out, err = tracer.stop()
    assert rc == 0, err
    got, _ = records(out, "uprobe")
    assert {o["pid"] for o in json_lines(out) if o["type"] == "gc"} == {mine.pid}
    check_against(got, truth(rest), since_start=True)
