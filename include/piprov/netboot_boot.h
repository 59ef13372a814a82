/* The Raspberry Pi bootloader's network boot, modelled on the wire: what a board with a
 * given EEPROM config does from power-on to the kernel, mode by mode of its BOOT_ORDER.
 * The virtual Pi runs it over a real interface (src/lib/vpi/netboot.c, which also writes the
 * board's UART log from the events below); `netboot check` uses the same facts (the DHCP
 * options, the prefix, the file order) to ask the servers what a board would get.
 *
 * Sources: ../shared/docs/netboot-and-identity.md §1.1 (TFTP_PREFIX and the fallback to
 * the root), §1.2 (DHCP, option 97), §1.5 (captures: flags, options 55/93/94/97, menu text,
 * the Pi 3 and Pi 4 file orders); the EEPROM property table (src/lib/eeprom/conf_check.c)
 * for defaults and ranges. What those sources mark [inferred] is marked so in
 * src/lib/netboot/profile.c and boot.c.
 */
#ifndef PIPROV_NETBOOT_BOOT_H
#define PIPROV_NETBOOT_BOOT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "piprov/board.h"
#include "piprov/netboot.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pv_eeprom_conf;

/* ---- who the board is and what its EEPROM says ------------------------------------------ */

struct pv_netboot_identity {
	const struct pv_board_type *board;
	const struct pv_soc_info *soc;
	uint64_t serial;                    /* the TFTP folder is its low 32 bits */
	uint8_t mac[6];
	uint32_t boardrev;
};

/* TFTP_PREFIX values. */
enum pv_netboot_prefix {
	PV_NETBOOT_PREFIX_SERIAL = 0,       /* "1234abcd/" */
	PV_NETBOOT_PREFIX_STRING = 1,       /* TFTP_PREFIX_STR */
	PV_NETBOOT_PREFIX_MAC = 2,          /* "dc-a6-32-01-36-c2/" */
};

/* The EEPROM properties that drive a network boot, with the firmware's defaults. */
struct pv_netboot_settings {
	uint32_t boot_order;                /* BOOT_ORDER, lowest nibble first (0xf41) */
	enum pv_netboot_prefix tftp_prefix;
	char tftp_prefix_str[33];
	bool has_tftp_ip;                   /* TFTP_IP overrides the DHCP answer */
	uint32_t tftp_ip;
	bool has_static_ip;                 /* CLIENT_IP + SUBNET (+ GATEWAY) with TFTP_IP */
	uint32_t client_ip, subnet, gateway;
	unsigned dhcp_timeout_ms;           /* DHCP_TIMEOUT (45000, at least 5000) */
	unsigned dhcp_req_timeout_ms;       /* DHCP_REQ_TIMEOUT (4000, at least 500) */
	unsigned tftp_file_timeout_ms;      /* TFTP_FILE_TIMEOUT (30000, at least 5000) */
	int net_boot_max_retries;           /* NET_BOOT_MAX_RETRIES (0; -1 = forever) */
	char pxe_option43[65];              /* PXE_OPTION43 ("Raspberry Pi Boot") */
	uint32_t dhcp_option97;             /* DHCP_OPTION97 (the SoC's FourCC; 0 = legacy) */
	bool boot_uart;                     /* BOOT_UART */
	bool has_mac_address;               /* MAC_ADDRESS overrides the OTP MAC */
	uint8_t mac_address[6];
	/* From the image (not the config): for the UART header. */
	uint64_t build_timestamp;
	char version[41];
};

/* The firmware defaults for a SoC (no EEPROM config at all). */
void pv_netboot_settings_defaults(const struct pv_soc_info *soc,
				  struct pv_netboot_settings *settings);
/* Apply a bootconf.txt (the unconditional part). A property outside its range fails with
 * PV_ERR_INVALID naming it (`name` labels the message), as the bootloader would not run a
 * config the validator rejects. */
int pv_netboot_settings_from_conf(const struct pv_eeprom_conf *conf, const char *name,
				  struct pv_netboot_settings *settings);
/* From an EEPROM image (its bootconf.txt, BUILD_TIMESTAMP and VERSION). An image that
 * does not parse, or an erased EEPROM, fails with PV_ERR_FORMAT: such a board does not
 * boot at all. */
