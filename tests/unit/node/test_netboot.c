/* netboot: the config change, the image the EEPROM engine reads back, the .sig, staging
 * (and what a full disk or an unusable boot partition leaves behind), the board rules, and
 * the immediate path through the real flashrom and its dummy programmer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "piprov/eeprom.h"
#include "piprov/fileio.h"
#include "piprov/inventory.h"
#include "piprov/node.h"
#include "piprov/text.h"
#include "test_support.h"

#define NEWEST_TS 1746717695u
#define OLDER_TS 1700000000u
static const char recovery_bytes[] = "synthetic recovery.bin for tests";

static char *path_join(const char *a, const char *b)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s/%s", a, b) > 0);
	return p;
}

static void mkdirs(const char *path)
{
	char *cmd = NULL;

	assert_true(asprintf(&cmd, "mkdir -p '%s'", path) > 0);
	assert_int_equal(pv_test_run(cmd, NULL, 1), 0);
	free(cmd);
}

static void synth_release(const char *root, enum pv_soc soc, const char *name, uint32_t ts)
{
	const struct pv_soc_info *info = pv_soc_info(soc);
	struct pv_eeprom_synth_options opt = { 0 };
	struct pv_buf img = PV_BUF_INIT(SIZE_MAX);
	char *dir = NULL, *file;

	opt.build_timestamp = ts;
	opt.seed = ts;
	assert_int_equal(pv_eeprom_synthesize(soc, &opt, &img), 0);
	assert_true(asprintf(&dir, "%s/usr/lib/firmware/raspberrypi/bootloader-%s/default", root,
			     info->chip) > 0);
	mkdirs(dir);
	file = path_join(dir, name);
	pv_test_write_file(file, img.data, img.len);
	free(file);
	file = path_join(dir, "recovery.bin");
	pv_test_write_file(file, recovery_bytes, sizeof(recovery_bytes));
	free(file);
	free(dir);
	pv_buf_release(&img);
}

/* A writable copy of a fixture board (in a fresh *tmp). */
static char *copy_board(const char *board, char **tmp)
{
	char *root, *cmd = NULL;

	*tmp = pv_test_mkdtemp();
	root = path_join(*tmp, board);
	assert_true(asprintf(&cmd, "cp -a '%s/%s' '%s'", NODE_SYSROOTS, board, root) > 0);
	assert_int_equal(pv_test_run(cmd, NULL, 1), 0);
	free(cmd);
	return root;
}

/* A writable copy of a fixture board with two release images (and one of the wrong size
 * that must be ignored) for its SoC. */
static char *board_with_releases(const char *board, enum pv_soc soc, char **tmp)
{
	char *root = copy_board(board, tmp), *junk = NULL;

	synth_release(root, soc, "pieeprom-2025-05-08.bin", NEWEST_TS);
	synth_release(root, soc, "pieeprom-2023-01-05.bin", OLDER_TS);
	assert_true(asprintf(&junk, "%s/usr/lib/firmware/raspberrypi/bootloader-%s/default/"
			     "pieeprom-2099-01-01.bin", root, pv_soc_info(soc)->chip) > 0);
	pv_test_write_file(junk, "not an image", 12);
	free(junk);
	return root;
}

static int run_node(const char *root, const char *args, struct pv_buf *out)
{
	char *prog = pv_test_program("piprov-node"), *cmd = NULL;
	int rc;

	assert_true(asprintf(&cmd, "%s '%s' --root '%s' %s </dev/null", NODE_EMULATOR, prog, root, args) > 0);
	rc = pv_test_run(cmd, out, 1);
	free(cmd);
	free(prog);
	return rc;
}

/* Load an image, return its bootconf.txt, check its .sig and build timestamp. */
static char *check_image(const char *upd, const char *sigpath, const char *chip, uint32_t ts)
{
	struct pv_eeprom_image img = { 0 };
	struct pv_eeprom_info info;
	struct pv_eeprom_sig sig;
	struct pv_buf sigtext = PV_BUF_INIT(SIZE_MAX);
	const unsigned char *conf;
	size_t len;
	char *text;

	assert_int_equal(pv_eeprom_load(&img, upd), 0);
	assert_int_equal(pv_eeprom_get_info(&img, &info), 0);
	assert_int_equal(info.build_timestamp, ts); /* the newest release was picked */
	assert_true(info.has_update_timestamp);
	assert_int_equal(pv_eeprom_get_file(&img, PV_EEPROM_BOOTCONF_TXT, &conf, &len), 0);
	text = strndup((const char *)conf, len);
	pv_test_read_file(sigpath, &sigtext);
	assert_int_equal(pv_eeprom_sig_parse(sigtext.data, sigtext.len, sigpath, &sig), 0);
	assert_int_equal(pv_eeprom_sig_verify(img.data, img.size, &sig, NULL), 0);
	assert_string_equal(sig.target_soc, chip);
	assert_true(sig.has_timestamp);
	pv_buf_release(&sigtext);
	pv_eeprom_release(&img);
	return text;
}

static void test_dry_run_output(void **state)
{
	char *tmp, *root = board_with_releases("pi4b", PV_SOC_BCM2711, &tmp);
	char *out = path_join(tmp, "out"), *args = NULL, *upd, *sig, *conf, *staged;
	struct pv_buf log = PV_BUF_INIT(1 << 20);

	(void)state;
	mkdirs(out);
	assert_true(asprintf(&args, "netboot --dry-run --output '%s' --tftp-prefix mac "
			     "--tftp-ip 192.168.1.10 NET_BOOT_MAX_RETRIES=5", out) > 0);
	assert_int_equal(run_node(root, args, &log), 0);
	assert_non_null(strstr(pv_buf_str(&log), "-BOOT_ORDER=0xf41"));
	assert_non_null(strstr(pv_buf_str(&log), "+BOOT_ORDER=0xf412"));
	upd = path_join(out, "pieeprom.upd");
	sig = path_join(out, "pieeprom.sig");
	conf = check_image(upd, sig, "2711", NEWEST_TS);
	/* Network first, the rest kept in order, new keys in the unconditional part. */
	assert_string_equal(conf, "[all]\nBOOT_UART=0\nWAKE_ON_GPIO=1\nPOWER_OFF_ON_HALT=0\n"
				  "BOOT_ORDER=0xf412\nTFTP_PREFIX=2\nTFTP_IP=192.168.1.10\n"
				  "NET_BOOT_MAX_RETRIES=5\n");
	/* A dry run writes nothing on the board. */
	staged = path_join(root, "boot/firmware/pieeprom.upd");
	assert_false(pv_path_exists(staged));
	free(staged);
	staged = path_join(root, "var/lib/raspberrypi/bootloader/backup");
	assert_false(pv_path_exists(staged));
	free(staged);
	free(conf);
	free(upd);
	free(sig);
	free(args);
	free(out);
	pv_buf_release(&log);
	pv_test_rmtree(tmp);
	free(tmp);
	free(root);
}

