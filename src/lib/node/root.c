/* Paths inside a root directory. Resolution is done here, component by component, rather
 * than by the kernel: a fixture sysroot (or a mounted card) holds absolute symlinks such as
 * proc/device-tree -> /sys/firmware/devicetree/base that must land inside the root, and
 * openat2(RESOLVE_IN_ROOT) is missing on older kernels and under qemu-user. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "piprov/fileio.h"
#include "piprov/node.h"
#include "piprov/text.h"
#include "banned.h"

#define ROOT_PATH_MAX 4096
#define ROOT_MAX_SYMLINKS 40 /* as the kernel's MAXSYMLINKS */
#define READ_CHUNK 4096

int pv_node_root_open(struct pv_node_root *root, const char *path)
{
	int fd;
	char *copy;

	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return pv_fail_errno(errno, "node", "cannot open root directory '%s'", path);
	copy = strdup(path);
	if (!copy) {
		close(fd);
		return pv_fail(PV_ERR_NOMEM, "node", "out of memory");
	}
	root->fd = fd;
	root->path = copy;
	return PV_OK;
}

void pv_node_root_close(struct pv_node_root *root)
{
	if (!root)
		return;
	if (root->fd >= 0)
		close(root->fd);
	free(root->path);
	root->fd = -1;
	root->path = NULL;
}

/* Drop the last component of a canonical root-relative path ("" is the root). */
static void pop_component(char *resolved, size_t *len)
{
	while (*len > 0 && resolved[*len - 1] != '/')
		(*len)--;
	if (*len > 0)
		(*len)--; /* the slash */
	resolved[*len] = '\0';
}

int pv_node_root_resolve(const struct pv_node_root *root, const char *path, char *out,
			 size_t size)
{
	char *pending = malloc(ROOT_PATH_MAX);  /* what is still to walk */
	char *resolved = malloc(ROOT_PATH_MAX); /* canonical, symlink-free, root-relative */
	char *scratch = malloc(ROOT_PATH_MAX);
	size_t resolved_len = 0, pos = 0;
	unsigned links = 0;
	int rc = PV_OK;

	if (!pending || !resolved || !scratch) {
		rc = pv_fail(PV_ERR_NOMEM, "node", "out of memory");
		goto out_free;
	}
	if (pv_strlcpy(pending, path, ROOT_PATH_MAX) >= ROOT_PATH_MAX) {
		rc = pv_fail(PV_ERR_TOO_BIG, "node", "path '%s' is too long", path);
		goto out_free;
	}
	resolved[0] = '\0';
	for (;;) {
		char name[256];
		size_t clen, saved_len;
		struct stat st;
		ssize_t tlen;

		while (pending[pos] == '/')
			pos++;
		if (!pending[pos])
			break;
		clen = strcspn(pending + pos, "/");
		if (clen >= sizeof(name)) {
			rc = pv_fail(PV_ERR_TOO_BIG, "node", "a component of '%s' is too long",
				     path);
			goto out_free;
		}
		memcpy(name, pending + pos, clen);
		name[clen] = '\0';
		pos += clen;
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			pop_component(resolved, &resolved_len); /* clamped at the root */
			continue;
		}
		saved_len = resolved_len;
		if (resolved_len + clen + 2 > ROOT_PATH_MAX) {
			rc = pv_fail(PV_ERR_TOO_BIG, "node", "path '%s' is too long", path);
			goto out_free;
		}
		if (resolved_len)
			resolved[resolved_len++] = '/';
		memcpy(resolved + resolved_len, name, clen + 1);
		resolved_len += clen;
		if (fstatat(root->fd, resolved, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			/* A missing last component is fine: the caller may be creating it. */
			if (errno == ENOENT && pending[pos + strspn(pending + pos, "/")] == '\0')
				break;
			rc = pv_fail_errno(errno, "node", "'%s' in root '%s'", path, root->path);
			goto out_free;
		}
		if (!S_ISLNK(st.st_mode))
			continue;
		if (++links > ROOT_MAX_SYMLINKS) {
			rc = pv_fail(PV_ERR_FORMAT, "node", "too many symbolic links in '%s'", path);
			goto out_free;
		}
		tlen = readlinkat(root->fd, resolved, scratch, ROOT_PATH_MAX - 1);
		if (tlen < 0) {
			rc = pv_fail_errno(errno, "node", "cannot read link '%s' in root '%s'",
					   resolved, root->path);
			goto out_free;
		}
		scratch[tlen] = '\0';
		/* The link itself is replaced by its target, relative to its directory or, for
		 * an absolute target, to the root. */
		resolved_len = saved_len;
		resolved[resolved_len] = '\0';
		if (scratch[0] == '/') {
			resolved_len = 0;
			resolved[0] = '\0';
		}
		if ((size_t)tlen + 1 + strlen(pending + pos) + 1 > ROOT_PATH_MAX) {
			rc = pv_fail(PV_ERR_TOO_BIG, "node", "path '%s' is too long", path);
			goto out_free;
		}
		scratch[tlen] = '/';
		memcpy(scratch + tlen + 1, pending + pos, strlen(pending + pos) + 1);
		memcpy(pending, scratch, strlen(scratch) + 1);
		pos = 0;
	}
	if (pv_strlcpy(out, resolved_len ? resolved : ".", size) >= size)
		rc = pv_fail(PV_ERR_TOO_BIG, "node", "path '%s' is too long", path);
out_free:
	free(scratch);
	free(resolved);
	free(pending);
	return rc;
}

