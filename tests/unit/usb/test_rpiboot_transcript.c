/* Issue 14: `piprov rpiboot` prints what upstream rpiboot prints, line for line, for the
 * recovery flow of a Pi 4 and a Pi 5 (stdout and exit status), with -v, with -j DIR, and
 * without -d (upstream's default folder, its local second try, its embedded msd/ files where
 * its package installs them). Every expected line below is one of upstream's printf()s in
 * main.c at 87d6e032 (function named beside it); where piprov says more on purpose (which
 * msd/ file was served) the line is marked. Boards are virtual (--virtual), the recovery
 * program is the project's placeholder and the image a synthetic one, so nothing skips. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "piprov/buf.h"
#include "piprov/eeprom.h"
#include "piprov/error.h"
#include "piprov/usb.h"
#include "piprov/vpi.h"
#include "test_support.h"

#define OUT_MAX (1u << 22)
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define WAITING "Waiting for BCM2835/6/7/2711/2712..." /* main() */

struct folder {
	char *root;       /* scratch root: the test's cwd for piprov */
	char *dir;        /* the -d folder, root/rec */
	char *share;      /* $PIPROV_RPIBOOT_SHARE, empty unless a test fills it */
	char hash[65];    /* sha256 of dir/pieeprom.bin */
};

static char *join(const char *a, const char *b)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", a, b) > 0);
	return p;
}

static void write_in(const char *dir, const char *name, const void *data, size_t len)
{
	char *p = join(dir, name);

	pv_test_write_file(p, data, len);
	free(p);
}

/* An rpiboot recovery folder (recovery/ or recovery5/ as upstream ships it, after its
 * update-pieeprom.sh): bootcode4/5.bin = the recovery program, pieeprom.bin + .sig,
 * config.txt. */
static void folder_init(struct folder *f, enum pv_soc soc)
{
	const struct pv_soc_info *info = pv_soc_info(soc);
	struct pv_buf code = PV_BUF_INIT(1u << 20), image = PV_BUF_INIT(4u << 20);
	char sig[128];

	f->root = pv_test_mkdtemp();
	f->dir = join(f->root, "rec");
	f->share = join(f->root, "share");
	assert_int_equal(mkdir(f->dir, 0755), 0);
	assert_int_equal(mkdir(f->share, 0755), 0);
	assert_int_equal(pv_vpi_placeholder_recovery(&code), PV_OK);
	write_in(f->dir, info->second_stage, code.data, code.len);
	assert_int_equal(pv_eeprom_synthesize(soc, NULL, &image), PV_OK);
	write_in(f->dir, "pieeprom.bin", image.data, image.len);
	pv_usb_sha256_hex(image.data, image.len, f->hash);
	snprintf(sig, sizeof(sig), "%s\nts: 1700000000\n", f->hash);
	write_in(f->dir, "pieeprom.sig", sig, strlen(sig));
	write_in(f->dir, "config.txt", "#uart_2ndstage=1\n", 17);
	pv_buf_release(&code);
	pv_buf_release(&image);
}

static void folder_release(struct folder *f)
{
	pv_test_rmtree(f->root);
	free(f->root);
	free(f->dir);
	free(f->share);
}

/* A whole file as a string (pv_buf_str of it is NUL-terminated, also when empty). */
static void read_text(const char *path, struct pv_buf *out)
{
	pv_buf_reset(out);
	pv_test_read_file(path, out);
	assert_int_equal(pv_buf_putc(out, '\0'), 0);
	out->len--;
}

/* Run `piprov rpiboot ARGS` in f->root with the share folder set; stdout into out, stderr
 * into err. Returns the exit status. */
static int rpiboot(const struct folder *f, const char *args, struct pv_buf *out, struct pv_buf *err)
{
	char *piprov = pv_test_program("piprov"), *errfile = join(f->root, "stderr"), *cmd;
	int status;

	assert_true(asprintf(&cmd, "cd '%s' && PIPROV_RPIBOOT_SHARE='%s' timeout -s KILL 60 '%s' "
				   "rpiboot %s 2>'%s'", f->root, f->share, piprov, args,
			     errfile) > 0);
	pv_buf_reset(out);
	status = pv_test_run(cmd, out, 0);
	read_text(errfile, err);
	free(cmd);
	free(errfile);
	free(piprov);
	return status;
}

