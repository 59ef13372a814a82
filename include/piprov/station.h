/* The provisioning station (docs/station.md): one job per board that is plugged in,
 *
 *   arrived -> flashing (ROM stage, re-enumeration, files) -> verifying (the image was sent:
 *   the board writes and reads it back) -> verified | failed(reason)
 *   verified -> recorded (inventory) -> exports refreshed (dnsmasq file + reload, TFTP tree, ...)
 *
 * with every step an event delivered to subscribers (the terminal view, `--json` lines, the
 * web page: pv_station_web_source()). `piprov usb flash|boot`, `piprov rpiboot` and the
 * long-running `piprov station` are this library with different renderers.
 *
 * A board is recorded as flashed only once it was verified (docs/usb.md, the verification
 * rule); a board the station stops working on (stop, reload) is "abandoned", never recorded.
 * Recording goes through the record layer (piprov/record.h): boards verified close together
 * are merged in one locked write of the inventory (so a busy station does not fsync per
 * board), then the exports are refreshed once for them.
 *
 * Threads: pv_station_run() runs on the caller's thread (the USB engine and its workers
 * below it, and one recorder thread). Every other function may be called from any thread
 * while it runs. Subscribers are called one at a time, in event order, from the station's
 * threads: they must return quickly and never call back into the station.
 */
#ifndef PIPROV_STATION_H
#define PIPROV_STATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "piprov/buf.h"
#include "piprov/inventory.h"
#include "piprov/inventory_export.h"
#include "piprov/usb.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Boards ------------------------------------------------------------------------- */

enum pv_station_state {
	PV_STATION_ARRIVED,    /* a selected board appeared */
	PV_STATION_FLASHING,   /* ROM stage, re-enumeration, file server (boot: serving) */
	PV_STATION_VERIFYING,  /* flash: pieeprom.bin was sent; the board writes it, reads it
				* back and reports its hash, which is then checked */
	PV_STATION_VERIFIED,   /* flashed and verified, not yet in the inventory */
	PV_STATION_BOOTED,     /* boot mode: served */
	PV_STATION_RECORDED,   /* verified (or booted) and written to the inventory */
	PV_STATION_FAILED,     /* reason says why (also: verified but the inventory write
				* failed: reason names the inventory) */
	PV_STATION_ABANDONED,  /* the station stopped working on it (stop, reload): never
				* recorded; reason says why */
};
const char *pv_station_state_name(enum pv_station_state state);

#define PV_STATION_REASON_MAX 256
#define PV_STATION_STAGE_MAX 64

/* A board as the station shows it. Strings from the device are as it sent them (escape them
 * where they are shown). */
struct pv_station_board {
	uint64_t id;                        /* 1, 2, ... in order of arrival */
	char serial[PV_USB_SERIAL_MAX];     /* USB serial string, "" until known */
	char port[PV_USB_PORT_PATH_MAX];
	enum pv_station_state state;
	char reason[PV_STATION_REASON_MAX];
	char chip[8];                       /* "2711" */
	char model[64];                     /* "Raspberry Pi 4 Model B" once the revision is known */
	char stage[PV_STATION_STAGE_MAX];   /* "rom", "reenumerate", "serving", a file name */
	unsigned attempt;                   /* ROM attempt, 1-based */
	uint64_t bytes;                     /* sent to the board so far */
	uint64_t total;                     /* flash: what it takes in all; 0 = unknown */
	char mac[18];                       /* from its metadata, then as recorded */
	char ip[16];                        /* as recorded ("" when none) */
	char hostname[PV_INVENTORY_HOSTNAME_MAX];
	uint64_t arrived_ms, ended_ms;      /* station clock (t_ms); ended 0 while in flight */
};

/* The board's id in URLs and actions: its serial, else its port path. */
const char *pv_station_board_key(const struct pv_station_board *board);
/* qsort order of the terminal view and pv_station_boards(): boards that need a person
 * (failed, abandoned) first, then by port path (numbers in numeric order: 1-1.10 after
 * 1-1.9), then by arrival. */
int pv_station_board_compare(const void *a, const void *b);
/* Boards in flight (arrived, flashing, verifying, and verified but not yet recorded when
 * `recording`). */
bool pv_station_board_in_flight(const struct pv_station_board *board, bool recording);

/* ---- Events ------------------------------------------------------------------------- */

