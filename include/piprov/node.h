/* piprov-node library: what the on-Pi helper knows about the board it runs on.
 *
 * Everything is read through a root directory (normally "/", a fixture sysroot in tests, or
 * a mounted card): every path is resolved inside that root, symlinks included (an absolute
 * link such as /proc/device-tree -> /sys/firmware/devicetree/base stays inside the root),
 * the way openat2(RESOLVE_IN_ROOT) would, but portable to old kernels and qemu-user.
 *
 * Sources: ../shared/docs/netboot-and-identity.md §4 (device tree, revision codes,
 * chosen/bootloader, OTP, mailbox) and eeprom-format.md §2.2 and §4 (running config,
 * rpi-eeprom-update staging and immediate updates). */
#ifndef PIPROV_NODE_H
#define PIPROV_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "piprov/board.h"
#include "piprov/buf.h"
#include "piprov/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The root directory ------------------------------------------------------------- */

struct pv_node_root {
	int fd;     /* O_PATH directory fd of the root */
	char *path; /* as given, for messages */
};

int pv_node_root_open(struct pv_node_root *root, const char *path);
void pv_node_root_close(struct pv_node_root *root);

/* Resolve path (absolute or relative; both mean "from the root") inside the root,
 * following symlinks with ".." and absolute targets clamped to the root. out receives the
 * root-relative canonical path ("." for the root itself). PV_ERR_NOT_FOUND when a component
 * is missing, PV_ERR_FORMAT on a symlink loop. */
int pv_node_root_resolve(const struct pv_node_root *root, const char *path, char *out,
			 size_t size);
/* open(2) of a path inside the root (O_CLOEXEC added). Returns the fd or a PV_ERR_*. */
int pv_node_root_openat(const struct pv_node_root *root, const char *path, int flags,
			mode_t mode);
/* Read a whole file inside the root, failing with PV_ERR_TOO_BIG past limit bytes. */
int pv_node_root_read(const struct pv_node_root *root, const char *path, size_t limit,
		      struct pv_buf *out);
bool pv_node_root_exists(const struct pv_node_root *root, const char *path);

/* ---- Device-tree property values ---------------------------------------------------- */

/* Exactly one big-endian 32-bit cell. */
int pv_node_dt_u32(const void *data, size_t len, uint32_t *out);
/* A NUL-terminated printable string (one terminating NUL, no embedded NULs). The firmware
 * sometimes omits the terminator; that is accepted too. out gets at most size-1 chars. */
int pv_node_dt_string(const void *data, size_t len, char *out, size_t size);
/* A NUL-separated string list (compatible): the index-th entry. */
int pv_node_dt_string_at(const void *data, size_t len, unsigned index, char *out, size_t size);
/* Exactly six bytes. */
int pv_node_dt_mac(const void *data, size_t len, uint8_t mac[6]);

/* ---- /proc/cpuinfo ------------------------------------------------------------------- */

struct pv_node_cpuinfo {
	bool has_serial, has_revision;
	uint64_t serial;
	uint32_t revision;
	char model[128];    /* "" when absent */
	char hardware[64];  /* "" when absent (arm64 kernels omit it) */
};

/* Parses "Key\t: value" lines; unknown keys are ignored, a malformed Serial or Revision is
 * an error naming the line. */
int pv_node_cpuinfo_parse(const char *text, size_t len, struct pv_node_cpuinfo *out);

/* ---- The VideoCore mailbox (/dev/vcio) ---------------------------------------------- */

#define PV_NODE_MBOX_TAG_BOARD_REVISION 0x00010002u
#define PV_NODE_MBOX_TAG_BOARD_MAC 0x00010003u
#define PV_NODE_MBOX_TAG_BOARD_SERIAL 0x00010004u
#define PV_NODE_MBOX_TAG_GENCMD 0x00030080u
/* Largest property buffer we build or accept (gencmd answers are at most 4 KiB). */
#define PV_NODE_MBOX_MAX_BYTES (4096 + 64)

/* One property-interface round trip: buf holds size bytes of 32-bit words in host order
 * (word 0 = size); the implementation answers in place, as the firmware does. May block. */
struct pv_node_mailbox_ops {
	int (*property)(void *ctx, uint32_t *buf, size_t size);
	void (*close)(void *ctx);
};

struct pv_node_mailbox {
	const struct pv_node_mailbox_ops *ops;
	void *ctx;
};

