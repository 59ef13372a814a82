/* The rpiboot wire protocol, host side: decoding the device's file-server requests, the
 * metadata it reports, the ROM stage (boot message + second stage) and the file server that
 * answers a second-stage program (bootcode*.bin, recovery.bin, the mass-storage gadget).
 * See ../shared/docs/usbboot-protocol.md §2-§4 for the byte-level protocol and docs/usb.md
 * for what piprov does differently from rpiboot (safe lookup, streaming, JSON escaping).
 *
 * Everything here talks to one device through the transport contract
 * (piprov/usb_transport.h) and runs on the calling thread; nothing is global, so one thread
 * per device can run these concurrently.
 */
#ifndef PIPROV_USB_PROTOCOL_H
#define PIPROV_USB_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "piprov/buf.h"
#include "piprov/usb_transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- File-server requests ---------------------------------------------------------- */

/* struct file_message { int32 command (LE); char fname[256]; }: 260 bytes. */
#define PV_USB_REQUEST_SIZE 260
#define PV_USB_NAME_MAX 256

enum pv_usb_request_kind {
	PV_USB_REQUEST_GET_FILE_SIZE, /* command 0: answer with the size (0 = not found) */
	PV_USB_REQUEST_READ_FILE,     /* command 1: answer with the size, then the bytes */
	PV_USB_REQUEST_DONE,          /* command 2: the device is finished, no answer */
	PV_USB_REQUEST_END,           /* empty name: zero-length answer, then finished */
	PV_USB_REQUEST_METADATA,      /* "*KEY*VALUE" item: zero-length answer */
	PV_USB_REQUEST_REFUSED,       /* unsafe or malformed: answered "not found" */
};

struct pv_usb_request {
	enum pv_usb_request_kind kind;
	int32_t command;              /* as sent (any value for REFUSED) */
	/* The name, NUL-terminated. For REFUSED requests it is a printable rendering of the
	 * raw bytes (control bytes as \xNN, cut to fit) for the log line. */
	char name[PV_USB_NAME_MAX * 4 + 1];
	const char *refusal;          /* REFUSED: why, a static string; NULL otherwise */
};

/* Decode the bytes of one request (as returned by the 260-byte control IN). Never fails:
 * anything unsafe is a REFUSED request with the reason. Refused: fewer than 5 bytes, more
 * than 260, a name without NUL in its 256 bytes, an unknown command, a file name that is
 * not a plain relative name (absolute, "..", "." or empty components, backslash, control
 * or non-ASCII bytes). */
void pv_usb_request_decode(const void *data, size_t len, struct pv_usb_request *req);

/* True when name is a plain relative name safe to look up under a served folder (the rule
 * above). Exposed for the file server and the tests. */
bool pv_usb_name_is_safe(const char *name);

/* ---- Metadata ---------------------------------------------------------------------- */

#define PV_USB_METADATA_KEY_MAX 64
#define PV_USB_METADATA_VALUE_MAX 200
#define PV_USB_METADATA_ITEMS_MAX 32

struct pv_usb_metadata_item {
	char key[PV_USB_METADATA_KEY_MAX];
	char value[PV_USB_METADATA_VALUE_MAX + 1];
};

/* What the recovery firmware reported, in arrival order (a repeated key keeps its first
 * position and takes the new value). */
struct pv_usb_metadata {
	size_t count;
	struct pv_usb_metadata_item items[PV_USB_METADATA_ITEMS_MAX];
};

void pv_usb_metadata_init(struct pv_usb_metadata *md);

/* Add one "*KEY*VALUE" item (len bytes, need not be NUL-terminated). KEY: 1-63 of
 * [A-Z0-9_]; VALUE: up to 200 printable ASCII bytes. FACTORY_UUID values are C40-decoded
 * (the raw words are kept as FACTORY_UUID_RAW).
 * Returns PV_OK, PV_ERR_FORMAT (malformed item), PV_ERR_NO_SPACE (too many keys). */
int pv_usb_metadata_add(struct pv_usb_metadata *md, const char *item, size_t len);

/* Set key to value directly (same limits). */
int pv_usb_metadata_set(struct pv_usb_metadata *md, const char *key, const char *value);

/* The value of key, or NULL. */
const char *pv_usb_metadata_get(const struct pv_usb_metadata *md, const char *key);

/* Decode FACTORY_UUID words ("hex_hex_..." of 32-bit words, low half first, a 0 word ends)
 * into the C40 text, e.g. "001000911006186073". Out needs 37 bytes.
 * Returns PV_OK or PV_ERR_FORMAT. */
#define PV_USB_FACTORY_UUID_MAX 36
int pv_usb_factory_uuid_decode(const char *words, char *out, size_t size);

/* The metadata as a JSON object of strings in arrival order, in rpiboot's layout ("{", then
 * "\n\t\"KEY\": \"VALUE\"" per item joined by ",", then "\n}\n"), but escaped.
 * *text is malloc'd. Returns PV_OK or PV_ERR_NOMEM. */
