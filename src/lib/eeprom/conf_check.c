/* The bootloader property table (data; ../shared/docs/eeprom-format.md §5, from the
 * Raspberry Pi documentation's eeprom-bootloader.adoc) and the checks run on a config:
 * unknown names (warning), bad values and ranges (error), BOOT_ORDER rules per board,
 * section filters, and the size against the image's capacity. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "piprov/eeprom.h"
#include "piprov/eeprom_config.h"
#include "piprov/text.h"
#include "eeprom_conf_internal.h"
#include "banned.h"

enum prop_type {
	T_ANY,        /* known name, value not checked (undocumented properties) */
	T_BOOL,
	T_INT,        /* decimal or 0x-hex, within min..max */
	T_BOOT_ORDER,
	T_STRING,     /* printable, at most max_len characters */
	T_IPV4,
	T_MAC,
	T_CHOICE,     /* one of the comma-separated choices */
	T_HOSTNAME,
	T_VIDPID,     /* up to 4 comma-separated vvvvpppp */
	T_SHA256,
	T_OTP_ROWS,   /* row,row with rows 0..7 */
};

struct prop_def {
	struct pv_eeprom_property pub;
	enum prop_type type;
	size_t max_len;
	const char *choices;
};

/* since: the first release image (by file date) whose bootloader contains the name, per SoC;
 * found by searching every image of ../shared/fixtures/pieeprom (2712 images start in
 * 2023-09, so "2712:2023-09-13" means always). */
#define U32MAX 4294967295LL
#define I32MAX 2147483647LL
#define P(n, t, ty, lo, hi, def, soc, since, sum) \
	{ { n, t, lo, hi, def, soc, since, sum }, ty, 0, NULL }
#define S(n, max, def, soc, since, sum) \
	{ { n, "string", 0, -1, def, soc, since, sum }, T_STRING, max, NULL }

