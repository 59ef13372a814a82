/* File helpers used by every module: bounded, non-blocking reads and crash-safe writes.
 *
 * Outputs are never written in place: pv_atomic_* writes a temporary file next to the
 * destination, fsyncs it, renames it over the destination and fsyncs the directory, so a
 * reader sees either the old or the new complete file, never a half-written one.
 * Inputs from outside are opened with pv_file_open_input(): a FIFO or device put where a
 * file was expected is refused instead of blocking the process forever. */
#ifndef PIPROV_FILEIO_H
#define PIPROV_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "piprov/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Inputs and outputs name a regular file, or the process's own streams where a command
 * documents it. */
enum pv_file_flags {
	/* The path may name one of this process's streams: "-" (standard input for a read,
	 * standard output for a write), /dev/stdin, /dev/stdout, /dev/stderr, /dev/fd/N,
	 * /proc/self/fd/N (the descriptor is duplicated, as a shell would use it); an output
	 * may also be a character device or FIFO (/dev/null, a terminal), written directly. */
	PV_FILE_STREAMS = 1u << 0,
};

/* Open an outside file for reading without ever blocking on it: O_NONBLOCK, then anything
 * but a regular file is refused naming what it is ("'x.json' is a FIFO, not a regular
 * file"; folders, devices and sockets alike), and O_NONBLOCK is cleared again. With
 * PV_FILE_STREAMS the process's own streams are accepted (duplicated, blocking). Returns
 * the descriptor (>= 0, O_CLOEXEC) or a negative PV_ERR_*. */
int pv_file_open_input(const char *path, unsigned flags);

/* The same check for a descriptor opened some other way (openat inside a root): refuses a
 * non-regular file naming `name`, clears O_NONBLOCK. PV_OK or a failure (fd stays open). */
int pv_file_check_input(int fd, const char *name);

/* Read a whole file into out (appending), failing with PV_ERR_TOO_BIG past `limit` bytes.
 * gzip-compressed files are decompressed transparently (zlib), so test fixtures stored as
 * NAME.bin.gz read like NAME.bin. The path is opened with pv_file_open_input(..,
 * PV_FILE_STREAMS): "-" reads standard input, FIFOs and devices are refused. The buffer's
 * own limit must allow limit+1 more bytes (SIZE_MAX is the usual choice). */
int pv_file_read(const char *path, size_t limit, struct pv_buf *out);

/* Like pv_file_read but without gzip detection. */
int pv_file_read_raw(const char *path, size_t limit, struct pv_buf *out);

/* Read an open descriptor to its end (appending to out, PV_ERR_TOO_BIG past limit); name
 * is used in messages. */
int pv_fd_read(int fd, const char *name, size_t limit, struct pv_buf *out);

/* The one file-output primitive: a streaming atomic write.
 *   - A symlink is written through: the regular file it names (following a chain of links,
 *     a dangling one creates its target) is replaced, the link stays. final_path is that
 *     resolved path, so a lock taken beside it is shared by writers using either name.
 *   - The temporary file is created beside the resolved path; fsync, rename, directory
 *     fsync on commit. A file being replaced keeps its mode and (where permitted: root,
 *     or the same owner) its owner and group; `mode` applies to a new file only.
 *   - Anything but a regular file or nothing at the path is refused naming what it is
 *     (a device node, FIFO or folder is never replaced), unless PV_FILE_STREAMS allows
 *     writing to it directly (direct is then true; no temporary file). */
struct pv_atomic_file {
	int fd;               /* write to this; -1 when not open */
	char *final_path;     /* the resolved destination */
	char *tmp_path;       /* NULL when writing directly */
	bool direct;
};

/* Open for path with the given mode for a new file (e.g. 0644); flags: enum pv_file_flags. */
int pv_atomic_open_flags(struct pv_atomic_file *af, const char *path, mode_t mode,
			 unsigned flags);
/* pv_atomic_open_flags(af, path, mode, 0): regular files only. */
int pv_atomic_open(struct pv_atomic_file *af, const char *path, mode_t mode);
/* Write all of data (retrying short writes and EINTR). */
int pv_atomic_write(struct pv_atomic_file *af, const void *data, size_t len);
/* fsync, close, rename over final_path, fsync the directory. Always releases af. */
int pv_atomic_commit(struct pv_atomic_file *af);
/* Close and unlink the temporary file; nothing at final_path changes. Accepts an unopened af. */
void pv_atomic_abort(struct pv_atomic_file *af);

/* One-shot: write data to path atomically. */
int pv_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
int pv_file_write_atomic_flags(const char *path, const void *data, size_t len, mode_t mode,
			       unsigned flags);

/* The path an output to `path` lands on: symlinks of the last component followed (relative
 * targets from the link's folder, at most 40 links); *out is allocated. */
int pv_file_resolve_output(const char *path, char **out);

/* Write all of data to an open fd, retrying short writes and EINTR. */
int pv_write_all(int fd, const void *data, size_t len);

bool pv_path_exists(const char *path);

#ifdef __cplusplus
}
#endif
#endif