enum pv_station_event_kind {
	PV_STATION_EV_STARTED,       /* the station runs: detail says what it serves */
	PV_STATION_EV_ARRIVED,       /* board */
	PV_STATION_EV_STAGE,         /* board: stage (rom, reenumerate, serving, retry), attempt,
				      * detail = retry reason */
	PV_STATION_EV_FILE,          /* board: a file was served (file, bytes, size) */
	PV_STATION_EV_PROGRESS,      /* board: bytes sent changed outside a file */
	PV_STATION_EV_METADATA,      /* board: one KEY=VALUE the firmware reported */
	PV_STATION_EV_VERIFYING,     /* board: the image was sent whole */
	PV_STATION_EV_VERIFIED,      /* board */
	PV_STATION_EV_BOOTED,        /* board */
	PV_STATION_EV_FAILED,        /* board: reason */
	PV_STATION_EV_ABANDONED,     /* board: reason */
	PV_STATION_EV_SKIPPED,       /* board: not selected after all (serial filter); it is
				      * dropped from the list */
	PV_STATION_EV_RECORDED,      /* board: created or updated; conflicts in detail */
	PV_STATION_EV_EXPORTED,      /* the exports were refreshed (detail: what) */
	PV_STATION_EV_EXPORT_FAILED, /* detail: what failed (the boards stay recorded) */
	PV_STATION_EV_RELOADED,      /* the profile was read again (or failed: detail) */
	PV_STATION_EV_STOPPING,      /* detail: "finish" or "abandon" */
	PV_STATION_EV_STOPPED,       /* counts */
	PV_STATION_EV_LOG,           /* a library log line while the station ran: detail */
};
const char *pv_station_event_name(enum pv_station_event_kind kind);

struct pv_station_event {
	enum pv_station_event_kind kind;
	uint64_t seq;                        /* 1, 2, ... per station */
	uint64_t t_ms;                       /* monotonic ms since the station started */
	int64_t time_ms;                     /* wall clock, ms since the Unix epoch */
	const struct pv_station_board *board;/* the board after the event; NULL for station
					      * events */
	const char *detail;                  /* "" when none */
	const char *file;                    /* FILE: name; METADATA: key */
	const char *value;                   /* METADATA: value */
	uint64_t size;                       /* FILE: its size */
	bool created;                        /* RECORDED: a new inventory record */
	unsigned conflicts;                  /* RECORDED: facts the inventory refused */
	/* The USB engine's event this one came from (board events of the engine), else
	 * NULL: for renderers that show what the engine saw (piprov rpiboot's lines). */
	const struct pv_usb_event *usb;
	/* The event as one JSON object (docs/station.md), NUL-terminated, no newline. */
	const char *json;
	size_t json_len;
};

typedef void (*pv_station_event_fn)(void *user, const struct pv_station_event *event);

/* ---- Configuration ------------------------------------------------------------------ */

/* What to refresh after boards were recorded (each optional). */
#define PV_STATION_EXPORTS_MAX 8
struct pv_station_exports {
	struct {
		const char *format;          /* a pv_inventory_export() format: "dnsmasq", ... */
		const char *path;            /* written atomically */
	} files[PV_STATION_EXPORTS_MAX];
	size_t file_count;
	const char *tftp_root;               /* pv_export_tftp() into this folder */
	const char *reload_pid_file;         /* after writing: SIGHUP the process it names */
	struct pv_export_opts opts;          /* tftp template, NFS root, server, ... */
};

/* What to flash, select and record: the part of the configuration a profile gives and
 * SIGHUP reloads (pv_station_reload). Strings are the caller's and must outlive the
 * station (or the next reload). */
struct pv_station_profile {
	struct pv_usb_flash_options flash;   /* preset, config, settings, image, recovery,
					      * firmware folder, channel */
	const char *const *port_globs;       /* port allow-list ("1-1.*"); none: any port */
	size_t port_glob_count;
	bool has_alloc;
	struct pv_inventory_alloc alloc;     /* IP pool and hostname pattern for new boards */
	struct pv_station_exports exports;
};

/* ---- The profile file (`piprov station --profile FILE`, docs/station.md) ------------- */

/* A profile file read with libconfig: the pv_station_profile plus the service's own
 * settings. Every string is owned by the file (pv_station_profile_file_release). A setting
 * the file does not give is NULL / false / 0: the command's flags and defaults apply. */
struct pv_station_profile_file {
	struct pv_station_profile profile;
	const char *inventory;     /* inventory = "FILE" */
	const char *metadata_dir;  /* metadata_dir = "DIR" (rpiboot -j) */
	const char *log_dir;       /* log_dir = "DIR" */
	const char *listen;        /* listen = "ADDR:PORT" (the web page) */
	const char *token_file;    /* token_file = "FILE" */
	bool has_stop_grace;
	unsigned stop_grace_ms;    /* stop_grace = SECONDS */
	bool has_board_timeout;
	unsigned board_timeout_ms; /* board_timeout = SECONDS */
	void *storage;             /* the strings and arrays above */
};

#define PV_STATION_PROFILE_MAX (64 * 1024)

