/* piprov-node provision: the unattended SD-card mode (systemd unit
 * piprov-node-provision.service). On every boot of every board the card is put in:
 *   1. if the bootloader config is not yet the wanted one, apply it (flashrom at once where
 *      that is the default, else staged for recovery.bin) and reboot so it takes effect;
 *   2. once it is, record the board in the inventory on the card, signal done (ACT LED
 *      heartbeat and a console banner) and power off.
 * One card, N boards, one inventory file to import with `piprov inventory import`.
 * Settings: piprov-provision.conf on the boot partition, KEY=VALUE lines:
 *   order=first|fallback  preset=NAME  tftp_prefix=serial|mac|STRING  tftp_ip=IP
 *   set=KEY=VALUE (repeatable)  inventory=PATH */
#include <fcntl.h>
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

#define PROVISION_CONF "piprov-provision.conf"
#define PROVISION_CONF_MAX (16 * 1024)
#define MAX_SETTINGS 32

struct provision_conf {
	char text[PROVISION_CONF_MAX + 1]; /* values point into this */
	const char *settings[MAX_SETTINGS];
	size_t nsettings;
	const char *preset, *tftp_prefix, *tftp_ip, *inventory;
	bool fallback;
};

static int parse_conf(const char *name, struct provision_conf *c)
{
	char *line = c->text;
	unsigned lineno = 0;

	while (*line) {
		char *end = line + strcspn(line, "\n"), *eq, *value;
		bool more = *end == '\n';
		lineno++;
		*end = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line && *line != '#') {
			eq = strchr(line, '=');
			if (!eq)
				return node_error("'%s': line %u: expected KEY=VALUE", name, lineno);
			*eq = '\0';
			value = eq + 1;
			value[strcspn(value, "\r")] = '\0';
			if (strcmp(line, "order") == 0 && (strcmp(value, "first") == 0 ||
							   strcmp(value, "fallback") == 0))
				c->fallback = strcmp(value, "fallback") == 0;
			else if (strcmp(line, "preset") == 0)
				c->preset = value;
			else if (strcmp(line, "tftp_prefix") == 0)
				c->tftp_prefix = value;
			else if (strcmp(line, "tftp_ip") == 0)
				c->tftp_ip = value;
			else if (strcmp(line, "inventory") == 0)
				c->inventory = value;
			else if (strcmp(line, "set") == 0 && c->nsettings < MAX_SETTINGS)
				c->settings[c->nsettings++] = value;
			else
				return node_error("'%s': line %u: unknown or bad setting '%s'", name,
						  lineno, line);
		}
		line = more ? end + 1 : end;
	}
	return 0;
}

static void signal_done(struct node_context *ctx, const struct pv_node_identity *id,
			const char *what)
{
	static const char *const leds[] = { "sys/class/leds/ACT/trigger",
					    "sys/class/leds/led0/trigger" };
	char serial[PV_SERIAL_STRLEN];

	/* The ACT LED blinking as a heartbeat says "done" to someone without a screen. */
	for (size_t i = 0; i < sizeof(leds) / sizeof(leds[0]); i++) {
		int fd = pv_node_root_openat(&ctx->root, leds[i], O_WRONLY, 0);
		if (fd >= 0) {
			if (write(fd, "heartbeat\n", 10) < 0)
				node_warn("cannot set the ACT LED trigger");
			close(fd);
			break;
		}
	}
	pv_clear_error();
	pv_serial_format(id->serial, 16, serial);
	printf("\n==================== piprov ====================\n"
	       " board %s: %s\n"
	       "================================================\n\n", serial, what);
	fflush(stdout);
}

static int power(bool reboot, bool dry)
{
	char *argv[] = { (char *)"systemctl", (char *)(reboot ? "reboot" : "poweroff"), NULL };

	if (dry) {
		printf("would run: systemctl %s\n", argv[1]);
		return NODE_EXIT_OK;
	}
	fflush(stdout);
	execvp(argv[0], argv);
	return node_error("cannot run 'systemctl %s'", argv[1]);
}

