/* rtmon serve's HTTP server: libmicrohttpd in its own thread, read-only routes. Each path is one
 * struct http_route whose handler fills a reply (user/commands/serve_*.c); this file answers what
 * no handler takes: 404 for an unknown path, 405 for a method other than GET or HEAD, each with a
 * one-line body. */
#ifndef RTMON_HTTP_SERVER_H
#define RTMON_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

struct http_request; /* opaque: read it with http_header and http_query */

/* A header's value (e.g. "Accept"), or NULL. */
const char *http_header(const struct http_request *rq, const char *name);
/* A query parameter's value ("seconds" of ?seconds=5), or NULL. */
const char *http_query(const struct http_request *rq, const char *name);
/* A worker route's handler polls this while it waits (a CPU profile's seconds): true once the
 * server is stopping, when it should answer at once with what it has. */
bool http_request_cancelled(const struct http_request *rq);

struct http_reply {
	unsigned status;          /* 200 unless the handler says otherwise */
	const char *content_type; /* NULL: text/plain; charset=utf-8 */
	char *body;               /* malloc'd; the server frees it */
	size_t len;
};

/* Fills the reply; runs on the server's thread (a worker route's: on its own thread). Returns 0, or
 * -1 when out of memory (500). */
typedef int (*http_handler)(void *ctx, const struct http_request *rq, struct http_reply *rp);

struct http_route {
	const char *path; /* exact match */
	http_handler fn;
	void *ctx;
	/* The handler takes long (seconds of sampling, a process's memory read): it runs on a
	 * thread of its own while the connection waits suspended, so that other scrapes are
	 * answered meanwhile. At most HTTP_MAX_WORKERS at once; past that, 503. */
	bool worker;
};

#define HTTP_MAX_WORKERS 4

/* Sets rp to status with a one-line text body (a newline is added). 0 or -1. */
int http_reply_text(struct http_reply *rp, unsigned status, const char *line);

struct http_server;

/* Binds a listening socket on addr ("ADDR:PORT", "[V6ADDR]:PORT", or ":PORT" and "PORT" for
 * 127.0.0.1), before anything is served: a port in use is found early. bound gets the address
 * bound as ADDR:PORT (port 0 picks a free one). 0; -EINVAL when addr is malformed, or -errno from
 * the socket calls, each with one line in err. */
int http_listen(const char *addr, int *fd_out, char *bound, size_t boundlen, char *err,
		size_t errlen);

/* Starts serving routes (kept by pointer, n of them) on the socket from http_listen, in a thread of
 * its own. NULL with one line in err. */
struct http_server *http_serve(int fd, const struct http_route *routes, size_t n, char *err,
			       size_t errlen);

/* Stops the thread (after the worker routes still running answered: they see
 * http_request_cancelled), closes the socket; requests answered so far in *served. */
void http_stop(struct http_server *s, unsigned long long *served);

#endif
