/* Identity reader: in-root path resolution, device-tree decoding, the mailbox protocol and
 * the per-board results on the fixture sysroots (tests/fixtures/sysroot/, built by
 * make-sysroots.sh with the kernel's exact encodings). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_mailbox.h"
#include "piprov/node.h"
#include "piprov/text.h"
#include "test_support.h"

static char *sysroot(const char *board)
{
	char *path = NULL;

	assert_true(asprintf(&path, "%s/%s", NODE_SYSROOTS, board) > 0);
	return path;
}

/* A writable copy of a fixture sysroot, for the bad-data cases. */
static char *copy_sysroot(const char *board, char **tmp)
{
	char *src = sysroot(board), *cmd = NULL, *dst = NULL;

	*tmp = pv_test_mkdtemp();
	assert_true(asprintf(&dst, "%s/%s", *tmp, board) > 0);
	assert_true(asprintf(&cmd, "cp -a '%s' '%s'", src, dst) > 0);
	assert_int_equal(pv_test_run(cmd, NULL, 1), 0);
	free(cmd);
	free(src);
	return dst;
}

static void write_at(const char *root, const char *rel, const void *data, size_t len)
{
	char *path = NULL;

	assert_true(asprintf(&path, "%s/%s", root, rel) > 0);
	unlink(path);
	pv_test_write_file(path, data, len);
	free(path);
}

static void remove_at(const char *root, const char *rel)
{
	char *path = NULL;

	assert_true(asprintf(&path, "%s/%s", root, rel) > 0);
	assert_int_equal(unlink(path), 0);
	free(path);
}

static int read_board(const char *path, struct pv_node_mailbox *mb, struct pv_node_identity *id)
{
	struct pv_node_root root;
	int rc;

	assert_int_equal(pv_node_root_open(&root, path), 0);
	pv_node_identity_init(id);
	rc = pv_node_identity_read(&root, mb, id);
	pv_node_root_close(&root);
	return rc;
}

/* ---- root ---- */

static void test_root_resolve(void **state)
{
	char *tmp = pv_test_mkdtemp(), *p = NULL;
	struct pv_node_root root;
	char out[256];

	(void)state;
	assert_true(asprintf(&p, "mkdir -p '%s/a/b' && ln -s /a '%s/abs' && ln -s ../../../a "
			     "'%s/a/up' && ln -s loop '%s/loop' && ln -s /etc/passwd '%s/esc'",
			     tmp, tmp, tmp, tmp, tmp) > 0);
	assert_int_equal(pv_test_run(p, NULL, 1), 0);
	free(p);
	assert_int_equal(pv_node_root_open(&root, tmp), 0);
	/* An absolute link resolves inside the root, not on the host. */
	assert_int_equal(pv_node_root_resolve(&root, "abs/b", out, sizeof(out)), 0);
	assert_string_equal(out, "a/b");
	/* ".." never climbs above the root. */
	assert_int_equal(pv_node_root_resolve(&root, "a/up/b", out, sizeof(out)), 0);
	assert_string_equal(out, "a/b");
	assert_int_equal(pv_node_root_resolve(&root, "/../../a/./b/", out, sizeof(out)), 0);
	assert_string_equal(out, "a/b");
	assert_int_equal(pv_node_root_resolve(&root, "/", out, sizeof(out)), 0);
	assert_string_equal(out, ".");
	/* /etc/passwd of the host is not visible through a link in the root. */
	assert_false(pv_node_root_exists(&root, "esc"));
	assert_int_equal(pv_node_root_resolve(&root, "esc", out, sizeof(out)), PV_ERR_NOT_FOUND);
	assert_int_equal(pv_node_root_resolve(&root, "loop", out, sizeof(out)), PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "too many symbolic links"));
	assert_int_equal(pv_node_root_resolve(&root, "missing/x", out, sizeof(out)),
			 PV_ERR_NOT_FOUND);
	/* A missing last component is allowed (the caller may create it). */
	assert_int_equal(pv_node_root_resolve(&root, "abs/new", out, sizeof(out)), 0);
	assert_string_equal(out, "a/new");
	pv_node_root_close(&root);
	pv_test_rmtree(tmp);
	free(tmp);
}

