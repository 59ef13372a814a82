/* piprov-node netboot: switch this board to network boot the way its family does it
 * (pv_node_netboot_route): the bootloader config in the EEPROM, staged for the next boot or
 * written at once with flashrom (as rpi-eeprom-update); the OTP bit on a Pi 3B; nothing on a
 * Pi 3B+, whose ROM network-boots as shipped. A dry run checks everything the real run would
 * check and says what it would do. --json: one object on stdout (docs/node.md). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "piprov/fileio.h"
#include "piprov/text.h"
#include "node_cli.h"
#include "banned.h"

#define MAX_SETTINGS 64

static const char *const route_names[] = {
	[PV_NODE_NETBOOT_NONE] = "none",
	[PV_NODE_NETBOOT_EEPROM] = "eeprom",
	[PV_NODE_NETBOOT_IN_ROM] = "rom",
	[PV_NODE_NETBOOT_OTP] = "otp",
};

/* What the command prints: lines on stdout as it goes, or (--json) one object at the end. */
struct report {
	const struct node_context *ctx;
	json_t *json;
};

static void say(const struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

static void put_str(const struct report *r, const char *key, const char *value)
{
	if (r->json)
		json_object_set_new(r->json, key, value ? json_string(value) : json_null());
}

static void put_bool(const struct report *r, const char *key, bool value)
{
	if (r->json)
		json_object_set_new(r->json, key, json_boolean(value));
}

/* "/path" for a root-relative path, as the user sees it on the board. */
static void put_path(const struct report *r, const char *key, const char *path)
{
	char shown[600];

	snprintf(shown, sizeof(shown), "%s%s", path[0] == '/' ? "" : "/", path);
	put_str(r, key, path[0] ? shown : NULL);
}

static bool confirm(const char *question)
{
	char answer[16];

	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (!fgets(answer, sizeof(answer), stdin))
		return false;
	return answer[0] == 'y' || answer[0] == 'Y';
}

/* Pi 3B family: network/USB boot is OTP bit 29 of row 17, set once by booting with
 * program_usb_boot_mode=1 in config.txt. */
static int netboot_otp(struct node_context *ctx, const struct report *r,
		       const struct pv_node_identity *id, bool dry_run)
{
	struct pv_node_otp_plan plan;
	char row[16];
	int rc;

	pv_node_otp_plan_init(&plan);
	if (!id->has_otp_boot_row)
		node_warn("cannot read OTP row 17 (no firmware mailbox); assuming it is not set");
	if ((rc = pv_node_otp_prepare(&ctx->root, id, &plan))) {
		rc = node_fail(rc);
		goto out;
	}
	snprintf(row, sizeof(row), "%08x", id->otp_boot_row);
	put_str(r, "otp_row17", id->has_otp_boot_row ? row : NULL);
	put_path(r, "config_txt", plan.config_path);
	put_str(r, "action", plan.enabled || plan.requested ? "none" : "otp");
	put_bool(r, "applied", !dry_run && !plan.enabled && !plan.requested);
	if (plan.enabled) {
		say(r, "network/USB boot is already enabled in OTP (row 17 = %s); nothing to do", row);
	} else if (plan.requested) {
		say(r, "'/%s' already has program_usb_boot_mode=1: reboot once to program the OTP",
		    plan.config_path);
	} else {
		say(r, "+program_usb_boot_mode=1 (in '/%s'; the next boot sets the OTP bit, which "
		    "cannot be undone)", plan.config_path);
		if (dry_run) {
			say(r, "dry run: nothing written; a real run adds the line to '/%s'",
			    plan.config_path);
		} else if ((rc = pv_node_otp_apply(&ctx->root, &plan))) {
			rc = node_fail(rc);
			goto out;
		} else {
			node_info(ctx, "reboot once, then remove the line again");
		}
	}
	rc = NODE_EXIT_OK;
out:
	pv_node_otp_plan_release(&plan);
	return rc;
}

static int write_outputs(const char *dir, const struct pv_node_netboot_plan *plan)
{
	char path[1024];
	int rc;

	snprintf(path, sizeof(path), "%s/pieeprom.upd", dir);
	if ((rc = pv_file_write_atomic(path, plan->image.data, plan->image.len, 0644)))
		return rc;
	snprintf(path, sizeof(path), "%s/pieeprom.sig", dir);
	return pv_file_write_atomic(path, plan->sig.data, plan->sig.len, 0644);
}

/* The flashrom programmer for this board into out; false (with a warning) when the SPI
 * device is missing, and the update is staged instead. */
static bool flash_programmer(struct node_context *ctx, const struct pv_node_netboot_plan *plan,
			     const char *programmer, char *out, size_t size)
{
	if (programmer) {
		pv_strlcpy(out, programmer, size);
		return true;
	}
	if (!plan->soc->spidev || !pv_node_root_exists(&ctx->root, plan->soc->spidev)) {
		node_warn("'%s' is missing (SPI not enabled?): staging the update instead",
			  plan->soc->spidev ? plan->soc->spidev : "spidev");
		return false;
	}
	snprintf(out, size, "linux_spi:dev=%s,spispeed={speed}", plan->soc->spidev);
	return true;
}

/* flashrom over spidev; returns 1 when flashrom cannot be used (fall back to staging). */
static int flash_now(struct node_context *ctx, const struct pv_node_netboot_plan *plan,
		     const char *programmer, const char *flashrom)
{
	char tmp[] = "/tmp/piprov-node-pieeprom-XXXXXX";
	struct pv_node_flashrom fr;
	int fd, rc;

	fd = mkstemp(tmp);
	if (fd < 0)
		return node_error("cannot create '%s': %s", tmp, strerror(errno));
	rc = pv_write_all(fd, plan->image.data, plan->image.len);
	close(fd);
	if (rc) {
		unlink(tmp);
		return node_fail(rc);
	}
	memset(&fr, 0, sizeof(fr));
	fr.flashrom = flashrom;
	fr.programmer = programmer;
	rc = pv_node_flashrom_update(&fr, tmp, plan->image.len);
	unlink(tmp);
	if (rc == PV_ERR_NO_DEVICE || rc == PV_ERR_UNSUPPORTED || rc == PV_ERR_NOT_FOUND) {
		node_warn("%s: staging the update instead", pv_last_error());
		return 1;
	}
	if (rc)
		return node_fail(rc);
	node_info(ctx, "bootloader EEPROM written and verified; the new config is used from the "
		       "next boot");
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: piprov-node netboot [--first|--fallback] [--preset NAME]\n"
		"         [--tftp-prefix serial|mac|STRING] [--tftp-ip IP] [KEY=VALUE...]\n"
		"         [--dry-run [--output DIR]] [--now|--staged] [--yes] [--force]\n"
		"         [--key PRIVATE.pem] [--image PIEEPROM.bin] [--programmer STRING]\n"
		"         [--flashrom PROGRAM]\n"
		"A Pi 4/5 gets a bootloader config with network boot; a Pi 3B the OTP bit (once,\n"
		"irreversibly); a Pi 3B+ needs nothing. --dry-run checks all and writes nothing.\n"
		"--image: that pieeprom image, staged with the recovery.bin beside it.\n"
		"--json (global): one JSON object on stdout.\n");
}

