/* Synthetic EEPROM images with the layout of the real releases (../shared/docs/
 * eeprom-format.md §1.5), for tests, demos and the virtual Pi when no firmware is
 * installed. The section skeleton is laid out here; bootconf.txt is then written by the
 * engine's own update path, so the result is exactly what the patcher would produce. The
 * payload bytes are deterministic filler, not bootloader code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "piprov/eeprom.h"
#include "eeprom_internal.h"
#include "banned.h"

#define MAGIC_CODE 0x55aaf44fu   /* payload magic of current releases */
#define MAX_PAYLOADS 8

/* One row per image size (that is, per SoC generation), modelled on the 2025-2026 releases. */
struct synth_layout {
	size_t image_size;
	size_t bootcode_len;
	size_t payload_start;        /* first payload section (non-A/B) */
	size_t payload_lens[MAX_PAYLOADS];
	bool updatetime;             /* 2711 >= 2026-05 keep one at >64 KiB */
	size_t ab_bootcode_len;      /* A/B layout; 0 = not offered */
	size_t ab_bootsys_len;
	const char *default_conf;    /* the release default (SD first) */
};

static const struct synth_layout layouts[] = {
	{
		.image_size = 512 * 1024,
		.bootcode_len = 73120,
		.payload_start = 0x11fc0,
		.payload_lens = { 212581, 12706, 11237, 10368, 60451, 7422 },
		.updatetime = true,
		.default_conf = "[all]\nBOOT_UART=0\nWAKE_ON_GPIO=1\nPOWER_OFF_ON_HALT=0\n"
				"BOOT_ORDER=0xf41\nNET_INSTALL_AT_POWER_ON=1\n",
	},
	{
		.image_size = 2 * 1024 * 1024,
		.bootcode_len = 75952,
		.payload_start = 0x20000,
		.payload_lens = { 480451, 27997, 26742, 19221, 14855, 8819 },
		.updatetime = false,
		.ab_bootcode_len = 26400,
		.ab_bootsys_len = 78332,
		.default_conf = "[all]\nBOOT_UART=1\nPOWER_OFF_ON_HALT=0\nBOOT_ORDER=0xf461\n"
				"NET_INSTALL_AT_POWER_ON=1\n",
	},
};

struct writer {
	unsigned char *d;
	size_t size;
	size_t off;
	uint32_t rng;
};

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

static void filler(struct writer *w, unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		w->rng = w->rng * 1103515245u + 12345u;
		p[i] = (unsigned char)(w->rng >> 16);
	}
}

static void put_header(struct writer *w, uint32_t magic, size_t len)
{
	pv_eeprom_put_be32(w->d + w->off, magic);
	pv_eeprom_put_be32(w->d + w->off + 4, (uint32_t)len);
}

static void put_code(struct writer *w, uint32_t magic, size_t len, const char *strings,
		     size_t strings_len)
{
	put_header(w, magic, len);
	filler(w, w->d + w->off + 8, len);
	if (strings)
		memcpy(w->d + w->off + 8 + 64, strings, strings_len);
	w->off = align_up(w->off + 8 + len, 8);
}

static void put_pad_to(struct writer *w, size_t target)
{
	if (target >= w->off + 8) {
		put_header(w, PV_EEPROM_MAGIC_PAD, target - w->off - 8);
		w->off = target;
	}
}

static void put_file(struct writer *w, const char *name, const void *content, size_t len)
{
	put_header(w, PV_EEPROM_MAGIC_FILE, len + 16);
	memset(w->d + w->off + 8, 0, 16);
	memcpy(w->d + w->off + 8, name, strlen(name));
	if (content)
		memcpy(w->d + w->off + 24, content, len);
	else
		memset(w->d + w->off + 24, 0, len);
	w->off = align_up(w->off + 24 + len, 8);
}

/* pubkey.bin, cacert.der, bootconf.sig placeholders, each after a small PAD, then
 * bootconf.txt on the next 4 KiB boundary; returns bootconf.txt's header offset. */
static size_t put_file_area(struct writer *w)
{
	static const struct {
		const char *name;
		size_t len;
	} placeholders[] = {
		{ PV_EEPROM_PUBKEY_BIN, 512 },
		{ PV_EEPROM_CACERT_DER, 2048 },
		{ PV_EEPROM_BOOTCONF_SIG, 1024 },
	};
	size_t hdr;

	for (size_t i = 0; i < PV_ARRAY_SIZE(placeholders); i++) {
		put_pad_to(w, align_up(w->off + 8, 0x100));
		put_file(w, placeholders[i].name, NULL, placeholders[i].len);
	}
	put_pad_to(w, align_up(w->off + 8, PV_EEPROM_ERASE_SIZE));
	hdr = w->off;
	/* Empty for now: the caller writes the config through the engine. */
	put_file(w, PV_EEPROM_BOOTCONF_TXT, NULL, 0);
	return hdr;
}

static const unsigned char updatetime_default[8] = { 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };

static void put_payloads(struct writer *w, const struct synth_layout *l)
{
	for (size_t i = 0; i < MAX_PAYLOADS && l->payload_lens[i]; i++)
		put_code(w, MAGIC_CODE, l->payload_lens[i], NULL, 0);
}