static const struct prop_def props[] = {
	P("BOOT_UART", "bool", T_BOOL, 0, 1, "0", "", "2711:2019-07-15 2712:2023-09-13",
	  "bootloader log on the UART (GPIO 14/15)"),
	{ { "UART_BAUD", "choice", 0, -1, "115200", "2712", "2711:2024-04-17 2712:2023-09-13",
	    "UART speed" }, T_CHOICE, 0,
	  "9600,19200,38400,57600,115200,230400,460800,921600" },
	P("WAKE_ON_GPIO", "int", T_INT, 0, 2, "1", "2711", "2711:2019-07-15 2712:2023-09-13",
	  "wake from halt on GPIO3 (2: Pi 400 button)"),
	P("POWER_OFF_ON_HALT", "bool", T_BOOL, 0, 1, "0", "", "2711:2019-07-15 2712:2023-09-13",
	  "switch the PMIC off on halt"),
	P("WAIT_FOR_POWER_BUTTON", "bool", T_BOOL, 0, 1, "0", "2712",
	  "2711:2025-02-11 2712:2025-01-13",
	  "wait for the power button at power-on"),
	P("BOOT_ORDER", "boot-order", T_BOOT_ORDER, 0, U32MAX, "0xf41", "",
	  "2711:2019-09-23 2712:2023-09-13",
	  "boot modes, lowest nibble first"),
	P("BOOT_WATCHDOG_TIMEOUT", "int", T_INT, 0, I32MAX, "0", "",
	  "2711:2025-07-03 2712:2025-06-20",
	  "seconds before the boot watchdog fires"),
	P("BOOT_WATCHDOG_PARTITION", "int", T_INT, 0, 255, "0", "",
	  "2711:2025-07-03 2712:2025-06-20",
	  "partition tried after a watchdog reset"),
	P("MAX_RESTARTS", "int", T_INT, -1, I32MAX, "-1", "", "2711:2020-05-15 2712:2023-09-13",
	  "RESTART (0xf) loops before giving up"),
	P("REBOOT_ON_FATAL_ERROR", "bool", T_BOOL, 0, 1, "1", "", "2711:2026-04-14 2712:2026-04-14",
	  "reboot after a fatal error"),
	P("SD_BOOT_MAX_RETRIES", "int", T_INT, -1, I32MAX, "0", "",
	  "2711:2019-09-23 2712:2023-09-13",
	  "SD retries (-1: infinite)"),
	P("NET_BOOT_MAX_RETRIES", "int", T_INT, -1, I32MAX, "0", "",
	  "2711:2019-09-23 2712:2023-09-13",
	  "network retries (-1: infinite)"),
	P("USB_MSD_BOOT_MAX_RETRIES", "int", T_INT, -1, I32MAX, "0", "", "2711:2020-05-15",
	  "USB-MSD retries (older releases)"),
	P("SD_OVERCURRENT_CHECK", "bool", T_BOOL, 0, 1, "1", "", "2711:2025-07-03 2712:2025-06-29",
	  "check SD over-current"),
	P("SD_QUIRKS", "int", T_INT, 0, U32MAX, "0", "", "2711:2025-02-11 2712:2025-01-06",
	  "SD quirks bitfield (0x1: no high speed)"),
	P("DHCP_TIMEOUT", "int", T_INT, 5000, I32MAX, "45000", "",
	  "2711:2019-09-23 2712:2023-09-13",
	  "ms for the whole DHCP exchange"),
	P("DHCP_REQ_TIMEOUT", "int", T_INT, 500, I32MAX, "4000", "",
	  "2711:2019-09-23 2712:2023-09-13",
	  "ms per DHCP request"),
	P("TFTP_FILE_TIMEOUT", "int", T_INT, 5000, I32MAX, "30000", "",
	  "2711:2019-09-23 2712:2023-09-13",
	  "ms per TFTP file"),
	P("TFTP_IP", "ipv4", T_IPV4, 0, -1, "", "", "2711:2019-09-23 2712:2023-09-13",
	  "TFTP server (overrides DHCP)"),
	P("TFTP_PREFIX", "int", T_INT, 0, 2, "0", "", "2711:2019-10-08 2712:2023-09-13",
	  "TFTP folder: 0 serial, 1 TFTP_PREFIX_STR, 2 MAC"),
	S("TFTP_PREFIX_STR", 32, "", "", "2711:2019-10-08 2712:2023-09-13",
	  "TFTP folder when TFTP_PREFIX=1"),
	S("PXE_OPTION43", 64, "Raspberry Pi Boot", "", "2711:2020-03-04 2712:2023-09-13",
	  "PXE menu string to match"),
	P("DHCP_OPTION97", "int", T_INT, 0, U32MAX, "0x34695052", "",
	  "2711:2020-03-04 2712:2023-09-13",
	  "client GUID prefix (0: legacy)"),
	P("MAC_ADDRESS", "mac", T_MAC, 0, -1, "", "", "2711:2019-11-18 2712:2023-09-13",
	  "override the Ethernet MAC"),
	P("MAC_ADDRESS_OTP", "otp-rows", T_OTP_ROWS, 0, -1, "", "",
	  "2711:2022-11-02 2712:2023-09-13",
	  "MAC from customer OTP rows"),
	P("CLIENT_IP", "ipv4", T_IPV4, 0, -1, "", "", "2711:2020-03-04 2712:2023-09-13",
	  "static IP (with TFTP_IP: no DHCP)"),
	P("SUBNET", "ipv4", T_IPV4, 0, -1, "", "", "2711:2020-03-04 2712:2023-09-13",
	  "static netmask"),
	P("GATEWAY", "ipv4", T_IPV4, 0, -1, "", "", "2711:2020-03-04 2712:2023-09-13",
	  "static gateway"),
	P("DISABLE_HDMI", "bool", T_BOOL, 0, 1, "0", "", "2711:2020-03-04 2712:2023-09-13",
	  "no HDMI diagnostics screen"),
	P("HDMI_DELAY", "int", T_INT, 0, 3600, "5", "", "2711:2020-10-28 2712:2023-09-13",
	  "seconds before the diagnostics screen"),
	P("ENABLE_SELF_UPDATE", "bool", T_BOOL, 0, 1, "1", "", "2711:2020-03-04 2712:2023-09-13",
	  "bootloader updates itself from the boot partition"),
	P("FREEZE_VERSION", "bool", T_BOOL, 0, 1, "0", "", "2711:2019-09-06 2712:2023-09-13",
	  "rpi-eeprom-update leaves the bootloader alone"),
	P("HTTP_HOST", "hostname", T_HOSTNAME, 0, -1, "fw-download-alias1.raspberrypi.com", "",
	  "2711:2022-02-28 2712:2023-09-13",
	  "HTTP boot server"),
	P("HTTP_PORT", "int", T_INT, 1, 65535, "443", "", "2711:2022-02-28 2712:2023-09-13",
	  "HTTP boot port"),
	S("HTTP_PATH", 255, "net_install", "", "2711:2022-02-28 2712:2023-09-13", "HTTP boot path"),
	P("HTTP_CACERT_HASH", "sha256", T_SHA256, 0, -1, "", "", "2711:2024-04-17 2712:2024-04-05",
	  "sha256 of cacert.der"),
	S("IMAGER_REPO_URL", 255, "", "", "", "Raspberry Pi Imager repository JSON"),
	P("NET_INSTALL_ENABLED", "bool", T_BOOL, 0, 1, "1", "", "2711:2022-02-04 2712:2023-09-13",
	  "network install (shift at power-on)"),
	P("NET_INSTALL_AT_POWER_ON", "bool", T_BOOL, 0, 1, "0", "",
	  "2711:2024-10-10 2712:2024-10-10",
	  "offer network install at power-on"),
	P("NET_INSTALL_KEYBOARD_WAIT", "int", T_INT, 0, I32MAX, "900", "",
	  "2711:2022-02-28 2712:2023-09-13",
	  "ms to wait for a keyboard"),
	S("NETCONSOLE", 32, "", "", "2711:2020-05-15 2712:2023-09-13",
	  "sport@sip/dev,dport@dip/dmac"),
	P("PARTITION", "int", T_INT, 0, 255, "0", "", "2711:2022-02-04 2712:2023-09-13",
	  "boot partition"),
	P("PARTITION_WALK", "bool", T_BOOL, 0, 1, "1", "", "2711:2025-02-11 2712:2025-01-27",
	  "try the next partitions"),
	P("BOOTVAR0", "int", T_INT, 0, U32MAX, "0", "", "2711:2025-07-17 2712:2025-07-17",
	  "value for [bootvar0] filters"),
	P("PCIE_PROBE", "bool", T_BOOL, 0, 1, "0", "2712", "2712:2023-11-20",
	  "probe PCIe for non-HAT NVMe"),
	P("PSU_MAX_CURRENT", "int", T_INT, 0, 10000, "", "2712", "2711:2024-04-17 2712:2023-09-13",
	  "mA the supply can give (3000/5000)"),
	P("USB_MSD_EXCLUDE_VID_PID", "vid-pid", T_VIDPID, 0, -1, "", "",
	  "2711:2020-05-15 2712:2023-09-13",
	  "USB devices not to boot from"),
	P("USB_MSD_DISCOVER_TIMEOUT", "int", T_INT, 5000, I32MAX, "20000", "",
	  "2711:2020-05-15 2712:2023-09-13",
	  "ms to find a USB drive"),
	P("USB_MSD_LUN_TIMEOUT", "int", T_INT, 100, I32MAX, "2000", "",
	  "2711:2020-05-15 2712:2023-09-13",
	  "ms per LUN"),
	P("USB_MSD_PWR_OFF_TIME", "int", T_INT, 0, 5000, "1000", "2711",
	  "2711:2020-06-12 2712:2023-09-13",
	  "ms USB power off before boot"),
	P("USB_MSD_STARTUP_DELAY", "int", T_INT, 0, 30000, "0", "",
	  "2711:2021-06-11 2712:2023-09-13",
	  "ms before USB enumeration"),
	P("VL805", "bool", T_BOOL, 0, 1, "0", "2711", "2711:2020-03-04 2712:2023-09-13",
	  "CM4: VL805 USB controller fitted"),
	P("XHCI_DEBUG", "int", T_INT, 0, 0x7f, "0", "", "2711:2020-05-15 2712:2023-09-13",
	  "xHCI debug bitfield"),
	P("SDRAM_BANKLOW", "int", T_INT, 0, 4, "", "", "2711:2024-10-10 2712:2024-09-23",
	  "SDRAM bank-low setting"),
	/* Seen in the 2026 binaries but undocumented: known names, values unchecked. */
	P("SIGNED_BOOT", "any", T_ANY, 0, -1, "", "", "2711:2021-05-19 2712:2023-09-13",
	  "(undocumented)"),
	P("USE_IPV6", "any", T_ANY, 0, -1, "", "", "2711:2021-09-23 2712:2023-09-13",
	  "(undocumented)"),
	P("DNS_IP", "any", T_ANY, 0, -1, "", "", "2711:2022-02-04 2712:2023-09-13",
	  "(undocumented)"),
	P("USB_DEV_BOOT_MAX_RETRIES", "any", T_ANY, 0, -1, "", "",
	  "2711:2020-03-04 2712:2023-09-13",
	  "(undocumented)"),
	P("USB_DEV_FILE_TIMEOUT", "any", T_ANY, 0, -1, "", "", "2711:2020-03-04 2712:2023-09-13",
	  "(undocumented)"),
	P("NVME_CONTROLLER", "any", T_ANY, 0, -1, "", "", "2711:2024-05-17 2712:2024-05-13",
	  "(undocumented)"),
	P("BOOT_MENU_OPTIONS", "any", T_ANY, 0, -1, "", "", "2711:2024-10-10 2712:2024-10-10",
	  "(undocumented)"),
	P("BOOT_MENU_ENABLED", "any", T_ANY, 0, -1, "", "2712", "2712:2026-08-12",
	  "(undocumented)"),
	P("VC_LOGLEVEL", "any", T_ANY, 0, -1, "", "2712", "2712:2025-09-22", "(undocumented)"),
	P("ETHERNET_PHY", "any", T_ANY, 0, -1, "", "2712", "2712:2025-09-22", "(undocumented)"),
};

