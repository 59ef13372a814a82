/* A board the USB job served as an inventory record (source usb): what `usb flash|boot
 * --inventory` and the station record. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
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
