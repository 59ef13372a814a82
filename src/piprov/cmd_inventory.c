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
		default: status = CLI_EXIT_USAGE; goto out_release;
		}
		if (rc) {
			status = cli_fail(rc);
			goto out_release;
		}
	}
	if (rec.serial_digits == 0) {
		status = cli_usage_error("inventory add: --serial is required");
		goto out_release;
	}
	for (int i = optind; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq) {
			status = cli_usage_error("inventory add: '%s' is not KEY=VALUE", argv[i]);
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

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	return false;
}

static int cmd_set(const char *path, int argc, char **argv)
{
	struct set_call call;
	int rc;

	if (wants_help(argc, argv)) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (argc < 3)
		return cli_usage_error("inventory set: BOARD KEY=VALUE... expected");
	call.board = argv[1];
	call.assignments = argv + 2;
	call.count = (size_t)argc - 2;
	rc = pv_inventory_update(path, set_edit, &call);
	if (rc)
		return cli_fail(rc);
	return CLI_EXIT_OK;
}

static int cmd_rm(const char *path, int argc, char **argv)
{
	int rc;

	if (argc != 2)
		return cli_usage_error("inventory rm: one BOARD expected");
	rc = pv_inventory_update(path, rm_edit, argv[1]);
	if (rc == PV_ERR_NOT_FOUND && !pv_path_exists(path))
		return cli_error("no inventory '%s'", path);
	if (rc == PV_ERR_NOT_FOUND)
		return cli_error("no board '%s' in '%s'", argv[1], path);
	return rc ? cli_fail(rc) : CLI_EXIT_OK;
}

static int print_json(json_t *value)
{
	char *text;

	if (!value)
		return cli_error("out of memory");
	text = json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(value);
	if (!text)
		return cli_error("out of memory");
	puts(text);
	free(text);
	return CLI_EXIT_OK;
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

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return CLI_EXIT_OK;
		} else if (!list && !board)
			board = argv[i];
		else
			return cli_usage_error("inventory %s: unexpected '%s'", argv[0], argv[i]);
	}
	if (!list && !board)
		return cli_usage_error("inventory show: BOARD expected");
	rc = pv_inventory_load(path, &inv);
	if (rc)
		return cli_fail(rc);
	if (!list) {
		struct pv_inventory_record *rec = pv_inventory_lookup(&inv, board);
		if (!rec)
			status = cli_error("no board '%s' in '%s'", board, path);
		else if (json)
			status = print_json(pv_export_record_json(rec));
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

static void import_merged(void *user, const struct pv_inventory_report *report)
{
	(void)user;
	print_conflicts(report);
}

static int cmd_import(const char *path, int argc, char **argv)
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
		default: return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error("inventory import: FILE or DIR expected");
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
	printf("imported %zu records: %zu new boards, %zu updated, %zu conflicts\n", batch.count,
	       summary.created, summary.updated, summary.conflicts);
	status = CLI_EXIT_OK;
out_release:
	pv_import_batch_release(&batch);
	return status;
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
		default: return CLI_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("inventory export: one FORMAT expected");
	format = argv[optind];
	rc = pv_inventory_load(path, &inv);
	if (rc)
		return cli_fail(rc);
	if (strcmp(format, "tftp") == 0) {
		struct pv_tftp_report rep;

		rc = pv_export_tftp(&inv, &opts, &rep);
		if (rc)
			status = cli_fail(rc);
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
	else if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
		status = cli_error("cannot write to standard output");
out_release:
	pv_buf_release(&out);
	pv_inventory_release(&inv);
	return status;
}

int cmd_inventory(int argc, char **argv, struct cli_context *ctx)
{
	/* --inventory FILE is a global option (ctx->inventory, also $PIPROV_INVENTORY). */
	const char *explicit_path = ctx->inventory;
	int first = 1;

	while (first < argc && argv[first][0] == '-') {
		if (strcmp(argv[first], "-f") == 0 && first + 1 < argc) {
			explicit_path = argv[first + 1];
			first += 2;
		} else if (strcmp(argv[first], "-h") == 0 || strcmp(argv[first], "--help") == 0) {
			usage(stdout);
			return CLI_EXIT_OK;
		} else {
			return cli_usage_error("inventory: unknown option '%s'", argv[first]);
		}
	}
	if (first >= argc) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	{
		const char *path = pv_inventory_path(explicit_path);
		const char *sub = argv[first];
		int sub_argc = argc - first;
		char **sub_argv = argv + first;

		optind = 1;
		if (strcmp(sub, "add") == 0)
			return cmd_add(path, sub_argc, sub_argv);
		if (strcmp(sub, "set") == 0)
			return cmd_set(path, sub_argc, sub_argv);
		if (strcmp(sub, "rm") == 0)
			return cmd_rm(path, sub_argc, sub_argv);
		if (strcmp(sub, "show") == 0)
			return cmd_show_list(path, sub_argc, sub_argv, false, ctx);
		if (strcmp(sub, "list") == 0)
			return cmd_show_list(path, sub_argc, sub_argv, true, ctx);
		if (strcmp(sub, "import") == 0)
			return cmd_import(path, sub_argc, sub_argv);
		if (strcmp(sub, "export") == 0)
			return cmd_export(path, sub_argc, sub_argv, ctx);
		return cli_usage_error("'%s' is not an inventory command", sub);
	}
}
