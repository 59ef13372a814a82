/* The netboot change as rpi-eeprom-update makes it (eeprom-format.md §4): read the running
 * config, compute the new one (everything else kept), take the newest release image for the
 * SoC from the rpi-eeprom package's folder, put the new bootconf.txt and an update
 * timestamp in it, and make pieeprom.sig; then either stage pieeprom.upd + pieeprom.sig +
 * recovery.bin in the boot partition or hand the image to flashrom. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "piprov/eeprom.h"
#include "piprov/eeprom_config.h"
#include "piprov/fileio.h"
#include "piprov/node.h"
#include "piprov/text.h"
#include "banned.h"

#define DEFAULTS_MAX (64 * 1024)
#define DEFAULTS_LINE_MAX 1024
#define RECOVERY_MAX (1024 * 1024)   /* recovery.bin is ~100 KiB */
#define CONFIG_BUF_MAX 8192
#define BOOT_MODE_NETWORK 0x2u
/* chosen/bootloader/boot-mode of a board the host booted over USB (rpiboot). */
#define BOOT_MODE_RPIBOOT 3u
#define DEFAULT_FIRMWARE_ROOT "/usr/lib/firmware/raspberrypi/bootloader"
#define LEGACY_FIRMWARE_ROOT "/lib/firmware/raspberrypi/bootloader"
#define DEFAULT_BACKUP_DIR "/var/lib/raspberrypi/bootloader/backup"

/* ---- /etc/default/rpi-eeprom-update ---- */

static void unquote(char *v)
{
	size_t n = strlen(v);

	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		memmove(v, v + 1, n - 2);
		v[n - 2] = '\0';
	}
}

int pv_node_update_defaults_parse(const char *text, size_t len, const char *name,
				  struct pv_node_update_defaults *out)
{
	struct pv_node_update_defaults d;
	size_t pos = 0;
	unsigned lineno = 0;

	memset(&d, 0, sizeof(d));
	pv_strlcpy(d.firmware_root, DEFAULT_FIRMWARE_ROOT, sizeof(d.firmware_root));
	pv_strlcpy(d.release_status, "default", sizeof(d.release_status));
	pv_strlcpy(d.backup_dir, DEFAULT_BACKUP_DIR, sizeof(d.backup_dir));
	d.immediate_update = -1;
	while (pos < len) {
		char line[DEFAULTS_LINE_MAX], *eq, *key, *value;
		size_t n = 0;

		lineno++;
		while (pos + n < len && text[pos + n] != '\n')
			n++;
		if (n >= sizeof(line))
			return pv_fail(PV_ERR_FORMAT, "node", "'%s': line %u is too long", name, lineno);
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + 1;
		if (memchr(line, '\0', n))
			return pv_fail(PV_ERR_FORMAT, "node", "'%s': line %u has a NUL byte", name,
				       lineno);
		key = line;
		while (*key == ' ' || *key == '\t')
			key++;
		if (strncmp(key, "export ", 7) == 0)
			key += 7;
		eq = strchr(key, '=');
		/* Only plain assignments count; the file is shell, anything else is skipped. */
		if (*key == '#' || !eq)
			continue;
		*eq = '\0';
		value = eq + 1;
		value[strcspn(value, "#")] = '\0';
		for (size_t e = strlen(value); e > 0 && (value[e - 1] == ' ' || value[e - 1] == '\t' ||
							 value[e - 1] == '\r');)
			value[--e] = '\0';
		unquote(value);
		if (strcmp(key, "FIRMWARE_ROOT") == 0) {
			pv_strlcpy(d.firmware_root, value, sizeof(d.firmware_root));
		} else if (strcmp(key, "FIRMWARE_RELEASE_STATUS") == 0) {
			if (!value[0] || strchr(value, '/') || strcmp(value, "..") == 0)
				return pv_fail(PV_ERR_FORMAT, "node", "'%s': line %u: bad "
					       "FIRMWARE_RELEASE_STATUS '%s'", name, lineno, value);
			pv_strlcpy(d.release_status, value, sizeof(d.release_status));
		} else if (strcmp(key, "FIRMWARE_BACKUP_DIR") == 0) {
			pv_strlcpy(d.backup_dir, value, sizeof(d.backup_dir));
		} else if (strcmp(key, "BOOTFS") == 0) {
			pv_strlcpy(d.bootfs, value, sizeof(d.bootfs));
		} else if (strcmp(key, "RPI_EEPROM_IMMEDIATE_UPDATE") == 0 ||
			   strcmp(key, "RPI_EEPROM_USE_FLASHROM") == 0) {
			d.immediate_update = strcmp(value, "1") == 0;
		} else if (strcmp(key, "CM4_ENABLE_RPI_EEPROM_UPDATE") == 0) {
			d.cm4_enable_update = strcmp(value, "1") == 0;
		}
	}
	*out = d;
	return PV_OK;
}

