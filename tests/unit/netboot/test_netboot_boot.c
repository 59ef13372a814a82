/* The bootloader model (pv_netboot_run) against the in-memory LAN: full and proxy DHCP, the
 * file order with and without the board's folder, the TFTP server choice, timeouts and
 * retries from the EEPROM settings, BOOT_ORDER, the Pi 3 ROM and the Pi 5, the NFS root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_lan.h"
#include "piprov/eeprom.h"
#include "piprov/eeprom_config.h"
#include "piprov/error.h"
#include "piprov/netboot_boot.h"
#include "test_support.h"

#define CMDLINE "console=serial0,115200 root=/dev/nfs nfsroot=10.0.0.2:/srv/nfs/1234abcd,vers=3 " \
		"rw ip=dhcp rootwait\n"

struct env {
	struct fake_lan lan;
	struct pv_netboot_link *link;
	struct pv_netboot_identity id;
	struct pv_netboot_settings s;
	struct pv_netboot_run_options o;
	struct pv_netboot_result r;
	unsigned modes[16], n_modes, cancels, handovers;
	enum pv_netboot_reason cancel_reasons[16];
};

static void on_event(const struct pv_netboot_event *e, void *user)
{
	struct env *env = user;

	if (e->kind == PV_NETBOOT_EV_MODE && env->n_modes < 16)
		env->modes[env->n_modes++] = e->mode;
	if (e->kind == PV_NETBOOT_EV_CANCEL && env->cancels < 16)
		env->cancel_reasons[env->cancels++] = e->reason;
	if (e->kind == PV_NETBOOT_EV_HANDOVER)
		env->handovers++;
}

/* A board and its LAN: a Pi 4 with serial 1234abcd, its folder on the server. */
static struct env *env_new(const char *model, uint64_t serial)
{
	struct env *e = calloc(1, sizeof(*e));
	static const uint8_t mac[6] = { 0xdc, 0xa6, 0x32, 0xaa, 0xbb, 0x01 };

	assert_non_null(e);
	fake_lan_init(&e->lan);
	e->id.board = pv_board_by_short_name(model);
	assert_non_null(e->id.board);
	e->id.soc = pv_soc_info(e->id.board->soc);
	e->id.serial = serial;
	memcpy(e->id.mac, mac, 6);
	e->id.boardrev = 0xc03115;
	pv_netboot_settings_defaults(e->id.soc, &e->s);
	e->s.boot_order = 0x2; /* network only, unless a test says otherwise */
	assert_int_equal(pv_netboot_fake_link_new(mac, false, fake_lan_peer, &e->lan, &e->link),
			 PV_OK);
	e->o.link = e->link;
	e->o.on_event = on_event;
	e->o.user = e;
	e->o.check_nfs = true;
	return e;
}

static void env_free(struct env *e)
{
	e->link->ops->destroy(e->link);
	free(e);
}

static void pi4_folder(struct fake_lan *lan, const char *dir)
{
	static char paths[8][64];
	static const char *const names[] = { "start4.elf", "config.txt", "fixup4.dat",
					     "bcm2711-rpi-4-b.dtb", "cmdline.txt", "kernel8.img" };

	for (size_t i = 0; i < 6; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s%s", dir, names[i]);
		fake_lan_add_file(lan, paths[i], i == 4 ? CMDLINE : "firmware file contents");
	}
}

static void assert_rrqs(const struct fake_lan *lan, const char *const *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i >= lan->rrq_log_len)
			fail_msg("request %zu ('%s') never came", i, want[i]);
		assert_string_equal(lan->rrq_log[i], want[i]);
	}
	assert_int_equal(lan->rrq_log_len, n);
}

