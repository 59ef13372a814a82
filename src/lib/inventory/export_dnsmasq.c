/* dnsmasq: proxy DHCP beside an existing router (default) or full DHCP, the TFTP server, the
 * "Raspberry Pi Boot" PXE menu the bootloader requires (with the three trailing spaces the
 * Pi 3B ROM needs), Pi 4/5 recognised by the option-97 FourCC in both byte orders, Pi 3 and
 * boards sending option 97 without a FourCC by their OUI, and a static dhcp-host per board.
 * Patterns from ../shared/docs/netboot-and-identity.md §1.2-1.5 (official tutorial,
 * cmprovision, piserver, captures). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "inventory_internal.h"
#include "piprov/board.h"
#include "piprov/inventory_export.h"
#include "piprov/text.h"
#include "banned.h"

/* Option 97 is 0x00 then the FourCC; some firmware sends it byte-swapped (cmprovision). */
static int put_fourcc_matches(struct pv_buf *out)
{
	uint32_t seen[8];
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; pv_soc_at(i); i++) {
		uint32_t cc = pv_soc_at(i)->dhcp_option97_fourcc;
		bool dup = false;

		for (size_t k = 0; k < n; k++)
			dup |= seen[k] == cc;
		if (!cc || dup || n == PV_ARRAY_SIZE(seen))
			continue;
		seen[n++] = cc;
		/* Big-endian bytes first ("RPi4" as 34:69:50:52), then the swapped form. */
		rc = pv_buf_appendf(out, "dhcp-match=set:rpi,97,0:%02x:%02x:%02x:%02x\n"
					 "dhcp-match=set:rpi,97,0:%02x:%02x:%02x:%02x\n",
				    (cc >> 24) & 0xff, (cc >> 16) & 0xff, (cc >> 8) & 0xff, cc & 0xff,
				    cc & 0xff, (cc >> 8) & 0xff, (cc >> 16) & 0xff, (cc >> 24) & 0xff);
		if (rc)
			break;
	}
	return rc;
}

/* A Pi 3 sends option 97 as 00 + its serial four times (no FourCC), and so does a Pi 4/5
 * with DHCP_OPTION97=0: dnsmasq's dhcp-match compares fixed bytes (with wildcards) and
 * cannot test "four equal groups", so such boards are recognised by their OUI. A Pi 3's
 * MAC is always b8:27:eb + the low bytes of its serial (§1.1); the Pi 4/5 OUIs are those
 * seen in logs, not a complete list (a board with another OUI is still tagged by its
 * dhcp-host line when it is in the inventory). Tag rpi3 picks the Pi 3B menu text. */
static int put_oui_matches(struct pv_buf *out)
{
	const char *pi3_text = pv_soc_info(PV_SOC_BCM2837)->pxe_menu_text;
	uint32_t seen[16];
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; pv_soc_at(i) && !rc; i++) {
		const struct pv_soc_info *soc = pv_soc_at(i);

		for (size_t k = 0; k < PV_ARRAY_SIZE(soc->mac_ouis) && soc->mac_ouis[k] && !rc; k++) {
			uint32_t oui = soc->mac_ouis[k];
			bool dup = false, pi3 = soc->pxe_menu_text &&
						strcmp(soc->pxe_menu_text, pi3_text) == 0;

			for (size_t j = 0; j < n; j++)
				dup |= seen[j] == oui;
			if (dup || n == PV_ARRAY_SIZE(seen))
				continue;
			seen[n++] = oui;
			rc = pv_buf_appendf(out, "dhcp-mac=set:rpi,%02x:%02x:%02x:*:*:*\n",
					    oui >> 16, (oui >> 8) & 0xff, oui & 0xff);
			if (!rc && pi3)
				rc = pv_buf_appendf(out, "dhcp-mac=set:rpi3,%02x:%02x:%02x:*:*:*\n",
						    oui >> 16, (oui >> 8) & 0xff, oui & 0xff);
		}
	}
	return rc;
}

/* dnsmasq quotes the menu text; the table's texts hold no quote or backslash. */
static int put_menus(struct pv_buf *out)
{
	return pv_buf_appendf(out,
			      "pxe-service=tag:rpi3,0,\"%s\"\n"
			      "pxe-service=tag:rpi,tag:!rpi3,0,\"%s\"\n",
			      pv_soc_info(PV_SOC_BCM2837)->pxe_menu_text,
			      pv_soc_info(PV_SOC_BCM2711)->pxe_menu_text);
}

