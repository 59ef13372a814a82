/* The command line: piprov eeprom-config as a drop-in (bytes, exit codes, nothing written
 * on failure) and the piprov eeprom subcommands, on synthetic images built here (plus two
 * real-release cases when ../shared/fixtures is present). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "piprov/eeprom.h"
#include "piprov/fileio.h"
#include "piprov/text.h"
#include "test_support.h"

struct env {
	char *dir;
	char *piprov;
	char *image;   /* synthetic 2711 */
};

static char *path_in(const struct env *e, const char *name)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s/%s", e->dir, name) > 0);
	return p;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct pv_buf img = PV_BUF_INIT(SIZE_MAX);

	e->dir = pv_test_mkdtemp();
	e->piprov = pv_test_program("piprov");
	e->image = path_in(e, "synth.bin");
	assert_int_equal(pv_eeprom_synthesize(PV_SOC_BCM2711, NULL, &img), 0);
	pv_test_write_file(e->image, img.data, img.len);
	pv_buf_release(&img);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	pv_test_rmtree(e->dir);
	free(e->dir);
	free(e->piprov);
	free(e->image);
	free(e);
	return 0;
}

static int run(const struct env *e, struct pv_buf *out, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int run(const struct env *e, struct pv_buf *out, const char *fmt, ...)
{
	char *args = NULL, *cmd = NULL;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	assert_true(vasprintf(&args, fmt, ap) > 0);
	va_end(ap);
	assert_true(asprintf(&cmd, "cd '%s' && '%s' %s", e->dir, e->piprov, args) > 0);
	pv_buf_reset(out);
	rc = pv_test_run(cmd, out, 1);
	free(args);
	free(cmd);
	return rc;
}

static void read_file(const char *path, struct pv_buf *buf)
{
	pv_buf_reset(buf);
	pv_test_read_file(path, buf);
}

static void test_drop_in_read_and_write(void **state)
{
	struct env *e = *state;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX), file = PV_BUF_INIT(SIZE_MAX);
	struct pv_eeprom_image img = { 0 };
	static const char conf[] = "[all]\nBOOT_ORDER=0xf21\nTFTP_PREFIX=2\n";
	char *conf_path = path_in(e, "net.conf"), *out_path = path_in(e, "out.bin");
	struct pv_eeprom_blob blob = { conf, sizeof(conf) - 1, NULL };
	struct pv_eeprom_edits edits = { .config = &blob, .set_timestamp = true,
					 .timestamp = 1700000000 };

	/* Read: the exact stored bytes on stdout. */
	assert_int_equal(pv_eeprom_load(&img, e->image), 0);
	assert_int_equal(run(e, &out, "eeprom-config synth.bin"), 0);
	{
		const unsigned char *data;
		size_t len;
		assert_int_equal(pv_eeprom_get_file(&img, "bootconf.txt", &data, &len), 0);
		assert_int_equal(out.len, len);
		assert_memory_equal(out.data, data, len);
	}
	/* Write: the same bytes as the library. */
	pv_test_write_file(conf_path, conf, sizeof(conf) - 1);
	assert_int_equal(run(e, &out, "eeprom-config --config net.conf -t 1700000000 "
				      "--out out.bin synth.bin"), 0);
	assert_int_equal(pv_eeprom_apply_edits(&img, &edits), 0);
	read_file(out_path, &file);
	assert_int_equal(file.len, img.size);
	assert_memory_equal(file.data, img.data, img.size);
	/* -o short option, image to stdout when no --out. */
	assert_int_equal(run(e, &out, "eeprom-config -c net.conf -t 1700000000 synth.bin"), 0);
	assert_int_equal(out.len, img.size);
	assert_memory_equal(out.data, img.data, img.size);

	/* -x writes the files into the current directory. */
	assert_int_equal(run(e, &out, "eeprom-config -x out.bin"), 0);
	free(conf_path);
	conf_path = path_in(e, "bootconf.txt");
	read_file(conf_path, &file);
	assert_int_equal(file.len, sizeof(conf) - 1);
	assert_memory_equal(file.data, conf, file.len);
	free(conf_path);
	conf_path = path_in(e, "bootcode.bin");
	assert_true(pv_path_exists(conf_path));
	free(conf_path);
	free(out_path);
	pv_eeprom_release(&img);
	pv_buf_release(&out);
	pv_buf_release(&file);
}