int pv_node_update_defaults_read(const struct pv_node_root *root,
				 struct pv_node_update_defaults *out)
{
	static const char *const path = "etc/default/rpi-eeprom-update";
	struct pv_buf b = PV_BUF_INIT(DEFAULTS_MAX + 1);
	int rc;

	if (pv_node_root_exists(root, path))
		rc = pv_node_root_read(root, path, DEFAULTS_MAX, &b);
	else
		rc = PV_OK;
	if (rc == 0)
		rc = pv_node_update_defaults_parse(pv_buf_str(&b), b.len,
						   "/etc/default/rpi-eeprom-update", out);
	pv_buf_release(&b);
	return rc;
}

/* ---- release images ---- */

static bool release_name(const char *name)
{
	/* pieeprom-YYYY-MM-DD.bin */
	static const char pattern[] = "pieeprom-dddd-dd-dd.bin";

	if (strlen(name) != sizeof(pattern) - 1)
		return false;
	for (size_t i = 0; pattern[i]; i++)
		if (pattern[i] == 'd' ? (name[i] < '0' || name[i] > '9') : name[i] != pattern[i])
			return false;
	return true;
}

static int newest_in(const struct pv_node_root *root, const char *dir, size_t size, char *best,
		     size_t best_size)
{
	struct dirent *e;
	DIR *d;
	int fd;
	bool found = false;

	if (!pv_node_root_exists(root, dir))
		return 1;
	fd = pv_node_root_openat(root, dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return pv_fail_errno(errno, "node", "cannot list '%s'", dir);
	}
	while ((e = readdir(d))) {
		struct stat st;
		/* Names sort by date; the right size excludes images of the other SoC. */
		if (!release_name(e->d_name) || fstatat(dirfd(d), e->d_name, &st, 0) < 0 ||
		    (size_t)st.st_size != size)
			continue;
		if (!found || strcmp(e->d_name, best) > 0) {
			pv_strlcpy(best, e->d_name, best_size);
			found = true;
		}
	}
	closedir(d);
	return found ? PV_OK : 1;
}

int pv_node_find_release(const struct pv_node_root *root, const struct pv_node_update_defaults *d,
			 const struct pv_soc_info *soc, char *image, size_t image_size,
			 char *recovery, size_t recovery_size)
{
	const char *roots[2] = { d->firmware_root, NULL };
	char dir[600], name[64], path[700];

	if (!soc || !soc->eeprom_size)
		return pv_fail(PV_ERR_UNSUPPORTED, "node", "this SoC has no bootloader EEPROM");
	if (strcmp(d->firmware_root, DEFAULT_FIRMWARE_ROOT) == 0)
		roots[1] = LEGACY_FIRMWARE_ROOT;
	for (size_t r = 0; r < 2 && roots[r]; r++) {
		for (int plain = 0; plain < 2; plain++) {
			int rc;
			if (plain)
				snprintf(dir, sizeof(dir), "%s/%s", roots[r], d->release_status);
			else
				snprintf(dir, sizeof(dir), "%s-%s/%s", roots[r], soc->chip,
					 d->release_status);
			rc = newest_in(root, dir, soc->eeprom_size, name, sizeof(name));
			if (rc < 0)
				return rc;
			if (rc == 1)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			if (pv_strlcpy(image, path, image_size) >= image_size)
				return pv_fail(PV_ERR_TOO_BIG, "node", "path '%s' is too long", path);
			snprintf(path, sizeof(path), "%s/recovery.bin", dir);
			pv_strlcpy(recovery, pv_node_root_exists(root, path) ? path : "",
				   recovery_size);
			return PV_OK;
		}
	}
	return pv_fail(PV_ERR_NOT_FOUND, "node", "no pieeprom-*.bin for %s in '%s-%s/%s' of root "
		       "'%s' (is the rpi-eeprom package installed? FIRMWARE_RELEASE_STATUS in "
		       "/etc/default/rpi-eeprom-update picks the channel)", soc->name,
		       d->firmware_root, soc->chip, d->release_status, root->path);
}

