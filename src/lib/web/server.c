/* The HTTP server of the station page: libmicrohttpd, one thread per connection.
 *
 * Why a thread per connection: an event stream is a response whose reader waits for the
 * next event; on its own thread that wait is a plain condition-variable wait with a
 * keep-alive timeout, and a slow browser holds up nobody else. A station has a handful of
 * screens looking at it, so the thread count stays small (max_connections bounds it); the
 * alternative, one polling thread with suspend/resume of each stream, needs a wake-up path
 * from every event into the daemon for no gain at this size.
 *
 * What the server does with outside input: the request line and headers are bounded by
 * libmicrohttpd's per-connection memory limit, the path by PV_WEB_URL_MAX (route.c), bodies
 * by BODY_MAX (no route reads one); names in the URL are checked by pv_web_route before a
 * source sees them; responses carry the source's JSON as it is (jansson escapes it) and the
 * page shows every string as text. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "piprov/error.h"
#include "piprov/inventory_export.h"
#include "piprov/text.h"
#include "piprov/web.h"

#include "internal.h"
#include "web_internal.h"

#include "banned.h"

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define DEFAULT_MAX_CONNECTIONS 64
#define DEFAULT_KEEPALIVE_S 15
/* No route takes a body; a POST may still send a small one (some clients send "{}"). */
#define BODY_MAX 4096
/* Request line + headers of one connection (libmicrohttpd answers 431/414 beyond). */
#define CONNECTION_MEMORY 16384
/* An idle keep-alive connection is closed after this. Streams send keep-alives sooner. */
#define IDLE_TIMEOUT_S 60
/* What a source op may append: an inventory of 100,000 boards as JSON is ~60 MiB. */
#define SNAPSHOT_MAX (16u << 20)
#define INVENTORY_MAX (256u << 20)
/* Bytes waiting for one event stream; a browser that falls this far behind is disconnected
 * and reconnects to a fresh snapshot (EventSource does so by itself after `retry`). */
#define STREAM_QUEUE_MAX (8u << 20)
#define STREAM_RETRY_MS 2000

struct event_stream {
	struct pv_web_server *server;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct pv_buf queue;     /* framed bytes not yet handed to libmicrohttpd */
	size_t sent;             /* bytes of queue already handed over */
	bool closed;             /* the server is stopping */
	bool overflowed;         /* the queue filled up: end the stream */
	bool subscribed;
	uint64_t subscription;
	struct event_stream *prev, *next;
};

struct pv_web_server {
	struct MHD_Daemon *daemon;
	struct pv_web_source source;
	char token[PV_WEB_TOKEN_MAX];
	bool has_token;
	bool loopback;           /* bound to a loopback address: Host must name it */
	unsigned port;
	unsigned keepalive_ms;
	unsigned max_streams;

	pthread_mutex_t lock;    /* streams, stream_count, stopping */
	struct event_stream *streams;
	unsigned stream_count;
	bool stopping;
};

struct request {
	size_t body;             /* bytes of body seen (and dropped) */
	bool answered;           /* a response is queued already (413) */
};

/* ---- responses ---- */

