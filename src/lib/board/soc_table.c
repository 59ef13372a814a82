/* Per-chip facts. Sources: ../shared/docs/usbboot-protocol.md §1 (USB ids, second-stage
 * names, serial indexes), eeprom-format.md §1.1 and §4 (EEPROM sizes, spidev, firmware
 * directories), netboot-and-identity.md §1.2 (DHCP option 97 FourCC). */
#include <strings.h>
#include <string.h>

#include "internal.h"
#include "piprov/board.h"
#include "banned.h"

static const struct pv_soc_info soc_table[] = {
	{
		.soc = PV_SOC_BCM2835, .name = "BCM2835", .chip = "2835",
		.revision_processor = 0,
		.usb_vendor_id = 0x0a5c, .usb_product_id = 0x2763,
		.second_stage = "bootcode.bin",
		.rpiboot_folder = "2710", .rpiboot_msd_second_stage = true,
		.rpiboot_msd_start = "start.elf",
		.rom_serial_index = 0, .second_stage_serial_index = 1,
		.eeprom_size = 0, .firmware_dir = NULL, .spidev = NULL,
		.dhcp_option97_fourcc = 0, .tftp_start_file = "start.elf",
		.pxe_menu_text = "Raspberry Pi Boot   ", .mac_ouis = { 0xb827eb },
		.netboot_without_eeprom = "their boot ROM has no network boot",
	},
	{
		.soc = PV_SOC_BCM2836, .name = "BCM2836", .chip = "2836",
		.revision_processor = 1,
		.usb_vendor_id = 0x0a5c, .usb_product_id = 0x2764,
		.second_stage = "bootcode.bin",
		.rpiboot_folder = "2710", .rpiboot_msd_second_stage = true,
		.rpiboot_msd_start = "start.elf",
		.rom_serial_index = 0, .second_stage_serial_index = 1,
		.eeprom_size = 0, .firmware_dir = NULL, .spidev = NULL,
		.dhcp_option97_fourcc = 0, .tftp_start_file = "start.elf",
		.pxe_menu_text = "Raspberry Pi Boot   ", .mac_ouis = { 0xb827eb },
		/* 0x2764 ("BCM2710 Boot") is named BCM2837: every board that boots over USB with
		 * it (CM3, CM3+, 3A+, 3B+, Zero 2 W; usbboot-protocol.md §1) is one. A Pi 2B v1.1,
		 * the BCM2836 board, has no USB device port (its one USB bus is behind the
		 * LAN9514 hub) [inferred]. */
		.usb_id_of_other_chip = true,
		.netboot_without_eeprom = "their boot ROM has no network boot",
	},
	{
		/* 2836 and 2837 share the "BCM2710 Boot" ROM id. */
		.soc = PV_SOC_BCM2837, .name = "BCM2837", .chip = "2837",
		.revision_processor = 2,
		.usb_vendor_id = 0x0a5c, .usb_product_id = 0x2764,
		.second_stage = "bootcode.bin",
		.rpiboot_folder = "2710", .rpiboot_msd_second_stage = true,
		.rpiboot_msd_start = "start.elf",
		.rom_serial_index = 0, .second_stage_serial_index = 1,
		.eeprom_size = 0, .firmware_dir = NULL, .spidev = NULL,
		.dhcp_option97_fourcc = 0, .tftp_start_file = "start.elf",
		.pxe_menu_text = "Raspberry Pi Boot   ", .mac_ouis = { 0xb827eb },
		.netboot_without_eeprom = "a Pi 3B+ network-boots from its boot ROM as shipped, a "
					  "Pi 3B after one OTP write: run 'piprov-node netboot' on "
					  "the board (a Pi 3 needs no flashing)",
	},
	{
		.soc = PV_SOC_BCM2711, .name = "BCM2711", .chip = "2711",
		.revision_processor = 3,
		.usb_vendor_id = 0x0a5c, .usb_product_id = 0x2711,
		.second_stage = "bootcode4.bin",
		.rpiboot_folder = "2711", .rpiboot_msd_second_stage = true,
		.rpiboot_msd_start = "start4.elf",
		.rom_serial_index = 3, .second_stage_serial_index = 4,
		.eeprom_size = 512 * 1024, .firmware_dir = "bootloader-2711",
		.spidev = "/dev/spidev0.0",
		.dhcp_option97_fourcc = 0x34695052, .tftp_start_file = "start4.elf",
		.rpiboot_recovery_dir = "recovery",
		.pxe_menu_text = "Raspberry Pi Boot",
		.mac_ouis = { 0xdca632, 0xe45f01, 0xd83add, 0x88a29e },
	},
	{
		.soc = PV_SOC_BCM2712, .name = "BCM2712", .chip = "2712",
		.revision_processor = 4,
		.usb_vendor_id = 0x0a5c, .usb_product_id = 0x2712,
		.second_stage = "bootcode5.bin",
		.rpiboot_folder = "2712", .rpiboot_msd_second_stage = false,
		.rpiboot_msd_start = NULL,
		.rom_serial_index = 3, .second_stage_serial_index = 4,
		.eeprom_size = 2 * 1024 * 1024, .firmware_dir = "bootloader-2712",
		.spidev = "/dev/spidev10.0",
		.dhcp_option97_fourcc = 0x35695052, .tftp_start_file = NULL,
		.rpiboot_recovery_dir = "recovery5",
		.eeprom_immediate_update = true,
		.pxe_menu_text = "Raspberry Pi Boot", .mac_ouis = { 0xd83add, 0x2ccf67 },
	},
};

