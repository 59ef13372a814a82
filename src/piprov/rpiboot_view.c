/* What `piprov rpiboot` prints: upstream rpiboot's lines (main.c at 87d6e032, see
 * ../shared/docs/usbboot-protocol.md and docs/usb.md "rpiboot output"), made from the engine's
 * events, so scripts that read rpiboot's output read ours. Boards are served concurrently,
 * so with several boards their lines interleave (upstream serves one at a time). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "piprov/error.h"
#include "piprov/text.h"
#include "rpiboot_view.h"
#include "banned.h"

static struct rpiboot_board *board_for(struct rpiboot_view *v, const char *port_path)
{
	for (size_t i = 0; i < v->board_count; i++)
		if (strcmp(v->boards[i].port_path, port_path) == 0)
			return &v->boards[i];
	if (v->board_count == RPIBOOT_VIEW_BOARDS_MAX)
		return NULL;
	memset(&v->boards[v->board_count], 0, sizeof(v->boards[0]));
	pv_strlcpy(v->boards[v->board_count].port_path, port_path,
		   sizeof(v->boards[0].port_path));
	return &v->boards[v->board_count++];
}

void rpiboot_view_init(struct rpiboot_view *v, FILE *out, int verbose, const char *dir,
		       const char *metadata_dir)
{
	memset(v, 0, sizeof(*v));
	v->out = out;
	v->verbose = verbose;
	v->dir = dir;
	v->metadata_dir = metadata_dir;
}

void rpiboot_view_version(FILE *out)
{
	/* Upstream: "RPIBOOT: build-date %s pkg-version %s %s" (date, package version, git). */
	fprintf(out, "RPIBOOT: build-date - pkg-version piprov-%s \n", PIPROV_VERSION);
}

/* main()'s check of -d DIR before libusb_init(): check_file() prints "Loading: PATH" for
 * each file it finds, DIR/2710/NAME first (no chip is known yet: its folder is 2710), then
 * DIR/NAME. Seen from upstream 87d6e032 in the e2e guest. */
static void print_dir_check(struct rpiboot_view *v, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/2710/%s", v->dir, name);
	if (access(path, R_OK) != 0) {
		snprintf(path, sizeof(path), "%s/%s", v->dir, name);
		if (access(path, R_OK) != 0)
			return;
	}
	fprintf(v->out, "Loading: %s\n", path);
}

void rpiboot_view_start(struct rpiboot_view *v, const char *bootfiles_path)
{
	static const char *const second_stages[] = { "bootcode.bin", "bootcode4.bin",
						     "bootcode5.bin" };

	rpiboot_view_version(v->out);
	fprintf(v->out, "\nPlease fit the EMMC_DISABLE / nRPIBOOT jumper before connecting the "
			"power and USB cables to the target device.\n"
			"If the device fails to connect then please see https://rpltd.co/rpiboot "
			"for debugging tips.\n\n");
	if (v->dir && v->verbose)
		fprintf(v->out, "Boot directory '%s'\n", v->dir);
	if (v->dir && bootfiles_path)
		print_dir_check(v, "bootfiles.bin");
	else if (v->dir)
		for (size_t i = 0; i < sizeof(second_stages) / sizeof(second_stages[0]); i++)
			print_dir_check(v, second_stages[i]);
	if (bootfiles_path)
		fprintf(v->out, "Using %s\n", bootfiles_path);
	fprintf(v->out, "Waiting for BCM2835/6/7/2711/2712...\n\n");
	fflush(v->out);
}

/* "Loading: ..." as check_file() prints it for where the file was found (DIR as given, so
 * the default folder's trailing '/' doubles as upstream's does). */
static void print_loading(struct rpiboot_view *v, const char *name, enum pv_usb_file_origin origin,
			  const char *path)
{
	const char *dir = v->served_dir ? v->served_dir : ".";

	switch (origin) {
	case PV_USB_ORIGIN_FOLDER:
		fprintf(v->out, "Loading: %s/%s\n", dir, path);
		break;
	case PV_USB_ORIGIN_BOOTFILES_OVERLAY:
		fprintf(v->out, "Loading bootfiles.bin overlay: %s/%s\n", dir, path);
		break;
	case PV_USB_ORIGIN_MSD:
		/* Upstream serves a copy built into the program; piprov names the file. */
		fprintf(v->out, "Loading embedded: %s (%s)\n", name, path);
		break;
	default:
		break; /* bootfiles.bin members and memory files: upstream prints nothing */
	}
}

/* ep_write()'s verbose line for an answer of `bytes` (0: a bare zero-length answer). */
static void print_sent(struct rpiboot_view *v, uint64_t bytes)
{
	if (v->verbose)
		fprintf(v->out, "libusb_bulk_transfer sent %llu bytes; returned 0\n",
			(unsigned long long)bytes);
}

