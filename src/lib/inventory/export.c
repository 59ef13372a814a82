/* The table of text exports and what they share: defaults and the decoded board model. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "inventory_internal.h"
#include "piprov/board.h"
#include "piprov/inventory_export.h"
#include "piprov/text.h"
#include "banned.h"

struct export_format {
	const char *name;
	int (*fn)(const struct pv_inventory *inv, const struct pv_export_opts *opts,
		  struct pv_buf *out);
};

static const struct export_format formats[] = {
	{ "dnsmasq", pv_export_dnsmasq }, { "ethers", pv_export_ethers },
	{ "hosts", pv_export_hosts },     { "csv", pv_export_csv },
	{ "json", pv_export_json },       { "exports", pv_export_nfs },
	{ "kea", pv_export_kea },         { "tinkerbell", pv_export_tinkerbell },
	{ "ansible", pv_export_ansible },
};

static const char *const format_names[] = {
	"dnsmasq", "ethers", "hosts", "csv", "json", "exports", "kea", "tinkerbell", "ansible",
	"tftp", NULL,
};

const char *const *pv_inventory_export_formats(void)
{
	return format_names;
}

void pv_export_opts_init(struct pv_export_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->tftp_root = "/srv/tftp";
	opts->nfs_root = "/srv/nfs";
	opts->nfs_options = "rw,sync,no_subtree_check,no_root_squash";
	opts->namespace_ = "tink-system";
}

int pv_inventory_export(const char *format, const struct pv_inventory *inv,
			const struct pv_export_opts *opts, struct pv_buf *out)
{
	for (size_t i = 0; i < PV_ARRAY_SIZE(formats); i++)
		if (strcmp(formats[i].name, format) == 0)
			return formats[i].fn(inv, opts, out);
	if (strcmp(format, "tftp") == 0)
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "'tftp' writes folders, not text (pv_export_tftp)");
	return pv_fail(PV_ERR_INVALID, "inventory",
		       "'%s' is not an export format (dnsmasq, ethers, hosts, csv, json, exports, "
		       "tftp, kea, tinkerbell, ansible)", format);
}

void pv_export_describe(const struct pv_inventory_record *rec, struct pv_export_board *out)
{
	struct pv_revision rev;

	memset(out, 0, sizeof(*out));
	if (!rec->has_revision || pv_revision_decode(rec->revision, &rev) != PV_OK)
		return;
	if (rev.board)
		pv_strlcpy(out->model, rev.board->name, sizeof(out->model));
	if (rev.memory_mb >= 1024)
		snprintf(out->memory, sizeof(out->memory), "%uGB", rev.memory_mb / 1024);
	else if (rev.memory_mb)
		snprintf(out->memory, sizeof(out->memory), "%uMB", rev.memory_mb);
	if (rev.soc)
		pv_strlcpy(out->soc, rev.soc->name, sizeof(out->soc));
	if (rev.manufacturer)
		pv_strlcpy(out->manufacturer, rev.manufacturer, sizeof(out->manufacturer));
}
