/* The board inventory: one record per board, keyed by serial, kept in one human-editable
 * libconfig file (format: docs/man/piprov-inventory.5) and exported to what netboot servers
 * run (dnsmasq, ethers, hosts, NFS exports, TFTP folders, Kea, Tinkerbell, Ansible, CSV, JSON).
 *
 * Every writer (USB flash --inventory, piprov-node report, UART capture, the inventory CLI)
 * goes through pv_inventory_upsert() or pv_inventory_update(): a read-modify-write under an
 * advisory fcntl() lock on "FILE.lock" (POSIX record locks also work on NFS through lockd),
 * written to a temporary file, fsynced, renamed over FILE and the directory fsynced. A file
 * that does not parse is never overwritten: the writer fails naming file and line.
 */
#ifndef PIPROV_INVENTORY_H
#define PIPROV_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "piprov/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PV_INVENTORY_FORMAT_VERSION 1
/* Used when neither --inventory nor the environment variable names a file. */
#define PV_INVENTORY_DEFAULT_PATH "piprov-inventory.cfg"
#define PV_INVENTORY_ENV "PIPROV_INVENTORY"
/* The largest inventory file the loader accepts (a 100,000-board file is about 70 MiB). */
#define PV_INVENTORY_MAX_FILE_SIZE ((size_t)512 * 1024 * 1024)

/* Field limits (including the NUL). */
#define PV_INVENTORY_HOSTNAME_MAX 64  /* a host name, not an FQDN: at most 63 characters */
#define PV_INVENTORY_UUID_MAX 40
#define PV_INVENTORY_PREFIX_STR_MAX 33 /* TFTP_PREFIX_STR: at most 32 characters */
#define PV_INVENTORY_HASH_MAX 65       /* SHA-256 in hex */
#define PV_INVENTORY_VERSION_MAX 41    /* bootloader git hash (SHA-1 in hex) */
#define PV_INVENTORY_TAG_MAX 64
#define PV_INVENTORY_MAX_TAGS 32
#define PV_INVENTORY_NOTES_MAX 4096
#define PV_INVENTORY_VALUE_MAX 160 /* a fact as text, in conflict reports */

/* Where a fact came from. */
enum pv_inventory_source {
	PV_INVENTORY_SOURCE_NONE = 0,
	PV_INVENTORY_SOURCE_USB,    /* rpiboot / USB flash (recovery metadata) */
	PV_INVENTORY_SOURCE_NODE,   /* piprov-node on the running Pi */
	PV_INVENTORY_SOURCE_UART,   /* bootloader serial log */
	PV_INVENTORY_SOURCE_MANUAL, /* typed by a person (inventory add/set, CSV import) */
};
const char *pv_inventory_source_name(enum pv_inventory_source source); /* "usb", ... */
int pv_inventory_source_parse(const char *name, enum pv_inventory_source *out);

/* The facts of a record; each has its own source and first/last seen times. */
enum pv_inventory_fact {
	PV_FACT_SERIAL = 0,
	PV_FACT_MAC,
	PV_FACT_WIFI_MAC,
	PV_FACT_BT_MAC,
	PV_FACT_REVISION,
	PV_FACT_UUID,
	PV_FACT_HOSTNAME,
	PV_FACT_IP,
	PV_FACT_TFTP_PREFIX,
	PV_FACT_BOOT_ORDER,
	PV_FACT_CONFIG_HASH,
	PV_FACT_BOOTLOADER, /* version, build timestamp, EEPROM hash, flashed time */
	PV_FACT_COUNT
};
/* The key used in the file and in KEY=VALUE arguments: "serial", "mac", "wifi_mac", ... */
const char *pv_inventory_fact_name(enum pv_inventory_fact fact);

struct pv_inventory_seen {
	enum pv_inventory_source source; /* NONE: the fact is not known */
	int64_t first_seen;              /* Unix seconds, UTC */
	int64_t last_seen;
};

/* Which folder the bootloader asks the TFTP server for (EEPROM TFTP_PREFIX). */
enum pv_tftp_prefix {
	PV_TFTP_PREFIX_SERIAL = 0, /* "serial": 8 lower-case hex digits (the default) */
	PV_TFTP_PREFIX_STRING = 1, /* "string": TFTP_PREFIX_STR */
	PV_TFTP_PREFIX_MAC = 2,    /* "mac": dc-a6-32-01-36-c2 */
};
const char *pv_tftp_prefix_name(enum pv_tftp_prefix mode);
int pv_tftp_prefix_parse(const char *name, enum pv_tftp_prefix *out);

