/* Importers: rpiboot metadata (2711 serial from the file name, 2712 from the JSON), piprov
 * record JSON, CSV (round trip with the CSV export), folders, and errors that name the file
 * and the line or key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "piprov/error.h"
#include "piprov/inventory.h"
#include "piprov/inventory_export.h"
#include "piprov/inventory_import.h"
#include "piprov/record.h"
#include "piprov/text.h"
#include "test_support.h"

static const char cm4_metadata[] =
	"{ \"MAC_ADDR\": \"d8:3a:dd:05:ee:78\", \"EEPROM_UPDATE\": \"success\",\n"
	"  \"EEPROM_HASH\": \"dfc8ef2c00000000000000000000000000000000000000000000000000002137\",\n"
	"  \"BOOT_ROM\": \"0000c8b0\", \"BOARD_ATTR\": \"00000000\", \"USER_BOARDREV\": \"c03141\",\n"
	"  \"JTAG_LOCKED\": \"0\", \"ADVANCED_BOOT\": \"0000e8e8\" }\n";

static const char pi5_metadata[] =
	"{ \"USER_SERIAL_NUM\": \"a7eb274c\", \"MAC_ADDR\": \"2c:cf:67:70:76:f3\",\n"
	"  \"EEPROM_UPDATE\": \"success\", \"BOOT_ROM\": \"0000000a\", \"USER_BOARDREV\": \"b04170\",\n"
	"  \"MAC_WIFI_ADDR\": \"2c:cf:67:70:76:f4\", \"MAC_BT_ADDR\": \"2c:cf:67:70:76:f5\",\n"
	"  \"FACTORY_UUID\": \"001000911006186073\" }\n";

static void test_metadata(void **state)
{
	static const char bad_mac[] = "{\"MAC_ADDR\": \"d8:3a:dd:05:ee\"}";
	struct pv_import_batch batch;
	char mac[PV_MAC_STRLEN];

	(void)state;
	pv_import_batch_init(&batch);
	assert_int_equal(pv_record_import_text("metadata/94a97b1d.json", cm4_metadata,
					       strlen(cm4_metadata), PV_IMPORT_AUTO, &batch),
			 PV_OK);
	assert_int_equal(pv_record_import_text("metadata/usbdevice.json", pi5_metadata,
					       strlen(pi5_metadata), PV_IMPORT_AUTO, &batch),
			 PV_OK);
	assert_int_equal(batch.count, 2);
	assert_int_equal(batch.sources[0], PV_INVENTORY_SOURCE_USB);
	assert_int_equal(batch.records[0].serial, 0x94a97b1d);
	assert_int_equal(batch.records[0].serial_digits, 8);
	assert_int_equal(batch.records[0].revision, 0xc03141);
	assert_string_equal(batch.records[0].eeprom_hash,
			    "dfc8ef2c00000000000000000000000000000000000000000000000000002137");
	assert_int_equal(batch.records[1].serial, 0xa7eb274c);
	pv_mac_format(batch.records[1].bt_mac, ':', mac);
	assert_string_equal(mac, "2c:cf:67:70:76:f5");
	assert_string_equal(batch.records[1].uuid, "001000911006186073");
	pv_import_batch_release(&batch);

	/* No serial anywhere: the message names the file. */
	assert_int_equal(pv_record_import_text("metadata/board.json", cm4_metadata,
					       strlen(cm4_metadata), PV_IMPORT_AUTO, &batch),
			 PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "'metadata/board.json'"));
	/* A bad MAC names the key. */
	assert_int_equal(pv_record_import_text("x/12345678.json", bad_mac, strlen(bad_mac),
					       PV_IMPORT_AUTO, &batch),
			 PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "key 'MAC_ADDR'"));
	/* Broken JSON names the line. */
	assert_int_equal(pv_record_import_text("x.json", "{\n\"MAC_ADDR\": }", 15,
					       PV_IMPORT_AUTO, &batch),
			 PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "'x.json': line 2"));
	pv_import_batch_release(&batch);
}

