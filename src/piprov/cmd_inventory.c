/* piprov inventory: add, set, rm, show, list, import, export. The inventory file is
 * --inventory FILE, else $PIPROV_INVENTORY, else ./piprov-inventory.cfg. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "piprov/fileio.h"
#include "piprov/inventory.h"
#include "piprov/inventory_export.h"
#include "piprov/inventory_import.h"
#include "piprov/record.h"
#include "piprov/text.h"
#include "banned.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: piprov inventory <command> [<args>] [--inventory FILE] [--json]\n\n"
		"  add --serial S [--mac M] [--hostname H] [--ip IP] [KEY=VALUE...]\n"
		"      [--ip-pool A-B] [--hostname-pattern node-%%02d] [--source SRC]\n"
		"  set BOARD KEY=VALUE...          BOARD: serial, MAC or host name\n"
		"  rm BOARD\n"
		"  show BOARD [--json]\n"
		"  list [--json]\n"
		"  import [--ip-pool A-B] [--hostname-pattern P] [--strict] FILE|DIR...\n"
		"  export FORMAT [-o OUT] [options]\n"
		"      FORMAT: dnsmasq dnsmasq-hosts ethers hosts csv json exports tftp kea\n"
		"              tinkerbell ansible\n"
		"      --dhcp-range FIRST,LAST[,MASK|/N][,LEASE]  full DHCP, Kea pool\n"
		"                       (default: proxy DHCP)\n"
		"      --subnet NETWORK[/N] (alias --proxy)  --prefix-len N  --gateway IP\n"
		"      --interface IF  --tftp-server IP  --domain D  --namespace NS\n"
		"      --tftp-root DIR (or --root DIR)  --nfs-root DIR  --nfs-server IP\n"
		"      --nfs-options OPTS  --nfs-clients ip|subnet  --create-nfs-roots\n"
		"      --template DIR  --copy  --prune\n\n"
		"KEY: mac wifi_mac bt_mac board_revision uuid hostname ip tftp_prefix\n"
		"     tftp_prefix_str boot_order config_hash bootloader_version\n"
		"     bootloader_build_ts eeprom_hash flashed_at tags tags+ notes\n"
		"The file is --inventory FILE, $%s, or ./%s (see piprov-inventory(5)).\n",
		PV_INVENTORY_ENV, PV_INVENTORY_DEFAULT_PATH);
}

static void print_conflicts(const struct pv_inventory_report *rep)
{
	for (size_t i = 0; i < rep->n_conflicts && i < PV_INVENTORY_MAX_CONFLICTS; i++)
		cli_warn("%s", rep->conflicts[i].message);
	if (rep->n_conflicts > PV_INVENTORY_MAX_CONFLICTS)
		cli_warn("... and %zu more conflicts",
			 rep->n_conflicts - PV_INVENTORY_MAX_CONFLICTS);
}

enum { OPT_IP_POOL = 256, OPT_PATTERN, OPT_SOURCE, OPT_STRICT, OPT_JSON, OPT_DHCP_RANGE,
       OPT_PROXY, OPT_INTERFACE, OPT_DOMAIN, OPT_NAMESPACE, OPT_TFTP_ROOT, OPT_NFS_ROOT,
       OPT_NFS_SERVER, OPT_NFS_OPTIONS, OPT_TEMPLATE, OPT_COPY, OPT_PRUNE, OPT_FORCE,
       OPT_TFTP_SERVER, OPT_GATEWAY, OPT_PREFIX_LEN, OPT_NFS_CLIENTS, OPT_CREATE_NFS_ROOTS };

static int parse_alloc(int opt, const char *arg, struct pv_inventory_alloc *alloc)
{
	int rc = opt == OPT_IP_POOL ? pv_inventory_parse_pool(arg, alloc)
				    : pv_inventory_set_hostname_pattern(alloc, arg);
	return rc ? cli_fail(rc) : CLI_EXIT_OK;
}

static int cmd_add(const char *path, int argc, char **argv)
{
	static const struct option options[] = {
		{ "serial", required_argument, NULL, 's' },
		{ "mac", required_argument, NULL, 'm' },
		{ "hostname", required_argument, NULL, 'n' },
		{ "ip", required_argument, NULL, 'i' },
		{ "ip-pool", required_argument, NULL, OPT_IP_POOL },
		{ "hostname-pattern", required_argument, NULL, OPT_PATTERN },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pv_inventory_record rec;
	struct pv_inventory_alloc alloc;
	struct pv_inventory_report rep;
	struct pv_inventory_upsert_opts opts = { .source = PV_INVENTORY_SOURCE_MANUAL,
						 .flags = PV_UPSERT_STRICT };
	bool use_alloc = false;
	int opt, rc, status = CLI_EXIT_FAILURE;

	memset(&alloc, 0, sizeof(alloc));
	pv_inventory_record_init(&rec);
	while ((opt = getopt_long(argc, argv, "s:m:n:i:h", options, NULL)) != -1) {
		rc = PV_OK;
		switch (opt) {
		case 's': rc = pv_inventory_record_set(&rec, "serial", optarg); break;
		case 'm': rc = pv_inventory_record_set(&rec, "mac", optarg); break;
		case 'n': rc = pv_inventory_record_set(&rec, "hostname", optarg); break;
		case 'i': rc = pv_inventory_record_set(&rec, "ip", optarg); break;
		case OPT_IP_POOL:
		case OPT_PATTERN:
			use_alloc = true;
			if (parse_alloc(opt, optarg, &alloc))
				goto out_release;
			break;
		case OPT_SOURCE: rc = pv_inventory_source_parse(optarg, &opts.source); break;
		case OPT_FORCE: opts.flags = PV_UPSERT_OVERWRITE; break;
		case 'h': usage(stdout); status = CLI_EXIT_OK; goto out_release;
		default: status = cli_usage_hint(); goto out_release;
		}
		if (rc) {
			status = cli_fail(rc);
			goto out_release;
		}
	}
	if (rec.serial_digits == 0) {
		status = cli_usage_error("--serial is required");
		goto out_release;
	}
	for (int i = optind; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq) {
			status = cli_usage_error("'%s' is not KEY=VALUE", argv[i]);
			goto out_release;
		}
		*eq = '\0';
		rc = pv_inventory_record_set(&rec, argv[i], eq + 1);
		*eq = '=';
		if (rc) {
			status = cli_fail(rc);
			goto out_release;
		}
	}
	if (use_alloc)
		opts.alloc = &alloc;
	rc = pv_inventory_upsert(path, &rec, &opts, &rep);
	if (rc) {
		status = cli_fail(rc);
		goto out_release;
	}
	print_conflicts(&rep);
	printf("%s board %s\n", rep.created ? "added" : "updated", rep.serial);
	status = CLI_EXIT_OK;
out_release:
	pv_inventory_record_release(&rec);
	return status;
}

struct set_call {
	const char *board;
	char **assignments;
	size_t count;
};

static int set_edit(struct pv_inventory *inv, void *user)
{
	struct set_call *call = user;

	return pv_inventory_set(inv, call->board, (const char *const *)call->assignments,
				call->count, 0);
}

static int rm_edit(struct pv_inventory *inv, void *user)
{
	struct pv_inventory_record *rec = pv_inventory_lookup(inv, user);

	if (!rec)
		return PV_ERR_NOT_FOUND; /* cmd_rm names the board */
	return pv_inventory_remove(inv, rec);
}

