#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "http/mhd.h"
#include "http/server.h"

/* Connections served at once and how long an idle one is kept: a scraper needs one or two. */
#define MAX_CONNECTIONS 64
#define IDLE_TIMEOUT_S  10

struct http_request {
	const struct mhd_api *mhd;
	struct MHD_Connection *c;
};

struct http_server {
	const struct mhd_api *mhd;
	struct MHD_Daemon *d;
	const struct http_route *routes;
	size_t n;
	int fd;
	unsigned long long served; /* only the server's thread writes it */
};

const char *http_header(const struct http_request *rq, const char *name)
{
	return rq->mhd->lookup_connection_value(rq->c, MHD_HEADER_KIND, name);
}

const char *http_query(const struct http_request *rq, const char *name)
{
	return rq->mhd->lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, name);
}

int http_reply_text(struct http_reply *rp, unsigned status, const char *line)
{
	free(rp->body);
	rp->status = status;
	rp->content_type = NULL;
	rp->len = 0;
	if (asprintf(&rp->body, "%s\n", line) < 0) {
		rp->body = NULL;
		return -1;
	}
	rp->len = strlen(rp->body);
	return 0;
}

static enum MHD_Result queue(const struct mhd_api *mhd, struct MHD_Connection *c,
			     struct http_reply *rp, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ok;

	r = mhd->create_response_from_buffer(rp->len, rp->body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(rp->body);
		return MHD_NO;
	}
	mhd->add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				 rp->content_type ? rp->content_type : "text/plain; charset=utf-8");
	if (allow)
		mhd->add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ok = mhd->queue_response(c, rp->status, r);
	mhd->destroy_response(r);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct http_server *s = cls;
	struct http_request rq = { s->mhd, c };
	struct http_reply rp = { .status = 200 };
	const struct http_route *route = NULL;
	char line[160];

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)con_cls;
	s->served++;
	for (size_t i = 0; i < s->n && !route; i++)
		if (!strcmp(url, s->routes[i].path))
			route = &s->routes[i];
	if (!route) {
		/* the path is the client's: only its length is bounded here, it is not echoed */
		if (http_reply_text(
			    &rp, MHD_HTTP_NOT_FOUND,
			    "not found: rtmon serve answers /metrics (and /debug/pprof/...)"))
			return MHD_NO;
		return queue(s->mhd, c, &rp, NULL);
	}
	/* every endpoint only reads */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		snprintf(line, sizeof(line), "method not allowed: %s answers GET and HEAD only",
			 route->path);
		if (http_reply_text(&rp, MHD_HTTP_METHOD_NOT_ALLOWED, line))
			return MHD_NO;
		return queue(s->mhd, c, &rp, "GET, HEAD");
	}
	if (route->fn(route->ctx, &rq, &rp) &&
	    http_reply_text(&rp, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory"))
		return MHD_NO;
	return queue(s->mhd, c, &rp, NULL);
}

/* "ADDR:PORT" split into host and port; 127.0.0.1 when ADDR is left out. */
static int split_addr(const char *addr, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon = strrchr(addr, ':'), *p, *h = addr;
	size_t hl;

	if (!colon) /* a port alone */
		colon = addr - 1;
	p = colon + 1;
	if (!*p || strlen(p) >= portlen || strspn(p, "0123456789") != strlen(p) || atol(p) > 65535)
		return -EINVAL;
	hl = colon > addr ? (size_t)(colon - addr) : 0;
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl >= hostlen)
		return -EINVAL;
	if (!hl)
		snprintf(host, hostlen, "127.0.0.1");
	else
		snprintf(host, hostlen, "%.*s", (int)hl, h);
	snprintf(port, portlen, "%s", p);
	return 0;
}

static void name_bound(int fd, char *bound, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char h[INET6_ADDRSTRLEN], p[8];

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) ||
	    getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), p, sizeof(p),
			NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(bound, len, "?");
		return;
	}
	snprintf(bound, len, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h, p);
}

int http_listen(const char *addr, int *fd_out, char *bound, size_t boundlen, char *err,
		size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai;
	char host[256], port[8];
	int fd, one = 1, rc;

	if (split_addr(addr, host, sizeof(host), port, sizeof(port))) {
		snprintf(err, errlen,
			 "bad --listen address '%.200s': give ADDR:PORT, e.g. 127.0.0.1:9477",
			 addr);
		return -EINVAL;
	}
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "bad --listen address '%.200s': %s", addr, gai_strerror(rc));
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64)) {
		rc = -errno;
		snprintf(err, errlen, "cannot listen on %.200s: %s%s", addr, strerror(-rc),
			 rc == -EADDRINUSE ? "; give another port with --listen ADDR:PORT" : "");
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return rc;
	}
	freeaddrinfo(ai);
	name_bound(fd, bound, boundlen);
	*fd_out = fd;
	return 0;
}

struct http_server *http_serve(int fd, const struct http_route *routes, size_t n, char *err,
			       size_t errlen)
{
	const struct mhd_api *mhd = mhd_load(err, errlen);
	struct http_server *s;

	if (!mhd)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "cannot start the HTTP server: %s", strerror(ENOMEM));
		return NULL;
	}
	s->mhd = mhd;
	s->routes = routes;
	s->n = n;
	s->fd = fd;
	/* One thread of its own polls every connection: a scrape never waits for the event loop,
	 * and the loop never waits for a scrape. */
	s->d = s->mhd->start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL,
				    on_request, s, MHD_OPTION_LISTEN_SOCKET, fd,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
				    MHD_OPTION_END);
	if (!s->d) {
		snprintf(err, errlen, "cannot start the HTTP server (libmicrohttpd)");
		free(s);
		return NULL;
	}
	return s;
}

void http_stop(struct http_server *s, unsigned long long *served)
{
	if (!s)
		return;
	s->mhd->stop_daemon(s->d);
	close(s->fd);
	if (served)
		*served = s->served;
	free(s);
}
