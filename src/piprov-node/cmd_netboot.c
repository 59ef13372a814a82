/* piprov-node netboot: switch this board's bootloader to network boot, the way
 * rpi-eeprom-update applies a config (staged for the next boot, or at once with flashrom). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "piprov/fileio.h"
#include "piprov/text.h"
#include "node_cli.h"
#include "banned.h"

#define BOOT_MODE_RPIBOOT 3
#define MAX_SETTINGS 64

static bool confirm(const char *question)
{
	char answer[16];

	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (!fgets(answer, sizeof(answer), stdin))
		return false;
	return answer[0] == 'y' || answer[0] == 'Y';
}

/* Pi 3 family: network/USB boot is OTP bit 29 of row 17, set once by booting with
 * program_usb_boot_mode=1 in config.txt. */
static int netboot_otp(struct node_context *ctx, const struct pv_node_identity *id, bool dry_run)
{
	struct pv_node_update_defaults d;
	struct pv_buf config = PV_BUF_INIT(1 << 20);
	char bootfs[256], path[300];
	int rc;

	if (pv_node_identity_otp_boot_enabled(id)) {
		printf("network/USB boot is already enabled in OTP (row 17 = %08x); nothing to do\n",
		       id->otp_boot_row);
		return NODE_EXIT_OK;
	}
	if (!id->has_otp_boot_row)
		node_warn("cannot read OTP row 17 (no firmware mailbox); assuming it is not set");
	if ((rc = pv_node_update_defaults_read(&ctx->root, &d)) ||
	    (rc = pv_node_find_bootfs(&ctx->root, &d, bootfs, sizeof(bootfs))))
		return node_fail(rc);
	snprintf(path, sizeof(path), "%s/config.txt", bootfs);
	if ((rc = pv_node_root_read(&ctx->root, path, 1 << 20, &config))) {
		pv_buf_release(&config);
		return node_fail(rc);
	}
	if (strstr(pv_buf_str(&config), "program_usb_boot_mode=1")) {
		printf("'/%s' already has program_usb_boot_mode=1: reboot once to program the OTP\n",
		       path);
		pv_buf_release(&config);
		return NODE_EXIT_OK;
	}
	printf("+program_usb_boot_mode=1 (in '/%s'; the next boot sets the OTP bit, which "
	       "cannot be undone)\n", path);
	if (dry_run) {
		pv_buf_release(&config);
		return NODE_EXIT_OK;
	}
	if (config.len && config.data[config.len - 1] != '\n')
		pv_buf_putc(&config, '\n');
	pv_buf_append_str(&config, "program_usb_boot_mode=1\n");
	rc = pv_node_write_file(&ctx->root, bootfs, "config.txt", config.data, config.len, NULL);
	pv_buf_release(&config);
	if (rc)
		return node_fail(rc);
	node_info(ctx, "reboot once, then remove the line again");
	return NODE_EXIT_OK;
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

/* flashrom over spidev; returns 1 when flashrom cannot be used (fall back to staging). */
static int flash_now(struct node_context *ctx, const struct pv_node_netboot_plan *plan,
		     const char *programmer, const char *flashrom)
{
	char template[256], tmp[] = "/tmp/piprov-node-pieeprom-XXXXXX";
	struct pv_node_flashrom fr;
	int fd, rc;

	if (!programmer) {
		if (!plan->soc->spidev || !pv_node_root_exists(&ctx->root, plan->soc->spidev)) {
			node_warn("'%s' is missing (SPI not enabled?): staging the update instead",
				  plan->soc->spidev ? plan->soc->spidev : "spidev");
			return 1;
		}
		snprintf(template, sizeof(template), "linux_spi:dev=%s,spispeed={speed}",
			 plan->soc->spidev);
		programmer = template;
	}
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
		"         [--flashrom PROGRAM]\n");
}

