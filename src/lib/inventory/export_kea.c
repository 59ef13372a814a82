/* Kea DHCPv4 (kea-dhcp4.conf): the boards' subnets (the DHCP range's, then one per network
 * holding boards), a pool from the DHCP range so a board not yet in the inventory gets a
 * lease, a host reservation per board, and the PXE answer every Pi needs: option 43 with the
 * menu text, option 60 "PXEClient", the TFTP server as siaddr (next-server) and option 66.
 *
 * Who gets the PXE answer (netboot-and-identity.md §1.2, §1.5):
 * - class "rpi3": a Pi 3 (or older), by its OUI b8:27:eb, with the Pi 3B ROM's menu text
 *   (three trailing spaces); defined first, so its option 43 wins over "rpi"'s;
 * - class "rpi": the option-97 FourCC of a Pi 4/5 (both byte orders), the old option 97
 *   (00 + the serial four times: a Pi 3, or a Pi 4/5 with DHCP_OPTION97=0), or a Pi OUI;
 * - classes "rpi-reserved" / "rpi3-reserved" (no test: only a host reservation assigns
 *   them): every board of the inventory, whatever its option 97 says. */
#include <stdio.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "inventory_internal.h"
#include "piprov/board.h"
#include "piprov/inventory_export.h"
#include "piprov/text.h"
#include "banned.h"

/* Option 43 as dnsmasq's pxe-service builds it, as hex: discovery control 3 (boot from the
 * menu, no broadcast), a one-item menu (type 0) with the text, the prompt "PXE", the end. */
static void pxe_option43_hex(const char *menu, char out[160])
{
	size_t len = strlen(menu), n = 0;

	n += (size_t)snprintf(out + n, 160 - n, "060103" "09%02zx0000%02zx", len + 3, len);
	for (size_t i = 0; i < len && n + 2 < 160; i++)
		n += (size_t)snprintf(out + n, 160 - n, "%02x", (unsigned char)menu[i]);
	snprintf(out + n, 160 - n, "0a0400505845ff");
}

/* The option data of a PXE answer: 60, 43 and (with a server) 66. */
static json_t *pxe_options(const char *menu, const struct pv_export_net *net)
{
	char hex[160], ip[16];
	json_t *data;

	pxe_option43_hex(menu, hex);
	data = json_pack("[{s:s, s:s}, {s:s, s:b, s:s, s:b}]", "name", "vendor-class-identifier",
			 "data", "PXEClient", "name", "vendor-encapsulated-options", "csv-format",
			 0, "data", hex, "always-send", 1);
	if (data && net->has_tftp_server) {
		pv_ipv4_format(net->tftp_server, ip);
		if (json_array_append_new(data, json_pack("{s:s, s:s}", "name", "tftp-server-name",
							  "data", ip))) {
			json_decref(data);
			return NULL;
		}
	}
	return data;
}

static json_t *pxe_class(const char *name, const char *test, const char *menu,
			 const struct pv_export_net *net)
{
	json_t *cls = json_pack("{s:s}", "name", name), *options = pxe_options(menu, net);
	char ip[16];
	int bad;

	if (!cls || !options) {
		json_decref(cls);
		json_decref(options);
		return NULL;
	}
	bad = test && json_object_set_new(cls, "test", json_string(test));
	bad |= json_object_set_new(cls, "option-data", options);
	if (net->has_tftp_server) {
		pv_ipv4_format(net->tftp_server, ip);
		bad |= json_object_set_new(cls, "next-server", json_string(ip));
	}
	if (bad) {
		json_decref(cls);
		return NULL;
	}
	return cls;
}

#define TEST_MAX 2048

/* "substring(pkt4.mac,0,3) == 0xb827eb or ..." for the OUIs of chips whose menu text is
 * menu (menu NULL: every chip's). */
static void append_oui_tests(char *test, size_t *used, const char *menu)
{
	uint32_t seen[16];
	size_t n = 0;

	for (size_t i = 0; pv_soc_at(i); i++) {
		const struct pv_soc_info *soc = pv_soc_at(i);

		if (menu && (!soc->pxe_menu_text || strcmp(soc->pxe_menu_text, menu) != 0))
			continue;
		for (size_t k = 0; k < PV_ARRAY_SIZE(soc->mac_ouis) && soc->mac_ouis[k]; k++) {
			bool dup = false;

			for (size_t j = 0; j < n; j++)
				dup |= seen[j] == soc->mac_ouis[k];
			if (dup || n == PV_ARRAY_SIZE(seen) || *used >= TEST_MAX)
				continue;
			seen[n++] = soc->mac_ouis[k];
			*used += (size_t)snprintf(test + *used, TEST_MAX - *used,
						  "%ssubstring(pkt4.mac,0,3) == 0x%06x",
						  *used ? " or " : "", soc->mac_ouis[k]);
		}
	}
}

