/* Board options and the --virtual SPEC syntax: MODEL[,key=value]... */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "msd.h"
#include "piprov/text.h"
#include "vpi_internal.h"
#include "banned.h"

#define SPEC_TEXT_MAX 4096
#define FLASH_MS_MAX 600000u    /* 10 minutes: far beyond any real EEPROM write */
#define USB_MBPS_MAX 10000u
#define REENUMERATE_MS_MAX 60000u /* a minute: far beyond any real board */
#define ARRIVE_MS_MAX 86400000u /* a day */
#define ROM_EXEC_MS_MAX 60000u
/* A window in which a host that sleeps like rpiboot (sleep(1) after the upload, then the
 * return-code read) still finds the ROM, as real boards mostly do (usbboot #36, #75, #130
 * show "Successful read 4 bytes"; PR #49 reports about a quarter of reads getting NO_DEVICE:
 * rom-exec-ms=500 or fault=retcode-lost model that). With 1000 ms every run of upstream's
 * host in the QEMU guest printed "Failed : 0x0" (issue 14). */
#define ROM_EXEC_MS_DEFAULT 3000u

static const char *const fault_names[PV_VPI_FAULT_COUNT] = {
	[PV_VPI_FAULT_NONE] = "none",
	[PV_VPI_FAULT_RETCODE_LOST] = "retcode-lost",
	[PV_VPI_FAULT_CORRUPT_WRITE] = "corrupt-write",
	[PV_VPI_FAULT_WRITE_FAILS] = "write-fails",
	[PV_VPI_FAULT_UNPLUG_UPLOAD] = "unplug-upload",
	[PV_VPI_FAULT_UNPLUG_IMAGE] = "unplug-image",
	[PV_VPI_FAULT_HANG] = "hang",
	[PV_VPI_FAULT_SLOW_FLASH] = "slow-flash",
};

const char *pv_vpi_fault_name(enum pv_vpi_fault fault)
{
	if ((unsigned)fault < PV_VPI_FAULT_COUNT)
		return fault_names[fault];
	return "unknown";
}

static void mac_add(const uint8_t base[6], uint64_t add, uint8_t out[6])
{
	uint64_t value = 0;

	for (int i = 0; i < 6; i++)
		value = value << 8 | base[i];
	value += add;
	for (int i = 5; i >= 0; i--) {
		out[i] = (uint8_t)value;
		value >>= 8;
	}
}

int pv_vpi_options_init(struct pv_vpi_options *opts, const struct pv_board_type *board,
			unsigned index)
{
	const struct vpi_profile *profile;
	const struct pv_soc_info *soc;
	struct pv_vpi_options o;
	uint64_t seed;
	uint32_t low;
	uint8_t base[6];

	if (!board)
		return pv_fail(PV_ERR_INVALID, "vpi", "no board model given");
	profile = vpi_profile_for(board->soc);
	soc = pv_soc_info(board->soc);
	if (!profile || !soc)
		return pv_fail(PV_ERR_UNSUPPORTED, "vpi", "'%s': no virtual boot ROM for this model",
			       board->short_name);
	memset(&o, 0, sizeof(o));
	o.board = board;
	o.soc = soc;
	/* Distinct by construction: an odd step is a bijection modulo 2^32 and 2^24. */
	seed = vpi_mix64(((uint64_t)board->type_code << 32) ^ 0x7670697670ull);
	low = (uint32_t)seed + (uint32_t)index * 0x01000193u;
	if (profile->serial_high)
		o.serial = (uint64_t)profile->serial_high << 32 | low;
	else if (profile->recovery_capable)
		o.serial = (seed & 0xffffffff00000000ull) | low;
	else
		o.serial = low;
	memcpy(base, profile->oui, 3);
	base[3] = (uint8_t)(seed >> 40);
	base[4] = (uint8_t)(seed >> 48);
	base[5] = 0;
	mac_add(base, (uint64_t)index * profile->macs_per_board, o.mac);
	o.boardrev = vpi_default_boardrev(board);
	o.reenumerate_ms = 20;
	o.rom_exec_ms = ROM_EXEC_MS_DEFAULT;
	o.fault = PV_VPI_FAULT_NONE;
	*opts = o;
	return PV_OK;
}