/* Commands whose words are all operands (BOARD, KEY=VALUE) still refuse unknown options;
 * getopt moves the operands to argv[optind..]. */
static int operands_only(int argc, char **argv)
{
	static const struct option none[] = { { NULL, 0, NULL, 0 } };

	if (getopt_long(argc, argv, "", none, NULL) != -1)
		return cli_usage_hint();
	return CLI_EXIT_OK;
}

/* "no inventory 'FILE'" for the commands that read one (add and import create it). */
static int inventory_missing(const char *path)
{
	if (pv_path_exists(path))
		return CLI_EXIT_OK;
	return cli_error("no inventory '%s' (give --inventory FILE or $%s; 'piprov inventory "
			 "add' creates it)", path, PV_INVENTORY_ENV);
}

static int cmd_set(const char *path, int argc, char **argv)
{
	struct set_call call;
	int rc;

	if ((rc = operands_only(argc, argv)))
		return rc;
	if (argc - optind < 2)
		return cli_usage_error("BOARD KEY=VALUE... expected");
	if ((rc = inventory_missing(path)))
		return rc;
	call.board = argv[optind];
	call.assignments = argv + optind + 1;
	call.count = (size_t)(argc - optind - 1);
	rc = pv_inventory_update(path, set_edit, &call);
	if (rc)
		return cli_fail(rc);
	return CLI_EXIT_OK;
}

