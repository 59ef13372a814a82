/* The recovery flow end to end through the transport API: request order, the check against
 * pieeprom.sig, the virtual EEPROM write, metadata as the firmware formats it, faults, dumps,
 * and the real recovery.bin / release images from ../shared/fixtures when present. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mini_host.h"
#include "piprov/board.h"
#include "piprov/error.h"
#include "piprov/fileio.h"
#include "piprov/text.h"
#include "piprov/vpi.h"
#include "test_support.h"

struct flow {
	struct pv_usb_bus *bus;
	struct pv_vpi_board *board;
	struct pv_buf code;
	struct pv_buf image;
	char image_hex[65];
	char sig[128];
	struct mini_file files[4];
	size_t file_count;
	struct mini_host host;
	int rc;
};

static void make_image(struct pv_buf *image, size_t size, unsigned seed)
{
	for (size_t i = 0; i < size; i++)
		assert_int_equal(pv_buf_putc(image, (int)((i * 31 + seed) % 253)), PV_OK);
}

/* Build a board from options (tweaked), serve image + sig (+ config), run the host. */
static void run_flow(struct flow *f, const char *model, void (*tweak)(struct pv_vpi_options *),
		     const char *config, bool good_sig)
{
	struct pv_vpi_options opts;

	memset(f, 0, sizeof(*f));
	pv_buf_init(&f->code, TEST_BUF_MAX);
	pv_buf_init(&f->image, TEST_BUF_MAX);
	assert_int_equal(pv_vpi_options_init(&opts, pv_board_by_short_name(model), 0), PV_OK);
	opts.reenumerate_ms = 5;
	if (tweak)
		tweak(&opts);
	assert_int_equal(pv_vpi_board_new(&opts, &f->board), PV_OK);
	assert_int_equal(pv_vpi_bus_new(&f->bus), PV_OK);
	assert_int_equal(pv_vpi_bus_add_board(f->bus, f->board), PV_OK);
	if (!f->code.len)
		assert_int_equal(pv_vpi_placeholder_recovery(&f->code), PV_OK);
	if (!f->image.len)
		make_image(&f->image, opts.soc->eeprom_size, 3);
	mini_sha256_hex(f->image.data, f->image.len, f->image_hex);
	snprintf(f->sig, sizeof(f->sig), "%s\nts: 1700000000\n",
		 good_sig ? f->image_hex
			  : "0000000000000000000000000000000000000000000000000000000000000000");
	f->files[f->file_count++] = (struct mini_file){ "pieeprom.bin", f->image.data,
							f->image.len };
	f->files[f->file_count++] = (struct mini_file){ "pieeprom.sig", f->sig, strlen(f->sig) };
	if (config)
		f->files[f->file_count++] = (struct mini_file){ "config.txt", config,
								strlen(config) };
	mini_host_init(&f->host, f->files, f->file_count);
	f->rc = mini_host_run(&f->host, f->bus, f->code.data, f->code.len);
}

static void flow_release(struct flow *f)
{
	mini_host_release(&f->host);
	pv_usb_bus_destroy(f->bus);
	pv_buf_release(&f->code);
	pv_buf_release(&f->image);
}

static void assert_eeprom_is_image(struct flow *f, bool equal)
{
	struct pv_buf eeprom = PV_BUF_INIT(TEST_BUF_MAX);

	assert_int_equal(pv_vpi_board_read_eeprom(f->board, &eeprom), PV_OK);
	assert_int_equal(eeprom.len, f->image.len);
	if (equal)
		assert_memory_equal(eeprom.data, f->image.data, eeprom.len);
	else
		assert_memory_not_equal(eeprom.data, f->image.data, eeprom.len);
	pv_buf_release(&eeprom);
}