void pv_vpi_spec_release(struct pv_vpi_spec *spec)
{
	if (!spec)
		return;
	free(spec->dump_dir);
	spec->dump_dir = NULL;
	free(spec->extra_metadata);
	spec->extra_metadata = NULL;
	free(spec->emmc_path);
	spec->emmc_path = NULL;
	free(spec->arrive_when);
	spec->arrive_when = NULL;
}

static int spec_error(const char *text, const char *key, const char *value, const char *why)
{
	return pv_fail(PV_ERR_INVALID, "vpi", "--virtual '%s': key '%s': '%s' %s", text, key,
		       value, why);
}

static int parse_bounded(const char *text, const char *key, const char *value, uint32_t min,
			 uint32_t max, unsigned *out)
{
	uint32_t v;

	if (pv_parse_u32(value, 10, &v) || v < min || v > max) {
		char why[80];
		snprintf(why, sizeof(why), "is not a whole number from %u to %u", min, max);
		return spec_error(text, key, value, why);
	}
	*out = v;
	return PV_OK;
}

static int spec_set(struct pv_vpi_spec *s, const char *text, const char *key, const char *value,
		    unsigned *seen)
{
	static const char *const keys[] = { "serial", "mac", "boardrev", "count", "flash-ms",
					    "usb-mbps", "dump", "fault", "reenumerate-ms",
					    "rom-exec-ms", "second-stage", "meta",
					    "arrive-after", "arrive-every", "arrive-when",
					    "emmc", "emmc-size" };
	size_t k;
	int digits;

	for (k = 0; k < PV_ARRAY_SIZE(keys); k++)
		if (strcmp(keys[k], key) == 0)
			break;
	if (k == PV_ARRAY_SIZE(keys))
		return pv_fail(PV_ERR_INVALID, "vpi",
			       "--virtual '%s': unknown key '%s' (known: serial, mac, boardrev, "
			       "count, flash-ms, usb-mbps, dump, fault, reenumerate-ms, "
			       "rom-exec-ms, second-stage, meta, arrive-after, arrive-every, "
			       "arrive-when, emmc, emmc-size)", text, key);
	if (*seen & (1u << k))
		return pv_fail(PV_ERR_INVALID, "vpi", "--virtual '%s': key '%s' given twice", text,
			       key);
	*seen |= 1u << k;
	if (!*value)
		return spec_error(text, key, value, "is empty");

	switch (k) {
	case 0:
		if (pv_serial_parse(value, &s->serial, &digits) || digits != 16)
			return spec_error(text, key, value, "is not 16 hex digits");
		s->has_serial = true;
		return PV_OK;
	case 1:
		if (pv_mac_parse(value, s->mac))
			return spec_error(text, key, value, "is not a MAC address (aa:bb:cc:dd:ee:ff)");
		s->has_mac = true;
		return PV_OK;
	case 2: {
		struct pv_revision rev;
		if (pv_parse_u32(value, 16, &s->boardrev) || pv_revision_decode(s->boardrev, &rev)) {
			pv_clear_error();
			return spec_error(text, key, value,
					  "is not a new-style revision code (hex, e.g. c03115)");
		}
		if (!rev.soc || rev.soc->soc != s->board->soc)
			return spec_error(text, key, value, "is not a revision code of this model's SoC");
		s->has_boardrev = true;
		return PV_OK;
	}
	case 3:
		return parse_bounded(text, key, value, 1, PV_VPI_COUNT_MAX, &s->count);
	case 4:
		return parse_bounded(text, key, value, 0, FLASH_MS_MAX, &s->flash_ms);
	case 5:
		return parse_bounded(text, key, value, 0, USB_MBPS_MAX, &s->usb_mbps);
	case 6:
		s->dump_dir = strdup(value);
		return s->dump_dir ? PV_OK : pv_fail(PV_ERR_NOMEM, "vpi", "out of memory");
	case 7:
		if (pv_parse_u64(value, 0, &s->fault_seed))
			return spec_error(text, key, value, "is not a number (decimal or 0x-hex)");
		s->has_fault = true;
		return PV_OK;
	case 8:
		s->has_reenumerate_ms = true;
		return parse_bounded(text, key, value, 0, REENUMERATE_MS_MAX, &s->reenumerate_ms);
	case 9:
		s->has_rom_exec_ms = true;
		return parse_bounded(text, key, value, 0, ROM_EXEC_MS_MAX, &s->rom_exec_ms);
	case 10: /* second-stage */
		if (strcmp(value, "auto") == 0)
			s->second_stage = PV_VPI_SECOND_STAGE_AUTO;
		else if (strcmp(value, "recovery") == 0)
			s->second_stage = PV_VPI_SECOND_STAGE_RECOVERY;
		else if (strcmp(value, "bootloader") == 0)
			s->second_stage = PV_VPI_SECOND_STAGE_BOOTLOADER;
		else
			return spec_error(text, key, value,
					  "is not one of auto, recovery, bootloader");
		return PV_OK;
	case 11: {
		/* KEY as the host accepts metadata keys; VALUE any printable text the spec can
		 * hold (no ','), as a hostile board would send. */
		const char *colon = strchr(value, ':');
		size_t klen = colon ? (size_t)(colon - value) : 0;

		if (!colon || klen == 0 || klen > 63 || strlen(colon + 1) > 200)
			return spec_error(text, key, value,
					  "is not KEY:VALUE (KEY 1-63 of A-Z 0-9 _, VALUE up to "
					  "200 bytes)");
		for (size_t i = 0; i < klen; i++)
			if (!((value[i] >= 'A' && value[i] <= 'Z') ||
			      (value[i] >= '0' && value[i] <= '9') || value[i] == '_'))
				return spec_error(text, key, value,
						  "has a KEY that is not A-Z 0-9 _");
		s->extra_metadata = strdup(value);
		return s->extra_metadata ? PV_OK : pv_fail(PV_ERR_NOMEM, "vpi", "out of memory");
	}
	case 12:
		return parse_bounded(text, key, value, 0, ARRIVE_MS_MAX, &s->arrive_after_ms);
	case 13:
		return parse_bounded(text, key, value, 0, ARRIVE_MS_MAX, &s->arrive_every_ms);
	case 14: /* arrive-when: bounded by SPEC_TEXT_MAX; only looked at, never opened */
		s->arrive_when = strdup(value);
		return s->arrive_when ? PV_OK : pv_fail(PV_ERR_NOMEM, "vpi", "out of memory");
	case 15: /* emmc=FILE: opened by the board, not here (parsing has no side effects) */
		if (!(s->board->features & PV_BOARD_HAS_EMMC))
			return spec_error(text, key, value,
					  "is for a Compute Module: this model has no eMMC");
		s->emmc_path = strdup(value);
		return s->emmc_path ? PV_OK : pv_fail(PV_ERR_NOMEM, "vpi", "out of memory");
	default: /* emmc-size */
		if (vpi_msd_parse_size(value, &s->emmc_size)) {
			pv_clear_error();
			return spec_error(text, key, value,
					  "is not a medium size (a multiple of 512 bytes from 64K "
					  "to 1T; K, M, G, T allowed)");
		}
		return PV_OK;
	}
}

