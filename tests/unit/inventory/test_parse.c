/* The loader: reading a file through its window gives what parsing the whole text gives
 * (tokens, comments and line numbers across refills), NUL bytes, over-long tokens, the
 * setting names, and the time stamps read and written without strptime/strftime. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "piprov/error.h"
#include "piprov/inventory.h"
#include "test_support.h"

/* Boards in every syntax the file allows: comments of each kind (some spanning lines),
 * ':' and '=', adjacent strings, escapes, ( ) lists, ',' after settings. */
static void append_board(struct pv_buf *text, unsigned i)
{
	switch (i % 4) {
	case 0:
		pv_buf_appendf(text,
			       "  { serial = \"1000%012x\"; mac = \"dc:a6:32:%02x:%02x:%02x\";\n"
			       "    hostname = \"node-\" \"%06u\"; /* a comment\n over two lines */\n"
			       "    tags = ( \"rack-%u\", \"k3s\" );\n"
			       "    seen = { mac = [ \"usb\", \"2026-11-25T04:27:40Z\", "
			       "\"2026-11-26T05:00:00Z\" ]; }; }",
			       i, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff, i, i % 7);
		break;
	case 1:
		pv_buf_appendf(text,
			       "  {\n    serial : \"1000%012x\", # line comment\n"
			       "    notes = \"left \\\"shelf\\\"\\nrow %u\\t\\x41\";\n"
			       "    // another comment\n    ip = \"10.%u.%u.%u\";\n  }",
			       i, i, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
		break;
	case 2:
		pv_buf_appendf(text,
			       "  { serial = \"1000%012x\"\n    board_revision = \"c03111\"\n"
			       "    bootloader_build_ts = %uL\n"
			       "    seen = { serial = [\"node\",\"2025-01-0%uT00:00:00Z\"] } }",
			       i, 1700000000u + i, 1 + i % 9);
		break;
	default:
		pv_buf_appendf(text, "  {serial=\"1000%012x\";uuid=\"%u\";tftp_prefix=\"string\";"
				     "tftp_prefix_str=\"c-%u\";}",
			       i, i, i);
		break;
	}
}

/* Load FILE and parse TEXT; both give the same result (the same text out, or the same
 * error). */
static void expect_load_equals_parse(const char *path, const struct pv_buf *text)
{
	struct pv_inventory a, b;
	struct pv_buf out_a = PV_BUF_INIT(SIZE_MAX), out_b = PV_BUF_INIT(SIZE_MAX);
	char err_a[512];
	int rc_a, rc_b;

	pv_test_write_file(path, text->data, text->len);
	rc_a = pv_inventory_parse((const char *)text->data, text->len, path, &a);
	snprintf(err_a, sizeof(err_a), "%s", rc_a ? pv_last_error() : "");
	rc_b = pv_inventory_load(path, &b);
	assert_int_equal(rc_a, rc_b);
	if (rc_a) {
		assert_string_equal(err_a, pv_last_error());
		return;
	}
	assert_int_equal(a.count, b.count);
	assert_int_equal(pv_inventory_serialize(&a, &out_a), PV_OK);
	assert_int_equal(pv_inventory_serialize(&b, &out_b), PV_OK);
	assert_int_equal(out_a.len, out_b.len);
	assert_memory_equal(out_a.data, out_b.data, out_a.len);
	pv_buf_release(&out_a);
	pv_buf_release(&out_b);
	pv_inventory_release(&a);
	pv_inventory_release(&b);
}

static void test_window_refills(void **state)
{
	char *dir = pv_test_mkdtemp(), path[4096];
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX);
	struct pv_inventory inv;
	unsigned boards = 6000, lines = 0;
	char line[64];

	(void)state;
	snprintf(path, sizeof(path), "%s/inv.cfg", dir);
	pv_buf_append_str(&text, "# many boards\nversion = 1;\nboards = (\n");
	for (unsigned i = 0; i < boards; i++) {
		append_board(&text, i);
		pv_buf_append_str(&text, i + 1 < boards ? ",\n" : "\n");
	}
	pv_buf_append_str(&text, ");\n");
	assert_true(text.len > 3 * 256 * 1024); /* several windows */
	expect_load_equals_parse(path, &text);
	assert_int_equal(pv_inventory_load(path, &inv), PV_OK);
	assert_int_equal(inv.count, boards);
	assert_string_equal(inv.records[5].notes, "left \"shelf\"\nrow 5\tA");
	assert_string_equal(inv.records[boards - 4].hostname, "node-005996");
	assert_int_equal(inv.records[boards - 2].bootloader_build_ts, 1700000000 + boards - 2);
	pv_inventory_release(&inv);

	/* The line of an error far into the file is the same as in one buffer. */
	for (size_t i = 0; i < text.len; i++)
		lines += text.data[i] == '\n';
	pv_buf_truncate(&text, text.len - 3);
	pv_buf_append_str(&text, ",\n  { serial = \"12345678\"; mac = \"zz\"; }\n);\n");
	expect_load_equals_parse(path, &text);
	snprintf(line, sizeof(line), "line %u: field 'mac'", lines + 1);
	assert_int_equal(pv_inventory_load(path, &inv), PV_ERR_FORMAT);
	if (!strstr(pv_last_error(), line))
		fail_msg("'%s' lacks '%s'", pv_last_error(), line);
	pv_buf_release(&text);
	pv_test_rmtree(dir);
	free(dir);
}

