/* File helpers used by every module: bounded reads and crash-safe writes.
 *
 * Outputs are never written in place: pv_atomic_* writes a temporary file next to the
 * destination, fsyncs it, renames it over the destination and fsyncs the directory, so a
 * reader sees either the old or the new complete file, never a half-written one. */
#ifndef PIPROV_FILEIO_H
#define PIPROV_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "piprov/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Read a whole file into out (appending), failing with PV_ERR_TOO_BIG past `limit` bytes.
 * gzip-compressed files are decompressed transparently (zlib), so test fixtures stored as
 * NAME.bin.gz read like NAME.bin. path "-" reads standard input. The buffer's own limit
 * must allow limit+1 more bytes (SIZE_MAX is the usual choice). */
int pv_file_read(const char *path, size_t limit, struct pv_buf *out);

/* Like pv_file_read but without gzip detection (for device nodes and sysfs files). */
int pv_file_read_raw(const char *path, size_t limit, struct pv_buf *out);

/* Streaming atomic write. */
struct pv_atomic_file {
	int fd;               /* write to this; -1 when not open */
	char *final_path;
	char *tmp_path;
};

/* Create "<dir>/.<name>.XXXXXX" beside path with the given mode (e.g. 0644). */
int pv_atomic_open(struct pv_atomic_file *af, const char *path, mode_t mode);
/* Write all of data (retrying short writes and EINTR). */
int pv_atomic_write(struct pv_atomic_file *af, const void *data, size_t len);
/* fsync, close, rename over final_path, fsync the directory. Always releases af. */
int pv_atomic_commit(struct pv_atomic_file *af);
/* Close and unlink the temporary file; nothing at final_path changes. Accepts an unopened af. */
void pv_atomic_abort(struct pv_atomic_file *af);

/* One-shot: write data to path atomically. */
int pv_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* Write all of data to an open fd, retrying short writes and EINTR. */
int pv_write_all(int fd, const void *data, size_t len);

bool pv_path_exists(const char *path);

#ifdef __cplusplus
}
#endif
#endif