int cmd_netboot(int argc, char **argv, struct node_context *ctx)
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
	struct pv_node_netboot_request req;
	struct pv_node_netboot_plan plan;
	struct pv_node_identity id;
	const char *settings[MAX_SETTINGS];
	const char *output = NULL, *programmer = NULL, *flashrom = NULL;
	bool dry_run = false, now = false, staged = false, yes = false, order_given = false;
	char backup[600];
	int c, rc = NODE_EXIT_FAILURE;

	memset(&req, 0, sizeof(req));
	req.network_first = true;
	while ((c = getopt_long(argc, argv, "FBnNyfh", options, NULL)) != -1) {
		switch (c) {
		case 'F': req.network_first = true; order_given = true; break;
		case 'B': req.network_first = false; order_given = true; break;
		case OPT_TFTP_PREFIX: req.tftp_prefix = optarg; break;
		case OPT_TFTP_IP: req.tftp_ip = optarg; break;
		case OPT_PRESET: req.preset = optarg; break;
		case OPT_KEY: req.private_key = optarg; break;
		case OPT_IMAGE: req.image = optarg; break;
		case OPT_OUTPUT: output = optarg; break;
		case OPT_PROGRAMMER: programmer = optarg; break;
		case OPT_FLASHROM: flashrom = optarg; break;
		case 'n': dry_run = true; break;
		case 'N': now = true; break;
		case OPT_STAGED: staged = true; break;
		case 'y': yes = true; break;
		case 'f': req.force = true; break;
		case 'h': usage(stdout); return NODE_EXIT_OK;
		default: return node_usage_hint();
		}
	}
	if (now && staged)
		return node_usage_error("--now and --staged exclude each other");
	if (req.preset && order_given)
		return node_usage_error("--preset sets BOOT_ORDER; do not combine it with "
					"--first/--fallback");
	if (output && !dry_run)
		return node_usage_error("--output only goes with --dry-run");
	if (argc - optind > MAX_SETTINGS)
		return node_usage_error("too many KEY=VALUE settings");
	for (int i = optind; i < argc; i++) {
		char key[64];
		const char *v;
		if (pv_node_setting_parse(argv[i], key, sizeof(key), &v))
			return node_usage_error("%s", pv_last_error());
		if (strcmp(key, "BOOT_ORDER") == 0)
			req.keep_order = true; /* the user's own order wins */
		settings[req.nsettings++] = argv[i];
	}
	req.settings = settings;
	if (node_read_identity(ctx, &id))
		return NODE_EXIT_FAILURE;
	if (!pv_node_identity_has_eeprom(&id) && id.revision_decoded) {
		rc = netboot_otp(ctx, &id, dry_run);
		pv_node_identity_release(&id);
		return rc;
	}
	req.now = (int64_t)time(NULL);
	pv_node_netboot_plan_init(&plan);
	if ((rc = pv_node_netboot_prepare(&ctx->root, &id, &req, &plan))) {
		rc = node_fail(rc);
		goto out;
	}
	for (const char *w = pv_buf_str(&plan.warnings); *w;) {
		size_t n = strcspn(w, "\n");
		node_warn("%.*s", (int)n, w);
		w += n + (w[n] == '\n');
	}
	fwrite(pv_buf_str(&plan.diff), 1, plan.diff.len, stdout);
	printf("image: %s%s\n", req.image || plan.image_path[0] == '/' ? "" : "/", plan.image_path);
	if (!plan.changed) {
		printf("the bootloader config is already as requested; nothing to do\n");
		rc = NODE_EXIT_OK;
		goto out;
	}
	if (dry_run) {
		printf("dry run: nothing written%s%s\n", output ? "; image and .sig in " : "",
		       output ? output : "");
		rc = output && write_outputs(output, &plan) ? node_fail(PV_ERR_IO) : NODE_EXIT_OK;
		goto out;
	}
	if (!yes && isatty(STDIN_FILENO) && !confirm("Apply this bootloader config?")) {
		rc = node_error("not confirmed; nothing written");
		goto out;
	}
	if ((rc = pv_node_backup_config(&ctx->root, &plan, req.now, backup, sizeof(backup)))) {
		rc = node_fail(rc);
		goto out;
	}
	node_info(ctx, "previous config saved as '%s%s'", backup[0] == '/' ? "" : "/", backup);
	if (now || (plan.immediate_default && !staged)) {
		rc = flash_now(ctx, &plan, programmer, flashrom);
		if (rc <= 0) {
			rc = rc ? NODE_EXIT_FAILURE : NODE_EXIT_OK;
			goto out;
		}
	}
	if ((id.bootloader.present & PV_NODE_BL_BOOT_MODE) &&
	    id.bootloader.boot_mode == BOOT_MODE_RPIBOOT && !req.force) {
		rc = node_error("this board booted over USB (rpiboot): it cannot run recovery.bin "
				"from a boot partition; use 'piprov usb flash' or --force");
		goto out;
	}
	if ((rc = pv_node_netboot_stage(&ctx->root, &plan, NULL, NULL))) {
		rc = node_fail(rc);
		goto out;
	}
	printf("staged pieeprom.upd, pieeprom.sig and recovery.bin in '/%s': reboot to apply\n",
	       plan.bootfs);
	rc = NODE_EXIT_OK;
out:
	pv_node_netboot_plan_release(&plan);
	pv_node_identity_release(&id);
	return rc;
}
