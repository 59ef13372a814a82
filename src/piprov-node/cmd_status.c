/* piprov-node status: what this board is and how its bootloader is set up. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/text.h"
#include "node_cli.h"
#include "banned.h"

/* rpi-boardrev-ext bit 31: "no eMMC" on Compute Modules (netboot-and-identity.md §4.1). */
#define BOARDREV_EXT_NO_EMMC (1u << 31)
/* BOOT_ORDER when the config leaves it empty (eeprom-format.md §5). */
#define DEFAULT_BOOT_ORDER "0xf41"
#define BOOT_MODE_NETWORK 0x2

int node_read_identity(struct node_context *ctx, struct pv_node_identity *id)
{
	int rc;

	pv_node_identity_init(id);
	rc = pv_node_identity_read_board(&ctx->root, id);
	if (rc) {
		node_fail(rc);
		pv_node_identity_release(id);
		return rc;
	}
	return PV_OK;
}

static json_t *hex_u32(uint32_t value, bool prefixed)
{
	char text[16];

	/* Revision codes are shown bare ("c03115") as in cpuinfo, capabilities as 0x.. */
	if (prefixed)
		snprintf(text, sizeof(text), "0x%02x", value);
	else
		snprintf(text, sizeof(text), "%x", value);
	return json_string(text);
}

/* Does BOOT_ORDER (hex nibbles, lowest first) contain network boot? */
static bool boot_order_has_network(const char *boot_order)
{
	uint32_t order;

	if (pv_parse_u32(boot_order, 0, &order))
		return false;
	for (; order; order >>= 4)
		if ((order & 0xf) == BOOT_MODE_NETWORK)
			return true;
	return false;
}

json_t *node_identity_json(const struct pv_node_identity *id)
{
	const struct pv_node_bootloader *bl = &id->bootloader;
	const struct pv_soc_info *soc = pv_node_identity_soc(id);
	json_t *o = json_object(), *b, *w;
	char serial[PV_SERIAL_STRLEN], serial8[9], mac[PV_MAC_STRLEN], prefix[80], order[32];
	const char *config = pv_buf_str(&id->eeprom_config);
	bool have_config = id->eeprom_config_source != PV_NODE_SRC_NONE;

	if (id->serial_source != PV_NODE_SRC_NONE) {
		pv_serial_format(id->serial, 16, serial);
		pv_serial8_format(id->serial, serial8);
		json_object_set_new(o, "serial", json_string(serial));
		json_object_set_new(o, "serial8", json_string(serial8));
	} else {
		json_object_set_new(o, "serial", json_null());
		json_object_set_new(o, "serial8", json_null());
	}
	if (id->mac_source != PV_NODE_SRC_NONE) {
		pv_mac_format(id->mac, ':', mac);
		json_object_set_new(o, "mac", json_string(mac));
	} else {
		json_object_set_new(o, "mac", json_null());
	}
	json_object_set_new(o, "revision", id->revision_source != PV_NODE_SRC_NONE
						   ? hex_u32(id->revision_code, false)
						   : json_null());
	json_object_set_new(o, "model", id->model[0] ? json_string(id->model) : json_null());
	json_object_set_new(o, "board", id->revision_decoded && id->revision.board
						? json_string(id->revision.board->short_name)
						: json_null());
	json_object_set_new(o, "soc", soc ? json_string(soc->name) : json_null());
	json_object_set_new(o, "memory_mb", id->revision_decoded && id->revision.memory_mb
						    ? json_integer(id->revision.memory_mb)
						    : json_null());
	json_object_set_new(o, "manufacturer", id->revision_decoded
						       ? json_string(id->revision.manufacturer)
						       : json_null());
	json_object_set_new(o, "pcb_revision", id->revision_decoded
						       ? json_integer(id->revision.pcb_revision)
						       : json_null());
	json_object_set_new(o, "compatible",
			    id->compatible[0] ? json_string(id->compatible) : json_null());
	json_object_set_new(o, "duid", id->duid[0] ? json_string(id->duid) : json_null());
	if (id->revision_decoded && id->revision.board &&
	    (id->revision.board->features & PV_BOARD_COMPUTE_MODULE) && id->has_boardrev_ext)
		json_object_set_new(o, "emmc",
				    json_boolean(!(id->boardrev_ext & BOARDREV_EXT_NO_EMMC)));
	json_object_set_new(o, "has_eeprom", json_boolean(pv_node_identity_has_eeprom(id)));

	if (bl->present) {
		b = json_object();
		json_object_set_new(b, "version", bl->present & PV_NODE_BL_VERSION
							  ? json_string(bl->version)
							  : json_null());
#define BL_INT(key, bit, field)                                                               \
	json_object_set_new(b, key, bl->present & (bit) ? json_integer(bl->field) : json_null())
		BL_INT("build_timestamp", PV_NODE_BL_BUILD_TIMESTAMP, build_timestamp);
		BL_INT("update_timestamp", PV_NODE_BL_UPDATE_TIMESTAMP, update_timestamp);
		json_object_set_new(b, "capabilities", bl->present & PV_NODE_BL_CAPABILITIES
							       ? hex_u32(bl->capabilities, true)
							       : json_null());
		BL_INT("boot_mode", PV_NODE_BL_BOOT_MODE, boot_mode);
		BL_INT("partition", PV_NODE_BL_PARTITION, partition);
		BL_INT("tryboot", PV_NODE_BL_TRYBOOT, tryboot);
#undef BL_INT
		json_object_set_new(o, "bootloader", b);
	} else {
		json_object_set_new(o, "bootloader", json_null());
	}
	if (have_config) {
		if (!pv_node_config_get(config, "BOOT_ORDER", order, sizeof(order)) || !order[0])
			pv_strlcpy(order, DEFAULT_BOOT_ORDER, sizeof(order));
		json_object_set_new(o, "boot_order", json_string(order));
		json_object_set_new(o, "netboot", json_boolean(boot_order_has_network(order)));
	} else {
		json_object_set_new(o, "boot_order", json_null());
		json_object_set_new(o, "netboot", json_null());
	}
	pv_node_identity_tftp_prefix(id, prefix, sizeof(prefix));
	json_object_set_new(o, "tftp_prefix", prefix[0] ? json_string(prefix) : json_null());
	json_object_set_new(o, "eeprom_config", have_config ? json_string(config) : json_null());
	json_object_set_new(o, "eeprom_config_source",
			    json_string(pv_node_source_name(id->eeprom_config_source)));
	if (!pv_node_identity_has_eeprom(id) && id->revision_decoded)
		json_object_set_new(o, "otp_usb_boot",
				    id->has_otp_boot_row
					    ? json_boolean(pv_node_identity_otp_boot_enabled(id))
					    : json_null());
	b = json_object();
	json_object_set_new(b, "serial", json_string(pv_node_source_name(id->serial_source)));
	json_object_set_new(b, "mac", json_string(pv_node_source_name(id->mac_source)));
	json_object_set_new(b, "revision", json_string(pv_node_source_name(id->revision_source)));
	json_object_set_new(o, "sources", b);
	w = json_array();
	for (const char *p = pv_buf_str(&id->warnings); *p;) {
		size_t n = strcspn(p, "\n");
		json_array_append_new(w, json_stringn(p, n));
		p += n + (p[n] == '\n');
	}
	json_object_set_new(o, "warnings", w);
	return o;
}

