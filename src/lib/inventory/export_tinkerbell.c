/* Tinkerbell Hardware objects (tinkerbell.org/v1alpha1), one YAML document per board with a
 * MAC: DHCP identity (MAC, IP, hostname, arch), PXE allowed, and netboot.rpi.serialNum set to
 * the 8-digit serial Tinkerbell's Pi route matches TFTP requests against.
 *
 * The YAML is written by libyaml's emitter, not by printf: it quotes and escapes whatever a
 * scalar holds (a namespace 'a"b: c' once came out as a new mapping key). Every value taken
 * from the inventory or the command line is double-quoted, so YAML 1.1 readers never turn a
 * serial such as "12345678" into a number or "no" into false. */
#include <stdio.h>
#include <ctype.h>
#include <string.h>
#include <yaml.h>

#include "internal.h"
#include "inventory_internal.h"
#include "piprov/inventory_export.h"
#include "piprov/text.h"
#include "banned.h"

/* Kubernetes object names: lower-case DNS-1123 labels. */
static void object_name(const struct pv_inventory_record *rec, char out[PV_INVENTORY_HOSTNAME_MAX])
{
	char serial8[9];

	if (rec->hostname[0]) {
		size_t i;
		for (i = 0; rec->hostname[i] && i + 1 < PV_INVENTORY_HOSTNAME_MAX; i++)
			out[i] = (char)tolower((unsigned char)rec->hostname[i]);
		out[i] = '\0';
		return;
	}
	pv_inventory_serial8(rec, serial8);
	snprintf(out, PV_INVENTORY_HOSTNAME_MAX, "rpi-%s", serial8);
}

/* A namespace is a DNS-1123 label: Kubernetes refuses anything else, so say it here. */
static bool dns_label_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 63 || name[0] == '-' || name[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '-'))
			return false;
	return true;
}

static int write_to_buf(void *user, unsigned char *data, size_t size)
{
	return pv_buf_append(user, data, size) == PV_OK; /* libyaml: 1 = success */
}

/* The emitter and whether an event failed (checked once per board, not per call). */
struct yaml_out {
	yaml_emitter_t emitter;
	bool failed;
};

/* yaml_emitter_emit() owns the event, also when it fails; one not handed to it is freed. */
static void emit(struct yaml_out *y, yaml_event_t *event, int initialised)
{
	if (!initialised) {
		y->failed = true;
	} else if (y->failed) {
		yaml_event_delete(event);
	} else if (!yaml_emitter_emit(&y->emitter, event)) {
		y->failed = true;
	}
}

enum scalar_kind { PLAIN, QUOTED };

static void scalar(struct yaml_out *y, const char *text, enum scalar_kind kind)
{
	yaml_event_t ev;

	emit(y, &ev, yaml_scalar_event_initialize(
			     &ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text), 1, 1,
			     kind == QUOTED ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_PLAIN_SCALAR_STYLE));
}

/* key: "value" (quoted) */
static void pair(struct yaml_out *y, const char *key, const char *value)
{
	scalar(y, key, PLAIN);
	scalar(y, value, QUOTED);
}

/* key: value (a YAML keyword or number written by us: true, 4) */
static void pair_plain(struct yaml_out *y, const char *key, const char *value)
{
	scalar(y, key, PLAIN);
	scalar(y, value, PLAIN);
}

static void map_start(struct yaml_out *y, const char *key)
{
	yaml_event_t ev;

	if (key)
		scalar(y, key, PLAIN);
	emit(y, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
							  YAML_BLOCK_MAPPING_STYLE));
}

static void map_end(struct yaml_out *y)
{
	yaml_event_t ev;

	emit(y, &ev, yaml_mapping_end_event_initialize(&ev));
}

