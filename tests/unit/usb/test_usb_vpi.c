/* The job engine against the virtual Pi: exact recovery-flash transcripts (2711, 2712), the
 * verification rule (match and mismatch), hostile scripted devices, 32 boards at once, and
 * the real recovery.bin + release images from ../shared/fixtures when present. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "piprov/board.h"
#include "piprov/eeprom.h"
#include "piprov/error.h"
#include "piprov/usb.h"
#include "piprov/usb_fault.h"
#include "piprov/text.h"
#include "piprov/vpi.h"
#include "test_support.h"
#include "usb_vpi_rig.h"

static void test_transcript(const char *spec, const char *expected_template)
{
	struct rig rig;
	struct pv_usb_job_result result;
	struct pv_buf transcript = PV_BUF_INIT(1u << 20), expected = PV_BUF_INIT(1u << 20);
	const struct pv_usb_payload *payload = NULL;
	struct pv_vpi_board *board;
	const struct pv_soc_info *soc;

	rig_init(&rig);
	rig_add_spec(&rig, spec);
	rig_run(&rig, PV_USB_JOB_FLASH, 1, &result);
	assert_int_equal(result.count, 1);
	assert_int_equal(result.boards[0].outcome, PV_USB_PHASE_VERIFIED);
	soc = result.boards[0].soc;
	assert_int_equal(pv_usb_payload_set_get(rig.set, soc, &payload), PV_OK);
	board = pv_vpi_bus_board_at(rig.vbus, 0);
	assert_int_equal(pv_vpi_board_transcript(board, &transcript), PV_OK);
	rig_expand(&expected, expected_template, payload, soc->chip);
	rig_mask_times(&transcript);
	if (!rig_match(pv_buf_str(&transcript), pv_buf_str(&expected))) {
		fprintf(stderr, "---- got\n%s---- expected\n%s", pv_buf_str(&transcript),
			pv_buf_str(&expected));
		fail_msg("transcript differs");
	}
	pv_buf_release(&transcript);
	pv_buf_release(&expected);
	pv_usb_job_result_release(&result);
	rig_release(&rig);
}

/* @CODE@ = second-stage size, @CODEHASH@ its sha256, @IMG@/@IMGHASH@ pieeprom.bin,
 * @SIG@ pieeprom.sig size, @CFG@ config.txt size, N = masked milliseconds. */
static void test_transcript_2711(void **state)
{
	(void)state;
	test_transcript("pi4,serial=10000000c0ffee01,mac=dc:a6:32:00:00:01",
			"attach stage=rom serial-index=3 port=@ANY@\n"
			"rom boot-message length=@CODE@\n"
			"rom second-stage @CODE@ bytes sha256=@CODEHASH@ program=recovery (placeholder)\n"
			"rom return-code 0\n"
			"detach (re-enumerating)\n"
			"attach stage=second serial-index=4 port=100-1.1\n"
			"request GetFileSize \"config.txt\" -> size @CFG@\n"
			"request ReadFile \"config.txt\" -> @CFG@ bytes sha256=@CFGHASH@\n"
			"request GetFileSize \"vl805.sig\" -> size 0\n"
			"request GetFileSize \"pieeprom.sig\" -> size @SIG@\n"
			"request ReadFile \"pieeprom.sig\" -> @SIG@ bytes sha256=@SIGHASH@\n"
			"request GetFileSize \"pieeprom.upd\" -> size 0\n"
			"request GetFileSize \"pieeprom.bin\" -> size @IMG@\n"
			"request ReadFile \"pieeprom.bin\" -> @IMG@ bytes sha256=@IMGHASH@\n"
			"flash \"pieeprom.bin\" @IMG@ bytes sha256=@IMGHASH@ in N ms\n"
			"request metadata \"*MAC_ADDR*dc:a6:32:00:00:01\" -> ack\n"
			"request metadata \"*EEPROM_UPDATE*success\" -> ack\n"
			"request metadata \"*EEPROM_HASH*@IMGHASH@\" -> ack\n"
			"request metadata \"*CUSTOMER_KEY_HASH*"
			"0000000000000000000000000000000000000000000000000000000000000000\" -> ack\n"
			"request metadata \"*BOOT_ROM*@ANY@\" -> ack\n"
			"request metadata \"*BOARD_ATTR*00000000\" -> ack\n"
			"request metadata \"*USER_BOARDREV*@ANY@\" -> ack\n"
			"request metadata \"*JTAG_LOCKED*0\" -> ack\n"
			"request metadata \"*ADVANCED_BOOT*@ANY@\" -> ack\n"
			"request Done \"\"\n");
}

