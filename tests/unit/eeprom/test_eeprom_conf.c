/* bootconf.txt model: byte preservation, in-place edits, presets, BOOT_ORDER helpers and
 * validation. The history configs of ../shared/fixtures are used when present. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/eeprom.h"
#include "piprov/eeprom_config.h"
#include "piprov/error.h"
#include "test_support.h"

static struct pv_eeprom_conf *parse(const char *text)
{
	struct pv_eeprom_conf *conf = NULL;

	assert_int_equal(pv_eeprom_conf_parse(text, strlen(text), "t.conf", &conf), PV_OK);
	return conf;
}

static void assert_text(const struct pv_eeprom_conf *conf, const char *want)
{
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX);

	assert_int_equal(pv_eeprom_conf_serialize(conf, &out), PV_OK);
	assert_int_equal(out.len, strlen(want));
	assert_memory_equal(out.data, want, out.len);
	pv_buf_release(&out);
}

static void expect_set(const char *before, const char *key, const char *value,
		       const char *after)
{
	struct pv_eeprom_conf *conf = parse(before);

	assert_int_equal(pv_eeprom_conf_set(conf, key, value), PV_OK);
	assert_text(conf, after);
	pv_eeprom_conf_free(conf);
}

static void test_roundtrip_bytes(void **state)
{
	static const char *const texts[] = {
		"",
		"\n",
		"[all]\nBOOT_UART=0\n",
		"[all]\r\nBOOT_UART=0\r\n# comment\r\n",
		"BOOT_ORDER=0xf41",                       /* no final newline */
		"  weird line\n\tKEY = spaced\n[pi4]\nX=1\n\n\n[config.txt]\nanything=goes\r",
		"mixed\r\nendings\nhere\r\n\r\n",
		"bad\0nul\n",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		size_t len = i == 7 ? 8 : strlen(texts[i]);
		struct pv_eeprom_conf *conf = NULL;
		struct pv_buf out = PV_BUF_INIT(SIZE_MAX);
		assert_int_equal(pv_eeprom_conf_parse(texts[i], len, "t", &conf), PV_OK);
		assert_int_equal(pv_eeprom_conf_serialize(conf, &out), PV_OK);
		assert_int_equal(out.len, len);
		if (len)
			assert_memory_equal(out.data, texts[i], len);
		pv_buf_release(&out);
		pv_eeprom_conf_free(conf);
	}
}

