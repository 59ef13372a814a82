/* Per-SoC behaviour of the virtual boot ROM and firmware, as data. Sources:
 * ../shared/docs/usbboot-protocol.md §1 (ROM identity, interfaces), §3 (request orders),
 * §4 (metadata formats); netboot-and-identity.md §0 (OUIs, serials), §4.2 (revision codes),
 * §5 (metadata examples: the order of the keys below follows them). */
#include <stddef.h>

#include "internal.h"
#include "vpi_internal.h"
#include "banned.h"

/* The 2711 JSON example (CM4) has no serial, WiFi/BT MAC, SIGNATURE_MODE or FACTORY_UUID
 * and adds ADVANCED_BOOT; the 2712 example has them all. */
static const enum vpi_meta_key metadata_2711[] = {
	VPI_META_MAC_ADDR,        VPI_META_EEPROM_UPDATE,    VPI_META_EEPROM_HASH,
	VPI_META_SECURE_BOOT_PROVISION, VPI_META_CUSTOMER_KEY_HASH, VPI_META_BOOT_ROM,
	VPI_META_BOARD_ATTR,      VPI_META_USER_BOARDREV,    VPI_META_JTAG_LOCKED,
	VPI_META_ADVANCED_BOOT,
};

static const enum vpi_meta_key metadata_2712[] = {
	VPI_META_USER_SERIAL_NUM, VPI_META_MAC_ADDR,         VPI_META_EEPROM_UPDATE,
	VPI_META_EEPROM_HASH,     VPI_META_SECURE_BOOT_PROVISION, VPI_META_CUSTOMER_KEY_HASH,
	VPI_META_BOOT_ROM,        VPI_META_BOARD_ATTR,       VPI_META_USER_BOARDREV,
	VPI_META_JTAG_LOCKED,     VPI_META_SIGNATURE_MODE,   VPI_META_MAC_WIFI_ADDR,
	VPI_META_MAC_BT_ADDR,     VPI_META_FACTORY_UUID,
};

/* Non-recovery second stages: bootcode.bin's legacy msd order, the 2711 USB bootloader
 * (config.txt then a boot_ramdisk boot.img, else the firmware), and the 2712 bootcode5.bin
 * order seen with the mass-storage gadget (#329). */
static const char *const boot_files_283x[] = {
	"autoboot.txt", "config.txt", "recovery.elf", "start.elf", "fixup.dat",
};
static const char *const boot_files_2711[] = {
	"config.txt", "boot.img", "start4.elf", "fixup4.dat",
};
static const char *const boot_files_2712[] = {
	"mcb.bin", "memsys00.bin", "memsys01.bin", "memsys02.bin", "memsys03.bin",
	"bootmain", "config.txt", "boot.img",
};

static const struct vpi_profile profiles[] = {
	{
		.soc = PV_SOC_BCM2835, .product_string = "BCM2708 Boot", .rom_interfaces = 1,
		.rom_has_serial_string = false, .oui = { 0xb8, 0x27, 0xeb }, .macs_per_board = 1,
		.serial_high = 0, .recovery_capable = false,
		.boot_files = boot_files_283x, .boot_files_len = PV_ARRAY_SIZE(boot_files_283x),
		.memory_code = 1, .pcb_revision = 3,
	},
	{
		.soc = PV_SOC_BCM2836, .product_string = "BCM2710 Boot", .rom_interfaces = 1,
		.rom_has_serial_string = false, .oui = { 0xb8, 0x27, 0xeb }, .macs_per_board = 1,
		.serial_high = 0, .recovery_capable = false,
		.boot_files = boot_files_283x, .boot_files_len = PV_ARRAY_SIZE(boot_files_283x),
		.memory_code = 2, .pcb_revision = 1,
	},
	{
		/* rpiboot: "2837 ... first is mass storage, second is vendor". */
		.soc = PV_SOC_BCM2837, .product_string = "BCM2710 Boot", .rom_interfaces = 2,
		.rom_has_serial_string = false, .oui = { 0xb8, 0x27, 0xeb }, .macs_per_board = 1,
		.serial_high = 0, .recovery_capable = false,
		.boot_files = boot_files_283x, .boot_files_len = PV_ARRAY_SIZE(boot_files_283x),
		.memory_code = 2, .pcb_revision = 2,
	},
	{
		.soc = PV_SOC_BCM2711, .product_string = "BCM2711 Boot", .rom_interfaces = 1,
		.rom_has_serial_string = true, .oui = { 0xdc, 0xa6, 0x32 }, .macs_per_board = 1,
		.serial_high = 0x10000000, .boot_rom = 0x0000c8b0, .advanced_boot = 0x0000e8e8,
		.recovery_capable = true, .requests_vl805 = true,
		.metadata = metadata_2711, .metadata_len = PV_ARRAY_SIZE(metadata_2711),
		.boot_files = boot_files_2711, .boot_files_len = PV_ARRAY_SIZE(boot_files_2711),
		.memory_code = 4, .pcb_revision = 4,
	},
	{
		.soc = PV_SOC_BCM2712, .product_string = "BCM2712 Boot", .rom_interfaces = 1,
		.rom_has_serial_string = true, .oui = { 0x2c, 0xcf, 0x67 }, .macs_per_board = 3,
		.serial_high = 0, .boot_rom = 0x0000000a, .advanced_boot = 0,
		.recovery_capable = true, .requests_vl805 = false,
		.metadata = metadata_2712, .metadata_len = PV_ARRAY_SIZE(metadata_2712),
		.boot_files = boot_files_2712, .boot_files_len = PV_ARRAY_SIZE(boot_files_2712),
		.memory_code = 5, .pcb_revision = 0,
	},
};

const struct vpi_profile *vpi_profile_for(enum pv_soc soc)
{
	for (size_t i = 0; i < PV_ARRAY_SIZE(profiles); i++)
		if (profiles[i].soc == soc)
			return &profiles[i];
	return NULL;
}

uint32_t vpi_default_boardrev(const struct pv_board_type *board)
{
	const struct pv_soc_info *soc = pv_soc_info(board->soc);
	const struct vpi_profile *profile = vpi_profile_for(board->soc);

	if (!soc || !profile)
		return 0;
	return (1u << 23) | ((uint32_t)profile->memory_code << 20) |
	       ((uint32_t)soc->revision_processor << 12) | ((uint32_t)board->type_code << 4) |
	       profile->pcb_revision;
}

/* splitmix64 finaliser: deterministic serials, MACs and fault draws from small inputs. */
uint64_t vpi_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}
