/* piprov-node as a user runs it: `status --json` on every fixture sysroot, and the
 * messages and exit codes for bad input. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_support.h"

static json_t *status_json(const char *board)
{
	char *prog = pv_test_program("piprov-node"), *cmd = NULL;
	struct pv_buf out = PV_BUF_INIT(1 << 20);
	json_error_t err;
	json_t *o;

	assert_true(asprintf(&cmd, "%s '%s' --root '%s/%s' status --json", NODE_EMULATOR, prog, NODE_SYSROOTS,
			     board) > 0);
	assert_int_equal(pv_test_run(cmd, &out, 0), 0);
	o = json_loads(pv_buf_str(&out), 0, &err);
	if (!o)
		fail_msg("bad JSON from '%s': %s\n%s", cmd, err.text, pv_buf_str(&out));
	free(cmd);
	free(prog);
	pv_buf_release(&out);
	return o;
}

static const char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("'%s' is not a string", key);
	return json_string_value(v);
}

struct expected {
	const char *board, *serial, *serial8, *mac, *revision, *model, *soc;
	long long memory_mb;
	const char *version;
	long long build_timestamp;
	const char *boot_order, *prefix;
};

static const struct expected expect[] = {
	{ "pi4b", "10000000f8b73778", "f8b73778", "dc:a6:32:b8:04:5c", "c03115",
	  "Raspberry Pi 4 Model B Rev 1.5", "BCM2711", 4096,
	  "0bd5f8d4a1b1e2c3d4e5f60718293a4b5c6d7e8f", 1746717695, "0xf41", "f8b73778/" },
	{ "pi400", "100000002a1b3c4d", "2a1b3c4d", "e4:5f:01:2a:1b:3c", "c03130",
	  "Raspberry Pi 400 Rev 1.0", "BCM2711", 4096,
	  "5a3e1f2d3c4b5a69788796a5b4c3d2e1f0a1b2c3", 1705000000, "0xf14", "2a1b3c4d/" },
	{ "cm4", "10000000b29d2da0", "b29d2da0", "d8:3a:dd:05:ee:78", "c03140",
	  "Raspberry Pi Compute Module 4 Rev 1.0", "BCM2711", 4096,
	  "9a8b7c6d5e4f30211203f4e5d6c7b8a9f0e1d2c3", 1740000000, "0xf21",
	  "d8-3a-dd-05-ee-78/" },
	{ "pi5", "0c8f7e5cbd989ae1", "bd989ae1", "2c:cf:67:70:76:f3", "d04170",
	  "Raspberry Pi 5 Model B Rev 1.0", "BCM2712", 8192,
	  "83b5e5e61a70a93caee65cbd6aea77bdd485e5b0", 1715613301, "0xf461", "bd989ae1/" },
	{ "cm5", "a7eb274c5e0d1f22", "5e0d1f22", "d8:3a:dd:e4:c9:f0", "c04180",
	  "Raspberry Pi Compute Module 5 Rev 1.0", "BCM2712", 4096,
	  "086b83e3332dfc8927c56762771d082f3077a1ae", 1779807685, "0xf21", "cluster-a/" },
};

static void test_status_eeprom_boards(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		const struct expected *e = &expect[i];
		json_t *o = status_json(e->board), *bl;

		print_message("board %s\n", e->board);
		assert_string_equal(str(o, "serial"), e->serial);
		assert_string_equal(str(o, "serial8"), e->serial8);
		assert_string_equal(str(o, "mac"), e->mac);
		assert_string_equal(str(o, "revision"), e->revision);
		assert_string_equal(str(o, "model"), e->model);
		assert_string_equal(str(o, "soc"), e->soc);
		assert_int_equal(json_integer_value(json_object_get(o, "memory_mb")), e->memory_mb);
		bl = json_object_get(o, "bootloader");
		assert_true(json_is_object(bl));
		assert_string_equal(str(bl, "version"), e->version);
		assert_int_equal(json_integer_value(json_object_get(bl, "build_timestamp")),
				 e->build_timestamp);
		assert_string_equal(str(bl, "capabilities"), "0x7f");
		assert_string_equal(str(o, "boot_order"), e->boot_order);
		assert_string_equal(str(o, "tftp_prefix"), e->prefix);
		assert_non_null(strstr(str(o, "eeprom_config"), e->boot_order));
		assert_true(json_is_true(json_object_get(o, "has_eeprom")));
		json_decref(o);
	}
}

static void test_status_cm4_emmc(void **state)
{
	json_t *o = status_json("cm4");

	(void)state;
	assert_true(json_is_true(json_object_get(o, "emmc")));
	assert_true(json_is_true(json_object_get(o, "netboot")));
	json_decref(o);
	o = status_json("pi4b");
	assert_null(json_object_get(o, "emmc")); /* not a Compute Module */
	assert_true(json_is_false(json_object_get(o, "netboot")));
	json_decref(o);
}