static void add_common_headers(struct MHD_Response *response)
{
	MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(response, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(response, "X-Frame-Options", "DENY");
	MHD_add_response_header(response, "Cross-Origin-Resource-Policy", "same-origin");
}

/* Queues `response` (taking it) with `status`. */
static enum MHD_Result queue(struct MHD_Connection *conn, unsigned status,
			     struct MHD_Response *response)
{
	enum MHD_Result ret;

	if (!response)
		return MHD_NO;
	add_common_headers(response);
	ret = MHD_queue_response(conn, status, response);
	MHD_destroy_response(response);
	return ret;
}

/* A response owning body's bytes (body is emptied). */
static struct MHD_Response *response_from_buf(struct pv_buf *body, const char *content_type)
{
	struct MHD_Response *response;
	size_t len = 0;
	unsigned char *data = pv_buf_detach(body, &len);

	response = MHD_create_response_from_buffer_with_free_callback(len, data ? data : (void *)"",
								      data ? free : NULL);
	if (!response) {
		free(data);
		return NULL;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return response;
}

static enum MHD_Result reply_json(struct MHD_Connection *conn, unsigned status,
				  struct pv_buf *body)
{
	return queue(conn, status, response_from_buf(body, "application/json"));
}

/* A JSON value of ours (taken; NULL = allocation failed) as a response body. */
static struct MHD_Response *response_from_json(json_t *value)
{
	struct pv_buf body = PV_BUF_INIT(SIZE_MAX);
	char *text = value ? json_dumps(value, JSON_COMPACT) : NULL;
	int rc = text ? pv_buf_append_str(&body, text) : PV_ERR_NOMEM;

	json_decref(value);
	free(text);
	if (rc) {
		pv_buf_release(&body);
		return NULL;
	}
	return response_from_buf(&body, "application/json");
}

/* {"error": message, "status": N}; `allow` adds the Allow header of a 405, `bearer` the
 * WWW-Authenticate challenge of a 401. */
static enum MHD_Result reply_error_with(struct MHD_Connection *conn, unsigned status,
					const char *message, const char *allow, bool bearer)
{
	struct MHD_Response *response = response_from_json(
		json_pack("{s:s, s:i}", "error", message, "status", (int)status));

	if (!response)
		return MHD_NO;
	if (allow)
		MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, allow);
	if (bearer)
		MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"piprov\"");
	return queue(conn, status, response);
}

static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status,
				   const char *message)
{
	return reply_error_with(conn, status, message, NULL, false);
}

/* The detail a source recorded with pv_fail, else the status's own text (on_request
 * clears the detail before any op runs, so it is never an older request's). */
static const char *source_message(int rc)
{
	const char *detail = pv_last_error();

	return strcmp(detail, pv_strerror(PV_OK)) == 0 ? pv_strerror(rc) : detail;
}

/* A source's failure as an HTTP status, with its recorded detail as the message. */
static enum MHD_Result reply_status(struct MHD_Connection *conn, int rc)
{
	unsigned status;

	switch (rc) {
	case PV_ERR_NOT_FOUND:
	case PV_ERR_INVALID:
		status = 404;
		break;
	case PV_ERR_CONFLICT:
		status = 409;
		break;
	case PV_ERR_UNSUPPORTED:
		status = 501;
		break;
	case PV_ERR_BUSY:
		status = 503;
		break;
	default:
		status = 500;
		break;
	}
	return reply_error(conn, status, source_message(rc));
}

/* ---- the page ---- */

/* No inline script or style, nothing from elsewhere: even a string that slipped past the
 * page's escaping could not run. */
#define PAGE_POLICY                                                                          \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "    \
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

static enum MHD_Result serve_asset(struct MHD_Connection *conn, const char *name)
{
	const struct pv_web_asset *asset = pv_web_asset_find(name);
	struct MHD_Response *response;

	if (!asset)
		return reply_error(conn, 404, "no such page");
	response = MHD_create_response_from_buffer(asset->size, (void *)asset->data,
						   MHD_RESPMEM_PERSISTENT);
	if (!response)
		return MHD_NO;
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, asset->content_type);
	/* The assets change only with the binary: revalidating each load costs nothing here. */
	MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(response, "Content-Security-Policy", PAGE_POLICY);
	return queue(conn, 200, response);
}

/* ---- event streams ---- */