int pv_netboot_settings_from_image(const void *image, size_t len, const char *name,
				   const struct pv_soc_info *soc,
				   struct pv_netboot_settings *settings);

/* ---- the per-SoC behaviour (profile.c) ---------------------------------------------------- */

/* How one boot file is asked for. */
enum pv_netboot_step_kind {
	PV_NETBOOT_STEP_PREFIX_PROBE,       /* probe under the prefix; if no probe of the group
					     * finds its file, the prefix is cleared (§1.1) */
	PV_NETBOOT_STEP_PROBE,              /* asked for, may be missing (autoboot.txt, ...) */
	PV_NETBOOT_STEP_READ,               /* read when present, may be missing (config.txt) */
	PV_NETBOOT_STEP_REQUIRED,           /* missing = the boot stops here */
};
enum pv_netboot_step_role {
	PV_NETBOOT_ROLE_NONE = 0,
	PV_NETBOOT_ROLE_SECOND_STAGE,       /* bootcode.bin: the Pi 3 ROM hands over */
	PV_NETBOOT_ROLE_FIRMWARE,           /* start4.elf / start.elf: the bootloader hands over */
	PV_NETBOOT_ROLE_CONFIG,             /* config.txt: kernel=, cmdline=, device_tree= */
	PV_NETBOOT_ROLE_DTB,                /* the board's device tree (or device_tree=) */
	PV_NETBOOT_ROLE_CMDLINE,            /* cmdline.txt (or cmdline=) */
	PV_NETBOOT_ROLE_KERNEL,             /* the board's kernel (or kernel=) */
};
struct pv_netboot_step {
	const char *file;                   /* NULL for DTB/CMDLINE/KERNEL: from the board */
	enum pv_netboot_step_kind kind;
	enum pv_netboot_step_role role;
	bool from_root;                     /* always from the TFTP root (bootcode.bin) */
	bool firmware_stage;                /* asked by the firmware, after the handover */
};

struct pv_netboot_profile {
	enum pv_soc soc;
	bool rom_client;                    /* Pi 3 family: the boot ROM's DHCP, no EEPROM */
	const uint8_t *param_request;       /* option 55, in the order sent */
	size_t param_request_len;
	const char *vendor_class;           /* option 60 */
	uint16_t client_arch;               /* option 93 */
	uint8_t client_ndi[3];              /* option 94 */
	bool requests_address;              /* REQUEST/ACK after the OFFER (Pi 4/5) */
	unsigned rom_dhcp_timeout_ms;       /* rom_client: whole DHCP and per try */
	unsigned rom_dhcp_req_timeout_ms;
	uint16_t tftp_port;                 /* client port; 0 = 49152 counting up */
	unsigned tftp_blksize;              /* blksize option (0 = none: 512) */
	unsigned tftp_retransmit_ms;
	const struct pv_netboot_step *steps;
	size_t n_steps;
	const char *kernel;                 /* default kernel file */
	const char *kernel_fallback;        /* tried when the default is missing (or NULL) */
	bool uart_genet;                    /* the UART log has GENET lines (Pi 4's Ethernet) */
};

const struct pv_netboot_profile *pv_netboot_profile_for(enum pv_soc soc);
/* The device tree the firmware loads for a board ("bcm2711-rpi-4-b.dtb"); NULL if unknown. */
const char *pv_netboot_board_dtb(const struct pv_board_type *board);
/* The menu text the board's ROM insists on, when it is stricter than the bootloader's
 * substring match: the Pi 3B and CM3 ROM need "Raspberry Pi Boot   " (three spaces,
 * §1.2); NULL for every other board. */
const char *pv_netboot_board_strict_menu(const struct pv_board_type *board);

/* The DHCP options a board sends (DISCOVER; REQUEST has no 60 on a Pi 4, rpi-eeprom #82):
 * option 97 in the form DHCP_OPTION97 selects (§1.2, §1.5). Appended to b. */
void pv_netboot_add_client_options(struct pv_netboot_dhcp_builder *b,
				   const struct pv_netboot_profile *profile,
				   const struct pv_netboot_identity *id,
				   const struct pv_netboot_settings *settings, bool discover);