/* Parse a profile from text (len bytes, no NUL needed; at most PV_STATION_PROFILE_MAX).
 * `name` is the file name used in messages. Fails with PV_ERR_INVALID and a message naming
 * the file, the line and the setting: a syntax error, an unknown setting (a typo must not
 * be ignored), a value of the wrong type, a bad IP pool / hostname pattern / address,
 * more than PV_STATION_EXPORTS_MAX export files, an @include (a profile is one file). The
 * values are not checked against the machine (preset, files, folders): pv_station_new
 * and pv_station_reload do that. On failure *out is released. */
int pv_station_profile_parse(const char *text, size_t len, const char *name,
			     struct pv_station_profile_file *out);
/* Read and parse a profile file (a FIFO or device is refused; PV_ERR_TOO_BIG past
 * PV_STATION_PROFILE_MAX). */
int pv_station_profile_load(const char *path, struct pv_station_profile_file *out);
/* Free what a parse or load filled (twice is harmless; a zeroed struct is accepted). */
void pv_station_profile_file_release(struct pv_station_profile_file *file);

struct pv_station_config {
	enum pv_usb_job_mode mode;           /* FLASH: profile.flash; BOOT: payload below */
	struct pv_station_profile profile;

	/* The boards: an existing bus (borrowed), else one built from virtual specs (plus
	 * libusb when there are none or `real`). */
	struct pv_usb_bus *bus;
	const char *const *virtual_specs;
	size_t virtual_count;
	bool real;

	/* Selection and pacing, as pv_usb_job_config. */
	int port_number;                     /* rpiboot -N, -1 any */
	const char *serial;
	unsigned count;                      /* stop after this many boards ended */
	bool loop;                           /* serve boards until stopped (the service) */
	unsigned wait_ms;                    /* give up when none appears this long (0: never) */
	struct pv_usb_timeouts timeouts;

	/* BOOT (or FLASH with payloads of the caller's): what to serve. */
	pv_usb_payload_fn payload;
	void *payload_user;

	const char *metadata_dir;            /* rpiboot -j: DIR/<serial>.json */
	const char *inventory;               /* record boards here (NULL: nowhere) */
	/* stop(FINISH) waits this long for boards in flight, then abandons them (0: 30 s). */
	unsigned stop_grace_ms;
	/* Keep the last this many log lines per board for pv_station_board_json (0: 200). */
	unsigned log_lines;
	/* Optional: every event of the USB engine, before the station's own events made from
	 * it, on the engine's thread, in order (also those that make no station event: a
	 * file request answered "not found", ...). Must return quickly; never call into the
	 * station. `piprov rpiboot` prints upstream's lines from them. */
	pv_usb_event_fn engine_event;
	void *engine_event_user;
};

/* Defaults: FLASH, port_number -1, timeouts per pv_usb_timeouts_default, export options
 * per pv_export_opts_init. */
void pv_station_config_init(struct pv_station_config *config);

/* ---- Lifecycle ---------------------------------------------------------------------- */

struct pv_station;

/* Check everything a board would need before any board is waited for, and open the bus:
 * the flash options (a preset that does not exist for any flashable chip, a bad KEY=VALUE,
 * an unreadable --config or --image, an unknown channel), the inventory (it parses, its
 * folder and lock are writable: pv_record_check_inventory), the metadata folder (created
 * when missing, must be writable), the export paths (folders writable), the virtual specs.
 * Fails with the message naming what is wrong (PV_ERR_INVALID for a bad option or spec,
 * else the status of the check); nothing was started. */
int pv_station_new(const struct pv_station_config *config, struct pv_station **out);

/* Free a station that is not running. Accepts NULL. When the engine abandoned a worker
 * (result->abandoned of pv_station_run: a transfer that never returned), nothing is freed:
 * that worker may still use the bus; end the process instead. */
void pv_station_free(struct pv_station *station);

/* Subscribe to every event from now on (*id for unsubscribe). PV_ERR_BUSY past 64. */
int pv_station_subscribe(struct pv_station *station, pv_station_event_fn fn, void *user,
			 uint64_t *id);
/* When it returns, fn is not running for id and is never called for it again. */
void pv_station_unsubscribe(struct pv_station *station, uint64_t id);

struct pv_station_summary {
	unsigned boards;          /* boards that ended (skipped ones not counted) */
	unsigned verified;        /* flash: verified; boot: booted */
	unsigned failed;          /* failed before being verified */
	unsigned recorded;        /* written to the inventory */
	unsigned not_recorded;    /* verified but the inventory write failed */
	unsigned abandoned;
	bool waited_out;          /* ended because no board appeared within wait_ms */
	bool stopped;             /* ended by pv_station_stop */
};

/* Serve boards until the end condition (count, wait, or a stop; `loop` runs until stopped),
 * record them and refresh the exports. result (may be NULL) receives every board's USB
 * result, metadata included, in the order they ended (release with
 * pv_usb_job_result_release). Board failures are results: the return value is PV_OK unless
 * the station itself could not run (PV_ERR_NOMEM, PV_ERR_IO from the bus). */
