/* piprov eeprom-config: a drop-in for rpi-eeprom-config's command line. Same options, same
 * output bytes on success; on failure a non-zero exit and no output file (the official
 * tool truncates --out first). Deliberate differences: docs/eeprom.md. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "piprov/eeprom.h"
#include "piprov/fileio.h"
#include "piprov/node.h"
#include "piprov/text.h"
#include "banned.h"

#define INPUT_FILE_LIMIT (4u * 1024u * 1024u)
#define HASH_RULE "################################################################################"

struct options {
	const char *config, *out, *digest, *pubkey, *cacert, *timestamp, *bootcode, *bootsys;
	const char *apply, *image;
	const char *root;     /* --root: the board's root directory (a sysroot in tests) */
	bool extract, edit;
};

static void usage(FILE *f)
{
	fputs("usage: piprov eeprom-config [-c CONFIG] [-o OUT] [-d DIGEST] [-p PUBKEY]\n"
	      "                            [--cacertder DER] [-t TIMESTAMP] [-b BOOTCODE]\n"
	      "                            [-s BOOTSYS] [-x] [--debug] [EEPROM]\n"
	      "       piprov eeprom-config [--root DIR] (-a CONFIG | -e) [EEPROM]\n\n"
	      "A drop-in for rpi-eeprom-config (see piprov-eeprom(1)):\n"
	      "  EEPROM                 print (or --out) its bootconf.txt\n"
	      "  -c CONFIG -o OUT EEPROM  write a new image with CONFIG as bootconf.txt\n"
	      "  -d/--digest SIG, -p/--pubkey PEM  with -c: bootconf.sig and pubkey.bin\n"
	      "  --cacertder DER, -b/--bootcode, -s/--bootsys, -t/--timestamp N\n"
	      "  -x/--extract EEPROM    write every file section and bootcode.bin here\n"
	      "  (no EEPROM)            print the running Pi's bootloader config\n"
	      "  -a/--apply CONFIG [EEPROM]  on a Pi 4/5 (root): stage EEPROM (default: the\n"
	      "                         newest release) with CONFIG as bootconf.txt\n"
	      "  -e/--edit [EEPROM]     $EDITOR (default nano) on the current config, then apply\n"
	      "  --root DIR             the board's root directory (default /; a sysroot)\n"
	      "The image is written to OUT (atomically) or to standard output.\n",
	      f);
}

/* Read an input file exactly as stored (no gzip detection: the bytes go into the image). */
static int read_input(const char *path, struct pv_buf *buf, struct pv_eeprom_blob *blob)
{
	int rc = pv_file_read_raw(path, INPUT_FILE_LIMIT, buf);

	if (rc)
		return rc;
	blob->data = buf->data ? buf->data : (const unsigned char *)"";
	blob->len = buf->len;
	blob->source = path;
	return PV_OK;
}

static int write_output(const char *out, const void *data, size_t len)
{
	int rc;

	if (!out) {
		if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
			return cli_error("cannot write to standard output: %s", strerror(errno));
		return CLI_EXIT_OK;
	}
	rc = pv_file_write_atomic_flags(out, data, len, 0644, PV_FILE_STREAMS);
	return rc ? cli_fail(rc) : CLI_EXIT_OK;
}

static int extract_files(const struct pv_eeprom_image *img)
{
	const unsigned char *data;
	size_t len;
	int rc;

	rc = pv_eeprom_get_file(img, PV_EEPROM_BOOTCODE_BIN, &data, &len);
	if (rc == 0)
		rc = pv_file_write_atomic(PV_EEPROM_BOOTCODE_BIN, data, len, 0644);
	for (size_t i = 0; rc == 0 && i < img->nsections; i++) {
		const char *name = img->sections[i].name;
		if (img->sections[i].magic != PV_EEPROM_MAGIC_FILE)
			continue;
		/* A name from the image must not escape the current directory. */
		if (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0 ||
		    strcmp(name, "..") == 0) {
			cli_warn("skipping file section with unsafe name '%s'", name);
			continue;
		}
		rc = pv_eeprom_get_file(img, name, &data, &len);
		if (rc == 0)
			rc = pv_file_write_atomic(name, data, len, 0644);
	}
	return rc ? cli_fail(rc) : CLI_EXIT_OK;
}