/* Open the firmware mailbox: <root>/dev/vcio_gencmd, else <root>/dev/vcio (as vcgencmd).
 * PV_ERR_NOT_FOUND when neither exists. */
int pv_node_mailbox_open_vcio(const struct pv_node_root *root, struct pv_node_mailbox *out);
void pv_node_mailbox_close(struct pv_node_mailbox *mb);

/* Property request for one tag with value_size bytes of answer room (request value
 * in/in_len copied first). The answer (at most out_size bytes) goes to out, its length to
 * out_len. Checks the response code, the tag echo and the response bit. */
int pv_node_mailbox_tag(struct pv_node_mailbox *mb, uint32_t tag, const void *in, size_t in_len,
			size_t value_size, void *out, size_t out_size, size_t *out_len);
/* The gencmd tag: run a vcgencmd command, answer text (NUL-terminated, error code checked). */
int pv_node_mailbox_gencmd(struct pv_node_mailbox *mb, const char *command, struct pv_buf *out);
int pv_node_mailbox_serial(struct pv_node_mailbox *mb, uint64_t *serial);
int pv_node_mailbox_mac(struct pv_node_mailbox *mb, uint8_t mac[6]);
int pv_node_mailbox_revision(struct pv_node_mailbox *mb, uint32_t *revision);

/* Parse the answer buffer of a property call (exposed for the fuzz target). */
int pv_node_mailbox_parse_answer(const uint32_t *buf, size_t size, uint32_t tag,
				 const void **value, size_t *value_len);

/* `vcgencmd otp_dump` text: row N ("NN:xxxxxxxx" lines). */
int pv_node_otp_row(const char *text, size_t len, unsigned row, uint32_t *value);

/* ---- Identity ------------------------------------------------------------------------ */

/* Where a value came from (reported by status --json as "<field>_source"). */
enum pv_node_source {
	PV_NODE_SRC_NONE = 0,
	PV_NODE_SRC_DEVICE_TREE,
	PV_NODE_SRC_CPUINFO,
	PV_NODE_SRC_SYSFS,
	PV_NODE_SRC_MAILBOX,
	PV_NODE_SRC_NVMEM,
};
const char *pv_node_source_name(enum pv_node_source src);

enum pv_node_bootloader_field {
	PV_NODE_BL_VERSION = 1u << 0,
	PV_NODE_BL_BUILD_TIMESTAMP = 1u << 1,
	PV_NODE_BL_UPDATE_TIMESTAMP = 1u << 2,
	PV_NODE_BL_CAPABILITIES = 1u << 3,
	PV_NODE_BL_BOOT_MODE = 1u << 4,
	PV_NODE_BL_PARTITION = 1u << 5,
	PV_NODE_BL_TRYBOOT = 1u << 6,
	PV_NODE_BL_SIGNED_BOOT = 1u << 7,
};

struct pv_node_bootloader {
	unsigned present;         /* enum pv_node_bootloader_field bits */
	char version[64];         /* git hash */
	uint32_t build_timestamp, update_timestamp, capabilities;
	uint32_t boot_mode, partition, tryboot, signed_boot;
};

#define PV_NODE_EEPROM_CONFIG_MAX 4096 /* bootconf.txt: 4076 bytes max, with headroom */

struct pv_node_identity {
	uint64_t serial;
	enum pv_node_source serial_source;
	uint8_t mac[6];
	enum pv_node_source mac_source;
	uint32_t revision_code;
	enum pv_node_source revision_source;
	struct pv_revision revision;       /* valid when revision_source != NONE and new-style */
	bool revision_decoded;
	char model[128];
	char compatible[128];              /* first entry of /compatible */
	char duid[64];                     /* chosen/rpi-duid (Pi 5 family), "" when absent */
	bool has_boardrev_ext;
	uint32_t boardrev_ext;
	struct pv_node_bootloader bootloader;
	struct pv_buf eeprom_config;       /* running bootconf.txt (text), empty when unknown */
	enum pv_node_source eeprom_config_source;
	bool has_otp_boot_row;             /* Pi 3 family: OTP row 17 read */
	uint32_t otp_boot_row;
	struct pv_buf warnings;            /* one line each: what could not be read and why */
};

void pv_node_identity_init(struct pv_node_identity *id);
void pv_node_identity_release(struct pv_node_identity *id);

