#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
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
#define MAX_SYMLINKS 40 /* as the kernel's MAXSYMLINKS */

/* The descriptor a path naming one of this process's streams stands for, or -1. */
static int stream_fd(const char *path, bool output)
{
	static const char *const fd_dirs[] = { "/dev/fd/", "/proc/self/fd/" };
	unsigned long n = 0;
	const char *digits = NULL;

	if (strcmp(path, "-") == 0)
		return output ? STDOUT_FILENO : STDIN_FILENO;
	if (strcmp(path, "/dev/stdin") == 0)
		return STDIN_FILENO;
	if (strcmp(path, "/dev/stdout") == 0)
		return STDOUT_FILENO;
	if (strcmp(path, "/dev/stderr") == 0)
		return STDERR_FILENO;
	for (size_t i = 0; i < sizeof(fd_dirs) / sizeof(fd_dirs[0]); i++)
		if (strncmp(path, fd_dirs[i], strlen(fd_dirs[i])) == 0)
			digits = path + strlen(fd_dirs[i]);
	if (!digits || !*digits || strlen(digits) > 9)
		return -1;
	for (const char *d = digits; *d; d++) {
		if (*d < '0' || *d > '9')
			return -1;
		n = n * 10 + (unsigned long)(*d - '0');
	}
	return (int)n;
}

static const char *file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a folder";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

static int dup_stream(int sfd, const char *path)
{
	int fd = fcntl(sfd, F_DUPFD_CLOEXEC, 3);

	if (fd < 0)
		return pv_fail_errno(errno, "file", "cannot use '%s'", path);
	return fd;
}

static int set_blocking(int fd, const char *name)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return pv_fail_errno(errno, "file", "cannot read '%s'", name);
	return PV_OK;
}

int pv_file_check_input(int fd, const char *name)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return pv_fail_errno(errno, "file", "cannot read '%s'", name);
	if (!S_ISREG(st.st_mode))
		return pv_fail(PV_ERR_INVALID, "file", "'%s' is %s, not a regular file", name,
			       file_kind(st.st_mode));
	return set_blocking(fd, name);
}

