/* Every export format against its golden file (tests/unit/inventory/golden/; regenerate with
 * PIPROV_UPDATE_GOLDEN=1 and review the diff), the dnsmasq and Kea exports checked by the
 * real programs (dnsmasq --test, kea-dhcp4 -t), and the TFTP tree export on disk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "piprov/error.h"
#include "piprov/fileio.h"
#include "piprov/inventory.h"
#include "piprov/inventory_export.h"
#include "test_support.h"

#define NOW 1764044860

static void add(struct pv_inventory *inv, const char *serial, const char *const *kv)
{
	struct pv_inventory_record rec;
	struct pv_inventory_upsert_opts opts = { .source = PV_INVENTORY_SOURCE_USB, .now = NOW };

	pv_inventory_record_init(&rec);
	assert_int_equal(pv_inventory_record_set_serial(&rec, serial), PV_OK);
	for (size_t i = 0; kv[i]; i += 2)
		assert_int_equal(pv_inventory_record_set(&rec, kv[i], kv[i + 1]), PV_OK);
	assert_int_equal(pv_inventory_merge(inv, &rec, &opts, NULL), PV_OK);
	pv_inventory_record_release(&rec);
}

/* Four boards covering the cases: Pi 4 and Pi 5 (full serials), a CM4 whose bootloader
 * asks for its MAC folder, and a board known only by its 8-digit serial, without MAC or IP,
 * using a custom TFTP prefix. */
static void sample(struct pv_inventory *inv)
{
	static const char *const pi4[] = { "mac", "dc:a6:32:01:36:c2", "board_revision", "c03111",
					   "hostname", "node01", "ip", "192.168.1.41", "tags",
					   "rack1,k3s", "boot_order", "0xf21", NULL };
	static const char *const pi5[] = { "mac", "2c:cf:67:70:76:f3", "wifi_mac",
					   "2c:cf:67:70:76:f4", "bt_mac", "2c:cf:67:70:76:f5",
					   "board_revision", "d04170", "hostname", "node02", "ip",
					   "192.168.1.42", "uuid", "001000911006186073", "tags",
					   "rack1", NULL };
	static const char *const cm4[] = { "mac", "d8:3a:dd:05:ee:78", "board_revision", "c03141",
					   "hostname", "cm4-a", "ip", "10.0.0.5", "tftp_prefix",
					   "mac", NULL };
	static const char *const bare[] = { "tftp_prefix", "string", "tftp_prefix_str", "lab-pi",
					    "notes", "on the \"shelf\", left", NULL };

	pv_inventory_init(inv);
	add(inv, "10000000f8b73778", pi4);
	add(inv, "0c8f7e5cbd989ae1", pi5);
	add(inv, "10000000a1b2c3d4", cm4);
	add(inv, "6e87a417", bare);
}

static char *golden_path(const char *name)
{
	char *path;

	assert_true(asprintf(&path, "%s/tests/unit/inventory/golden/%s", pv_test_source_dir(),
			     name) > 0);
	return path;
}

static void check_golden(const char *name, const struct pv_buf *out)
{
	char *path = golden_path(name);
	struct pv_buf want = PV_BUF_INIT(SIZE_MAX);

	if (getenv("PIPROV_UPDATE_GOLDEN")) {
		assert_int_equal(pv_file_write_atomic(path, out->data, out->len, 0644), PV_OK);
		free(path);
		return;
	}
	pv_test_read_file(path, &want);
	if (want.len != out->len || memcmp(want.data, out->data, out->len) != 0)
		fail_msg("'%s' differs from the export:\n%s\n(PIPROV_UPDATE_GOLDEN=1 rewrites it)",
			 path, pv_buf_str(out));
	pv_buf_release(&want);
	free(path);
}

static void export_to(const char *format, const struct pv_export_opts *opts, struct pv_buf *out)
{
	struct pv_inventory inv;

	sample(&inv);
	pv_buf_reset(out);
	if (pv_inventory_export(format, &inv, opts, out) != PV_OK)
		fail_msg("export %s: %s", format, pv_last_error());
	pv_inventory_release(&inv);
}

