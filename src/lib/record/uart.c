/* A parsed boot log as an inventory record: what `uart capture --inventory` and the UART
 * importer record (source "uart"). */
#include <stdio.h>
#include <string.h>

#include "piprov/inventory.h"
#include "piprov/record.h"
#include "piprov/uart.h"
#include "internal.h"
#include "banned.h"

/* TFTP_PREFIX mode from the folder the board actually asked for: its serial (the default),
 * its dashed MAC, or a TFTP_PREFIX_STR. */
static void set_tftp_prefix(const struct pv_uart_report *r, struct pv_inventory_record *rec)
{
	uint8_t mac[6];
	char dashed[PV_MAC_STRLEN];

	if (!r->tftp_prefix[0])
		return; /* root, or no TFTP yet: the log does not tell the mode */
	if (strcmp(r->tftp_prefix, r->serial8) == 0) {
		rec->has_tftp_prefix = true;
		rec->tftp_prefix = PV_TFTP_PREFIX_SERIAL;
		return;
	}
	if (r->mac[0] && pv_mac_parse(r->mac, mac) == PV_OK) {
		pv_mac_format(mac, '-', dashed);
		if (strcmp(r->tftp_prefix, dashed) == 0) {
			rec->has_tftp_prefix = true;
			rec->tftp_prefix = PV_TFTP_PREFIX_MAC;
			return;
		}
	}
	if (strlen(r->tftp_prefix) < sizeof(rec->tftp_prefix_str)) {
		rec->has_tftp_prefix = true;
		rec->tftp_prefix = PV_TFTP_PREFIX_STRING;
		pv_strlcpy(rec->tftp_prefix_str, r->tftp_prefix, sizeof(rec->tftp_prefix_str));
	}
}

int pv_record_from_uart(const struct pv_uart_report *r, struct pv_inventory_record *rec)
{
	uint32_t ip;

	if (!r->have_serial)
		return pv_fail(PV_ERR_INVALID, "record",
			       "the log has no bootloader header with the board's serial");
	pv_inventory_record_init(rec);
	rec->serial = r->serial;
	rec->serial_digits = 8;
	if (r->mac[0] && pv_mac_parse(r->mac, rec->mac) == PV_OK)
		rec->has_mac = true;
	if (r->boardrev) {
		rec->has_revision = true;
		rec->revision = r->boardrev;
	}
	if (r->client_ip[0] && pv_ipv4_parse(r->client_ip, &ip) == PV_OK) {
		rec->has_ip = true;
		rec->ip = ip;
	}
	set_tftp_prefix(r, rec);
	pv_strlcpy(rec->bootloader_version, r->bootloader_version,
		   sizeof(rec->bootloader_version));
	rec->bootloader_build_ts = (int64_t)r->build_timestamp;
	return PV_OK;
}