static void test_recovery_2711_flow(void **state)
{
	struct flow f;
	struct pv_vpi_result r;
	struct pv_buf transcript = PV_BUF_INIT(TEST_BUF_MAX);
	char expected_meta[1024], mac[PV_MAC_STRLEN];
	const struct pv_vpi_options *o;

	(void)state;
	run_flow(&f, "cm4", NULL, "# recovery\n#recovery_metadata=0\n", true);
	assert_int_equal(f.rc, PV_OK);
	assert_true(f.host.done);
	/* usbboot-protocol.md §3 (#214): config.txt, vl805.sig, pieeprom.sig, pieeprom.upd;
	 * pieeprom.bin when there is no .upd; then the metadata (checked below), then Done. */
	assert_int_equal(strncmp(pv_buf_str(&f.host.requests),
				 "0 config.txt\n1 config.txt\n0 vl805.sig\n0 pieeprom.sig\n"
				 "1 pieeprom.sig\n0 pieeprom.upd\n0 pieeprom.bin\n1 pieeprom.bin\n"
				 "0 *MAC_ADDR*", 125), 0);
	assert_non_null(strstr(pv_buf_str(&f.host.requests), "*ADVANCED_BOOT*0000e8e8\n2 \n"));
	o = pv_vpi_board_options(f.board);
	pv_mac_format(o->mac, ':', mac);
	snprintf(expected_meta, sizeof(expected_meta),
		 "MAC_ADDR=%s\nEEPROM_UPDATE=success\nEEPROM_HASH=%s\n"
		 "CUSTOMER_KEY_HASH=%064d\nBOOT_ROM=0000c8b0\nBOARD_ATTR=00000000\n"
		 "USER_BOARDREV=%x\nJTAG_LOCKED=0\nADVANCED_BOOT=0000e8e8\n",
		 mac, f.image_hex, 0, o->boardrev);
	assert_string_equal(pv_buf_str(&f.host.metadata), expected_meta);
	assert_eeprom_is_image(&f, true);
	pv_vpi_board_result(f.board, &r);
	assert_true(r.recovery && r.image_received && r.signature_ok && r.eeprom_written);
	assert_string_equal(r.eeprom_update, "success");
	assert_string_equal(r.eeprom_hash, f.image_hex);
	assert_int_equal(r.metadata_sent, 9);
	assert_int_equal(r.stage, PV_VPI_STAGE_FINISHED);   /* halts, still attached */
	assert_int_equal(pv_vpi_board_transcript(f.board, &transcript), PV_OK);
	assert_non_null(strstr(pv_buf_str(&transcript), "attach stage=rom serial-index=3"));
	assert_non_null(strstr(pv_buf_str(&transcript), "rom return-code 0\n"
							"detach (re-enumerating)\n"
							"attach stage=second serial-index=4"));
	assert_non_null(strstr(pv_buf_str(&transcript), "program=recovery"));
	assert_non_null(strstr(pv_buf_str(&transcript),
			       "request GetFileSize \"pieeprom.upd\" -> size 0\n"
			       "request GetFileSize \"pieeprom.bin\" -> size 524288\n"));
	assert_non_null(strstr(pv_buf_str(&transcript), "request Done \"\""));
	pv_buf_release(&transcript);
	flow_release(&f);
}

static unsigned char caller_eeprom[512u * 1024u];

static void use_caller_eeprom(struct pv_vpi_options *opts)
{
	opts->eeprom_storage = caller_eeprom;
}

/* opts.eeprom_storage (the fuzz target's way to avoid a 512 KiB allocation per board): the
 * board erases that buffer, flashes into it, and leaves it to its owner when freed (ASan
 * would report a free of this static buffer). */