static void test_set_in_place(void **state)
{
	struct pv_eeprom_conf *conf;

	(void)state;
	/* Rewrite the winning assignment only; comments and other lines untouched. */
	conf = parse("[all]\n# keep me\nBOOT_UART=0\nBOOT_ORDER=0xf41\n[pi4]\nBOOT_ORDER=0xf14\n");
	assert_string_equal(pv_eeprom_conf_get(conf, "BOOT_ORDER"), "0xf41");
	assert_int_equal(pv_eeprom_conf_set(conf, "BOOT_ORDER", "0xf21"), PV_OK);
	assert_text(conf, "[all]\n# keep me\nBOOT_UART=0\nBOOT_ORDER=0xf21\n[pi4]\nBOOT_ORDER=0xf14\n");
	/* A new property goes after the last unconditional assignment, not into [pi4]. */
	assert_int_equal(pv_eeprom_conf_set(conf, "TFTP_PREFIX", "2"), PV_OK);
	assert_text(conf, "[all]\n# keep me\nBOOT_UART=0\nBOOT_ORDER=0xf21\nTFTP_PREFIX=2\n"
			  "[pi4]\nBOOT_ORDER=0xf14\n");
	assert_int_equal(pv_eeprom_conf_unset(conf, "BOOT_UART"), PV_OK);
	assert_text(conf, "[all]\n# keep me\nBOOT_ORDER=0xf21\nTFTP_PREFIX=2\n"
			  "[pi4]\nBOOT_ORDER=0xf14\n");
	assert_int_equal(pv_eeprom_conf_unset(conf, "BOOT_UART"), PV_ERR_NOT_FOUND);
	assert_int_equal(pv_eeprom_conf_set(conf, "BAD KEY", "1"), PV_ERR_INVALID);
	assert_int_equal(pv_eeprom_conf_set(conf, "KEY", "a\nb"), PV_ERR_INVALID);
	pv_eeprom_conf_free(conf);

	/* CRLF files get CRLF lines. Appending after a last line without newline terminates
	 * that line first and the new one too (never two properties on one line); replacing
	 * the unterminated last line in place keeps it unterminated. */
	conf = parse("[all]\r\nBOOT_UART=1");
	assert_int_equal(pv_eeprom_conf_set(conf, "BOOT_UART", "0"), PV_OK);
	assert_text(conf, "[all]\r\nBOOT_UART=0");
	assert_int_equal(pv_eeprom_conf_set(conf, "TFTP_IP", "10.0.0.1"), PV_OK);
	assert_text(conf, "[all]\r\nBOOT_UART=0\r\nTFTP_IP=10.0.0.1\r\n");
	assert_int_equal(pv_eeprom_conf_unset(conf, "TFTP_IP"), PV_OK);
	assert_text(conf, "[all]\r\nBOOT_UART=0\r\n");
	pv_eeprom_conf_free(conf);
	expect_set("A=1\nB=2", "C", "3", "A=1\nB=2\nC=3\n");
	expect_set("", "C", "3", "C=3\n");
	/* New lines follow the last unconditional assignment; a key that is a prefix of
	 * another is its own key; [all] after a filter is unconditional again. */
	expect_set("A=1\n[gpio8=0]\nB=2\n", "B", "3", "A=1\nB=3\n[gpio8=0]\nB=2\n");
	expect_set("A=1\n[pi4]\nX=1\n[all]\nB=2\n", "B", "3", "A=1\n[pi4]\nX=1\n[all]\nB=3\n");
	expect_set("ABC=1\n", "AB", "2", "ABC=1\nAB=2\n");
	expect_set("# c\nA=1\n[pi4]\nA=2\n[config.txt]\nA=9\n", "A", "5",
		   "# c\nA=5\n[pi4]\nA=2\n[config.txt]\nA=9\n");

	/* No unconditional assignment yet: end of the first [all] block, before blank lines
	 * and the [config.txt] tail. */
	conf = parse("# header\n\n[config.txt]\ndtoverlay=x\n");
	assert_int_equal(pv_eeprom_conf_set(conf, "BOOT_ORDER", "0xf21"), PV_OK);
	assert_text(conf, "# header\nBOOT_ORDER=0xf21\n\n[config.txt]\ndtoverlay=x\n");
	pv_eeprom_conf_free(conf);

	/* [none] hides assignments from get/set; [all] brings scope back. */
	conf = parse("[none]\nBOOT_UART=1\n[all]\nWAKE_ON_GPIO=1\n");
	assert_null(pv_eeprom_conf_get(conf, "BOOT_UART"));
	assert_int_equal(pv_eeprom_conf_set(conf, "BOOT_UART", "0"), PV_OK);
	assert_text(conf, "[none]\nBOOT_UART=1\n[all]\nWAKE_ON_GPIO=1\nBOOT_UART=0\n");
	pv_eeprom_conf_free(conf);
}