static void test_stage_into_boot(void **state)
{
	char *tmp, *root = board_with_releases("pi4b", PV_SOC_BCM2711, &tmp);
	char *boot = path_join(root, "boot/firmware"), *upd, *sig, *rec, *conf, *stale;
	struct pv_buf log = PV_BUF_INIT(1 << 20), b = PV_BUF_INIT(SIZE_MAX);

	(void)state;
	/* A stale update from an earlier run must not survive (rpi-eeprom #121). */
	stale = path_join(boot, "recovery.000");
	pv_test_write_file(stale, "old", 3);
	assert_int_equal(run_node(root, "netboot --fallback --yes --tftp-prefix serial", &log), 0);
	assert_non_null(strstr(pv_buf_str(&log), "reboot to apply"));
	upd = path_join(boot, "pieeprom.upd");
	sig = path_join(boot, "pieeprom.sig");
	rec = path_join(boot, "recovery.bin");
	conf = check_image(upd, sig, "2711", NEWEST_TS);
	assert_non_null(strstr(conf, "\nBOOT_ORDER=0xf241\n"));
	assert_non_null(strstr(conf, "\nTFTP_PREFIX=0\n"));
	pv_test_read_file(rec, &b);
	assert_memory_equal(b.data, recovery_bytes, sizeof(recovery_bytes));
	assert_false(pv_path_exists(stale));
	/* The previous config was backed up. */
	pv_buf_reset(&log);
	{
		char *cmd = NULL;
		assert_true(asprintf(&cmd, "cat '%s'/var/lib/raspberrypi/bootloader/backup/"
				     "pieeprom-backup-*.conf", root) > 0);
		assert_int_equal(pv_test_run(cmd, &log, 0), 0);
		assert_string_equal(pv_buf_str(&log), "[all]\nBOOT_UART=0\nWAKE_ON_GPIO=1\n"
						      "POWER_OFF_ON_HALT=0\nBOOT_ORDER=0xf41\n");
		free(cmd);
	}
	/* Running it again finds nothing left to do? No: the running config (nvmem) is
	 * unchanged until the reboot, so it stages again, identically but for the time. */
	free(conf);
	free(upd);
	free(sig);
	free(rec);
	free(stale);
	free(boot);
	pv_buf_release(&b);
	pv_buf_release(&log);
	pv_test_rmtree(tmp);
	free(tmp);
	free(root);
}

struct full_disk {
	size_t room; /* bytes the "disk" still takes */
};

static long full_disk_write(void *ctx, int fd, const void *data, size_t len)
{
	struct full_disk *disk = ctx;
	size_t n = len < disk->room ? len : disk->room;

	if (n == 0) {
		errno = ENOSPC;
		return -1;
	}
	disk->room -= n;
	return (long)write(fd, data, n);
}

static int prepare_plan(const char *root_path, struct pv_node_root *root,
			struct pv_node_identity *id, struct pv_node_netboot_plan *plan)
{
	struct pv_node_netboot_request req = { 0 };

	req.network_first = true;
	req.now = 1750000000;
	assert_int_equal(pv_node_root_open(root, root_path), 0);
	pv_node_identity_init(id);
	assert_int_equal(pv_node_identity_read(root, NULL, id), 0);
	pv_node_netboot_plan_init(plan);
	return pv_node_netboot_prepare(root, id, &req, plan);
}

static void test_full_disk_stages_nothing(void **state)
{
	char *tmp, *root_path = board_with_releases("pi4b", PV_SOC_BCM2711, &tmp);
	char *boot = path_join(root_path, "boot/firmware"), *cmd = NULL;
	struct pv_node_root root;
	struct pv_node_identity id;
	struct pv_node_netboot_plan plan;
	struct full_disk disk;
	struct pv_node_io_hooks hooks = { full_disk_write, &disk };
	struct pv_buf before = PV_BUF_INIT(1 << 16), after = PV_BUF_INIT(1 << 16);
	char *old_upd = path_join(boot, "pieeprom.upd");

	(void)state;
	pv_test_write_file(old_upd, "previous", 8);
	assert_true(asprintf(&cmd, "cd '%s' && ls -a && md5sum pieeprom.upd", boot) > 0);
	assert_int_equal(pv_test_run(cmd, &before, 1), 0);
	assert_int_equal(prepare_plan(root_path, &root, &id, &plan), 0);
	/* The disk fills up at every point of the three files in turn. */
	{
		size_t total = plan.image.len + plan.sig.len + plan.recovery.len;
		size_t points[] = { 0, 4096, plan.image.len, plan.image.len + plan.sig.len,
				    total - 1 };
		for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
			disk.room = points[i];
			assert_int_equal(pv_node_netboot_stage(&root, &plan, NULL, &hooks),
					 PV_ERR_NO_SPACE);
			assert_non_null(strstr(pv_last_error(), "nothing was staged"));
			assert_non_null(strstr(pv_last_error(), "No space left"));
			pv_buf_reset(&after);
			assert_int_equal(pv_test_run(cmd, &after, 1), 0);
			assert_string_equal(pv_buf_str(&after), pv_buf_str(&before));
		}
	}
	/* With room it works. */
	disk.room = SIZE_MAX;
	assert_int_equal(pv_node_netboot_stage(&root, &plan, NULL, &hooks), 0);
	pv_node_netboot_plan_release(&plan);
	pv_node_identity_release(&id);
	pv_node_root_close(&root);
	free(cmd);
	free(old_upd);
	free(boot);
	pv_buf_release(&before);
	pv_buf_release(&after);
	pv_test_rmtree(tmp);
	free(tmp);
	free(root_path);
}

static void test_unusable_boot_partition(void **state)
{
	char *tmp, *root = board_with_releases("pi4b", PV_SOC_BCM2711, &tmp);
	char *defaults = path_join(root, "etc/default/rpi-eeprom-update");
	static const char text[] = "BOOTFS=/boot/firmware/config.txt\n";
	struct pv_buf log = PV_BUF_INIT(1 << 20);

	(void)state;
	/* BOOTFS names a file, not a folder: nothing can be staged there. */
	pv_test_write_file(defaults, text, sizeof(text) - 1);
	assert_int_equal(run_node(root, "netboot --yes", &log), 1);
	assert_non_null(strstr(pv_buf_str(&log), "boot partition '/boot/firmware/config.txt' is "
						 "not usable"));
	/* A missing boot partition is named too. */
	pv_test_write_file(defaults, "BOOTFS=/mnt/nothing\n", 20);
	pv_buf_reset(&log);
	assert_int_equal(run_node(root, "netboot --yes", &log), 1);
	assert_non_null(strstr(pv_buf_str(&log), "BOOTFS '/mnt/nothing'"));
	free(defaults);
	pv_buf_release(&log);
	pv_test_rmtree(tmp);
	free(tmp);
	free(root);
}