/* Without -d, on the first BCM2711/2712 board: which default folder upstream tries. found:
 * the second stage came from a folder (or rpiboot's msd/ files), not nowhere. */
static void print_default_dir(struct rpiboot_view *v, const struct pv_soc_info *soc,
			      enum pv_usb_file_origin origin, bool found)
{
	if (v->dir || v->default_dir_said || !soc || !soc->eeprom_size)
		return;
	fprintf(v->out, "Directory not specified - trying default %s\n",
		v->default_label ? v->default_label : RPIBOOT_DEFAULT_MSG_DIR);
	/* Upstream's second try, when the default (with its embedded copy) had no second
	 * stage: the local folder served, or a board that got nothing. */
	if (!found || (v->local_dir && origin != PV_USB_ORIGIN_MSD))
		fprintf(v->out, "Trying local path mass-storage-gadget64/\n");
	v->default_dir_said = true;
}

/* One `"KEY": "VALUE"` of the metadata object as write_metadata_file() prints it, escaped
 * (upstream writes values as they come, which breaks the JSON on a '"'); FACTORY_UUID
 * decoded (its raw words, which piprov keeps, are not printed). */
static void print_metadata_item(struct rpiboot_view *v, struct rpiboot_board *b,
				const char *item)
{
	struct pv_usb_metadata md;
	struct pv_buf text = PV_BUF_INIT(4096);

	pv_usb_metadata_init(&md);
	if (pv_usb_metadata_add(&md, item, strlen(item)) != PV_OK || md.count == 0 ||
	    pv_usb_metadata_item_json(&md.items[0], &text) != PV_OK) {
		if (strncmp(item, "*FACTORY_UUID*", 14) == 0)
			fprintf(stderr, "Failed to decode a FACTORY_UUID: invalid input\n");
		pv_clear_error();
		pv_buf_release(&text);
		return;
	}
	if (!v->metadata_dir)
		fprintf(v->out, "%s\n\t%.*s", b->metadata_items ? "," : "{", (int)text.len,
			(const char *)text.data);
	b->metadata_items++;
	pv_buf_release(&text);
}

/* Upstream's message_name[] (it indexes it unchecked; piprov says "Unknown"). */
static const char *message_name(int32_t command)
{
	static const char *const names[] = { "GetFileSize", "ReadFile", "Done" };

	return command >= 0 && command < 3 ? names[command] : "Unknown";
}

static void close_server(struct rpiboot_view *v, struct rpiboot_board *b)
{
	if (!b->serving)
		return;
	if (b->metadata_items && !v->metadata_dir)
		fprintf(v->out, "\n}\n");
	fprintf(v->out, "Second stage boot server done\n");
	b->serving = false;
	b->metadata_items = 0;
	if (v->loop)
		fprintf(v->out, "Waiting for BCM2835/6/7/2711/2712...\n\n");
}

/* The lines upstream prints when it has opened a device (open_device_with_vid(), then
 * Initialize_Device() and main()). */
static void print_device_opened(struct rpiboot_view *v, struct rpiboot_board *b,
				unsigned serial_index)
{
	if (v->verbose)
		fprintf(v->out, "Device located successfully\n");
	if (b->second_stage_name[0])
		print_loading(v, b->second_stage_name, b->second_stage_origin,
			      b->second_stage_path);
	if (v->verbose) {
		fprintf(v->out, "Initialised device correctly\n");
		fprintf(v->out, "Found serial number %u\n", serial_index);
		fprintf(v->out, "last_serial -1 serial %u\n", serial_index);
	}
}

