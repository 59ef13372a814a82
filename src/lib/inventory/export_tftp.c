/* The TFTP tree: one folder per board named as its bootloader asks for it (8-digit serial,
 * dashed MAC or TFTP_PREFIX_STR), holding the template's boot files (symlinks or copies) and
 * a cmdline.txt that mounts the board's own NFS root. Everything piprov creates is listed in
 * <root>/.piprov-manifest; what it did not create it never changes or removes.
 *
 * The links are relative ("../pi-boot/start4.elf"): tftpd-hpa runs chrooted into the root
 * (-s, since the boards ask relative paths), where an absolute link points at nothing. A
 * template outside the root cannot be reached from such a chroot at all: that is warned. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "inventory_internal.h"
#include "piprov/fileio.h"
#include "piprov/inventory_export.h"
#include "piprov/text.h"
#include "strset.h"
#include "banned.h"

#define MANIFEST_NAME ".piprov-manifest"
#define MANIFEST_MAX_SIZE ((size_t)64 * 1024 * 1024)
#define CMDLINE_MAX_SIZE 4096
#define COPY_MAX_DEPTH 16

struct manifest {
	char **paths; /* relative to the root, in the order they were added */
	size_t count, cap;
	struct pv_strset known; /* the same paths, for lookups (a scan was quadratic) */
};

static bool manifest_has(const struct manifest *m, const char *rel)
{
	return pv_strset_contains(&m->known, rel, strlen(rel));
}

static int manifest_add(struct manifest *m, const char *rel)
{
	char *copy;
	int added = pv_strset_add(&m->known, rel, strlen(rel), NULL);

	if (added < 0)
		return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
	if (!added)
		return PV_OK;
	if (m->count == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		char **paths = realloc(m->paths, cap * sizeof(*paths));
		if (!paths)
			return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
		m->paths = paths;
		m->cap = cap;
	}
	copy = strdup(rel);
	if (!copy)
		return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
	m->paths[m->count++] = copy;
	return PV_OK;
}

static void manifest_release(struct manifest *m)
{
	for (size_t i = 0; i < m->count; i++)
		free(m->paths[i]);
	free(m->paths);
	m->paths = NULL;
	m->count = m->cap = 0;
	pv_strset_release(&m->known);
}

static int manifest_load(const char *path, struct manifest *m)
{
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX);
	char *line, *next;
	int rc = pv_file_read_raw(path, MANIFEST_MAX_SIZE, &text);

	if (rc == PV_ERR_NOT_FOUND) {
		pv_clear_error();
		return PV_OK;
	}
	for (line = (char *)text.data; !rc && line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* Only plain relative paths: a tampered manifest must not reach outside root. */
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (line[0] == '/' || strstr(line, "..")) {
			rc = pv_fail(PV_ERR_FORMAT, "inventory", "'%s': bad entry '%s'", path, line);
			break;
		}
		rc = manifest_add(m, line);
	}
	pv_buf_release(&text);
	return rc;
}

static int compare_paths(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int manifest_save(const char *path, struct manifest *m)
{
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX);
	int rc;

	qsort(m->paths, m->count, sizeof(*m->paths), compare_paths);
	rc = pv_buf_append_str(&text, "# Files and folders piprov inventory export tftp created "
				      "(it removes only these).\n");
	for (size_t i = 0; i < m->count && !rc; i++)
		rc = pv_buf_appendf(&text, "%s\n", m->paths[i]);
	if (!rc)
		rc = pv_file_write_atomic(path, text.data, text.len, 0644);
	pv_buf_release(&text);
	return rc;
}

static int copy_file(const char *src, const char *dst, mode_t mode)
{
	struct pv_buf data = PV_BUF_INIT(SIZE_MAX);
	int rc = pv_file_read_raw(src, (size_t)1 << 30, &data);

	if (!rc)
		rc = pv_file_write_atomic(dst, data.data ? data.data : (const unsigned char *)"",
					  data.len, mode & 0777);
	pv_buf_release(&data);
	return rc;
}