/* One board. Presence of each optional fact is its has_* flag (or a non-empty string). */
struct pv_inventory_record {
	uint64_t serial;
	int serial_digits; /* 16: full serial known; 8: only the low 32 bits (TFTP serial) */

	bool has_mac, has_wifi_mac, has_bt_mac;
	uint8_t mac[6]; /* Ethernet */
	uint8_t wifi_mac[6];
	uint8_t bt_mac[6];

	bool has_revision;
	uint32_t revision; /* board revision code, e.g. 0xc03111 */

	char uuid[PV_INVENTORY_UUID_MAX];         /* factory UUID (Pi 5 rpi-duid) */
	char hostname[PV_INVENTORY_HOSTNAME_MAX];

	bool has_ip;
	uint32_t ip; /* IPv4, host order */

	bool has_tftp_prefix;
	enum pv_tftp_prefix tftp_prefix;
	char tftp_prefix_str[PV_INVENTORY_PREFIX_STR_MAX]; /* for PV_TFTP_PREFIX_STRING */

	bool has_boot_order;
	uint32_t boot_order; /* e.g. 0xf21 */
	char config_hash[PV_INVENTORY_HASH_MAX]; /* sha256 of the bootconf.txt written */

	/* Bootloader, one fact (PV_FACT_BOOTLOADER): any non-empty part makes it known. */
	char bootloader_version[PV_INVENTORY_VERSION_MAX];
	int64_t bootloader_build_ts; /* BUILD_TIMESTAMP, 0 when unknown */
	char eeprom_hash[PV_INVENTORY_HASH_MAX];
	int64_t flashed_at; /* when piprov flashed it, 0 when never */

	struct pv_inventory_seen seen[PV_FACT_COUNT];

	char **tags; /* owned; n_tags <= PV_INVENTORY_MAX_TAGS */
	size_t n_tags;
	char *notes; /* owned, may be NULL */
};

void pv_inventory_record_init(struct pv_inventory_record *rec);
void pv_inventory_record_release(struct pv_inventory_record *rec);
/* Deep copy into an uninitialised dst. */
int pv_inventory_record_copy(struct pv_inventory_record *dst, const struct pv_inventory_record *src);
/* Set the serial from text (8 or 16 hex digits, "0x" allowed). */
int pv_inventory_record_set_serial(struct pv_inventory_record *rec, const char *text);
/* Set one field from KEY=VALUE text as typed by a user or found in a file: key is a fact name
 * or "tags" (comma-separated), "tags+" (add), "notes", "tftp_prefix_str", "bootloader_version",
 * "bootloader_build_ts", "eeprom_hash", "flashed_at". An empty value clears the field. Invalid
 * values fail with PV_ERR_INVALID naming the field. */
int pv_inventory_record_set(struct pv_inventory_record *rec, const char *key, const char *value);
bool pv_inventory_record_has(const struct pv_inventory_record *rec, enum pv_inventory_fact fact);
int pv_inventory_record_add_tag(struct pv_inventory_record *rec, const char *tag);
int pv_inventory_record_set_notes(struct pv_inventory_record *rec, const char *notes);

/* Derived names. */
void pv_inventory_serial_text(const struct pv_inventory_record *rec, char out[17]);
void pv_inventory_serial8(const struct pv_inventory_record *rec, char out[9]);
/* The folder the bootloader requests under the TFTP root: serial8, dashed MAC or the string;
 * "" when the mode is "mac" and the MAC is unknown. */
void pv_inventory_tftp_dir(const struct pv_inventory_record *rec, char out[PV_INVENTORY_HOSTNAME_MAX]);

struct pv_inventory_index;

/* The whole inventory in memory. */
struct pv_inventory {
	struct pv_inventory_record *records;
	size_t count;
	size_t cap;
	/* Internal: lookup tables for the uniqueness rules, built on first use and kept up to
	 * date by the functions below. Code that changes a record's serial, MAC, IP, host name
	 * or TFTP prefix in place (not through merge/set) must not reuse the inventory for
	 * merges; appending and removing through these functions is fine. */
	struct pv_inventory_index *index;
};

void pv_inventory_init(struct pv_inventory *inv);
void pv_inventory_release(struct pv_inventory *inv);
/* Room for `records` boards in all (before merging a batch: growing the array record by
 * record copied it into fresh memory again and again). */
int pv_inventory_reserve(struct pv_inventory *inv, size_t records);