/* BOOT_ORDER modes a board needs a feature for (others are valid everywhere). */
static const struct {
	unsigned nibble;
	unsigned feature;
} mode_requirements[] = {
	{ 0x5, PV_BOARD_BCM_USB_MSD },
	{ 0x6, PV_BOARD_HAS_NVME },
};

/* Section filters other than the board models of the board table. */
static const char *const fixed_filters[] = { "all", "none", "config.txt", "tryboot" };
static const char *const prefix_filters[] = { "gpio", "board-type=", "partition=", "bootvar0",
					      "cust_otp", "0x" };

const struct pv_eeprom_property *pv_eeprom_property_at(size_t index)
{
	return index < PV_ARRAY_SIZE(props) ? &props[index].pub : NULL;
}

static const struct prop_def *find_prop(const char *name, size_t len)
{
	for (size_t i = 0; i < PV_ARRAY_SIZE(props); i++)
		if (strlen(props[i].pub.name) == len && memcmp(props[i].pub.name, name, len) == 0)
			return &props[i];
	return NULL;
}

const struct pv_eeprom_property *pv_eeprom_property_find(const char *name)
{
	const struct prop_def *p = find_prop(name, strlen(name));

	return p ? &p->pub : NULL;
}

struct checker {
	struct pv_eeprom_conf_issue *issues;
	size_t n, cap;
	int oom;
	const struct pv_eeprom_conf_target *target;
};

