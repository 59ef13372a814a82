#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "piprov/error.h"
#include "piprov/text.h"
#include "piprov/vpi.h"
#include "test_support.h"

static void test_minimal_spec(void **state)
{
	struct pv_vpi_spec spec;
	struct pv_vpi_options opts;
	char serial[PV_SERIAL_STRLEN];

	(void)state;
	assert_int_equal(pv_vpi_spec_parse("pi4", &spec), PV_OK);
	assert_string_equal(spec.board->short_name, "pi4");
	assert_int_equal(spec.count, 1);
	assert_false(spec.has_serial);
	assert_null(spec.dump_dir);
	assert_int_equal(pv_vpi_spec_board_options(&spec, 0, &opts), PV_OK);
	assert_int_equal(opts.soc->soc, PV_SOC_BCM2711);
	/* Pi 4 serials: top 32 bits are always 10000000. */
	pv_serial_format(opts.serial, 16, serial);
	assert_memory_equal(serial, "10000000", 8);
	assert_int_equal(opts.boardrev >> 4 & 0xff, 0x11);
	assert_true(opts.boardrev & (1u << 23));
	assert_int_equal(opts.mac[0], 0xdc);
	assert_int_equal(opts.fault, PV_VPI_FAULT_NONE);
	assert_int_equal(pv_vpi_spec_board_options(&spec, 1, &opts), PV_ERR_INVALID);
	pv_vpi_spec_release(&spec);
}

static void test_full_spec(void **state)
{
	struct pv_vpi_spec spec;
	struct pv_vpi_options opts;

	(void)state;
	assert_int_equal(pv_vpi_spec_parse("pi5,serial=0c8f7e5cbd989ae1,mac=2c:cf:67:70:76:f3,"
					   "boardrev=d04170,flash-ms=250,usb-mbps=480,"
					   "dump=/tmp/x,fault=7",
					   &spec),
			 PV_OK);
	assert_string_equal(spec.board->short_name, "pi5");
	assert_true(spec.has_serial && spec.has_mac && spec.has_boardrev && spec.has_fault);
	assert_true(spec.serial == 0x0c8f7e5cbd989ae1ull);
	assert_int_equal(spec.boardrev, 0xd04170);
	assert_int_equal(spec.flash_ms, 250);
	assert_int_equal(spec.usb_mbps, 480);
	assert_string_equal(spec.dump_dir, "/tmp/x");
	assert_true(spec.fault_seed == 7);
	assert_int_equal(pv_vpi_spec_board_options(&spec, 0, &opts), PV_OK);
	assert_true(opts.serial == 0x0c8f7e5cbd989ae1ull);
	assert_int_equal(opts.mac[5], 0xf3);
	assert_int_equal(opts.flash_ms, 250);
	assert_string_equal(opts.dump_dir, "/tmp/x");
	pv_vpi_spec_release(&spec);
}

/* serial= without mac=: the MAC comes from the serial (the vendor's OUI kept), so boards
 * given different serials never share a MAC. */
static void test_serial_only_gets_own_mac(void **state)
{
	struct pv_vpi_spec a, b;
	struct pv_vpi_options oa, ob, plain;

	(void)state;
	assert_int_equal(pv_vpi_spec_parse("pi5,serial=0c8f7e5cbd989ae1", &a), PV_OK);
	assert_int_equal(pv_vpi_spec_parse("pi5,serial=0c8f7e5cbd989ae2", &b), PV_OK);
	assert_int_equal(pv_vpi_spec_board_options(&a, 0, &oa), PV_OK);
	assert_int_equal(pv_vpi_spec_board_options(&b, 0, &ob), PV_OK);
	assert_int_equal(pv_vpi_options_init(&plain, a.board, 0), PV_OK);
	assert_memory_equal(oa.mac, plain.mac, 3);
	assert_memory_not_equal(oa.mac, ob.mac, 6);
	assert_memory_not_equal(oa.mac, plain.mac, 6);
	assert_int_equal(oa.mac[5] & 0x0f, 0); /* room for the Wi-Fi and Bluetooth MACs */
	/* The same serial always gives the same MAC. */
	assert_int_equal(pv_vpi_spec_board_options(&a, 0, &ob), PV_OK);
	assert_memory_equal(oa.mac, ob.mac, 6);
	pv_vpi_spec_release(&a);
	pv_vpi_spec_release(&b);
}

