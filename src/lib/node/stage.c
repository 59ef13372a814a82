/* Writing into the boot partition (and the backup folder) so that a failure at any point
 * leaves nothing half-done: every file goes to a hidden temporary name first, is fsynced,
 * and only when all of them are complete are they renamed into place, the trigger
 * (recovery.bin) last. A full disk or an unreadable partition therefore leaves the folder
 * as it was (apart from stale update files, which rpi-eeprom-update removes as well). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "piprov/node.h"
#include "piprov/text.h"
#include "banned.h"

#define STAGE_MAX_FILES 8
#define TEMP_NAME_MAX 96

/* rpi-eeprom-update removePreviousUpdates(): a stale pieeprom.upd would re-flash an old
 * config at the next boot (rpi-eeprom #121). */
static const char *const stale_names[] = {
	"pieeprom.bin", "pieeprom.upd", "pieeprom.sig", "recovery.bin",
	"vl805.bin", "vl805.sig",
};

static long default_write(void *ctx, int fd, const void *data, size_t len)
{
	(void)ctx;
	return (long)write(fd, data, len);
}

static int write_all_hooked(const struct pv_node_io_hooks *hooks, int fd, const void *data,
			    size_t len)
{
	long (*fn)(void *, int, const void *, size_t) =
		hooks && hooks->write ? hooks->write : default_write;
	const unsigned char *p = data;

	while (len > 0) {
		long n = fn(hooks ? hooks->ctx : NULL, fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void remove_stale(int dirfd)
{
	char name[32];

	for (size_t i = 0; i < PV_ARRAY_SIZE(stale_names); i++)
		unlinkat(dirfd, stale_names[i], 0);
	/* recovery.bin renames itself recovery.000, .001, ... once it has run. */
	for (unsigned n = 0; n < 1000; n++) {
		snprintf(name, sizeof(name), "recovery.%03u", n);
		if (unlinkat(dirfd, name, 0) < 0 && errno == ENOENT && n > 0)
			break;
		snprintf(name, sizeof(name), "RECOVERY.%03u", n);
		unlinkat(dirfd, name, 0);
	}
}

/* mkdir -p of a directory inside the root: each prefix is resolved (so links inside the
 * root are followed) once its parent exists. */
static int make_dirs(const struct pv_node_root *root, const char *dir)
{
	char prefix[1024], resolved[1024];
	size_t len = strlen(dir);

	if (len >= sizeof(prefix))
		return pv_fail(PV_ERR_TOO_BIG, "node", "path '%s' is too long", dir);
	for (size_t i = 0; i < len; i++) {
		int rc;
		if (dir[i] == '/' || (dir[i + 1] != '/' && dir[i + 1] != '\0'))
			continue;
		memcpy(prefix, dir, i + 1);
		prefix[i + 1] = '\0';
		rc = pv_node_root_resolve(root, prefix, resolved, sizeof(resolved));
		if (rc)
			return rc;
		if (mkdirat(root->fd, resolved, 0755) < 0 && errno != EEXIST)
			return pv_fail_errno(errno, "node", "cannot create '%s' in root '%s'", prefix,
					     root->path);
	}
	return PV_OK;
}

static int stage_files(const struct pv_node_root *root, const char *dir,
		       const struct pv_node_stage_file *files, size_t count,
		       const struct pv_node_io_hooks *hooks, bool stale)
{
	char temps[STAGE_MAX_FILES][TEMP_NAME_MAX];
	size_t written = 0, renamed = 0;
	int dirfd, rc = PV_OK;

	if (count > STAGE_MAX_FILES)
		return pv_fail(PV_ERR_INVALID, "node", "too many files to stage");
	dirfd = pv_node_root_openat(root, dir, O_RDONLY | O_DIRECTORY, 0);
	if (dirfd < 0) {
		char detail[300];
		pv_strlcpy(detail, pv_last_error(), sizeof(detail));
		return pv_fail(dirfd, "node", "boot partition '/%s' is not usable: %s", dir, detail);
	}
	for (; written < count; written++) {
		const struct pv_node_stage_file *f = &files[written];
		int fd, err;
		snprintf(temps[written], TEMP_NAME_MAX, ".%s.piprov-%ld-%zu", f->name, (long)getpid(),
			 written);
		fd = openat(dirfd, temps[written], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			rc = pv_fail_errno(errno, "node", "cannot create '/%s/%s'", dir,
					   temps[written]);
			goto out_remove_temps;
		}
		err = write_all_hooked(hooks, fd, f->data, f->len);
		if (!err && fsync(fd) < 0)
			err = -errno;
		if (close(fd) < 0 && !err)
			err = -errno;
		if (err) {
			written++; /* this temporary exists and must go too */
			rc = pv_fail_errno(-err, "node", "cannot write '/%s/%s' (%zu bytes); nothing "
					   "was staged", dir, f->name, f->len);
			goto out_remove_temps;
		}
	}
	if (stale)
		remove_stale(dirfd);
	for (; renamed < count; renamed++) {
		if (renameat(dirfd, temps[renamed], dirfd, files[renamed].name) < 0) {
			rc = pv_fail_errno(errno, "node", "cannot rename '/%s/%s' into place; nothing "
					   "was staged", dir, files[renamed].name);
			goto out_remove_renamed;
		}
	}
	if (fsync(dirfd) < 0)
		pv_log(PV_LOG_WARN, "node", "fsync of '/%s' failed: %s", dir, strerror(errno));
	close(dirfd);
	return PV_OK;

out_remove_renamed:
	for (size_t i = 0; i < renamed; i++)
		unlinkat(dirfd, files[i].name, 0);
out_remove_temps:
	for (size_t i = renamed; i < written; i++)
		unlinkat(dirfd, temps[i], 0);
	fsync(dirfd);
	close(dirfd);
	return rc;
}

int pv_node_stage(const struct pv_node_root *root, const char *dir,
		  const struct pv_node_stage_file *files, size_t count,
		  const struct pv_node_io_hooks *hooks)
{
	return stage_files(root, dir, files, count, hooks, true);
}

int pv_node_write_file(const struct pv_node_root *root, const char *dir, const char *name,
		       const void *data, size_t len, const struct pv_node_io_hooks *hooks)
{
	struct pv_node_stage_file f = { name, data, len };
	int rc = make_dirs(root, dir);

	if (rc)
		return rc;
	return stage_files(root, dir, &f, 1, hooks, false);
}