static void test_transcript_2712(void **state)
{
	(void)state;
	test_transcript("pi5,serial=0c8f7e5cbd989ae1,mac=2c:cf:67:70:76:f3",
			"attach stage=rom serial-index=3 port=@ANY@\n"
			"rom boot-message length=@CODE@\n"
			"rom second-stage @CODE@ bytes sha256=@CODEHASH@ program=recovery (placeholder)\n"
			"rom return-code 0\n"
			"detach (re-enumerating)\n"
			"attach stage=second serial-index=4 port=100-1.1\n"
			"request GetFileSize \"config.txt\" -> size @CFG@\n"
			"request ReadFile \"config.txt\" -> @CFG@ bytes sha256=@CFGHASH@\n"
			"request GetFileSize \"pieeprom.sig\" -> size @SIG@\n"
			"request ReadFile \"pieeprom.sig\" -> @SIG@ bytes sha256=@SIGHASH@\n"
			"request GetFileSize \"pieeprom.upd\" -> size 0\n"
			"request GetFileSize \"pieeprom.bin\" -> size @IMG@\n"
			"request ReadFile \"pieeprom.bin\" -> @IMG@ bytes sha256=@IMGHASH@\n"
			"flash \"pieeprom.bin\" @IMG@ bytes sha256=@IMGHASH@ in N ms\n"
			"request metadata \"*USER_SERIAL_NUM*bd989ae1\" -> ack\n"
			"request metadata \"*MAC_ADDR*2c:cf:67:70:76:f3\" -> ack\n"
			"request metadata \"*EEPROM_UPDATE*success\" -> ack\n"
			"request metadata \"*EEPROM_HASH*@IMGHASH@\" -> ack\n"
			"request metadata \"*CUSTOMER_KEY_HASH*"
			"0000000000000000000000000000000000000000000000000000000000000000\" -> ack\n"
			"request metadata \"*BOOT_ROM*@ANY@\" -> ack\n"
			"request metadata \"*BOARD_ATTR*00000000\" -> ack\n"
			"request metadata \"*USER_BOARDREV*@ANY@\" -> ack\n"
			"request metadata \"*JTAG_LOCKED*0\" -> ack\n"
			"request metadata \"*SIGNATURE_MODE*0\" -> ack\n"
			"request metadata \"*MAC_WIFI_ADDR*2c:cf:67:70:76:f4\" -> ack\n"
			"request metadata \"*MAC_BT_ADDR*2c:cf:67:70:76:f5\" -> ack\n"
			"request metadata \"*FACTORY_UUID*@ANY@\" -> ack\n"
			"request Done \"\"\n");
}

/* The verification rule: verified only when EEPROM_UPDATE=success and EEPROM_HASH is the
 * sha256 of the pieeprom.bin served; the device-side faults make each half fail. */