static void test_board_rules(void **state)
{
	char *tmp, *root = board_with_releases("cm4", PV_SOC_BCM2711, &tmp);
	char *defaults = path_join(root, "etc/default/rpi-eeprom-update");
	char *nvmem = path_join(root, "sys/devices/platform/rmem/nvmem/rmem0/nvmem");
	struct pv_buf log = PV_BUF_INIT(1 << 20);
	static const char signed_conf[] = "[all]\nBOOT_ORDER=0xf41\nSIGNED_BOOT=1\n";

	(void)state;
	/* CM4: refused unless opted in (or forced), as rpi-eeprom-update does. */
	assert_int_equal(run_node(root, "netboot --dry-run", &log), 1);
	assert_non_null(strstr(pv_buf_str(&log), "CM4_ENABLE_RPI_EEPROM_UPDATE=1"));
	pv_buf_reset(&log);
	assert_int_equal(run_node(root, "netboot --dry-run --force", &log), 0);
	pv_test_write_file(defaults, "CM4_ENABLE_RPI_EEPROM_UPDATE=1\n", 31);
	pv_buf_reset(&log);
	assert_int_equal(run_node(root, "netboot --dry-run", &log), 0);
	/* The CM4 already boots 0xf21 (network second): --fallback changes nothing. */
	pv_buf_reset(&log);
	assert_int_equal(run_node(root, "netboot --dry-run --fallback", &log), 0);
	assert_non_null(strstr(pv_buf_str(&log), "nothing to do"));
	/* Mode 6 is fine on a CM4 (NVMe), mode 5 not on... a CM4 has it; mode 9 is no mode. */
	pv_buf_reset(&log);
	assert_int_equal(run_node(root, "netboot --dry-run BOOT_ORDER=0xf96", &log), 1);
	assert_non_null(strstr(pv_buf_str(&log), "0x9 (mode 2) is not a boot mode"));
	pv_buf_reset(&log);
	assert_int_equal(run_node(root, "netboot --dry-run bad-key=1", &log), 2);
	/* SIGNED_BOOT=1 without a key is refused. */
	pv_test_write_file(nvmem, signed_conf, sizeof(signed_conf));
	pv_buf_reset(&log);
	assert_int_equal(run_node(root, "netboot --dry-run", &log), 1);
	assert_non_null(strstr(pv_buf_str(&log), "SIGNED_BOOT=1"));
	free(nvmem);
	free(defaults);
	pv_buf_release(&log);
	pv_test_rmtree(tmp);
	free(tmp);
	free(root);
}

/* Pi 3B: the OTP route (program_usb_boot_mode=1 once in config.txt). */
static void test_pi3b_program_usb_boot_mode(void **state)
{
	char *tmp, *root = copy_board("pi3b", &tmp), *config;
	struct pv_buf log = PV_BUF_INIT(1 << 20), text = PV_BUF_INIT(SIZE_MAX);

	(void)state;
	assert_int_equal(run_node(root, "netboot --dry-run", &log), 0);
	assert_non_null(strstr(pv_buf_str(&log), "+program_usb_boot_mode=1"));
	assert_non_null(strstr(pv_buf_str(&log), "dry run: nothing written"));
	config = path_join(root, "boot/config.txt");
	pv_test_read_file(config, &text);
	assert_null(strstr(pv_buf_str(&text), "program_usb_boot_mode"));
	pv_buf_reset(&log);
	assert_int_equal(run_node(root, "netboot --yes", &log), 0);
	pv_buf_reset(&text);
	pv_test_read_file(config, &text);
	assert_string_equal(pv_buf_str(&text), "dtoverlay=vc4-kms-v3d\nprogram_usb_boot_mode=1\n");
	/* Asked again before the reboot: the line is there, nothing more is added. */
	pv_buf_reset(&log);
	assert_int_equal(run_node(root, "netboot --yes", &log), 0);
	assert_non_null(strstr(pv_buf_str(&log), "already has program_usb_boot_mode=1"));
	pv_buf_reset(&text);
	pv_test_read_file(config, &text);
	assert_string_equal(pv_buf_str(&text), "dtoverlay=vc4-kms-v3d\nprogram_usb_boot_mode=1\n");
	/* A commented-out line does not count. */
	pv_test_write_file(config, "#program_usb_boot_mode=1\n", 25);
	pv_buf_reset(&log);
	assert_int_equal(run_node(root, "netboot --yes", &log), 0);
	pv_buf_reset(&text);
	pv_test_read_file(config, &text);
	assert_string_equal(pv_buf_str(&text), "#program_usb_boot_mode=1\nprogram_usb_boot_mode=1\n");
	free(config);
	pv_buf_release(&log);
	pv_buf_release(&text);
	pv_test_rmtree(tmp);
	free(tmp);
	free(root);
}

/* Pi 3B+: the boot ROM network-boots as shipped; it is never offered the irreversible OTP
 * write (issue 13). */
static void test_pi3bplus_is_not_offered_otp(void **state)
{
	char *tmp, *root = copy_board("pi3bplus", &tmp), *config;
	struct pv_buf log = PV_BUF_INIT(1 << 20), text = PV_BUF_INIT(SIZE_MAX);

	(void)state;
	config = path_join(root, "boot/config.txt");
	assert_int_equal(run_node(root, "netboot --yes", &log), 0);
	assert_non_null(strstr(pv_buf_str(&log), "network-boots as shipped"));
	assert_non_null(strstr(pv_buf_str(&log), "nothing to do"));
	assert_null(strstr(pv_buf_str(&log), "program_usb_boot_mode"));
	pv_test_read_file(config, &text);
	assert_string_equal(pv_buf_str(&text), "dtoverlay=vc4-kms-v3d\n");
	/* Provisioning records it without a warning about OTP. */
	pv_buf_reset(&log);
	assert_int_equal(run_node(root, "provision --no-poweroff --inventory inv.cfg", &log), 0);
	assert_null(strstr(pv_buf_str(&log), "OTP"));
	free(config);
	pv_buf_release(&log);
	pv_buf_release(&text);
	pv_test_rmtree(tmp);
	free(tmp);
	free(root);
}

/* --image IMG stages the recovery.bin beside IMG, not the release folder's (issue 13),
 * also on a board without the rpi-eeprom package. */