static void test_count_gives_distinct_boards(void **state)
{
	struct pv_vpi_spec spec;
	struct pv_vpi_options opts[32];

	(void)state;
	assert_int_equal(pv_vpi_spec_parse("cm4,count=32", &spec), PV_OK);
	assert_int_equal(spec.count, 32);
	for (unsigned i = 0; i < 32; i++)
		assert_int_equal(pv_vpi_spec_board_options(&spec, i, &opts[i]), PV_OK);
	for (unsigned i = 0; i < 32; i++)
		for (unsigned j = i + 1; j < 32; j++) {
			assert_true(opts[i].serial != opts[j].serial);
			/* the 8-digit TFTP serial must differ too */
			assert_true((uint32_t)opts[i].serial != (uint32_t)opts[j].serial);
			assert_memory_not_equal(opts[i].mac, opts[j].mac, 6);
		}
	pv_vpi_spec_release(&spec);

	/* A given serial and MAC count up; BCM2712 boards use three MACs each. */
	assert_int_equal(pv_vpi_spec_parse("pi5,count=3,serial=0c8f7e5cbd989ae1,"
					   "mac=2c:cf:67:70:76:f3", &spec), PV_OK);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(pv_vpi_spec_board_options(&spec, i, &opts[i]), PV_OK);
	assert_true(opts[2].serial == 0x0c8f7e5cbd989ae3ull);
	assert_int_equal(opts[1].mac[5], 0xf6);
	assert_int_equal(opts[2].mac[5], 0xf9);
	pv_vpi_spec_release(&spec);
}

static void test_fault_seed_is_deterministic(void **state)
{
	struct pv_vpi_spec spec;
	struct pv_vpi_options a, b;
	unsigned seen[PV_VPI_FAULT_COUNT] = { 0 };

	(void)state;
	assert_int_equal(pv_vpi_spec_parse("pi4,count=200,fault=12345", &spec), PV_OK);
	for (unsigned i = 0; i < 200; i++) {
		assert_int_equal(pv_vpi_spec_board_options(&spec, i, &a), PV_OK);
		assert_int_equal(pv_vpi_spec_board_options(&spec, i, &b), PV_OK);
		assert_int_equal(a.fault, b.fault);
		seen[a.fault]++;
	}
	/* every fault kind is drawn from 200 boards */
	for (unsigned f = 0; f < PV_VPI_FAULT_COUNT; f++)
		assert_true(seen[f] > 0);
	pv_vpi_spec_release(&spec);
}

static void expect_error(const char *text, const char *needle)
{
	struct pv_vpi_spec spec;

	assert_int_not_equal(pv_vpi_spec_parse(text, &spec), PV_OK);
	if (!strstr(pv_last_error(), needle))
		fail_msg("spec '%s': error '%s' does not mention '%s'", text, pv_last_error(),
			 needle);
}

static void test_bad_specs_name_the_key(void **state)
{
	(void)state;
	expect_error("", "unknown model");
	expect_error("pi9", "unknown model 'pi9'");
	expect_error("pi4,serial=1234", "key 'serial'");
	expect_error("pi4,serial=10000000f8b7377g", "key 'serial'");
	expect_error("pi4,mac=zz:00:00:00:00:00", "key 'mac'");
	expect_error("pi4,boardrev=d04170", "key 'boardrev'");     /* a Pi 5 code */
	expect_error("pi4,boardrev=0002", "key 'boardrev'");       /* old-style */
	expect_error("pi4,count=0", "key 'count'");
	expect_error("pi4,count=257", "key 'count'");
	expect_error("pi4,count=-1", "key 'count'");
	expect_error("pi4,flash-ms=abc", "key 'flash-ms'");
	expect_error("pi4,usb-mbps=99999", "key 'usb-mbps'");
	expect_error("pi4,dump=", "key 'dump'");
	expect_error("pi4,fault=x", "key 'fault'");
	expect_error("pi4,colour=red", "unknown key 'colour'");
	expect_error("pi4,count", "'count' is not key=value");
	expect_error("pi4,count=2,count=3", "key 'count' given twice");
	expect_error("pi4,,count=2", "is not key=value");
	expect_error("pi4,serial=\x01", "control characters");
}

static void test_models(void **state)
{
	static const char *const models[] = { "pi4", "pi400", "cm4", "pi5", "cm5", "pi3", "cm3" };
	struct pv_vpi_spec spec;

	(void)state;
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
		assert_int_equal(pv_vpi_spec_parse(models[i], &spec), PV_OK);
		assert_string_equal(spec.board->short_name, models[i]);
		pv_vpi_spec_release(&spec);
	}
}

/* emmc=FILE[,emmc-size=SIZE]: parsed without touching the file (the board opens it), only
 * on models with eMMC, sizes in whole blocks within the bounds; count > 1 numbers the files. */
