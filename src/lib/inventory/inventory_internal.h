/* Shared between the inventory module's files; not installed. */
#ifndef PIPROV_INVENTORY_INTERNAL_H
#define PIPROV_INVENTORY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "piprov/inventory.h"

/* Append a record, taking ownership of its allocations. */
int pv_inventory_append_record(struct pv_inventory *inv, struct pv_inventory_record *rec);
/* How many records a serial matches (8-digit queries match on the low 32 bits; a 16-digit
 * query matches a 16-digit record exactly or an 8-digit one on its low bits). */
size_t pv_inventory_match_serial(struct pv_inventory *inv, uint64_t serial, int digits,
				 struct pv_inventory_record **first);

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

#endif