int pv_station_run(struct pv_station *station, struct pv_station_summary *summary,
		   struct pv_usb_job_result *result);

enum pv_station_stop_mode {
	PV_STATION_STOP_FINISH,  /* no new board; boards in flight finish (up to
				  * stop_grace_ms, then they are abandoned) */
	PV_STATION_STOP_ABANDON, /* no new board; boards in flight are abandoned now */
};
/* Ask a running station to stop; pv_station_run returns once it has. Safe from any thread
 * (not from a signal handler: have a thread wait for signals, as `piprov station` does, or
 * set *stop_flag below). A second call may turn FINISH into ABANDON. */
void pv_station_stop(struct pv_station *station, enum pv_station_stop_mode mode);

/* For callers that can only set a flag (a signal handler): the station looks at it about
 * once a second; non-zero means PV_STATION_STOP_ABANDON. Set before pv_station_run. */
void pv_station_watch_flag(struct pv_station *station, volatile const int *stop_flag);

/* Replace the profile (SIGHUP): checked as pv_station_new checks it; on success boards in
 * flight finish with the old one and every board that arrives next gets the new one (the
 * USB job is drained and started again). On failure nothing changes and the error says
 * why (a RELOADED event with the detail is also emitted). */
int pv_station_reload(struct pv_station *station, const struct pv_station_profile *profile);

/* Board actions (the web page). Retry: serve the board's port again although the board
 * never left it (a failed or abandoned board; PV_ERR_CONFLICT while in flight) if it is
 * still in its boot ROM; one whose recovery program ran stays in its second stage: its
 * port is power-cycled when the bus can (pv_usb_bus_power_cycle, from the calling thread
 * without the station's lock; log "retry: power-cycled port P") and it is flashed when it
 * is back in its ROM, else it is flashed once re-plugged or reset (the log says so). Forget:
 * drop it from the station's list. Pause/resume: do not start on that port's next board.
 * PV_ERR_NOT_FOUND when no board has that key. */
enum pv_station_action { PV_STATION_RETRY, PV_STATION_FORGET, PV_STATION_PAUSE,
			 PV_STATION_RESUME };
int pv_station_action(struct pv_station *station, const char *key, enum pv_station_action action);

/* ---- Reading the state ------------------------------------------------------------------ */

/* Every board the station knows, failures first, then by port (the order of the terminal
 * view and the page). *boards is malloc'd. */
int pv_station_boards(struct pv_station *station, struct pv_station_board **boards,
		      size_t *count);
/* The boards as a JSON array (append to out), sorted by port. */
int pv_station_snapshot_json(struct pv_station *station, struct pv_buf *out);
/* One board (by key) as a JSON object with its log lines ("log": [...]).
 * PV_ERR_NOT_FOUND when unknown. */
int pv_station_board_json(struct pv_station *station, const char *key, struct pv_buf *out);
/* The board object of the event schema (docs/station.md); a jansson json_t *. */
void *pv_station_board_to_json(const struct pv_station_board *board);

/* The inventory path, the virtual bus (for EEPROM dumps; NULL when none). */
const char *pv_station_inventory(const struct pv_station *station);
struct pv_usb_bus *pv_station_virtual_bus(struct pv_station *station);
/* Whether only virtual boards are served (no libusb bus). */
bool pv_station_only_virtual(const struct pv_station *station);
/* The payload report of a SoC (what image/recovery/config was served), or NULL. */
const struct pv_usb_payload_report *pv_station_payload_report(struct pv_station *station,
								 const struct pv_soc_info *soc);

/* ---- The web page's source (piprov/web.h) ------------------------------------------- */

struct pv_web_source;
/* Fill source with ops reading this station; valid while the station exists. */
void pv_station_web_source(struct pv_station *station, struct pv_web_source *source);

/* ---- The service manager ------------------------------------------------------------ */

/* Tell the service manager a state ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=..."):
 * systemd's Type=notify protocol, one datagram to the socket $NOTIFY_SOCKET names. PV_OK
 * without doing anything when $NOTIFY_SOCKET is not set. */
int pv_station_notify(const char *state);

/* ---- Bus helper --------------------------------------------------------------------- */

/* The bus of `usb list` and the station: virtual boards from specs (virtual_bus receives
 * it, inside *bus) plus libusb when there are no specs or `real`. A bad spec fails with
 * PV_ERR_INVALID naming it; a spec's dump=DIR folder is created when missing and must be
 * writable (checked here, before any board is served, not after the run). */
int pv_station_open_bus(const char *const *virtual_specs, size_t virtual_count, bool real,
			struct pv_usb_bus **bus, struct pv_usb_bus **virtual_bus);

#ifdef __cplusplus
}
#endif
#endif
