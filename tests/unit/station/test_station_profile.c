/* The station's profile file (libconfig): every setting lands where the station reads it;
 * a typo, a wrong type, a bad pool or address, too many exports and @include are refused
 * with the file, line and setting named; the file reader refuses a FIFO and a huge file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "piprov/error.h"
#include "piprov/station.h"
#include "piprov/text.h"
#include "test_support.h"

static const char full[] =
	"# A station on the bench\n"
	"preset = \"network\";\n"
	"settings = [ \"BOOT_ORDER=0xf21\", \"NET_INSTALL_AT_POWER_ON=1\" ];\n"
	"channel = \"latest\";\n"
	"firmware_dir = \"/opt/fw\";\n"
	"ports = [ \"1-1.*\", \"2-1\" ];\n"
	"ip_pool = \"10.0.0.100-10.0.0.199/24\";\n"
	"hostname_pattern = \"node-%03d\";\n"
	"inventory = \"/var/lib/piprov/inventory\";\n"
	"metadata_dir = \"/var/lib/piprov/metadata\";\n"
	"listen = \"0.0.0.0:8080\";\n"
	"token_file = \"/var/lib/piprov/token\";\n"
	"stop_grace = 12.5;\n"
	"board_timeout = 90;\n"
	"exports = {\n"
	"  files = ( { format = \"dnsmasq-hosts\"; path = \"/etc/piprov/dnsmasq.hosts\"; },\n"
	"            { format = \"hosts\"; path = \"/etc/piprov/hosts\"; } );\n"
	"  tftp_root = \"/srv/tftp\";\n"
	"  template_dir = \"/srv/tftp-template\";\n"
	"  reload_pid_file = \"/run/dnsmasq/dnsmasq.pid\";\n"
	"  tftp_server = \"10.0.0.1\";\n"
	"  prefix_len = 24;\n"
	"  create_nfs_roots = true;\n"
	"};\n";

static void test_every_setting_parsed(void **state)
{
	struct pv_station_profile_file f;
	const struct pv_station_profile *p = &f.profile;
	uint32_t ip;

	(void)state;
	assert_int_equal(pv_station_profile_parse(full, strlen(full), "bench.conf", &f), PV_OK);
	assert_string_equal(p->flash.preset, "network");
	assert_int_equal(p->flash.setting_count, 2);
	assert_string_equal(p->flash.settings[1], "NET_INSTALL_AT_POWER_ON=1");
	assert_string_equal(p->flash.channel, "latest");
	assert_string_equal(p->flash.firmware_dir, "/opt/fw");
	assert_null(p->flash.config_path);
	assert_int_equal(p->port_glob_count, 2);
	assert_string_equal(p->port_globs[0], "1-1.*");
	assert_true(p->has_alloc);
	assert_int_equal(pv_ipv4_parse("10.0.0.100", &ip), 0);
	assert_int_equal(p->alloc.pool_first, ip);
	assert_int_equal(p->alloc.pool_prefix, 24);
	assert_string_equal(p->alloc.hostname_pattern, "node-%03d");
	assert_string_equal(f.inventory, "/var/lib/piprov/inventory");
	assert_string_equal(f.metadata_dir, "/var/lib/piprov/metadata");
	assert_string_equal(f.listen, "0.0.0.0:8080");
	assert_string_equal(f.token_file, "/var/lib/piprov/token");
	assert_true(f.has_stop_grace);
	assert_int_equal(f.stop_grace_ms, 12500);
	assert_int_equal(f.board_timeout_ms, 90000);
	assert_int_equal(p->exports.file_count, 2);
	assert_string_equal(p->exports.files[0].format, "dnsmasq-hosts");
	assert_string_equal(p->exports.files[1].path, "/etc/piprov/hosts");
	assert_string_equal(p->exports.tftp_root, "/srv/tftp");
	assert_string_equal(p->exports.opts.tftp_root, "/srv/tftp");
	assert_string_equal(p->exports.opts.template_dir, "/srv/tftp-template");
	assert_string_equal(p->exports.reload_pid_file, "/run/dnsmasq/dnsmasq.pid");
	assert_true(p->exports.opts.has_tftp_server);
	assert_int_equal(pv_ipv4_parse("10.0.0.1", &ip), 0);
	assert_int_equal(p->exports.opts.tftp_server, ip);
	assert_int_equal(p->exports.opts.prefix_len, 24);
	assert_true(p->exports.opts.create_nfs_roots);
	pv_station_profile_file_release(&f);
	pv_station_profile_file_release(&f); /* twice is harmless */
}

static void test_empty_profile_sets_nothing(void **state)
{
	struct pv_station_profile_file f;

	(void)state;
	assert_int_equal(pv_station_profile_parse("# nothing\n", 10, "empty.conf", &f), PV_OK);
	assert_null(f.profile.flash.preset);
	assert_int_equal(f.profile.port_glob_count, 0);
	assert_false(f.profile.has_alloc);
	assert_null(f.inventory);
	assert_false(f.has_stop_grace);
	assert_int_equal(f.profile.exports.file_count, 0);
	pv_station_profile_file_release(&f);
}

/* text must be refused, the message holding `expect`. */
static void refused(const char *text, const char *expect)
{
	struct pv_station_profile_file f;
	int rc = pv_station_profile_parse(text, strlen(text), "bad.conf", &f);

	if (rc == PV_OK)
		fail_msg("accepted: %s", text);
	if (!strstr(pv_last_error(), expect))
		fail_msg("'%s': message '%s' lacks '%s'", text, pv_last_error(), expect);
	/* Nothing is left allocated or set. */
	assert_null(f.storage);
	assert_null(f.profile.flash.preset);
}

