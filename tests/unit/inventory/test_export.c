/* Every export format against its golden file (tests/unit/inventory/golden/; regenerate with
 * PIPROV_UPDATE_GOLDEN=1 and review the diff), the dnsmasq and Kea exports checked by the
 * real programs (dnsmasq --test, kea-dhcp4 -t), the network options (prefix, gateway, TFTP
 * server, range), the TFTP tree export on disk (relative links), cmdline.txt agreeing with
 * /etc/exports, the NFS root check and the Tinkerbell YAML read back by libyaml's parser.
 * The servers answering on the wire: tests/unit/inventory/servers/. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <yaml.h>

#include "piprov/error.h"
#include "piprov/fileio.h"
#include "piprov/inventory.h"
#include "piprov/inventory_export.h"
#include "piprov/text.h"
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
	/* Kea cannot do without a TFTP server; the proxy-mode dnsmasq is dnsmasq's own. */
	opts.has_tftp_server = true;
	opts.tftp_server = 0xc0a80102; /* 192.168.1.2 */
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		opts.has_tftp_server = strcmp(formats[i][0], "kea") == 0;
		export_to(formats[i][0], &opts, &out);
		check_golden(formats[i][1], &out);
	}
	/* Full DHCP with a gateway and another TFTP server (siaddr + option 66). */
	opts.dhcp_range = "192.168.1.100,192.168.1.199,255.255.255.0,12h";
	opts.interface = "eth1";
	opts.has_gateway = true;
	opts.gateway = 0xc0a80101; /* 192.168.1.1 */
	opts.has_tftp_server = true;
	export_to("dnsmasq", &opts, &out);
	check_golden("dnsmasq-full.conf", &out);
	/* Kea with the pool of the range and the gateway. */
	export_to("kea", &opts, &out);
	check_golden("kea-dhcp4-pool.json", &out);
	/* Exports limited to each board's own address. */
	opts.nfs_clients = PV_NFS_CLIENTS_IP;
	export_to("exports", &opts, &out);
	check_golden("exports-ip", &out);
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
	assert_non_null(strstr(pv_last_error(), "--subnet"));
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
	/* A /16 with a gateway and a separate TFTP server, in both modes. */
	opts.dhcp_range = "10.0.1.1,10.0.9.254,/16";
	opts.has_gateway = true;
	opts.gateway = 0x0a000001;
	opts.has_tftp_server = true;
	opts.tftp_server = 0x0a000002;
	check_with_program("dnsmasq", "--test -C", "dnsmasq", &opts);
	opts.dhcp_range = NULL;
	opts.proxy_network = "10.0.0.0/16";
	check_with_program("dnsmasq", "--test -C", "dnsmasq", &opts);
}

static void test_kea_accepts(void **state)
{
	struct pv_export_opts opts;

	(void)state;
	pv_export_opts_init(&opts);
	opts.has_tftp_server = true;
	opts.tftp_server = 0xc0a80101;
	check_with_program("kea-dhcp4", "-t", "kea", &opts);
	opts.dhcp_range = "192.168.1.100,192.168.1.199,255.255.255.0,12h";
	opts.has_gateway = true;
	opts.gateway = 0xc0a801fe;
	check_with_program("kea-dhcp4", "-t", "kea", &opts);
	opts.prefix_len = 16;
	opts.dhcp_range = "192.168.2.1,192.168.3.250";
	check_with_program("kea-dhcp4", "-t", "kea", &opts);
}

