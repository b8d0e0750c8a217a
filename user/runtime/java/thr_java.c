/* Java thread names and ids for rtmon thr (user/runtime/java/thr_java.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "runtime/runtime_id.h"
#include "runtime/java/thr_java.h"
#include "output/target_report.h"

void thr_java_open(struct thr_java *j, const char *cmd, const struct target *t)
{
	struct runtime_id id;
	char err[512];

	memset(j, 0, sizeof(*j));
	/* A held -- CMD child is still rtmon's fork: read the file's own layout, not the maps. */
	if (runtime_identify(t->exe, t->kind == TARGET_PID ? t->pid : 0, &id, err, sizeof(err)) ||
	    id.kind != RUNTIME_JAVA)
		return;
	if (!usdt_probe_exists(id.lib, "hotspot", "thread__start") ||
	    !usdt_probe_exists(id.lib, "hotspot", "thread__stop")) {
		char who[64];

		snprintf(who, sizeof(who), "rtmon %s", cmd);
		report_error(who,
			     "note: %s has no hotspot:thread__start/stop probes: Java threads are "
			     "shown without their Java names and ids",
			     id.lib);
		return;
	}
	snprintf(j->lib, sizeof(j->lib), "%s", id.lib);
	snprintf(j->version, sizeof(j->version), "%s", id.version);
	j->active = true;
}

void thr_java_prepare(const struct thr_java *j, struct bpf_program *start, struct bpf_program *stop)
{
	bpf_program__set_autoload(start, j->active);
	bpf_program__set_autoload(stop, j->active);
}

int thr_java_attach(struct thr_java *j, struct bpf_program *start, struct bpf_program *stop,
		    const struct target *t, char *err, size_t errlen)
{
	struct bpf_program *progs[2] = { start, stop };
	static const char *const names[2] = { "thread__start", "thread__stop" };
	pid_t pid = target_probe_pid(t);

	for (int i = 0; j->active && i < 2; i++) {
		j->links[i] =
			bpf_program__attach_usdt(progs[i], pid, j->lib, "hotspot", names[i], NULL);
		if (!j->links[i]) {
			int rc = -errno;

			snprintf(err, errlen,
				 "cannot attach to the USDT probe hotspot:%s in %s: %s", names[i],
				 j->lib, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

void thr_java_close(struct thr_java *j)
{
	for (int i = 0; i < 2; i++) {
		bpf_link__destroy(j->links[i]);
		j->links[i] = NULL;
	}
}