static int copy_tree(const char *src, const char *dst, int depth)
{
	struct stat st;
	DIR *dir;
	struct dirent *ent;
	int rc = PV_OK;

	if (depth > COPY_MAX_DEPTH)
		return pv_fail(PV_ERR_TOO_BIG, "inventory", "'%s': folders nested too deep", src);
	if (lstat(src, &st) < 0)
		return pv_fail_errno(errno, "inventory", "cannot read '%s'", src);
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(src, target, sizeof(target) - 1);
		if (n < 0)
			return pv_fail_errno(errno, "inventory", "cannot read link '%s'", src);
		target[n] = '\0';
		if (symlink(target, dst) < 0)
			return pv_fail_errno(errno, "inventory", "cannot create '%s'", dst);
		return PV_OK;
	}
	if (S_ISREG(st.st_mode))
		return copy_file(src, dst, st.st_mode);
	if (!S_ISDIR(st.st_mode))
		return PV_OK; /* devices and sockets have no place in a boot folder */
	if (mkdir(dst, 0755) < 0)
		return pv_fail_errno(errno, "inventory", "cannot create '%s'", dst);
	dir = opendir(src);
	if (!dir)
		return pv_fail_errno(errno, "inventory", "cannot read '%s'", src);
	while (!rc && (ent = readdir(dir)) != NULL) {
		char *s, *d;
		if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
			continue;
		if (asprintf(&s, "%s/%s", src, ent->d_name) < 0)
			rc = pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
		else if (asprintf(&d, "%s/%s", dst, ent->d_name) < 0) {
			free(s);
			rc = pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
		} else {
			rc = copy_tree(s, d, depth + 1);
			free(s);
			free(d);
		}
	}
	closedir(dir);
	return rc;
}

/* The template's kernel arguments without the ones that say where the root is. */
static int base_cmdline(const char *template_dir, struct pv_buf *out)
{
	static const char *const replaced[] = { "root=", "nfsroot=", "ip=", "rootwait", "rw",
						 "ro", "rootfstype=", "init=" };
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX);
	char *path, *word, *save = NULL;
	int rc = PV_OK;

	if (!template_dir)
		return PV_OK;
	if (asprintf(&path, "%s/cmdline.txt", template_dir) < 0)
		return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
	rc = pv_file_read_raw(path, CMDLINE_MAX_SIZE, &text);
	if (rc == PV_ERR_NOT_FOUND) {
		pv_clear_error();
		rc = PV_OK;
		goto out_free;
	}
	for (word = strtok_r(rc ? NULL : (char *)text.data, " \t\r\n", &save); !rc && word;
	     word = strtok_r(NULL, " \t\r\n", &save)) {
		bool drop = false;
		for (size_t i = 0; i < PV_ARRAY_SIZE(replaced); i++) {
			size_t n = strlen(replaced[i]);
			drop |= replaced[i][n - 1] == '=' ? strncmp(word, replaced[i], n) == 0
							  : strcmp(word, replaced[i]) == 0;
		}
		if (!drop)
			rc = pv_buf_appendf(out, "%s ", word);
	}
out_free:
	pv_buf_release(&text);
	free(path);
	return rc;
}

struct tftp_job {
	const struct pv_export_opts *opts;
	struct pv_export_net net;
	struct pv_tftp_report *report;
	struct manifest manifest;
	char *root_abs;
	char *template_abs;
	struct pv_buf base_cmdline;
};

/* target as a path relative to the folder from_dir (both absolute and canonical): the
 * common leading folders dropped, one "../" per folder of from_dir below them. */
static int relative_path(const char *from_dir, const char *target, char *out, size_t size)
{
	size_t common = 0, n = 0, len = strlen(from_dir);
	int written;

	if (strncmp(from_dir, target, len) == 0 && target[len] == '/') {
		common = len; /* target lies inside from_dir */
	} else {
		for (size_t i = 0; from_dir[i] && from_dir[i] == target[i]; i++)
			if (from_dir[i] == '/')
				common = i;
	}
	for (const char *p = from_dir + common; *p; p++) {
		if (*p != '/')
			continue;
		if (n + 3 >= size)
			return PV_ERR_TOO_BIG;
		memcpy(out + n, "../", 3);
		n += 3;
	}
	written = snprintf(out + n, size - n, "%s", target + common + 1);
	return written < 0 || (size_t)written >= size - n ? PV_ERR_TOO_BIG : PV_OK;
}