static void test_image_with_its_recovery(void **state)
{
	static const char own_recovery[] = "recovery.bin that came with the image";
	char *tmp, *root = board_with_releases("pi4b", PV_SOC_BCM2711, &tmp), *img_dir, *img;
	char *rec, *staged, *args = NULL, *bare_tmp, *bare;
	struct pv_eeprom_synth_options opt = { 0 };
	struct pv_buf image = PV_BUF_INIT(SIZE_MAX), log = PV_BUF_INIT(1 << 20);
	struct pv_buf b = PV_BUF_INIT(SIZE_MAX);

	(void)state;
	img_dir = path_join(tmp, "my-release");
	mkdirs(img_dir);
	opt.build_timestamp = OLDER_TS;
	opt.seed = 7;
	assert_int_equal(pv_eeprom_synthesize(PV_SOC_BCM2711, &opt, &image), 0);
	img = path_join(img_dir, "pieeprom.bin");
	pv_test_write_file(img, image.data, image.len);
	rec = path_join(img_dir, "recovery.bin");
	pv_test_write_file(rec, own_recovery, sizeof(own_recovery));
	assert_true(asprintf(&args, "netboot --yes --image '%s'", img) > 0);
	assert_int_equal(run_node(root, args, &log), 0);
	staged = path_join(root, "boot/firmware/recovery.bin");
	pv_test_read_file(staged, &b);
	assert_int_equal(b.len, sizeof(own_recovery));
	assert_memory_equal(b.data, own_recovery, sizeof(own_recovery));
	free(staged);
	/* Without any rpi-eeprom release folder on the board. */
	bare = copy_board("pi4b", &bare_tmp);
	pv_buf_reset(&log);
	assert_int_equal(run_node(bare, args, &log), 0);
	staged = path_join(bare, "boot/firmware/recovery.bin");
	pv_buf_reset(&b);
	pv_test_read_file(staged, &b);
	assert_memory_equal(b.data, own_recovery, sizeof(own_recovery));
	free(staged);
	pv_test_rmtree(bare_tmp);
	free(bare_tmp);
	free(bare);
	free(args);
	free(rec);
	free(img);
	free(img_dir);
	pv_buf_release(&b);
	pv_buf_release(&image);
	pv_buf_release(&log);
	pv_test_rmtree(tmp);
	free(tmp);
	free(root);
}

/* A dry run fails where the real run would, and writes nothing either way (it said
 * "succeeded", then the real run failed for want of recovery.bin). */
static void test_dry_run_tells_the_truth(void **state)
{
	char *tmp, *root = copy_board("pi4b", &tmp), *img, *args = NULL, *dry = NULL;
	char *mode, *staged;
	struct pv_eeprom_synth_options opt = { 0 };
	struct pv_buf image = PV_BUF_INIT(SIZE_MAX), log = PV_BUF_INIT(1 << 20);
	static const unsigned char rpiboot_mode[4] = { 0, 0, 0, 3 };

	(void)state;
	opt.build_timestamp = OLDER_TS;
	opt.seed = 3;
	assert_int_equal(pv_eeprom_synthesize(PV_SOC_BCM2711, &opt, &image), 0);
	img = path_join(tmp, "pieeprom.bin"); /* no recovery.bin beside it, none on the board */
	pv_test_write_file(img, image.data, image.len);
	assert_true(asprintf(&args, "netboot --yes --image '%s'", img) > 0);
	assert_true(asprintf(&dry, "netboot --dry-run --image '%s'", img) > 0);
	assert_int_equal(run_node(root, dry, &log), 1);
	assert_non_null(strstr(pv_buf_str(&log), "no recovery.bin beside"));
	assert_null(strstr(pv_buf_str(&log), "dry run: nothing written"));
	pv_buf_reset(&log);
	assert_int_equal(run_node(root, args, &log), 1);
	assert_non_null(strstr(pv_buf_str(&log), "no recovery.bin beside"));
	/* Nothing was written by the failed run, not even the backup. */
	staged = path_join(root, "var/lib/raspberrypi/bootloader/backup");
	assert_false(pv_path_exists(staged));
	free(staged);
	/* A board the host booted over USB: refused by the dry run as by the real one. */
	free(root);
	pv_test_rmtree(tmp);
	free(tmp);
	root = board_with_releases("pi4b", PV_SOC_BCM2711, &tmp);
	mode = path_join(root, "sys/firmware/devicetree/base/chosen/bootloader/boot-mode");
	pv_test_write_file(mode, rpiboot_mode, sizeof(rpiboot_mode));
	pv_buf_reset(&log);
	assert_int_equal(run_node(root, "netboot --dry-run", &log), 1);
	assert_non_null(strstr(pv_buf_str(&log), "booted over USB (rpiboot)"));
	pv_buf_reset(&log);
	assert_int_equal(run_node(root, "netboot --yes", &log), 1);
	assert_non_null(strstr(pv_buf_str(&log), "booted over USB (rpiboot)"));
	pv_buf_reset(&log);
	assert_int_equal(run_node(root, "netboot --dry-run --force", &log), 0);
	assert_non_null(strstr(pv_buf_str(&log), "a real run stages pieeprom.upd"));
	free(mode);
	free(dry);
	free(args);
	free(img);
	pv_buf_release(&image);
	pv_buf_release(&log);
	pv_test_rmtree(tmp);
	free(tmp);
	free(root);
}

static json_t *run_node_json(const char *root, const char *args)
{
	char *prog = pv_test_program("piprov-node"), *cmd = NULL;
	struct pv_buf out = PV_BUF_INIT(1 << 20);
	json_error_t error;
	json_t *doc;

	assert_true(asprintf(&cmd, "%s '%s' --root '%s' --json %s </dev/null 2>/dev/null",
			     NODE_EMULATOR, prog, root, args) > 0);
	assert_int_equal(pv_test_run(cmd, &out, 0), 0);
	doc = json_loadb(pv_buf_str(&out), out.len, 0, &error);
	if (!doc)
		fail_msg("'%s': not one JSON document: %s\n%s", args, error.text, pv_buf_str(&out));
	assert_true(json_is_object(doc));
	free(cmd);
	free(prog);
	pv_buf_release(&out);
	return doc;
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	assert_true(json_is_string(v));
	return json_string_value(v);
}

