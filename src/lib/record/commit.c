/* Recording: records from any source merged into the inventory file through its locked
 * read-modify-write, and the check a long job makes before it serves the first board. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "piprov/record.h"
#include "banned.h"

struct batch_call {
	const struct pv_import_batch *batch;
	const struct pv_record_opts *opts;
	struct pv_record_summary summary;
	struct pv_inventory_report *report;
};

static int merge_batch(struct pv_inventory *inv, void *user)
{
	struct batch_call *call = user;
	const struct pv_record_opts *opts = call->opts;

	memset(&call->summary, 0, sizeof(call->summary));
	if (pv_inventory_reserve(inv, inv->count + call->batch->count))
		return PV_ERR_NOMEM;
	for (size_t i = 0; i < call->batch->count; i++) {
		struct pv_inventory_upsert_opts upsert = {
			.source = call->batch->sources[i],
			.flags = opts ? opts->flags : 0,
			.alloc = opts ? opts->alloc : NULL,
			.now = opts ? opts->now : 0,
		};
		int rc = pv_inventory_merge(inv, &call->batch->records[i], &upsert, call->report);

		if (rc)
			return rc;
		if (opts && opts->merged)
			opts->merged(opts->user, call->report,
				     pv_inventory_lookup(inv, call->report->serial));
		call->summary.conflicts += call->report->n_conflicts;
		if (call->report->created)
			call->summary.created++;
		else
			call->summary.updated++;
	}
	return PV_OK;
}

int pv_record_batch(const char *path, const struct pv_import_batch *batch,
		    const struct pv_record_opts *opts, struct pv_record_summary *summary)
{
	struct batch_call call = { .batch = batch, .opts = opts };
	int rc;

	/* A report holds 32 conflicts of 1 KiB each: not for a thread's stack. */
	call.report = calloc(1, sizeof(*call.report));
	if (!call.report)
		return pv_fail(PV_ERR_NOMEM, "record", "out of memory");
	rc = pv_inventory_update(path, merge_batch, &call);
	if (!rc && summary)
		*summary = call.summary;
	free(call.report);
	return rc;
}

int pv_record_one(const char *path, const struct pv_inventory_record *rec,
		  enum pv_inventory_source source, const struct pv_record_opts *opts,
		  struct pv_inventory_report *report)
{
	struct pv_inventory_upsert_opts upsert = {
		.source = source,
		.flags = opts ? opts->flags : 0,
		.alloc = opts ? opts->alloc : NULL,
		.now = opts ? opts->now : 0,
	};

	return pv_inventory_upsert(path, rec, &upsert, report);
}

/* The folder a path is in ("." for a bare name). */
static int parent_folder(const char *path, char **out)
{
	char *copy = strdup(path);

	if (!copy)
		return pv_fail(PV_ERR_NOMEM, "record", "out of memory");
	*out = strdup(dirname(copy));
	free(copy);
	if (!*out)
		return pv_fail(PV_ERR_NOMEM, "record", "out of memory");
	return PV_OK;
}

int pv_record_check_inventory(const char *path)
{
	struct pv_inventory inv;
	struct stat st;
	char *folder = NULL, *lock_path = NULL;
	int rc;

	rc = parent_folder(path, &folder);
	if (rc)
		return rc;
	/* The writer puts a temporary file beside the inventory and renames it over it. */
	if (access(folder, W_OK | X_OK) < 0) {
		rc = pv_fail_errno(errno, "record",
				   "inventory '%s': cannot write in its folder '%s'", path, folder);
		goto out_free_folder;
	}
	if (stat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			rc = pv_fail(PV_ERR_INVALID, "record",
				     "inventory '%s': not a regular file", path);
			goto out_free_folder;
		}
		if (access(path, R_OK | W_OK) < 0) {
			rc = pv_fail_errno(errno, "record", "inventory '%s': cannot write it",
					   path);
			goto out_free_folder;
		}
	} else if (errno != ENOENT) {
		rc = pv_fail_errno(errno, "record", "inventory '%s'", path);
		goto out_free_folder;
	}
	if (asprintf(&lock_path, "%s.lock", path) < 0) {
		lock_path = NULL;
		rc = pv_fail(PV_ERR_NOMEM, "record", "out of memory");
		goto out_free_folder;
	}
	if (access(lock_path, F_OK) == 0 && access(lock_path, R_OK | W_OK) < 0) {
		rc = pv_fail_errno(errno, "record", "inventory '%s': cannot open its lock '%s'",
				   path, lock_path);
		goto out_free_lock_path;
	}
	/* A file that does not parse is never overwritten: better to know before a board is
	 * flashed than after. */
	pv_inventory_init(&inv);
	rc = pv_inventory_load(path, &inv);
	pv_inventory_release(&inv);
out_free_lock_path:
	free(lock_path);
out_free_folder:
	free(folder);
	return rc;
}