/* Proxy DHCP answers on the networks the boards live on: one dhcp-range=NET,proxy,MASK per
 * network (prefix_len) holding a board (or the one given), in order of first appearance. */
static int put_proxy_ranges(const struct pv_inventory *inv, const struct pv_export_net *net,
			    struct pv_buf *out)
{
	char text[16], mask[16];
	int rc = PV_OK;
	bool any = false;

	pv_ipv4_format(net->netmask, mask);
	if (net->has_subnet) {
		pv_ipv4_format(net->subnet, text);
		return pv_buf_appendf(out, "dhcp-range=%s,proxy,%s\n", text, mask);
	}
	/* Checked against the networks already written (few), not against every board. */
	uint32_t *nets = NULL;
	size_t n_nets = 0;

	for (size_t i = 0; i < inv->count && !rc; i++) {
		const struct pv_inventory_record *rec = &inv->records[i];
		uint32_t network = pv_export_network_of(net, rec->ip), *grown;
		bool seen = false;

		if (!rec->has_ip)
			continue;
		for (size_t k = 0; k < n_nets && !seen; k++)
			seen = nets[k] == network;
		if (seen)
			continue;
		grown = realloc(nets, (n_nets + 1) * sizeof(*nets));
		if (!grown) {
			rc = PV_ERR_NOMEM;
			break;
		}
		nets = grown;
		nets[n_nets++] = network;
		pv_ipv4_format(network, text);
		rc = pv_buf_appendf(out, "dhcp-range=%s,proxy,%s\n", text, mask);
		any = true;
	}
	free(nets);
	if (!rc && !any)
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "proxy DHCP needs the network it serves: no board has an IP address; "
			       "give --subnet NETWORK[/PREFIX] (e.g. 192.168.1.0/24) or --dhcp-range");
	return rc;
}

/* The longest dhcp-host line: MAC, address, host name, serial and punctuation. */
#define DHCP_HOST_MAX (10 + 17 + 8 + 16 + PV_INVENTORY_HOSTNAME_MAX + 3 + 16 + 1 + 8)

/* "dhcp-host=MAC,set:rpi[,IP][,HOSTNAME] # SERIAL", or a comment for a board without a MAC.
 * A proxy does not give addresses (dnsmasq ignores a dhcp-host address when it is a proxy):
 * there the line only tags the board, its address and name stay in the comment. For a
 * dhcp-hostsfile (hosts_file) the same line without "dhcp-host=". Plain stores: this line is
 * written once per board (100,000 in the bench). */
static char *put_host(char *p, const struct pv_inventory_record *rec, bool proxy, bool hosts_file)
{
	size_t name_len = strnlen(rec->hostname, sizeof(rec->hostname) - 1);

	if (!rec->has_mac) {
		p = PV_PUT_LIT(p, "# board ");
		p = pv_inventory_put_serial(p, rec);
		return PV_PUT_LIT(p, ": no MAC recorded\n");
	}
	if (!hosts_file)
		p = PV_PUT_LIT(p, "dhcp-host=");
	p = pv_put_mac(p, rec->mac, ':');
	p = PV_PUT_LIT(p, ",set:rpi");
	if (!proxy && rec->has_ip) {
		*p++ = ',';
		p = pv_put_ipv4(p, rec->ip);
	}
	if (!proxy && name_len) {
		*p++ = ',';
		p = pv_put_mem(p, rec->hostname, name_len);
	}
	p = PV_PUT_LIT(p, " # ");
	p = pv_inventory_put_serial(p, rec);
	if (proxy && name_len) {
		*p++ = ' ';
		p = pv_put_mem(p, rec->hostname, name_len);
	}
	if (proxy && rec->has_ip) {
		*p++ = ' ';
		p = pv_put_ipv4(p, rec->ip);
	}
	*p++ = '\n';
	return p;
}

/* Every board's line, into room reserved line by line. */
static int put_hosts(const struct pv_inventory *inv, bool proxy, bool hosts_file,
		     struct pv_buf *out)
{
	int rc = PV_OK;

	for (size_t i = 0; i < inv->count && !rc; i++) {
		char *start;

		rc = pv_buf_reserve(out, DHCP_HOST_MAX);
		if (rc)
			break;
		start = (char *)out->data + out->len;
		out->len += (size_t)(put_host(start, &inv->records[i], proxy, hosts_file) - start);
	}
	if (out->data)
		out->data[out->len] = '\0';
	return rc;
}