/* Comments longer than the window, with their ends at every offset around a refill. */
static void test_long_comments(void **state)
{
	char *dir = pv_test_mkdtemp(), path[4096];
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX);
	struct pv_inventory inv;

	(void)state;
	snprintf(path, sizeof(path), "%s/inv.cfg", dir);
	for (size_t pad = 256 * 1024 - 8; pad < 256 * 1024 + 8; pad++) {
		pv_buf_reset(&text);
		pv_buf_append_str(&text, "/*");
		for (size_t i = 2; i < pad; i++)
			pv_buf_putc(&text, i % 100 == 0 ? '\n' : '*');
		pv_buf_append_str(&text, "*/ version = 1; # c\nboards = ( { serial = \"12345678\"; "
					 "ip = \"10.0.0.256\"; } );\n");
		expect_load_equals_parse(path, &text);
		assert_int_equal(pv_inventory_load(path, &inv), PV_ERR_FORMAT);
		assert_non_null(strstr(pv_last_error(), "field 'ip'"));
	}
	/* Not closed, and a line comment without its newline, both after refills. */
	pv_buf_reset(&text);
	pv_buf_append_str(&text, "version = 1;\n/*");
	for (size_t i = 0; i < 300 * 1024; i++)
		pv_buf_putc(&text, 'x');
	expect_load_equals_parse(path, &text);
	assert_non_null(strstr(pv_last_error(), "line 2: comment not closed"));
	text.data[13] = '#';
	expect_load_equals_parse(path, &text);
	assert_non_null(strstr(pv_last_error(), "comment on the last line needs a newline"));
	pv_buf_release(&text);
	pv_test_rmtree(dir);
	free(dir);
}

static void expect_error(const char *text, size_t len, const char *needle)
{
	struct pv_inventory inv;

	assert_int_equal(pv_inventory_parse(text, len, "bad.cfg", &inv), PV_ERR_FORMAT);
	if (!strstr(pv_last_error(), needle))
		fail_msg("error '%s' lacks '%s'", pv_last_error(), needle);
}

/* libconfig stops at a NUL byte, so a file holding one is not libconfig. */
static void test_nul_bytes(void **state)
{
	static const char in_string[] = "version = 1;\nboards = ( { serial = \"12345678\0x\"; } );\n";
	static const char in_comment[] = "version = 1; # a\0b\n";
	static const char in_block[] = "version = 1;\n/* a\0b */\n";
	static const char alone[] = "version = 1;\n\0";

	(void)state;
	expect_error(in_string, sizeof(in_string) - 1, "line 2: NUL byte");
	expect_error(in_comment, sizeof(in_comment) - 1, "line 1: NUL byte");
	expect_error(in_block, sizeof(in_block) - 1, "line 2: NUL byte");
	expect_error(alone, sizeof(alone) - 1, "line 2: NUL byte");
}

