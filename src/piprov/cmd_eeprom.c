/* piprov eeprom: inspect, check, patch, digest and verify bootloader EEPROM images.
 * Every image or signature written goes through a temporary file, is read back and
 * checked, then renamed; on any failure nothing is written (see piprov-eeprom(1)). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "piprov/eeprom.h"
#include "piprov/eeprom_config.h"
#include "piprov/fileio.h"
#include "piprov/text.h"
#include "banned.h"

#define SIG_FILE_LIMIT 4096u
#define MAX_EDITS 64

static void usage(FILE *f)
{
	fputs("usage: piprov eeprom <command> ...\n\n"
	      "  info IMAGE [--json]                  SoC, versions, sections, capacity, signing\n"
	      "  config IMAGE [--json]                print bootconf.txt (exact bytes)\n"
	      "  set IMAGE -o OUT [KEY=VALUE...] [--unset KEY] [--preset NAME]\n"
	      "        [--first MODE] [--fallback MODE] [--timestamp N] [--board NAME] [--force]\n"
	      "                                       edit the config in place, print the diff\n"
	      "  apply IMAGE CONFIG -o OUT [--timestamp N] [--board NAME] [--force]\n"
	      "                                       replace the config with CONFIG\n"
	      "  check CONFIG [--board NAME | --soc 2711|2712 | --image IMAGE] [--json]\n"
	      "                                       validate a config (errors exit 1)\n"
	      "  diff A B [--json]                    compare two images' configs (or configs)\n"
	      "  digest FILE -o SIG [--key PEM] [--soc[=2711|2712]] [--timestamp N]\n"
	      "                                       write a .sig (rpi-eeprom-digest format)\n"
	      "  verify IMAGE SIG [--pubkey PEM] [--json]\n"
	      "                                       check a .sig (and its RSA signature)\n"
	      "  synth SOC -o OUT [--ab] [--config FILE]\n"
	      "                                       build a synthetic image (tests, demos)\n\n"
	      "MODE: sd, network, usb, nvme, http, rpiboot, bcm-usb, stop, restart or a hex digit.\n"
	      "Presets: firmware-templates/<soc>/<name>.conf (sd, usb, network, nvme, http).\n",
	      f);
}

/* A command without options of its own still refuses unknown ones (exit 2). */
static int no_options(int argc, char **argv)
{
	static const struct option none[] = { { NULL, 0, NULL, 0 } };

	if (getopt_long(argc, argv, "", none, NULL) != -1)
		return cli_usage_hint();
	return CLI_EXIT_OK;
}

static int parse_ts(const char *text, uint32_t *ts)
{
	if (pv_parse_u32(text, 10, ts) != 0) {
		cli_usage_error("'--timestamp': not a 32-bit decimal number: '%s'", text);
		return -1;
	}
	return 0;
}

static void print_issues(const char *name, const struct pv_eeprom_conf_issue *issues, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *sev = issues[i].severity == PV_EEPROM_CONF_ERROR ? "error" : "warning";
		if (issues[i].severity != PV_EEPROM_CONF_ERROR && cli_quiet())
			continue;
		if (issues[i].line)
			fprintf(stderr, "%s:%u: %s: %s\n", name, issues[i].line, sev,
				issues[i].message);
		else
			fprintf(stderr, "%s: %s: %s\n", name, sev, issues[i].message);
	}
}

/* check --json: {"file", "soc", "ok", "errors", "warnings", "issues": [{"line" (null when
 * the issue is not on one line), "severity", "message"}]}. */
static json_t *issues_json(const char *name, const struct pv_soc_info *soc,
			   const struct pv_eeprom_conf_issue *issues, size_t n, size_t errors)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < n; i++)
		json_array_append_new(
			list, json_pack("{s:o, s:s, s:s}", "line",
					issues[i].line ? json_integer(issues[i].line) : json_null(),
					"severity",
					issues[i].severity == PV_EEPROM_CONF_ERROR ? "error" : "warning",
					"message", issues[i].message));
	return json_pack("{s:s, s:o, s:b, s:I, s:I, s:o}", "file", name, "soc",
			 soc ? json_string(soc->name) : json_null(), "ok", errors == 0, "errors",
			 (json_int_t)errors, "warnings", (json_int_t)(n - errors), "issues",
			 list ? list : json_array());
}