/* Compare text with the expected lines, one by one, naming the first that differs. */
/* The first count lines of text are expected[]; returns what follows them. */
static const char *assert_lines_prefix(const char *text, const char *const *expected,
				       size_t count)
{
	const char *p = text;

	for (size_t i = 0; i < count; i++) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (!nl || len != strlen(expected[i]) || memcmp(p, expected[i], len) != 0) {
			print_error("line %zu: got '%.*s', want '%s'\nwhole output:\n%s\n", i + 1,
				    (int)len, p, expected[i], text);
			fail();
		}
		p = nl + 1;
	}
	return p;
}

static void assert_lines(const char *text, const char *const *expected, size_t count)
{
	const char *p = assert_lines_prefix(text, expected, count);

	if (*p) {
		print_error("after %zu lines, more output: '%s'\n", count, p);
		fail();
	}
}

/* print_version(): "RPIBOOT: build-date %s pkg-version %s %s". */
static void assert_version_line(const char *line)
{
	char date[32], version[64];

	assert_int_equal(sscanf(line, "RPIBOOT: build-date %31s pkg-version %63s", date, version),
			 2);
	assert_non_null(strstr(version, "piprov"));
}

/* prefix + a + sep + b, malloc'd. */
static char *line_of(const char *prefix, const char *a, const char *sep, const char *b)
{
	char *s;

	assert_true(asprintf(&s, "%s%s%s%s", prefix, a, sep, b) > 0);
	return s;
}

/* The lines up to the first board: print_version(), main()'s jumper hint, "Waiting". The
 * version line is checked apart (its build date and version vary). */
static const char *skip_banner(const char *text)
{
	static const char banner[] =
		"\n"
		"Please fit the EMMC_DISABLE / nRPIBOOT jumper before connecting the power and USB "
		"cables to the target device.\n"
		"If the device fails to connect then please see https://rpltd.co/rpiboot for "
		"debugging tips.\n"
		"\n";
	const char *nl = strchr(text, '\n');

	assert_non_null(nl);
	assert_version_line(text);
	assert_memory_equal(nl + 1, banner, sizeof(banner) - 1);
	return nl + 1 + sizeof(banner) - 1;
}