static void test_drop_in_failures_write_nothing(void **state)
{
	struct env *e = *state;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX), file = PV_BUF_INIT(SIZE_MAX);
	char *big_path = path_in(e, "big.conf"), *keep = path_in(e, "keep.bin");
	char *small = path_in(e, "small.bin"), *big = malloc(4077);

	memset(big, '#', 4077);
	pv_test_write_file(big_path, big, 4077);
	/* An existing output survives a failed run (the official tool truncates it first). */
	pv_test_write_file(keep, "previous", 8);

	assert_int_equal(run(e, &out, "eeprom-config --config big.conf --out keep.bin synth.bin"),
			 1);
	assert_non_null(strstr(pv_buf_str(&out), "big.conf"));
	assert_non_null(strstr(pv_buf_str(&out), "4076"));
	read_file(keep, &file);
	assert_string_equal(pv_buf_str(&file), "previous");

	assert_int_equal(run(e, &out, "eeprom-config --config missing.conf --out new.bin "
				      "synth.bin"), 1);
	assert_non_null(strstr(pv_buf_str(&out), "config file 'missing.conf' not found"));
	{
		char *p = path_in(e, "new.bin");
		assert_false(pv_path_exists(p));
		free(p);
	}

	/* Wrong size: named, with the sizes expected. */
	pv_test_write_file(small, "<html>not an image</html>", 25);
	assert_int_equal(run(e, &out, "eeprom-config small.bin"), 1);
	assert_non_null(strstr(pv_buf_str(&out), "'small.bin'"));
	assert_non_null(strstr(pv_buf_str(&out), "524288"));
	assert_non_null(strstr(pv_buf_str(&out), "got 25 bytes"));

	/* Unreadable input, unwritable output. */
	assert_int_equal(run(e, &out, "eeprom-config nowhere.bin"), 1);
	assert_non_null(strstr(pv_buf_str(&out), "nowhere.bin"));
	assert_int_equal(run(e, &out, "eeprom-config -t 1 --out no/such/dir.bin synth.bin"), 1);
	assert_non_null(strstr(pv_buf_str(&out), "no/such/dir.bin"));

	/* --cacertder on an image without cacert.der would be "not found"; bad timestamp. */
	assert_int_equal(run(e, &out, "eeprom-config -t soon --out x.bin synth.bin"), 1);
	assert_non_null(strstr(pv_buf_str(&out), "--timestamp"));
	free(big);
	free(big_path);
	free(keep);
	free(small);
	pv_buf_release(&out);
	pv_buf_release(&file);
}

