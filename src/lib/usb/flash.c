/* Flash payloads: for one SoC, find recovery.bin and the newest release image where Debian /
 * Raspberry Pi OS put them (or take the ones given), apply the requested bootloader config
 * through the EEPROM engine, and serve pieeprom.bin + pieeprom.sig + a recovery config.txt
 * from memory. */
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "piprov/eeprom.h"
#include "piprov/eeprom_config.h"
#include "piprov/fileio.h"
#include "piprov/text.h"
#include "piprov/usb.h"
#include "usb_internal.h"
#include "banned.h"

/* Served as config.txt to recovery.bin: UART output for diagnosis, metadata on (it is how
 * the flash is verified). */
static const char default_recovery_config[] =
	"# Written by piprov usb flash: read by recovery.bin before it flashes pieeprom.bin.\n"
	"uart_2ndstage=1\n"
	"recovery_metadata=1\n";

static const char *const system_firmware_roots[] = {
	"/usr/lib/firmware/raspberrypi",
	"/lib/firmware/raspberrypi",
};

int pv_usb_flash_payloads_new(const struct pv_usb_flash_options *options,
			      struct pv_usb_payload_set **out)
{
	struct pv_usb_payload_set *set = calloc(1, sizeof(*set));

	if (!set)
		return pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
	pthread_mutex_init(&set->lock, NULL);
	pthread_mutex_init(&set->digest_lock, NULL);
	set->flash = true;
	set->flash_options = *options;
	*out = set;
	return PV_OK;
}

/* Candidate folders for a SoC, in order: the given firmware folder (its
 * bootloader-27xx/{default,latest} or {latest,default} per the channel, 27xx/ and itself),
 * then the system ones. */
static size_t firmware_folders(const struct pv_usb_flash_options *o,
			       const struct pv_soc_info *soc, char folders[][512], size_t max)
{
	size_t n = 0;

#define ADD(...)                                                                  \
	do {                                                                      \
		if (n < max && (size_t)snprintf(folders[n], 512, __VA_ARGS__) < 512) \
			n++;                                                      \
	} while (0)
	const bool latest_first = o->channel && strcmp(o->channel, "latest") == 0;
	const char *first = latest_first ? "latest" : "default";
	const char *second = latest_first ? "default" : "latest";

	if (o->firmware_dir) {
		ADD("%s/%s/%s", o->firmware_dir, soc->firmware_dir, first);
		ADD("%s/%s/%s", o->firmware_dir, soc->firmware_dir, second);
		ADD("%s/%s", o->firmware_dir, soc->chip);
		ADD("%s", o->firmware_dir);
	}
	for (size_t i = 0; i < PV_ARRAY_SIZE(system_firmware_roots); i++) {
		ADD("%s/%s/%s", system_firmware_roots[i], soc->firmware_dir, first);
		ADD("%s/%s/%s", system_firmware_roots[i], soc->firmware_dir, second);
	}
#undef ADD
	return n;
}

/* The newest pieeprom-YYYY-MM-DD.bin in folder (names sort by date), or "" */
static void newest_image(const char *folder, char *out, size_t size)
{
	DIR *dir = opendir(folder);
	struct dirent *ent;
	char best[256] = "";

	out[0] = '\0';
	if (!dir)
		return;
	while ((ent = readdir(dir)) != NULL) {
		size_t len = strlen(ent->d_name);

		if (len < 13 || len >= sizeof(best) || strncmp(ent->d_name, "pieeprom-", 9) != 0 ||
		    strcmp(ent->d_name + len - 4, ".bin") != 0)
			continue;
		if (strcmp(ent->d_name, best) > 0)
			pv_strlcpy(best, ent->d_name, sizeof(best));
	}
	closedir(dir);
	/* A path that does not fit is no path: leave out empty rather than truncated. */
	if (best[0] && snprintf(out, size, "%s/%s", folder, best) >= (int)size)
		out[0] = '\0';
}

static int read_recovery(const char *path, struct usb_payload_entry *e)
{
	struct pv_buf buf = PV_BUF_INIT(SIZE_MAX);
	size_t len;
	int rc = pv_file_read(path, PV_USB_SECOND_STAGE_MAX, &buf);

	if (rc)
		return rc;
	if (buf.len == 0) {
		pv_buf_release(&buf);
		return pv_fail(PV_ERR_FORMAT, "usb", "'%s': empty recovery program", path);
	}
	e->second_stage = pv_buf_detach(&buf, &len);
	e->payload.second_stage = e->second_stage;
	e->payload.second_stage_size = len;
	e->recovery_source = strdup(path);
	return e->recovery_source ? PV_OK : pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
}