/* status: what a caller that fails on this finding returns (pv_eeprom_conf_check). */
static void PV_PRINTF(5, 0) add_va(struct checker *c, enum pv_eeprom_conf_severity sev,
				   int status, unsigned line, const char *fmt, va_list ap)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct pv_eeprom_conf_issue *grown = realloc(c->issues, cap * sizeof(*grown));
		if (!grown) {
			c->oom = 1;
			return;
		}
		c->issues = grown;
		c->cap = cap;
	}
	c->issues[c->n].severity = sev;
	c->issues[c->n].status = sev == PV_EEPROM_CONF_ERROR ? status : PV_OK;
	c->issues[c->n].line = line;
	vsnprintf(c->issues[c->n].message, sizeof(c->issues[c->n].message), fmt, ap);
	c->n++;
}

static void PV_PRINTF(4, 5) add(struct checker *c, enum pv_eeprom_conf_severity sev,
				unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_va(c, sev, PV_ERR_INVALID, line, fmt, ap);
	va_end(ap);
}

static void PV_PRINTF(5, 6) add_status(struct checker *c, enum pv_eeprom_conf_severity sev,
				       int status, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_va(c, sev, status, line, fmt, ap);
	va_end(ap);
}

static int parse_int(const char *v, int64_t *out)
{
	uint64_t u;

	if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		if (pv_parse_u64(v, 0, &u) != 0 || u > (uint64_t)INT64_MAX)
			return -1;
		*out = (int64_t)u;
		return 0;
	}
	return pv_parse_i64(v, out) == 0 ? 0 : -1;
}

