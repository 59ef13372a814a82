/* SoC and board facts as data. Every per-chip or per-model difference the project knows
 * lives in these tables (src/lib/board/); no other file compares chip ids. */
#ifndef PIPROV_BOARD_H
#define PIPROV_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum pv_soc {
	PV_SOC_UNKNOWN = 0,
	PV_SOC_BCM2835,
	PV_SOC_BCM2836,
	PV_SOC_BCM2837,
	PV_SOC_BCM2711,
	PV_SOC_BCM2712,
};

struct pv_soc_info {
	enum pv_soc soc;
	const char *name;            /* "BCM2711" */
	const char *chip;            /* "2711": rpiboot chip folder, rpi-eeprom chip id */
	unsigned revision_processor; /* PPPP field of the revision code */
	uint16_t usb_vendor_id;      /* boot ROM */
	uint16_t usb_product_id;
	const char *second_stage;    /* file the ROM stage sends: "bootcode4.bin" */
	uint8_t rom_serial_index;    /* iSerialNumber index of the ROM stage (0 or 3) */
	uint8_t second_stage_serial_index; /* iSerialNumber index once the 2nd stage runs */
	size_t eeprom_size;          /* bootloader SPI EEPROM size, 0 when none */
	const char *firmware_dir;    /* "bootloader-2711" under /usr/lib/firmware/raspberrypi */
	const char *spidev;          /* "/dev/spidev0.0" for immediate flashrom updates */
	uint32_t dhcp_option97_fourcc; /* DHCP_OPTION97 default: "RPi4" = 0x34695052 */
	const char *tftp_start_file; /* "start4.elf"; Pi 5 boots without one */
	/* Folder of the Debian rpiboot package (/usr/share/rpiboot/<dir>) holding this chip's
	 * recovery program under its ROM file name; NULL when the package has none. */
	const char *rpiboot_recovery_dir;
	/* rpiboot's chip folder (the prefix of its check_file(): DIR/<folder>/NAME and the
	 * bootfiles.bin member <folder>/NAME): "2710" for every BCM2835-2837. */
	const char *rpiboot_folder;
	/* What rpiboot embeds (its msd/ folder, installed by its package in
	 * /usr/share/rpiboot/msd) and serves where no file is given: msd/<second_stage> as the
	 * second stage when true, and msd/start.elf when the board asks for this name
	 * ("start4.elf" on BCM2711, "start.elf" on BCM2835-2837; NULL: nothing, BCM2712). */
	bool rpiboot_msd_second_stage;
	const char *rpiboot_msd_start;
	/* rpi-eeprom-update writes the EEPROM at once with flashrom by default (Pi 5 family;
	 * eeprom-format.md §4) instead of staging recovery.bin for the next boot. */
	bool eeprom_immediate_update;
	/* The menu text a DHCP answer must carry in option 43 for this chip's network boot
	 * (netboot-and-identity.md §1.2, §1.5): the Pi 3B boot ROM (bootcode.bin) needs
	 * "Raspberry Pi Boot" followed by three spaces, the Pi 4/5 bootloader takes the
	 * documented "Raspberry Pi Boot". */
	const char *pxe_menu_text;
	/* Ethernet OUIs (the MAC's first three bytes) seen on this chip's boards (§0 of that
	 * document; lists collected from logs, so not complete), 0-terminated. A Pi 3 sends
	 * option 97 without a FourCC, so its OUI is what tells a DHCP server it is a Pi. */
	uint32_t mac_ouis[5];
	/* Another chip's ROM shows the same USB id, and pv_soc_by_usb_id() names that one. */
	bool usb_id_of_other_chip;
	/* For a chip without an EEPROM: how its boards come to network boot, for the message
	 * that refuses to flash one. */
	const char *netboot_without_eeprom;
};

