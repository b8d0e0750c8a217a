/* Which GC backend (struct gc_runtime) traces a target: rtmon gc and rtmon serve ask the same
 * backends in the same order. */
#ifndef RTMON_GC_DETECT_H
#define RTMON_GC_DETECT_H

#include <stddef.h>
#include "runtime/gc_backend.h"

/* Identifies the runtime of s->t (into s->id), then asks each backend in turn. 1 with *rt set when
 * one recognises the target; 0 when none does; -1 with one line in err when the runtime cannot be
 * read or was recognised but cannot be traced (the backend says why and what to do). */
int gc_detect(struct gc_session *s, const struct gc_runtime **rt, char *err, size_t errlen);

/* The supported runtimes for a message: names "go, python, java, boehm", kinds "Go, CPython, ...
 * or Boehm GC". */
void gc_runtimes_describe(char *names, size_t nlen, char *kinds, size_t klen);

#endif
