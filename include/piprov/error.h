/* Status codes shared by every libpiprov function, and the detail of the last failure.
 *
 * Convention: a function that can fail returns int; 0 (PV_OK) is success, a negative
 * PV_ERR_* is failure. On failure the library has recorded a one-line human-readable
 * detail (naming the file, line, field or device concerned) that pv_last_error() returns;
 * the CLI prints it. Out-parameters are left untouched on failure.
 */
#ifndef PIPROV_ERROR_H
#define PIPROV_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum pv_status {
	PV_OK = 0,
	PV_ERR_NOMEM = -1,       /* allocation failed */
	PV_ERR_IO = -2,          /* read/write/open failed (errno detail in the message) */
	PV_ERR_INVALID = -3,     /* bad argument or value supplied by the caller or user */
	PV_ERR_FORMAT = -4,      /* malformed outside data: image, config, JSON, log, request */
	PV_ERR_TOO_BIG = -5,     /* a length is over its limit */
	PV_ERR_NO_SPACE = -6,    /* the destination (section, disk, buffer) has no room */
	PV_ERR_NOT_FOUND = -7,   /* a named thing (file, section, record, device) is absent */
	PV_ERR_TIMEOUT = -8,     /* a deadline passed */
	PV_ERR_NO_DEVICE = -9,   /* the device went away (unplug or re-enumeration) */
	PV_ERR_PROTOCOL = -10,   /* the peer broke the protocol */
	PV_ERR_CRYPTO = -11,     /* key, signature or digest operation failed */
	PV_ERR_CONFLICT = -12,   /* data disagrees with what is already recorded */
	PV_ERR_BUSY = -13,       /* resource held by someone else (lock, claimed interface) */
	PV_ERR_UNSUPPORTED = -14,/* not possible on this board, image or platform */
	PV_ERR_VERIFY = -15,     /* a check after writing failed (hash, signature, read-back) */
	PV_ERR_PIPE = -16,       /* endpoint stalled */
	PV_ERR_INTERRUPTED = -17,/* cancelled by signal or by the caller */
	PV_ERR_ACCESS = -18,     /* permission denied */
	PV_ERR_OVERFLOW = -19,   /* the peer sent more data than asked for */
};

/* Short fixed text for a status ("out of memory", "timed out", ...). Never NULL. */
const char *pv_strerror(int status);

/* Detail of the most recent failure recorded on this thread, or pv_strerror() of the
 * status when none was recorded. Valid until the next failure on the same thread. */
const char *pv_last_error(void);

/* Forget the recorded detail (for callers that handled a failure and go on). */
void pv_clear_error(void);

#ifdef __cplusplus
}
#endif
#endif