static void test_boot_order_edits(void **state)
{
	struct pv_eeprom_conf *conf;

	(void)state;
	assert_int_equal(pv_eeprom_boot_mode_parse("network"), 2);
	assert_int_equal(pv_eeprom_boot_mode_parse("net"), 2);
	assert_int_equal(pv_eeprom_boot_mode_parse("6"), 6);
	assert_int_equal(pv_eeprom_boot_mode_parse("floppy"), -1);
	assert_int_equal(pv_eeprom_boot_mode_parse("9"), -1);

	conf = parse("[all]\nBOOT_ORDER=0xf41\n");
	assert_int_equal(pv_eeprom_conf_boot_first(conf, 2), PV_OK);
	assert_string_equal(pv_eeprom_conf_get(conf, "BOOT_ORDER"), "0xf412");
	assert_int_equal(pv_eeprom_conf_boot_first(conf, 1), PV_OK);
	assert_string_equal(pv_eeprom_conf_get(conf, "BOOT_ORDER"), "0xf421");
	assert_int_equal(pv_eeprom_conf_boot_fallback(conf, 6), PV_OK);
	assert_string_equal(pv_eeprom_conf_get(conf, "BOOT_ORDER"), "0xf6421");
	assert_int_equal(pv_eeprom_conf_boot_fallback(conf, 2), PV_OK); /* already there */
	assert_string_equal(pv_eeprom_conf_get(conf, "BOOT_ORDER"), "0xf6421");
	pv_eeprom_conf_free(conf);

	/* RPIBOOT stays last; unset BOOT_ORDER starts from the firmware default. */
	conf = parse("BOOT_ORDER=0x321\n");
	assert_int_equal(pv_eeprom_conf_boot_fallback(conf, 4), PV_OK);
	assert_string_equal(pv_eeprom_conf_get(conf, "BOOT_ORDER"), "0x3421");
	pv_eeprom_conf_free(conf);
	conf = parse("[all]\n");
	assert_int_equal(pv_eeprom_conf_boot_first(conf, 2), PV_OK);
	assert_text(conf, "[all]\nBOOT_ORDER=0xf412\n");
	pv_eeprom_conf_free(conf);

	/* Full (8 modes): PV_ERR_NO_SPACE; STOP/RESTART/0 are no modes to add. */
	conf = parse("BOOT_ORDER=0xf7654214\n");
	assert_int_equal(pv_eeprom_conf_boot_fallback(conf, 0xe), PV_ERR_INVALID);
	assert_int_equal(pv_eeprom_conf_boot_first(conf, 0), PV_ERR_INVALID);
	assert_int_equal(pv_eeprom_conf_boot_fallback(conf, 3), PV_ERR_NO_SPACE);
	assert_non_null(strstr(pv_last_error(), "BOOT_ORDER 0xf7654214 already holds 8 modes"));
	assert_non_null(strstr(pv_last_error(), "any board"));
	assert_string_equal(pv_eeprom_conf_get(conf, "BOOT_ORDER"), "0xf7654214");
	pv_eeprom_conf_free(conf);
	/* Not hex: refused rather than read as decimal. */
	conf = parse("BOOT_ORDER=21\n");
	assert_int_equal(pv_eeprom_conf_boot_first(conf, 2), PV_ERR_FORMAT);
	pv_eeprom_conf_free(conf);
}

/* The decided BOOT_ORDER edit semantics (docs/eeprom.md, "BOOT_ORDER edits"), including
 * the cases piprov-node's own helper used to answer differently. */
