#include <stdio.h>
#include "commands/serve_pprof.h"

int serve_pprof_missing(void *ctx, const struct http_request *rq, struct http_reply *rp)
{
	char line[256];

	(void)rq;
	snprintf(line, sizeof(line), "not implemented: this profile needs %s, not built yet",
		 (const char *)ctx);
	return http_reply_text(rp, 501, line);
}