static void test_verification_rule(void **state)
{
	struct rig rig;
	struct pv_usb_job_result result;
	const struct pv_usb_payload *payload = NULL;
	enum pv_vpi_fault faults[] = { PV_VPI_FAULT_NONE, PV_VPI_FAULT_CORRUPT_WRITE,
				       PV_VPI_FAULT_WRITE_FAILS };

	(void)state;
	rig_init(&rig);
	for (size_t i = 0; i < 3; i++)
		rig_add_board(&rig, "pi4", (unsigned)i, faults[i]);
	rig_run(&rig, PV_USB_JOB_FLASH, 3, &result);
	assert_int_equal(result.count, 3);
	assert_int_equal(result.succeeded, 1);
	assert_int_equal(result.failed, 2);
	assert_int_equal(pv_usb_payload_set_get(rig.set, pv_soc_info(PV_SOC_BCM2711), &payload),
			 PV_OK);
	for (size_t i = 0; i < result.count; i++) {
		const struct pv_usb_board_result *b = &result.boards[i];
		struct pv_vpi_board *board = rig_board_by_port(&rig, b->port_path);
		struct pv_vpi_result vr;

		pv_vpi_board_result(board, &vr);
		if (vr.fault == PV_VPI_FAULT_NONE) {
			assert_int_equal(b->outcome, PV_USB_PHASE_VERIFIED);
			assert_string_equal(pv_usb_metadata_get(&b->metadata, "EEPROM_HASH"),
					    payload->image_sha256);
			rig_assert_eeprom_sha(board, payload->image_sha256, true);
		} else if (vr.fault == PV_VPI_FAULT_CORRUPT_WRITE) {
			/* The firmware said success, but the read-back hash differs. */
			assert_int_equal(b->outcome, PV_USB_PHASE_FAILED);
			assert_string_equal(pv_usb_metadata_get(&b->metadata, "EEPROM_UPDATE"),
					    "success");
			assert_non_null(strstr(b->reason, "EEPROM_HASH"));
			rig_assert_eeprom_sha(board, payload->image_sha256, false);
		} else {
			assert_int_equal(b->outcome, PV_USB_PHASE_FAILED);
			assert_non_null(strstr(b->reason, "EEPROM_UPDATE"));
		}
	}
	pv_usb_job_result_release(&result);
	rig_release(&rig);
}

/* Hostile device: the second stage asks for files outside the served folder in every way
 * the issue lists; each gets "not found", and the folder's hook saw no such open. */
static void test_hostile_device(void **state)
{
	struct rig rig;
	struct pv_usb_job_result result;
	struct pv_vpi_request script[8];
	size_t n = 0;
	char *served, *sentinel, *link;

	(void)state;
	rig_init(&rig);
	assert_true(asprintf(&served, "%s/served", rig.dir) > 0);
	assert_true(asprintf(&sentinel, "%s/sentinel", rig.dir) > 0);
	assert_true(asprintf(&link, "%s/escape", served) > 0);
	assert_int_equal(mkdir(served, 0755), 0);
	pv_test_write_file(sentinel, "secret", 6);
	assert_int_equal(symlink("../sentinel", link), 0);
	rig_write(served, "bootcode4.bin", "second stage stand-in");
	rig_write(served, "config.txt", "ok");
	memset(script, 0, sizeof(script));
	rig_script(&script[n++], 0, "../../etc/passwd", 0);
	rig_script(&script[n++], 1, "/etc/shadow", 0);
	rig_script(&script[n++], 0, "escape", 0);
	rig_script(&script[n++], 1, "escape", 0);
	rig_script(&script[n++], 7, "config.txt", 0);
	/* 256 name bytes and no NUL; then a 300-byte message (the host reads 260). */
	script[n].command = 0;
	memset(script[n].name, 'A', sizeof(script[n].name));
	script[n].name_len = sizeof(script[n].name);
	n++;
	script[n].command = 0;
	memset(script[n].name, 'B', sizeof(script[n].name));
	script[n].name_len = sizeof(script[n].name);
	script[n].message_len = 300;
	n++;
	rig_script(&script[n++], 0, "config.txt", 0); /* a legitimate one still works */
	rig_add_scripted(&rig, "pi4", script, n);
	rig_serve_folder(&rig, served);
	rig_run(&rig, PV_USB_JOB_BOOT, 1, &result);
	assert_int_equal(result.count, 1);
	for (size_t i = 0; i + 1 < n; i++) {
		uint32_t size = 1;
		uint64_t sent = 1;

		assert_int_equal(pv_vpi_board_script_answer(pv_vpi_bus_board_at(rig.vbus, 0), i,
							     &size, &sent), PV_OK);
		assert_int_equal(size, 0);
		assert_int_equal(sent, 0);
	}
	{
		uint32_t size = 0;
		uint64_t sent = 0;
		assert_int_equal(pv_vpi_board_script_answer(pv_vpi_bus_board_at(rig.vbus, 0),
							     n - 1, &size, &sent), PV_OK);
		assert_int_equal(size, 2);
	}
	/* Only the second stage and config.txt were ever opened. */
	assert_string_equal(pv_buf_str(&rig.opened), "bootcode4.bin\nconfig.txt\n");
	pv_usb_job_result_release(&result);
	free(served);
	free(sentinel);
	free(link);
	rig_release(&rig);
}