/* No valid token is longer than the window's look-ahead: longer ones are errors. */
static void test_long_tokens(void **state)
{
	char *dir = pv_test_mkdtemp(), path[4096];
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX);
	struct pv_inventory inv;

	(void)state;
	snprintf(path, sizeof(path), "%s/inv.cfg", dir);
	pv_buf_append_str(&text, "version = 1;\nboards = ( { ");
	for (size_t i = 0; i < 100 * 1024; i++)
		pv_buf_putc(&text, 'a');
	pv_buf_append_str(&text, " = \"x\"; } );\n");
	pv_test_write_file(path, text.data, text.len);
	assert_int_equal(pv_inventory_load(path, &inv), PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "line 2"));
	pv_buf_reset(&text);
	pv_buf_append_str(&text, "version = 1;\nboards = ( { serial = \"");
	for (size_t i = 0; i < 100 * 1024; i++)
		pv_buf_putc(&text, 'a');
	pv_buf_append_str(&text, "\"; } );\n");
	expect_load_equals_parse(path, &text);
	assert_non_null(strstr(pv_last_error(), "line 2: string longer than 8192 bytes"));
	pv_buf_reset(&text);
	pv_buf_append_str(&text, "version = 0"); /* longer than the window */
	for (size_t i = 0; i < 300 * 1024; i++)
		pv_buf_putc(&text, '0');
	pv_buf_append_str(&text, "1;\n");
	pv_test_write_file(path, text.data, text.len);
	assert_int_equal(pv_inventory_load(path, &inv), PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "line 1"));
	pv_buf_release(&text);
	pv_test_rmtree(dir);
	free(dir);
}

/* The file's names only: "revision" is a command-line alias, not a setting. */
static void test_field_names(void **state)
{
	static const char alias[] =
		"version = 1;\nboards = ( { serial = \"12345678\"; revision = \"c03111\"; } );\n";
	struct pv_inventory_record rec;

	(void)state;
	expect_error(alias, sizeof(alias) - 1, "line 2: unknown field 'revision'");
	pv_inventory_record_init(&rec);
	assert_int_equal(pv_inventory_record_set(&rec, "revision", "c03111"), PV_OK);
	assert_int_equal(rec.revision, 0xc03111);
	assert_int_equal(pv_inventory_record_set(&rec, "board_revision", "d03114"), PV_OK);
	assert_int_equal(rec.revision, 0xd03114);
	assert_int_equal(pv_inventory_record_set(&rec, "tags", "a,b"), PV_OK);
	assert_int_equal(pv_inventory_record_set(&rec, "tags+", "c"), PV_OK);
	assert_int_equal(rec.n_tags, 3);
	assert_int_equal(pv_inventory_record_set(&rec, "seen", "x"), PV_ERR_INVALID);
	assert_int_equal(pv_inventory_record_set(&rec, "serial_", "x"), PV_ERR_INVALID);
	assert_int_equal(pv_inventory_record_set(&rec, "", "x"), PV_ERR_INVALID);
	/* TFTP_PREFIX_STR as written in bootconf.txt ("cluster-a/") names the same folder. */
	assert_int_equal(pv_inventory_record_set(&rec, "tftp_prefix_str", "cluster-a/"), PV_OK);
	assert_string_equal(rec.tftp_prefix_str, "cluster-a");
	assert_int_equal(pv_inventory_record_set(&rec, "tftp_prefix_str", "lab.1"), PV_OK);
	assert_string_equal(rec.tftp_prefix_str, "lab.1");
	assert_int_equal(pv_inventory_record_set(&rec, "tftp_prefix_str", "a//"), PV_ERR_INVALID);
	assert_int_equal(pv_inventory_record_set(&rec, "tftp_prefix_str", "a/b"), PV_ERR_INVALID);
	assert_int_equal(pv_inventory_record_set(&rec, "tftp_prefix_str", "/"), PV_ERR_INVALID);
	assert_int_equal(pv_inventory_record_set(&rec, "tftp_prefix_str", "../"), PV_ERR_INVALID);
	assert_string_equal(rec.tftp_prefix_str, "lab.1"); /* refused: unchanged */
	pv_inventory_record_release(&rec);
}

