/* Issue 14: the virtual boot ROM waits for its return code like a board does, and the role
 * of the second stage comes from what the file is: the recovery program by identity (the
 * placeholder, published recovery.bin releases by digest), the ordinary bootloader flow of
 * the SoC for anything else (upstream's mass-storage bootcode4.bin names pieeprom.sig too),
 * and second-stage= forces either. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "mini_host.h"
#include "piprov/board.h"
#include "piprov/error.h"
#include "piprov/text.h"
#include "piprov/vpi.h"
#include "test_support.h"
#include "vpi_internal.h"

static enum pv_vpi_second_stage forced_role;
static unsigned rom_exec_ms;

static struct pv_usb_bus *bus_with_board(const char *model, struct pv_vpi_board **out)
{
	struct pv_vpi_options opts;
	struct pv_vpi_board *b = NULL;
	struct pv_usb_bus *bus = NULL;

	assert_int_equal(pv_vpi_options_init(&opts, pv_board_by_short_name(model), 0), PV_OK);
	opts.reenumerate_ms = 5;
	opts.second_stage = forced_role;
	if (rom_exec_ms)
		opts.rom_exec_ms = rom_exec_ms;
	assert_int_equal(pv_vpi_board_new(&opts, &b), PV_OK);
	assert_int_equal(pv_vpi_bus_new(&bus), PV_OK);
	assert_int_equal(pv_vpi_bus_add_board(bus, b), PV_OK);
	*out = b;
	return bus;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* rpiboot's second_stage_boot(): upload, sleep(1), then read 4 bytes. */
static void test_rom_return_code_after_a_one_second_sleep(void **state)
{
	struct pv_vpi_board *b;
	struct pv_usb_bus *bus;
	struct pv_usb_transport *t;
	struct pv_buf code = PV_BUF_INIT(TEST_BUF_MAX);
	struct mini_host h;

	(void)state;
	forced_role = PV_VPI_SECOND_STAGE_AUTO;
	rom_exec_ms = 0;
	bus = bus_with_board("pi4", &b);
	assert_int_equal(pv_vpi_placeholder_recovery(&code), PV_OK);
	mini_host_init(&h, NULL, 0);
	t = mini_host_wait_device(bus, pv_vpi_board_options(b)->port_path, 3, 1000);
	assert_non_null(t);
	assert_int_equal(mini_host_rom_upload(t, code.data, code.len), PV_OK);
	sleep_ms(1000);
	mini_host_rom_read(&h, t);
	assert_int_equal(h.rom_rc, PV_OK);     /* "Successful read 4 bytes" */
	assert_int_equal(h.rom_got, 4);
	assert_int_equal(h.retcode, 0);
	pv_usb_transport_destroy(t);
	/* Read: the board goes on to its second stage at once. */
	t = mini_host_wait_device(bus, pv_vpi_board_options(b)->port_path, 4, 1000);
	assert_non_null(t);
	pv_usb_transport_destroy(t);
	mini_host_release(&h);
	pv_buf_release(&code);
	pv_usb_bus_destroy(bus);
}

/* A host that never reads the return code still sees the board re-enumerate, after
 * rom-exec-ms; a read after that finds the ROM gone (rpiboot PR #49). */
static void test_rom_reenumerates_when_the_code_is_never_read(void **state)
{
	struct pv_vpi_board *b;
	struct pv_usb_bus *bus;
	struct pv_usb_transport *t, *second;
	struct pv_buf code = PV_BUF_INIT(TEST_BUF_MAX);
	struct mini_host h;
	uint64_t start;

	(void)state;
	forced_role = PV_VPI_SECOND_STAGE_AUTO;
	rom_exec_ms = 300;
	bus = bus_with_board("pi5", &b);
	assert_int_equal(pv_vpi_placeholder_recovery(&code), PV_OK);
	mini_host_init(&h, NULL, 0);
	t = mini_host_wait_device(bus, pv_vpi_board_options(b)->port_path, 3, 1000);
	assert_non_null(t);
	assert_int_equal(mini_host_rom_upload(t, code.data, code.len), PV_OK);
	start = vpi_now_ms();
	second = mini_host_wait_device(bus, pv_vpi_board_options(b)->port_path, 4, 3000);
	assert_non_null(second);
	assert_true(vpi_now_ms() - start >= 250);
	mini_host_rom_read(&h, t);
	assert_int_equal(h.rom_rc, PV_ERR_NO_DEVICE);
	pv_usb_transport_destroy(t);
	pv_usb_transport_destroy(second);
	mini_host_release(&h);
	pv_buf_release(&code);
	pv_usb_bus_destroy(bus);
	rom_exec_ms = 0;
}

