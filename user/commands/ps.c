/* rtmon ps and rtmon tree: every process with its runtime (runtime/process_scan.c reads them
 * through /proc/PID/exe, so processes in other mount namespaces are read from their own files, with
 * nothing attached to any of them), as a table, JSON lines or a tree. Processes that cannot be read
 * (kernel threads, another user's processes without root, processes that exit while listed) are
 * skipped and counted on the last line. */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/commands.h"
#include "output/escape.h"
#include "output/json.h"
#include "cli/opts.h"
#include "proc/procinfo.h"
#include "runtime/process_scan.h"

struct ps_args {
	bool json;
};

static const char *dash(const char *s)
{
	return s[0] ? s : "-";
}

static uint64_t skipped(const struct ps_scan *s)
{
	return s->kthreads + s->zombies + s->denied + s->exited;
}

static void print_summary(const struct ps_scan *s, const char *cmd, bool json)
{
	size_t traced = 0;

	for (size_t i = 0; i < s->n; i++)
		traced += ps_row_traced(&s->rows[i]);
	if (json) {
		json_begin(stdout, "summary");
		json_field_str(stdout, "command", cmd);
		json_field_u64(stdout, "processes", s->n);
		json_field_u64(stdout, "traced", traced);
		json_field_u64(stdout, "skipped", skipped(s));
		json_field_u64(stdout, "kernel_threads", s->kthreads);
		json_field_u64(stdout, "zombies", s->zombies);
		json_field_u64(stdout, "not_permitted", s->denied);
		json_field_u64(stdout, "exited", s->exited);
		json_end(stdout);
		return;
	}
	printf("%zu processes, %zu traced fully (*); skipped %llu: %llu kernel threads, "
	       "%llu zombies, %llu exited while listed, %llu not readable%s\n",
	       s->n, traced, (unsigned long long)skipped(s), (unsigned long long)s->kthreads,
	       (unsigned long long)s->zombies, (unsigned long long)s->exited,
	       (unsigned long long)s->denied, s->denied ? proc_denied_hint() : "");
}

static void print_json_row(const struct ps_row *r)
{
	const struct runtime_id *id = &r->ee->rs.id;

	json_begin(stdout, "process");
	json_field_i64(stdout, "pid", r->pid);
	json_field_i64(stdout, "ppid", r->ppid);
	json_field_str(stdout, "name", r->comm);
	json_field_str(stdout, "runtime", ps_row_runtime(r));
	json_field_str(stdout, "version", r->ee->known ? id->version : "");
	json_field_str(stdout, "module", r->ee->known ? id->module : "");
	json_field_str(stdout, "exe", r->exe);
	json_field_bool(stdout, "traced", ps_row_traced(r));
	json_end(stdout);
}

static int width(int w, const char *s)
{
	int l = (int)strlen(s);

	return l > w ? l : w;
}

static void print_table(const struct ps_scan *s)
{
	int wname = 4, wrt = 7, wver = 7, wmod = 6;

	for (size_t i = 0; i < s->n; i++) {
		const struct ps_row *r = &s->rows[i];

		wname = width(wname, r->comm);
		wrt = width(wrt, ps_row_runtime(r));
		if (r->ee->known) {
			wver = width(wver, r->ee->rs.id.version);
			wmod = width(wmod, r->ee->rs.id.module);
		}
	}
	printf("  %7s %7s %-*s %-*s %-*s %-*s %s\n", "PID", "PPID", wname, "NAME", wrt, "RUNTIME",
	       wver, "VERSION", wmod, "MODULE", "EXE");
	for (size_t i = 0; i < s->n; i++) {
		const struct ps_row *r = &s->rows[i];
		const struct runtime_id *id = &r->ee->rs.id;
		char name[128], ver[160], mod[1040], exe[TEXT_SAFE_MAX];

		printf("%c %7d %7d %-*s %-*s %-*s %-*s %s\n", ps_row_traced(r) ? '*' : ' ', r->pid,
		       r->ppid, wname, text_safe(r->comm, name, sizeof(name)), wrt,
		       ps_row_runtime(r), wver,
		       text_safe(r->ee->known ? dash(id->version) : "-", ver, sizeof(ver)), wmod,
		       text_safe(r->ee->known ? dash(id->module) : "-", mod, sizeof(mod)),
		       text_safe(r->exe, exe, sizeof(exe)));
	}
}

