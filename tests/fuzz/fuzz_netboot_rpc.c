/* Fuzz target for the ONC RPC reply parsers (src/lib/netboot/rpc.c): the portmapper's
 * GETPORT answer and mountd's export list, as an NFS server (or anyone on the LAN) sends
 * them, then mountd's decision on the parsed list. The first 4 bytes of the input are the
 * expected xid. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/netboot.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pv_netboot_exports ex;
	uint32_t xid;
	uint16_t port;

	if (size < 4)
		return 0;
	xid = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
	pv_netboot_portmap_parse_reply(data, size, xid, &port);
	if (pv_netboot_exports_parse_reply(data, size, xid, &ex) == PV_OK) {
		for (size_t i = 0; i < ex.count; i++) {
			const struct pv_netboot_export *e = &ex.items[i];

			if (!e->path || strlen(e->path) > PV_NETBOOT_EXPORT_PATH_MAX)
				abort();
			for (size_t g = 0; g < e->n_groups; g++)
				if (strlen(e->groups[g]) > PV_NETBOOT_EXPORT_GROUP_MAX)
					abort();
			if (pv_netboot_exports_allow(&ex, e->path, 0x0a000033, NULL) &&
			    !pv_netboot_exports_allow(&ex, e->path, 0x0a000033, NULL)->path)
				abort();
		}
		pv_netboot_exports_allow(&ex, "/srv/nfs/1234abcd", 0x0a000033, NULL);
		pv_netboot_exports_release(&ex);
	}
	pv_clear_error();
	return 0;
}
