#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stack/kernel_syms.h"

struct ksym {
	uint64_t addr;
	char *name;
};

struct kernel_syms {
	struct ksym *syms;
	size_t n;
};

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

void kernel_syms_free(struct kernel_syms *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++)
		free(k->syms[i].name);
	free(k->syms);
	free(k);
}

struct kernel_syms *kernel_syms_load(void)
{
	struct kernel_syms *k = calloc(1, sizeof(*k));
	char line[512], name[256], type;
	size_t cap = 0;
	uint64_t addr;
	FILE *f = fopen("/proc/kallsyms", "re");

	if (!k || !f)
		goto fail;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNx64 " %c %255s", &addr, &type, name) != 3 || !addr ||
		    !strchr("tTwW", type))
			continue;
		if (k->n == cap) {
			size_t c = cap ? cap * 2 : 65536;
			struct ksym *n = realloc(k->syms, c * sizeof(*n));

			if (!n)
				goto fail;
			k->syms = n;
			cap = c;
		}
		if (!(k->syms[k->n].name = strdup(name)))
			goto fail;
		k->syms[k->n++].addr = addr;
	}
	fclose(f);
	if (!k->n) {
		kernel_syms_free(k);
		return NULL;
	}
	qsort(k->syms, k->n, sizeof(*k->syms), cmp_ksym);
	return k;
fail:
	if (f)
		fclose(f);
	kernel_syms_free(k);
	return NULL;
}

const char *kernel_syms_name(const struct kernel_syms *k, uint64_t addr)
{
	size_t lo = 0, hi = k->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? k->syms[lo - 1].name : NULL;
}
