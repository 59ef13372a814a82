/* The virtual Pi: a Raspberry Pi boot ROM and recovery firmware modelled at the USB wire level,
 * so the whole USB boot flow runs and is tested without hardware.
 *
 * One struct pv_vpi_board is one USB device as seen from the wire: its current device,
 * configuration and string descriptors, whether it is attached (with a generation counter
 * that changes on every detach/attach), and handlers for control transfers given the raw
 * 8-byte SETUP packet and for bulk transfers on an endpoint. Behind the wire sits a model of
 * the firmware (../shared/docs/usbboot-protocol.md):
 *   ROM stage (iSerialNumber index 3 on BCM2711/2712, 0 on BCM2835-2837, where the BCM2837
 *   ROM exposes mass storage as interface 0 and the vendor interface as interface 1):
 *   24-byte boot message + second-stage upload on the bulk OUT endpoint, 4-byte return code
 *   on control IN, then a detach and a re-attach on the same port path as the second stage
 *   (index 4, or 1 on BCM2835-2837).
 *   Second stage: the file-server client. If the uploaded program is a recovery program (by
 *   identity: pv_vpi_placeholder_recovery() or a published recovery.bin by its SHA-256; or
 *   forced with options.second_stage), the board
 *   runs the recovery flow: config.txt, vl805.sig (BCM2711), pieeprom.sig, pieeprom.upd,
 *   pieeprom.bin; it checks the image against the sha256 line of pieeprom.sig, "writes" the
 *   virtual EEPROM (flash_ms), then reports metadata as `*KEY*VALUE` requests formatted as
 *   the real firmware does, then Done. Any other program is treated as a bootloader that
 *   fetches the boot files of its SoC (e.g. mcb.bin ... boot.img on BCM2712) and then leaves.
 *
 * Two users drive the same model: the in-process transport and bus below (which implement
 * piprov/usb_transport.h for `--virtual`), and the usb-redir bridge that exposes a board to
 * a QEMU guest (tests/e2e). Both go through pv_vpi_board_control() and the bulk handlers.
 *
 * Threading: every board has its own lock; all functions may be called from any thread.
 * Calls that wait (a control IN that the device NAKs, a rate-capped bulk transfer) release
 * the lock while they sleep. timeout_ms == 0 never sleeps: a transfer the device would NAK
 * returns PV_ERR_TIMEOUT at once (what a usb-redir bridge wants), and usb_mbps is ignored.
 *
 * Return values: PV_OK or a negative PV_ERR_* (piprov/error.h) with detail via pv_fail();
 * PV_ERR_NO_DEVICE = the board is detached (or was re-attached since the caller's
 * generation); PV_ERR_PIPE = the endpoint stalls (the request is not one the device
 * expects now); PV_ERR_TIMEOUT = the device NAKed until timeout_ms passed.
 */
#ifndef PIPROV_VPI_H
#define PIPROV_VPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "piprov/board.h"
#include "piprov/buf.h"
#include "piprov/usb_transport.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PV_VPI_SETUP_LEN 8
#define PV_VPI_DEVICE_DESC_LEN 18
/* Largest configuration descriptor the model produces (the mass-storage gadget with its
 * serial console: 3 interfaces, 5 endpoints, 98 bytes). */
#define PV_VPI_CONFIG_DESC_MAX 128
/* A USB string descriptor: 2 header bytes + up to 126 UTF-16 units. */
#define PV_VPI_STRING_DESC_MAX 254
/* The file-server request: int32 command + 256-byte name (rpiboot's struct file_message). */
#define PV_VPI_REQUEST_LEN 260
#define PV_VPI_REQUEST_NAME_LEN 256
/* Limits on what a host can make the board store. */
#define PV_VPI_SECOND_STAGE_MAX (1024u * 1024u)  /* a ROM refuses bigger uploads */
#define PV_VPI_TRANSCRIPT_MAX (1024u * 1024u)
#define PV_VPI_COUNT_MAX 256                      /* boards per --virtual spec */