int pv_usb_metadata_to_json(const struct pv_usb_metadata *md, char **text);

/* Append one member of that object, `"KEY": "VALUE"` (both JSON-escaped, ASCII only), to
 * out. Returns PV_OK, PV_ERR_NOMEM, PV_ERR_NO_SPACE (out's limit). */
int pv_usb_metadata_item_json(const struct pv_usb_metadata_item *item, struct pv_buf *out);

/* Write <dir>/<name>.json atomically. name must be a plain file-name stem (letters,
 * digits, '-', '_', '.', no leading '.'), e.g. the board serial.
 * Returns PV_OK, PV_ERR_INVALID (bad name), PV_ERR_IO/NO_SPACE/ACCESS. */
int pv_usb_metadata_write(const struct pv_usb_metadata *md, const char *dir, const char *name);

/* ---- Timeouts ---------------------------------------------------------------------- */

struct pv_usb_timeouts {
	unsigned control_ms;     /* a length announcement or answer (rpiboot: 1000) */
	unsigned bulk_ms;        /* one 16 KiB bulk chunk (rpiboot: 5000) */
	unsigned retcode_ms;     /* the ROM's 4-byte return code after the upload */
	unsigned request_ms;     /* one poll for the next request; the recovery firmware is
				  * silent while it writes the EEPROM (rpiboot: 20000) */
	unsigned silent_polls;   /* consecutive empty polls before the device is declared dead */
	unsigned reenumerate_ms; /* upload done -> the second stage appears on the same port */
	unsigned board_ms;       /* a whole board, first sight to done */
	unsigned rom_attempts;   /* ROM-stage attempts per board */
	unsigned backoff_ms;     /* first retry delay, doubled per retry */
};

void pv_usb_timeouts_default(struct pv_usb_timeouts *to);

/* ---- ROM stage --------------------------------------------------------------------- */

#define PV_USB_BOOT_MESSAGE_SIZE 24
#define PV_USB_SECOND_STAGE_MAX (4u << 20)

/* Send the boot message (length + 20-byte signature, zeros when signature is NULL) and the
 * second stage, then read the 4-byte return code. A device that vanishes (NO_DEVICE) while
 * the return code is read has accepted the upload and is re-enumerating: *reenumerating is
 * set and PV_OK returned.
 * Returns PV_OK, PV_ERR_PROTOCOL (non-zero return code), PV_ERR_TOO_BIG, or the transport
 * error of the failing transfer (TIMEOUT, PIPE, NO_DEVICE, IO, ...). */
int pv_usb_rom_boot(struct pv_usb_transport *t, const void *second_stage, size_t len,
		    const uint8_t signature[20], const struct pv_usb_timeouts *to,
		    bool *reenumerating);

/* ---- Served files ------------------------------------------------------------------ */

/* A file served from memory (e.g. the pieeprom.bin built for this board's SoC). */
struct pv_usb_memfile {
	const char *name;
	const void *data;
	size_t size;
};

/* Called with the path (relative to the served folder, or "bootfiles.bin:<member>", or
 * "memory:<name>") of every file the server opens, for audit logs and tests. */
typedef void (*pv_usb_opened_fn)(void *user, const char *port_path, const char *path);

struct pv_usb_files;

struct pv_usb_files_config {
	/* Served folder, or NULL for memory files only. Opened once; every lookup resolves
	 * beneath it (symlinks leaving it are refused). A bootfiles.bin in it is indexed. */
	const char *dir;
	bool overlay;            /* rpiboot -o: DIR/<port path>/NAME first */
	bool use_bootfiles;      /* look into DIR/bootfiles.bin (default rpiboot behaviour) */
	const struct pv_usb_memfile *memfiles; /* checked before the folder; copied by pointer */
	size_t memfile_count;
	/* rpiboot's embedded files where the folder has none: a folder holding upstream's msd/
	 * files (bootcode.bin, bootcode4.bin, start.elf; its package installs them in
	 * /usr/share/rpiboot/msd). Served like rpiboot serves its embedded copies: the SoC's
	 * second stage, and start.elf for the name in pv_soc_info.rpiboot_msd_start. NULL:
	 * none. Opened once, lookups beneath it as for dir. */
	const char *msd_dir;
	pv_usb_opened_fn opened;
	void *opened_user;
};

/* Returns PV_OK, PV_ERR_NOT_FOUND (no such folder), PV_ERR_FORMAT (bad bootfiles.bin),
 * PV_ERR_NOMEM, PV_ERR_IO. The memfile data must outlive the set. */
int pv_usb_files_new(const struct pv_usb_files_config *config, struct pv_usb_files **out);
void pv_usb_files_free(struct pv_usb_files *files);

