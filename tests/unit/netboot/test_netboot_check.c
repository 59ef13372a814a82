/* netboot check's pieces that need no network: a board from its inventory record (model
 * from the revision or the OUI, the EEPROM facts the inventory knows, refusals naming the
 * board), and the verdict's table cells and JSON (server-given strings escaped). The probe
 * itself runs against real servers in tests/netboot/. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/error.h"
#include "piprov/inventory.h"
#include "piprov/netboot_check.h"
#include "piprov/netboot_report.h"
#include "test_support.h"

static void record(struct pv_inventory_record *rec, const char *serial, const char *mac,
		   const char *revision)
{
	pv_inventory_record_init(rec);
	assert_int_equal(pv_inventory_record_set_serial(rec, serial), PV_OK);
	if (mac)
		assert_int_equal(pv_inventory_record_set(rec, "mac", mac), PV_OK);
	if (revision)
		assert_int_equal(pv_inventory_record_set(rec, "board_revision", revision), PV_OK);
}

static void test_board_from_revision(void **state)
{
	struct pv_inventory_record rec;
	struct pv_netboot_check_board b;

	(void)state;
	record(&rec, "10000000f8b73778", "dc:a6:32:01:36:c2", "c03115");
	assert_int_equal(pv_inventory_record_set(&rec, "hostname", "node-07"), PV_OK);
	assert_int_equal(pv_inventory_record_set(&rec, "ip", "10.0.0.7"), PV_OK);
	assert_int_equal(pv_inventory_record_set(&rec, "tftp_prefix", "mac"), PV_OK);
	assert_int_equal(pv_netboot_check_board_from_record(&rec, &b), PV_OK);
	assert_string_equal(b.name, "node-07");
	assert_string_equal(b.serial, "10000000f8b73778");
	assert_string_equal(b.id.board->short_name, "pi4");
	assert_int_equal(b.id.soc->soc, PV_SOC_BCM2711);
	assert_int_equal(b.id.boardrev, 0xc03115);
	assert_int_equal(b.settings.tftp_prefix, PV_NETBOOT_PREFIX_MAC);
	/* no BOOT_ORDER in the inventory: the check takes the board to boot from the network */
	assert_int_equal(b.settings.boot_order, 0xf2);
	assert_int_equal(b.settings.dhcp_option97, b.id.soc->dhcp_option97_fourcc);
	assert_int_equal(b.expected_ip, 0x0a000007);
	pv_inventory_record_release(&rec);

	record(&rec, "0c8f7e5cbd989ae1", "2c:cf:67:70:76:f3", "d04170");
	assert_int_equal(pv_inventory_record_set(&rec, "boot_order", "0xf21"), PV_OK);
	assert_int_equal(pv_netboot_check_board_from_record(&rec, &b), PV_OK);
	assert_int_equal(b.id.soc->soc, PV_SOC_BCM2712);
	assert_int_equal(b.settings.boot_order, 0xf21);
	assert_string_equal(b.name, "0c8f7e5cbd989ae1");
	pv_inventory_record_release(&rec);
}

static void test_board_from_oui_and_refusals(void **state)
{
	struct pv_inventory_record rec;
	struct pv_netboot_check_board b;

	(void)state;
	/* a Pi 3 known only by its MAC: the BCM2837 family's first board */
	record(&rec, "b8000001", "b8:27:eb:00:00:01", NULL);
	assert_int_equal(pv_netboot_check_board_from_record(&rec, &b), PV_OK);
	assert_int_equal(b.id.soc->soc, PV_SOC_BCM2837);
	pv_inventory_record_release(&rec);

	record(&rec, "aa000001", NULL, "c03115");
	assert_int_equal(pv_netboot_check_board_from_record(&rec, &b), PV_ERR_INVALID);
	assert_non_null(strstr(pv_last_error(), "aa000001"));
	assert_non_null(strstr(pv_last_error(), "no MAC"));
	pv_inventory_record_release(&rec);

	record(&rec, "aa000002", "02:00:00:00:00:01", NULL);
	assert_int_equal(pv_netboot_check_board_from_record(&rec, &b), PV_ERR_INVALID);
	assert_non_null(strstr(pv_last_error(), "model unknown"));
	pv_inventory_record_release(&rec);
	pv_clear_error();
}

static void test_cells_and_json(void **state)
{
	struct pv_netboot_result r;
	struct pv_netboot_cells c;
	json_t *o;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.booted = true;
	r.ip = 0x0a00000b;
	r.dhcp_server = 0x0a000001;
	r.pxe_server = 0x0a000002;
	r.proxy = true;
	r.option43_ok = true;
	r.tftp_server = 0x0a000002;
	strcpy(r.first_file, "aa000001/start4.elf");
	strcpy(r.kernel, "aa000001/kernel8.img");
	strcpy(r.cmdline_file, "aa000001/cmdline.txt");
	strcpy(r.nfs_export, "/srv/nfs/aa000001");
	pv_netboot_result_cells(&r, true, &c);
	assert_string_equal(c.dhcp, "10.0.0.11 from 10.0.0.1, proxy 10.0.0.2");
	assert_string_equal(c.option43, "ok");
	assert_string_equal(c.tftp, "10.0.0.2");
	assert_string_equal(c.kernel, "aa000001/kernel8.img, aa000001/cmdline.txt");
	assert_string_equal(c.nfs, "ok (/srv/nfs/aa000001)");
	assert_string_equal(c.result, "ok");
	pv_netboot_result_cells(&r, false, &c);
	assert_string_equal(c.nfs, "not checked");

	/* a server's menu text with escape sequences and bytes that are not UTF-8 */
	memset(&r, 0, sizeof(r));
	r.reason = PV_NETBOOT_NO_PXE_OPTION43;
	strcpy(r.menu, "Boot\x1b[31m\xff");
	strcpy(r.detail, "offers without the menu");
	pv_netboot_result_cells(&r, true, &c);
	assert_string_equal(c.option43, "wrong: \"Boot\\x1b[31m\\xff\"");
	assert_string_equal(c.dhcp, "-");
	assert_string_equal(c.result, "no-pxe-option43");
	o = pv_netboot_result_json(&r);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "menu")), "Boot\\x1b[31m\\xff");
	assert_string_equal(json_string_value(json_object_get(o, "reason")), "no-pxe-option43");
	assert_true(json_is_false(json_object_get(o, "booted")));
	assert_true(json_is_null(json_object_get(o, "ip")));
	json_decref(o);

	memset(&r, 0, sizeof(r));
	r.reason = PV_NETBOOT_NO_DHCP_OFFER;
	pv_netboot_result_cells(&r, true, &c);
	assert_string_equal(c.dhcp, "no offer");
	assert_string_equal(c.nfs, "-");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_board_from_revision),
		cmocka_unit_test(test_board_from_oui_and_refusals),
		cmocka_unit_test(test_cells_and_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
