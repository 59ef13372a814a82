/* JSON: an array of one object per board (jansson), also what `inventory list --json` and
 * `show --json` print. */
#include <stdio.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "inventory_internal.h"
#include "piprov/inventory_export.h"
#include "piprov/text.h"
#include "banned.h"

static int set_str(json_t *obj, const char *key, const char *value)
{
	return json_object_set_new(obj, key, value && *value ? json_string(value) : json_null());
}

void *pv_export_record_json(const struct pv_inventory_record *rec)
{
	char text[PV_INVENTORY_HOSTNAME_MAX], t1[21], t2[21];
	struct pv_export_board board;
	json_t *obj = json_object(), *sources = json_object(), *tags = json_array();
	int bad = !obj || !sources || !tags;

	if (bad)
		goto out_fail;
	pv_inventory_serial_text(rec, text);
	bad |= set_str(obj, "serial", text);
	pv_inventory_serial8(rec, text);
	bad |= set_str(obj, "serial8", text);
	text[0] = '\0';
	if (rec->has_mac)
		pv_mac_format(rec->mac, ':', text);
	bad |= set_str(obj, "mac", text);
	text[0] = '\0';
	if (rec->has_wifi_mac)
		pv_mac_format(rec->wifi_mac, ':', text);
	bad |= set_str(obj, "wifi_mac", text);
	text[0] = '\0';
	if (rec->has_bt_mac)
		pv_mac_format(rec->bt_mac, ':', text);
	bad |= set_str(obj, "bt_mac", text);
	bad |= set_str(obj, "hostname", rec->hostname);
	text[0] = '\0';
	if (rec->has_ip)
		pv_ipv4_format(rec->ip, text);
	bad |= set_str(obj, "ip", text);
	text[0] = '\0';
	if (rec->has_revision)
		snprintf(text, sizeof(text), "%x", rec->revision);
	bad |= set_str(obj, "board_revision", text);
	pv_export_describe(rec, &board);
	bad |= set_str(obj, "model", board.model);
	bad |= set_str(obj, "memory", board.memory);
	bad |= set_str(obj, "soc", board.soc);
	bad |= set_str(obj, "manufacturer", board.manufacturer);
	bad |= set_str(obj, "uuid", rec->uuid);
	bad |= set_str(obj, "tftp_prefix",
		       pv_tftp_prefix_name(rec->has_tftp_prefix ? rec->tftp_prefix
								 : PV_TFTP_PREFIX_SERIAL));
	pv_inventory_tftp_dir(rec, text);
	bad |= set_str(obj, "tftp_dir", text);
	text[0] = '\0';
	if (rec->has_boot_order)
		snprintf(text, sizeof(text), "0x%x", rec->boot_order);
	bad |= set_str(obj, "boot_order", text);
	bad |= set_str(obj, "config_hash", rec->config_hash);
	bad |= set_str(obj, "bootloader_version", rec->bootloader_version);
	bad |= json_object_set_new(obj, "bootloader_build_ts",
				   rec->bootloader_build_ts ? json_integer(rec->bootloader_build_ts)
							    : json_null());
	bad |= set_str(obj, "eeprom_hash", rec->eeprom_hash);
	t1[0] = '\0';
	if (rec->flashed_at)
		pv_inventory_format_time(rec->flashed_at, t1);
	bad |= set_str(obj, "flashed_at", t1);
	for (size_t i = 0; i < rec->n_tags; i++)
		bad |= json_array_append_new(tags, json_string(rec->tags[i]));
	bad |= set_str(obj, "notes", rec->notes);
	for (size_t f = 0; f < PV_FACT_COUNT; f++) {
		const struct pv_inventory_seen *seen = &rec->seen[f];

		if (seen->source == PV_INVENTORY_SOURCE_NONE)
			continue;
		pv_inventory_format_time(seen->first_seen, t1);
		pv_inventory_format_time(seen->last_seen, t2);
		bad |= json_object_set_new(sources, pv_inventory_fact_name((enum pv_inventory_fact)f),
					   json_pack("{s:s, s:s, s:s}", "source",
						     pv_inventory_source_name(seen->source),
						     "first_seen", t1, "last_seen", t2));
	}
	bad |= json_object_set_new(obj, "tags", tags);
	tags = NULL;
	bad |= json_object_set_new(obj, "sources", sources);
	sources = NULL;
	if (bad)
		goto out_fail;
	return obj;

out_fail:
	json_decref(tags);
	json_decref(sources);
	json_decref(obj);
	return NULL;
}

int pv_export_json(const struct pv_inventory *inv, const struct pv_export_opts *opts,
		   struct pv_buf *out)
{
	json_t *array = json_array();
	char *text;
	int rc = PV_OK;

	(void)opts;
	if (!array)
		return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
	for (size_t i = 0; i < inv->count; i++) {
		json_t *obj = pv_export_record_json(&inv->records[i]);
		if (!obj || json_array_append_new(array, obj)) {
			rc = pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
			goto out_free_array;
		}
	}
	text = json_dumps(array, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text) {
		rc = pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
		goto out_free_array;
	}
	rc = pv_buf_append_str(out, text);
	if (!rc)
		rc = pv_buf_putc(out, '\n');
	free(text);
out_free_array:
	json_decref(array);
	return rc;
}
