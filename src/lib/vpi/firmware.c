/* The second-stage firmware behind the file-server requests: the recovery program's flow
 * (config.txt, vl805, pieeprom.sig, pieeprom.upd/.bin, check, write, metadata, Done), a
 * bootloader fetching its boot files, and the scripted (hostile) mode. Request order and
 * metadata formats: ../shared/docs/usbboot-protocol.md §3-§4 and the format strings of the
 * recovery.bin files in ../shared/fixtures/recovery. All functions run with the board lock
 * held. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "internal.h"
#include "piprov/text.h"
#include "vpi_internal.h"
#include "banned.h"

#define CONFIG_MAX (64u * 1024u)
#define SIG_MAX 4096u
#define VL805_MAX (256u * 1024u)
/* slow-flash fault: the write takes this much longer (at least SLOW_FLASH_MIN_MS). */
#define SLOW_FLASH_FACTOR 20u
#define SLOW_FLASH_MIN_MS 2000u

/* The recovery program's steps; a "size" step asks GetFileSize, a "read" step ReadFile.
 * Where the order comes from (and what is a guess): src/lib/vpi/profile.c, top comment. */
enum recovery_pc {
	R_CONFIG, R_CONFIG_READ,
	R_VL805_SIG, R_VL805_SIG_READ, R_VL805_BIN, R_VL805_BIN_READ,
	R_SIG, R_SIG_READ,
	R_UPD, R_UPD_READ,
	R_BIN, R_BIN_READ,
	R_FLASH, R_FLASHED, R_METADATA, R_DONE,
};

struct recovery_step {
	const char *name;
	enum vpi_slot slot;
	bool read;
	enum recovery_pc if_found;   /* size > 0, or the read completed */
	enum recovery_pc if_missing;
};

static const struct recovery_step recovery_steps[] = {
	[R_CONFIG] = { "config.txt", VPI_SLOT_CONFIG, false, R_CONFIG_READ, R_VL805_SIG },
	[R_CONFIG_READ] = { "config.txt", VPI_SLOT_CONFIG, true, R_VL805_SIG, R_VL805_SIG },
	[R_VL805_SIG] = { "vl805.sig", VPI_SLOT_VL805_SIG, false, R_VL805_SIG_READ, R_SIG },
	[R_VL805_SIG_READ] = { "vl805.sig", VPI_SLOT_VL805_SIG, true, R_VL805_BIN, R_SIG },
	[R_VL805_BIN] = { "vl805.bin", VPI_SLOT_VL805, false, R_VL805_BIN_READ, R_SIG },
	[R_VL805_BIN_READ] = { "vl805.bin", VPI_SLOT_VL805, true, R_SIG, R_SIG },
	[R_SIG] = { "pieeprom.sig", VPI_SLOT_SIG, false, R_SIG_READ, R_UPD },
	[R_SIG_READ] = { "pieeprom.sig", VPI_SLOT_SIG, true, R_UPD, R_UPD },
	[R_UPD] = { "pieeprom.upd", VPI_SLOT_IMAGE, false, R_UPD_READ, R_BIN },
	[R_UPD_READ] = { "pieeprom.upd", VPI_SLOT_IMAGE, true, R_FLASH, R_BIN },
	[R_BIN] = { "pieeprom.bin", VPI_SLOT_IMAGE, false, R_BIN_READ, R_FLASH },
	[R_BIN_READ] = { "pieeprom.bin", VPI_SLOT_IMAGE, true, R_FLASH, R_FLASH },
};

static size_t slot_limit(const struct pv_vpi_board *b, enum vpi_slot slot)
{
	switch (slot) {
	case VPI_SLOT_CONFIG: return CONFIG_MAX;
	case VPI_SLOT_SIG: return SIG_MAX;
	case VPI_SLOT_VL805_SIG: return SIG_MAX;
	case VPI_SLOT_VL805: return VL805_MAX;
	case VPI_SLOT_IMAGE: return b->eeprom_size;
	default: return 0;
	}
}

