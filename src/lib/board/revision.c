/* Revision codes and board types. Source: ../shared/docs/netboot-and-identity.md §4.2
 * (revision-codes.adoc): NOQuuuWuFMMMCCCCPPPPTTTTTTTTRRRR. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "piprov/board.h"
#include "banned.h"

#define EEPROM PV_BOARD_HAS_EEPROM
#define NVME PV_BOARD_HAS_NVME
#define EMMC PV_BOARD_HAS_EMMC
#define CM PV_BOARD_COMPUTE_MODULE
#define MSD5 PV_BOARD_BCM_USB_MSD
#define KBD PV_BOARD_KEYBOARD
#define OPT_IN PV_BOARD_EEPROM_UPDATE_OPT_IN
#define NET_ROM PV_BOARD_NETBOOT_IN_ROM
#define NET_OTP PV_BOARD_NETBOOT_OTP

static const struct pv_board_type board_table[] = {
	{ 0x00, "Raspberry Pi Model A", "pi1a", "[pi1]", PV_SOC_BCM2835, 0 },
	{ 0x01, "Raspberry Pi Model B", "pi1", "[pi1]", PV_SOC_BCM2835, 0 },
	{ 0x02, "Raspberry Pi Model A+", "pi1a+", "[pi1]", PV_SOC_BCM2835, 0 },
	{ 0x03, "Raspberry Pi Model B+", "pi1b+", "[pi1]", PV_SOC_BCM2835, 0 },
	{ 0x04, "Raspberry Pi 2 Model B", "pi2", "[pi2]", PV_SOC_BCM2836, NET_OTP },
	{ 0x06, "Raspberry Pi Compute Module 1", "cm1", "[cm1]", PV_SOC_BCM2835, CM | EMMC },
	{ 0x08, "Raspberry Pi 3 Model B", "pi3", "[pi3]", PV_SOC_BCM2837, NET_OTP },
	{ 0x09, "Raspberry Pi Zero", "pi0", "[pi0]", PV_SOC_BCM2835, 0 },
	{ 0x0a, "Raspberry Pi Compute Module 3", "cm3", "[cm3]", PV_SOC_BCM2837, CM | EMMC },
	{ 0x0c, "Raspberry Pi Zero W", "pi0w", "[pi0w]", PV_SOC_BCM2835, 0 },
	{ 0x0d, "Raspberry Pi 3 Model B+", "pi3+", "[pi3+]", PV_SOC_BCM2837, NET_ROM },
	{ 0x0e, "Raspberry Pi 3 Model A+", "pi3a+", "[pi3+]", PV_SOC_BCM2837, 0 },
	{ 0x10, "Raspberry Pi Compute Module 3+", "cm3+", "[cm3]", PV_SOC_BCM2837, CM | EMMC },
	{ 0x11, "Raspberry Pi 4 Model B", "pi4", "[pi4]", PV_SOC_BCM2711, EEPROM | MSD5 },
	{ 0x12, "Raspberry Pi Zero 2 W", "pi02", "[pi02]", PV_SOC_BCM2837, 0 },
	{ 0x13, "Raspberry Pi 400", "pi400", "[pi400]", PV_SOC_BCM2711, EEPROM | KBD },
	{ 0x14, "Raspberry Pi Compute Module 4", "cm4", "[cm4]", PV_SOC_BCM2711,
	  EEPROM | NVME | EMMC | CM | MSD5 | OPT_IN },
	{ 0x15, "Raspberry Pi Compute Module 4S", "cm4s", "[cm4s]", PV_SOC_BCM2711,
	  EEPROM | EMMC | CM | OPT_IN },
	{ 0x17, "Raspberry Pi 5", "pi5", "[pi5]", PV_SOC_BCM2712, EEPROM | NVME },
	{ 0x18, "Raspberry Pi Compute Module 5", "cm5", "[cm5]", PV_SOC_BCM2712,
	  EEPROM | NVME | EMMC | CM },
	{ 0x19, "Raspberry Pi 500", "pi500", "[pi500]", PV_SOC_BCM2712, EEPROM | NVME | KBD },
	{ 0x1a, "Raspberry Pi Compute Module 5 Lite", "cm5lite", "[cm5]", PV_SOC_BCM2712,
	  EEPROM | NVME | CM },
	{ 0x1b, "Raspberry Pi Compute Module 0", "cm0", "[cm0]", PV_SOC_BCM2837, CM | EMMC },
};

static const char *const manufacturers[] = {
	"Sony UK", "Egoman", "Embest", "Sony Japan", "Embest", "Stadium",
};

/* MMM field: 0 = 256 MB ... 6 = 16 GB; 7 means "see rpi-sdram-size-gbit". */
static const unsigned memory_mb_by_code[] = { 256, 512, 1024, 2048, 4096, 8192, 16384 };

const struct pv_board_type *pv_board_at(size_t index)
{
	return index < PV_ARRAY_SIZE(board_table) ? &board_table[index] : NULL;
}

const struct pv_board_type *pv_board_by_type_code(unsigned type_code)
{
	for (size_t i = 0; i < PV_ARRAY_SIZE(board_table); i++)
		if (board_table[i].type_code == type_code)
			return &board_table[i];
	return NULL;
}

const struct pv_board_type *pv_board_by_short_name(const char *name)
{
	for (size_t i = 0; i < PV_ARRAY_SIZE(board_table); i++)
		if (strcmp(board_table[i].short_name, name) == 0)
			return &board_table[i];
	return NULL;
}

int pv_revision_decode(uint32_t code, struct pv_revision *out)
{
	struct pv_revision rev;
	unsigned mem_code;

	memset(&rev, 0, sizeof(rev));
	rev.code = code;
	rev.new_style = (code >> 23) & 1;
	if (!rev.new_style)
		return pv_fail(PV_ERR_UNSUPPORTED, "board",
			       "revision code %#x is an old-style code (bit 23 clear)", code);
	rev.type_code = (code >> 4) & 0xff;
	mem_code = (code >> 20) & 7;
	rev.memory_mb = mem_code < PV_ARRAY_SIZE(memory_mb_by_code) ? memory_mb_by_code[mem_code]
								     : 0;
	rev.manufacturer_code = (code >> 16) & 0xf;
	rev.manufacturer = rev.manufacturer_code < PV_ARRAY_SIZE(manufacturers)
				   ? manufacturers[rev.manufacturer_code]
				   : "unknown";
	rev.processor = (code >> 12) & 0xf;
	rev.pcb_revision = code & 0xf;
	rev.board = pv_board_by_type_code(rev.type_code);
	rev.soc = NULL;
	for (size_t i = 0; pv_soc_at(i); i++)
		if (pv_soc_at(i)->revision_processor == rev.processor)
			rev.soc = pv_soc_at(i);
	*out = rev;
	return PV_OK;
}

void pv_revision_describe(const struct pv_revision *rev, char *out, size_t size)
{
	char memory[32];

	if (rev->memory_mb >= 1024)
		snprintf(memory, sizeof(memory), "%uGB", rev->memory_mb / 1024);
	else if (rev->memory_mb)
		snprintf(memory, sizeof(memory), "%uMB", rev->memory_mb);
	else
		snprintf(memory, sizeof(memory), "unknown memory");
	snprintf(out, size, "%s Rev 1.%u, %s, %s",
		 rev->board ? rev->board->name : "unknown board", rev->pcb_revision, memory,
		 rev->manufacturer);
}
