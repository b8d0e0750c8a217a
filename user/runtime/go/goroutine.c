/* Goroutines in rtmon thr and rtmon lat: see goroutine.h and docs/thr.md (Go programs). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "binary/disasm.h"
#include "runtime/go/goroutine.h"
#include "runtime/go/goinspect.h"
#include "binary/target_file.h"
#include "trace/probe.h"
#include "output/hist.h"
#include "output/escape.h"
#include "output/json.h"
#include "output/wall_clock.h"
#include "binary/probe_site.h"
#include "output/target_report.h"

/* A 5-byte NOP (nopl 0x0(%rax,%rax,1)): a probe there is rewritten by the kernel (6.18+) into a
 * call of its uprobe trampoline after the first hit, cheaper than the int3 trap of any other
 * instruction (docs/PERFORMANCE.md). */
static bool is_nop5(const cs_insn *insn)
{
	static const uint8_t nop5[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };

	return insn->size == 5 && !memcmp(insn->bytes, nop5, 5);
}

/* Whether insn is a direct jump or call that lands on target. */
static bool branch_lands_on(csh h, const cs_insn *insn, uint64_t target)
{
	const cs_x86 *x = &insn->detail->x86;

	return (cs_insn_group(h, insn, CS_GRP_JUMP) || cs_insn_group(h, insn, CS_GRP_CALL)) &&
	       x->op_count == 1 && x->operands[0].type == X86_OP_IMM &&
	       (uint64_t)x->operands[0].imm == target;
}

/* The create site in newproc's closure (runtime.newproc.func1, Go 1.17 to 1.26): the `call
 * runtime.runqput`, where newproc1 has returned the new g, with its goid, in RAX, now moved to RBX.
 * A direct call is an instruction the kernel emulates at a probe; a 5-byte NOP right before it
 * (alignment padding, there in some releases' builds: 1.19, 1.24 to 1.26), which every path to the
 * call runs (no branch lands on the call itself) and which changes no register, is cheaper still.
 * Its file offset and link-time address. */
