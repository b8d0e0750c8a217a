#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "output/escape.h"
#include "runtime/go/goroutine_dump.h"

#define FRAME_CACHE_SIZE 4096 /* slots, a power of 2 */

struct go_frame_cache_slot {
	uint64_t key; /* pc << 1 | trap; 0 = empty */
	struct go_frame_src fs;
};

void go_frame_cache_init(struct go_frame_cache *c, struct go_proc *p)
{
	c->p = p;
	c->slots = calloc(FRAME_CACHE_SIZE, sizeof(*c->slots));
}

void go_frame_cache_free(struct go_frame_cache *c)
{
	free(c->slots);
	c->slots = NULL;
}

bool go_frame_shown(const char *name, bool first)
{
	if (!name || !strchr(name, '.'))
		return false;
	if (!first && !strcmp(name, "runtime.gopanic"))
		return true;
	return strncmp(name, "runtime.", 8) || (name[8] >= 'A' && name[8] <= 'Z');
}

static void frame_lookup_uncached(struct go_proc *p, uint64_t pc, bool trap,
				  struct go_frame_src *fs)
{
	/* A return address is looked up by its call: after a call that never returns (to
	 * runtime.goexit's caller) it is the function's end. */
	const char *fn = go_func_name_at(p->st, pc - p->bias - (trap ? 0 : 1));

	fs->pc = pc - p->bias;
	fs->entry = 0;
	fs->n = 0;
	if (!fn || go_func_by_name(p->st, fn, &fs->entry, NULL, NULL))
		return;
	/* A return address looks up its call instruction, as the runtime does. */
	fs->n = go_pc_lines(p->st, fs->pc > fs->entry && !trap ? fs->pc - 1 : fs->pc, fs->lines,
			    CODE_LINES_MAX);
	if (fs->n < 0)
		fs->n = 0;
}

void go_frame_lookup(struct go_frame_cache *c, uint64_t pc, bool trap, struct go_frame_src *fs)
{
	uint64_t key = pc << 1 | trap;
	struct go_frame_cache_slot *slot;

	if (!c->slots) {
		frame_lookup_uncached(c->p, pc, trap, fs);
		return;
	}
	slot = &c->slots[(key * 0x9e3779b97f4a7c15ULL) >> 52];
	if (slot->key != key) { /* a miss replaces the slot */
		frame_lookup_uncached(c->p, pc, trap, &slot->fs);
		slot->key = key;
	}
	*fs = slot->fs;
}

static const char *status_text(const struct go_proc *p, const struct go_goroutine *g)
{
	const char *s = go_status_name(p, g->status);

	if ((g->status == GO_G_WAITING || !strcmp(s, "leaked")) && g->wait_reason)
		return go_wait_reason_name(p, g->wait_reason);
	return s;
}

int64_t go_goroutine_waiting_ns(const struct go_goroutine *g)
{
	struct timespec ts;

	if ((g->status != GO_G_WAITING && g->status != GO_G_SYSCALL) || !g->waitsince)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* the runtime's nanotime */
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - g->waitsince;
}

static const char *safe(const char *s, char *buf, size_t len)
{
	return text_safe(s ? s : "?", buf, len);
}

static void write_created_by(FILE *out, struct go_frame_cache *c, const struct go_goroutine *g)
{
	char b1[TEXT_SAFE_MAX], b2[TEXT_SAFE_MAX];
	struct go_frame_src fs;
	const char *fn;

	if (g->goid == 1 || !g->gopc)
		return;
	go_frame_lookup(c, g->gopc, false, &fs);
	fn = go_func_name_at(c->p->st, fs.pc);
	if (!fs.n || !go_frame_shown(fn, false))
		return;
	fprintf(out, "created by %s", safe(fn, b1, sizeof(b1)));
	if (g->parent_goid)
		fprintf(out, " in goroutine %llu", (unsigned long long)g->parent_goid);
	fprintf(out, "\n\t%s:%u", safe(fs.lines[0].file, b2, sizeof(b2)), fs.lines[0].line);
	if (fs.pc > fs.entry)
		fprintf(out, " +%#llx", (unsigned long long)(fs.pc - fs.entry));
	fprintf(out, "\n");
}