static void test_boot_order_rules(void **state)
{
	static const struct {
		uint32_t in;
		enum pv_eeprom_boot_position pos;
		const char *board;    /* NULL: any */
		int rc;
		uint32_t out;
	} cases[] = {
		{ 0xf41, PV_EEPROM_BOOT_FIRST, "pi4", 0, 0xf412 },
		{ 0xf41, PV_EEPROM_BOOT_FALLBACK, "pi4", 0, 0xf241 },
		{ 0xf21, PV_EEPROM_BOOT_FIRST, "pi4", 0, 0xf12 },
		/* Network already tried first: a fallback request leaves the order alone. */
		{ 0xf12, PV_EEPROM_BOOT_FALLBACK, "pi4", 0, 0xf12 },
		{ 0x1, PV_EEPROM_BOOT_FALLBACK, NULL, 0, 0x21 },
		{ 0xf461, PV_EEPROM_BOOT_FALLBACK, "pi5", 0, 0xf2461 },
		{ 0x3f21, PV_EEPROM_BOOT_FALLBACK, NULL, 0, 0x3f21 },
		{ 0xe1, PV_EEPROM_BOOT_FALLBACK, NULL, 0, 0xe21 },
		{ 0x31, PV_EEPROM_BOOT_FALLBACK, NULL, 0, 0x321 },
		/* Network only after RESTART is never tried: it moves in front of it. */
		{ 0x2f1, PV_EEPROM_BOOT_FALLBACK, NULL, 0, 0xf21 },
		/* 9 modes would be needed. */
		{ 0x13456713, PV_EEPROM_BOOT_FIRST, NULL, PV_ERR_NO_SPACE, 0 },
		/* The result would break a rule the existing order already breaks. */
		{ 0x12345671, PV_EEPROM_BOOT_FIRST, NULL, PV_ERR_INVALID, 0 },  /* RPIBOOT */
		{ 0xf4141, PV_EEPROM_BOOT_FIRST, NULL, PV_ERR_INVALID, 0 },     /* 1 and 4 twice */
		/* RPIBOOT first or before RESTART is not last. */
		{ 0xf41, PV_EEPROM_BOOT_FIRST, NULL, PV_ERR_INVALID, 0 },
		/* Modes per board: NVMe not on a Pi 4 (fine on a CM4); BCM-USB-MSD not on a Pi 5. */
		{ 0xf41, PV_EEPROM_BOOT_FALLBACK, "pi4", PV_ERR_UNSUPPORTED, 0 },
		{ 0xf41, PV_EEPROM_BOOT_FALLBACK, "cm4", 0, 0xf641 },
		{ 0xf41, PV_EEPROM_BOOT_FIRST, "pi5", PV_ERR_UNSUPPORTED, 0 },
		{ 0xf61, PV_EEPROM_BOOT_FIRST, "pi4", PV_ERR_UNSUPPORTED, 0 },
	};
	static const unsigned mode_for[] = { 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 6, 6, 5, 2 };

	(void)state;
	assert_int_equal(sizeof(mode_for) / sizeof(mode_for[0]), sizeof(cases) / sizeof(cases[0]));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pv_eeprom_conf_target t = { 0 };
		struct pv_eeprom_conf *conf;
		char text[64], want[16];
		int rc;

		snprintf(text, sizeof(text), "[all]\nBOOT_ORDER=0x%x\n", cases[i].in);
		conf = parse(text);
		if (cases[i].board) {
			t.board = pv_board_by_short_name(cases[i].board);
			assert_non_null(t.board);
		}
		rc = pv_eeprom_conf_boot_place(conf, mode_for[i], cases[i].pos,
					       cases[i].board ? &t : NULL);
		if (rc != cases[i].rc)
			fail_msg("case %zu: 0x%x: rc %d, expected %d (%s)", i, cases[i].in, rc,
				 cases[i].rc, pv_last_error());
		snprintf(want, sizeof(want), "0x%x", rc ? cases[i].in : cases[i].out);
		assert_string_equal(pv_eeprom_conf_get(conf, "BOOT_ORDER"), want);
		if (rc) {
			/* The message names the property and the board. */
			assert_non_null(strstr(pv_last_error(), "BOOT_ORDER"));
			if (cases[i].board)
				assert_non_null(strstr(pv_last_error(), t.board->name));
		}
		pv_eeprom_conf_free(conf);
	}
}

