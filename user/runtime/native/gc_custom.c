/* rtmon gc --cycle SYM [--phase NAME=SYM]...: a native program's own collector. Each call of SYM is
 * one GC cycle, each call of a phase function one phase of the cycle open on its thread, all timed
 * by entry and return probes (user/runtime/native/gc_native.c). Refused on Go, where return probes
 * crash the program. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include "runtime/native/gc_native.h"
#include "runtime/go/goelf.h"
#include "output/target_report.h"

/* Built from the options at open; native_open keeps a pointer until close. */
static struct native_spec custom_spec;

static int custom_detect(struct gc_session *s, const char *exe, char *err, size_t errlen)
{
	struct go_info gi;

	if (!go_read_buildinfo(exe, &gi, NULL, 0)) {
		snprintf(err, errlen,
			 "%s is a Go program (%s): --cycle and --phase put return probes on "
			 "functions, which crash Go code; run rtmon gc without them to follow Go's "
			 "own GC",
			 s->t->label, gi.version);
		return -EPERM;
	}
	snprintf(s->version, sizeof(s->version), "--cycle %s", s->custom->cycle);
	snprintf(s->label, sizeof(s->label), "cycles of %s()", s->custom->cycle);
	return 1;
}

static int custom_open(struct gc_session *s, char *err, size_t errlen)
{
	const struct gc_custom_args *a = s->custom;
	struct native_spec *sp = &custom_spec;

	memset(sp, 0, sizeof(*sp));
	sp->cycle_phase = "cycle";
	sp->funcs[sp->nfuncs++] = (struct native_func){ a->cycle, NR_CYCLE, NULL, true };
	for (int i = 0; i < a->nphases && sp->nfuncs < NATIVE_MAX_SITES; i++)
		sp->funcs[sp->nfuncs++] =
			(struct native_func){ a->phase_sym[i], NR_PHASE, a->phase_name[i], true };
	return native_open(s, sp, err, errlen);
}

const struct gc_runtime gc_runtime_custom = {
	.name = "custom",
	.display = "custom",
	.pause_title = "Cycle times",
	.detail_header = "FUNCTION",
	.triggers = false,
	.nongc_stops = false,
	.detect = custom_detect,
	.open = custom_open,
	.counters = native_counters,
	.summary = native_summary,
	.close = native_close,
};

const struct gc_runtime *gc_custom_runtime(struct gc_session *s)
{
	char err[1024];

	if (custom_detect(s, s->t->exe, err, sizeof(err)) > 0)
		return &gc_runtime_custom;
	report_error("rtmon gc", "%s", err);
	return NULL;
}

/* Phase names go into JSON and the table as they are: letters, digits, '_', '-', '.'. */
static bool valid_name(const char *s, size_t len)
{
	if (!len || len >= GC_PHASE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_-.", s[i]))
			return false;
	return true;
}

int gc_custom_add_phase(struct gc_custom_args *a, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	size_t nlen = eq ? (size_t)(eq - arg) : 0;

	if (!eq || !eq[1]) {
		snprintf(err, errlen,
			 "invalid --phase '%s': give NAME=SYM, e.g. --phase mark=gc_mark", arg);
		return -EINVAL;
	}
	if (!valid_name(arg, nlen) || (nlen == 5 && !strncmp(arg, "cycle", 5))) {
		snprintf(err, errlen,
			 "invalid phase name in --phase '%s': 1 to %d letters, digits, '_', '-' "
			 "or '.', not \"cycle\"",
			 arg, GC_PHASE_NAME_MAX - 1);
		return -EINVAL;
	}
	if (a->nphases >= GC_MAX_PHASES) {
		snprintf(err, errlen, "too many --phase options: at most %d", GC_MAX_PHASES);
		return -EINVAL;
	}
	memcpy(a->phase_name[a->nphases], arg, nlen);
	a->phase_name[a->nphases][nlen] = '\0';
	a->phase_sym[a->nphases++] = eq + 1;
	return 0;
}

int gc_custom_check(const struct gc_custom_args *a, char *err, size_t errlen)
{
	if (a->nphases && !a->cycle) {
		snprintf(err, errlen,
			 "--phase needs --cycle SYM: the function each call of which is one cycle");
		return -EINVAL;
	}
	if (a->cycle && !a->cycle[0]) {
		snprintf(err, errlen, "--cycle needs a function name");
		return -EINVAL;
	}
	for (int i = 0; i < a->nphases; i++) {
		if (!strcmp(a->phase_sym[i], a->cycle)) {
			snprintf(err, errlen, "--phase %s=%s: %s is the --cycle function",
				 a->phase_name[i], a->phase_sym[i], a->cycle);
			return -EINVAL;
		}
		for (int k = 0; k < i; k++) {
			if (!strcmp(a->phase_name[k], a->phase_name[i]) ||
			    !strcmp(a->phase_sym[k], a->phase_sym[i])) {
				snprintf(
					err, errlen,
					"--phase %s=%s repeats a phase name or function of --phase "
					"%s=%s",
					a->phase_name[i], a->phase_sym[i], a->phase_name[k],
					a->phase_sym[k]);
				return -EINVAL;
			}
		}
	}
	return 0;
}