/* 32 boards at once: all verified, and each dumped EEPROM holds the requested config as
 * `piprov eeprom config` prints it. */
static void test_32_boards(void **state)
{
	struct rig rig;
	struct pv_usb_job_result result;
	char *dump_dir, *spec4, *spec5, *piprov;
	const char *settings[] = { "DHCP_TIMEOUT=45000" };
	size_t checked = 0;

	(void)state;
	rig_init(&rig);
	assert_true(asprintf(&dump_dir, "%s/dumps", rig.dir) > 0);
	assert_int_equal(mkdir(dump_dir, 0755), 0);
	assert_true(asprintf(&spec4, "pi4,count=16,flash-ms=50,dump=%s", dump_dir) > 0);
	assert_true(asprintf(&spec5, "cm5,count=16,flash-ms=50,dump=%s", dump_dir) > 0);
	rig_add_spec(&rig, spec4);
	rig_add_spec(&rig, spec5);
	rig.flash.preset = "network";
	rig.flash.settings = settings;
	rig.flash.setting_count = 1;
	rig_run(&rig, PV_USB_JOB_FLASH, 0, &result);
	assert_int_equal(result.count, 32);
	assert_int_equal(result.succeeded, 32);
	assert_int_equal(pv_vpi_bus_write_dumps(rig.vbus), PV_OK);
	piprov = pv_test_program("piprov");
	for (size_t i = 0; i < pv_vpi_bus_board_count(rig.vbus); i++) {
		struct pv_vpi_board *board = pv_vpi_bus_board_at(rig.vbus, i);
		const struct pv_usb_payload_report *report = pv_usb_payload_set_report(
			rig.set, pv_vpi_board_options(board)->soc);
		struct pv_buf out = PV_BUF_INIT(1u << 20);
		char *cmd;

		assert_non_null(report);
		assert_true(asprintf(&cmd, "'%s' eeprom config '%s/%s.bin'", piprov, dump_dir,
				     pv_vpi_board_serial(board)) > 0);
		assert_int_equal(pv_test_run(cmd, &out, 0), 0);
		assert_string_equal(pv_buf_str(&out), report->bootconf);
		assert_non_null(strstr(pv_buf_str(&out), "BOOT_ORDER=0xf21\n"));
		assert_non_null(strstr(pv_buf_str(&out), "DHCP_TIMEOUT=45000\n"));
		checked++;
		free(cmd);
		pv_buf_release(&out);
	}
	assert_int_equal(checked, 32);
	free(piprov);
	free(spec4);
	free(spec5);
	free(dump_dir);
	pv_usb_job_result_release(&result);
	rig_release(&rig);
}