/* The same values as gmtime_r/strftime and strptime/timegm, which they replace. */
static void test_time_stamps(void **state)
{
	static const char *const odd[] = {
		"2026-02-29T00:00:00Z", /* not a leap year: strptime and timegm roll over */
		"2024-02-30T10:00:00Z", "2026-11-25T04:27:60Z", "1969-12-31T23:59:58Z",
		"0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2000-02-29T12:00:00Z",
	};
	static const char *const bad[] = {
		"2026-11-25 04:27:40Z", "2026-11-25T04:27:40", "2026-13-01T00:00:00Z",
		"2026-11-25T24:00:00Z", "2026-11-25T04:27:40Zx", "",
		"1969-12-31T23:59:59Z", /* -1: timegm's error value, refused as before */
	};
	unsigned seed = 4242;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		int64_t t = i < 1000 ? (int64_t)i * 86399 : (int64_t)(((uint64_t)rand_r(&seed) << 31 |
							      (uint64_t)rand_r(&seed)) % 253402300800ull);
		char ours[21], ref[32];
		struct tm tm;
		time_t tt = (time_t)t;
		int64_t back;

		gmtime_r(&tt, &tm);
		strftime(ref, sizeof(ref), "%Y-%m-%dT%H:%M:%SZ", &tm);
		pv_inventory_format_time(t, ours);
		assert_string_equal(ours, ref);
		assert_int_equal(pv_inventory_parse_time(ours, &back), PV_OK);
		assert_int_equal(back, t);
	}
	/* Before 1970 (strptime reads them): the same as strftime from the year 1000, and back. */
	for (int i = 0; i < 20000; i++) {
		int64_t t = -(int64_t)(((uint64_t)rand_r(&seed) << 31 | (uint64_t)rand_r(&seed)) %
				       30610224000ull) - 1;
		char ours[21], ref[32];
		struct tm tm;
		time_t tt = (time_t)t;
		int64_t back;

		gmtime_r(&tt, &tm);
		strftime(ref, sizeof(ref), "%Y-%m-%dT%H:%M:%SZ", &tm);
		pv_inventory_format_time(t, ours);
		assert_string_equal(ours, ref);
		assert_int_equal(pv_inventory_parse_time(ours, &back), t == -1 ? PV_ERR_INVALID : PV_OK);
		if (t != -1)
			assert_int_equal(back, t);
	}
	{
		/* Years below 1000 in 4 digits, so that they read back (found by fuzz_inventory). */
		char text[21];
		int64_t t;

		assert_int_equal(pv_inventory_parse_time("0420-11-25T05:14:54Z", &t), PV_OK);
		pv_inventory_format_time(t, text);
		assert_string_equal(text, "0420-11-25T05:14:54Z");
		pv_inventory_format_time(-62167219200LL, text);
		assert_string_equal(text, "0000-01-01T00:00:00Z");
	}
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		struct tm tm;
		int64_t ours;
		const char *end;

		memset(&tm, 0, sizeof(tm));
		end = strptime(odd[i], "%Y-%m-%dT%H:%M:%SZ", &tm);
		assert_non_null(end);
		assert_int_equal(pv_inventory_parse_time(odd[i], &ours), PV_OK);
		assert_int_equal(ours, (int64_t)timegm(&tm));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t t;

		assert_int_equal(pv_inventory_parse_time(bad[i], &t), PV_ERR_INVALID);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_refills), cmocka_unit_test(test_long_comments),
		cmocka_unit_test(test_nul_bytes),      cmocka_unit_test(test_long_tokens),
		cmocka_unit_test(test_field_names),    cmocka_unit_test(test_time_stamps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