static void test_mistakes_named(void **state)
{
	(void)state;
	refused("preset = \"network\";\nprest = \"sd\";\n",
		"profile 'bad.conf' line 2: prest: unknown setting (known: preset, config, image, "
		"recovery, firmware_dir, channel, settings, ports, ip_pool, hostname_pattern, "
		"inventory, metadata_dir, log_dir, listen, token_file, stop_grace, board_timeout, "
		"exports)");
	refused("preset = network;\n", "profile 'bad.conf' line 1:");
	refused("preset = 3;\n", "line 1: preset: a \"string\" is expected");
	refused("preset = \"\";\n", "preset: is empty");
	refused("channel = \"beta\";\n", "channel: \"default\" or \"latest\"");
	refused("settings = [ \"BOOT_ORDER\" ];\n", "settings: each item is a \"KEY=VALUE\"");
	refused("ports = \"1-1.*\";\n", "ports: a list of strings");
	refused("ip_pool = \"10.0.0.9-10.0.0.1\";\n", "line 1: ip_pool:");
	refused("hostname_pattern = \"node\";\n", "line 1: hostname_pattern:");
	refused("stop_grace = -1;\n", "stop_grace: seconds from 0 to 86400");
	refused("board_timeout = 0;\n", "board_timeout: a board timeout of 0 s");
	refused("exports = { tftp_roots = \"/srv\"; };\n",
		"line 1: exports.tftp_roots: unknown setting (known: files, tftp_root, "
		"template_dir, nfs_root, reload_pid_file, dhcp_range, subnet, interface, domain, "
		"tftp_server, nfs_server, gateway, prefix_len, create_nfs_roots)");
	refused("exports = { tftp_server = \"10.0.0\"; };\n",
		"exports.tftp_server: an IPv4 address");
	refused("exports = { prefix_len = 31; };\n", "exports.prefix_len: a prefix length");
	refused("exports = { files = ( { format = \"hosts\"; } ); };\n",
		"needs both format and path");
	refused("exports = { files = ( { format = \"hosts\"; path = \"/h\"; mode = 1; } ); };\n",
		"mode: unknown setting (known: format, path)");
	refused("exports = { files = ("
		"{format=\"a\";path=\"1\";},{format=\"a\";path=\"2\";},{format=\"a\";path=\"3\";},"
		"{format=\"a\";path=\"4\";},{format=\"a\";path=\"5\";},{format=\"a\";path=\"6\";},"
		"{format=\"a\";path=\"7\";},{format=\"a\";path=\"8\";},{format=\"a\";path=\"9\";}"
		"); };\n",
		"more than 8 export files");
	refused("preset = \"a\";\npreset = \"b\";\n", "line 2");
	refused("  @include \"/etc/passwd\"\n", "@include is not supported");
	refused("@INCLUDE \"x\"\n", "@include is not supported");
}

static void test_nul_byte_and_size_refused(void **state)
{
	struct pv_station_profile_file f;
	char *big = malloc(PV_STATION_PROFILE_MAX + 2);

	(void)state;
	assert_int_equal(pv_station_profile_parse("preset = \"a\0\";", 14, "nul.conf", &f),
			 PV_ERR_INVALID);
	assert_non_null(strstr(pv_last_error(), "NUL"));
	assert_non_null(big);
	memset(big, '#', PV_STATION_PROFILE_MAX + 1);
	big[PV_STATION_PROFILE_MAX + 1] = '\0';
	assert_int_equal(pv_station_profile_parse(big, PV_STATION_PROFILE_MAX + 1, "big.conf", &f),
			 PV_ERR_TOO_BIG);
	free(big);
}

static void test_load_names_the_file(void **state)
{
	struct pv_station_profile_file f;
	char *dir = pv_test_mkdtemp(), *path, *fifo;

	(void)state;
	assert_true(asprintf(&path, "%s/station.conf", dir) > 0);
	assert_true(asprintf(&fifo, "%s/fifo.conf", dir) > 0);
	pv_test_write_file(path, "preset = \"sd\";\n\nlisten = 8080;\n", 31);
	assert_int_equal(pv_station_profile_load(path, &f), PV_ERR_INVALID);
	assert_non_null(strstr(pv_last_error(), "station.conf' line 3: listen"));
	pv_test_write_file(path, "preset = \"sd\";\n", 15);
	assert_int_equal(pv_station_profile_load(path, &f), PV_OK);
	assert_string_equal(f.profile.flash.preset, "sd");
	pv_station_profile_file_release(&f);
	/* A FIFO would block the service at start: refused. */
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_not_equal(pv_station_profile_load(fifo, &f), PV_OK);
	assert_int_not_equal(pv_station_profile_load("/nonexistent/station.conf", &f), PV_OK);
	assert_non_null(strstr(pv_last_error(), "/nonexistent/station.conf"));
	pv_test_rmtree(dir);
	free(dir);
	free(path);
	free(fifo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_setting_parsed),
		cmocka_unit_test(test_empty_profile_sets_nothing),
		cmocka_unit_test(test_mistakes_named),
		cmocka_unit_test(test_nul_byte_and_size_refused),
		cmocka_unit_test(test_load_names_the_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
