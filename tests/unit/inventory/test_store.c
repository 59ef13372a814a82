/* The inventory file and the merge rules: round trip, errors naming file/line/field,
 * conflicts reported instead of overwritten, serial merging, allocation. */
#include <fcntl.h>
#include <libconfig.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "piprov/error.h"
#include "piprov/fileio.h"
#include "piprov/inventory.h"
#include "piprov/text.h"
#include "test_support.h"

#define NOW 1764044860 /* 2025-11-25T04:27:40Z */

static struct pv_inventory_record board(const char *serial, const char *mac)
{
	struct pv_inventory_record rec;

	pv_inventory_record_init(&rec);
	assert_int_equal(pv_inventory_record_set_serial(&rec, serial), PV_OK);
	if (mac)
		assert_int_equal(pv_inventory_record_set(&rec, "mac", mac), PV_OK);
	return rec;
}

static char *inventory_path(char *dir)
{
	char *path;

	assert_true(asprintf(&path, "%s/inv.cfg", dir) > 0);
	return path;
}

static void test_round_trip(void **state)
{
	struct pv_inventory inv, again;
	struct pv_inventory_record rec = board("10000000f8b73778", "DC:A6:32:01:36:C2");
	struct pv_inventory_upsert_opts opts = { .source = PV_INVENTORY_SOURCE_USB, .now = NOW };
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX), text2 = PV_BUF_INIT(SIZE_MAX);

	(void)state;
	assert_int_equal(pv_inventory_record_set(&rec, "board_revision", "c03111"), PV_OK);
	assert_int_equal(pv_inventory_record_set(&rec, "hostname", "node01"), PV_OK);
	assert_int_equal(pv_inventory_record_set(&rec, "ip", "192.168.1.41"), PV_OK);
	assert_int_equal(pv_inventory_record_set(&rec, "boot_order", "0xf21"), PV_OK);
	assert_int_equal(pv_inventory_record_set(&rec, "tags", "rack1, k3s"), PV_OK);
	assert_int_equal(pv_inventory_record_set(&rec, "notes", "left \"shelf\"\nrow 2"), PV_OK);
	assert_int_equal(pv_inventory_record_set(&rec, "bootloader_build_ts", "1715613301"), PV_OK);
	pv_inventory_init(&inv);
	assert_int_equal(pv_inventory_merge(&inv, &rec, &opts, NULL), PV_OK);
	assert_int_equal(pv_inventory_serialize(&inv, &text), PV_OK);
	assert_int_equal(pv_inventory_parse((const char *)text.data, text.len, "t", &again), PV_OK);
	assert_int_equal(again.count, 1);
	assert_int_equal(again.records[0].serial, 0x10000000f8b73778ull);
	assert_int_equal(again.records[0].revision, 0xc03111);
	assert_string_equal(again.records[0].notes, "left \"shelf\"\nrow 2");
	assert_int_equal(again.records[0].n_tags, 2);
	assert_int_equal(again.records[0].seen[PV_FACT_MAC].source, PV_INVENTORY_SOURCE_USB);
	assert_int_equal(again.records[0].seen[PV_FACT_MAC].first_seen, NOW);
	assert_int_equal(pv_inventory_serialize(&again, &text2), PV_OK);
	assert_int_equal(text.len, text2.len);
	assert_memory_equal(text.data, text2.data, text.len);
	pv_buf_release(&text);
	pv_buf_release(&text2);
	pv_inventory_release(&inv);
	pv_inventory_release(&again);
	pv_inventory_record_release(&rec);
}

static void expect_parse_error(const char *text, const char *needle)
{
	struct pv_inventory inv;

	assert_int_equal(pv_inventory_parse(text, strlen(text), "bad.cfg", &inv), PV_ERR_FORMAT);
	if (!strstr(pv_last_error(), needle))
		fail_msg("error '%s' lacks '%s'", pv_last_error(), needle);
}