/* The network options as the exports read them. */
static void test_network_options(void **state)
{
	static const char *const bad_ranges[] = {
		"192.168.1.100",                       /* no LAST */
		"192.168.1.199,192.168.1.100",         /* backwards */
		"192.168.1.100,192.168.2.10",          /* crosses the /24 */
		"192.168.1.100,192.168.1.199,255.0.255.0", /* not a netmask */
		"192.168.1.100,192.168.1.199,12x",     /* not a lease */
		"192.168.1.100,192.168.1.199,/33",
		"192.168.1.100,192.168.1.199,\"x\"",
	};
	struct pv_export_opts opts;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX);
	json_t *root, *subnet;
	const char *text;

	(void)state;
	pv_export_opts_init(&opts);
	for (size_t i = 0; i < sizeof(bad_ranges) / sizeof(bad_ranges[0]); i++) {
		struct pv_inventory inv;

		opts.dhcp_range = bad_ranges[i];
		sample(&inv);
		pv_buf_reset(&out);
		if (pv_inventory_export("dnsmasq", &inv, &opts, &out) != PV_ERR_INVALID)
			fail_msg("range '%s' accepted", bad_ranges[i]);
		assert_non_null(strstr(pv_last_error(), "DHCP range"));
		assert_int_equal(pv_inventory_export("kea", &inv, &opts, &out), PV_ERR_INVALID);
		pv_inventory_release(&inv);
	}
	/* A prefix that disagrees with the range's netmask is refused, naming both. */
	opts.dhcp_range = "10.0.1.1,10.0.1.9,255.255.255.0";
	opts.prefix_len = 16;
	{
		struct pv_inventory inv;

		sample(&inv);
		assert_int_equal(pv_inventory_export("dnsmasq", &inv, &opts, &out), PV_ERR_INVALID);
		assert_non_null(strstr(pv_last_error(), "prefix"));
		pv_inventory_release(&inv);
	}
	/* /16: proxy ranges, Kea subnets and the Tinkerbell netmask follow the prefix; the
	 * two 192.168.1.x boards share one network with... nobody else. */
	opts.dhcp_range = NULL;
	export_to("dnsmasq", &opts, &out);
	text = pv_buf_str(&out);
	assert_non_null(strstr(text, "dhcp-range=192.168.0.0,proxy,255.255.0.0\n"));
	assert_non_null(strstr(text, "dhcp-range=10.0.0.0,proxy,255.255.0.0\n"));
	assert_null(strstr(text, "255.255.255.0"));
	export_to("tinkerbell", &opts, &out);
	assert_non_null(strstr(pv_buf_str(&out), "netmask: \"255.255.0.0\""));
	opts.has_tftp_server = true;
	opts.tftp_server = 0x0a000002;
	opts.dhcp_range = "10.0.1.1,10.0.9.254,12h";
	opts.has_gateway = true;
	opts.gateway = 0x0a000001;
	export_to("kea", &opts, &out);
	root = json_loadb((const char *)out.data, out.len, 0, NULL);
	assert_non_null(root);
	/* The range's subnet comes first, with the pool, the lease time and the router; the
	 * CM4 at 10.0.0.5 has its reservation in it. */
	subnet = json_array_get(json_object_get(json_object_get(root, "Dhcp4"), "subnet4"), 0);
	assert_string_equal(json_string_value(json_object_get(subnet, "subnet")), "10.0.0.0/16");
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(subnet, "pools"), 0), "pool")),
			    "10.0.1.1 - 10.0.9.254");
	assert_int_equal(json_integer_value(json_object_get(subnet, "valid-lifetime")), 43200);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
				    json_object_get(subnet, "option-data"), 0), "data")),
			    "10.0.0.1");
	assert_int_equal(json_array_size(json_object_get(subnet, "reservations")), 1);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(json_object_get(root, "Dhcp4"),
								   "subnet4"), 1), "subnet")),
			    "192.168.0.0/16");
	json_decref(root);
	/* No TFTP server at all: Kea would hand out addresses and nothing to boot. */
	opts.has_tftp_server = false;
	{
		struct pv_inventory inv;

		sample(&inv);
		assert_int_equal(pv_inventory_export("kea", &inv, &opts, &out), PV_ERR_INVALID);
		assert_non_null(strstr(pv_last_error(), "--tftp-server"));
		pv_inventory_release(&inv);
	}
	/* The loopback interface has an address on every host: it becomes the TFTP server. */
	opts.interface = "lo";
	export_to("kea", &opts, &out);
	assert_non_null(strstr(pv_buf_str(&out), "\"next-server\": \"127.0.0.1\""));
	assert_non_null(strstr(pv_buf_str(&out), "\"tftp-server-name\""));
	pv_buf_release(&out);
}

/* The data of the named option in obj's option-data ("" when absent). */
static const char *option_data(json_t *obj, const char *name)
{
	json_t *list = json_object_get(obj, "option-data");

	for (size_t i = 0; i < json_array_size(list); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(list, i), "name")),
			   name) == 0)
			return json_string_value(json_object_get(json_array_get(list, i), "data"));
	return "";
}

