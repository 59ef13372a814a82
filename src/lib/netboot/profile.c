/* What each SoC's boot code does on the network, as data: the DHCP options it sends, how it
 * uses TFTP, and the order in which it asks for its files. One row per SoC; nothing else in
 * the netboot module branches on the chip. Sources: ../shared/docs/netboot-and-identity.md
 * (section numbers below); [inferred] marks what no capture shows. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "netboot_internal.h"
#include "piprov/netboot_boot.h"
#include "piprov/text.h"
#include "banned.h"

#define VENDOR_CLASS "PXEClient:Arch:00000:UNDI:002001" /* §1.2, 32 bytes */

/* Option 55 of the Pi 3B ROM (tcpdump, firmware #871, §1.5). */
static const uint8_t params_2837[] = { 43, 60, 67, 128, 129, 130, 131, 132, 133, 134, 135,
				       66, 1, 3 };
/* dnsmasq's log of a CM5's DISCOVER (cmprovision #61, §1.5): "1, 3, 43, 60, 66, 67, 128,
 * 129, ..."; the rest of the list as the Pi 3 sends it [inferred], and the Pi 4 bootloader
 * taken to send the same list [inferred: no Pi 4 capture of option 55]. */
static const uint8_t params_2711_2712[] = { 1, 3, 43, 60, 66, 67, 128, 129, 130, 131, 132,
					    133, 134, 135 };

#define STEP(f, k, r) { .file = (f), .kind = PV_NETBOOT_STEP_##k, .role = PV_NETBOOT_ROLE_##r }
#define ROOT_STEP(f, k) { .file = (f), .kind = PV_NETBOOT_STEP_##k, .from_root = true }
#define FW_STEP(f, k, r) { .file = (f), .kind = PV_NETBOOT_STEP_##k, \
			   .role = PV_NETBOOT_ROLE_##r, .firmware_stage = true }

/* Pi 3 (§1.5, in.tftpd log of firmware #1012 and dnsmasq log of firmware #1362/#1605): the
 * ROM reads bootcode.bin and bootsig.bin from the root; bootcode.bin probes
 * <serial>/start.elf and keeps the prefix when it is there, then autoboot.txt, config.txt,
 * recovery.elf, start.elf, fixup.dat. The firmware then reads config.txt, the device tree,
 * cmdline.txt and the kernel [inferred: no Pi 3 capture goes that far]. bootcode.bin's own
 * second DHCP exchange (firmware #1605 shows one) is not modelled: it asks the same
 * servers the same question. */
static const struct pv_netboot_step steps_2837[] = {
	{ .file = "bootcode.bin", .kind = PV_NETBOOT_STEP_REQUIRED,
	  .role = PV_NETBOOT_ROLE_SECOND_STAGE, .from_root = true },
	ROOT_STEP("bootsig.bin", PROBE),
	STEP("start.elf", PREFIX_PROBE, NONE),
	STEP("autoboot.txt", PROBE, NONE),
	STEP("config.txt", READ, CONFIG),
	STEP("recovery.elf", PROBE, NONE),
	STEP("start.elf", REQUIRED, FIRMWARE),
	STEP("fixup.dat", REQUIRED, NONE),
	FW_STEP("config.txt", READ, CONFIG),
	FW_STEP(NULL, REQUIRED, DTB),
	FW_STEP(NULL, REQUIRED, CMDLINE),
	FW_STEP(NULL, REQUIRED, KERNEL),
};

/* Pi 4 (§1.1, tcpdump of rpi-eeprom #74 with the folder missing: <serial>/start4.elf,
 * <serial>/start.elf, config.txt, recover4.elf, recovery.elf, start4.elf, start.elf); with
 * the folder there the same under the prefix [inferred]. After start4.elf the firmware
 * reads config.txt, the device tree, cmdline.txt and the kernel (rpi-eeprom #87, §1.5). */
static const struct pv_netboot_step steps_2711[] = {
	STEP("start4.elf", PREFIX_PROBE, NONE),
	STEP("start.elf", PREFIX_PROBE, NONE),
	STEP("config.txt", READ, CONFIG),
	STEP("recover4.elf", PROBE, NONE),
	STEP("recovery.elf", PROBE, NONE),
	STEP("start4.elf", REQUIRED, FIRMWARE),
	STEP("fixup4.dat", REQUIRED, NONE),
	FW_STEP("config.txt", READ, CONFIG),
	FW_STEP(NULL, REQUIRED, DTB),
	FW_STEP(NULL, REQUIRED, CMDLINE),
	FW_STEP(NULL, REQUIRED, KERNEL),
};

/* Pi 5: the firmware is in the EEPROM, no start4.elf (§1.5). A captured Pi 5 log starts with
 * <serial>/start4.elf, then <serial>/config.txt (the uart fixture pi5-2024-ipv6.log); that
 * the folder is kept when only config.txt is in it, and the device tree, cmdline.txt,
 * kernel_2712.img order after it, are [inferred] (§1.5 "treat the exact order as unknown"). */