/* ---- device-tree values and cpuinfo ---- */

static void test_dt_values(void **state)
{
	uint32_t v;
	uint8_t mac[6];
	char s[32];

	(void)state;
	assert_int_equal(pv_node_dt_u32("\x00\xc0\x31\x15", 4, &v), 0);
	assert_int_equal(v, 0xc03115);
	assert_int_equal(pv_node_dt_u32("\x00\xc0\x31", 3, &v), PV_ERR_FORMAT);
	assert_int_equal(pv_node_dt_u32("\x00\x00\x00\x00\x01", 5, &v), PV_ERR_FORMAT);
	assert_int_equal(pv_node_dt_string("abc", 4, s, sizeof(s)), 0);
	assert_string_equal(s, "abc");
	assert_int_equal(pv_node_dt_string("abc", 3, s, sizeof(s)), 0); /* no terminator */
	assert_int_equal(pv_node_dt_string("a\0c", 4, s, sizeof(s)), PV_ERR_FORMAT);
	assert_int_equal(pv_node_dt_string("", 1, s, sizeof(s)), PV_ERR_FORMAT);
	assert_int_equal(pv_node_dt_string("a\nb", 4, s, sizeof(s)), PV_ERR_FORMAT);
	assert_int_equal(pv_node_dt_string("abcdef", 7, s, 4), PV_ERR_TOO_BIG);
	assert_int_equal(pv_node_dt_string_at("one\0two\0", 8, 1, s, sizeof(s)), 0);
	assert_string_equal(s, "two");
	assert_int_equal(pv_node_dt_string_at("one\0two\0", 8, 2, s, sizeof(s)), PV_ERR_NOT_FOUND);
	assert_int_equal(pv_node_dt_string_at("one\0two", 7, 0, s, sizeof(s)), PV_ERR_FORMAT);
	assert_int_equal(pv_node_dt_mac("\xdc\xa6\x32\xb8\x04\x5c", 6, mac), 0);
	assert_int_equal(mac[5], 0x5c);
	assert_int_equal(pv_node_dt_mac("\xdc\xa6\x32\xb8\x04", 5, mac), PV_ERR_FORMAT);
}

static void test_cpuinfo(void **state)
{
	static const char good[] = "processor\t: 0\nBogoMIPS\t: 108.00\n\nHardware\t: BCM2835\n"
				   "Revision\t: c03115\nSerial\t\t: 10000000f8b73778\n"
				   "Model\t\t: Raspberry Pi 4 Model B Rev 1.5\n";
	static const char bad[] = "Revision\t: c03115\nSerial\t\t: 10000000f8b7377\n";
	struct pv_node_cpuinfo info;

	(void)state;
	assert_int_equal(pv_node_cpuinfo_parse(good, strlen(good), &info), 0);
	assert_true(info.has_serial && info.has_revision);
	assert_true(info.serial == 0x10000000f8b73778ull);
	assert_int_equal(info.revision, 0xc03115);
	assert_string_equal(info.model, "Raspberry Pi 4 Model B Rev 1.5");
	assert_string_equal(info.hardware, "BCM2835");
	assert_int_equal(pv_node_cpuinfo_parse(bad, strlen(bad), &info), PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "line 2"));
	assert_non_null(strstr(pv_last_error(), "Serial"));
}

/* ---- the fixture boards ---- */

struct expected_board {
	const char *board;
	const char *serial, *mac;
	uint32_t revision;
	const char *soc, *short_name;
	unsigned memory_mb;
	const char *prefix;
	const char *config_line;       /* a line the running config must contain */
	uint32_t build_timestamp, boot_mode;
	enum pv_node_source revision_source, mac_source;
};

