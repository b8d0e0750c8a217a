/* --budget PCT: the duty-cycle controller and the estimator (docs/budget.md has the reasoning).
 *
 * Controller. A cycle is a live window (probes attached) of W seconds, then an off period. Both are
 * planned when the cycle starts, from what earlier cycles measured: the probe CPU per live second
 * (hits times the calibrated cost of a hit), the target's own CPU per live and per off second. The
 * duty d = W / (W + off) is the largest that keeps probe CPU <= k * the target's own CPU, with
 * k = PCT / 100 times a safety margin. A balance of allowed minus spent CPU carries over between
 * cycles: a window that cost more than planned (a burst) lengthens the next off period. The off
 * period is jittered so that a periodic target cannot lock onto the windows.
 *
 * Estimator. Counts seen live are scaled by the share of the target's work that happened live,
 * measured by its user-mode CPU time: uprobe traps run in the kernel, so user time is the target's
 * own work whether the probes are attached or not, and an idle target (no CPU) adds nothing unseen.
 * Wall time would be wrong here: a malloc-heavy program runs 10x slower while live, so 5% of the
 * wall time can be 0.5% of its calls. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "trace/budget.h"
#include "trace/loop.h"
#include "output/target_report.h"

#define MARGIN  0.9   /* aim under the budget: the calibrated cost leaves out the BPF body */
#define W_FIRST 0.010 /* the first window, before anything is known */
#define W_MIN   0.010 /* a live window, when the duty allows it ... */
#define W_FLOOR 0.002 /* ... and never shorter */
/* A cycle: attach + detach cost rtmon ~0.15 ms CPU and ~50 ms of waiting. */
#define P_MIN        0.200
#define P_MAX        2.0
#define OFF_DEBT_MAX 10.0 /* the longest an overspent budget keeps the probes off */
/* While the duty is 1: how often to look again (a burst's overspend). */
#define FULL_REPLAN 0.050
#define OFF_READ    0.050 /* while off: how often to read the target's CPU (lost if it exits) */
/* ... and its own allocation count (a read is ~100-300 us here): what was allocated since the last
 * reading is estimated when it exits. */
#define OFF_READ_RT    0.020
#define CREDIT_S       0.5  /* unspent allowance saved: at most this many seconds' worth */
#define MIN_MEASURE_NS 20e6 /* live CPU needed to trust a sampled fraction (5 ticks at HZ=250) */
#define MIN_COST_N     1000 /* allocations live and off, to measure what a hit costs the target */
#define COST_X_MAX     4.0

struct acc {
	double t, t_live;       /* wall ns, and of it live */
	double user, user_live; /* the target's user-mode CPU ns */
	double base, base_live; /* its CPU ns less the probes' cost */
	double cost_live;       /* the probes' cost, ns (calibrated, times cost_x) */
	double n, n_live;       /* the target's own count of its allocations (runtime_counts), and
				 * of them the probes saw (hooks.seen) */
	double nb, nb_live;     /* their bytes, and of those made while live */
	double tot, tot_live;   /* its CPU ns, probes included */
	double cal_live;        /* the probes' calibrated cost, ns */
	bool off;               /* the probes were off at some point */
};

struct budget {
	double pct, k;
	bool unlimited;
	struct budget_hooks h;
	struct budget_cpu *cpu;
	bool live, stopped;
	double live_until, cycle_end; /* loop_now_s() times */
	bool cycle_has_off;
	/* the last accounting point */
	double mark_t;
	struct budget_cpu_time mark_cpu;
	double mark_cost;
	double mark_n, mark_nb, mark_seen, mark_seen_b;
	bool have_rt;  /* runtime_counts has answered once */
	bool rt_read;  /* ... and did at the last point */
	double cost_x; /* what a hit costs the target, measured on it, over the calibrated cost */
	/* planning sums (halved at each plan, so recent cycles weigh most) */
	double p_cost_live, p_base_live, p_t_live, p_base_off, p_t_off;
	double balance; /* CPU ns the probes may still spend */
	struct acc span, run;
	uint64_t windows;
	bool verbose;
	unsigned int rng;
};

