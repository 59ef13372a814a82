/* Kea DHCPv4 (kea-dhcp4.conf): one subnet4 per /24 holding boards, a host reservation per
 * board (MAC, IP, hostname), and a client class that recognises Pi 4/5 by the option-97
 * FourCC (both byte orders) and answers with the PXE option 43 the bootloader needs. */
#include <stdio.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "piprov/board.h"
#include "piprov/inventory_export.h"
#include "piprov/text.h"
#include "banned.h"

/* Option 43 as dnsmasq's pxe-service builds it: discovery control 3 (boot from the menu,
 * no broadcast), a one-item menu "Raspberry Pi Boot" (type 0) and the prompt. */
static const char pxe_option43_hex[] = "06010309140000115261737062657272792050692"
				       "0426f6f740a0400505845ff";

static json_t *class_test(void)
{
	char test[512];
	size_t used = 0;

	for (size_t i = 0; pv_soc_at(i); i++) {
		uint32_t cc = pv_soc_at(i)->dhcp_option97_fourcc;
		uint32_t swapped = ((cc & 0xff) << 24) | ((cc & 0xff00) << 8) |
				   ((cc >> 8) & 0xff00) | (cc >> 24);
		if (!cc || used >= sizeof(test))
			continue;
		used += (size_t)snprintf(test + used, sizeof(test) - used,
					 "%ssubstring(option[97].hex,1,4) == 0x%08x or "
					 "substring(option[97].hex,1,4) == 0x%08x",
					 used ? " or " : "", cc, swapped);
	}
	return used && used < sizeof(test) ? json_string(test) : NULL;
}

int pv_export_kea(const struct pv_inventory *inv, const struct pv_export_opts *opts,
		  struct pv_buf *out)
{
	json_t *root = NULL, *dhcp4, *subnets, *classes, *ifaces, *test;
	char mac[PV_MAC_STRLEN], ip[16], net[20];
	int rc = PV_ERR_NOMEM;
	char *text;

	test = class_test();
	if (!test)
		return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
	ifaces = json_array();
	subnets = json_array();
	classes = json_pack("[{s:s, s:o, s:[{s:s, s:s}, {s:s, s:b, s:s, s:b}]}]",
			    "name", "rpi", "test", test, "option-data", "name", "vendor-class-identifier", "data", "PXEClient",
			    "name", "vendor-encapsulated-options", "csv-format", 0, "data",
			    pxe_option43_hex, "always-send", 1);
	if (!ifaces || !subnets || !classes)
		goto out_free;
	if (opts->has_server_ip) {
		pv_ipv4_format(opts->server_ip, ip);
		json_object_set_new(json_array_get(classes, 0), "next-server", json_string(ip));
	}
	if (json_array_append_new(ifaces, json_string(opts->interface ? opts->interface : "*")))
		goto out_free;
	for (size_t i = 0; i < inv->count; i++) {
		const struct pv_inventory_record *rec = &inv->records[i];
		uint32_t network;
		json_t *subnet = NULL, *resv;

		if (!rec->has_mac || !rec->has_ip)
			continue;
		network = rec->ip & 0xffffff00u;
		pv_ipv4_format(network, ip);
		snprintf(net, sizeof(net), "%s/24", ip);
		for (size_t s = 0; s < json_array_size(subnets); s++) {
			json_t *cand = json_array_get(subnets, s);
			if (strcmp(json_string_value(json_object_get(cand, "subnet")), net) == 0)
				subnet = cand;
		}
		if (!subnet) {
			subnet = json_pack("{s:I, s:s, s:[]}", "id",
					   (json_int_t)json_array_size(subnets) + 1, "subnet", net,
					   "reservations");
			if (!subnet || json_array_append_new(subnets, subnet))
				goto out_free;
		}
		pv_mac_format(rec->mac, ':', mac);
		pv_ipv4_format(rec->ip, ip);
		resv = json_pack("{s:s, s:s}", "hw-address", mac, "ip-address", ip);
		if (!resv)
			goto out_free;
		if (rec->hostname[0])
			json_object_set_new(resv, "hostname", json_string(rec->hostname));
		if (json_array_append_new(json_object_get(subnet, "reservations"), resv))
			goto out_free;
	}
	dhcp4 = json_pack("{s:{s:o}, s:{s:s, s:b}, s:o, s:o}", "interfaces-config", "interfaces",
			  ifaces, "lease-database", "type", "memfile", "persist", 0,
			  "client-classes", classes, "subnet4", subnets);
	ifaces = classes = subnets = NULL;
	if (!dhcp4)
		goto out_free;
	root = json_pack("{s:o}", "Dhcp4", dhcp4);
	if (!root)
		goto out_free;
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text)
		goto out_free;
	rc = pv_buf_append_str(out, text);
	if (!rc)
		rc = pv_buf_putc(out, '\n');
	free(text);
out_free:
	json_decref(root);
	json_decref(ifaces);
	json_decref(subnets);
	json_decref(classes);
	return rc ? pv_fail(rc, "inventory", "kea export: %s", pv_strerror(rc)) : PV_OK;
}