/* The 2711 recovery flow: rpiboot -d DIR, no -j: the metadata JSON on stdout. */
static void test_pi4_recovery_prints_upstreams_lines(void **state)
{
	struct folder f;
	struct pv_buf out = PV_BUF_INIT(OUT_MAX), err = PV_BUF_INIT(OUT_MAX);
	char *loading_code, *loading_config, *loading_sig, *loading_image, *hash_line;

	(void)state;
	folder_init(&f, PV_SOC_BCM2711);
	assert_int_equal(rpiboot(&f, "-d rec --virtual 'pi4,mac=dc:a6:32:00:00:01'", &out, &err),
			 0);
	loading_code = line_of("Loading: ", "rec", "/", "bootcode4.bin");  /* check_file() */
	loading_config = line_of("Loading: ", "rec", "/", "config.txt");
	loading_sig = line_of("Loading: ", "rec", "/", "pieeprom.sig");
	loading_image = line_of("Loading: ", "rec", "/", "pieeprom.bin");
	assert_true(asprintf(&hash_line, "\t\"EEPROM_HASH\": \"%s\",", f.hash) > 0);
	{
		const char *const expected[] = {
			loading_code,                      /* main(): check_file() of -d */
			WAITING, "",                       /* main() */
			loading_code,                      /* open_device_with_vid() */
			"Sending bootcode.bin",            /* main() */
			"Successful read 4 bytes ",        /* second_stage_boot() */
			WAITING, "",
			loading_code,
			"Second stage boot server",        /* main() */
			loading_config,
			"File read: config.txt",           /* file_server() */
			"Cannot open file vl805.sig",      /* file_server() */
			loading_sig,
			"File read: pieeprom.sig",
			"Cannot open file pieeprom.upd",
			loading_image,
			"File read: pieeprom.bin",
			"{",                               /* write_metadata_file() */
			"\t\"MAC_ADDR\": \"dc:a6:32:00:00:01\",",
			"\t\"EEPROM_UPDATE\": \"success\",",
			hash_line,
			"\t\"CUSTOMER_KEY_HASH\": \"0000000000000000000000000000000000000000000000000000000000000000\",",
			"\t\"BOOT_ROM\": \"0000c8b0\",",
			"\t\"BOARD_ATTR\": \"00000000\",",
			"\t\"USER_BOARDREV\": \"c03114\",",
			"\t\"JTAG_LOCKED\": \"0\",",
			"\t\"ADVANCED_BOOT\": \"0000e8e8\"",
			"}",                               /* close_metadata_file() */
			"Second stage boot server done",   /* file_server() */
		};
		assert_lines(skip_banner(pv_buf_str(&out)), expected, COUNT(expected));
	}
	/* Upstream prints nothing on stderr in this flow; nor does piprov. */
	assert_string_equal(pv_buf_str(&err), "");
	free(loading_code);
	free(loading_config);
	free(loading_sig);
	free(loading_image);
	free(hash_line);
	folder_release(&f);
	pv_buf_release(&out);
	pv_buf_release(&err);
}

/* The 2712 recovery with -j DIR: "Created metadata file", the file in upstream's layout,
 * no JSON on stdout. */
static void test_pi5_recovery_with_metadata_folder(void **state)
{
	struct folder f;
	struct pv_buf out = PV_BUF_INIT(OUT_MAX), err = PV_BUF_INIT(OUT_MAX);
	struct pv_buf file = PV_BUF_INIT(OUT_MAX);
	char *meta, *json, *created;

	(void)state;
	folder_init(&f, PV_SOC_BCM2712);
	meta = join(f.root, "meta");
	assert_int_equal(mkdir(meta, 0755), 0);
	assert_int_equal(rpiboot(&f, "-d rec -j meta --virtual pi5,serial=10000000abcdef01", &out,
				 &err),
			 0);
	created = line_of("Created metadata file: ", "meta", "/", "abcdef01.json");
	{
		const char *const expected[] = {
			"Loading: rec/bootcode5.bin",      /* main(): check_file() of -d */
			WAITING, "",
			"Loading: rec/bootcode5.bin",
			"Sending bootcode.bin",
			"Successful read 4 bytes ",
			WAITING, "",
			"Loading: rec/bootcode5.bin",
			"Second stage boot server",
			"Loading: rec/config.txt",
			"File read: config.txt",
			"Loading: rec/pieeprom.sig",
			"File read: pieeprom.sig",
			"Cannot open file pieeprom.upd",
			"Loading: rec/pieeprom.bin",
			"File read: pieeprom.bin",
			created,                           /* create_metadata_file() */
			"Second stage boot server done",
		};
		assert_lines(skip_banner(pv_buf_str(&out)), expected, COUNT(expected));
	}
	json = join(meta, "abcdef01.json");
	read_text(json, &file);
	/* write_metadata_file() / close_metadata_file(): "{", "\n\t"K": "V"" joined by ",",
	 * "\n}\n"; the first item is the Pi 5 recovery's serial. */
	assert_memory_equal(pv_buf_str(&file), "{\n\t\"USER_SERIAL_NUM\": \"abcdef01\",\n",
			    strlen("{\n\t\"USER_SERIAL_NUM\": \"abcdef01\",\n"));
	assert_non_null(strstr(pv_buf_str(&file), f.hash));
	assert_non_null(strstr(pv_buf_str(&file), "\"\n}\n"));
	assert_int_equal(strlen(strstr(pv_buf_str(&file), "\"\n}\n")), 4);
	free(json);
	free(created);
	free(meta);
	folder_release(&f);
	pv_buf_release(&file);
	pv_buf_release(&out);
	pv_buf_release(&err);
}

