/* Human units for text output (JSON keeps raw integers): sizes in binary units, as ps, top and the
 * JVM's own logs print them. */
#ifndef RTMON_UNITS_H
#define RTMON_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* "512 B", "1.0 KiB", "15.3 MiB", "2.0 GiB", "1.5 TiB". */
void units_bytes(uint64_t b, char *out, size_t len);

/* A duration in the unit that keeps it readable: "850 ns", "45.3 us", "12.1 ms", "2.35 s". */
void units_duration(double ns, char *out, size_t len);

/* Buffers for a value in a printf argument list: UNITS(b) expands to a fresh buffer. */
#define UNITS_LEN 24

#endif