int pv_vpi_spec_parse(const char *text, struct pv_vpi_spec *spec)
{
	struct pv_vpi_spec s;
	char *copy, *cursor, *item;
	unsigned seen = 0;
	size_t len;
	int rc = PV_OK;

	len = strnlen(text, SPEC_TEXT_MAX + 1);
	if (len > SPEC_TEXT_MAX)
		return pv_fail(PV_ERR_TOO_BIG, "vpi", "--virtual: spec longer than %u characters",
			       SPEC_TEXT_MAX);
	if (!pv_text_is_printable(text, len) || memchr(text, '\n', len) || memchr(text, '\t', len))
		return pv_fail(PV_ERR_INVALID, "vpi", "--virtual: spec has control characters");
	copy = strndup(text, len);
	if (!copy)
		return pv_fail(PV_ERR_NOMEM, "vpi", "out of memory");
	memset(&s, 0, sizeof(s));
	s.count = 1;

	cursor = copy;
	item = strsep(&cursor, ",");
	s.board = pv_board_by_short_name(item);
	if (!*item || !s.board || !vpi_profile_for(s.board->soc)) {
		rc = pv_fail(PV_ERR_INVALID, "vpi",
			     "--virtual '%s': unknown model '%s' (models: pi4, pi400, cm4, pi5, cm5, "
			     "pi3, cm3, ...)", text, item);
		goto out_free_copy;
	}
	while ((item = strsep(&cursor, ",")) != NULL) {
		char *eq = strchr(item, '=');
		if (!eq) {
			rc = pv_fail(PV_ERR_INVALID, "vpi", "--virtual '%s': '%s' is not key=value",
				     text, item);
			goto out_release_spec;
		}
		*eq = '\0';
		rc = spec_set(&s, text, item, eq + 1, &seen);
		if (rc)
			goto out_release_spec;
	}
	if (s.emmc_size && !s.emmc_path) {
		rc = pv_fail(PV_ERR_INVALID, "vpi", "--virtual '%s': emmc-size= needs emmc=FILE",
			     text);
		goto out_release_spec;
	}
	*spec = s;
	goto out_free_copy;

out_release_spec:
	pv_vpi_spec_release(&s);
out_free_copy:
	free(copy);
	return rc;
}

