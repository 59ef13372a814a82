/* piprov eeprom-config: a drop-in for rpi-eeprom-config's command line. Same options, same
 * output bytes on success; on failure a non-zero exit and no output file (the official
 * tool truncates --out first). Deliberate differences: docs/eeprom.md. */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "piprov/eeprom.h"
#include "piprov/fileio.h"
#include "piprov/text.h"
#include "banned.h"

#define INPUT_FILE_LIMIT (4u * 1024u * 1024u)
#define CURRENT_CONFIG_LIMIT (64u * 1024u)

struct options {
	const char *config, *out, *digest, *pubkey, *cacert, *timestamp, *bootcode, *bootsys;
	const char *apply, *image;
	bool extract, edit;
};

static void usage(FILE *f)
{
	fputs("usage: piprov eeprom-config [-c CONFIG] [-o OUT] [-d DIGEST] [-p PUBKEY]\n"
	      "                            [--cacertder DER] [-t TIMESTAMP] [-b BOOTCODE]\n"
	      "                            [-s BOOTSYS] [-x] [--debug] [EEPROM]\n\n"
	      "A drop-in for rpi-eeprom-config (see piprov-eeprom(1)):\n"
	      "  EEPROM                 print (or --out) its bootconf.txt\n"
	      "  -c CONFIG -o OUT EEPROM  write a new image with CONFIG as bootconf.txt\n"
	      "  -d/--digest SIG, -p/--pubkey PEM  with -c: bootconf.sig and pubkey.bin\n"
	      "  --cacertder DER, -b/--bootcode, -s/--bootsys, -t/--timestamp N\n"
	      "  -x/--extract EEPROM    write every file section and bootcode.bin here\n"
	      "  (no EEPROM)            print the running Pi's bootloader config\n"
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
	rc = pv_file_write_atomic(out, data, len, 0644);
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

/* The running Pi's config: the blconfig nvmem cell when the device tree names one, else
 * `vcgencmd bootloader_config` (rpi-eeprom-config's read_current_config()). */
static int read_current_config(struct pv_buf *out)
{
	const char *base = "/sys/firmware/devicetree/base";
	struct pv_buf alias = PV_BUF_INIT(SIZE_MAX);
	char node[PATH_MAX], real[PATH_MAX], of_node[PATH_MAX], *dt_path;
	glob_t g;
	FILE *p;
	int rc = PV_ERR_NOT_FOUND;

	if (pv_file_read_raw("/sys/firmware/devicetree/base/aliases/blconfig", 4096, &alias) == 0 &&
	    alias.len) {
		snprintf(node, sizeof(node), "%s%s", base, pv_buf_str(&alias));
		dt_path = realpath(node, real);
		if (dt_path && glob("/sys/bus/nvmem/devices/*", 0, NULL, &g) == 0) {
			for (size_t i = 0; rc != 0 && i < g.gl_pathc; i++) {
				char link[PATH_MAX], nvmem[PATH_MAX];
				snprintf(link, sizeof(link), "%s/of_node", g.gl_pathv[i]);
				if (!realpath(link, of_node) || !strstr(real, of_node))
					continue;
				snprintf(nvmem, sizeof(nvmem), "%s/nvmem", g.gl_pathv[i]);
				rc = pv_file_read_raw(nvmem, CURRENT_CONFIG_LIMIT, out);
			}
			globfree(&g);
		}
	}
	pv_buf_release(&alias);
	if (rc == 0) {
		/* The nvmem cell is NUL-padded; the official tool decodes it as text. */
		size_t len = strnlen((const char *)out->data, out->len);
		pv_buf_truncate(out, len);
		return CLI_EXIT_OK;
	}
	pv_clear_error();
	p = popen("vcgencmd bootloader_config 2>/dev/null", "r");
	if (!p)
		return cli_error("cannot run 'vcgencmd bootloader_config': %s", strerror(errno));
	for (;;) {
		char chunk[4096];
		size_t got = fread(chunk, 1, sizeof(chunk), p);
		if (got == 0)
			break;
		if (pv_buf_append(out, chunk, got) != 0 || out->len > CURRENT_CONFIG_LIMIT) {
			pclose(p);
			return cli_error("'vcgencmd bootloader_config': output too large");
		}
	}
	if (pclose(p) != 0)
		return cli_error("cannot read the current bootloader config: no blconfig nvmem "
				 "device and 'vcgencmd bootloader_config' failed (not a Raspberry "
				 "Pi 4/5?)");
	return CLI_EXIT_OK;
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
	struct options o = { 0 };
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
		default: usage(stderr); return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		o.image = argv[optind++];
	if (optind < argc)
		return cli_usage_error("eeprom-config: unexpected argument '%s'", argv[optind]);

	if (o.edit || o.apply)
		return cli_error("--edit/--apply schedule an update on a running Pi: use "
				 "rpi-eeprom-config there, or 'piprov-node'");
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
		return cli_usage_error("eeprom-config: --config needs an EEPROM image to modify");
	{
		struct pv_buf conf = PV_BUF_INIT(SIZE_MAX);
		rc = read_current_config(&conf);
		if (rc == CLI_EXIT_OK)
			rc = write_output(o.out, conf.data ? conf.data : (const unsigned char *)"",
					  conf.len);
		pv_buf_release(&conf);
		return rc;
	}
}
