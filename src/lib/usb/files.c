/* The files a device may read: memory files (images built for its SoC), then the served
 * folder in rpiboot's lookup order, including the members of bootfiles.bin.
 *
 * Safety: the folder is opened once and every name is resolved beneath it with openat2(2)
 * RESOLVE_BENEATH, so "..", absolute symlinks and symlinks climbing out are refused by the
 * kernel itself; where openat2 is missing each component is opened with O_NOFOLLOW, which
 * refuses every symlink. Names were already checked by pv_usb_name_is_safe. Nothing outside
 * the folder is ever opened, not even to look at it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "piprov/board.h"
#include "piprov/text.h"
#include "piprov/usb_protocol.h"
#include "banned.h"

#define TAR_BLOCK 512
#define TAR_NAME_MAX 100
#define BOOTFILES_MEMBERS_MAX 4096
#define BOOTFILES_SIZE_MAX (256ull << 20)

struct tar_member {
	char name[TAR_NAME_MAX + 1];
	uint64_t offset;
	uint64_t size;
};

struct pv_usb_files {
	int dir_fd;                  /* O_PATH descriptor of the served folder, -1 when none */
	char *dir;
	int msd_fd;                  /* rpiboot's msd/ files (embedded fallback), -1 when none */
	char *msd_dir;
	bool overlay;
	const struct pv_usb_memfile *memfiles;
	size_t memfile_count;
	int bootfiles_fd;            /* -1 when not in bootfiles mode */
	struct tar_member *members;
	size_t member_count;
	pv_usb_opened_fn opened;
	void *opened_user;
};

/* Component-by-component fallback: every symlink is refused. */
static int open_nofollow(int dir_fd, const char *relative)
{
	char part[PV_USB_NAME_MAX + 64];
	int fd = dup(dir_fd);
	const char *p = relative;

	if (fd < 0)
		return -1;
	while (fd >= 0) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		int next;

		if (len >= sizeof(part)) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(part, p, len);
		part[len] = '\0';
		next = openat(fd, part,
			      (slash ? O_PATH | O_DIRECTORY : O_RDONLY | O_NOCTTY | O_NONBLOCK) |
				      O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (!slash)
			return next;
		fd = next;
		p = slash + 1;
	}
	return -1;
}

static int open_beneath(int dir_fd, const char *relative)
{
	struct open_how how = {
		.flags = O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dir_fd, relative, &how, sizeof(how));

	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		return open_nofollow(dir_fd, relative); /* old kernel or seccomp filter */
	return (int)fd;
}

static int parse_octal(const unsigned char *field, size_t len, uint64_t *out)
{
	uint64_t value = 0;
	size_t i = 0;

	while (i < len && field[i] == ' ')
		i++;
	if (i == len || field[i] < '0' || field[i] > '7')
		return PV_ERR_FORMAT;
	for (; i < len && field[i] >= '0' && field[i] <= '7'; i++) {
		if (value > (UINT64_MAX >> 3))
			return PV_ERR_FORMAT;
		value = value << 3 | (uint64_t)(field[i] - '0');
	}
	for (; i < len; i++)
		if (field[i] != ' ' && field[i] != '\0')
			return PV_ERR_FORMAT;
	*out = value;
	return PV_OK;
}

