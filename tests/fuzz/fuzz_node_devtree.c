/* Device-tree property values (cells, strings, string lists, MACs) and the running
 * bootloader config text, as piprov-node decodes them. The first byte picks the decoder. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[256];
	uint32_t v;
	uint8_t mac[6];
	char *config;

	if (size < 1 || size > 8192)
		return 0;
	switch (data[0] % 5) {
	case 0:
		pv_node_dt_u32(data + 1, size - 1, &v);
		break;
	case 1:
		pv_node_dt_string(data + 1, size - 1, text, sizeof(text));
		break;
	case 2:
		pv_node_dt_string_at(data + 1, size - 1, data[0] / 5 % 4, text, sizeof(text));
		break;
	case 3:
		pv_node_dt_mac(data + 1, size - 1, mac);
		break;
	default:
		config = malloc(size);
		if (!config)
			return 0;
		memcpy(config, data + 1, size - 1);
		config[size - 1] = '\0';
		pv_node_config_get(config, "BOOT_ORDER", text, sizeof(text));
		free(config);
		break;
	}
	return 0;
}