static void stream_free(struct event_stream *st)
{
	pv_buf_release(&st->queue);
	pthread_cond_destroy(&st->wake);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

/* The source's callback: frame the event into this stream's queue. Never blocks on the
 * browser: a full queue marks the stream for closing instead. */
static void stream_on_event(void *user, const char *json, size_t len)
{
	struct event_stream *st = user;
	size_t before;

	pthread_mutex_lock(&st->lock);
	if (!st->closed && !st->overflowed) {
		before = st->queue.len;
		if (pv_web_sse_frame(&st->queue, NULL, json, len) != PV_OK) {
			pv_buf_truncate(&st->queue, before);
			st->overflowed = true;
			pv_log(PV_LOG_WARN, "web", "an event stream fell %zu bytes behind; closed",
			       before);
		}
		pthread_cond_signal(&st->wake);
	}
	pthread_mutex_unlock(&st->lock);
}

static void deadline_after(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* libmicrohttpd asks for the next bytes of the stream; on this connection's own thread, so
 * waiting here holds up no other connection. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	static const char keepalive[] = ": keep-alive\n\n";
	struct event_stream *st = cls;
	struct timespec deadline;
	size_t n;

	(void)pos;
	deadline_after(&deadline, st->server->keepalive_ms);
	pthread_mutex_lock(&st->lock);
	while (st->sent == st->queue.len && !st->closed && !st->overflowed) {
		if (pthread_cond_timedwait(&st->wake, &st->lock, &deadline) == ETIMEDOUT) {
			/* Also how a browser that went away is noticed: this write fails. */
			if (st->sent == st->queue.len &&
			    pv_buf_append(&st->queue, keepalive, sizeof(keepalive) - 1) != PV_OK)
				st->overflowed = true;
			break;
		}
	}
	if (st->closed || st->overflowed) {
		pthread_mutex_unlock(&st->lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	n = st->queue.len - st->sent;
	if (n > max)
		n = max;
	memcpy(out, st->queue.data + st->sent, n);
	st->sent += n;
	if (st->sent == st->queue.len) {
		pv_buf_reset(&st->queue);
		st->sent = 0;
	}
	pthread_mutex_unlock(&st->lock);
	return (ssize_t)n;
}

static void stream_unlink(struct event_stream *st)
{
	struct pv_web_server *srv = st->server;

	pthread_mutex_lock(&srv->lock);
	if (st->prev)
		st->prev->next = st->next;
	else
		srv->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	srv->stream_count--;
	pthread_mutex_unlock(&srv->lock);
}

/* The response is done with (browser gone, stream ended or server stopping). */
static void stream_done(void *cls)
{
	struct event_stream *st = cls;
	struct pv_web_server *srv = st->server;

	/* Not under st->lock: the source calls stream_on_event with its own lock held. */
	if (st->subscribed)
		srv->source.ops->unsubscribe(srv->source.ctx, st->subscription);
	stream_unlink(st);
	stream_free(st);
}

/* Subscribe first, then the snapshot, so nothing falls between them; the snapshot goes out
 * first, followed by whatever arrived meanwhile (board objects apply idempotently). */
static enum MHD_Result serve_events(struct pv_web_server *srv, struct MHD_Connection *conn,
				    bool head)
{
	struct pv_buf snapshot = PV_BUF_INIT(SNAPSHOT_MAX);
	struct pv_buf framed = PV_BUF_INIT(STREAM_QUEUE_MAX);
	struct MHD_Response *response;
	struct event_stream *st;
	int rc;

	if (head) {
		response = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		if (!response)
			return MHD_NO;
		MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
		return queue(conn, 200, response);
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return reply_error(conn, 500, "out of memory");
	st->server = srv;
	pv_buf_init(&st->queue, STREAM_QUEUE_MAX);
	pthread_mutex_init(&st->lock, NULL);
	{
		pthread_condattr_t attr;

		pthread_condattr_init(&attr);
		pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		pthread_cond_init(&st->wake, &attr);
		pthread_condattr_destroy(&attr);
	}

	pthread_mutex_lock(&srv->lock);
	if (srv->stopping || srv->stream_count >= srv->max_streams) {
		bool stopping = srv->stopping;

		pthread_mutex_unlock(&srv->lock);
		stream_free(st);
		return reply_error(conn, 503,
				   stopping ? "the station is stopping" : "too many event streams");
	}
	st->next = srv->streams;
	if (srv->streams)
		srv->streams->prev = st;
	srv->streams = st;
	srv->stream_count++;
	pthread_mutex_unlock(&srv->lock);

	rc = srv->source.ops->subscribe(srv->source.ctx, stream_on_event, st, &st->subscription);
	if (rc)
		goto out_unlink;
	st->subscribed = true;
	rc = srv->source.ops->snapshot(srv->source.ctx, &snapshot);
	if (rc)
		goto out_unsubscribe;
	rc = pv_buf_appendf(&framed, "retry: %u\n\n", STREAM_RETRY_MS);
	if (!rc)
		rc = pv_web_sse_frame(&framed, "snapshot", pv_buf_str(&snapshot), snapshot.len);
	if (rc)
		goto out_unsubscribe;
	pthread_mutex_lock(&st->lock);
	rc = pv_buf_append(&framed, st->queue.data, st->queue.len);
	if (!rc) {
		pv_buf_release(&st->queue);
		st->queue = framed;
		pv_buf_init(&framed, STREAM_QUEUE_MAX);
	}
	pthread_mutex_unlock(&st->lock);
	if (rc)
		goto out_unsubscribe;
	pv_buf_release(&snapshot);

	response = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, st,
						     stream_done);
	if (!response) {
		stream_done(st);
		return MHD_NO;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	/* Reverse proxies (nginx) would otherwise hold events back. */
	MHD_add_response_header(response, "X-Accel-Buffering", "no");
	return queue(conn, 200, response);

out_unsubscribe:
	srv->source.ops->unsubscribe(srv->source.ctx, st->subscription);
out_unlink:
	pv_buf_release(&framed);
	pv_buf_release(&snapshot);
	stream_unlink(st);
	stream_free(st);
	return reply_status(conn, rc);
}

/* ---- the API ---- */

static const char *export_extension(const char *format)
{
	static const char *const ext[][2] = {
		{ "csv", "csv" },      { "json", "json" },     { "kea", "json" },
		{ "tinkerbell", "yaml" }, { "ansible", "ini" }, { "dnsmasq", "conf" },
	};
	size_t i;

	for (i = 0; i < PV_ARRAY_SIZE(ext); i++)
		if (strcmp(format, ext[i][0]) == 0)
			return ext[i][1];
	return "txt";
}

static enum MHD_Result serve_export(struct pv_web_server *srv, struct MHD_Connection *conn,
				    const char *format)
{
	struct pv_buf body = PV_BUF_INIT(INVENTORY_MAX);
	const char *content_type = "text/plain; charset=utf-8";
	struct MHD_Response *response;
	char disposition[PV_WEB_NAME_MAX + 64];
	int rc;

	rc = srv->source.ops->export_format(srv->source.ctx, format, &body, &content_type);
	if (rc) {
		pv_buf_release(&body);
		return reply_status(conn, rc);
	}
	response = response_from_buf(&body, content_type ? content_type : "text/plain");
	if (!response)
		return MHD_NO;
	/* format passed pv_web_route's alphabet: nothing to quote in the file name. */
	snprintf(disposition, sizeof(disposition), "attachment; filename=\"piprov-%s.%s\"", format,
		 export_extension(format));
	MHD_add_response_header(response, "Content-Disposition", disposition);
	return queue(conn, 200, response);
}

static enum MHD_Result serve_export_list(struct MHD_Connection *conn)
{
	const char *const *formats = pv_inventory_export_formats();
	json_t *array = json_array();
	size_t i;

	for (i = 0; array && formats[i]; i++)
		json_array_append_new(array, json_string(formats[i]));
	return queue(conn, 200, response_from_json(array));
}

/* 401 without a bearer token, 403 with a wrong one (or when no token file is configured). */
static enum MHD_Result check_token(struct pv_web_server *srv, struct MHD_Connection *conn,
				   bool *ok)
{
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_AUTHORIZATION);
	static const char scheme[] = "Bearer ";

	*ok = false;
	if (!auth || strncasecmp(auth, scheme, sizeof(scheme) - 1) != 0)
		return reply_error_with(conn, 401, "this needs 'Authorization: Bearer TOKEN'", NULL,
					true);
	if (!srv->has_token)
		return reply_error(conn, 403, "actions are disabled: the station has no token file");
	auth += sizeof(scheme) - 1;
	if (!pv_web_token_equal(srv->token, auth, strlen(auth)))
		return reply_error(conn, 403, "wrong token");
	*ok = true;
	return MHD_YES;
}

static enum MHD_Result serve_action(struct pv_web_server *srv, struct MHD_Connection *conn,
				    const struct pv_web_route *route)
{
	const char *action = pv_web_action_name(route->action);
	enum MHD_Result ret;
	bool ok;
	int rc;

	ret = check_token(srv, conn, &ok);
	if (!ok)
		return ret;
	rc = srv->source.ops->action(srv->source.ctx, route->name, route->action);
	if (rc)
		return reply_status(conn, rc);
	pv_log(PV_LOG_INFO, "web", "'%s': %s asked over HTTP", route->name, action);
	return queue(conn, 202, response_from_json(json_pack("{s:b, s:s, s:s}", "accepted", 1,
							      "serial", route->name, "action",
							      action)));
}

/* The source writes into a fresh buffer; its answer goes out as JSON or as an error. */
static enum MHD_Result serve_source_json(struct MHD_Connection *conn, int rc, struct pv_buf *body)
{
	if (rc) {
		pv_buf_release(body);
		return reply_status(conn, rc);
	}
	return reply_json(conn, 200, body);
}

/* Host names that mean this machine. Bound to loopback, the server answers only requests
 * that name one: a page elsewhere that rebinds its own name to 127.0.0.1 (DNS rebinding)
 * sends its own name and is refused. */
static bool host_is_loopback(const char *host)
{
	static const char *const names[] = { "127.0.0.1", "localhost", "[::1]" };
	size_t i, n;

	for (i = 0; i < PV_ARRAY_SIZE(names); i++) {
		n = strlen(names[i]);
		if (strncasecmp(host, names[i], n) != 0)
			continue;
		if (host[n] == '\0')
			return true;
		if (host[n] == ':' && host[n + 1] != '\0' &&
		    strspn(host + n + 1, "0123456789") == strlen(host + n + 1))
			return true;
	}
	return false;
}

static enum MHD_Result dispatch(struct pv_web_server *srv, struct MHD_Connection *conn,
				const char *method, const struct pv_web_route *route)
{
	struct pv_buf body = PV_BUF_INIT(INVENTORY_MAX);

	switch (route->kind) {
	case PV_WEB_ROUTE_ASSET:
		return serve_asset(conn, route->name);
	case PV_WEB_ROUTE_BOARDS:
		body.limit = SNAPSHOT_MAX;
		return serve_source_json(conn, srv->source.ops->snapshot(srv->source.ctx, &body),
					 &body);
	case PV_WEB_ROUTE_BOARD:
		body.limit = SNAPSHOT_MAX;
		return serve_source_json(
			conn, srv->source.ops->board(srv->source.ctx, route->name, &body), &body);
	case PV_WEB_ROUTE_INVENTORY:
		return serve_source_json(conn, srv->source.ops->inventory(srv->source.ctx, &body),
					 &body);
	case PV_WEB_ROUTE_EVENTS:
		return serve_events(srv, conn, strcmp(method, "HEAD") == 0);
	case PV_WEB_ROUTE_EXPORTS:
		return serve_export_list(conn);
	case PV_WEB_ROUTE_EXPORT:
		return serve_export(srv, conn, route->name);
	case PV_WEB_ROUTE_ACTION:
		return serve_action(srv, conn, route);
	case PV_WEB_ROUTE_ERROR:
		break;
	}
	return reply_error_with(conn, route->status, route->message, route->allow, false);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	struct pv_web_server *srv = cls;
	struct request *req = *req_cls;
	struct pv_web_route route;
	const char *host;

	(void)version;
	(void)upload_data;
	pv_clear_error();
	if (!req) {
		const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
								 MHD_HTTP_HEADER_CONTENT_LENGTH);
		uint64_t announced;

		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		*req_cls = req;
		if (length && (pv_parse_u64(length, 10, &announced) || announced > BODY_MAX)) {
			req->answered = true;
			return reply_error(conn, 413, "request body too large");
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		req->body += *upload_data_size;
		*upload_data_size = 0;
		/* A chunked body has no length to refuse up front: cut the connection. */
		return req->body > BODY_MAX ? MHD_NO : MHD_YES;
	}
	if (req->answered)
		return MHD_YES;

	pv_web_route(method, strlen(method), url, strlen(url), &route);
	host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	if (srv->loopback && host && !host_is_loopback(host))
		return reply_error(conn, 403, "this server answers only to 127.0.0.1 or localhost");
	pv_log(PV_LOG_DEBUG, "web", "%s %.*s", method, (int)strnlen(url, PV_WEB_URL_MAX), url);
	return dispatch(srv, conn, method, &route);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode code)
{
	(void)cls;
	(void)conn;
	(void)code;
	free(*req_cls);
	*req_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt,
							       va_list ap)
{
	(void)cls;
	pv_vlog(PV_LOG_WARN, "web", fmt, ap);
}

/* ---- start / stop ---- */

union sockaddr_any {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

/* "ADDRESS:PORT" with an IPv4 literal, "[IPv6]" or "localhost". */
static int parse_listen(const char *text, union sockaddr_any *addr, socklen_t *len,
			bool *loopback)
{
	char host[64];
	const char *colon;
	size_t host_len;
	uint32_t port;

	memset(addr, 0, sizeof(*addr));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			goto bad;
		colon = close + 1;
		host_len = (size_t)(close - text - 1);
		if (host_len >= sizeof(host))
			goto bad;
		memcpy(host, text + 1, host_len);
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			goto bad;
		host_len = (size_t)(colon - text);
		if (host_len >= sizeof(host))
			goto bad;
		memcpy(host, text, host_len);
	}
	host[host_len] = '\0';
	if (pv_parse_u32(colon + 1, 10, &port) || port > 65535)
		goto bad;
	if (text[0] == '[') {
		addr->in6.sin6_family = AF_INET6;
		addr->in6.sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &addr->in6.sin6_addr) != 1)
			goto bad;
		*loopback = IN6_IS_ADDR_LOOPBACK(&addr->in6.sin6_addr);
		*len = sizeof(addr->in6);
		return PV_OK;
	}
	addr->in4.sin_family = AF_INET;
	addr->in4.sin_port = htons((uint16_t)port);
	if (strcmp(host, "localhost") == 0)
		addr->in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &addr->in4.sin_addr) != 1)
		goto bad;
	*loopback = (ntohl(addr->in4.sin_addr.s_addr) >> 24) == 127;
	*len = sizeof(addr->in4);
	return PV_OK;
