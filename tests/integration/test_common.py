"""Behaviour every tracing command shares (user/cli/command.c, user/proc/target.c)."""
import pytest

from conftest import json_lines, run

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


@pytest.mark.parametrize("cmd", ["malloc", "thr", "lat", "gc"])
@pytest.mark.parametrize("args", [["-c", "./app"], ["-c"], ["-c./app args"], ["-vc", "./app"],
                                  ["-p", "1", "-c", "./app", "--", "/bin/true"]])
def test_dash_c_gets_a_hint(cmd, args):
    """-c CMD, as bpftrace and BCC take it, is answered with the way rtmon takes a command."""
    r = run([cmd] + args)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == (f"rtmon {cmd}: -c is not an option: run a command with -- CMD ARGS "
                        f"(e.g. rtmon {cmd} -- ./app) (see 'rtmon {cmd} --help')\n")


def test_dash_c_is_not_in_help_or_usage():
    for flag in ["--help", "--usage"]:
        r = run(["thr", flag])
        assert r.returncode == 0 and "-c" not in r.stdout.replace("-cycle", ""), r.stdout