static const struct expected_board boards[] = {
	{ "pi4b", "10000000f8b73778", "dc:a6:32:b8:04:5c", 0xc03115, "BCM2711", "pi4", 4096,
	  "f8b73778/", "BOOT_ORDER=0xf41\n", 1746717695, 1, PV_NODE_SRC_DEVICE_TREE,
	  PV_NODE_SRC_DEVICE_TREE },
	{ "pi400", "100000002a1b3c4d", "e4:5f:01:2a:1b:3c", 0xc03130, "BCM2711", "pi400", 4096,
	  "2a1b3c4d/", "WAKE_ON_GPIO=2\n", 1705000000, 1, PV_NODE_SRC_DEVICE_TREE,
	  PV_NODE_SRC_SYSFS },
	{ "cm4", "10000000b29d2da0", "d8:3a:dd:05:ee:78", 0xc03140, "BCM2711", "cm4", 4096,
	  "d8-3a-dd-05-ee-78/", "TFTP_PREFIX=2\n", 1740000000, 1, PV_NODE_SRC_CPUINFO,
	  PV_NODE_SRC_DEVICE_TREE },
	{ "pi5", "0c8f7e5cbd989ae1", "2c:cf:67:70:76:f3", 0xd04170, "BCM2712", "pi5", 8192,
	  "bd989ae1/", "BOOT_ORDER=0xf461\n", 1715613301, 6, PV_NODE_SRC_DEVICE_TREE,
	  PV_NODE_SRC_DEVICE_TREE },
	{ "cm5", "a7eb274c5e0d1f22", "d8:3a:dd:e4:c9:f0", 0xc04180, "BCM2712", "cm5", 4096,
	  "cluster-a/", "TFTP_PREFIX_STR=cluster-a/\n", 1779807685, 2, PV_NODE_SRC_DEVICE_TREE,
	  PV_NODE_SRC_DEVICE_TREE },
};

static void test_fixture_boards(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(boards) / sizeof(boards[0]); i++) {
		const struct expected_board *e = &boards[i];
		struct pv_node_identity id;
		char *path = sysroot(e->board), serial[PV_SERIAL_STRLEN], mac[PV_MAC_STRLEN],
		     prefix[64];

		print_message("board %s\n", e->board);
		assert_int_equal(read_board(path, NULL, &id), 0);
		pv_serial_format(id.serial, 16, serial);
		assert_string_equal(serial, e->serial);
		assert_int_equal(id.serial_source, PV_NODE_SRC_DEVICE_TREE);
		pv_mac_format(id.mac, ':', mac);
		assert_string_equal(mac, e->mac);
		assert_int_equal(id.mac_source, e->mac_source);
		assert_int_equal(id.revision_code, e->revision);
		assert_int_equal(id.revision_source, e->revision_source);
		assert_true(id.revision_decoded);
		assert_string_equal(pv_node_identity_soc(&id)->name, e->soc);
		assert_string_equal(id.revision.board->short_name, e->short_name);
		assert_int_equal(id.revision.memory_mb, e->memory_mb);
		assert_true(pv_node_identity_has_eeprom(&id));
		pv_node_identity_tftp_prefix(&id, prefix, sizeof(prefix));
		assert_string_equal(prefix, e->prefix);
		assert_int_equal(id.eeprom_config_source, PV_NODE_SRC_NVMEM);
		assert_non_null(strstr(pv_buf_str(&id.eeprom_config), e->config_line));
		/* The nvmem block's NUL padding is not part of the text. */
		assert_int_equal(strlen(pv_buf_str(&id.eeprom_config)), id.eeprom_config.len);
		assert_int_equal(id.bootloader.build_timestamp, e->build_timestamp);
		assert_int_equal(id.bootloader.boot_mode, e->boot_mode);
		assert_int_equal(id.bootloader.capabilities, 0x7f);
		assert_int_equal(id.bootloader.present & 0x7f, 0x7f);
		assert_int_equal(strlen(id.bootloader.version), 40);
		assert_int_equal(id.warnings.len, 0);
		pv_node_identity_release(&id);
		free(path);
	}
}