/* Printable form of a request name for the transcript: bytes outside 0x20..0x7e, '"' and
 * '\\' as \xNN. */
static void escape_name(const uint8_t *name, size_t len, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < size; i++) {
		uint8_t c = name[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
	}
	out[o] = '\0';
}

static const char *command_name(int32_t command, char *buf, size_t size)
{
	switch (command) {
	case PV_VPI_GET_FILE_SIZE: return "GetFileSize";
	case PV_VPI_READ_FILE: return "ReadFile";
	case PV_VPI_DONE: return "Done";
	default:
		snprintf(buf, size, "command=%d", command);
		return buf;
	}
}

static void set_message(struct pv_vpi_board *b, int32_t command, const uint8_t *name,
			size_t name_len, size_t message_len)
{
	uint32_t c = (uint32_t)command;
	size_t nul;

	memset(b->message, 0, sizeof(b->message));
	b->message[0] = (uint8_t)c;
	b->message[1] = (uint8_t)(c >> 8);
	b->message[2] = (uint8_t)(c >> 16);
	b->message[3] = (uint8_t)(c >> 24);
	if (name_len > PV_VPI_REQUEST_NAME_LEN)
		name_len = PV_VPI_REQUEST_NAME_LEN;
	memcpy(b->message + 4, name, name_len);
	b->message_len = message_len ? (message_len < PV_VPI_REQUEST_LEN ? message_len
									: PV_VPI_REQUEST_LEN)
				     : PV_VPI_REQUEST_LEN;
	b->message_command = command;
	nul = strnlen((const char *)b->message + 4, PV_VPI_REQUEST_NAME_LEN);
	escape_name(b->message + 4, nul, b->message_name, sizeof(b->message_name));
	b->message_is_metadata = !b->script && command != PV_VPI_DONE && name_len &&
				 name[0] == '*';
	b->fw = VPI_FW_READY;
	b->result.requests++;
}

static void request(struct pv_vpi_board *b, int32_t command, const char *name)
{
	set_message(b, command, (const uint8_t *)name, strlen(name), 0);
}

void vpi_fw_start(struct pv_vpi_board *b)
{
	b->fw = VPI_FW_NEXT;
	b->pc = 0;
	b->meta_index = 0;
	b->extra_sent = false;
	b->meta_enabled = true;
	b->reboot_after = false;
	b->erase_requested = false;
	b->program_pubkey = false;
	b->image_is_upd = false;
	b->sub = 0;
	b->boot_ramdisk = false;
	b->boot_found = false;
	b->boot_started = false;
	b->boot_ran = NULL;
	for (size_t i = 0; i < VPI_SLOT_COUNT; i++) {
		pv_buf_reset(&b->files[i]);
		b->file_ok[i] = false;
	}
}

/* --- recovery --------------------------------------------------------------------------- */

/* The keys of the recovery config.txt the model acts on; sections and other keys are
 * ignored, like the firmware ignores what it does not know. The cursor moves to the start of
 * the next line before the line is looked at, so every pass advances whatever the line holds
 * (no final newline, trailing blanks, NUL bytes, over-long lines): issue 15 found a loop
 * that stopped advancing on a last line ending in a blank. */
