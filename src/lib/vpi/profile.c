/* Per-SoC behaviour of the virtual boot ROM and firmware, as data. Sources:
 * ../shared/docs/usbboot-protocol.md §1 (ROM identity, interfaces), §3 (request orders),
 * §4 (metadata formats); netboot-and-identity.md §0 (OUIs, serials), §4.2 (revision codes),
 * §5 (metadata examples: the order of the keys below follows them).
 *
 * Where each request list comes from (a log of a real board unless marked):
 * - recovery flow (firmware.c recovery_steps, every SoC): config.txt, vl805.sig (2711),
 *   pieeprom.sig, pieeprom.upd, from the rpiboot log of a Pi 4 in usbboot #214; pieeprom.bin
 *   when there is no .upd, from docs PR #1690 and rpi-eeprom #735. [guess] A 2026 recovery.bin
 *   in rpi-eeprom #849 asks pieeprom.bin right after config.txt; the model keeps #214's order.
 * - BCM2711 bootloader (below): usbboot #315 (the embedded msd bootcode4.bin on a CM4:
 *   config.txt, pieeprom.sig, recover4.elf, ...) and #214 (the same tail after a recovery.bin
 *   found nothing to flash: recover4.elf, fixup4rc.dat, recovery.elf, fixup_rc.dat,
 *   start4.elf, fixup4.dat, then "Second stage boot server done"); boot.img when config.txt
 *   says boot_ramdisk=1 is the documented config.txt option, its place in the order [guess].
 * - BCM2712 bootloader: usbboot #329 (bootcode5.bin of bootfiles.bin with the mass-storage
 *   gadget: mcb.bin, memsys00..03.bin, bootmain, config.txt, boot.img). [guess] The same with
 *   a config.txt without boot_ramdisk=1, and rp1c0fw1/2.bin (usbboot-protocol.md §2 lists
 *   them, no log shows where).
 * - BCM2835-2837 bootcode.bin: usbboot #30 and balena-io/etcher #1797 (autoboot.txt,
 *   config.txt, recovery.elf, start.elf, fixup.dat); what start.elf asks afterwards is not
 *   modelled (the board leaves).
 * - Metadata only from the recovery program (usbboot-protocol.md §4); a bootloader sends
 *   none. */
#include <stddef.h>
#include <string.h>

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

/* Non-recovery second stages (sources above). */
static const struct vpi_boot_step boot_steps_283x[] = {
	{ VPI_BOOT_FILE, "autoboot.txt", NULL },
	{ VPI_BOOT_FILE, "config.txt", NULL },
	{ VPI_BOOT_FIRMWARE, "recovery.elf", NULL },
	{ VPI_BOOT_FIRMWARE, "start.elf", "fixup.dat" },
};
static const struct vpi_boot_step boot_steps_2711[] = {
	{ VPI_BOOT_FILE, "config.txt", NULL },
	/* [guess] what the bootloader does with a pieeprom.sig it finds (no log shows one):
	 * it reads it and goes on. */
	{ VPI_BOOT_FILE, "pieeprom.sig", NULL },
	{ VPI_BOOT_RAMDISK, "boot.img", NULL },
	{ VPI_BOOT_FIRMWARE, "recover4.elf", "fixup4rc.dat" },
	{ VPI_BOOT_FIRMWARE, "recovery.elf", "fixup_rc.dat" },
	{ VPI_BOOT_FIRMWARE, "start4.elf", "fixup4.dat" },
};
static const struct vpi_boot_step boot_steps_2712[] = {
	{ VPI_BOOT_FILE, "mcb.bin", NULL },
	{ VPI_BOOT_FILE, "memsys00.bin", NULL },
	{ VPI_BOOT_FILE, "memsys01.bin", NULL },
	{ VPI_BOOT_FILE, "memsys02.bin", NULL },
	{ VPI_BOOT_FILE, "memsys03.bin", NULL },
	{ VPI_BOOT_FILE, "bootmain", NULL },
	{ VPI_BOOT_FILE, "config.txt", NULL },
	{ VPI_BOOT_IMAGE, "boot.img", NULL },
};

/* Published recovery.bin releases, by digest: the recovery program is recognised by what the
 * file is, not by a string inside it (upstream's mass-storage bootcode4.bin names
 * pieeprom.sig too). From ../shared/fixtures/recovery/MANIFEST.tsv (rpi-eeprom's
 * firmware-27xx folders); test vpi_recovery_ids checks this table against the fixtures. A
 * release not listed here runs the bootloader flow unless the spec says
 * second-stage=recovery. */