static void test_pi5_family_extras(void **state)
{
	struct pv_node_identity id;
	char *path = sysroot("cm5");

	(void)state;
	assert_int_equal(read_board(path, NULL, &id), 0);
	assert_string_equal(id.duid, "002000417008133311");
	assert_true(id.has_boardrev_ext);
	assert_int_equal(id.bootloader.update_timestamp, 1779916375);
	pv_node_identity_release(&id);
	free(path);
}

static const char otp_programmed[] = "16:00280000\n17:3020000a\n18:3020000a\n28:e785c0f2\n";
static const char otp_default[] = "16:00280000\n17:1020000a\n18:1020000a\n";

static void test_pi3_otp(void **state)
{
	struct fake_answer answers[] = {
		{ PV_NODE_MBOX_TAG_GENCMD, "otp_dump", otp_programmed, sizeof(otp_programmed) - 1,
		  0, 0, 0 },
	};
	struct fake_mailbox fake = { answers, 1, 0, 0, "", { 0 } };
	struct pv_node_mailbox mb;
	struct pv_node_identity id;
	char *path = sysroot("pi3bplus");

	(void)state;
	fake_mailbox_attach(&fake, &mb);
	assert_int_equal(read_board(path, &mb, &id), 0);
	assert_false(pv_node_identity_has_eeprom(&id));
	assert_string_equal(pv_node_identity_soc(&id)->name, "BCM2837");
	assert_true(id.has_otp_boot_row);
	assert_int_equal(id.otp_boot_row, 0x3020000a);
	assert_true(pv_node_identity_otp_boot_enabled(&id));
	assert_string_equal(fake.last_gencmd, "otp_dump");
	assert_int_equal(id.bootloader.present, 0);
	pv_node_identity_release(&id);

	answers[0].value = otp_default;
	answers[0].len = sizeof(otp_default) - 1;
	assert_int_equal(read_board(path, &mb, &id), 0);
	assert_true(id.has_otp_boot_row);
	assert_false(pv_node_identity_otp_boot_enabled(&id));
	pv_node_identity_release(&id);

	/* Without a mailbox the row is unknown, and the status says why. */
	assert_int_equal(read_board(path, NULL, &id), 0);
	assert_false(id.has_otp_boot_row);
	assert_non_null(strstr(pv_buf_str(&id.warnings), "OTP row 17"));
	pv_node_identity_release(&id);
	free(path);
}

/* CM5 whose device tree lacks serial, revision and the blconfig alias, without cpuinfo:
 * everything comes from the firmware mailbox. */
static void test_mailbox_fallback(void **state)
{
	static const unsigned char serial_le[8] = { 0x22, 0x1f, 0x0d, 0x5e, 0x4c, 0x27, 0xeb, 0xa7 };
	static const unsigned char rev_le[4] = { 0x80, 0x41, 0xc0, 0x00 };
	static const char config[] = "[all]\nBOOT_ORDER=0xf261\nBOOT_UART=1\n";
	struct fake_answer answers[] = {
		{ PV_NODE_MBOX_TAG_BOARD_SERIAL, NULL, serial_le, 8, 0, 0, 0 },
		{ PV_NODE_MBOX_TAG_BOARD_REVISION, NULL, rev_le, 4, 0, 0, 0 },
		{ PV_NODE_MBOX_TAG_GENCMD, "bootloader_config", config, sizeof(config) - 1, 0, 0, 0 },
	};
	struct fake_mailbox fake = { answers, 3, 0, 0, "", { 0 } };
	struct pv_node_mailbox mb;
	struct pv_node_identity id;
	char *tmp, *root = copy_sysroot("cm5", &tmp);

	(void)state;
	remove_at(root, "sys/firmware/devicetree/base/serial-number");
	remove_at(root, "sys/firmware/devicetree/base/system/linux,revision");
	remove_at(root, "sys/firmware/devicetree/base/aliases/blconfig");
	remove_at(root, "proc/cpuinfo");
	fake_mailbox_attach(&fake, &mb);
	assert_int_equal(read_board(root, &mb, &id), 0);
	assert_true(id.serial == 0xa7eb274c5e0d1f22ull);
	assert_int_equal(id.serial_source, PV_NODE_SRC_MAILBOX);
	assert_int_equal(id.revision_code, 0xc04180);
	assert_int_equal(id.revision_source, PV_NODE_SRC_MAILBOX);
	assert_int_equal(id.eeprom_config_source, PV_NODE_SRC_MAILBOX);
	assert_string_equal(pv_buf_str(&id.eeprom_config), config);
	pv_node_identity_release(&id);
	pv_test_rmtree(tmp);
	free(tmp);
	free(root);
}