static void test_pi4_full_dhcp_boots(void **state)
{
	struct env *e = env_new("pi4", 0x100000001234abcdull);
	static const char *const order[] = {
		"1234abcd/start4.elf", "1234abcd/config.txt", "1234abcd/recover4.elf",
		"1234abcd/recovery.elf", "1234abcd/start4.elf", "1234abcd/fixup4.dat",
		"1234abcd/config.txt", "1234abcd/bcm2711-rpi-4-b.dtb", "1234abcd/cmdline.txt",
		"1234abcd/kernel8.img",
	};
	struct pv_netboot_dhcp *d = malloc(sizeof(*d));
	const uint8_t *v;
	size_t len;

	(void)state;
	pi4_folder(&e->lan, "1234abcd/");
	fake_lan_export(&e->lan, "/srv/nfs/1234abcd", "10.0.0.51");
	assert_int_equal(pv_netboot_run(&e->id, &e->s, &e->o, &e->r), PV_OK);
	assert_true(e->r.booted);
	assert_int_equal(e->r.reason, PV_NETBOOT_OK);
	assert_int_equal(e->r.ip, 0x0a000033);
	assert_int_equal(e->r.netmask, 0xffffff00);
	assert_int_equal(e->r.gateway, 0x0a000001);
	assert_int_equal(e->r.tftp_server, 0x0a000002);
	assert_false(e->r.proxy);
	assert_true(e->r.option43_ok);
	assert_string_equal(e->r.prefix, "1234abcd/");
	assert_false(e->r.fell_back_to_root);
	assert_string_equal(e->r.first_file, "1234abcd/start4.elf");
	assert_string_equal(e->r.kernel, "1234abcd/kernel8.img");
	assert_string_equal(e->r.cmdline_file, "1234abcd/cmdline.txt");
	assert_string_equal(e->r.nfsroot.path, "/srv/nfs/1234abcd");
	assert_string_equal(e->r.nfs_export, "/srv/nfs/1234abcd");
	assert_rrqs(&e->lan, order, sizeof(order) / sizeof(order[0]));
	assert_int_equal(e->lan.discovers, 1);
	assert_int_equal(e->lan.requests, 1);
	assert_int_equal(e->handovers, 1);

	/* The DISCOVER as §1.2/§1.5 describe it: unicast flag, options 60/93/94/97 */
	assert_int_equal(pv_netboot_dhcp_parse(e->lan.last_discover, e->lan.last_discover_len, d),
			 PV_OK);
	assert_int_equal(d->flags, 0);
	assert_int_equal(d->ciaddr, 0);
	assert_int_equal(pv_netboot_dhcp_option(d, PV_DHCP_OPT_VENDOR_CLASS, &v, &len), PV_OK);
	assert_int_equal(len, 32);
	assert_memory_equal(v, "PXEClient:Arch:00000:UNDI:002001", 32);
	assert_int_equal(pv_netboot_dhcp_option(d, PV_DHCP_OPT_CLIENT_ARCH, &v, &len), PV_OK);
	assert_int_equal(len, 2);
	assert_int_equal(v[0] | v[1], 0);
	assert_int_equal(pv_netboot_dhcp_option(d, PV_DHCP_OPT_CLIENT_NDI, &v, &len), PV_OK);
	assert_memory_equal(v, "\1\2\1", 3);
	assert_int_equal(pv_netboot_dhcp_option(d, PV_DHCP_OPT_CLIENT_GUID, &v, &len), PV_OK);
	assert_int_equal(len, 17);
	assert_memory_equal(v, "\0\x34\x69\x50\x52\x15\x31\xc0\x00", 9); /* RPi4, c03115 */
	/* the REQUEST: no option 60 (rpi-eeprom #82), server id and the offered address */
	assert_int_equal(pv_netboot_dhcp_parse(e->lan.last_request, e->lan.last_request_len, d),
			 PV_OK);
	assert_int_equal(pv_netboot_dhcp_option(d, PV_DHCP_OPT_VENDOR_CLASS, &v, &len),
			 PV_ERR_NOT_FOUND);
	{
		uint32_t ip;
		assert_int_equal(pv_netboot_dhcp_option_ip(d, PV_DHCP_OPT_REQUESTED_IP, &ip), PV_OK);
		assert_int_equal(ip, 0x0a000033);
	}
	free(d);
	env_free(e);
}