/* Option 97's 17 bytes: 00 + serial x4 (legacy: DHCP_OPTION97=0, and every Pi 3), or 00 +
 * FourCC + board revision + the MAC's low 4 bytes + serial (§1.2). */
void pv_netboot_option97(const struct pv_netboot_identity *id, uint32_t option97,
			 uint8_t out[17]);
/* The folder prefix the board asks for ("1234abcd/", "dc-a6-32-01-36-c2/", the string with
 * a '/' added); "" for a string prefix that is empty. */
void pv_netboot_prefix(const struct pv_netboot_identity *id,
		       const struct pv_netboot_settings *settings,
		       char out[PV_NETBOOT_TFTP_PATH_MAX]);

/* ---- one boot ------------------------------------------------------------------------------ */

enum pv_netboot_reason {
	PV_NETBOOT_OK = 0,
	PV_NETBOOT_NO_BOOTLOADER,           /* EEPROM erased or unreadable */
	PV_NETBOOT_NO_NETWORK_MODE,         /* BOOT_ORDER never tries the network */
	PV_NETBOOT_OTHER_MODES_FAILED,      /* every mode tried (no SD, no USB, ...) */
	PV_NETBOOT_NO_LINK,                 /* the interface is down or gone */
	PV_NETBOOT_NO_DHCP_OFFER,
	PV_NETBOOT_NO_PXE_OPTION43,         /* offers, none with the menu text */
	PV_NETBOOT_NO_ADDRESS,              /* a PXE answer, but no offer of an address */
	PV_NETBOOT_NO_ACK,                  /* REQUEST not acknowledged (or NAK) */
	PV_NETBOOT_NO_TFTP_SERVER,          /* no option 66, siaddr or server id to use */
	PV_NETBOOT_TFTP_UNREACHABLE,
	PV_NETBOOT_TFTP_NOT_FOUND,          /* a file the boot needs is missing */
	PV_NETBOOT_TFTP_TIMEOUT,
	PV_NETBOOT_TFTP_ERROR,
	PV_NETBOOT_NO_NFSROOT,              /* cmdline.txt names no nfsroot= */
	PV_NETBOOT_NFS_UNREACHABLE,         /* no portmapper/mountd at the nfsroot server */
	PV_NETBOOT_NFS_NOT_EXPORTED,        /* the root is not exported to the board's address */
	PV_NETBOOT_CANCELLED,               /* the caller's deadline or cancel flag */
};
/* "ok", "no-dhcp-offer", "tftp-file-not-found", "nfs-not-exported", ... */
const char *pv_netboot_reason_name(enum pv_netboot_reason reason);

/* What happened, as the UART log tells it. Pointers are valid during the callback only. */
enum pv_netboot_event_kind {
	PV_NETBOOT_EV_MODE,                 /* mode: a BOOT_ORDER mode starts (order = rest) */
	PV_NETBOOT_EV_MODE_FAILED,          /* mode: it found nothing to boot */
	PV_NETBOOT_EV_NET_START,            /* mac: the network comes up */
	PV_NETBOOT_EV_LINK_UP,
	PV_NETBOOT_EV_DHCP,                 /* dhcp, src_mac, src_ip: a message to us */
	PV_NETBOOT_EV_NET_CONFIGURED,       /* ip, netmask, gateway, server (TFTP) */
	PV_NETBOOT_EV_ARP,                  /* ip, mac: the TFTP server's MAC */
	PV_NETBOOT_EV_TFTP_GET,             /* path, server, mac: a request goes out */
	PV_NETBOOT_EV_TFTP_DONE,            /* path, tftp: its outcome */
	PV_NETBOOT_EV_FILE_READ,            /* path, size: a file the bootloader loaded */
	PV_NETBOOT_EV_HANDOVER,             /* path, role: the next stage runs (bootcode.bin on a
					     * Pi 3; start4.elf/start.elf, after which the
					     * bootloader's UART is silent) */
	PV_NETBOOT_EV_CANCEL,               /* the network attempt gives up */
	PV_NETBOOT_EV_NFS,                  /* nfsroot checked: reason OK or why not */
	PV_NETBOOT_EV_RESTART,              /* RESTART (0xf) reached: the model stops here */
};
struct pv_netboot_event {
	enum pv_netboot_event_kind kind;
	uint64_t at_ms;                     /* since the boot started */
	unsigned mode;
	uint32_t order;                     /* BOOT_ORDER nibbles still to try, this one first */
	const struct pv_netboot_dhcp *dhcp;
	const uint8_t *mac;                 /* NET_START: ours; DHCP, ARP, TFTP_GET: the peer's */
	uint32_t src_ip, ip, netmask, gateway, server;
	const char *path;
	uint64_t size;
	const struct pv_netboot_tftp_result *tftp;
	bool firmware_stage;                /* TFTP events: asked by the firmware, not the
					     * bootloader */
	enum pv_netboot_step_role role;
	enum pv_netboot_reason reason;
	const char *detail;                 /* MODE_FAILED, CANCEL, NFS: why, one line */
	const struct pv_netboot_stack_stats *stats;
};
typedef void (*pv_netboot_event_fn)(const struct pv_netboot_event *event, void *user);

