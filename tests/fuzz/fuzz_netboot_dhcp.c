/* Fuzz target for the DHCP message parser (src/lib/netboot/dhcp.c) and the PXE menu reader:
 * what a board takes from any server on its LAN. Checks, beyond crashes: every option the
 * parser reports lies inside its value store, and a message built back from the parsed
 * options parses to the same values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/netboot.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pv_netboot_dhcp *m = malloc(sizeof(*m)), *again = malloc(sizeof(*again));
	struct pv_netboot_dhcp_builder *b = malloc(sizeof(*b));
	char menu[64];

	if (!m || !again || !b)
		abort();
	if (pv_netboot_dhcp_parse(data, size, m) != PV_OK)
		goto out_free;
	if (m->values_len > sizeof(m->values) || !memchr(m->file, 0, sizeof(m->file)) ||
	    !memchr(m->sname, 0, sizeof(m->sname)))
		abort();
	pv_netboot_dhcp_begin(b, m->op, m->xid, m->flags, m->chaddr);
	for (unsigned code = 1; code < 255; code++) {
		const uint8_t *v;
		size_t len;
		uint32_t ip;

		if (pv_netboot_dhcp_option(m, (uint8_t)code, &v, &len) != PV_OK)
			continue;
		if (v < m->values || v + len > m->values + m->values_len)
			abort();
		pv_netboot_dhcp_option_ip(m, (uint8_t)code, &ip);
		if (code == PV_DHCP_OPT_VENDOR) {
			pv_netboot_pxe_menu_matches(v, len, "Raspberry Pi Boot", false, menu);
			if (!memchr(menu, 0, sizeof(menu)))
				abort();
			pv_netboot_pxe_menu_matches(v, len, "Raspberry Pi Boot   ", true, NULL);
		}
		if (code != PV_DHCP_OPT_OVERLOAD)
			pv_netboot_dhcp_add(b, (uint8_t)code, v, len);
	}
	if (pv_netboot_dhcp_finish(b) == PV_OK) {
		if (pv_netboot_dhcp_parse(b->data, b->len, again) != PV_OK)
			abort();
		for (unsigned code = 1; code < 255; code++) {
			const uint8_t *v1, *v2;
			size_t l1, l2;

			if (code == PV_DHCP_OPT_OVERLOAD ||
			    pv_netboot_dhcp_option(m, (uint8_t)code, &v1, &l1) != PV_OK)
				continue;
			if (pv_netboot_dhcp_option(again, (uint8_t)code, &v2, &l2) != PV_OK ||
			    l1 != l2 || memcmp(v1, v2, l1) != 0)
				abort();
		}
	}
out_free:
	pv_clear_error();
	free(b);
	free(again);
	free(m);
	return 0;
}