static void test_golden_formats(void **state)
{
	static const char *const formats[][2] = {
		{ "dnsmasq", "dnsmasq.conf" }, { "ethers", "ethers" },   { "hosts", "hosts" },
		{ "csv", "inventory.csv" },    { "json", "inventory.json" },
		{ "exports", "exports" },      { "kea", "kea-dhcp4.json" },
		{ "tinkerbell", "tinkerbell.yaml" }, { "ansible", "ansible.ini" },
	};
	struct pv_export_opts opts;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX);

	(void)state;
	pv_export_opts_init(&opts);
	opts.domain = "lab.example";
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		export_to(formats[i][0], &opts, &out);
		check_golden(formats[i][1], &out);
	}
	opts.dhcp_range = "192.168.1.100,192.168.1.199,255.255.255.0,12h";
	opts.interface = "eth1";
	export_to("dnsmasq", &opts, &out);
	check_golden("dnsmasq-full.conf", &out);
	pv_buf_release(&out);
}

static void test_unknown_format(void **state)
{
	struct pv_inventory inv;
	struct pv_export_opts opts;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX);

	(void)state;
	pv_export_opts_init(&opts);
	pv_inventory_init(&inv);
	assert_int_equal(pv_inventory_export("bind", &inv, &opts, &out), PV_ERR_INVALID);
	assert_non_null(strstr(pv_last_error(), "'bind'"));
	/* Proxy DHCP with no address anywhere cannot name its network. */
	assert_int_equal(pv_inventory_export("dnsmasq", &inv, &opts, &out), PV_ERR_INVALID);
	assert_non_null(strstr(pv_last_error(), "--proxy"));
	pv_buf_release(&out);
}

/* The JSON keys the issue fixes for `list --json`. */
static void test_json_keys(void **state)
{
	static const char *const keys[] = { "serial", "serial8", "mac", "hostname", "ip",
					    "board_revision", "model", "tftp_dir", "sources" };
	struct pv_export_opts opts;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX);
	json_t *root, *first;

	(void)state;
	pv_export_opts_init(&opts);
	export_to("json", &opts, &out);
	root = json_loadb((const char *)out.data, out.len, 0, NULL);
	assert_non_null(root);
	assert_int_equal(json_array_size(root), 4);
	first = json_array_get(root, 0);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!json_object_get(first, keys[i]))
			fail_msg("key '%s' missing", keys[i]);
	assert_string_equal(json_string_value(json_object_get(first, "model")),
			    "Raspberry Pi 4 Model B");
	assert_string_equal(json_string_value(json_object_get(first, "serial8")), "f8b73778");
	assert_string_equal(json_string_value(json_object_get(json_array_get(root, 2),
							      "tftp_dir")), "d8-3a-dd-05-ee-78");
	json_decref(root);
	pv_buf_release(&out);
}

static const char *find_program(const char *name)
{
	static char path[256];
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/usr/local/sbin" };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		if (access(path, X_OK) == 0)
			return path;
	}
	return NULL;
}

/* args: the program's options placed between the program and the file ("--test -C"). */
static void check_with_program(const char *program, const char *args, const char *format,
			       const struct pv_export_opts *opts)
{
	const char *bin = find_program(program);
	char *dir, *file, *cmd;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX), log = PV_BUF_INIT(1 << 20);

	if (!bin) {
		print_message("skipped: '%s' is not installed (scripts/deps/test-inventory.txt)\n",
			      program);
		skip();
	}
	dir = pv_test_mkdtemp();
	assert_true(asprintf(&file, "%s/%s.conf", dir, format) > 0);
	export_to(format, opts, &out);
	pv_test_write_file(file, out.data, out.len);
	assert_true(asprintf(&cmd, "'%s' %s '%s' 2>&1", bin, args, file) > 0);
	if (pv_test_run(cmd, &log, 1) != 0)
		fail_msg("%s rejected the %s export:\n%s\n--- export ---\n%s", program, format,
			 pv_buf_str(&log), pv_buf_str(&out));
	free(cmd);
	free(file);
	pv_test_rmtree(dir);
	free(dir);
	pv_buf_release(&out);
	pv_buf_release(&log);
}

