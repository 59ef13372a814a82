/* The virtual board's UART log during a network boot: the lines the real bootloader prints,
 * from the format strings of the released images and the captures in
 * ../shared/docs/netboot-and-identity.md §3 (and ../shared/fixtures/uart). Which header,
 * whether lines carry timestamps and whether the MAC line says NET_BOOT or NETWORK follow
 * the image's BUILD_TIMESTAMP; where §3 shows no line for a situation the text is [inferred]
 * and marked so below. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "piprov/netboot_vpi.h"
#include "piprov/text.h"
#include "banned.h"

/* The 2024 header pair is seen from the 2024-02-16 image on (§3.5; the last old one seen is
 * 2022-04, §0); the images between are [inferred] to print the old one. */
#define NEW_HEADER_FROM 1706745600u  /* 2024-02-01 */
/* "Pi 4 timestamps were added in the 2024-05-17 release" (§3.4); the Pi 5's 2024-02 log has
 * none and its 2025 logs have them [inferred: the same release]. The same images print
 * "NETWORK:" where older ones print "NET_BOOT:" (§3.4, rpi-eeprom #687). */
#define TIMESTAMPS_FROM 1715904000u  /* 2024-05-17 */

struct pv_vpi_uart {
	struct pv_netboot_identity id;
	struct pv_netboot_settings settings;
	struct pv_buf *out;
	bool new_header, timestamps;
	bool genet;                    /* the SoC's Ethernet prints GENET lines (Pi 4) */
	bool silent;                   /* the firmware runs: the bootloader prints no more */
	bool expect_ack;               /* a REQUEST went out: the next answers are ACKs */
	uint64_t base_ms;              /* the boot started this long after power-on */
	int status;                    /* the first append failure */
};

static void line(struct pv_vpi_uart *u, uint64_t at_ms, const char *fmt, ...) PV_PRINTF(3, 4);
static void line(struct pv_vpi_uart *u, uint64_t at_ms, const char *fmt, ...)
{
	va_list ap;
	int rc = PV_OK;

	if (u->status)
		return;
	if (u->timestamps) {
		uint64_t t = u->base_ms + at_ms;

		rc = pv_buf_appendf(u->out, "%3u.%02u ", (unsigned)(t / 1000),
				    (unsigned)(t % 1000 / 10));
	}
	va_start(ap, fmt);
	if (!rc)
		rc = pv_buf_vappendf(u->out, fmt, ap);
	va_end(ap);
	if (!rc)
		rc = pv_buf_putc(u->out, '\n');
	u->status = rc;
}

/* An OPTIONS line: inside the block the 2024+ bootloader puts the timestamp at the end. */
static void option_line(struct pv_vpi_uart *u, uint64_t at_ms, const char *fmt, ...)
	PV_PRINTF(3, 4);
static void option_line(struct pv_vpi_uart *u, uint64_t at_ms, const char *fmt, ...)
{
	va_list ap;
	int rc;

	if (u->status)
		return;
	rc = pv_buf_putc(u->out, '\t');
	va_start(ap, fmt);
	if (!rc)
		rc = pv_buf_vappendf(u->out, fmt, ap);
	va_end(ap);
	if (!rc && u->timestamps) {
		uint64_t t = u->base_ms + at_ms;
		rc = pv_buf_appendf(u->out, " %u.%02u", (unsigned)(t / 1000),
				    (unsigned)(t % 1000 / 10));
	}
	if (!rc)
		rc = pv_buf_putc(u->out, '\n');
	u->status = rc;
}

static void mac_text(const uint8_t *mac, char out[PV_MAC_STRLEN])
{
	pv_mac_format(mac, ':', out);
}