static void test_eeprom_storage_is_the_callers(void **state)
{
	struct flow f;

	(void)state;
	memset(caller_eeprom, 0x00, sizeof(caller_eeprom));
	run_flow(&f, "pi4", use_caller_eeprom, NULL, false); /* bad signature: nothing written */
	assert_int_equal(f.rc, PV_OK);
	for (size_t i = 0; i < sizeof(caller_eeprom); i++)
		if (caller_eeprom[i] != 0xff)
			fail_msg("byte %zu of the caller's EEPROM is 0x%02x, not erased", i,
				 caller_eeprom[i]);
	flow_release(&f);

	run_flow(&f, "pi4", use_caller_eeprom, NULL, true);
	assert_int_equal(f.rc, PV_OK);
	assert_int_equal(f.image.len, sizeof(caller_eeprom));
	assert_eeprom_is_image(&f, true);
	assert_memory_equal(caller_eeprom, f.image.data, sizeof(caller_eeprom));
	flow_release(&f);
	/* The board is gone; its EEPROM is still the caller's (the first byte of make_image). */
	assert_int_equal(caller_eeprom[0], 3);
}

static unsigned c40_value(char c)
{
	return c >= '0' && c <= '9' ? 4u + (unsigned)(c - '0') : 14u + (unsigned)(c - 'A');
}

static void test_recovery_2712_metadata(void **state)
{
	struct flow f;
	const struct pv_vpi_options *o;
	const char *uuid;
	char expected[32], digits[40] = "";
	unsigned words[3];

	(void)state;
	run_flow(&f, "pi5", NULL, NULL, true);
	assert_int_equal(f.rc, PV_OK);
	o = pv_vpi_board_options(f.board);
	/* the 2712 set, in the order of the documented Pi 5 example */
	assert_non_null(strstr(pv_buf_str(&f.host.requests),
			       "0 pieeprom.sig\n1 pieeprom.sig\n0 pieeprom.upd\n"));
	assert_null(strstr(pv_buf_str(&f.host.requests), "vl805"));
	snprintf(expected, sizeof(expected), "%x", (unsigned)(o->serial & 0xffffffffu));
	assert_string_equal(mini_host_meta(&f.host, "USER_SERIAL_NUM"), expected);
	assert_string_equal(mini_host_meta(&f.host, "BOOT_ROM"), "0000000a");
	assert_string_equal(mini_host_meta(&f.host, "SIGNATURE_MODE"), "0");
	assert_string_equal(mini_host_meta(&f.host, "EEPROM_HASH"), f.image_hex);
	assert_null(mini_host_meta(&f.host, "ADVANCED_BOOT"));
	assert_null(mini_host_meta(&f.host, "SECURE_BOOT_PROVISION"));
	assert_int_equal(strncmp(pv_buf_str(&f.host.metadata), "USER_SERIAL_NUM=", 16), 0);
	assert_non_null(strstr(pv_buf_str(&f.host.metadata), "MAC_BT_ADDR"));
	assert_int_equal(o->mac[0], 0x2c);
	/* WiFi and BT MACs follow the Ethernet one */
	snprintf(expected, sizeof(expected), "2c:cf:67:%02x:%02x:%02x", o->mac[3], o->mac[4],
		 (unsigned)o->mac[5] + 1u);
	if (o->mac[5] < 0xfe)
		assert_string_equal(mini_host_meta(&f.host, "MAC_WIFI_ADDR"), expected);
	/* FACTORY_UUID: decode the C40 words as rpiboot does */
	uuid = mini_host_meta(&f.host, "FACTORY_UUID");
	assert_non_null(uuid);
	assert_int_equal(sscanf(uuid, "%x_%x_%x", &words[0], &words[1], &words[2]), 3);
	for (int w = 0; w < 3; w++) {
		for (int h = 0; h < 2; h++) {
			unsigned v = (words[w] >> (16 * h)) & 0xffff, a, b, c;
			char t[4];
			a = (v - 1) / 1600;
			b = (v - 1 - a * 1600) / 40;
			c = v - 1 - a * 1600 - b * 40;
			t[0] = (char)('0' + a - 4);
			t[1] = (char)('0' + b - 4);
			t[2] = (char)('0' + c - 4);
			t[3] = '\0';
			assert_int_equal(c40_value(t[0]), a);
			memcpy(digits + strlen(digits), t, 4);
		}
	}
	assert_int_equal(strlen(digits), 18);
	assert_int_equal(strncmp(digits, "0010009", 7), 0);
	for (int i = 0; i < 18; i++)
		assert_true(digits[i] >= '0' && digits[i] <= '9');
	flow_release(&f);
}

