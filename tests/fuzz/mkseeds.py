#!/usr/bin/env python3
"""Builds the seed corpus of the fuzz harnesses from the test programs (docs/fuzzing.md).

    tests/fuzz/mkseeds.py BUILD OUT

writes OUT/HARNESS/NAME for each harness (objfile, buildinfo, gosymtab, runtime_id, maps, perfdata) from
BUILD/testprog/* (C programs: PIE, non-PIE, static, stripped), BUILD/testprog/go/* (plain, stripped,
PIE) and BUILD/testprog/go/vers/* (older Go toolchains) when built, /usr/bin/python3.11 when there,
and this process's own /proc/self/maps; perfdata: each installed JDK's perf data (PerfDataSaveToFile).

A small C program is a seed as it is. A Go binary (2 MB) or a static one is too big to fuzz as it
is: its seed is a sparse file (tests/fuzz/fuzz_file.h) that keeps, at their file offsets, the ELF,
program and section headers, the section names, every small section, and what the harness reads:
the build info and the strings it points to, the first functions of .gopclntab (nfunc cut to match)
with their _func headers, names and code, the first symbols of .symtab and the ones rtmon looks up,
with their names. The rest of the file reads as zeros. Variants without section headers make the
readers search by segment and by magic.
"""
import os
import struct
import sys

MAGIC = b"RTMSPRS1"
# Symbols rtmon looks up: their entries and names are kept in every symbol table.
WANTED = {
    b"malloc", b"free", b"calloc", b"realloc", b"pthread_create", b"main", b"GC_gcollect",
    b"Py_GetVersion", b"Py_Version", b"runtime.mallocgc", b"runtime.newproc1",
    b"runtime.gcStart", b"runtime.goexit1", b"main.main", b"_rt0_amd64_linux",
}
FIRST_SYMS = 256    # the first entries of each symbol table
FIRST_FUNCS = 48    # the first functions of .gopclntab
SMALL_SECTION = 1024
MAX_CODE = 8192     # code kept per function


class Elf:
    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.data = f.read()
        d = self.data
        if len(d) < 64 or d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
            raise ValueError("not a little-endian ELF64 file")
        (self.entry, self.phoff, self.shoff) = struct.unpack_from("<QQQ", d, 24)
        (self.phentsize, self.phnum, self.shentsize, self.shnum,
         self.shstrndx) = struct.unpack_from("<HHHHH", d, 54)
        self.phdrs = [struct.unpack_from("<IIQQQQQQ", d, self.phoff + i * self.phentsize)
                      for i in range(self.phnum)]
        self.shdrs = [struct.unpack_from("<IIQQQQIIQQ", d, self.shoff + i * self.shentsize)
                      for i in range(self.shnum)]
        strtab = self.shdrs[self.shstrndx][4] if self.shnum else 0
        self.names = [self.cstr(strtab + s[0]) for s in self.shdrs]

    def cstr(self, off):
        end = self.data.find(b"\0", off)
        return self.data[off:end if end >= 0 else len(self.data)]

    def section(self, name):
        """(index, offset, size, addr, link) of the section, or None."""
        for i, s in enumerate(self.shdrs):
            if self.names[i] == name and s[1] != 8:  # not SHT_NOBITS
                return i, s[4], s[5], s[3], s[6]
        return None

    def vaddr_to_off(self, va):
        for p in self.phdrs:
            if p[0] == 1 and p[3] <= va < p[3] + p[5]:
                return va - p[3] + p[2]
        return None


class Sparse:
    """The byte ranges of a file to keep, and patches over them."""

    def __init__(self, elf):
        self.elf = elf
        self.ranges = []
        self.patches = []

    def keep(self, off, size):
        size = min(size, len(self.elf.data) - off)
        if off >= 0 and size > 0:
            self.ranges.append((off, off + size))

    def patch(self, off, data):
        self.keep(off, len(data))
        self.patches.append((off, data))

    def build(self):
        merged = []
        for a, b in sorted(self.ranges):
            if merged and a <= merged[-1][1] + 8:  # a gap shorter than a record header
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        buf = bytearray(self.elf.data)
        for off, data in self.patches:
            buf[off:off + len(data)] = data
        out = bytearray(MAGIC + struct.pack("<I", len(buf)))
        for a, b in merged:
            out += struct.pack("<II", a, b - a) + buf[a:b]
        return bytes(out)


