/* `piprov uart ...` as a user runs it: output, exit statuses, messages naming the file, and
 * `capture --inventory` writing the board into an inventory file. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/inventory.h"
#include "uart_test_util.h"

static char *piprov;

/* Run `piprov uart <args>`; args is a printf format. */
static int run(struct pv_buf *out, int merge_stderr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int run(struct pv_buf *out, int merge_stderr, const char *fmt, ...)
{
	char *args = NULL, *command = NULL;
	va_list ap;
	int status;

	va_start(ap, fmt);
	assert_true(vasprintf(&args, fmt, ap) >= 0);
	va_end(ap);
	assert_true(asprintf(&command, "'%s' uart %s", piprov, args) > 0);
	pv_buf_reset(out);
	status = pv_test_run(command, out, merge_stderr);
	free(args);
	free(command);
	return status;
}

static void assert_contains(const struct pv_buf *text, const char *needle)
{
	if (!strstr(pv_buf_str(text), needle))
		fail_msg("expected \"%s\" in:\n%s", needle, pv_buf_str(text));
}

static void test_parse_json_lines(void **state)
{
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX);
	char *a = uart_test_log_path("pi4-folder-missing.log");
	char *b = uart_test_log_path("cm4-2024-ok-crlf.log");
	char *save = NULL, *line;
	int objects = 0;

	(void)state;
	assert_int_equal(run(&out, 0, "parse --json '%s' '%s'", a, b), 0);
	for (line = strtok_r((char *)out.data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		json_t *obj = json_loads(line, 0, NULL);

		assert_non_null(obj);
		assert_non_null(json_string_value(json_object_get(obj, "file")));
		if (objects == 0) {
			assert_string_equal(json_string_value(json_object_get(obj, "serial8")),
					    "1234abcd");
			assert_string_equal(json_string_value(json_object_get(obj, "reason")),
					    "tftp-file-not-found");
		} else {
			assert_string_equal(json_string_value(json_object_get(obj, "result")),
					    "ok");
		}
		json_decref(obj);
		objects++;
	}
	assert_int_equal(objects, 2);
	free(a);
	free(b);
	pv_buf_release(&out);
}

static void test_parse_text_and_errors(void **state)
{
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX);
	char *a = uart_test_log_path("no-option43.log");

	(void)state;
	assert_int_equal(run(&out, 0, "parse '%s'", a), 0);
	assert_contains(&out, "serial8:            5e1ec7ed");
	assert_contains(&out, "reason:             no-pxe-option43");
	/* a missing file: named, non-zero exit; the other file is still reported */
	assert_int_equal(run(&out, 1, "parse /nonexistent/boot.log '%s'", a), 1);
	assert_contains(&out, "'/nonexistent/boot.log'");
	assert_contains(&out, "5e1ec7ed");
	/* usage errors exit 2 */
	assert_int_equal(run(&out, 1, "parse"), 2);
	assert_int_equal(run(&out, 1, "capture '%s' --until soon", a), 2);
	assert_contains(&out, "--until");
	assert_int_equal(run(&out, 1, "capture '%s' --baud 12345", a), 2);
	assert_int_equal(run(&out, 1, "frobnicate"), 2);
	/* a file that is no bootloader log: named, exit 1, no report of dashes */
	assert_int_equal(run(&out, 1, "parse /etc/passwd"), 1);
	assert_contains(&out, "'/etc/passwd': no bootloader output in ");
	assert_null(strstr(pv_buf_str(&out), "serial8:"));
	assert_int_equal(run(&out, 1, "--json parse /etc/passwd '%s'", a), 1);
	assert_null(strstr(pv_buf_str(&out), "\"file\":\"/etc/passwd\""));
	assert_contains(&out, "\"file\":\"");
	/* attempts, in order */
	assert_contains(&out, "\"attempts\":[{\"mode\":\"NETWORK\"");
	free(a);
	a = uart_test_log_path("pi4-network-restart.log");
	assert_int_equal(run(&out, 0, "parse '%s'", a), 0);
	assert_contains(&out, "boot_mode:          NETWORK\n");
	assert_contains(&out, "attempts:           1. NETWORK failed tftp-file-not-found "
			      "25a12658/start4.elf (3 requests)\n"
			      "                    2. RESTART not-network none\n");
	free(a);
	pv_buf_release(&out);
}