int pv_node_find_bootfs(const struct pv_node_root *root, const struct pv_node_update_defaults *d,
			char *out, size_t size)
{
	static const char *const candidates[] = { "boot/firmware", "boot" };
	char probe[300];

	if (d->bootfs[0]) {
		if (!pv_node_root_exists(root, d->bootfs))
			return pv_fail(PV_ERR_NOT_FOUND, "node", "BOOTFS '%s' (from "
				       "/etc/default/rpi-eeprom-update) does not exist", d->bootfs);
		/* Root-relative like the candidates below. */
		pv_strlcpy(out, d->bootfs + strspn(d->bootfs, "/"), size);
		return PV_OK;
	}
	for (size_t i = 0; i < PV_ARRAY_SIZE(candidates); i++) {
		snprintf(probe, sizeof(probe), "%s/config.txt", candidates[i]);
		if (pv_node_root_exists(root, probe)) {
			pv_strlcpy(out, candidates[i], size);
			return PV_OK;
		}
	}
	return pv_fail(PV_ERR_NOT_FOUND, "node", "no boot partition in root '%s': neither "
		       "/boot/firmware nor /boot holds config.txt (set BOOTFS in "
		       "/etc/default/rpi-eeprom-update)", root->path);
}

/* ---- the plan ---- */

void pv_node_netboot_plan_init(struct pv_node_netboot_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	pv_buf_init(&plan->old_config, CONFIG_BUF_MAX);
	pv_buf_init(&plan->new_config, CONFIG_BUF_MAX);
	pv_buf_init(&plan->image, 4u << 20);
	pv_buf_init(&plan->sig, 8192);
	pv_buf_init(&plan->recovery, RECOVERY_MAX + 1);
	pv_buf_init(&plan->diff, 1u << 20);
	pv_buf_init(&plan->warnings, 1u << 16);
}

void pv_node_netboot_plan_release(struct pv_node_netboot_plan *plan)
{
	if (!plan)
		return;
	pv_buf_release(&plan->old_config);
	pv_buf_release(&plan->new_config);
	pv_buf_release(&plan->image);
	pv_buf_release(&plan->sig);
	pv_buf_release(&plan->recovery);
	pv_buf_release(&plan->diff);
	pv_buf_release(&plan->warnings);
}

struct preset {
	const char *name;
	uint32_t boot_order;
	uint32_t boot_order_nvme; /* on boards that can boot NVMe */
	const char *description;
};

/* Release configs (eeprom-format.md §5, imager/27xx-config). */
static const struct preset presets[] = {
	{ "network", 0xf21, 0xf21, "SD card, then network, repeat" },
	{ "network-only", 0xf2, 0xf2, "network only, repeat" },
	{ "sd", 0xf41, 0xf461, "SD card, then USB (then NVMe), repeat" },
	{ "usb", 0xf14, 0xf146, "USB, then SD card (then NVMe), repeat" },
	{ "nvme", 0xf416, 0xf416, "NVMe, then SD card, then USB, repeat" },
};

static int set_hex(struct pv_eeprom_conf *config, const char *key, uint32_t value)
{
	char text[16];

	snprintf(text, sizeof(text), "0x%x", value);
	return pv_eeprom_conf_set(config, key, text);
}