/* A Pi 3 (BCM2837 revision, b8:27:eb MAC) among Pi 4/5 boards: the Pi 3B ROM's menu text
 * with three spaces, by OUI for boards not in the inventory, by reservation for those that
 * are; a board sending option 97 without FourCC is still a Pi for Kea. */
static void test_pi3(void **state)
{
	static const char *const pi3[] = { "mac", "b8:27:eb:6c:4c:16", "board_revision", "a02082",
					   "hostname", "pi3-a", "ip", "192.168.1.43", NULL };
	struct pv_inventory inv;
	struct pv_export_opts opts;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX);
	json_t *root, *classes, *resv;
	const char *text;

	(void)state;
	sample(&inv);
	add(&inv, "00000000b66c4c16", pi3);
	pv_export_opts_init(&opts);
	assert_int_equal(pv_export_dnsmasq(&inv, &opts, &out), PV_OK);
	text = pv_buf_str(&out);
	assert_non_null(strstr(text, "dhcp-mac=set:rpi3,b8:27:eb:*:*:*\n"));
	assert_non_null(strstr(text, "pxe-service=tag:rpi3,0,\"Raspberry Pi Boot   \"\n"));
	assert_non_null(strstr(text, "pxe-service=tag:rpi,tag:!rpi3,0,\"Raspberry Pi Boot\"\n"));
	pv_buf_reset(&out);
	opts.has_tftp_server = true;
	opts.tftp_server = 0xc0a80102;
	assert_int_equal(pv_export_kea(&inv, &opts, &out), PV_OK);
	root = json_loadb((const char *)out.data, out.len, 0, NULL);
	assert_non_null(root);
	classes = json_object_get(json_object_get(root, "Dhcp4"), "client-classes");
	assert_string_equal(json_string_value(json_object_get(json_array_get(classes, 0), "name")),
			    "rpi3");
	assert_string_equal(json_string_value(json_object_get(json_array_get(classes, 0), "test")),
			    "substring(pkt4.mac,0,3) == 0xb827eb");
	/* "Raspberry Pi Boot   " in the Pi 3 class's option 43, the plain text in "rpi"'s */
	assert_non_null(strstr(option_data(json_array_get(classes, 0),
					   "vendor-encapsulated-options"),
			       "52617370626572727920506920426f6f74202020"));
	assert_null(strstr(option_data(json_array_get(classes, 1), "vendor-encapsulated-options"),
			   "426f6f7420"));
	assert_string_equal(option_data(json_array_get(classes, 0), "tftp-server-name"),
			    "192.168.1.2");
	/* rpi: the FourCCs, the old option 97 (serial x4) and the OUIs */
	text = json_string_value(json_object_get(json_array_get(classes, 1), "test"));
	assert_non_null(strstr(text, "substring(option[97].hex,1,4) == 0x34695052"));
	assert_non_null(strstr(text, "substring(option[97].hex,1,4) == substring(option[97].hex,13,4)"));
	assert_non_null(strstr(text, "substring(pkt4.mac,0,3) == 0xdca632"));
	/* Reserved boards get the PXE answer through their reservation's class. */
	resv = json_array_get(json_object_get(json_array_get(json_object_get(
			json_object_get(root, "Dhcp4"), "subnet4"), 0), "reservations"), 2);
	assert_string_equal(json_string_value(json_object_get(resv, "hostname")), "pi3-a");
	assert_string_equal(json_string_value(json_array_get(json_object_get(resv,
								    "client-classes"), 0)),
			    "rpi3-reserved");
	resv = json_array_get(json_object_get(json_array_get(json_object_get(
			json_object_get(root, "Dhcp4"), "subnet4"), 0), "reservations"), 0);
	assert_string_equal(json_string_value(json_array_get(json_object_get(resv,
								    "client-classes"), 0)),
			    "rpi-reserved");
	json_decref(root);
	pv_buf_release(&out);
	pv_inventory_release(&inv);
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
	/* The bare board has no address: in proxy mode its root goes to the network given. */
	opts.proxy_network = "192.168.1.0/24";

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
	/* relative (a chrooted TFTP server sees no absolute path), and it reaches the file */
	memset(target, 0, sizeof(target));
	assert_true(readlink(p, target, sizeof(target) - 1) > 0);
	assert_string_equal(target, "../../template/start4.elf");
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
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

	/* No NFS server (nor a TFTP server to default to): refused before touching anything. */
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