/* pv_eeprom_conf_check: the first error with its status, warnings collected. */
static void test_check(void **state)
{
	static const struct {
		const char *text, *board;
		int rc;
	} cases[] = {
		{ "BOOT_ORDER=0xf21\n", "pi4", 0 },
		{ "BOOT_ORDER=0xf61\n", "pi4", PV_ERR_UNSUPPORTED },
		{ "BOOT_ORDER=0xf61\n", "pi5", 0 },
		{ "BOOT_ORDER=0xf51\n", "pi5", PV_ERR_UNSUPPORTED },
		{ "BOOT_ORDER=0xf13\n", "pi5", PV_ERR_INVALID },
		{ "BOOT_ORDER=f21\n", "pi5", PV_ERR_INVALID },
		{ "TFTP_PREFIX=3\n", "pi5", PV_ERR_INVALID },
		{ "TFTP_IP=10.0.0.256\n", "pi5", PV_ERR_INVALID },
		{ "TFTP_PREFIX_STR=0123456789012345678901234567890123\n", "pi5", PV_ERR_INVALID },
	};
	struct pv_buf warnings = PV_BUF_INIT(1 << 16);
	struct pv_eeprom_conf *conf;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pv_eeprom_conf_target t = { .board = pv_board_by_short_name(cases[i].board) };
		conf = parse(cases[i].text);
		t.soc = pv_soc_info(t.board->soc);
		if (pv_eeprom_conf_check(conf, &t, NULL) != cases[i].rc)
			fail_msg("'%s' on %s: expected %d (%s)", cases[i].text, cases[i].board,
				 cases[i].rc, pv_last_error());
		pv_eeprom_conf_free(conf);
	}
	conf = parse("FROB=1\nBOOT_ORDER=0xf69\n");
	assert_int_equal(pv_eeprom_conf_check(conf, NULL, &warnings), PV_ERR_INVALID);
	assert_string_equal(pv_last_error(), "'t.conf': line 2: BOOT_ORDER 0xf69: 0x9 (mode 1) is "
					     "not a boot mode");
	assert_int_equal(warnings.len, 0); /* nothing appended on failure */
	assert_int_equal(pv_eeprom_conf_set(conf, "BOOT_ORDER", "0xf21"), PV_OK);
	assert_int_equal(pv_eeprom_conf_check(conf, NULL, &warnings), PV_OK);
	assert_string_equal(pv_buf_str(&warnings), "t.conf: line 1: unknown property 'FROB'\n");
	pv_eeprom_conf_free(conf);
	pv_buf_release(&warnings);
}

static bool has_issue(const struct pv_eeprom_conf_issue *issues, size_t n,
		      enum pv_eeprom_conf_severity sev, unsigned line, const char *needle)
{
	for (size_t i = 0; i < n; i++)
		if (issues[i].severity == sev && issues[i].line == line &&
		    strstr(issues[i].message, needle))
			return true;
	return false;
}