void vpi_recovery_config_parse(const char *text, size_t len, struct vpi_recovery_config *out)
{
	size_t pos = 0;

	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - line) : len - pos;
		char buf[128];
		char *eq;

		pos += line_len + (nl ? 1 : 0);
		while (line_len && isspace((unsigned char)line[line_len - 1]))
			line_len--;
		if (line_len == 0 || line_len >= sizeof(buf) || line[0] == '#' ||
		    memchr(line, '\0', line_len))
			continue;
		memcpy(buf, line, line_len);
		buf[line_len] = '\0';
		eq = strchr(buf, '=');
		if (!eq)
			continue;
		*eq = '\0';
		if (strcmp(buf, "recovery_metadata") == 0)
			out->metadata = strcmp(eq + 1, "0") != 0;
		else if (strcmp(buf, "recovery_reboot") == 0)
			out->reboot = strcmp(eq + 1, "1") == 0;
		else if (strcmp(buf, "erase_eeprom") == 0)
			out->erase_eeprom = strcmp(eq + 1, "1") == 0;
		else if (strcmp(buf, "program_pubkey") == 0)
			out->program_pubkey = strcmp(eq + 1, "1") == 0;
		else if (strcmp(buf, "boot_ramdisk") == 0)
			out->boot_ramdisk = strcmp(eq + 1, "1") == 0;
	}
}

static void parse_recovery_config(struct pv_vpi_board *b)
{
	const struct pv_buf *file = &b->files[VPI_SLOT_CONFIG];
	struct vpi_recovery_config config = {
		.metadata = b->meta_enabled,
		.reboot = b->reboot_after,
		.erase_eeprom = b->erase_requested,
		.program_pubkey = b->program_pubkey,
	};

	vpi_recovery_config_parse((const char *)file->data, file->data ? file->len : 0, &config);
	b->meta_enabled = config.metadata;
	b->reboot_after = config.reboot;
	b->erase_requested = config.erase_eeprom;
	b->program_pubkey = config.program_pubkey;
}

static void sha256_hex(const uint8_t *data, size_t len, char hex[65])
{
	uint8_t md[32];
	unsigned int md_len = 0;

	EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL);
	pv_hex_encode(md, sizeof(md), hex);
}