/* The template inside the root, as a chrooted tftpd-hpa needs it: links stay inside. An
 * absolute link an older piprov wrote (listed in the manifest) is made relative. */
static void test_tftp_links_inside_root(void **state)
{
	char *dir = pv_test_mkdtemp(), *root = join(dir, "tftp"), *tmpl = join(root, "pi-boot");
	char *p, target[PATH_MAX];
	struct pv_inventory inv;
	struct pv_export_opts opts;
	struct pv_tftp_report rep;
	struct pv_buf logs = PV_BUF_INIT(1 << 16), text = PV_BUF_INIT(SIZE_MAX);

	(void)state;
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(mkdir(tmpl, 0755), 0);
	p = join(tmpl, "start4.elf");
	pv_test_write_file(p, "elf", 3);
	free(p);
	sample(&inv);
	pv_export_opts_init(&opts);
	opts.tftp_root = root;
	opts.template_dir = tmpl;
	opts.has_tftp_server = true; /* the NFS server defaults to the TFTP server */
	opts.tftp_server = 0xc0a80102;
	opts.nfs_root = dir; /* the boards' roots are not there: warned, not fatal */
	pv_test_capture_logs(&logs);
	assert_int_equal(pv_export_tftp(&inv, &opts, &rep), PV_OK);
	pv_test_stop_capture();
	assert_null(strstr(pv_buf_str(&logs), "outside the TFTP root"));
	p = join(root, "f8b73778/start4.elf");
	memset(target, 0, sizeof(target));
	assert_true(readlink(p, target, sizeof(target) - 1) > 0);
	assert_string_equal(target, "../pi-boot/start4.elf");
	/* an old absolute link of ours: rewritten relative on the next run */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink(tmpl, p), 0);
	assert_int_equal(pv_export_tftp(&inv, &opts, &rep), PV_OK);
	assert_int_equal(rep.updated, 1);
	memset(target, 0, sizeof(target));
	assert_true(readlink(p, target, sizeof(target) - 1) > 0);
	assert_string_equal(target, "../pi-boot/start4.elf");
	free(p);
	p = join(root, "f8b73778/cmdline.txt");
	pv_test_read_file(p, &text);
	assert_non_null(strstr(pv_buf_str(&text), "nfsroot=192.168.1.2:"));
	pv_buf_release(&text);
	free(p);
	/* the bare board has no address and no network: no export, so no cmdline.txt */
	assert_int_equal(rep.no_nfs, 1);
	p = join(root, "lab-pi/cmdline.txt");
	assert_int_equal(access(p, F_OK), -1);
	free(p);
	/* a template outside the root is reachable only without a chroot: said so */
	opts.template_dir = dir;
	pv_buf_reset(&logs);
	pv_test_capture_logs(&logs);
	assert_int_equal(pv_export_tftp(&inv, &opts, &rep), PV_OK);
	pv_test_stop_capture();
	assert_non_null(strstr(pv_buf_str(&logs), "outside the TFTP root"));
	pv_buf_release(&logs);
	pv_inventory_release(&inv);
	free(root);
	free(tmpl);
	pv_test_rmtree(dir);
	free(dir);
}