/* Node policy on top of the EEPROM library's bootconf.txt model: what a netboot request
 * means for this board. "Network boot" is mode 2, first or as the fallback
 * (pv_eeprom_conf_boot_place decides placement and the rules); presets pick the NVMe
 * variant on boards that can boot NVMe. */
static int apply_request(const struct pv_node_netboot_request *req,
			 const struct pv_eeprom_conf_target *target, struct pv_eeprom_conf *c)
{
	int rc;

	if (req->preset) {
		const struct preset *p = NULL;
		for (size_t i = 0; i < PV_ARRAY_SIZE(presets); i++)
			if (strcmp(presets[i].name, req->preset) == 0)
				p = &presets[i];
		if (!p)
			return pv_fail(PV_ERR_INVALID, "node", "unknown preset '%s' (network, "
				       "network-only, sd, usb, nvme)", req->preset);
		rc = set_hex(c, "BOOT_ORDER", target->board->features & PV_BOARD_HAS_NVME
						      ? p->boot_order_nvme
						      : p->boot_order);
		if (rc)
			return rc;
	}
	if (!req->keep_order && !req->preset &&
	    (rc = pv_eeprom_conf_boot_place(c, BOOT_MODE_NETWORK,
					    req->network_first ? PV_EEPROM_BOOT_FIRST
							       : PV_EEPROM_BOOT_FALLBACK,
					    target)))
		return rc;
	if (req->tftp_prefix) {
		if (strcmp(req->tftp_prefix, "serial") == 0) {
			rc = pv_eeprom_conf_set(c, "TFTP_PREFIX", "0");
		} else if (strcmp(req->tftp_prefix, "mac") == 0) {
			rc = pv_eeprom_conf_set(c, "TFTP_PREFIX", "2");
		} else {
			rc = pv_eeprom_conf_set(c, "TFTP_PREFIX", "1");
			if (!rc)
				rc = pv_eeprom_conf_set(c, "TFTP_PREFIX_STR", req->tftp_prefix);
		}
		if (rc)
			return rc;
	}
	if (req->tftp_ip) {
		uint32_t ip;
		if (pv_ipv4_parse(req->tftp_ip, &ip))
			return pv_fail(PV_ERR_INVALID, "node", "--tftp-ip '%s' is not an IPv4 address",
				       req->tftp_ip);
		if ((rc = pv_eeprom_conf_set(c, "TFTP_IP", req->tftp_ip)))
			return rc;
	}
	for (size_t i = 0; i < req->nsettings; i++) {
		char key[64];
		const char *v;
		if ((rc = pv_node_setting_parse(req->settings[i], key, sizeof(key), &v)) ||
		    (rc = pv_eeprom_conf_set(c, key, v)))
			return rc;
	}
	return PV_OK;
}