static void test_bad_input(void **state)
{
	(void)state;
	expect_parse_error("version = 1;\nboards = (\n { serial = \"1234\" }\n);\n",
			   "'bad.cfg': line 3: field 'serial'");
	expect_parse_error("version = 1;\nboards = (\n { serial = \"12345678\";\n"
			   " mac = \"zz:a6:32:01:36:c2\"; }\n);\n",
			   "line 4: field 'mac'");
	expect_parse_error("version = 1;\nboards = ({ serial = \"12345678\";\n ip = \"10.0.0.256\"; });\n",
			   "line 3: field 'ip'");
	expect_parse_error("version = 1;\nboards = ({ serial = \"12345678\";\n\n hostname = \"-x\"; });\n",
			   "line 4: field 'hostname'");
	expect_parse_error("version = 1;\nboards = (\n { serial = \"12345678\"; \n", "'bad.cfg': line 3: board group not closed");
	expect_parse_error("version = 1;\nboards = ({ serial = \"12345678\"; },\n"
			   "{ serial = \"12345678\"; });\n", "line 3: serial '12345678'");
	expect_parse_error("version = 2;\n", "line 1: unsupported format version");
	expect_parse_error("boards = ();\n", "no 'version");
	expect_parse_error("version = 1;\n@include \"/etc/passwd\"\n", "line 2: directives");
	expect_parse_error("version = 1;\nboards = ({ serial = \"12345678\"; macc = \"x\"; });\n",
			   "unknown field 'macc'");
}

static void test_conflicts(void **state)
{
	struct pv_inventory inv;
	struct pv_inventory_record a = board("10000000aaaaaaaa", "dc:a6:32:00:00:01");
	struct pv_inventory_record b = board("10000000bbbbbbbb", "dc:a6:32:00:00:01");
	struct pv_inventory_record a2 = board("10000000aaaaaaaa", "dc:a6:32:00:00:99");
	struct pv_inventory_record c = board("20000000aaaaaaaa", NULL);
	struct pv_inventory_upsert_opts opts = { .source = PV_INVENTORY_SOURCE_USB, .now = NOW };
	struct pv_inventory_report rep;

	(void)state;
	pv_inventory_init(&inv);
	assert_int_equal(pv_inventory_merge(&inv, &a, &opts, &rep), PV_OK);
	assert_true(rep.created);
	/* Same MAC on another serial: the board is recorded, the MAC is not. */
	assert_int_equal(pv_inventory_merge(&inv, &b, &opts, &rep), PV_OK);
	assert_int_equal(rep.n_conflicts, 1);
	assert_int_equal(rep.conflicts[0].kind, PV_CONFLICT_MAC_IN_USE);
	assert_string_equal(rep.conflicts[0].other_serial, "10000000aaaaaaaa");
	assert_int_equal(inv.count, 2);
	assert_false(inv.records[1].has_mac);
	/* A changed MAC is reported and the old one kept. */
	assert_int_equal(pv_inventory_merge(&inv, &a2, &opts, &rep), PV_OK);
	assert_int_equal(rep.n_conflicts, 1);
	assert_int_equal(rep.conflicts[0].kind, PV_CONFLICT_VALUE_CHANGED);
	assert_int_equal(inv.records[0].mac[5], 0x01);
	/* Strict: nothing written. */
	opts.flags = PV_UPSERT_STRICT;
	assert_int_equal(pv_inventory_merge(&inv, &a2, &opts, &rep), PV_ERR_CONFLICT);
	assert_int_equal(inv.records[0].mac[5], 0x01);
	/* Overwrite replaces this board's own value. */
	opts.flags = PV_UPSERT_OVERWRITE;
	assert_int_equal(pv_inventory_merge(&inv, &a2, &opts, &rep), PV_OK);
	assert_int_equal(inv.records[0].mac[5], 0x99);
	/* Same low 32 bits, different board, both on the default TFTP prefix: both would ask
	 * for folder aaaaaaaa, so the new one is not recorded (issue 15 item 5: the export gave
	 * both the same folder and NFS root). With a prefix of its own it is. */
	opts.flags = 0;
	assert_int_equal(pv_inventory_merge(&inv, &c, &opts, &rep), PV_ERR_CONFLICT);
	assert_int_equal(inv.count, 2);
	assert_int_equal(rep.conflicts[0].kind, PV_CONFLICT_SERIAL8_COLLISION);
	assert_non_null(strstr(pv_last_error(), "TFTP folder 'aaaaaaaa'"));
	assert_non_null(strstr(pv_last_error(), "10000000aaaaaaaa"));
	assert_int_equal(pv_inventory_record_set(&c, "tftp_prefix", "string"), PV_OK);
	assert_int_equal(pv_inventory_record_set(&c, "tftp_prefix_str", "c-folder"), PV_OK);
	assert_int_equal(pv_inventory_merge(&inv, &c, &opts, &rep), PV_OK);
	assert_int_equal(inv.count, 3);
	assert_int_equal(rep.n_conflicts, 0);
	pv_inventory_release(&inv);
	pv_inventory_record_release(&a);
	pv_inventory_record_release(&a2);
	pv_inventory_record_release(&b);
	pv_inventory_record_release(&c);
}

