"""make install into a DESTDIR: the installed binary (--version, a tracing command), the man page
(man -l), bash completion (sourced in bash, called as bash calls it), make uninstall; and what
--version says about the build, from a git tree, a tarball (git archive) and a tree without either."""
import os
import re
import shlex
import shutil
import subprocess

import pytest

from conftest import BUILD, ROOT, help_options, json_lines, release, run

PREFIX = "/usr/local"
# files make install writes, below DESTDIR
INSTALLED = [f"{PREFIX}/sbin/rtmon", f"{PREFIX}/share/man/man8/rtmon.8",
             f"{PREFIX}/share/bash-completion/completions/rtmon",
             f"{PREFIX}/share/doc/rtmon/README.md", f"{PREFIX}/share/doc/rtmon/docs/json.md",
             f"{PREFIX}/share/doc/rtmon/docs/PERFORMANCE.md"]


def make(*args, cwd=ROOT):
    """make in cwd, without the calling make's MAKEFLAGS (its jobserver is not ours)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    r = subprocess.run(["make", "--no-print-directory", *args], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def git(*args, cwd=ROOT):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.fixture(scope="module")
def destdir(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("destdir"))
    make("install", f"BUILD={BUILD}", f"PREFIX={PREFIX}", f"DESTDIR={d}")
    return d


def test_install_puts_every_file_in_place(destdir):
    for f in INSTALLED:
        assert os.path.isfile(destdir + f), f
    assert os.access(destdir + f"{PREFIX}/sbin/rtmon", os.X_OK)
    # nothing outside PREFIX
    assert os.listdir(destdir) == ["usr"] and os.listdir(destdir + "/usr") == ["local"]


def test_installed_binary_says_its_version(destdir):
    r = subprocess.run([destdir + f"{PREFIX}/sbin/rtmon", "--version"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 2, r.stdout
    commit = git("describe", "--always", "--dirty")
    assert lines[0] == f"rtmon {release()} (commit {commit})"
    m = re.fullmatch(r"libbpf v(\d+)\.(\d+) \((/\S+)\), built with (\d+)\.(\d+)", lines[1])
    assert m, lines[1]
    # the libbpf it runs with: the library file loaded, whose name carries its version
    lib = m.group(3)
    assert os.path.isfile(lib) and re.search(rf"libbpf\.so\.{m.group(1)}\.{m.group(2)}(\.|$)", lib)


@pytest.mark.parametrize("cmd", ["malloc", "thr", "lat", "gc", "profile", "serve", "ps", "tree",
                                 "info", "stack"])
def test_every_command_says_the_same_version(cmd):
    top = run(["--version"])
    r = run([cmd, "--version"])
    assert r.returncode == 0 and r.stdout == top.stdout and r.stderr == "", r.stderr
    r = run([cmd, "-V"])
    assert r.returncode == 0 and r.stdout == top.stdout, r.stderr


def test_installed_binary_traces(destdir):
    r = subprocess.run([destdir + f"{PREFIX}/sbin/rtmon", "thr", "--json", "--", "/bin/true"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    lines = json_lines(r.stdout)
    assert lines[-1]["type"] == "summary" and lines[-1]["command"] == "thr"
    assert lines[-1]["target_exit"] == 0 and lines[-1]["lost"] == 0


def test_installed_man_page_reads_without_warnings(destdir):
    page = destdir + f"{PREFIX}/share/man/man8/rtmon.8"
    r = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, text=True,
                       env=dict(os.environ, MANWIDTH="80"))
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout.startswith("RTMON(8)") and "\nOVERHEAD\n" in r.stdout


def test_help_names_the_installed_readme_for_bugs(destdir):
    r = subprocess.run([destdir + f"{PREFIX}/sbin/rtmon", "malloc", "--help"],
                       capture_output=True, text=True)
    text = " ".join(r.stdout.split())
    assert (f"Report bugs to the developers as 'Reporting bugs' in {PREFIX}/share/doc/rtmon/README.md"
            " says." in text), r.stdout[-300:]
    with open(destdir + f"{PREFIX}/share/doc/rtmon/README.md") as f:
        assert "\n## Reporting bugs\n" in f.read()


def complete(script, rtmon, words):
    """COMPREPLY after bash's completion function for `words` (the last one is being completed)."""
    arr = " ".join(shlex.quote(w) for w in [rtmon] + words)
    prog = (f"source {shlex.quote(script)}\n"
            f"COMP_WORDS=({arr}); COMP_CWORD={len(words)}\n"
            f"COMP_LINE={shlex.quote(' '.join([rtmon] + words))}; COMP_POINT=${{#COMP_LINE}}\n"
            "_rtmon rtmon \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\"\n"
            "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", prog], capture_output=True,
                       text=True, cwd=ROOT)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return [w for w in r.stdout.splitlines() if w]


@pytest.fixture(scope="module")
def completion(destdir):
    return (destdir + f"{PREFIX}/share/bash-completion/completions/rtmon",
            destdir + f"{PREFIX}/sbin/rtmon")