int budget_parse_pct(const char *s, double *pct)
{
	char *end;
	double v;

	if ((*s < '0' || *s > '9') && *s != '.')
		return -EINVAL; /* no sign, space, "nan" or "inf" */
	errno = 0;
	v = strtod(s, &end);
	if (end != s && *end == '%')
		end++;
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 100)
		return -EINVAL;
	*pct = v;
	return 0;
}

static double now_ns(void)
{
	return (double)loop_now_ns();
}

/* The target's own totals: the last ones while they cannot be read (its allocations since then are
 * booked when they can). */
static void read_rt(struct budget *b, double *n, double *nb)
{
	*n = b->mark_n, *nb = b->mark_nb;
	b->rt_read = b->h.runtime_counts && !b->h.runtime_counts(b->h.ctx, n, nb);
	if (b->rt_read) {
		if (!b->have_rt) {
			/* The first reading. The probes have been live since the run began (its
			 * first window is), so what they saw until now is the runtime's share of
			 * the run so far. */
			double seen = 0, seen_b = 0;

			if (b->h.seen)
				b->h.seen(b->h.ctx, &seen, &seen_b);
			b->mark_n = *n - seen, b->mark_nb = *nb - seen_b;
			b->mark_seen = b->mark_seen_b = 0;
		}
		b->have_rt = true;
	}
}

static void read_point(struct budget *b, struct budget_cpu_time *cpu, double *cost, double *n,
		       double *nb)
{
	if (budget_cpu_read(b->cpu, cpu) && !cpu->total_ns)
		*cpu = b->mark_cpu;
	if (b->h.cost_ns(b->h.ctx, cost))
		*cost = b->mark_cost;
	read_rt(b, n, nb);
}

/* a += d, booking d's totals as live too when it was. */
static void acc_add(struct acc *a, bool live, const struct acc *d)
{
	a->t += d->t;
	a->user += d->user;
	a->base += d->base;
	a->n += d->n;
	a->nb += d->nb;
	a->n_live += d->n_live;
	a->nb_live += d->nb_live;
	a->tot += d->tot;
	if (live) {
		a->t_live += d->t;
		a->user_live += d->user;
		a->base_live += d->base;
		a->cost_live += d->cost_live;
		a->tot_live += d->tot;
		a->cal_live += d->cal_live;
	} else if (d->t > 0) {
		a->off = true;
	}
}

/* Books everything since the last point as live or off, whichever the probes were. */
static void account(struct budget *b, double t, const struct budget_cpu_time *cpu, double cost,
		    double n, double nb)
{
	double dt = t - b->mark_t, dcal = cost - b->mark_cost, dcost = dcal * b->cost_x;
	double dn = n > b->mark_n ? n - b->mark_n : 0, dnb = nb > b->mark_nb ? nb - b->mark_nb : 0;
	double dtotal = cpu->total_ns - b->mark_cpu.total_ns,
	       du = cpu->user_ns - b->mark_cpu.user_ns;
	double dbase = dtotal - dcost, seen = b->mark_seen, seen_b = b->mark_seen_b, ds, dsb;
	struct acc d;

	/* The live share of the runtime's count is what the probes saw: exact, whenever the
	 * breakpoints really came and went (rtmon may run late at a window's edges on a busy
	 * machine, the target does not wait). */
	if (b->h.seen && b->have_rt)
		b->h.seen(b->h.ctx, &seen, &seen_b);
	ds = seen > b->mark_seen ? seen - b->mark_seen : 0;
	dsb = seen_b > b->mark_seen_b ? seen_b - b->mark_seen_b : 0;

	if (dt < 0)
		dt = 0;
	if (dbase < 0)
		dbase = 0; /* a cost estimate a little high on a window of pure probe hits */
	if (du < 0)
		du = 0;
	d = (struct acc){ .t = dt,
			  .user = du,
			  .base = dbase,
			  .cost_live = dcost,
			  .n = dn,
			  .n_live = ds,
			  .nb = dnb,
			  .nb_live = dsb,
			  .tot = dtotal > 0 ? dtotal : 0,
			  .cal_live = dcal };
	acc_add(&b->span, b->live, &d);
	acc_add(&b->run, b->live, &d);
	if (b->live) {
		b->p_cost_live += dcost;
		b->p_base_live += dbase;
		b->p_t_live += dt;
	} else {
		b->p_base_off += dbase;
		b->p_t_off += dt;
	}
	if (!b->unlimited)
		b->balance += b->k * dbase - dcost;
	b->mark_t = t;
	b->mark_cpu = *cpu;
	b->mark_cost = cost;
	b->mark_seen = seen;
	b->mark_seen_b = seen_b;
	if (n > b->mark_n)
		b->mark_n = n;
	if (nb > b->mark_nb)
		b->mark_nb = nb;
}