static void test_serial_merge(void **state)
{
	struct pv_inventory inv;
	struct pv_inventory_record low = board("f8b73778", "dc:a6:32:01:36:c2");
	struct pv_inventory_record full = board("10000000F8B73778", NULL);
	struct pv_inventory_upsert_opts opts = { .source = PV_INVENTORY_SOURCE_UART, .now = NOW };

	(void)state;
	pv_inventory_init(&inv);
	assert_int_equal(pv_inventory_merge(&inv, &low, &opts, NULL), PV_OK);
	opts.source = PV_INVENTORY_SOURCE_NODE;
	opts.now = NOW + 60;
	assert_int_equal(pv_inventory_merge(&inv, &full, &opts, NULL), PV_OK);
	assert_int_equal(inv.count, 1);
	assert_int_equal(inv.records[0].serial_digits, 16);
	assert_int_equal(inv.records[0].seen[PV_FACT_SERIAL].source, PV_INVENTORY_SOURCE_NODE);
	assert_int_equal(inv.records[0].seen[PV_FACT_MAC].source, PV_INVENTORY_SOURCE_UART);
	/* An 8-digit capture now finds the 16-digit board. */
	opts.now = NOW + 120;
	assert_int_equal(pv_inventory_merge(&inv, &low, &opts, NULL), PV_OK);
	assert_int_equal(inv.count, 1);
	assert_int_equal(inv.records[0].seen[PV_FACT_MAC].last_seen, NOW + 120);
	assert_int_equal(inv.records[0].seen[PV_FACT_MAC].first_seen, NOW);
	pv_inventory_release(&inv);
	pv_inventory_record_release(&low);
	pv_inventory_record_release(&full);
}

static void test_allocation(void **state)
{
	struct pv_inventory inv;
	struct pv_inventory_alloc alloc;
	struct pv_inventory_upsert_opts opts = { .source = PV_INVENTORY_SOURCE_USB, .now = NOW,
						 .alloc = &alloc };
	struct pv_inventory_record r1 = board("00000001", NULL), r2 = board("00000002", NULL);
	struct pv_inventory_record r3 = board("00000003", NULL);
	char ip[16];

	(void)state;
	memset(&alloc, 0, sizeof(alloc));
	assert_int_equal(pv_inventory_parse_pool("10.0.0.10-10.0.0.11", &alloc), PV_OK);
	assert_int_equal(pv_inventory_set_hostname_pattern(&alloc, "node-%02d"), PV_OK);
	assert_int_equal(pv_inventory_set_hostname_pattern(&alloc, "node-%s"), PV_ERR_INVALID);
	assert_int_equal(pv_inventory_parse_pool("10.0.0.11-10.0.0.10", &alloc), PV_ERR_INVALID);
	pv_inventory_init(&inv);
	assert_int_equal(pv_inventory_merge(&inv, &r1, &opts, NULL), PV_OK);
	assert_int_equal(pv_inventory_merge(&inv, &r2, &opts, NULL), PV_OK);
	assert_string_equal(inv.records[0].hostname, "node-01");
	assert_string_equal(inv.records[1].hostname, "node-02");
	pv_ipv4_format(inv.records[1].ip, ip);
	assert_string_equal(ip, "10.0.0.11");
	/* Stable: a second capture keeps what was given. */
	assert_int_equal(pv_inventory_merge(&inv, &r1, &opts, NULL), PV_OK);
	assert_string_equal(inv.records[0].hostname, "node-01");
	assert_int_equal(pv_inventory_merge(&inv, &r3, &opts, NULL), PV_ERR_NO_SPACE);
	assert_int_equal(inv.count, 2);
	pv_inventory_release(&inv);
	pv_inventory_record_release(&r1);
	pv_inventory_record_release(&r2);
	pv_inventory_record_release(&r3);
}