static void test_bad_signature_is_not_written(void **state)
{
	struct flow f;
	struct pv_vpi_result r;
	struct pv_buf erased = PV_BUF_INIT(TEST_BUF_MAX);
	char erased_hex[65];

	(void)state;
	run_flow(&f, "pi4", NULL, NULL, false);
	assert_int_equal(f.rc, PV_OK);
	assert_string_equal(mini_host_meta(&f.host, "EEPROM_UPDATE"), "failed");
	for (size_t i = 0; i < f.image.len; i++)
		pv_buf_putc(&erased, 0xff);
	mini_sha256_hex(erased.data, erased.len, erased_hex);
	assert_string_equal(mini_host_meta(&f.host, "EEPROM_HASH"), erased_hex);
	pv_vpi_board_result(f.board, &r);
	assert_true(r.image_received);
	assert_false(r.signature_ok);
	assert_false(r.eeprom_written);
	assert_eeprom_is_image(&f, false);
	pv_buf_release(&erased);
	flow_release(&f);
}

static void test_config_switches(void **state)
{
	struct flow f;
	struct pv_vpi_result r;
	bool attached = true;

	(void)state;
	/* recovery_metadata=0 turns the metadata off; recovery_reboot=1 makes it leave */
	run_flow(&f, "pi400", NULL, "recovery_metadata=0\nrecovery_reboot=1\n", true);
	assert_int_equal(f.rc, PV_OK);
	assert_string_equal(pv_buf_str(&f.host.metadata), "");
	assert_eeprom_is_image(&f, true);
	for (int i = 0; i < 100 && attached; i++) {
		pv_usb_bus_wait_event(f.bus, 20);
		pv_vpi_board_poll(f.board, &attached, NULL, NULL);
	}
	pv_vpi_board_result(f.board, &r);
	assert_int_equal(r.stage, PV_VPI_STAGE_GONE);
	flow_release(&f);

	/* program_pubkey=1: SECURE_BOOT_PROVISION is reported */
	run_flow(&f, "cm5", NULL, "program_pubkey=1\n", true);
	assert_string_equal(mini_host_meta(&f.host, "SECURE_BOOT_PROVISION"), "success");
	flow_release(&f);

	/* erase_eeprom=1: EEPROM_ERASE instead of EEPROM_UPDATE, the EEPROM is blank */
	run_flow(&f, "cm4", NULL, "erase_eeprom=1\n", true);
	assert_string_equal(mini_host_meta(&f.host, "EEPROM_ERASE"), "success");
	assert_null(mini_host_meta(&f.host, "EEPROM_UPDATE"));
	flow_release(&f);
}

static void fault_corrupt(struct pv_vpi_options *o)
{
	o->fault = PV_VPI_FAULT_CORRUPT_WRITE;
}

static void fault_fails(struct pv_vpi_options *o)
{
	o->fault = PV_VPI_FAULT_WRITE_FAILS;
}

static void fault_retcode(struct pv_vpi_options *o)
{
	o->fault = PV_VPI_FAULT_RETCODE_LOST;
}

static void fault_unplug_image(struct pv_vpi_options *o)
{
	o->fault = PV_VPI_FAULT_UNPLUG_IMAGE;
}

static void fault_unplug_upload(struct pv_vpi_options *o)
{
	o->fault = PV_VPI_FAULT_UNPLUG_UPLOAD;
}