/* cmdline.txt names an NFS root exactly when /etc/exports exports it, in every mode. */
static void test_cmdline_agrees_with_exports(void **state)
{
	struct mode {
		const char *name;
		const char *subnet, *range;
		enum pv_nfs_clients clients;
		unsigned exported; /* of the four sample boards */
	} modes[] = {
		{ "proxy", NULL, NULL, PV_NFS_CLIENTS_AUTO, 3 },
		{ "proxy with subnet", "192.168.1.0/24", NULL, PV_NFS_CLIENTS_AUTO, 4 },
		{ "proxy, own addresses", "192.168.1.0/24", NULL, PV_NFS_CLIENTS_IP, 3 },
		{ "full", NULL, "192.168.1.100,192.168.1.199", PV_NFS_CLIENTS_AUTO, 3 },
		{ "full, subnet", NULL, "192.168.1.100,192.168.1.199", PV_NFS_CLIENTS_SUBNET, 4 },
	};
	char *dir = pv_test_mkdtemp();
	struct pv_inventory inv;

	(void)state;
	sample(&inv);
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		char *root, *nfs;
		struct pv_export_opts opts;
		struct pv_tftp_report rep;
		struct pv_buf exports = PV_BUF_INIT(SIZE_MAX);
		unsigned exported = 0;

		assert_true(asprintf(&root, "%s/tftp%zu", dir, m) > 0);
		assert_true(asprintf(&nfs, "%s/nfs%zu", dir, m) > 0);
		assert_int_equal(mkdir(root, 0755), 0);
		pv_export_opts_init(&opts);
		opts.tftp_root = root;
		opts.nfs_root = nfs;
		opts.create_nfs_roots = true;
		opts.has_server_ip = true;
		opts.server_ip = 0xc0a80102;
		opts.proxy_network = modes[m].subnet;
		opts.dhcp_range = modes[m].range;
		opts.nfs_clients = modes[m].clients;
		assert_int_equal(pv_export_tftp(&inv, &opts, &rep), PV_OK);
		assert_int_equal(pv_export_nfs(&inv, &opts, &exports), PV_OK);
		for (size_t i = 0; i < inv.count; i++) {
			char folder[PV_INVENTORY_HOSTNAME_MAX], *path, *line, *nfsroot;
			struct pv_buf cmdline = PV_BUF_INIT(SIZE_MAX);
			bool has_cmdline, has_export;

			pv_inventory_tftp_dir(&inv.records[i], folder);
			assert_true(asprintf(&path, "%s/%s/cmdline.txt", root, folder) > 0);
			assert_true(asprintf(&line, "\n%s/%s ", nfs, folder) > 0);
			assert_true(asprintf(&nfsroot, ":%s/%s,vers=3", nfs, folder) > 0);
			has_cmdline = access(path, F_OK) == 0;
			if (has_cmdline) {
				pv_test_read_file(path, &cmdline);
				assert_non_null(strstr(pv_buf_str(&cmdline), nfsroot));
			}
			has_export = strstr(pv_buf_str(&exports), line) != NULL;
			if (has_cmdline != has_export)
				fail_msg("%s: board %s: cmdline.txt %s, exports %s:\n%s", modes[m].name,
					 folder, has_cmdline ? "names its root" : "absent",
					 has_export ? "exports it" : "does not", pv_buf_str(&exports));
			exported += has_export;
			pv_buf_release(&cmdline);
			free(path);
			free(line);
			free(nfsroot);
		}
		if (exported != modes[m].exported)
			fail_msg("%s: %u roots exported, expected %u", modes[m].name, exported,
				 modes[m].exported);
		/* --create-nfs-roots made every exported root */
		assert_int_equal(rep.nfs_created, modes[m].exported);
		pv_buf_release(&exports);
		free(root);
		free(nfs);
	}
	pv_inventory_release(&inv);
	pv_test_rmtree(dir);
	free(dir);
}

/* Missing NFS roots are named (a board would fail to mount them), not fatal. */
static void test_nfs_roots_checked(void **state)
{
	char *dir = pv_test_mkdtemp(), *nfs = join(dir, "nfs"), *p;
	struct pv_inventory inv;
	struct pv_export_opts opts;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX), logs = PV_BUF_INIT(1 << 16);

	(void)state;
	sample(&inv);
	pv_export_opts_init(&opts);
	opts.nfs_root = nfs;
	opts.nfs_clients = PV_NFS_CLIENTS_IP;
	assert_int_equal(mkdir(nfs, 0755), 0);
	p = join(nfs, "f8b73778");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	pv_test_capture_logs(&logs);
	assert_int_equal(pv_export_nfs(&inv, &opts, &out), PV_OK);
	pv_test_stop_capture();
	assert_null(strstr(pv_buf_str(&logs), "f8b73778' is missing"));
	assert_non_null(strstr(pv_buf_str(&logs), "bd989ae1' is missing"));
	assert_non_null(strstr(pv_buf_str(&logs), "d8-3a-dd-05-ee-78' is missing"));
	/* the bare board is not exported (no address): nothing to check */
	assert_null(strstr(pv_buf_str(&logs), "lab-pi"));
	/* the default in proxy mode is the board's network, with a warning saying why */
	opts.nfs_clients = PV_NFS_CLIENTS_AUTO;
	opts.create_nfs_roots = true;
	pv_buf_reset(&logs);
	pv_buf_reset(&out);
	pv_test_capture_logs(&logs);
	assert_int_equal(pv_export_nfs(&inv, &opts, &out), PV_OK);
	pv_test_stop_capture();
	assert_non_null(strstr(pv_buf_str(&logs), "export ethers"));
	assert_null(strstr(pv_buf_str(&logs), "is missing"));
	assert_non_null(strstr(pv_buf_str(&out), "/bd989ae1 192.168.1.0/24(rw,"));
	p = join(nfs, "d8-3a-dd-05-ee-78");
	assert_int_equal(access(p, F_OK), 0);
	free(p);
	pv_buf_release(&out);
	pv_buf_release(&logs);
	pv_inventory_release(&inv);
	free(nfs);
	pv_test_rmtree(dir);
	free(dir);
}