static int create_site(struct go_symtab *st, const char *exe, uint64_t *site, uint64_t *vaddr,
		       char *err, size_t errlen)
{
	uint64_t entry, end, off, rq, call = 0, nop = 0, prev_nop = 0;
	const uint8_t *p;
	uint8_t *code;
	size_t left;
	uint64_t addr;
	cs_insn *insn;
	csh h;
	int fd;
	bool landed = false;

	if (go_func_by_name(st, "runtime.newproc.func1", &entry, &end, &off) ||
	    go_func_by_name(st, "runtime.runqput", &rq, NULL, NULL)) {
		snprintf(err, errlen, "no runtime.newproc.func1 or runtime.runqput");
		return -ENOENT;
	}
	if (end <= entry || end - entry > 4096) {
		snprintf(err, errlen, "runtime.newproc.func1 has an unexpected size (%llu bytes)",
			 (unsigned long long)(end - entry));
		return -EPROTO;
	}
	code = malloc(end - entry);
	fd = target_file_open(exe);
	if (!code || fd < 0 || pread(fd, code, end - entry, (off_t)off) != (ssize_t)(end - entry)) {
		snprintf(err, errlen, "cannot read runtime.newproc.func1: %s",
			 strerror(errno ? errno : EIO));
		free(code);
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	close(fd);
	if (disasm_open(&h)) {
		free(code);
		snprintf(err, errlen, "capstone cannot open an x86-64 disassembler");
		return -ENOTSUP;
	}
	insn = cs_malloc(h);
	p = code;
	left = end - entry;
	addr = entry;
	while (left) {
		uint64_t at = addr;

		if (!cs_disasm_iter(h, &p, &left, &addr, insn))
			break;
		if (!call && insn->id == X86_INS_CALL && insn->detail->x86.op_count == 1 &&
		    insn->detail->x86.operands[0].type == X86_OP_IMM &&
		    (uint64_t)insn->detail->x86.operands[0].imm == rq) {
			call = at;
			nop = prev_nop;
		}
		prev_nop = is_nop5(insn) ? at : 0;
	}
	/* A branch that lands on the call skips the NOP: then the call it is. */
	p = code;
	left = end - entry;
	addr = entry;
	while (call && nop && !landed && left && cs_disasm_iter(h, &p, &left, &addr, insn))
		landed = branch_lands_on(h, insn, call);
	cs_free(insn, 1);
	disasm_close(&h);
	free(code);
	if (!call) {
		snprintf(err, errlen,
			 "no call to runtime.runqput in runtime.newproc.func1 (inlined?)");
		return -ENOENT;
	}
	*vaddr = nop && !landed ? nop : call;
	*site = off + (*vaddr - entry);
	return 0;
}

/* Go 1.17 to 1.21 wrap `go func(a int){...}(x)` in a function that calls the closure through its
 * own closure: the BPF side reads what it runs from the funcval (gr_wrappers). */
static int captured_wrappers(struct gr_run *g, char *err, size_t errlen)
{
	int n = 0;

	if (g->gi.major != 1 || g->gi.minor > 21)
		return 0;
	go_start_captured_wrappers(g->st, NULL, 0, &n);
	if (!n)
		return 0;
	if (n > GR_WRAPPERS_MAX)
		n = GR_WRAPPERS_MAX; /* the rest are named after their wrapper */
	g->wrappers = calloc((size_t)n, sizeof(*g->wrappers));
	if (!g->wrappers) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	go_start_captured_wrappers(g->st, g->wrappers, n, &g->nwrappers);
	g->nwrappers = n;
	g->cfg.captured_wrappers = (__u32)n;
	return 0;
}

/* The bytes of the new g the create site reads in one go: from its first field to past its last.
 * Every release rtmon knows fits in GR_SPAN_WORDS words (240 bytes at most, Go 1.17 to 1.20). */
static int span_of(struct gr_run *g, char *err, size_t errlen)
{
	__u32 offs[] = { g->cfg.goid_off, g->cfg.startpc_off, g->cfg.parentgoid_off,
			 g->cfg.captured_wrappers ? g->cfg.ctxt_off : 0 };
	__u32 lo = UINT32_MAX, hi = 0;

	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		if (!offs[i])
			continue;
		if (offs[i] % 8) {
			snprintf(err, errlen, "runtime.g field at %u is not 8-byte aligned",
				 offs[i]);
			return -ENOTSUP;
		}
		lo = offs[i] < lo ? offs[i] : lo;
		hi = offs[i] + 8 > hi ? offs[i] + 8 : hi;
	}
	if (hi - lo > GR_SPAN_WORDS * 8) {
		snprintf(err, errlen,
			 "runtime.g's goid, startpc, parentGoid and sched.ctxt span %u bytes "
			 "(rtmon reads at most %u at once)",
			 hi - lo, GR_SPAN_WORDS * 8);
		return -ENOTSUP;
	}
	g->cfg.span_off = lo;
	g->cfg.span_len = hi - lo;
	return 0;
}

static int find_sites(struct gr_run *g, const char *exe, char *err, size_t errlen)
{
	struct go_layout lay;
	uint64_t off, vaddr;
	int rc;

	rc = go_layout_get(exe, &g->gi, &lay, err, errlen);
	if (rc)
		return rc;
	if (lay.off[GF_G_GOID] <= 0 || lay.off[GF_G_STARTPC] <= 0 || lay.off[GF_G_SCHED_SP] < 0) {
		snprintf(err, errlen, "offset of runtime.g.goid, startpc or sched unknown");
		return -ENOTSUP;
	}
	g->cfg.goid_off = (__u32)lay.off[GF_G_GOID];
	g->cfg.startpc_off = (__u32)lay.off[GF_G_STARTPC];
	g->cfg.parentgoid_off = lay.off[GF_G_PARENTGOID] > 0 ? (__u32)lay.off[GF_G_PARENTGOID] : 0;
	/* gobuf begins sp, pc, g, ctxt in every release rtmon knows (1.17 to 1.26). */
	g->cfg.ctxt_off = (__u32)lay.off[GF_G_SCHED_SP] + 24;
	g->cfg.callergp_rdi = g->gi.major == 1 && g->gi.minor <= 17;
	rc = go_symtab_open(exe, &g->st, err, errlen);
	if (rc)
		return rc;
	rc = create_site(g->st, exe, &off, &vaddr, err, errlen);
	if (rc)
		return rc;
	g->cfg.create_vaddr = vaddr;
	g->sites[g->nsites++] = (struct probe_site){ .offset = off, .cookie = GR_SITE_CREATE };
	rc = go_func_body_site(g->st, "runtime.goexit1", &off, err, errlen);
	if (rc)
		return rc;
	g->sites[g->nsites++] = (struct probe_site){ .offset = probe_site_emulated(exe, off),
						     .cookie = GR_SITE_GOEXIT1 };
	/* Before Go 1.21 the new g does not say who created it: newproc1's callergp does. Its
	 * body, after the stack check (a morestack re-run is not a second call), on the first
	 * emulated instruction (push rbp). */
	if (!g->cfg.parentgoid_off) {
		rc = go_func_body_site(g->st, "runtime.newproc1", &off, err, errlen);
		if (rc)
			return rc;
		g->sites[g->nsites++] =
			(struct probe_site){ .offset = probe_site_emulated(exe, off),
					     .cookie = GR_SITE_NEWPROC1 };
	}
	rc = captured_wrappers(g, err, errlen);
	return rc ? rc : span_of(g, err, errlen);
}

