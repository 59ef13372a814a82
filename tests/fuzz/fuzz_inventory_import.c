/* The importers (rpiboot metadata JSON, piprov record JSON, CSV, UART log) on arbitrary
 * input; the first byte picks the importer, or the file name that the choice by name and
 * content goes by, so each gets coverage. Records that parse must merge. */
#include <stdint.h>
#include <string.h>

#include "piprov/inventory.h"
#include "piprov/inventory_import.h"
#include "piprov/record.h"
#include "banned.h"

#define FUZZ_MAX_INPUT (256 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		const char *name;
		enum pv_import_kind kind;
	} ways[] = {
		{ "fuzz/12345678.json", PV_IMPORT_AUTO },
		{ "fuzz/12345678.json", PV_IMPORT_METADATA_JSON },
		{ "fuzz/node.json", PV_IMPORT_RECORD_JSON },
		{ "fuzz/boards.csv", PV_IMPORT_CSV },
		{ "fuzz/boot.log", PV_IMPORT_AUTO }, /* by content: JSON, CSV or a UART log */
		{ "-", PV_IMPORT_AUTO },
	};
	struct pv_import_batch batch;
	struct pv_inventory inv;
	struct pv_inventory_upsert_opts opts = { .source = PV_INVENTORY_SOURCE_MANUAL,
						 .now = 1764044860 };
	size_t way;

	if (size < 1 || size > FUZZ_MAX_INPUT)
		return 0;
	way = (size_t)data[0] % (sizeof(ways) / sizeof(ways[0]));
	pv_import_batch_init(&batch);
	pv_inventory_init(&inv);
	if (pv_record_import_text(ways[way].name, (const char *)data + 1, size - 1,
				  ways[way].kind, &batch) == 0) {
		for (size_t i = 0; i < batch.count; i++)
			pv_inventory_merge(&inv, &batch.records[i], &opts, NULL);
	}
	pv_inventory_release(&inv);
	pv_import_batch_release(&batch);
	return 0;
}
