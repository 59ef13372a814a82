/* Bounded growable byte buffer: every length that comes from a device or a file goes
 * through one of these, so an over-long input fails with PV_ERR_TOO_BIG instead of
 * exhausting memory. The data is always followed by a NUL byte (not counted in len), so a
 * text buffer can be used as a C string. */
#ifndef PIPROV_BUF_H
#define PIPROV_BUF_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pv_buf {
	unsigned char *data; /* NULL until the first append */
	size_t len;
	size_t cap;
	size_t limit; /* maximum len; appends beyond it fail with PV_ERR_TOO_BIG */
};

#define PV_BUF_INIT(max) { NULL, 0, 0, (max) }

void pv_buf_init(struct pv_buf *buf, size_t limit);
/* Frees the storage; the buffer is empty and reusable afterwards. Accepts NULL. */
void pv_buf_release(struct pv_buf *buf);
/* Empties without freeing. */
void pv_buf_reset(struct pv_buf *buf);
/* Make room for at least len+extra bytes (+1 for the NUL). */
int pv_buf_reserve(struct pv_buf *buf, size_t extra);
int pv_buf_append(struct pv_buf *buf, const void *data, size_t len);
int pv_buf_append_str(struct pv_buf *buf, const char *str);
int pv_buf_putc(struct pv_buf *buf, int c);
int pv_buf_appendf(struct pv_buf *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int pv_buf_vappendf(struct pv_buf *buf, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Set len (must be <= current len). */
void pv_buf_truncate(struct pv_buf *buf, size_t len);
/* The contents as a NUL-terminated string ("" for an empty, never-allocated buffer). */
const char *pv_buf_str(const struct pv_buf *buf);
/* Hand the storage to the caller (free() it); the buffer becomes empty. May return NULL
 * for an empty buffer. */
unsigned char *pv_buf_detach(struct pv_buf *buf, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