/* The "rpi" test: FourCCs, the old option 97 shape, the OUIs. */
static bool rpi_test(char test[TEST_MAX])
{
	size_t used = 0;

	for (size_t i = 0; pv_soc_at(i) && used < TEST_MAX; i++) {
		uint32_t cc = pv_soc_at(i)->dhcp_option97_fourcc;
		uint32_t swapped = ((cc & 0xff) << 24) | ((cc & 0xff00) << 8) |
				   ((cc >> 8) & 0xff00) | (cc >> 24);
		if (!cc)
			continue;
		used += (size_t)snprintf(test + used, TEST_MAX - used,
					 "%ssubstring(option[97].hex,1,4) == 0x%08x or "
					 "substring(option[97].hex,1,4) == 0x%08x",
					 used ? " or " : "", cc, swapped);
	}
	/* 00 + the serial four times: Kea compares the groups, dnsmasq cannot. */
	if (used < TEST_MAX)
		used += (size_t)snprintf(
			test + used, TEST_MAX - used,
			"%s(option[97].exists and substring(option[97].hex,0,1) == 0x00 and "
			"not (substring(option[97].hex,13,4) == '') and "
			"substring(option[97].hex,1,4) == substring(option[97].hex,5,4) and "
			"substring(option[97].hex,1,4) == substring(option[97].hex,9,4) and "
			"substring(option[97].hex,1,4) == substring(option[97].hex,13,4))",
			used ? " or " : "");
	if (used < TEST_MAX)
		append_oui_tests(test, &used, NULL);
	return used < TEST_MAX;
}

static json_t *client_classes(const struct pv_export_net *net)
{
	const char *pi3 = pv_soc_info(PV_SOC_BCM2837)->pxe_menu_text;
	const char *pi4 = pv_soc_info(PV_SOC_BCM2711)->pxe_menu_text;
	char *test = malloc(TEST_MAX), *oui_test = malloc(TEST_MAX);
	json_t *classes = NULL;
	size_t used = 0;

	if (!test || !oui_test)
		goto out_free;
	append_oui_tests(oui_test, &used, pi3);
	if (used >= TEST_MAX || !rpi_test(test))
		goto out_free;
	classes = json_array();
	if (!classes)
		goto out_free;
	/* Order matters: for an option several classes define, the first class wins. */
	if (json_array_append_new(classes, pxe_class("rpi3", oui_test, pi3, net)) ||
	    json_array_append_new(classes, pxe_class("rpi", test, pi4, net)) ||
	    json_array_append_new(classes, pxe_class("rpi3-reserved", NULL, pi3, net)) ||
	    json_array_append_new(classes, pxe_class("rpi-reserved", NULL, pi4, net))) {
		json_decref(classes);
		classes = NULL;
	}
out_free:
	free(test);
	free(oui_test);
	return classes;
}

/* A subnet4 entry; the range's gets its pool and lease time, the gateway's its routers. */
static json_t *new_subnet(const struct pv_export_net *net, uint32_t network, json_int_t id)
{
	char text[16], cidr[20], first[16], last[16], pool[40];
	json_t *subnet;
	int bad = 0;

	pv_ipv4_format(network, text);
	snprintf(cidr, sizeof(cidr), "%s/%u", text, net->prefix_len);
	subnet = json_pack("{s:I, s:s}", "id", id, "subnet", cidr);
	if (!subnet)
		return NULL;
	if (net->has_range && pv_export_network_of(net, net->range_first) == network) {
		pv_ipv4_format(net->range_first, first);
		pv_ipv4_format(net->range_last, last);
		snprintf(pool, sizeof(pool), "%s - %s", first, last);
		bad |= json_object_set_new(subnet, "pools", json_pack("[{s:s}]", "pool", pool));
		if (net->lease_seconds)
			bad |= json_object_set_new(subnet, "valid-lifetime",
						   json_integer(net->lease_seconds));
	}
	if (net->has_gateway && pv_export_network_of(net, net->gateway) == network) {
		pv_ipv4_format(net->gateway, text);
		bad |= json_object_set_new(subnet, "option-data",
					   json_pack("[{s:s, s:s}]", "name", "routers", "data",
						     text));
	}
	bad |= json_object_set_new(subnet, "reservations", json_array());
	if (bad) {
		json_decref(subnet);
		return NULL;
	}
	return subnet;
}

