/* The inventory loader (pv_inventory_parse) on arbitrary text. Differential: whatever the
 * loader accepts, libconfig must accept too (the file is libconfig), and a loaded inventory
 * must serialise to text that loads again to the same text. */
#include <libconfig.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/buf.h"
#include "piprov/inventory.h"
#include "banned.h"

#define FUZZ_MAX_INPUT (256 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pv_inventory inv, again;
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX), text2 = PV_BUF_INIT(SIZE_MAX);
	config_t cfg;
	char *copy;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	if (pv_inventory_parse((const char *)data, size, "fuzz", &inv) != 0)
		return 0;
	/* libconfig reads NUL-terminated text; the loader refuses NUL bytes. */
	copy = malloc(size + 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	config_init(&cfg);
	if (size > 0 && config_read_string(&cfg, copy) != CONFIG_TRUE)
		abort(); /* accepted here, refused by libconfig: not a libconfig file */
	config_destroy(&cfg);
	free(copy);
	if (pv_inventory_serialize(&inv, &text) != 0 ||
	    pv_inventory_parse((const char *)text.data, text.len, "again", &again) != 0)
		abort();
	if (pv_inventory_serialize(&again, &text2) != 0 || text.len != text2.len ||
	    memcmp(text.data, text2.data, text.len) != 0)
		abort();
	pv_inventory_release(&again);
	pv_inventory_release(&inv);
	pv_buf_release(&text);
	pv_buf_release(&text2);
	return 0;
}
