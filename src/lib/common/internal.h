/* Library-internal helpers shared by all modules: logging and failure recording.
 * Not installed; programs use the public headers in include/piprov/. */
#ifndef PIPROV_INTERNAL_H
#define PIPROV_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "piprov/error.h"
#include "piprov/log.h"

#define PV_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#define PV_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Send one message to the installed log callback (if the level is enabled). */
void pv_log(enum pv_log_level level, const char *module, const char *fmt, ...) PV_PRINTF(3, 4);
void pv_vlog(enum pv_log_level level, const char *module, const char *fmt, va_list ap)
	PV_PRINTF(3, 0);

/* Record the detail of a failure for pv_last_error(), log it at debug level, and return
 * status, so a failing path reads: return pv_fail(PV_ERR_FORMAT, "eeprom", "'%s': ...", p); */
int pv_fail(int status, const char *module, const char *fmt, ...) PV_PRINTF(3, 4);

/* Same with errno text appended: "...: No such file or directory". Maps errno to a status
 * (ENOENT -> NOT_FOUND, EACCES/EPERM -> ACCESS, ENOSPC/EDQUOT -> NO_SPACE, ENOMEM, else IO). */
int pv_fail_errno(int errnum, const char *module, const char *fmt, ...) PV_PRINTF(3, 4);

/* Formatters storing at a cursor in a buffer with room reserved (text.c): the inventory
 * writer and exports format 100,000 boards, and snprintf() per field was most of their time.
 * Each returns the cursor after the text, without a NUL. The pv_*_format() functions of
 * piprov/text.h are these plus the NUL. */
char *pv_put_mem(char *p, const char *s, size_t len);
char *pv_put_str(char *p, const char *s);
char *pv_put_hex(char *p, uint64_t value, int min_digits); /* lower case */
char *pv_put_u64(char *p, uint64_t value);
char *pv_put_i64(char *p, int64_t value);
char *pv_put_mac(char *p, const uint8_t mac[6], char sep); /* 17 characters */
char *pv_put_ipv4(char *p, uint32_t ip);                   /* at most 15 */
/* A string literal: its length is known at compile time. */
#define PV_PUT_LIT(p, lit) pv_put_mem((p), (lit), sizeof(lit) - 1)

#endif
