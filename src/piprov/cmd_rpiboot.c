/* piprov rpiboot: a drop-in for rpiboot's command line (-d -l -o -v -m -p -i -j -s -V -0..-98)
 * on top of the same engine as `piprov usb boot`, printing upstream's lines (rpiboot_view.c;
 * the option table in docs/usb.md). Differences that are fixes, not breaks: several boards
 * are served at once, the exit status is 0/1/2 instead of always 0 (or 255), metadata JSON
 * is escaped, and nothing outside the served folders is read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "internal.h"
#include "piprov/fileio.h"
#include "piprov/log.h"
#include "piprov/text.h"
#include "piprov/usb.h"
#include "rpiboot_view.h"
#include "usb_run.h"
#include "banned.h"

#define DEFAULT_MSG_DIR RPIBOOT_DEFAULT_MSG_DIR
#define LOCAL_MSG_DIR "mass-storage-gadget64/"
#define VIRTUAL_MAX 64

/* Where upstream's Makefile (`make install`: INSTALL_PREFIX/share/rpiboot, /usr by default,
 * often /usr/local) and its Debian package (pios/trixie debian/rpiboot.install:
 * usr/share/rpiboot/) put the mass-storage folder and the msd/ files rpiboot embeds.
 * $PIPROV_RPIBOOT_SHARE replaces both (docs/usb.md). */
static const char *const share_dirs[] = { "/usr/share/rpiboot", "/usr/local/share/rpiboot" };

/* SHARE/<sub> of the first share folder that has it (malloc'd), NULL when none. */
static char *find_shared(const char *sub)
{
	const char *env = getenv("PIPROV_RPIBOOT_SHARE");
	size_t count = env && *env ? 1 : PV_ARRAY_SIZE(share_dirs);

	for (size_t i = 0; i < count; i++) {
		char *path = NULL;

		if (asprintf(&path, "%s/%s", env && *env ? env : share_dirs[i], sub) < 0)
			return NULL;
		if (access(path, X_OK) == 0)
			return path;
		free(path);
	}
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: piprov rpiboot [options]   (drop-in for rpiboot)\n"
		"  -d DIR      boot directory (default " DEFAULT_MSG_DIR ")\n"
		"  -o          look in DIR/<usb port path>/ first (needs -d)\n"
		"  -l          loop: serve boards until interrupted\n"
		"  -m N        accepted for compatibility (piprov does not poll)\n"
		"  -v, -vv     verbose (global options of piprov, as -q, --json)\n"
		"  -p PATH     only the board on this port path (e.g. 1-1.3.2)\n"
		"  -0 ... -98  only boards on this port number of their hub\n"
		"  -i SERIAL   only the board with this USB serial\n"
		"  -j [DIR]    metadata JSON in DIR/<serial>.json (stdout without DIR)\n"
		"  -s          signed boot (BCM2835-2837): needs DIR/bootsig.bin; sends the 20\n"
		"              bytes of DIR/bootcode.sig in the boot message\n"
		"  -V          version\n"
		"  --timeout S give up when no board appears for S seconds (default: wait)\n"
		"  --virtual SPEC  serve virtual boards (piprov-virtual(7)); --real: real ones too\n"
		"Exit status: 0 served, 1 failed, 2 usage error.\n");
}

static int check_boot_dir(const char *dir, bool use_bootfiles)
{
	struct pv_usb_files_config fc = { .dir = dir, .use_bootfiles = use_bootfiles };
	struct pv_usb_files *files;
	bool found = false;
	int rc = pv_usb_files_new(&fc, &files);

	if (rc)
		return rc;
	for (size_t i = 0; !found && pv_soc_at(i); i++) {
		const struct pv_soc_info *soc = pv_soc_at(i);
		struct pv_usb_served_file f;

		if (pv_usb_files_open(files, soc->rpiboot_folder, "", soc->second_stage, &f) ==
		    PV_OK) {
			found = true;
			pv_usb_served_file_close(&f);
		}
	}
	pv_usb_files_free(files);
	return found ? PV_OK : PV_ERR_NOT_FOUND;
}