static void board_document(struct yaml_out *y, const struct pv_inventory_record *rec,
			   const struct pv_export_opts *opts, const struct pv_export_net *net)
{
	char name[PV_INVENTORY_HOSTNAME_MAX], mac[PV_MAC_STRLEN], ip[16], mask[16];
	char serial8[9], serial[17];
	yaml_event_t ev;

	object_name(rec, name);
	pv_mac_format(rec->mac, ':', mac);
	pv_inventory_serial8(rec, serial8);
	pv_inventory_serial_text(rec, serial);

	emit(y, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0));
	map_start(y, NULL);
	pair(y, "apiVersion", "tinkerbell.org/v1alpha1");
	pair(y, "kind", "Hardware");
	map_start(y, "metadata");
	pair(y, "name", name);
	pair(y, "namespace", opts->namespace_);
	map_start(y, "labels");
	pair(y, "piprov.io/serial", serial);
	map_end(y);
	map_end(y);
	map_start(y, "spec");
	map_start(y, "metadata");
	map_start(y, "instance");
	pair(y, "id", mac);
	pair(y, "hostname", name);
	map_end(y);
	map_end(y);
	scalar(y, "interfaces", PLAIN);
	emit(y, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
							   YAML_BLOCK_SEQUENCE_STYLE));
	map_start(y, NULL);
	map_start(y, "dhcp");
	pair(y, "mac", mac);
	pair(y, "arch", "aarch64");
	pair(y, "hostname", name);
	if (rec->has_ip) {
		pv_ipv4_format(rec->ip, ip);
		pv_ipv4_format(net->netmask, mask);
		map_start(y, "ip");
		pair(y, "address", ip);
		pair(y, "netmask", mask);
		if (net->has_gateway) {
			pv_ipv4_format(net->gateway, ip);
			pair(y, "gateway", ip);
		}
		pair_plain(y, "family", "4");
		map_end(y);
	}
	map_end(y);
	map_start(y, "netboot");
	pair_plain(y, "allowPXE", "true");
	pair_plain(y, "allowWorkflow", "true");
	map_start(y, "rpi");
	pair(y, "serialNum", serial8);
	map_end(y);
	map_end(y);
	map_end(y);
	emit(y, &ev, yaml_sequence_end_event_initialize(&ev));
	map_end(y);
	map_end(y);
	emit(y, &ev, yaml_document_end_event_initialize(&ev, 1));
}

int pv_export_tinkerbell(const struct pv_inventory *inv, const struct pv_export_opts *opts,
			 struct pv_buf *out)
{
	struct yaml_out y = { .failed = false };
	struct pv_export_net net;
	yaml_event_t ev;
	int rc = pv_export_settle(opts, &net);

	if (rc)
		return rc;
	if (!dns_label_valid(opts->namespace_))
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "namespace '%s' is not a Kubernetes namespace (lower-case letters, "
			       "digits and '-', at most 63)", opts->namespace_);
	rc = pv_buf_append_str(out, "# Generated by piprov inventory export tinkerbell.\n");
	if (rc)
		goto out_fail;
	if (!yaml_emitter_initialize(&y.emitter)) {
		rc = PV_ERR_NOMEM;
		goto out_fail;
	}
	yaml_emitter_set_output(&y.emitter, write_to_buf, out);
	yaml_emitter_set_unicode(&y.emitter, 1);
	yaml_emitter_set_width(&y.emitter, -1); /* never fold a long scalar */
	emit(&y, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	for (size_t i = 0; i < inv->count && !y.failed; i++)
		if (inv->records[i].has_mac)
			board_document(&y, &inv->records[i], opts, &net);
	emit(&y, &ev, yaml_stream_end_event_initialize(&ev));
	if (!y.failed && !yaml_emitter_flush(&y.emitter))
		y.failed = true;
	if (y.failed)
		rc = y.emitter.error == YAML_MEMORY_ERROR || y.emitter.error == YAML_WRITER_ERROR
			     ? PV_ERR_NOMEM
			     : PV_ERR_INVALID;
	yaml_emitter_delete(&y.emitter);
	if (!rc)
		return PV_OK;
out_fail:
	return pv_fail(rc, "inventory", "tinkerbell export: %s", pv_strerror(rc));
}
