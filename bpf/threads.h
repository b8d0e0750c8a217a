/* Shared between the thread-tracking BPF programs (thread_events.bpf.c, thread_lifetimes.bpf.c, via
 * thread_track.bpf.h) and user/commands/thr.c, user/commands/lat.c. */
#ifndef RTMON_THR_H
#define RTMON_THR_H

#include "log2.h"

#define THR_NAME_LEN 16

/* Where a thread starts, as pthread_create's start_routine argument. Named by file and file offset
 * when the kernel found the mapping (ino != 0): that key is the same in every process running the
 * file, whatever the load address, and userspace can name it after the process is gone. Otherwise
 * by the virtual address in process tgid, for userspace to resolve through /proc/PID/maps. */
struct thr_start {
	__u64 ino;  /* inode of the mapped file; 0 when the mapping was not found */
	__u64 off;  /* file offset (ino != 0), else the virtual address */
	__u32 dev;  /* device of the file, kernel encoding (major << 20 | minor) */
	__u32 tgid; /* process of the address when ino == 0; 0 otherwise */
};

enum thr_kind {
	THR_EV_CREATE = 1,
	THR_EV_EXIT = 2,
	THR_EV_JAVA_START = 3, /* hotspot:thread__start: a struct thr_java_event */
	THR_EV_JAVA_STOP = 4,  /* hotspot:thread__stop: a struct thr_java_event */
};

enum thr_flags {
	THR_F_START = 1,      /* start is known (the thread came from pthread_create) */
	THR_F_LIFETIME = 2,   /* lifetime_ns is known (the thread was seen created) */
	THR_F_GROUP_DEAD = 4, /* exit: the last thread of the process */
	THR_F_DAEMON = 8,     /* Java events: a daemon thread */
	THR_F_BEFORE = 16,    /* exit: a thread (not a main thread) that started before tracing; its
				 lifetime is from the kernel's task->start_time all the same */
};

/* One ring buffer record per thread created or exited. */
struct thr_event {
	__u64 ts_ns;       /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 lifetime_ns; /* exit, when THR_F_LIFETIME */
	__u64 start_addr;  /* start routine address in the creating process, when THR_F_START */
	struct thr_start start;
	__u32 pid; /* tgid */
	__u32 tid;
	__u32 ptid; /* creating thread, at create; 0 at exit (userspace joins it from the create) */
	__u8 kind;  /* enum thr_kind */
	__u8 flags; /* enum thr_flags; at exit THR_F_START is set by userspace's join */
	__u16 pad;
	char name[THR_NAME_LEN]; /* comm: inherited at create, the thread's own name at exit */
};

#define THR_JAVA_NAME_LEN 64 /* a power of two: the BPF side masks lengths with it */

/* A JVM's Java thread started or stopped (HotSpot's USDT probes), in the same ring as the creates
 * and exits so that it arrives before the exit of its thread: base.tid is the thread's OS tid.
 * Userspace keeps it by tid and shows it on the exit row. Only these kinds are this long. */
struct thr_java_event {
	struct thr_event base;
	__s64 java_tid;                    /* java.lang.Thread's id */
	char java_name[THR_JAVA_NAME_LEN]; /* the Java name, not cut to 15 characters like comm */
};

/* Per-CPU 64-bit counters, summed by userspace. */
enum thr_counter {
	TC_CREATED,          /* threads seen created */
	TC_EXITED,           /* thread exits (main threads included) */
	TC_EXITED_UNTRACKED, /* exits of main threads (TID = PID): no lifetime (the process's) */
	TC_LOST,             /* ring buffer reserve failures: events not delivered */
	TC_TRACK_FULL, /* lat --by-start: start routine not stored (task storage allocation failed)
			*/
	TC_HIST_FULL,  /* lifetimes not counted because the histogram map was full */
	TC_EXITED_BEFORE, /* exits of threads that started before rtmon attached (lifetime from
			     task->start_time) */
	/* Exits of threads created while rtmon attached its tracepoints, after the first was live
	 * and before tracing began (tt_attach_ns .. tt_trace_start_ns): lifetime from
	 * task->start_time, counted apart from TC_EXITED_BEFORE and TC_EXITED_UNTRACKED. */
	TC_EXITED_ATTACHING,
	TC_COUNT,
};

#endif