/* --board NAME: a board with a bootloader EEPROM, or NULL after printing why not. */
static const struct pv_board_type *board_arg(const char *name)
{
	const struct pv_board_type *b = pv_board_by_short_name(name);

	if (!b || !(b->features & PV_BOARD_HAS_EEPROM)) {
		cli_usage_error("--board: '%s' is not a board with a bootloader EEPROM (pi4, "
				"pi400, cm4, cm4s, pi5, cm5, pi500, ...)", name);
		return NULL;
	}
	return b;
}

/* Validate conf for img (and board, when given); print the findings; true when it may be
 * written. */
static bool conf_acceptable(const struct pv_eeprom_conf *conf, const struct pv_eeprom_image *img,
			    const struct pv_board_type *board, const char *name, bool force)
{
	struct pv_eeprom_conf_target t = { .soc = img->soc, .board = board };
	struct pv_eeprom_conf_issue *issues = NULL;
	struct pv_eeprom_info info;
	size_t n = 0, errors;

	if (board && board->soc != img->soc->soc) {
		cli_error("'%s' is a %s image; the %s has a %s", img->name, img->soc->name,
			  board->name, pv_soc_info(board->soc)->name);
		return false;
	}
	if (pv_eeprom_get_info(img, &info) == 0)
		t.build_timestamp = info.build_timestamp;

	if (pv_eeprom_file_capacity(img, PV_EEPROM_BOOTCONF_TXT, &t.capacity) != 0) {
		cli_fail(PV_ERR_NOT_FOUND);
		return false;
	}
	if (pv_eeprom_conf_validate(conf, &t, &issues, &n) != 0) {
		cli_fail(PV_ERR_NOMEM);
		return false;
	}
	print_issues(name, issues, n);
	errors = pv_eeprom_conf_errors(issues, n);
	free(issues);
	if (errors && !force) {
		cli_error("'%s': %zu error%s in the config; nothing written (--force writes it "
			  "anyway when it fits)", name, errors, errors == 1 ? "" : "s");
		return false;
	}
	return true;
}

static void print_time(const char *label, uint64_t ts)
{
	char when[64] = "";
	time_t t = (time_t)ts;
	struct tm tm;

	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	printf("%-18s %llu (%s)\n", label, (unsigned long long)ts, when);
}

static int info_json(const struct pv_eeprom_image *img, const struct pv_eeprom_info *info)
{
	json_t *root = json_object(), *sections = json_array();

	json_object_set_new(root, "file", json_string(img->name));
	json_object_set_new(root, "soc", json_string(info->soc->name));
	json_object_set_new(root, "chip", json_string(info->soc->chip));
	json_object_set_new(root, "size", json_integer((json_int_t)info->size));
	json_object_set_new(root, "ab_image", json_boolean(info->ab));
	json_object_set_new(root, "build_timestamp", json_integer((json_int_t)info->build_timestamp));
	json_object_set_new(root, "version", json_string(info->version));
	if (info->mfg_version >= 0)
		json_object_set_new(root, "mfg_version", json_integer(info->mfg_version));
	json_object_set_new(root, "bootconf_offset", json_integer((json_int_t)info->bootconf_offset));
	json_object_set_new(root, "bootconf_size", json_integer((json_int_t)info->bootconf_len));
	json_object_set_new(root, "bootconf_capacity",
			    json_integer((json_int_t)info->bootconf_capacity));
	json_object_set_new(root, "bootconf_is_last", json_boolean(info->bootconf_is_last));
	json_object_set_new(root, "config_signed", json_boolean(info->config_signed));
	if (info->config_signed) {
		json_object_set_new(root, "config_signature_valid",
				    json_boolean(pv_eeprom_verify_signed_config(img) == 0));
		pv_clear_error();
	}
	json_object_set_new(root, "pubkey_set", json_boolean(info->pubkey_set));
	if (info->has_update_timestamp)
		json_object_set_new(root, "update_timestamp",
				    json_integer((json_int_t)info->update_timestamp));
	for (size_t i = 0; i < img->nsections; i++) {
		const struct pv_eeprom_section *s = &img->sections[i];
		json_t *o = json_object();
		char magic[11];
		snprintf(magic, sizeof(magic), "0x%08x", s->magic);
		json_object_set_new(o, "offset", json_integer((json_int_t)s->offset));
		json_object_set_new(o, "magic", json_string(magic));
		json_object_set_new(o, "length", json_integer(s->length));
		if (s->magic == PV_EEPROM_MAGIC_FILE)
			json_object_set_new(o, "file", json_string(s->name));
		json_array_append_new(sections, o);
	}
	json_object_set_new(root, "sections", sections);
	return cli_print_json(root);
}