static void test_faults(void **state)
{
	struct flow f;
	struct pv_vpi_result r;

	(void)state;
	/* a corrupted write still says success: only EEPROM_HASH shows it */
	run_flow(&f, "pi4", fault_corrupt, NULL, true);
	assert_int_equal(f.rc, PV_OK);
	assert_string_equal(mini_host_meta(&f.host, "EEPROM_UPDATE"), "success");
	assert_string_not_equal(mini_host_meta(&f.host, "EEPROM_HASH"), f.image_hex);
	assert_eeprom_is_image(&f, false);
	flow_release(&f);

	run_flow(&f, "pi5", fault_fails, NULL, true);
	assert_string_equal(mini_host_meta(&f.host, "EEPROM_UPDATE"), "failed");
	assert_string_not_equal(mini_host_meta(&f.host, "EEPROM_HASH"), f.image_hex);
	flow_release(&f);

	/* the return code read races the re-enumeration; the flow still completes */
	run_flow(&f, "cm4", fault_retcode, NULL, true);
	assert_int_equal(f.host.rom_rc, PV_ERR_NO_DEVICE);
	assert_int_equal(f.rc, PV_OK);
	assert_string_equal(mini_host_meta(&f.host, "EEPROM_HASH"), f.image_hex);
	flow_release(&f);

	run_flow(&f, "cm5", fault_unplug_image, NULL, true);
	assert_int_equal(f.rc, PV_ERR_NO_DEVICE);
	pv_vpi_board_result(f.board, &r);
	assert_int_equal(r.stage, PV_VPI_STAGE_GONE);
	assert_false(r.eeprom_written);
	flow_release(&f);

	run_flow(&f, "pi4", fault_unplug_upload, NULL, true);
	assert_int_equal(f.rc, PV_ERR_NO_DEVICE);
	pv_vpi_board_result(f.board, &r);
	assert_false(r.second_stage_received);
	flow_release(&f);
}

static void arrive_later(struct pv_vpi_options *o)
{
	o->arrive_after_ms = 60000;
}

/* A power cycle (the bus's power_cycle op) of a board whose recovery program ran and wrote
 * a corrupt image: the board leaves at once (an open transport gets NO_DEVICE), arrives
 * again in its boot ROM with the EEPROM as it was, and a second flow writes the image
 * right: the fault struck once. Nothing plugged in: NO_DEVICE. */