/* Index bootfiles.bin (a plain tar) once, so requests never re-read the archive. */
static int index_bootfiles(struct pv_usb_files *files)
{
	struct stat st;
	uint64_t pos = 0;
	unsigned char header[TAR_BLOCK];

	if (fstat(files->bootfiles_fd, &st) < 0)
		return pv_fail_errno(errno, "usb", "'%s/bootfiles.bin'", files->dir);
	if ((uint64_t)st.st_size > BOOTFILES_SIZE_MAX)
		return pv_fail(PV_ERR_TOO_BIG, "usb", "'%s/bootfiles.bin': over 256 MiB",
			       files->dir);
	while (pos + TAR_BLOCK <= (uint64_t)st.st_size) {
		struct tar_member *member, *grown;
		uint64_t size;
		size_t name_len;
		ssize_t got = pread(files->bootfiles_fd, header, sizeof(header), (off_t)pos);
		bool zero = true;

		if (got != TAR_BLOCK)
			return pv_fail(PV_ERR_IO, "usb", "'%s/bootfiles.bin': short read at %llu",
				       files->dir, (unsigned long long)pos);
		for (size_t i = 0; i < TAR_BLOCK && zero; i++)
			zero = header[i] == 0;
		if (zero)
			break;
		if (parse_octal(header + 124, 12, &size) ||
		    size > (uint64_t)st.st_size - pos - TAR_BLOCK)
			return pv_fail(PV_ERR_FORMAT, "usb",
				       "'%s/bootfiles.bin': bad tar header at offset %llu",
				       files->dir, (unsigned long long)pos);
		name_len = strnlen((const char *)header, TAR_NAME_MAX);
		/* Regular files only ('0' or the old NUL type); directories are skipped. */
		if ((header[156] == '0' || header[156] == '\0') && name_len > 0) {
			if (files->member_count >= BOOTFILES_MEMBERS_MAX)
				return pv_fail(PV_ERR_TOO_BIG, "usb",
					       "'%s/bootfiles.bin': more than %d members",
					       files->dir, BOOTFILES_MEMBERS_MAX);
			grown = realloc(files->members,
					(files->member_count + 1) * sizeof(*files->members));
			if (!grown)
				return pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
			files->members = grown;
			member = &files->members[files->member_count++];
			memcpy(member->name, header, name_len);
			member->name[name_len] = '\0';
			member->offset = pos + TAR_BLOCK;
			member->size = size;
		}
		pos += TAR_BLOCK + (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
	}
	pv_log(PV_LOG_DEBUG, "usb", "'%s/bootfiles.bin': %zu members", files->dir,
	       files->member_count);
	return PV_OK;
}

int pv_usb_files_new(const struct pv_usb_files_config *config, struct pv_usb_files **out)
{
	struct pv_usb_files *files = calloc(1, sizeof(*files));
	int rc;

	if (!files)
		return pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
	files->dir_fd = -1;
	files->bootfiles_fd = -1;
	files->msd_fd = -1;
	files->overlay = config->overlay;
	files->memfiles = config->memfiles;
	files->memfile_count = config->memfile_count;
	files->opened = config->opened;
	files->opened_user = config->opened_user;
	if (config->dir) {
		files->dir = strdup(config->dir);
		if (!files->dir) {
			rc = pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
			goto out_free_files;
		}
		files->dir_fd = open(config->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (files->dir_fd < 0) {
			rc = pv_fail_errno(errno, "usb", "served folder '%s'", config->dir);
			goto out_free_files;
		}
		if (config->use_bootfiles) {
			files->bootfiles_fd = open_beneath(files->dir_fd, "bootfiles.bin");
			if (files->bootfiles_fd >= 0) {
				rc = index_bootfiles(files);
				if (rc)
					goto out_free_files;
			}
		}
	}
	if (config->msd_dir) {
		files->msd_dir = strdup(config->msd_dir);
		if (!files->msd_dir) {
			rc = pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
			goto out_free_files;
		}
		files->msd_fd = open(config->msd_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (files->msd_fd < 0) {
			rc = pv_fail_errno(errno, "usb", "rpiboot msd folder '%s'", config->msd_dir);
			goto out_free_files;
		}
	}
	*out = files;
	return PV_OK;

out_free_files:
	pv_usb_files_free(files);
	return rc;
}

void pv_usb_files_free(struct pv_usb_files *files)
{
	if (!files)
		return;
	if (files->bootfiles_fd >= 0)
		close(files->bootfiles_fd);
	if (files->dir_fd >= 0)
		close(files->dir_fd);
	if (files->msd_fd >= 0)
		close(files->msd_fd);
	free(files->members);
	free(files->dir);
	free(files->msd_dir);
	free(files);
}

static void report_open(struct pv_usb_files *files, const char *port_path,
			struct pv_usb_served_file *file)
{
	pv_log(PV_LOG_DEBUG, "usb", "%s: serving '%s' (%llu bytes)", port_path, file->path,
	       (unsigned long long)file->size);
	if (files->opened)
		files->opened(files->opened_user, port_path, file->path);
}

/* <folder>/<relative>: a regular file beneath the folder, or NOT_FOUND. */
static int try_beneath(int dir_fd, const char *dir, const char *relative,
		       struct pv_usb_served_file *out)
{
	struct stat st;
	int fd;

	if (dir_fd < 0 || strlen(relative) >= sizeof(out->path))
		return PV_ERR_NOT_FOUND;
	fd = open_beneath(dir_fd, relative);
	if (fd < 0) {
		if (errno == EXDEV || errno == ELOOP)
			pv_log(PV_LOG_WARN, "usb", "'%s/%s' leads out of the served folder: refused",
			       dir, relative);
		return PV_ERR_NOT_FOUND;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return PV_ERR_NOT_FOUND;
	}
	/* The file was opened non-blocking so a FIFO could not stall the open; reads are
	 * pread on a regular file, unaffected. */
	out->fd = fd;
	out->owns_fd = true;
	out->data = NULL;
	out->offset = 0;
	out->size = (uint64_t)st.st_size;
	pv_strlcpy(out->path, relative, sizeof(out->path));
	out->origin = PV_USB_ORIGIN_FOLDER;
	return PV_OK;
}

static int try_folder(struct pv_usb_files *files, const char *relative,
		      struct pv_usb_served_file *out)
{
	return try_beneath(files->dir_fd, files->dir, relative, out);
}

/* What rpiboot embeds (its msd/ folder): the SoC's second stage, and msd/start.elf under
 * the name the SoC's bootloader asks for. */
static int try_msd(struct pv_usb_files *files, const char *chip, const char *name,
		   struct pv_usb_served_file *out)
{
	const struct pv_soc_info *soc = pv_soc_by_rpiboot_folder(chip);
	const char *file = NULL;

	if (files->msd_fd < 0 || !soc)
		return PV_ERR_NOT_FOUND;
	if (soc->rpiboot_msd_second_stage && strcmp(name, soc->second_stage) == 0)
		file = soc->second_stage;
	else if (soc->rpiboot_msd_start && strcmp(name, soc->rpiboot_msd_start) == 0)
		file = "start.elf";
	if (!file || try_beneath(files->msd_fd, files->msd_dir, file, out) != PV_OK)
		return PV_ERR_NOT_FOUND;
	snprintf(out->path, sizeof(out->path), "%s/%s", files->msd_dir, file);
	out->origin = PV_USB_ORIGIN_MSD;
	return PV_OK;
}

static int try_member(struct pv_usb_files *files, const char *chip, const char *name,
		      struct pv_usb_served_file *out)
{
	char wanted[TAR_NAME_MAX + 2];

	if (files->bootfiles_fd < 0 ||
	    (size_t)snprintf(wanted, sizeof(wanted), "%s/%s", chip, name) >= sizeof(wanted))
		return PV_ERR_NOT_FOUND;
	for (size_t i = 0; i < files->member_count; i++) {
		if (strcasecmp(files->members[i].name, wanted) != 0)
			continue;
		out->fd = files->bootfiles_fd;
		out->owns_fd = false;
		out->data = NULL;
		out->offset = files->members[i].offset;
		out->size = files->members[i].size;
		snprintf(out->path, sizeof(out->path), "bootfiles.bin:%s", files->members[i].name);
		out->origin = PV_USB_ORIGIN_BOOTFILES;
		return PV_OK;
	}
	return PV_ERR_NOT_FOUND;
}

int pv_usb_files_open(struct pv_usb_files *files, const char *chip, const char *port_path,
		      const char *name, struct pv_usb_served_file *out)
{
	char relative[PV_USB_NAME_MAX + PV_USB_PORT_PATH_MAX + 8];
	struct pv_usb_served_file file;

	if (!pv_usb_name_is_safe(name))
		return PV_ERR_NOT_FOUND;
	for (size_t i = 0; i < files->memfile_count; i++) {
		if (strcmp(files->memfiles[i].name, name) == 0) {
			file.fd = -1;
			file.owns_fd = false;
			file.data = files->memfiles[i].data;
			file.offset = 0;
			file.size = files->memfiles[i].size;
			snprintf(file.path, sizeof(file.path), "memory:%s", name);
			file.origin = PV_USB_ORIGIN_MEMORY;
			goto found;
		}
	}
	if (files->bootfiles_fd >= 0) {
		snprintf(relative, sizeof(relative), "%s/%s", chip, name);
		if (try_folder(files, relative, &file) == PV_OK) {
			file.origin = PV_USB_ORIGIN_BOOTFILES_OVERLAY;
			goto found;
		}
		if (try_member(files, chip, name, &file) == PV_OK)
			goto found;
	}
	if (files->overlay && port_path[0] && pv_usb_name_is_safe(port_path)) {
		snprintf(relative, sizeof(relative), "%s/%s", port_path, name);
		if (try_folder(files, relative, &file) == PV_OK)
			goto found;
	}
	snprintf(relative, sizeof(relative), "%s/%s", chip, name);
	if (try_folder(files, relative, &file) == PV_OK || try_folder(files, name, &file) == PV_OK ||
	    try_msd(files, chip, name, &file) == PV_OK)
		goto found;
	return PV_ERR_NOT_FOUND;

found:
	report_open(files, port_path, &file);
	*out = file;
	return PV_OK;
}

void pv_usb_served_file_close(struct pv_usb_served_file *file)
{
	if (file->owns_fd && file->fd >= 0)
		close(file->fd);
	file->fd = -1;
	file->owns_fd = false;
	file->data = NULL;
	file->size = 0;
}

int pv_usb_served_file_read(const struct pv_usb_served_file *file, uint64_t pos, void *buf,
			    size_t len, size_t *got)
{
	ssize_t n;

	if (pos >= file->size) {
		*got = 0;
		return PV_OK;
	}
	if (len > file->size - pos)
		len = (size_t)(file->size - pos);
	if (file->data) {
		memcpy(buf, file->data + pos, len);
		*got = len;
		return PV_OK;
	}
	do
		n = pread(file->fd, buf, len, (off_t)(file->offset + pos));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return pv_fail_errno(errno, "usb", "'%s': read", file->path);
	if ((size_t)n < len)
		return pv_fail(PV_ERR_IO, "usb", "'%s': shrank while being served", file->path);
	*got = (size_t)n;
	return PV_OK;
}