static void test_netboot_json(void **state)
{
	char *tmp, *root = board_with_releases("pi4b", PV_SOC_BCM2711, &tmp);
	char *tmp3, *pi3 = copy_board("pi3b", &tmp3), *tmp3p, *pi3p = copy_board("pi3bplus", &tmp3p);
	json_t *o;

	(void)state;
	o = run_node_json(root, "netboot --dry-run --tftp-prefix mac");
	assert_string_equal(jstr(o, "route"), "eeprom");
	assert_string_equal(jstr(o, "action"), "stage");
	assert_true(json_is_true(json_object_get(o, "dry_run")));
	assert_true(json_is_false(json_object_get(o, "applied")));
	assert_true(json_is_true(json_object_get(o, "changed")));
	assert_non_null(strstr(jstr(o, "diff"), "+BOOT_ORDER=0xf412"));
	assert_non_null(strstr(jstr(o, "config"), "TFTP_PREFIX=2\n"));
	assert_string_equal(jstr(o, "bootfs"), "/boot/firmware");
	assert_string_equal(jstr(o, "recovery"),
			    "/usr/lib/firmware/raspberrypi/bootloader-2711/default/recovery.bin");
	json_decref(o);
	o = run_node_json(root, "netboot --yes");
	assert_string_equal(jstr(o, "action"), "stage");
	assert_true(json_is_true(json_object_get(o, "applied")));
	assert_non_null(strstr(jstr(o, "backup"), "/var/lib/raspberrypi/bootloader/backup/"));
	json_decref(o);
	o = run_node_json(pi3, "netboot --dry-run");
	assert_string_equal(jstr(o, "route"), "otp");
	assert_string_equal(jstr(o, "action"), "otp");
	assert_string_equal(jstr(o, "config_txt"), "/boot/config.txt");
	assert_true(json_is_false(json_object_get(o, "applied")));
	json_decref(o);
	o = run_node_json(pi3p, "netboot");
	assert_string_equal(jstr(o, "route"), "rom");
	assert_string_equal(jstr(o, "action"), "none");
	json_decref(o);
	pv_test_rmtree(tmp3p);
	free(tmp3p);
	free(pi3p);
	pv_test_rmtree(tmp3);
	free(tmp3);
	free(pi3);
	pv_test_rmtree(tmp);
	free(tmp);
	free(root);
}

/* ---- config editing ----
 * The bootconf.txt model and the BOOT_ORDER rules are the EEPROM library's; their cases
 * (including the ones this helper used to answer differently) are in
 * tests/unit/eeprom/test_eeprom_conf.c. Here: what a netboot request does with them. */

static void test_fallback_keeps_user_order(void **state)
{
	char *tmp, *root = board_with_releases("pi4b", PV_SOC_BCM2711, &tmp);
	char *nvmem = path_join(root, "sys/devices/platform/rmem/nvmem/rmem0/nvmem");
	static const char running[] = "[all]\nBOOT_ORDER=0xf12\nBOOT_UART=0";
	struct pv_buf log = PV_BUF_INIT(1 << 20);

	(void)state;
	/* Network already first: --fallback leaves the order alone (it used to demote
	 * network to 0xf21); new keys after an unterminated last line get whole lines. */
	pv_test_write_file(nvmem, running, sizeof(running) - 1);
	assert_int_equal(run_node(root, "netboot --dry-run --fallback", &log), 0);
	assert_non_null(strstr(pv_buf_str(&log), "nothing to do"));
	pv_buf_reset(&log);
	assert_int_equal(run_node(root, "netboot --dry-run --fallback TFTP_PREFIX=2", &log), 0);
	assert_non_null(strstr(pv_buf_str(&log), "\n-BOOT_UART=0\n\\ No newline at end of file\n"
						 "+BOOT_UART=0\n+TFTP_PREFIX=2\n"));
	/* A full order is refused with the board named; an NVMe fallback is not for a Pi 4. */
	pv_buf_reset(&log);
	pv_test_write_file(nvmem, "BOOT_ORDER=0xf7654314\n", 22);
	assert_int_equal(run_node(root, "netboot --dry-run", &log), 1);
	assert_non_null(strstr(pv_buf_str(&log), "already holds 8 modes: no room for 0x2 "
						 "(network) on Raspberry Pi 4 Model B"));
	pv_buf_reset(&log);
	pv_test_write_file(nvmem, "BOOT_ORDER=0xf61\n", 17);
	assert_int_equal(run_node(root, "netboot --dry-run", &log), 1);
	assert_non_null(strstr(pv_buf_str(&log), "mode 0x6 (nvme) is not available on Raspberry "
						 "Pi 4 Model B"));
	free(nvmem);
	pv_buf_release(&log);
	pv_test_rmtree(tmp);
	free(tmp);
	free(root);
}

static void test_update_defaults(void **state)
{
	static const char text[] = "# comment\nFIRMWARE_RELEASE_STATUS=\"latest\"\n"
				   "export BOOTFS='/boot/fw'  # here\nRPI_EEPROM_USE_FLASHROM=1\n"
				   "if [ -x foo ]; then\n  true\nfi\nCM4_ENABLE_RPI_EEPROM_UPDATE=1\n";
	struct pv_node_update_defaults d;

	(void)state;
	assert_int_equal(pv_node_update_defaults_parse(text, strlen(text), "defaults", &d), 0);
	assert_string_equal(d.release_status, "latest");
	assert_string_equal(d.bootfs, "/boot/fw");
	assert_string_equal(d.firmware_root, "/usr/lib/firmware/raspberrypi/bootloader");
	assert_int_equal(d.immediate_update, 1);
	assert_true(d.cm4_enable_update);
	assert_int_equal(pv_node_update_defaults_parse("FIRMWARE_RELEASE_STATUS=../x\n", 29, "d", &d),
			 PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "line 1"));
}

/* ---- flashrom ---- */

static bool have_flashrom(void)
{
	/* Under qemu-user (cross builds) the host's flashrom is not the target's: these
	 * cases run in the native build only. */
	if (NODE_EMULATOR[0]) {
		fprintf(stderr, "SKIP: flashrom cases run in native builds only\n");
		return false;
	}
	return pv_test_run("flashrom --version", NULL, 1) == 0;
}

static void test_flashrom_retry_lower_speed(void **state)
{
	char *tmp = pv_test_mkdtemp(), *programmer = NULL, *img = path_join(tmp, "pieeprom.upd");
	char *good = path_join(tmp, "spi-8000"), *flash = path_join(good, "flash.bin");
	struct pv_buf image = PV_BUF_INIT(SIZE_MAX), transcript = PV_BUF_INIT(4 << 20),
		      flashed = PV_BUF_INIT(SIZE_MAX);
	struct pv_node_flashrom fr = { 0 };

	(void)state;
	if (!have_flashrom()) {
		fprintf(stderr, "SKIP: flashrom is not installed (scripts/deps/test-node.txt)\n");
		skip();
	}
	assert_int_equal(pv_eeprom_synthesize(PV_SOC_BCM2711, NULL, &image), 0);
	pv_test_write_file(img, image.data, image.len);
	/* The emulated chip keeps its contents in image=FILE between runs. At 16 MHz that
	 * folder is missing, so the write is lost when flashrom exits and the separate
	 * verify run finds an erased chip; at 8 MHz it sticks. */
	mkdirs(good);
	assert_true(asprintf(&programmer, "dummy:emulate=VARIABLE_SIZE,size=524288,"
			     "image=%s/spi-{speed}/flash.bin", tmp) > 0);
	fr.programmer = programmer;
	fr.transcript = &transcript;
	assert_int_equal(pv_node_flashrom_update(&fr, img, image.len), 0);
	assert_non_null(strstr(pv_buf_str(&transcript), "attempt 1 of 5 at 16000 kHz"));
	assert_non_null(strstr(pv_buf_str(&transcript), "attempt 2 of 5 at 8000 kHz"));
	assert_null(strstr(pv_buf_str(&transcript), "attempt 3"));
	assert_non_null(strstr(pv_buf_str(&transcript), "spi-8000/flash.bin -v"));
	pv_test_read_file(flash, &flashed);
	assert_int_equal(flashed.len, image.len);
	assert_memory_equal(flashed.data, image.data, image.len);
	free(programmer);
	free(img);
	free(good);
	free(flash);
	pv_buf_release(&image);
	pv_buf_release(&transcript);
	pv_buf_release(&flashed);
	pv_test_rmtree(tmp);
	free(tmp);
}