static const char *section_kind(uint32_t magic)
{
	return magic == PV_EEPROM_MAGIC_FILE ? "file"
	       : magic == PV_EEPROM_MAGIC_PAD ? "pad"
					      : "code";
}

static int do_info(int argc, char **argv, struct cli_context *ctx)
{
	static const struct option longopts[] = { { NULL, 0, NULL, 0 } };
	struct pv_eeprom_image img = { 0 };
	struct pv_eeprom_info info;
	bool json = ctx->json;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
		return cli_usage_hint();
	if (argc - optind != 1)
		return cli_usage_error("expected one IMAGE");
	rc = pv_eeprom_load(&img, argv[optind]);
	if (rc)
		return cli_fail(rc);
	pv_eeprom_get_info(&img, &info);
	if (json) {
		rc = info_json(&img, &info);
		pv_eeprom_release(&img);
		return rc;
	}
	printf("%-18s %s\n", "image", img.name);
	printf("%-18s %s (%s), %zu bytes%s\n", "soc", info.soc->name,
	       info.soc->chip, info.size, info.ab ? ", A/B layout" : "");
	if (info.build_timestamp)
		print_time("build timestamp", info.build_timestamp);
	printf("%-18s %s\n", "version", info.version[0] ? info.version : "(none)");
	if (info.mfg_version >= 0)
		printf("%-18s %ld\n", "mfg version", info.mfg_version);
	printf("%-18s %zu bytes used of %zu (%zu free) at 0x%zx%s\n", "bootconf.txt",
	       info.bootconf_len, info.bootconf_capacity,
	       info.bootconf_capacity > info.bootconf_len ? info.bootconf_capacity - info.bootconf_len
							  : 0,
	       info.bootconf_offset, info.bootconf_is_last ? " (last section)" : "");
	if (!info.has_bootconf_sig) {
		printf("%-18s %s\n", "signed config", "not supported by this image");
	} else if (!info.config_signed) {
		printf("%-18s %s\n", "signed config", "no");
	} else if (pv_eeprom_verify_signed_config(&img) == 0) {
		printf("%-18s %s\n", "signed config", "yes, valid for the key in pubkey.bin");
	} else {
		printf("%-18s yes, but NOT VALID: %s\n", "signed config", pv_last_error());
		pv_clear_error();
	}
	printf("%-18s %s\n", "public key",
	       !info.has_pubkey ? "not supported by this image"
	       : info.pubkey_set ? "set" : "not set");
	if (info.has_update_timestamp)
		print_time("update timestamp", info.update_timestamp);
	else
		printf("%-18s %s\n", "update timestamp", "not set");
	printf("sections (%zu, %zu files):\n", info.nsections, info.nfiles);
	for (size_t i = 0; i < img.nsections; i++) {
		const struct pv_eeprom_section *s = &img.sections[i];
		printf("  0x%06zx  %08x  %-4s %8u  %s\n", s->offset, s->magic,
		       section_kind(s->magic), s->length,
		       s->magic == PV_EEPROM_MAGIC_FILE ? s->name : i == 0 ? "(bootcode)" : "");
	}
	pv_eeprom_release(&img);
	return CLI_EXIT_OK;
}

static int do_config(int argc, char **argv, struct cli_context *ctx)
{
	struct pv_eeprom_image img = { 0 };
	const unsigned char *data;
	size_t len;
	int rc, status = CLI_EXIT_OK;

	if ((rc = no_options(argc, argv)))
		return rc;
	if (argc - optind != 1)
		return cli_usage_error("expected one IMAGE");
	rc = pv_eeprom_load(&img, argv[optind]);
	if (rc)
		return cli_fail(rc);
	rc = pv_eeprom_get_file(&img, PV_EEPROM_BOOTCONF_TXT, &data, &len);
	if (rc)
		status = cli_fail(rc);
	else if (ctx->json)
		status = cli_print_json(json_pack("{s:s, s:s%, s:I}", "file", img.name, "config",
						  (const char *)data, len, "size", (json_int_t)len));
	else
		fwrite(data, 1, len, stdout); /* checked at exit (cli_finish_stdout) */
	pv_eeprom_release(&img);
	return status;
}