static int cmd_rm(const char *path, int argc, char **argv)
{
	int rc;

	if ((rc = operands_only(argc, argv)))
		return rc;
	if (argc - optind != 1)
		return cli_usage_error("one BOARD expected");
	if ((rc = inventory_missing(path)))
		return rc;
	rc = pv_inventory_update(path, rm_edit, argv[optind]);
	if (rc == PV_ERR_NOT_FOUND)
		return cli_error("no board '%s' in '%s'", argv[optind], path);
	return rc ? cli_fail(rc) : CLI_EXIT_OK;
}

static void print_record(const struct pv_inventory_record *rec)
{
	json_t *obj = pv_export_record_json(rec), *value, *sources;
	const char *key;

	if (!obj)
		return;
	json_object_foreach(obj, key, value) {
		if (json_is_string(value))
			printf("%-20s %s\n", key, json_string_value(value));
		else if (json_is_integer(value))
			printf("%-20s %lld\n", key, (long long)json_integer_value(value));
	}
	if (rec->n_tags) {
		printf("%-20s", "tags");
		for (size_t i = 0; i < rec->n_tags; i++)
			printf(" %s", rec->tags[i]);
		printf("\n");
	}
	sources = json_object_get(obj, "sources");
	json_object_foreach(sources, key, value) {
		printf("seen %-15s %s, %s .. %s\n", key,
		       json_string_value(json_object_get(value, "source")),
		       json_string_value(json_object_get(value, "first_seen")),
		       json_string_value(json_object_get(value, "last_seen")));
	}
	json_decref(obj);
}

static int cmd_show_list(const char *path, int argc, char **argv, bool list,
			 const struct cli_context *ctx)
{
	struct pv_inventory inv;
	const char *board = NULL;
	bool json = ctx->json;
	int status = CLI_EXIT_OK, rc;

	if ((rc = operands_only(argc, argv)))
		return rc;
	for (int i = optind; i < argc; i++) {
		if (!list && !board)
			board = argv[i];
		else
			return cli_usage_error("unexpected '%s'", argv[i]);
	}
	if (!list && !board)
		return cli_usage_error("BOARD expected");
	if ((rc = inventory_missing(path)))
		return rc;
	rc = pv_inventory_load(path, &inv);
	if (rc)
		return cli_fail(rc);
	if (!list) {
		struct pv_inventory_record *rec = pv_inventory_lookup(&inv, board);
		if (!rec)
			status = cli_error("no board '%s' in '%s'", board, path);
		else if (json)
			status = cli_print_json(pv_export_record_json(rec));
		else
			print_record(rec);
	} else if (json) {
		struct pv_buf out = PV_BUF_INIT(SIZE_MAX);
		rc = pv_export_json(&inv, NULL, &out);
		if (rc)
			status = cli_fail(rc);
		else
			fwrite(out.data, 1, out.len, stdout);
		pv_buf_release(&out);
	} else {
		printf("%-16s %-8s %-17s %-16s %-15s %-24s %s\n", "SERIAL", "SERIAL8", "MAC",
		       "HOSTNAME", "IP", "MODEL", "TFTP_DIR");
		for (size_t i = 0; i < inv.count; i++) {
			json_t *obj = pv_export_record_json(&inv.records[i]);
			const char *f[7] = { "serial", "serial8", "mac", "hostname", "ip", "model",
					     "tftp_dir" };
			const char *v[7];

			if (!obj) {
				status = cli_error("out of memory");
				break;
			}
			for (int k = 0; k < 7; k++) {
				v[k] = json_string_value(json_object_get(obj, f[k]));
				v[k] = v[k] ? v[k] : "-";
			}
			printf("%-16s %-8s %-17s %-16s %-15s %-24s %s\n", v[0], v[1], v[2], v[3],
			       v[4], v[5], v[6]);
			json_decref(obj);
		}
	}
	pv_inventory_release(&inv);
	return status;
}

