/* The USB boot host: buses (libusb, combined) and the job engine that boots or flashes every
 * selected board concurrently, one state machine per port path:
 *
 *   ROM stage (boot message + second stage; retried with backoff)
 *     -> wait for the same port path to re-appear as a second stage
 *     -> file server (files, metadata)
 *     -> verified / booted / failed (with a reason)
 *
 * Concurrency: one worker thread per board. Each board's conversation is strictly
 * sequential and blocking transfers with per-call timeouts state it directly; a thread
 * costs ~100 KiB here and the USB link, not the CPU, is the bottleneck, so an async event
 * loop would add a hand-written continuation per phase and buy nothing measurable (see
 * bench/usb/). The engine's own thread only scans the bus when it signals a change.
 */
#ifndef PIPROV_USB_H
#define PIPROV_USB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "piprov/board.h"
#include "piprov/usb_protocol.h"
#include "piprov/usb_transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Buses --------------------------------------------------------------------------- */

/* Real devices through libusb-1.0. Hotplug notifications where libusb has them; otherwise
 * wait_event sleeps 500 ms and reports "maybe changed" (polling at 2 Hz, never spinning).
 * Returns PV_OK, PV_ERR_IO (libusb_init failed), PV_ERR_NOMEM. */
int pv_usb_libusb_bus_new(struct pv_usb_bus **out);

/* Merge several buses into one (takes ownership of each; they are destroyed with it).
 * Port paths must not collide between them (the virtual bus uses its own bus numbers).
 * Returns PV_OK or PV_ERR_NOMEM (the buses are then still the caller's). */
int pv_usb_combined_bus_new(struct pv_usb_bus **buses, size_t count, struct pv_usb_bus **out);

/* ---- Selection ----------------------------------------------------------------------- */

/* fnmatch(3) glob over the port path ("1-1.*"); true when no globs are given. */
bool pv_usb_port_matches(const char *port_path, const char *const *globs, size_t count);

/* ---- Jobs ---------------------------------------------------------------------------- */

enum pv_usb_job_mode {
	PV_USB_JOB_BOOT,  /* serve files; success = the device finished or left */
	PV_USB_JOB_FLASH, /* serve recovery + image; success = verified (see below) */
};

/* What to serve a board of one SoC. For FLASH the image memfile must be named
 * "pieeprom.bin" and image_sha256 must be its digest: a board is flashed+verified only when
 * the firmware reports EEPROM_UPDATE=success and EEPROM_HASH equal to image_sha256. */
struct pv_usb_payload {
	const void *second_stage;       /* bootcode*.bin / recovery.bin sent by the ROM stage */
	size_t second_stage_size;
	const uint8_t *signature;       /* 20 bytes for the boot message (rpiboot -s), or NULL */
	/* Where the second stage came from, for display (a served_file path and origin; for a
	 * flash payload the recovery.bin path, origin NONE). */
	const char *second_stage_path;
	enum pv_usb_file_origin second_stage_origin;
	struct pv_usb_files *files;     /* the file set served to the second stage */
	char image_sha256[65];          /* FLASH: lower-case hex of the served pieeprom.bin */
	/* Work left for when a board needs the files (the flash image's digest: the sig and
	 * image_sha256), so the first board does not wait for it before its ROM upload: the
	 * engine calls it after the upload, while the board re-enumerates, and again before
	 * serving; files and image_sha256 are complete once it returned PV_OK. Thread-safe,
	 * done once (later calls return the first outcome at once); a non-zero *cancel makes
	 * it return PV_ERR_INTERRUPTED within a fraction of a second, leaving the work for
	 * the next call. NULL: nothing left. */
	int (*complete)(const struct pv_usb_payload *payload, volatile const int *cancel);
};

/* Called (serialised by the engine, at most once per SoC) to get the payload for a SoC;
 * the payload must stay valid until pv_usb_job_run returns. Returns PV_OK or an error
 * (the board then fails with pv_last_error() as its reason). */
typedef int (*pv_usb_payload_fn)(void *user, const struct pv_soc_info *soc,
				 const struct pv_usb_payload **payload);

enum pv_usb_phase {
	PV_USB_PHASE_FOUND,        /* a selected device appeared */
	PV_USB_PHASE_ROM,          /* sending the second stage */
	PV_USB_PHASE_REENUMERATE,  /* waiting for the second stage on the same port */
	PV_USB_PHASE_SERVING,      /* file server running */
	PV_USB_PHASE_RETRY,        /* backing off before another attempt */
	PV_USB_PHASE_VERIFIED,     /* FLASH: flashed and verified */
	PV_USB_PHASE_BOOTED,       /* BOOT: served */
	PV_USB_PHASE_FAILED,       /* gave up: reason */
	PV_USB_PHASE_SKIPPED,      /* not selected after opening (serial filter) */
};

const char *pv_usb_phase_name(enum pv_usb_phase phase);