static void test_power_cycle(void **state)
{
	struct pv_buf before = PV_BUF_INIT(TEST_BUF_MAX), after = PV_BUF_INIT(TEST_BUF_MAX);
	struct pv_buf transcript = PV_BUF_INIT(TEST_BUF_MAX);
	struct pv_usb_transport *old_t, *t;
	struct mini_host again;
	struct pv_vpi_result r;
	const char *port, *cycled;
	struct flow f;
	uint8_t sink[4];
	size_t got;

	(void)state;
	run_flow(&f, "pi4", fault_corrupt, NULL, true);
	assert_int_equal(f.rc, PV_OK);
	assert_eeprom_is_image(&f, false);
	assert_int_equal(pv_vpi_board_read_eeprom(f.board, &before), PV_OK);
	port = pv_vpi_board_options(f.board)->port_path;
	pv_vpi_board_result(f.board, &r);
	assert_int_not_equal(r.stage, PV_VPI_STAGE_ROM);
	assert_int_equal(pv_vpi_transport_new(f.board, &old_t), PV_OK);
	assert_int_equal(pv_usb_open(old_t), PV_OK);

	assert_int_equal(pv_usb_bus_power_cycle(f.bus, port), PV_OK);
	assert_int_equal(pv_usb_control_in(old_t, sink, sizeof(sink), &got, 100),
			 PV_ERR_NO_DEVICE);
	pv_usb_transport_destroy(old_t);
	/* back in its boot ROM, with what it had written */
	t = mini_host_wait_device(f.bus, port, pv_vpi_board_options(f.board)->soc->rom_serial_index,
				  5000);
	assert_non_null(t);
	pv_usb_transport_destroy(t);
	pv_vpi_board_result(f.board, &r);
	assert_int_equal(r.stage, PV_VPI_STAGE_ROM);
	assert_int_equal(r.fault, PV_VPI_FAULT_CORRUPT_WRITE);
	assert_int_equal(pv_vpi_board_read_eeprom(f.board, &after), PV_OK);
	assert_int_equal(after.len, before.len);
	assert_memory_equal(after.data, before.data, before.len);
	assert_int_equal(pv_vpi_board_transcript(f.board, &transcript), PV_OK);
	cycled = strstr(pv_buf_str(&transcript), "power cycle: off for 200 ms");
	assert_non_null(cycled);
	assert_non_null(strstr(cycled, "attach stage=rom"));

	mini_host_init(&again, f.files, f.file_count);
	assert_int_equal(mini_host_run(&again, f.bus, f.code.data, f.code.len), PV_OK);
	assert_string_equal(mini_host_meta(&again, "EEPROM_UPDATE"), "success");
	assert_string_equal(mini_host_meta(&again, "EEPROM_HASH"), f.image_hex);
	assert_eeprom_is_image(&f, true);
	mini_host_release(&again);

	assert_int_equal(pv_usb_bus_power_cycle(f.bus, "100-9.9"), PV_ERR_NO_DEVICE);
	pv_vpi_board_unplug(f.board);
	assert_int_equal(pv_usb_bus_power_cycle(f.bus, port), PV_ERR_NO_DEVICE);
	flow_release(&f);

	/* not arrived yet: nothing to switch */
	memset(&f, 0, sizeof(f));
	{
		struct pv_vpi_options opts;

		assert_int_equal(pv_vpi_options_init(&opts, pv_board_by_short_name("pi5"), 0),
				 PV_OK);
		arrive_later(&opts);
		assert_int_equal(pv_vpi_board_new(&opts, &f.board), PV_OK);
		assert_int_equal(pv_vpi_board_power_cycle(f.board), PV_ERR_NO_DEVICE);
		pv_vpi_board_free(f.board);
	}
	pv_buf_release(&transcript);
	pv_buf_release(&after);
	pv_buf_release(&before);
}

static void fault_hang(struct pv_vpi_options *o)
{
	o->fault = PV_VPI_FAULT_HANG;
}

static void test_hang_times_out(void **state)
{
	struct pv_vpi_options opts;
	struct pv_vpi_board *b;
	struct pv_usb_bus *bus;
	struct pv_usb_transport *t;
	struct pv_buf code = PV_BUF_INIT(TEST_BUF_MAX);
	static const char config[] = "x=1\n";
	const struct mini_file files[] = { { "config.txt", config, 4 } };
	struct mini_host h;

	(void)state;
	assert_int_equal(pv_vpi_options_init(&opts, pv_board_by_short_name("pi4"), 0), PV_OK);
	opts.reenumerate_ms = 1;
	fault_hang(&opts);
	assert_int_equal(pv_vpi_board_new(&opts, &b), PV_OK);
	assert_int_equal(pv_vpi_bus_new(&bus), PV_OK);
	assert_int_equal(pv_vpi_bus_add_board(bus, b), PV_OK);
	pv_vpi_placeholder_recovery(&code);
	mini_host_init(&h, files, 1);
	t = mini_host_wait_device(bus, "100-1.1", 3, 500);
	assert_int_equal(mini_host_rom(&h, t, code.data, code.len), PV_OK);
	pv_usb_transport_destroy(t);
	t = mini_host_wait_device(bus, "100-1.1", 4, 1000);
	assert_int_equal(mini_host_serve(&h, t, 100), PV_ERR_TIMEOUT);
	assert_string_equal(pv_buf_str(&h.requests), "0 config.txt\n1 config.txt\n");
	pv_usb_transport_destroy(t);
	mini_host_release(&h);
	pv_buf_release(&code);
	pv_usb_bus_destroy(bus);
}

static char *dump_dir;

static void with_dump(struct pv_vpi_options *o)
{
	o->dump_dir = dump_dir;
}