static bool choice_ok(const char *choices, const char *v)
{
	size_t n = strlen(v);

	for (const char *p = choices; *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == n && memcmp(p, v, n) == 0)
			return true;
		p += len + (comma ? 1 : 0);
	}
	return false;
}

static bool vidpid_ok(const char *v)
{
	unsigned count = 0;

	for (const char *p = v; *p;) {
		size_t len = strcspn(p, ",");
		if (len != 8 || ++count > 4)
			return false;
		for (size_t i = 0; i < 8; i++)
			if (!strchr("0123456789abcdefABCDEF", p[i]))
				return false;
		p += len;
		if (*p == ',')
			p++;
	}
	return count > 0;
}

static bool otp_rows_ok(const char *v)
{
	return strlen(v) == 3 && v[0] >= '0' && v[0] <= '7' && v[1] == ',' && v[2] >= '0' &&
	       v[2] <= '7';
}

/* Does some board (the target's, else any of the target SoC's) have the feature? */
static bool feature_available(const struct pv_eeprom_conf_target *t, unsigned feature)
{
	const struct pv_board_type *b;

	if (t->board)
		return (t->board->features & feature) != 0;
	for (size_t i = 0; (b = pv_board_at(i)); i++) {
		if (!(b->features & PV_BOARD_HAS_EEPROM))
			continue;
		if (t->soc && b->soc != t->soc->soc)
			continue;
		if (b->features & feature)
			return true;
	}
	return false;
}

const char *pv_eeprom_conf_target_label(const struct pv_eeprom_conf_target *t)
{
	return !t ? "any board" : t->board ? t->board->name : t->soc ? t->soc->name : "any board";
}

/* The BOOT_ORDER rules (eeprom-format.md §5), shared by validation and by the BOOT_ORDER
 * edits (pv_eeprom_boot_order_require) so that both judge an order alike. strict: a repeated
 * mode is an error (edits never create one); validation only warns, as the bootloader
 * simply tries the mode again. */
static void boot_order_rules(struct checker *c, unsigned line, const char *v, bool strict)
{
	unsigned modes[8], seen = 0;
	uint32_t order;
	size_t n = 0;

	if (!(v[0] == '0' && (v[1] == 'x' || v[1] == 'X'))) {
		add(c, PV_EEPROM_CONF_ERROR, line,
		    "BOOT_ORDER '%s' must be hexadecimal with 0x (e.g. 0xf21)", v);
		return;
	}
	if (strlen(v) > 10 || pv_parse_u32(v, 0, &order) != 0) {
		add(c, PV_EEPROM_CONF_ERROR, line,
		    "BOOT_ORDER '%s': not a hex number of at most 8 modes", v);
		return;
	}
	if (order == 0) {
		add(c, PV_EEPROM_CONF_WARNING, line, "BOOT_ORDER is 0: the default order is used");
		return;
	}
	for (uint32_t o = order; o; o >>= 4)
		modes[n++] = o & 0xf;
	for (size_t i = 0; i < n; i++) {
		const char *name = pv_eeprom_boot_mode_name(modes[i]);
		if (!name) {
			add(c, PV_EEPROM_CONF_ERROR, line,
			    "BOOT_ORDER %s: 0x%x (mode %zu) is not a boot mode", v, modes[i], i + 1);
			continue;
		}
		for (size_t r = 0; r < PV_ARRAY_SIZE(mode_requirements); r++)
			if (mode_requirements[r].nibble == modes[i] &&
			    !feature_available(c->target, mode_requirements[r].feature))
				add_status(c, PV_EEPROM_CONF_ERROR, PV_ERR_UNSUPPORTED, line,
					   "BOOT_ORDER %s: mode 0x%x (%s) is not available on %s", v,
					   modes[i], name, pv_eeprom_conf_target_label(c->target));
		if (modes[i] == 0x0)
			add(c, PV_EEPROM_CONF_WARNING, line,
			    "BOOT_ORDER %s: mode 0x0 (SD card detect) is deprecated", v);
		if (modes[i] == 0x3 && i + 1 < n)
			add(c, PV_EEPROM_CONF_ERROR, line,
			    "BOOT_ORDER %s: RPIBOOT (0x3) must be the last mode", v);
		if ((modes[i] == 0xe || modes[i] == 0xf) && i + 1 < n)
			add(c, PV_EEPROM_CONF_WARNING, line,
			    "BOOT_ORDER %s: modes after %s (0x%x) are never tried", v, name, modes[i]);
		if (seen & (1u << modes[i]))
			add(c, strict ? PV_EEPROM_CONF_ERROR : PV_EEPROM_CONF_WARNING, line,
			    "BOOT_ORDER %s: mode 0x%x (%s) repeats", v, modes[i], name);
		seen |= 1u << modes[i];
	}
}

