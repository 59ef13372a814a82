/* CSV (RFC 4180) with a header row; `inventory import` reads the same columns back. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "inventory_internal.h"
#include "piprov/inventory_export.h"
#include "piprov/text.h"
#include "banned.h"

static int put_field(struct pv_buf *out, const char *value, bool last)
{
	int rc = 0;

	if (strpbrk(value, ",\"\r\n")) {
		rc = pv_buf_putc(out, '"');
		for (const char *p = value; *p && !rc; p++)
			rc = *p == '"' ? pv_buf_append(out, "\"\"", 2) : pv_buf_putc(out, *p);
		if (!rc)
			rc = pv_buf_putc(out, '"');
	} else {
		rc = pv_buf_append_str(out, value);
	}
	return rc ? rc : pv_buf_append_str(out, last ? "\r\n" : ",");
}

int pv_export_csv(const struct pv_inventory *inv, const struct pv_export_opts *opts,
		  struct pv_buf *out)
{
	char serial[17], serial8[9], mac[PV_MAC_STRLEN], wifi[PV_MAC_STRLEN], bt[PV_MAC_STRLEN];
	char ip[16], revision[12], dir[PV_INVENTORY_HOSTNAME_MAX], order[16], tags[2200];
	int rc = pv_buf_append_str(out, "serial,serial8,mac,wifi_mac,bt_mac,board_revision,model,"
					"memory,uuid,hostname,ip,tftp_prefix,tftp_prefix_str,"
					"tftp_dir,boot_order,bootloader_version,tags,notes\r\n");

	(void)opts;
	for (size_t i = 0; i < inv->count && !rc; i++) {
		const struct pv_inventory_record *rec = &inv->records[i];
		struct pv_export_board board;
		const char *fields[18];
		size_t n = 0, used = 0;

		pv_inventory_serial_text(rec, serial);
		pv_inventory_serial8(rec, serial8);
		mac[0] = wifi[0] = bt[0] = ip[0] = revision[0] = order[0] = tags[0] = '\0';
		if (rec->has_mac)
			pv_mac_format(rec->mac, ':', mac);
		if (rec->has_wifi_mac)
			pv_mac_format(rec->wifi_mac, ':', wifi);
		if (rec->has_bt_mac)
			pv_mac_format(rec->bt_mac, ':', bt);
		if (rec->has_ip)
			pv_ipv4_format(rec->ip, ip);
		if (rec->has_revision)
			snprintf(revision, sizeof(revision), "%x", rec->revision);
		if (rec->has_boot_order)
			snprintf(order, sizeof(order), "0x%x", rec->boot_order);
		/* 32 tags of 63 characters fit: no truncation possible. */
		for (size_t t = 0; t < rec->n_tags && used < sizeof(tags); t++) {
			if (t)
				used += pv_strlcpy(tags + used, ";", sizeof(tags) - used);
			if (used < sizeof(tags))
				used += pv_strlcpy(tags + used, rec->tags[t], sizeof(tags) - used);
		}
		pv_inventory_tftp_dir(rec, dir);
		pv_export_describe(rec, &board);
		fields[n++] = serial;
		fields[n++] = serial8;
		fields[n++] = mac;
		fields[n++] = wifi;
		fields[n++] = bt;
		fields[n++] = revision;
		fields[n++] = board.model;
		fields[n++] = board.memory;
		fields[n++] = rec->uuid;
		fields[n++] = rec->hostname;
		fields[n++] = ip;
		fields[n++] = rec->has_tftp_prefix ? pv_tftp_prefix_name(rec->tftp_prefix) : "";
		fields[n++] = rec->tftp_prefix_str;
		fields[n++] = dir;
		fields[n++] = order;
		fields[n++] = rec->bootloader_version;
		fields[n++] = tags;
		fields[n++] = rec->notes ? rec->notes : "";
		for (size_t f = 0; f < n && !rc; f++)
			rc = put_field(out, fields[f], f + 1 == n);
	}
	return rc ? pv_fail(rc, "inventory", "csv export: %s", pv_strerror(rc)) : PV_OK;
}
