/* What `piprov usb boot|flash` and `piprov rpiboot` share: the options turned into a
 * station (piprov/station.h: the job, verification, recording and exports are the
 * library's), its view (TTY / pipe / --json, station_view.h), the summary table and the exit
 * status. */
#ifndef PIPROV_CLI_USB_RUN_H
#define PIPROV_CLI_USB_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "piprov/inventory.h"
#include "piprov/station.h"
#include "piprov/usb.h"

struct usb_run {
	struct cli_context *ctx;
	enum pv_usb_job_mode mode;
	bool json;
	const char **ports;
	size_t port_count;
	int port_number;              /* rpiboot -N, -1 any */
	const char *serial;
	unsigned count;
	bool loop;
	unsigned timeout_s;           /* 0: wait forever for boards */
	const char *metadata_dir;
	bool metadata_stdout;         /* rpiboot -j without a usable folder */
	const char *inventory;
	/* --ip-pool / --hostname-pattern: addresses and names for boards new to the
	 * inventory (has_alloc: at least one was given). */
	struct pv_inventory_alloc alloc;
	bool has_alloc;
	const char *log_dir;
	const char **virtual_specs;
	size_t virtual_count;
	bool real;                    /* also the libusb bus when virtual specs are given */
	struct pv_usb_timeouts timeouts;
	pv_usb_payload_fn payload;    /* boot: what to serve */
	void *payload_user;
	/* A renderer of its own (rpiboot's output): gets every engine event instead of the
	 * progress lines, and no summary table or metadata dump is printed after the job. */
	pv_usb_event_fn event;
	void *event_user;
	const struct pv_usb_flash_options *flash; /* flash: what to flash */
	/* piprov station (cmd_station.c): the whole profile (replaces flash, ports, alloc
	 * above when set), how long a stop waits for boards in flight, the web page. */
	const struct pv_station_profile *profile;
	unsigned stop_grace_ms;       /* 0: the library's default */
	const char *listen;           /* serve the page and API here (NULL: no web server) */
	const char *token_file;
	/* A service: SIGTERM finishes the boards in flight (a second SIGTERM or SIGINT
	 * abandons them), the exit status after a stop is 0 unless a verified board was not
	 * recorded, and the service manager hears READY/RELOADING/STOPPING. */
	bool service;
	/* SIGHUP (service): called on the signal thread to read the profile again and hand
	 * it to pv_station_reload(); NULL: SIGHUP is not taken. */
	void (*reload)(void *user, struct pv_station *station);
	void *reload_user;
	/* Filled by usb_run_open_bus() (usb list). */
	struct pv_usb_bus *bus;
	struct pv_usb_bus *virtual_bus; /* inside bus, for dumps; NULL when none */
	bool only_virtual;
};

void usb_run_init(struct usb_run *run, struct cli_context *ctx);

/* Parse a duration in seconds ("30", "2.5"). */
int usb_parse_seconds(const char *text, unsigned *ms);

/* Repeatable options (--port, --virtual, KEY=VALUE) collect into arrays of this many. */
#define USB_ARG_LIST_MAX 64

/* Appends value to list (*count entries of USB_ARG_LIST_MAX); a usage error naming `what`
 * when it is full. Returns a cli exit status. */
int usb_arg_list_add(const char **list, size_t *count, const char *value, const char *what);

/* What a board is flashed with: the options `usb flash` and `station` share. Their getopt
 * ids start far above any command's own (256 + a few dozen). */
enum {
	USB_OPT_PRESET = 0x1000,
	USB_OPT_CONFIG,
	USB_OPT_IMAGE,
	USB_OPT_RECOVERY,
	USB_OPT_FIRMWARE_DIR,
};
#define USB_FLASH_SOURCE_OPTIONS                                               \
	{ "preset", required_argument, NULL, USB_OPT_PRESET },                 \
	{ "config", required_argument, NULL, USB_OPT_CONFIG },                 \
	{ "image", required_argument, NULL, USB_OPT_IMAGE },                   \
	{ "recovery", required_argument, NULL, USB_OPT_RECOVERY },             \
	{ "firmware-dir", required_argument, NULL, USB_OPT_FIRMWARE_DIR }

/* Stores a flash-source option's argument in *flash. False when opt is not one of them. */
bool usb_flash_source_option(int opt, const char *arg, struct pv_usb_flash_options *flash);

/* usb list: create run->bus from the virtual specs (+ libusb when none or --real). Prints
 * the error and returns a cli exit status when it fails, CLI_EXIT_OK otherwise. (Jobs open
 * their bus in the station.) */
int usb_run_open_bus(struct usb_run *run);
void usb_run_close_bus(struct usb_run *run);

/* Check the outputs and options, then run the job as a station: progress, the summary,
 * the inventory, virtual dumps. Returns the exit status: 0 every board verified (booted)
 * and, with an inventory, recorded; 1 some failed or was not recorded, or none appeared;
 * 2 a bad option found before waiting (spec, preset, ...). */
int usb_run_job(struct usb_run *run);

/* `usb list`: print the devices on the bus. */
int usb_run_list(struct usb_run *run);

#endif
