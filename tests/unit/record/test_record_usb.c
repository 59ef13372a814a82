/* The record layer's USB source and checks: a USB board becomes a record only when it was
 * verified (flash) or booted, with the fields of its recovery metadata; a value the
 * inventory refuses is named and left out; the check before a job names what is wrong. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "piprov/error.h"
#include "piprov/record.h"
#include "piprov/text.h"
#include "piprov/usb.h"
#include "test_support.h"

static void board_init(struct pv_usb_board_result *b, enum pv_usb_phase outcome)
{
	memset(b, 0, sizeof(*b));
	pv_strlcpy(b->port_path, "1-1.3", sizeof(b->port_path));
	pv_strlcpy(b->serial, "10000000f8b73778", sizeof(b->serial));
	b->outcome = outcome;
	pv_usb_metadata_init(&b->metadata);
	assert_int_equal(pv_usb_metadata_set(&b->metadata, "MAC_ADDR", "dc:a6:32:01:36:c2"),
			 PV_OK);
	assert_int_equal(pv_usb_metadata_set(&b->metadata, "USER_BOARDREV", "c03115"), PV_OK);
	assert_int_equal(pv_usb_metadata_set(&b->metadata, "EEPROM_HASH",
					     "dfc8ef2c00000000000000000000000000000000000000000000"
					     "000000002137"),
			 PV_OK);
}

static void test_verified_board_is_a_record_with_its_hash(void **state)
{
	struct pv_usb_board_result b;
	struct pv_inventory_record rec;
	char warning[256], mac[PV_MAC_STRLEN];

	(void)state;
	board_init(&b, PV_USB_PHASE_VERIFIED);
	assert_int_equal(pv_record_from_usb(&b, 1764044860, &rec, warning, sizeof(warning)),
			 PV_OK);
	assert_string_equal(warning, "");
	assert_int_equal(rec.serial, 0x10000000f8b73778ull);
	assert_int_equal(rec.serial_digits, 16);
	pv_mac_format(rec.mac, ':', mac);
	assert_string_equal(mac, "dc:a6:32:01:36:c2");
	assert_int_equal(rec.revision, 0xc03115);
	assert_int_equal(rec.flashed_at, 1764044860);
	assert_int_equal(strlen(rec.eeprom_hash), 64);
	pv_inventory_record_release(&rec);

	/* booted (usb boot): recorded, but nothing says it was flashed */
	board_init(&b, PV_USB_PHASE_BOOTED);
	assert_int_equal(pv_record_from_usb(&b, 1764044860, &rec, NULL, 0), PV_OK);
	assert_int_equal(rec.flashed_at, 0);
	assert_string_equal(rec.eeprom_hash, "");
	pv_inventory_record_release(&rec);
}

static void test_unverified_board_is_never_a_record(void **state)
{
	static const enum pv_usb_phase not_done[] = {
		PV_USB_PHASE_FAILED, PV_USB_PHASE_SERVING, PV_USB_PHASE_FOUND, PV_USB_PHASE_SKIPPED,
	};
	struct pv_usb_board_result b;
	struct pv_inventory_record rec;

	(void)state;
	for (size_t i = 0; i < sizeof(not_done) / sizeof(not_done[0]); i++) {
		board_init(&b, not_done[i]);
		rec.serial = 42;
		assert_int_equal(pv_record_from_usb(&b, 1, &rec, NULL, 0), PV_ERR_INVALID);
		assert_int_equal(rec.serial, 42); /* not written on failure */
		assert_non_null(strstr(pv_last_error(), "1-1.3"));
	}
}

static void test_bad_metadata_value_is_named_and_left_out(void **state)
{
	struct pv_usb_board_result b;
	struct pv_inventory_record rec;
	char warning[256];

	(void)state;
	board_init(&b, PV_USB_PHASE_VERIFIED);
	assert_int_equal(pv_usb_metadata_set(&b.metadata, "MAC_WIFI_ADDR", "not-a-mac"), PV_OK);
	assert_int_equal(pv_record_from_usb(&b, 1, &rec, warning, sizeof(warning)), PV_OK);
	assert_non_null(strstr(warning, "wifi_mac"));
	assert_false(rec.has_wifi_mac);
	assert_true(rec.has_mac);
	pv_inventory_record_release(&rec);

	/* no serial at all: not recorded */
	board_init(&b, PV_USB_PHASE_VERIFIED);
	b.serial[0] = '\0';
	assert_int_equal(pv_record_from_usb(&b, 1, &rec, NULL, 0), PV_ERR_INVALID);
	/* the 2711 recovery: only USER_SERIAL_NUM, printed without leading zeros */
	assert_int_equal(pv_usb_metadata_set(&b.metadata, "USER_SERIAL_NUM", "4a97b1d"), PV_OK);
	assert_int_equal(pv_record_from_usb(&b, 1, &rec, NULL, 0), PV_OK);
	assert_int_equal(rec.serial, 0x04a97b1d);
	assert_int_equal(rec.serial_digits, 8);
	pv_inventory_record_release(&rec);
}

static void flashed(const char *bootconf, struct pv_inventory_record *rec, char *warning,
		    size_t size)
{
	pv_inventory_record_init(rec);
	warning[0] = '\0';
	pv_record_set_flashed_config(rec, bootconf, strlen(bootconf),
				     "ab00000000000000000000000000000000000000000000000000000000"
				     "0000cd",
				     warning, size);
}

