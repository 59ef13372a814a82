#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "piprov/text.h"
#include "banned.h"

/* Long enough for a path plus a sentence; longer details are truncated, not lost work. */
#define PV_ERROR_DETAIL_MAX 1024

static _Thread_local char last_error[PV_ERROR_DETAIL_MAX];
static _Thread_local int last_status;

static const struct {
	int status;
	const char *text;
} status_texts[] = {
	{ PV_OK, "success" },
	{ PV_ERR_NOMEM, "out of memory" },
	{ PV_ERR_IO, "input/output error" },
	{ PV_ERR_INVALID, "invalid argument" },
	{ PV_ERR_FORMAT, "malformed data" },
	{ PV_ERR_TOO_BIG, "too large" },
	{ PV_ERR_NO_SPACE, "no space left" },
	{ PV_ERR_NOT_FOUND, "not found" },
	{ PV_ERR_TIMEOUT, "timed out" },
	{ PV_ERR_NO_DEVICE, "device disconnected" },
	{ PV_ERR_PROTOCOL, "protocol error" },
	{ PV_ERR_CRYPTO, "cryptographic operation failed" },
	{ PV_ERR_CONFLICT, "conflicting data" },
	{ PV_ERR_BUSY, "resource busy" },
	{ PV_ERR_UNSUPPORTED, "not supported" },
	{ PV_ERR_VERIFY, "verification failed" },
	{ PV_ERR_PIPE, "endpoint stalled" },
	{ PV_ERR_INTERRUPTED, "interrupted" },
	{ PV_ERR_ACCESS, "permission denied" },
	{ PV_ERR_OVERFLOW, "device sent more data than requested" },
};

const char *pv_strerror(int status)
{
	for (size_t i = 0; i < PV_ARRAY_SIZE(status_texts); i++)
		if (status_texts[i].status == status)
			return status_texts[i].text;
	return "unknown error";
}

const char *pv_last_error(void)
{
	if (last_error[0])
		return last_error;
	return pv_strerror(last_status);
}

void pv_clear_error(void)
{
	last_error[0] = '\0';
	last_status = PV_OK;
}

static int PV_PRINTF(3, 0) record_failure(int status, const char *module, const char *fmt,
					  va_list ap, const char *suffix)
{
	char detail[PV_ERROR_DETAIL_MAX];

	vsnprintf(detail, sizeof(detail), fmt, ap);
	if (suffix) {
		size_t used = strlen(detail);
		snprintf(detail + used, sizeof(detail) - used, ": %s", suffix);
	}
	pv_strlcpy(last_error, detail, sizeof(last_error));
	last_status = status;
	pv_log(PV_LOG_DEBUG, module, "%s", detail);
	return status;
}

int pv_fail(int status, const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record_failure(status, module, fmt, ap, NULL);
	va_end(ap);
	return status;
}

static int status_from_errno(int errnum)
{
	switch (errnum) {
	case ENOENT:
	case ENOTDIR:
		return PV_ERR_NOT_FOUND;
	case EACCES:
	case EPERM:
	case EROFS:
		return PV_ERR_ACCESS;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return PV_ERR_NO_SPACE;
	case ENOMEM:
		return PV_ERR_NOMEM;
	case EINTR:
		return PV_ERR_INTERRUPTED;
	case ETIMEDOUT:
		return PV_ERR_TIMEOUT;
	case EBUSY:
	case EWOULDBLOCK:
		return PV_ERR_BUSY;
	case ENODEV:
	case ENXIO:
		return PV_ERR_NO_DEVICE;
	default:
		return PV_ERR_IO;
	}
}

int pv_fail_errno(int errnum, const char *module, const char *fmt, ...)
{
	va_list ap;
	int status = status_from_errno(errnum);
	char errtext[256];

	/* GNU strerror_r may return a static string instead of filling errtext. */
	const char *text = strerror_r(errnum, errtext, sizeof(errtext));
	va_start(ap, fmt);
	record_failure(status, module, fmt, ap, text);
	va_end(ap);
	return status;
}
