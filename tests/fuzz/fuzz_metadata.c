/* Fuzz target: a sequence of metadata items, newline-separated, as the recovery firmware
 * would send them; then the JSON written from them must parse back to the same values. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/usb_protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pv_usb_metadata md;
	const char *p = (const char *)data, *end = p + size;
	char *text = NULL;
	json_t *root;

	pv_usb_metadata_init(&md);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		pv_usb_metadata_add(&md, p, len);
		p += len + 1;
	}
	if (pv_usb_metadata_to_json(&md, &text) != 0)
		return 0;
	root = json_loads(text, 0, NULL);
	if (!root)
		__builtin_trap();
	for (size_t i = 0; i < md.count; i++) {
		const char *v = json_string_value(json_object_get(root, md.items[i].key));
		if (!v || strcmp(v, md.items[i].value) != 0)
			__builtin_trap();
	}
	json_decref(root);
	free(text);
	return 0;
}