int pv_eeprom_boot_order_require(const char *name, uint32_t order,
				 const struct pv_eeprom_conf_target *target)
{
	static const struct pv_eeprom_conf_target any = { 0 };
	struct checker c = { 0 };
	const char *label;
	char text[16];
	int rc = PV_OK;

	c.target = target ? target : &any;
	label = pv_eeprom_conf_target_label(c.target);
	snprintf(text, sizeof(text), "0x%x", order);
	boot_order_rules(&c, 0, text, true);
	if (c.oom)
		rc = pv_fail(PV_ERR_NOMEM, "eeprom", "out of memory");
	for (size_t i = 0; rc == PV_OK && i < c.n; i++)
		if (c.issues[i].severity == PV_EEPROM_CONF_ERROR)
			rc = pv_fail(c.issues[i].status, "eeprom", "'%s': %s%s%s", name,
				     c.issues[i].message, strstr(c.issues[i].message, label) ? "" : " on ",
				     strstr(c.issues[i].message, label) ? "" : label);
	free(c.issues);
	return rc;
}

static void check_value(struct checker *c, unsigned line, const struct prop_def *p,
			const char *v)
{
	const char *name = p->pub.name;
	int64_t num;
	uint32_t ip;
	uint8_t mac[6];

	switch (p->type) {
	case T_ANY:
		return;
	case T_BOOL:
		if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
			add(c, PV_EEPROM_CONF_ERROR, line, "%s must be 0 or 1, not '%s'", name, v);
		return;
	case T_INT:
		if (parse_int(v, &num) != 0)
			add(c, PV_EEPROM_CONF_ERROR, line, "%s: '%s' is not a number", name, v);
		else if (num < p->pub.min || num > p->pub.max)
			add(c, PV_EEPROM_CONF_ERROR, line, "%s=%s is out of range %lld..%lld", name,
			    v, (long long)p->pub.min, (long long)p->pub.max);
		return;
	case T_BOOT_ORDER:
		boot_order_rules(c, line, v, false);
		return;
	case T_STRING:
		if (strlen(v) > p->max_len)
			add(c, PV_EEPROM_CONF_ERROR, line, "%s is %zu characters; at most %zu", name,
			    strlen(v), p->max_len);
		return;
	case T_IPV4:
		if (*v && pv_ipv4_parse(v, &ip) != 0)
			add(c, PV_EEPROM_CONF_ERROR, line, "%s: '%s' is not an IPv4 address", name, v);
		return;
	case T_MAC:
		if (*v && pv_mac_parse(v, mac) != 0)
			add(c, PV_EEPROM_CONF_ERROR, line, "%s: '%s' is not a MAC address", name, v);
		return;
	case T_CHOICE:
		if (!choice_ok(p->choices, v))
			add(c, PV_EEPROM_CONF_ERROR, line, "%s must be one of %s, not '%s'", name,
			    p->choices, v);
		return;
	case T_HOSTNAME:
		if (*v && !pv_hostname_valid(v))
			add(c, PV_EEPROM_CONF_ERROR, line, "%s: '%s' is not a host name", name, v);
		return;
	case T_VIDPID:
		if (*v && !vidpid_ok(v))
			add(c, PV_EEPROM_CONF_ERROR, line,
			    "%s: '%s' must be up to 4 comma-separated vvvvpppp hex ids", name, v);
		return;
	case T_SHA256:
		if (*v && (strlen(v) != 64 || strspn(v, "0123456789abcdefABCDEF") != 64))
			add(c, PV_EEPROM_CONF_ERROR, line, "%s must be 64 hex digits (sha256)", name);
		return;
	case T_OTP_ROWS:
		if (*v && !otp_rows_ok(v))
			add(c, PV_EEPROM_CONF_ERROR, line, "%s: '%s' must be two OTP rows 'r,r' (0-7)",
			    name, v);
		return;
	}
}

