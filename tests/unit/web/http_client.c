/* The tests' HTTP client (http_client.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"

#define READ_TIMEOUT_MS 5000
#define REPLY_MAX (64u << 20)

void http_reply_init(struct http_reply *r)
{
	r->status = 0;
	pv_buf_init(&r->head, 1u << 20);
	pv_buf_init(&r->body, REPLY_MAX);
}

void http_reply_release(struct http_reply *r)
{
	pv_buf_release(&r->head);
	pv_buf_release(&r->body);
}

int http_open(unsigned port, const char *raw)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	size_t len = strlen(raw), done = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		goto fail;
	while (done < len) {
		ssize_t n = send(fd, raw + done, len - done, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		/* The server may answer and close before it took everything (413). */
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read what is there within timeout_ms; 1 = got bytes, 0 = closed, -1 = timeout/error. */
static int read_some(int fd, struct pv_buf *acc, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char chunk[16384];
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return -1;
	n = recv(fd, chunk, sizeof(chunk), 0);
	if (n < 0)
		return errno == ECONNRESET ? 0 : -1;
	if (n == 0)
		return 0;
	return pv_buf_append(acc, chunk, (size_t)n) ? -1 : 1;
}

int http_read_until(int fd, struct pv_buf *acc, const char *needle, unsigned timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	for (;;) {
		long long left = deadline - now_ms();

		if (acc->len && memmem(acc->data, acc->len, needle, strlen(needle)))
			return 0;
		if (left <= 0 || read_some(fd, acc, (int)left) <= 0)
			return -1;
	}
}

static int dechunk(const unsigned char *p, size_t len, struct pv_buf *out)
{
	size_t i = 0;

	while (i < len) {
		char *end;
		unsigned long size = strtoul((const char *)p + i, &end, 16);
		size_t line_end = (size_t)(end - (const char *)p);

		while (line_end + 1 < len && !(p[line_end] == '\r' && p[line_end + 1] == '\n'))
			line_end++;
		i = line_end + 2;
		if (size == 0)
			return 0;
		if (i + size > len || pv_buf_append(out, p + i, size))
			return -1;
		i += size + 2;
	}
	return 0;
}

int http_raw(unsigned port, const char *raw, size_t raw_len, struct http_reply *reply)
{
	struct pv_buf all = PV_BUF_INIT(REPLY_MAX);
	const unsigned char *split;
	size_t head_len;
	int fd, rc = -1;
	const char *te;

	(void)raw_len;
	fd = http_open(port, raw);
	if (fd < 0)
		return -1;
	while (read_some(fd, &all, READ_TIMEOUT_MS) > 0)
		;
	close(fd);
	split = all.len ? memmem(all.data, all.len, "\r\n\r\n", 4) : NULL;
	if (!split || sscanf((const char *)all.data, "HTTP/1.%*d %u", &reply->status) != 1)
		goto out;
	head_len = (size_t)(split - all.data) + 2;
	pv_buf_append(&reply->head, all.data, head_len);
	te = http_header(reply, "Transfer-Encoding");
	if (te && strcasecmp(te, "chunked") == 0)
		rc = dechunk(split + 4, all.len - head_len - 2, &reply->body);
	else
		rc = pv_buf_append(&reply->body, split + 4, all.len - head_len - 2) ? -1 : 0;
out:
	pv_buf_release(&all);
	return rc;
}

int http_do(unsigned port, const char *method, const char *path, const char *headers,
	    struct http_reply *reply)
{
	struct pv_buf req = PV_BUF_INIT(1u << 20);
	int rc;

	pv_buf_appendf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n%s\r\n",
		       method, path, port, headers);
	rc = http_raw(port, pv_buf_str(&req), req.len, reply);
	pv_buf_release(&req);
	return rc;
}

/* Headers are kept as received; this returns a copy in a small ring of static slots. */
const char *http_header(struct http_reply *r, const char *name)
{
	static char slots[8][1024];
	static unsigned next;
	const char *p = pv_buf_str(&r->head);
	size_t n = strlen(name);

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1, *end = strstr(v, "\r\n");
			char *slot = slots[next++ % 8];
			size_t len;

			while (*v == ' ')
				v++;
			len = end ? (size_t)(end - v) : strlen(v);
			if (len >= sizeof(slots[0]))
				len = sizeof(slots[0]) - 1;
			memcpy(slot, v, len);
			slot[len] = '\0';
			return slot;
		}
	}
	return NULL;
}