static void test_upsert_file(void **state)
{
	char *dir = pv_test_mkdtemp(), *path = inventory_path(dir);
	struct pv_inventory_record rec = board("12345678", "dc:a6:32:01:36:c2");
	struct pv_inventory_upsert_opts opts = { .source = PV_INVENTORY_SOURCE_USB, .now = NOW };
	struct pv_inventory inv;
	struct pv_buf before = PV_BUF_INIT(SIZE_MAX), after = PV_BUF_INIT(SIZE_MAX);
	const char *corrupt = "version = 1;\nboards = ( { serial = \"12345678\"; \n";

	(void)state;
	assert_int_equal(pv_inventory_upsert(path, &rec, &opts, NULL), PV_OK);
	assert_int_equal(pv_inventory_load(path, &inv), PV_OK);
	assert_int_equal(inv.count, 1);
	pv_inventory_release(&inv);
	/* A corrupt file is refused with its line and left exactly as it was. */
	pv_test_write_file(path, corrupt, strlen(corrupt));
	assert_int_equal(pv_inventory_upsert(path, &rec, &opts, NULL), PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "line 2"));
	pv_test_read_file(path, &after);
	assert_int_equal(after.len, strlen(corrupt));
	assert_memory_equal(after.data, corrupt, after.len);
	pv_buf_release(&before);
	pv_buf_release(&after);
	pv_inventory_record_release(&rec);
	free(path);
	pv_test_rmtree(dir);
	free(dir);
}

/* issue 15 item 5: the loader checked only serials, so a hand-edited file where two boards
 * share a MAC, IP or host name (or a TFTP folder: an 8-digit serial beside its 16-digit
 * board, two serials with the same low 32 bits) loaded, exported the duplicates, and `add`
 * rewrote it keeping them. One rule set, checked on load, naming the file and both lines. */
static void test_uniqueness_rules_on_load_name_both_lines(void **state)
{
	static const struct {
		const char *second; /* the board at line 4, after serial 10000000aaaaaaaa ... */
		const char *says;
	} cases[] = {
		{ "serial = \"10000000bbbbbbbb\"; mac = \"dc:a6:32:00:00:01\";",
		  "line 4: board '10000000bbbbbbbb': mac 'dc:a6:32:00:00:01' already belongs to "
		  "board '10000000aaaaaaaa' (the board at line 3)" },
		{ "serial = \"10000000bbbbbbbb\"; ip = \"10.0.0.5\";", "ip '10.0.0.5' already belongs" },
		{ "serial = \"10000000bbbbbbbb\"; hostname = \"NODE01\";",
		  "hostname 'NODE01' already belongs" },
		{ "serial = \"aaaaaaaa\";", "line 4: board 'aaaaaaaa' and board '10000000aaaaaaaa' "
					     "are one serial" },
		{ "serial = \"20000000aaaaaaaa\";",
		  "TFTP folder 'aaaaaaaa' already belongs to board '10000000aaaaaaaa'" },
		{ "serial = \"10000000bbbbbbbb\"; tftp_prefix = \"string\"; tftp_prefix_str = "
		  "\"aaaaaaaa\";", "TFTP folder 'aaaaaaaa'" },
	};
	const char *first = "version = 1;\nboards = (\n { serial = \"10000000aaaaaaaa\"; mac = "
			    "\"dc:a6:32:00:00:01\"; ip = \"10.0.0.5\"; hostname = \"node01\"; },\n";

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = NULL;

		assert_true(asprintf(&text, "%s { %s }\n);\n", first, cases[i].second) > 0);
		expect_parse_error(text, cases[i].says);
		expect_parse_error(text, "'bad.cfg': line 4: ");
		free(text);
	}
	/* Not clashes: another prefix gives 20000000aaaaaaaa its own folder; a board on the mac
	 * prefix without a MAC has none. */
	{
		const char *ok = "version = 1;\nboards = (\n { serial = \"10000000aaaaaaaa\"; },\n"
				 " { serial = \"20000000aaaaaaaa\"; tftp_prefix = \"mac\"; "
				 "mac = \"dc:a6:32:00:00:02\"; },\n { serial = \"30000000aaaaaaaa\"; "
				 "tftp_prefix = \"mac\"; }\n);\n";
		struct pv_inventory inv;

		assert_int_equal(pv_inventory_parse(ok, strlen(ok), "ok.cfg", &inv), PV_OK);
		assert_int_equal(inv.count, 3);
		pv_inventory_release(&inv);
	}
}

