#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include "http/mhd.h"
#include "http/server.h"

/* The library, loaded by the first http_serve (http/mhd.h). */
static const struct mhd_api *mhd;

/* Connections served at once and how long an idle one is kept: a scraper needs one or two. */
#define MAX_CONNECTIONS 64
#define IDLE_TIMEOUT_S  10

/* A worker's copy of the request's headers and query: the connection is suspended meanwhile, and
 * libmicrohttpd's connection is touched only by its own thread. */
struct http_kv {
	enum MHD_ValueKind kind;
	char *key, *value;
};

struct http_request {
	struct MHD_Connection *c; /* NULL in a worker: kv instead */
	struct http_kv *kv;
	size_t nkv, cap;
	atomic_bool *cancelled;
};

struct http_server {
	struct MHD_Daemon *d;
	const struct http_route *routes;
	size_t n;
	int fd;
	unsigned long long served; /* only the server's thread writes it */
	pthread_mutex_t lock;      /* workers and its condition */
	pthread_cond_t idle;
	int workers;
	atomic_bool stopping;
};

/* A worker route's request: *con_cls while its connection is suspended. */
struct worker_job {
	struct http_server *s;
	const struct http_route *route;
	struct MHD_Connection *c;
	struct http_request rq;
	struct http_reply rp;
};

static const char *kv_find(const struct http_request *rq, enum MHD_ValueKind kind, const char *key)
{
	for (size_t i = 0; i < rq->nkv; i++)
		if (rq->kv[i].kind == kind &&
		    (kind == MHD_HEADER_KIND ? !strcasecmp(rq->kv[i].key, key)
					     : !strcmp(rq->kv[i].key, key)))
			return rq->kv[i].value;
	return NULL;
}

const char *http_header(const struct http_request *rq, const char *name)
{
	if (!rq->c)
		return kv_find(rq, MHD_HEADER_KIND, name);
	return mhd->lookup_connection_value(rq->c, MHD_HEADER_KIND, name);
}

const char *http_query(const struct http_request *rq, const char *name)
{
	if (!rq->c)
		return kv_find(rq, MHD_GET_ARGUMENT_KIND, name);
	return mhd->lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, name);
}