/* A stand-in for upstream's mass-storage bootcode4.bin (the USB build of the bootloader): the
 * strings it carries, pieeprom.sig among them. */
static const char msd_bootcode4[] =
	"BCM-USB-MSD USB-MSD bootcode.bin config.txt tryboot.txt start4.elf fixup4.dat "
	"recover4.elf fixup4rc.dat pieeprom.upd pieeprom.bin pieeprom.sig vl805.sig boot.img "
	"(synthetic test file, not firmware)";

static void run_flow(const char *model, const char *config, struct mini_host *h,
		     struct pv_vpi_result *r, const void *code, size_t len)
{
	static const char sig[] = "0000000000000000000000000000000000000000000000000000000000000000\n";
	static const char elf[] = "start4.elf bytes";
	static const char img[] = "boot.img bytes";
	const struct mini_file files[] = {
		{ "config.txt", config, strlen(config) },
		{ "pieeprom.sig", sig, sizeof(sig) - 1 },
		{ "start4.elf", elf, sizeof(elf) - 1 },
		{ "boot.img", img, sizeof(img) - 1 },
	};
	struct pv_vpi_board *b;
	struct pv_usb_bus *bus = bus_with_board(model, &b);
	static struct mini_file copy[4];

	memcpy(copy, files, sizeof(files));
	mini_host_init(h, copy, 4);
	assert_int_equal(mini_host_run(h, bus, code, len), PV_OK);
	assert_true(h->done);
	pv_vpi_board_result(b, r);
	pv_usb_bus_destroy(bus);
}

static void test_mass_storage_bootcode4_gets_the_bootloader_flow(void **state)
{
	struct mini_host h;
	struct pv_vpi_result r;

	(void)state;
	forced_role = PV_VPI_SECOND_STAGE_AUTO;
	run_flow("cm4", "uart_2ndstage=1\n", &h, &r, msd_bootcode4, sizeof(msd_bootcode4) - 1);
	/* usbboot #315 / #214: config.txt, pieeprom.sig, the recovery firmware names, then
	 * start4.elf with fixup4.dat, then Done. No metadata. */
	assert_string_equal(pv_buf_str(&h.requests),
			    "0 config.txt\n1 config.txt\n0 pieeprom.sig\n1 pieeprom.sig\n"
			    "0 recover4.elf\n0 fixup4rc.dat\n0 recovery.elf\n0 fixup_rc.dat\n"
			    "0 start4.elf\n1 start4.elf\n0 fixup4.dat\n2 \n");
	assert_string_equal(pv_buf_str(&h.metadata), "");
	assert_false(r.recovery);
	assert_int_equal(r.metadata_sent, 0);
	assert_false(r.eeprom_written);
	assert_string_equal(r.eeprom_update, "");
	assert_string_equal(r.program, "bootloader");
	mini_host_release(&h);

	/* boot_ramdisk=1 (the mass-storage-gadget64 config.txt): boot.img instead. */
	run_flow("pi4", "boot_ramdisk=1\n", &h, &r, msd_bootcode4, sizeof(msd_bootcode4) - 1);
	assert_string_equal(pv_buf_str(&h.requests),
			    "0 config.txt\n1 config.txt\n0 pieeprom.sig\n1 pieeprom.sig\n"
			    "0 boot.img\n1 boot.img\n2 \n");
	assert_int_equal(r.metadata_sent, 0);
	mini_host_release(&h);
}

