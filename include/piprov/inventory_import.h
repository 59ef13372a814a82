/* Importers: turn what other tools and captures produce into inventory records.
 *   - rpiboot / piprov recovery metadata JSON ("MAC_ADDR", "USER_SERIAL_NUM", ... ; the 2711
 *     files carry the serial only in the file name, "<serial>.json"), source usb;
 *   - piprov record JSON: an object or array of objects with the keys of
 *     `piprov inventory show --json` (serial, mac, hostname, ip, board_revision, ...) as
 *     piprov-node emits them, source node (or the object's "source");
 *   - CSV with a header row naming the columns (those of `export csv`), source manual;
 *   - bootloader UART logs, through the UART parser (include/piprov/uart.h), source uart.
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

enum pv_import_kind {
	PV_IMPORT_AUTO = 0,
	PV_IMPORT_METADATA_JSON,
	PV_IMPORT_RECORD_JSON,
	PV_IMPORT_CSV,
	PV_IMPORT_UART,
};
const char *pv_import_kind_name(enum pv_import_kind kind);

struct pv_import_batch {
	struct pv_inventory_record *records;
	enum pv_inventory_source *sources; /* one per record */
	size_t count, cap;
};
void pv_import_batch_init(struct pv_import_batch *batch);
void pv_import_batch_release(struct pv_import_batch *batch);

/* Parse text (name: the file name, used for the serial of 2711 metadata and in messages,
 * which name the file and the line or key). Records are appended to batch. */
int pv_inventory_import_text(const char *name, const char *text, size_t len,
			     enum pv_import_kind kind, struct pv_import_batch *batch);
/* Read and parse a file, or every *.json, *.csv, *.log and *.txt file of a folder. */
int pv_inventory_import_path(const char *path, enum pv_import_kind kind,
			     struct pv_import_batch *batch);

#ifdef __cplusplus
}
#endif
#endif
