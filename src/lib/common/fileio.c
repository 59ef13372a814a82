#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "internal.h"
#include "piprov/fileio.h"
#include "piprov/text.h"
#include "banned.h"

#define READ_CHUNK 65536

static int read_fd_raw(int fd, const char *path, size_t limit, struct pv_buf *out)
{
	size_t start = out->len;

	for (;;) {
		size_t room = limit - (out->len - start);
		size_t want = room < READ_CHUNK ? room : READ_CHUNK;
		unsigned char probe;
		unsigned char *dst = &probe;
		ssize_t got;

		if (want == 0) {
			/* At the limit: one more byte means the file is too big. */
			want = 1;
		} else {
			int rc = pv_buf_reserve(out, want);
			if (rc)
				return pv_fail(rc, "file", "cannot read '%s': %s", path,
					       pv_strerror(rc));
			dst = out->data + out->len;
		}
		got = read(fd, dst, want);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return pv_fail_errno(errno, "file", "cannot read '%s'", path);
		if (got == 0)
			return PV_OK;
		if (dst == &probe)
			return pv_fail(PV_ERR_TOO_BIG, "file",
				       "'%s' is larger than the limit of %zu bytes", path, limit);
		out->len += (size_t)got;
		out->data[out->len] = '\0';
	}
}

int pv_file_read_raw(const char *path, size_t limit, struct pv_buf *out)
{
	int fd, rc;

	if (strcmp(path, "-") == 0)
		return read_fd_raw(STDIN_FILENO, "<stdin>", limit, out);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pv_fail_errno(errno, "file", "cannot open '%s'", path);
	rc = read_fd_raw(fd, path, limit, out);
	close(fd);
	return rc;
}

static int read_gzip(const char *path, size_t limit, struct pv_buf *out)
{
	gzFile gz;
	int rc = PV_OK;
	size_t start = out->len;

	gz = gzopen(path, "rb");
	if (!gz)
		return pv_fail_errno(errno ? errno : ENOMEM, "file", "cannot open '%s'", path);
	for (;;) {
		/* Ask for one byte more than the limit allows to detect an oversized stream. */
		size_t room = limit - (out->len - start) + 1;
		unsigned want = room < READ_CHUNK ? (unsigned)room : READ_CHUNK;
		int got;

		rc = pv_buf_reserve(out, want);
		if (rc) {
			rc = pv_fail(rc, "file", "cannot read '%s': %s", path, pv_strerror(rc));
			break;
		}
		got = gzread(gz, out->data + out->len, want);
		if (got < 0) {
			int zerr;
			const char *msg = gzerror(gz, &zerr);
			rc = pv_fail(PV_ERR_FORMAT, "file", "cannot decompress '%s': %s", path, msg);
			break;
		}
		if (got == 0)
			break;
		if ((size_t)got >= room) {
			rc = pv_fail(PV_ERR_TOO_BIG, "file",
				     "'%s' is larger than the limit of %zu bytes", path, limit);
			break;
		}
		out->len += (size_t)got;
		out->data[out->len] = '\0';
	}
	gzclose(gz);
	return rc;
}

int pv_file_read(const char *path, size_t limit, struct pv_buf *out)
{
	unsigned char magic[2];
	ssize_t got;
	int fd;

	if (strcmp(path, "-") == 0)
		return pv_file_read_raw(path, limit, out);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pv_fail_errno(errno, "file", "cannot open '%s'", path);
	got = read(fd, magic, sizeof(magic));
	close(fd);
	if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
		return read_gzip(path, limit, out);
	return pv_file_read_raw(path, limit, out);
}

int pv_write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len) {
		ssize_t put = write(fd, p, len);
		if (put < 0 && errno == EINTR)
			continue;
		if (put < 0)
			return -errno;
		p += put;
		len -= (size_t)put;
	}
	return 0;
}