static int find_recovery(const struct pv_usb_flash_options *o, const struct pv_soc_info *soc,
			 struct usb_payload_entry *e)
{
	char folders[8][512], path[600], rpiboot[128];

	if (o->recovery_path)
		return read_recovery(o->recovery_path, e);
	for (size_t i = 0, n = firmware_folders(o, soc, folders, 8); i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/recovery.bin", folders[i]) >= (int)sizeof(path))
			continue;
		if (pv_path_exists(path))
			return read_recovery(path, e);
	}
	/* The rpiboot package's recovery folders hold it as the ROM file name. */
	if (soc->rpiboot_recovery_dir) {
		snprintf(rpiboot, sizeof(rpiboot), "/usr/share/rpiboot/%s/%s",
			 soc->rpiboot_recovery_dir, soc->second_stage);
		if (pv_path_exists(rpiboot))
			return read_recovery(rpiboot, e);
	}
	if (o->placeholder_recovery) {
		e->second_stage = malloc(o->placeholder_recovery_size);
		e->recovery_source = strdup("placeholder");
		if (!e->second_stage || !e->recovery_source)
			return pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
		memcpy(e->second_stage, o->placeholder_recovery, o->placeholder_recovery_size);
		e->payload.second_stage = e->second_stage;
		e->payload.second_stage_size = o->placeholder_recovery_size;
		/* Warned about when a board gets it (pv_usb_payload_set_get), not when a check
		 * builds it for a chip no board may have. */
		e->stand_in = true;
		return PV_OK;
	}
	return pv_fail(PV_ERR_NOT_FOUND, "usb",
		       "no recovery.bin for %s: install the rpi-eeprom package or give --recovery "
		       "or --firmware-dir (looked in %s/%s/{default,latest} and %s)",
		       soc->name, system_firmware_roots[0], soc->firmware_dir, rpiboot);
}

static int find_image(const struct pv_usb_flash_options *o, const struct pv_soc_info *soc,
		      struct pv_eeprom_image *img, struct usb_payload_entry *e)
{
	char folders[8][512], path[600];
	struct pv_buf synth = PV_BUF_INIT(SIZE_MAX);
	int rc;

	if (o->image_path) {
		rc = pv_eeprom_load(img, o->image_path);
		if (rc)
			return rc;
		if (img->size == soc->eeprom_size) {
			e->image_source = strdup(o->image_path);
			return e->image_source ? PV_OK : pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
		}
		pv_eeprom_release(img);
		memset(img, 0, sizeof(*img));
		pv_log(PV_LOG_INFO, "usb", "--image '%s' is not a %s image: looking for one",
		       o->image_path, soc->name);
	}
	for (size_t i = 0, n = firmware_folders(o, soc, folders, 8); i < n; i++) {
		newest_image(folders[i], path, sizeof(path));
		if (!path[0])
			continue;
		rc = pv_eeprom_load(img, path);
		if (rc)
			return rc;
		if (img->size != soc->eeprom_size) {
			pv_eeprom_release(img);
			return pv_fail(PV_ERR_FORMAT, "usb", "'%s': %zu bytes is not a %s image", path,
				       img->size, soc->name);
		}
		e->image_source = strdup(path);
		return e->image_source ? PV_OK : pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
	}
	if (!o->allow_synthetic_image)
		return pv_fail(PV_ERR_NOT_FOUND, "usb",
			       "no release image for %s: install the rpi-eeprom package or give "
			       "--image or --firmware-dir (looked in %s/%s/{default,latest})",
			       soc->name, system_firmware_roots[0], soc->firmware_dir);
	rc = pv_eeprom_synthesize(soc->soc, NULL, &synth);
	if (!rc)
		rc = pv_eeprom_parse(img, synth.data, synth.len, "synthetic image");
	pv_buf_release(&synth);
	if (rc)
		return rc;
	e->synthetic = true;
	e->image_source = strdup("synthetic");
	return e->image_source ? PV_OK : pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
}

