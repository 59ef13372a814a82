/* The record layer: what a source tells about a board becomes an inventory record, and is
 * recorded. Data flows one way (docs/HACKING.md):
 *
 *   sources (USB recovery metadata, a UART log report, a piprov-node record, import files)
 *     -> record (this module) -> inventory (merge, the locked file) -> exports
 *
 * The inventory knows nothing of USB or UART; the UART and USB modules know nothing of the
 * inventory. Every writer that records a board from a capture goes through here.
 */
#ifndef PIPROV_RECORD_H
#define PIPROV_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "piprov/inventory.h"
#include "piprov/inventory_import.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pv_uart_report;
struct pv_usb_board_result;

/* ---- One board from one source ---------------------------------------------------- */

/* A parsed boot log: serial (8 digits), Ethernet MAC, revision, IPv4 address, TFTP prefix
 * mode (from the folder the board asked for), bootloader version and build timestamp. rec is
 * initialised here; release it with pv_inventory_record_release(). Fails with
 * PV_ERR_INVALID when the log gave no serial. Source: uart. */
int pv_record_from_uart(const struct pv_uart_report *report, struct pv_inventory_record *rec);

/* A board the USB job served: the serial (the 16-digit USB serial string when the ROM gave
 * one, else USER_SERIAL_NUM), MACs, revision and factory UUID from the recovery metadata;
 * for a verified flash also EEPROM_HASH and flashed_at = now. A field the firmware sent in
 * a form the inventory refuses is left out and named in warning (may be NULL; the first
 * such field). Fails with PV_ERR_INVALID when the board was not verified or booted, or has
 * no usable serial: such a board is never recorded. Source: usb. */
int pv_record_from_usb(const struct pv_usb_board_result *board, int64_t now,
		       struct pv_inventory_record *rec, char *warning, size_t warning_size);

/* What the bootconf.txt a board was flashed with says about its network boot: BOOT_ORDER
 * (the firmware default 0xf41 when the config leaves it out), TFTP_PREFIX (serial when
 * left out; TFTP_PREFIX_STR for the string mode) and config_hash = sha256_hex (the
 * config's digest, may be NULL). For a verified flash only: what the EEPROM now holds.
 * A value the bootloader would not read as written (BOOT_ORDER not 0x-hex, TFTP_PREFIX
 * not 0/1/2, a TFTP_PREFIX_STR the inventory refuses) is left out and named in warning
 * (appended, "; "-separated; may be NULL). */
void pv_record_set_flashed_config(struct pv_inventory_record *rec, const char *bootconf,
				  size_t len, const char *sha256_hex, char *warning,
				  size_t warning_size);

/* ---- Import files ------------------------------------------------------------------- */

/* What a file holds; AUTO decides by content. */
enum pv_import_kind {
	PV_IMPORT_AUTO = 0,
	PV_IMPORT_METADATA_JSON, /* rpiboot / piprov -j metadata; the 2711 files carry the
				  * serial only in the name "<serial>.json"; source usb */
	PV_IMPORT_RECORD_JSON,   /* an object or array with the keys of `inventory show
				  * --json`, as piprov-node emits them; source node (or the
				  * object's "source") */
	PV_IMPORT_CSV,           /* header row + rows (the columns of `export csv`); manual */
	PV_IMPORT_UART,          /* a bootloader serial log, through the UART parser; uart */
};
const char *pv_import_kind_name(enum pv_import_kind kind);

/* Parse text (name: the file name, used for the serial of 2711 metadata and in messages,
 * which name the file and the line or key). Records are appended to batch. */
int pv_record_import_text(const char *name, const char *text, size_t len,
			  enum pv_import_kind kind, struct pv_import_batch *batch);
/* Read and parse a file, or every *.json, *.csv, *.log and *.txt file of a folder (in name
 * order, so repeated imports merge the same way). */
int pv_record_import_path(const char *path, enum pv_import_kind kind,
			  struct pv_import_batch *batch);

/* ---- Recording ---------------------------------------------------------------------- */

struct pv_record_opts {
	unsigned flags;                         /* enum pv_inventory_upsert_flags */
	const struct pv_inventory_alloc *alloc; /* addresses/names for new boards, or NULL */
	int64_t now;                            /* 0: time(NULL) */
	/* Called for each record merged, in batch order, with what the merge did (conflicts
	 * included) and the board as it is now stored (NULL if it could not be found again),
	 * while the inventory lock is held: keep it short, never touch the inventory from
	 * it. The write may still fail afterwards (pv_record_batch's status says). */
	void (*merged)(void *user, const struct pv_inventory_report *report,
		       const struct pv_inventory_record *stored);
	void *user;
};

struct pv_record_summary {
	size_t created, updated, conflicts;
};

/* Merge every record of batch (each with its own source) in one locked write of the
 * inventory at path. All or nothing: a failure (a record refused under PV_UPSERT_STRICT, a
 * file that does not parse, a write error) leaves the file as it was. summary may be NULL. */
int pv_record_batch(const char *path, const struct pv_import_batch *batch,
		    const struct pv_record_opts *opts, struct pv_record_summary *summary);

/* One record from source: pv_inventory_upsert() with the options above (report may be
 * NULL). */
int pv_record_one(const char *path, const struct pv_inventory_record *rec,
		  enum pv_inventory_source source, const struct pv_record_opts *opts,
		  struct pv_inventory_report *report);

/* Check, before any board is served, that path can be recorded into: it parses (or does
 * not exist yet and its folder is writable) and the file, its lock and its folder are
 * writable. Nothing is written. Fails naming the path and what is wrong. */
int pv_record_check_inventory(const char *path);

#ifdef __cplusplus
}
#endif
#endif