static double jitter(struct budget *b)
{
	return 0.75 + 0.5 * (double)(rand_r(&b->rng) % 10000) / 10000.0;
}

/* What a hit costs the target itself, from its own count of the calls: its CPU per allocation live
 * less off. On Go that is about 1.7x the calibrated cost (its collector's work per allocation,
 * user code running colder after each trap: docs/budget.md). Only while the windows see the run's
 * mix of sizes (a phase of large allocations costs more per call whether traced or not), and
 * never below the calibration. */
static void measure_cost(struct budget *b)
{
	const struct acc *a = &b->run;
	double n_off = a->n - a->n_live, fn, fb, x;

	if (!b->have_rt || a->n_live < MIN_COST_N || n_off < MIN_COST_N || a->cal_live <= 0 ||
	    a->tot_live < MIN_MEASURE_NS || a->nb <= 0)
		return;
	fn = a->n_live / a->n;
	fb = a->nb_live / a->nb;
	if (fabs(fb / fn - 1) > 0.1)
		return;
	x = (a->tot_live / a->n_live - (a->tot - a->tot_live) / n_off) / (a->cal_live / a->n_live);
	b->cost_x = x < 1 ? 1 : x > COST_X_MAX ? COST_X_MAX : x;
}

/* Plans the cycle starting now (the probes are live). */
static void plan(struct budget *b, double now_s)
{
	double rho, bl, bo, d, period, w, off, rate;

	measure_cost(b); /* for the next cycles' accounting */
	rho = b->p_t_live > 0 ? b->p_cost_live / b->p_t_live : 0; /* probe CPU per live ns */
	bl = b->p_t_live > 0 ? b->p_base_live / b->p_t_live : 0;  /* own CPU per live ns */
	/* Before any off period: assume the threads that trapped would have worked instead. */
	bo = b->p_t_off > 0 ? b->p_base_off / b->p_t_off : bl + rho;
	rate = b->k * bo;
	b->p_cost_live /= 2;
	b->p_base_live /= 2;
	b->p_t_live /= 2;
	b->p_base_off /= 2;
	b->p_t_off /= 2;
	if (b->unlimited) {
		b->cycle_has_off = false;
		b->live_until = now_s + FULL_REPLAN;
		return;
	}
	if (rate > 0 && b->balance > rate * CREDIT_S * 1e9)
		b->balance = rate * CREDIT_S * 1e9;
	if (rho <= b->k * bl)
		d = 1;
	else if (bo <= 0)
		d = 0;
	else
		d = b->k * bo / (rho - b->k * bl + b->k * bo);
	if (d >= 0.999 && b->balance >= 0) {
		b->cycle_has_off = false;
		b->live_until = now_s + FULL_REPLAN;
		return;
	}
	period = d > 0 ? W_MIN / d : P_MAX;
	period = period < P_MIN ? P_MIN : period > P_MAX ? P_MAX : period;
	w = d * period < W_FLOOR ? W_FLOOR : d * period;
	if (w > period)
		w = period;
	off = period - w;
	if (rate > 0) {
		off -= b->balance / rate / 1e9; /* pay a debt back, or spend a credit */
		if (off > OFF_DEBT_MAX)
			off = OFF_DEBT_MAX;
	} else if (b->balance < 0) {
		off = OFF_DEBT_MAX; /* the target does no work of its own: nothing pays the debt
				       back */
	}
	if (off < 0)
		off = 0;
	b->live_until = now_s + w;
	b->cycle_end = b->live_until + off * jitter(b);
	b->cycle_has_off = true;
	if (b->verbose)
		fprintf(stderr,
			"rtmon: budget: probe CPU %.3f and own CPU %.3f per live s, own CPU %.3f "
			"per off s, balance %+.1f ms: next window %.1f ms, then off %.0f ms (duty "
			"%.2f%%)\n",
			rho, bl, bo, b->balance / 1e6, 1e3 * w,
			1e3 * (b->cycle_end - b->live_until), 100 * w / (b->cycle_end - now_s));
}