struct netboot_options {
	struct pv_node_netboot_request req;
	const char *settings[MAX_SETTINGS];
	const char *output, *programmer, *flashrom;
	bool dry_run, now, staged, yes;
};

/* Parse and check the command line: every usage error before the board is read. */
static int parse_options(int argc, char **argv, struct netboot_options *o, bool *help)
{
	enum { OPT_TFTP_PREFIX = 256, OPT_TFTP_IP, OPT_PRESET, OPT_KEY, OPT_IMAGE, OPT_OUTPUT,
	       OPT_PROGRAMMER, OPT_FLASHROM, OPT_STAGED };
	static const struct option options[] = {
		{ "first", no_argument, NULL, 'F' },
		{ "fallback", no_argument, NULL, 'B' },
		{ "tftp-prefix", required_argument, NULL, OPT_TFTP_PREFIX },
		{ "tftp-ip", required_argument, NULL, OPT_TFTP_IP },
		{ "preset", required_argument, NULL, OPT_PRESET },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "programmer", required_argument, NULL, OPT_PROGRAMMER },
		{ "flashrom", required_argument, NULL, OPT_FLASHROM },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "now", no_argument, NULL, 'N' },
		{ "staged", no_argument, NULL, OPT_STAGED },
		{ "yes", no_argument, NULL, 'y' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pv_node_netboot_request *req = &o->req;
	bool order_given = false;
	uint32_t ip;
	int c;

	memset(o, 0, sizeof(*o));
	req->network_first = true;
	while ((c = getopt_long(argc, argv, "FBnNyfh", options, NULL)) != -1) {
		switch (c) {
		case 'F': req->network_first = true; order_given = true; break;
		case 'B': req->network_first = false; order_given = true; break;
		case OPT_TFTP_PREFIX: req->tftp_prefix = optarg; break;
		case OPT_TFTP_IP: req->tftp_ip = optarg; break;
		case OPT_PRESET: req->preset = optarg; break;
		case OPT_KEY: req->private_key = optarg; break;
		case OPT_IMAGE: req->image = optarg; break;
		case OPT_OUTPUT: o->output = optarg; break;
		case OPT_PROGRAMMER: o->programmer = optarg; break;
		case OPT_FLASHROM: o->flashrom = optarg; break;
		case 'n': o->dry_run = true; break;
		case 'N': o->now = true; break;
		case OPT_STAGED: o->staged = true; break;
		case 'y': o->yes = true; break;
		case 'f': req->force = true; break;
		case 'h': *help = true; return NODE_EXIT_OK;
		default: return node_usage_hint();
		}
	}
	if (o->now && o->staged)
		return node_usage_error("--now and --staged exclude each other");
	if (req->preset && order_given)
		return node_usage_error("--preset sets BOOT_ORDER; do not combine it with "
					"--first/--fallback");
	if (o->output && !o->dry_run)
		return node_usage_error("--output only goes with --dry-run");
	if (req->tftp_ip && pv_ipv4_parse(req->tftp_ip, &ip))
		return node_usage_error("--tftp-ip '%s' is not an IPv4 address", req->tftp_ip);
	if (argc - optind > MAX_SETTINGS)
		return node_usage_error("too many KEY=VALUE settings");
	for (int i = optind; i < argc; i++) {
		char key[64];
		const char *v;
		if (pv_node_setting_parse(argv[i], key, sizeof(key), &v))
			return node_usage_error("%s", pv_last_error());
		if (strcmp(key, "BOOT_ORDER") == 0)
			req->keep_order = true; /* the user's own order wins */
		o->settings[req->nsettings++] = argv[i];
	}
	req->settings = o->settings;
	return NODE_EXIT_OK;
}