static void test_pi4_folder_missing_falls_back_to_root(void **state)
{
	struct env *e = env_new("pi4", 0x10000000d9780558ull);
	/* the order of the tcpdump in rpi-eeprom #74 */
	static const char *const order[] = {
		"d9780558/start4.elf", "d9780558/start.elf", "config.txt", "recover4.elf",
		"recovery.elf", "start4.elf", "fixup4.dat", "config.txt", "bcm2711-rpi-4-b.dtb",
		"cmdline.txt", "kernel8.img",
	};

	(void)state;
	pi4_folder(&e->lan, "");
	fake_lan_export(&e->lan, "/srv/nfs", "10.0.0.0/24");
	assert_int_equal(pv_netboot_run(&e->id, &e->s, &e->o, &e->r), PV_OK);
	assert_true(e->r.booted);
	assert_true(e->r.fell_back_to_root);
	assert_string_equal(e->r.prefix, "");
	assert_string_equal(e->r.nfs_export, "/srv/nfs");
	assert_rrqs(&e->lan, order, sizeof(order) / sizeof(order[0]));
	env_free(e);
}

static void test_proxy_dhcp_boots(void **state)
{
	struct env *e = env_new("pi4", 0x100000001234abcdull);

	(void)state;
	e->lan.dhcp = FAKE_DHCP_PROXY;
	pi4_folder(&e->lan, "1234abcd/");
	fake_lan_export(&e->lan, "/srv/nfs/1234abcd", "10.0.0.51");
	assert_int_equal(pv_netboot_run(&e->id, &e->s, &e->o, &e->r), PV_OK);
	assert_true(e->r.booted);
	assert_true(e->r.proxy);
	assert_int_equal(e->r.dhcp_server, 0x0a000001); /* the router gave the address */
	assert_int_equal(e->r.pxe_server, 0x0a000002);
	assert_int_equal(e->r.tftp_server, 0x0a000002); /* the proxy's server id */
	env_free(e);
}

static void test_tftp_server_choice(void **state)
{
	struct env *e = env_new("pi4", 0x100000001234abcdull);

	(void)state;
	/* option 66 names another server: the board goes there (and finds no TFTP) */
	e->lan.option66 = true;
	e->lan.option66_ip = 0x0a000063;
	e->s.tftp_file_timeout_ms = 5000;
	assert_int_equal(pv_netboot_run(&e->id, &e->s, &e->o, &e->r), PV_OK);
	assert_false(e->r.booted);
	assert_int_equal(e->r.tftp_server, 0x0a000063);
	assert_int_equal(e->r.reason, PV_NETBOOT_TFTP_UNREACHABLE); /* nobody answers ARP */
	assert_non_null(strstr(e->r.detail, "10.0.0.99"));
	/* TFTP_IP overrides option 66 */
	e->s.has_tftp_ip = true;
	e->s.tftp_ip = 0x0a000002;
	pi4_folder(&e->lan, "1234abcd/");
	fake_lan_export(&e->lan, "/", "*");
	assert_int_equal(pv_netboot_run(&e->id, &e->s, &e->o, &e->r), PV_OK);
	assert_true(e->r.booted);
	assert_int_equal(e->r.tftp_server, 0x0a000002);
	env_free(e);
}

static void test_no_menu_honours_timeouts_and_retries(void **state)
{
	struct env *e = env_new("pi4", 0x100000001234abcdull);

	(void)state;
	e->lan.dhcp = FAKE_DHCP_LAN_ONLY;
	e->s.boot_order = 0xf21;
	e->s.dhcp_timeout_ms = 10000;
	e->s.dhcp_req_timeout_ms = 1000;
	e->s.net_boot_max_retries = 2;
	assert_int_equal(pv_netboot_run(&e->id, &e->s, &e->o, &e->r), PV_OK);
	assert_false(e->r.booted);
	assert_int_equal(e->r.reason, PV_NETBOOT_NO_PXE_OPTION43);
	assert_non_null(strstr(e->r.detail, "Raspberry Pi Boot"));
	assert_int_equal(e->r.network_attempts, 3);       /* NET_BOOT_MAX_RETRIES + 1 */
	assert_int_equal(e->lan.discovers, 3 * 10);       /* DHCP_TIMEOUT / DHCP_REQ_TIMEOUT */
	assert_int_equal(e->lan.requests, 0);             /* never asks without a PXE answer */
	/* BOOT_ORDER 0xf21: SD, network, then RESTART (where the model stops) */
	assert_int_equal(e->n_modes, 3);
	assert_int_equal(e->modes[0], 1);
	assert_int_equal(e->modes[1], 2);
	assert_int_equal(e->modes[2], 0xf);
	assert_int_equal(e->cancels, 3);
	assert_true(e->r.elapsed_ms >= 30000);
	env_free(e);
}