void go_write_goroutine(FILE *out, struct go_frame_cache *c, const struct go_goroutine *g,
			bool first_shown)
{
	char b1[TEXT_SAFE_MAX], b2[TEXT_SAFE_MAX];
	int64_t w = go_goroutine_waiting_ns(g);
	bool first = true;

	if (!first_shown)
		fprintf(out, "\n");
	fprintf(out, "goroutine %llu [%s", (unsigned long long)g->goid,
		safe(status_text(c->p, g), b1, sizeof(b1)));
	if (g->scan)
		fprintf(out, " (scan)");
	if (w >= 60000000000LL)
		fprintf(out, ", %lld minutes", (long long)(w / 60000000000LL));
	if (g->locked)
		fprintf(out, ", locked to thread");
	fprintf(out, "]:\n");
	if (g->no_stack && g->status == GO_G_RUNNING)
		fprintf(out, "\tgoroutine running on other thread; stack unavailable\n");
	else if (g->torn)
		fprintf(out, "\tgoroutine changed each time rtmon read it; stack not shown\n");
	for (int i = 0; i < g->npcs; i++) {
		struct go_frame_src fs;

		go_frame_lookup(c, g->pcs[i], g->trap[i], &fs);
		for (int j = 0; j < fs.n; j++) {
			bool inlined = j < fs.n - 1;

			if (!go_frame_shown(fs.lines[j].func, first))
				continue;
			first = false;
			fprintf(out, "%s(...)\n\t%s:%u", safe(fs.lines[j].func, b1, sizeof(b1)),
				safe(fs.lines[j].file, b2, sizeof(b2)), fs.lines[j].line);
			if (!inlined && fs.pc > fs.entry)
				fprintf(out, " +%#llx", (unsigned long long)(fs.pc - fs.entry));
			fprintf(out, "\n");
		}
	}
	if (g->elided)
		fprintf(out, "...additional frames elided...\n");
	else if (g->cut)
		fprintf(out,
			"...additional frames not read: the frame pointer chain left the stack\n");
	write_created_by(out, c, g);
}

void go_write_goroutines(FILE *out, struct go_frame_cache *c, const struct go_goroutine *gs,
			 size_t n)
{
	bool first = true;

	for (size_t i = 0; i < n; i++) {
		if (gs[i].system)
			continue;
		go_write_goroutine(out, c, &gs[i], first);
		first = false;
	}
}

/* A goroutine profile's PC: a return address, and one past a trap PC (runtime.tracebackPCs). */
static uint64_t profile_pc(const struct go_goroutine *g, int i)
{
	return g->trap[i] ? g->pcs[i] + 1 : g->pcs[i];
}

/* A frame the runtime's own tracebacks leave out (a wrapper): its function is known but it shows
 * no line. tracebackPCs leaves it out of a goroutine profile's stack too. */
static bool hidden(struct go_frame_cache *c, const struct go_goroutine *g, int i,
		   struct go_frame_src *fs)
{
	go_frame_lookup(c, g->pcs[i], g->trap[i], fs);
	return !fs->n && fs->entry;
}

/* Go's key of a stack, "@ 0x1 0x2", by which equal stacks are counted and ties are ordered. */
struct stack_key {
	char *key;
	const struct go_goroutine *g;
	size_t count;
};

static char *make_key(struct go_frame_cache *c, const struct go_goroutine *g)
{
	struct go_frame_src fs;
	size_t len = 2 + (size_t)g->npcs * 20 + 1, off;
	char *k = malloc(len);

	if (!k)
		return NULL;
	off = (size_t)snprintf(k, len, "@");
	for (int i = 0; i < g->npcs; i++)
		if (!hidden(c, g, i, &fs))
			off += (size_t)snprintf(k + off, len - off, " %#llx",
						(unsigned long long)profile_pc(g, i));
	return k;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct stack_key *)a)->key, ((const struct stack_key *)b)->key);
}

/* runtime/pprof's keysByCount: higher counts first, ties by key. */
static int by_count(const void *a, const void *b)
{
	const struct stack_key *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* The distinct stacks of the goroutines runtime.Stack shows, counted. *nk of them in *out. */
static int count_stacks(struct go_frame_cache *c, const struct go_goroutine *gs, size_t n,
			struct stack_key **out, size_t *nk, size_t *total)
{
	struct stack_key *k = calloc(n ? n : 1, sizeof(*k));
	size_t m = 0, d = 0;

	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (gs[i].system)
			continue;
		k[m].g = &gs[i];
		k[m].count = 1;
		if (!(k[m++].key = make_key(c, &gs[i]))) {
			for (size_t j = 0; j < m; j++)
				free(k[j].key);
			free(k);
			return -ENOMEM;
		}
	}
	*total = m;
	qsort(k, m, sizeof(*k), by_key);
	for (size_t i = 0; i < m; i++) {
		if (d && !strcmp(k[d - 1].key, k[i].key)) {
			k[d - 1].count++;
			free(k[i].key);
			continue;
		}
		k[d++] = k[i];
	}
	qsort(k, d, sizeof(*k), by_count);
	*out = k;
	*nk = d;
	return 0;
}

/* One "#" line of printStackRecord: its cells as text/tabwriter sees them (tab-terminated ones,
 * then the last). */
struct rec_line {
	char cells[3][TEXT_SAFE_MAX + 32];
	int ncells; /* tab-terminated */
	char last[2 * TEXT_SAFE_MAX];
};

/* text/tabwriter with minwidth 1, tabwidth 8, padding 1 and '\t' as padding (printCountProfile):
 * a column's width is the widest cell of the run of consecutive lines that have it, plus one,
 * rounded up to a tab stop; a cell is padded with tabs to it. */