/* Release date "YYYY-MM-DD" following "CHIP:" in since, as seconds since the epoch. */
static bool since_for(const char *since, const char *chip, int64_t *when, char date[11])
{
	const char *at = strstr(since, chip);
	struct tm tm = { 0 };
	uint32_t y, m, d;
	char part[5];

	if (!at || at[strlen(chip)] != ':' || strlen(at) < strlen(chip) + 11)
		return false;
	at += strlen(chip) + 1;
	memcpy(date, at, 10);
	date[10] = '\0';
	memcpy(part, at, 4);
	part[4] = '\0';
	if (pv_parse_u32(part, 10, &y) != 0)
		return false;
	memcpy(part, at + 5, 2);
	part[2] = '\0';
	if (pv_parse_u32(part, 10, &m) != 0)
		return false;
	memcpy(part, at + 8, 2);
	if (pv_parse_u32(part, 10, &d) != 0)
		return false;
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)m - 1;
	tm.tm_mday = (int)d;
	*when = (int64_t)timegm(&tm);
	return true;
}

/* A property newer than the target image's bootloader is silently ignored by it. Release
 * files are named after their date and built up to days earlier: allow two weeks. */
static void check_since(struct checker *c, unsigned line, const struct prop_def *p)
{
	const int64_t slack = 14 * 86400;
	int64_t when;
	char date[11], built[11];
	time_t bt;
	struct tm tm;

	if (!c->target->soc || !c->target->build_timestamp ||
	    !since_for(p->pub.since, c->target->soc->chip, &when, date))
		return;
	if ((int64_t)c->target->build_timestamp + slack >= when)
		return;
	bt = (time_t)c->target->build_timestamp;
	if (!gmtime_r(&bt, &tm) || !strftime(built, sizeof(built), "%Y-%m-%d", &tm))
		return;
	add(c, PV_EEPROM_CONF_WARNING, line,
	    "%s is not known to this bootloader (built %s; first in the %s release)",
	    p->pub.name, built, date);
}

static bool known_filter(const char *f, size_t n)
{
	const struct pv_board_type *b;

	for (size_t i = 0; i < PV_ARRAY_SIZE(fixed_filters); i++)
		if (strlen(fixed_filters[i]) == n && memcmp(fixed_filters[i], f, n) == 0)
			return true;
	for (size_t i = 0; i < PV_ARRAY_SIZE(prefix_filters); i++)
		if (n > strlen(prefix_filters[i]) &&
		    memcmp(prefix_filters[i], f, strlen(prefix_filters[i])) == 0)
			return true;
	for (size_t i = 0; (b = pv_board_at(i)); i++) {
		const char *cf = b->config_filter; /* "[pi4]" */
		if (cf && strlen(cf) == n + 2 && memcmp(cf + 1, f, n) == 0)
			return true;
	}
	return false;
}

static void check_line(struct checker *c, const struct pv_conf_line *l, unsigned lineno)
{
	const struct prop_def *p;

	switch (l->kind) {
	case PV_CONF_LINE_BLANK:
	case PV_CONF_LINE_COMMENT:
		return;
	case PV_CONF_LINE_SECTION: {
		const char *t = l->text + strspn(l->text, " \t");
		const char *close = strrchr(t, ']');
		size_t n = close ? (size_t)(close - t - 1) : 0;
		if (!known_filter(t + 1, n))
			add(c, PV_EEPROM_CONF_WARNING, lineno, "unknown section filter '%.*s'",
			    (int)(n > 64 ? 64 : n) + 2, t);
		return;
	}
	case PV_CONF_LINE_OTHER:
		if (memchr(l->text, '=', l->len))
			add(c, PV_EEPROM_CONF_WARNING, lineno,
			    "not NAME=value (no spaces around '='): ignored by the bootloader");
		else
			add(c, PV_EEPROM_CONF_WARNING, lineno,
			    "not a property, comment or section: ignored by the bootloader");
		return;
	case PV_CONF_LINE_ASSIGN:
		break;
	}
	p = find_prop(l->text, l->key_len);
	if (!p) {
		add(c, PV_EEPROM_CONF_WARNING, lineno, "unknown property '%.*s'",
		    (int)(l->key_len > 64 ? 64 : l->key_len), l->text);
		return;
	}
	if (p->pub.socs[0] && c->target->soc && strcmp(p->pub.socs, c->target->soc->chip) != 0)
		add(c, PV_EEPROM_CONF_WARNING, lineno, "%s is not used on %s", p->pub.name,
		    c->target->soc->name);
	else
		check_since(c, lineno, p);
	check_value(c, lineno, p, l->value ? l->value : "");
}