static void test_eeprom_commands(void **state)
{
	struct env *e = *state;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX), file = PV_BUF_INIT(SIZE_MAX);
	char *set_out = path_in(e, "set.bin"), *bad_conf = path_in(e, "bad.conf");

	assert_int_equal(run(e, &out, "eeprom info synth.bin"), 0);
	assert_non_null(strstr(pv_buf_str(&out), "BCM2711"));
	assert_non_null(strstr(pv_buf_str(&out), "of 4076"));
	assert_int_equal(run(e, &out, "eeprom info --json synth.bin"), 0);
	assert_non_null(strstr(pv_buf_str(&out), "\"bootconf_capacity\": 4076"));

	/* set prints a diff and writes the image; the new config reads back. */
	assert_int_equal(run(e, &out, "eeprom set synth.bin -o set.bin --preset network "
				      "TFTP_PREFIX=2 --first network"), 0);
	assert_non_null(strstr(pv_buf_str(&out), "-BOOT_ORDER=0xf41\n+BOOT_ORDER=0xf12\n"));
	assert_non_null(strstr(pv_buf_str(&out), "+TFTP_PREFIX=2\n"));
	assert_int_equal(run(e, &out, "eeprom config set.bin"), 0);
	assert_non_null(strstr(pv_buf_str(&out), "BOOT_ORDER=0xf12\n"));
	assert_int_equal(run(e, &out, "eeprom diff synth.bin set.bin"), 1);
	assert_int_equal(run(e, &out, "eeprom diff set.bin set.bin"), 0);

	/* A bad value is refused with its line number, and nothing is written. */
	assert_int_equal(run(e, &out, "eeprom set synth.bin -o refused.bin BOOT_UART=yes"), 1);
	assert_non_null(strstr(pv_buf_str(&out), "bootconf.txt:2: error: BOOT_UART must be 0 or 1"));
	{
		char *p = path_in(e, "refused.bin");
		assert_false(pv_path_exists(p));
		free(p);
	}

	/* --board: NVMe is fine on a CM4, not on a Pi 4 B; a Pi 5 does not take a 2711 image. */
	assert_int_equal(run(e, &out, "eeprom set synth.bin -o cm4.bin --board cm4 --first nvme"), 0);
	assert_int_equal(run(e, &out, "eeprom set synth.bin -o pi4.bin --board pi4 --first nvme"), 1);
	assert_non_null(strstr(pv_buf_str(&out), "not available on Raspberry Pi 4 Model B"));
	assert_non_null(strstr(pv_buf_str(&out), "BOOT_ORDER"));
	/* --fallback on a board: the mode joins the order the board tries (before the 0xf
	 * RESTART), and a mode already tried is left where it is. */
	assert_int_equal(run(e, &out, "eeprom set synth.bin -o cm4fb.bin --board cm4 "
				      "BOOT_ORDER=0xf21 --fallback nvme"), 0);
	assert_int_equal(run(e, &out, "eeprom config cm4fb.bin"), 0);
	assert_non_null(strstr(pv_buf_str(&out), "BOOT_ORDER=0xf621"));
	assert_int_equal(run(e, &out, "eeprom set synth.bin -o pi5.bin --board pi5 BOOT_UART=1"), 1);
	assert_non_null(strstr(pv_buf_str(&out), "BCM2711 image"));

	/* check: exit 1 on errors, board-specific BOOT_ORDER modes. */
	pv_test_write_file(bad_conf, "[all]\nBOOT_ORDER=0xf6\n", 22);
	assert_int_equal(run(e, &out, "eeprom check bad.conf --board pi4"), 1);
	assert_non_null(strstr(pv_buf_str(&out), "bad.conf:2: error:"));
	assert_int_equal(run(e, &out, "eeprom check bad.conf --board cm4"), 0);
	assert_int_equal(run(e, &out, "eeprom check bad.conf --image synth.bin"), 0);

	/* Any file can be digested; --soc=CHIP names the SoC; a non-image with bare --soc
	 * is an error. */
	assert_int_equal(run(e, &out, "eeprom digest bad.conf -o conf.sig --soc=2712 "
				      "--timestamp 7"), 0);
	assert_int_equal(run(e, &out, "eeprom verify bad.conf conf.sig"), 0);
	assert_int_equal(run(e, &out, "eeprom digest bad.conf -o conf2.sig --soc"), 1);

	/* digest + verify, with SOURCE_DATE_EPOCH. */
	assert_int_equal(run(e, &out, "eeprom digest set.bin -o set.sig --soc"), 0);
	assert_int_equal(run(e, &out, "eeprom verify set.bin set.sig"), 0);
	assert_int_equal(run(e, &out, "eeprom verify synth.bin set.sig"), 1);
	assert_non_null(strstr(pv_buf_str(&out), "sha256 mismatch"));
	{
		char *sig = path_in(e, "set.sig"), *cmd = NULL;
		assert_true(asprintf(&cmd, "cd '%s' && SOURCE_DATE_EPOCH=42 '%s' eeprom digest "
				     "set.bin -o epoch.sig", e->dir, e->piprov) > 0);
		assert_int_equal(pv_test_run(cmd, &out, 1), 0);
		free(sig);
		sig = path_in(e, "epoch.sig");
		read_file(sig, &file);
		assert_non_null(strstr(pv_buf_str(&file), "\nts: 42\n"));
		free(sig);
		free(cmd);
	}
	free(set_out);
	free(bad_conf);
	pv_buf_release(&out);
	pv_buf_release(&file);
}