static json_t *find_subnet(json_t *subnets, const struct pv_export_net *net, uint32_t network)
{
	char text[16], cidr[20];

	pv_ipv4_format(network, text);
	snprintf(cidr, sizeof(cidr), "%s/%u", text, net->prefix_len);
	for (size_t s = 0; s < json_array_size(subnets); s++) {
		json_t *cand = json_array_get(subnets, s);
		if (strcmp(json_string_value(json_object_get(cand, "subnet")), cidr) == 0)
			return cand;
	}
	return NULL;
}

/* The subnet holding network, created at the end of the list when new. */
static json_t *subnet_for(json_t *subnets, const struct pv_export_net *net, uint32_t network)
{
	json_t *subnet = find_subnet(subnets, net, network);

	if (subnet)
		return subnet;
	subnet = new_subnet(net, network, (json_int_t)json_array_size(subnets) + 1);
	if (!subnet || json_array_append_new(subnets, subnet))
		return NULL;
	return subnet;
}

static json_t *reservation(const struct pv_inventory_record *rec)
{
	const char *pi3 = pv_soc_info(PV_SOC_BCM2837)->pxe_menu_text;
	char mac[PV_MAC_STRLEN], ip[16];
	json_t *resv;
	bool is_pi3 = strcmp(pv_export_menu_text(rec), pi3) == 0;

	pv_mac_format(rec->mac, ':', mac);
	pv_ipv4_format(rec->ip, ip);
	resv = json_pack("{s:s, s:s}", "hw-address", mac, "ip-address", ip);
	if (!resv)
		return NULL;
	if ((rec->hostname[0] && json_object_set_new(resv, "hostname", json_string(rec->hostname))) ||
	    json_object_set_new(resv, "client-classes",
				json_pack("[s]", is_pi3 ? "rpi3-reserved" : "rpi-reserved"))) {
		json_decref(resv);
		return NULL;
	}
	return resv;
}

int pv_export_kea(const struct pv_inventory *inv, const struct pv_export_opts *opts,
		  struct pv_buf *out)
{
	json_t *root = NULL, *dhcp4, *subnets = NULL, *classes = NULL, *ifaces = NULL;
	struct pv_export_net net;
	int rc = pv_export_settle(opts, &net);
	char *text;

	if (rc)
		return rc;
	if (!net.has_tftp_server)
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "kea: no TFTP server to send the boards to: give --tftp-server IP "
			       "(or --interface IFACE with an address on this host)");
	rc = PV_ERR_NOMEM;
	classes = client_classes(&net);
	ifaces = json_pack("[s]", opts->interface ? opts->interface : "*");
	subnets = json_array();
	if (!ifaces || !subnets || !classes)
		goto out_free;
	/* The range's (or the given) subnet first: a new board's lease comes from there. */
	if (net.has_range && !subnet_for(subnets, &net, pv_export_network_of(&net, net.range_first)))
		goto out_free;
	if (net.has_subnet && !subnet_for(subnets, &net, net.subnet))
		goto out_free;
	for (size_t i = 0; i < inv->count; i++) {
		const struct pv_inventory_record *rec = &inv->records[i];
		json_t *subnet, *resv;

		if (!rec->has_mac || !rec->has_ip)
			continue;
		subnet = subnet_for(subnets, &net, pv_export_network_of(&net, rec->ip));
		resv = subnet ? reservation(rec) : NULL;
		if (!resv || json_array_append_new(json_object_get(subnet, "reservations"), resv))
			goto out_free;
	}
	if (json_array_size(subnets) == 0) {
		rc = pv_fail(PV_ERR_INVALID, "inventory",
			     "kea needs a subnet: no board has an address; give --dhcp-range "
			     "FIRST,LAST (a pool for new boards) or --subnet NETWORK/PREFIX");
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
	if (rc == PV_ERR_INVALID)
		return rc;
	return rc ? pv_fail(rc, "inventory", "kea export: %s", pv_strerror(rc)) : PV_OK;
}