static void test_validate(void **state)
{
	struct pv_eeprom_conf *conf;
	struct pv_eeprom_conf_issue *issues = NULL;
	struct pv_eeprom_conf_target t = { 0 };
	size_t n = 0;

	(void)state;
	conf = parse("[all]\n"                           /* 1 */
		     "BOOT_UART=2\n"                     /* 2 bad bool */
		     "BOOT_ORDER=0xf6321\n"              /* 3 rpiboot not last */
		     "FROBNICATE=1\n"                    /* 4 unknown */
		     "TFTP_PREFIX_STR=0123456789012345678901234567890123\n" /* 5 > 32 */
		     "DHCP_TIMEOUT=100\n"                /* 6 below minimum */
		     "TFTP_IP=10.0.0.300\n"              /* 7 */
		     "BOOT_UART=1\n"                     /* 8 duplicate */
		     "KEY = v\n"                         /* 9 spaces */
		     "[pi9]\n"                           /* 10 unknown filter */
		     "[config.txt]\nwhatever=1\n");
	t.soc = pv_soc_by_name("2711");
	t.board = pv_board_by_short_name("pi4");
	assert_int_equal(pv_eeprom_conf_validate(conf, &t, &issues, &n), PV_OK);
	assert_true(has_issue(issues, n, PV_EEPROM_CONF_ERROR, 2, "BOOT_UART must be 0 or 1"));
	assert_true(has_issue(issues, n, PV_EEPROM_CONF_ERROR, 3, "RPIBOOT"));
	assert_true(has_issue(issues, n, PV_EEPROM_CONF_ERROR, 3, "0x6 (nvme) is not available on "
							      "Raspberry Pi 4 Model B"));
	assert_true(has_issue(issues, n, PV_EEPROM_CONF_WARNING, 4, "unknown property 'FROBNICATE'"));
	assert_true(has_issue(issues, n, PV_EEPROM_CONF_ERROR, 5, "at most 32"));
	assert_true(has_issue(issues, n, PV_EEPROM_CONF_ERROR, 6, "out of range 5000.."));
	assert_true(has_issue(issues, n, PV_EEPROM_CONF_ERROR, 7, "not an IPv4"));
	assert_true(has_issue(issues, n, PV_EEPROM_CONF_WARNING, 8, "already set on line 2"));
	assert_true(has_issue(issues, n, PV_EEPROM_CONF_WARNING, 9, "no spaces"));
	assert_true(has_issue(issues, n, PV_EEPROM_CONF_WARNING, 10, "[pi9]"));
	assert_int_equal(pv_eeprom_conf_errors(issues, n), 6);
	free(issues);

	/* The same order is fine on a CM4 (NVMe) apart from RPIBOOT. */
	t.board = pv_board_by_short_name("cm4");
	assert_int_equal(pv_eeprom_conf_validate(conf, &t, &issues, &n), PV_OK);
	assert_false(has_issue(issues, n, PV_EEPROM_CONF_ERROR, 3, "nvme"));
	free(issues);
	pv_eeprom_conf_free(conf);

	/* More than 8 modes, bad nibble, too large for the image. */
	conf = parse("BOOT_ORDER=0x123456781\nUART_BAUD=1234\n");
	t.board = NULL;
	t.soc = pv_soc_by_name("2712");
	t.capacity = 20;
	assert_int_equal(pv_eeprom_conf_validate(conf, &t, &issues, &n), PV_OK);
	assert_true(has_issue(issues, n, PV_EEPROM_CONF_ERROR, 1, "at most 8 modes"));
	assert_true(has_issue(issues, n, PV_EEPROM_CONF_ERROR, 2, "UART_BAUD must be one of"));
	assert_true(has_issue(issues, n, PV_EEPROM_CONF_ERROR, 0, "room for 20 bytes"));
	free(issues);
	pv_eeprom_conf_free(conf);

	/* A property newer than the image's bootloader. */
	conf = parse("HTTP_HOST=boot.example.com\nBOOT_UART=1\n");
	t.soc = pv_soc_by_name("2711");
	t.capacity = 0;
	t.build_timestamp = 1600000000; /* 2020-09-13 */
	assert_int_equal(pv_eeprom_conf_validate(conf, &t, &issues, &n), PV_OK);
	assert_int_equal(n, 1);
	assert_true(has_issue(issues, n, PV_EEPROM_CONF_WARNING, 1,
			      "HTTP_HOST is not known to this bootloader (built 2020-09-13; "
			      "first in the 2022-02-28 release)"));
	free(issues);
	t.build_timestamp = 1700000000;
	assert_int_equal(pv_eeprom_conf_validate(conf, &t, &issues, &n), PV_OK);
	assert_int_equal(n, 0);
	free(issues);
	pv_eeprom_conf_free(conf);
	t.soc = pv_soc_by_name("2712");
	t.build_timestamp = 0;

	conf = parse("BOOT_ORDER=0xf5891\n");
	assert_int_equal(pv_eeprom_conf_validate(conf, &t, &issues, &n), PV_OK);
	assert_true(has_issue(issues, n, PV_EEPROM_CONF_ERROR, 1, "0x9 (mode 2) is not a boot mode"));
	assert_true(has_issue(issues, n, PV_EEPROM_CONF_ERROR, 1, "0x5 (bcm-usb) is not available"));
	free(issues);
	pv_eeprom_conf_free(conf);
}

