/* Test programs wait for a start signal so that rtmon attaches before they do the work under test:
 * they read one line from stdin (EOF, e.g. </dev/null, starts them at once). read(2), not stdio:
 * stdio would allocate and disturb the exact counts the tests assert. */
#ifndef TP_GATE_H
#define TP_GATE_H

#include <unistd.h>

static inline void tp_wait_for_start(void)
{
	char c;

	while (read(STDIN_FILENO, &c, 1) == 1 && c != '\n')
		;
}

#endif