def test_completion_offers_the_commands(completion):
    got = complete(*completion, [""])
    # The commands in the order `rtmon --help` lists them (the completion reads them from there).
    # (Only its "Commands:" block: the examples below it are indented alike.)
    block = run(["--help"]).stdout.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    listed = re.findall(r"^  (\w+) ", block, re.M)
    assert got == listed + ["--help", "--version"]
    assert {"malloc", "thr", "lat", "gc", "profile", "serve", "ps", "tree", "info",
            "stack"} <= set(got)
    assert complete(*completion, ["m"]) == ["malloc"]


@pytest.mark.parametrize("cmd", ["malloc", "thr", "lat", "gc", "profile", "serve", "ps", "tree",
                                 "info", "stack"])
def test_completion_offers_the_options_of_the_command(completion, cmd):
    got = complete(*completion, [cmd, "-"])
    opts = help_options(cmd)
    assert len(got) == len(set(got)) and set(got) == set(opts) | {s for s in opts.values() if s}


def test_completion_of_a_prefix_and_of_option_values(completion):
    assert complete(*completion, ["malloc", "--b"]) == ["--budget", "--binpath"]
    assert complete(*completion, ["lat", "--by"]) == ["--by-start"]
    pid = str(os.getpid())
    for words in (["thr", "-p", pid], ["thr", "--pid", pid], ["thr", "--pid", "=", pid],
                  ["info", pid]):
        assert complete(*completion, words) == [pid], words
    # process names after -n: this one's (python3...) among them
    with open(f"/proc/{pid}/comm") as f:
        name = f.read().strip()
    assert name in complete(*completion, ["gc", "-n", name[:3]])
    # files after --binpath
    assert complete(*completion, ["malloc", "--binpath", "VERS"]) == ["VERSION"]
    assert complete(*completion, ["malloc", "-b", "docs/rtmon."]) == ["docs/rtmon.8"]
    # a command after --, then that command's arguments (files here: no bash-completion loaded)
    assert "bash" in complete(*completion, ["thr", "-p", "1", "--", "bas"])
    assert complete(*completion, ["thr", "--", "ls", "VERS"]) == ["VERSION"]
    # nothing to offer for a number
    assert complete(*completion, ["thr", "-d", ""]) == []


def test_uninstall_removes_every_file(tmp_path):
    d = str(tmp_path)
    make("install", f"BUILD={BUILD}", f"PREFIX={PREFIX}", f"DESTDIR={d}")
    make("uninstall", f"BUILD={BUILD}", f"PREFIX={PREFIX}", f"DESTDIR={d}")
    left = [os.path.join(top, f) for top, _, files in os.walk(d) for f in files]
    assert left == []
    assert not os.path.exists(d + f"{PREFIX}/share/doc/rtmon")
    # a file of someone else's in the doc directory stays, and so does the directory
    make("install", f"BUILD={BUILD}", f"PREFIX={PREFIX}", f"DESTDIR={d}")
    with open(d + f"{PREFIX}/share/doc/rtmon/NOTES", "w") as f:
        f.write("mine\n")
    make("uninstall", f"BUILD={BUILD}", f"PREFIX={PREFIX}", f"DESTDIR={d}")
    left = [os.path.join(top, f) for top, _, files in os.walk(d) for f in files]
    assert left == [d + f"{PREFIX}/share/doc/rtmon/NOTES"]


def build_info(tree, build):
    make(f"BUILD={build}", f"PREFIX={PREFIX}", f"{build}/build_info.h", cwd=tree)
    with open(os.path.join(build, "build_info.h")) as f:
        return dict(re.findall(r'#define RTMON_(\w+) "(.*)"', f.read()))


def test_build_info_in_this_tree(tmp_path):
    info = build_info(ROOT, str(tmp_path / "b"))
    assert info == {"VERSION": release(), "COMMIT": git("describe", "--always", "--dirty"),
                    "DOCDIR": f"{PREFIX}/share/doc/rtmon"}


def test_build_info_from_a_tarball_and_without_git(tmp_path):
    """git archive fills COMMIT in; a tarball unpacked inside another repository takes the commit
    from COMMIT, not from that repository; a plain copy with neither says unknown."""
    outer = tmp_path / "outer"
    outer.mkdir()
    git("init", "-q", str(outer))
    tar = subprocess.run(["git", "archive", "--prefix=rtmon/", "HEAD"], cwd=ROOT,
                         capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(outer)], input=tar, check=True)
    head = git("rev-parse", "--short", "HEAD")
    assert build_info(str(outer / "rtmon"), str(tmp_path / "b1"))["COMMIT"] == head
    plain = tmp_path / "plain"
    shutil.copytree(outer / "rtmon", plain)
    with open(plain / "COMMIT", "w") as f:
        f.write("$Format:%h$\n")  # as in a checkout: git archive never filled it
    assert build_info(str(plain), str(tmp_path / "b2"))["COMMIT"] == "unknown"