static void header(struct pv_vpi_uart *u)
{
	char date[32] = "1970/01/01 TIME: 00:00:00", version[9];
	time_t ts = (time_t)u->settings.build_timestamp;
	struct tm tm;
	uint32_t serial = (uint32_t)u->id.serial;
	size_t n = strnlen(u->settings.version, 8);

	memset(version, '0', 8);
	memcpy(version, u->settings.version, n);
	version[8] = '\0';
	if (gmtime_r(&ts, &tm))
		strftime(date, sizeof(date), "%Y/%m/%d TIME: %H:%M:%S", &tm);
	if (!u->new_header) {
		/* "RPi:%s %s %s %s %s BOOTMODE: 0x%08x part: %d %s 0x%08x 0x%08x 0x%08x" */
		line(u, 0, "RPi: BOOTLOADER release VERSION:%s DATE: %s BOOTMODE: 0x00000006 part: 0 "
			   "BUILD_TIMESTAMP=%u 0x%08x 0x%08x 0x%08x", version, date,
		     (unsigned)u->settings.build_timestamp, serial, u->id.boardrev, 0x50f94u);
		line(u, 0, "PM_RSTS: 0x00001000");
		return;
	}
	/* "BOOTMODE: 0x%02x partition %d build-ts %s serial %08x boardrev %x stc %u", printed
	 * by BOOTSYS and again by BOOTLOADER (§3.4) */
	line(u, 0, "RPi: BOOTSYS release VERSION:%s DATE: %s", version, date);
	line(u, 0, "BOOTMODE: 0x06 partition 0 build-ts BUILD_TIMESTAMP=%u serial %08x boardrev %x "
		   "stc %u", (unsigned)u->settings.build_timestamp, serial, u->id.boardrev, 511954u);
	line(u, 0, "PM_RSTS: 0x00001000");
	line(u, 0, "RPi: BOOTLOADER release VERSION:%s DATE: %s", version, date);
	line(u, 0, "BOOTMODE: 0x06 partition 0 build-ts BUILD_TIMESTAMP=%u serial %08x boardrev %x "
		   "stc %u", (unsigned)u->settings.build_timestamp, serial, u->id.boardrev, 2417058u);
}

int pv_vpi_uart_new(const struct pv_netboot_identity *id,
		    const struct pv_netboot_settings *settings, struct pv_buf *out,
		    struct pv_vpi_uart **uart)
{
	struct pv_vpi_uart *u = calloc(1, sizeof(*u));

	if (!u)
		return pv_fail(PV_ERR_NOMEM, "vpi", "out of memory");
	u->id = *id;
	u->settings = *settings;
	u->out = out;
	u->new_header = settings->build_timestamp >= NEW_HEADER_FROM;
	u->timestamps = settings->build_timestamp >= TIMESTAMPS_FROM;
	u->genet = id->soc && pv_netboot_profile_for(id->soc->soc) &&
		   pv_netboot_profile_for(id->soc->soc)->uart_genet;
	u->base_ms = 2100; /* the bootloader's own start-up before the boot modes */
	header(u);
	*uart = u;
	return u->status;
}

void pv_vpi_uart_free(struct pv_vpi_uart *uart)
{
	free(uart);
}

static const char *mode_name(unsigned mode)
{
	/* "NETWORK (02)", "SD (01)", "USB-MSD (04)" are seen (§3); the other names follow the
	 * BOOT_ORDER documentation [inferred] */
	static const char *const names[16] = {
		[0x0] = "SD-CARD-DETECT", [0x1] = "SD", [0x2] = "NETWORK", [0x3] = "RPIBOOT",
		[0x4] = "USB-MSD", [0x5] = "BCM-USB-MSD", [0x6] = "NVME", [0x7] = "HTTP",
		[0xe] = "STOP", [0xf] = "RESTART",
	};

	return names[mode & 0xf] ? names[mode & 0xf] : "UNKNOWN";
}