/* The bootloader config: --config or the image's own, + preset, + KEY=VALUE; validated. */
static int build_config(const struct pv_usb_flash_options *o, const struct pv_soc_info *soc,
			struct pv_eeprom_image *img, struct usb_payload_entry *e)
{
	struct pv_eeprom_conf *conf = NULL, *preset = NULL;
	struct pv_eeprom_conf_issue *issues = NULL;
	struct pv_eeprom_conf_target target = { .soc = soc };
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX);
	const unsigned char *current;
	size_t current_len, issue_count = 0;
	int rc;

	if (o->config_path) {
		rc = pv_eeprom_conf_load(o->config_path, &conf);
	} else {
		rc = pv_eeprom_get_file(img, PV_EEPROM_BOOTCONF_TXT, &current, &current_len);
		if (!rc)
			rc = pv_eeprom_conf_parse(current, current_len, "bootconf.txt", &conf);
	}
	if (rc)
		return rc;
	if (o->preset) {
		rc = pv_eeprom_preset_load(NULL, soc, o->preset, &preset);
		if (!rc)
			rc = pv_eeprom_conf_merge(conf, preset);
		pv_eeprom_conf_free(preset);
		if (rc)
			goto out_free_conf;
	}
	for (size_t i = 0; i < o->setting_count; i++) {
		const char *eq = strchr(o->settings[i], '=');
		char key[PV_EEPROM_CONF_MAX_KEY + 1];

		if (!eq || eq == o->settings[i] ||
		    (size_t)(eq - o->settings[i]) > PV_EEPROM_CONF_MAX_KEY) {
			rc = pv_fail(PV_ERR_INVALID, "usb", "'%s' is not KEY=VALUE", o->settings[i]);
			goto out_free_conf;
		}
		memcpy(key, o->settings[i], (size_t)(eq - o->settings[i]));
		key[eq - o->settings[i]] = '\0';
		rc = pv_eeprom_conf_set(conf, key, eq + 1);
		if (rc)
			goto out_free_conf;
	}
	if (pv_eeprom_file_capacity(img, PV_EEPROM_BOOTCONF_TXT, &target.capacity))
		target.capacity = 0;
	rc = pv_eeprom_conf_validate(conf, &target, &issues, &issue_count);
	if (rc)
		goto out_free_conf;
	for (size_t i = 0; i < issue_count; i++) {
		if (issues[i].severity != PV_EEPROM_CONF_ERROR)
			continue;
		rc = pv_fail(PV_ERR_INVALID, "usb", "bootloader config for %s: line %u: %s",
			     soc->name, issues[i].line, issues[i].message);
		goto out_free_issues;
	}
	rc = pv_eeprom_conf_serialize(conf, &text);
	if (!rc)
		rc = pv_eeprom_update_file(img, PV_EEPROM_BOOTCONF_TXT, text.data, text.len);
	if (rc)
		goto out_free_text;
	if (pv_eeprom_conf_boot_order(conf, &e->report.boot_order))
		e->report.boot_order = 0;
	pv_usb_sha256_hex(text.data, text.len, e->report.bootconf_sha256);
	e->bootconf = (char *)pv_buf_detach(&text, &current_len);
	if (!e->bootconf)
		e->bootconf = strdup("");
	if (!e->bootconf)
		rc = pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
out_free_text:
	pv_buf_release(&text);
out_free_issues:
	free(issues);
out_free_conf:
	pv_eeprom_conf_free(conf);
	return rc;
}

/* The pieeprom.sig text for a digest: the same length for any digest (the payload's
 * memory file is sized with a zero digest before the image is hashed). */
static int sig_text(const unsigned char md[32], uint64_t ts, struct pv_buf *out)
{
	struct pv_eeprom_sig_options opts = { .timestamp = (int64_t)ts };

	pv_buf_reset(out);
	return pv_eeprom_sig_from_digest(md, &opts, out);
}

/* Hash the image in pieces, so a cancelled job is not kept waiting (the watchdog allows a
 * worker 0.5 s; 2 MiB take about that long in a QEMU guest without acceleration). */
#define DIGEST_CHUNK (64u * 1024u)