void gr_open(struct gr_run *g, const char *cmd, const struct target *t)
{
	char err[512];

	memset(g, 0, sizeof(*g));
	if (go_read_buildinfo(t->exe, &g->gi, NULL, 0))
		return; /* not Go */
	if (find_sites(g, t->exe, err, sizeof(err))) {
		char who[64];

		snprintf(who, sizeof(who), "rtmon %s", cmd);
		report_error(who, "warning: goroutines not traced in %s (%s): %s", t->label,
			     g->gi.version, err);
		go_symtab_close(g->st);
		g->st = NULL;
		return;
	}
	g->active = true;
}

void gr_prepare(struct gr_run *g, struct bpf_program *prog)
{
	if (g->active)
		probe_prepare_sites_prog(prog);
	else
		bpf_program__set_autoload(prog, false);
}

int gr_attach(struct gr_run *g, struct bpf_program *prog, struct bpf_map *wrappers,
	      const struct target *t, struct probe_links *pl, char *err, size_t errlen)
{
	if (!g->active)
		return 0;
	for (int i = 0; i < g->nwrappers; i++) {
		__u64 key = g->wrappers[i].entry;
		__u32 off = g->wrappers[i].capture_off;

		if (bpf_map_update_elem(bpf_map__fd(wrappers), &key, &off, BPF_ANY)) {
			snprintf(err, errlen, "cannot fill the map of goroutine wrappers: %s",
				 strerror(errno));
			return -errno;
		}
	}
	return probe_attach_sites(pl, prog, target_probe_pid(t), t->exe, g->sites, g->nsites,
				  "the Go runtime's goroutine functions", err, errlen);
}

void gr_close(struct gr_run *g)
{
	go_symtab_close(g->st);
	free(g->starts);
	free(g->wrappers);
	free(g->base);
	free(g->alive);
	memset(g, 0, sizeof(*g));
}

int gr_read_counters(struct bpf_map *map, uint64_t out[GRC_COUNT])
{
	return probe_sum_percpu_counters(map, GRC_COUNT, out);
}

static struct gr_start start_of(struct gr_run *g, uint64_t pc)
{
	struct gr_start s = { .pc = pc };
	size_t slot = (size_t)((pc * 0x9e3779b97f4a7c15ull) >> 52) % GR_STARTS;

	if (!g->starts)
		g->starts = calloc(GR_STARTS, sizeof(*g->starts));
	for (size_t i = 0; g->starts && i < 8; i++) {
		struct gr_start *c = &g->starts[(slot + i) % GR_STARTS];

		if (c->pc == pc)
			return *c;
		if (!c->pc) {
			go_start_func(g->st, pc, &s.user, &s.wrapper);
			*c = s;
			return s;
		}
	}
	go_start_func(g->st, pc, &s.user, &s.wrapper);
	return s;
}

void gr_start_name(struct gr_run *g, uint64_t pc, char *out, size_t len, char *wrapper, size_t wlen)
{
	struct gr_start s = { 0 };

	if (pc && g->st)
		s = start_of(g, pc);
	if (s.user)
		snprintf(out, len, "%s", s.user);
	else if (pc)
		snprintf(out, len, "0x%llx", (unsigned long long)pc);
	else
		out[0] = '\0';
	if (wrapper)
		snprintf(wrapper, wlen, "%s", s.wrapper ? s.wrapper : "");
}

