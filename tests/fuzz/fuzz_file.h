/* fuzz_file.h - the input of an ELF harness as a file the reader under test opens by path.
 *
 * The readers take paths, so a harness writes its input to a memfd and passes /proc/self/fd/N.
 * An input is either the file itself, or, when it starts with FUZZ_SPARSE_MAGIC, a sparse file:
 *   "RTMSPRS1", u32 size (little-endian), then records
 *   {u32 offset, u32 length, length bytes} written at offset; the rest of the file reads as zeros.
 * A real 2 MB Go binary is too slow to fuzz as it is; its sparse form keeps the headers, the string
 * tables and the parts a reader looks at (tests/fuzz/mkseeds.py) in a few kilobytes, at the same
 * file offsets, so the fuzzer mutates real structures. Records past the size are cut or dropped;
 * a record cut short by the end of the input keeps what is there. */
#ifndef RTMON_FUZZ_FILE_H
#define RTMON_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>

#define FUZZ_SPARSE_MAGIC "RTMSPRS1"

/* Creates the file from the input, a sparse one cut to max bytes; fills path (/proc/self/fd/N)
 * and returns the descriptor, which the caller closes with close(). Aborts on a failure of the
 * harness itself (no memfd). max bounds the time an input can take: a reader that scans a
 * segment for a magic reads zero pages of a sparse file as it would real ones. */
int fuzz_file_make(const uint8_t *data, size_t size, uint32_t max, char *path, size_t pathlen);

/* Closes it, and aborts if the reader left a descriptor open: one that was not open when
 * fuzz_file_make ran. */
void fuzz_file_close(int fd);

#endif