int pv_eeprom_conf_validate(const struct pv_eeprom_conf *conf,
			    const struct pv_eeprom_conf_target *target,
			    struct pv_eeprom_conf_issue **issues, size_t *count)
{
	static const struct pv_eeprom_conf_target any = { 0 };
	struct checker c = { 0 };
	size_t size = 0, capacity, section_start = 0;

	c.target = target ? target : &any;
	for (size_t i = 0; i < conf->n; i++) {
		const struct pv_conf_line *l = &conf->lines[i];
		const char *nul = memchr(l->text, 0, l->len);

		size += l->len + strlen(l->eol);
		if (nul) /* whatever its scope: the engine refuses to write such a config */
			add(&c, PV_EEPROM_CONF_ERROR, (unsigned)(i + 1),
			    "a NUL byte at column %zu: bootconf.txt must be text",
			    (size_t)(nul - l->text) + 1);
		if (l->scope == PV_CONF_SCOPE_CONFIG_TXT || l->scope == PV_CONF_SCOPE_NONE) {
			if (l->kind == PV_CONF_LINE_SECTION && l->scope == PV_CONF_SCOPE_NONE)
				section_start = i;
			continue;
		}
		if (l->kind == PV_CONF_LINE_SECTION)
			section_start = i;
		check_line(&c, l, (unsigned)(i + 1));
		if (l->kind == PV_CONF_LINE_ASSIGN) {
			for (size_t j = section_start; j < i; j++) {
				const struct pv_conf_line *e = &conf->lines[j];
				if (e->kind == PV_CONF_LINE_ASSIGN && e->key_len == l->key_len &&
				    memcmp(e->text, l->text, l->key_len) == 0) {
					add(&c, PV_EEPROM_CONF_WARNING, (unsigned)(i + 1),
					    "%.*s is already set on line %zu; this one wins",
					    (int)(l->key_len > 64 ? 64 : l->key_len), l->text, j + 1);
					break;
				}
			}
		}
	}
	capacity = c.target->capacity ? c.target->capacity : PV_EEPROM_MAX_FILE_SIZE;
	if (size > capacity)
		add_status(&c, PV_EEPROM_CONF_ERROR, PV_ERR_NO_SPACE, 0,
			   "the config is %zu bytes; this image has room for %zu bytes", size,
			   capacity);
	if (c.oom) {
		free(c.issues);
		return pv_fail(PV_ERR_NOMEM, "eeprom", "out of memory");
	}
	*issues = c.issues;
	*count = c.n;
	return PV_OK;
}

size_t pv_eeprom_conf_errors(const struct pv_eeprom_conf_issue *issues, size_t count)
{
	size_t errors = 0;

	for (size_t i = 0; i < count; i++)
		if (issues[i].severity == PV_EEPROM_CONF_ERROR)
			errors++;
	return errors;
}

int pv_eeprom_conf_check(const struct pv_eeprom_conf *conf,
			 const struct pv_eeprom_conf_target *target, struct pv_buf *warnings)
{
	struct pv_eeprom_conf_issue *issues = NULL;
	size_t n = 0;
	int rc = pv_eeprom_conf_validate(conf, target, &issues, &n);

	for (size_t i = 0; rc == PV_OK && i < n; i++) {
		const struct pv_eeprom_conf_issue *is = &issues[i];
		if (is->severity == PV_EEPROM_CONF_ERROR)
			rc = is->line ? pv_fail(is->status, "eeprom", "'%s': line %u: %s", conf->name,
						is->line, is->message)
				      : pv_fail(is->status, "eeprom", "'%s': %s", conf->name,
						is->message);
	}
	for (size_t i = 0; rc == PV_OK && warnings && i < n; i++) {
		const struct pv_eeprom_conf_issue *is = &issues[i];
		int wrc = is->line ? pv_buf_appendf(warnings, "%s: line %u: %s\n", conf->name,
						    is->line, is->message)
				   : pv_buf_appendf(warnings, "%s: %s\n", conf->name, is->message);
		if (wrc)
			rc = pv_fail(wrc, "eeprom", "'%s': too many warnings", conf->name);
	}
	free(issues);
	return rc;
}
