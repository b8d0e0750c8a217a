#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "commands/serve_board.h"

void serve_board_init(struct serve_board *b)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->mu, NULL);
}

void serve_entries_free(struct serve_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].labels);
	free(v);
}

static struct serve_entry *copy_entries(const struct serve_entry *v, size_t n)
{
	struct serve_entry *c = calloc(n ? n : 1, sizeof(*c));

	if (!c)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		c[i].snap = v[i].snap;
		if (!(c[i].labels = strdup(v[i].labels ? v[i].labels : ""))) {
			serve_entries_free(c, i);
			return NULL;
		}
	}
	return c;
}

int serve_board_publish(struct serve_board *b, const struct serve_entry *v, size_t n)
{
	struct serve_entry *c = copy_entries(v, n), *old;
	size_t oldn;

	if (!c)
		return -ENOMEM;
	pthread_mutex_lock(&b->mu);
	old = b->v, oldn = b->n;
	b->v = c, b->n = n;
	pthread_mutex_unlock(&b->mu);
	serve_entries_free(old, oldn);
	return 0;
}

int serve_board_read(struct serve_board *b, struct serve_entry **v, size_t *n)
{
	pthread_mutex_lock(&b->mu);
	*v = copy_entries(b->v, b->n);
	*n = b->n;
	pthread_mutex_unlock(&b->mu);
	return *v ? 0 : -ENOMEM;
}

void serve_board_close(struct serve_board *b)
{
	serve_entries_free(b->v, b->n);
	b->v = NULL;
	b->n = 0;
	pthread_mutex_destroy(&b->mu);
}
