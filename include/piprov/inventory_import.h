/* Import batches: the records read from files, each with its source, merged in one locked
 * write (pv_record_batch() in piprov/record.h). This header has the batch and the CSV
 * importer (the columns of `export csv`, source manual); the importers of captures
 * (rpiboot metadata, piprov-node records, UART logs) and the choice by content are the
 * record layer's (pv_record_import_text/_path in piprov/record.h).
 * Parsing only; merging is pv_inventory_merge()/pv_inventory_upsert(). */
#ifndef PIPROV_INVENTORY_IMPORT_H
#define PIPROV_INVENTORY_IMPORT_H

#include <stddef.h>

#include "piprov/inventory.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PV_IMPORT_MAX_FILE_SIZE ((size_t)64 * 1024 * 1024)
#define PV_IMPORT_MAX_RECORDS 1000000

struct pv_import_batch {
	struct pv_inventory_record *records;
	enum pv_inventory_source *sources; /* one per record */
	size_t count, cap;
};
void pv_import_batch_init(struct pv_import_batch *batch);
void pv_import_batch_release(struct pv_import_batch *batch);
/* Append rec, taking ownership of what it holds (on success only: on failure rec is still
 * the caller's). Fails with PV_ERR_TOO_BIG past PV_IMPORT_MAX_RECORDS. */
int pv_import_batch_add(struct pv_import_batch *batch, struct pv_inventory_record *rec,
			enum pv_inventory_source source);

/* CSV with a header row naming the columns (those of `export csv`; tags separated by ';'),
 * source manual. name is used in messages, which name the file and the line. */
int pv_inventory_import_csv(const char *name, const char *text, size_t len,
			    struct pv_import_batch *batch);

#ifdef __cplusplus
}
#endif
#endif
