/* The piprov usb command line over virtual boards: exit statuses 0/1/2, the summary table,
 * --json events, plain progress lines in a pipe, usb list, usb boot. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "piprov/buf.h"
#include "test_support.h"

static int run(const char *args, struct pv_buf *out, int merge)
{
	char *piprov = pv_test_program("piprov"), *cmd;
	int status;

	assert_true(asprintf(&cmd, "'%s' %s", piprov, args) > 0);
	pv_buf_reset(out);
	status = pv_test_run(cmd, out, merge);
	free(cmd);
	free(piprov);
	return status;
}

static void test_exit_statuses(void **state)
{
	struct pv_buf out = PV_BUF_INIT(1u << 22);

	(void)state;
	/* 0: every board verified; the table lists them. */
	assert_int_equal(run("usb flash --virtual pi4 --virtual pi5 --preset network", &out, 0), 0);
	assert_non_null(strstr(pv_buf_str(&out), "2 succeeded, 0 failed"));
	/* 1: a board failed (a preset there is only for the Pi 4's chip: nothing is sent to
	 * the Pi 5), with the reason in the table. */
	{
		char *dir = pv_test_mkdtemp(), *sub, *file;
		static const char conf[] = "[all]\nBOOT_ORDER=0xf21\n";

		assert_true(asprintf(&sub, "%s/2711", dir) > 0);
		assert_int_equal(mkdir(sub, 0755), 0);
		assert_true(asprintf(&file, "%s/only4.conf", sub) > 0);
		pv_test_write_file(file, conf, sizeof(conf) - 1);
		setenv("PIPROV_FIRMWARE_TEMPLATES", dir, 1);
		assert_int_equal(run("usb flash --virtual pi4 --virtual pi5 --preset only4", &out, 0),
				 1);
		unsetenv("PIPROV_FIRMWARE_TEMPLATES");
		assert_non_null(strstr(pv_buf_str(&out), "failed"));
		assert_non_null(strstr(pv_buf_str(&out), "1 succeeded, 1 failed"));
		pv_test_rmtree(dir);
		free(dir);
		free(sub);
		free(file);
	}
	/* 2: a preset no chip has is a usage error found before waiting for a board (it failed
	 * every board when they arrived), naming the presets there are. */
	assert_int_equal(run("usb flash --virtual pi4 --preset netwrok", &out, 1), 2);
	assert_non_null(strstr(pv_buf_str(&out), "piprov usb flash: --preset: no preset 'netwrok' "
						  "(presets: http, network, nvme, sd, usb)"));
	assert_null(strstr(pv_buf_str(&out), "waiting for"));
	/* 1: a bad setting is refused by validation before anything is flashed. */
	assert_int_equal(run("usb flash --virtual pi4 BOOT_ORDER=0xf36", &out, 0), 1);
	/* 2: usage errors. */
	assert_int_equal(run("usb flash --count 0 --virtual pi4", &out, 1), 2);
	assert_int_equal(run("usb flash --virtual nosuchboard", &out, 1), 2);
	assert_int_equal(run("usb frobnicate", &out, 1), 2);
	assert_int_equal(run("usb boot --preset network", &out, 1), 2);
	assert_non_null(strstr(pv_buf_str(&out), "--preset is an option of 'usb flash'"));
	assert_int_equal(run("usb flash -d bootfiles --virtual pi4", &out, 1), 2);
	assert_non_null(strstr(pv_buf_str(&out), "--dir is an option of 'usb boot'"));
	assert_int_equal(run("rpiboot -x", &out, 1), 2);
	assert_int_equal(run("rpiboot -o", &out, 1), 2);
	/* rpiboot's own usage errors (upstream: usage, exit 255), before any USB. */
	assert_int_equal(run("rpiboot -m 0", &out, 1), 2);
	assert_int_equal(run("rpiboot -99", &out, 1), 2);
	assert_int_equal(run("rpiboot -3 -p 1-1", &out, 1), 2);
	assert_int_equal(run("rpiboot -d /nonexistent-folder", &out, 1), 2);
	assert_non_null(strstr(pv_buf_str(&out), "no 'bootcode' files found in '/nonexistent-folder'"));
	pv_buf_release(&out);
}