static void test_record_json(void **state)
{
	static const char node[] =
		"{\"serial\": \"10000000f8b73778\", \"mac\": \"dc:a6:32:01:36:c2\", \"model\": \"x\",\n"
		" \"board_revision\": \"c03115\", \"hostname\": \"node07\", \"bootloader_build_ts\": "
		"1715613301, \"tags\": [\"lab\"], \"uuid\": null}";
	struct pv_import_batch batch;

	(void)state;
	pv_import_batch_init(&batch);
	assert_int_equal(pv_record_import_text("node.json", node, strlen(node), PV_IMPORT_AUTO,
					       &batch),
			 PV_OK);
	assert_int_equal(batch.count, 1);
	assert_int_equal(batch.sources[0], PV_INVENTORY_SOURCE_NODE);
	assert_string_equal(batch.records[0].hostname, "node07");
	assert_int_equal(batch.records[0].bootloader_build_ts, 1715613301);
	assert_int_equal(batch.records[0].n_tags, 1);
	pv_import_batch_release(&batch);
	assert_int_equal(pv_record_import_text("node.json", "[{\"serial\": \"1\"}]", 17,
					       PV_IMPORT_AUTO, &batch),
			 PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "record 1: key 'serial'"));
	pv_import_batch_release(&batch);
}

static void test_csv_round_trip(void **state)
{
	static const char csv[] =
		"serial,mac,hostname,ip,tags,notes\r\n"
		"10000000f8b73778,dc:a6:32:01:36:c2,node01,192.168.1.41,rack1;k3s,\"a \"\"b\"\", c\"\n"
		"\n"
		"6e87a417,,,,,\n";
	struct pv_import_batch batch;
	struct pv_inventory inv;
	struct pv_inventory_upsert_opts opts = { .source = PV_INVENTORY_SOURCE_MANUAL,
						 .now = 1764044860 };
	struct pv_export_opts eopts;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX), again = PV_BUF_INIT(SIZE_MAX);

	(void)state;
	pv_import_batch_init(&batch);
	assert_int_equal(pv_record_import_text("boards.csv", csv, strlen(csv), PV_IMPORT_AUTO,
					       &batch),
			 PV_OK);
	assert_int_equal(batch.count, 2);
	assert_string_equal(batch.records[0].notes, "a \"b\", c");
	assert_int_equal(batch.records[0].n_tags, 2);
	pv_inventory_init(&inv);
	for (size_t i = 0; i < batch.count; i++)
		assert_int_equal(pv_inventory_merge(&inv, &batch.records[i], &opts, NULL), PV_OK);
	pv_import_batch_release(&batch);
	/* export csv -> import -> export csv gives the same text. */
	pv_export_opts_init(&eopts);
	assert_int_equal(pv_export_csv(&inv, &eopts, &out), PV_OK);
	pv_inventory_release(&inv);
	assert_int_equal(pv_record_import_text("export.csv", (const char *)out.data, out.len,
					       PV_IMPORT_AUTO, &batch),
			 PV_OK);
	pv_inventory_init(&inv);
	for (size_t i = 0; i < batch.count; i++)
		assert_int_equal(pv_inventory_merge(&inv, &batch.records[i], &opts, NULL), PV_OK);
	assert_int_equal(pv_export_csv(&inv, &eopts, &again), PV_OK);
	assert_int_equal(out.len, again.len);
	assert_memory_equal(out.data, again.data, out.len);
	pv_inventory_release(&inv);
	pv_import_batch_release(&batch);
	pv_buf_release(&out);
	pv_buf_release(&again);
}

static void expect_csv_error(const char *csv, const char *needle)
{
	struct pv_import_batch batch;

	pv_import_batch_init(&batch);
	assert_int_equal(pv_record_import_text("b.csv", csv, strlen(csv), PV_IMPORT_CSV, &batch),
			 PV_ERR_FORMAT);
	if (!strstr(pv_last_error(), needle))
		fail_msg("'%s' lacks '%s'", pv_last_error(), needle);
	pv_import_batch_release(&batch);
}

static void test_csv_errors(void **state)
{
	(void)state;
	expect_csv_error("serial,mac\n12345678,dc:a6:32:01:36:c2\n12345679,nope\n",
			 "'b.csv': line 3: field 'mac'");
	expect_csv_error("serial,mac\n12345678\n", "line 2: 1 fields, the header has 2");
	expect_csv_error("serial,macc\n", "line 1: unknown column 'macc'");
	expect_csv_error("serial,ip\n12345678,\"10.0.0.1\n", "unterminated quote");
	expect_csv_error("serial,hostname\n12345678,bad_name\n", "line 2: field 'hostname'");
}