/* Pi 4/5 family: the bootloader config. */
static int netboot_eeprom(struct node_context *ctx, const struct report *r,
			  const struct pv_node_identity *id, struct netboot_options *o)
{
	struct pv_node_netboot_request *req = &o->req;
	struct pv_node_netboot_plan plan;
	char backup[600], programmer[300], shown[600];
	bool flash;
	json_t *warnings = r->json ? json_array() : NULL;
	int rc;

	req->now = (int64_t)time(NULL);
	pv_node_netboot_plan_init(&plan);
	if ((rc = pv_node_netboot_prepare(&ctx->root, id, req, &plan))) {
		rc = node_fail(rc);
		goto out;
	}
	for (const char *w = pv_buf_str(&plan.warnings); *w;) {
		size_t n = strcspn(w, "\n");
		node_warn("%.*s", (int)n, w);
		if (warnings)
			json_array_append_new(warnings, json_stringn(w, n));
		w += n + (w[n] == '\n');
	}
	if (r->json) {
		json_object_set_new(r->json, "warnings", warnings);
		warnings = NULL;
	}
	snprintf(shown, sizeof(shown), "%s%s", req->image || plan.image_path[0] == '/' ? "" : "/",
		 plan.image_path);
	put_bool(r, "changed", plan.changed);
	put_str(r, "diff", pv_buf_str(&plan.diff));
	put_str(r, "config", pv_buf_str(&plan.new_config));
	put_str(r, "image", shown);
	if (plan.recovery_beside_image)
		put_str(r, "recovery", plan.recovery_path);
	else
		put_path(r, "recovery", plan.recovery_path);
	if (!r->json)
		fwrite(pv_buf_str(&plan.diff), 1, plan.diff.len, stdout);
	say(r, "image: %s", shown);
	if (!plan.changed) {
		put_str(r, "action", "none");
		put_bool(r, "applied", false);
		say(r, "the bootloader config is already as requested; nothing to do");
		rc = NODE_EXIT_OK;
		goto out;
	}
	/* Decide, then check, everything the real run needs before anything is written: a dry
	 * run fails where the real run would. */
	flash = (o->now || (plan.immediate_default && !o->staged)) &&
		flash_programmer(ctx, &plan, o->programmer, programmer, sizeof(programmer));
	if ((rc = pv_node_netboot_check(&ctx->root, id, &plan, !flash, req->force))) {
		rc = node_fail(rc);
		goto out;
	}
	if (flash && pv_node_netboot_check(&ctx->root, id, &plan, true, req->force)) {
		node_warn("if flashrom cannot be used the update is staged, which would fail: %s",
			  pv_last_error());
		pv_clear_error();
	}
	put_str(r, "action", flash ? "flash" : "stage");
	put_path(r, "bootfs", plan.bootfs);
	if (o->dry_run) {
		put_bool(r, "applied", false);
		put_str(r, "output", o->output);
		if (flash)
			say(r, "dry run: nothing written; a real run writes the EEPROM with flashrom "
			    "(%s) and saves the running config in '%s'", programmer,
			    plan.defaults.backup_dir);
		else
			say(r, "dry run: nothing written; a real run stages pieeprom.upd, "
			    "pieeprom.sig and recovery.bin in '/%s' and saves the running config in "
			    "'%s'", plan.bootfs, plan.defaults.backup_dir);
		if (o->output)
			say(r, "image and .sig in '%s'", o->output);
		rc = o->output && write_outputs(o->output, &plan) ? node_fail(PV_ERR_IO)
								 : NODE_EXIT_OK;
		goto out;
	}
	if (!o->yes && isatty(STDIN_FILENO) && !confirm("Apply this bootloader config?")) {
		rc = node_error("not confirmed; nothing written");
		goto out;
	}
	if ((rc = pv_node_backup_config(&ctx->root, &plan, req->now, backup, sizeof(backup)))) {
		rc = node_fail(rc);
		goto out;
	}
	put_path(r, "backup", backup);
	node_info(ctx, "previous config saved as '%s%s'", backup[0] == '/' ? "" : "/", backup);
	if (flash) {
		rc = flash_now(ctx, &plan, programmer, o->flashrom);
		if (rc <= 0) {
			put_bool(r, "applied", rc == 0);
			rc = rc ? NODE_EXIT_FAILURE : NODE_EXIT_OK;
			goto out;
		}
		put_str(r, "action", "stage");
		/* Staging instead: its conditions again, the board's boot mode among them. */
		if ((rc = pv_node_netboot_check(&ctx->root, id, &plan, true, req->force))) {
			rc = node_fail(rc);
			goto out;
		}
	}
	if ((rc = pv_node_netboot_stage(&ctx->root, &plan, NULL, NULL))) {
		rc = node_fail(rc);
		goto out;
	}
	put_bool(r, "applied", true);
	say(r, "staged pieeprom.upd, pieeprom.sig and recovery.bin in '/%s': reboot to apply",
	    plan.bootfs);
	rc = NODE_EXIT_OK;
out:
	json_decref(warnings);
	pv_node_netboot_plan_release(&plan);
	return rc;
}