static void import_merged(void *user, const struct pv_inventory_report *report,
			  const struct pv_inventory_record *stored)
{
	(void)user;
	(void)stored;
	print_conflicts(report);
}

static int cmd_import(const char *path, int argc, char **argv, const struct cli_context *ctx)
{
	static const struct option options[] = {
		{ "ip-pool", required_argument, NULL, OPT_IP_POOL },
		{ "hostname-pattern", required_argument, NULL, OPT_PATTERN },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pv_inventory_alloc alloc;
	struct pv_import_batch batch;
	struct pv_record_opts opts = { .merged = import_merged };
	struct pv_record_summary summary;
	int opt, rc, status;

	memset(&alloc, 0, sizeof(alloc));
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case OPT_IP_POOL:
		case OPT_PATTERN:
			opts.alloc = &alloc;
			if (parse_alloc(opt, optarg, &alloc))
				return CLI_EXIT_FAILURE;
			break;
		case OPT_STRICT: opts.flags |= PV_UPSERT_STRICT; break;
		case 'h': usage(stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint();
		}
	}
	if (optind >= argc)
		return cli_usage_error("FILE or DIR expected");
	pv_import_batch_init(&batch);
	for (int i = optind; i < argc; i++) {
		rc = pv_record_import_path(argv[i], PV_IMPORT_AUTO, &batch);
		if (rc) {
			status = cli_fail(rc);
			goto out_release;
		}
	}
	rc = pv_record_batch(path, &batch, &opts, &summary);
	if (rc) {
		status = cli_fail(rc);
		goto out_release;
	}
	status = CLI_EXIT_OK;
	if (ctx->json)
		status = cli_print_json(json_pack("{s:s, s:I, s:I, s:I, s:I}", "inventory", path,
						  "records", (json_int_t)batch.count, "created",
						  (json_int_t)summary.created, "updated",
						  (json_int_t)summary.updated, "conflicts",
						  (json_int_t)summary.conflicts));
	else
		printf("imported %zu records: %zu new boards, %zu updated, %zu conflicts\n",
		       batch.count, summary.created, summary.updated, summary.conflicts);
out_release:
	pv_import_batch_release(&batch);
	return status;
}

/* An unknown format is a usage error (exit 2) naming the formats there are. */
static int check_format(const char *format)
{
	char names[512];
	size_t len = 0;

	names[0] = '\0';
	for (const char *const *f = pv_inventory_export_formats(); *f; f++) {
		if (strcmp(*f, format) == 0)
			return CLI_EXIT_OK;
		if (len < sizeof(names))
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
						len ? ", " : "", *f);
	}
	return cli_usage_error("'%s' is not an export format (%s)", format, names);
}