/* rpiboot checks for DIR/bootsig.bin when -s is given but sends DIR/bootcode.sig: a folder
 * prepared for it has both, and one without bootsig.bin is refused the same way. */
static bool signed_boot_marker_present(const char *dir)
{
	char *marker = NULL;
	bool present;

	if (asprintf(&marker, "%s/bootsig.bin", dir) < 0)
		return false;
	present = access(marker, R_OK) == 0;
	free(marker);
	return present;
}

int cmd_rpiboot(int argc, char **argv, struct cli_context *ctx)
{
	struct usb_run run;
	const char *dir = NULL, *path = NULL;
	bool overlay = false, signed_boot = false, bootfiles = false;
	const char *virtuals[VIRTUAL_MAX];
	struct rpiboot_view *view = NULL;
	char *bootfiles_path = NULL, *default_dir = NULL, *msd_dir = NULL;
	struct pv_usb_files_config fc = { 0 };
	struct pv_usb_files *files = NULL;
	struct pv_usb_payload_set *set = NULL;
	uint32_t number;
	int status, rc;

	usb_run_init(&run, ctx);
	run.count = 1;
	run.timeout_s = 0; /* rpiboot waits for a board as long as it takes */
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			usage(stdout);
			return CLI_EXIT_OK;
		} else if (strcmp(arg, "-V") == 0) {
			rpiboot_view_version(stdout);
			return CLI_EXIT_OK;
		} else if (strcmp(arg, "-d") == 0 && next) {
			dir = argv[++i];
		} else if (strcmp(arg, "-o") == 0) {
			overlay = true;
		} else if (strcmp(arg, "-l") == 0) {
			run.loop = true;
			run.count = 0;
		} else if (strcmp(arg, "-m") == 0 && next) {
			if (pv_parse_u32(argv[++i], 10, &number) || number == 0)
				return cli_usage_error("-m '%s': microseconds > 0", argv[i]);
		} else if (strcmp(arg, "-p") == 0 && next) {
			path = argv[++i];
		} else if (strcmp(arg, "-i") == 0 && next) {
			run.serial = argv[++i];
		} else if (strcmp(arg, "-j") == 0) {
			if (next && next[0] != '-')
				run.metadata_dir = argv[++i];
			else
				run.metadata_stdout = true;
		} else if (strcmp(arg, "-s") == 0) {
			signed_boot = true;
		} else if (strcmp(arg, "--virtual") == 0 && next) {
			if (run.virtual_count == VIRTUAL_MAX)
				return cli_usage_error("rpiboot: more than %d --virtual specs",
						       VIRTUAL_MAX);
			virtuals[run.virtual_count++] = argv[++i];
			run.virtual_specs = virtuals;
		} else if (strcmp(arg, "--real") == 0) {
			run.real = true;
		} else if (strcmp(arg, "--timeout") == 0 && next) {
			unsigned ms;
			if (usb_parse_seconds(argv[++i], &ms))
				return cli_usage_error("--timeout '%s': seconds", argv[i]);
			run.timeout_s = (ms + 999) / 1000;
		} else if (arg[0] == '-' && pv_parse_u32(arg + 1, 10, &number) == PV_OK &&
			   number <= 98) {
			run.port_number = (int)number;
		} else {
			return cli_usage_error("unrecognized or incomplete option '%s'", arg);
		}
	}
	if (overlay && !dir)
		return cli_usage_error("-o needs -d DIR");
	if (path && run.port_number >= 0)
		return cli_usage_error("-p and -N exclude each other");
	if (signed_boot && !dir)
		return cli_usage_error("-s needs -d DIR (for bootcode.sig)");
	if (signed_boot && !signed_boot_marker_present(dir))
		return cli_usage_error("-s: '%s/bootsig.bin' not found (rpiboot requires it "
				       "with -s; the signature sent is '%s/bootcode.sig')",
				       dir, dir);
	if (dir && check_boot_dir(dir, true) != PV_OK)
		return cli_usage_error("no 'bootcode' files found in '%s'", dir);
	if (path) {
		run.ports = &path;
		run.port_count = 1;
	}
	/* Without -d: upstream's default folder, if installed (else memory only); either way
	 * the msd/ files rpiboot would serve from its own copy, where its package puts them. */
	if (!dir) {
		/* rpiboot's second try is mass-storage-gadget64/ under the current folder. */
		default_dir = find_shared("mass-storage-gadget64/");
		if (!default_dir && access(LOCAL_MSG_DIR, X_OK) == 0)
			default_dir = strdup(LOCAL_MSG_DIR);
	}
	msd_dir = find_shared("msd");
	fc.dir = dir ? dir : default_dir;
	fc.overlay = overlay;
	fc.use_bootfiles = true;
	fc.msd_dir = msd_dir;
	rc = pv_usb_files_new(&fc, &files);
	if (rc) {
		free(default_dir);
		free(msd_dir);
		return cli_fail(rc);
	}
	if (dir) {
		char *marker = NULL;

		if (asprintf(&marker, "%s/bootfiles.bin", dir) > 0 && access(marker, R_OK) == 0) {
			bootfiles = true;
			bootfiles_path = marker;
		} else {
			free(marker);
		}
	}
	rc = pv_usb_boot_payloads_new(files, &set);
	if (rc)
		goto out_free_files;
	if (signed_boot) {
		struct pv_buf sig = PV_BUF_INIT(SIZE_MAX);
		char *sig_path = NULL;

		if (asprintf(&sig_path, "%s/bootcode.sig", dir) < 0) {
			rc = PV_ERR_NOMEM;
			goto out_free_set;
		}
		rc = pv_file_read_raw(sig_path, 4096, &sig);
		if (!rc && sig.len < 20)
			rc = PV_ERR_FORMAT;
		if (rc) {
			pv_buf_release(&sig);
			status = cli_error("rpiboot -s: '%s' must hold a 20-byte signature",
					   sig_path);
			free(sig_path);
			goto out_free_set_status;
		}
		pv_usb_boot_payloads_set_signature(set, sig.data);
		pv_buf_release(&sig);
		free(sig_path);
	}
	run.mode = PV_USB_JOB_BOOT;
	run.payload = pv_usb_payload_set_get;
	run.payload_user = set;
	run.json = ctx->json;
	if (!ctx->json) {
		/* Upstream's output on stdout; piprov's own progress lines are not printed. */
		view = calloc(1, sizeof(*view));
		if (!view) {
			rc = PV_ERR_NOMEM;
			goto out_free_set;
		}
		rpiboot_view_init(view, stdout, ctx->verbosity, dir, run.metadata_dir);
		view->served_dir = fc.dir;
		view->local_dir = !dir && default_dir && strcmp(default_dir, LOCAL_MSG_DIR) == 0;
		/* NULL: upstream's DEFAULT_MSG_DIR is named (also when only ./ has one). */
		view->default_label = dir || view->local_dir ? NULL : default_dir;
		/* rpiboot's -v is its own verbose output: piprov's progress log lines only
		 * with -vv. */
		if (!ctx->quiet && ctx->verbosity < 2)
			pv_log_set_level(PV_LOG_WARN);
		view->loop = run.loop;
		run.event = rpiboot_view_event;
		run.event_user = view;
		run.metadata_stdout = false; /* the view prints it as it arrives */
	}
	if (view)
		rpiboot_view_start(view, bootfiles ? bootfiles_path : NULL);
	status = usb_run_job(&run);
out_free_set_status:
	free(view);
	free(bootfiles_path);
	free(default_dir);
	free(msd_dir);
	pv_usb_payload_set_free(set);
	pv_usb_files_free(files);
	return status;

out_free_set:
	pv_usb_payload_set_free(set);
out_free_files:
	free(bootfiles_path);
	free(default_dir);
	free(msd_dir);
	pv_usb_files_free(files);
	return cli_fail(rc);
}