int pv_eeprom_synthesize(enum pv_soc soc, const struct pv_eeprom_synth_options *opt,
			 struct pv_buf *out)
{
	static const struct pv_eeprom_synth_options defaults = { 0 };
	const struct pv_soc_info *info = pv_soc_info(soc);
	const struct synth_layout *l = NULL;
	struct pv_eeprom_image img = { 0 };
	struct writer w = { 0 };
	char strings[160];
	int strings_len, rc;
	size_t conf_hdr, conf_len;
	const char *conf;

	if (!opt)
		opt = &defaults;
	for (size_t i = 0; info && i < PV_ARRAY_SIZE(layouts); i++)
		if (layouts[i].image_size == info->eeprom_size)
			l = &layouts[i];
	if (!l)
		return pv_fail(PV_ERR_UNSUPPORTED, "eeprom", "no EEPROM image layout for '%s'",
			       info ? info->name : "unknown SoC");
	if (opt->ab && !l->ab_bootcode_len)
		return pv_fail(PV_ERR_UNSUPPORTED, "eeprom", "'%s' has no A/B EEPROM layout",
			       info->name);
	conf = opt->bootconf ? opt->bootconf : l->default_conf;
	conf_len = opt->bootconf ? opt->bootconf_len : strlen(l->default_conf);
	if (opt->bootconf_capacity && (opt->bootconf_capacity < 16 ||
				       opt->bootconf_capacity > PV_EEPROM_MAX_FILE_SIZE))
		return pv_fail(PV_ERR_INVALID, "eeprom",
			       "synthetic bootconf capacity %zu is outside 16..%u",
			       opt->bootconf_capacity, PV_EEPROM_MAX_FILE_SIZE);
	strings_len = snprintf(strings, sizeof(strings),
			       "%cBUILD_TIMESTAMP=%u%cVERSION:%s%cMFG_VER: 1%c", 0,
			       opt->build_timestamp ? opt->build_timestamp : 1700000000u, 0,
			       opt->version ? opt->version : "5e1f7e57", 0, 0);
	if (strings_len < 0 || (size_t)strings_len >= sizeof(strings))
		return pv_fail(PV_ERR_INVALID, "eeprom", "synthetic version string too long");

	w.size = l->image_size;
	w.rng = opt->seed ^ 0x9e3779b9u;
	w.d = malloc(w.size);
	if (!w.d)
		return pv_fail(PV_ERR_NOMEM, "eeprom", "out of memory");
	memset(w.d, 0xff, w.size);

	if (opt->ab) {
		put_code(&w, PV_EEPROM_MAGIC_GENERIC, l->ab_bootcode_len, strings,
			 (size_t)strings_len);
		put_pad_to(&w, align_up(w.off + 8, 0x20));
		put_file(&w, PV_EEPROM_UPDATETIME, updatetime_default, 8);
		put_pad_to(&w, PV_EEPROM_RO_SIZE);
		put_header(&w, PV_EEPROM_MAGIC_FILE, l->ab_bootsys_len + 16);
		memset(w.d + w.off + 8, 0, 16);
		memcpy(w.d + w.off + 8, PV_EEPROM_BOOTSYS, strlen(PV_EEPROM_BOOTSYS));
		filler(&w, w.d + w.off + 24, l->ab_bootsys_len);
		w.off = align_up(w.off + 24 + l->ab_bootsys_len, 8);
		put_pad_to(&w, align_up(w.off + 8, 0x1000));
		put_payloads(&w, l);
		put_file(&w, PV_EEPROM_UPDATETIME, updatetime_default, 8);
	} else {
		put_code(&w, PV_EEPROM_MAGIC_GENERIC, l->bootcode_len, strings,
			 (size_t)strings_len);
		put_pad_to(&w, l->payload_start);
		put_payloads(&w, l);
		if (l->updatetime)
			put_file(&w, PV_EEPROM_UPDATETIME, updatetime_default, 8);
	}
	conf_hdr = put_file_area(&w);
	if (opt->bootconf_capacity) {
		/* A section right after bootconf.txt, as in the 2025 BCM2711 releases whose
		 * config room shrank (rpi-eeprom #732). */
		put_pad_to(&w, align_up(conf_hdr + 24 + opt->bootconf_capacity, 8));
		put_code(&w, MAGIC_CODE, 1024, NULL, 0);
	}
	if (opt->ab) {
		if (w.off > PV_EEPROM_PARTITION_END) {
			rc = pv_fail(PV_ERR_INVALID, "eeprom", "synthetic A/B partition overflow");
			goto out_free;
		}
		put_pad_to(&w, PV_EEPROM_PARTITION_END);
		put_pad_to(&w, w.size - 2 * PV_EEPROM_ERASE_SIZE);
	}

	rc = pv_eeprom_parse(&img, w.d, w.size, "synthetic image");
	if (rc)
		goto out_free;
	rc = pv_eeprom_update_file(&img, PV_EEPROM_BOOTCONF_TXT, conf, conf_len);
	if (rc)
		goto out_release;
	if (out->limit < img.size) {
		rc = pv_fail(PV_ERR_TOO_BIG, "eeprom", "synthetic image does not fit the output "
			     "buffer");
		goto out_release;
	}
	pv_buf_reset(out);
	rc = pv_buf_append(out, img.data, img.size);
	if (rc)
		rc = pv_fail(rc, "eeprom", "out of memory");
out_release:
	pv_eeprom_release(&img);
out_free:
	free(w.d);
	return rc;
}