/* Table lookups; NULL when unknown. */
const struct pv_soc_info *pv_soc_info(enum pv_soc soc);
const struct pv_soc_info *pv_soc_by_usb_id(uint16_t vendor, uint16_t product);
/* Accepts "2711", "bcm2711", "BCM2711". */
const struct pv_soc_info *pv_soc_by_name(const char *name);
const struct pv_soc_info *pv_soc_by_eeprom_size(size_t size);
/* The first SoC of an rpiboot chip folder ("2710" gives BCM2835: the three share it). */
const struct pv_soc_info *pv_soc_by_rpiboot_folder(const char *folder);
/* The first chip whose mac_ouis hold the MAC's OUI (d8:3a:dd is on Pi 4 and Pi 5 boards:
 * the older chip is returned); NULL for other OUIs. */
const struct pv_soc_info *pv_soc_by_mac(const uint8_t mac[6]);
/* Iterate: index 0.. until NULL. */
const struct pv_soc_info *pv_soc_at(size_t index);

/* Board feature bits. */
enum pv_board_feature {
	PV_BOARD_HAS_EEPROM = 1u << 0,   /* SPI bootloader EEPROM */
	PV_BOARD_HAS_NVME = 1u << 1,     /* PCIe NVMe boot possible (BOOT_ORDER mode 6) */
	PV_BOARD_HAS_EMMC = 1u << 2,     /* may have eMMC instead of SD */
	PV_BOARD_COMPUTE_MODULE = 1u << 3,
	PV_BOARD_BCM_USB_MSD = 1u << 4,  /* BOOT_ORDER mode 5 (USB 2.0 Type-C device boot) */
	PV_BOARD_KEYBOARD = 1u << 5,     /* Pi 400 / 500 */
	/* rpi-eeprom-update refuses unless CM4_ENABLE_RPI_EEPROM_UPDATE=1: the carrier may
	 * hold the EEPROM write-protected (nEEPROM_WP), so rpiboot is the usual path. */
	PV_BOARD_EEPROM_UPDATE_OPT_IN = 1u << 6,
	/* No EEPROM, and the boot ROM network-boots as shipped (Pi 3B+: "supports network boot
	 * out of the box", boot-msd.adoc/bootmodes.adoc): there is nothing to enable. */
	PV_BOARD_NETBOOT_IN_ROM = 1u << 7,
	/* No EEPROM: network boot is enabled once, irreversibly, by the OTP bit that
	 * program_usb_boot_mode=1 sets (Pi 3B; Pi 2B only from v1.2, whose SoC is a BCM2837). */
	PV_BOARD_NETBOOT_OTP = 1u << 8,
};

struct pv_board_type {
	unsigned type_code;          /* TTTTTTTT field of the revision code */
	const char *name;            /* "Raspberry Pi 4 Model B" */
	const char *short_name;      /* "pi4": the `--virtual` model and the config filter */
	const char *config_filter;   /* "[pi4]" section name in bootconf/config.txt */
	enum pv_soc soc;
	unsigned features;           /* enum pv_board_feature bits */
};

const struct pv_board_type *pv_board_by_type_code(unsigned type_code);
/* "pi4", "pi400", "cm4", "cm4s", "pi5", "cm5", "cm5lite", "pi500", "pi3", "pi3+", "cm3", ... */
const struct pv_board_type *pv_board_by_short_name(const char *name);
const struct pv_board_type *pv_board_at(size_t index);

/* Decoded revision code (NOQuuuWuFMMMCCCCPPPPTTTTTTTTRRRR). */
struct pv_revision {
	uint32_t code;
	bool new_style;
	unsigned type_code;
	unsigned memory_mb;          /* 0 when the field says "other" */
	unsigned manufacturer_code;
	const char *manufacturer;    /* "Sony UK"; "unknown" when out of table */
	unsigned processor;
	unsigned pcb_revision;       /* the RRRR field: 1.x */
	const struct pv_board_type *board; /* NULL when the type is not in the table */
	const struct pv_soc_info *soc;     /* NULL when the processor is not in the table */
};

/* Decodes new-style codes; old-style (bit 23 clear) codes give PV_ERR_UNSUPPORTED. */
int pv_revision_decode(uint32_t code, struct pv_revision *out);

/* "Raspberry Pi 4 Model B Rev 1.5, 4GB, Sony UK" into out. */
void pv_revision_describe(const struct pv_revision *rev, char *out, size_t size);

#ifdef __cplusplus
}
#endif
#endif