int cmd_netboot(int argc, char **argv, struct node_context *ctx)
{
	struct netboot_options o;
	struct pv_node_identity id;
	struct report r = { .ctx = ctx };
	enum pv_node_netboot_route route;
	bool help = false;
	int rc;

	if ((rc = parse_options(argc, argv, &o, &help)) || help) {
		if (help)
			usage(stdout);
		return rc;
	}
	if (node_read_identity(ctx, &id))
		return NODE_EXIT_FAILURE;
	if (ctx->json && !(r.json = json_object())) {
		rc = node_error("out of memory");
		goto out;
	}
	route = pv_node_netboot_route(&id);
	put_str(&r, "board", id.model[0] ? id.model : NULL);
	put_str(&r, "route", route_names[route]);
	put_bool(&r, "dry_run", o.dry_run);
	switch (route) {
	case PV_NODE_NETBOOT_OTP:
		rc = netboot_otp(ctx, &r, &id, o.dry_run);
		break;
	case PV_NODE_NETBOOT_IN_ROM:
		if (o.req.nsettings || o.req.tftp_prefix || o.req.tftp_ip || o.req.preset)
			node_warn("--preset, --tftp-* and KEY=VALUE are bootloader EEPROM settings; "
				  "this board has none");
		put_str(&r, "action", "none");
		put_bool(&r, "applied", false);
		say(&r, "%s: its boot ROM network-boots as shipped (no EEPROM, no OTP bit to set); "
		    "nothing to do", id.model[0] ? id.model : "this board");
		rc = NODE_EXIT_OK;
		break;
	case PV_NODE_NETBOOT_NONE:
		if (id.revision_decoded) {
			rc = node_error("%s cannot boot from the network: it has no Ethernet port of "
					"its own or a boot ROM without network boot (Pi 2B v1.2, "
					"3B, 3B+ and the Pi 4/5 family can)",
					id.model[0] ? id.model : "this board");
			break;
		}
		/* Unknown board: the EEPROM path names what is missing. */
		/* fall through */
	case PV_NODE_NETBOOT_EEPROM:
		rc = netboot_eeprom(ctx, &r, &id, &o);
		break;
	}
	if (rc == NODE_EXIT_OK && r.json)
		rc = node_print_json(r.json);
out:
	json_decref(r.json);
	pv_node_identity_release(&id);
	return rc;
}
