/* A small HTTP/1.1 client over loopback for the server tests: raw requests in, status,
 * headers and (de-chunked) body out. Bounded in time: every read waits at most 5 s. */
#ifndef PIPROV_TEST_HTTP_CLIENT_H
#define PIPROV_TEST_HTTP_CLIENT_H

#include <stddef.h>

#include "piprov/buf.h"

struct http_reply {
	unsigned status;
	struct pv_buf head;   /* status line and headers */
	struct pv_buf body;
};

void http_reply_init(struct http_reply *r);
void http_reply_release(struct http_reply *r);

/* Send `raw` as it is and read the answer until the server closes (send
 * "Connection: close"). 0 on success, -1 when nothing parseable came back. */
int http_raw(unsigned port, const char *raw, size_t raw_len, struct http_reply *reply);

/* METHOD PATH with Host: 127.0.0.1:PORT, Connection: close and `headers` ("" or lines
 * each ending in \r\n). */
int http_do(unsigned port, const char *method, const char *path, const char *headers,
	    struct http_reply *reply);

/* The value of header `name` (case-insensitive) or NULL; valid until the reply is freed. */
const char *http_header(struct http_reply *r, const char *name);

/* Streams: connect and send, then read more into acc until it contains `needle` or
 * timeout_ms passes (returns 0 when found, -1 otherwise). */
int http_open(unsigned port, const char *raw);
int http_read_until(int fd, struct pv_buf *acc, const char *needle, unsigned timeout_ms);

#endif