static void test_presets(void **state)
{
	static const char *const names[] = { "sd", "usb", "network", "nvme", "http" };
	static const char *const socs[] = { "2711", "2712" };
	struct pv_eeprom_conf *conf, *preset;
	char dir[4096];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/firmware-templates", pv_test_source_dir());
	for (size_t s = 0; s < 2; s++) {
		for (size_t i = 0; i < 5; i++) {
			struct pv_eeprom_conf_issue *issues = NULL;
			struct pv_eeprom_conf_target t = { .soc = pv_soc_by_name(socs[s]) };
			size_t n = 0;
			assert_int_equal(pv_eeprom_preset_load(dir, t.soc, names[i], &preset), PV_OK);
			assert_non_null(pv_eeprom_conf_get(preset, "BOOT_ORDER"));
			assert_int_equal(pv_eeprom_conf_validate(preset, &t, &issues, &n), PV_OK);
			assert_int_equal(n, 0);
			free(issues);
			pv_eeprom_conf_free(preset);
		}
	}
	assert_int_equal(pv_eeprom_preset_load(dir, pv_soc_by_name("2712"), "network", &preset),
			 PV_OK);
	conf = parse("[all]\nBOOT_UART=1\nBOOT_ORDER=0xf461\n# mine\n");
	assert_int_equal(pv_eeprom_conf_merge(conf, preset), PV_OK);
	assert_text(conf, "[all]\nBOOT_UART=1\nBOOT_ORDER=0xf21\n# mine\n");
	pv_eeprom_conf_free(conf);
	pv_eeprom_conf_free(preset);
	assert_int_equal(pv_eeprom_preset_load(dir, pv_soc_by_name("2711"), "warp", &preset),
			 PV_ERR_NOT_FOUND);
	assert_int_equal(pv_eeprom_preset_load(dir, pv_soc_by_name("2711"), "../x", &preset),
			 PV_ERR_INVALID);
}

/* Every historical release config parses, serializes identically and has no errors. */
static void test_history_configs(void **state)
{
	const char *fx = pv_test_fixtures_or_skip();
	char path[4096];
	struct dirent *de;
	unsigned count = 0;
	DIR *d;

	(void)state;
	snprintf(path, sizeof(path), "%s/bootconf/history", fx);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d))) {
		struct pv_buf text = PV_BUF_INIT(SIZE_MAX), out = PV_BUF_INIT(SIZE_MAX);
		struct pv_eeprom_conf *conf = NULL;
		struct pv_eeprom_conf_issue *issues = NULL;
		size_t n = 0;
		char file[4400];

		if (de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		pv_test_read_file(file, &text);
		assert_int_equal(pv_eeprom_conf_parse(text.data, text.len, file, &conf), PV_OK);
		assert_int_equal(pv_eeprom_conf_serialize(conf, &out), PV_OK);
		assert_int_equal(out.len, text.len);
		assert_memory_equal(out.data, text.data, text.len);
		assert_int_equal(pv_eeprom_conf_validate(conf, NULL, &issues, &n), PV_OK);
		if (pv_eeprom_conf_errors(issues, n))
			fail_msg("%s: line %u: %s", file, issues[0].line, issues[0].message);
		free(issues);
		pv_eeprom_conf_free(conf);
		pv_buf_release(&text);
		pv_buf_release(&out);
		count++;
	}
	closedir(d);
	assert_int_equal(count, 73);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_bytes),
		cmocka_unit_test(test_set_in_place),
		cmocka_unit_test(test_boot_order_edits),
		cmocka_unit_test(test_boot_order_rules),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_presets),
		cmocka_unit_test(test_history_configs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
