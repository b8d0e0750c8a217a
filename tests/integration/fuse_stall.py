"""A FUSE filesystem that hangs: what a stalled network or FUSE server looks like to rtmon, and what
a target's owner can arrange (fusermount is setuid). It serves one request at a time; a lookup of
"d/stall" never answers (it prints "stalled" first), so every later request on the mount, rtmon's
lookup of "prog" among them, waits in the kernel's queue for ever: the state a hung server leaves
its other clients in. (The client whose request the server has taken, and one waiting for the lock
of the same directory, cannot be interrupted even by SIGKILL: the kernel waits those out. That is
why the stalled lookup is in d/, not next to prog.) Usage: /usr/bin/python3 fuse_stall.py MOUNTPOINT
(Debian's python3-fusepy, installed by .ci/install-deps)."""
import errno
import stat
import sys
import threading
import time

from fusepy import FUSE, FuseOSError, Operations


class Stall(Operations):
    def getattr(self, path, fh=None):
        now = time.time()
        times = dict(st_atime=now, st_mtime=now, st_ctime=now)
        if path in ("/", "/d"):
            return dict(st_mode=stat.S_IFDIR | 0o755, st_nlink=2, **times)
        if path == "/d/stall":
            print("stalled", flush=True)
            threading.Event().wait()  # never answers
        if path == "/prog":
            return dict(st_mode=stat.S_IFREG | 0o755, st_nlink=1, st_size=1 << 20, **times)
        raise FuseOSError(errno.ENOENT)

    def readdir(self, path, fh):
        return [".", "..", "prog"] if path == "/" else [".", ".."]


if __name__ == "__main__":
    FUSE(Stall(), sys.argv[1], foreground=True, nothreads=True)