bad:
	return pv_fail(PV_ERR_INVALID, "web",
		       "'%s': not ADDRESS:PORT (e.g. 127.0.0.1:8080, [::1]:8080, 0.0.0.0:8080)",
		       text);
}

/* The listening socket is ours, not libmicrohttpd's, so that "address in use" and the port
 * picked for port 0 are known exactly. */
static int open_listener(const char *text, const union sockaddr_any *addr, socklen_t len,
			 int *fd_out, unsigned *port)
{
	union sockaddr_any bound;
	socklen_t bound_len = sizeof(bound);
	int one = 1, fd, rc;

	fd = socket(addr->sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return pv_fail_errno(errno, "web", "'%s': cannot create a socket", text);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &addr->sa, len) < 0) {
		rc = errno == EADDRINUSE
			     ? pv_fail(PV_ERR_BUSY, "web", "'%s': address already in use", text)
			     : pv_fail_errno(errno, "web", "'%s': cannot listen there", text);
		goto out_close;
	}
	if (listen(fd, 64) < 0 || getsockname(fd, &bound.sa, &bound_len) < 0) {
		rc = pv_fail_errno(errno, "web", "'%s': cannot listen there", text);
		goto out_close;
	}
	*port = ntohs(bound.sa.sa_family == AF_INET6 ? bound.in6.sin6_port : bound.in4.sin_port);
	*fd_out = fd;
	return PV_OK;