/* pv_node_identity_read with the firmware mailbox of the root when it has one (a real Pi). */
int pv_node_identity_read_board(const struct pv_node_root *root, struct pv_node_identity *id);
/* Read everything readable. mb may be NULL (no mailbox: values only it knows stay unknown).
 * Missing optional data is noted in id->warnings; bad data (a malformed device-tree cell, an
 * unparsable cpuinfo serial) fails with a message naming the file. Fails with
 * PV_ERR_NOT_FOUND when neither serial nor revision can be found anywhere. */
int pv_node_identity_read(const struct pv_node_root *root, struct pv_node_mailbox *mb,
			  struct pv_node_identity *id);

/* Derived values. */
const struct pv_soc_info *pv_node_identity_soc(const struct pv_node_identity *id);
bool pv_node_identity_has_eeprom(const struct pv_node_identity *id);
/* TFTP prefix the bootloader would use with the running config ("8 hex digits/",
 * "aa-bb-../" or TFTP_PREFIX_STR), into out. */
void pv_node_identity_tftp_prefix(const struct pv_node_identity *id, char *out, size_t size);
/* Value of KEY in the running config as the EEPROM library reads it (the last
 * unconditional assignment, pv_eeprom_conf_get); false when unset. */
bool pv_node_config_get(const char *config, const char *key, char *out, size_t size);
/* Pi 3 family: is USB/network boot enabled in OTP? false when unknown (see has_otp_boot_row). */
bool pv_node_identity_otp_boot_enabled(const struct pv_node_identity *id);

/* How this board comes to network boot (the board table's features, see piprov/board.h). */
enum pv_node_netboot_route {
	PV_NODE_NETBOOT_NONE,    /* no network boot: no Ethernet of its own, or a ROM without it */
	PV_NODE_NETBOOT_EEPROM,  /* the bootloader config in the SPI EEPROM (Pi 4/5 family) */
	PV_NODE_NETBOOT_IN_ROM,  /* the boot ROM network-boots as shipped (Pi 3B+): nothing to do */
	PV_NODE_NETBOOT_OTP,     /* one irreversible OTP bit (program_usb_boot_mode=1): Pi 3B */
};
/* NONE also when the revision code is unknown. */
enum pv_node_netboot_route pv_node_netboot_route(const struct pv_node_identity *id);

/* ---- Bootloader config edits --------------------------------------------------------- */

/* The config model is the EEPROM library's (piprov/eeprom_config.h); node only adds its
 * policy (what a netboot request changes) in pv_node_netboot_prepare. */
/* Split "KEY=VALUE" (KEY: A-Z 0-9 _; VALUE: printable, one line). */
int pv_node_setting_parse(const char *text, char *key, size_t key_size, const char **value);

/* ---- Provisioning flow ---------------------------------------------------------------- */

/* /etc/default/rpi-eeprom-update (shell assignments; only plain KEY=VALUE lines count). */
struct pv_node_update_defaults {
	char firmware_root[256];      /* FIRMWARE_ROOT, default /usr/lib/firmware/raspberrypi/bootloader */
	char release_status[64];      /* FIRMWARE_RELEASE_STATUS, default "default" */
	char backup_dir[256];         /* FIRMWARE_BACKUP_DIR */
	char bootfs[256];             /* BOOTFS, "" when unset */
	int immediate_update;         /* RPI_EEPROM_IMMEDIATE_UPDATE / _USE_FLASHROM, -1 unset */
	bool cm4_enable_update;       /* CM4_ENABLE_RPI_EEPROM_UPDATE=1 */
};

int pv_node_update_defaults_parse(const char *text, size_t len, const char *name,
				  struct pv_node_update_defaults *out);
/* Read <root>/etc/default/rpi-eeprom-update (absent file = defaults). */
int pv_node_update_defaults_read(const struct pv_node_root *root,
				 struct pv_node_update_defaults *out);

/* Newest pieeprom-YYYY-MM-DD.bin of the right size for the SoC in
 * <firmware_root>-<chip>/<status>/ (falling back to <firmware_root>/<status>/), as a
 * root-relative path into out; recovery.bin of the same folder into recovery (may be "" if
 * absent). */
int pv_node_find_release(const struct pv_node_root *root, const struct pv_node_update_defaults *d,
			 const struct pv_soc_info *soc, char *image, size_t image_size,
			 char *recovery, size_t recovery_size);