static void test_dnsmasq_accepts(void **state)
{
	struct pv_export_opts opts;

	(void)state;
	pv_export_opts_init(&opts);
	check_with_program("dnsmasq", "--test -C", "dnsmasq", &opts);
	opts.dhcp_range = "192.168.1.100,192.168.1.199,255.255.255.0,12h";
	opts.interface = "eth1";
	check_with_program("dnsmasq", "--test -C", "dnsmasq", &opts);
}

static void test_kea_accepts(void **state)
{
	struct pv_export_opts opts;

	(void)state;
	pv_export_opts_init(&opts);
	opts.has_server_ip = true;
	opts.server_ip = 0xc0a80101;
	check_with_program("kea-dhcp4", "-t", "kea", &opts);
}

static char *join(const char *a, const char *b)
{
	char *path;

	assert_true(asprintf(&path, "%s/%s", a, b) > 0);
	return path;
}

static void test_tftp_tree(void **state)
{
	char *dir = pv_test_mkdtemp(), *root = join(dir, "tftp"), *tmpl = join(dir, "template");
	char *p, target[4096];
	struct pv_inventory inv;
	struct pv_export_opts opts;
	struct pv_tftp_report rep;
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX);
	const char *cmdline = "console=serial0,115200 console=tty1 root=PARTUUID=1234-02 "
			      "rootfstype=ext4 fsck.repair=yes rootwait quiet\n";
	struct stat st;

	(void)state;
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(mkdir(tmpl, 0755), 0);
	p = join(tmpl, "start4.elf");
	pv_test_write_file(p, "elf", 3);
	free(p);
	p = join(tmpl, "cmdline.txt");
	pv_test_write_file(p, cmdline, strlen(cmdline));
	free(p);
	p = join(tmpl, "overlays");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	sample(&inv);
	pv_export_opts_init(&opts);
	opts.tftp_root = root;
	opts.template_dir = tmpl;
	opts.has_server_ip = true;
	opts.server_ip = 0xc0a80101; /* 192.168.1.1 */

	/* A file someone put there by hand is never touched. */
	p = join(root, "f8b73778");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = join(root, "f8b73778/cmdline.txt");
	pv_test_write_file(p, "mine\n", 5);
	free(p);

	assert_int_equal(pv_export_tftp(&inv, &opts, &rep), PV_OK);
	assert_int_equal(rep.boards, 4);
	assert_int_equal(rep.kept, 1);
	/* serial8, dashed MAC and custom string folders, as the bootloaders ask for them. */
	p = join(root, "0c8f7e5cbd989ae1");
	assert_int_equal(stat(p, &st), -1);
	free(p);
	p = join(root, "bd989ae1/start4.elf");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_true(readlink(p, target, sizeof(target)) > 0);
	free(p);
	p = join(root, "d8-3a-dd-05-ee-78/overlays");
	assert_int_equal(lstat(p, &st), 0);
	free(p);
	p = join(root, "lab-pi/cmdline.txt");
	pv_test_read_file(p, &text);
	free(p);
	assert_string_equal(pv_buf_str(&text),
			    "console=serial0,115200 console=tty1 fsck.repair=yes quiet "
			    "root=/dev/nfs nfsroot=192.168.1.1:/srv/nfs/lab-pi,vers=3 rw ip=dhcp "
			    "rootwait\n");
	pv_buf_reset(&text);
	p = join(root, "f8b73778/cmdline.txt");
	pv_test_read_file(p, &text);
	free(p);
	assert_string_equal(pv_buf_str(&text), "mine\n");

	/* Idempotent: a second run creates and changes nothing. */
	assert_int_equal(pv_export_tftp(&inv, &opts, &rep), PV_OK);
	assert_int_equal(rep.created, 0);
	assert_int_equal(rep.updated, 0);

	/* A board that left: --prune removes only what piprov made; a foreign file stays. */
	p = join(root, "bd989ae1/my-notes.txt");
	pv_test_write_file(p, "x", 1);
	free(p);
	assert_int_equal(pv_inventory_remove(&inv, pv_inventory_lookup(&inv, "node02")), PV_OK);
	opts.prune = true;
	assert_int_equal(pv_export_tftp(&inv, &opts, &rep), PV_OK);
	assert_true(rep.pruned >= 2);
	p = join(root, "bd989ae1/start4.elf");
	assert_int_equal(lstat(p, &st), -1);
	free(p);
	p = join(root, "bd989ae1/my-notes.txt");
	assert_int_equal(lstat(p, &st), 0);
	free(p);

	/* Copy mode makes real files. */
	opts.prune = false;
	opts.copy = true;
	opts.tftp_root = root;
	p = join(root, "bd989ae1/my-notes.txt");
	unlink(p);
	free(p);
	pv_inventory_release(&inv);
	sample(&inv);
	p = join(root, "bd989ae1");
	rmdir(p);
	free(p);
	assert_int_equal(pv_export_tftp(&inv, &opts, &rep), PV_OK);
	p = join(root, "bd989ae1/start4.elf");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	free(p);

	/* No NFS server: refused before touching anything. */
	opts.has_server_ip = false;
	assert_int_equal(pv_export_tftp(&inv, &opts, &rep), PV_ERR_INVALID);
	assert_non_null(strstr(pv_last_error(), "--nfs-server"));

	pv_inventory_release(&inv);
	pv_buf_release(&text);
	free(root);
	free(tmpl);
	pv_test_rmtree(dir);
	free(dir);
}