static int place_entry(struct tftp_job *job, const char *rel, const char *name)
{
	char *src = NULL, *dst = NULL, *link_dir = NULL;
	char target[PATH_MAX], link_text[PATH_MAX];
	struct stat st;
	int rc = PV_OK;

	if (asprintf(&src, "%s/%s", job->template_abs, name) < 0 ||
	    asprintf(&dst, "%s/%s", job->opts->tftp_root, rel) < 0 ||
	    asprintf(&link_dir, "%s/%.*s", strcmp(job->root_abs, "/") ? job->root_abs : "",
		     (int)(strrchr(rel, '/') - rel), rel) < 0) {
		rc = pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
		goto out_free;
	}
	if (!job->opts->copy && relative_path(link_dir, src, link_text, sizeof(link_text))) {
		rc = pv_fail(PV_ERR_TOO_BIG, "inventory", "'%s': path too long", src);
		goto out_free;
	}
	if (lstat(dst, &st) == 0) {
		if (!manifest_has(&job->manifest, rel)) {
			job->report->kept++;
			goto out_free;
		}
		/* Ours: a link that points elsewhere (template moved, or an absolute link of an
		 * older piprov) is redirected. */
		if (!job->opts->copy && S_ISLNK(st.st_mode)) {
			ssize_t n = readlink(dst, target, sizeof(target) - 1);
			if (n >= 0 && ((void)(target[n] = '\0'), strcmp(target, link_text) != 0)) {
				if (unlink(dst) < 0 || symlink(link_text, dst) < 0) {
					rc = pv_fail_errno(errno, "inventory", "cannot update '%s'",
							   dst);
					goto out_free;
				}
				job->report->updated++;
			}
		}
		goto out_free;
	}
	if (job->opts->copy)
		rc = copy_tree(src, dst, 0);
	else if (symlink(link_text, dst) < 0)
		rc = pv_fail_errno(errno, "inventory", "cannot create '%s'", dst);
	if (!rc) {
		rc = manifest_add(&job->manifest, rel);
		job->report->created++;
	}
out_free:
	free(src);
	free(dst);
	free(link_dir);
	return rc;
}

static int write_cmdline(struct tftp_job *job, const char *dir, const char *rel)
{
	struct pv_buf want = PV_BUF_INIT(CMDLINE_MAX_SIZE), have = PV_BUF_INIT(SIZE_MAX);
	char server[16], *path;
	int rc;

	if (asprintf(&path, "%s/%s", job->opts->tftp_root, rel) < 0)
		return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
	pv_ipv4_format(job->net.nfs_server, server);
	rc = pv_buf_append(&want, job->base_cmdline.data ? job->base_cmdline.data
							 : (const unsigned char *)"",
			   job->base_cmdline.len);
	if (!rc)
		rc = pv_buf_appendf(&want, "root=/dev/nfs nfsroot=%s:%s/%s,vers=3 rw ip=dhcp "
					   "rootwait\n", server, job->opts->nfs_root, dir);
	if (rc) {
		rc = pv_fail(rc, "inventory", "cmdline.txt for '%s' is too long", dir);
		goto out_free;
	}
	if (pv_path_exists(path)) {
		if (!manifest_has(&job->manifest, rel)) {
			job->report->kept++;
			goto out_free;
		}
		if (pv_file_read_raw(path, CMDLINE_MAX_SIZE, &have) == PV_OK &&
		    have.len == want.len && memcmp(have.data, want.data, want.len) == 0)
			goto out_free;
		job->report->updated++;
	} else {
		job->report->created++;
	}
	rc = pv_file_write_atomic(path, want.data, want.len, 0644);
	if (!rc)
		rc = manifest_add(&job->manifest, rel);
out_free:
	pv_clear_error();
	pv_buf_release(&want);
	pv_buf_release(&have);
	free(path);
	return rc;
}

/* A board whose root is not exported (no address) gets no cmdline.txt: one naming an NFS
 * root /etc/exports leaves out would only fail later, at mount time. A cmdline.txt piprov
 * wrote earlier goes (its manifest entry stays: it may come back). */
