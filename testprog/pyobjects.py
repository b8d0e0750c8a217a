"""Known object allocations for rtmon malloc's CPython object allocator (pymalloc) test
(tests/integration/test_malloc_allocators.py). argv[1] = N.

It says "ready" once started, then waits for one byte on stdin (the tracer attaches meanwhile).
Between two markers it fills a list made beforehand with N bytes objects of 300 bytes each
(bytes(267) plus the object's 33-byte header: one PyObject_Calloc of 300 bytes each, a block of
pymalloc's 304-byte size class), and measures the rise of the interpreter's own count of pymalloc
blocks (sys.getallocatedblocks()). The same loop storing None (a control: the loop's own ints
and the count's own result) is measured too, and the difference, which is N when each object is one
pymalloc block, is printed: the truth from the interpreter, independent of rtmon. Nothing else the
script does after the gate asks for 256 to 511 bytes. os._exit ends it without the interpreter's
teardown."""
import os
import sys

N = int(sys.argv[1])
objs = [None] * N
sys.stdout.write("ready\n")
sys.stdout.flush()
os.read(0, 1)

c0 = sys.getallocatedblocks()
for i in range(N):
    objs[i] = None
del i  # the loop's last int: not left to the next loop to free
c1 = sys.getallocatedblocks()

b0 = sys.getallocatedblocks()
for i in range(N):
    objs[i] = bytes(267)
del i
b1 = sys.getallocatedblocks()

os.write(1, b"%d\n" % ((b1 - b0) - (c1 - c0)))
os._exit(0)