/* A Pi 3 is named for its chip, BCM2837, and the refusal says how a Pi 3 comes to network
 * boot instead (issue 13: it said BCM2836 and nothing more). */
static void test_pi3_is_a_bcm2837_and_told_the_pi3_route(void **state)
{
	struct pv_buf out = PV_BUF_INIT(1u << 22);

	(void)state;
	assert_int_equal(run("usb flash --virtual pi3 --timeout 5", &out, 1), 1);
	assert_non_null(strstr(pv_buf_str(&out), "BCM2837 boards have no bootloader EEPROM"));
	assert_non_null(strstr(pv_buf_str(&out), "piprov-node netboot"));
	assert_null(strstr(pv_buf_str(&out), "2836"));
	assert_int_equal(run("usb flash --virtual pi3 --timeout 5 --json", &out, 0), 1);
	assert_non_null(strstr(pv_buf_str(&out), "\"chip\":\"2837\""));
	pv_buf_release(&out);
}

static void test_json_events(void **state)
{
	struct pv_buf out = PV_BUF_INIT(1u << 22);
	const char *p;
	json_t *last = NULL;
	unsigned lines = 0, verified = 0;

	(void)state;
	assert_int_equal(run("usb flash --json --virtual pi4,count=3 --preset network", &out, 0),
			 0);
	for (p = pv_buf_str(&out); *p;) {
		const char *nl = strchr(p, '\n');
		json_t *obj = json_loadb(p, nl ? (size_t)(nl - p) : strlen(p), 0, NULL);

		assert_non_null(obj);
		if (strcmp(json_string_value(json_object_get(obj, "event")), "verified") == 0)
			verified++;
		json_decref(last);
		last = obj;
		lines++;
		p = nl ? nl + 1 : p + strlen(p);
	}
	assert_true(lines > 10);
	assert_int_equal(verified, 3);
	assert_string_equal(json_string_value(json_object_get(last, "event")), "summary");
	assert_int_equal(json_integer_value(json_object_get(last, "succeeded")), 3);
	assert_int_equal(json_array_size(json_object_get(last, "boards")), 3);
	json_decref(last);
	pv_buf_release(&out);
}

static void test_pipe_progress_and_list(void **state)
{
	struct pv_buf out = PV_BUF_INIT(1u << 22);
	json_t *list;

	(void)state;
	assert_int_equal(run("usb flash --virtual cm4 --preset network", &out, 0), 0);
	/* In a pipe: one plain line per phase, no terminal escapes. */
	assert_non_null(strstr(pv_buf_str(&out), " rom "));
	assert_non_null(strstr(pv_buf_str(&out), " serving "));
	assert_non_null(strstr(pv_buf_str(&out), " verified "));
	assert_null(strchr(pv_buf_str(&out), '\033'));
	assert_int_equal(run("usb list --json --virtual pi4,count=2 --virtual pi5", &out, 0), 0);
	list = json_loads(pv_buf_str(&out), 0, NULL);
	assert_non_null(list);
	assert_int_equal(json_array_size(list), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 2), "stage")),
			    "rom");
	json_decref(list);
	pv_buf_release(&out);
}