struct pv_netboot_result {
	bool booted;                        /* kernel and cmdline read, nfsroot exported to us */
	enum pv_netboot_reason reason;
	char detail[320];                   /* one line naming the file, server or address */
	unsigned stopped_mode;              /* the BOOT_ORDER mode of the verdict */
	unsigned network_attempts;
	uint32_t ip, netmask, gateway;
	uint32_t dhcp_server;               /* who offered the address */
	uint32_t pxe_server;                /* who sent the PXE answer (a proxy when it offered no
					     * address) */
	bool proxy;
	bool option43_ok;
	char menu[64];                      /* the menu text it accepted (or saw) */
	uint32_t tftp_server;
	char prefix[PV_NETBOOT_TFTP_PATH_MAX]; /* the folder used ("" = the TFTP root) */
	bool fell_back_to_root;
	char first_file[PV_NETBOOT_TFTP_PATH_MAX];
	char failed_file[PV_NETBOOT_TFTP_PATH_MAX];
	char kernel[PV_NETBOOT_TFTP_PATH_MAX];
	char cmdline_file[PV_NETBOOT_TFTP_PATH_MAX];
	uint64_t kernel_size;
	bool has_nfsroot;
	struct pv_netboot_nfsroot nfsroot;
	char nfs_export[PV_NETBOOT_EXPORT_PATH_MAX]; /* the export that allows it */
	unsigned files_read;
	uint64_t bytes_read;
	uint64_t elapsed_ms;
};

struct pv_netboot_run_options {
	struct pv_netboot_link *link;       /* the board's port (its MAC is the link's) */
	pv_netboot_event_fn on_event;       /* may be NULL */
	void *user;
	unsigned deadline_ms;               /* give up after this long (0 = never) */
	volatile sig_atomic_t *cancel;      /* stop when it becomes non-zero (may be NULL; SIGINT) */
	/* Check the NFS root over the board's own address (portmapper + MOUNT EXPORT); false
	 * stops at the kernel. */
	bool check_nfs;
	unsigned nfs_timeout_ms;            /* per RPC call (default 3000) */
	/* `netboot check` (netboot_check.h): ask as the board would and take nothing. DHCP is
	 * DISCOVER only (the offer stands for the ACK: no lease, and the offered address is
	 * never used on the wire); TFTP and the NFS export list go over this host's own
	 * sockets on host_ifname in host_netns (NULL = ours); config.txt and cmdline.txt are
	 * read, every other file only asked for (cut off after its first block). */
	bool probe;
	const char *host_netns;
	const char *host_ifname;
};

/* Boot the board: each BOOT_ORDER mode in turn (modes other than NETWORK find nothing on a
 * virtual board: no SD card, no USB drive), the network as the bootloader does it, up to
 * NET_BOOT_MAX_RETRIES + 1 attempts, until a boot, STOP or RESTART (where the model stops:
 * a real board would start over). Returns PV_OK with the verdict in *result (booted or
 * where it stopped and why), or a negative status when the link itself failed to open. */
int pv_netboot_run(const struct pv_netboot_identity *id,
		   const struct pv_netboot_settings *settings,
		   const struct pv_netboot_run_options *options, struct pv_netboot_result *result);

#ifdef __cplusplus
}
#endif
#endif