/* The same rules through add (strict merge) and set: the value is refused naming the
 * board that holds it, nothing changes. */
static void test_uniqueness_rules_on_add_and_set(void **state)
{
	struct pv_inventory inv;
	struct pv_inventory_record a = board("10000000aaaaaaaa", "dc:a6:32:00:00:01");
	struct pv_inventory_record b = board("10000000bbbbbbbb", "dc:a6:32:00:00:02");
	struct pv_inventory_record dup = board("10000000cccccccc", NULL);
	struct pv_inventory_upsert_opts strict = { .source = PV_INVENTORY_SOURCE_MANUAL, .now = NOW,
						   .flags = PV_UPSERT_STRICT };
	const char *set_prefix[] = { "tftp_prefix=string", "tftp_prefix_str=aaaaaaaa" };
	const char *set_host[] = { "hostname=Node-A" };
	const char *set_mac[] = { "mac=dc:a6:32:00:00:01" };

	(void)state;
	pv_inventory_init(&inv);
	assert_int_equal(pv_inventory_record_set(&a, "hostname", "node-a"), PV_OK);
	assert_int_equal(pv_inventory_merge(&inv, &a, &strict, NULL), PV_OK);
	assert_int_equal(pv_inventory_merge(&inv, &b, &strict, NULL), PV_OK);
	assert_int_equal(pv_inventory_record_set(&dup, "hostname", "NODE-A"), PV_OK);
	assert_int_equal(pv_inventory_merge(&inv, &dup, &strict, NULL), PV_ERR_CONFLICT);
	assert_non_null(strstr(pv_last_error(), "10000000aaaaaaaa"));
	assert_int_equal(inv.count, 2);
	assert_int_equal(pv_inventory_set(&inv, "10000000bbbbbbbb", set_host, 1, NOW),
			 PV_ERR_CONFLICT);
	assert_int_equal(pv_inventory_set(&inv, "10000000bbbbbbbb", set_mac, 1, NOW),
			 PV_ERR_CONFLICT);
	assert_int_equal(pv_inventory_set(&inv, "10000000bbbbbbbb", set_prefix, 2, NOW),
			 PV_ERR_CONFLICT);
	assert_non_null(strstr(pv_last_error(), "TFTP folder 'aaaaaaaa'"));
	assert_false(inv.records[1].has_tftp_prefix);
	assert_string_equal(inv.records[1].hostname, "");
	pv_inventory_release(&inv);
	pv_inventory_record_release(&a);
	pv_inventory_record_release(&b);
	pv_inventory_record_release(&dup);
}

/* The index re-adds only the keys a merge or a set changed: a changed value is found at
 * once (by load, merge and set alike), the value given up is free again, and a value kept
 * through an update stays taken. */