const struct pv_soc_info *pv_soc_at(size_t index)
{
	return index < PV_ARRAY_SIZE(soc_table) ? &soc_table[index] : NULL;
}

const struct pv_soc_info *pv_soc_info(enum pv_soc soc)
{
	for (size_t i = 0; i < PV_ARRAY_SIZE(soc_table); i++)
		if (soc_table[i].soc == soc)
			return &soc_table[i];
	return NULL;
}

const struct pv_soc_info *pv_soc_by_usb_id(uint16_t vendor, uint16_t product)
{
	for (size_t i = 0; i < PV_ARRAY_SIZE(soc_table); i++)
		if (soc_table[i].usb_vendor_id == vendor && soc_table[i].usb_product_id == product &&
		    !soc_table[i].usb_id_of_other_chip)
			return &soc_table[i];
	return NULL;
}

const struct pv_soc_info *pv_soc_by_name(const char *name)
{
	if (strncasecmp(name, "bcm", 3) == 0)
		name += 3;
	for (size_t i = 0; i < PV_ARRAY_SIZE(soc_table); i++)
		if (strcmp(soc_table[i].chip, name) == 0)
			return &soc_table[i];
	return NULL;
}

const struct pv_soc_info *pv_soc_by_rpiboot_folder(const char *folder)
{
	for (size_t i = 0; i < PV_ARRAY_SIZE(soc_table); i++)
		if (strcmp(soc_table[i].rpiboot_folder, folder) == 0)
			return &soc_table[i];
	return NULL;
}

const struct pv_soc_info *pv_soc_by_eeprom_size(size_t size)
{
	for (size_t i = 0; i < PV_ARRAY_SIZE(soc_table); i++)
		if (soc_table[i].eeprom_size && soc_table[i].eeprom_size == size)
			return &soc_table[i];
	return NULL;
}

const struct pv_soc_info *pv_soc_by_mac(const uint8_t mac[6])
{
	uint32_t oui = (uint32_t)mac[0] << 16 | (uint32_t)mac[1] << 8 | mac[2];

	for (size_t i = 0; i < PV_ARRAY_SIZE(soc_table); i++) {
		const uint32_t *ouis = soc_table[i].mac_ouis;

		for (size_t k = 0; k < PV_ARRAY_SIZE(soc_table[i].mac_ouis) && ouis[k]; k++)
			if (ouis[k] == oui)
				return &soc_table[i];
	}
	return NULL;
}
