/* tcmalloc's own entry points, linked with -ltcmalloc, for rtmon malloc's tests
 * (tests/integration/test_malloc_allocators.py keeps the expected counts in step with this file).
 * They are C++'s operators new and delete (extern "C"; gperftools/tcmalloc.h declares them for
 * C++ only, so they are declared here). After the start signal:
 *   tc_new(200) x 6                  -> bucket 7 (128..255)
 *   tc_newarray(5000) x 2            -> bucket 12 (4096..8191); tc_newarray is tc_new's alias
 *   tc_new_nothrow(40) x 3           -> bucket 5 (32..63)
 *   tc_delete_sized(p, 200) x 6, tc_delete_nothrow(p) x 3 -> 9 tc_delete calls
 *   tc_deletearray(p) x 2            -> free itself (an alias): 2 free calls
 *   realloc(NULL, 3000) x 4          -> bucket 11 (2048..4095): tcmalloc allocates inside realloc
 *   realloc(p, 0) x 2, free(p) x 2   -> frees
 * 15 allocations, 15 frees. */
#include <stddef.h>
#include <stdlib.h>
#include "../tp_gate.h"

void *tc_new(size_t size);
void *tc_newarray(size_t size);
void *tc_new_nothrow(size_t size, const void *nothrow); /* const std::nothrow_t & */
void tc_delete_sized(void *p, size_t size);
void tc_delete_nothrow(void *p, const void *nothrow);
void tc_deletearray(void *p);

int main(void)
{
	/* volatile: the compiler turns realloc(NULL, n) into malloc(n) */
	void *volatile none = NULL;
	static const char nothrow; /* std::nothrow_t is empty: only its address is passed */
	void *a[6], *big[2], *c[3], *b[4];

	tp_wait_for_start();
	for (int i = 0; i < 6; i++)
		a[i] = tc_new(200);
	for (int i = 0; i < 2; i++)
		big[i] = tc_newarray(5000);
	for (int i = 0; i < 3; i++)
		c[i] = tc_new_nothrow(40, &nothrow);
	for (int i = 0; i < 6; i++)
		tc_delete_sized(a[i], 200);
	for (int i = 0; i < 3; i++)
		tc_delete_nothrow(c[i], &nothrow);
	for (int i = 0; i < 2; i++)
		tc_deletearray(big[i]);
	for (int i = 0; i < 4; i++)
		b[i] = realloc(none, 3000);
	for (int i = 0; i < 2; i++)
		if (realloc(b[i], 0))
			return 3;
	for (int i = 2; i < 4; i++)
		free(b[i]);
	return 0;
}