static void test_index_follows_changed_values(void **state)
{
	struct pv_inventory inv;
	struct pv_inventory_record a = board("10000000aaaaaaaa", "dc:a6:32:00:00:01");
	struct pv_inventory_record again = board("10000000aaaaaaaa", "dc:a6:32:00:00:01");
	struct pv_inventory_record old_mac = board("10000000cccccccc", "dc:a6:32:00:00:01");
	struct pv_inventory_record new_mac = board("10000000dddddddd", "dc:a6:32:00:00:09");
	struct pv_inventory_record same_ip = board("10000000eeeeeeee", NULL);
	struct pv_inventory_upsert_opts strict = { .source = PV_INVENTORY_SOURCE_MANUAL, .now = NOW,
						   .flags = PV_UPSERT_STRICT };
	const char *set_mac[] = { "mac=dc:a6:32:00:00:09" };

	(void)state;
	pv_inventory_init(&inv);
	assert_int_equal(pv_inventory_record_set(&a, "ip", "10.0.0.5"), PV_OK);
	assert_int_equal(pv_inventory_record_set(&again, "ip", "10.0.0.5"), PV_OK);
	assert_int_equal(pv_inventory_record_set(&same_ip, "ip", "10.0.0.5"), PV_OK);
	assert_int_equal(pv_inventory_merge(&inv, &a, &strict, NULL), PV_OK);
	assert_int_equal(pv_inventory_merge(&inv, &again, &strict, NULL), PV_OK); /* an update */
	assert_int_equal(pv_inventory_merge(&inv, &same_ip, &strict, NULL), PV_ERR_CONFLICT);
	assert_non_null(strstr(pv_last_error(), "10.0.0.5"));
	assert_int_equal(pv_inventory_set(&inv, "10000000aaaaaaaa", set_mac, 1, NOW), PV_OK);
	assert_int_equal(pv_inventory_merge(&inv, &new_mac, &strict, NULL), PV_ERR_CONFLICT);
	assert_non_null(strstr(pv_last_error(), "dc:a6:32:00:00:09"));
	assert_int_equal(pv_inventory_merge(&inv, &old_mac, &strict, NULL), PV_OK);
	assert_int_equal(inv.count, 2);
	assert_ptr_equal(pv_inventory_lookup(&inv, "dc:a6:32:00:00:01"), &inv.records[1]);
	assert_ptr_equal(pv_inventory_lookup(&inv, "dc:a6:32:00:00:09"), &inv.records[0]);
	pv_inventory_release(&inv);
	pv_inventory_record_release(&a);
	pv_inventory_record_release(&again);
	pv_inventory_record_release(&old_mac);
	pv_inventory_record_release(&new_mac);
	pv_inventory_record_release(&same_ip);
}

/* A record's tags are one allocation: a copy owns its own, adding one keeps the others. */
static void test_tags_copy_and_add(void **state)
{
	struct pv_inventory_record rec = board("10000000aaaaaaaa", NULL), copy;

	(void)state;
	assert_int_equal(pv_inventory_record_set(&rec, "tags", "rack-a, row=3,  gpu"), PV_OK);
	assert_int_equal(pv_inventory_record_add_tag(&rec, "row=3"), PV_OK); /* already there */
	assert_int_equal(rec.n_tags, 3);
	assert_int_equal(pv_inventory_record_copy(&copy, &rec), PV_OK);
	pv_inventory_record_release(&rec);
	assert_int_equal(copy.n_tags, 3);
	assert_string_equal(copy.tags[0], "rack-a");
	assert_string_equal(copy.tags[1], "row=3");
	assert_string_equal(copy.tags[2], "gpu");
	assert_int_equal(pv_inventory_record_add_tag(&copy, "spare"), PV_OK);
	assert_string_equal(copy.tags[0], "rack-a");
	assert_string_equal(copy.tags[3], "spare");
	assert_int_equal(pv_inventory_record_set(&copy, "tags", ""), PV_OK);
	assert_int_equal(copy.n_tags, 0);
	pv_inventory_record_release(&copy);
}

/* Whether another process would find "<path>.lock" write-locked (F_GETLK from a child: a
 * process never conflicts with its own fcntl locks). */
