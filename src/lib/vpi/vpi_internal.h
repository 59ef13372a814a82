/* Internals of the virtual Pi shared by its files: the per-SoC firmware profile table, the
 * board state and the firmware hooks the wire-level handlers call. */
#ifndef PIPROV_VPI_INTERNAL_H
#define PIPROV_VPI_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "piprov/board.h"
#include "piprov/buf.h"
#include "piprov/vpi.h"
#include "msd.h"

/* How often a board waiting for its arrive-when=PATH looks for it. */
#define VPI_ARRIVE_CHECK_MS 50

/* Metadata items the recovery firmware reports (`*KEY*VALUE` requests). */
enum vpi_meta_key {
	VPI_META_USER_SERIAL_NUM,
	VPI_META_MAC_ADDR,
	VPI_META_EEPROM_UPDATE,     /* EEPROM_ERASE instead when config.txt says erase_eeprom=1 */
	VPI_META_EEPROM_HASH,
	VPI_META_SECURE_BOOT_PROVISION, /* only when config.txt programs a key */
	VPI_META_CUSTOMER_KEY_HASH,
	VPI_META_BOOT_ROM,
	VPI_META_BOARD_ATTR,
	VPI_META_USER_BOARDREV,
	VPI_META_JTAG_LOCKED,
	VPI_META_SIGNATURE_MODE,
	VPI_META_MAC_WIFI_ADDR,
	VPI_META_MAC_BT_ADDR,
	VPI_META_FACTORY_UUID,
	VPI_META_ADVANCED_BOOT,
};

/* One step of the ordinary bootloader's request flow (a second stage that is not the
 * recovery program). Every step asks GetFileSize and reads the file when it is there. */
enum vpi_boot_step_kind {
	VPI_BOOT_FILE,          /* a file it reads when present, then the next step */
	VPI_BOOT_FIRMWARE,      /* an .elf and its fixup (both asked); a found .elf is run:
				 * Done, and the second stage leaves USB */
	VPI_BOOT_RAMDISK,       /* boot.img, asked only when config.txt says boot_ramdisk=1;
				 * found: Done and leave */
	VPI_BOOT_IMAGE,         /* boot.img, always asked; found: Done and leave */
};

struct vpi_boot_step {
	enum vpi_boot_step_kind kind;
	const char *name;
	const char *fixup;      /* VPI_BOOT_FIRMWARE: its fixup file (NULL: none asked) */
};

/* A published recovery.bin, known by its digest (profile.c; the fixtures of
 * ../shared/fixtures/recovery are checked against this table by a test). */
struct vpi_recovery_release {
	enum pv_soc soc;
	const char *channel;    /* rpi-eeprom folder(s) it was published in */
	size_t size;
	const char *sha256;     /* lower-case hex */
};
const struct vpi_recovery_release *vpi_recovery_release_at(size_t index);
/* The release with this digest for this SoC, NULL when none. */
const struct vpi_recovery_release *vpi_recovery_release_find(enum pv_soc soc,
							     const char sha256_hex[65]);

/* What the virtual firmware of one SoC does: the boot ROM's USB identity and the second
 * stages' behaviour. One row per SoC (profile.c); nothing else branches on the chip. */
struct vpi_profile {
	enum pv_soc soc;
	const char *product_string;         /* iProduct of the ROM: "BCM2711 Boot" */
	uint8_t rom_interfaces;             /* 2 = mass storage + vendor (BCM2837) */
	bool rom_has_serial_string;         /* BCM2711/2712 ROMs report the serial */
	uint8_t oui[3];                     /* default MAC prefix */
	uint8_t macs_per_board;             /* Ethernet (+ WiFi + BT on BCM2712) */
	uint32_t serial_high;               /* top 32 bits of generated serials (0 = random) */
	uint32_t boot_rom;                  /* BOOT_ROM metadata value */
	uint32_t advanced_boot;             /* ADVANCED_BOOT value (2711) */
	bool recovery_capable;              /* has an EEPROM a recovery program can flash */
	bool requests_vl805;                /* recovery asks for vl805.sig (2711) */
	const enum vpi_meta_key *metadata;  /* order the recovery firmware reports them */
	size_t metadata_len;
	const struct vpi_boot_step *boot_steps; /* what a non-recovery second stage fetches */
	size_t boot_steps_len;
	uint8_t memory_code;                /* MMM of generated revision codes */
	uint8_t pcb_revision;               /* RRRR of generated revision codes */
};

