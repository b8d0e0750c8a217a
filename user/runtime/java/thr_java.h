/* Java thread names and ids in rtmon thr (JVM targets): HotSpot's
 * hotspot:thread__start/thread__stop USDT probes in libjvm.so. BPF side: bpf/thread_events.bpf.c
 * (struct thr_java_event). docs/thr.md. */
#ifndef RTMON_THR_JAVA_H
#define RTMON_THR_JAVA_H

#include <bpf/libbpf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include "proc/target.h"

struct thr_java {
	bool active;        /* a JVM whose libjvm.so has the probes */
	char lib[PATH_MAX]; /* that libjvm.so */
	char version[64];
	struct bpf_link *links[2];
	uint64_t started, stopped; /* events received */
};

/* Looks at the target: a JVM with the probes -> j->active. A JVM without them: a note on stderr
 * (threads are still traced, without Java names). Then, before the skeleton's load,
 * thr_java_prepare turns the two programs off unless active. */
void thr_java_open(struct thr_java *j, const char *cmd, const struct target *t);
void thr_java_prepare(const struct thr_java *j, struct bpf_program *start,
		      struct bpf_program *stop);
/* After load: attaches both probes. No-op when not active. 0, or -errno with one line in err. */
int thr_java_attach(struct thr_java *j, struct bpf_program *start, struct bpf_program *stop,
		    const struct target *t, char *err, size_t errlen);
void thr_java_close(struct thr_java *j);

#endif
