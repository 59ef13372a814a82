/* Fuzz target for the boot-file readers (src/lib/netboot/files.c): config.txt and
 * cmdline.txt come from the TFTP server. The first byte picks the board section. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/netboot.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const sections[] = { "[pi4]", "[pi5]", "[pi3]", NULL };
	struct pv_netboot_config_txt c;
	struct pv_netboot_nfsroot n;

	if (!size)
		return 0;
	if (pv_netboot_config_txt_parse((const char *)data + 1, size - 1, sections[data[0] % 4],
					&c) == PV_OK) {
		if (!memchr(c.kernel, 0, sizeof(c.kernel)) || !memchr(c.cmdline, 0, sizeof(c.cmdline)) ||
		    !memchr(c.device_tree, 0, sizeof(c.device_tree)))
			abort();
	}
	if (pv_netboot_cmdline_nfsroot((const char *)data + 1, size - 1, 0x0a000033, 0x0a000002,
				       &n) == PV_OK) {
		if (n.path[0] != '/' || !memchr(n.path, 0, sizeof(n.path)) ||
		    !memchr(n.options, 0, sizeof(n.options)))
			abort();
	}
	pv_clear_error();
	return 0;
}