/* Serialize conf into img (validated), optionally set the timestamp, save to out. */
static int write_config(struct pv_eeprom_image *img, const struct pv_eeprom_conf *conf,
			const struct pv_board_type *board, const char *conf_name, bool force,
			bool set_ts, uint32_t ts, const char *out)
{
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX);
	int rc;

	if (!conf_acceptable(conf, img, board, conf_name, force))
		return CLI_EXIT_FAILURE;
	rc = pv_eeprom_conf_serialize(conf, &text);
	if (rc == 0)
		rc = pv_eeprom_update_file(img, PV_EEPROM_BOOTCONF_TXT,
					   text.data ? text.data : (const unsigned char *)"", text.len);
	if (rc == 0 && set_ts)
		rc = pv_eeprom_set_timestamp(img, ts);
	if (rc == 0)
		rc = pv_eeprom_save(img, out);
	pv_buf_release(&text);
	return rc ? cli_fail(rc) : CLI_EXIT_OK;
}

static int do_set(int argc, char **argv, struct cli_context *ctx)
{
	enum { OPT_UNSET = 1000, OPT_PRESET, OPT_FIRST, OPT_FALLBACK, OPT_TS, OPT_FORCE,
	       OPT_BOARD };
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "board", required_argument, NULL, OPT_BOARD },
		{ "unset", required_argument, NULL, OPT_UNSET },
		{ "preset", required_argument, NULL, OPT_PRESET },
		{ "first", required_argument, NULL, OPT_FIRST },
		{ "fallback", required_argument, NULL, OPT_FALLBACK },
		{ "timestamp", required_argument, NULL, OPT_TS },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ NULL, 0, NULL, 0 },
	};
	/* Edits run in command-line order. */
	struct edit {
		int kind;
		const char *arg;
	} edits[MAX_EDITS];
	struct pv_eeprom_image img = { 0 };
	struct pv_eeprom_conf *before = NULL, *conf = NULL, *preset = NULL;
	const struct pv_board_type *board = NULL;
	struct pv_buf diff = PV_BUF_INIT(SIZE_MAX);
	const unsigned char *data;
	const char *out = NULL, *image;
	size_t nedits = 0, len, changed = 0;
	bool force = false, set_ts = false;
	uint32_t ts = 0;
	int c, rc, status = CLI_EXIT_FAILURE;

	(void)ctx;

	/* "-": operands come back in order (code 1), so KEY=VALUE may sit between options. */
	while ((c = getopt_long(argc, argv, "-o:", longopts, NULL)) != -1) {
		if (c == 'o') {
			out = optarg;
		} else if (c == OPT_FORCE) {
			force = true;
		} else if (c == OPT_BOARD) {
			board = board_arg(optarg);
			if (!board)
				return CLI_EXIT_USAGE;
		} else if (c == OPT_TS) {
			if (parse_ts(optarg, &ts))
				return CLI_EXIT_USAGE;
			set_ts = true;
		} else if (c == 1 || c == OPT_UNSET || c == OPT_PRESET || c == OPT_FIRST ||
			   c == OPT_FALLBACK) {
			if (nedits == MAX_EDITS)
				return cli_usage_error("too many edits");
			edits[nedits].kind = c;
			edits[nedits++].arg = optarg;
		} else {
			return cli_usage_hint();
		}
	}
	/* The first operand is the image; the rest are KEY=VALUE. */
	if (nedits == 0 || edits[0].kind != 1)
		return cli_usage_error("expected IMAGE first");
	image = edits[0].arg;
	if (!out)
		return cli_usage_error("-o OUT is required");
	if (nedits == 1 && !set_ts)
		return cli_usage_error("nothing to change");
	rc = pv_eeprom_load(&img, image);
	if (rc)
		return cli_fail(rc);
	rc = pv_eeprom_get_file(&img, PV_EEPROM_BOOTCONF_TXT, &data, &len);
	if (rc == 0)
		rc = pv_eeprom_conf_parse(data, len, "bootconf.txt", &before);
	if (rc == 0)
		rc = pv_eeprom_conf_parse(data, len, "bootconf.txt", &conf);
	if (rc) {
		status = cli_fail(rc);
		goto out_free;
	}
	for (size_t i = 1; i < nedits; i++) {
		const char *arg = edits[i].arg;
		int mode;
		switch (edits[i].kind) {
		case 1: {
			const char *eq = strchr(arg, '=');
			char key[PV_EEPROM_CONF_MAX_KEY + 1];
			if (!eq || eq == arg || (size_t)(eq - arg) > PV_EEPROM_CONF_MAX_KEY) {
				status = cli_usage_error("expected KEY=VALUE, got '%s'", arg);
				goto out_free;
			}
			memcpy(key, arg, (size_t)(eq - arg));
			key[eq - arg] = '\0';
			rc = pv_eeprom_conf_set(conf, key, eq + 1);
			break;
		}
		case OPT_UNSET:
			rc = pv_eeprom_conf_unset(conf, arg);
			break;
		case OPT_PRESET:
			rc = pv_eeprom_preset_load(NULL, img.soc, arg, &preset);
			if (rc == 0)
				rc = pv_eeprom_conf_merge(conf, preset);
			pv_eeprom_conf_free(preset);
			preset = NULL;
			break;
		default:
			mode = pv_eeprom_boot_mode_parse(arg);
			if (mode < 0) {
				status = cli_usage_error("unknown boot mode '%s'", arg);
				goto out_free;
			}
			{
				/* The image's chip and --board decide which modes exist. */
				struct pv_eeprom_conf_target target = { .soc = img.soc,
									.board = board };

				rc = pv_eeprom_conf_boot_place(conf, (unsigned)mode,
							       edits[i].kind == OPT_FIRST
								       ? PV_EEPROM_BOOT_FIRST
								       : PV_EEPROM_BOOT_FALLBACK,
							       &target);
			}
			break;
		}
		if (rc) {
			status = cli_fail(rc);
			goto out_free;
		}
	}
	rc = pv_eeprom_conf_diff(before, conf, "a/bootconf.txt", "b/bootconf.txt", &diff,
				 &changed);
	if (rc) {
		status = cli_fail(rc);
		goto out_free;
	}
	status = write_config(&img, conf, board, "bootconf.txt", force, set_ts, ts, out);
	if (status == CLI_EXIT_OK) {
		fwrite(diff.data ? diff.data : (const unsigned char *)"", 1, diff.len, stdout);
		if (!changed)
			fputs("(config unchanged)\n", stdout);
	}