/* pieeprom.sig: "<64 hex digits>\n" then "ts: N" and optionally "rsa2048: ..." lines. */
static bool signature_matches(const struct pv_buf *sig, const char image_hex[65])
{
	const char *text = pv_buf_str(sig);

	if (sig->len < 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (tolower((unsigned char)text[i]) != image_hex[i])
			return false;
	return sig->len == 64 || text[64] == '\n' || text[64] == '\r' || text[64] == ' ';
}

static void set_update(struct pv_vpi_board *b, const char *value)
{
	pv_strlcpy(b->result.eeprom_update, value, sizeof(b->result.eeprom_update));
}

/* Check the image, then start the write; the firmware is busy for flash_ms. */
static void recovery_flash(struct pv_vpi_board *b, uint64_t now)
{
	const struct pv_buf *image = &b->files[VPI_SLOT_IMAGE];
	const char *name = b->image_is_upd ? "pieeprom.upd" : "pieeprom.bin";
	uint64_t flash_ms = b->opts.flash_ms;
	char hex[65];

	b->pc = R_FLASHED;
	b->fw = VPI_FW_NEXT;
	if (b->erase_requested) {
		memset(b->eeprom, 0xff, b->eeprom_size);
		b->result.eeprom_written = true;
		set_update(b, "success");
		vpi_note(b, "erase eeprom %zu bytes", b->eeprom_size);
		goto out_busy;
	}
	if (!b->file_ok[VPI_SLOT_IMAGE]) {
		/* rpi-eeprom #735: recovery.bin reports success without pieeprom.bin. */
		set_update(b, "success");
		vpi_note(b, "no EEPROM files: nothing written");
		return;
	}
	b->result.image_received = true;
	sha256_hex(image->data, image->len, hex);
	if (!b->file_ok[VPI_SLOT_SIG] || !signature_matches(&b->files[VPI_SLOT_SIG], hex)) {
		set_update(b, "failed");
		vpi_note(b, "check \"%s\" sha256=%s -> %s", name, hex,
			 b->file_ok[VPI_SLOT_SIG] ? "hash mismatch" : "no pieeprom.sig");
		return;
	}
	b->result.signature_ok = true;
	if (image->len != b->eeprom_size) {
		set_update(b, "failed");
		vpi_note(b, "check \"%s\" %zu bytes -> not the EEPROM size %zu", name, image->len,
			 b->eeprom_size);
		return;
	}
	if (memcmp(image->data, b->eeprom, b->eeprom_size) == 0) {
		set_update(b, "success");
		vpi_note(b, "check \"%s\" sha256=%s -> up to date", name, hex);
		return;
	}
	memcpy(b->eeprom, image->data, b->eeprom_size);
	b->result.eeprom_written = true;
	set_update(b, "success");
	switch (b->fault) {
	case PV_VPI_FAULT_CORRUPT_WRITE: {
		size_t bit = (size_t)(b->fault_random % ((uint64_t)b->eeprom_size * 8u));
		b->eeprom[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		vpi_note(b, "fault corrupt-write: bit %zu flipped", bit);
		break;
	}
	case PV_VPI_FAULT_WRITE_FAILS:
		memset(b->eeprom + b->eeprom_size / 2, 0xff, b->eeprom_size - b->eeprom_size / 2);
		set_update(b, "failed");
		vpi_note(b, "fault write-fails: second half not written");
		break;
	case PV_VPI_FAULT_SLOW_FLASH:
		flash_ms *= SLOW_FLASH_FACTOR;
		if (flash_ms < SLOW_FLASH_MIN_MS)
			flash_ms = SLOW_FLASH_MIN_MS;
		break;
	default:
		break;
	}
	vpi_note(b, "flash \"%s\" %zu bytes sha256=%s in %llu ms", name, image->len, hex,
		 (unsigned long long)flash_ms);
out_busy:
	b->fw = VPI_FW_BUSY;
	b->busy_until_ms = now + flash_ms;
}

static void c40_triplet(const char *digits, uint16_t *half)
{
	int v[3];

	for (int i = 0; i < 3; i++)
		v[i] = 4 + (digits[i] - '0'); /* C40: '0'..'9' are 4..13 */
	*half = (uint16_t)(1600 * v[0] + 40 * v[1] + v[2] + 1);
}

/* FACTORY_UUID: 18 decimal digits derived from the serial, sent as three '_'-separated hex
 * words of two C40-coded halves each (low half first), as rpiboot's decode_duid expects. */
static void factory_uuid(const struct pv_vpi_board *b, char *out, size_t size)
{
	char digits[19];
	uint16_t half[6];

	snprintf(digits, sizeof(digits), "0010009%011llu",
		 (unsigned long long)((b->opts.serial & 0xffffffffu) % 100000000000ull));
	for (int i = 0; i < 6; i++)
		c40_triplet(digits + 3 * i, &half[i]);
	snprintf(out, size, "%x_%x_%x", (unsigned)half[0] | (unsigned)half[1] << 16,
		 (unsigned)half[2] | (unsigned)half[3] << 16,
		 (unsigned)half[4] | (unsigned)half[5] << 16);
}

static void mac_plus(const uint8_t mac[6], unsigned add, char out[PV_MAC_STRLEN])
{
	uint8_t m[6];
	uint64_t v = 0;

	for (int i = 0; i < 6; i++)
		v = v << 8 | mac[i];
	v += add;
	for (int i = 5; i >= 0; i--) {
		m[i] = (uint8_t)v;
		v >>= 8;
	}
	pv_mac_format(m, ':', out);
}

/* Format one metadata request as the firmware does; false when the key is not sent. */
static bool metadata_text(struct pv_vpi_board *b, enum vpi_meta_key key, char *out, size_t size)
{
	char value[96];
	const char *name;

	switch (key) {
	case VPI_META_USER_SERIAL_NUM:
		name = "USER_SERIAL_NUM";
		snprintf(value, sizeof(value), "%x", (unsigned)(b->opts.serial & 0xffffffffu));
		break;
	case VPI_META_MAC_ADDR:
		name = "MAC_ADDR";
		mac_plus(b->opts.mac, 0, value);
		break;
	case VPI_META_EEPROM_UPDATE:
		name = b->erase_requested ? "EEPROM_ERASE" : "EEPROM_UPDATE";
		pv_strlcpy(value, b->result.eeprom_update, sizeof(value));
		break;
	case VPI_META_EEPROM_HASH:
		/* Agreed definition: sha256 of the EEPROM contents read back after writing. */
		name = "EEPROM_HASH";
		sha256_hex(b->eeprom, b->eeprom_size, value);
		pv_strlcpy(b->result.eeprom_hash, value, sizeof(b->result.eeprom_hash));
		break;
	case VPI_META_SECURE_BOOT_PROVISION:
		if (!b->program_pubkey)
			return false;
		name = "SECURE_BOOT_PROVISION";
		pv_strlcpy(value, "success", sizeof(value));
		break;
	case VPI_META_CUSTOMER_KEY_HASH:
		name = "CUSTOMER_KEY_HASH"; /* no key in OTP: 32 zero bytes */
		memset(value, '0', 64);
		value[64] = '\0';
		break;
	case VPI_META_BOOT_ROM:
		name = "BOOT_ROM";
		snprintf(value, sizeof(value), "%08x", b->profile->boot_rom);
		break;
	case VPI_META_BOARD_ATTR:
		name = "BOARD_ATTR";
		snprintf(value, sizeof(value), "%08x", 0u);
		break;
	case VPI_META_USER_BOARDREV:
		name = "USER_BOARDREV";
		snprintf(value, sizeof(value), "%x", b->opts.boardrev);
		break;
	case VPI_META_JTAG_LOCKED:
		name = "JTAG_LOCKED";
		snprintf(value, sizeof(value), "%d", 0);
		break;
	case VPI_META_SIGNATURE_MODE:
		name = "SIGNATURE_MODE";
		snprintf(value, sizeof(value), "%d", 0);
		break;
	case VPI_META_MAC_WIFI_ADDR:
		name = "MAC_WIFI_ADDR";
		mac_plus(b->opts.mac, 1, value);
		break;
	case VPI_META_MAC_BT_ADDR:
		name = "MAC_BT_ADDR";
		mac_plus(b->opts.mac, 2, value);
		break;
	case VPI_META_FACTORY_UUID:
		name = "FACTORY_UUID";
		factory_uuid(b, value, sizeof(value));
		break;
	case VPI_META_ADVANCED_BOOT:
		name = "ADVANCED_BOOT";
		snprintf(value, sizeof(value), "%08x", b->profile->advanced_boot);
		break;
	default:
		return false;
	}
	snprintf(out, size, "*%s*%s", name, value);
	return true;
}

static void recovery_step(struct pv_vpi_board *b, uint64_t now)
{
	for (;;) {
		if (b->pc <= R_BIN_READ) {
			const struct recovery_step *s = &recovery_steps[b->pc];
			if (b->pc == R_VL805_SIG && !b->profile->requests_vl805) {
				b->pc = R_SIG;
				continue;
			}
			request(b, s->read ? PV_VPI_READ_FILE : PV_VPI_GET_FILE_SIZE, s->name);
			return;
		}
		if (b->pc == R_FLASH) {
			recovery_flash(b, now);
			if (b->fw == VPI_FW_BUSY)
				return;
			continue;
		}
		if (b->pc == R_FLASHED) {
			b->pc = R_METADATA;
			continue;
		}
		if (b->pc == R_METADATA) {
			char text[PV_VPI_REQUEST_NAME_LEN];
			if (b->meta_enabled && b->meta_index >= b->profile->metadata_len &&
			    b->extra_metadata && !b->extra_sent) {
				/* meta=KEY:VALUE, verbatim (a hostile board's value) */
				const char *colon = strchr(b->extra_metadata, ':');

				b->extra_sent = true;
				snprintf(text, sizeof(text), "*%.*s*%s",
					 (int)(colon - b->extra_metadata), b->extra_metadata,
					 colon + 1);
				request(b, PV_VPI_GET_FILE_SIZE, text);
				return;
			}
			if (!b->meta_enabled || b->meta_index >= b->profile->metadata_len) {
				b->pc = R_DONE;
				continue;
			}
			if (!metadata_text(b, b->profile->metadata[b->meta_index++], text,
					   sizeof(text)))
				continue;
			request(b, PV_VPI_GET_FILE_SIZE, text);
			return;
		}
		request(b, PV_VPI_DONE, "");
		return;
	}
}

/* --- bootloader and script ------------------------------------------------------------ */

/* The ordinary bootloader: b->pc is the step (profile boot_steps), b->sub the phase in it:
 * 0 size of the file, 1 read it, 2 size of the fixup, 3 read it. */
static void bootloader_step(struct pv_vpi_board *b)
{
	for (;;) {
		const struct vpi_boot_step *s;

		if (b->pc >= b->profile->boot_steps_len) {
			request(b, PV_VPI_DONE, "");
			return;
		}
		s = &b->profile->boot_steps[b->pc];
		if (s->kind == VPI_BOOT_RAMDISK && !b->boot_ramdisk) {
			b->pc++;
			continue;
		}
		switch (b->sub) {
		case 0: request(b, PV_VPI_GET_FILE_SIZE, s->name); return;
		case 1: request(b, PV_VPI_READ_FILE, s->name); return;
		case 2: request(b, PV_VPI_GET_FILE_SIZE, s->fixup); return;
		default: request(b, PV_VPI_READ_FILE, s->fixup); return;
		}
	}
}

static void bootloader_next(struct pv_vpi_board *b)
{
	b->pc++;
	b->sub = 0;
	b->boot_found = false;
}

/* Something to run was found and read: the bootloader hands over (Done, then leaves). */
static void bootloader_run(struct pv_vpi_board *b)
{
	b->boot_ran = b->profile->boot_steps[b->pc].name; /* msd.c: which gadget it becomes */
	b->pc = (unsigned)b->profile->boot_steps_len;
	b->sub = 0;
	b->boot_started = true;
}

static void bootloader_done(struct pv_vpi_board *b, bool found)
{
	const struct vpi_boot_step *s = &b->profile->boot_steps[b->pc];

	switch (b->sub) {
	case 0:
		b->boot_found = found;
		if (found)
			b->sub = 1;
		else if (s->kind == VPI_BOOT_FIRMWARE && s->fixup)
			b->sub = 2; /* the fixup is asked for even without its .elf (#214, #315) */
		else
			bootloader_next(b);
		return;
	case 1:
		if (s->kind == VPI_BOOT_FILE && strcmp(s->name, "config.txt") == 0 && found) {
			const struct pv_buf *cfg = &b->files[VPI_SLOT_CONFIG];
			struct vpi_recovery_config c = { .boot_ramdisk = false };

			vpi_recovery_config_parse((const char *)cfg->data, cfg->data ? cfg->len : 0,
						  &c);
			b->boot_ramdisk = c.boot_ramdisk;
		}
		if (s->kind == VPI_BOOT_FILE)
			bootloader_next(b);
		else if (s->kind == VPI_BOOT_FIRMWARE && s->fixup)
			b->sub = 2;
		else if (found)
			bootloader_run(b);
		else
			bootloader_next(b);
		return;
	case 2:
		if (found)
			b->sub = 3;
		else if (b->boot_found)
			bootloader_run(b);
		else
			bootloader_next(b);
		return;
	default:
		if (b->boot_found)
			bootloader_run(b);
		else
			bootloader_next(b);
		return;
	}
}

static void script_step(struct pv_vpi_board *b)
{
	const struct pv_vpi_request *r;

	if (b->pc >= b->opts.script_len) {
		request(b, PV_VPI_DONE, "");
		return;
	}
	r = &b->script[b->pc];
	set_message(b, r->command, r->name, r->name_len, r->message_len);
}

bool vpi_fw_prepare(struct pv_vpi_board *b, uint64_t now)
{
	if (b->fw == VPI_FW_BUSY) {
		if (now < b->busy_until_ms)
			return false;
		b->fw = VPI_FW_NEXT;
	}
	if (b->fw != VPI_FW_NEXT)
		return b->fw == VPI_FW_READY;
	if (b->script)
		script_step(b);
	else if (b->program_recovery)
		recovery_step(b, now);
	else
		bootloader_step(b);
	return b->fw == VPI_FW_READY;
}

/* --- answers ---------------------------------------------------------------------------- */

static enum vpi_slot current_slot(const struct pv_vpi_board *b)
{
	if (!b->script && !b->program_recovery && b->pc < b->profile->boot_steps_len &&
	    b->sub == 1 && strcmp(b->profile->boot_steps[b->pc].name, "config.txt") == 0)
		return VPI_SLOT_CONFIG; /* the bootloader reads boot_ramdisk from it */
	if (b->script || !b->program_recovery || b->pc > R_BIN_READ)
		return VPI_SLOT_DISCARD;
	return recovery_steps[b->pc].slot;
}

static void step_done(struct pv_vpi_board *b, bool found)
{
	if (b->script) {
		b->pc++;
	} else if (b->program_recovery && b->pc <= R_BIN_READ) {
		const struct recovery_step *s = &recovery_steps[b->pc];
		if (b->pc == R_CONFIG_READ && found)
			parse_recovery_config(b);
		if (b->pc == R_UPD_READ && found)
			b->image_is_upd = true;
		if ((b->pc == R_UPD_READ || b->pc == R_BIN_READ) && !found)
			b->file_ok[VPI_SLOT_IMAGE] = false;
		if (b->pc == R_UPD_READ && found)
			b->reboot_after = true; /* .upd: flash, rename, reboot (docs PR #1690) */
		b->pc = found ? s->if_found : s->if_missing;
		if (b->pc == R_VL805_SIG && b->fault == PV_VPI_FAULT_HANG) {
			vpi_note(b, "fault hang: the firmware stops answering");
			b->fw = VPI_FW_HUNG;
			return;
		}
	} else {
		bootloader_done(b, found);
	}
	b->fw = VPI_FW_NEXT;
}

int vpi_fw_answer(struct pv_vpi_board *b, uint32_t length, uint64_t now)
{
	char cmd[24];
	const char *cname = command_name(b->message_command, cmd, sizeof(cmd));

	(void)now;
	if (b->fw != VPI_FW_AWAIT_ANSWER)
		return pv_fail(PV_ERR_PIPE, "vpi", "'%s': stall: no request waits for an answer",
			       b->serial16);
	if (b->script && b->pc < b->opts.script_len)
		b->script_answers[b->pc].size = length;
	if (b->message_is_metadata) {
		if (length)
			vpi_note(b, "request metadata \"%s\" -> answered %u", b->message_name, length);
		else
			vpi_note(b, "request metadata \"%s\" -> ack", b->message_name);
		b->result.metadata_sent++;
		b->fw = VPI_FW_NEXT;
		return PV_OK;
	}
	if (b->message_command == PV_VPI_READ_FILE && length > 0) {
		enum vpi_slot slot = current_slot(b);
		b->data_slot = slot;
		b->data_remaining = length;
		b->data_received = 0;
		b->data_too_big = slot != VPI_SLOT_DISCARD && length > slot_limit(b, slot);
		if (slot != VPI_SLOT_DISCARD)
			pv_buf_reset(&b->files[slot]);
		EVP_DigestInit_ex(b->data_hash, EVP_sha256(), NULL);
		b->fw = VPI_FW_AWAIT_DATA;
		return PV_OK;
	}
	if (b->message_command == PV_VPI_READ_FILE) {
		vpi_note(b, "request ReadFile \"%s\" -> not found", b->message_name);
		if (b->script)
			b->result.files_refused++;
		step_done(b, false);
		return PV_OK;
	}
	vpi_note(b, "request %s \"%s\" -> size %u", cname, b->message_name, length);
	if (b->script && length == 0)
		b->result.files_refused++;
	if (!b->script && b->message_command == PV_VPI_GET_FILE_SIZE)
		b->last_size = length;
	step_done(b, length > 0);
	return PV_OK;
}

void vpi_fw_receive(struct pv_vpi_board *b, const uint8_t *data, size_t len, size_t *actual,
		    uint64_t now)
{
	size_t take = len;

	if (take > b->data_remaining)
		take = (size_t)b->data_remaining;
	if (b->fault == PV_VPI_FAULT_UNPLUG_IMAGE && b->data_slot == VPI_SLOT_IMAGE &&
	    b->data_received + take >= (b->data_received + b->data_remaining) / 2) {
		vpi_note(b, "fault unplug while reading \"%s\"", b->message_name);
		b->unplugged = true;
		vpi_detach(b, false, now);
		*actual = 0;
		return;
	}
	EVP_DigestUpdate(b->data_hash, data, take);
	if (b->data_slot != VPI_SLOT_DISCARD && !b->data_too_big)
		pv_buf_append(&b->files[b->data_slot], data, take);
	b->data_received += take;
	b->data_remaining -= take;
	*actual = take;
	if (b->data_remaining == 0)
		vpi_fw_data_done(b, now);
}

void vpi_fw_data_done(struct pv_vpi_board *b, uint64_t now)
{
	uint8_t md[32];
	unsigned int md_len = 0;
	char hex[65];

	(void)now;
	EVP_DigestFinal_ex(b->data_hash, md, &md_len);
	pv_hex_encode(md, sizeof(md), hex);
	vpi_note(b, "request ReadFile \"%s\" -> %llu bytes sha256=%s%s", b->message_name,
		 (unsigned long long)b->data_received, hex,
		 b->data_too_big ? " (too big: ignored)" : "");
	if (b->script && b->pc < b->opts.script_len)
		b->script_answers[b->pc].bytes = b->data_received;
	if (b->data_slot != VPI_SLOT_DISCARD)
		b->file_ok[b->data_slot] = !b->data_too_big;
	step_done(b, !b->data_too_big);
}

void vpi_fw_unanswered(struct pv_vpi_board *b)
{
	if (b->script) {
		vpi_note(b, "request %s unanswered", b->message_name);
		if (b->pc < b->opts.script_len && b->fw == VPI_FW_AWAIT_DATA)
			b->script_answers[b->pc].bytes = b->data_received;
		b->pc++;
		b->fw = VPI_FW_NEXT;
		return;
	}
	/* The host lost the request (or gave up on a transfer): ask again. */
	vpi_note(b, "request \"%s\" sent again", b->message_name);
	b->fw = VPI_FW_READY;
	b->result.requests++;
}

int pv_vpi_placeholder_recovery(struct pv_buf *out)
{
	/* The virtual Pi knows these exact bytes as the recovery program (board.c
	 * identify_program); the text tells a human what the file is. */
	return pv_buf_append_str(out,
		"PIPROV PLACEHOLDER RECOVERY PROGRAM\n"
		"This is not Raspberry Pi firmware and does nothing on a real board. The piprov\n"
		"virtual Pi accepts it in place of recovery.bin (which it never executes) and then\n"
		"runs its model of the recovery flow: config.txt vl805.sig vl805.bin pieeprom.sig\n"
		"pieeprom.upd pieeprom.bin. Install the rpi-eeprom / rpiboot firmware to flash real\n"
		"boards.\n");
}