/* -v: upstream's verbose lines in their order (the ROM stage and one file of each kind). */
static void test_verbose_lines(void **state)
{
	struct folder f;
	struct pv_buf out = PV_BUF_INIT(OUT_MAX), err = PV_BUF_INIT(OUT_MAX);
	char *writing;

	(void)state;
	folder_init(&f, PV_SOC_BCM2711);
	assert_int_equal(rpiboot(&f, "-v -d rec --virtual pi4", &out, &err), 0);
	{
		struct stat st;
		char *code = join(f.dir, "bootcode4.bin");

		assert_int_equal(stat(code, &st), 0);
		free(code);
		assert_true(asprintf(&writing, "Writing %lld bytes", (long long)st.st_size) > 0);
	}
	{
		const char *text = skip_banner(pv_buf_str(&out));
		const char *const expected[] = {
			"Boot directory 'rec'",                         /* main() */
			"Loading: rec/bootcode4.bin",                   /* main(): check_file() */
			WAITING, "",
			"Device located successfully",                  /* open_device_with_vid() */
			"Loading: rec/bootcode4.bin",
			"Initialised device correctly",                 /* Initialize_Device() */
			"Found serial number 3",                        /* main() */
			"last_serial -1 serial 3",                      /* main() */
			"Sending bootcode.bin",
			"libusb_bulk_transfer sent 24 bytes; returned 0", /* ep_write() */
			writing,                                        /* second_stage_boot() */
		};
		char *head = strdup(text);
		char *cut = head;

		for (size_t i = 0; i < COUNT(expected); i++)
			cut = strchr(cut, '\n') + 1;
		*cut = '\0';
		assert_lines(head, expected, COUNT(expected));
		free(head);
		/* One of each request kind, as file_server() prints them. */
		assert_non_null(strstr(text, "Received message GetFileSize: config.txt\n"
					     "Loading: rec/config.txt\n"
					     "File size = 17 bytes\n"
					     "Received message ReadFile: config.txt\n"
					     "File read: config.txt\n"
					     "libusb_bulk_transfer sent 17 bytes; returned 0\n"));
		assert_non_null(strstr(text, "Received message GetFileSize: vl805.sig\n"
					     "libusb_bulk_transfer sent 0 bytes; returned 0\n"
					     "Cannot open file vl805.sig\n"));
		/* Without -j the JSON goes to stdout between ep_write()'s lines, as upstream's
		 * does (write_metadata_file() ends an item without a newline). */
		assert_non_null(strstr(text, "Received message GetFileSize: *EEPROM_UPDATE*success\n"
					     ",\n\t\"EEPROM_UPDATE\": \"success\""
					     "libusb_bulk_transfer sent 0 bytes; returned 0\n"));
		/* The firmware's Done (command 2, empty name: "Done can also just be null
		 * filename") is answered, so no "CMD exit"; then close_metadata_file(). */
		assert_non_null(strstr(text, "Received message Done: \n"
					     "libusb_bulk_transfer sent 0 bytes; returned 0\n"
					     "\n}\n"
					     "Second stage boot server done\n"));
		assert_null(strstr(text, "CMD exit"));
	}
	/* piprov's own progress log lines are not printed by rpiboot's -v. */
	assert_string_equal(pv_buf_str(&err), "");
	free(writing);
	folder_release(&f);
	pv_buf_release(&out);
	pv_buf_release(&err);
}

/* No -d, nothing installed, a Pi 5: upstream tries its default folder, then the local
 * mass-storage-gadget64/, and exits 1 with its two messages on stderr. */