out_free:
	pv_buf_release(&diff);
	pv_eeprom_conf_free(before);
	pv_eeprom_conf_free(conf);
	pv_eeprom_release(&img);
	return status;
}

static int do_apply(int argc, char **argv, struct cli_context *ctx)
{
	enum { OPT_TS = 1000, OPT_FORCE, OPT_BOARD };
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "timestamp", required_argument, NULL, OPT_TS },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "board", required_argument, NULL, OPT_BOARD },
		{ NULL, 0, NULL, 0 },
	};
	struct pv_eeprom_image img = { 0 };
	struct pv_eeprom_conf *conf = NULL;
	const struct pv_board_type *board = NULL;
	const char *out = NULL;
	bool force = false, set_ts = false;
	uint32_t ts = 0;
	int c, rc, status;

	(void)ctx;

	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == OPT_FORCE)
			force = true;
		else if (c == OPT_BOARD && (board = board_arg(optarg)))
			continue;
		else if (c == OPT_TS && parse_ts(optarg, &ts) == 0)
			set_ts = true;
		else
			return c == '?' ? cli_usage_hint() : CLI_EXIT_USAGE;
	}
	if (argc - optind != 2 || !out)
		return cli_usage_error("expected IMAGE CONFIG -o OUT");
	rc = pv_eeprom_load(&img, argv[optind]);
	if (rc == 0)
		rc = pv_eeprom_conf_load(argv[optind + 1], &conf);
	if (rc)
		status = cli_fail(rc);
	else
		status = write_config(&img, conf, board, argv[optind + 1], force, set_ts, ts, out);
	pv_eeprom_conf_free(conf);
	pv_eeprom_release(&img);
	return status;
}

