/* Issue 15 item 6, `piprov usb flash` and its outputs: the inventory and the -j folder are
 * checked before the first board is waited for (a board that arrives only in a minute
 * proves it: the command ends at once), and a verified board that could not be recorded is
 * a failure (exit 1), not "0 boards recorded" and success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "piprov/buf.h"
#include "test_support.h"

static int piprov(const char *args, struct pv_buf *out)
{
	char *program = pv_test_program("piprov"), *cmd;
	int status;

	assert_true(asprintf(&cmd, "'%s' %s", program, args) > 0);
	pv_buf_reset(out);
	status = pv_test_run(cmd, out, 1);
	free(cmd);
	free(program);
	return status;
}

/* A board that would arrive in a minute: if the check came after waiting, the command
 * would sit there. */
#define LATE_BOARD "--virtual pi4,arrive-after=60000 --timeout 120 --preset network"

static void test_flash_refuses_corrupt_inventory_before_waiting(void **state)
{
	char *dir = pv_test_mkdtemp(), *path, *args;
	struct pv_buf out = PV_BUF_INIT(1u << 20);
	static const char corrupt[] = "version = 1;\nboards = ( { serial = ; } );\n";

	(void)state;
	assert_true(asprintf(&path, "%s/inv.cfg", dir) > 0);
	pv_test_write_file(path, corrupt, strlen(corrupt));
	assert_true(asprintf(&args, "usb flash " LATE_BOARD " --inventory '%s'", path) > 0);
	assert_int_equal(piprov(args, &out), 1);
	assert_non_null(strstr(pv_buf_str(&out), "inv.cfg"));
	assert_non_null(strstr(pv_buf_str(&out), "line 2"));
	assert_null(strstr(pv_buf_str(&out), "waiting for"));
	free(args);
	/* A folder in the inventory's place. */
	assert_true(asprintf(&args, "usb flash " LATE_BOARD " --inventory '%s'", dir) > 0);
	assert_int_equal(piprov(args, &out), 1);
	assert_non_null(strstr(pv_buf_str(&out), "not a regular file"));
	assert_null(strstr(pv_buf_str(&out), "waiting for"));
	free(args);
	pv_test_rmtree(dir);
	pv_buf_release(&out);
	free(path);
	free(dir);
}

static void test_flash_refuses_unusable_metadata_folder_before_waiting(void **state)
{
	char *dir = pv_test_mkdtemp(), *file, *args;
	struct pv_buf out = PV_BUF_INIT(1u << 20);

	(void)state;
	assert_true(asprintf(&file, "%s/not-a-folder", dir) > 0);
	pv_test_write_file(file, "x", 1);
	assert_true(asprintf(&args, "usb flash " LATE_BOARD " -j '%s'", file) > 0);
	assert_int_equal(piprov(args, &out), 1);
	assert_non_null(strstr(pv_buf_str(&out), "not-a-folder"));
	assert_null(strstr(pv_buf_str(&out), "waiting for"));
	free(args);
	/* A folder below a file cannot be made either. */
	assert_true(asprintf(&args, "usb flash " LATE_BOARD " -j '%s/meta'", file) > 0);
	assert_int_equal(piprov(args, &out), 1);
	assert_null(strstr(pv_buf_str(&out), "waiting for"));
	free(args);
	pv_test_rmtree(dir);
	pv_buf_release(&out);
	free(file);
	free(dir);
}

/* The inventory is fine at the start and broken (by hand, say) while the board is being
 * written: the board is verified but not recorded, and the command says so and fails. */
static void test_board_not_recorded_is_a_failure(void **state)
{
	char *dir = pv_test_mkdtemp(), *path, *cmd, *program = pv_test_program("piprov");
	struct pv_buf out = PV_BUF_INIT(1u << 20);

	(void)state;
	assert_true(asprintf(&path, "%s/inv.cfg", dir) > 0);
	assert_true(asprintf(&cmd,
			     "'%s' usb flash --virtual pi4,flash-ms=3000 --preset network "
			     "--inventory '%s' & sleep 1; printf 'version = 1;\\nboards = (;\\n' > "
			     "'%s'; wait $!",
			     program, path, path) > 0);
	assert_int_equal(pv_test_run(cmd, &out, 1), 1);
	assert_non_null(strstr(pv_buf_str(&out), "1 succeeded, 0 failed"));
	assert_non_null(strstr(pv_buf_str(&out), "0 recorded, 1 not recorded"));
	pv_test_rmtree(dir);
	pv_buf_release(&out);
	free(cmd);
	free(path);
	free(program);
	free(dir);
}

/* --virtual ...,dump=DIR (netboot's report: a missing DIR printed an error after the run
 * and exited 0): the folder is made before waiting, a file in its place is refused then,
 * and a dump that still cannot be written after the run fails the command. */
static void test_flash_virtual_dump_folder_checked_and_failure_fails(void **state)
{
	char *dir = pv_test_mkdtemp(), *file, *dump, *args, *cmd, *program;
	struct pv_buf out = PV_BUF_INIT(1u << 20);
	struct stat sb;

	(void)state;
	assert_true(asprintf(&file, "%s/not-a-folder", dir) > 0);
	pv_test_write_file(file, "x", 1);
	assert_true(asprintf(&args, "usb flash --virtual pi4,arrive-after=60000,dump='%s' "
				    "--timeout 120 --preset network", file) > 0);
	assert_int_equal(piprov(args, &out), 1);
	assert_non_null(strstr(pv_buf_str(&out), "not-a-folder"));
	assert_null(strstr(pv_buf_str(&out), "waiting for"));
	free(args);
	/* missing: made, and the dump is there after the run */
	assert_true(asprintf(&dump, "%s/dumps", dir) > 0);
	assert_true(asprintf(&args, "usb flash --virtual pi4,dump='%s' --preset network", dump) >
		    0);
	assert_int_equal(piprov(args, &out), 0);
	assert_int_equal(stat(dump, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	{
		char *ls;
		struct pv_buf listing = PV_BUF_INIT(1u << 16);

		assert_true(asprintf(&ls, "ls '%s'", dump) > 0);
		assert_int_equal(pv_test_run(ls, &listing, 0), 0);
		assert_non_null(strstr(pv_buf_str(&listing), ".bin"));
		pv_buf_release(&listing);
		free(ls);
	}
	free(args);
	/* taken away while the board is flashed: the run fails, naming the dump */
	program = pv_test_program("piprov");
	pv_test_rmtree(dump);
	assert_true(asprintf(&cmd,
			     "{ '%s' usb flash --virtual pi4,flash-ms=3000,dump='%s' --preset network "
			     "& sleep 1; rm -rf '%s'; printf x > '%s'; wait $!; }",
			     program, dump, dump, dump) > 0);
	assert_int_equal(pv_test_run(cmd, &out, 1), 1);
	assert_non_null(strstr(pv_buf_str(&out), "1 succeeded, 0 failed"));
	assert_non_null(strstr(pv_buf_str(&out), "virtual EEPROM dump"));
	pv_test_rmtree(dir);
	pv_buf_release(&out);
	free(program);
	free(cmd);
	free(dump);
	free(file);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flash_refuses_corrupt_inventory_before_waiting),
		cmocka_unit_test(test_flash_refuses_unusable_metadata_folder_before_waiting),
		cmocka_unit_test(test_board_not_recorded_is_a_failure),
		cmocka_unit_test(test_flash_virtual_dump_folder_checked_and_failure_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