static const struct pv_netboot_step steps_2712[] = {
	STEP("start4.elf", PREFIX_PROBE, NONE),
	STEP("config.txt", PREFIX_PROBE, NONE),
	STEP("config.txt", READ, CONFIG),
	STEP(NULL, REQUIRED, DTB),
	STEP(NULL, REQUIRED, CMDLINE),
	STEP(NULL, REQUIRED, KERNEL),
};

static const struct pv_netboot_profile profiles[] = {
	{
		.soc = PV_SOC_BCM2837,
		.rom_client = true,
		.param_request = params_2837, .param_request_len = sizeof(params_2837),
		.vendor_class = VENDOR_CLASS, .client_arch = 0, .client_ndi = { 1, 2, 1 },
		/* "retries DHCP 5 times at 5 s intervals ... straight from OFFER to boot" (§1.2) */
		.requests_address = false,
		.rom_dhcp_timeout_ms = 25000, .rom_dhcp_req_timeout_ms = 5000,
		/* bootcode.bin: "tsize 0", no blksize, ports from 49153 up (firmware #1700) */
		.tftp_port = 0, .tftp_blksize = 0, .tftp_retransmit_ms = 2000,
		.steps = steps_2837, .n_steps = PV_ARRAY_SIZE(steps_2837),
		.kernel = "kernel8.img", .kernel_fallback = "kernel7.img", /* [inferred] */
	},
	{
		.soc = PV_SOC_BCM2711,
		.param_request = params_2711_2712, .param_request_len = sizeof(params_2711_2712),
		.vendor_class = VENDOR_CLASS, .client_arch = 0, .client_ndi = { 1, 2, 1 },
		.requests_address = true,
		/* "RRQ ... octet tsize 0 blksize 1024" from port 6970, again every 2 s (rpi-eeprom
		 * #74); the fixed port for every transfer is [inferred] from that one capture */
		.tftp_port = 6970, .tftp_blksize = 1024, .tftp_retransmit_ms = 2000,
		.steps = steps_2711, .n_steps = PV_ARRAY_SIZE(steps_2711),
		/* 64-bit kernel first (the firmware's default on a Pi 4 since 2022), the 32-bit
		 * LPAE kernel after [inferred] */
		.kernel = "kernel8.img", .kernel_fallback = "kernel7l.img",
		.uart_genet = true, /* "GENET: UMAC_START ..." (§3.2, §3.4) */
	},
	{
		.soc = PV_SOC_BCM2712,
		.param_request = params_2711_2712, .param_request_len = sizeof(params_2711_2712),
		.vendor_class = VENDOR_CLASS, .client_arch = 0, .client_ndi = { 1, 2, 1 },
		.requests_address = true,
		/* the Pi 4's TFTP client [inferred: no Pi 5 capture of a request] */
		.tftp_port = 6970, .tftp_blksize = 1024, .tftp_retransmit_ms = 2000,
		.steps = steps_2712, .n_steps = PV_ARRAY_SIZE(steps_2712),
		/* kernel_2712.img (cmprovision #61), else kernel8.img [inferred] */
		.kernel = "kernel_2712.img", .kernel_fallback = "kernel8.img",
	},
};

const struct pv_netboot_profile *pv_netboot_profile_for(enum pv_soc soc)
{
	for (size_t i = 0; i < PV_ARRAY_SIZE(profiles); i++)
		if (profiles[i].soc == soc)
			return &profiles[i];
	return NULL;
}

/* Device trees by board type code (the names the firmware and Linux use [inferred: from
 * the kernel tree, not from a capture]). */
static const struct {
	unsigned type_code;
	const char *dtb;
	const char *strict_menu;
} board_files[] = {
	{ 0x08, "bcm2710-rpi-3-b.dtb", "Raspberry Pi Boot   " },   /* 3B ROM, §1.2 */
	{ 0x0a, "bcm2710-rpi-cm3.dtb", "Raspberry Pi Boot   " },   /* the 3B's ROM [inferred] */
	{ 0x0d, "bcm2710-rpi-3-b-plus.dtb", NULL },                 /* "fixed on the 3B+" */
	{ 0x0e, "bcm2710-rpi-3-a-plus.dtb", NULL },
	{ 0x10, "bcm2710-rpi-cm3.dtb", NULL },
	{ 0x12, "bcm2710-rpi-zero-2-w.dtb", NULL },
	{ 0x11, "bcm2711-rpi-4-b.dtb", NULL },
	{ 0x13, "bcm2711-rpi-400.dtb", NULL },
	{ 0x14, "bcm2711-rpi-cm4.dtb", NULL },
	{ 0x15, "bcm2711-rpi-cm4s.dtb", NULL },
	{ 0x17, "bcm2712-rpi-5-b.dtb", NULL },
	{ 0x18, "bcm2712-rpi-cm5-cm5io.dtb", NULL },
	{ 0x19, "bcm2712-rpi-500.dtb", NULL },
	{ 0x1a, "bcm2712-rpi-cm5l-cm5io.dtb", NULL },
};