out_close:
	close(fd);
	return rc;
}

int pv_web_server_start(const struct pv_web_options *opts, const struct pv_web_source *source,
			struct pv_web_server **server)
{
	const char *listen_text = opts && opts->listen ? opts->listen : DEFAULT_LISTEN;
	unsigned max_connections = opts && opts->max_connections ? opts->max_connections
								  : DEFAULT_MAX_CONNECTIONS;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_POLL | MHD_USE_ERROR_LOG;
	union sockaddr_any addr;
	struct pv_web_server *srv;
	socklen_t addr_len = 0;
	int fd = -1, rc;

	if (!source || !source->ops || !source->ops->snapshot || !source->ops->board ||
	    !source->ops->subscribe || !source->ops->unsubscribe || !source->ops->action ||
	    !source->ops->inventory || !source->ops->export_format)
		return pv_fail(PV_ERR_INVALID, "web", "the web source lacks an operation");
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return pv_fail(PV_ERR_NOMEM, "web", "out of memory");
	srv->source = *source;
	srv->keepalive_ms = 1000u * (opts && opts->keepalive_s ? opts->keepalive_s
							       : DEFAULT_KEEPALIVE_S);
	/* Leave room for plain requests next to the streams. */
	srv->max_streams = max_connections > 4 ? max_connections - 4 : 1;
	pthread_mutex_init(&srv->lock, NULL);