static const struct vpi_recovery_release recovery_releases[] = {
	{ PV_SOC_BCM2711, "default,old/beta", 100140,
	  "9ec8816886f3938d962a837347d65ccc1d03e811a84bf1ad4b608906b288d995" },
	{ PV_SOC_BCM2711, "latest", 100140,
	  "f8c286bb25f49e4372bc16d882f62589238b61c3a6fc5a7d289b3a2ff75be68f" },
	{ PV_SOC_BCM2712, "default,old/latest", 105396,
	  "73dab9a01c139b7d995ac9a4055ee0d15551d7f8dbf1c2605bae584ef7126e0c" },
	{ PV_SOC_BCM2712, "latest", 105420,
	  "5f354d909c1fc8f8eab824dc4dec1f851ba995ea118e0bd0367793e043d6a41a" },
};

const struct vpi_recovery_release *vpi_recovery_release_at(size_t index)
{
	return index < PV_ARRAY_SIZE(recovery_releases) ? &recovery_releases[index] : NULL;
}

const struct vpi_recovery_release *vpi_recovery_release_find(enum pv_soc soc,
							     const char sha256_hex[65])
{
	for (size_t i = 0; i < PV_ARRAY_SIZE(recovery_releases); i++)
		if (recovery_releases[i].soc == soc &&
		    strcmp(recovery_releases[i].sha256, sha256_hex) == 0)
			return &recovery_releases[i];
	return NULL;
}

static const struct vpi_profile profiles[] = {
	{
		.soc = PV_SOC_BCM2835, .product_string = "BCM2708 Boot", .rom_interfaces = 1,
		.rom_has_serial_string = false, .oui = { 0xb8, 0x27, 0xeb }, .macs_per_board = 1,
		.serial_high = 0, .recovery_capable = false,
		.boot_steps = boot_steps_283x, .boot_steps_len = PV_ARRAY_SIZE(boot_steps_283x),
		.memory_code = 1, .pcb_revision = 3,
	},
	{
		.soc = PV_SOC_BCM2836, .product_string = "BCM2710 Boot", .rom_interfaces = 1,
		.rom_has_serial_string = false, .oui = { 0xb8, 0x27, 0xeb }, .macs_per_board = 1,
		.serial_high = 0, .recovery_capable = false,
		.boot_steps = boot_steps_283x, .boot_steps_len = PV_ARRAY_SIZE(boot_steps_283x),
		.memory_code = 2, .pcb_revision = 1,
	},
	{
		/* rpiboot: "2837 ... first is mass storage, second is vendor". */
		.soc = PV_SOC_BCM2837, .product_string = "BCM2710 Boot", .rom_interfaces = 2,
		.rom_has_serial_string = false, .oui = { 0xb8, 0x27, 0xeb }, .macs_per_board = 1,
		.serial_high = 0, .recovery_capable = false,
		.boot_steps = boot_steps_283x, .boot_steps_len = PV_ARRAY_SIZE(boot_steps_283x),
		.memory_code = 2, .pcb_revision = 2,
	},
	{
		.soc = PV_SOC_BCM2711, .product_string = "BCM2711 Boot", .rom_interfaces = 1,
		.rom_has_serial_string = true, .oui = { 0xdc, 0xa6, 0x32 }, .macs_per_board = 1,
		.serial_high = 0x10000000, .boot_rom = 0x0000c8b0, .advanced_boot = 0x0000e8e8,
		.recovery_capable = true, .requests_vl805 = true,
		.metadata = metadata_2711, .metadata_len = PV_ARRAY_SIZE(metadata_2711),
		.boot_steps = boot_steps_2711, .boot_steps_len = PV_ARRAY_SIZE(boot_steps_2711),
		.memory_code = 4, .pcb_revision = 4,
	},
	{
		.soc = PV_SOC_BCM2712, .product_string = "BCM2712 Boot", .rom_interfaces = 1,
		.rom_has_serial_string = true, .oui = { 0x2c, 0xcf, 0x67 }, .macs_per_board = 3,
		.serial_high = 0, .boot_rom = 0x0000000a, .advanced_boot = 0,
		.recovery_capable = true, .requests_vl805 = false,
		.metadata = metadata_2712, .metadata_len = PV_ARRAY_SIZE(metadata_2712),
		.boot_steps = boot_steps_2712, .boot_steps_len = PV_ARRAY_SIZE(boot_steps_2712),
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