static void test_metadata_and_boot(void **state)
{
	struct pv_buf out = PV_BUF_INIT(1u << 22);
	char *dir = pv_test_mkdtemp(), *args, *path;
	json_t *md;

	(void)state;
	assert_true(asprintf(&args, "usb flash --virtual pi5,serial=0c8f7e5cbd989ae1 "
				    "--preset network --metadata '%s/meta'", dir) > 0);
	assert_int_equal(run(args, &out, 0), 0);
	free(args);
	assert_true(asprintf(&path, "%s/meta/bd989ae1.json", dir) > 0);
	md = json_load_file(path, 0, NULL);
	assert_non_null(md);
	assert_string_equal(json_string_value(json_object_get(md, "EEPROM_UPDATE")), "success");
	json_decref(md);
	free(path);
	/* --inventory: the board is recorded with its MAC and the flashed image's hash. */
	assert_true(asprintf(&args, "usb flash --virtual pi4,mac=dc:a6:32:01:02:03 "
				    "--preset network --inventory '%s/inv.cfg'", dir) > 0);
	assert_int_equal(run(args, &out, 0), 0);
	free(args);
	assert_true(asprintf(&path, "%s/inv.cfg", dir) > 0);
	{
		struct pv_buf inv = PV_BUF_INIT(1u << 20);

		pv_test_read_file(path, &inv);
		assert_non_null(strstr(pv_buf_str(&inv), "dc:a6:32:01:02:03"));
		assert_non_null(strstr(pv_buf_str(&inv), "eeprom_hash"));
		pv_buf_release(&inv);
	}
	free(path);
	/* --ip-pool / --hostname-pattern: boards new to the inventory get the next free
	 * address and name; a second run keeps them and numbers a new board after them. */
	assert_true(asprintf(&path, "%s/alloc.cfg", dir) > 0);
	assert_true(asprintf(&args, "usb flash --virtual pi4,count=2 --preset network "
				    "--inventory '%s' --ip-pool 10.0.0.10-10.0.0.20 "
				    "--hostname-pattern node-%%02d", path) > 0);
	assert_int_equal(run(args, &out, 0), 0);
	free(args);
	assert_true(asprintf(&args, "usb flash --virtual pi4,count=2 --virtual pi5 "
				    "--preset network --inventory '%s' "
				    "--ip-pool 10.0.0.10-10.0.0.20 --hostname-pattern node-%%02d",
			     path) > 0);
	assert_int_equal(run(args, &out, 0), 0);
	free(args);
	assert_true(asprintf(&args, "inventory --inventory '%s' list --json", path) > 0);
	assert_int_equal(run(args, &out, 0), 0);
	free(args);
	{
		json_t *list = json_loads(pv_buf_str(&out), 0, NULL);
		const char *want[][2] = { { "10.0.0.10", "node-01" },
					  { "10.0.0.11", "node-02" },
					  { "10.0.0.12", "node-03" } };

		assert_non_null(list);
		assert_int_equal(json_array_size(list), 3);
		for (size_t i = 0; i < 3; i++) {
			json_t *board = json_array_get(list, i);
			assert_string_equal(json_string_value(json_object_get(board, "ip")),
					    want[i][0]);
			assert_string_equal(json_string_value(json_object_get(board, "hostname")),
					    want[i][1]);
		}
		json_decref(list);
	}
	/* Without an inventory, or with a backwards pool: usage errors naming the option. */
	assert_int_equal(run("usb flash --virtual pi4 --ip-pool 10.0.0.1-10.0.0.5", &out, 1), 2);
	assert_non_null(strstr(pv_buf_str(&out), "--inventory"));
	assert_true(asprintf(&args, "usb flash --virtual pi4 --inventory '%s' "
				    "--ip-pool 10.0.0.9-10.0.0.5", path) > 0);
	assert_int_equal(run(args, &out, 1), 2);
	assert_non_null(strstr(pv_buf_str(&out), "--ip-pool: "));
	free(args);
	free(path);
	/* usb boot: serve a folder with the second stage of the chip. */
	assert_true(asprintf(&path, "%s/boot", dir) > 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_true(asprintf(&args, "%s/bootcode4.bin", path) > 0);
	pv_test_write_file(args, "not a real bootloader", 21);
	free(args);
	assert_true(asprintf(&args, "usb boot -d '%s' --virtual pi4", path) > 0);
	assert_int_equal(run(args, &out, 0), 0);
	assert_non_null(strstr(pv_buf_str(&out), "1 succeeded, 0 failed"));
	free(args);
	/* rpiboot -s: like upstream, the folder needs bootsig.bin, and the 20 bytes sent come
	 * from bootcode.sig; each missing piece is named before any USB is touched. */
	assert_true(asprintf(&args, "rpiboot -s -d '%s'", path) > 0);
	assert_int_equal(run(args, &out, 1), 2);
	assert_non_null(strstr(pv_buf_str(&out), "bootsig.bin"));
	{
		char *file;

		assert_true(asprintf(&file, "%s/bootsig.bin", path) > 0);
		pv_test_write_file(file, "marker", 6);
		free(file);
		assert_int_equal(run(args, &out, 1), 1);
		assert_non_null(strstr(pv_buf_str(&out), "bootcode.sig"));
		assert_true(asprintf(&file, "%s/bootcode.sig", path) > 0);
		pv_test_write_file(file, "short", 5);
		free(file);
		assert_int_equal(run(args, &out, 1), 1);
		assert_non_null(strstr(pv_buf_str(&out), "20-byte signature"));
	}
	free(args);
	assert_int_equal(run("rpiboot -s", &out, 1), 2);
	/* A folder without the chip's second stage: that board fails, naming the file. */
	assert_true(asprintf(&args, "usb boot -d '%s' --virtual pi5", path) > 0);
	assert_int_equal(run(args, &out, 1), 1);
	assert_non_null(strstr(pv_buf_str(&out), "bootcode5.bin"));
	free(args);
	free(path);
	pv_test_rmtree(dir);
	free(dir);
	pv_buf_release(&out);
}

/* Issue 15's reproduction: a recovery config.txt whose last line has no newline and ends in a
 * blank made the virtual firmware spin (100 % CPU, --board-timeout and SIGTERM ignored).
 * Now the board is served and the job ends at once; `timeout` turns a hang into a failure. */
static void test_usb_boot_config_without_final_newline_finishes(void **state)
{
	struct pv_buf out = PV_BUF_INIT(1u << 22);
	char *dir = pv_test_mkdtemp(), *path, *args;
	static const char code[] = "PLACEHOLDER pieeprom.sig recovery\n";

	(void)state;
	assert_true(asprintf(&path, "%s/bootcode4.bin", dir) > 0);
	pv_test_write_file(path, code, sizeof(code) - 1);
	free(path);
	assert_true(asprintf(&path, "%s/config.txt", dir) > 0);
	pv_test_write_file(path, "recovery_reboot=1 ", 18);
	free(path);
	/* second-stage=recovery: the file is not the placeholder, and only the recovery
	 * program parses config.txt. */
	assert_true(asprintf(&args, "usb boot -d '%s' --virtual pi4,second-stage=recovery "
				    "--board-timeout 10 --json", dir) > 0);
	{
		char *piprov = pv_test_program("piprov"), *cmd;
		assert_true(asprintf(&cmd, "timeout -s KILL 30 '%s' %s", piprov, args) > 0);
		assert_int_equal(pv_test_run(cmd, &out, 0), 0);
		free(cmd);
		free(piprov);
	}
	assert_non_null(strstr(pv_buf_str(&out), "\"event\":\"booted\""));
	free(args);
	pv_test_rmtree(dir);
	free(dir);
	pv_buf_release(&out);
}

/* meta=KEY:VALUE: the virtual board reports a hostile value verbatim (for the web page's
 * escaping test); the host keeps it as the board sent it. */
static void test_virtual_board_reports_a_given_metadata_value(void **state)
{
	struct pv_buf out = PV_BUF_INIT(1u << 22);
	json_t *summary, *md;
	const char *last;

	(void)state;
	assert_int_equal(run("usb flash --json --preset network --virtual "
			     "'pi4,meta=USER_NOTE:<script>alert(\"x\")</script> & \"q\"'", &out, 0),
			 0);
	last = strstr(pv_buf_str(&out), "{\"event\":\"summary\"");
	assert_non_null(last);
	summary = json_loads(last, 0, NULL);
	assert_non_null(summary);
	md = json_object_get(json_array_get(json_object_get(summary, "boards"), 0), "metadata");
	assert_string_equal(json_string_value(json_object_get(md, "USER_NOTE")),
			    "<script>alert(\"x\")</script> & \"q\"");
	json_decref(summary);
	assert_int_equal(run("usb list --virtual pi4,meta=bad:x", &out, 1), 2);
	assert_non_null(strstr(pv_buf_str(&out), "meta"));
	pv_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_statuses),
		cmocka_unit_test(test_pi3_is_a_bcm2837_and_told_the_pi3_route),
		cmocka_unit_test(test_json_events),
		cmocka_unit_test(test_pipe_progress_and_list),
		cmocka_unit_test(test_metadata_and_boot),
		cmocka_unit_test(test_usb_boot_config_without_final_newline_finishes),
		cmocka_unit_test(test_virtual_board_reports_a_given_metadata_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