void gr_print_event(struct gr_run *g, const struct gr_event *e, bool json, uint64_t t0_ns)
{
	bool exit = e->kind == GR_EV_EXIT, alive = e->kind == GR_EV_ALIVE;
	/* seen created: lifetime, start and parent known; before: alive at attach (read from the
	 * process: start, and parent from Go 1.21) */
	bool known = e->kind == GR_EV_CREATE || (e->flags & GR_F_KNOWN);
	bool before = e->flags & GR_F_BEFORE, named = known || before;
	bool parent = known || (before && (e->flags & GR_F_PARENT));
	const char *what = exit ? "exit" : alive ? "alive" : "create";
	char start[256], wrapper[256];

	gr_start_name(g, named ? e->start_pc : 0, start, sizeof(start), wrapper, sizeof(wrapper));
	if (known && e->wrapper_pc && g->st) {
		const char *w = go_func_name_at(g->st, e->wrapper_pc);

		snprintf(wrapper, sizeof(wrapper), "%s", w ? w : "");
	}
	if (json) {
		json_begin_at(stdout, "goroutine", e->ts_ns);
		json_field_str(stdout, "event", what);
		json_field_u64(stdout, "pid", e->pid);
		if (alive)
			json_field_null(stdout, "tid");
		else
			json_field_u64(stdout, "tid", e->tid);
		json_field_u64(stdout, "goid", e->goid);
		if (parent)
			json_field_u64(stdout, "parent_goid", e->parent_goid);
		else
			json_field_null(stdout, "parent_goid");
		if (start[0])
			json_field_str(stdout, "start", start);
		else
			json_field_null(stdout, "start");
		if (wrapper[0])
			json_field_str(stdout, "start_wrapper", wrapper);
		json_field_u64(stdout, "ts_ns", e->ts_ns);
		if (exit && known)
			json_field_u64(stdout, "lifetime_ns", e->lifetime_ns);
		else if (exit)
			json_field_null(stdout, "lifetime_ns");
		if (before)
			json_field_bool(stdout, "started_before_tracing", true);
		if (e->flags & GR_F_SYSTEM)
			json_field_bool(stdout, "system", true);
		json_end(stdout);
		return;
	}
	char gid[24], pgid[24] = "-", life[32] = "-", sym[1024];
	double t = e->ts_ns >= t0_ns ? (double)(e->ts_ns - t0_ns) / 1e9 : 0.0;

	snprintf(gid, sizeof(gid), "g%llu", (unsigned long long)e->goid);
	if (parent)
		snprintf(pgid, sizeof(pgid), "g%llu", (unsigned long long)e->parent_goid);
	if (exit && known)
		snprintf(life, sizeof(life), "%llu", (unsigned long long)(e->lifetime_ns / 1000));
	if (g->wall_clock)
		wall_clock_print_column(stdout, e->ts_ns);
	printf("%-10.6f %7u %7s %-6s %7s %12s  %-16s %s\n", t, e->pid, gid, what, pgid, life,
	       e->flags & GR_F_SYSTEM ? "goroutine (rt)" : "goroutine",
	       start[0] ? text_safe(start, sym, sizeof(sym)) : "-");
}

void gr_print_summary(const struct gr_run *g, struct bpf_map *counters, struct summary *s)
{
	uint64_t c[GRC_COUNT];
	uint64_t created, exited, unknown, alive;

	if (!g->active)
		return;
	if (gr_read_counters(counters, c))
		memset(c, 0, sizeof(c));
	created = c[GRC_CREATED];
	exited = c[GRC_EXITED];
	unknown = c[GRC_EXITED_UNTRACKED];
	alive = created > exited - unknown ? created - (exited - unknown) : 0;
	/* thr -p: and the ones alive at attach that were not seen to exit */
	alive += g->nalive - g->alive_gone;
	summary_group_open(s, "goroutines", "goroutines: ");
	if (g->listed)
		summary_count(s, "alive_at_attach", "alive at attach", g->nalive);
	summary_count(s, "created", "created", created);
	summary_count(s, "exited", "exited", exited);
	summary_count(s, "alive", "alive", alive);
	summary_count(s, "exited_unknown_lifetime", NULL, unknown);
	summary_count(s, "lost", "lost", c[GRC_LOST] + c[GRC_TRACK_FULL] + c[GRC_HIST_FULL]);
	summary_group_close(s, unknown ? " (exits of goroutines not seen created have no lifetime)"
				       : NULL);
}

/* ---- rtmon lat ---- */