static char *dir_of(const char *path)
{
	char *copy = strdup(path);
	char *dir;

	if (!copy)
		return NULL;
	dir = strdup(dirname(copy));
	free(copy);
	return dir;
}

int pv_atomic_open(struct pv_atomic_file *af, const char *path, mode_t mode)
{
	char *copy, *dir = NULL, *base;
	int rc;

	af->fd = -1;
	af->final_path = NULL;
	af->tmp_path = NULL;
	copy = strdup(path);
	if (!copy)
		return pv_fail(PV_ERR_NOMEM, "file", "out of memory");
	base = basename(copy);
	dir = dir_of(path);
	if (!dir) {
		rc = pv_fail(PV_ERR_NOMEM, "file", "out of memory");
		goto out_free_copy;
	}
	af->final_path = strdup(path);
	if (!af->final_path || asprintf(&af->tmp_path, "%s/.%s.XXXXXX", dir, base) < 0) {
		af->tmp_path = NULL;
		rc = pv_fail(PV_ERR_NOMEM, "file", "out of memory");
		goto out_free_paths;
	}
	af->fd = mkostemp(af->tmp_path, O_CLOEXEC);
	if (af->fd < 0) {
		rc = pv_fail_errno(errno, "file", "cannot create a temporary file in '%s' for '%s'",
				   dir, path);
		goto out_free_paths;
	}
	if (fchmod(af->fd, mode) < 0) {
		rc = pv_fail_errno(errno, "file", "cannot set the mode of '%s'", af->tmp_path);
		goto out_unlink;
	}
	free(dir);
	free(copy);
	return PV_OK;

out_unlink:
	close(af->fd);
	af->fd = -1;
	unlink(af->tmp_path);
out_free_paths:
	free(af->tmp_path);
	free(af->final_path);
	af->tmp_path = NULL;
	af->final_path = NULL;
	free(dir);
out_free_copy:
	free(copy);
	return rc;
}

int pv_atomic_write(struct pv_atomic_file *af, const void *data, size_t len)
{
	int err = pv_write_all(af->fd, data, len);

	if (err)
		return pv_fail_errno(-err, "file", "cannot write '%s'", af->final_path);
	return PV_OK;
}

static void release_atomic(struct pv_atomic_file *af)
{
	free(af->tmp_path);
	free(af->final_path);
	af->tmp_path = NULL;
	af->final_path = NULL;
	af->fd = -1;
}

int pv_atomic_commit(struct pv_atomic_file *af)
{
	char *dir;
	int dirfd, rc = PV_OK;

	if (fsync(af->fd) < 0) {
		rc = pv_fail_errno(errno, "file", "cannot write '%s'", af->final_path);
		goto out_abort;
	}
	if (close(af->fd) < 0) {
		af->fd = -1;
		rc = pv_fail_errno(errno, "file", "cannot write '%s'", af->final_path);
		goto out_abort;
	}
	af->fd = -1;
	if (rename(af->tmp_path, af->final_path) < 0) {
		rc = pv_fail_errno(errno, "file", "cannot replace '%s'", af->final_path);
		goto out_abort;
	}
	/* The rename is durable only once the directory entry is on disk. */
	dir = dir_of(af->final_path);
	if (dir) {
		dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd >= 0) {
			fsync(dirfd);
			close(dirfd);
		}
		free(dir);
	}
	release_atomic(af);
	return PV_OK;

out_abort:
	pv_atomic_abort(af);
	return rc;
}

void pv_atomic_abort(struct pv_atomic_file *af)
{
	if (af->fd >= 0)
		close(af->fd);
	if (af->tmp_path)
		unlink(af->tmp_path);
	release_atomic(af);
}

int pv_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	struct pv_atomic_file af;
	int rc = pv_atomic_open(&af, path, mode);

	if (rc)
		return rc;
	rc = pv_atomic_write(&af, data, len);
	if (rc) {
		pv_atomic_abort(&af);
		return rc;
	}
	return pv_atomic_commit(&af);
}

bool pv_path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}