/* Where the boards fetch their files when it is not dnsmasq itself: siaddr (dhcp-boot,
 * also in proxy answers) and, in full DHCP, option 66 (dnsmasq sends no other options in a
 * proxy answer). */
static int put_tftp_server(const struct pv_export_net *net, struct pv_buf *out)
{
	char ip[16];
	int rc;

	if (!net->tftp_server_given)
		return PV_OK;
	pv_ipv4_format(net->tftp_server, ip);
	rc = pv_buf_appendf(out, "dhcp-boot=tag:rpi,,,%s\n", ip);
	if (!rc && !net->proxy)
		rc = pv_buf_appendf(out, "dhcp-option=tag:rpi,66,%s\n", ip);
	return rc;
}

static int put_range(const struct pv_export_net *net, struct pv_buf *out)
{
	char first[16], last[16], mask[16], gw[16];
	int rc;

	pv_ipv4_format(net->range_first, first);
	pv_ipv4_format(net->range_last, last);
	pv_ipv4_format(net->netmask, mask);
	rc = pv_buf_appendf(out, "dhcp-range=%s,%s,%s%s%s\n", first, last, mask,
			    net->lease[0] ? "," : "", net->lease);
	if (!rc && net->has_gateway) {
		pv_ipv4_format(net->gateway, gw);
		rc = pv_buf_appendf(out, "dhcp-option=option:router,%s\n", gw);
	}
	return rc;
}

int pv_export_dnsmasq(const struct pv_inventory *inv, const struct pv_export_opts *opts,
		      struct pv_buf *out)
{
	struct pv_export_net net;
	int rc = pv_export_settle(opts, &net);

	if (rc)
		return rc;
	/* One allocation up front: regrowing a multi-megabyte buffer moves it each time. */
	if (pv_buf_reserve(out, inv->count * DHCP_HOST_MAX + 4096))
		return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
	pv_inventory_hint_huge(out->data + out->len, inv->count * DHCP_HOST_MAX);
	rc = pv_buf_appendf(out,
			    "# Generated by piprov inventory export dnsmasq: edit the inventory, not "
			    "this file.\n"
			    "# Raspberry Pi network boot: %s DHCP, TFTP from %s.\n%s"
			    "port=0\nlog-dhcp\nenable-tftp\ntftp-root=%s\n",
			    net.proxy ? "proxy" : "full", opts->tftp_root,
			    net.proxy ? "# The LAN's DHCP server gives the addresses (a proxy gives "
					"none): for the inventory's,\n# have it read 'piprov "
					"inventory export ethers' (dnsmasq: read-ethers).\n"
				      : "",
			    opts->tftp_root);
	if (!rc && opts->interface)
		rc = pv_buf_appendf(out, "interface=%s\nbind-interfaces\n", opts->interface);
	if (!rc)
		rc = net.proxy ? put_proxy_ranges(inv, &net, out) : put_range(&net, out);
	if (!rc)
		rc = put_fourcc_matches(out);
	if (!rc)
		rc = put_oui_matches(out);
	/* A proxy answers only Pis: an empty-menu answer would disturb another PXE service. */
	if (!rc && net.proxy)
		rc = pv_buf_append_str(out, "dhcp-ignore=tag:!rpi\n");
	if (!rc)
		rc = put_menus(out);
	if (!rc)
		rc = put_tftp_server(&net, out);
	if (!rc)
		rc = put_hosts(inv, net.proxy, false, out);
	if (rc == PV_ERR_INVALID)
		return rc;
	return rc ? pv_fail(rc, "inventory", "dnsmasq export: %s", pv_strerror(rc)) : PV_OK;
}

/* The dhcp-host lines alone, for dnsmasq's dhcp-hostsfile=FILE: unlike the main config,
 * dnsmasq reads that file again on SIGHUP, so a station adding boards need not restart it. */
int pv_export_dnsmasq_hosts(const struct pv_inventory *inv, const struct pv_export_opts *opts,
			    struct pv_buf *out)
{
	struct pv_export_net net;
	int rc = pv_export_settle(opts, &net);

	if (rc)
		return rc;
	if (pv_buf_reserve(out, inv->count * DHCP_HOST_MAX + 256))
		return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
	rc = pv_buf_appendf(out, "# Generated by piprov inventory export dnsmasq-hosts (for "
				 "dhcp-hostsfile=, re-read on SIGHUP).\n");
	if (!rc)
		rc = put_hosts(inv, net.proxy, true, out);
	return rc ? pv_fail(rc, "inventory", "dnsmasq-hosts export: %s", pv_strerror(rc)) : PV_OK;
}
