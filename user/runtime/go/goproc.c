/* goproc.c - a running Go process opened for reading from outside: its executable's tables, the
 * load address, and the runtime's name tables read from its memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proc/procinfo.h"
#include "proc/procmem.h"
#include "runtime/go/goelf_int.h"
#include "runtime/go/goinspect.h"

void go_proc_read_err(const struct go_proc *p, int rc, char *err, size_t errlen)
{
	if (rc == -ESRCH)
		goelf_err(err, errlen, "PID %d (%s) exited while rtmon read it", p->pid, p->comm);
	else if (rc == -EPERM || rc == -EACCES)
		goelf_err(err, errlen, "cannot read the memory of PID %d (%s): %s%s", p->pid,
			  p->comm, strerror(-rc), proc_denied_hint());
	else
		goelf_err(err, errlen,
			  "cannot read the memory of PID %d (%s): %s (its runtime structures are "
			  "not where rtmon expects them)",
			  p->pid, p->comm, strerror(-rc));
}

/* An [n]string table of the runtime, copied out of the process. */
static int read_names(struct go_proc *p, uint64_t addr, int n, char (**out)[GO_NAME_MAX], char *err,
		      size_t errlen)
{
	uint64_t *hdr = calloc((size_t)n, 16);
	char(*names)[GO_NAME_MAX] = calloc((size_t)n, GO_NAME_MAX);
	int rc =
		hdr && names ? proc_mem_read(p->pid, addr + p->bias, hdr, (size_t)n * 16) : -ENOMEM;

	for (int i = 0; !rc && i < n; i++) {
		uint64_t len = hdr[2 * i + 1] < GO_NAME_MAX - 1 ? hdr[2 * i + 1] : GO_NAME_MAX - 1;

		if (len)
			rc = proc_mem_read(p->pid, hdr[2 * i], names[i], len);
	}
	free(hdr);
	if (rc) {
		free(names);
		go_proc_read_err(p, rc, err, errlen);
		return rc;
	}
	*out = names;
	return 0;
}

static int load_bias(struct go_proc *p, char *err, size_t errlen)
{
	uint64_t lo = UINT64_MAX, start;
	struct stat sb;
	int rc;

	if (p->st->ge.of.ehdr.e_type != ET_DYN)
		return 0;
	for (size_t i = 0; i < p->st->ge.nsegs; i++)
		if (p->st->ge.segs[i].off == 0 && p->st->ge.segs[i].vaddr < lo)
			lo = p->st->ge.segs[i].vaddr;
	if (lo == UINT64_MAX || stat(p->exe, &sb) ||
	    (rc = proc_file_mapping_start(p->pid, sb.st_dev, sb.st_ino, &start))) {
		goelf_err(err, errlen, "PID %d (%s): its executable is not in /proc/%d/maps",
			  p->pid, p->comm, p->pid);
		return -ENOENT;
	}
	p->bias = start - (lo & ~0xfffULL);
	return 0;
}

int go_proc_open(pid_t pid, struct go_proc *p, char *err, size_t errlen)
{
	struct proc_stat ps;
	char why[512];
	int rc;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	rc = proc_read_stat(pid, &ps);
	if (rc) {
		goelf_err(err, errlen,
			  rc == -ENOENT ? "no process with PID %d: check the PID with rtmon ps"
					: "cannot read /proc/%d/stat",
			  pid);
		return rc;
	}
	snprintf(p->comm, sizeof(p->comm), "%s", ps.comm);
	snprintf(p->exe, sizeof(p->exe), "/proc/%d/exe", pid);
	rc = go_read_buildinfo(p->exe, &p->gi, why, sizeof(why));
	if (rc == -EACCES || rc == -EPERM) {
		goelf_err(err, errlen, "cannot open the executable of PID %d (%s): %s%s", pid,
			  p->comm, strerror(-rc), proc_denied_hint());
		return rc;
	}
	if (rc) {
		goelf_err(err, errlen, "PID %d (%s) is not a Go program: %s", pid, p->comm,
			  ps.kthread ? "a kernel thread" : why);
		return -ENOEXEC;
	}
	rc = go_symtab_open(p->exe, &p->st, err, errlen);
	if (!rc)
		rc = go_layout_get(p->exe, &p->gi, &p->lay, err, errlen);
	if (!rc)
		rc = go_globals_find(p->st, &p->glob, err, errlen);
	if (!rc)
		rc = load_bias(p, err, errlen);
	if (!rc)
		rc = read_names(p, p->glob.gstatus_strings, p->glob.ngstatus, &p->gstatus, err,
				errlen);
	if (!rc)
		rc = read_names(p, p->glob.wait_reason_strings, p->glob.nwait_reasons,
				&p->wait_reasons, err, errlen);
	if (rc)
		go_proc_close(p);
	return rc;
}

void go_proc_close(struct go_proc *p)
{
	if (p->st)
		go_symtab_close(p->st);
	free(p->gstatus);
	free(p->wait_reasons);
	p->st = NULL;
	p->gstatus = p->wait_reasons = NULL;
}

const char *go_status_name(const struct go_proc *p, uint32_t status)
{
	return status < (uint32_t)p->glob.ngstatus ? p->gstatus[status] : "???";
}

const char *go_wait_reason_name(const struct go_proc *p, uint8_t reason)
{
	return reason < p->glob.nwait_reasons ? p->wait_reasons[reason] : "???";
}