static int do_check(int argc, char **argv, struct cli_context *ctx)
{
	static const struct option longopts[] = {
		{ "board", required_argument, NULL, 'b' },
		{ "soc", required_argument, NULL, 's' },
		{ "image", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	struct pv_eeprom_conf_target t = { 0 };
	struct pv_eeprom_image img = { 0 };
	struct pv_eeprom_conf *conf = NULL;
	struct pv_eeprom_conf_issue *issues = NULL;
	const char *image = NULL;
	size_t n = 0, errors;
	int c, rc;

	while ((c = getopt_long(argc, argv, "b:s:i:", longopts, NULL)) != -1) {
		if (c == 'b') {
			t.board = board_arg(optarg);
			if (!t.board)
				return CLI_EXIT_USAGE;
			t.soc = pv_soc_info(t.board->soc);
		} else if (c == 's') {
			t.soc = pv_soc_by_name(optarg);
			if (!t.soc || !t.soc->eeprom_size)
				return cli_usage_error("unknown SoC '%s'", optarg);
		} else if (c == 'i') {
			image = optarg;
		} else {
			return c == '?' ? cli_usage_hint() : CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("expected one CONFIG");
	if (image) {
		struct pv_eeprom_info info;
		rc = pv_eeprom_load(&img, image);
		if (rc == 0)
			rc = pv_eeprom_file_capacity(&img, PV_EEPROM_BOOTCONF_TXT, &t.capacity);
		if (rc == 0 && pv_eeprom_get_info(&img, &info) == 0)
			t.build_timestamp = info.build_timestamp;
		if (rc) {
			pv_eeprom_release(&img);
			return cli_fail(rc);
		}
		if (t.soc && t.soc != img.soc)
			cli_warn("'%s' is a %s image, the board is %s", image, img.soc->name,
				 t.soc->name);
		if (!t.soc)
			t.soc = img.soc;
		pv_eeprom_release(&img);
	}
	rc = pv_eeprom_conf_load(argv[optind], &conf);
	if (rc == 0)
		rc = pv_eeprom_conf_validate(conf, &t, &issues, &n);
	pv_eeprom_conf_free(conf);
	if (rc)
		return cli_fail(rc);
	errors = pv_eeprom_conf_errors(issues, n);
	if (ctx->json) {
		rc = cli_print_json(issues_json(argv[optind], t.soc, issues, n, errors));
		free(issues);
		return rc ? rc : errors ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
	}
	print_issues(argv[optind], issues, n);
	free(issues);
	if (errors)
		return CLI_EXIT_FAILURE;
	printf("%s: OK (%zu warning%s)\n", argv[optind], n, n == 1 ? "" : "s");
	return CLI_EXIT_OK;
}

/* An image's bootconf.txt, or the file itself when it is not an image. */
static int load_conf_of(const char *path, struct pv_eeprom_conf **conf, bool *is_image)
{
	struct pv_eeprom_image img = { 0 };
	const unsigned char *data;
	size_t len;
	int rc = pv_eeprom_load(&img, path);

	if (rc == 0) {
		*is_image = true;
		rc = pv_eeprom_get_file(&img, PV_EEPROM_BOOTCONF_TXT, &data, &len);
		if (rc == 0)
			rc = pv_eeprom_conf_parse(data, len, path, conf);
		pv_eeprom_release(&img);
		return rc;
	}
	if (rc != PV_ERR_FORMAT)
		return rc;
	pv_clear_error();
	*is_image = false;
	return pv_eeprom_conf_load(path, conf);
}

static int do_diff(int argc, char **argv, struct cli_context *ctx)
{
	struct pv_eeprom_conf *a = NULL, *b = NULL;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX);
	bool img_a = false, img_b = false;
	size_t changed = 0;
	int rc, status = CLI_EXIT_OK;

	if ((rc = no_options(argc, argv)))
		return rc;
	if (argc - optind != 2)
		return cli_usage_error("expected A B (images or configs)");
	rc = load_conf_of(argv[optind], &a, &img_a);
	if (rc == 0)
		rc = load_conf_of(argv[optind + 1], &b, &img_b);
	if (rc == 0)
		rc = pv_eeprom_conf_diff(a, b, argv[optind], argv[optind + 1], &out, &changed);
	if (rc) {
		status = cli_fail(rc);
	} else {
		if (ctx->json)
			status = cli_print_json(json_pack(
				"{s:s, s:s, s:b, s:I, s:s%}", "a", argv[optind], "b",
				argv[optind + 1], "identical", changed == 0, "changed_lines",
				(json_int_t)changed, "diff", out.data ? (const char *)out.data : "",
				out.len));
		else
			fwrite(out.data ? out.data : (const unsigned char *)"", 1, out.len, stdout);
		/* Like diff(1): 1 when they differ. */
		if (status == CLI_EXIT_OK && changed)
			status = CLI_EXIT_FAILURE;
	}
	pv_buf_release(&out);
	pv_eeprom_conf_free(a);
	pv_eeprom_conf_free(b);
	return status;
}

/* Any file can be digested (rpi-eeprom-digest signs bootconf.txt and boot.img too); the
 * hash covers the bytes as stored. --soc takes the SoC from an EEPROM image, --soc=CHIP
 * names it. */
static int do_digest(int argc, char **argv, struct cli_context *ctx)
{
	enum { OPT_SOC = 1000, OPT_TS };
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "key", required_argument, NULL, 'k' },
		{ "soc", optional_argument, NULL, OPT_SOC },
		{ "timestamp", required_argument, NULL, OPT_TS },
		{ NULL, 0, NULL, 0 },
	};
	struct pv_eeprom_sig_options opt = { .timestamp = -1 };
	struct pv_eeprom_image img = { 0 };
	struct pv_buf data = PV_BUF_INIT(SIZE_MAX), sig = PV_BUF_INIT(SIZE_MAX);
	const char *out = NULL, *soc_name = NULL;
	bool with_soc = false;
	uint32_t ts;
	int c, rc;

	(void)ctx;

	while ((c = getopt_long(argc, argv, "o:k:", longopts, NULL)) != -1) {
		if (c == 'o') {
			out = optarg;
		} else if (c == 'k') {
			opt.private_key_path = optarg;
		} else if (c == OPT_SOC) {
			with_soc = true;
			soc_name = optarg;
		} else if (c == OPT_TS && parse_ts(optarg, &ts) == 0) {
			opt.timestamp = ts;
		} else {
			return c == '?' ? cli_usage_hint() : CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 1 || !out)
		return cli_usage_error("expected FILE -o SIG");
	if (soc_name) {
		opt.target_soc = pv_soc_by_name(soc_name);
		if (!opt.target_soc || !opt.target_soc->eeprom_size)
			return cli_usage_error("unknown SoC '%s' (2711 or 2712)",
					       soc_name);
	}
	rc = pv_file_read_raw(argv[optind], 64u * 1024u * 1024u, &data);
	if (rc)
		goto out_release;
	if (with_soc && !soc_name) {
		rc = pv_eeprom_parse(&img, data.data ? data.data : (const unsigned char *)"",
				     data.len, argv[optind]);
		if (rc)
			goto out_release;
		opt.target_soc = img.soc;
	}
	rc = pv_eeprom_sig_create(data.data ? data.data : (const unsigned char *)"", data.len,
				  &opt, &sig);
	if (rc == 0)
		rc = pv_file_write_atomic_flags(out, sig.data, sig.len, 0644, PV_FILE_STREAMS);
out_release:
	pv_buf_release(&data);
	pv_buf_release(&sig);
	pv_eeprom_release(&img);
	return rc ? cli_fail(rc) : CLI_EXIT_OK;
}

static int do_verify(int argc, char **argv, struct cli_context *ctx)
{
	static const struct option longopts[] = {
		{ "pubkey", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct pv_buf data = PV_BUF_INIT(SIZE_MAX), text = PV_BUF_INIT(SIZE_MAX);
	struct pv_eeprom_sig sig;
	const char *pubkey = NULL;
	int c, rc;

	memset(&sig, 0, sizeof(sig));
	while ((c = getopt_long(argc, argv, "p:", longopts, NULL)) != -1) {
		if (c != 'p')
			return c == '?' ? cli_usage_hint() : CLI_EXIT_USAGE;
		pubkey = optarg;
	}
	if (argc - optind != 2)
		return cli_usage_error("expected IMAGE SIG");
	/* The digest covers the file as stored: read it raw. */
	rc = pv_file_read_raw(argv[optind], 64u * 1024u * 1024u, &data);
	if (rc == 0)
		rc = pv_file_read_raw(argv[optind + 1], SIG_FILE_LIMIT, &text);
	if (rc == 0)
		rc = pv_eeprom_sig_parse(text.data, text.len, argv[optind + 1], &sig);
	if (rc == 0)
		rc = pv_eeprom_sig_verify(data.data ? data.data : (const unsigned char *)"",
					  data.len, &sig, pubkey);
	pv_buf_release(&data);
	pv_buf_release(&text);
	if (ctx->json) {
		/* A failed check is a report too: {"ok": false, "reason": ...}, exit 1. */
		json_t *o = json_pack("{s:s, s:s, s:b}", "file", argv[optind], "signature",
				      argv[optind + 1], "ok", rc == 0);
		if (o && rc)
			json_object_set_new(o, "reason", json_string(pv_last_error()));
		if (o && !rc) {
			json_object_set_new(o, "sha256", json_string(sig.sha256_hex));
			json_object_set_new(o, "rsa2048_verified", json_boolean(pubkey != NULL));
			json_object_set_new(o, "target_soc", sig.target_soc[0]
								     ? json_string(sig.target_soc)
								     : json_null());
			json_object_set_new(o, "timestamp",
					    sig.has_timestamp
						    ? json_integer((json_int_t)sig.timestamp)
						    : json_null());
		}
		c = cli_print_json(o);
		return rc ? cli_fail(rc) : c;
	}
	if (rc)
		return cli_fail(rc);
	printf("%s: OK (sha256%s%s%s)\n", argv[optind], pubkey ? " and rsa2048 signature" : "",
	       sig.target_soc[0] ? ", target-soc " : "", sig.target_soc);
	return CLI_EXIT_OK;
}

static int do_synth(int argc, char **argv, struct cli_context *ctx)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "ab", no_argument, NULL, 'a' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct pv_eeprom_synth_options opt = { 0 };
	struct pv_buf conf = PV_BUF_INIT(SIZE_MAX), image = PV_BUF_INIT(SIZE_MAX);
	const struct pv_soc_info *soc;
	const char *out = NULL, *config = NULL;
	int c, rc = 0;

	(void)ctx;

	while ((c = getopt_long(argc, argv, "o:c:", longopts, NULL)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'a')
			opt.ab = true;
		else if (c == 'c')
			config = optarg;
		else
			return c == '?' ? cli_usage_hint() : CLI_EXIT_USAGE;
	}
	if (argc - optind != 1 || !out)
		return cli_usage_error("expected SOC -o OUT");
	soc = pv_soc_by_name(argv[optind]);
	if (!soc || !soc->eeprom_size)
		return cli_usage_error("unknown SoC '%s' (2711 or 2712)", argv[optind]);
	if (config) {
		rc = pv_file_read_raw(config, PV_EEPROM_MAX_FILE_SIZE + 1, &conf);
		opt.bootconf = conf.data ? conf.data : (const unsigned char *)"";
		opt.bootconf_len = conf.len;
	}
	if (rc == 0)
		rc = pv_eeprom_synthesize(soc->soc, &opt, &image);
	if (rc == 0)
		rc = pv_file_write_atomic_flags(out, image.data, image.len, 0644, PV_FILE_STREAMS);
	pv_buf_release(&conf);
	pv_buf_release(&image);
	return rc ? cli_fail(rc) : CLI_EXIT_OK;
}

void cmd_eeprom_usage(FILE *out)
{
	usage(out);
}

const struct cli_command cli_eeprom_commands[] = {
	{ "info", do_info, "SoC, versions, sections, capacity, signing", CLI_JSON },
	{ "config", do_config, "print bootconf.txt", CLI_JSON },
	{ "set", do_set, "edit the config, print the diff" },
	{ "apply", do_apply, "replace the config" },
	{ "check", do_check, "validate a config", CLI_JSON },
	{ "diff", do_diff, "compare two configs", CLI_JSON },
	{ "digest", do_digest, "write a .sig" },
	{ "verify", do_verify, "check a .sig", CLI_JSON },
	{ "synth", do_synth, "build a synthetic image" },
	{ NULL, NULL, NULL },
};
