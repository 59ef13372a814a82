/* piprov-node report: this board's record, upserted into an inventory file under the
 * inventory's lock (crash-safe: temp file + rename), e.g. on an NFS share or on the SD
 * card's boot partition, for `piprov inventory import` on the server. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "piprov/inventory.h"
#include "piprov/text.h"
#include "node_cli.h"
#include "banned.h"

#define INVENTORY_NAME "piprov-inventory.cfg"

static int set(struct pv_inventory_record *rec, const char *key, const char *value)
{
	int rc = pv_inventory_record_set(rec, key, value);

	if (rc)
		node_fail(rc);
	return rc;
}

/* The record this board's identity gives; fails (already printed) on bad values. */
int node_build_record(const struct pv_node_identity *id, struct pv_inventory_record *rec)
{
	char text[128], serial[PV_SERIAL_STRLEN], mac[PV_MAC_STRLEN];
	const char *config = pv_buf_str(&id->eeprom_config);

	if (id->serial_source == PV_NODE_SRC_NONE)
		return node_error("the serial number is unknown; cannot record this board");
	pv_serial_format(id->serial, 16, serial);
	if (set(rec, "serial", serial))
		return -1;
	if (id->mac_source != PV_NODE_SRC_NONE) {
		pv_mac_format(id->mac, ':', mac);
		if (set(rec, "mac", mac))
			return -1;
	}
	if (id->revision_source != PV_NODE_SRC_NONE) {
		snprintf(text, sizeof(text), "%x", id->revision_code);
		if (set(rec, "revision", text))
			return -1;
	}
	if (id->duid[0] && set(rec, "uuid", id->duid))
		return -1;
	if (id->eeprom_config_source != PV_NODE_SRC_NONE) {
		unsigned char digest[32];
		char hex[65];
		unsigned len = 0;
		if (!pv_node_config_get(config, "TFTP_PREFIX", text, sizeof(text)))
			pv_strlcpy(text, "0", sizeof(text));
		if (set(rec, "tftp_prefix", text))
			return -1;
		if (pv_node_config_get(config, "TFTP_PREFIX_STR", text, sizeof(text))) {
			/* The inventory keeps the folder name; the bootloader's string usually
			 * ends with the separator ("cluster-a/"). */
			size_t n = strlen(text);
			while (n > 0 && text[n - 1] == '/')
				text[--n] = '\0';
			if (set(rec, "tftp_prefix_str", text))
				return -1;
		}
		if (!pv_node_config_get(config, "BOOT_ORDER", text, sizeof(text)) || !text[0])
			pv_strlcpy(text, "0xf41", sizeof(text));
		if (set(rec, "boot_order", text))
			return -1;
		if (!EVP_Digest(id->eeprom_config.data ? (const void *)id->eeprom_config.data : "",
				id->eeprom_config.len, digest, &len, EVP_sha256(), NULL))
			return node_error("sha256 failed");
		pv_hex_encode(digest, 32, hex);
		if (set(rec, "config_hash", hex))
			return -1;
	}
	if ((id->bootloader.present & PV_NODE_BL_VERSION) &&
	    set(rec, "bootloader_version", id->bootloader.version))
		return -1;
	if (id->bootloader.present & PV_NODE_BL_BUILD_TIMESTAMP) {
		snprintf(text, sizeof(text), "%u", id->bootloader.build_timestamp);
		if (set(rec, "bootloader_build_ts", text))
			return -1;
	}
	return 0;
}

/* --inventory, else configured, else $PIPROV_INVENTORY, else piprov-inventory.cfg on the
 * boot partition (host path: the root joined with it). malloc'd. */
char *node_inventory_path(struct node_context *ctx, const char *configured)
{
	struct pv_node_update_defaults d;
	char bootfs[256], *path = NULL;

	if (ctx->inventory && ctx->inventory_from_option)
		return strdup(ctx->inventory);
	if (configured && *configured)
		return strdup(configured);
	if (ctx->inventory) /* $PIPROV_INVENTORY */
		return strdup(ctx->inventory);
	if (pv_node_update_defaults_read(&ctx->root, &d) ||
	    pv_node_find_bootfs(&ctx->root, &d, bootfs, sizeof(bootfs))) {
		node_fail(PV_ERR_NOT_FOUND);
		return NULL;
	}
	if (asprintf(&path, "%s/%s/%s", ctx->root_path, bootfs, INVENTORY_NAME) < 0)
		return NULL;
	return path;
}

int node_report(struct node_context *ctx, const struct pv_node_identity *id, const char *path,
		bool json)
{
	struct pv_inventory_record rec;
	struct pv_inventory_upsert_opts opts = { PV_INVENTORY_SOURCE_NODE, 0, NULL, 0 };
	struct pv_inventory_report report;
	int rc;

	pv_inventory_record_init(&rec);
	if (node_build_record(id, &rec)) {
		pv_inventory_record_release(&rec);
		return NODE_EXIT_FAILURE;
	}
	memset(&report, 0, sizeof(report));
	rc = pv_inventory_upsert(path, &rec, &opts, &report);
	pv_inventory_record_release(&rec);
	if (rc)
		return node_fail(rc);
	for (size_t i = 0; i < report.n_conflicts && i < PV_INVENTORY_MAX_CONFLICTS; i++)
		node_warn("%s", report.conflicts[i].message);
	if (json) {
		json_t *o = node_identity_json(id);
		json_object_set_new(o, "inventory", json_string(path));
		json_object_set_new(o, "created", json_boolean(report.created));
		json_object_set_new(o, "changed", json_boolean(report.changed));
		json_object_set_new(o, "conflicts", json_integer((json_int_t)report.n_conflicts));
		rc = node_print_json(o);
		json_decref(o);
		return rc;
	}
	/* The result, on stdout: -q silences messages, not what the command reports. */
	printf("%s %s in '%s'%s\n", report.serial,
	       report.created ? "added" : report.changed ? "updated" : "unchanged", path,
	       report.n_conflicts ? " (with conflicts, see above)" : "");
	return NODE_EXIT_OK;
}

int cmd_report(int argc, char **argv, struct node_context *ctx)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pv_node_identity id;
	char *path;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("usage: piprov-node report [--inventory FILE] [--json]\n");
			return NODE_EXIT_OK;
		default: return node_usage_hint();
		}
	}
	if (optind < argc)
		return node_usage_error("no arguments expected");
	if (node_read_identity(ctx, &id))
		return NODE_EXIT_FAILURE;
	path = node_inventory_path(ctx, NULL);
	rc = path ? node_report(ctx, &id, path, ctx->json) : NODE_EXIT_FAILURE;
	free(path);
	pv_node_identity_release(&id);
	return rc;
}
