/* The HTTP server against a fake station, over real HTTP on loopback: statuses, JSON bodies,
 * the event stream's framing, the token (401/403), limits, the Host check, the page. */
#include <jansson.h>
#include <poll.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "piprov/error.h"
#include "piprov/text.h"
#include "piprov/web.h"
#include "fake_source.h"
#include "http_client.h"
#include "test_support.h"
#include "web_internal.h"

struct rig {
	struct fake_source fs;
	struct pv_web_source source;
	struct pv_web_server *srv;
	char *dir;
	char token_path[512];
	char token[PV_WEB_TOKEN_MAX];
	unsigned port;
};

static void add_board(struct rig *rig, const char *serial, const char *port, const char *state,
		      const char *reason)
{
	struct fake_board b;

	memset(&b, 0, sizeof(b));
	pv_strlcpy(b.serial, serial, sizeof(b.serial));
	pv_strlcpy(b.port, port, sizeof(b.port));
	pv_strlcpy(b.state, state, sizeof(b.state));
	pv_strlcpy(b.reason, reason, sizeof(b.reason));
	pv_strlcpy(b.chip, "2711", sizeof(b.chip));
	pv_strlcpy(b.board, "Raspberry Pi 4 Model B", sizeof(b.board));
	pv_strlcpy(b.mac, "dc:a6:32:00:00:01", sizeof(b.mac));
	b.total = 524288;
	fake_source_update(&rig->fs, &b, "arrived", "found on the bus");
}

static int rig_start(struct rig *rig, unsigned keepalive_s)
{
	struct pv_web_options opts = { .listen = "127.0.0.1:0", .keepalive_s = keepalive_s };

	snprintf(rig->token_path, sizeof(rig->token_path), "%s/token", rig->dir);
	opts.token_file = rig->token_path;
	if (pv_web_server_start(&opts, &rig->source, &rig->srv) != PV_OK)
		return -1;
	rig->port = pv_web_server_port(rig->srv);
	return pv_web_token_load(rig->token_path, rig->token);
}

static int setup(void **state)
{
	struct rig *rig = calloc(1, sizeof(*rig));

	fake_source_init(&rig->fs);
	rig->source = fake_source_web(&rig->fs);
	rig->dir = pv_test_mkdtemp();
	add_board(rig, "10000000aaaa0001", "100-1.1", "verified", "");
	add_board(rig, "10000000aaaa0002", "100-1.2", "failed", "EEPROM_UPDATE is 'failed'");
	fake_source_set_inventory(&rig->fs, "[{\"serial\":\"10000000aaaa0001\"}]");
	if (rig_start(rig, 1)) {
		fprintf(stderr, "setup: %s\n", pv_last_error());
		return -1;
	}
	*state = rig;
	return 0;
}

static int teardown(void **state)
{
	struct rig *rig = *state;

	pv_web_server_stop(rig->srv);
	fake_source_release(&rig->fs);
	pv_test_rmtree(rig->dir);
	free(rig->dir);
	free(rig);
	return 0;
}

static json_t *body_json(struct http_reply *r)
{
	json_error_t err;
	json_t *v = json_loadb((const char *)r->body.data, r->body.len, 0, &err);

	if (!v)
		fail_msg("body is not JSON (%s): %s", err.text, pv_buf_str(&r->body));
	return v;
}

/* A JSON error body naming the status. */
static void assert_error_body(struct http_reply *r, unsigned status)
{
	json_t *v = body_json(r);

	assert_int_equal(r->status, status);
	assert_string_equal(http_header(r, "Content-Type"), "application/json");
	assert_true(json_is_string(json_object_get(v, "error")));
	assert_int_equal(json_integer_value(json_object_get(v, "status")), status);
	json_decref(v);
}