/* The boot partition as rpi-eeprom-update finds it: BOOTFS, else /boot/firmware, else /boot
 * (the first holding config.txt). Root-relative path into out. */
int pv_node_find_bootfs(const struct pv_node_root *root, const struct pv_node_update_defaults *d,
			char *out, size_t size);

/* Writes done by staging go through this, so tests can inject a full disk. */
struct pv_node_io_hooks {
	/* Like write(2); return -1 with errno set to fail. NULL = write(2). */
	long (*write)(void *ctx, int fd, const void *data, size_t len);
	void *ctx;
};

struct pv_node_stage_file {
	const char *name;       /* "pieeprom.upd" */
	const void *data;
	size_t len;
};

/* Stage files into dir (root-relative): every file is written to a hidden temporary name
 * and fsynced first; only when all are complete are they renamed into place, in the given
 * order (put the trigger, recovery.bin, last). Stale update files (pieeprom.{bin,upd,sig},
 * recovery.bin, recovery.NNN) are removed first, as rpi-eeprom-update does. On any failure
 * the temporaries and anything already renamed are removed: nothing half-staged. */
int pv_node_stage(const struct pv_node_root *root, const char *dir,
		  const struct pv_node_stage_file *files, size_t count,
		  const struct pv_node_io_hooks *hooks);

/* One file written the same crash-safe way (directories created as needed), without
 * touching anything else in dir. */
int pv_node_write_file(const struct pv_node_root *root, const char *dir, const char *name,
		       const void *data, size_t len, const struct pv_node_io_hooks *hooks);

/* Immediate update with flashrom (eeprom-format.md §4). */
struct pv_node_flashrom {
	const char *flashrom;         /* program, default "flashrom" (PATH) */
	/* Programmer string; "{speed}" is replaced by the attempt's SPI speed in kHz.
	 * Default "linux_spi:dev=<spidev>,spispeed={speed}". Tests point it at flashrom's
	 * dummy programmer. */
	const char *programmer;
	const unsigned *speeds_khz;   /* per attempt; default 16000, 8000, 8000, 8000, 8000 */
	size_t attempts;
	struct pv_buf *transcript;    /* optional: every command and its output, appended */
};

/* Probe (chip must be known and exactly image_len bytes), then up to `attempts` rounds of
 * write + verify of image_path (a host path). PV_ERR_VERIFY when every attempt failed. */
int pv_node_flashrom_update(const struct pv_node_flashrom *fr, const char *image_path,
			    size_t image_len);

/* ---- netboot: the whole change, computed before anything is written ---------------- */

struct pv_node_netboot_request {
	bool keep_order;              /* do not touch BOOT_ORDER (a preset or KEY=VALUE sets it) */
	bool network_first;           /* else network as the fallback */
	const char *preset;           /* "network", "network-only", "sd", "usb", "nvme"; NULL */
	const char *tftp_prefix;      /* "serial", "mac" or a TFTP_PREFIX_STR; NULL = keep */
	const char *tftp_ip;          /* NULL = keep */
	const char *const *settings;  /* extra KEY=VALUE, applied last */
	size_t nsettings;
	const char *private_key;      /* PEM: sign bootconf.txt (needed when SIGNED_BOOT=1) */
	/* Use this pieeprom image (a host path) instead of the newest release; the recovery.bin
	 * beside it, when there is one, is the one staged. */
	const char *image;
	bool force;                   /* CM4 without CM4_ENABLE_RPI_EEPROM_UPDATE, RPIBOOT mode */
	/* Replace bootconf.txt by these bytes, exactly (rpi-eeprom-config --apply/--edit);
	 * the edits above are not applied then. Still validated for the board. */
	const void *config;
	size_t config_len;
	const char *config_name;      /* for messages, e.g. the file's path */
	int64_t now;                  /* update timestamp and .sig ts; 0 = time(NULL) */
};