/* The board under root ("/" normally; --root for a sysroot). Prints the failure. */
static int read_board(const char *root_path, struct pv_node_root *root,
		      struct pv_node_identity *id)
{
	int rc = pv_node_root_open(root, root_path);

	pv_node_identity_init(id);
	if (rc == 0 && (rc = pv_node_identity_read_board(root, id)))
		pv_node_root_close(root);
	if (rc) {
		pv_node_identity_release(id);
		return cli_fail(rc);
	}
	return CLI_EXIT_OK;
}

/* The running Pi's config: the blconfig nvmem cell when the device tree names one, else
 * the firmware's bootloader_config (rpi-eeprom-config's read_current_config()), read by
 * the node library. */
static int print_current_config(const char *root_path, const char *out)
{
	struct pv_node_root root;
	struct pv_node_identity id;
	int rc = read_board(root_path, &root, &id);

	if (rc)
		return rc;
	if (id.eeprom_config_source == PV_NODE_SRC_NONE)
		rc = cli_error("cannot read the current bootloader config: no blconfig nvmem "
			       "device and no firmware mailbox (not a Raspberry Pi 4/5?)");
	else
		rc = write_output(out, pv_buf_str(&id.eeprom_config), id.eeprom_config.len);
	pv_node_identity_release(&id);
	pv_node_root_close(&root);
	return rc;
}

/* --apply CONFIG [EEPROM]: CONFIG's bytes become bootconf.txt of EEPROM (default: the
 * newest release image, as `rpi-eeprom-update -l`), staged as `rpi-eeprom-update -d -f`
 * does: backup, pieeprom.upd + pieeprom.sig + recovery.bin in the boot partition. */
static int apply_config(struct pv_node_root *root, const struct pv_node_identity *id,
			const char *image, const struct pv_buf *config, const char *config_path,
			const char *config_src)
{
	struct pv_node_netboot_request req = { 0 };
	struct pv_node_netboot_plan plan;
	char backup[600];
	int rc;

	pv_node_netboot_plan_init(&plan);
	req.config = config->data ? config->data : (const unsigned char *)"";
	req.config_len = config->len;
	req.config_name = config_path;
	req.image = image;
	req.now = (int64_t)time(NULL);
	if ((rc = pv_node_netboot_prepare(root, id, &req, &plan))) {
		rc = cli_fail(rc);
		goto out_release_plan;
	}
	for (const char *w = pv_buf_str(&plan.warnings); *w; w += strcspn(w, "\n") + 1)
		cli_warn("%.*s", (int)strcspn(w, "\n"), w);
	printf("Updating bootloader EEPROM\n image: %s%s\nconfig_src: %s\nconfig: %s\n%s\n%s\n"
	       "%s\n", image || plan.image_path[0] == '/' ? "" : "/", plan.image_path,
	       config_src ? config_src : "", config_path, HASH_RULE, pv_buf_str(config), HASH_RULE);
	if ((rc = pv_node_backup_config(root, &plan, req.now, backup, sizeof(backup))) ||
	    (rc = pv_node_netboot_stage(root, &plan, NULL, NULL))) {
		rc = cli_fail(rc);
		goto out_release_plan;
	}
	printf("\n*** To cancel this update remove pieeprom.upd, pieeprom.sig and recovery.bin "
	       "from '/%s' (or run 'sudo rpi-eeprom-update -r') ***\n\n"
	       "previous config saved as '/%s'\nstaged in '/%s': reboot to apply\n",
	       plan.bootfs, backup, plan.bootfs);
	rc = CLI_EXIT_OK;
out_release_plan:
	pv_node_netboot_plan_release(&plan);
	return rc;
}

/* The board an update is staged on: root privileges on a real root, and an EEPROM. Prints
 * the failure; on success the caller closes root and releases id. */
static int open_board_for_update(const char *root_path, struct pv_node_root *root,
				 struct pv_node_identity *id)
{
	int rc;

	if (strcmp(root_path, "/") == 0 && geteuid() != 0)
		return cli_error("--edit/--apply must be run as root");
	if ((rc = read_board(root_path, root, id)))
		return rc;
	if (!pv_node_identity_has_eeprom(id)) {
		pv_node_identity_release(id);
		pv_node_root_close(root);
		return cli_error("--edit/--apply must run on a Raspberry Pi 4 or Raspberry Pi 5");
	}
	return CLI_EXIT_OK;
}