static void test_flashrom_failures(void **state)
{
	static const unsigned speeds[] = { 16000, 8000 };
	char *tmp = pv_test_mkdtemp(), *programmer = NULL, *img = path_join(tmp, "pieeprom.upd");
	struct pv_buf image = PV_BUF_INIT(SIZE_MAX), transcript = PV_BUF_INIT(4 << 20);
	struct pv_node_flashrom fr = { 0 };

	(void)state;
	if (!have_flashrom()) {
		fprintf(stderr, "SKIP: flashrom is not installed (scripts/deps/test-node.txt)\n");
		skip();
	}
	assert_int_equal(pv_eeprom_synthesize(PV_SOC_BCM2711, NULL, &image), 0);
	pv_test_write_file(img, image.data, image.len);
	/* A 1 MiB chip for a 512 KiB image: refused at the probe, nothing written. */
	assert_true(asprintf(&programmer, "dummy:emulate=VARIABLE_SIZE,size=1048576,image=%s/x.bin",
			     tmp) > 0);
	fr.programmer = programmer;
	fr.transcript = &transcript;
	assert_int_equal(pv_node_flashrom_update(&fr, img, image.len), PV_ERR_UNSUPPORTED);
	assert_non_null(strstr(pv_last_error(), "1048576 bytes"));
	assert_null(strstr(pv_buf_str(&transcript), " -w "));
	free(programmer);
	/* Every write lost: each attempt is verified and fails. */
	assert_true(asprintf(&programmer, "dummy:emulate=VARIABLE_SIZE,size=524288,"
			     "image=%s/missing/x.bin", tmp) > 0);
	fr.programmer = programmer;
	fr.speeds_khz = speeds;
	fr.attempts = 2;
	pv_buf_reset(&transcript);
	assert_int_equal(pv_node_flashrom_update(&fr, img, image.len), PV_ERR_VERIFY);
	assert_non_null(strstr(pv_last_error(), "failed 2 times"));
	assert_non_null(strstr(pv_buf_str(&transcript), "attempt 2 of 2 at 8000 kHz"));
	/* No flashrom at all. */
	fr.flashrom = "/nonexistent/flashrom";
	assert_int_equal(pv_node_flashrom_update(&fr, img, image.len), PV_ERR_NOT_FOUND);
	free(programmer);
	free(img);
	pv_buf_release(&image);
	pv_buf_release(&transcript);
	pv_test_rmtree(tmp);
	free(tmp);
}

/* Pi 5: the immediate path is the default; the CLI writes the emulated 2 MiB flash. */
static void test_pi5_immediate(void **state)
{
	char *tmp, *root = board_with_releases("pi5", PV_SOC_BCM2712, &tmp);
	char *flash = path_join(tmp, "flash.bin"), *args = NULL, *staged;
	struct pv_buf log = PV_BUF_INIT(1 << 20), flashed = PV_BUF_INIT(SIZE_MAX);
	struct pv_eeprom_image img = { 0 };
	const unsigned char *conf;
	size_t len;

	(void)state;
	if (!have_flashrom()) {
		fprintf(stderr, "SKIP: flashrom is not installed (scripts/deps/test-node.txt)\n");
		skip();
	}
	assert_true(asprintf(&args, "netboot --yes --programmer "
			     "'dummy:emulate=VARIABLE_SIZE,size=2097152,image=%s'", flash) > 0);
	assert_int_equal(run_node(root, args, &log), 0);
	assert_non_null(strstr(pv_buf_str(&log), "written and verified"));
	pv_test_read_file(flash, &flashed);
	assert_int_equal(pv_eeprom_parse(&img, flashed.data, flashed.len, "flash"), 0);
	assert_int_equal(pv_eeprom_get_file(&img, PV_EEPROM_BOOTCONF_TXT, &conf, &len), 0);
	{
		char *text = strndup((const char *)conf, len);
		assert_non_null(strstr(text, "BOOT_ORDER=0xf4612\n"));
		free(text);
	}
	/* Nothing staged: the flash was written directly. */
	staged = path_join(root, "boot/firmware/pieeprom.upd");
	assert_false(pv_path_exists(staged));
	free(staged);
	pv_eeprom_release(&img);
	free(args);
	free(flash);
	pv_buf_release(&log);
	pv_buf_release(&flashed);
	pv_test_rmtree(tmp);
	free(tmp);
	free(root);
}

static void test_report_inventory(void **state)
{
	char *tmp = pv_test_mkdtemp(), *inv = path_join(tmp, "inventory.cfg"), *args = NULL;
	char *root4 = NULL, *root5 = NULL;
	struct pv_buf log = PV_BUF_INIT(1 << 20);
	struct pv_inventory inventory;
	struct pv_inventory_record *rec;
	uint8_t mac[6];

	(void)state;
	assert_true(asprintf(&root4, "%s/pi4b", NODE_SYSROOTS) > 0);
	assert_true(asprintf(&root5, "%s/cm5", NODE_SYSROOTS) > 0);
	assert_true(asprintf(&args, "report --inventory '%s'", inv) > 0);
	assert_int_equal(run_node(root4, args, &log), 0);
	assert_non_null(strstr(pv_buf_str(&log), "10000000f8b73778 added"));
	assert_int_equal(run_node(root4, args, &log), 0); /* same board again: one record */
	assert_int_equal(run_node(root5, args, &log), 0);
	pv_inventory_init(&inventory);
	assert_int_equal(pv_inventory_load(inv, &inventory), 0);
	assert_int_equal(inventory.count, 2);
	rec = pv_inventory_find_serial(&inventory, 0x10000000f8b73778ull, 16);
	assert_non_null(rec);
	assert_int_equal(pv_mac_parse("dc:a6:32:b8:04:5c", mac), 0);
	assert_memory_equal(rec->mac, mac, 6);
	assert_int_equal(rec->revision, 0xc03115);
	assert_int_equal(rec->boot_order, 0xf41);
	assert_int_equal(rec->tftp_prefix, PV_TFTP_PREFIX_SERIAL);
	assert_int_equal(rec->bootloader_build_ts, 1746717695);
	assert_int_equal(rec->seen[PV_FACT_MAC].source, PV_INVENTORY_SOURCE_NODE);
	rec = pv_inventory_find_serial(&inventory, 0xa7eb274c5e0d1f22ull, 16);
	assert_non_null(rec);
	assert_string_equal(rec->uuid, "002000417008133311");
	assert_int_equal(rec->tftp_prefix, PV_TFTP_PREFIX_STRING);
	assert_string_equal(rec->tftp_prefix_str, "cluster-a");
	pv_inventory_release(&inventory);
	free(args);
	free(inv);
	free(root4);
	free(root5);
	pv_buf_release(&log);
	pv_test_rmtree(tmp);
	free(tmp);
}