static int digest_image(const unsigned char *image, size_t size, volatile const int *cancel,
			unsigned char md[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int md_len = 0;
	int rc = PV_OK;

	if (!ctx)
		return pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		rc = pv_fail(PV_ERR_CRYPTO, "usb", "sha256 init failed");
		goto out_free_ctx;
	}
	for (size_t off = 0; off < size; off += DIGEST_CHUNK) {
		size_t n = size - off < DIGEST_CHUNK ? size - off : DIGEST_CHUNK;

		if (cancel && *cancel) {
			rc = pv_fail(PV_ERR_INTERRUPTED, "usb", "cancelled while hashing the image");
			goto out_free_ctx;
		}
		if (EVP_DigestUpdate(ctx, image + off, n) != 1) {
			rc = pv_fail(PV_ERR_CRYPTO, "usb", "sha256 failed");
			goto out_free_ctx;
		}
	}
	if (EVP_DigestFinal_ex(ctx, md, &md_len) != 1 || md_len != 32)
		rc = pv_fail(PV_ERR_CRYPTO, "usb", "sha256 failed");
out_free_ctx:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* pv_usb_payload.complete of flash payloads: the image's sha256 once, into pieeprom.sig
 * (its first line, rpi-eeprom-digest's format) and image_sha256. */
static int complete_flash(const struct pv_usb_payload *payload, volatile const int *cancel)
{
	struct usb_payload_entry *e = (struct usb_payload_entry *)(
		(char *)payload - offsetof(struct usb_payload_entry, payload));
	struct pv_usb_payload_set *set = e->set;
	struct pv_buf sig = PV_BUF_INIT(8192);
	unsigned char md[32];
	int rc;

	pthread_mutex_lock(&set->digest_lock);
	if (e->digested) {
		rc = e->digest_status;
		if (rc)
			pv_fail(rc, "usb", "%s", e->reason);
		goto out_unlock;
	}
	rc = digest_image(e->image, e->image_size, cancel, md);
	if (rc == PV_ERR_INTERRUPTED)
		goto out_unlock; /* not an outcome: the next board tries again */
	if (!rc)
		rc = sig_text(md, e->sig_ts, &sig);
	if (!rc && sig.len != e->sig_len)
		rc = pv_fail(PV_ERR_INVALID, "usb", "pieeprom.sig changed length");
	if (!rc) {
		memcpy(e->sig, sig.data, sig.len);
		pv_hex_encode(md, sizeof(md), e->payload.image_sha256);
		pv_log(PV_LOG_INFO, "usb", "pieeprom.bin sha256 %s (%s)", e->payload.image_sha256,
		       e->image_source);
	} else {
		pv_strlcpy(e->reason, pv_last_error(), sizeof(e->reason));
	}
	e->digested = true;
	e->digest_status = rc;
out_unlock:
	pthread_mutex_unlock(&set->digest_lock);
	pv_buf_release(&sig);
	return rc;
}

int usb_build_flash_payload(struct pv_usb_payload_set *set, const struct pv_soc_info *soc,
			    struct usb_payload_entry *e)
{
	const struct pv_usb_flash_options *o = &set->flash_options;
	static const unsigned char no_digest[32];
	struct pv_eeprom_image img = { 0 };
	struct pv_buf sig = PV_BUF_INIT(8192);
	struct pv_usb_files_config fc = { 0 };
	const char *config = o->recovery_config ? o->recovery_config : default_recovery_config;
	int rc;

	if (!soc->eeprom_size)
		return pv_fail(PV_ERR_UNSUPPORTED, "usb", "%s boards have no bootloader EEPROM%s%s",
			       soc->name, soc->netboot_without_eeprom ? ": " : "",
			       soc->netboot_without_eeprom ? soc->netboot_without_eeprom : "");
	rc = find_recovery(o, soc, e);
	if (rc)
		return rc;
	rc = find_image(o, soc, &img, e);
	if (rc)
		return rc;
	rc = build_config(o, soc, &img, e);
	if (rc)
		goto out_release_image;
	/* The .sig's text with its final length now (its ts: fixed), the digest later. */
	rc = pv_eeprom_sig_timestamp(-1, &e->sig_ts);
	if (!rc)
		rc = sig_text(no_digest, e->sig_ts, &sig);
	if (rc)
		goto out_release_sig;
	e->image = malloc(img.size);
	if (!e->image) {
		rc = pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
		goto out_release_sig;
	}
	memcpy(e->image, img.data, img.size);
	e->image_size = img.size;
	e->sig = (char *)pv_buf_detach(&sig, &e->sig_len);
	e->set = set;
	e->payload.complete = complete_flash;
	e->mem[0] = (struct pv_usb_memfile){ "config.txt", config, strlen(config) };
	e->mem[1] = (struct pv_usb_memfile){ "pieeprom.bin", e->image, img.size };
	e->mem[2] = (struct pv_usb_memfile){ "pieeprom.sig", e->sig, e->sig_len };
	fc.memfiles = e->mem;
	fc.memfile_count = 3;
	fc.opened = o->opened;
	fc.opened_user = o->opened_user;
	rc = pv_usb_files_new(&fc, &e->own_files);
	if (rc)
		goto out_release_sig;
	e->payload.files = e->own_files;
	e->report.image_source = e->image_source;
	e->report.recovery_source = e->recovery_source;
	e->report.bootconf = e->bootconf;
	pv_log(PV_LOG_INFO, "usb", "%s: image %s, recovery %s", soc->name, e->image_source,
	       e->recovery_source);
out_release_sig:
	pv_buf_release(&sig);
out_release_image:
	pv_eeprom_release(&img);
	return rc;
}

/* A file the user named must be there and readable now, not when the first board arrives. */
static int check_readable(const char *option, const char *path)
{
	FILE *f;

	if (!path)
		return PV_OK;
	f = fopen(path, "rb");
	if (!f)
		return pv_fail_errno(errno, "usb", "%s '%s'", option, path);
	fclose(f);
	return PV_OK;
}

int pv_usb_flash_payloads_check(struct pv_usb_payload_set *set)
{
	const struct pv_usb_flash_options *o = &set->flash_options;
	const struct pv_soc_info *soc;
	bool preset_found = false;
	int rc;

	if (!set->flash)
		return PV_OK;
	if (o->channel && strcmp(o->channel, "default") != 0 && strcmp(o->channel, "latest") != 0)
		return pv_fail(PV_ERR_INVALID, "usb",
			       "release channel '%.64s': 'default' or 'latest'", o->channel);
	for (size_t i = 0; i < o->setting_count; i++) {
		const char *eq = strchr(o->settings[i], '=');

		if (!eq || eq == o->settings[i] ||
		    (size_t)(eq - o->settings[i]) > PV_EEPROM_CONF_MAX_KEY)
			return pv_fail(PV_ERR_INVALID, "usb", "'%s' is not KEY=VALUE",
				       o->settings[i]);
	}
	rc = check_readable("--config", o->config_path);
	if (!rc)
		rc = check_readable("--image", o->image_path);
	if (!rc)
		rc = check_readable("--recovery", o->recovery_path);
	if (rc)
		return rc;
	if (o->config_path) {
		struct pv_eeprom_conf *conf = NULL;

		rc = pv_eeprom_conf_load(o->config_path, &conf);
		pv_eeprom_conf_free(conf);
		if (rc)
			return rc;
	}
	if (o->preset) {
		for (size_t i = 0; (soc = pv_soc_at(i)) != NULL; i++) {
			struct pv_eeprom_conf *preset = NULL;

			if (!soc->eeprom_size)
				continue;
			if (pv_eeprom_preset_load(NULL, soc, o->preset, &preset) == PV_OK)
				preset_found = true;
			pv_eeprom_conf_free(preset);
		}
		pv_clear_error();
		if (!preset_found)
			return pv_fail(PV_ERR_INVALID, "usb",
				       "--preset '%.64s': no such preset (firmware-templates/<chip>/"
				       "NAME.conf: network, sd, usb, nvme, http)", o->preset);
	}
	/* Build each chip now: the config is validated against its image, and the first
	 * board of that chip does not wait for it. Firmware not installed is left for the
	 * board to report. */
	for (size_t i = 0; (soc = pv_soc_at(i)) != NULL; i++) {
		const struct pv_usb_payload *payload;

		if (!soc->eeprom_size)
			continue;
		rc = usb_payload_get(set, soc, &payload, false);
		if (rc == PV_ERR_NOT_FOUND || rc == PV_ERR_UNSUPPORTED) {
			pv_log(PV_LOG_INFO, "usb", "%s: %s", soc->name, pv_last_error());
			pv_clear_error();
			continue;
		}
		if (rc)
			return rc;
	}
	return PV_OK;
}
