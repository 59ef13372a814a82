/* piprov inventory end to end through the real program: the fixed command names, exit
 * statuses, messages naming the field, and a corrupt file left untouched. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "piprov/fileio.h"
#include "test_support.h"

static char *dir, *inventory, *piprov;

static int setup(void **state)
{
	(void)state;
	dir = pv_test_mkdtemp();
	assert_true(asprintf(&inventory, "%s/inv.cfg", dir) > 0);
	piprov = pv_test_program("piprov");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pv_test_rmtree(dir);
	free(dir);
	free(inventory);
	free(piprov);
	return 0;
}

/* Run `piprov inventory --inventory FILE <args>`; output (stdout+stderr) into out. */
static int run(struct pv_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run(struct pv_buf *out, const char *fmt, ...)
{
	char *args, *cmd;
	va_list ap;
	int status;

	va_start(ap, fmt);
	assert_true(vasprintf(&args, fmt, ap) > 0);
	va_end(ap);
	assert_true(asprintf(&cmd, "'%s' inventory --inventory '%s' %s", piprov, inventory,
			     args) > 0);
	pv_buf_reset(out);
	status = pv_test_run(cmd, out, 1);
	free(args);
	free(cmd);
	return status;
}

static void expect(struct pv_buf *out, int want_status, int status, const char *needle)
{
	if (status != want_status || !strstr(pv_buf_str(out), needle))
		fail_msg("status %d (want %d), output lacks '%s':\n%s", status, want_status, needle,
			 pv_buf_str(out));
}

static void test_commands(void **state)
{
	struct pv_buf out = PV_BUF_INIT(1 << 20);
	json_t *list;

	(void)state;
	expect(&out, 0, run(&out, "add --serial 10000000f8b73778 --mac dc:a6:32:01:36:c2 "
				  "--ip-pool 10.0.0.10-10.0.0.20 --hostname-pattern node-%%02d "
				  "board_revision=c03111"), "added board 10000000f8b73778");
	expect(&out, 0, run(&out, "add --serial 0c8f7e5cbd989ae1 --mac 2c:cf:67:70:76:f3 "
				  "--ip-pool 10.0.0.10-10.0.0.20 --hostname-pattern node-%%02d"),
	       "added");
	expect(&out, 1, run(&out, "add --serial 12345678 --mac 2c:cf:67:70:76:f3"),
	       "already belongs to board '0c8f7e5cbd989ae1'");
	expect(&out, 1, run(&out, "add --serial 12345678 --ip 10.0.0.300"), "field 'ip'");
	expect(&out, 1, run(&out, "add --serial 1234567 --ip 10.0.0.3"), "field 'serial'");
	expect(&out, 1, run(&out, "add --serial 12345678 hostname=-bad"), "field 'hostname'");
	expect(&out, 1, run(&out, "set node-01 hostname=node-02"),
	       "'node-02' already belongs to board '0c8f7e5cbd989ae1'");
	expect(&out, 0, run(&out, "set node-01 tags=rack1 notes='first board'"), "");
	expect(&out, 0, run(&out, "show f8b73778"), "Raspberry Pi 4 Model B");
	expect(&out, 0, run(&out, "show node-01"), "first board");
	expect(&out, 0, run(&out, "list --json"), "\"serial8\": \"bd989ae1\"");
	list = json_loads(pv_buf_str(&out), 0, NULL);
	assert_non_null(list);
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "ip")),
			    "10.0.0.11");
	json_decref(list);
	expect(&out, 0, run(&out, "export ethers"), "2c:cf:67:70:76:f3 10.0.0.11");
	/* An unknown format is a usage error (2), like any other bad word of a command line. */
	expect(&out, 2, run(&out, "export bind"), "'bind' is not an export format");
	/* the network options: bad values are usage errors (exit 2) or named failures */
	expect(&out, 2, run(&out, "export kea --prefix-len 31"), "--prefix-len: '31'");
	expect(&out, 2, run(&out, "export kea --gateway 10.0.0"), "--gateway: '10.0.0'");
	expect(&out, 2, run(&out, "export exports --nfs-clients all"), "--nfs-clients: 'all'");
	expect(&out, 1, run(&out, "export kea --dhcp-range 10.0.0.100"), "DHCP range '10.0.0.100'");
	expect(&out, 1, run(&out, "export kea"), "--tftp-server");
	expect(&out, 0, run(&out, "export kea --tftp-server 10.0.0.2 --gateway 10.0.0.1 "
			      "--dhcp-range 10.0.0.100,10.0.0.199,/24,1h"),
	       "\"pool\": \"10.0.0.100 - 10.0.0.199\"");
	expect(&out, 0, run(&out, "export dnsmasq --subnet 10.0.0.0/16"),
	       "dhcp-range=10.0.0.0,proxy,255.255.0.0");
	expect(&out, 0, run(&out, "export dnsmasq-hosts --dhcp-range 10.0.0.100,10.0.0.199"),
	       "2c:cf:67:70:76:f3,set:rpi,10.0.0.11");
	expect(&out, 1, run(&out, "export tinkerbell --namespace 'a\"b: c'"),
	       "namespace 'a\"b: c' is not a Kubernetes namespace");
	expect(&out, 2, run(&out, "frobnicate"),
	       "piprov inventory: 'frobnicate' is not a command (add, set, rm, show, list, "
	       "import, export)\nTry 'piprov inventory --help'.");
	expect(&out, 0, run(&out, "rm 2c:cf:67:70:76:f3"), "");
	expect(&out, 1, run(&out, "rm 0c8f7e5cbd989ae1"), "no board '0c8f7e5cbd989ae1'");
	expect(&out, 0, run(&out, "list"), "node-01");
	pv_buf_release(&out);
}