static void test_status_pi3(void **state)
{
	json_t *o = status_json("pi3bplus");

	(void)state;
	assert_string_equal(str(o, "serial8"), "e785c0f2");
	assert_string_equal(str(o, "mac"), "b8:27:eb:85:c0:f2");
	assert_string_equal(str(o, "revision"), "a020d3");
	assert_string_equal(str(o, "soc"), "BCM2837");
	assert_int_equal(json_integer_value(json_object_get(o, "memory_mb")), 1024);
	assert_true(json_is_false(json_object_get(o, "has_eeprom")));
	assert_true(json_is_null(json_object_get(o, "bootloader")));
	assert_true(json_is_null(json_object_get(o, "eeprom_config")));
	/* No mailbox in a sysroot: the OTP bit is unknown, not guessed. */
	assert_true(json_is_null(json_object_get(o, "otp_usb_boot")));
	assert_int_equal(json_array_size(json_object_get(o, "warnings")), 1);
	json_decref(o);
}

static void test_status_errors(void **state)
{
	char *prog = pv_test_program("piprov-node"), *cmd = NULL, *tmp = pv_test_mkdtemp();
	struct pv_buf out = PV_BUF_INIT(1 << 20);

	(void)state;
	assert_true(asprintf(&cmd, "%s '%s' --root '%s/nonexistent' status", NODE_EMULATOR, prog, tmp) > 0);
	assert_int_equal(pv_test_run(cmd, &out, 1), 1);
	assert_non_null(strstr(pv_buf_str(&out), "cannot open root directory"));
	free(cmd);
	pv_buf_reset(&out);
	assert_true(asprintf(&cmd, "%s '%s' --root '%s' status --json", NODE_EMULATOR, prog, tmp) > 0);
	assert_int_equal(pv_test_run(cmd, &out, 1), 1);
	assert_non_null(strstr(pv_buf_str(&out), "no serial number or revision"));
	free(cmd);
	pv_buf_reset(&out);
	assert_true(asprintf(&cmd, "%s '%s' status --bogus", NODE_EMULATOR, prog) > 0);
	assert_int_equal(pv_test_run(cmd, &out, 1), 2);
	free(cmd);
	pv_buf_release(&out);
	pv_test_rmtree(tmp);
	free(tmp);
	free(prog);
}

/* issue 15 item 4: `status` said "error: success" (exit 1, no file named) when the nvmem file
 * was a folder, 1 GB, 64 MiB of text or a link to /dev/zero; a FIFO or device hung or
 * streamed. Each case must fail naming the file and saying what is wrong with it. */
static void test_status_nvmem_file_errors_name_the_file(void **state)
{
	static const struct {
		const char *setup; /* run in the copied root, on the file $N */
		const char *says;
	} cases[] = {
		{ "rm $N && mkdir $N", "is a folder" },
		{ "rm $N && truncate -s 1G $N", "larger than" },
		{ "rm $N && yes BOOT_ORDER=0xf41 | head -c 67108864 > $N", "larger than" },
		{ "rm $N && ln -s /dev/zero $N", "No such file" }, /* absolute links stay in the root */
		{ "rm $N && ln -s ../../../../../../../../../../dev/zero $N", "No such file" },
		{ "rm $N && mkfifo $N", "is a FIFO" },
		{ "rm $N && mknod $N c 1 5", "is a character device" }, /* root only */
	};
	char *prog = pv_test_program("piprov-node"), *tmp = pv_test_mkdtemp();
	struct pv_buf out = PV_BUF_INIT(1 << 20);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *cmd = NULL;

		if (strstr(cases[i].setup, "mknod") && geteuid() != 0)
			continue;
		assert_true(asprintf(&cmd, "rm -rf '%s/r' && cp -a '%s/pi4b' '%s/r' && cd '%s/r' && "
				     "N=sys/devices/platform/rmem/nvmem/rmem0/nvmem && %s", tmp,
				     NODE_SYSROOTS, tmp, tmp, cases[i].setup) > 0);
		pv_buf_reset(&out);
		assert_int_equal(pv_test_run(cmd, &out, 1), 0);
		free(cmd);
		assert_true(asprintf(&cmd, "timeout 20 %s '%s' --root '%s/r' status", NODE_EMULATOR,
				     prog, tmp) > 0);
		pv_buf_reset(&out);
		assert_int_equal(pv_test_run(cmd, &out, 1), 1);
		if (!strstr(pv_buf_str(&out), "sys/bus/nvmem/devices/rmem0/nvmem") ||
		    !strstr(pv_buf_str(&out), cases[i].says) || strstr(pv_buf_str(&out), "success"))
			fail_msg("'%s': %s", cases[i].setup, pv_buf_str(&out));
		free(cmd);
	}
	pv_buf_release(&out);
	pv_test_rmtree(tmp);
	free(tmp);
	free(prog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_eeprom_boards),
		cmocka_unit_test(test_status_cm4_emmc),
		cmocka_unit_test(test_status_pi3),
		cmocka_unit_test(test_status_errors),
		cmocka_unit_test(test_status_nvmem_file_errors_name_the_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
