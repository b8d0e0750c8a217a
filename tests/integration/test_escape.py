"""Strings from the target reach the user escaped (user/output/escape.c, docs/json.md): JSON lines are
valid UTF-8 whatever bytes the target chose, and no control character from the target reaches the
terminal. The names and paths below hold an escape sequence (ESC [7m, reverse video) and bytes that
are not UTF-8."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from conftest import RTMON

EVIL = b"\x1b[7m\xff\xfeq"          # 8 bytes: fits a thread name (15)
EVIL_JSON = "\x1b[7m\ufffd\ufffdq"   # what JSON decodes it to: the ESC escaped, each bad byte U+FFFD
EVIL_TEXT = b"?[7m??q"               # what the terminal gets: "?" for each control or bad byte

# A Python thread that names itself EVIL (prctl PR_SET_NAME) and exits; its exit row shows that name.
NAMER = ("import ctypes, threading\n"
         "def f():\n"
         "    ctypes.CDLL(None).prctl(15, ctypes.c_char_p(bytes.fromhex('%s')), 0, 0, 0)\n"
         "t = threading.Thread(target=f); t.start(); t.join()\n" % EVIL.hex())


def rtmon_bytes(args, timeout=60):
    r = subprocess.run([RTMON] + args, capture_output=True, timeout=timeout)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout


def strict_json_lines(raw):
    text = raw.decode("utf-8")  # strict: raises on any byte that is not UTF-8
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_thread_name_json_is_valid_utf8():
    events = strict_json_lines(rtmon_bytes(["thr", "--json", "--", sys.executable, "-c", NAMER]))
    names = [e["name"] for e in events if e.get("type") == "thread" and e["event"] == "exit"]
    assert EVIL_JSON in names, names


def test_thread_name_text_has_no_control_characters():
    out = rtmon_bytes(["thr", "--", sys.executable, "-c", NAMER])
    assert EVIL_TEXT in out, out
    assert b"\x1b" not in out and b"\xff" not in out and b"\xfe" not in out


def test_ps_path_and_name_escaped():
    d = tempfile.mkdtemp(prefix="rtmon-esc-")
    exe = os.path.join(d.encode(), b"run" + EVIL)
    shutil.copy("/bin/sleep", exe)
    p = subprocess.Popen([exe, "30"])
    try:
        time.sleep(0.2)
        rows = [o for o in strict_json_lines(rtmon_bytes(["ps", "--json"])) if o.get("pid") == p.pid]
        assert len(rows) == 1, rows
        assert rows[0]["exe"] == os.path.join(d, "run" + EVIL_JSON)
        assert rows[0]["name"] == "run" + EVIL_JSON
        for args in (["ps"], ["tree"], ["info", str(p.pid)]):
            out = rtmon_bytes(args)
            assert b"run" + EVIL_TEXT in out, (args, out[-2000:])
            assert b"\x1b" not in out, args
    finally:
        p.kill()
        p.wait()
        shutil.rmtree(d)