struct pv_node_netboot_plan {
	const struct pv_soc_info *soc;
	const struct pv_board_type *board;
	struct pv_node_update_defaults defaults;
	struct pv_buf old_config;     /* running config (text) */
	struct pv_buf new_config;
	bool changed;                 /* new_config differs from old_config */
	struct pv_buf diff;           /* unified diff old -> new (pv_eeprom_conf_diff) */
	struct pv_buf warnings;       /* validation warnings, one line each */
	char image_path[512];         /* root-relative release image (or the host path given) */
	/* recovery.bin: root-relative from the release folder, or the host path of the one
	 * beside a given image (recovery_beside_image) */
	char recovery_path[512];
	bool recovery_beside_image;
	char bootfs[256];             /* root-relative boot partition ("" when not found) */
	bool immediate_default;       /* flashrom is the default on this SoC / per defaults */
	struct pv_buf image;          /* pieeprom.upd */
	struct pv_buf sig;            /* pieeprom.sig */
	struct pv_buf recovery;       /* recovery.bin */
};

void pv_node_netboot_plan_init(struct pv_node_netboot_plan *plan);
void pv_node_netboot_plan_release(struct pv_node_netboot_plan *plan);

/* Compute the new config from the running one, validate it, pick the release image, build
 * pieeprom.upd (new bootconf.txt, update timestamp) and pieeprom.sig. Writes nothing. */
int pv_node_netboot_prepare(const struct pv_node_root *root, const struct pv_node_identity *id,
			    const struct pv_node_netboot_request *req,
			    struct pv_node_netboot_plan *plan);

/* Save the running config to the backup folder (FIRMWARE_BACKUP_DIR inside the root) as
 * pieeprom-backup-YYYYmmdd-HHMMSS.conf; the path (root-relative) goes to out. */
int pv_node_backup_config(const struct pv_node_root *root, const struct pv_node_netboot_plan *plan,
			  int64_t now, char *out, size_t size);

/* Stage pieeprom.upd, pieeprom.sig and recovery.bin into dir (root-relative; default the
 * plan's boot partition), as rpi-eeprom-update does, through pv_node_stage(). */
int pv_node_netboot_stage(const struct pv_node_root *root, const struct pv_node_netboot_plan *plan,
			  const char *dir, const struct pv_node_io_hooks *hooks);

/* What applying a plan needs beyond the plan, checked before anything is written (a dry run
 * checks it too, so it says what the real run will do). Staging (staging = true: the plan is
 * staged, not written with flashrom): a usable boot partition, a recovery.bin, and a board
 * that did not boot over USB (its ROM would not run recovery.bin from the boot partition)
 * unless force. Fails with the reason and what to do. */
int pv_node_netboot_check(const struct pv_node_root *root, const struct pv_node_identity *id,
			  const struct pv_node_netboot_plan *plan, bool staging, bool force);

/* ---- Pi 3B family: network boot by the OTP bit (route PV_NODE_NETBOOT_OTP) ----------- */

struct pv_node_otp_plan {
	bool enabled;                 /* OTP row 17 already has the bit: nothing to do */
	bool requested;               /* config.txt already has program_usb_boot_mode=1 */
	char config_path[300];        /* root-relative config.txt of the boot partition */
	char bootfs[256];
	struct pv_buf config;         /* config.txt with the line added (when neither) */
};

void pv_node_otp_plan_init(struct pv_node_otp_plan *plan);
void pv_node_otp_plan_release(struct pv_node_otp_plan *plan);
/* Fails (PV_ERR_UNSUPPORTED) unless the board's route is PV_NODE_NETBOOT_OTP. Reads the
 * boot partition's config.txt; writes nothing. */
int pv_node_otp_prepare(const struct pv_node_root *root, const struct pv_node_identity *id,
			struct pv_node_otp_plan *plan);
/* Write config.txt with program_usb_boot_mode=1 (crash-safe); the next boot sets the bit. */
int pv_node_otp_apply(const struct pv_node_root *root, const struct pv_node_otp_plan *plan);

/* ---- rpi-eeprom-config --apply / --edit ------------------------------------------------ */

/* The config --edit starts from: a staged update's (<bootfs>/pieeprom.upd) when there is
 * one, else the running config. Appended to out; source gets what upstream prints as
 * config_src ("/boot/firmware/pieeprom.upd", "blconfig device", "vcgencmd
 * bootloader_config"). */
int pv_node_edit_source(const struct pv_node_root *root, const struct pv_node_identity *id,
			struct pv_buf *out, char *source, size_t size);
/* Run $EDITOR (default nano, as upstream) on path and wait. PV_ERR_INTERRUPTED when it
 * exits non-zero or is killed, PV_ERR_NOT_FOUND when it cannot be started. */
int pv_node_run_editor(const char *path);

#ifdef __cplusplus
}
#endif
#endif