int cmd_provision(int argc, char **argv, struct node_context *ctx)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "no-poweroff", no_argument, NULL, 'n' },
		{ "programmer", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct provision_conf *conf = calloc(1, sizeof(*conf));
	struct pv_node_netboot_request req;
	struct pv_node_netboot_plan plan;
	struct pv_node_identity id;
	struct pv_node_update_defaults d;
	struct pv_buf text = PV_BUF_INIT(PROVISION_CONF_MAX + 1);
	const char *conf_path = NULL, *programmer = NULL;
	char bootfs[256], path[400], backup[600], *inventory = NULL;
	bool dry = false;
	int c, rc = NODE_EXIT_FAILURE;

	if (!conf)
		return node_error("out of memory");
	while ((c = getopt_long(argc, argv, "c:nh", options, NULL)) != -1) {
		switch (c) {
		case 'c': conf_path = optarg; break;
		case 'n': dry = true; break;
		case 'p': programmer = optarg; break;
		case 'h':
			printf("usage: piprov-node provision [--config FILE] [--no-poweroff]\n");
			free(conf);
			return NODE_EXIT_OK;
		default: free(conf); return node_usage_hint();
		}
	}
	if (node_read_identity(ctx, &id)) {
		free(conf);
		return NODE_EXIT_FAILURE;
	}
	pv_node_netboot_plan_init(&plan);
	if (!conf_path) {
		if ((rc = pv_node_update_defaults_read(&ctx->root, &d)) ||
		    (rc = pv_node_find_bootfs(&ctx->root, &d, bootfs, sizeof(bootfs)))) {
			rc = node_fail(rc);
			goto out;
		}
		snprintf(path, sizeof(path), "%s/%s", bootfs, PROVISION_CONF);
		conf_path = path;
	}
	if (pv_node_root_exists(&ctx->root, conf_path) &&
	    (rc = pv_node_root_read(&ctx->root, conf_path, PROVISION_CONF_MAX, &text))) {
		rc = node_fail(rc);
		goto out;
	}
	memcpy(conf->text, pv_buf_str(&text), text.len + 1);
	if (parse_conf(conf_path, conf)) {
		rc = NODE_EXIT_FAILURE;
		goto out;
	}
	if (pv_node_identity_has_eeprom(&id)) {
		memset(&req, 0, sizeof(req));
		req.network_first = !conf->fallback;
		req.preset = conf->preset;
		req.tftp_prefix = conf->tftp_prefix;
		req.tftp_ip = conf->tftp_ip;
		req.settings = conf->settings;
		req.nsettings = conf->nsettings;
		req.now = (int64_t)time(NULL);
		for (size_t i = 0; i < conf->nsettings; i++)
			if (strncmp(conf->settings[i], "BOOT_ORDER=", 11) == 0)
				req.keep_order = true;
		if ((rc = pv_node_netboot_prepare(&ctx->root, &id, &req, &plan))) {
			rc = node_fail(rc);
			goto out;
		}
		if (plan.changed) {
			if ((rc = pv_node_backup_config(&ctx->root, &plan, req.now, backup,
							sizeof(backup)))) {
				rc = node_fail(rc);
				goto out;
			}
			if (plan.immediate_default) {
				struct pv_node_flashrom fr = { 0 };
				char tmpl[256], tmp[] = "/tmp/piprov-provision-XXXXXX";
				int fd = mkstemp(tmp);
				snprintf(tmpl, sizeof(tmpl), "linux_spi:dev=%s,spispeed={speed}",
					 plan.soc->spidev ? plan.soc->spidev : "");
				fr.programmer = programmer ? programmer : tmpl;
				rc = fd < 0 ? PV_ERR_IO : pv_write_all(fd, plan.image.data, plan.image.len);
				if (fd >= 0)
					close(fd);
				if (rc == 0)
					rc = pv_node_flashrom_update(&fr, tmp, plan.image.len);
				unlink(tmp);
			} else {
				rc = pv_node_netboot_stage(&ctx->root, &plan, NULL, NULL);
			}
			if (rc) {
				rc = node_fail(rc);
				goto out;
			}
			/* The running config changes only with the next boot, which checks it
			 * and records the board. */
			signal_done(ctx, &id, "bootloader config written; rebooting to apply it");
			rc = power(true, dry);
			goto out;
		}
	} else if (pv_node_netboot_route(&id) == PV_NODE_NETBOOT_OTP &&
		   !pv_node_identity_otp_boot_enabled(&id)) {
		node_warn("no bootloader EEPROM and network boot not known to be enabled in OTP; "
			  "recording the board only (see 'piprov-node netboot')");
	} else if (pv_node_netboot_route(&id) == PV_NODE_NETBOOT_NONE) {
		node_warn("this board cannot boot from the network; recording it only");
	}
	inventory = node_inventory_path(ctx, conf->inventory);
	if (!inventory || node_report(ctx, &id, inventory, false)) {
		rc = NODE_EXIT_FAILURE;
		goto out;
	}
	signal_done(ctx, &id, "provisioned for network boot and recorded; powering off");
	rc = power(false, dry);
out:
	free(inventory);
	pv_buf_release(&text);
	pv_node_netboot_plan_release(&plan);
	pv_node_identity_release(&id);
	free(conf);
	return rc;
}