static int apply_file(const char *root_path, const char *image, const char *path)
{
	struct pv_buf config = PV_BUF_INIT(SIZE_MAX);
	struct pv_node_root root;
	struct pv_node_identity id;
	int rc = pv_file_read_raw(path, INPUT_FILE_LIMIT, &config);

	if (rc) {
		rc = cli_fail(rc);
		goto out_release_config;
	}
	if ((rc = open_board_for_update(root_path, &root, &id)))
		goto out_release_config;
	rc = apply_config(&root, &id, image, &config, path, NULL);
	pv_node_identity_release(&id);
	pv_node_root_close(&root);
out_release_config:
	pv_buf_release(&config);
	return rc;
}

/* --edit: the current config (a staged update's, else the running one) in $EDITOR, then
 * --apply of the result. */
static int edit_config(const char *root_path, const char *image)
{
	struct pv_buf config = PV_BUF_INIT(SIZE_MAX);
	struct pv_node_root root;
	struct pv_node_identity id;
	char dir[PATH_MAX], path[PATH_MAX + 16], source[320];
	const char *tmp = getenv("TMPDIR");
	size_t lines = 0;
	int rc;

	if ((rc = open_board_for_update(root_path, &root, &id)))
		goto out_release_config;
	if ((rc = pv_node_edit_source(&root, &id, &config, source, sizeof(source)))) {
		rc = cli_fail(rc);
		goto out_close_board;
	}
	snprintf(dir, sizeof(dir), "%s/piprov-eeprom-config-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		rc = cli_error("cannot create a temporary folder '%s': %s", dir, strerror(errno));
		goto out_close_board;
	}
	snprintf(path, sizeof(path), "%s/boot.conf", dir);
	rc = pv_file_write_atomic(path, pv_buf_str(&config), config.len, 0600);
	if (rc == 0)
		rc = pv_node_run_editor(path);
	pv_buf_reset(&config);
	if (rc == 0)
		rc = pv_file_read_raw(path, INPUT_FILE_LIMIT, &config);
	if (rc) {
		rc = cli_fail(rc);
		goto out_remove_dir;
	}
	for (size_t i = 0; i < config.len; i++)
		lines += config.data[i] == '\n' || i + 1 == config.len;
	if (lines < 2)
		rc = cli_error("aborting update because '%s' appears to be empty", path);
	else
		rc = apply_config(&root, &id, image, &config, path, source);
out_remove_dir:
	unlink(path);
	rmdir(dir);
out_close_board:
	pv_node_identity_release(&id);
	pv_node_root_close(&root);
out_release_config:
	pv_buf_release(&config);
	return rc;
}