int pv_node_root_openat(const struct pv_node_root *root, const char *path, int flags,
			mode_t mode)
{
	char resolved[ROOT_PATH_MAX];
	int rc, fd;

	rc = pv_node_root_resolve(root, path, resolved, sizeof(resolved));
	if (rc)
		return rc;
	/* O_NOFOLLOW: the resolved path is symlink-free unless it changed under us. */
	fd = openat(root->fd, resolved, flags | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return pv_fail_errno(errno, "node", "cannot open '%s' in root '%s'", path,
				     root->path);
	return fd;
}

int pv_node_root_read(const struct pv_node_root *root, const char *path, size_t limit,
		      struct pv_buf *out)
{
	size_t start = out->len;
	char shown[ROOT_PATH_MAX + 2];
	int fd, rc = PV_OK;

	/* Non-blocking open, then only a regular file is read: a FIFO or device put under the
	 * root (proc/cpuinfo as a FIFO, nvmem linked to /dev/zero) must not hang or stream. */
	fd = pv_node_root_openat(root, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0)
		return fd;
	snprintf(shown, sizeof(shown), "/%s", path[0] == '/' ? path + 1 : path);
	if (pv_file_check_input(fd, shown)) {
		char detail[ROOT_PATH_MAX + 64];

		pv_strlcpy(detail, pv_last_error(), sizeof(detail));
		close(fd);
		return pv_fail(PV_ERR_INVALID, "node", "%s (in root '%s')", detail, root->path);
	}
	for (;;) {
		unsigned char chunk[READ_CHUNK];
		ssize_t got = read(fd, chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = pv_fail_errno(errno, "node", "cannot read '%s' in root '%s'", path,
					   root->path);
			break;
		}
		if (got == 0)
			break;
		if (out->len - start + (size_t)got > limit) {
			rc = pv_fail(PV_ERR_TOO_BIG, "node",
				     "'%s' in root '%s' is larger than %zu bytes", path,
				     root->path, limit);
			break;
		}
		rc = pv_buf_append(out, chunk, (size_t)got);
		if (rc) {
			rc = pv_fail(rc, "node", "cannot read '%s': %s", path, pv_strerror(rc));
			break;
		}
	}
	close(fd);
	if (rc)
		pv_buf_truncate(out, start);
	return rc;
}

bool pv_node_root_exists(const struct pv_node_root *root, const char *path)
{
	char resolved[ROOT_PATH_MAX];
	struct stat st;

	if (pv_node_root_resolve(root, path, resolved, sizeof(resolved)))
		return false;
	return fstatat(root->fd, resolved, &st, 0) == 0;
}
