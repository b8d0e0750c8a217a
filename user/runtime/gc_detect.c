#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "runtime/gc_detect.h"

/* Backends in detection order. A new runtime adds its struct gc_runtime here. */
static const struct gc_runtime *const runtimes[] = { &gc_runtime_go, &gc_runtime_python,
						     &gc_runtime_java, &gc_runtime_node,
						     &gc_runtime_boehm };

#define NRUNTIMES (sizeof(runtimes) / sizeof(runtimes[0]))

int gc_detect(struct gc_session *s, const struct gc_runtime **rt, char *err, size_t errlen)
{
	/* A running process names its libraries in /proc/PID/maps (a JVM dlopens libjvm.so); a held
	 * -- CMD child has not exec'd yet, so its file's own dependencies and layout are read, as
	 * the target found them with its env's LD_LIBRARY_PATH and LD_PRELOAD: the probes go where
	 * the program will run. */
	pid_t pid = s->t->kind == TARGET_PID ? s->t->pid : 0;
	int rc = s->t->kind == TARGET_CMD && s->t->image.n > 0
			 ? runtime_identify_image(&s->t->image, &s->id, err, errlen)
			 : runtime_identify(s->t->exe, pid, &s->id, err, errlen);

	*rt = NULL;
	if (rc)
		return -1;
	for (size_t i = 0; i < NRUNTIMES; i++) {
		int rc = runtimes[i]->detect(s, s->t->exe, err, errlen);

		if (rc > 0) {
			*rt = runtimes[i];
			return 1;
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

void gc_runtimes_describe(char *names, size_t nlen, char *kinds, size_t klen)
{
	names[0] = kinds[0] = '\0';
	for (size_t i = 0; i < NRUNTIMES; i++) {
		size_t nl = strlen(names), kl = strlen(kinds);
		const char *sep = !i ? "" : i + 1 == NRUNTIMES ? " or " : ", ";

		snprintf(names + nl, nlen - nl, "%s%s", i ? ", " : "", runtimes[i]->name);
		snprintf(kinds + kl, klen - kl, "%s%s", sep, runtimes[i]->display);
	}
}

int gc_session_ring(struct gc_session *s, struct bpf_map *events, ring_buffer_sample_fn fn,
		    char *err, size_t errlen)
{
	int rc;

	s->rb = ring_buffer__new(bpf_map__fd(events), fn, s, NULL);
	if (s->rb)
		return 0;
	rc = -errno;
	snprintf(err, errlen, "cannot set up the ring buffer: %s", strerror(errno));
	return rc;
}
