#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "commands/serve_board.h"

void serve_board_init(struct serve_board *b)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->mu, NULL);
	pthread_mutex_init(&b->heap_mu, NULL);
}

void serve_board_heap_set(struct serve_board *b, pid_t pid, struct go_heap *gh, const char *why)
{
	struct serve_heap *h = NULL, *n;

	pthread_mutex_lock(&b->heap_mu);
	for (size_t i = 0; i < b->nheaps && !h; i++)
		if (b->heaps[i].pid == pid)
			h = &b->heaps[i];
	if (h) {
		free((char *)h->why);
		*h = b->heaps[--b->nheaps];
	}
	if ((gh || why) && (n = realloc(b->heaps, (b->nheaps + 1) * sizeof(*n)))) {
		b->heaps = n;
		b->heaps[b->nheaps++] = (struct serve_heap){ pid, gh, why ? strdup(why) : NULL };
	}
	pthread_mutex_unlock(&b->heap_mu);
}

int serve_board_heap_profile(struct serve_board *b, pid_t pid, struct profile **out, char *why,
			     size_t whylen)
{
	int rc = -ENOENT;

	*out = NULL;
	if (whylen)
		*why = 0;
	pthread_mutex_lock(&b->heap_mu);
	for (size_t i = 0; i < b->nheaps; i++) {
		if (b->heaps[i].pid != pid)
			continue;
		if (b->heaps[i].gh)
			rc = (*out = go_heap_profile(b->heaps[i].gh)) ? 0 : -ENOMEM;
		else if (whylen)
			snprintf(why, whylen, "%s", b->heaps[i].why ? b->heaps[i].why : "");
		break;
	}
	pthread_mutex_unlock(&b->heap_mu);
	return rc;
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
		c[i].pid = v[i].pid;
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
	for (size_t i = 0; i < b->nheaps; i++)
		free((char *)b->heaps[i].why);
	free(b->heaps);
	b->heaps = NULL;
	b->nheaps = 0;
	pthread_mutex_destroy(&b->mu);
	pthread_mutex_destroy(&b->heap_mu);
}