static void test_emmc_keys(void **state)
{
	struct pv_vpi_spec spec;
	struct pv_vpi_options opts;
	static const char *const bad[][2] = {
		{ "pi4,emmc=/tmp/x.img", "emmc" },          /* a Pi 4 has an SD card, no eMMC */
		{ "cm4,emmc-size=8M", "emmc-size= needs emmc" },
		{ "cm4,emmc=x,emmc-size=1000", "emmc-size" }, /* not whole blocks */
		{ "cm4,emmc=x,emmc-size=32K", "emmc-size" },  /* below 64K */
		{ "cm4,emmc=x,emmc-size=2T", "emmc-size" },   /* above 1T */
		{ "cm4,emmc=x,emmc-size=8X", "emmc-size" },
		{ "cm4,emmc=x,emmc-size=M", "emmc-size" },
		{ "cm4,emmc=x,emmc-size=-1M", "emmc-size" },
		{ "cm4,emmc=", "emmc" },
	};

	(void)state;
	assert_int_equal(pv_vpi_spec_parse("cm4,emmc=/nonexistent/dir/cm4.img,emmc-size=8M",
					   &spec), PV_OK);
	assert_string_equal(spec.emmc_path, "/nonexistent/dir/cm4.img");
	assert_int_equal(spec.emmc_size, 8u * 1024 * 1024);
	assert_int_equal(pv_vpi_spec_board_options(&spec, 0, &opts), PV_OK);
	assert_string_equal(opts.emmc_path, "/nonexistent/dir/cm4.img");
	assert_false(opts.emmc_numbered);
	pv_vpi_spec_release(&spec);
	assert_int_equal(pv_vpi_spec_parse("cm5,count=2,emmc=m.img,emmc-size=1G", &spec), PV_OK);
	assert_int_equal(spec.emmc_size, 1024u * 1024 * 1024);
	assert_int_equal(pv_vpi_spec_board_options(&spec, 1, &opts), PV_OK);
	assert_true(opts.emmc_numbered);
	assert_int_equal(opts.emmc_index, 1);
	pv_vpi_spec_release(&spec);
	assert_int_equal(pv_vpi_spec_parse("cm3,emmc=c.img,emmc-size=65536", &spec), PV_OK);
	assert_int_equal(spec.emmc_size, 65536);
	pv_vpi_spec_release(&spec);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pv_vpi_spec_parse(bad[i][0], &spec), PV_ERR_INVALID);
		assert_non_null(strstr(pv_last_error(), bad[i][1]));
	}
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Poll until the board is plugged in (at most 10 s, a loaded machine included). */
static bool attaches(struct pv_vpi_board *board)
{
	bool attached = false;

	for (unsigned i = 0; i < 1000 && !attached; i++) {
		pv_vpi_board_poll(board, &attached, NULL, NULL);
		if (!attached)
			sleep_ms(10);
	}
	return attached;
}

/* arrive-when=PATH: the boards stay unplugged however long the path is missing; once it
 * exists they are plugged in, board i of the spec arrive-every later than board 0, counted
 * from the moment each board saw the path. */
static void test_arrive_when_waits_for_the_path(void **state)
{
	struct pv_vpi_spec spec;
	struct pv_vpi_options opts;
	struct pv_vpi_board *boards[2];
	char *dir = pv_test_mkdtemp(), text[512], path[400];
	uint32_t next_ms = 0;
	bool attached = true;

	(void)state;
	snprintf(path, sizeof(path), "%s/go", dir);
	snprintf(text, sizeof(text), "pi4,count=2,arrive-when=%s,arrive-every=300", path);
	assert_int_equal(pv_vpi_spec_parse(text, &spec), PV_OK);
	assert_string_equal(spec.arrive_when, path);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(pv_vpi_spec_board_options(&spec, i, &opts), PV_OK);
		assert_string_equal(opts.arrive_when, path);
		assert_int_equal(pv_vpi_board_new(&opts, &boards[i]), PV_OK);
	}
	pv_vpi_spec_release(&spec); /* the boards keep their own copy */

	pv_vpi_board_poll(boards[0], &attached, NULL, &next_ms);
	assert_false(attached);
	assert_true(next_ms <= 50); /* the bus wakes to look again */
	sleep_ms(200);
	for (unsigned i = 0; i < 2; i++) {
		pv_vpi_board_poll(boards[i], &attached, NULL, NULL);
		assert_false(attached);
	}

	pv_test_write_file(path, "", 0);
	assert_true(attaches(boards[0]));
	/* Board 1 sees the path now and waits its 300 ms from here. */
	pv_vpi_board_poll(boards[1], &attached, NULL, &next_ms);
	assert_false(attached);
	assert_true(attaches(boards[1]));

	for (unsigned i = 0; i < 2; i++)
		pv_vpi_board_free(boards[i]);
	pv_test_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_spec),
		cmocka_unit_test(test_full_spec),
		cmocka_unit_test(test_serial_only_gets_own_mac),
		cmocka_unit_test(test_count_gives_distinct_boards),
		cmocka_unit_test(test_fault_seed_is_deterministic),
		cmocka_unit_test(test_bad_specs_name_the_key),
		cmocka_unit_test(test_models),
		cmocka_unit_test(test_emmc_keys),
		cmocka_unit_test(test_arrive_when_waits_for_the_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
