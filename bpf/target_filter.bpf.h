/* Which processes a BPF program counts. Userspace sets these read-only globals before load:
 *   target_tgid: count only this process (-p PID, -- CMD); 0 = no PID filter.
 *   target_ino/target_dev: count only processes whose executable is this inode (--binpath), so that
 * a probe in a shared libc does not count other programs, and processes started later are covered.
 * Each program file that includes this header gets its own copy of the globals. */
#ifndef RTMON_TARGET_FILTER_BPF_H
#define RTMON_TARGET_FILTER_BPF_H

#include <bpf/bpf_core_read.h>

const volatile __u32 target_tgid = 0;
const volatile __u64 target_ino = 0;
const volatile __u32 target_dev = 0; /* kernel encoding: major << 20 | minor */

static __always_inline bool task_is_target(struct task_struct *task, __u32 tgid)
{
	if (target_tgid && tgid != target_tgid)
		return false;
	if (target_ino) {
		struct file *exe = BPF_CORE_READ(task, mm, exe_file);
		struct inode *inode;

		if (!exe)
			return false;
		inode = BPF_CORE_READ(exe, f_inode);
		if (BPF_CORE_READ(inode, i_ino) != target_ino ||
		    BPF_CORE_READ(inode, i_sb, s_dev) != target_dev)
			return false;
	}
	return true;
}

static __always_inline bool current_is_target(void)
{
	return task_is_target(bpf_get_current_task_btf(), bpf_get_current_pid_tgid() >> 32);
}

#endif
