"""Behaviour every tracing command shares (user/cli/command.c, user/proc/target.c)."""
import datetime
import json
import re
import subprocess

import pytest

from conftest import RTMON, json_lines, run, tp

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


def _window():
    return datetime.datetime.now(datetime.timezone.utc)


@pytest.mark.parametrize("cmd", ["thr", "gc"])
def test_wall_clock_times(cmd):
    """Every JSON record has "time" (RFC 3339 UTC) and -T starts each event row with the local time
    of day: both fall within the run, as the test's own clock saw it."""
    prog = [tp("threads")] if cmd == "thr" else [tp("go/gcprog"), "2"]
    before = _window()
    r = run([cmd, "--json", "--"] + prog)
    after = _window()
    assert r.returncode == 0, r.stderr
    lines = json_lines(r.stdout)
    assert len(lines) > 2
    for o in lines:
        t = datetime.datetime.strptime(o["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc)
        assert before - datetime.timedelta(seconds=1) <= t <= after, o
    r = run([cmd, "-T", "--"] + prog)
    assert r.returncode == 0, r.stderr
    rows = [l for l in r.stdout.splitlines() if re.match(r"\d\d:\d\d:\d\d\.\d{6} ", l)]
    heading = [l for l in r.stdout.splitlines() if l.startswith("CLOCK ")]
    assert rows and len(heading) == 1
    day = datetime.date.today()
    for row in rows:
        t = datetime.datetime.combine(day, datetime.time.fromisoformat(row[:15])).astimezone()
        assert before - datetime.timedelta(seconds=1) <= t <= _window(), row


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