static void test_no_answers(void **state)
{
	struct env *e = env_new("pi5", 0x0c8f7e5cbd989ae1ull);

	(void)state;
	e->lan.dhcp = FAKE_DHCP_NONE;
	e->s.dhcp_timeout_ms = 5000;
	e->s.dhcp_req_timeout_ms = 500;
	assert_int_equal(pv_netboot_run(&e->id, &e->s, &e->o, &e->r), PV_OK);
	assert_int_equal(e->r.reason, PV_NETBOOT_NO_DHCP_OFFER);
	assert_int_equal(e->lan.discovers, 10);
	/* a PXE answer but no address (a proxy with no LAN DHCP server beside it) */
	e->lan.dhcp = FAKE_DHCP_FULL;
	e->lan.offer_ip = 0;
	assert_int_equal(pv_netboot_run(&e->id, &e->s, &e->o, &e->r), PV_OK);
	assert_int_equal(e->r.reason, PV_NETBOOT_NO_ADDRESS);
	/* an address but no ACK */
	e->lan.offer_ip = 0x0a000033;
	e->lan.ignore_requests = true;
	assert_int_equal(pv_netboot_run(&e->id, &e->s, &e->o, &e->r), PV_OK);
	assert_int_equal(e->r.reason, PV_NETBOOT_NO_ACK);
	/* no BOOT_ORDER network mode at all */
	e->s.boot_order = 0xf41;
	assert_int_equal(pv_netboot_run(&e->id, &e->s, &e->o, &e->r), PV_OK);
	assert_int_equal(e->r.reason, PV_NETBOOT_NO_NETWORK_MODE);
	env_free(e);
}

static void test_missing_kernel_and_unexported_root(void **state)
{
	struct env *e = env_new("pi4", 0x100000001234abcdull);

	(void)state;
	fake_lan_add_file(&e->lan, "1234abcd/start4.elf", "x");
	fake_lan_add_file(&e->lan, "1234abcd/fixup4.dat", "x");
	fake_lan_add_file(&e->lan, "1234abcd/bcm2711-rpi-4-b.dtb", "x");
	fake_lan_add_file(&e->lan, "1234abcd/cmdline.txt", CMDLINE);
	assert_int_equal(pv_netboot_run(&e->id, &e->s, &e->o, &e->r), PV_OK);
	assert_int_equal(e->r.reason, PV_NETBOOT_TFTP_NOT_FOUND);
	/* the 32-bit kernel was tried after kernel8.img */
	assert_string_equal(e->r.failed_file, "1234abcd/kernel7l.img");
	assert_string_equal(e->lan.rrq_log[e->lan.rrq_log_len - 2], "1234abcd/kernel8.img");
	fake_lan_add_file(&e->lan, "1234abcd/kernel7l.img", "x");
	/* exported to another address only */
	fake_lan_export(&e->lan, "/srv/nfs/1234abcd", "10.0.0.52");
	assert_int_equal(pv_netboot_run(&e->id, &e->s, &e->o, &e->r), PV_OK);
	assert_int_equal(e->r.reason, PV_NETBOOT_NFS_NOT_EXPORTED);
	assert_string_equal(e->r.kernel, "1234abcd/kernel7l.img");
	assert_non_null(strstr(e->r.detail, "10.0.0.52"));
	assert_non_null(strstr(e->r.detail, "10.0.0.51"));
	/* no mountd at all */
	e->lan.mountd = false;
	assert_int_equal(pv_netboot_run(&e->id, &e->s, &e->o, &e->r), PV_OK);
	assert_int_equal(e->r.reason, PV_NETBOOT_NFS_UNREACHABLE);
	env_free(e);
}