static void test_no_folder_and_nothing_installed(void **state)
{
	struct folder f;
	struct pv_buf out = PV_BUF_INIT(OUT_MAX), err = PV_BUF_INIT(OUT_MAX);

	(void)state;
	folder_init(&f, PV_SOC_BCM2712);
	assert_int_equal(rpiboot(&f, "--virtual pi5", &out, &err), 1);
	{
		const char *const expected[] = {
			WAITING, "",
			/* open_device_with_vid() */
			"Directory not specified - trying default "
			"/usr/share/rpiboot/mass-storage-gadget64/",
			"Trying local path mass-storage-gadget64/",
		};
		assert_lines(skip_banner(pv_buf_str(&out)), expected, COUNT(expected));
	}
	assert_non_null(strstr(pv_buf_str(&err),
			       "Failed to open second stage bootloader (bootcode5.bin)\n\n"
			       "Please try specifying the directory e.g. rpiboot -d "
			       "mass-storage-gadget64\n"));
	folder_release(&f);
	pv_buf_release(&out);
	pv_buf_release(&err);
}

/* No -d, a Pi 4, the rpiboot package's msd/ files in the share folder: upstream serves its
 * embedded bootcode4.bin and its start.elf as start4.elf; piprov serves the package's files
 * and names which (the one line that says more than upstream). The board is an ordinary
 * bootloader (not the recovery program): its own request list, no metadata. */
static void test_no_folder_serves_the_packages_msd_files(void **state)
{
	struct folder f;
	struct pv_buf out = PV_BUF_INIT(OUT_MAX), err = PV_BUF_INIT(OUT_MAX);
	char *msd, *embedded_code, *embedded_start;
	static const char second_stage[] = "BCM-USB-MSD a mass-storage bootcode4.bin start4.elf\n";

	(void)state;
	folder_init(&f, PV_SOC_BCM2711);
	msd = join(f.share, "msd");
	assert_int_equal(mkdir(msd, 0755), 0);
	write_in(msd, "bootcode4.bin", second_stage, sizeof(second_stage) - 1);
	write_in(msd, "start.elf", "an msd start.elf", 16);
	assert_int_equal(rpiboot(&f, "--virtual pi4", &out, &err), 0);
	embedded_code = line_of("Loading embedded: bootcode4.bin (", msd, "/", "bootcode4.bin)");
	embedded_start = line_of("Loading embedded: start4.elf (", msd, "/", "start.elf)");
	{
		const char *const expected[] = {
			WAITING, "",
			"Directory not specified - trying default "
			"/usr/share/rpiboot/mass-storage-gadget64/",
			embedded_code,                     /* check_file(), + the file */
			"Sending bootcode.bin",
			"Successful read 4 bytes ",
			WAITING, "",
			embedded_code,
			"Second stage boot server",
			"Cannot open file config.txt",
			"Cannot open file pieeprom.sig",
			"Cannot open file recover4.elf",
			"Cannot open file fixup4rc.dat",
			"Cannot open file recovery.elf",
			"Cannot open file fixup_rc.dat",
			embedded_start,
			"File read: start4.elf",
			"Cannot open file fixup4.dat",
			"Second stage boot server done",
		};
		assert_lines(skip_banner(pv_buf_str(&out)), expected, COUNT(expected));
	}
	free(embedded_code);
	free(embedded_start);
	free(msd);
	folder_release(&f);
	pv_buf_release(&out);
	pv_buf_release(&err);
}

/* -p PATH, -N (port number of the hub), -i SERIAL: the board that matches is served, one
 * that does not is never touched (no "Sending bootcode.bin"; --timeout ends the wait). */