/* The SD-card mode over two boots of a Pi 4: stage and reboot, then (config applied)
 * record the board on the card and power off. */
static void test_provision_two_boots(void **state)
{
	char *tmp, *root = board_with_releases("pi4b", PV_SOC_BCM2711, &tmp);
	char *conf = path_join(root, "boot/firmware/piprov-provision.conf");
	char *upd = path_join(root, "boot/firmware/pieeprom.upd");
	char *nvmem = path_join(root, "sys/devices/platform/rmem/nvmem/rmem0/nvmem");
	char *inv = path_join(root, "boot/firmware/piprov-inventory.cfg");
	static const char settings[] = "# provisioning card\norder=first\ntftp_prefix=mac\n"
				       "set=NET_BOOT_MAX_RETRIES=5\n";
	struct pv_buf log = PV_BUF_INIT(1 << 20);
	struct pv_eeprom_image img = { 0 };
	struct pv_inventory inventory;
	const unsigned char *text;
	size_t len;

	(void)state;
	pv_test_write_file(conf, settings, sizeof(settings) - 1);
	assert_int_equal(run_node(root, "provision --no-poweroff", &log), 0);
	assert_non_null(strstr(pv_buf_str(&log), "would run: systemctl reboot"));
	assert_false(pv_path_exists(inv));
	/* What recovery.bin does at the next boot: the staged config becomes the running one. */
	assert_int_equal(pv_eeprom_load(&img, upd), 0);
	assert_int_equal(pv_eeprom_get_file(&img, PV_EEPROM_BOOTCONF_TXT, &text, &len), 0);
	assert_non_null(memmem(text, len, "TFTP_PREFIX=2\nNET_BOOT_MAX_RETRIES=5\n", 36));
	pv_test_write_file(nvmem, text, len);
	pv_eeprom_release(&img);
	pv_buf_reset(&log);
	assert_int_equal(run_node(root, "provision --no-poweroff", &log), 0);
	assert_non_null(strstr(pv_buf_str(&log), "would run: systemctl poweroff"));
	assert_non_null(strstr(pv_buf_str(&log), "provisioned for network boot"));
	pv_inventory_init(&inventory);
	assert_int_equal(pv_inventory_load(inv, &inventory), 0);
	assert_int_equal(inventory.count, 1);
	assert_int_equal(inventory.records[0].boot_order, 0xf412);
	assert_int_equal(inventory.records[0].tftp_prefix, PV_TFTP_PREFIX_MAC);
	pv_inventory_release(&inventory);
	/* A bad settings file is named, with its line. */
	pv_test_write_file(conf, "order=sideways\n", 15);
	pv_buf_reset(&log);
	assert_int_equal(run_node(root, "provision --no-poweroff", &log), 1);
	assert_non_null(strstr(pv_buf_str(&log), "piprov-provision.conf': line 1"));
	free(conf);
	free(upd);
	free(nvmem);
	free(inv);
	pv_buf_release(&log);
	pv_test_rmtree(tmp);
	free(tmp);
	free(root);
}

/* ---- piprov eeprom-config --apply / --edit (the drop-in, on the node library) ---- */

static int run_eeprom_config(const char *root, const char *env, const char *args,
			     struct pv_buf *out)
{
	char *prog = pv_test_program("piprov"), *cmd = NULL;
	int rc;

	assert_true(asprintf(&cmd, "%s %s '%s' eeprom-config --root '%s' %s </dev/null 2>&1",
			     env ? env : "", NODE_EMULATOR, prog, root, args) > 0);
	rc = pv_test_run(cmd, out, 1);
	free(cmd);
	free(prog);
	return rc;
}

/* Staged image, .sig and recovery.bin: returns the staged bootconf.txt. */
static char *staged_config(const char *root, uint32_t ts)
{
	char *upd = path_join(root, "boot/firmware/pieeprom.upd");
	char *sig = path_join(root, "boot/firmware/pieeprom.sig");
	char *rec = path_join(root, "boot/firmware/recovery.bin");
	char *conf = check_image(upd, sig, "2711", ts);
	struct pv_buf b = PV_BUF_INIT(SIZE_MAX);

	pv_test_read_file(rec, &b);
	assert_memory_equal(b.data, recovery_bytes, sizeof(recovery_bytes));
	pv_buf_release(&b);
	free(upd);
	free(sig);
	free(rec);
	return conf;
}