/* File-server commands (rpiboot message_name[]). */
enum pv_vpi_command {
	PV_VPI_GET_FILE_SIZE = 0,
	PV_VPI_READ_FILE = 1,
	PV_VPI_DONE = 2,
};

/* Where the board's firmware is. */
enum pv_vpi_stage {
	PV_VPI_STAGE_ROM = 0,       /* waiting for the boot message + second stage */
	PV_VPI_STAGE_SECOND,        /* second stage running the file-server client */
	PV_VPI_STAGE_FINISHED,      /* second stage sent Done and halted (still attached) */
	PV_VPI_STAGE_GONE,          /* left USB (booted on, rebooted or unplugged for good) */
	PV_VPI_STAGE_MSD,           /* a Compute Module with emmc= runs its mass-storage
				     * gadget: a USB disk of the eMMC file (docs/vpi.md) */
};

/* Device-side faults, chosen per board from fault=SEED (or set directly by tests). */
enum pv_vpi_fault {
	PV_VPI_FAULT_NONE = 0,
	PV_VPI_FAULT_RETCODE_LOST,  /* detach before the return code is read (NO_DEVICE) */
	PV_VPI_FAULT_CORRUPT_WRITE, /* EEPROM write flips a bit; firmware still says success */
	PV_VPI_FAULT_WRITE_FAILS,   /* EEPROM write fails; EEPROM_UPDATE says "failed" */
	PV_VPI_FAULT_UNPLUG_UPLOAD, /* unplugged half-way through the second-stage upload */
	PV_VPI_FAULT_UNPLUG_IMAGE,  /* unplugged half-way through reading pieeprom.bin */
	PV_VPI_FAULT_HANG,          /* firmware hangs after config.txt: NAKs forever */
	PV_VPI_FAULT_SLOW_FLASH,    /* the write takes 20x flash_ms (>= 2 s) */
	PV_VPI_FAULT_COUNT,
};
const char *pv_vpi_fault_name(enum pv_vpi_fault fault);

/* What the board makes of the second stage it was sent (spec key second-stage=). AUTO: the
 * recovery program when the file is one the model knows by identity (the placeholder of
 * pv_vpi_placeholder_recovery(), or a published recovery.bin release by its SHA-256), the
 * ordinary bootloader of the SoC otherwise. The others force the role. */
enum pv_vpi_second_stage {
	PV_VPI_SECOND_STAGE_AUTO = 0,
	PV_VPI_SECOND_STAGE_RECOVERY,
	PV_VPI_SECOND_STAGE_BOOTLOADER,
};

/* One scripted second-stage request (hostile mode). The board sends `message_len` bytes
 * (PV_VPI_REQUEST_LEN when 0) of: little-endian int32 command, then name_len bytes of name,
 * then zero padding. A name of PV_VPI_REQUEST_NAME_LEN bytes has no NUL. */
struct pv_vpi_request {
	int32_t command;
	uint8_t name[PV_VPI_REQUEST_NAME_LEN];
	size_t name_len;
	size_t message_len;
};

/* Everything that defines one virtual board. pv_vpi_options_init() fills the defaults for
 * a model; pv_vpi_spec_board_options() fills it from a parsed --virtual spec. */