/* Issue 15 item 8: a NUL byte in a config is an error for `eeprom check` (line and column)
 * and is refused by `eeprom apply` (even with --force) and `eeprom-config -c`, which write
 * nothing; the official tool embeds it. */
static void test_config_with_nul_is_refused(void **state)
{
	static const char conf[] = "[all]\nBOOT\0ORDER=0xf41\n";
	struct env *e = *state;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX);
	char *nul_conf = path_in(e, "nul.conf"), *p;

	pv_test_write_file(nul_conf, conf, sizeof(conf) - 1);
	assert_int_equal(run(e, &out, "eeprom check nul.conf"), 1);
	assert_non_null(strstr(pv_buf_str(&out), "nul.conf:2: error: a NUL byte at column 5"));
	assert_int_equal(run(e, &out, "eeprom-config -c nul.conf -o nul1.bin synth.bin"), 1);
	assert_non_null(strstr(pv_buf_str(&out), "'nul.conf': line 2 holds a NUL byte"));
	assert_int_equal(run(e, &out, "eeprom apply synth.bin nul.conf -o nul2.bin --force"), 1);
	assert_non_null(strstr(pv_buf_str(&out), "NUL byte"));
	p = path_in(e, "nul1.bin");
	assert_false(pv_path_exists(p));
	free(p);
	p = path_in(e, "nul2.bin");
	assert_false(pv_path_exists(p));
	free(p);
	free(nul_conf);
	pv_buf_release(&out);
}

/* Issue 15 item 8: an image whose first section has length 0 is named for what it is (it
 * read as "bootconf.txt 0 bytes used of 0"), and an image without bootconf.txt says so. */
static void test_empty_bootcode_and_missing_bootconf(void **state)
{
	struct env *e = *state;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX);
	unsigned char *raw = malloc(524288);
	char *path = path_in(e, "empty-bootcode.bin"), *plain = path_in(e, "no-bootconf.bin");

	assert_non_null(raw);
	memset(raw, 0xff, 524288);
	memcpy(raw, "\x55\xaa\xf0\x0f\0\0\0\0", 8);
	pv_test_write_file(path, raw, 524288);
	assert_int_equal(run(e, &out, "eeprom info empty-bootcode.bin"), 1);
	assert_non_null(strstr(pv_buf_str(&out), "'empty-bootcode.bin': not a bootloader EEPROM "
						 "image: the bootcode section at offset 0 is "
						 "empty (length 0)"));
	assert_null(strstr(pv_buf_str(&out), "bytes used"));

	raw[7] = 8; /* an 8-byte bootcode and nothing else */
	pv_test_write_file(plain, raw, 524288);
	assert_int_equal(run(e, &out, "eeprom info no-bootconf.bin"), 0);
	assert_non_null(strstr(pv_buf_str(&out), "none (the image has no bootconf.txt section)"));
	assert_int_equal(run(e, &out, "eeprom info --json no-bootconf.bin"), 0);
	assert_non_null(strstr(pv_buf_str(&out), "\"has_bootconf\": false"));
	free(raw);
	free(path);
	free(plain);
	pv_buf_release(&out);
}

/* An A/B BCM2712 image: --bootsys alone writes the image (the official tool prints the
 * config instead), --bootcode is replaced, -d/-p need --config, --cacertder works. */