static void dhcp_lines(struct pv_vpi_uart *u, const struct pv_netboot_event *e)
{
	const struct pv_netboot_dhcp *m = e->dhcp;
	char mac[PV_MAC_STRLEN], ip[16];
	const uint8_t *v;
	size_t len;
	uint32_t addr;

	mac_text(e->mac, mac);
	pv_ipv4_format(e->src_ip, ip);
	line(u, e->at_ms, "DHCP src: %s %s", mac, ip);
	if (m->yiaddr) {
		pv_ipv4_format(m->yiaddr, ip);
		line(u, e->at_ms, "YI_ADDR %s", ip);
	}
	if (m->siaddr) {
		pv_ipv4_format(m->siaddr, ip);
		line(u, e->at_ms, "SI_ADDR %s", ip);
	}
	line(u, e->at_ms, "OPTIONS:-");
	option_line(u, e->at_ms, "op: 53 len:   1 DHCP recv %s (%d) expect %s",
		    pv_netboot_dhcp_type_name(m->type), m->type, u->expect_ack ? "ACK" : "OFFER");
	if (pv_netboot_dhcp_option_ip(m, PV_DHCP_OPT_SERVER_ID, &addr) == PV_OK) {
		pv_ipv4_format(addr, ip);
		option_line(u, e->at_ms, "op: 54 len:   4 %s", ip);
	}
	if (pv_netboot_dhcp_option_ip(m, PV_DHCP_OPT_NETMASK, &addr) == PV_OK) {
		pv_ipv4_format(addr, ip);
		option_line(u, e->at_ms, "op:  1 len:   4 %s", ip);
	}
	if (pv_netboot_dhcp_option(m, PV_DHCP_OPT_VENDOR_CLASS, &v, &len) == PV_OK)
		option_line(u, e->at_ms, "op: 60 len: %3zu", len);
	if (pv_netboot_dhcp_option(m, PV_DHCP_OPT_TFTP_SERVER, &v, &len) == PV_OK && len < 16) {
		char text[16], esc[64];

		memcpy(text, v, len);
		text[len] = '\0';
		pv_strlcpy(esc, text, sizeof(esc));
		for (char *c = esc; *c; c++)
			if (*c < 0x20 || *c > 0x7e)
				*c = '.';
		/* "op: 66 len:  14 192.168.20.105[66]: 192.168.20.105" (§3.2) */
		option_line(u, e->at_ms, "op: 66 len: %3zu %s[66]: %s", len, esc, esc);
	}
	if (pv_netboot_dhcp_option(m, PV_DHCP_OPT_VENDOR, &v, &len) == PV_OK) {
		option_line(u, e->at_ms, "op: 43 len: %3zu", len);
		/* the PXE suboptions, as the CM4 log of §3.3 lists them */
		for (size_t i = 0; i + 1 < len && v[i] != 255;) {
			if (v[i] == 0) {
				i++;
				continue;
			}
			if (i + 2 + v[i + 1] > len)
				break;
			option_line(u, e->at_ms, "\tPXE op: %2u len: %3u", v[i], v[i + 1]);
			i += 2 + (size_t)v[i + 1];
		}
	}
}

static void tftp_done(struct pv_vpi_uart *u, const struct pv_netboot_event *e)
{
	const struct pv_netboot_tftp_result *t = e->tftp;
	char msg[PV_NETBOOT_TFTP_MESSAGE_MAX];

	switch (t->outcome) {
	case PV_TFTP_OUTCOME_OK:
		/* A read is reported by FILE_READ; a probe that found its file ends early (ERROR
		 * 0 from the board) and the bootloader prints nothing more for it [inferred]. */
		return;
	case PV_TFTP_OUTCOME_NOT_FOUND:
	case PV_TFTP_OUTCOME_ERROR:
	case PV_TFTP_OUTCOME_TOO_BIG:
	case PV_TFTP_OUTCOME_PROTOCOL:
		pv_strlcpy(msg, t->error_message[0] ? t->error_message : "error", sizeof(msg));
		for (char *c = msg; *c; c++)
			if (*c < 0x20 || *c > 0x7e)
				*c = '.';
		/* "TFTP %d: %s" (the 2021 image's strings, §3.1) */
		line(u, e->at_ms, "TFTP %u: %s", t->error_code, msg);
		return;
	case PV_TFTP_OUTCOME_TIMEOUT:
		/* "TFTP: disconnect: timeouts %d" without "complete": cut off (docs/uart.md) */
		line(u, e->at_ms, "TFTP: disconnect: timeouts %u", t->timeouts);
		return;
	case PV_TFTP_OUTCOME_UNREACHABLE:
	case PV_TFTP_OUTCOME_STOPPED:   /* the run was stopped: the board had no say */
		return; /* no answer at all: the request stands alone in the log */
	}
}