static void test_dump(void **state)
{
	struct flow f;
	struct pv_buf dumped = PV_BUF_INIT(TEST_BUF_MAX);
	char *path;

	(void)state;
	dump_dir = pv_test_mkdtemp();
	run_flow(&f, "cm4", with_dump, NULL, true);
	assert_int_equal(f.rc, PV_OK);
	assert_int_equal(pv_vpi_bus_write_dumps(f.bus), PV_OK);
	assert_true(asprintf(&path, "%s/%s.bin", dump_dir, pv_vpi_board_serial(f.board)) > 0);
	pv_test_read_file(path, &dumped);
	assert_int_equal(dumped.len, f.image.len);
	assert_memory_equal(dumped.data, f.image.data, dumped.len);
	free(path);
	/* an unwritable directory fails, naming the path */
	assert_int_not_equal(pv_vpi_board_dump(f.board, "/nonexistent/dir"), PV_OK);
	assert_non_null(strstr(pv_last_error(), "/nonexistent/dir"));
	pv_buf_release(&dumped);
	flow_release(&f);
	pv_test_rmtree(dump_dir);
	free(dump_dir);
}

/* The real recovery.bin and release images, when ../shared/fixtures is there. */
static void run_real(const char *model, const char *recovery, const char *image_name)
{
	struct pv_vpi_options opts;
	struct flow f;
	char *path;

	memset(&f, 0, sizeof(f));
	pv_buf_init(&f.code, TEST_BUF_MAX);
	pv_buf_init(&f.image, TEST_BUF_MAX);
	path = pv_test_fixture_path(recovery);
	pv_test_read_file(path, &f.code);
	free(path);
	path = pv_test_fixture_path(image_name);
	pv_test_read_file(path, &f.image);
	free(path);
	assert_int_equal(pv_vpi_options_init(&opts, pv_board_by_short_name(model), 0), PV_OK);
	opts.reenumerate_ms = 5;
	assert_int_equal(pv_vpi_board_new(&opts, &f.board), PV_OK);
	assert_int_equal(pv_vpi_bus_new(&f.bus), PV_OK);
	assert_int_equal(pv_vpi_bus_add_board(f.bus, f.board), PV_OK);
	mini_sha256_hex(f.image.data, f.image.len, f.image_hex);
	snprintf(f.sig, sizeof(f.sig), "%s\nts: 1700000000\n", f.image_hex);
	f.files[0] = (struct mini_file){ "pieeprom.bin", f.image.data, f.image.len };
	f.files[1] = (struct mini_file){ "pieeprom.sig", f.sig, strlen(f.sig) };
	mini_host_init(&f.host, f.files, 2);
	f.rc = mini_host_run(&f.host, f.bus, f.code.data, f.code.len);
	assert_int_equal(f.rc, PV_OK);
	assert_string_equal(mini_host_meta(&f.host, "EEPROM_UPDATE"), "success");
	assert_string_equal(mini_host_meta(&f.host, "EEPROM_HASH"), f.image_hex);
	assert_eeprom_is_image(&f, true);
	flow_release(&f);
}

static void test_real_fixtures(void **state)
{
	(void)state;
	if (!pv_test_fixtures_or_skip())
		return;
	run_real("cm4", "recovery/2711-latest-recovery.bin.gz",
		 "pieeprom/2711/pieeprom-2019-07-15.bin.gz");
	run_real("pi5", "recovery/2712-default-recovery.bin.gz",
		 "pieeprom/2712/pieeprom-2023-09-13.bin.gz");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recovery_2711_flow),
		cmocka_unit_test(test_eeprom_storage_is_the_callers),
		cmocka_unit_test(test_recovery_2712_metadata),
		cmocka_unit_test(test_bad_signature_is_not_written),
		cmocka_unit_test(test_config_switches),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_power_cycle),
		cmocka_unit_test(test_hang_times_out),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_real_fixtures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
