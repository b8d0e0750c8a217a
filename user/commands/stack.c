/* rtmon stack PID: every goroutine of a running Go program with its frames, printed as the
 * runtime's own traceback prints them (runtime.Stack(buf, true), a SIGQUIT dump), so that tools
 * that parse goroutine dumps read it. Read from outside (runtime/go/goinspect.h): the program is
 * not stopped, linked with anything or written to. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "output/escape.h"
#include "output/json.h"
#include "runtime/go/goinspect.h"

/* runtime.showfuncinfo at the default GOTRACEBACK: runtime internals are hidden, exported runtime
 * functions (runtime.Gosched) shown, runtime.gopanic shown below the first frame. */
static bool shown(const char *name, bool first)
{
	if (!name || !strchr(name, '.'))
		return false;
	if (!first && !strcmp(name, "runtime.gopanic"))
		return true;
	return strncmp(name, "runtime.", 8) || (name[8] >= 'A' && name[8] <= 'Z');
}

/* One frame's source: the levels of inlining at the PC (link-time), and its function's entry. */
struct frame_src {
	struct code_line lines[CODE_LINES_MAX];
	int n;
	uint64_t entry, pc; /* link-time */
};

/* Goroutines parked in one place share their PCs: each PC is looked up once. */
#define FRAME_CACHE_SIZE 4096 /* slots, a power of 2 */

struct frame_cache_slot {
	uint64_t key; /* pc << 1 | trap; 0 = empty */
	struct frame_src fs;
};

static struct frame_cache_slot *frame_cache;

static void frame_lookup_uncached(struct go_proc *p, uint64_t pc, bool trap, struct frame_src *fs);

static void frame_lookup(struct go_proc *p, uint64_t pc, bool trap, struct frame_src *fs)
{
	uint64_t key = pc << 1 | trap;
	struct frame_cache_slot *slot;

	if (!frame_cache)
		frame_cache = calloc(FRAME_CACHE_SIZE, sizeof(*frame_cache));
	if (!frame_cache) {
		frame_lookup_uncached(p, pc, trap, fs);
		return;
	}
	slot = &frame_cache[(key * 0x9e3779b97f4a7c15ULL) >> 52];
	if (slot->key != key) { /* a miss replaces the slot */
		frame_lookup_uncached(p, pc, trap, &slot->fs);
		slot->key = key;
	}
	*fs = slot->fs;
}