static void test_eeprom_config_apply(void **state)
{
	char *tmp, *root = board_with_releases("pi4b", PV_SOC_BCM2711, &tmp);
	char *file = path_join(tmp, "boot.conf"), *args = NULL, *conf, *older = NULL;
	char *upd = path_join(root, "boot/firmware/pieeprom.upd");
	/* Taken byte for byte: a comment, CRLF, no final newline. */
	static const char text[] = "[all]\r\n# mine\r\nBOOT_ORDER=0xf21\r\nBOOT_UART=1";
	struct pv_buf log = PV_BUF_INIT(1 << 20);

	(void)state;
	pv_test_write_file(file, text, sizeof(text) - 1);
	assert_true(asprintf(&args, "--apply '%s'", file) > 0);
	assert_int_equal(run_eeprom_config(root, NULL, args, &log), 0);
	assert_non_null(strstr(pv_buf_str(&log), "Updating bootloader EEPROM\n image: /usr/lib/"
						 "firmware/raspberrypi/bootloader-2711/default/"
						 "pieeprom-2025-05-08.bin\nconfig_src: \nconfig: "));
	assert_non_null(strstr(pv_buf_str(&log), "reboot to apply"));
	conf = staged_config(root, NEWEST_TS);
	assert_string_equal(conf, text);
	free(conf);
	free(args);
	/* An explicit image (positional EEPROM) instead of the newest release. */
	assert_true(asprintf(&older, "%s/usr/lib/firmware/raspberrypi/bootloader-2711/default/"
			     "pieeprom-2023-01-05.bin", root) > 0);
	assert_true(asprintf(&args, "--apply '%s' '%s'", file, older) > 0);
	pv_buf_reset(&log);
	assert_int_equal(run_eeprom_config(root, NULL, args, &log), 0);
	conf = staged_config(root, OLDER_TS);
	assert_string_equal(conf, text);
	free(conf);
	free(args);
	/* A config that is wrong for the board is refused and nothing is staged. */
	unlink(upd);
	pv_test_write_file(file, "BOOT_ORDER=0xf61\n", 17);
	assert_true(asprintf(&args, "--apply '%s'", file) > 0);
	pv_buf_reset(&log);
	assert_int_equal(run_eeprom_config(root, NULL, args, &log), 1);
	assert_non_null(strstr(pv_buf_str(&log), "mode 0x6 (nvme) is not available on Raspberry "
						 "Pi 4 Model B"));
	assert_false(pv_path_exists(upd));
	free(args);
	/* Not a board with an EEPROM. */
	free(root);
	root = NULL;
	assert_true(asprintf(&root, "%s/pi3bplus", NODE_SYSROOTS) > 0);
	assert_true(asprintf(&args, "--apply '%s'", file) > 0);
	pv_buf_reset(&log);
	assert_int_equal(run_eeprom_config(root, NULL, args, &log), 1);
	assert_non_null(strstr(pv_buf_str(&log), "must run on a Raspberry Pi 4 or Raspberry Pi 5"));
	free(args);
	free(older);
	free(upd);
	free(file);
	pv_buf_release(&log);
	pv_test_rmtree(tmp);
	free(tmp);
	free(root);
}

static void test_eeprom_config_edit(void **state)
{
	char *tmp, *root = board_with_releases("pi4b", PV_SOC_BCM2711, &tmp);
	char *editor = path_join(tmp, "editor.sh"), *seen = path_join(tmp, "seen.conf");
	char *env = NULL, *conf;
	struct pv_buf log = PV_BUF_INIT(1 << 20), b = PV_BUF_INIT(SIZE_MAX);
	static const char script[] =
		"#!/bin/sh\n"
		"# Records what it was given, then edits as $EDIT_MODE says.\n"
		"cp \"$1\" \"$SEEN\"\n"
		"case \"$EDIT_MODE\" in\n"
		"order) sed -i 's/^BOOT_ORDER=.*/BOOT_ORDER=0xf21/' \"$1\" ;;\n"
		"append) printf 'TFTP_PREFIX=2\\n' >> \"$1\" ;;\n"
		"fail) exit 3 ;;\n"
		"empty) : > \"$1\" ;;\n"
		"esac\n";

	(void)state;
	pv_test_write_file(editor, script, sizeof(script) - 1);
	assert_int_equal(chmod(editor, 0755), 0);
	/* First edit: the running config (the blconfig nvmem device). */
	assert_true(asprintf(&env, "EDITOR='%s' SEEN='%s' EDIT_MODE=order", editor, seen) > 0);
	assert_int_equal(run_eeprom_config(root, env, "--edit", &log), 0);
	assert_non_null(strstr(pv_buf_str(&log), "config_src: blconfig device\n"));
	pv_test_read_file(seen, &b);
	assert_string_equal(pv_buf_str(&b), "[all]\nBOOT_UART=0\nWAKE_ON_GPIO=1\n"
					    "POWER_OFF_ON_HALT=0\nBOOT_ORDER=0xf41\n");
	conf = staged_config(root, NEWEST_TS);
	assert_string_equal(conf, "[all]\nBOOT_UART=0\nWAKE_ON_GPIO=1\nPOWER_OFF_ON_HALT=0\n"
				  "BOOT_ORDER=0xf21\n");
	free(conf);
	free(env);
	/* Second edit: the staged update's config, edited further. */
	assert_true(asprintf(&env, "EDITOR='%s' SEEN='%s' EDIT_MODE=append", editor, seen) > 0);
	pv_buf_reset(&log);
	assert_int_equal(run_eeprom_config(root, env, "--edit", &log), 0);
	assert_non_null(strstr(pv_buf_str(&log), "config_src: /boot/firmware/pieeprom.upd\n"));
	conf = staged_config(root, NEWEST_TS);
	assert_string_equal(conf, "[all]\nBOOT_UART=0\nWAKE_ON_GPIO=1\nPOWER_OFF_ON_HALT=0\n"
				  "BOOT_ORDER=0xf21\nTFTP_PREFIX=2\n");
	free(conf);
	free(env);
	/* The editor failing, or leaving an empty file, aborts; the staged update stays. */
	assert_true(asprintf(&env, "EDITOR='%s' SEEN='%s' EDIT_MODE=fail", editor, seen) > 0);
	pv_buf_reset(&log);
	assert_int_equal(run_eeprom_config(root, env, "--edit", &log), 1);
	assert_non_null(strstr(pv_buf_str(&log), "exited with code 3"));
	free(env);
	assert_true(asprintf(&env, "EDITOR='%s' SEEN='%s' EDIT_MODE=empty", editor, seen) > 0);
	pv_buf_reset(&log);
	assert_int_equal(run_eeprom_config(root, env, "--edit", &log), 1);
	assert_non_null(strstr(pv_buf_str(&log), "appears to be empty"));
	conf = staged_config(root, NEWEST_TS);
	assert_non_null(strstr(conf, "TFTP_PREFIX=2\n"));
	free(conf);
	free(env);
	free(editor);
	free(seen);
	pv_buf_release(&log);
	pv_buf_release(&b);
	pv_test_rmtree(tmp);
	free(tmp);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fallback_keeps_user_order),
		cmocka_unit_test(test_update_defaults),
		cmocka_unit_test(test_dry_run_output),
		cmocka_unit_test(test_stage_into_boot),
		cmocka_unit_test(test_full_disk_stages_nothing),
		cmocka_unit_test(test_unusable_boot_partition),
		cmocka_unit_test(test_board_rules),
		cmocka_unit_test(test_pi3b_program_usb_boot_mode),
		cmocka_unit_test(test_pi3bplus_is_not_offered_otp),
		cmocka_unit_test(test_image_with_its_recovery),
		cmocka_unit_test(test_dry_run_tells_the_truth),
		cmocka_unit_test(test_netboot_json),
		cmocka_unit_test(test_flashrom_retry_lower_speed),
		cmocka_unit_test(test_flashrom_failures),
		cmocka_unit_test(test_pi5_immediate),
		cmocka_unit_test(test_report_inventory),
		cmocka_unit_test(test_provision_two_boots),
		cmocka_unit_test(test_eeprom_config_apply),
		cmocka_unit_test(test_eeprom_config_edit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