struct pv_vpi_options {
	const struct pv_board_type *board;  /* model (board table) */
	const struct pv_soc_info *soc;      /* its SoC */
	uint64_t serial;                    /* 64-bit board serial */
	uint8_t mac[6];                     /* Ethernet MAC (WiFi = +1, BT = +2 on BCM2712) */
	uint32_t boardrev;                  /* revision code (USER_BOARDREV) */
	unsigned flash_ms;                  /* simulated EEPROM erase+write time (default 0) */
	unsigned usb_mbps;                  /* bulk OUT rate cap in Mbit/s, 0 = none (default) */
	unsigned reenumerate_ms;            /* detach to re-attach time (default 20) */
	unsigned rom_exec_ms;               /* upload done to ROM detach if the return code
					     * is never read (default 3000; read: at once) */
	enum pv_vpi_second_stage second_stage; /* role of the uploaded program (default auto) */
	enum pv_vpi_fault fault;            /* device-side fault (default none) */
	/* Hostile mode: when non-NULL, the second stage sends exactly these requests (after
	 * any upload) instead of its firmware flow, then Done. Copied by pv_vpi_board_new(). */
	const struct pv_vpi_request *script;
	size_t script_len;
	/* Port path the board is attached at ("" = assigned by the virtual bus). */
	char port_path[PV_USB_PORT_PATH_MAX];
	/* dump=DIR: where pv_vpi_bus_write_dumps() writes the EEPROM (NULL = nowhere).
	 * Copied by pv_vpi_board_new(). */
	const char *dump_dir;
	/* meta=KEY:VALUE: one more metadata item the recovery program sends verbatim as
	 * `*KEY*VALUE` after its own (NULL = none); "KEY:VALUE". Copied by pv_vpi_board_new(). */
	const char *extra_metadata;
	/* The board is plugged in this long after it was made (0: at once): boards that arrive
	 * over time, for a station (spec keys arrive-after= and arrive-every=). */
	unsigned arrive_after_ms;
	/* Caller-owned buffer of soc->eeprom_size bytes used as the board's EEPROM instead of
	 * a fresh allocation (NULL = allocate, as a normal board does). pv_vpi_board_new fills
	 * it with 0xff; the board never frees it; it must outlive the board. For the fuzz
	 * target, which makes a board per input: a 512 KiB/2 MiB allocation each time is a new
	 * mapping under ASan and cost more than the input itself. */
	unsigned char *eeprom_storage;
	/* arrive-when=PATH: the board stays unplugged until PATH exists (looked at every
	 * 50 ms), and arrive_after_ms counts from the moment it was seen instead of from
	 * board_new: a test plugs its boards in once it is ready for them (e.g. a page has
	 * subscribed), not after a guessed delay. NULL: no wait. Copied by pv_vpi_board_new(). */
	const char *arrive_when;
	/* emmc=FILE: the medium the mass-storage gadget stage shows (NULL = none: a board that
	 * runs its boot files leaves USB). With emmc_numbered the file is "FILE.<emmc_index>"
	 * (a spec with count > 1). pv_vpi_board_new() opens it: a regular file, created sparse
	 * with emmc_size bytes when missing and emmc_size > 0, else of its own size. Copied. */
	const char *emmc_path;
	uint64_t emmc_size;
	bool emmc_numbered;
	unsigned emmc_index;
};

/* Defaults for a model; PV_ERR_UNSUPPORTED when the board has no USB boot ROM model here.
 * Serial and MAC are derived from `index` so that boards made with different indexes
 * differ. */
int pv_vpi_options_init(struct pv_vpi_options *opts, const struct pv_board_type *board,
			unsigned index);

/* --- --virtual SPEC: MODEL[,key=value]... ------------------------------------------- */

struct pv_vpi_spec {
	const struct pv_board_type *board;
	unsigned count;                     /* boards (default 1, 1..PV_VPI_COUNT_MAX) */
	bool has_serial, has_mac, has_boardrev, has_fault;
	uint64_t serial;
	uint8_t mac[6];
	uint32_t boardrev;
	unsigned flash_ms;
	unsigned usb_mbps;
	bool has_reenumerate_ms;
	unsigned reenumerate_ms;            /* reenumerate-ms= (default: the options') */
	bool has_rom_exec_ms;
	unsigned rom_exec_ms;               /* rom-exec-ms= */
	enum pv_vpi_second_stage second_stage; /* second-stage=auto|recovery|bootloader */
	unsigned arrive_after_ms;           /* board 0 is plugged in this long after the bus
					     * made it, board i arrive_every_ms later each */
	unsigned arrive_every_ms;
	char *arrive_when;                  /* arrive-when=PATH, malloc'd, NULL when not given */
	uint64_t fault_seed;
	char *dump_dir;                     /* malloc'd, NULL when not given */
	char *extra_metadata;               /* meta=KEY:VALUE, malloc'd "KEY:VALUE" or NULL */
	char *emmc_path;                    /* emmc=FILE, malloc'd, NULL when not given */
	uint64_t emmc_size;                 /* emmc-size= (0: the file's own size) */
	/* Generated identities start at this board number of the model, so two specs of one
	 * model on a bus (`--virtual pi5 --virtual pi5`) are two different boards. Set by the
	 * bus; 0 after parsing. */
	unsigned first_default;
};

