/* The Go runtime's small-object size classes (internal/runtime/gc/sizeclasses.go;
 * runtime/sizeclasses.go before Go 1.24). The table is identical from Go 1.12 through 1.26: checked
 * against 1.17.13, 1.22.12, 1.24.13 and 1.26 sources. Class 0 is unused by the runtime; rtmon files
 * size-0 requests there. Requests above GO_MAX_SMALL_SIZE are large allocations (their own spans).
 */
#ifndef RTMON_GO_SIZECLASSES_H
#define RTMON_GO_SIZECLASSES_H

#define GO_NUM_SIZE_CLASSES 68
#define GO_MAX_SMALL_SIZE   32768
#define GO_CLASS_LARGE      GO_NUM_SIZE_CLASSES /* index of the "> 32 KiB" counter */

static const unsigned short go_class_size[GO_NUM_SIZE_CLASSES] = {
	0,     8,     16,    24,    32,    48,    64,    80,    96,    112,   128,   144,
	160,   176,   192,   208,   224,   240,   256,   288,   320,   352,   384,   416,
	448,   480,   512,   576,   640,   704,   768,   896,   1024,  1152,  1280,  1408,
	1536,  1792,  2048,  2304,  2688,  3072,  3200,  3456,  4096,  4864,  5376,  6144,
	6528,  6784,  6912,  8192,  9472,  9728,  10240, 10880, 12288, 13568, 14336, 16384,
	18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768,
};

/* The smallest class whose size holds the request: a bounded binary search (7 steps), which the BPF
 * verifier accepts and which costs less than the trap that got us here. */
static __always_inline unsigned int go_size_class(unsigned long long size)
{
	unsigned int lo = 1, hi = GO_NUM_SIZE_CLASSES - 1;

	if (size == 0)
		return 0;
	if (size > GO_MAX_SMALL_SIZE)
		return GO_CLASS_LARGE;
	for (int i = 0; i < 7 && lo < hi; i++) {
		unsigned int mid = (lo + hi) / 2;

		if (mid >= GO_NUM_SIZE_CLASSES) /* cannot happen; tells the verifier the index is in
						   range */
			break;
		if (go_class_size[mid] >= size)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

#endif