static void test_mailbox_protocol(void **state)
{
	static const unsigned char serial_le[8] = { 0x78, 0x37, 0xb7, 0xf8, 0, 0, 0, 0x10 };
	struct fake_answer answers[] = {
		{ PV_NODE_MBOX_TAG_BOARD_SERIAL, NULL, serial_le, 8, 0, 0, 0 },
		{ PV_NODE_MBOX_TAG_GENCMD, "bootloader_version", "x", 1, 2, 0, 0 },
	};
	struct fake_mailbox fake = { answers, 2, 0, 0, "", { 0 } };
	struct pv_node_mailbox mb;
	struct pv_buf text = PV_BUF_INIT(8192);
	uint64_t serial;
	uint8_t mac[6];

	(void)state;
	fake_mailbox_attach(&fake, &mb);
	assert_int_equal(pv_node_mailbox_serial(&mb, &serial), 0);
	assert_true(serial == 0x10000000f8b73778ull);
	/* The request as vcmailbox sends it: size, 0, tag, value buffer 8, request length 0. */
	assert_int_equal(fake.last_words[0], 6 * 4 + 8);
	assert_int_equal(fake.last_words[1], 0);
	assert_int_equal(fake.last_words[2], 0x00010004);
	assert_int_equal(fake.last_words[3], 8);
	assert_int_equal(fake.last_words[4], 0);
	/* Unknown tag: the firmware's parse-error code. */
	assert_int_equal(pv_node_mailbox_mac(&mb, mac), PV_ERR_PROTOCOL);
	assert_non_null(strstr(pv_last_error(), "0x80000001"));
	/* gencmd errors are reported with their code. */
	assert_int_equal(pv_node_mailbox_gencmd(&mb, "bootloader_version", &text), PV_ERR_PROTOCOL);
	assert_non_null(strstr(pv_last_error(), "code 2"));
	/* An answer longer than the room it was given is refused. */
	answers[0].resp_len = 0x80000000u | 64;
	assert_int_equal(pv_node_mailbox_serial(&mb, &serial), PV_ERR_OVERFLOW);
	/* An answer without the response bit was not answered. */
	answers[0].resp_len = 8;
	assert_int_equal(pv_node_mailbox_serial(&mb, &serial), PV_ERR_PROTOCOL);
	pv_buf_release(&text);
}