/* The YAML read back by libyaml's parser, flattened to "path=value" lines ("path=\"v\"" for
 * a double-quoted scalar), one "---" line per document. */
static void yaml_flatten(const struct pv_buf *yaml, struct pv_buf *out)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct level {
		bool mapping;
		bool want_key;
		unsigned index;
		char key[64];
	} stack[16];
	int depth = -1;
	bool done = false;

	assert_true(yaml_parser_initialize(&parser));
	yaml_parser_set_input_string(&parser, yaml->data, yaml->len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev))
			fail_msg("libyaml cannot read the export: %s (line %zu)\n%s", parser.problem,
				 parser.problem_mark.line + 1, pv_buf_str(yaml));
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			pv_buf_append_str(out, "---\n");
			break;
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			assert_true(depth + 1 < 16);
			if (depth >= 0 && stack[depth].mapping)
				stack[depth].want_key = true;
			depth++;
			stack[depth].mapping = ev.type == YAML_MAPPING_START_EVENT;
			stack[depth].want_key = true;
			stack[depth].index = 0;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			depth--;
			if (depth >= 0 && !stack[depth].mapping)
				stack[depth].index++;
			break;
		case YAML_SCALAR_EVENT: {
			struct level *l = &stack[depth];
			const char *v = (const char *)ev.data.scalar.value;

			if (l->mapping && l->want_key) {
				snprintf(l->key, sizeof(l->key), "%s", v);
				l->want_key = false;
				break;
			}
			for (int d = 0; d <= depth; d++) {
				if (stack[d].mapping)
					pv_buf_appendf(out, "%s%s", d ? "." : "", stack[d].key);
				else
					pv_buf_appendf(out, "[%u]", stack[d].index);
			}
			pv_buf_appendf(out, ev.data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE
						    ? "=\"%s\"\n" : "=%s\n", v);
			if (l->mapping)
				l->want_key = true;
			else
				l->index++;
			break;
		}
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
}

static void test_tinkerbell_yaml(void **state)
{
	static const char *const digits[] = { "mac", "dc:a6:32:12:34:56", "hostname", "Node-No",
					      NULL };
	struct pv_inventory inv;
	struct pv_export_opts opts;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX), flat = PV_BUF_INIT(SIZE_MAX);
	const char *text;

	(void)state;
	sample(&inv);
	/* an all-digit serial ("12345678" is a number to a YAML reader unless quoted) and a
	 * host name a YAML 1.1 reader takes for false unless quoted */
	add(&inv, "1000000012345678", digits);
	pv_export_opts_init(&opts);
	opts.namespace_ = "a\"b: c";
	assert_int_equal(pv_export_tinkerbell(&inv, &opts, &out), PV_ERR_INVALID);
	assert_non_null(strstr(pv_last_error(), "namespace 'a\"b: c'"));
	opts.namespace_ = "pi-lab";
	opts.has_gateway = true;
	opts.gateway = 0xc0a801fe;
	pv_buf_reset(&out);
	assert_int_equal(pv_export_tinkerbell(&inv, &opts, &out), PV_OK);
	yaml_flatten(&out, &flat);
	text = pv_buf_str(&flat);
	assert_non_null(strstr(text, "---\napiVersion=\"tinkerbell.org/v1alpha1\"\n"
				     "kind=\"Hardware\"\nmetadata.name=\"node01\"\n"
				     "metadata.namespace=\"pi-lab\"\n"
				     "metadata.labels.piprov.io/serial=\"10000000f8b73778\"\n"));
	assert_non_null(strstr(text, "spec.interfaces[0].dhcp.ip.address=\"192.168.1.41\"\n"
				     "spec.interfaces[0].dhcp.ip.netmask=\"255.255.255.0\"\n"
				     "spec.interfaces[0].dhcp.ip.gateway=\"192.168.1.254\"\n"
				     "spec.interfaces[0].dhcp.ip.family=4\n"));
	assert_non_null(strstr(text, "spec.interfaces[0].netboot.allowPXE=true\n"));
	assert_non_null(strstr(text, "spec.interfaces[0].netboot.rpi.serialNum=\"12345678\"\n"));
	assert_non_null(strstr(text, "metadata.name=\"node-no\"\n"));
	/* one document per board with a MAC */
	{
		unsigned docs = 0;

		for (const char *p = text; (p = strstr(p, "---\n")) != NULL; p += 4)
			docs++;
		assert_int_equal(docs, 4);
	}
	pv_buf_release(&out);
	pv_buf_release(&flat);
	pv_inventory_release(&inv);
}