struct pv_usb_board_result;

struct pv_usb_event {
	enum pv_usb_phase phase;
	const char *port_path;
	const char *serial;        /* "" until known */
	const char *chip;          /* "2711" */
	const char *detail;        /* file name, retry reason, failure reason; may be "" */
	uint64_t bytes;            /* bytes sent to this board so far */
	uint64_t elapsed_ms;       /* since the board was found */
	unsigned attempt;          /* 1-based ROM attempt */
	/* SERVING events after a request was answered: what it was (PV_USB_STEP_NONE on
	 * every other event), the name asked, and for a file found or sent its size, origin
	 * and path (pv_usb_served_file). ROM events: the second stage's path, origin, size. */
	enum pv_usb_step step;
	int32_t command;
	const char *file;          /* "" when none */
	const char *source;        /* "" when none */
	enum pv_usb_file_origin origin;
	uint64_t size;
	/* The board's result (metadata included), on its final VERIFIED, BOOTED or FAILED
	 * event only; NULL on every other event. Valid during the call. */
	const struct pv_usb_board_result *result;
};

/* Called from worker threads, serialised by the engine (never concurrently). */
typedef void (*pv_usb_event_fn)(void *user, const struct pv_usb_event *event);

struct pv_usb_board_result {
	char port_path[PV_USB_PORT_PATH_MAX];
	char serial[PV_USB_SERIAL_MAX];   /* USB serial string, else USER_SERIAL_NUM */
	const struct pv_soc_info *soc;
	enum pv_usb_phase outcome;        /* VERIFIED, BOOTED or FAILED */
	char reason[256];                 /* FAILED: why; "" otherwise */
	unsigned attempts;
	uint64_t bytes;
	uint64_t elapsed_ms;
	struct pv_usb_metadata metadata;
};

struct pv_usb_job_config {
	enum pv_usb_job_mode mode;
	struct pv_usb_bus *bus;
	pv_usb_payload_fn payload;
	void *payload_user;

	const char *const *port_globs;    /* --port (NULL/0: any) */
	size_t port_glob_count;
	int port_number;                  /* rpiboot -N: last port number, -1 any */
	const char *serial;               /* --serial / rpiboot -i (NULL: any) */

	unsigned count;                   /* stop after this many boards ended; 0: the boards
					   * present at the first non-empty scan */
	bool loop;                        /* serve boards forever (until cancelled) */
	unsigned wait_ms;                 /* give up when no board is active and none
					   * appears for this long (0: wait forever) */
	struct pv_usb_timeouts timeouts;

	const char *metadata_dir;         /* write <serial>.json there (NULL: don't) */

	pv_usb_event_fn event;
	void *event_user;

	volatile const int *cancel;       /* set non-zero (e.g. from SIGINT) to stop; call
					   * pv_usb_bus_wakeup after setting it */
	volatile const int *drain;        /* set non-zero to accept no new board and end once
					   * the boards being served have ended (a station
					   * stopping gracefully); call pv_usb_bus_wakeup after */

	/* Optional, asked on every scan (engine thread, job lock held: return at once, never
	 * call into the job): PV_USB_PORT_SERVE (the default), PV_USB_PORT_HOLD (start
	 * nothing on that port for now: paused), PV_USB_PORT_AGAIN (a board that ended there
	 * is served again on the next scan although it never left, when it is in its boot ROM
	 * stage: retry; a board left in its second stage, whose recovery program ran, is
	 * served once its port was seen empty, as without AGAIN), PV_USB_PORT_SERVED
	 * (the board there was served by an earlier job on this bus, e.g. before a station
	 * reloaded its profile: it is left alone until its port is seen empty, as if this
	 * job had served it). */
	int (*port_policy)(void *user, const char *port_path);
	void *port_policy_user;
};

enum pv_usb_port_policy { PV_USB_PORT_SERVE, PV_USB_PORT_HOLD, PV_USB_PORT_AGAIN,
			  PV_USB_PORT_SERVED };

/* Defaults: BOOT mode, timeouts per pv_usb_timeouts_default, port_number -1. */
void pv_usb_job_config_init(struct pv_usb_job_config *config);

struct pv_usb_job_result {
	struct pv_usb_board_result *boards; /* malloc'd, in the order the boards ended */
	size_t count;
	unsigned succeeded;                 /* VERIFIED or BOOTED */
	unsigned failed;
	bool waited_out;                    /* stopped because nothing appeared in wait_ms */
	bool cancelled;
	unsigned abandoned;                 /* workers given up on (see pv_usb_job_run) */
};