/* The real recovery.bin and release images (../shared/fixtures), gzip-compressed there. */
static void test_real_firmware(void **state)
{
	const char *fx = pv_test_fixtures_or_skip();
	static const char *const cases[][3] = {
		{ "pi4", "recovery/2711-default-recovery.bin.gz",
		  "pieeprom/2711/pieeprom-2026-05-17.bin.gz" },
		{ "pi5", "recovery/2712-default-recovery.bin.gz",
		  "pieeprom/2712/pieeprom-2026-08-12.bin.gz" },
	};

	(void)state;
	(void)fx;
	for (size_t i = 0; i < 2; i++) {
		struct rig rig;
		struct pv_usb_job_result result;
		char *recovery = pv_test_fixture_path(cases[i][1]);
		char *image = pv_test_fixture_path(cases[i][2]);

		if (!rig_file_present(recovery) || !rig_file_present(image)) {
			free(recovery);
			free(image);
			continue;
		}
		rig_init(&rig);
		rig.flash.recovery_path = recovery;
		rig.flash.image_path = image;
		rig.flash.preset = "network";
		rig_add_spec(&rig, cases[i][0]);
		rig_run(&rig, PV_USB_JOB_FLASH, 1, &result);
		assert_int_equal(result.count, 1);
		if (result.boards[0].outcome != PV_USB_PHASE_VERIFIED)
			fprintf(stderr, "%s: %s\n", cases[i][0], result.boards[0].reason);
		assert_int_equal(result.boards[0].outcome, PV_USB_PHASE_VERIFIED);
		assert_string_equal(
			pv_usb_payload_set_report(rig.set, result.boards[0].soc)->recovery_source,
			recovery);
		pv_usb_job_result_release(&result);
		rig_release(&rig);
		free(recovery);
		free(image);
	}
}

/* The bytes of a served memory file (flash payloads serve from memory). */
static const unsigned char *memfile(const struct pv_usb_payload *payload, const char *name,
				    size_t *size)
{
	struct pv_usb_served_file f;
	const unsigned char *data;

	assert_int_equal(pv_usb_files_open(payload->files, "2711", "", name, &f), PV_OK);
	assert_int_equal(f.fd, -1);
	data = f.data;
	*size = (size_t)f.size;
	pv_usb_served_file_close(&f);
	return data;
}

/* Issue 14: a flash payload is built without hashing its image (so the first board's ROM
 * upload does not wait for it); pieeprom.sig already has its final length, and complete()
 * hashes the image once, into the .sig's first line and image_sha256. A cancelled job
 * leaves the work for the next call. */
static void test_flash_image_digest_after_the_build(void **state)
{
	struct rig rig;
	struct pv_usb_payload_set *set;
	const struct pv_usb_payload *payload;
	const unsigned char *sig, *image;
	size_t sig_size, sig_size_after, image_size;
	static const char zeros[] = "0000000000000000000000000000000000000000000000000000000000000000\nts: ";
	volatile int cancel = 1;
	char want[65];

	(void)state;
	rig_init(&rig);
	assert_int_equal(pv_usb_flash_payloads_new(&rig.flash, &set), PV_OK);
	assert_int_equal(pv_usb_payload_set_get(set, pv_soc_info(PV_SOC_BCM2711), &payload), PV_OK);
	assert_non_null(payload->complete);
	sig = memfile(payload, "pieeprom.sig", &sig_size);
	assert_memory_equal(sig, zeros, sizeof(zeros) - 1);
	assert_string_equal(payload->image_sha256, "");
	assert_int_equal(payload->complete(payload, &cancel), PV_ERR_INTERRUPTED);
	assert_memory_equal(sig, zeros, sizeof(zeros) - 1);
	cancel = 0;
	assert_int_equal(payload->complete(payload, &cancel), PV_OK);
	image = memfile(payload, "pieeprom.bin", &image_size);
	pv_usb_sha256_hex(image, image_size, want);
	assert_string_equal(payload->image_sha256, want);
	sig = memfile(payload, "pieeprom.sig", &sig_size_after);
	assert_int_equal(sig_size_after, sig_size);
	assert_memory_equal(sig, want, 64);
	assert_memory_equal(sig + 64, "\nts: ", 5);
	/* Once: a later call (another board of the chip) returns at once. */
	cancel = 1;
	assert_int_equal(payload->complete(payload, &cancel), PV_OK);
	pv_usb_payload_set_free(set);
	rig_release(&rig);
}

/* A new vpi bus holding one board, at `port`. */
static struct pv_usb_bus *bus_with_board(const char *port, struct pv_vpi_board **board)
{
	struct pv_vpi_options opts;
	struct pv_usb_bus *bus;