static void test_config_txt_overrides(void **state)
{
	struct env *e = env_new("pi4", 0x100000001234abcdull);

	(void)state;
	pi4_folder(&e->lan, "1234abcd/");
	e->lan.files[1].data = (const uint8_t *)"[pi4]\nkernel=vmlinuz-6.1\ncmdline=cmd.txt\n";
	e->lan.files[1].len = strlen((const char *)e->lan.files[1].data);
	fake_lan_add_file(&e->lan, "1234abcd/vmlinuz-6.1", "k");
	fake_lan_add_file(&e->lan, "1234abcd/cmd.txt", "root=/dev/nfs nfsroot=/srv/nfs/%s\n");
	fake_lan_export(&e->lan, "/srv/nfs/10.0.0.51", "10.0.0.51");
	assert_int_equal(pv_netboot_run(&e->id, &e->s, &e->o, &e->r), PV_OK);
	assert_true(e->r.booted);
	assert_string_equal(e->r.kernel, "1234abcd/vmlinuz-6.1");
	assert_string_equal(e->r.cmdline_file, "1234abcd/cmd.txt");
	assert_int_equal(e->r.nfsroot.server, 0x0a000002); /* no server: the TFTP server */
	env_free(e);
}

static void test_pi5_folder_without_start4(void **state)
{
	struct env *e = env_new("pi5", 0x0c8f7e5cbd989ae1ull);
	static const char *const order[] = {
		"bd989ae1/start4.elf", "bd989ae1/config.txt", "bd989ae1/config.txt",
		"bd989ae1/bcm2712-rpi-5-b.dtb", "bd989ae1/cmdline.txt", "bd989ae1/kernel_2712.img",
	};

	(void)state;
	fake_lan_add_file(&e->lan, "bd989ae1/config.txt", "");
	fake_lan_add_file(&e->lan, "bd989ae1/bcm2712-rpi-5-b.dtb", "x");
	fake_lan_add_file(&e->lan, "bd989ae1/cmdline.txt",
			  "root=/dev/nfs nfsroot=10.0.0.2:/srv/nfs/bd989ae1\n");
	fake_lan_add_file(&e->lan, "bd989ae1/kernel_2712.img", "x");
	fake_lan_export(&e->lan, "/srv/nfs/bd989ae1", "10.0.0.51/32");
	assert_int_equal(pv_netboot_run(&e->id, &e->s, &e->o, &e->r), PV_OK);
	assert_true(e->r.booted);
	assert_string_equal(e->r.prefix, "bd989ae1/");
	assert_int_equal(e->handovers, 0); /* the Pi 5 loads the kernel itself */
	assert_rrqs(&e->lan, order, sizeof(order) / sizeof(order[0]));
	{
		struct pv_netboot_dhcp *d = malloc(sizeof(*d));
		const uint8_t *v;
		size_t len;

		assert_int_equal(pv_netboot_dhcp_parse(e->lan.last_discover,
						       e->lan.last_discover_len, d), PV_OK);
		assert_int_equal(pv_netboot_dhcp_option(d, PV_DHCP_OPT_CLIENT_GUID, &v, &len), PV_OK);
		assert_memory_equal(v, "\0\x35\x69\x50\x52", 5); /* RPi5 */
		free(d);
	}
	env_free(e);
}