/* Issue 15 item 8: `inventory import DIR` with one file it cannot read (a FIFO) and one
 * empty .json: both named with their reason, the good file imported, exit 1. */
static void test_import_reports_bad_files_imports_others(void **state)
{
	static const char good[] = "{\"MAC_ADDR\": \"d8:3a:dd:05:ee:78\"}\n";
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX);
	char *captures, *p;

	(void)state;
	assert_true(asprintf(&captures, "%s/captures", dir) > 0);
	assert_int_equal(mkdir(captures, 0755), 0);
	assert_true(asprintf(&p, "%s/94a97b1d.json", captures) > 0);
	pv_test_write_file(p, good, strlen(good));
	free(p);
	assert_true(asprintf(&p, "%s/empty.json", captures) > 0);
	pv_test_write_file(p, "", 0);
	free(p);
	assert_true(asprintf(&p, "%s/pipe.json", captures) > 0);
	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);
	expect(&out, 1, run(&out, "import '%s'", captures), "empty.json': empty file (0 bytes)");
	expect(&out, 1, 1, "pipe.json");
	expect(&out, 1, 1, "FIFO");
	expect(&out, 1, 1, "imported 1 records: 1 new boards");
	expect(&out, 0, run(&out, "show 94a97b1d"), "d8:3a:dd:05:ee:78");
	expect(&out, 1, run(&out, "--json import '%s'", captures), "\"failed\": 2");
	pv_test_rmtree(captures);
	free(captures);
	pv_buf_release(&out);
}

static void test_corrupt_file_untouched(void **state)
{
	static const char broken[] = "version = 1;\nboards = (\n  { serial = \"12345678\" mac };\n";
	struct pv_buf out = PV_BUF_INIT(1 << 20), after = PV_BUF_INIT(1 << 20);

	(void)state;
	pv_test_write_file(inventory, broken, strlen(broken));
	expect(&out, 1, run(&out, "add --serial 87654321"), "inv.cfg': line 3");
	expect(&out, 1, run(&out, "export dnsmasq --proxy 10.0.0.0"), "line 3");
	pv_test_read_file(inventory, &after);
	assert_string_equal(pv_buf_str(&after), broken);
	pv_buf_release(&out);
	pv_buf_release(&after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_import_reports_bad_files_imports_others),
		cmocka_unit_test(test_corrupt_file_untouched),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