/* Ansible tag groups among many boards: one group per distinct name in order of first
 * appearance, each board once (tags "a.b" and "a_b" are both group tag_a_b). */
static void test_ansible_groups(void **state)
{
	struct pv_inventory inv;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX), expected = PV_BUF_INIT(SIZE_MAX);
	const char *groups;

	(void)state;
	pv_inventory_init(&inv);
	for (unsigned i = 0; i < 3000; i++) {
		char serial[17], host[32], tags[64];
		const char *kv[] = { "hostname", host, "tags", tags, NULL };

		snprintf(serial, sizeof(serial), "20000000%08x", i);
		snprintf(host, sizeof(host), "n%u", i);
		snprintf(tags, sizeof(tags), "%s,r%u%s", i % 2 ? "odd" : "even", i % 3,
			 i % 1000 == 0 ? ",a.b,a_b" : "");
		add(&inv, serial, kv);
	}
	assert_int_equal(pv_export_ansible(&inv, NULL, &out), PV_OK);
	/* First appearances: board 0 brings even, r0 and a_b; board 1 odd and r1; board 2 r2. */
	pv_buf_append_str(&expected, "\n[tag_even]\n");
	for (unsigned i = 0; i < 3000; i += 2)
		pv_buf_appendf(&expected, "n%u\n", i);
	pv_buf_append_str(&expected, "\n[tag_r0]\n");
	for (unsigned i = 0; i < 3000; i += 3)
		pv_buf_appendf(&expected, "n%u\n", i);
	pv_buf_append_str(&expected, "\n[tag_a_b]\nn0\nn1000\nn2000\n\n[tag_odd]\n");
	for (unsigned i = 1; i < 3000; i += 2)
		pv_buf_appendf(&expected, "n%u\n", i);
	for (unsigned r = 1; r < 3; r++) {
		pv_buf_appendf(&expected, "\n[tag_r%u]\n", r);
		for (unsigned i = r; i < 3000; i += 3)
			pv_buf_appendf(&expected, "n%u\n", i);
	}
	groups = strstr(pv_buf_str(&out), "\n[tag_");
	assert_non_null(groups);
	assert_string_equal(groups, pv_buf_str(&expected));
	pv_buf_release(&out);
	pv_buf_release(&expected);
	pv_inventory_release(&inv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_formats), cmocka_unit_test(test_unknown_format),
		cmocka_unit_test(test_json_keys),      cmocka_unit_test(test_dnsmasq_accepts),
		cmocka_unit_test(test_kea_accepts),    cmocka_unit_test(test_tftp_tree),
		cmocka_unit_test(test_ansible_groups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