static void test_pi3_rom(void **state)
{
	struct env *e = env_new("pi3", 0x2caf9c61ull);
	/* in.tftpd log of firmware #1012 */
	static const char *const order[] = {
		"bootcode.bin", "bootsig.bin", "2caf9c61/start.elf", "2caf9c61/autoboot.txt",
		"2caf9c61/config.txt", "2caf9c61/recovery.elf", "2caf9c61/start.elf",
		"2caf9c61/fixup.dat", "2caf9c61/config.txt", "2caf9c61/bcm2710-rpi-3-b.dtb",
		"2caf9c61/cmdline.txt", "2caf9c61/kernel8.img",
	};
	static const uint8_t params[] = { 43, 60, 67, 128, 129, 130, 131, 132, 133, 134, 135, 66,
					  1, 3 };
	struct pv_netboot_dhcp *d = malloc(sizeof(*d));
	const uint8_t *v;
	size_t len;

	(void)state;
	fake_lan_add_file(&e->lan, "bootcode.bin", "x");
	fake_lan_add_file(&e->lan, "2caf9c61/start.elf", "x");
	fake_lan_add_file(&e->lan, "2caf9c61/fixup.dat", "x");
	fake_lan_add_file(&e->lan, "2caf9c61/bcm2710-rpi-3-b.dtb", "x");
	fake_lan_add_file(&e->lan, "2caf9c61/cmdline.txt", "nfsroot=10.0.0.2:/srv/nfs/2caf9c61\n");
	fake_lan_add_file(&e->lan, "2caf9c61/kernel8.img", "x");
	fake_lan_export(&e->lan, "/srv/nfs/2caf9c61", "10.0.0.51");
	/* the 3B ROM ignores the menu without its three spaces: 5 DISCOVERs 5 s apart */
	assert_int_equal(pv_netboot_run(&e->id, &e->s, &e->o, &e->r), PV_OK);
	assert_int_equal(e->r.reason, PV_NETBOOT_NO_PXE_OPTION43);
	assert_int_equal(e->lan.discovers, 5);
	assert_non_null(strstr(e->r.detail, "Raspberry Pi Boot   \""));
	e->lan.menu = "Raspberry Pi Boot   ";
	e->lan.discovers = 0;
	assert_int_equal(pv_netboot_run(&e->id, &e->s, &e->o, &e->r), PV_OK);
	assert_true(e->r.booted);
	assert_int_equal(e->lan.requests, 0); /* straight from the OFFER (§1.2) */
	assert_int_equal(e->handovers, 2);    /* bootcode.bin, start.elf */
	assert_rrqs(&e->lan, order, sizeof(order) / sizeof(order[0]));
	assert_int_equal(e->lan.rrq_blksize, 0); /* tsize only (firmware #1700) */
	assert_true(e->lan.rrq_tsize);
	assert_true(e->lan.rrq_port >= 49153);
	assert_int_equal(pv_netboot_dhcp_parse(e->lan.last_discover, e->lan.last_discover_len, d),
			 PV_OK);
	assert_int_equal(pv_netboot_dhcp_option(d, PV_DHCP_OPT_PARAMS, &v, &len), PV_OK);
	assert_int_equal(len, sizeof(params));
	assert_memory_equal(v, params, sizeof(params));
	assert_int_equal(pv_netboot_dhcp_option(d, PV_DHCP_OPT_CLIENT_GUID, &v, &len), PV_OK);
	assert_memory_equal(v, "\0\x61\x9c\xaf\x2c\x61\x9c\xaf\x2c", 9); /* legacy form */
	free(d);
	env_free(e);
}