static void test_diagnose_folder_missing(void **state)
{
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX);
	char *a = uart_test_log_path("pi4-folder-missing.log");

	(void)state;
	assert_int_equal(run(&out, 0, "diagnose '%s'", a), 0);
	assert_contains(&out, "asked for '1234abcd/start4.elf' on 10.0.0.2");
	assert_contains(&out, "piprov inventory export tftp");
	/* --json (before or after the command): one object, the advice in its fields */
	{
		json_t *obj;

		assert_int_equal(run(&out, 0, "diagnose '%s' --json", a), 0);
		obj = json_loads(pv_buf_str(&out), 0, NULL);
		assert_non_null(obj);
		assert_string_equal(json_string_value(json_object_get(obj, "reason")),
				    "tftp-file-not-found");
		assert_non_null(strstr(json_string_value(json_object_get(obj, "next_step")),
				       "piprov inventory export tftp"));
		json_decref(obj);
	}
	/* no bootloader output: the wiring advice, and exit 1 naming the file */
	assert_int_equal(run(&out, 1, "diagnose /etc/passwd"), 1);
	assert_contains(&out, "No bootloader output was recognised");
	assert_contains(&out, "'/etc/passwd': no bootloader output");
	free(a);
	pv_buf_release(&out);
}

/* capture from stdin with --inventory: the log is echoed, the summary printed, and the
 * board recorded with source "uart". */
static void test_capture_stdin_into_inventory(void **state)
{
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX);
	struct pv_inventory inv;
	struct pv_inventory_record *rec;
	char *dir = pv_test_mkdtemp();
	char *inventory = NULL;
	char *log = uart_test_log_path("cm4-2024-ok-crlf.log");
	char *command = NULL;

	(void)state;
	assert_true(asprintf(&inventory, "%s/boards.cfg", dir) > 0);
	assert_true(asprintf(&command, "'%s' uart capture - --inventory '%s' < '%s'", piprov,
			     inventory, log) > 0);
	assert_int_equal(pv_test_run(command, &out, 1), 0);
	assert_contains(&out, "BOOTMODE: 0x06 partition 0"); /* the live echo */
	assert_contains(&out, "--- summary");
	assert_contains(&out, "Network boot works");
	pv_inventory_init(&inv);
	assert_int_equal(pv_inventory_load(inventory, &inv), PV_OK);
	rec = pv_inventory_find_serial(&inv, 0x9ffefdef, 8);
	assert_non_null(rec);
	assert_true(rec->has_mac);
	assert_memory_equal(rec->mac, "\xd8\x3a\xdd\x05\xfd\x52", 6);
	assert_int_equal(rec->seen[PV_FACT_MAC].source, PV_INVENTORY_SOURCE_UART);
	pv_inventory_release(&inv);

	/* --save keeps exactly the bytes that arrived, written atomically */
	{
		struct pv_buf original = PV_BUF_INIT(SIZE_MAX), kept = PV_BUF_INIT(SIZE_MAX);
		char *saved = NULL;

		assert_true(asprintf(&saved, "%s/boot.log", dir) > 0);
		assert_int_equal(run(&out, 1, "capture '%s' --no-log --json --save '%s'", log,
				     saved),
				 0);
		assert_contains(&out, "\"result\":\"ok\"");
		assert_true(strstr(pv_buf_str(&out), "BOOTMODE:") == NULL); /* --no-log */
		pv_test_read_file(log, &original);
		pv_test_read_file(saved, &kept);
		assert_int_equal(kept.len, original.len);
		assert_memory_equal(kept.data, original.data, original.len);
		pv_buf_release(&original);
		pv_buf_release(&kept);
		free(saved);
	}

	/* two boards in one capture: both recorded */
	{
		char *two = uart_test_log_path("two-boards.log");

		assert_int_equal(run(&out, 1, "capture '%s' --no-log --inventory '%s'", two,
				     inventory),
				 0);
		assert_contains(&out, "board 11111111 (MAC dc:a6:32:11:11:11) finished: failed");
		pv_inventory_init(&inv);
		assert_int_equal(pv_inventory_load(inventory, &inv), PV_OK);
		assert_non_null(pv_inventory_find_serial(&inv, 0x11111111, 8));
		assert_non_null(pv_inventory_find_serial(&inv, 0x22222222, 8));
		assert_int_equal(inv.count, 3);
		pv_inventory_release(&inv);
		free(two);
	}

	/* a log without a serial records nothing and says so */
	free(command);
	assert_true(asprintf(&command,
			     "printf 'NET_BOOT: dc:a6:32:00:00:01 wait\\n' | '%s' uart capture - "
			     "--json --inventory '%s'",
			     piprov, inventory) > 0);
	pv_buf_reset(&out);
	assert_int_equal(pv_test_run(command, &out, 1), 1);
	assert_contains(&out, "no serial number");
	free(command);
	free(log);
	free(inventory);
	pv_test_rmtree(dir);
	free(dir);
	pv_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_json_lines),
		cmocka_unit_test(test_parse_text_and_errors),
		cmocka_unit_test(test_diagnose_folder_missing),
		cmocka_unit_test(test_capture_stdin_into_inventory),
	};
	int rc;

	piprov = pv_test_program("piprov");
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(piprov);
	return rc;
}