	rc = parse_listen(listen_text, &addr, &addr_len, &srv->loopback);
	if (rc)
		goto out_free;
	if (opts && opts->token_file) {
		rc = pv_web_token_load(opts->token_file, srv->token);
		if (rc)
			goto out_free;
		srv->has_token = true;
	}
	rc = open_listener(listen_text, &addr, addr_len, &fd, &srv->port);
	if (rc)
		goto out_free;
	if (addr.sa.sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	srv->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
		MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, max_connections,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
		MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, srv, MHD_OPTION_END);
	if (!srv->daemon) {
		rc = pv_fail(PV_ERR_IO, "web", "'%s': the HTTP server did not start", listen_text);
		goto out_close;
	}
	pv_log(PV_LOG_INFO, "web", "listening on %s (port %u)", listen_text, srv->port);
	*server = srv;
	return PV_OK;

out_close:
	close(fd);
out_free:
	OPENSSL_cleanse(srv->token, sizeof(srv->token));
	pthread_mutex_destroy(&srv->lock);
	free(srv);
	return rc;
}

unsigned pv_web_server_port(const struct pv_web_server *server)
{
	return server->port;
}

void pv_web_server_stop(struct pv_web_server *server)
{
	struct event_stream *st;

	if (!server)
		return;
	pthread_mutex_lock(&server->lock);
	server->stopping = true;
	for (st = server->streams; st; st = st->next) {
		pthread_mutex_lock(&st->lock);
		st->closed = true;
		pthread_cond_signal(&st->wake);
		pthread_mutex_unlock(&st->lock);
	}
	pthread_mutex_unlock(&server->lock);
	/* Joins every connection thread; each stream's reader returns at once now, and its
	 * stream_done unsubscribes it. */
	MHD_stop_daemon(server->daemon);
	OPENSSL_cleanse(server->token, sizeof(server->token));
	pthread_mutex_destroy(&server->lock);
	free(server);
}
