/* Fuzz the EEPROM image parser and patcher. The input is placed at 0x10000 (the start of
 * the writable window) of a BCM2711-sized image whose bootcode section covers the first
 * 64 KiB, so fuzzed sections are both parsed and edited. Property checked: whatever an
 * edit accepts still parses, and a failed edit changes nothing.
 * Speed (issue 15 item 9: >= 1,000 exec/s): the format fixes the image at 512 KiB, and a
 * fresh allocation of that size per input is a new mapping under ASan (page faults were
 * most of the time: ~40 exec/s). So every buffer lives across inputs: the images are
 * re-parsed into their own buffers (pv_eeprom_reparse) and only the bytes the input wrote
 * are erased again afterwards. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/eeprom.h"

#define IMAGE_SIZE (512u * 1024u)
#define WINDOW 0x10000u

static struct pv_eeprom_image again; /* the re-parse of an edited image */

static void edit_checked(struct pv_eeprom_image *img, int rc, const unsigned char *before)
{
	if (rc != 0) {
		if (memcmp(img->data, before, img->size) != 0)
			abort();
		return;
	}
	if (pv_eeprom_reparse(&again, img->data, img->size, "fuzz") != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char conf[] = "[all]\nBOOT_ORDER=0xf21\n";
	static unsigned char raw[IMAGE_SIZE], before[IMAGE_SIZE];
	static struct pv_eeprom_image img;
	static int raw_ready;
	struct pv_eeprom_info info;
	const unsigned char *content;
	size_t len, cap;

	if (!raw_ready) {
		memset(raw, 0xff, IMAGE_SIZE);
		raw[0] = 0x55, raw[1] = 0xaa, raw[2] = 0xf0, raw[3] = 0x0f;
		raw[4] = 0, raw[5] = 0, raw[6] = 0xff, raw[7] = 0xf8; /* length 0xfff8: up to 64K */
		raw_ready = 1;
	}
	if (size > IMAGE_SIZE - WINDOW)
		size = IMAGE_SIZE - WINDOW;
	if (size)
		memcpy(raw + WINDOW, data, size);
	if (pv_eeprom_reparse(&img, raw, IMAGE_SIZE, "fuzz") == 0) {
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
	}
	if (size)
		memset(raw + WINDOW, 0xff, size);
	return 0;
}