/* Run the job until its end condition (count reached, wait_ms with nothing to do, or
 * cancel). Board failures are results, not errors: the return value is PV_OK unless the
 * job itself could not run (PV_ERR_NOMEM, PV_ERR_IO from the bus).
 *
 * Bounded in time: a board still running INTERRUPT_AFTER_MS (200 ms) past its deadline
 * (timeouts.board_ms after it was found), or any board once the job is cancelled, has its
 * transfer interrupted (pv_usb_interrupt); a worker that has not returned 1 s past its
 * deadline, or 500 ms after the cancel was seen, is abandoned: its board is recorded as
 * failed ("board timeout ... / cancelled during PHASE") and the job no longer waits for it.
 * So the function returns within about half a second of a cancel (set *cancel, then call
 * pv_usb_bus_wakeup; a flag alone is looked at every 100 ms) whatever a board or a backend
 * does. When result->abandoned is non-zero, a worker may still be inside a call of the bus,
 * a transport or the payload function: the caller must leave them (and the strings the
 * config points to) alone and should end the process; the job's own memory is left to
 * those workers. Events are never delivered after the function returned. */
int pv_usb_job_run(const struct pv_usb_job_config *config, struct pv_usb_job_result *result);
void pv_usb_job_result_release(struct pv_usb_job_result *result);

/* ---- Payload sets: what pv_usb_job_config.payload serves, one payload per SoC -------- */

struct pv_usb_payload_set;

/* rpiboot -d: the second stage of each SoC (soc->second_stage, e.g. bootcode4.bin) is looked
 * up in files with the same rules as any request and read once (at most 4 MiB); the files
 * are then served as they are. files stays the caller's and must outlive the set. */
int pv_usb_boot_payloads_new(struct pv_usb_files *files, struct pv_usb_payload_set **out);

/* rpiboot -s (BCM2835-2837 signed boot): put these 20 bytes into every boot message. */
void pv_usb_boot_payloads_set_signature(struct pv_usb_payload_set *set,
					const uint8_t signature[20]);

/* Flash: recovery.bin as the second stage, and memory files config.txt (the recovery
 * config), pieeprom.bin (the release image with the requested bootloader config) and
 * pieeprom.sig (its sha256 + ts line), built once per SoC on first use. */
struct pv_usb_flash_options {
	const char *image_path;       /* --image: used for boards of its SoC (by size) */
	const char *recovery_path;    /* --recovery: used for boards of its SoC */
	const char *firmware_dir;     /* --firmware-dir, searched before the system folders */
	const char *channel;          /* release channel: "default" (NULL) looks in
				       * bootloader-27xx/default before latest, "latest" the
				       * other way round */
	const char *preset;           /* --preset NAME (firmware-templates/<chip>/NAME.conf) */
	const char *config_path;      /* --config FILE: replaces the image's bootconf.txt */
	const char *const *settings;  /* KEY=VALUE, applied last */
	size_t setting_count;
	/* When no recovery.bin / release image is installed: a stand-in recovery program and
	 * a synthetic image made by the EEPROM engine (virtual boards only; logged). */
	const void *placeholder_recovery;
	size_t placeholder_recovery_size;
	bool allow_synthetic_image;
	const char *recovery_config;  /* config.txt served to recovery.bin; NULL: default */
	pv_usb_opened_fn opened;      /* audit hook, as in pv_usb_files_config */
	void *opened_user;
};

int pv_usb_flash_payloads_new(const struct pv_usb_flash_options *options,
			      struct pv_usb_payload_set **out);

/* Check a flash set before any board is served, and build what it can now: a --preset that
 * exists for no flashable chip, a KEY=VALUE that is not one, an unreadable --config,
 * --image or --recovery, an unknown channel, and a config the EEPROM engine refuses for a
 * chip whose firmware is installed all fail here (PV_ERR_INVALID or the file's status, the
 * message naming it). A chip whose recovery.bin or image is not installed is not an error
 * here: its boards fail when they arrive, naming the folders searched. */
int pv_usb_flash_payloads_check(struct pv_usb_payload_set *set);

/* The pv_usb_payload_fn for a set (user = the set). */
int pv_usb_payload_set_get(void *set, const struct pv_soc_info *soc,
			   const struct pv_usb_payload **payload);

/* What was built for a SoC, for reports (NULL when that SoC was never asked for):
 * the final bootconf.txt text and where the image and recovery came from. */
struct pv_usb_payload_report {
	const char *image_source;     /* path, or "synthetic" */
	const char *recovery_source;  /* path, or "placeholder" */
	const char *bootconf;         /* the config written into the image ("" for boot sets) */
	char bootconf_sha256[65];
	uint32_t boot_order;          /* 0 when not set */
};
const struct pv_usb_payload_report *pv_usb_payload_set_report(struct pv_usb_payload_set *set,
								 const struct pv_soc_info *soc);

void pv_usb_payload_set_free(struct pv_usb_payload_set *set);

/* The sha256 of data as lower-case hex (65 bytes with the NUL). */
void pv_usb_sha256_hex(const void *data, size_t len, char out[65]);

#ifdef __cplusplus
}
#endif
#endif
