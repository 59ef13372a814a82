/* Shared between the inventory module's files; not installed. */
#ifndef PIPROV_INVENTORY_INTERNAL_H
#define PIPROV_INVENTORY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "piprov/inventory.h"
#include "piprov/inventory_export.h"

/* The settings of a board group (the file's names, in the order they are written) and the
 * keys of pv_inventory_record_set(). */
enum pv_inventory_field {
	PV_FIELD_SERIAL,
	PV_FIELD_MAC,
	PV_FIELD_WIFI_MAC,
	PV_FIELD_BT_MAC,
	PV_FIELD_REVISION, /* "board_revision" ("revision" on the command line) */
	PV_FIELD_UUID,
	PV_FIELD_HOSTNAME,
	PV_FIELD_IP,
	PV_FIELD_TFTP_PREFIX,
	PV_FIELD_TFTP_PREFIX_STR,
	PV_FIELD_BOOT_ORDER,
	PV_FIELD_CONFIG_HASH,
	PV_FIELD_BOOTLOADER_VERSION,
	PV_FIELD_BOOTLOADER_BUILD_TS,
	PV_FIELD_EEPROM_HASH,
	PV_FIELD_FLASHED_AT,
	PV_FIELD_TAGS,
	PV_FIELD_NOTES,
	PV_FIELD_SEEN,     /* the file's group of first/last-seen stamps */
	PV_FIELD_TAGS_ADD, /* "tags+", command line only */
	PV_FIELD_COUNT
};
/* The field named name[0..len), or -1. in_file: only the names the file uses. */
int pv_inventory_field_lookup(const char *name, size_t len, bool in_file);
/* The fact named name[0..len) (as in the file's seen group), or -1. */
int pv_inventory_fact_lookup(const char *name, size_t len);
/* pv_inventory_record_set() without the name lookup; not for PV_FIELD_SEEN. */
int pv_inventory_record_set_field(struct pv_inventory_record *rec,
				  enum pv_inventory_field field, const char *value);

/* Append a record, taking ownership of its allocations. */
int pv_inventory_append_record(struct pv_inventory *inv, struct pv_inventory_record *rec);
/* The index (unique.c): dropped (rebuilt on next use), or told that the record at rec is
 * about to take the values of `after` in place (called before the copy; only keys that
 * differ from rec's are added, re-inserting unchanged keys was a quarter of a re-import);
 * gave_up_values: rec may release an IP or host name (allocation restarts from the bottom
 * of the pool). */
void pv_inventory_index_free(struct pv_inventory *inv);
void pv_inventory_index_note(struct pv_inventory *inv, const struct pv_inventory_record *rec,
			     const struct pv_inventory_record *after, bool gave_up_values);
/* Room in the index for `records` records, so that a load or a batch of n merges sizes the
 * table once (no rehash per doubling, no chain of small tables in fresh 4 KiB pages).
 * Advisory: without memory the index grows as it goes. */
void pv_inventory_index_reserve(struct pv_inventory *inv, size_t records);
/* Allocation cursors kept with the index (merge.c): the lowest pool address or pattern
 * number not known to be taken; 0 when nothing is known. */
uint32_t pv_inventory_index_ip_hint(struct pv_inventory *inv, uint32_t first, uint32_t last);
void pv_inventory_index_set_ip_hint(struct pv_inventory *inv, uint32_t first, uint32_t last,
				    uint32_t next);
unsigned pv_inventory_index_name_hint(struct pv_inventory *inv, const char *pattern);
void pv_inventory_index_set_name_hint(struct pv_inventory *inv, const char *pattern,
				      unsigned next);

/* How many records a serial matches (8-digit queries match on the low 32 bits; a 16-digit
 * query matches a 16-digit record exactly or an 8-digit one on its low bits). */
size_t pv_inventory_match_serial(struct pv_inventory *inv, uint64_t serial, int digits,
				 struct pv_inventory_record **first);

/* The record's serial at a cursor (8 or 16 digits, as pv_inventory_serial_text). */
char *pv_inventory_put_serial(char *p, const struct pv_inventory_record *rec);

/* Ask for transparent huge pages on a large allocation (a 100,000-board load touches
 * ~150 MB; with 4 KiB pages the page faults cost more than the parsing). Advisory only. */
void pv_inventory_hint_huge(void *data, size_t size);

/* Decoded board facts for exports: model name ("Raspberry Pi 4 Model B"), memory ("4GB"),
 * SoC ("BCM2711"), manufacturer; empty strings when the revision is unknown. */
struct pv_export_board {
	char model[64];
	char memory[16];
	char soc[16];
	char manufacturer[32];
};
void pv_export_describe(const struct pv_inventory_record *rec, struct pv_export_board *out);

/* The network facts every export shares, worked out once from struct pv_export_opts
 * (include/piprov/inventory_export.h) by pv_export_settle(). */
struct pv_export_opts;
struct pv_export_net {
	unsigned prefix_len;     /* of the boards' networks: opts, the range's netmask, the
				  * subnet's /N, else 24 */
	uint32_t netmask;
	bool proxy;              /* no DHCP range: the LAN's DHCP server gives the addresses */
	bool has_range;
	uint32_t range_first, range_last;
	char lease[16];          /* the range's lease time as given ("12h"), "" = default */
	uint32_t lease_seconds;  /* 0 = default or "infinite" */
	bool lease_infinite;
	bool has_subnet;
	uint32_t subnet;         /* network address of opts->proxy_network */
	bool has_tftp_server;
	uint32_t tftp_server;
	bool tftp_server_given;  /* --tftp-server itself, not a default */
	bool has_nfs_server;
	uint32_t nfs_server;
	bool has_gateway;
	uint32_t gateway;
	enum pv_nfs_clients nfs_clients; /* IP or SUBNET, never AUTO */
	bool nfs_clients_auto;   /* chosen by mode, not by the user (the exports export warns) */
};
/* Fails with PV_ERR_INVALID naming the option for a bad range, subnet, prefix or gateway. */
int pv_export_settle(const struct pv_export_opts *opts, struct pv_export_net *net);
static inline uint32_t pv_export_network_of(const struct pv_export_net *net, uint32_t ip)
{
	return ip & net->netmask;
}
bool pv_export_net_client(const struct pv_export_net *net, const struct pv_inventory_record *rec,
			  uint32_t *addr, unsigned *prefix);
/* The option-43 menu text the board's boot code needs: the Pi 3 ROM's (three trailing
 * spaces) when its revision says BCM2835-2837 or its MAC has a Pi 3 OUI, else Pi 4/5's. */
const char *pv_export_menu_text(const struct pv_inventory_record *rec);
/* Checks (and with opts->create_nfs_roots creates) <nfs_root>/<dir> for every exported
 * board; warns (pv_log) about the first missing ones. Counts into *missing / *created. */
int pv_export_check_nfs_roots(const struct pv_inventory *inv, const struct pv_export_opts *opts,
			      const struct pv_export_net *net, unsigned *missing,
			      unsigned *created);

#endif
