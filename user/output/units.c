#include <stdio.h>
#include "output/units.h"

void units_bytes(uint64_t b, char *out, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

void units_duration(double ns, char *out, size_t len)
{
	if (ns < 1e3)
		snprintf(out, len, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(out, len, "%.1f us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(out, len, "%.1f ms", ns / 1e6);
	else
		snprintf(out, len, "%.2f s", ns / 1e9);
}
