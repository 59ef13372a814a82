/* Library-internal helpers shared by all modules: logging and failure recording.
 * Not installed; programs use the public headers in include/piprov/. */
#ifndef PIPROV_INTERNAL_H
#define PIPROV_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

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

#endif