/* netboot check uses the board's real settings: the config it was flashed with. */
static void test_flashed_config_gives_boot_order_and_prefix(void **state)
{
	struct pv_inventory_record rec;
	char warning[256];

	(void)state;
	flashed("[all]\nBOOT_UART=1\nBOOT_ORDER=0xf21\nTFTP_PREFIX=2\n", &rec, warning,
		sizeof(warning));
	assert_string_equal(warning, "");
	assert_true(rec.has_boot_order);
	assert_int_equal(rec.boot_order, 0xf21);
	assert_true(rec.has_tftp_prefix);
	assert_int_equal(rec.tftp_prefix, PV_TFTP_PREFIX_MAC);
	assert_int_equal(strlen(rec.config_hash), 64);
	pv_inventory_record_release(&rec);

	/* left out: what the bootloader does then (0xf41, serial) */
	flashed("[all]\nBOOT_UART=1\n", &rec, warning, sizeof(warning));
	assert_string_equal(warning, "");
	assert_int_equal(rec.boot_order, 0xf41);
	assert_int_equal(rec.tftp_prefix, PV_TFTP_PREFIX_SERIAL);
	pv_inventory_record_release(&rec);

	/* the string mode keeps its string; a conditional section does not count */
	flashed("BOOT_ORDER=0xf241\nTFTP_PREFIX=1\nTFTP_PREFIX_STR=lab-a\n[pi5]\nBOOT_ORDER=0xf1\n",
		&rec, warning, sizeof(warning));
	assert_string_equal(warning, "");
	assert_int_equal(rec.boot_order, 0xf241);
	assert_int_equal(rec.tftp_prefix, PV_TFTP_PREFIX_STRING);
	assert_string_equal(rec.tftp_prefix_str, "lab-a");
	pv_inventory_record_release(&rec);
}

static void test_flashed_config_oddities_named_and_left_out(void **state)
{
	struct pv_inventory_record rec;
	char warning[256];

	(void)state;
	flashed("BOOT_ORDER=f21\nTFTP_PREFIX=7\n", &rec, warning, sizeof(warning));
	assert_false(rec.has_boot_order);
	assert_false(rec.has_tftp_prefix);
	assert_non_null(strstr(warning, "BOOT_ORDER"));
	assert_non_null(strstr(warning, "TFTP_PREFIX=7"));
	pv_inventory_record_release(&rec);

	flashed("TFTP_PREFIX=1\n", &rec, warning, sizeof(warning));
	assert_false(rec.has_tftp_prefix);
	assert_non_null(strstr(warning, "TFTP_PREFIX_STR"));
	pv_inventory_record_release(&rec);

	/* nothing known (usb boot, or no config): nothing set, no warning */
	pv_inventory_record_init(&rec);
	warning[0] = '\0';
	pv_record_set_flashed_config(&rec, "", 0, NULL, warning, sizeof(warning));
	assert_false(rec.has_boot_order);
	assert_false(rec.has_tftp_prefix);
	assert_string_equal(rec.config_hash, "");
	assert_string_equal(warning, "");
	pv_inventory_record_release(&rec);
}

static void test_check_inventory_names_what_is_wrong(void **state)
{
	char *dir = pv_test_mkdtemp(), *path, *ro;

	(void)state;
	assert_true(asprintf(&path, "%s/inv.cfg", dir) > 0);
	assert_true(asprintf(&ro, "%s/ro", dir) > 0);
	/* missing file in a writable folder: fine, nothing created */
	assert_int_equal(pv_record_check_inventory(path), PV_OK);
	assert_int_not_equal(access(path, F_OK), 0);
	/* a file that does not parse */
	{
		static const char bad[] = "version = 1;\nboards = ( { serial = \"zz\"; } );\n";

		pv_test_write_file(path, bad, strlen(bad));
	}
	assert_int_equal(pv_record_check_inventory(path), PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "inv.cfg"));
	/* a folder instead of a file */
	assert_int_equal(mkdir(ro, 0755), 0);
	assert_int_not_equal(pv_record_check_inventory(ro), PV_OK);
	assert_non_null(strstr(pv_last_error(), "not a regular file"));
	/* a folder nobody may write in (root may: skip that part) */
	if (geteuid() != 0) {
		char *inside;

		assert_true(asprintf(&inside, "%s/inv.cfg", ro) > 0);
		assert_int_equal(chmod(ro, 0555), 0);
		assert_int_not_equal(pv_record_check_inventory(inside), PV_OK);
		assert_non_null(strstr(pv_last_error(), "cannot write in its folder"));
		assert_int_equal(chmod(ro, 0755), 0);
		free(inside);
	}
	pv_test_rmtree(dir);
	free(ro);
	free(path);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verified_board_is_a_record_with_its_hash),
		cmocka_unit_test(test_unverified_board_is_never_a_record),
		cmocka_unit_test(test_bad_metadata_value_is_named_and_left_out),
		cmocka_unit_test(test_flashed_config_gives_boot_order_and_prefix),
		cmocka_unit_test(test_flashed_config_oddities_named_and_left_out),
		cmocka_unit_test(test_check_inventory_names_what_is_wrong),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