int node_print_json(json_t *value)
{
	if (!value || json_dumpf(value, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
		return node_error("cannot format the JSON output");
	fputc('\n', stdout);
	return NODE_EXIT_OK;
}

static void print_text(json_t *o)
{
	const char *key;
	json_t *value;

	json_object_foreach(o, key, value) {
		if (strcmp(key, "eeprom_config") == 0 || strcmp(key, "warnings") == 0 ||
		    strcmp(key, "sources") == 0)
			continue;
		if (json_is_object(value)) {
			const char *k2;
			json_t *v2;
			json_object_foreach(value, k2, v2) {
				char *s = json_dumps(v2, JSON_ENCODE_ANY);
				printf("%s.%s: %s\n", key, k2,
				       json_is_string(v2) ? json_string_value(v2) : s ? s : "?");
				free(s);
			}
			continue;
		}
		{
			char *s = json_dumps(value, JSON_ENCODE_ANY);
			printf("%s: %s\n", key,
			       json_is_string(value) ? json_string_value(value) : s ? s : "?");
			free(s);
		}
	}
	value = json_object_get(o, "eeprom_config");
	if (json_is_string(value))
		printf("eeprom_config:\n%s%s", json_string_value(value),
		       json_string_length(value) &&
				       json_string_value(value)[json_string_length(value) - 1] != '\n'
			       ? "\n"
			       : "");
}

int cmd_status(int argc, char **argv, struct node_context *ctx)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pv_node_identity id;
	bool json = ctx->json;
	json_t *o;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("usage: piprov-node status [--json]\n");
			return NODE_EXIT_OK;
		default:
			return node_usage_hint();
		}
	}
	if (optind < argc)
		return node_usage_error("no arguments expected");
	if (node_read_identity(ctx, &id))
		return NODE_EXIT_FAILURE;
	o = node_identity_json(&id);
	if (!json) {
		size_t i;
		json_t *w;
		print_text(o);
		json_array_foreach(json_object_get(o, "warnings"), i, w)
			node_warn("%s", json_string_value(w));
		rc = NODE_EXIT_OK;
	} else {
		rc = node_print_json(o);
	}
	json_decref(o);
	pv_node_identity_release(&id);
	return rc;
}