const struct vpi_profile *vpi_profile_for(enum pv_soc soc);
/* Default revision code of a model (e.g. pi4 -> 0xc03115). */
uint32_t vpi_default_boardrev(const struct pv_board_type *board);
uint64_t vpi_mix64(uint64_t x);

enum vpi_rom_state {
	VPI_ROM_WAIT_MESSAGE_LEN,   /* expects control OUT length 24 */
	VPI_ROM_WAIT_MESSAGE,       /* expects 24 bytes bulk */
	VPI_ROM_WAIT_CODE_LEN,      /* expects control OUT length == message length */
	VPI_ROM_WAIT_CODE,          /* expects the second stage bulk */
	VPI_ROM_UPLOADED,           /* return code readable, then re-enumeration */
	VPI_ROM_REJECTED,           /* return code readable (non-zero), then back to start */
};

enum vpi_fw_state {
	VPI_FW_NEXT,                /* firmware decides its next request */
	VPI_FW_READY,               /* a request waits for the host's control IN */
	VPI_FW_AWAIT_ANSWER,        /* request delivered; waits for the control OUT length */
	VPI_FW_AWAIT_DATA,          /* ReadFile answered with a length; bulk data follows */
	VPI_FW_BUSY,                /* flashing until busy_until */
	VPI_FW_FINISHED,            /* Done sent; halted */
	VPI_FW_HUNG,                /* fault: never answers again */
};

/* Where an incoming file goes. */
enum vpi_slot {
	VPI_SLOT_DISCARD,           /* hashed and counted only */
	VPI_SLOT_CONFIG,
	VPI_SLOT_SIG,
	VPI_SLOT_IMAGE,
	VPI_SLOT_VL805_SIG,
	VPI_SLOT_VL805,
	VPI_SLOT_COUNT,
};

struct vpi_script_answer {
	uint32_t size;
	uint64_t bytes;
};

struct pv_vpi_board {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct pv_vpi_options opts;
	char *dump_dir;
	char *extra_metadata;       /* "KEY:VALUE" or NULL */
	bool extra_sent;
	struct pv_vpi_request *script;
	struct vpi_script_answer *script_answers;
	const struct vpi_profile *profile;
	char serial16[17];
	char serial8[9];
	uint64_t fault_random;
	/* The fault still to strike: opts.fault until the first power cycle, then none (a
	 * fault belongs to the board's first plug; result.fault keeps naming it). */
	enum pv_vpi_fault fault;

	/* USB wire state */
	bool attached;
	bool unplugged;
	bool port_given;            /* options named a port path: the bus keeps it */
	bool plugged_in;            /* attached at least once (arrived): it can be power-cycled */
	uint32_t generation;
	uint8_t address;
	uint8_t configuration;
	enum pv_vpi_stage stage;
	uint64_t reattach_at_ms;    /* 0 = none pending */
	char *arrive_when;          /* arrive-when=PATH while the board waits for it, else NULL */
	uint64_t arrive_check_at_ms; /* when to look for arrive_when next */
	uint64_t detach_at_ms;
	uint64_t link_free_at_us;
	void (*notify)(void *user);
	void *notify_user;

	/* ROM */
	enum vpi_rom_state rom;
	uint8_t boot_message[24];
	size_t boot_message_got;
	uint32_t code_len;
	struct pv_buf code;
	uint32_t retcode;