/* Parse a spec; models: pi4 pi400 cm4 pi5 cm5 pi3 cm3 (and other boards of the table that
 * have a ROM model). Keys: serial (16 hex digits), mac, boardrev, count, flash-ms,
 * usb-mbps, dump=DIR, fault=SEED, reenumerate-ms, rom-exec-ms, second-stage,
 * meta=KEY:VALUE, arrive-after=MS, arrive-every=MS, arrive-when=PATH, emmc=FILE,
 * emmc-size=SIZE. Errors (PV_ERR_INVALID) name the key and the value; nothing is opened or
 * created here. */
int pv_vpi_spec_parse(const char *text, struct pv_vpi_spec *spec);
void pv_vpi_spec_release(struct pv_vpi_spec *spec);
/* Options for board `index` (0..count-1) of a spec: the given serial/MAC for board 0 and
 * counted up for the next ones; distinct generated ones when none was given (a given
 * serial without a MAC gets a MAC derived from the serial, as every real board has its
 * own); the fault drawn from fault_seed and index. */
int pv_vpi_spec_board_options(const struct pv_vpi_spec *spec, unsigned index,
			      struct pv_vpi_options *opts);

/* --- one board: the wire-level device model ------------------------------------------ */

struct pv_vpi_board;

/* Create a board, attached in its ROM stage (generation 1). */
int pv_vpi_board_new(const struct pv_vpi_options *opts, struct pv_vpi_board **board);
void pv_vpi_board_free(struct pv_vpi_board *board);

const struct pv_vpi_options *pv_vpi_board_options(const struct pv_vpi_board *board);
/* "0c8f7e5cbd989ae1": the 16-digit serial (dump file names). */
const char *pv_vpi_board_serial(const struct pv_vpi_board *board);

/* Advance time-driven state (re-attach after re-enumeration, ROM timeout, end of a flash)
 * and report it: attached or not, the generation (incremented by every detach and every
 * attach), and in *next_event_ms the milliseconds until the next time-driven change
 * (UINT32_MAX when none is pending). Any out-pointer may be NULL. */
void pv_vpi_board_poll(struct pv_vpi_board *board, bool *attached, uint32_t *generation,
		       uint32_t *next_event_ms);

/* Bus view of the board as it is now (vendor/product, bcdDevice, serial index, interface
 * count, address, port path, serial string, backend "virtual").
 * Returns PV_OK or PV_ERR_NO_DEVICE when detached. */
int pv_vpi_board_info(struct pv_vpi_board *board, struct pv_usb_device_info *info);

/* Descriptors of the current stage, byte for byte as on the wire.
 * Returns PV_OK, PV_ERR_NO_DEVICE, PV_ERR_NOT_FOUND (no such string index),
 * PV_ERR_NO_SPACE (buffer too small). String index 0 is the LANGID list (0x0409). */
int pv_vpi_board_device_descriptor(struct pv_vpi_board *board,
				   uint8_t out[PV_VPI_DEVICE_DESC_LEN]);
int pv_vpi_board_config_descriptor(struct pv_vpi_board *board, uint8_t *out, size_t size,
				   size_t *len);