/* ---- tree ---- */

struct tree {
	const struct ps_scan *s;
	ssize_t *first, *next, *last; /* children lists by row index, in PID order */
	bool *seen;
	char prefix[8192]; /* the branches drawn left of the current depth */
	size_t plen;
};

static ssize_t row_of(const struct ps_scan *s, pid_t pid)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->rows[mid].pid == pid)
			return (ssize_t)mid;
		if (s->rows[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* One process and, below it, its children. The prefix is one buffer shared by all depths (a deep
 * chain of processes costs no stack beyond the frames), cut back on the way up. */
static void tree_node(struct tree *t, ssize_t i, bool last, bool root)
{
	const struct ps_row *r = &t->s->rows[i];
	const char *ver = r->ee->known ? r->ee->rs.id.version : "";
	size_t saved = t->plen;
	char name[128], safever[160];

	if (t->seen[i])
		return;
	t->seen[i] = true;
	printf("%.*s%s%d (%s) {%s%s%s}%s\n", (int)t->plen, t->prefix,
	       root   ? ""
	       : last ? "└── "
		      : "├── ",
	       r->pid, text_safe(r->comm, name, sizeof(name)), ps_row_runtime(r), ver[0] ? " " : "",
	       text_safe(ver, safever, sizeof(safever)), ps_row_traced(r) ? " *" : "");
	if (!root && t->plen + 8 < sizeof(t->prefix))
		t->plen += (size_t)snprintf(t->prefix + t->plen, sizeof(t->prefix) - t->plen, "%s",
					    last ? "    " : "│   ");
	for (ssize_t c = t->first[i]; c >= 0; c = t->next[c])
		tree_node(t, c, t->next[c] < 0, false);
	t->plen = saved;
}

static void tree_free(struct tree *t)
{
	free(t->first);
	free(t->next);
	free(t->last);
	free(t->seen);
	free(t);
}

static int print_tree(const struct ps_scan *s)
{
	struct tree *t = calloc(1, sizeof(*t));
	size_t n = s->n ? s->n : 1;

	if (!t)
		return -ENOMEM;
	t->s = s;
	t->first = malloc(n * sizeof(*t->first));
	t->next = malloc(n * sizeof(*t->next));
	t->last = malloc(n * sizeof(*t->last));
	t->seen = calloc(n, sizeof(*t->seen));
	if (!t->first || !t->next || !t->last || !t->seen) {
		tree_free(t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n; i++)
		t->first[i] = t->next[i] = t->last[i] = -1;
	for (size_t i = 0; i < s->n; i++) {
		ssize_t p = row_of(s, s->rows[i].ppid);

		if (p < 0 || (size_t)p == i)
			continue;
		if (t->last[p] < 0)
			t->first[p] = (ssize_t)i;
		else
			t->next[t->last[p]] = (ssize_t)i;
		t->last[p] = (ssize_t)i;
	}
	/* Roots: processes whose parent is not listed (PID 1's parent 0, or a parent that could not
	 * be read). A parent that exists but is not listed heads its children as a bare PID, as
	 * gops tree does. */
	for (size_t i = 0; i < s->n; i++) {
		pid_t pp = s->rows[i].ppid;
		bool done = false;

		if (row_of(s, pp) >= 0)
			continue;
		if (pp <= 0) {
			tree_node(t, (ssize_t)i, true, true);
			continue;
		}
		for (size_t k = 0; k < i && !done; k++)
			done = s->rows[k].ppid == pp;
		if (done)
			continue; /* printed with its first sibling */
		printf("%d\n", pp);
		for (size_t k = i; k < s->n; k++) {
			size_t later = k + 1;

			if (s->rows[k].ppid != pp)
				continue;
			while (later < s->n && s->rows[later].ppid != pp)
				later++;
			tree_node(t, (ssize_t)k, later == s->n, false);
		}
	}
	/* A parent loop (PIDs reused while listing) reaches no root: its processes still get a
	 * line. */
	for (size_t i = 0; i < s->n; i++)
		if (!t->seen[i])
			tree_node(t, (ssize_t)i, true, true);
	tree_free(t);
	return 0;
}

/* ---- commands ---- */

enum { OPT_JSON = 0x1000 };

static const struct argp_option ps_options[] = {
	{ "json", OPT_JSON, NULL, 0, "One JSON object per process, then a summary (docs/ps.md)",
	  0 },
	{ 0 },
};

static error_t parse_ps(int key, char *arg, struct argp_state *state)
{
	struct ps_args *a = state->input;

	switch (key) {
	case OPT_JSON:
		a->json = true;
		return 0;
	case ARGP_KEY_ARG:
		argp_failure(state, 2, 0,
			     "unexpected argument '%s': %s takes no arguments (rtmon info PID "
			     "shows one process)",
			     arg, state->name);
		return EINVAL;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const char ps_doc[] =
	"Every process with its runtime (go, python, java, native), the runtime's version, the Go "
	"module and the executable, read from the files only: nothing is attached.\v"
	"A '*' in the first column marks a process rtmon traces fully, where every rtmon command "
	"that fits its runtime applies: Go with a runtime.g layout rtmon knows (Go 1.17 to 1.26, "
	"or any Go 1.17+ with DWARF), CPython and Java with their USDT probes, native programs "
	"with glibc. rtmon info PID says what applies to one process and why.\n"
	"Processes rtmon cannot read are skipped and counted on the last line: kernel threads, "
	"zombies, processes that exit while listed, and, without root, other users' processes "
	"(their /proc/PID/exe is not readable). rtmon ps needs no root for the user's own "
	"processes.\n"
	"\n"
	"Examples:\n"
	"  rtmon ps                 all processes as a table\n"
	"  sudo rtmon ps --json     one JSON object per process, then a summary\n"
	"  rtmon tree               the same processes as a tree by parent\n"
	"  rtmon info 1234          one process in detail\n"
	"  sudo rtmon gc -n myapp   trace the one process named myapp";

static const char tree_doc[] =
	"The processes rtmon ps lists, as a tree by parent: PID (NAME) {RUNTIME VERSION}, '*' when "
	"rtmon traces the process fully (see rtmon ps --help). A parent that could not be read "
	"heads its children as a bare PID.\v"
	"Examples:\n"
	"  rtmon tree\n"
	"  sudo rtmon tree";

static const struct argp ps_argp = { ps_options, parse_ps, NULL, ps_doc, NULL, NULL, NULL };
static const struct argp tree_argp = { NULL, parse_ps, NULL, tree_doc, NULL, NULL, NULL };

static int run(const struct argp *argp, int argc, char **argv, bool tree)
{
	struct ps_args a = { 0 };
	struct ps_scan s;
	int rc = parse_args_only(argp, argc, argv, &a);

	if (rc)
		return rc;
	rc = ps_scan(&s);
	if (!rc) {
		if (tree) {
			rc = print_tree(&s);
		} else if (a.json) {
			for (size_t i = 0; i < s.n; i++)
				print_json_row(&s.rows[i]);
		} else {
			print_table(&s);
		}
	}
	if (!rc)
		print_summary(&s, tree ? "tree" : "ps", a.json);
	ps_free(&s);
	if (rc) {
		fprintf(stderr, "%s: cannot list processes: %s\n", argv[0], strerror(-rc));
		return 1;
	}
	return fflush(stdout) ? 1 : 0;
}

int cmd_ps(int argc, char **argv)
{
	return run(&ps_argp, argc, argv, false);
}

int cmd_tree(int argc, char **argv)
{
	return run(&tree_argp, argc, argv, true);
}