static void test_boards(void **state)
{
	struct rig *rig = *state;
	struct http_reply r;
	json_t *v, *b;

	http_reply_init(&r);
	assert_int_equal(http_do(rig->port, "GET", "/api/boards", "", &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(http_header(&r, "Content-Type"), "application/json");
	assert_string_equal(http_header(&r, "Cache-Control"), "no-store");
	v = body_json(&r);
	assert_true(json_is_array(v));
	assert_int_equal(json_array_size(v), 2);
	b = json_array_get(v, 1);
	assert_string_equal(json_string_value(json_object_get(b, "serial")), "10000000aaaa0002");
	assert_string_equal(json_string_value(json_object_get(b, "state")), "failed");
	assert_string_equal(json_string_value(json_object_get(b, "reason")),
			    "EEPROM_UPDATE is 'failed'");
	json_decref(v);
	http_reply_release(&r);

	http_reply_init(&r);
	assert_int_equal(http_do(rig->port, "GET", "/api/boards/10000000aaaa0001", "", &r), 0);
	assert_int_equal(r.status, 200);
	v = body_json(&r);
	assert_string_equal(json_string_value(json_object_get(v, "port")), "100-1.1");
	assert_string_equal(json_string_value(json_array_get(json_object_get(v, "log"), 0)),
			    "arrived: found on the bus");
	json_decref(v);
	http_reply_release(&r);

	http_reply_init(&r);
	assert_int_equal(http_do(rig->port, "GET", "/api/boards/ffff", "", &r), 0);
	assert_error_body(&r, 404);
	http_reply_release(&r);

	/* HEAD: the headers without the body. */
	http_reply_init(&r);
	assert_int_equal(http_do(rig->port, "HEAD", "/api/boards", "", &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	http_reply_release(&r);
}

static void test_errors(void **state)
{
	struct rig *rig = *state;
	struct http_reply r;

	http_reply_init(&r);
	assert_int_equal(http_do(rig->port, "GET", "/nothing/here", "", &r), 0);
	assert_error_body(&r, 404);
	http_reply_release(&r);

	http_reply_init(&r);
	assert_int_equal(http_do(rig->port, "POST", "/api/boards", "Content-Length: 0\r\n", &r), 0);
	assert_error_body(&r, 405);
	assert_string_equal(http_header(&r, "Allow"), "GET, HEAD");
	http_reply_release(&r);

	http_reply_init(&r);
	assert_int_equal(http_do(rig->port, "GET", "/api/boards/10000000aaaa0001/retry", "", &r),
			 0);
	assert_error_body(&r, 405);
	assert_string_equal(http_header(&r, "Allow"), "POST");
	http_reply_release(&r);

	/* Percent-decoded names go through the same check. */
	http_reply_init(&r);
	assert_int_equal(http_do(rig->port, "GET", "/api/boards/%3Cscript%3E", "", &r), 0);
	assert_error_body(&r, 400);
	http_reply_release(&r);

	/* The inventory op failing is an error, not an empty answer. */
	fake_source_set_inventory(&rig->fs, NULL);
	http_reply_init(&r);
	assert_int_equal(http_do(rig->port, "GET", "/api/inventory", "", &r), 0);
	assert_error_body(&r, 404);
	http_reply_release(&r);
}

static void test_limits(void **state)
{
	struct rig *rig = *state;
	struct http_reply r;
	char path[700];
	struct pv_buf huge = PV_BUF_INIT(SIZE_MAX);

	/* A body over the limit is refused before it is read. */
	http_reply_init(&r);
	assert_int_equal(http_do(rig->port, "POST", "/api/boards/10000000aaaa0001/retry",
				 "Content-Length: 100000\r\n", &r),
			 0);
	assert_error_body(&r, 413);
	http_reply_release(&r);

	/* A path over PV_WEB_URL_MAX. */
	memcpy(path, "/api/boards/", 12);
	memset(path + 12, 'a', 600);
	path[612] = '\0';
	http_reply_init(&r);
	assert_int_equal(http_do(rig->port, "GET", path, "", &r), 0);
	assert_error_body(&r, 414);
	http_reply_release(&r);

	/* Headers over the connection's memory: libmicrohttpd refuses them itself. */
	pv_buf_append_str(&huge, "X-Filler: ");
	for (int i = 0; i < 40000; i++)
		pv_buf_putc(&huge, 'x');
	pv_buf_append_str(&huge, "\r\n");
	http_reply_init(&r);
	http_do(rig->port, "GET", "/api/boards", pv_buf_str(&huge), &r);
	assert_true(r.status == 431 || r.status == 413 || r.status == 400 || r.status == 0);
	assert_int_not_equal(r.status, 200);
	http_reply_release(&r);
	pv_buf_release(&huge);

	/* The server still answers afterwards. */
	http_reply_init(&r);
	assert_int_equal(http_do(rig->port, "GET", "/api/boards", "", &r), 0);
	assert_int_equal(r.status, 200);
	http_reply_release(&r);
}

static void test_token(void **state)
{
	struct rig *rig = *state;
	struct http_reply r;
	struct stat st;
	char header[PV_WEB_TOKEN_MAX + 64];

	/* Created on first start, only for this user, 64 hex digits. */
	assert_int_equal(stat(rig->token_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(strlen(rig->token), 64);

	http_reply_init(&r);
	assert_int_equal(http_do(rig->port, "POST", "/api/boards/10000000aaaa0002/retry",
				 "Content-Length: 0\r\n", &r),
			 0);
	assert_error_body(&r, 401);
	assert_non_null(strstr(http_header(&r, "WWW-Authenticate"), "Bearer"));
	http_reply_release(&r);

	http_reply_init(&r);
	assert_int_equal(http_do(rig->port, "POST", "/api/boards/10000000aaaa0002/retry",
				 "Authorization: Basic dXNlcjpwYXNz\r\nContent-Length: 0\r\n", &r),
			 0);
	assert_error_body(&r, 401);
	http_reply_release(&r);

	/* Wrong token, the right one with a character changed, a prefix of it. */
	const char *wrong[] = { "nope", "", NULL, NULL };
	char changed[PV_WEB_TOKEN_MAX], prefix[PV_WEB_TOKEN_MAX];

	pv_strlcpy(changed, rig->token, sizeof(changed));
	changed[63] = changed[63] == '0' ? '1' : '0';
	pv_strlcpy(prefix, rig->token, 33);
	wrong[2] = changed;
	wrong[3] = prefix;
	for (size_t i = 0; i < 4; i++) {
		snprintf(header, sizeof(header), "Authorization: Bearer %s\r\nContent-Length: 0\r\n",
			 wrong[i]);
		http_reply_init(&r);
		assert_int_equal(http_do(rig->port, "POST", "/api/boards/10000000aaaa0002/retry",
					 header, &r),
				 0);
		assert_error_body(&r, 403);
		http_reply_release(&r);
	}
	assert_int_equal(rig->fs.actions, 0);

	snprintf(header, sizeof(header), "Authorization: Bearer %s\r\nContent-Length: 0\r\n",
		 rig->token);
	http_reply_init(&r);
	assert_int_equal(
		http_do(rig->port, "POST", "/api/boards/10000000aaaa0002/retry", header, &r), 0);
	assert_int_equal(r.status, 202);
	assert_int_equal(rig->fs.actions, 1);
	assert_int_equal(rig->fs.last_action, PV_WEB_ACTION_RETRY);
	assert_string_equal(rig->fs.last_serial, "10000000aaaa0002");
	http_reply_release(&r);

	/* The source's refusal comes back as its status. */
	rig->fs.action_rc = PV_ERR_CONFLICT;
	http_reply_init(&r);
	assert_int_equal(
		http_do(rig->port, "POST", "/api/boards/10000000aaaa0001/pause", header, &r), 0);
	assert_error_body(&r, 409);
	http_reply_release(&r);
	http_reply_init(&r);
	assert_int_equal(http_do(rig->port, "POST", "/api/boards/0000/forget", header, &r), 0);
	assert_error_body(&r, 404);
	http_reply_release(&r);
}

static void test_token_file(void **state)
{
	struct rig *rig = *state;
	char path[600], token[PV_WEB_TOKEN_MAX];
	struct pv_web_options opts = { .listen = "127.0.0.1:0" };
	struct pv_web_server *srv = NULL;
	struct http_reply r;

	/* Readable by others: refused, and the message says what to do. */
	snprintf(path, sizeof(path), "%s/open-token", rig->dir);
	pv_test_write_file(path, "0123456789abcdef0123\n", 21);
	chmod(path, 0644);
	assert_int_equal(pv_web_token_load(path, token), PV_ERR_ACCESS);
	assert_non_null(strstr(pv_last_error(), "chmod 600"));
	opts.token_file = path;
	assert_int_equal(pv_web_server_start(&opts, &rig->source, &srv), PV_ERR_ACCESS);

	/* Too short, or with a space: not a token. */
	chmod(path, 0600);
	pv_test_write_file(path, "short\n", 6);
	chmod(path, 0600);
	assert_int_equal(pv_web_token_load(path, token), PV_ERR_FORMAT);
	pv_test_write_file(path, "0123456789 abcdef0123\n", 22);
	chmod(path, 0600);
	assert_int_equal(pv_web_token_load(path, token), PV_ERR_FORMAT);
	/* A hand-written one is fine, CRLF and all. */
	pv_test_write_file(path, "correct-horse-battery-staple\r\nsecond line\n", 42);
	chmod(path, 0600);
	assert_int_equal(pv_web_token_load(path, token), PV_OK);
	assert_string_equal(token, "correct-horse-battery-staple");
	/* A FIFO in its place does not hang the start. */
	snprintf(path, sizeof(path), "%s/fifo-token", rig->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(pv_web_token_load(path, token), PV_ERR_INVALID);
	assert_non_null(strstr(pv_last_error(), "FIFO"));
	/* A symbolic link to a token is not the service user's own file. */
	snprintf(path, sizeof(path), "%s/link-token", rig->dir);
	assert_int_equal(symlink(rig->token_path, path), 0);
	assert_int_equal(pv_web_token_load(path, token), PV_ERR_ACCESS);

	/* Without a token file every action is refused. */
	opts.token_file = NULL;
	assert_int_equal(pv_web_server_start(&opts, &rig->source, &srv), PV_OK);
	http_reply_init(&r);
	assert_int_equal(http_do(pv_web_server_port(srv), "POST",
				 "/api/boards/10000000aaaa0001/retry",
				 "Authorization: Bearer 0123456789abcdef\r\nContent-Length: 0\r\n", &r),
			 0);
	assert_error_body(&r, 403);
	http_reply_release(&r);
	pv_web_server_stop(srv);
}

static void test_listen(void **state)
{
	struct rig *rig = *state;
	struct pv_web_options opts = { 0 };
	struct pv_web_server *srv = NULL;
	char taken[64];
	static const char *const bad[] = { "nonsense", "127.0.0.1", "127.0.0.1:99999",
					   "[::1]8080", "1.2.3:80", "127.0.0.1:-1", ":" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		opts.listen = bad[i];
		assert_int_equal(pv_web_server_start(&opts, &rig->source, &srv), PV_ERR_INVALID);
		assert_non_null(strstr(pv_last_error(), bad[i]));
	}
	snprintf(taken, sizeof(taken), "127.0.0.1:%u", rig->port);
	opts.listen = taken;
	assert_int_equal(pv_web_server_start(&opts, &rig->source, &srv), PV_ERR_BUSY);
	assert_non_null(strstr(pv_last_error(), "in use"));
}

static void test_host_check(void **state)
{
	struct rig *rig = *state;
	struct http_reply r;
	char raw[256];
	static const char *const good[] = { "localhost", "LOCALHOST:1234", "127.0.0.1" };
	static const char *const bad[] = { "evil.example", "evil.example:8080",
					   "127.0.0.1.evil.example", "localhost:80x" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(raw, sizeof(raw), "GET /api/boards HTTP/1.1\r\nHost: %s\r\n"
			 "Connection: close\r\n\r\n", good[i]);
		http_reply_init(&r);
		assert_int_equal(http_raw(rig->port, raw, strlen(raw), &r), 0);
		assert_int_equal(r.status, 200);
		http_reply_release(&r);
	}
	/* A page elsewhere whose name resolves to 127.0.0.1 (DNS rebinding) names itself. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(raw, sizeof(raw), "GET /api/boards HTTP/1.1\r\nHost: %s\r\n"
			 "Connection: close\r\n\r\n", bad[i]);
		http_reply_init(&r);
		assert_int_equal(http_raw(rig->port, raw, strlen(raw), &r), 0);
		assert_error_body(&r, 403);
		http_reply_release(&r);
	}
}

/* Any "http:", "https:" or protocol-relative "//host" other than the SVG namespace name
 * (which is an identifier, never fetched). */
static bool names_a_remote_url(const char *text)
{
	static const char svg_ns[] = "http://www.w3.org/2000/svg";
	const char *p;

	for (p = text; (p = strstr(p, "http")) != NULL; p++) {
		if (strncmp(p, svg_ns, sizeof(svg_ns) - 1) == 0)
			continue;
		if (strncmp(p, "http:", 5) == 0 || strncmp(p, "https:", 6) == 0)
			return true;
	}
	return strstr(text, "src=\"//") || strstr(text, "href=\"//") || strstr(text, "url(//");
}

static void test_page(void **state)
{
	struct rig *rig = *state;
	static const char *const names[] = { "index.html", "app.js", "style.css", "favicon.svg" };
	struct http_reply r;

	http_reply_init(&r);
	assert_int_equal(http_do(rig->port, "GET", "/", "", &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(http_header(&r, "Content-Type"), "text/html; charset=utf-8");
	assert_non_null(strstr(http_header(&r, "Content-Security-Policy"), "script-src 'self'"));
	assert_string_equal(http_header(&r, "X-Content-Type-Options"), "nosniff");
	assert_non_null(strstr(pv_buf_str(&r.body), "<script src=\"/app.js\""));
	http_reply_release(&r);

	http_reply_init(&r);
	assert_int_equal(http_do(rig->port, "GET", "/app.js", "", &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(http_header(&r, "Content-Type"), "text/javascript; charset=utf-8");
	http_reply_release(&r);

	/* Nothing comes from the internet, and device strings never go through innerHTML. */
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct pv_web_asset *a = pv_web_asset_find(names[i]);

		assert_non_null(a);
		assert_true(a->size > 0);
		assert_int_equal(a->data[a->size], 0);
		assert_false(names_a_remote_url((const char *)a->data));
		assert_null(strstr((const char *)a->data, "innerHTML"));
		assert_null(strstr((const char *)a->data, "outerHTML"));
		assert_null(strstr((const char *)a->data, "insertAdjacentHTML"));
		assert_null(strstr((const char *)a->data, "document.write"));
		assert_null(strstr((const char *)a->data, "eval("));
	}
	assert_null(pv_web_asset_find("../CMakeLists.txt"));
}

static void test_inventory_and_exports(void **state)
{
	struct rig *rig = *state;
	struct http_reply r;
	json_t *v;

	http_reply_init(&r);
	assert_int_equal(http_do(rig->port, "GET", "/api/inventory", "", &r), 0);
	assert_int_equal(r.status, 200);
	v = body_json(&r);
	assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "serial")),
			    "10000000aaaa0001");
	json_decref(v);
	http_reply_release(&r);

	http_reply_init(&r);
	assert_int_equal(http_do(rig->port, "GET", "/api/exports", "", &r), 0);
	assert_int_equal(r.status, 200);
	v = body_json(&r);
	assert_true(json_array_size(v) >= 5);
	assert_string_equal(json_string_value(json_array_get(v, 0)), "dnsmasq");
	json_decref(v);
	http_reply_release(&r);

	http_reply_init(&r);
	assert_int_equal(http_do(rig->port, "GET", "/api/exports/csv", "", &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(http_header(&r, "Content-Type"), "text/csv; charset=utf-8");
	assert_string_equal(http_header(&r, "Content-Disposition"),
			    "attachment; filename=\"piprov-csv.csv\"");
	assert_non_null(strstr(pv_buf_str(&r.body), "10000000aaaa0002,dc:a6:32:00:00:01\n"));
	http_reply_release(&r);

	http_reply_init(&r);
	assert_int_equal(http_do(rig->port, "GET", "/api/exports/nosuch", "", &r), 0);
	assert_error_body(&r, 404);
	http_reply_release(&r);
}

static void test_sse_frame(void **state)
{
	struct pv_buf out = PV_BUF_INIT(64);

	(void)state;
	assert_int_equal(pv_web_sse_frame(&out, NULL, "{}", 2), 0);
	assert_string_equal(pv_buf_str(&out), "data: {}\n\n");
	pv_buf_reset(&out);
	/* No line break in the payload can end the message or start a field. */
	assert_int_equal(pv_web_sse_frame(&out, "x", "a\nb\r\nc\rid: 9", 12), 0);
	assert_string_equal(pv_buf_str(&out), "event: x\ndata: a\ndata: b\ndata: c\ndata: id: 9\n\n");
	/* Over the buffer's limit: nothing half-written. */
	pv_buf_reset(&out);
	assert_int_equal(pv_web_sse_frame(&out, NULL, "0123456789012345678901234567890123456789"
						      "0123456789012345678901234567890123456789",
					  80),
			 PV_ERR_TOO_BIG);
	assert_int_equal(out.len, 0);
	pv_buf_release(&out);
}

static void test_events(void **state)
{
	struct rig *rig = *state;
	struct pv_buf acc = PV_BUF_INIT(1u << 20);
	char raw[256];
	struct fake_board b;
	int fd;

	snprintf(raw, sizeof(raw), "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n",
		 rig->port);
	fd = http_open(rig->port, raw);
	assert_true(fd >= 0);
	assert_int_equal(http_read_until(fd, &acc, "\r\n\r\n", 5000), 0);
	assert_non_null(strstr(pv_buf_str(&acc), "HTTP/1.1 200"));
	assert_non_null(strstr(pv_buf_str(&acc), "Content-Type: text/event-stream"));
	/* First the reconnection delay and the snapshot of every board. */
	assert_int_equal(http_read_until(fd, &acc, "\"10000000aaaa0002\"", 5000), 0);
	assert_non_null(strstr(pv_buf_str(&acc), "retry: 2000\n\n"));
	assert_non_null(strstr(pv_buf_str(&acc), "event: snapshot\ndata: [{\"serial\":"));
	assert_int_equal(fake_source_subscribers(&rig->fs), 1);

	/* Then each event as it happens, as one data line. */
	memset(&b, 0, sizeof(b));
	pv_strlcpy(b.serial, "10000000aaaa0003", sizeof(b.serial));
	pv_strlcpy(b.port, "100-1.3", sizeof(b.port));
	pv_strlcpy(b.state, "flashing", sizeof(b.state));
	b.bytes = 4096;
	fake_source_update(&rig->fs, &b, "progress", "pieeprom.bin");
	assert_int_equal(http_read_until(fd, &acc, "\"event\":\"progress\"", 5000), 0);
	assert_non_null(strstr(pv_buf_str(&acc), "data: {\"event\":\"progress\",\"time_ms\":"));
	assert_non_null(strstr(pv_buf_str(&acc), "\"board\":{\"serial\":\"10000000aaaa0003\""));

	/* An idle stream gets comments that keep proxies and browsers from timing out. */
	pv_buf_reset(&acc);
	assert_int_equal(http_read_until(fd, &acc, ": keep-alive\n\n", 3000), 0);

	/* A browser that leaves is unsubscribed (noticed at the next keep-alive). */
	close(fd);
	for (int i = 0; i < 40 && fake_source_subscribers(&rig->fs) != 0; i++)
		usleep(100 * 1000);
	assert_int_equal(fake_source_subscribers(&rig->fs), 0);
	pv_buf_release(&acc);
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_stop_with_streams(void **state)
{
	struct rig *rig = *state;
	struct pv_buf acc = PV_BUF_INIT(1u << 20);
	char raw[256];
	int fds[5];
	long long t0;

	snprintf(raw, sizeof(raw), "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n",
		 rig->port);
	for (int i = 0; i < 5; i++) {
		fds[i] = http_open(rig->port, raw);
		assert_true(fds[i] >= 0);
		pv_buf_reset(&acc);
		assert_int_equal(http_read_until(fds[i], &acc, "event: snapshot", 5000), 0);
	}
	assert_int_equal(fake_source_subscribers(&rig->fs), 5);
	/* Stop returns at once with streams open, and nothing stays subscribed. */
	t0 = mono_ms();
	pv_web_server_stop(rig->srv);
	rig->srv = NULL;
	assert_true(mono_ms() - t0 < 1000);
	assert_int_equal(fake_source_subscribers(&rig->fs), 0);
	assert_int_equal(rig->fs.subscribes, rig->fs.unsubscribes);
	/* The browsers see the end of the stream. */
	for (int i = 0; i < 5; i++) {
		struct pollfd pfd = { .fd = fds[i], .events = POLLIN };
		char c[4096];

		assert_true(poll(&pfd, 1, 2000) == 1);
		while (read(fds[i], c, sizeof(c)) > 0)
			;
		close(fds[i]);
	}
	pv_buf_release(&acc);
	/* Restart so that teardown has a server to stop. */
	assert_int_equal(rig_start(rig, 1), 0);
}

/* Many clients at once, while events flow: every request answered. */
struct hammer_arg {
	unsigned port;
	int failures;
};

static void *hammer(void *p)
{
	struct hammer_arg *arg = p;

	for (int i = 0; i < 30; i++) {
		struct http_reply r;

		http_reply_init(&r);
		if (http_do(arg->port, "GET", i % 2 ? "/api/boards" : "/api/boards/10000000aaaa0001",
			    "", &r) || r.status != 200)
			arg->failures++;
		http_reply_release(&r);
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	struct rig *rig = *state;
	struct hammer_arg args[8];
	pthread_t threads[8];
	struct fake_board b;

	memset(&b, 0, sizeof(b));
	pv_strlcpy(b.serial, "10000000aaaa0001", sizeof(b.serial));
	pv_strlcpy(b.port, "100-1.1", sizeof(b.port));
	pv_strlcpy(b.state, "flashing", sizeof(b.state));
	for (int i = 0; i < 8; i++) {
		args[i].port = rig->port;
		args[i].failures = 0;
		assert_int_equal(pthread_create(&threads[i], NULL, hammer, &args[i]), 0);
	}
	for (int i = 0; i < 200; i++) {
		b.bytes = (uint64_t)i * 1024;
		fake_source_update(&rig->fs, &b, "progress", "pieeprom.bin");
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(threads[i], NULL);
		assert_int_equal(args[i].failures, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_boards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inventory_and_exports, setup, teardown),
		cmocka_unit_test(test_sse_frame),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_with_streams, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