def skeleton(elf, with_shdrs=True):
    s = Sparse(elf)
    s.keep(0, 64)
    s.keep(elf.phoff, elf.phnum * elf.phentsize)
    for p in elf.phdrs:
        if p[0] in (2, 3, 4):  # PT_DYNAMIC, PT_INTERP, PT_NOTE
            s.keep(p[2], p[5])
    if with_shdrs:
        s.keep(elf.shoff, elf.shnum * elf.shentsize)
        if elf.shnum:
            sh = elf.shdrs[elf.shstrndx]
            s.keep(sh[4], sh[5])
        for i, sh in enumerate(elf.shdrs):
            if sh[1] != 8 and 0 < sh[5] <= SMALL_SECTION:
                s.keep(sh[4], sh[5])
    else:
        s.patch(0x28, struct.pack("<Q", 0))        # e_shoff
        s.patch(0x3c, struct.pack("<HH", 0, 0))    # e_shnum, e_shstrndx
    return s


def keep_symbols(s, name, first=FIRST_SYMS):
    """The first entries of a symbol table and the WANTED ones, with their names; returns the
    WANTED symbols as {name: (value, size, type)}."""
    elf = s.elf
    sec = elf.section(name)
    found = {}
    if not sec:
        return found
    i, off, size, _, link = sec
    stroff = elf.shdrs[link][4]
    for k in range(size // 24):
        e = off + 24 * k
        st_name, st_info, _, _, value, sz = struct.unpack_from("<IBBHQQ", elf.data, e)
        sym = elf.cstr(stroff + st_name)
        base = sym.split(b"@")[0]
        if k < first or base in WANTED:
            s.keep(e, 24)
            s.keep(stroff + st_name, len(sym) + 1)
        if base in WANTED:
            found[base] = (value, sz, st_info & 15)
    return found


def keep_code(s, value, size):
    off = s.elf.vaddr_to_off(value)
    if off is not None:
        s.keep(off, min(size, MAX_CODE))


def keep_wanted(s, found):
    for name, (value, size, typ) in found.items():
        if typ == 2:  # STT_FUNC
            keep_code(s, value, size)
        elif typ == 1:  # STT_OBJECT: a version constant
            off = s.elf.vaddr_to_off(value)
            if off is not None:
                s.keep(off, min(size, 64))


def symbols_seed(elf, with_shdrs=True):
    """What the ELF reader looks at: both symbol tables, .dynamic, .dynstr, notes."""
    s = skeleton(elf, with_shdrs)
    keep_wanted(s, keep_symbols(s, b".symtab"))
    keep_wanted(s, keep_symbols(s, b".dynsym", first=4096))
    for name in (b".dynstr", b".note.stapsdt", b".dynamic"):
        sec = elf.section(name)
        if sec:
            s.keep(sec[1], min(sec[2], 65536))
    return s


def keep_python_version(s):
    """PY_VERSION ("3.11.2") in .rodata, where Py_Version is missing (CPython before 3.11)."""
    sec = s.elf.section(b".rodata")
    if not sec:
        return
    data = s.elf.data
    at = data.find(b"3.11.", sec[1], sec[1] + sec[2])
    while at >= 0:
        s.keep(at - 32, 64)
        at = data.find(b"3.11.", at + 1, sec[1] + sec[2])


def buildinfo_seed(elf, with_shdrs=True):
    s = skeleton(elf, with_shdrs)
    sec = elf.section(b".go.buildinfo")
    if not sec:
        return None
    off = sec[1]
    s.keep(off, sec[2])
    d = elf.data
    ptrsz, flags = d[off + 14], d[off + 15]
    if not flags & 2 and ptrsz == 8:  # pointer form: the two string headers and their bytes
        for k in (0, 1):
            (hdr,) = struct.unpack_from("<Q", d, off + 16 + 8 * k)
            hoff = elf.vaddr_to_off(hdr)
            if hoff is None:
                continue
            s.keep(hoff, 16)
            ptr, n = struct.unpack_from("<QQ", d, hoff)
            soff = elf.vaddr_to_off(ptr)
            if soff is not None:
                s.keep(soff, n)
    return s


def pclntab(elf):
    for name in (b".gopclntab", b".data.rel.ro.gopclntab"):
        sec = elf.section(name)
        if sec:
            return sec
    return None


def gosymtab_seed(elf, with_shdrs=True, nfuncs=FIRST_FUNCS, symtab=True):
    """The first nfuncs functions of .gopclntab (all of them when None), with .symtab's first
    symbols when there is one (else .symtab reads as zeros: no function, so .gopclntab is used),
    and the code of both."""
    s = skeleton(elf, with_shdrs)
    if symtab:
        keep_wanted(s, keep_symbols(s, b".symtab"))
    sec = pclntab(elf)
    if not sec:
        return s
    d, off = elf.data, sec[1]
    (magic,) = struct.unpack_from("<I", d, off)
    nw = 7 if magic == 0xFFFFFFFA else 8
    words = struct.unpack_from("<%dQ" % nw, d, off + 8)
    nfunc, funcname, pcln = words[0], words[nw - 5], words[nw - 1]
    fs = 8 if magic == 0xFFFFFFFA else 4
    fmt = "<Q" if fs == 8 else "<I"
    text = elf.section(b".text")
    text_start = 0 if magic == 0xFFFFFFFA else (text[3] if text else words[2])
    n = nfunc if nfuncs is None else min(nfunc, nfuncs)
    s.keep(off, 8 + nw * 8)
    if n < nfunc:
        s.patch(off + 8, struct.pack("<Q", n))
    s.keep(off + pcln, (2 * n + 1) * fs)
    for i in range(n):
        e = off + pcln + 2 * i * fs
        (entry,) = struct.unpack_from(fmt, d, e)
        (next_entry,) = struct.unpack_from(fmt, d, e + 2 * fs)
        (foff,) = struct.unpack_from(fmt, d, e + fs)
        (nameoff,) = struct.unpack_from("<i", d, off + pcln + foff + fs)
        s.keep(off + pcln + foff, fs + 4)
        name = elf.cstr(off + funcname + nameoff)
        s.keep(off + funcname + nameoff, len(name) + 1)
        if i < FIRST_FUNCS or name in WANTED:
            keep_code(s, text_start + entry, next_entry - entry)
    return s


def pclntab_in(s, target):
    """Calls the .gopclntab section by the name of target (.rodata, .data.rel.ro) and leaves the
    real target unnamed, as where an external linker merged the table into that section: the
    reader then searches target for the table's magic."""
    elf = s.elf
    sec, tsec = pclntab(elf), elf.section(target)
    if not sec or not tsec:
        return None
    for idx, name in ((sec[0], elf.shdrs[tsec[0]][0]), (tsec[0], 0)):
        s.patch(elf.shoff + idx * elf.shentsize, struct.pack("<I", name))
    return s


def elf_files(d):
    """The ELF64 files in directory d, by name."""
    out = []
    for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        path = os.path.join(d, f)
        if os.path.isfile(path):
            with open(path, "rb") as fh:
                head = fh.read(5)
            if head == b"\x7fELF\x02":
                out.append(path)
    return out


def files(build):
    tp = os.path.join(build, "testprog")
    return elf_files(tp), elf_files(os.path.join(tp, "go")) + elf_files(os.path.join(tp, "go/vers"))


JDKS = ("/usr/lib/jvm/java-17-openjdk-amd64", "/usr/lib/jvm/temurin-25-jdk-amd64")


def perfdata_entry(name, value, size):
    """A perf data string entry as perfMemory.hpp lays it out: the header, the name, the bytes."""
    data_off = 20 + len(name) + 1
    total = (data_off + size + 7) & ~7
    head = struct.pack("<iiibbbbi", total, 20, size, ord("B"), 0, 0, 3, data_off)
    return (head + name + b"\0" + value).ljust(total, b"\0")


def perfdata_seeds():
    """Each JDK's own perf data as it saves it at exit (-XX:+PerfDataSaveToFile: the bytes of its
    memory), and a small one made here with the string rtmon looks for last."""
    import subprocess
    import tempfile
    for jdk in JDKS:
        java = os.path.join(jdk, "bin", "java")
        if not os.path.exists(java):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "perfdata")
            subprocess.run([java, "-XX:+PerfDataSaveToFile", f"-XX:PerfDataSaveFile={path}", "-version"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    yield os.path.basename(jdk), f.read()
    entries = perfdata_entry(b"sun.gc.policy.name", b"Copy:MSC", 9) + perfdata_entry(
        b"sun.gc.cause", b"No GC", 81)
    used = 32 + len(entries)
    prologue = b"\xca\xfe\xc0\xc0" + struct.pack("<bbbbiiqii", 1, 2, 0, 1, used, 0, 0, 32, 2)
    yield "small", prologue + entries


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: mkseeds.py BUILD OUT")
    build, out = sys.argv[1], sys.argv[2]
    c_progs, go_progs = files(build)
    if not c_progs or not go_progs:
        sys.exit("mkseeds: no test programs in %s/testprog: run make testprogs" % build)
    seeds = {h: {} for h in ("objfile", "buildinfo", "gosymtab", "runtime_id", "maps", "perfdata")}

    def add(harness, name, s):
        if s is not None:
            seeds[harness][name] = s.build() if isinstance(s, Sparse) else s

    for path in c_progs:
        name = os.path.basename(path)
        elf = Elf(path)
        if len(elf.data) <= 64 * 1024:
            add("objfile", name, elf.data)
            add("runtime_id", name, elf.data)
        else:
            add("objfile", name, symbols_seed(elf))
            add("runtime_id", name, symbols_seed(elf))
    add("buildinfo", "not-go", Elf(c_progs[0]).data if c_progs else None)
    for path in go_progs:
        name = os.path.basename(path)
        elf = Elf(path)
        add("objfile", name, symbols_seed(elf))
        add("buildinfo", name, buildinfo_seed(elf))
        add("runtime_id", name, buildinfo_seed(elf))
        add("gosymtab", name, gosymtab_seed(elf))
        if name.endswith("-stripped"):
            add("buildinfo", name + "-noshdr", buildinfo_seed(elf, with_shdrs=False))
            add("gosymtab", name + "-noshdr", gosymtab_seed(elf, with_shdrs=False))
            add("gosymtab", name + "-inrodata", pclntab_in(gosymtab_seed(elf), b".rodata"))
        if name.endswith("-pie"):  # .gopclntab inside .data.rel.ro up to Go 1.25
            add("gosymtab", name + "-nosym", gosymtab_seed(elf, symtab=False))
            add("gosymtab", name + "-nosym-inrelro",
                pclntab_in(gosymtab_seed(elf, symtab=False), b".data.rel.ro"))
    # Go 1.26 writes no textStart: without section headers, .text is found from the entry point
    # (_rt0_amd64_linux), which needs the whole function table.
    newest = [p for p in go_progs if "/vers/" not in p and p.endswith("-stripped")]
    if newest:
        add("gosymtab", os.path.basename(newest[0]) + "-noshdr-full",
            gosymtab_seed(Elf(newest[0]), with_shdrs=False, nfuncs=None))
    py = "/usr/bin/python3.11"
    if os.path.exists(py):
        s = symbols_seed(Elf(py))
        add("objfile", "python3.11", s)
        keep_python_version(s)
        add("runtime_id", "python3.11", s)
    with open("/proc/self/maps", "rb") as f:
        add("maps", "self", f.read())
    add("maps", "kinds", b"".join([
        b"55d0c0a00000-55d0c0a02000 r--p 00000000 fd:01 1837 /usr/bin/cat\n",
        b"7f1c2d600000-7f1c2d628000 r-xp 00028000 fd:01 2040 /lib/x86_64-linux-gnu/libc.so.6\n",
        b"7f1c2d800000-7f1c2d801000 r--p 00000000 00:05 9 /tmp/lib (deleted)/libx.so (deleted)\n",
        b"7f1c2d900000-7f1c2d901000 rw-s 00000000 00:01 12 /memfd:jit (deleted)\n",
        b"7f1c2da00000-7f1c2da01000 r-xp 00000000 fd:01 77 /opt/a dir/lib y.so\n",
        b"7f1c2db00000-7f1c2db01000 rw-p 00000000 00:00 0 [anon:/usr/lib/libz.so]\n",
        b"55d0c1000000-55d0c1021000 rw-p 00000000 00:00 0                          [heap]\n",
        b"7ffd1a000000-7ffd1a021000 rw-p 00000000 00:00 0                          [stack]\n",
        b"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n",
        b"7f1c2dc00000-7f1c2dc01000 r--p 00000000 fd:01 78 /" + b"d" * 4200 + b"\n",
    ]))
    for name, data in perfdata_seeds():
        add("perfdata", name, data)
    for harness, named in seeds.items():
        d = os.path.join(out, harness)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
        for name, data in named.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        sizes = sorted(len(v) for v in named.values())
        print("mkseeds: %-10s %3d seeds, %d to %d bytes" % (harness, len(sizes), sizes[0],
                                                            sizes[-1]))


if __name__ == "__main__":
    main()