/* The vendor's OUI and three bytes drawn from the serial: boards given only a serial still
 * differ in MAC. The last byte ends in 0, leaving room for the board's further MACs (Wi-Fi,
 * Bluetooth) after it. */
static void mac_for_serial(const struct vpi_profile *profile, uint64_t serial, uint8_t mac[6])
{
	uint64_t mixed = vpi_mix64(serial ^ 0x6d6163ull);

	memcpy(mac, profile->oui, 3);
	mac[3] = (uint8_t)(mixed >> 16);
	mac[4] = (uint8_t)(mixed >> 8);
	mac[5] = (uint8_t)(mixed & 0xf0);
}

int pv_vpi_spec_board_options(const struct pv_vpi_spec *spec, unsigned index,
			      struct pv_vpi_options *opts)
{
	const struct vpi_profile *profile;
	struct pv_vpi_options o;
	int rc;

	if (index >= spec->count)
		return pv_fail(PV_ERR_INVALID, "vpi", "board %u of a spec with count=%u", index,
			       spec->count);
	rc = pv_vpi_options_init(&o, spec->board, spec->first_default + index);
	if (rc)
		return rc;
	profile = vpi_profile_for(spec->board->soc);
	if (spec->has_serial) {
		o.serial = spec->serial + index;
		if (!spec->has_mac)
			mac_for_serial(profile, o.serial, o.mac);
	}
	if (spec->has_mac)
		mac_add(spec->mac, (uint64_t)index * profile->macs_per_board, o.mac);
	if (spec->has_boardrev)
		o.boardrev = spec->boardrev;
	o.flash_ms = spec->flash_ms;
	if (spec->has_reenumerate_ms)
		o.reenumerate_ms = spec->reenumerate_ms;
	if (spec->has_rom_exec_ms)
		o.rom_exec_ms = spec->rom_exec_ms;
	o.second_stage = spec->second_stage;
	o.usb_mbps = spec->usb_mbps;
	o.dump_dir = spec->dump_dir;
	o.extra_metadata = spec->extra_metadata;
	o.arrive_when = spec->arrive_when;
	/* One medium per board: with count > 1 board i has FILE.i. */
	o.emmc_path = spec->emmc_path;
	o.emmc_size = spec->emmc_size;
	o.emmc_numbered = spec->emmc_path && spec->count > 1;
	o.emmc_index = index;
	/* Both at most a day, index below PV_VPI_COUNT_MAX: no overflow in 64 bits. */
	{
		uint64_t arrive = spec->arrive_after_ms + (uint64_t)index * spec->arrive_every_ms;

		o.arrive_after_ms = arrive > UINT32_MAX ? UINT32_MAX : (unsigned)arrive;
	}
	if (spec->has_fault)
		o.fault = (enum pv_vpi_fault)(vpi_mix64(spec->fault_seed ^ vpi_mix64(index + 1u)) %
					      PV_VPI_FAULT_COUNT);
	*opts = o;
	return PV_OK;
}