static void test_settings_from_conf_and_image(void **state)
{
	struct pv_eeprom_conf *conf;
	struct pv_netboot_settings s;
	struct pv_buf img = PV_BUF_INIT(SIZE_MAX);
	static const char good[] = "[all]\nBOOT_ORDER=0xf21\nTFTP_PREFIX=1\nTFTP_PREFIX_STR=lab/\n"
				   "DHCP_TIMEOUT=5000\nDHCP_REQ_TIMEOUT=500\nTFTP_FILE_TIMEOUT=6000\n"
				   "NET_BOOT_MAX_RETRIES=-1\nDHCP_OPTION97=0\nTFTP_IP=10.0.0.9\n"
				   "BOOT_UART=1\n[pi5]\nTFTP_PREFIX=2\n";
	struct pv_eeprom_synth_options so = { .bootconf = good, .bootconf_len = sizeof(good) - 1 };
	const struct pv_soc_info *soc = pv_soc_info(PV_SOC_BCM2711);

	(void)state;
	pv_netboot_settings_defaults(soc, &s);
	assert_int_equal(s.boot_order, 0xf41);
	assert_int_equal(s.dhcp_timeout_ms, 45000);
	assert_string_equal(s.pxe_option43, "Raspberry Pi Boot");
	assert_int_equal(pv_eeprom_conf_parse(good, strlen(good), "t.conf", &conf), PV_OK);
	assert_int_equal(pv_netboot_settings_from_conf(conf, "t.conf", &s), PV_OK);
	pv_eeprom_conf_free(conf);
	assert_int_equal(s.boot_order, 0xf21);
	assert_int_equal(s.tftp_prefix, PV_NETBOOT_PREFIX_STRING); /* [pi5] does not apply */
	assert_string_equal(s.tftp_prefix_str, "lab/");
	assert_int_equal(s.dhcp_timeout_ms, 5000);
	assert_int_equal(s.dhcp_req_timeout_ms, 500);
	assert_int_equal(s.tftp_file_timeout_ms, 6000);
	assert_int_equal(s.net_boot_max_retries, -1);
	assert_int_equal(s.dhcp_option97, 0);
	assert_true(s.has_tftp_ip);
	assert_true(s.boot_uart);
	/* a value the bootloader would refuse names the property */
	assert_int_equal(pv_eeprom_conf_parse("DHCP_TIMEOUT=100\n", 17, "t.conf", &conf), PV_OK);
	assert_int_equal(pv_netboot_settings_from_conf(conf, "t.conf", &s), PV_ERR_INVALID);
	assert_non_null(strstr(pv_last_error(), "DHCP_TIMEOUT"));
	pv_eeprom_conf_free(conf);
	/* from a whole image, as flashed */
	assert_int_equal(pv_eeprom_synthesize(PV_SOC_BCM2711, &so, &img), PV_OK);
	assert_int_equal(pv_netboot_settings_from_image(img.data, img.len, "pieeprom.bin", soc, &s),
			 PV_OK);
	assert_int_equal(s.boot_order, 0xf21);
	assert_true(s.build_timestamp > 0);
	/* an erased EEPROM holds no bootloader */
	memset(img.data, 0xff, img.len);
	assert_int_equal(pv_netboot_settings_from_image(img.data, img.len, "erased", soc, &s),
			 PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "no bootloader"));
	pv_clear_error();
	pv_buf_release(&img);
}

static void test_deadline_stops_the_board(void **state)
{
	struct env *e = env_new("pi4", 0x100000001234abcdull);

	(void)state;
	e->lan.dhcp = FAKE_DHCP_NONE;
	e->s.net_boot_max_retries = -1; /* forever */
	e->o.deadline_ms = 20000;
	assert_int_equal(pv_netboot_run(&e->id, &e->s, &e->o, &e->r), PV_OK);
	assert_false(e->r.booted);
	assert_true(e->r.elapsed_ms >= 20000 && e->r.elapsed_ms <= 20000 + PV_NETBOOT_STOP_POLL_MS);
	env_free(e);
}

/* The deadline (or a signal) also ends a transfer from a silent TFTP server within one
 * poll, not after its TFTP_FILE_TIMEOUT (30 s): `netboot check` and `boot` end at SIGINT. */
static void test_deadline_stops_a_silent_transfer(void **state)
{
	struct env *e = env_new("pi4", 0x100000001234abcdull);

	(void)state;
	e->lan.tftp = false;
	e->o.deadline_ms = 5000;
	assert_int_equal(pv_netboot_run(&e->id, &e->s, &e->o, &e->r), PV_OK);
	assert_false(e->r.booted);
	assert_int_equal(e->r.reason, PV_NETBOOT_CANCELLED);
	assert_non_null(strstr(e->r.detail, "stopped while reading '1234abcd/start4.elf'"));
	assert_true(e->r.elapsed_ms >= 5000 && e->r.elapsed_ms <= 5000 + PV_NETBOOT_STOP_POLL_MS);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pi4_full_dhcp_boots),
		cmocka_unit_test(test_pi4_folder_missing_falls_back_to_root),
		cmocka_unit_test(test_proxy_dhcp_boots),
		cmocka_unit_test(test_tftp_server_choice),
		cmocka_unit_test(test_no_menu_honours_timeouts_and_retries),
		cmocka_unit_test(test_no_answers),
		cmocka_unit_test(test_missing_kernel_and_unexported_root),
		cmocka_unit_test(test_config_txt_overrides),
		cmocka_unit_test(test_pi5_folder_without_start4),
		cmocka_unit_test(test_pi3_rom),
		cmocka_unit_test(test_settings_from_conf_and_image),
		cmocka_unit_test(test_deadline_stops_the_board),
		cmocka_unit_test(test_deadline_stops_a_silent_transfer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