/* Where a served file was found (rpiboot prints each differently). */
enum pv_usb_file_origin {
	PV_USB_ORIGIN_NONE = 0,
	PV_USB_ORIGIN_MEMORY,          /* a memory file (flash payloads) */
	PV_USB_ORIGIN_FOLDER,          /* DIR/<path> (path relative to DIR) */
	PV_USB_ORIGIN_BOOTFILES_OVERLAY, /* bootfiles mode, DIR/<chip>/NAME before the archive */
	PV_USB_ORIGIN_BOOTFILES,       /* a member of DIR/bootfiles.bin (path "bootfiles.bin:..") */
	PV_USB_ORIGIN_MSD,             /* msd_dir/<file> (path: the full path) */
};

/* One open served file. */
struct pv_usb_served_file {
	int fd;                  /* -1 for memory files */
	bool owns_fd;            /* false for bootfiles.bin members (shared descriptor) */
	const unsigned char *data;
	uint64_t offset;         /* of the bytes within fd */
	uint64_t size;
	char path[PV_USB_NAME_MAX + 64];
	enum pv_usb_file_origin origin;
};

/* Look name up in the rpiboot order: memory files, then (bootfiles mode) DIR/<chip>/NAME
 * and bootfiles.bin member <chip>/NAME, then (overlay) DIR/<port_path>/NAME, then
 * DIR/<chip>/NAME, then DIR/NAME, then the msd_dir file rpiboot would embed. chip is
 * rpiboot's chip folder (pv_soc_info.rpiboot_folder). name must pass pv_usb_name_is_safe.
 * Returns PV_OK (close with pv_usb_served_file_close), PV_ERR_NOT_FOUND. */
int pv_usb_files_open(struct pv_usb_files *files, const char *chip, const char *port_path,
		      const char *name, struct pv_usb_served_file *out);
void pv_usb_served_file_close(struct pv_usb_served_file *file);
/* Read up to len bytes at pos into buf; *got receives the count. */
int pv_usb_served_file_read(const struct pv_usb_served_file *file, uint64_t pos, void *buf,
			    size_t len, size_t *got);

/* ---- File server ------------------------------------------------------------------- */

enum pv_usb_server_end {
	PV_USB_SERVER_DONE,      /* Done command or empty name */
	PV_USB_SERVER_GONE,      /* the device left after being served (boot payload ran) */
};

struct pv_usb_server_stats {
	unsigned requests;
	unsigned files_sent;
	unsigned not_found;
	unsigned refused;
	uint64_t bytes_sent;
	enum pv_usb_server_end end;
};

/* What one answered request was (rpiboot prints a line for most). */
enum pv_usb_step {
	PV_USB_STEP_NONE = 0,
	PV_USB_STEP_SIZE,          /* GetFileSize of a file that is there: size, origin, path */
	PV_USB_STEP_NOT_FOUND,     /* GetFileSize answered 0: not there (or refused) */
	PV_USB_STEP_READ,          /* ReadFile: the file was sent (size bytes) */
	PV_USB_STEP_READ_MISSING,  /* ReadFile with no file to send: answered 0 */
	PV_USB_STEP_METADATA,      /* a `*KEY*VALUE` item (name = the item as sent) */
	PV_USB_STEP_REFUSED,       /* unsafe or malformed request, answered 0 */
	PV_USB_STEP_DONE,          /* Done or an empty name: the server ends */
};

struct pv_usb_server_step {
	enum pv_usb_step step;
	const char *name;          /* the requested name (printable rendering if refused) */
	int32_t command;           /* 0 GetFileSize, 1 ReadFile, 2 Done, other: as sent */
	uint64_t size;             /* SIZE / READ: the file's size */
	enum pv_usb_file_origin origin; /* SIZE / READ */
	const char *path;          /* SIZE / READ: served_file.path */
	uint64_t bytes_sent;       /* by the server so far */
};

/* Called after each request is answered. */
typedef void (*pv_usb_server_progress_fn)(void *user, const struct pv_usb_server_step *step);

struct pv_usb_server_params {
	struct pv_usb_files *files;
	const char *chip;        /* "2711": chip folder and bootfiles prefix */
	const char *port_path;
	const struct pv_usb_timeouts *timeouts;
	uint64_t deadline_ms;    /* pv_usb_now_ms() value after which the server gives up */
	volatile const int *cancel; /* non-zero: stop at the next transfer (may be NULL) */
	struct pv_usb_metadata *metadata; /* receives the metadata items (may be NULL) */
	pv_usb_server_progress_fn progress;
	void *progress_user;
};

/* Serve one device until it says Done, sends an empty name, or leaves after having read at
 * least one file. Returns PV_OK (stats->end says how it ended), PV_ERR_TIMEOUT (silent
 * device or deadline), PV_ERR_NO_DEVICE (gone before reading anything), PV_ERR_INTERRUPTED,
 * or the transport error that broke an answer. */
int pv_usb_file_server_run(struct pv_usb_transport *t, const struct pv_usb_server_params *p,
			   struct pv_usb_server_stats *stats);

/* Monotonic milliseconds (CLOCK_MONOTONIC). */
uint64_t pv_usb_now_ms(void);

#ifdef __cplusplus
}
#endif
#endif
