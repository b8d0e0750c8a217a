/* rtmon serve's /debug/pprof/ paths (Go's net/http/pprof names). Each will be answered by the
 * stack and Go-inspection collectors (issues 12 and 13); until they exist, each path answers 501
 * with a line naming what is missing. */
#ifndef RTMON_SERVE_PPROF_H
#define RTMON_SERVE_PPROF_H

#include "http/server.h"

/* An http_handler: ctx is the missing feature, as a string. */
int serve_pprof_missing(void *ctx, const struct http_request *rq, struct http_reply *rp);

#endif