	/* second stage */
	enum vpi_fw_state fw;
	bool program_recovery;
	unsigned pc;
	unsigned sub;               /* bootloader: phase within the step (size/read/fixup) */
	bool boot_ramdisk;          /* bootloader: config.txt said boot_ramdisk=1 */
	bool boot_found;            /* bootloader: the current step's main file was there */
	bool boot_started;          /* bootloader: it found something to run: leaves after Done */
	const char *boot_ran;       /* bootloader: the name of what it ran ("boot.img") */
	uint8_t message[PV_VPI_REQUEST_LEN];
	size_t message_len;
	int32_t message_command;
	char message_name[PV_VPI_REQUEST_NAME_LEN * 4 + 1]; /* escaped, for the transcript */
	bool message_is_metadata;
	uint32_t answer_size;
	uint64_t data_remaining;
	uint64_t data_received;
	enum vpi_slot data_slot;
	bool data_too_big;
	EVP_MD_CTX *data_hash;
	uint64_t busy_until_ms;
	uint32_t last_size;         /* last GetFileSize answer */
	struct pv_buf files[VPI_SLOT_COUNT];
	bool file_ok[VPI_SLOT_COUNT];
	size_t meta_index;
	bool meta_enabled;
	bool reboot_after;
	bool erase_requested;
	bool program_pubkey;
	bool image_is_upd;

	uint8_t *eeprom;
	size_t eeprom_size;
	bool eeprom_borrowed;       /* eeprom is opts.eeprom_storage: not ours to free */
	/* emmc=: the mass-storage gadget (msd.c) the board becomes after running its boot
	 * files (NULL: no medium, it leaves USB). */
	struct vpi_msd *msd;
	struct pv_vpi_result result;
	struct pv_buf transcript;
};

uint64_t vpi_now_ms(void);
uint64_t vpi_now_us(void);
/* Append one transcript line (lock held). */
void vpi_note(struct pv_vpi_board *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Detach now; re-attach as the second stage after reenumerate_ms when `reattach`. */
void vpi_detach(struct pv_vpi_board *b, bool reattach, uint64_t now);

/* The switches of the recovery config.txt the model acts on. */
struct vpi_recovery_config {
	bool boot_ramdisk;          /* boot_ramdisk=1 (read by the bootloader) */
	bool metadata;              /* recovery_metadata (default on) */
	bool reboot;                /* recovery_reboot=1 */
	bool erase_eeprom;          /* erase_eeprom=1 */
	bool program_pubkey;        /* program_pubkey=1 */
};
/* Parse `len` bytes of a recovery config.txt (any bytes: NULs, no final newline); keys not
 * present leave *out as it was. Every pass of its loop advances (tests: every truncation). */
void vpi_recovery_config_parse(const char *text, size_t len, struct vpi_recovery_config *out);

/* Firmware hooks (firmware.c), all with the lock held. */
void vpi_fw_start(struct pv_vpi_board *b);
/* Make the next request ready if the firmware can; returns true when one is ready. */
bool vpi_fw_prepare(struct pv_vpi_board *b, uint64_t now);
/* The host answered the delivered request with a length (control OUT). */
int vpi_fw_answer(struct pv_vpi_board *b, uint32_t length, uint64_t now);
/* A file's data has fully arrived. */
void vpi_fw_data_done(struct pv_vpi_board *b, uint64_t now);
/* The host polled again without answering the delivered request. */
void vpi_fw_unanswered(struct pv_vpi_board *b);
/* Bulk data of the file being read (fw == VPI_FW_AWAIT_DATA). */
void vpi_fw_receive(struct pv_vpi_board *b, const uint8_t *data, size_t len, size_t *actual,
		    uint64_t now);

/* Take the board lock, giving up after `ms` (a thread busy inside the model must not stall
 * the bus for every other board). */
bool vpi_board_lock_within(struct pv_vpi_board *b, unsigned ms);
/* pv_vpi_board_poll and pv_vpi_board_info with the lock held. */
void vpi_board_poll_locked(struct pv_vpi_board *b, bool *attached, uint32_t *generation,
			   uint32_t *next_event_ms);
int vpi_board_info_locked(struct pv_vpi_board *b, struct pv_usb_device_info *info);

/* The bus sets this so that attach/detach wakes its waiters (called with the board lock
 * held; must not take the board lock). */
void vpi_board_set_notify(struct pv_vpi_board *b, void (*fn)(void *), void *user);

#endif