static int drop_cmdline(struct tftp_job *job, const char *rel)
{
	char *path;
	int rc = PV_OK;

	if (job->report->no_nfs++ < 10)
		pv_log(PV_LOG_WARN, "inventory",
		       "'%s': no cmdline.txt: the board has no address, so its NFS root is not "
		       "exported (give it an IP, or --subnet NETWORK/PREFIX in proxy mode)", rel);
	if (!manifest_has(&job->manifest, rel))
		return PV_OK;
	if (asprintf(&path, "%s/%s", job->opts->tftp_root, rel) < 0)
		return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
	if (unlink(path) < 0 && errno != ENOENT)
		rc = pv_fail_errno(errno, "inventory", "cannot remove '%s'", path);
	else
		job->report->pruned++;
	free(path);
	return rc;
}

static int export_board(struct tftp_job *job, const struct pv_inventory_record *rec,
			const char *dir)
{
	uint32_t client;
	unsigned prefix;
	bool exported = pv_export_net_client(&job->net, rec, &client, &prefix);
	struct stat st;
	char *path, *rel;
	DIR *tdir;
	struct dirent *ent;
	int rc = PV_OK;

	if (asprintf(&path, "%s/%s", job->opts->tftp_root, dir) < 0)
		return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
	if (lstat(path, &st) < 0) {
		if (mkdir(path, 0755) < 0) {
			rc = pv_fail_errno(errno, "inventory", "cannot create '%s'", path);
			goto out_free_path;
		}
		rc = manifest_add(&job->manifest, dir);
		job->report->created++;
	} else if (!S_ISDIR(st.st_mode)) {
		job->report->kept++; /* someone else's file has the folder's name */
		goto out_free_path;
	}
	if (!rc && job->template_abs) {
		tdir = opendir(job->template_abs);
		if (!tdir) {
			rc = pv_fail_errno(errno, "inventory", "cannot read the template '%s'",
					   job->template_abs);
			goto out_free_path;
		}
		while (!rc && (ent = readdir(tdir)) != NULL) {
			if (ent->d_name[0] == '.' || strcmp(ent->d_name, "cmdline.txt") == 0)
				continue;
			if (asprintf(&rel, "%s/%s", dir, ent->d_name) < 0) {
				rc = pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
				break;
			}
			rc = place_entry(job, rel, ent->d_name);
			free(rel);
		}
		closedir(tdir);
	}
	if (!rc) {
		if (asprintf(&rel, "%s/cmdline.txt", dir) < 0) {
			rc = pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
			goto out_free_path;
		}
		if (exported)
			rc = write_cmdline(job, dir, rel);
		else
			rc = drop_cmdline(job, rel);
		free(rel);
	}
	job->report->boards++;
out_free_path:
	free(path);
	return rc;
}

/* The board folders of the inventory, to ask per manifest entry whether its top folder
 * still belongs to a board. */
static int wanted_dirs(const struct pv_inventory *inv, struct pv_strset *dirs)
{
	char dir[PV_INVENTORY_HOSTNAME_MAX];

	for (size_t i = 0; i < inv->count; i++) {
		pv_inventory_tftp_dir(&inv->records[i], dir);
		if (dir[0] && pv_strset_add(dirs, dir, strlen(dir), NULL) < 0)
			return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
	}
	return PV_OK;
}

static int compare_depth_desc(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);

	return la < lb ? 1 : la > lb ? -1 : 0;
}

/* Remove what piprov created for boards that left the inventory, deepest first. */
static int prune(struct tftp_job *job, const struct pv_inventory *inv)
{
	struct pv_strset wanted = PV_STRSET_INIT;
	size_t kept = 0;
	int rc = wanted_dirs(inv, &wanted);

	if (rc)
		goto out_release_wanted;
	qsort(job->manifest.paths, job->manifest.count, sizeof(char *), compare_depth_desc);
	for (size_t i = 0; i < job->manifest.count; i++) {
		char *rel = job->manifest.paths[i], *path;
		struct stat st;
		bool removed = false;

		if (pv_strset_contains(&wanted, rel, strcspn(rel, "/"))) {
			job->manifest.paths[kept++] = rel;
			continue;
		}
		if (asprintf(&path, "%s/%s", job->opts->tftp_root, rel) < 0) {
			/* What is left unvisited stays listed: it still exists. */
			while (i < job->manifest.count)
				job->manifest.paths[kept++] = job->manifest.paths[i++];
			rc = pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
			break;
		}
		if (lstat(path, &st) < 0)
			removed = true;
		else if (S_ISDIR(st.st_mode))
			removed = rmdir(path) == 0; /* left in place when it holds foreign files */
		else
			removed = unlink(path) == 0;
		free(path);
		if (removed) {
			job->report->pruned++;
			free(rel);
		} else {
			job->manifest.paths[kept++] = rel;
		}
	}
	/* The lookup set keeps pruned names; nothing asks it after the prune. */
	job->manifest.count = kept;
out_release_wanted:
	pv_strset_release(&wanted);
	return rc;
}

