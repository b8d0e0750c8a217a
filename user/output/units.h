/* Human units for text output (JSON keeps raw integers): sizes in binary units, as ps, top and the
 * JVM's own logs print them. */
#ifndef RTMON_UNITS_H
#define RTMON_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* "512 B", "1.0 KiB", "15.3 MiB", "2.0 GiB", "1.5 TiB". */
void units_bytes(uint64_t b, char *out, size_t len);

#endif
