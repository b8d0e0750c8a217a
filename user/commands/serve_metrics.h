/* rtmon serve's GET /metrics: the collectors' snapshot and rtmon's own process, in the Prometheus
 * text format or OpenMetrics (docs/serve.md lists the families). */
#ifndef RTMON_SERVE_METRICS_H
#define RTMON_SERVE_METRICS_H

#include "commands/serve_collect.h"
#include "http/server.h"

struct serve_metrics {
	struct serve_collect *c;
	const char *labels; /* pid, exe, runtime: from prom_labels */
};

/* An http_handler; ctx is a struct serve_metrics. */
int serve_metrics_handler(void *ctx, const struct http_request *rq, struct http_reply *rp);

#endif
