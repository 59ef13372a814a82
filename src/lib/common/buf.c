#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "piprov/buf.h"
#include "banned.h"

void pv_buf_init(struct pv_buf *buf, size_t limit)
{
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
	buf->limit = limit;
}

void pv_buf_release(struct pv_buf *buf)
{
	if (!buf)
		return;
	free(buf->data);
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
}

void pv_buf_reset(struct pv_buf *buf)
{
	buf->len = 0;
	if (buf->data)
		buf->data[0] = '\0';
}

int pv_buf_reserve(struct pv_buf *buf, size_t extra)
{
	size_t need, new_cap;
	unsigned char *grown;

	if (extra > buf->limit || buf->len > buf->limit - extra)
		return PV_ERR_TOO_BIG;
	need = buf->len + extra + 1;
	if (need <= buf->cap)
		return PV_OK;
	new_cap = buf->cap ? buf->cap : 64;
	while (new_cap < need)
		new_cap = new_cap > SIZE_MAX / 2 ? need : new_cap * 2;
	/* Never allocate beyond what the limit allows; need <= limit + 1 holds here. With
	 * the limit at SIZE_MAX, limit + 1 would wrap to 0 and make growth exact-size. */
	if (buf->limit < SIZE_MAX && new_cap > buf->limit + 1)
		new_cap = buf->limit + 1;
	grown = realloc(buf->data, new_cap);
	if (!grown)
		return PV_ERR_NOMEM;
	buf->data = grown;
	buf->cap = new_cap;
	return PV_OK;
}

int pv_buf_append(struct pv_buf *buf, const void *data, size_t len)
{
	int rc = pv_buf_reserve(buf, len);

	if (rc)
		return rc;
	if (len)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
	return PV_OK;
}

int pv_buf_append_str(struct pv_buf *buf, const char *str)
{
	return pv_buf_append(buf, str, strlen(str));
}

int pv_buf_putc(struct pv_buf *buf, int c)
{
	unsigned char byte = (unsigned char)c;

	return pv_buf_append(buf, &byte, 1);
}

int pv_buf_vappendf(struct pv_buf *buf, const char *fmt, va_list ap)
{
	va_list again;
	int n;
	int rc;

	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, again);
	va_end(again);
	if (n < 0)
		return PV_ERR_INVALID;
	rc = pv_buf_reserve(buf, (size_t)n);
	if (rc)
		return rc;
	vsnprintf((char *)buf->data + buf->len, (size_t)n + 1, fmt, ap);
	buf->len += (size_t)n;
	return PV_OK;
}

int pv_buf_appendf(struct pv_buf *buf, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = pv_buf_vappendf(buf, fmt, ap);
	va_end(ap);
	return rc;
}

void pv_buf_truncate(struct pv_buf *buf, size_t len)
{
	if (len >= buf->len)
		return;
	buf->len = len;
	buf->data[len] = '\0';
}

const char *pv_buf_str(const struct pv_buf *buf)
{
	return buf->data ? (const char *)buf->data : "";
}

unsigned char *pv_buf_detach(struct pv_buf *buf, size_t *len)
{
	unsigned char *data = buf->data;

	if (len)
		*len = buf->len;
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
	return data;
}