/* count new boards into a fresh inv with addresses from alloc; the first `fit` succeed, the
 * rest find the pool full. */
static void add_from_pool(struct pv_inventory *inv, const struct pv_inventory_alloc *alloc,
			  unsigned count, unsigned fit)
{
	struct pv_inventory_upsert_opts opts = { .source = PV_INVENTORY_SOURCE_USB, .now = NOW,
						 .alloc = alloc };

	pv_inventory_init(inv);
	for (unsigned i = 0; i < count; i++) {
		struct pv_inventory_record rec;
		char serial[17];

		snprintf(serial, sizeof(serial), "1000000000000%03u", i % 1000u);
		pv_inventory_record_init(&rec);
		assert_int_equal(pv_inventory_record_set_serial(&rec, serial), PV_OK);
		assert_int_equal(pv_inventory_merge(inv, &rec, &opts, NULL),
				 i < fit ? PV_OK : PV_ERR_NO_SPACE);
		pv_inventory_record_release(&rec);
	}
}

/* The first two boards' addresses, then the inventory is released. */
static void assert_ips(struct pv_inventory *inv, const char *first, const char *second)
{
	char ip[16];

	pv_ipv4_format(inv->records[0].ip, ip);
	assert_string_equal(ip, first);
	pv_ipv4_format(inv->records[1].ip, ip);
	assert_string_equal(ip, second);
	pv_inventory_release(inv);
}

/* --ip-pool A-B/PREFIX: the network's own first and last addresses are never given. */
static void test_pool_prefix(void **state)
{
	struct pv_inventory inv;
	struct pv_inventory_alloc alloc;

	(void)state;
	memset(&alloc, 0, sizeof(alloc));
	/* /16: 10.0.1.0 and 10.0.0.255 are ordinary hosts */
	assert_int_equal(pv_inventory_parse_pool("10.0.0.255-10.0.1.1/16", &alloc), PV_OK);
	assert_int_equal(alloc.pool_prefix, 16);
	add_from_pool(&inv, &alloc, 3, 3);
	assert_ips(&inv, "10.0.0.255", "10.0.1.0");
	/* /30: only .1 and .2 of 10.0.0.0/30 */
	assert_int_equal(pv_inventory_parse_pool("10.0.0.0-10.0.0.3/30", &alloc), PV_OK);
	add_from_pool(&inv, &alloc, 3, 2);
	assert_ips(&inv, "10.0.0.1", "10.0.0.2");
	/* a prefix the pool does not fit in, or not a prefix */
	assert_int_equal(pv_inventory_parse_pool("10.0.0.1-10.0.1.1/24", &alloc), PV_ERR_INVALID);
	assert_int_equal(pv_inventory_parse_pool("10.0.0.1-10.0.0.9/31", &alloc), PV_ERR_INVALID);
	assert_int_equal(pv_inventory_parse_pool("10.0.0.1-10.0.0.9/", &alloc), PV_ERR_INVALID);
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
		cmocka_unit_test(test_ansible_groups), cmocka_unit_test(test_network_options),
		cmocka_unit_test(test_pi3),	       cmocka_unit_test(test_tftp_links_inside_root),
		cmocka_unit_test(test_cmdline_agrees_with_exports),
		cmocka_unit_test(test_nfs_roots_checked), cmocka_unit_test(test_tinkerbell_yaml),
		cmocka_unit_test(test_pool_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