int budget_new(struct budget **out, double pct, const struct target *t,
	       const struct budget_hooks *hooks, bool verbose, char *err, size_t errlen)
{
	struct budget *b = calloc(1, sizeof(*b));

	*out = NULL;
	if (!b || !(b->cpu = budget_cpu_open(t))) {
		free(b);
		snprintf(err, errlen, "cannot set up the budget: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	b->pct = pct;
	b->unlimited = pct >= 100;
	/* PCT is the probes' share of the target's CPU time, probes included: p / (1 - p) of its
	 * own. */
	b->k = b->unlimited ? 0
			    : MARGIN * (pct / 100) / (1 - pct / 100); /* unlimited: never detach */
	b->h = *hooks;
	b->cost_x = 1;
	b->verbose = verbose;
	b->live = true;
	b->windows = 1;
	b->rng = (unsigned int)loop_now_ns();
	b->mark_t = now_ns();
	read_point(b, &b->mark_cpu, &b->mark_cost, &b->mark_n, &b->mark_nb);
	b->live_until = loop_now_s() + W_FIRST;
	b->cycle_has_off = false;
	*out = b;
	return 0;
}

static void detach_now(struct budget *b)
{
	struct budget_cpu_time cpu;
	double t, cost, n, nb;

	/* The breakpoints go at the start of the close, which then waits ~30-70 ms for RCU: book
	 * the live window up to now, with the counters read once the close is done (no hit can be
	 * in flight). The runtime's totals are read last before the close (which of them were
	 * made live is what the probes saw, whenever the close takes effect). */
	if (budget_cpu_read(b->cpu, &cpu) && !cpu.total_ns)
		cpu = b->mark_cpu;
	read_rt(b, &n, &nb);
	t = now_ns();
	b->h.detach(b->h.ctx);
	if (b->h.cost_ns(b->h.ctx, &cost))
		cost = b->mark_cost;
	account(b, t, &cpu, cost, n, nb);
	b->live = false;
}

static int attach_now(struct budget *b)
{
	struct budget_cpu_time cpu;
	char err[512];
	double cost, n, nb;
	int rc;

	/* The probes go live at the end of the attach (after an RCU grace period, ~8 ms here). */
	rc = b->h.attach(b->h.ctx, err, sizeof(err));
	if (rc) {
		report_error("rtmon",
			     "--budget: cannot attach the probes again, counts end here: %s", err);
		return rc;
	}
	read_point(b, &cpu, &cost, &n, &nb);
	account(b, now_ns(), &cpu, b->mark_cost, n, nb);
	b->mark_cost = cost;
	b->live = true;
	b->windows++;
	return 0;
}

static double next_off_read(const struct budget *b, double now)
{
	double next = now + (b->have_rt ? OFF_READ_RT : OFF_READ);

	return b->cycle_end < next ? b->cycle_end : next;
}

double budget_tick(void *p)
{
	struct budget *b = p;
	double now = loop_now_s();

	if (b->stopped)
		return 0;
	if (b->live) {
		if (now < b->live_until)
			return b->live_until;
		if (b->cycle_has_off) {
			detach_now(b);
			now = loop_now_s();
			/* Read while off too: a target's memory is gone once it has exited. */
			return now >= b->cycle_end ? now : next_off_read(b, now);
		}
		{
			struct budget_cpu_time cpu;
			double cost, n, nb;

			read_point(b, &cpu, &cost, &n, &nb);
			account(b, now_ns(), &cpu, cost, n, nb);
		}
		plan(b, now);
		return b->live_until;
	}
	if (now < b->cycle_end) {
		struct budget_cpu_time cpu;
		double cost, n, nb;

		read_point(b, &cpu, &cost, &n, &nb);
		account(b, now_ns(), &cpu, cost, n, nb);
		return next_off_read(b, now);
	}
	if (attach_now(b)) {
		b->stopped = true;
		return 0;
	}
	plan(b, loop_now_s());
	return b->live_until;
}

void budget_target_exited(struct budget *b)
{
	struct budget_cpu_time cpu;
	double cost, n, nb;

	read_point(b, &cpu, &cost, &n, &nb);
	if (b->have_rt && !b->rt_read) {
		/* Its memory is gone with it, its CPU clocks are not. The allocations since the
		 * last reading: while live, the hits counted since (account books them); while off
		 * (at most OFF_READ_RT ago, or the ~30-70 ms of a detach), its CPU since at the
		 * run's off rate per CPU ns. */
		const struct acc *a = &b->run;
		double dbase =
			cpu.total_ns - b->mark_cpu.total_ns - (cost - b->mark_cost) * b->cost_x;
		double n_off = a->n - a->n_live, nb_off = a->nb - a->nb_live;
		double base_off = a->base - a->base_live, seen = b->mark_seen,
		       seen_b = b->mark_seen_b;

		if (b->h.seen)
			b->h.seen(b->h.ctx, &seen, &seen_b);
		if (b->live) {
			n += seen - b->mark_seen;
			nb += seen_b - b->mark_seen_b;
		} else if (dbase > 0 && base_off > 0 && n_off > 0) {
			n += n_off / base_off * dbase;
			nb += nb_off / base_off * dbase;
		}
	}
	account(b, now_ns(), &cpu, cost, n, nb);
	b->stopped = true;
}

double budget_next_tick(const struct budget *b)
{
	return b->live ? b->live_until : b->cycle_end;
}

/* Which measure of the target's work a sampled fraction comes from, best first:
 * - cpu: its CPU time less the probes' calibrated cost. Needs the work while live to be measurable
 * and at least half the probes' cost, or the calibration's error (~10%) would dominate it.
 * - user_cpu: its user-mode CPU time. Traps are kernel time, but about a quarter of their cost
 * still shows up as user time here (tick accounting, and user code running colder after each trap):
 * this undercounts when the probes dominate.
 * - time: wall time, when neither was measurable; undercounts a target the probes slow down.
 * A measure needs MIN_MEASURE_NS of it while live. When the probes took most of the target's CPU
 * while live, no measure is good: the span says so (scale_uncertain). */
enum basis { BASIS_RUNTIME, BASIS_CPU, BASIS_USER, BASIS_TIME };
static const char *const basis_names[] = { "runtime", "cpu", "user_cpu", "time" };
#define MIN_MEASURE_N 100 /* allocations seen live, to trust their share of the runtime's count */
#define MIX_TOL       0.1 /* bytes per allocation live vs the span's: a different mix beyond */

/* The measures in the order tried; the loose ones (too little of them live) leave the scale
 * uncertain. */
static const struct step {
	enum basis m;
	bool strict;
} steps[] = {
	{ BASIS_RUNTIME, true }, { BASIS_CPU, true },  { BASIS_USER, true },
	{ BASIS_USER, false },   { BASIS_CPU, false }, { BASIS_TIME, false },
};

static bool measure(const struct acc *a, const struct step *st, double *live, double *all)
{
	switch (st->m) {
	case BASIS_RUNTIME:
		*live = a->n_live, *all = a->n;
		return *live >= MIN_MEASURE_N;
	case BASIS_USER:
		*live = a->user_live, *all = a->user;
		return st->strict ? *live >= MIN_MEASURE_NS : *live > 0 && *all >= MIN_MEASURE_NS;
	case BASIS_CPU:
		*live = a->base_live, *all = a->base;
		return st->strict ? *live >= MIN_MEASURE_NS && *live >= 0.5 * a->cost_live
				  : *live > 0;
	default:
		*live = a->t_live, *all = a->t;
		return *live > 0;
	}
}

/* The runtime basis: bytes scaled by the runtime's byte total, and whether the windows' mix of
 * sizes was the span's. */
static void runtime_bytes(const struct acc *span, const struct acc *run, bool own,
			  struct budget_span *out)
{
	double fn = span->n > 0 ? span->n_live / span->n : 1,
	       fb = span->nb > 0 ? span->nb_live / span->nb : 1;

	if (own && span->nb_live > 0) {
		out->own_scale_bytes = span->nb_live < span->nb ? span->nb / span->nb_live : 1;
	} else if (!own && run->nb_live > 0) {
		out->run_scale_bytes =
			span->nb > span->nb_live ? (span->nb - span->nb_live) / run->nb_live : 0;
		fn = run->n > 0 ? run->n_live / run->n : 1;
		fb = run->nb > 0 ? run->nb_live / run->nb : 1;
	}
	out->mix_ratio = fn > 0 ? fb / fn : 1;
	out->mix_uncertain = fabs(out->mix_ratio - 1) > MIX_TOL;
}

static void make_span(const struct acc *span, const struct acc *run, struct budget_span *out)
{
	memset(out, 0, sizeof(*out));
	out->mix_ratio = 1;
	out->live_fraction = span->t > 0 ? span->t_live / span->t : 1;
	out->estimated = span->off;
	out->probe_share_live = span->cost_live + span->base_live > 0
					? span->cost_live / (span->cost_live + span->base_live)
					: 0;
	out->own_scale = out->own_scale_bytes = 1;
	out->sampled_fraction = 1;
	out->basis = "live";
	if (!span->off)
		return;
	out->scale_uncertain = span->base_live < 0.5 * span->cost_live;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		double live, all, run_live, run_all;

		out->basis = basis_names[steps[i].m];
		out->scale_uncertain |= !steps[i].strict;
		if (measure(span, &steps[i], &live, &all)) {
			/* Enough seen in this span: scale it by its own fraction. */
			out->sampled_fraction = live < all ? live / all : 1;
			out->own_scale = out->own_scale_bytes = 1 / out->sampled_fraction;
			if (steps[i].m == BASIS_RUNTIME)
				runtime_bytes(span, run, true, out);
			/* The target's own count: whatever the probes cost, not a guess. */
			out->scale_uncertain &= steps[i].m != BASIS_RUNTIME;
			return;
		}
		if (measure(run, &steps[i], &run_live, &run_all)) {
			/* Too little live in this span (an interval between two windows): what it
			 * counted, plus the run's counts per unit of work times the work it did
			 * unseen. */
			out->sampled_fraction = run_live < run_all ? run_live / run_all : 1;
			out->own_scale = out->own_scale_bytes = 1;
			out->run_scale = out->run_scale_bytes =
				all > live ? (all - live) / run_live : 0;
			if (steps[i].m == BASIS_RUNTIME)
				runtime_bytes(span, run, false, out);
			out->scale_uncertain &= steps[i].m != BASIS_RUNTIME;
			return;
		}
	}
}

void budget_take_span(struct budget *b, struct budget_span *out)
{
	struct budget_cpu_time cpu;
	double cost, n, nb;

	read_point(b, &cpu, &cost, &n, &nb);
	account(b, now_ns(), &cpu, cost, n, nb);
	make_span(&b->span, &b->run, out);
	memset(&b->span, 0, sizeof(b->span));
}

void budget_run_span(const struct budget *b, struct budget_span *out)
{
	make_span(&b->run, &b->run, out);
}

double budget_cost_x(const struct budget *b)
{
	return b->cost_x;
}

double budget_pct(const struct budget *b)
{
	return b->pct;
}

uint64_t budget_windows(const struct budget *b)
{
	return b->windows;
}

void budget_free(struct budget *b)
{
	if (!b)
		return;
	budget_cpu_close(b->cpu);
	free(b);
}