static void frame_lookup_uncached(struct go_proc *p, uint64_t pc, bool trap, struct frame_src *fs)
{
	const char *fn = go_func_name_at(p->st, pc - p->bias);

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

static const char *status_text(const struct go_proc *p, const struct go_goroutine *g)
{
	const char *s = go_status_name(p, g->status);

	if ((g->status == GO_G_WAITING || !strcmp(s, "leaked")) && g->wait_reason)
		return go_wait_reason_name(p, g->wait_reason);
	return s;
}

static int64_t waiting_ns(const struct go_goroutine *g)
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

static void print_created_by(struct go_proc *p, const struct go_goroutine *g)
{
	char b1[TEXT_SAFE_MAX], b2[TEXT_SAFE_MAX];
	struct frame_src fs;
	const char *fn;

	if (g->goid == 1 || !g->gopc)
		return;
	frame_lookup(p, g->gopc, false, &fs);
	fn = go_func_name_at(p->st, fs.pc);
	if (!fs.n || !shown(fn, false))
		return;
	printf("created by %s", safe(fn, b1, sizeof(b1)));
	if (g->parent_goid)
		printf(" in goroutine %llu", (unsigned long long)g->parent_goid);
	printf("\n\t%s:%u", safe(fs.lines[0].file, b2, sizeof(b2)), fs.lines[0].line);
	if (fs.pc > fs.entry)
		printf(" +%#llx", (unsigned long long)(fs.pc - fs.entry));
	printf("\n");
}

static void print_text(struct go_proc *p, const struct go_goroutine *g, bool first_shown)
{
	char b1[TEXT_SAFE_MAX], b2[TEXT_SAFE_MAX];
	int64_t w = waiting_ns(g);
	bool first = true;

	if (!first_shown)
		printf("\n");
	printf("goroutine %llu [%s", (unsigned long long)g->goid,
	       safe(status_text(p, g), b1, sizeof(b1)));
	if (g->scan)
		printf(" (scan)");
	if (w >= 60000000000LL)
		printf(", %lld minutes", (long long)(w / 60000000000LL));
	if (g->locked)
		printf(", locked to thread");
	printf("]:\n");
	if (g->no_stack && g->status == GO_G_RUNNING)
		printf("\tgoroutine running on other thread; stack unavailable\n");
	else if (g->torn)
		printf("\tgoroutine changed each time rtmon read it; stack not shown\n");
	for (int i = 0; i < g->npcs; i++) {
		struct frame_src fs;

		frame_lookup(p, g->pcs[i], g->trap[i], &fs);
		for (int j = 0; j < fs.n; j++) {
			bool inlined = j < fs.n - 1;

			if (!shown(fs.lines[j].func, first))
				continue;
			first = false;
			printf("%s(...)\n\t%s:%u", safe(fs.lines[j].func, b1, sizeof(b1)),
			       safe(fs.lines[j].file, b2, sizeof(b2)), fs.lines[j].line);
			if (!inlined && fs.pc > fs.entry)
				printf(" +%#llx", (unsigned long long)(fs.pc - fs.entry));
			printf("\n");
		}
	}
	if (g->elided)
		printf("...additional frames elided...\n");
	else if (g->cut)
		printf("...additional frames not read: the frame pointer chain left the stack\n");
	print_created_by(p, g);
}

static const char *stack_state(const struct go_goroutine *g)
{
	if (g->torn)
		return "torn";
	if (g->no_stack)
		return g->status == GO_G_RUNNING ? "running" : "none";
	return g->elided ? "elided" : g->cut ? "cut" : "complete";
}

static void print_json(struct go_proc *p, const struct go_goroutine *g)
{
	int64_t w = waiting_ns(g);
	struct frame_src fs;
	bool first = true;

	json_begin(stdout, "goroutine");
	json_field_i64(stdout, "pid", p->pid);
	json_field_u64(stdout, "goid", g->goid);
	json_field_str(stdout, "status", go_status_name(p, g->status));
	if (g->status == GO_G_WAITING && g->wait_reason)
		json_field_str(stdout, "wait_reason", go_wait_reason_name(p, g->wait_reason));
	else
		json_field_null(stdout, "wait_reason");
	if (w >= 0)
		json_field_i64(stdout, "waiting_ns", w);
	else
		json_field_null(stdout, "waiting_ns");
	json_field_bool(stdout, "locked_to_thread", g->locked);
	json_field_str(stdout, "stack", stack_state(g));
	json_array_open(stdout, "frames");
	for (int i = 0; i < g->npcs; i++) {
		frame_lookup(p, g->pcs[i], g->trap[i], &fs);
		for (int j = 0; j < fs.n; j++) {
			if (!shown(fs.lines[j].func, first))
				continue;
			first = false;
			json_array_object_open(stdout);
			json_field_str(stdout, "func", fs.lines[j].func);
			json_field_str(stdout, "file", fs.lines[j].file ? fs.lines[j].file : "");
			json_field_u64(stdout, "line", fs.lines[j].line);
			json_field_bool(stdout, "inlined", j < fs.n - 1);
			json_object_close(stdout);
		}
	}
	json_array_close(stdout);
	frame_lookup(p, g->gopc, false, &fs);
	if (g->goid != 1 && g->gopc && fs.n) {
		json_object_open(stdout, "created_by");
		json_field_str(stdout, "func", go_func_name_at(p->st, fs.pc));
		json_field_str(stdout, "file", fs.lines[0].file ? fs.lines[0].file : "");
		json_field_u64(stdout, "line", fs.lines[0].line);
		json_object_close(stdout);
	} else {
		json_field_null(stdout, "created_by");
	}
	if (g->parent_goid)
		json_field_u64(stdout, "parent_goid", g->parent_goid);
	else
		json_field_null(stdout, "parent_goid");
	json_end(stdout);
}

static const char stack_doc[] =
	"Every goroutine of a running Go program with its frames, as the runtime's own traceback "
	"(runtime.Stack, a SIGQUIT dump) prints them: the goroutine id, status and wait reason, "
	"each frame's function, file:line and +offset, and who created it. Arguments are shown as "
	"(...). Read from outside with process_vm_readv: the program is neither stopped nor "
	"changed, and needs nothing linked in; stripped and PIE binaries work. A goroutine running "
	"on a CPU is shown as running (its registers are not saved); one that kept changing while "
	"read is shown without frames. Needs the right to read the process's memory (root, or the "
	"same user with ptrace allowed). --json: one object per goroutine.\v"
	"Examples:\n"
	"  sudo rtmon stack 1234\n"
	"  sudo rtmon stack --json $(pgrep -n myapp)";

int cmd_stack(int argc, char **argv)
{
	char err[1024];
	struct go_proc p;
	struct go_goroutine *gs;
	size_t n, shown_n = 0, torn = 0;
	pid_t pid;
	bool json;
	int rc = parse_pid_json(stack_doc, argc, argv, &pid, &json);

	if (rc)
		return rc;
	if (go_proc_open(pid, &p, err, sizeof(err)) ||
	    go_read_goroutines(&p, &gs, &n, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		go_proc_close(&p);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (gs[i].system)
			continue;
		if (json)
			print_json(&p, &gs[i]);
		else
			print_text(&p, &gs[i], shown_n == 0);
		shown_n++;
		torn += gs[i].torn;
	}
	if (torn)
		fprintf(stderr, "%s: %zu of %zu goroutines changed each time they were read\n",
			argv[0], torn, shown_n);
	free(gs);
	free(frame_cache);
	frame_cache = NULL;
	go_proc_close(&p);
	return fflush(stdout) ? 1 : 0;
}