int pv_file_open_input(const char *path, unsigned flags)
{
	int sfd = stream_fd(path, false), fd, rc;

	if (sfd >= 0) {
		if (!(flags & PV_FILE_STREAMS))
			return pv_fail(PV_ERR_INVALID, "file",
				       "'%s' is a stream of this process, not a regular file", path);
		return dup_stream(sfd, path);
	}
	/* O_NONBLOCK: opening a FIFO without a writer (or some devices) would wait forever. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return pv_fail_errno(errno, "file", "cannot open '%s'", path);
	rc = pv_file_check_input(fd, path);
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

int pv_fd_read(int fd, const char *path, size_t limit, struct pv_buf *out)
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

static const char *input_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

int pv_file_read_raw(const char *path, size_t limit, struct pv_buf *out)
{
	int fd = pv_file_open_input(path, PV_FILE_STREAMS), rc;

	if (fd < 0)
		return fd;
	rc = pv_fd_read(fd, input_name(path), limit, out);
	close(fd);
	return rc;
}

/* Takes ownership of fd. */
static int read_gzip(int fd, const char *path, size_t limit, struct pv_buf *out)
{
	gzFile gz;
	int rc = PV_OK;
	size_t start = out->len;

	gz = gzdopen(fd, "rb");
	if (!gz) {
		close(fd);
		return pv_fail(PV_ERR_NOMEM, "file", "cannot open '%s': out of memory", path);
	}
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
	int fd, rc;

	fd = pv_file_open_input(path, PV_FILE_STREAMS);
	if (fd < 0)
		return fd;
	/* Streams are read as they come (no look-ahead possible); files are probed for gzip. */
	if (stream_fd(path, false) < 0 && pread(fd, magic, sizeof(magic), 0) == 2 &&
	    magic[0] == 0x1f && magic[1] == 0x8b)
		return read_gzip(fd, path, limit, out);
	rc = pv_fd_read(fd, input_name(path), limit, out);
	close(fd);
	return rc;
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

int pv_file_resolve_output(const char *path, char **out)
{
	char *cur = strdup(path), *next = NULL, *dir, target[PATH_MAX];
	unsigned links = 0;
	int rc;

	if (!cur)
		return pv_fail(PV_ERR_NOMEM, "file", "out of memory");
	for (;;) {
		struct stat st;
		ssize_t n;

		if (lstat(cur, &st) < 0) {
			if (errno == ENOENT)
				break; /* the write creates it (its folder must exist) */
			rc = pv_fail_errno(errno, "file", "cannot write '%s'", path);
			goto out_free;
		}
		if (!S_ISLNK(st.st_mode))
			break;
		if (++links > MAX_SYMLINKS) {
			rc = pv_fail(PV_ERR_INVALID, "file",
				     "cannot write '%s': more than %d symbolic links", path,
				     MAX_SYMLINKS);
			goto out_free;
		}
		n = readlink(cur, target, sizeof(target) - 1);
		if (n < 0) {
			rc = pv_fail_errno(errno, "file", "cannot read the link '%s'", cur);
			goto out_free;
		}
		target[n] = '\0';
		if (target[0] == '/') {
			next = strdup(target);
		} else {
			dir = dir_of(cur);
			if (!dir || asprintf(&next, "%s/%s", dir, target) < 0)
				next = NULL;
			free(dir);
		}
		if (!next) {
			rc = pv_fail(PV_ERR_NOMEM, "file", "out of memory");
			goto out_free;
		}
		free(cur);
		cur = next;
		next = NULL;
	}
	*out = cur;
	return PV_OK;

out_free:
	free(cur);
	return rc;
}

/* A character device or FIFO named as an output where the caller allows it (/dev/null,
 * a terminal): written in place, there is nothing to rename. */
static int open_direct(struct pv_atomic_file *af, const char *shown)
{
	int fd = open(af->final_path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0 && errno == ENXIO)
		return pv_fail(PV_ERR_IO, "file", "cannot write '%s': a FIFO with no reader",
			       shown);
	if (fd < 0)
		return pv_fail_errno(errno, "file", "cannot write '%s'", shown);
	if (set_blocking(fd, shown)) {
		close(fd);
		return PV_ERR_IO;
	}
	af->fd = fd;
	af->direct = true;
	return PV_OK;
}

/* The replaced file's owner and group go to the temporary file; only root (or a member of
 * the group, for the group) may give a file away, so a file of another user written by a
 * group member becomes the writer's: said at warning level, never a failure. */
static void keep_owner(int fd, const struct stat *old, const char *path)
{
	struct stat now;

	if (fstat(fd, &now) < 0 || (now.st_uid == old->st_uid && now.st_gid == old->st_gid))
		return;
	if (fchown(fd, old->st_uid, old->st_gid) == 0)
		return;
	if (fchown(fd, (uid_t)-1, old->st_gid) == 0 && now.st_uid == old->st_uid)
		return;
	pv_log(PV_LOG_WARN, "file", "'%s': cannot keep owner %ld:%ld (%s); it becomes %ld:%ld",
	       path, (long)old->st_uid, (long)old->st_gid, strerror(errno), (long)now.st_uid,
	       (long)now.st_gid);
}

int pv_atomic_open_flags(struct pv_atomic_file *af, const char *path, mode_t mode,
			 unsigned flags)
{
	char *copy = NULL, *dir = NULL, *base;
	struct stat old;
	bool replacing = false;
	int sfd = stream_fd(path, true), rc;

	af->fd = -1;
	af->final_path = NULL;
	af->tmp_path = NULL;
	af->direct = false;
	if (sfd >= 0) {
		if (!(flags & PV_FILE_STREAMS))
			return pv_fail(PV_ERR_INVALID, "file", "'%s' is a stream of this process; "
				       "this output must be a regular file", path);
		af->final_path = strdup(path);
		if (!af->final_path)
			return pv_fail(PV_ERR_NOMEM, "file", "out of memory");
		/* What the program printed through stdio comes first. */
		fflush(sfd == STDERR_FILENO ? stderr : stdout);
		af->fd = dup_stream(sfd, path);
		if (af->fd < 0) {
			rc = af->fd;
			goto out_free_paths;
		}
		af->direct = true;
		return PV_OK;
	}
	rc = pv_file_resolve_output(path, &af->final_path);
	if (rc)
		return rc;
	if (stat(af->final_path, &old) == 0) {
		if (S_ISREG(old.st_mode)) {
			replacing = true;
		} else if ((S_ISCHR(old.st_mode) || S_ISFIFO(old.st_mode)) &&
			   (flags & PV_FILE_STREAMS)) {
			rc = open_direct(af, path);
			if (rc)
				goto out_free_paths;
			return PV_OK;
		} else {
			rc = pv_fail(PV_ERR_INVALID, "file",
				     "cannot write '%s': it is %s, and only a regular file is ever "
				     "replaced", path, file_kind(old.st_mode));
			goto out_free_paths;
		}
	} else if (errno != ENOENT) {
		rc = pv_fail_errno(errno, "file", "cannot write '%s'", path);
		goto out_free_paths;
	}
	copy = strdup(af->final_path);
	dir = dir_of(af->final_path);
	if (!copy || !dir) {
		rc = pv_fail(PV_ERR_NOMEM, "file", "out of memory");
		goto out_free_dir;
	}
	base = basename(copy);
	if (asprintf(&af->tmp_path, "%s/.%s.XXXXXX", dir, base) < 0) {
		af->tmp_path = NULL;
		rc = pv_fail(PV_ERR_NOMEM, "file", "out of memory");
		goto out_free_dir;
	}
	af->fd = mkostemp(af->tmp_path, O_CLOEXEC);
	if (af->fd < 0) {
		rc = pv_fail_errno(errno, "file", "cannot create a temporary file in '%s' for '%s'",
				   dir, path);
		goto out_free_dir;
	}
	if (replacing) {
		/* chown first: it clears set-id bits that the chmod below puts back. */
		keep_owner(af->fd, &old, af->final_path);
		mode = old.st_mode & 07777;
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
out_free_dir:
	free(dir);
	free(copy);
out_free_paths:
	free(af->tmp_path);
	free(af->final_path);
	af->tmp_path = NULL;
	af->final_path = NULL;
	return rc;
}

int pv_atomic_open(struct pv_atomic_file *af, const char *path, mode_t mode)
{
	return pv_atomic_open_flags(af, path, mode, 0);
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
	af->direct = false;
}

/* Pipes, terminals and /dev/null cannot be synced (EINVAL): their data is gone already. */
static bool sync_failed(int fd)
{
	return fsync(fd) < 0 && errno != EINVAL && errno != EROFS && errno != ENOTSUP;
}

int pv_atomic_commit(struct pv_atomic_file *af)
{
	char *dir;
	int dirfd, rc = PV_OK;

	if (af->direct ? sync_failed(af->fd) : fsync(af->fd) < 0) {
		rc = pv_fail_errno(errno, "file", "cannot write '%s'", af->final_path);
		goto out_abort;
	}
	if (close(af->fd) < 0) {
		af->fd = -1;
		rc = pv_fail_errno(errno, "file", "cannot write '%s'", af->final_path);
		goto out_abort;
	}
	af->fd = -1;
	if (af->direct) {
		release_atomic(af);
		return PV_OK;
	}
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

int pv_file_write_atomic_flags(const char *path, const void *data, size_t len, mode_t mode,
			       unsigned flags)
{
	struct pv_atomic_file af;
	int rc = pv_atomic_open_flags(&af, path, mode, flags);

	if (rc)
		return rc;
	rc = pv_atomic_write(&af, data, len);
	if (rc) {
		pv_atomic_abort(&af);
		return rc;
	}
	return pv_atomic_commit(&af);
}

int pv_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	return pv_file_write_atomic_flags(path, data, len, mode, 0);
}

bool pv_path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}
