/* Fuzz the EEPROM image parser and patcher. The input is placed at 0x10000 (the start of
 * the writable window) of a BCM2711-sized image whose bootcode section covers the first
 * 64 KiB, so fuzzed sections are both parsed and edited. Property checked: whatever an
 * edit accepts still parses, and a failed edit changes nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/eeprom.h"

#define IMAGE_SIZE (512u * 1024u)
#define WINDOW 0x10000u

static void edit_checked(struct pv_eeprom_image *img, int rc, const unsigned char *before)
{
	struct pv_eeprom_image again = { 0 };

	if (rc != 0) {
		if (memcmp(img->data, before, img->size) != 0)
			abort();
		return;
	}
	if (pv_eeprom_parse(&again, img->data, img->size, "fuzz") != 0)
		abort();
	pv_eeprom_release(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char conf[] = "[all]\nBOOT_ORDER=0xf21\n";
	static unsigned char raw[IMAGE_SIZE], before[IMAGE_SIZE];
	struct pv_eeprom_image img = { 0 };
	struct pv_eeprom_info info;
	const unsigned char *content;
	size_t len, cap;

	memset(raw, 0xff, IMAGE_SIZE);
	raw[0] = 0x55, raw[1] = 0xaa, raw[2] = 0xf0, raw[3] = 0x0f;
	raw[4] = 0, raw[5] = 0, raw[6] = 0xff, raw[7] = 0xf8; /* length 0xfff8: up to 64K */
	if (size > IMAGE_SIZE - WINDOW)
		size = IMAGE_SIZE - WINDOW;
	if (size)
		memcpy(raw + WINDOW, data, size);
	if (pv_eeprom_parse(&img, raw, IMAGE_SIZE, "fuzz") == 0) {
		pv_eeprom_get_info(&img, &info);
		if (pv_eeprom_get_file(&img, PV_EEPROM_BOOTCONF_TXT, &content, &len) == 0 &&
		    len > IMAGE_SIZE)
			abort();
		pv_eeprom_file_capacity(&img, PV_EEPROM_BOOTCONF_TXT, &cap);
		memcpy(before, img.data, IMAGE_SIZE);
		edit_checked(&img, pv_eeprom_update_file(&img, PV_EEPROM_BOOTCONF_TXT, conf,
							 sizeof(conf) - 1), before);
		memcpy(before, img.data, IMAGE_SIZE);
		edit_checked(&img, pv_eeprom_update_file(&img, PV_EEPROM_PUBKEY_BIN, before, 264),
			     before);
		memcpy(before, img.data, IMAGE_SIZE);
		edit_checked(&img, pv_eeprom_set_timestamp(&img, 1700000000), before);
		memcpy(before, img.data, IMAGE_SIZE);
		edit_checked(&img, pv_eeprom_update_bootcode(&img, conf, sizeof(conf) - 1), before);
		pv_eeprom_release(&img);
	}
	return 0;
}