static int modify_or_read(const struct options *o)
{
	struct pv_buf bufs[7];
	struct pv_eeprom_blob config, digest, pubkey, cacert, bootcode, bootsys;
	struct pv_eeprom_edits edits = { 0 };
	struct pv_eeprom_image img = { 0 };
	const unsigned char *data;
	size_t len;
	uint32_t ts;
	int rc, status;

	for (size_t i = 0; i < 7; i++)
		pv_buf_init(&bufs[i], SIZE_MAX);
	rc = pv_eeprom_load(&img, o->image);
	if (rc) {
		status = cli_fail(rc);
		goto out_release;
	}
	if (o->timestamp) {
		if (pv_parse_u32(o->timestamp, 10, &ts) != 0) {
			status = cli_error("'--timestamp': not a 32-bit decimal number: '%s'",
					   o->timestamp);
			goto out_release;
		}
		edits.set_timestamp = true;
		edits.timestamp = ts;
	}
	if (o->config && !pv_path_exists(o->config)) {
		status = cli_error("config file '%s' not found", o->config);
		goto out_release;
	}
	if (!o->config && (o->digest || o->pubkey))
		cli_warn("--digest and --pubkey are only used together with --config (ignored)");
	rc = 0;
	if (o->bootcode && (rc = read_input(o->bootcode, &bufs[0], &bootcode)) == 0)
		edits.bootcode = &bootcode;
	if (rc == 0 && o->bootsys && (rc = read_input(o->bootsys, &bufs[1], &bootsys)) == 0)
		edits.bootsys = &bootsys;
	if (rc == 0 && o->cacert && (rc = read_input(o->cacert, &bufs[2], &cacert)) == 0)
		edits.cacert = &cacert;
	if (rc == 0 && o->config && (rc = read_input(o->config, &bufs[3], &config)) == 0)
		edits.config = &config;
	if (rc == 0 && o->config && o->digest &&
	    (rc = read_input(o->digest, &bufs[4], &digest)) == 0)
		edits.digest = &digest;
	if (rc == 0 && o->config && o->pubkey &&
	    (rc = read_input(o->pubkey, &bufs[5], &pubkey)) == 0)
		edits.pubkey_pem = &pubkey;
	if (rc) {
		status = cli_fail(rc);
		goto out_release;
	}
	/* The official tool forgets --bootsys here and prints bootconf.txt instead. */
	if (o->config || o->timestamp || o->bootcode || o->cacert || o->bootsys) {
		rc = pv_eeprom_apply_edits(&img, &edits);
		if (rc) {
			status = cli_fail(rc);
			goto out_release;
		}
		if (o->out) {
			rc = pv_eeprom_save(&img, o->out);
			status = rc ? cli_fail(rc) : CLI_EXIT_OK;
		} else {
			status = write_output(NULL, img.data, img.size);
		}
		goto out_release;
	}
	rc = pv_eeprom_get_file(&img, PV_EEPROM_BOOTCONF_TXT, &data, &len);
	status = rc ? cli_fail(rc) : write_output(o->out, data, len);
out_release:
	pv_eeprom_release(&img);
	for (size_t i = 0; i < 7; i++)
		pv_buf_release(&bufs[i]);
	return status;
}

int cmd_eeprom_config(int argc, char **argv, struct cli_context *ctx)
{
	enum { OPT_CACERT = 1000, OPT_DEBUG };
	static const struct option longopts[] = {
		{ "apply", required_argument, NULL, 'a' },
		{ "config", required_argument, NULL, 'c' },
		{ "edit", no_argument, NULL, 'e' },
		{ "out", required_argument, NULL, 'o' },
		{ "digest", required_argument, NULL, 'd' },
		{ "pubkey", required_argument, NULL, 'p' },
		{ "extract", no_argument, NULL, 'x' },
		{ "bootcode", required_argument, NULL, 'b' },
		{ "bootsys", required_argument, NULL, 's' },
		{ "timestamp", required_argument, NULL, 't' },
		{ "cacertder", required_argument, NULL, OPT_CACERT },
		{ "debug", no_argument, NULL, OPT_DEBUG },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* --root is a global option (ctx->root, also $PIPROV_ROOT). */
	struct options o = { .root = ctx->root ? ctx->root : "/" };
	struct pv_eeprom_image img = { 0 };
	int c, rc;

	while ((c = getopt_long(argc, argv, "a:c:eo:d:p:xb:s:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': o.apply = optarg; break;
		case 'c': o.config = optarg; break;
		case 'e': o.edit = true; break;
		case 'o': o.out = optarg; break;
		case 'd': o.digest = optarg; break;
		case 'p': o.pubkey = optarg; break;
		case 'x': o.extract = true; break;
		case 'b': o.bootcode = optarg; break;
		case 's': o.bootsys = optarg; break;
		case 't': o.timestamp = optarg; break;
		case OPT_CACERT: o.cacert = optarg; break;
		case OPT_DEBUG:
			pv_log_set_level(PV_LOG_DEBUG);
			ctx->verbosity = 2;
			break;
		case 'h': usage(stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(); /* one line, not the whole usage */
		}
	}
	if (optind < argc)
		o.image = argv[optind++];
	if (optind < argc)
		return cli_usage_error("unexpected argument '%s'", argv[optind]);

	if (o.edit)
		return edit_config(o.root, o.image);
	if (o.apply)
		return apply_file(o.root, o.image, o.apply);
	if (o.image && o.extract) {
		rc = pv_eeprom_load(&img, o.image);
		if (rc)
			return cli_fail(rc);
		rc = extract_files(&img);
		pv_eeprom_release(&img);
		return rc;
	}
	if (o.image)
		return modify_or_read(&o);
	if (o.config)
		return cli_usage_error("--config needs an EEPROM image to modify");
	return print_current_config(o.root, o.out);
}