static void write_tabbed(FILE *out, const struct rec_line *l, size_t n)
{
	int widths[3][64];

	for (int col = 0; col < 3; col++) {
		for (size_t i = 0; i < n;) {
			size_t j = i;
			int w = 1;

			if (l[i].ncells <= col) {
				i++;
				continue;
			}
			for (; j < n && l[j].ncells > col; j++)
				if ((int)strlen(l[j].cells[col]) + 1 > w)
					w = (int)strlen(l[j].cells[col]) + 1;
			w = (w + 7) / 8 * 8;
			for (; i < j; i++)
				widths[col][i] = w;
		}
	}
	for (size_t i = 0; i < n; i++) {
		for (int col = 0; col < l[i].ncells; col++) {
			int pad = widths[col][i] - (int)strlen(l[i].cells[col]);

			fputs(l[i].cells[col], out);
			for (int t = 0; t < (pad + 7) / 8; t++)
				fputc('\t', out);
		}
		fprintf(out, "%s\n", l[i].last);
	}
}

/* printStackRecord: runtime.goexit and the runtime frames at the top are left out, unless that
 * leaves nothing. At most 64 lines are aligned together (a stack's frames fit). */
static void write_record(FILE *out, struct go_frame_cache *c, const struct go_goroutine *g,
			 bool all)
{
	static const size_t max_lines = 64;
	struct rec_line *l = calloc(max_lines, sizeof(*l));
	char b1[TEXT_SAFE_MAX], b2[TEXT_SAFE_MAX];
	size_t n = 0;
	bool show = all;

	if (!l)
		return;
	if (g->no_stack || g->torn) {
		fprintf(out, "#\t%s\n\n",
			g->torn ? "stack not read: it changed each time rtmon read it"
				: "stack not read: running on another thread");
		free(l);
		return;
	}
	for (int i = 0; i < g->npcs && n < max_lines; i++) {
		struct go_frame_src fs;
		uint64_t pc;

		if (hidden(c, g, i, &fs))
			continue;
		pc = fs.pc > fs.entry && !g->trap[i] ? g->pcs[i] - 1 : g->pcs[i];
		if (!fs.n) {
			show = true;
			snprintf(l[n].cells[0], sizeof(l[n].cells[0]), "#");
			snprintf(l[n].last, sizeof(l[n].last), "%#llx", (unsigned long long)pc);
			l[n++].ncells = 1;
			continue;
		}
		for (int j = 0; j < fs.n && n < max_lines; j++) {
			const char *name = fs.lines[j].func ? fs.lines[j].func : "";

			if (!strcmp(name, "runtime.goexit") ||
			    (!show && (!strncmp(name, "runtime.", 8) ||
				       !strncmp(name, "internal/runtime/", 17))))
				continue;
			show = true;
			snprintf(l[n].cells[0], sizeof(l[n].cells[0]), "#");
			snprintf(l[n].cells[1], sizeof(l[n].cells[1]), "%#llx",
				 (unsigned long long)pc);
			snprintf(l[n].cells[2], sizeof(l[n].cells[2]), "%s+%#llx",
				 safe(name, b1, sizeof(b1)),
				 (unsigned long long)(pc - c->p->bias - fs.entry));
			snprintf(l[n].last, sizeof(l[n].last), "%s:%u",
				 safe(fs.lines[j].file, b2, sizeof(b2)), fs.lines[j].line);
			l[n++].ncells = 3;
		}
	}
	if (!show) {
		free(l);
		write_record(out, c, g, true);
		return;
	}
	write_tabbed(out, l, n);
	fprintf(out, "\n");
	free(l);
}

void go_write_goroutine_counts(FILE *out, struct go_frame_cache *c, const struct go_goroutine *gs,
			       size_t n)
{
	struct stack_key *k;
	size_t nk, total;

	if (count_stacks(c, gs, n, &k, &nk, &total)) {
		fprintf(out, "goroutine profile: out of memory\n");
		return;
	}
	fprintf(out, "goroutine profile: total %zu\n", total);
	for (size_t i = 0; i < nk; i++) {
		fprintf(out, "%zu %s\n", k[i].count, k[i].key);
		write_record(out, c, k[i].g, false);
		free(k[i].key);
	}
	free(k);
}

struct profile *go_goroutine_profile(struct go_frame_cache *c, const struct go_goroutine *gs,
				     size_t n)
{
	static const struct profile_value_type type = { "goroutine", "count" };
	struct profile *prof = profile_new(&type, 1, &type, 1);
	uint32_t locs[GO_MAX_FRAMES];
	uint64_t unread = 0;
	const int64_t one = 1;

	if (!prof)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct go_goroutine *g = &gs[i];
		size_t nl = 0;

		if (g->system)
			continue;
		if (g->no_stack || g->torn || !g->npcs) {
			unread++;
			continue;
		}
		/* every frame, the runtime's too, as the runtime's own goroutine profile has them
		 */
		for (int f = 0; f < g->npcs; f++) {
			struct go_frame_src fs;

			if (hidden(c, g, f, &fs))
				continue;
			locs[nl] =
				profile_location(prof, 0, profile_pc(g, f), fs.lines, (size_t)fs.n);
			if (!locs[nl++])
				goto oom;
		}
		if (profile_add(prof, locs, nl, &one, NULL, 0) == -ENOMEM)
			goto oom;
	}
	profile_count_lost(prof, unread, 0);
	return prof;
oom:
	profile_free(prof);
	return NULL;
}