/* The uniqueness rules (piprov-inventory(5)): no two boards share a serial (an 8-digit
 * serial is the low 32 bits of a 16-digit one), a TFTP folder (the 8-digit serial under the
 * default prefix, the dashed MAC, or the prefix string), an Ethernet MAC, an IP address or a
 * host name (case ignored). The loader refuses a file that breaks one, naming both lines;
 * merge and set refuse a value that would. */
enum pv_unique_rule {
	PV_UNIQUE_SERIAL = 0,
	PV_UNIQUE_TFTP_DIR,
	PV_UNIQUE_MAC,
	PV_UNIQUE_IP,
	PV_UNIQUE_HOSTNAME,
	PV_UNIQUE_COUNT
};
const char *pv_inventory_unique_rule_name(enum pv_unique_rule rule);
/* The record of inv other than self (which may be NULL) that rec would break the rule with,
 * or NULL. rec need not be in inv. Constant time on average (an index kept in inv). */
struct pv_inventory_record *pv_inventory_clash(struct pv_inventory *inv,
					       const struct pv_inventory_record *rec,
					       const struct pv_inventory_record *self,
					       enum pv_unique_rule rule);
/* "board 'A': mac 'dc:..' already belongs to board 'B'" (one line, for messages). */
void pv_inventory_clash_text(enum pv_unique_rule rule, const struct pv_inventory_record *rec,
			     const struct pv_inventory_record *other, char *out, size_t size);
/* Every rule over every record; the first break fails with PV_ERR_FORMAT as
 * "'NAME': line N: <clash text> (line M)". lines: each record's line (NULL: numbers). */
int pv_inventory_check_unique(struct pv_inventory *inv, const unsigned *lines, const char *name);

/* Parse the text of an inventory file; name is used in messages ("'FILE': line N: ...").
 * Syntax errors, unknown versions, invalid fields and broken uniqueness rules fail with
 * PV_ERR_FORMAT. */
int pv_inventory_parse(const char *text, size_t len, const char *name, struct pv_inventory *inv);
/* Load FILE (a missing file is an empty inventory). */
int pv_inventory_load(const char *path, struct pv_inventory *inv);
/* Serialise (appends to out). Records are written in the order they are held. */
int pv_inventory_serialize(const struct pv_inventory *inv, struct pv_buf *out);
/* Write atomically (temp + fsync + rename + dir fsync). Callers that read-modify-write hold
 * the lock (pv_inventory_update does). */
int pv_inventory_save(const char *path, const struct pv_inventory *inv);

/* Lookups; NULL when absent. find_serial matches a 16-digit record from an 8-digit query
 * only when exactly one record has those low 32 bits. */
struct pv_inventory_record *pv_inventory_find_serial(struct pv_inventory *inv, uint64_t serial,
						     int digits);
struct pv_inventory_record *pv_inventory_find_mac(struct pv_inventory *inv, const uint8_t mac[6]);
/* Parse "SERIAL" (8/16 digits), a MAC or a hostname, and find its record. */
struct pv_inventory_record *pv_inventory_lookup(struct pv_inventory *inv, const char *key);
int pv_inventory_remove(struct pv_inventory *inv, struct pv_inventory_record *rec);

/* The path to use: explicit (if not NULL), else $PIPROV_INVENTORY, else the default. */
const char *pv_inventory_path(const char *explicit_path);

/* Merge report: what an upsert did and what it refused. */
enum pv_inventory_conflict_kind {
	PV_CONFLICT_VALUE_CHANGED = 1, /* the board already has a different value */
	PV_CONFLICT_MAC_IN_USE,        /* the MAC belongs to another serial */
	PV_CONFLICT_IP_IN_USE,
	PV_CONFLICT_HOSTNAME_IN_USE,
	PV_CONFLICT_SERIAL8_COLLISION, /* another board has the same 8-digit TFTP serial */
	PV_CONFLICT_SERIAL_AMBIGUOUS,  /* an 8-digit serial matches several boards */
};
struct pv_inventory_conflict {
	enum pv_inventory_conflict_kind kind;
	enum pv_inventory_fact fact;
	char serial[17];      /* the board being written */
	char other_serial[17];/* the other board, for *_IN_USE and collisions */
	char old_value[PV_INVENTORY_VALUE_MAX];
	char new_value[PV_INVENTORY_VALUE_MAX];
	char message[512];    /* one line, ready to print */
};
#define PV_INVENTORY_MAX_CONFLICTS 32
struct pv_inventory_report {
	bool created;             /* a new record was added */
	bool changed;             /* the file was rewritten */
	unsigned facts_set;       /* bit per enum pv_inventory_fact set or changed */
	unsigned facts_refreshed; /* bit per fact whose last_seen moved */
	char serial[17];          /* the record written (after serial merging) */
	size_t n_conflicts;       /* may exceed PV_INVENTORY_MAX_CONFLICTS; extra ones not kept */
	struct pv_inventory_conflict conflicts[PV_INVENTORY_MAX_CONFLICTS];
};