static void test_bad_device_tree(void **state)
{
	struct pv_node_identity id;
	char *tmp, *root;

	(void)state;
	/* A revision cell of 3 bytes. */
	root = copy_sysroot("pi4b", &tmp);
	write_at(root, "sys/firmware/devicetree/base/system/linux,revision", "\x00\xc0\x31", 3);
	assert_int_equal(read_board(root, NULL, &id), PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "system/linux,revision"));
	assert_non_null(strstr(pv_last_error(), "found 3 bytes"));
	pv_node_identity_release(&id);
	/* A serial that is not hex. */
	write_at(root, "sys/firmware/devicetree/base/system/linux,revision", "\x00\xc0\x31\x15", 4);
	write_at(root, "sys/firmware/devicetree/base/serial-number", "10000000f8b7377z", 17);
	assert_int_equal(read_board(root, NULL, &id), PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "serial-number"));
	pv_node_identity_release(&id);
	/* A five-byte MAC. */
	write_at(root, "sys/firmware/devicetree/base/serial-number", "10000000f8b73778", 17);
	write_at(root, "sys/firmware/devicetree/base/scb/ethernet@7d580000/local-mac-address",
		 "\xdc\xa6\x32\xb8\x04", 5);
	assert_int_equal(read_board(root, NULL, &id), PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "local-mac-address"));
	pv_node_identity_release(&id);
	/* A bootloader cell of 8 bytes. */
	write_at(root, "sys/firmware/devicetree/base/scb/ethernet@7d580000/local-mac-address",
		 "\xdc\xa6\x32\xb8\x04\x5c", 6);
	write_at(root, "sys/firmware/devicetree/base/chosen/bootloader/boot-mode",
		 "\0\0\0\0\0\0\0\1", 8);
	assert_int_equal(read_board(root, NULL, &id), PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "boot-mode"));
	pv_node_identity_release(&id);
	pv_test_rmtree(tmp);
	free(tmp);
	free(root);

	/* Missing: an empty root is no Raspberry Pi. */
	tmp = pv_test_mkdtemp();
	assert_int_equal(read_board(tmp, NULL, &id), PV_ERR_NOT_FOUND);
	assert_non_null(strstr(pv_last_error(), "no serial number or revision"));
	pv_node_identity_release(&id);
	pv_test_rmtree(tmp);
	free(tmp);
}

static void test_config_get(void **state)
{
	static const char config[] = "[all]\nBOOT_ORDER=0xf41\n[pi4]\nBOOT_ORDER=0xf14\n[all]\n"
				     "TFTP_PREFIX=1\nTFTP_PREFIX_STR=abc/\r\n";
	char v[32];

	(void)state;
	assert_true(pv_node_config_get(config, "BOOT_ORDER", v, sizeof(v)));
	assert_string_equal(v, "0xf41"); /* the [pi4] section is conditional */
	assert_true(pv_node_config_get(config, "TFTP_PREFIX_STR", v, sizeof(v)));
	assert_string_equal(v, "abc/");
	assert_false(pv_node_config_get(config, "TFTP", v, sizeof(v)));
}

static void test_fixtures_match_generator(void **state)
{
	char *tmp = pv_test_mkdtemp(), *cmd = NULL;
	struct pv_buf out = PV_BUF_INIT(1 << 20);

	(void)state;
	/* The committed sysroots are exactly what make-sysroots.sh produces. */
	assert_true(asprintf(&cmd, "bash '%s/make-sysroots.sh' '%s' && for b in pi4b pi400 cm4 "
			     "pi5 cm5 pi3bplus; do diff -r --no-dereference '%s/'$b '%s/'$b || "
			     "exit 1; done", NODE_SYSROOTS, tmp, NODE_SYSROOTS, tmp) > 0);
	if (pv_test_run(cmd, &out, 1) != 0)
		fail_msg("sysroots differ from make-sysroots.sh:\n%s", pv_buf_str(&out));
	free(cmd);
	pv_buf_release(&out);
	pv_test_rmtree(tmp);
	free(tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_resolve),
		cmocka_unit_test(test_dt_values),
		cmocka_unit_test(test_cpuinfo),
		cmocka_unit_test(test_fixture_boards),
		cmocka_unit_test(test_pi5_family_extras),
		cmocka_unit_test(test_pi3_otp),
		cmocka_unit_test(test_mailbox_fallback),
		cmocka_unit_test(test_mailbox_protocol),
		cmocka_unit_test(test_bad_device_tree),
		cmocka_unit_test(test_config_get),
		cmocka_unit_test(test_fixtures_match_generator),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
