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
#include "runtime/go/goroutine_dump.h"

static const char *stack_state(const struct go_goroutine *g)
{
	if (g->torn)
		return "torn";
	if (g->no_stack)
		return g->status == GO_G_RUNNING ? "running" : "none";
	return g->elided ? "elided" : g->cut ? "cut" : "complete";
}

static void print_json(struct go_frame_cache *c, const struct go_goroutine *g)
{
	struct go_proc *p = c->p;
	int64_t w = go_goroutine_waiting_ns(g);
	struct go_frame_src fs;
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
		go_frame_lookup(c, g->pcs[i], g->trap[i], &fs);
		for (int j = 0; j < fs.n; j++) {
			if (!go_frame_shown(fs.lines[j].func, first))
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
	go_frame_lookup(c, g->gopc, false, &fs);
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
	struct go_frame_cache c;
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
	go_frame_cache_init(&c, &p);
	for (size_t i = 0; i < n; i++) {
		if (gs[i].system)
			continue;
		if (json)
			print_json(&c, &gs[i]);
		else
			go_write_goroutine(stdout, &c, &gs[i], shown_n == 0);
		shown_n++;
		torn += gs[i].torn;
	}
	if (torn)
		fprintf(stderr, "%s: %zu of %zu goroutines changed each time they were read\n",
			argv[0], torn, shown_n);
	free(gs);
	go_frame_cache_free(&c);
	go_proc_close(&p);
	return fflush(stdout) ? 1 : 0;
}