static void test_folder(void **state)
{
	char *dir = pv_test_mkdtemp(), *p;
	struct pv_import_batch batch;

	(void)state;
	assert_true(asprintf(&p, "%s/94a97b1d.json", dir) > 0);
	pv_test_write_file(p, cm4_metadata, strlen(cm4_metadata));
	free(p);
	assert_true(asprintf(&p, "%s/README.md", dir) > 0);
	pv_test_write_file(p, "not a capture", 13);
	free(p);
	pv_import_batch_init(&batch);
	assert_int_equal(pv_record_import_path(dir, PV_IMPORT_AUTO, &batch), PV_OK);
	assert_int_equal(batch.count, 1);
	pv_import_batch_release(&batch);
	pv_test_rmtree(dir);
	free(dir);
}

static void expect_refused(const char *name, const char *text, size_t len, const char *needle)
{
	struct pv_import_batch batch;

	pv_import_batch_init(&batch);
	assert_int_equal(pv_record_import_text(name, text, len, PV_IMPORT_AUTO, &batch),
			 PV_ERR_FORMAT);
	if (!strstr(pv_last_error(), needle))
		fail_msg("'%s': '%s' lacks '%s'", name, pv_last_error(), needle);
	assert_int_equal(batch.count, 0);
	pv_import_batch_release(&batch);
}

/* Issue 15 item 8: an empty or binary .json, UTF-16 text, a binary log are named for what
 * they are (they were all "UART log: no bootloader header"); the name decides JSON/CSV;
 * a UTF-8 byte-order mark is skipped before JSON and CSV alike. */
static void test_unreadable_shapes_named(void **state)
{
	static const char elf[] = "\x7f" "ELF\2\1\1\0\0\0";
	static const char utf16[] = "\xff\xfes\0e\0r\0";
	static const char bom_csv[] = "\xef\xbb\xbfserial,mac\n12345678,dc:a6:32:01:36:c2\n";
	struct pv_import_batch batch;
	char *bom_json;

	(void)state;
	expect_refused("m/12345678.json", "", 0, "'m/12345678.json': empty file (0 bytes)");
	expect_refused("m/12345678.json", " \n\t\n", 4, "empty file (only blanks)");
	expect_refused("boot.log", "", 0, "'boot.log': empty file");
	expect_refused("m/12345678.json", elf, sizeof(elf) - 1,
		       "binary data (a NUL byte at offset 7), not JSON");
	expect_refused("boards.csv", utf16, sizeof(utf16) - 1,
		       "'boards.csv': UTF-16 text (byte-order mark FF FE): save it as UTF-8");
	expect_refused("capture.log", elf, sizeof(elf) - 1,
		       "binary data (a NUL byte at offset 7), not a UART log, JSON or CSV");
	/* By name: a .json that holds no JSON gets the JSON parser's message. */
	expect_refused("m/12345678.json", "RPi: not json\n", 14, "'m/12345678.json': line 1");

	pv_import_batch_init(&batch);
	assert_int_equal(pv_record_import_text("-", bom_csv, sizeof(bom_csv) - 1, PV_IMPORT_AUTO,
					       &batch), PV_OK);
	assert_int_equal(batch.count, 1);
	assert_true(asprintf(&bom_json, "\xef\xbb\xbf%s", cm4_metadata) > 0);
	assert_int_equal(pv_record_import_text("m/94a97b1d.json", bom_json, strlen(bom_json),
					       PV_IMPORT_AUTO, &batch), PV_OK);
	assert_int_equal(batch.count, 2);
	free(bom_json);
	pv_import_batch_release(&batch);
}

struct failures_seen {
	struct pv_buf text;
};

static void note_failure(void *user, const char *path, int status, const char *message)
{
	struct failures_seen *seen = user;

	assert_int_not_equal(status, PV_OK);
	assert_non_null(strstr(message, path));
	assert_int_equal(pv_buf_appendf(&seen->text, "%s\n", message), PV_OK);
}