int gr_read_hist(struct bpf_map *hists, __u64 key, struct lifetime_hist *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct lifetime_hist *percpu;

	memset(out, 0, sizeof(*out));
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	percpu = calloc((size_t)ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(hists), &key, percpu)) {
		int rc = -errno;

		free(percpu);
		return rc;
	}
	for (int c = 0; c < ncpu; c++)
		lifetime_hist_add(out, &percpu[c], 1);
	free(percpu);
	return 0;
}

struct gr_group {
	char name[256];
	struct lifetime_hist h;
};

static const struct lifetime_hist *base_find(const struct gr_run *g, __u64 key)
{
	for (size_t i = 0; i < g->nbase; i++)
		if (g->base[i].key == key)
			return &g->base[i].h;
	return NULL;
}

static int cmp_group(const void *a, const void *b)
{
	const struct gr_group *x = a, *y = b;

	if (x->h.count != y->h.count)
		return x->h.count > y->h.count ? -1 : 1;
	return strcmp(x->name, y->name);
}

void gr_lat_report(struct gr_run *g, struct bpf_map *hists, bool by_start, bool json, pid_t pid,
		   const char *label, int interval)
{
	int fd = bpf_map__fd(hists);
	struct gr_snap_entry *cur = NULL, *ne;
	struct gr_group *grp = NULL, *ng;
	size_t ncur = 0, ngrp = 0;
	__u64 key, next, *prev = NULL;
	struct lifetime_hist h;

	if (!g->active)
		return;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (gr_read_hist(hists, key, &h))
			continue;
		ne = realloc(cur, (ncur + 1) * sizeof(*cur));
		if (!ne)
			break;
		cur = ne;
		cur[ncur].key = key;
		cur[ncur++].h = h;
	}
	/* Differences from the last report, merged by name (start PCs differ by process only
	 * without symbols), busiest first. */
	for (size_t i = 0; i < ncur; i++) {
		const struct lifetime_hist *old = base_find(g, cur[i].key);
		struct lifetime_hist d = cur[i].h;
		char name[256];
		size_t j;

		if (old)
			lifetime_hist_add(&d, old, -1);
		if (!d.count)
			continue;
		if (by_start)
			gr_start_name(g, cur[i].key, name, sizeof(name), NULL, 0);
		else
			snprintf(name, sizeof(name), "all");
		if (!name[0])
			snprintf(name, sizeof(name), "[unknown]");
		for (j = 0; j < ngrp && strcmp(grp[j].name, name); j++)
			;
		if (j == ngrp) {
			ng = realloc(grp, (ngrp + 1) * sizeof(*grp));
			if (!ng)
				continue;
			grp = ng;
			memset(&grp[ngrp], 0, sizeof(grp[ngrp]));
			snprintf(grp[ngrp].name, sizeof(grp[ngrp].name), "%s", name);
			ngrp++;
		}
		lifetime_hist_add(&grp[j].h, &d, 1);
	}
	if (ngrp > 1)
		qsort(grp, ngrp, sizeof(*grp), cmp_group);
	if (json) {
		static const struct gr_group empty = { .name = "all" };

		for (size_t i = 0; i < (ngrp ? ngrp : (by_start ? 0 : 1)); i++) {
			const struct gr_group *x = ngrp ? &grp[i] : &empty;

			struct hist_range range = lifetime_hist_range(&x->h);

			range.bound_only = interval > 0;
			json_hist_begin(stdout, "goroutine_lifetime", "us", pid, x->h.slots,
					LOG2_SLOTS, x->h.count, x->h.sum_ns / 1000, &range);
			if (by_start) {
				fputs(",\"start\":", stdout);
				json_str(stdout, x->name);
			}
			if (interval)
				json_field_i64(stdout, "interval", interval);
			puts("}");
		}
	} else {
		char sym[1024];

		printf("\nGoroutine lifetimes in %s:\n", label);
		if (!ngrp)
			printf("no goroutine exits seen\n");
		for (size_t i = 0; i < ngrp; i++) {
			const struct lifetime_hist *x = &grp[i].h;

			if (by_start)
				printf("%sstart function: %s\n", i ? "\n" : "",
				       text_safe(grp[i].name, sym, sizeof(sym)));
			hist_print_log2(stdout, x->slots, LOG2_SLOTS, "lifetime (us)");
			printf("goroutines %llu, ", (unsigned long long)x->count);
			hist_print_lifetime_stats(stdout, x, !interval);
		}
	}
	free(grp);
	free(g->base);
	g->base = cur;
	g->nbase = ncur;
}