void pv_vpi_uart_event(const struct pv_netboot_event *e, void *user)
{
	struct pv_vpi_uart *u = user;
	const struct pv_netboot_stack_stats *st = e->stats;
	char mac[PV_MAC_STRLEN], a[16], b[16], c[16], d[16];

	if (u->silent && e->kind != PV_NETBOOT_EV_MODE)
		return;
	switch (e->kind) {
	case PV_NETBOOT_EV_MODE:
		if (u->silent)
			return;
		/* "Boot mode: %s (%02x) order %x": order is what is left after this mode */
		line(u, e->at_ms, "Boot mode: %s (%02x) order %x", mode_name(e->mode), e->mode,
		     e->order >> 4);
		return;
	case PV_NETBOOT_EV_MODE_FAILED:
		if (e->mode == 0x1 || e->mode == 0x0) {
			/* the SD host line of §3 logs, then no card [inferred text] */
			line(u, e->at_ms, "SD HOST: 200000000 CTL0: 0x00800000 BUS: 400000 Hz actual: "
				      "390625 HZ div: 512 (256) status: 0x1fff0000 delay: 276");
			line(u, e->at_ms, "Insert SD-CARD");
		} else {
			line(u, e->at_ms, "%s: no device [inferred]", mode_name(e->mode));
		}
		return;
	case PV_NETBOOT_EV_NET_START:
		if (u->genet)
			line(u, e->at_ms, "GENET: RESET_PHY");
		mac_text(e->mac, mac);
		line(u, e->at_ms, "%s %s wait for link TFTP: 0.0.0.0",
		     u->timestamps ? "NETWORK:" : "NET_BOOT:", mac);
		u->expect_ack = false;
		return;
	case PV_NETBOOT_EV_LINK_UP:
		line(u, e->at_ms, "LINK STATUS: speed: 1000 full duplex");
		if (!u->timestamps)
			line(u, e->at_ms, "Link ready");
		if (u->genet)
			/* "GENET: UMAC_START 0x%08x 0x%08x": the MAC as two words (§3.2) */
			line(u, e->at_ms, "GENET: UMAC_START 0x%02x%02x%02x%02x 0x%02x%02x0000",
			     u->id.mac[0], u->id.mac[1], u->id.mac[2], u->id.mac[3], u->id.mac[4],
			     u->id.mac[5]);
		line(u, e->at_ms, "RX: 0 IP: 0 IPV4: 0 MAC: 0 UDP: 0 UDP RECV: 0 IP_CSUM_ERR: 0 "
			      "UDP_CSUM_ERR: 0");
		return;
	case PV_NETBOOT_EV_DHCP:
		dhcp_lines(u, e);
		if (e->dhcp->type == PV_DHCP_OFFER && e->dhcp->yiaddr)
			u->expect_ack = true; /* [inferred]: the REQUEST follows the address offer */
		return;
	case PV_NETBOOT_EV_NET_CONFIGURED:
		pv_ipv4_format(e->ip, a);
		pv_ipv4_format(e->netmask, b);
		pv_ipv4_format(e->gateway, c);
		pv_ipv4_format(e->server, d);
		line(u, e->at_ms, "NET %s %s gw %s tftp %s", a, b, c, d);
		return;
	case PV_NETBOOT_EV_ARP:
		pv_ipv4_format(e->ip, a);
		mac_text(e->mac, mac);
		line(u, e->at_ms, "ARP %s %s", a, mac);
		if (st)
			line(u, e->at_ms, "RX: %u IP: %u IPV4: %u MAC: %u UDP: %u UDP RECV: %u "
				      "IP_CSUM_ERR: %u UDP_CSUM_ERR: %u", st->rx, 0u, st->ip, st->ip,
			     st->udp, st->udp_delivered, st->ip_checksum_errors,
			     st->udp_checksum_errors);
		return;
	case PV_NETBOOT_EV_TFTP_GET:
		if (e->firmware_stage)
			return;
		pv_ipv4_format(e->server, a);
		mac_text(e->mac, mac);
		line(u, e->at_ms, "TFTP_GET: %s %s %s", mac, a, e->path);
		return;
	case PV_NETBOOT_EV_TFTP_DONE:
		if (!e->firmware_stage)
			tftp_done(u, e);
		return;
	case PV_NETBOOT_EV_FILE_READ:
		if (e->firmware_stage)
			return;
		line(u, e->at_ms, "TFTP: complete %llu", (unsigned long long)e->size);
		line(u, e->at_ms, "TFTP: disconnect: timeouts %u", e->tftp ? e->tftp->timeouts : 0);
		/* "Read %s bytes %8u hnd 0x%x" (synthetic logs, §3.6 "Read 1234578/config.txt
		 * bytes     1166 hnd 0x0") */
		line(u, e->at_ms, "Read %s bytes %8llu hnd 0x0", e->path, (unsigned long long)e->size);
		return;
	case PV_NETBOOT_EV_HANDOVER:
		if (e->role == PV_NETBOOT_ROLE_FIRMWARE)
			u->silent = true;
		return;
	case PV_NETBOOT_EV_CANCEL:
		line(u, e->at_ms, "Stopping network");
		line(u, e->at_ms, "NETBOOT CANCEL");
		return;
	case PV_NETBOOT_EV_NFS:
	case PV_NETBOOT_EV_RESTART:
		return;
	}
}