/* Issue 15 item 8: one file that cannot be imported (a FIFO, bad JSON after a good record)
 * is reported and skipped, with none of its records; the rest of the folder is imported.
 * pv_record_import_path keeps failing at the first. */
static void test_folder_import_continues_past_bad_file(void **state)
{
	static const char half[] = "[{\"serial\": \"10000001\"}, {\"serial\": \"nope\"}]";
	char *dir = pv_test_mkdtemp(), *p;
	struct failures_seen seen = { PV_BUF_INIT(SIZE_MAX) };
	struct pv_import_batch batch;
	size_t failures = 0;

	(void)state;
	assert_true(asprintf(&p, "%s/94a97b1d.json", dir) > 0);
	pv_test_write_file(p, cm4_metadata, strlen(cm4_metadata));
	free(p);
	assert_true(asprintf(&p, "%s/a-half.json", dir) > 0);
	pv_test_write_file(p, half, strlen(half));
	free(p);
	assert_true(asprintf(&p, "%s/b-fifo.json", dir) > 0);
	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);

	pv_import_batch_init(&batch);
	assert_int_equal(pv_record_import_path_each(dir, PV_IMPORT_AUTO, &batch, note_failure,
						    &seen, &failures), PV_OK);
	assert_int_equal(failures, 2);
	assert_int_equal(batch.count, 1); /* 94a97b1d only: a-half.json's first record is gone */
	assert_int_equal(batch.records[0].serial, 0x94a97b1d);
	assert_non_null(strstr(pv_buf_str(&seen.text), "a-half.json"));
	assert_non_null(strstr(pv_buf_str(&seen.text), "b-fifo.json"));
	assert_non_null(strstr(pv_buf_str(&seen.text), "FIFO"));
	pv_import_batch_release(&batch);

	pv_import_batch_init(&batch);
	assert_int_not_equal(pv_record_import_path(dir, PV_IMPORT_AUTO, &batch), PV_OK);
	assert_non_null(strstr(pv_last_error(), "a-half.json"));
	pv_import_batch_release(&batch);
	pv_buf_release(&seen.text);
	pv_test_rmtree(dir);
	free(dir);
}

/* A Pi 4 bootloader log (old header, ../shared/docs/netboot-and-identity.md §3.2): the
 * board's MAC comes from NET_BOOT, never from TFTP_GET (the server's). */
static void test_uart_log(void **state)
{
	static const char log[] =
		"RPi: BOOTLOADER release VERSION:3c912e10 DATE: 2021/11/22 TIME: 11:23:32 "
		"BOOTMODE: 0x00000006 part: 0 BUILD_TIMESTAMP=1637580212 0x6e87a417 0x00b03111 "
		"0x00050f94\n"
		"Boot mode: NETWORK (02) order 0\n"
		"NET_BOOT: dc:a6:32:09:f8:c4 wait for link TFTP: 0.0.0.0\n"
		"TFTP_GET: ac:1f:6b:66:01:83 192.168.20.1 6e87a417/start4.elf\n";
	struct pv_import_batch batch;
	char mac[PV_MAC_STRLEN];

	(void)state;
	pv_import_batch_init(&batch);
	if (pv_record_import_text("boot.log", log, strlen(log), PV_IMPORT_AUTO, &batch) ==
	    PV_ERR_UNSUPPORTED) {
		print_message("skipped: this build has no UART parser\n");
		skip();
	}
	assert_int_equal(batch.count, 1);
	assert_int_equal(batch.sources[0], PV_INVENTORY_SOURCE_UART);
	assert_int_equal(batch.records[0].serial, 0x6e87a417);
	assert_int_equal(batch.records[0].revision, 0xb03111);
	pv_mac_format(batch.records[0].mac, ':', mac);
	assert_string_equal(mac, "dc:a6:32:09:f8:c4");
	pv_import_batch_release(&batch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metadata),       cmocka_unit_test(test_record_json),
		cmocka_unit_test(test_csv_round_trip), cmocka_unit_test(test_csv_errors),
		cmocka_unit_test(test_folder),         cmocka_unit_test(test_uart_log),
		cmocka_unit_test(test_unreadable_shapes_named),
		cmocka_unit_test(test_folder_import_continues_past_bad_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
