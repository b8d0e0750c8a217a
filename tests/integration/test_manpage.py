"""rtmon(8) (docs/rtmon.8) and the --help of every command cannot drift apart: each long option a
command's --help lists is described in the man page (in that command's section, or among the targets
and options every tracing command shares), each option the man page gives a command exists, and the
man page's commands are rtmon's commands. Also the release in the page's title line."""
import os
import re
import subprocess

import pytest

from conftest import ROOT, help_options, release, run

MANPAGE = os.path.join(ROOT, "docs", "rtmon.8")
# argp gives every command these; the man page describes them once, under OPTIONS
GENERAL = {"--help", "--usage", "--version"}


def commands():
    """The commands `rtmon --help` lists under "Commands:"."""
    out = run(["--help"]).stdout
    block = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines()]


def man_text():
    """The page's source with font changes removed and \\- as -."""
    with open(MANPAGE) as f:
        src = f.read()
    src = re.sub(r"\\f(\[[^]]*\]|\(..|.)", "", src)
    return src.replace("\\-", "-").replace("\\(ti", "~")


def sections():
    """{heading: [lines]} for every .SH and .SS of the page (.SS headings with their .SH's lines
    excluded)."""
    out, cur = {}, None
    for line in man_text().splitlines():
        m = re.match(r'^\.S[HS] "?(.*?)"?$', line)
        if m:
            cur = m.group(1)
            out[cur] = []
        elif cur is not None:
            out[cur].append(line)
    return out


def tags(lines):
    """The options in the tags of .TP/.TQ items: {long option: set of short options beside it}."""
    out = {}
    for i, line in enumerate(lines[:-1]):
        if line.strip() not in (".TP", ".TQ"):
            continue
        tag = lines[i + 1]
        longs = re.findall(r"(?<![\w-])--([a-z][a-z0-9-]*)", tag)
        shorts = set(re.findall(r"(?<![\w-])(-[a-zA-Z?])(?![\w-])", tag))
        for name in longs:
            out["--" + name] = shorts
    return out


def command_section(secs, cmd):
    names = [h for h in secs if re.fullmatch(rf"rtmon {cmd}( .*)?", h)]
    assert len(names) == 1, f"the man page has no section 'rtmon {cmd}' (has {list(secs)})"
    return secs[names[0]]


def test_man_page_commands_are_rtmon_commands():
    secs = sections()
    in_man = [m.group(1) for h in secs for m in [re.fullmatch(r"rtmon (\S+)( .*)?", h)] if m]
    assert sorted(in_man) == sorted(commands())


@pytest.mark.parametrize("cmd", commands())
def test_every_option_of_the_command_is_in_the_man_page(cmd):
    secs = sections()
    own = tags(command_section(secs, cmd))
    shared = {**tags(secs["TARGETS"]), **tags(secs["OPTIONS"])}
    opts = help_options(cmd)
    for name, short in opts.items():
        described = own.get(name, shared.get(name))
        assert described is not None, f"rtmon {cmd} {name} is not in the man page"
        if short:
            assert short in described, f"the man page gives {name} without {short}"
    # the other way round: what the man page gives this command exists
    for name in own:
        assert name in opts, f"the man page's 'rtmon {cmd}' has {name}, which rtmon {cmd} lacks"


def test_shared_options_are_in_every_tracing_command():
    secs = sections()
    shared = {**tags(secs["TARGETS"]), **tags(secs["OPTIONS"])}
    tracing = [c for c in commands() if "--pid" in help_options(c)]
    assert sorted(tracing) == ["gc", "heap", "lat", "malloc", "profile", "serve", "thr"]
    for cmd in tracing:
        missing = set(shared) - set(help_options(cmd))
        assert not missing, f"the man page gives every tracing command {missing}; rtmon {cmd} lacks it"
    for cmd in commands():
        assert GENERAL <= set(help_options(cmd)), cmd


def test_title_line_names_the_release():
    th = [line for line in open(MANPAGE) if line.startswith(".TH ")][0]
    assert f'"rtmon {release()}"' in th, th


def test_man_page_formats_without_warnings():
    r = subprocess.run(["man", "--warnings", "-l", MANPAGE], capture_output=True, text=True,
                       env=dict(os.environ, MANWIDTH="80"))
    assert r.returncode == 0 and r.stderr == "", r.stderr
    for heading in ["NAME", "SYNOPSIS", "TARGETS", "OPTIONS", "COMMANDS", "JSON", "EXIT STATUS",
                    "ENVIRONMENT", "FILES", "OVERHEAD", "REPORTING BUGS", "SEE ALSO"]:
        assert f"\n{heading}\n" in r.stdout, heading


def test_environment_variables_rtmon_reads_are_in_the_man_page():
    """Every RTMON_* variable the source reads with getenv is described (the tests' own aside)."""
    found = set()
    for top, _, files in os.walk(os.path.join(ROOT, "user")):
        for name in files:
            if name.endswith(".c"):
                with open(os.path.join(top, name)) as f:
                    found |= set(re.findall(r'getenv\("(RTMON_[A-Z_]+)"\)', f.read()))
    found -= {"RTMON_TEST_PS_PAUSE_FD"}  # the tests' hook into rtmon ps, not for users
    described = {line for line in sections()["ENVIRONMENT"] if line.startswith(".B RTMON_")}
    assert found and {f".B {v}" for v in found} == described, (found, described)