int pv_vpi_board_string_descriptor(struct pv_vpi_board *board, uint8_t index, uint8_t *out,
				   size_t size, size_t *len);

/* One control transfer on EP0. setup is the raw 8-byte SETUP packet (bmRequestType,
 * bRequest, wValue, wIndex, wLength little-endian). For an OUT transfer `data` holds
 * wLength bytes (may be NULL when wLength is 0); for an IN transfer up to
 * min(wLength, size) bytes are written to `data` and *actual receives the count.
 * Handles the standard requests a host stack sends (GET_DESCRIPTOR, GET/SET_CONFIGURATION,
 * SET_INTERFACE, GET_STATUS, CLEAR_FEATURE, SET_ADDRESS) and the vendor requests of the
 * boot protocol (0x40/0 with a length in wValue/wIndex, 0xC0/0).
 * `generation` is the generation the caller saw when it opened the device, or 0 for "now".
 * Returns PV_OK, PV_ERR_NO_DEVICE, PV_ERR_PIPE, PV_ERR_TIMEOUT, PV_ERR_INVALID (bad setup). */
int pv_vpi_board_control(struct pv_vpi_board *board, uint32_t generation,
			 const uint8_t setup[PV_VPI_SETUP_LEN], void *data, size_t size,
			 size_t *actual, unsigned timeout_ms);

/* Bulk OUT on endpoint address `ep` (0x01, or 0x03 on a two-interface ROM). *actual receives
 * the bytes accepted, also when a rate-capped transfer times out part-way.
 * Returns PV_OK, PV_ERR_NO_DEVICE, PV_ERR_PIPE, PV_ERR_TIMEOUT. */
int pv_vpi_board_bulk_out(struct pv_vpi_board *board, uint32_t generation, uint8_t ep,
			  const void *data, size_t len, size_t *actual, unsigned timeout_ms);

/* Bulk IN on `ep` (0x82 / 0x84): the boot protocol never uses it; the model NAKs (timeout)
 * like the real ROM. In the mass-storage gadget stage (0x81) it returns the data of a
 * command, then its status (CSW); *actual receives the count (fewer than `size` ends a data
 * phase). Returns PV_OK (gadget stage only), PV_ERR_TIMEOUT, PV_ERR_NO_DEVICE, PV_ERR_PIPE
 * (no such ep, or halted), PV_ERR_OVERFLOW (a buffer shorter than the 13-byte status). */
int pv_vpi_board_bulk_in(struct pv_vpi_board *board, uint32_t generation, uint8_t ep,
			 void *data, size_t size, size_t *actual, unsigned timeout_ms);

/* Physically unplug the board (it never comes back). */
void pv_vpi_board_unplug(struct pv_vpi_board *board);

/* Power its port off and on (the bus's power_cycle op): the board leaves USB at once
 * (transports opened before get PV_ERR_NO_DEVICE) and arrives again 200 ms later in its
 * boot ROM stage, as a re-plugged board does. What it keeps is what a real Pi keeps: the
 * EEPROM contents, the emmc= medium, serial and MACs; what ran is gone. Its fault (fault=)
 * struck on the first plug only: from now on it has none (result.fault still names it).
 * Returns PV_OK, or PV_ERR_NO_DEVICE when it is not plugged in (unplugged, or not arrived
 * yet: arrive-after/arrive-when). */
int pv_vpi_board_power_cycle(struct pv_vpi_board *board);

/* --- results, for tests, the CLI and the dump ------------------------------------------ */