/* New boards (and boards lacking them) get the lowest free address of the pool and the
 * lowest free N in the hostname pattern (one printf integer conversion, e.g. "node-%02d"). */
struct pv_inventory_alloc {
	bool has_pool;
	uint32_t pool_first, pool_last; /* host order, inclusive */
	unsigned pool_prefix;           /* the pool's network ("A-B/16"); 0: none given */
	char hostname_pattern[64];      /* "" = no hostname allocation */
};
/* "192.168.1.100-192.168.1.199[/PREFIX]": the network and broadcast addresses of the
 * pool's /PREFIX network are never given out (without /PREFIX: every .0 and .255, as if
 * each /24 the pool crosses were a network). With /PREFIX the pool is inside one network. */
int pv_inventory_parse_pool(const char *text, struct pv_inventory_alloc *alloc);
/* Checks the pattern has exactly one %d/%0Nd conversion and yields valid hostnames. */
int pv_inventory_set_hostname_pattern(struct pv_inventory_alloc *alloc, const char *pattern);

enum pv_inventory_upsert_flags {
	/* Any conflict fails the whole upsert with PV_ERR_CONFLICT and nothing is written
	 * (without it, conflicting facts are skipped and reported, the rest is written). */
	PV_UPSERT_STRICT = 1u << 0,
	/* The caller states the new values (e.g. `inventory set`): a changed value of this board
	 * replaces the old one. Values in use by another board are still refused. */
	PV_UPSERT_OVERWRITE = 1u << 1,
	/* Fail with PV_ERR_NOT_FOUND instead of creating a record. */
	PV_UPSERT_EXISTING_ONLY = 1u << 2,
	/* Fail with PV_ERR_CONFLICT when the board is already there. */
	PV_UPSERT_CREATE_ONLY = 1u << 3,
};

struct pv_inventory_upsert_opts {
	enum pv_inventory_source source; /* required */
	unsigned flags;                  /* enum pv_inventory_upsert_flags */
	const struct pv_inventory_alloc *alloc; /* NULL: no allocation */
	int64_t now;                     /* 0: time(NULL) */
};

/* Merge one capture into an inventory in memory (no locking, no I/O). */
int pv_inventory_merge(struct pv_inventory *inv, const struct pv_inventory_record *rec,
		       const struct pv_inventory_upsert_opts *opts,
		       struct pv_inventory_report *report);

/* Edit one board by hand (`inventory set`): find it by serial, MAC or host name, apply
 * "KEY=VALUE" assignments (an empty value clears the field), and record each changed fact as
 * manual. A MAC, IP or host name in use by another board fails with PV_ERR_CONFLICT; an
 * invalid value fails with PV_ERR_INVALID naming the field. Nothing changes on failure. */
int pv_inventory_set(struct pv_inventory *inv, const char *board, const char *const *assignments,
		     size_t count, int64_t now);

/* The crash-safe write every capture uses: lock FILE.lock, load FILE, merge, save, unlock.
 * Returns PV_OK (possibly with conflicts in the report; report may be NULL) or a failure, in
 * which case FILE is unchanged. */
int pv_inventory_upsert(const char *path, const struct pv_inventory_record *rec,
			const struct pv_inventory_upsert_opts *opts,
			struct pv_inventory_report *report);

/* Generic locked read-modify-write: fn edits inv and returns PV_OK to save, a positive value
 * to leave the file untouched, or a failure (also leaves it untouched, returned as is). */
typedef int (*pv_inventory_edit_fn)(struct pv_inventory *inv, void *user);
int pv_inventory_update(const char *path, pv_inventory_edit_fn fn, void *user);

/* The advisory lock on "<path>.lock" (fcntl F_SETLKW, so it also works over NFS). */
struct pv_inventory_lock {
	int fd;
};
int pv_inventory_lock(const char *path, struct pv_inventory_lock *lock);
void pv_inventory_unlock(struct pv_inventory_lock *lock);

/* Time helpers for the file's "2026-11-25T04:27:40Z" stamps. */
void pv_inventory_format_time(int64_t t, char out[21]);
int pv_inventory_parse_time(const char *text, int64_t *out);

#ifdef __cplusplus
}
#endif
#endif
