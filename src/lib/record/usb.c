/* A board the USB job served as an inventory record (source usb): what `usb flash|boot
 * --inventory` and the station record. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "piprov/eeprom_config.h"
#include "piprov/record.h"
#include "piprov/text.h"
#include "piprov/usb.h"
#include "banned.h"

/* The 16-digit USB serial when the ROM gave one, else the firmware's USER_SERIAL_NUM
 * (printed %x, so leading zeros may be missing). */
static bool usb_serial(const struct pv_usb_board_result *b, char out[17])
{
	const char *user = pv_usb_metadata_get(&b->metadata, "USER_SERIAL_NUM");
	uint64_t value;
	int digits;

	if (b->serial[0] && pv_serial_parse(b->serial, &value, &digits) == PV_OK) {
		pv_serial_format(value, digits, out);
		return true;
	}
	if (user && strlen(user) <= 16 && pv_parse_u64(user, 16, &value) == PV_OK) {
		pv_serial_format(value, value > 0xffffffffull ? 16 : 8, out);
		return true;
	}
	return false;
}

/* A value the inventory refuses is left out (the board is still recorded) and appended to
 * the warning text. */
static void set_field(struct pv_inventory_record *rec, const char *key, const char *value,
		      char *warning, size_t warning_size)
{
	size_t used;

	if (!value || !*value || pv_inventory_record_set(rec, key, value) == PV_OK)
		return;
	if (!warning || warning_size == 0)
		return;
	used = strlen(warning);
	if (used + 3 < warning_size)
		snprintf(warning + used, warning_size - used, "%s%s", used ? "; " : "",
			 pv_last_error());
	pv_clear_error();
}

int pv_record_from_usb(const struct pv_usb_board_result *board, int64_t now,
		       struct pv_inventory_record *rec, char *warning, size_t warning_size)
{
	const struct pv_usb_metadata *md = &board->metadata;
	struct pv_inventory_record out;
	char serial[17], stamp[24];

	if (warning && warning_size)
		warning[0] = '\0';
	if (board->outcome != PV_USB_PHASE_VERIFIED && board->outcome != PV_USB_PHASE_BOOTED)
		return pv_fail(PV_ERR_INVALID, "record", "%s: the board was not %s", board->port_path,
			       "verified or booted");
	if (!usb_serial(board, serial))
		return pv_fail(PV_ERR_INVALID, "record", "%s: the board reported no usable serial",
			       board->port_path);
	pv_inventory_record_init(&out);
	if (pv_inventory_record_set_serial(&out, serial) != PV_OK) {
		pv_inventory_record_release(&out);
		return pv_fail(PV_ERR_INVALID, "record", "%s: serial '%s' is not valid",
			       board->port_path, serial);
	}
	set_field(&out, "mac", pv_usb_metadata_get(md, "MAC_ADDR"), warning, warning_size);
	set_field(&out, "wifi_mac", pv_usb_metadata_get(md, "MAC_WIFI_ADDR"), warning,
		  warning_size);
	set_field(&out, "bt_mac", pv_usb_metadata_get(md, "MAC_BT_ADDR"), warning, warning_size);
	set_field(&out, "revision", pv_usb_metadata_get(md, "USER_BOARDREV"), warning,
		  warning_size);
	set_field(&out, "uuid", pv_usb_metadata_get(md, "FACTORY_UUID"), warning, warning_size);
	if (board->outcome == PV_USB_PHASE_VERIFIED) {
		set_field(&out, "eeprom_hash", pv_usb_metadata_get(md, "EEPROM_HASH"), warning,
			  warning_size);
		snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
		set_field(&out, "flashed_at", stamp, warning, warning_size);
	}
	*rec = out;
	return PV_OK;
}

/* Append a message to warning ("; "-separated), as set_field does for its own. */
static void add_warning(char *warning, size_t warning_size, const char *message)
{
	size_t used;

	if (!warning || warning_size == 0)
		return;
	used = strlen(warning);
	if (used + 3 < warning_size)
		snprintf(warning + used, warning_size - used, "%s%s", used ? "; " : "", message);
}

void pv_record_set_flashed_config(struct pv_inventory_record *rec, const char *bootconf,
				  size_t len, const char *sha256_hex, char *warning,
				  size_t warning_size)
{
	struct pv_eeprom_conf *conf = NULL;
	const char *prefix, *prefix_str;
	uint32_t order;
	char text[64];

	if (!bootconf || len == 0)
		return;
	if (pv_eeprom_conf_parse(bootconf, len, "bootconf.txt", &conf) != PV_OK) {
		add_warning(warning, warning_size, pv_last_error());
		pv_clear_error();
		return;
	}
	if (pv_eeprom_conf_boot_order(conf, &order) == PV_OK) {
		snprintf(text, sizeof(text), "0x%x", order);
		set_field(rec, "boot_order", text, warning, warning_size);
	} else {
		add_warning(warning, warning_size, pv_last_error());
		pv_clear_error();
	}
	/* The bootloader reads TFTP_PREFIX as a number: 0 serial (also when left out),
	 * 1 TFTP_PREFIX_STR, 2 the MAC (docs/eeprom-format.md in ../shared). */
	prefix = pv_eeprom_conf_get(conf, "TFTP_PREFIX");
	if (!prefix || !*prefix) {
		set_field(rec, "tftp_prefix", "serial", warning, warning_size);
	} else if (strcmp(prefix, "0") == 0 || strcmp(prefix, "2") == 0) {
		set_field(rec, "tftp_prefix", prefix, warning, warning_size);
	} else if (strcmp(prefix, "1") == 0) {
		prefix_str = pv_eeprom_conf_get(conf, "TFTP_PREFIX_STR");
		if (!prefix_str || !*prefix_str)
			add_warning(warning, warning_size,
				    "TFTP_PREFIX=1 without TFTP_PREFIX_STR: prefix not recorded");
		else if (pv_inventory_record_set(rec, "tftp_prefix_str", prefix_str) != PV_OK) {
			add_warning(warning, warning_size, pv_last_error());
			pv_clear_error();
		} else {
			set_field(rec, "tftp_prefix", "string", warning, warning_size);
		}
	} else {
		snprintf(text, sizeof(text), "TFTP_PREFIX=%.8s is not 0, 1 or 2", prefix);
		add_warning(warning, warning_size, text);
	}
	if (sha256_hex)
		set_field(rec, "config_hash", sha256_hex, warning, warning_size);
	pv_eeprom_conf_free(conf);
}