int pv_export_tftp(const struct pv_inventory *inv, const struct pv_export_opts *opts,
		   struct pv_tftp_report *report)
{
	struct tftp_job job = { .opts = opts, .report = report,
				.manifest = { NULL, 0, 0, PV_STRSET_INIT },
				.base_cmdline = PV_BUF_INIT(CMDLINE_MAX_SIZE) };
	char dir[PV_INVENTORY_HOSTNAME_MAX], *manifest_path;
	struct stat st;
	size_t root_len;
	int rc;

	memset(report, 0, sizeof(*report));
	rc = pv_export_settle(opts, &job.net);
	if (rc)
		return rc;
	if (!job.net.has_nfs_server)
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "the tftp export needs the NFS server address for cmdline.txt "
			       "(--nfs-server IP, or --tftp-server IP / --interface IFACE when it is "
			       "the same host)");
	if (stat(opts->tftp_root, &st) < 0 || !S_ISDIR(st.st_mode))
		return pv_fail(PV_ERR_NOT_FOUND, "inventory", "TFTP root '%s' is not a folder",
			       opts->tftp_root);
	job.root_abs = realpath(opts->tftp_root, NULL);
	if (!job.root_abs)
		return pv_fail_errno(errno, "inventory", "cannot resolve '%s'", opts->tftp_root);
	if (opts->template_dir) {
		job.template_abs = realpath(opts->template_dir, NULL);
		if (!job.template_abs || stat(job.template_abs, &st) < 0 || !S_ISDIR(st.st_mode)) {
			rc = pv_fail(PV_ERR_NOT_FOUND, "inventory", "template '%s' is not a folder",
				     opts->template_dir);
			goto out_free_template;
		}
		root_len = strlen(job.root_abs);
		if (!opts->copy && strcmp(job.root_abs, "/") != 0 &&
		    !(strncmp(job.template_abs, job.root_abs, root_len) == 0 &&
		      job.template_abs[root_len] == '/'))
			pv_log(PV_LOG_WARN, "inventory",
			       "template '%s' is outside the TFTP root '%s': a chrooted TFTP server "
			       "(tftpd-hpa -s) cannot follow the links; put the template inside the "
			       "root or use --copy", job.template_abs, job.root_abs);
	}
	if (asprintf(&manifest_path, "%s/%s", opts->tftp_root, MANIFEST_NAME) < 0) {
		rc = pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
		goto out_free_template;
	}
	rc = manifest_load(manifest_path, &job.manifest);
	if (!rc)
		rc = base_cmdline(job.template_abs, &job.base_cmdline);
	for (size_t i = 0; i < inv->count && !rc; i++) {
		pv_inventory_tftp_dir(&inv->records[i], dir);
		if (!dir[0]) {
			report->skipped++;
			continue;
		}
		rc = export_board(&job, &inv->records[i], dir);
	}
	if (!rc && opts->prune)
		rc = prune(&job, inv);
	/* Saved even after a failure, so what was created is still known next time. */
	if (manifest_save(manifest_path, &job.manifest) && !rc)
		rc = PV_ERR_IO;
	if (!rc)
		rc = pv_export_check_nfs_roots(inv, opts, &job.net, &report->nfs_missing,
					       &report->nfs_created);
	free(manifest_path);
	manifest_release(&job.manifest);
	pv_buf_release(&job.base_cmdline);
out_free_template:
	free(job.template_abs);
	free(job.root_abs);
	return rc;
}
