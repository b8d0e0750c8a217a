/* rtmon serve's GET /metrics: the published snapshots of every traced process, each family's
 * samples together under its HELP and TYPE, and rtmon's own process, in the Prometheus text
 * format or OpenMetrics (docs/serve.md lists the families). */
#ifndef RTMON_SERVE_METRICS_H
#define RTMON_SERVE_METRICS_H

#include "commands/serve_board.h"
#include "http/server.h"

struct serve_metrics {
	struct serve_board *board;
};

/* An http_handler; ctx is a struct serve_metrics. */
int serve_metrics_handler(void *ctx, const struct http_request *rq, struct http_reply *rp);

#endif