static int cmd_export(const char *path, int argc, char **argv, const struct cli_context *ctx)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "dhcp-range", required_argument, NULL, OPT_DHCP_RANGE },
		{ "proxy", required_argument, NULL, OPT_PROXY },
		{ "subnet", required_argument, NULL, OPT_PROXY },
		{ "tftp-server", required_argument, NULL, OPT_TFTP_SERVER },
		{ "gateway", required_argument, NULL, OPT_GATEWAY },
		{ "prefix-len", required_argument, NULL, OPT_PREFIX_LEN },
		{ "nfs-clients", required_argument, NULL, OPT_NFS_CLIENTS },
		{ "create-nfs-roots", no_argument, NULL, OPT_CREATE_NFS_ROOTS },
		{ "interface", required_argument, NULL, OPT_INTERFACE },
		{ "domain", required_argument, NULL, OPT_DOMAIN },
		{ "namespace", required_argument, NULL, OPT_NAMESPACE },
		{ "tftp-root", required_argument, NULL, OPT_TFTP_ROOT },
		{ "nfs-root", required_argument, NULL, OPT_NFS_ROOT },
		{ "nfs-server", required_argument, NULL, OPT_NFS_SERVER },
		{ "nfs-options", required_argument, NULL, OPT_NFS_OPTIONS },
		{ "template", required_argument, NULL, OPT_TEMPLATE },
		{ "copy", no_argument, NULL, OPT_COPY },
		{ "prune", no_argument, NULL, OPT_PRUNE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pv_export_opts opts;
	struct pv_inventory inv;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX);
	const char *output = NULL, *format;
	int opt, rc, status = CLI_EXIT_OK;

	pv_export_opts_init(&opts);
	/* "--root DIR" (a global option) has long meant the TFTP root here; only as typed:
	 * $PIPROV_ROOT names a board's root, not a TFTP server's. */
	if (ctx->root_from_option)
		opts.tftp_root = ctx->root;
	while ((opt = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
		switch (opt) {
		case 'o': output = optarg; break;
		case OPT_DHCP_RANGE: opts.dhcp_range = optarg; break;
		case OPT_PROXY: opts.proxy_network = optarg; break;
		case OPT_INTERFACE: opts.interface = optarg; break;
		case OPT_DOMAIN: opts.domain = optarg; break;
		case OPT_NAMESPACE: opts.namespace_ = optarg; break;
		case OPT_TFTP_ROOT: opts.tftp_root = optarg; break;
		case OPT_NFS_ROOT: opts.nfs_root = optarg; break;
		case OPT_NFS_OPTIONS: opts.nfs_options = optarg; break;
		case OPT_NFS_SERVER:
		case OPT_TFTP_SERVER:
		case OPT_GATEWAY: {
			uint32_t *addr = opt == OPT_NFS_SERVER	? &opts.server_ip
					 : opt == OPT_TFTP_SERVER ? &opts.tftp_server
								  : &opts.gateway;

			if (pv_ipv4_parse(optarg, addr))
				return cli_usage_error("--%s: '%s' is not an IPv4 address",
						       opt == OPT_NFS_SERVER	? "nfs-server"
						       : opt == OPT_TFTP_SERVER ? "tftp-server"
										: "gateway",
						       optarg);
			*(opt == OPT_NFS_SERVER	   ? &opts.has_server_ip
			  : opt == OPT_TFTP_SERVER ? &opts.has_tftp_server
						   : &opts.has_gateway) = true;
			break;
		}
		case OPT_PREFIX_LEN: {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);

			if (end == optarg || *end || n < 1 || n > 30)
				return cli_usage_error("--prefix-len: '%s' is not 1..30", optarg);
			opts.prefix_len = (unsigned)n;
			break;
		}
		case OPT_NFS_CLIENTS:
			if (strcmp(optarg, "ip") == 0)
				opts.nfs_clients = PV_NFS_CLIENTS_IP;
			else if (strcmp(optarg, "subnet") == 0)
				opts.nfs_clients = PV_NFS_CLIENTS_SUBNET;
			else
				return cli_usage_error("--nfs-clients: '%s' is neither 'ip' nor "
						       "'subnet'", optarg);
			break;
		case OPT_CREATE_NFS_ROOTS: opts.create_nfs_roots = true; break;
		case OPT_TEMPLATE: opts.template_dir = optarg; break;
		case OPT_COPY: opts.copy = true; break;
		case OPT_PRUNE: opts.prune = true; break;
		case 'h': usage(stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint();
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("one FORMAT expected");
	format = argv[optind];
	if ((rc = check_format(format)))
		return rc;
	if (ctx->json && strcmp(format, "tftp") != 0)
		return cli_usage_error("--json goes with 'export tftp' (its summary); 'export json' "
				       "writes the inventory as JSON");
	if ((rc = inventory_missing(path)))
		return rc;
	rc = pv_inventory_load(path, &inv);
	if (rc)
		return cli_fail(rc);
	if (strcmp(format, "tftp") == 0) {
		struct pv_tftp_report rep;

		rc = pv_export_tftp(&inv, &opts, &rep);
		if (rc)
			status = cli_fail(rc);
		else if (ctx->json)
			status = cli_print_json(json_pack(
				"{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i}", "format", "tftp", "root",
				opts.tftp_root, "boards", (int)rep.boards, "created",
				(int)rep.created, "updated", (int)rep.updated, "foreign_kept",
				(int)rep.kept, "pruned", (int)rep.pruned, "without_folder",
				(int)rep.skipped));
		else
			printf("tftp: %u boards, %u created, %u updated, %u foreign kept, %u pruned, "
			       "%u without a folder name, %u without an NFS export, %u NFS roots "
			       "missing, %u created\n", rep.boards, rep.created, rep.updated,
			       rep.kept, rep.pruned, rep.skipped, rep.no_nfs, rep.nfs_missing,
			       rep.nfs_created);
		goto out_release;
	}
	rc = pv_inventory_export(format, &inv, &opts, &out);
	if (rc)
		status = cli_fail(rc);
	else if (output && strcmp(output, "-") != 0)
		status = (rc = pv_file_write_atomic_flags(output, out.data ? out.data
									   : (const unsigned char *)"",
							   out.len, 0644, PV_FILE_STREAMS))
				 ? cli_fail(rc) : CLI_EXIT_OK;
	else if (out.len)
		fwrite(out.data, 1, out.len, stdout); /* checked at exit (cli_finish_stdout) */
out_release:
	pv_buf_release(&out);
	pv_inventory_release(&inv);
	return status;
}

void cmd_inventory_usage(FILE *out)
{
	usage(out);
}

/* The file: --inventory FILE, else $PIPROV_INVENTORY (both in ctx), else the default. */
static const char *inventory_of(const struct cli_context *ctx)
{
	return pv_inventory_path(ctx->inventory);
}

static int inv_add(int argc, char **argv, struct cli_context *ctx)
{
	return cmd_add(inventory_of(ctx), argc, argv);
}

static int inv_set(int argc, char **argv, struct cli_context *ctx)
{
	return cmd_set(inventory_of(ctx), argc, argv);
}

static int inv_rm(int argc, char **argv, struct cli_context *ctx)
{
	return cmd_rm(inventory_of(ctx), argc, argv);
}

static int inv_show(int argc, char **argv, struct cli_context *ctx)
{
	return cmd_show_list(inventory_of(ctx), argc, argv, false, ctx);
}

static int inv_list(int argc, char **argv, struct cli_context *ctx)
{
	return cmd_show_list(inventory_of(ctx), argc, argv, true, ctx);
}

static int inv_import(int argc, char **argv, struct cli_context *ctx)
{
	return cmd_import(inventory_of(ctx), argc, argv, ctx);
}

static int inv_export(int argc, char **argv, struct cli_context *ctx)
{
	return cmd_export(inventory_of(ctx), argc, argv, ctx);
}

const struct cli_command cli_inventory_commands[] = {
	{ "add", inv_add, "add or update a board" },
	{ "set", inv_set, "change fields of a board" },
	{ "rm", inv_rm, "remove a board" },
	{ "show", inv_show, "one board", CLI_JSON },
	{ "list", inv_list, "every board", CLI_JSON },
	{ "import", inv_import, "records from UART logs, rpiboot metadata, CSV, node reports",
	  CLI_JSON },
	{ "export", inv_export, "dnsmasq, ethers, hosts, ..., TFTP folders", CLI_JSON },
	{ NULL, NULL, NULL },
};