	assert_int_equal(pv_vpi_options_init(&opts, pv_board_by_short_name("pi4"), 0), PV_OK);
	pv_strlcpy(opts.port_path, port, sizeof(opts.port_path));
	assert_int_equal(pv_vpi_board_new(&opts, board), PV_OK);
	assert_int_equal(pv_vpi_bus_new(&bus), PV_OK);
	assert_int_equal(pv_vpi_bus_add_board(bus, *board), PV_OK);
	return bus;
}

/* The virtual bus's ops without power_cycle: a bus that cannot switch its ports. */
static struct pv_usb_bus_ops without_power_cycle;

/* pv_usb_bus_power_cycle through the wrapping buses: the combined bus forwards it to the
 * member holding the port (as its last scan saw it), the fault bus to its inner bus, and a
 * bus without the op says PV_ERR_UNSUPPORTED naming the port. */
static void test_power_cycle_through_buses(void **state)
{
	struct pv_usb_fault_schedule none = { .count = 0 };
	struct pv_usb_bus *buses[2], *combined, *faulty;
	struct pv_vpi_board *cycled, *fixed, *inner_board;
	struct pv_usb_device_info *devices;
	struct pv_buf transcript = PV_BUF_INIT(1u << 20);
	size_t count;

	(void)state;
	buses[0] = bus_with_board("100-1.1", &cycled);
	buses[1] = bus_with_board("200-1.1", &fixed);
	without_power_cycle = *buses[1]->ops;
	without_power_cycle.power_cycle = NULL;
	buses[1]->ops = &without_power_cycle;
	assert_int_equal(pv_usb_combined_bus_new(buses, 2, &combined), PV_OK);
	/* before any scan the combined bus knows no port */
	assert_int_equal(pv_usb_bus_power_cycle(combined, "100-1.1"), PV_ERR_NO_DEVICE);
	assert_int_equal(pv_usb_bus_scan(combined, &devices, &count), PV_OK);
	assert_int_equal(count, 2);
	free(devices);
	assert_int_equal(pv_usb_bus_power_cycle(combined, "100-1.1"), PV_OK);
	assert_int_equal(pv_vpi_board_transcript(cycled, &transcript), PV_OK);
	assert_non_null(strstr(pv_buf_str(&transcript), "power cycle"));
	pv_buf_reset(&transcript);
	assert_int_equal(pv_usb_bus_power_cycle(combined, "200-1.1"), PV_ERR_UNSUPPORTED);
	assert_non_null(strstr(pv_last_error(), "200-1.1"));
	assert_int_equal(pv_vpi_board_transcript(fixed, &transcript), PV_OK);
	assert_null(strstr(pv_buf_str(&transcript), "power cycle"));
	assert_int_equal(pv_usb_bus_power_cycle(combined, "300-1.1"), PV_ERR_NO_DEVICE);
	pv_usb_bus_destroy(combined);

	assert_int_equal(pv_usb_fault_bus_new(bus_with_board("100-1.2", &inner_board), &none,
					      &faulty), PV_OK);
	assert_int_equal(pv_usb_bus_power_cycle(faulty, "100-1.2"), PV_OK);
	pv_buf_reset(&transcript);
	assert_int_equal(pv_vpi_board_transcript(inner_board, &transcript), PV_OK);
	assert_non_null(strstr(pv_buf_str(&transcript), "power cycle"));
	assert_int_equal(pv_usb_bus_power_cycle(faulty, "100-1.3"), PV_ERR_NO_DEVICE);
	pv_usb_bus_destroy(faulty);
	pv_buf_release(&transcript);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transcript_2711),
		cmocka_unit_test(test_transcript_2712),
		cmocka_unit_test(test_verification_rule),
		cmocka_unit_test(test_hostile_device),
		cmocka_unit_test(test_32_boards),
		cmocka_unit_test(test_real_firmware),
		cmocka_unit_test(test_flash_image_digest_after_the_build),
		cmocka_unit_test(test_power_cycle_through_buses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
