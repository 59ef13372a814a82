#include <string.h>

#include "piprov/board.h"
#include "piprov/error.h"
#include "test_support.h"

static void test_revision_decode(void **state)
{
	struct pv_revision rev;
	char text[128];

	(void)state;
	assert_int_equal(pv_revision_decode(0xc03115, &rev), PV_OK);
	assert_true(rev.new_style);
	assert_int_equal(rev.type_code, 0x11);
	assert_int_equal(rev.memory_mb, 4096);
	assert_string_equal(rev.manufacturer, "Sony UK");
	assert_int_equal(rev.pcb_revision, 5);
	assert_non_null(rev.board);
	assert_string_equal(rev.board->short_name, "pi4");
	assert_non_null(rev.soc);
	assert_int_equal(rev.soc->soc, PV_SOC_BCM2711);
	pv_revision_describe(&rev, text, sizeof(text));
	assert_string_equal(text, "Raspberry Pi 4 Model B Rev 1.5, 4GB, Sony UK");

	assert_int_equal(pv_revision_decode(0xd04170, &rev), PV_OK);
	assert_string_equal(rev.board->short_name, "pi5");
	assert_int_equal(rev.memory_mb, 8192);
	assert_int_equal(rev.soc->soc, PV_SOC_BCM2712);

	assert_int_equal(pv_revision_decode(0xa03141, &rev), PV_OK);
	assert_string_equal(rev.board->short_name, "cm4");
	assert_int_equal(rev.memory_mb, 1024);
	assert_true(rev.board->features & PV_BOARD_HAS_NVME);

	assert_int_equal(pv_revision_decode(0xa020d3, &rev), PV_OK);
	assert_string_equal(rev.board->short_name, "pi3+");
	assert_int_equal(rev.soc->soc, PV_SOC_BCM2837);
	assert_false(rev.board->features & PV_BOARD_HAS_EEPROM);

	/* Old-style code (Pi 1 era). */
	assert_int_equal(pv_revision_decode(0x0010, &rev), PV_ERR_UNSUPPORTED);
	/* Unknown type stays decodable, board NULL. */
	assert_int_equal(pv_revision_decode(0xc03ff0, &rev), PV_OK);
	assert_null(rev.board);
}

static void test_soc_lookup(void **state)
{
	(void)state;
	assert_int_equal(pv_soc_by_usb_id(0x0a5c, 0x2711)->soc, PV_SOC_BCM2711);
	assert_string_equal(pv_soc_by_usb_id(0x0a5c, 0x2712)->second_stage, "bootcode5.bin");
	assert_null(pv_soc_by_usb_id(0x0a5c, 0x1234));
	assert_null(pv_soc_by_usb_id(0x1234, 0x2711));
	/* "BCM2710 Boot" is a Pi 3 family ROM (issue 13: usb flash --virtual pi3 said BCM2836). */
	assert_int_equal(pv_soc_by_usb_id(0x0a5c, 0x2764)->soc, PV_SOC_BCM2837);
	assert_int_equal(pv_soc_by_name("bcm2712")->eeprom_size, 2097152);
	assert_int_equal(pv_soc_by_name("2711")->eeprom_size, 524288);
	assert_int_equal(pv_soc_by_eeprom_size(524288)->soc, PV_SOC_BCM2711);
	assert_null(pv_soc_by_eeprom_size(1000));
	assert_null(pv_soc_by_name("2999"));
	/* Every board with an EEPROM sits on a SoC that has an EEPROM size. */
	for (size_t i = 0; pv_board_at(i); i++) {
		const struct pv_board_type *board = pv_board_at(i);
		const struct pv_soc_info *soc = pv_soc_info(board->soc);
		assert_non_null(soc);
		if (board->features & PV_BOARD_HAS_EEPROM)
			assert_true(soc->eeprom_size > 0);
		assert_ptr_equal(pv_board_by_short_name(board->short_name), board);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_revision_decode),
		cmocka_unit_test(test_soc_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