void rpiboot_view_event(void *user, const struct pv_usb_event *ev)
{
	struct rpiboot_view *v = user;
	const struct pv_soc_info *soc = pv_soc_by_name(ev->chip);
	struct rpiboot_board *b = board_for(v, ev->port_path);

	if (!b)
		return;
	switch (ev->phase) {
	case PV_USB_PHASE_ROM:
		pv_strlcpy(b->second_stage_name, ev->file, sizeof(b->second_stage_name));
		pv_strlcpy(b->second_stage_path, ev->source, sizeof(b->second_stage_path));
		b->second_stage_origin = ev->origin;
		b->second_stage_size = ev->size;
		print_default_dir(v, soc, ev->origin, true);
		print_device_opened(v, b, soc ? soc->rom_serial_index : 0);
		fprintf(v->out, "Sending bootcode.bin\n");
		print_sent(v, 24);
		if (v->verbose)
			fprintf(v->out, "Writing %llu bytes\n", (unsigned long long)ev->size);
		break;
	case PV_USB_PHASE_REENUMERATE:
		print_sent(v, b->second_stage_size);
		/* The return code was read, or the board had already left (rpiboot prints the
		 * failure then, with the code it never received: PR #49). */
		if (ev->detail[0])
			fprintf(v->out, "Failed : 0x0\n");
		else
			fprintf(v->out, "Successful read 4 bytes \n");
		fprintf(v->out, "Waiting for BCM2835/6/7/2711/2712...\n\n");
		break;
	case PV_USB_PHASE_SERVING:
		switch (ev->step) {
		case PV_USB_STEP_NONE:
			if (b->serving)
				break;
			print_device_opened(v, b, soc ? soc->second_stage_serial_index : 1);
			fprintf(v->out, "Second stage boot server\n");
			b->serving = true;
			break;
		case PV_USB_STEP_SIZE:
			if (v->verbose)
				fprintf(v->out, "Received message GetFileSize: %s\n", ev->file);
			print_loading(v, ev->file, ev->origin, ev->source);
			if (v->verbose || ev->size == 0)
				fprintf(v->out, "File size = %llu bytes\n",
					(unsigned long long)ev->size);
			break;
		case PV_USB_STEP_NOT_FOUND:
			if (v->verbose)
				fprintf(v->out, "Received message GetFileSize: %s\n", ev->file);
			print_sent(v, 0);
			fprintf(v->out, "Cannot open file %s\n", ev->file);
			break;
		case PV_USB_STEP_REFUSED:
			if (v->verbose)
				fprintf(v->out, "Received message %s: %s\n",
					message_name(ev->command), ev->file);
			if (strstr(ev->file, ".."))
				fprintf(v->out, "Denying request for filename containing .. to "
						"prevent path traversal\n");
			print_sent(v, 0);
			fprintf(v->out, "Cannot open file %s\n", ev->file);
			break;
		case PV_USB_STEP_READ:
			if (v->verbose)
				fprintf(v->out, "Received message ReadFile: %s\n", ev->file);
			fprintf(v->out, "File read: %s\n", ev->file);
			if (ev->size == 0)
				fprintf(v->out, "WARNING: %s is empty\n", ev->file);
			print_sent(v, ev->size);
			break;
		case PV_USB_STEP_READ_MISSING:
			if (v->verbose) {
				fprintf(v->out, "Received message ReadFile: %s\n", ev->file);
				fprintf(v->out, "No file %s found\n", ev->file);
			}
			print_sent(v, 0);
			break;
		case PV_USB_STEP_METADATA:
			if (v->verbose)
				fprintf(v->out, "Received message GetFileSize: %s\n", ev->file);
			if (b->metadata_items == 0 && v->metadata_dir)
				fprintf(v->out, "Created metadata file: %s/%s.json\n", v->metadata_dir,
					ev->serial[0] ? ev->serial : ev->port_path);
			print_metadata_item(v, b, ev->file);
			print_sent(v, 0);
			break;
		case PV_USB_STEP_DONE:
			if (v->verbose)
				fprintf(v->out, "Received message %s: %s\n", message_name(ev->command),
					ev->file);
			/* "Done can also just be null filename": answered, no "CMD exit". */
			if (!ev->file[0])
				print_sent(v, 0);
			else if (v->verbose)
				fprintf(v->out, "CMD exit\n");
			close_server(v, b);
			break;
		}
		break;
	case PV_USB_PHASE_BOOTED:
	case PV_USB_PHASE_VERIFIED:
		close_server(v, b); /* the board left after its files: the server ends */
		break;
	case PV_USB_PHASE_FAILED:
		if (!b->second_stage_name[0] && !b->serving) {
			/* Before any upload: nothing to send this chip (upstream exits here). */
			print_default_dir(v, soc, PV_USB_ORIGIN_NONE, false);
			fprintf(stderr, "Failed to open second stage bootloader (%s)\n",
				soc ? soc->second_stage : "bootcode.bin");
			if (!v->dir)
				fprintf(stderr, "\nPlease try specifying the directory e.g. rpiboot -d "
						"mass-storage-gadget64\n");
		}
		if (b->serving && b->metadata_items && !v->metadata_dir)
			fprintf(v->out, "\n}\n");
		b->serving = false;
		b->metadata_items = 0;
		fprintf(stderr, "piprov: error: %s: %s\n", ev->port_path, ev->detail);
		break;
	case PV_USB_PHASE_RETRY:
		if (v->verbose)
			fprintf(v->out, "%s (retrying)\n", ev->detail);
		break;
	default:
		break;
	}
	fflush(v->out);
}