static bool key_valid(const char *key)
{
	if (!*key)
		return false;
	for (const char *p = key; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

int pv_node_setting_parse(const char *text, char *key, size_t key_size, const char **value)
{
	const char *eq = strchr(text, '=');
	size_t klen;

	if (!eq || eq == text)
		return pv_fail(PV_ERR_INVALID, "node", "'%s' is not KEY=VALUE", text);
	klen = (size_t)(eq - text);
	if (klen >= key_size)
		return pv_fail(PV_ERR_INVALID, "node", "'%s': the key is too long", text);
	memcpy(key, text, klen);
	key[klen] = '\0';
	if (!key_valid(key))
		return pv_fail(PV_ERR_INVALID, "node", "'%s': keys are upper-case letters, digits "
			       "and '_' (e.g. BOOT_UART)", key);
	if (!pv_text_is_printable(eq + 1, strlen(eq + 1)) || strpbrk(eq + 1, "\r\n"))
		return pv_fail(PV_ERR_INVALID, "node", "'%s': the value has control characters",
			       key);
	*value = eq + 1;
	return PV_OK;
}

static bool signed_boot(const struct pv_eeprom_conf *conf)
{
	const char *v = pv_eeprom_conf_get(conf, "SIGNED_BOOT");

	return v && strcmp(v, "1") == 0;
}

/* The new config: parse the running one, apply the request, validate for the board
 * (errors fail; warnings go to plan->warnings), serialize, diff. */
static int plan_config(const struct pv_node_netboot_request *req,
		       struct pv_node_netboot_plan *plan)
{
	struct pv_eeprom_conf_target target = { .soc = plan->soc, .board = plan->board };
	struct pv_eeprom_conf *old = NULL, *new = NULL;
	size_t changed = 0;
	int rc;

	if ((rc = pv_eeprom_conf_parse(plan->old_config.data, plan->old_config.len,
				       "running config", &old)))
		goto out_free;
	if (req->config)
		rc = pv_eeprom_conf_parse(req->config, req->config_len,
					  req->config_name ? req->config_name : "new config", &new);
	else if ((rc = pv_eeprom_conf_parse(plan->old_config.data, plan->old_config.len,
					    "new config", &new)) == 0)
		rc = apply_request(req, &target, new);
	if (rc || (rc = pv_eeprom_conf_check(new, &target, &plan->warnings)))
		goto out_free;
	if (!req->private_key && (signed_boot(old) || signed_boot(new))) {
		rc = pv_fail(PV_ERR_UNSUPPORTED, "node", "SIGNED_BOOT=1: the new config must be "
			     "signed with the customer key; give --key PRIVATE.pem");
		goto out_free;
	}
	pv_buf_reset(&plan->new_config);
	if ((rc = pv_eeprom_conf_serialize(new, &plan->new_config)) ||
	    (rc = pv_eeprom_conf_diff(old, new, "running bootloader config",
				      "new bootloader config", &plan->diff, &changed)))
		goto out_free;
	plan->changed = changed > 0;
out_free:
	pv_eeprom_conf_free(new);
	pv_eeprom_conf_free(old);
	return rc;
}

static int read_image(const struct pv_node_root *root, const struct pv_node_netboot_request *req,
		      struct pv_node_netboot_plan *plan, struct pv_buf *raw)
{
	size_t limit = plan->soc->eeprom_size;

	if (req->image) {
		pv_strlcpy(plan->image_path, req->image, sizeof(plan->image_path));
		return pv_file_read(req->image, limit, raw);
	}
	return pv_node_root_read(root, plan->image_path, limit, raw);
}

/* An image of one's own comes with its recovery.bin (an rpi-eeprom release folder, or the
 * files rpi-eeprom-update -d / rpiboot's recovery folder keep together): the one beside it
 * wins over the release folder's. */
static int recovery_beside(const char *image, struct pv_node_netboot_plan *plan)
{
	const char *slash = strrchr(image, '/');
	char path[sizeof(plan->recovery_path)];
	int n;

	if (slash)
		n = snprintf(path, sizeof(path), "%.*s/recovery.bin", (int)(slash - image), image);
	else
		n = snprintf(path, sizeof(path), "recovery.bin");
	if (n < 0 || (size_t)n >= sizeof(path))
		return pv_fail(PV_ERR_TOO_BIG, "node", "path of '%s' is too long", image);
	if (!pv_path_exists(path))
		return PV_OK;
	pv_strlcpy(plan->recovery_path, path, sizeof(plan->recovery_path));
	plan->recovery_beside_image = true;
	return PV_OK;
}

int pv_node_netboot_prepare(const struct pv_node_root *root, const struct pv_node_identity *id,
			    const struct pv_node_netboot_request *req,
			    struct pv_node_netboot_plan *plan)
{
	struct pv_eeprom_image img = { 0 };
	struct pv_buf raw = PV_BUF_INIT(SIZE_MAX);
	struct pv_buf bootconf_sig = PV_BUF_INIT(8192);
	struct pv_buf pem = PV_BUF_INIT(SIZE_MAX);
	struct pv_eeprom_blob config_blob, sig_blob, pem_blob;
	struct pv_eeprom_edits edits;
	struct pv_eeprom_sig_options sig_opts;
	int64_t now = req->now ? req->now : (int64_t)time(NULL);
	int rc;

	plan->soc = pv_node_identity_soc(id);
	plan->board = id->revision_decoded ? id->revision.board : NULL;
	if (!pv_node_identity_has_eeprom(id) || !plan->soc || !plan->board)
		return pv_fail(PV_ERR_UNSUPPORTED, "node", "this board (%s) has no bootloader EEPROM%s",
			       id->model[0] ? id->model : "unknown",
			       pv_node_netboot_route(id) == PV_NODE_NETBOOT_OTP
				       ? "; its network boot is an OTP setting (program_usb_boot_mode=1)"
			       : pv_node_netboot_route(id) == PV_NODE_NETBOOT_IN_ROM
				       ? "; its boot ROM network-boots as shipped"
				       : "");
	if ((rc = pv_node_update_defaults_read(root, &plan->defaults)))
		return rc;
	if ((plan->board->features & PV_BOARD_EEPROM_UPDATE_OPT_IN) &&
	    !plan->defaults.cm4_enable_update && !req->force)
		return pv_fail(PV_ERR_UNSUPPORTED, "node", "the %s's EEPROM is not updated from the "
			       "running system unless CM4_ENABLE_RPI_EEPROM_UPDATE=1 is set in "
			       "/etc/default/rpi-eeprom-update (its carrier may write-protect it); "
			       "use 'piprov usb flash' (rpiboot) or --force", plan->board->name);
	plan->immediate_default = plan->defaults.immediate_update >= 0
					  ? plan->defaults.immediate_update == 1
					  : plan->soc->eeprom_immediate_update;
	if (id->eeprom_config_source == PV_NODE_SRC_NONE)
		return pv_fail(PV_ERR_NOT_FOUND, "node", "cannot read the running bootloader config "
			       "(no blconfig nvmem device and no firmware mailbox)");
	if ((rc = pv_buf_append(&plan->old_config, id->eeprom_config.data, id->eeprom_config.len)))
		return pv_fail(rc, "node", "running config: %s", pv_strerror(rc));
	if ((rc = plan_config(req, plan)))
		return rc;
	rc = pv_node_find_release(root, &plan->defaults, plan->soc, plan->image_path,
				  sizeof(plan->image_path), plan->recovery_path,
				  sizeof(plan->recovery_path));
	/* With an image of one's own, recovery.bin still comes from the release folder (as
	 * rpi-eeprom-update -f); staging names it when there is none. */
	if (rc && !req->image)
		return rc;
	pv_clear_error();
	if ((rc = read_image(root, req, plan, &raw)))
		goto out;
	if ((rc = pv_eeprom_parse(&img, raw.data, raw.len, plan->image_path)))
		goto out;
	if (img.soc != plan->soc) {
		rc = pv_fail(PV_ERR_INVALID, "node", "'%s' is a %s image, this board has a %s",
			     plan->image_path, img.soc ? img.soc->name : "unknown", plan->soc->name);
		goto out;
	}
	memset(&edits, 0, sizeof(edits));
	config_blob = (struct pv_eeprom_blob){ plan->new_config.data, plan->new_config.len,
					       "new bootconf.txt" };
	edits.config = &config_blob;
	edits.set_timestamp = true;
	edits.timestamp = (uint32_t)now;
	if (req->private_key) {
		memset(&sig_opts, 0, sizeof(sig_opts));
		sig_opts.timestamp = now;
		sig_opts.private_key_path = req->private_key;
		if ((rc = pv_eeprom_sig_create(plan->new_config.data, plan->new_config.len, &sig_opts,
					       &bootconf_sig)) ||
		    (rc = pv_file_read(req->private_key, 64 * 1024, &pem)))
			goto out;
		sig_blob = (struct pv_eeprom_blob){ bootconf_sig.data, bootconf_sig.len,
						    "bootconf.sig" };
		pem_blob = (struct pv_eeprom_blob){ pem.data, pem.len, req->private_key };
		edits.digest = &sig_blob;
		edits.pubkey_pem = &pem_blob;
	}
	if ((rc = pv_eeprom_apply_edits(&img, &edits)))
		goto out;
	pv_buf_reset(&plan->image);
	if ((rc = pv_buf_append(&plan->image, img.data, img.size)))
		goto out;
	memset(&sig_opts, 0, sizeof(sig_opts));
	sig_opts.timestamp = now;
	sig_opts.target_soc = plan->soc;
	pv_buf_reset(&plan->sig);
	if ((rc = pv_eeprom_sig_create(img.data, img.size, &sig_opts, &plan->sig)))
		goto out;
	pv_buf_reset(&plan->recovery);
	if (req->image && (rc = recovery_beside(req->image, plan)))
		goto out;
	if (plan->recovery_beside_image)
		rc = pv_file_read(plan->recovery_path, RECOVERY_MAX, &plan->recovery);
	else if (plan->recovery_path[0])
		rc = pv_node_root_read(root, plan->recovery_path, RECOVERY_MAX, &plan->recovery);
	if (rc)
		goto out;
	pv_node_find_bootfs(root, &plan->defaults, plan->bootfs, sizeof(plan->bootfs));
	pv_clear_error();
out:
	pv_eeprom_release(&img);
	pv_buf_release(&raw);
	pv_buf_release(&bootconf_sig);
	pv_buf_release(&pem);
	return rc;
}

int pv_node_backup_config(const struct pv_node_root *root, const struct pv_node_netboot_plan *plan,
			  int64_t now, char *out, size_t size)
{
	time_t t = (time_t)now;
	struct tm tm;
	char name[64];
	int rc;

	gmtime_r(&t, &tm);
	strftime(name, sizeof(name), "pieeprom-backup-%Y%m%d-%H%M%S.conf", &tm);
	rc = pv_node_write_file(root, plan->defaults.backup_dir, name, plan->old_config.data,
				plan->old_config.len, NULL);
	if (rc == 0)
		snprintf(out, size, "%s/%s", plan->defaults.backup_dir, name);
	return rc;
}

int pv_node_netboot_check(const struct pv_node_root *root, const struct pv_node_identity *id,
			  const struct pv_node_netboot_plan *plan, bool staging, bool force)
{
	char bootfs[256];
	int dirfd, rc;

	if (!staging)
		return PV_OK;
	if ((id->bootloader.present & PV_NODE_BL_BOOT_MODE) &&
	    id->bootloader.boot_mode == BOOT_MODE_RPIBOOT && !force)
		return pv_fail(PV_ERR_UNSUPPORTED, "node", "this board booted over USB (rpiboot): it "
			       "cannot run recovery.bin from a boot partition; use 'piprov usb "
			       "flash' or --force");
	if (plan->recovery.len == 0)
		return pv_fail(PV_ERR_NOT_FOUND, "node", "no recovery.bin beside '%s' (nor in the "
			       "rpi-eeprom release folder): cannot stage an update the boot ROM "
			       "would apply", plan->image_path);
	if (!plan->bootfs[0] &&
	    (rc = pv_node_find_bootfs(root, &plan->defaults, bootfs, sizeof(bootfs))))
		return rc;
	dirfd = pv_node_root_openat(root, plan->bootfs[0] ? plan->bootfs : bootfs,
				    O_RDONLY | O_DIRECTORY, 0);
	if (dirfd < 0) {
		char detail[300];
		pv_strlcpy(detail, pv_last_error(), sizeof(detail));
		return pv_fail(dirfd, "node", "boot partition '/%s' is not usable: %s",
			       plan->bootfs[0] ? plan->bootfs : bootfs, detail);
	}
	close(dirfd);
	return PV_OK;
}

int pv_node_netboot_stage(const struct pv_node_root *root, const struct pv_node_netboot_plan *plan,
			  const char *dir, const struct pv_node_io_hooks *hooks)
{
	/* recovery.bin last: it is what makes the boot ROM flash at the next boot. */
	struct pv_node_stage_file files[3] = {
		{ "pieeprom.upd", plan->image.data, plan->image.len },
		{ "pieeprom.sig", plan->sig.data, plan->sig.len },
		{ "recovery.bin", plan->recovery.data, plan->recovery.len },
	};

	char bootfs[256];
	int rc;

	if (!dir || !dir[0]) {
		/* Looked up again for its message when prepare found none. */
		rc = plan->bootfs[0] ? PV_OK
				     : pv_node_find_bootfs(root, &plan->defaults, bootfs, sizeof(bootfs));
		if (rc)
			return rc;
		dir = plan->bootfs[0] ? plan->bootfs : bootfs;
	}
	if (plan->recovery.len == 0)
		return pv_fail(PV_ERR_NOT_FOUND, "node", "no recovery.bin beside '%s' (nor in the "
			       "rpi-eeprom release folder): cannot stage an update the boot ROM "
			       "would apply", plan->image_path);
	return pv_node_stage(root, dir, files, 3, hooks);
}

/* ---- Pi 3B family: the OTP bit ---- */

#define OTP_CONFIG_MAX (1u << 20)
#define OTP_CONFIG_LINE "program_usb_boot_mode=1"

void pv_node_otp_plan_init(struct pv_node_otp_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	pv_buf_init(&plan->config, OTP_CONFIG_MAX + 64);
}

void pv_node_otp_plan_release(struct pv_node_otp_plan *plan)
{
	if (plan)
		pv_buf_release(&plan->config);
}

/* A line "program_usb_boot_mode=1" (leading blanks allowed; not a comment, not another
 * value) anywhere in config.txt. */
static bool has_otp_line(const char *text, size_t len)
{
	size_t pos = 0, n = strlen(OTP_CONFIG_LINE);

	while (pos < len) {
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		while (pos < end && (text[pos] == ' ' || text[pos] == '\t'))
			pos++;
		if (end - pos >= n && memcmp(text + pos, OTP_CONFIG_LINE, n) == 0) {
			size_t rest = pos + n;
			while (rest < end && (text[rest] == ' ' || text[rest] == '\t' ||
					      text[rest] == '\r'))
				rest++;
			if (rest == end)
				return true;
		}
		pos = end + 1;
	}
	return false;
}

int pv_node_otp_prepare(const struct pv_node_root *root, const struct pv_node_identity *id,
			struct pv_node_otp_plan *plan)
{
	struct pv_node_update_defaults d;
	int rc;

	if (pv_node_netboot_route(id) != PV_NODE_NETBOOT_OTP)
		return pv_fail(PV_ERR_UNSUPPORTED, "node", "%s: network boot is not an OTP setting "
			       "on this board", id->model[0] ? id->model : "unknown board");
	plan->enabled = pv_node_identity_otp_boot_enabled(id);
	if (plan->enabled)
		return PV_OK;
	if ((rc = pv_node_update_defaults_read(root, &d)) ||
	    (rc = pv_node_find_bootfs(root, &d, plan->bootfs, sizeof(plan->bootfs))))
		return rc;
	snprintf(plan->config_path, sizeof(plan->config_path), "%s/config.txt", plan->bootfs);
	pv_buf_reset(&plan->config);
	if ((rc = pv_node_root_read(root, plan->config_path, OTP_CONFIG_MAX, &plan->config)))
		return rc;
	plan->requested = has_otp_line(pv_buf_str(&plan->config), plan->config.len);
	if (plan->requested)
		return PV_OK;
	if (plan->config.len && plan->config.data[plan->config.len - 1] != '\n' &&
	    (rc = pv_buf_putc(&plan->config, '\n')))
		return rc;
	return pv_buf_append_str(&plan->config, OTP_CONFIG_LINE "\n");
}

int pv_node_otp_apply(const struct pv_node_root *root, const struct pv_node_otp_plan *plan)
{
	if (plan->enabled || plan->requested)
		return PV_OK;
	return pv_node_write_file(root, plan->bootfs, "config.txt", plan->config.data,
				  plan->config.len, NULL);
}