static void test_board_selection(void **state)
{
	static const struct {
		const char *filter;
		int status;
	} cases[] = {
		{ "-p 100-1.1", 0 }, { "-p 100-1.2", 1 }, { "-1", 0 },
		{ "-2", 1 },         { "-i abcdef01", 0 }, { "-i abcdef02", 1 },
	};
	struct folder f;
	struct pv_buf out = PV_BUF_INIT(OUT_MAX), err = PV_BUF_INIT(OUT_MAX);

	(void)state;
	folder_init(&f, PV_SOC_BCM2711);
	for (size_t i = 0; i < COUNT(cases); i++) {
		char *args;

		assert_true(asprintf(&args, "-d rec --timeout 1 %s --virtual "
					    "pi4,serial=10000000abcdef01", cases[i].filter) > 0);
		assert_int_equal(rpiboot(&f, args, &out, &err), cases[i].status);
		if (cases[i].status == 0) {
			assert_non_null(strstr(pv_buf_str(&out), "Second stage boot server done\n"));
		} else {
			assert_null(strstr(pv_buf_str(&out), "Sending bootcode.bin"));
			assert_non_null(strstr(pv_buf_str(&err), "no board"));
		}
		free(args);
	}
	folder_release(&f);
	pv_buf_release(&out);
	pv_buf_release(&err);
}

/* A value upstream would print raw (breaking its JSON) is escaped on stdout. */
static void test_metadata_on_stdout_is_escaped(void **state)
{
	struct folder f;
	struct pv_buf out = PV_BUF_INIT(OUT_MAX), err = PV_BUF_INIT(OUT_MAX);

	(void)state;
	folder_init(&f, PV_SOC_BCM2711);
	assert_int_equal(rpiboot(&f, "-d rec --virtual 'pi4,meta=USER_NOTE:say \"hi\" \\ <b>'",
				 &out, &err),
			 0);
	assert_non_null(strstr(pv_buf_str(&out),
			       ",\n\t\"USER_NOTE\": \"say \\\"hi\\\" \\\\ <b>\"\n}\n"
			       "Second stage boot server done\n"));
	folder_release(&f);
	pv_buf_release(&out);
	pv_buf_release(&err);
}

/* main()'s check of -d DIR names each second stage it finds before it waits, DIR/2710/
 * first (no chip is known yet), as upstream printed it in the e2e guest. */
static void test_folder_check_names_each_second_stage(void **state)
{
	struct folder f;
	struct pv_buf out = PV_BUF_INIT(OUT_MAX), err = PV_BUF_INIT(OUT_MAX);
	char *sub;

	(void)state;
	folder_init(&f, PV_SOC_BCM2711);
	sub = join(f.dir, "2710");
	assert_int_equal(mkdir(sub, 0755), 0);
	write_in(sub, "bootcode.bin", "x", 1);
	write_in(f.dir, "bootcode.bin", "y", 1); /* the 2710/ one is named, not this */
	assert_int_equal(rpiboot(&f, "-d rec --virtual pi4", &out, &err), 0);
	{
		const char *const expected[] = {
			"Loading: rec/2710/bootcode.bin",
			"Loading: rec/bootcode4.bin",
			WAITING, "",
		};
		assert_lines_prefix(skip_banner(pv_buf_str(&out)), expected, COUNT(expected));
	}
	free(sub);
	folder_release(&f);
	pv_buf_release(&out);
	pv_buf_release(&err);
}

/* -V: print_version() alone, exit 0. */
static void test_version(void **state)
{
	struct folder f;
	struct pv_buf out = PV_BUF_INIT(OUT_MAX), err = PV_BUF_INIT(OUT_MAX);

	(void)state;
	folder_init(&f, PV_SOC_BCM2711);
	assert_int_equal(rpiboot(&f, "-V", &out, &err), 0);
	assert_version_line(pv_buf_str(&out));
	assert_int_equal(strchr(pv_buf_str(&out), '\n')[1], '\0');
	folder_release(&f);
	pv_buf_release(&out);
	pv_buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pi4_recovery_prints_upstreams_lines),
		cmocka_unit_test(test_pi5_recovery_with_metadata_folder),
		cmocka_unit_test(test_verbose_lines),
		cmocka_unit_test(test_no_folder_and_nothing_installed),
		cmocka_unit_test(test_no_folder_serves_the_packages_msd_files),
		cmocka_unit_test(test_board_selection),
		cmocka_unit_test(test_metadata_on_stdout_is_escaped),
		cmocka_unit_test(test_folder_check_names_each_second_stage),
		cmocka_unit_test(test_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