const char *pv_netboot_board_dtb(const struct pv_board_type *board)
{
	for (size_t i = 0; board && i < PV_ARRAY_SIZE(board_files); i++)
		if (board_files[i].type_code == board->type_code)
			return board_files[i].dtb;
	return NULL;
}

const char *pv_netboot_board_strict_menu(const struct pv_board_type *board)
{
	for (size_t i = 0; board && i < PV_ARRAY_SIZE(board_files); i++)
		if (board_files[i].type_code == board->type_code)
			return board_files[i].strict_menu;
	return NULL;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void pv_netboot_option97(const struct pv_netboot_identity *id, uint32_t option97, uint8_t out[17])
{
	uint32_t serial = (uint32_t)id->serial;

	out[0] = 0; /* type: the machine id as a GUID (RFC 4578) */
	if (!option97) {
		/* "00 + the serial repeated four times, little-endian" (§1.5: a Pi 3B's
		 * 00:16:4c:6c:b6:... for serial b66c4c16; a Pi 4 before DHCP_OPTION97) */
		for (int i = 0; i < 4; i++)
			put_le32(out + 1 + 4 * i, serial);
		return;
	}
	/* FourCC, board revision, the MAC's low 4 bytes, the serial (DHCP_OPTION97, §1.2).
	 * Byte order from the one capture (cmprovision #16: 00:34:69:50:52:41:31:a0:00:01:f8:
	 * de:b9:...): the FourCC as written (big-endian), the revision little-endian, the MAC
	 * bytes in order [inferred]; the serial little-endian as in the legacy form
	 * [inferred: cut off in the capture]. */
	nb_put32(out + 1, option97);
	put_le32(out + 5, id->boardrev);
	memcpy(out + 9, id->mac + 2, 4);
	put_le32(out + 13, serial);
}

void pv_netboot_add_client_options(struct pv_netboot_dhcp_builder *b,
				   const struct pv_netboot_profile *profile,
				   const struct pv_netboot_identity *id,
				   const struct pv_netboot_settings *settings, bool discover)
{
	uint8_t arch[2], guid[17];

	arch[0] = (uint8_t)(profile->client_arch >> 8);
	arch[1] = (uint8_t)profile->client_arch;
	/* A Pi 3 has no DHCP_OPTION97 and sends the legacy form (§1.5). */
	pv_netboot_option97(id, profile->rom_client ? 0 : settings->dhcp_option97, guid);
	pv_netboot_dhcp_add(b, PV_DHCP_OPT_PARAMS, profile->param_request,
			    profile->param_request_len);
	/* "the Pi 4's DHCPREQUEST carries no option 60" (rpi-eeprom #82, §1.5) */
	if (discover)
		pv_netboot_dhcp_add(b, PV_DHCP_OPT_VENDOR_CLASS, profile->vendor_class,
				    strlen(profile->vendor_class));
	pv_netboot_dhcp_add(b, PV_DHCP_OPT_CLIENT_ARCH, arch, sizeof(arch));
	pv_netboot_dhcp_add(b, PV_DHCP_OPT_CLIENT_NDI, profile->client_ndi, 3);
	pv_netboot_dhcp_add(b, PV_DHCP_OPT_CLIENT_GUID, guid, sizeof(guid));
}

void pv_netboot_prefix(const struct pv_netboot_identity *id,
		       const struct pv_netboot_settings *settings,
		       char out[PV_NETBOOT_TFTP_PATH_MAX])
{
	char mac[PV_MAC_STRLEN];
	size_t n;

	switch (settings->tftp_prefix) {
	case PV_NETBOOT_PREFIX_MAC:
		pv_mac_format(settings->has_mac_address ? settings->mac_address : id->mac, '-', mac);
		snprintf(out, PV_NETBOOT_TFTP_PATH_MAX, "%s/", mac);
		return;
	case PV_NETBOOT_PREFIX_STRING:
		/* The documented example ends in '/' ("tftp_test/"); a string without one names
		 * the same folder [inferred], as the inventory reads it. */
		n = strnlen(settings->tftp_prefix_str, sizeof(settings->tftp_prefix_str));
		snprintf(out, PV_NETBOOT_TFTP_PATH_MAX, "%s%s", settings->tftp_prefix_str,
			 n && settings->tftp_prefix_str[n - 1] != '/' ? "/" : "");
		return;
	case PV_NETBOOT_PREFIX_SERIAL:
	default:
		snprintf(out, PV_NETBOOT_TFTP_PATH_MAX, "%08x/", (unsigned)(uint32_t)id->serial);
		return;
	}
}