static void test_second_stage_spec_key_forces_the_role(void **state)
{
	struct mini_host h;
	struct pv_vpi_result r;
	struct pv_buf code = PV_BUF_INIT(TEST_BUF_MAX);
	struct pv_vpi_spec spec;

	(void)state;
	/* The same file, forced to be the recovery program: the recovery flow and metadata. */
	forced_role = PV_VPI_SECOND_STAGE_RECOVERY;
	run_flow("pi4", "\n", &h, &r, msd_bootcode4, sizeof(msd_bootcode4) - 1);
	assert_non_null(strstr(pv_buf_str(&h.requests), "0 vl805.sig\n"));
	assert_true(r.recovery);
	assert_true(r.metadata_sent > 0);
	assert_string_equal(r.program, "recovery (second-stage=recovery)");
	mini_host_release(&h);
	/* The placeholder forced to be a bootloader. */
	forced_role = PV_VPI_SECOND_STAGE_BOOTLOADER;
	assert_int_equal(pv_vpi_placeholder_recovery(&code), PV_OK);
	run_flow("pi5", "\n", &h, &r, code.data, code.len);
	assert_false(r.recovery);
	assert_string_equal(pv_buf_str(&h.requests),
			    "0 mcb.bin\n0 memsys00.bin\n0 memsys01.bin\n0 memsys02.bin\n"
			    "0 memsys03.bin\n0 bootmain\n0 config.txt\n1 config.txt\n0 boot.img\n"
			    "1 boot.img\n2 \n");
	mini_host_release(&h);
	/* Auto: the placeholder is the recovery program; one byte changed, it is not. */
	forced_role = PV_VPI_SECOND_STAGE_AUTO;
	run_flow("pi5", "\n", &h, &r, code.data, code.len);
	assert_true(r.recovery);
	assert_string_equal(r.program, "recovery (placeholder)");
	mini_host_release(&h);
	code.data[0] ^= 1;
	run_flow("pi5", "\n", &h, &r, code.data, code.len);
	assert_false(r.recovery);
	mini_host_release(&h);
	pv_buf_release(&code);
	/* The spec syntax. */
	assert_int_equal(pv_vpi_spec_parse("pi4,second-stage=bootloader,rom-exec-ms=1500", &spec),
			 PV_OK);
	assert_int_equal(spec.second_stage, PV_VPI_SECOND_STAGE_BOOTLOADER);
	assert_int_equal(spec.rom_exec_ms, 1500);
	pv_vpi_spec_release(&spec);
	assert_int_equal(pv_vpi_spec_parse("pi4,second-stage=maybe", &spec), PV_ERR_INVALID);
	assert_non_null(strstr(pv_last_error(), "second-stage"));
	assert_int_equal(pv_vpi_spec_parse("pi4,rom-exec-ms=60001", &spec), PV_ERR_INVALID);
}

/* The digest table in profile.c is the fixtures' MANIFEST.tsv, and every fixture file has
 * the size and digest listed; a real recovery.bin is taken for the recovery program. */
static void test_recovery_digest_table_matches_the_fixtures(void **state)
{
	struct pv_buf manifest = PV_BUF_INIT(1u << 20);
	size_t rows = 0, table = 0;
	char *path;
	const char *line;

	(void)state;
	while (vpi_recovery_release_at(table))
		table++;
	assert_true(table >= 4);
	if (!pv_test_fixtures_or_skip())
		return;
	path = pv_test_fixture_path("recovery/MANIFEST.tsv");
	pv_test_read_file(path, &manifest);
	free(path);
	line = strchr(pv_buf_str(&manifest), '\n'); /* skip the header */
	assert_non_null(line);
	for (line++; *line;) {
		char soc[16], channel[64], file[128], sha[65];
		unsigned long size;
		const struct vpi_recovery_release *rel;
		const struct pv_soc_info *info = NULL;
		struct pv_buf data = PV_BUF_INIT(4u << 20);
		char hex[65];
		const char *nl = strchr(line, '\n');

		assert_int_equal(sscanf(line, "%15s %63s %127s %lu %64s", soc, channel, file, &size,
					sha), 5);
		for (size_t i = 0; pv_soc_at(i); i++)
			if (strcmp(pv_soc_at(i)->chip, soc) == 0)
				info = pv_soc_at(i);
		assert_non_null(info);
		rel = vpi_recovery_release_find(info->soc, sha);
		assert_non_null(rel);
		assert_int_equal(rel->size, size);
		assert_string_equal(rel->channel, channel);
		assert_true(asprintf(&path, "recovery/%s-%s.gz", soc, file) > 0);
		{
			char *full = pv_test_fixture_path(path);
			pv_test_read_file(full, &data);
			free(full);
		}
		free(path);
		assert_int_equal(data.len, size);
		mini_sha256_hex(data.data, data.len, hex);
		assert_string_equal(hex, sha);
		pv_buf_release(&data);
		rows++;
		line = nl ? nl + 1 : line + strlen(line);
	}
	assert_int_equal(rows, table);
	pv_buf_release(&manifest);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rom_return_code_after_a_one_second_sleep),
		cmocka_unit_test(test_rom_reenumerates_when_the_code_is_never_read),
		cmocka_unit_test(test_mass_storage_bootcode4_gets_the_bootloader_flow),
		cmocka_unit_test(test_second_stage_spec_key_forces_the_role),
		cmocka_unit_test(test_recovery_digest_table_matches_the_fixtures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