struct pv_vpi_result {
	enum pv_vpi_stage stage;
	bool second_stage_received;         /* a complete upload was accepted by the ROM */
	size_t second_stage_size;
	uint8_t second_stage_sha256[32];
	bool recovery;                      /* the uploaded program was a recovery program */
	char program[64];                   /* what the board took it for: "recovery
					     * (placeholder)", "recovery (recovery.bin 2711
					     * default)", "bootloader", ... */
	bool image_received;                /* pieeprom.bin (or .upd) fully received */
	bool signature_ok;                  /* it matched pieeprom.sig */
	bool eeprom_written;                /* the virtual EEPROM was (re)written */
	char eeprom_update[16];             /* the EEPROM_UPDATE value sent ("" if none) */
	char eeprom_hash[65];               /* EEPROM_HASH sent: sha256 of the read-back */
	unsigned requests;                  /* file-server requests sent */
	unsigned metadata_sent;             /* `*KEY*VALUE` requests sent and answered */
	unsigned files_refused;             /* scripted requests answered with size 0 */
	uint64_t bytes_received;            /* bulk OUT bytes accepted in all */
	enum pv_vpi_fault fault;
	/* The mass-storage gadget stage (emmc=): */
	char msd_program[32];               /* what the bootloader ran ("boot.img"), "" if none */
	char msd_gadget[32];                /* which gadget it became ("mass-storage-gadget64") */
	uint64_t msd_size;                  /* medium bytes */
	uint64_t msd_commands, msd_failed_commands, msd_phase_errors;
	uint64_t msd_bytes_read, msd_bytes_written, msd_syncs;
};
void pv_vpi_board_result(struct pv_vpi_board *board, struct pv_vpi_result *result);

/* Answers the host gave to the scripted requests, in order: the size it announced (0 = not
 * found) and the bytes it sent for a ReadFile. */
int pv_vpi_board_script_answer(struct pv_vpi_board *board, size_t index, uint32_t *size,
			       uint64_t *bytes_sent);

/* Copy of the virtual EEPROM (eeprom_size bytes; erased 0xff until written). */
int pv_vpi_board_read_eeprom(struct pv_vpi_board *board, struct pv_buf *out);

/* Write the virtual EEPROM to DIR/<16-digit serial>.bin atomically. */
int pv_vpi_board_dump(struct pv_vpi_board *board, const char *dir);

/* The request/answer transcript so far, one event per line (format in docs/vpi.md), e.g.
 *   attach stage=rom serial-index=3 port=1-1
 *   rom boot-message length=100140
 *   request GetFileSize "config.txt" -> size 254
 * Appended to out. */
int pv_vpi_board_transcript(struct pv_vpi_board *board, struct pv_buf *out);

/* A placeholder recovery program, used where no real recovery.bin is installed: a small
 * file the virtual Pi knows by its exact bytes as a recovery program, saying it is not
 * firmware. The virtual Pi never executes what it receives. Appended to out. */
int pv_vpi_placeholder_recovery(struct pv_buf *out);

/* --- in-process transport and bus (piprov/usb_transport.h) ---------------------------- */

/* A transport for one board; does not own the board. */
int pv_vpi_transport_new(struct pv_vpi_board *board, struct pv_usb_transport **transport);

/* A bus holding virtual boards (it owns them). Boards get port paths "<bus>-1.<n>" on a
 * virtual root hub, bus number PV_VPI_BUS_NUMBER, unless their options name one. */
#define PV_VPI_BUS_NUMBER 100
int pv_vpi_bus_new(struct pv_usb_bus **bus);
/* Add a board (the bus takes ownership, also on failure). */
int pv_vpi_bus_add_board(struct pv_usb_bus *bus, struct pv_vpi_board *board);
/* Parse a --virtual spec and add its `count` boards. */
int pv_vpi_bus_add_spec(struct pv_usb_bus *bus, const char *spec_text);
size_t pv_vpi_bus_board_count(struct pv_usb_bus *bus);
struct pv_vpi_board *pv_vpi_bus_board_at(struct pv_usb_bus *bus, size_t index);
/* After the run: write the EEPROM dump of every board whose spec had dump=DIR. Returns the
 * first failure, after trying all boards. */
int pv_vpi_bus_write_dumps(struct pv_usb_bus *bus);

#ifdef __cplusplus
}
#endif
#endif