bool http_request_cancelled(const struct http_request *rq)
{
	return rq->cancelled && atomic_load(rq->cancelled);
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

static enum MHD_Result queue(struct MHD_Connection *c, struct http_reply *rp, const char *allow)
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

static enum MHD_Result copy_kv(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	struct http_request *rq = cls;
	struct http_kv *kv;

	if (rq->nkv == rq->cap) {
		size_t cap = rq->cap ? rq->cap * 2 : 16;

		kv = realloc(rq->kv, cap * sizeof(*kv));
		if (!kv)
			return MHD_NO;
		rq->kv = kv;
		rq->cap = cap;
	}
	kv = &rq->kv[rq->nkv];
	kv->kind = kind;
	kv->key = strdup(key);
	kv->value = strdup(value ? value : "");
	if (!kv->key || !kv->value) {
		free(kv->key);
		free(kv->value);
		return MHD_NO;
	}
	rq->nkv++;
	return MHD_YES;
}

static void job_free(struct worker_job *job)
{
	for (size_t i = 0; i < job->rq.nkv; i++) {
		free(job->rq.kv[i].key);
		free(job->rq.kv[i].value);
	}
	free(job->rq.kv);
	free(job->rp.body);
	free(job);
}

static void *run_job(void *arg)
{
	struct worker_job *job = arg;
	struct http_server *s = job->s;

	if (job->route->fn(job->route->ctx, &job->rq, &job->rp) &&
	    http_reply_text(&job->rp, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory")) {
		job->rp.body = NULL;
		job->rp.len = 0;
	}
	/* from here on the job is the server thread's: it queues the reply and frees it */
	mhd->resume_connection(job->c);
	pthread_mutex_lock(&s->lock);
	s->workers--;
	pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* A worker route: the connection waits suspended while a thread of its own fills the reply. */
static enum MHD_Result start_job(struct http_server *s, const struct http_route *route,
				 struct MHD_Connection *c, void **con_cls)
{
	struct http_reply rp = { .status = 200 };
	struct worker_job *job;
	pthread_attr_t attr;
	pthread_t th;
	char line[160];
	bool busy;

	pthread_mutex_lock(&s->lock);
	busy = s->workers >= HTTP_MAX_WORKERS || atomic_load(&s->stopping);
	if (!busy)
		s->workers++;
	pthread_mutex_unlock(&s->lock);
	if (busy) {
		snprintf(line, sizeof(line),
			 "busy: %d profiles are being taken; ask again when one is done",
			 HTTP_MAX_WORKERS);
		if (http_reply_text(&rp, MHD_HTTP_SERVICE_UNAVAILABLE, line))
			return MHD_NO;
		return queue(c, &rp, NULL);
	}
	job = calloc(1, sizeof(*job));
	if (job) {
		*job = (struct worker_job){ .s = s, .route = route, .c = c };
		job->rp.status = 200;
		job->rq.cancelled = &s->stopping;
		mhd->get_connection_values(c, MHD_HEADER_KIND | MHD_GET_ARGUMENT_KIND, copy_kv,
					   &job->rq);
	}
	if (job && !pthread_attr_init(&attr)) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		*con_cls = job;
		mhd->suspend_connection(c);
		if (!pthread_create(&th, &attr, run_job, job)) {
			pthread_attr_destroy(&attr);
			return MHD_YES;
		}
		pthread_attr_destroy(&attr);
		/* no thread: the next call, once resumed, answers this */
		http_reply_text(&job->rp, MHD_HTTP_SERVICE_UNAVAILABLE,
				"busy: no thread could be started for this request; ask again");
		mhd->resume_connection(c);
	} else if (job) {
		job_free(job);
		job = NULL;
	}
	pthread_mutex_lock(&s->lock);
	s->workers--;
	pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
	return job ? MHD_YES : MHD_NO;
}

/* A connection closed before its worker's reply was queued. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	if (*con_cls)
		job_free(*con_cls);
	*con_cls = NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct http_server *s = cls;
	struct http_request rq = { .c = c };
	struct http_reply rp = { .status = 200 };
	const struct http_route *route = NULL;
	struct worker_job *job = *con_cls;
	char line[160];

	(void)version;
	(void)upload;
	(void)upload_size;
	if (job) { /* resumed: the worker's reply */
		*con_cls = NULL;
		rp = job->rp;
		job->rp.body = NULL; /* queue() owns it now */
		job_free(job);
		return queue(c, &rp, NULL);
	}
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
		return queue(c, &rp, NULL);
	}
	/* every endpoint only reads */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		snprintf(line, sizeof(line), "method not allowed: %s answers GET and HEAD only",
			 route->path);
		if (http_reply_text(&rp, MHD_HTTP_METHOD_NOT_ALLOWED, line))
			return MHD_NO;
		return queue(c, &rp, "GET, HEAD");
	}
	if (route->worker)
		return start_job(s, route, c, con_cls);
	if (route->fn(route->ctx, &rq, &rp) &&
	    http_reply_text(&rp, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory"))
		return MHD_NO;
	return queue(c, &rp, NULL);
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
	struct http_server *s;

	mhd = mhd_load(err, errlen);
	if (!mhd)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "cannot start the HTTP server: %s", strerror(ENOMEM));
		return NULL;
	}
	s->routes = routes;
	s->n = n;
	s->fd = fd;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	/* One thread of its own polls every connection: a scrape never waits for the event loop,
	 * and the loop never waits for a scrape. */
	s->d = mhd->start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME, 0, NULL,
		NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S, MHD_OPTION_END);
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
	/* suspended connections must be resumed before libmicrohttpd stops: the workers see
	 * stopping, answer with what they have, and resume theirs */
	atomic_store(&s->stopping, true);
	pthread_mutex_lock(&s->lock);
	while (s->workers > 0)
		pthread_cond_wait(&s->idle, &s->lock);
	pthread_mutex_unlock(&s->lock);
	mhd->stop_daemon(s->d);
	close(s->fd);
	if (served)
		*served = s->served;
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