static void test_drop_in_ab_files(void **state)
{
	struct env *e = *state;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX), file = PV_BUF_INIT(SIZE_MAX);
	struct pv_buf img = PV_BUF_INIT(SIZE_MAX);
	struct pv_eeprom_synth_options opt = { .ab = true };
	struct pv_eeprom_image parsed = { 0 };
	const unsigned char *data;
	size_t len;
	char *ab = path_in(e, "ab.bin"), *sys = path_in(e, "bootsys.new"),
	     *code = path_in(e, "bootcode.new"), *der = path_in(e, "ca.der"),
	     *out_path = path_in(e, "ab-out.bin");

	assert_int_equal(pv_eeprom_synthesize(PV_SOC_BCM2712, &opt, &img), 0);
	pv_test_write_file(ab, img.data, img.len);
	pv_test_write_file(sys, "new bootsys", 11);
	pv_test_write_file(code, "new bootcode", 12);
	pv_test_write_file(der, "0123456789", 10);

	assert_int_equal(run(e, &out, "eeprom-config -s bootsys.new -o ab-out.bin ab.bin"), 0);
	assert_int_equal(pv_eeprom_load(&parsed, out_path), 0);
	assert_int_equal(pv_eeprom_get_file(&parsed, "bootsys", &data, &len), 0);
	assert_int_equal(len, 11);
	assert_memory_equal(data, "new bootsys", 11);
	pv_eeprom_release(&parsed);

	assert_int_equal(run(e, &out, "eeprom-config -b bootcode.new --cacertder ca.der "
				      "-o ab-out.bin ab.bin"), 0);
	assert_int_equal(pv_eeprom_load(&parsed, out_path), 0);
	assert_int_equal(pv_eeprom_get_file(&parsed, "bootcode.bin", &data, &len), 0);
	assert_int_equal(len, 12);
	assert_int_equal(pv_eeprom_get_file(&parsed, "cacert.der", &data, &len), 0);
	assert_int_equal(len, 10);
	pv_eeprom_release(&parsed);

	/* -d without --config: ignored with a warning; the config is printed. */
	assert_int_equal(run(e, &out, "eeprom-config -d ca.der ab.bin"), 0);
	assert_non_null(strstr(pv_buf_str(&out), "only used together with --config"));
	assert_non_null(strstr(pv_buf_str(&out), "BOOT_ORDER=0xf461"));
	free(ab);
	free(sys);
	free(code);
	free(der);
	free(out_path);
	pv_buf_release(&img);
	pv_buf_release(&out);
	pv_buf_release(&file);
}

/* Two real-release cases through the drop-in, compared with the official results. */
static void test_drop_in_real_images(void **state)
{
	struct env *e = *state;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX), file = PV_BUF_INIT(SIZE_MAX);
	const char *fx = pv_test_fixtures_or_skip();
	static const struct {
		const char *image, *args, *sha;
	} cases[] = {
		{ "2711/pieeprom-2019-07-15.bin", "",
		  "22131ed74369dba964f30fc4f5dce360874403db9f7db33072381f16bbcde8cc" },
		{ "2712/pieeprom-2026-08-12.bin",
		  "--timestamp 1700000000",
		  "6f8427a96c077235dadcf3c2532a73ced96f930cf110c20a28127bcc5028a6e3" },
	};
	for (size_t i = 0; i < 2; i++) {
		char *outp = path_in(e, "real.bin"), hex[65];
		unsigned char md[32];
		unsigned int n = 0;
		assert_int_equal(run(e, &out, "eeprom-config --config %s/expected/public-netboot.conf "
				     "%s --out real.bin %s/pieeprom/%s.gz", fx, cases[i].args, fx,
				     cases[i].image), 0);
		read_file(outp, &file);
		EVP_Digest(file.data, file.len, md, &n, EVP_sha256(), NULL);
		pv_hex_encode(md, 32, hex);
		assert_string_equal(hex, cases[i].sha);
		free(outp);
	}
	pv_buf_release(&out);
	pv_buf_release(&file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_in_read_and_write),
		cmocka_unit_test(test_drop_in_failures_write_nothing),
		cmocka_unit_test(test_eeprom_commands),
		cmocka_unit_test(test_config_with_nul_is_refused),
		cmocka_unit_test(test_empty_bootcode_and_missing_bootconf),
		cmocka_unit_test(test_drop_in_ab_files),
		cmocka_unit_test(test_drop_in_real_images),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