static bool locked_elsewhere(const char *path)
{
	char *lock_path;
	pid_t pid;
	int status;

	assert_true(asprintf(&lock_path, "%s.lock", path) > 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		int fd = open(lock_path, O_RDWR);
		_exit(fd >= 0 && fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	free(lock_path);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* issue 15 item 2: --inventory link.cfg replaced the link, and a writer through the link and
 * one using the real path took different locks (two stations could lose each other's
 * boards). */
static void test_inventory_lock_and_write_through_symlink(void **state)
{
	char *dir = pv_test_mkdtemp(), *path = inventory_path(dir), *link, *link_lock;
	struct pv_inventory_record rec = board("12345678", "dc:a6:32:01:36:c2");
	struct pv_inventory_upsert_opts opts = { .source = PV_INVENTORY_SOURCE_USB, .now = NOW };
	struct pv_inventory_lock lock;
	struct pv_inventory inv;
	struct stat st;

	(void)state;
	assert_true(asprintf(&link, "%s/link.cfg", dir) > 0);
	assert_true(asprintf(&link_lock, "%s/link.cfg.lock", dir) > 0);
	assert_int_equal(symlink("inv.cfg", link), 0);
	assert_int_equal(pv_inventory_upsert(link, &rec, &opts, NULL), PV_OK);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(pv_inventory_load(path, &inv), PV_OK);
	assert_int_equal(inv.count, 1);
	pv_inventory_release(&inv);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(pv_inventory_upsert(link, &rec, &opts, NULL), PV_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640); /* an inventory with notes stays private */
	/* The lock taken through the link is the real file's. */
	assert_int_equal(pv_inventory_lock(link, &lock), PV_OK);
	assert_true(locked_elsewhere(path));
	assert_int_equal(access(link_lock, F_OK), -1);
	pv_inventory_unlock(&lock);
	assert_false(locked_elsewhere(path));
	pv_inventory_record_release(&rec);
	free(link);
	free(link_lock);
	free(path);
	pv_test_rmtree(dir);
	free(dir);
}

/* The file is libconfig: libconfig itself reads what piprov writes, with the same values. */
static void test_libconfig_reads_output(void **state)
{
	struct pv_inventory inv;
	struct pv_inventory_record a = board("10000000f8b73778", "dc:a6:32:01:36:c2");
	struct pv_inventory_record b = board("6e87a417", NULL);
	struct pv_inventory_upsert_opts opts = { .source = PV_INVENTORY_SOURCE_NODE, .now = NOW };
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX);
	const char *value = NULL;
	config_t cfg;

	(void)state;
	assert_int_equal(pv_inventory_record_set(&b, "notes", "tab\tquote\" back\\ end"), PV_OK);
	assert_int_equal(pv_inventory_record_set(&b, "bootloader_build_ts", "1715613301"), PV_OK);
	pv_inventory_init(&inv);
	assert_int_equal(pv_inventory_merge(&inv, &a, &opts, NULL), PV_OK);
	assert_int_equal(pv_inventory_merge(&inv, &b, &opts, NULL), PV_OK);
	assert_int_equal(pv_inventory_serialize(&inv, &text), PV_OK);
	config_init(&cfg);
	if (config_read_string(&cfg, pv_buf_str(&text)) != CONFIG_TRUE)
		fail_msg("libconfig: line %d: %s", config_error_line(&cfg), config_error_text(&cfg));
	assert_int_equal(config_setting_length(config_lookup(&cfg, "boards")), 2);
	assert_true(config_lookup_string(&cfg, "boards.[1].notes", &value));
	assert_string_equal(value, "tab\tquote\" back\\ end");
	assert_true(config_lookup_string(&cfg, "boards.[0].mac", &value));
	assert_string_equal(value, "dc:a6:32:01:36:c2");
	config_destroy(&cfg);
	pv_buf_release(&text);
	pv_inventory_release(&inv);
	pv_inventory_record_release(&a);
	pv_inventory_record_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),   cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_conflicts),    cmocka_unit_test(test_serial_merge),
		cmocka_unit_test(test_allocation),   cmocka_unit_test(test_upsert_file),
		cmocka_unit_test(test_libconfig_reads_output),
		cmocka_unit_test(test_inventory_lock_and_write_through_symlink),
		cmocka_unit_test(test_uniqueness_rules_on_load_name_both_lines),
		cmocka_unit_test(test_uniqueness_rules_on_add_and_set),
		cmocka_unit_test(test_index_follows_changed_values),
		cmocka_unit_test(test_tags_copy_and_add),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
