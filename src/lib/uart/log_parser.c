/* Streaming parser of the Raspberry Pi bootloader serial log (BOOT_UART=1).
 *
 * Bytes are cut into lines here (LF, CR or CRLF; noise dropped; over-long lines ignored),
 * then each line is matched against the few formats the bootloader prints (see
 * docs/uart.md for the list and the sources). Nothing is allocated per line and nothing
 * depends on how the input was split, so a serial stream and a file give the same report.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "piprov/fileio.h"
#include "piprov/uart.h"
#include "internal.h"
#include "banned.h"

/* What one network boot attempt ("Boot mode: NETWORK" up to the next "Boot mode:") showed.
 * Kept apart from the report because a failed attempt followed by "Boot mode: SD" must
 * still explain the failure. */
struct net_attempt {
	bool active;            /* a network attempt was seen in this boot */
	bool implied;           /* started by a network line, before any "Boot mode:" */
	bool waited_for_link;
	bool link_up;
	unsigned dhcp_offers;
	bool pxe_option_seen;
	bool dhcp_done;         /* "NET <ip> ... tftp <ip>" or a DHCP ACK */
	bool arp_reply;         /* "ARP <server ip> <server mac>": the server answered ARP */
	bool tftp_requested;    /* a TFTP_GET */
	bool request_open;      /* the latest TFTP_GET has had no answer yet */
	bool loaded;            /* a boot file arrived */
	bool not_found;         /* a file the boot needs was missing */
	bool not_found_unprefixed; /* ... even at the TFTP root: no fallback left */
	bool tftp_error;
	bool timeout;
	bool cancelled;         /* NETBOOT CANCEL */
	bool init_failed;
	bool abandoned;         /* the bootloader went on to another boot mode */
	bool incompatible;      /* the firmware that arrived refused this board */
	bool gave_up;           /* "Firmware not found": no fallback left */
	bool read_any;          /* bootcode.bin read a file over TFTP ("Read File:") */
	char last_path[PV_UART_PATH_MAX];
};

struct pv_uart_parser {
	struct pv_uart_report report;
	struct net_attempt net;
	bool current_mode_is_network; /* the latest "Boot mode:" (or an implied one) */
	enum pv_uart_reason prev_failure; /* why an earlier attempt of this boot failed */
	bool bootsys_pending;   /* a BOOTSYS header whose BOOTLOADER twin is still to come */
	bool mac_from_primary;  /* mac came from NET_BOOT/NETWORK, not a cross-check source */
	bool in_options;        /* inside an "OPTIONS:-" block of a DHCP packet dump */
	int attempt;            /* report.attempts index of the mode under way, -1 when none */
	/* the latest "Boot mode:" line (report.boot_mode names the verdict's mode at finish) */
	bool mode_seen;
	char latest_mode[16];
	int latest_code;
	char latest_order[17];
	/* the mode of the latest network attempt, for report.boot_mode at finish */
	bool net_mode_set;
	char net_mode[16];
	int net_code;
	char net_order[17];
	bool line_too_long;
	size_t line_len;
	char line[PV_UART_LINE_MAX + 1];
	pv_uart_line_fn line_fn;
	void *line_user;
	pv_uart_board_fn board_fn;
	void *board_user;
	/* the report as it was when the latest boot began, for board_fn */
	struct pv_uart_report before_boot;
};

/* Byte classes for the line splitter. */
enum { BYTE_TEXT = 0, BYTE_EOL = 1, BYTE_NOISE = 2, BYTE_TAB = 3 };

static unsigned char byte_class(unsigned char c)
{
	if (c == '\n' || c == '\r')
		return BYTE_EOL;
	if (c == '\t')
		return BYTE_TAB;
	if (c < 0x20 || c > 0x7e)
		return BYTE_NOISE;
	return BYTE_TEXT;
}

/* ---- small matchers over a NUL-terminated line ---- */

static bool starts_with_n(const char *s, const char *prefix, size_t n)
{
	return strncmp(s, prefix, n) == 0;
}

/* If *p starts with lit, step over it. */
static bool take_n(const char **p, const char *lit, size_t n)
{
	if (strncmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

/* For string literals: the length is known at compile time (this runs for every line). */
#define starts_with(s, lit) starts_with_n((s), "" lit, sizeof(lit) - 1)
#define take(p, lit) take_n((p), "" lit, sizeof(lit) - 1)

static void skip_spaces(const char **p)
{
	while (**p == ' ')
		(*p)++;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Copy the next space-delimited token (after spaces) into out; false when empty or longer
 * than size-1 (the line is then not the format we thought). */
static bool take_token(const char **p, char *out, size_t size)
{
	size_t n = 0;

	skip_spaces(p);
	while ((*p)[n] && (*p)[n] != ' ')
		n++;
	if (n == 0 || n >= size)
		return false;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return true;
}

/* Hex number of 1..max_digits digits, optional 0x. */
static bool take_hex(const char **p, unsigned max_digits, uint64_t *value)
{
	const char *s = *p;
	uint64_t v = 0;
	unsigned n = 0;

	skip_spaces(&s);
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && is_hex(s[2]))
		s += 2;
	while (is_hex(s[n])) {
		if (n == max_digits)
			return false;
		char c = s[n];
		v = v * 16 + (unsigned)(is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
		n++;
	}
	if (n == 0 || (s[n] && s[n] != ' '))
		return false;
	*value = v;
	*p = s + n;
	return true;
}

static bool take_decimal(const char **p, uint64_t *value)
{
	const char *s = *p;
	uint64_t v = 0;
	unsigned n = 0;

	skip_spaces(&s);
	while (is_digit(s[n])) {
		if (n == 19)
			return false;
		v = v * 10 + (unsigned)(s[n] - '0');
		n++;
	}
	if (n == 0)
		return false;
	*value = v;
	*p = s + n;
	return true;
}

/* An IPv4 or IPv6 address token, validated. */
static bool take_address(const char **p, char out[PV_UART_ADDR_MAX])
{
	char token[PV_UART_ADDR_MAX];
	unsigned char bin[16];
	const char *s = *p;

	if (!take_token(&s, token, sizeof(token)))
		return false;
	if (inet_pton(AF_INET, token, bin) != 1 && inet_pton(AF_INET6, token, bin) != 1)
		return false;
	pv_strlcpy(out, token, PV_UART_ADDR_MAX);
	*p = s;
	return true;
}

/* A MAC token printed by the bootloader's %e ("dc:a6:32:09:f8:c4"). */
static bool take_mac(const char **p, char out[PV_MAC_STRLEN])
{
	char token[PV_MAC_STRLEN];
	const char *s = *p;

	if (!take_token(&s, token, sizeof(token)) || strlen(token) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		char c = token[i];

		if (i % 3 == 2 ? c != ':' : !is_hex(c))
			return false;
		out[i] = (char)(c >= 'A' && c <= 'F' ? c | 0x20 : c);
	}
	out[17] = '\0';
	*p = s;
	return true;
}

/* A path token: printable, no spaces, bounded. */
static bool take_path(const char **p, char out[PV_UART_PATH_MAX])
{
	return take_token(p, out, PV_UART_PATH_MAX);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Files whose arrival means the network boot worked: the VideoCore firmware (Pi 4), the
 * kernel or a boot image (Pi 5 has its firmware in the EEPROM). */
static bool is_boot_payload(const char *path)
{
	const char *name = base_name(path);

	return (starts_with(name, "start") && ends_with(name, ".elf")) ||
	       (starts_with(name, "kernel") && ends_with(name, ".img")) ||
	       strcmp(name, "boot.img") == 0;
}

/* Files the bootloader asks for only to see whether they exist: their absence is normal
 * (EEPROM/VL805 self-update, recovery, signed boot, tryboot). */
static bool is_optional_probe(const char *path)
{
	static const char *const names[] = {
		"pieeprom.upd", "pieeprom.bin", "recovery.bin", "recover4.elf", "recovery.elf",
		"vl805.bin", "fixup4rc.dat", "fixup_rc.dat", "autoboot.txt", "tryboot.txt",
	};
	const char *name = base_name(path);

	if (ends_with(name, ".sig"))
		return true;
	for (size_t i = 0; i < PV_ARRAY_SIZE(names); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

static bool contains_ci(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);

	for (; *haystack; haystack++)
		if (strncasecmp(haystack, needle, n) == 0)
			return true;
	return false;
}

/* Lower-case hex of value with at least min_digits digits into out (size >= 17). Written by
 * hand because snprintf dominated the profile: headers come twice per boot. */
static void format_hex(uint64_t value, unsigned min_digits, char *out)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	unsigned n = 0;

	do {
		tmp[n++] = digits[value & 0xf];
		value >>= 4;
	} while (value && n < sizeof(tmp));
	while (n < min_digits && n < sizeof(tmp))
		tmp[n++] = '0';
	for (unsigned i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
}

/* Copy len bytes of src as a string into out of size bytes (truncating). */
static void copy_span(char *out, size_t size, const char *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(out, src, len);
	out[len] = '\0';
}

/* ---- report state changes ---- */

static enum pv_uart_reason failure_reason(const struct net_attempt *net);

static bool attempt_failed(const struct net_attempt *net)
{
	return net->active && !net->loaded &&
	       (net->cancelled || net->init_failed || net->abandoned || net->not_found ||
		net->tftp_error || net->timeout || net->incompatible);
}

/* Mode 2 is NETWORK (TFTP) in every bootloader release; RESTART (0xf) and STOP (0xe) are
 * no boot modes but steps of BOOT_ORDER. */
#define MODE_NETWORK 2
#define MODE_STOP 0xe
#define MODE_RESTART 0xf

static bool attempt_is_network(const struct pv_uart_attempt *a)
{
	return a->mode_code == MODE_NETWORK || strcmp(a->mode, "NETWORK") == 0;
}

static bool network_outcome(const struct pv_uart_parser *ps, bool closing, bool with_earlier,
			    enum pv_uart_result *result, enum pv_uart_reason *reason);

/* The outcome of the attempt under way: settled (closing: the bootloader left it) or as far
 * as the log goes. */
static void attempt_settle(struct pv_uart_parser *ps, bool closing)
{
	struct pv_uart_attempt *a;

	if (ps->attempt < 0)
		return;
	a = &ps->report.attempts[ps->attempt];
	a->failed_path[0] = '\0';
	if (attempt_is_network(a)) {
		network_outcome(ps, closing, false, &a->result, &a->reason);
		if (a->result == PV_UART_RESULT_FAILED &&
		    (a->reason == PV_UART_REASON_TFTP_NOT_FOUND ||
		     a->reason == PV_UART_REASON_TFTP_ERROR ||
		     a->reason == PV_UART_REASON_TFTP_TIMEOUT ||
		     a->reason == PV_UART_REASON_FIRMWARE_INCOMPATIBLE))
			pv_strlcpy(a->failed_path, ps->report.failed_path, sizeof(a->failed_path));
	} else if (closing && a->mode_code != MODE_RESTART && a->mode_code != MODE_STOP) {
		a->result = PV_UART_RESULT_FAILED;
		a->reason = PV_UART_REASON_MOVED_ON;
	} else {
		a->result = PV_UART_RESULT_NOT_NETWORK;
		a->reason = PV_UART_REASON_NONE;
	}
}

/* A new mode begins: the one under way is settled, the new one listed (or counted). */
static void attempt_open(struct pv_uart_parser *ps, const char *mode, int code, const char *order)
{
	struct pv_uart_report *r = &ps->report;
	struct pv_uart_attempt *a;

	attempt_settle(ps, true);
	ps->attempt = -1;
	if (r->attempt_count == PV_UART_ATTEMPTS_MAX) {
		r->attempts_dropped++;
		return;
	}
	ps->attempt = (int)r->attempt_count++;
	a = &r->attempts[ps->attempt];
	memset(a, 0, sizeof(*a));
	pv_strlcpy(a->mode, mode, sizeof(a->mode));
	a->mode_code = code;
	pv_strlcpy(a->order, order, sizeof(a->order));
	a->result = PV_UART_RESULT_INCOMPLETE;
	a->first_path = r->tftp_path_count;
}

static void start_attempt(struct pv_uart_parser *ps)
{
	struct pv_uart_report *r = &ps->report;

	/* A retry must not erase why the previous attempt failed: it is the best explanation
	 * while the new attempt has not failed on its own. */
	if (attempt_failed(&ps->net)) {
		ps->prev_failure = failure_reason(&ps->net);
	} else if (ps->net.implied) {
		r->network_attempts--; /* the "Boot mode:" line names the attempt under way */
	} else if (ps->net.active) {
		ps->prev_failure = PV_UART_REASON_NONE;
		r->failed_path[0] = r->tftp_error[0] = '\0';
	}
	memset(&ps->net, 0, sizeof(ps->net));
	ps->net.active = true;
	r->network_attempts++;
	ps->net_mode_set = true;
	pv_strlcpy(ps->net_mode, ps->mode_seen ? ps->latest_mode : "NETWORK", sizeof(ps->net_mode));
	ps->net_code = ps->mode_seen ? ps->latest_code : -1;
	pv_strlcpy(ps->net_order, ps->mode_seen ? ps->latest_order : "", sizeof(ps->net_order));
	r->dhcp_offers = 0;
	r->pxe_option_seen = false;
	r->link_up = false;
}

static void compute_verdict(const struct pv_uart_parser *ps, enum pv_uart_result *result,
			    enum pv_uart_reason *reason, bool *final);

/* A new bootloader start: everything but the board's identity and the stream counters. */
static void start_boot(struct pv_uart_parser *ps)
{
	struct pv_uart_report *r = &ps->report;

	if (ps->board_fn && r->have_serial) {
		bool final;

		/* kept in case the new boot turns out to be another board's (set_serial) */
		ps->before_boot = *r;
		compute_verdict(ps, &ps->before_boot.result, &ps->before_boot.reason, &final);
	}

	r->boot_mode[0] = '\0';
	r->boot_mode_code = -1;
	r->boot_order[0] = '\0';
	r->client_ip[0] = r->netmask[0] = r->gateway[0] = '\0';
	r->tftp_server[0] = r->dhcp_server[0] = '\0';
	r->dhcp_offers = 0;
	r->pxe_option_seen = false;
	r->link_up = false;
	r->tftp_path_count = 0;
	r->tftp_paths_dropped = 0;
	r->tftp_prefix[0] = '\0';
	r->network_attempts = 0;
	r->result = PV_UART_RESULT_UNKNOWN;
	r->reason = PV_UART_REASON_NONE;
	r->failed_path[0] = r->tftp_error[0] = r->loaded_path[0] = '\0';
	r->fell_back_to_root = false;
	r->boots++;
	memset(&ps->net, 0, sizeof(ps->net));
	ps->prev_failure = PV_UART_REASON_NONE;
	ps->current_mode_is_network = false;
	ps->in_options = false;
	r->attempt_count = r->attempts_dropped = 0;
	ps->attempt = -1;
	ps->mode_seen = ps->net_mode_set = false;
}

/* The serial of the board that is printing; a different one means another board is on the
 * line now (adapter moved), so nothing known about the previous one applies. */
static void set_serial(struct pv_uart_parser *ps, uint32_t serial)
{
	struct pv_uart_report *r = &ps->report;

	if (r->have_serial && r->serial != serial) {
		if (ps->board_fn && ps->before_boot.have_serial && ps->before_boot.serial == r->serial)
			ps->board_fn(&ps->before_boot, ps->board_user);
		r->mac[0] = '\0';
		r->mac_mismatch = false;
		ps->mac_from_primary = false;
		r->boardrev = 0;
		r->boardrev_text[0] = '\0';
	}
	r->have_serial = true;
	r->serial = serial;
	format_hex(serial, 8, r->serial8);
}

static void set_boardrev(struct pv_uart_report *r, uint32_t boardrev)
{
	if (boardrev == 0)
		return;
	r->boardrev = boardrev;
	format_hex(boardrev, 1, r->boardrev_text);
}

static void set_mac(struct pv_uart_parser *ps, const char *mac, bool primary)
{
	struct pv_uart_report *r = &ps->report;

	if (r->mac[0] && strcmp(r->mac, mac) != 0) {
		r->mac_mismatch = true;
		if (!primary || ps->mac_from_primary)
			return; /* keep the authoritative NET_BOOT value */
	}
	if (primary || !r->mac[0]) {
		pv_strlcpy(r->mac, mac, sizeof(r->mac));
		ps->mac_from_primary = ps->mac_from_primary || primary;
	}
}

/* Whether network lines belong to a network attempt: the latest "Boot mode:" said NETWORK,
 * or the log was captured from the middle of a boot and has no "Boot mode:" line yet. Other
 * modes that use the network (HTTP) are not TFTP boots and are left out. */
static bool in_network_attempt(struct pv_uart_parser *ps)
{
	if (ps->current_mode_is_network)
		return true;
	if (ps->mode_seen)
		return false;
	ps->current_mode_is_network = true;
	attempt_open(ps, "NETWORK", -1, "");
	start_attempt(ps);
	ps->net.implied = true;
	return true;
}

/* ---- line handlers ---- */

/* "RPi: BOOTSYS release VERSION:5f18ffb6 DATE: 2024/07/30 TIME: 14:02:35" and the old
 * one-line form that continues with " BOOTMODE: 0x00000006 part: 0 BUILD_TIMESTAMP=...
 * 0x<serial> 0x<boardrev> 0x<stc>". */
static void parse_identity_fields(struct pv_uart_parser *ps, const char *line);

static void on_header(struct pv_uart_parser *ps, const char *p)
{
	struct pv_uart_report *r = &ps->report;
	bool bootsys;
	const char *v, *date, *time_field;
	uint64_t version;

	skip_spaces(&p);
	bootsys = starts_with(p, "BOOTSYS");
	if (!(bootsys || starts_with(p, "BOOTLOADER") || starts_with(p, "RECOVERY")))
		return;
	/* The BOOTLOADER header right after a BOOTSYS one (no boot mode in between) is the
	 * same boot printed twice. */
	if (!(ps->bootsys_pending && !bootsys))
		start_boot(ps);
	ps->bootsys_pending = bootsys;

	v = strstr(p, "VERSION:");
	if (v) {
		v += strlen("VERSION:");
		if (take_hex(&v, 8, &version))
			format_hex(version, 8, r->bootloader_version);
	}
	date = strstr(p, "DATE: ");
	time_field = strstr(p, " TIME: ");
	if (date && time_field && time_field > date) {
		char time_text[16];
		const char *t = time_field + strlen(" TIME: ");
		size_t date_len = (size_t)(time_field - (date + strlen("DATE: ")));

		if (date_len < 16 && take_token(&t, time_text, sizeof(time_text))) {
			/* "DATE TIME": both parts are bounded (16 + 1 + 16 <= 32 with the NUL) */
			copy_span(r->bootloader_date, sizeof(r->bootloader_date),
				  date + strlen("DATE: "), date_len);
			r->bootloader_date[date_len] = ' ';
			copy_span(r->bootloader_date + date_len + 1,
				  sizeof(r->bootloader_date) - date_len - 1, time_text,
				  strlen(time_text));
		}
	}
	r->recognised = true;
	r->format = PV_UART_FORMAT_BOOTLOADER;
	if (strstr(p, "BOOTMODE:"))
		parse_identity_fields(ps, p);
}

/* BUILD_TIMESTAMP, serial and boardrev from either header form. */
static void parse_identity_fields(struct pv_uart_parser *ps, const char *line)
{
	struct pv_uart_report *r = &ps->report;
	const char *p = strstr(line, "BUILD_TIMESTAMP=");
	uint64_t ts, serial, boardrev, stc;

	if (!p)
		return;
	p += strlen("BUILD_TIMESTAMP=");
	if (!take_decimal(&p, &ts))
		return;
	r->build_timestamp = ts;
	r->recognised = true;
	skip_spaces(&p);
	if (take(&p, "serial ")) {
		/* 2024+: "serial f0560721 boardrev c03141 stc 511954" */
		if (!take_hex(&p, 8, &serial))
			return;
		set_serial(ps, (uint32_t)serial);
		skip_spaces(&p);
		if (take(&p, "boardrev ") && take_hex(&p, 8, &boardrev))
			set_boardrev(r, (uint32_t)boardrev);
	} else if (take_hex(&p, 8, &serial) && take_hex(&p, 8, &boardrev) &&
		   take_hex(&p, 8, &stc)) {
		/* old: "0x6e87a417 0x00b03111 0x00050f94" (serial, boardrev, stc) */
		set_serial(ps, (uint32_t)serial);
		set_boardrev(r, (uint32_t)boardrev);
	}
}

/* "Boot mode: NETWORK (02) order f41" */
static void on_boot_mode(struct pv_uart_parser *ps, const char *p)
{
	struct pv_uart_report *r = &ps->report;
	char name[sizeof(r->boot_mode)];
	char code_text[8];
	const char *c = code_text;
	uint64_t code, order_value;
	size_t n;

	if (!take_token(&p, name, sizeof(name)) || !take_token(&p, code_text, sizeof(code_text)))
		return;
	/* "(02)": drop the closing parenthesis so take_hex sees the digits alone */
	n = strlen(code_text);
	if (n < 3 || code_text[n - 1] != ')' || !take(&c, "("))
		return;
	code_text[n - 1] = '\0';
	if (!take_hex(&c, 2, &code))
		return;
	pv_strlcpy(r->boot_mode, name, sizeof(r->boot_mode));
	r->boot_mode_code = (int)code;
	r->boot_order[0] = '\0';
	skip_spaces(&p);
	if (take(&p, "order ")) {
		const char *o = p;

		if (take_hex(&o, 16, &order_value))
			copy_span(r->boot_order, sizeof(r->boot_order), p, (size_t)(o - p));
	}
	r->recognised = true;
	ps->bootsys_pending = false;
	ps->in_options = false;
	ps->mode_seen = true;
	pv_strlcpy(ps->latest_mode, r->boot_mode, sizeof(ps->latest_mode));
	ps->latest_code = r->boot_mode_code;
	pv_strlcpy(ps->latest_order, r->boot_order, sizeof(ps->latest_order));
	if (ps->current_mode_is_network && code != MODE_NETWORK)
		ps->net.abandoned = true;
	if (ps->net.implied && ps->attempt >= 0 && code == MODE_NETWORK) {
		/* the network lines before it were this attempt's: it gets its name */
		struct pv_uart_attempt *a = &r->attempts[ps->attempt];

		pv_strlcpy(a->mode, name, sizeof(a->mode));
		a->mode_code = (int)code;
		pv_strlcpy(a->order, r->boot_order, sizeof(a->order));
	} else {
		attempt_open(ps, name, (int)code, r->boot_order);
	}
	ps->current_mode_is_network = code == MODE_NETWORK;
	if (ps->current_mode_is_network)
		start_attempt(ps);
}

/* "NET_BOOT: dc:a6:32:09:f8:c4 wait for link TFTP: 0.0.0.0" ("NETWORK:"; colon optional) */
static void on_net_boot(struct pv_uart_parser *ps, const char *p)
{
	char mac[PV_MAC_STRLEN];

	take(&p, ":");
	if (!take_mac(&p, mac))
		return;
	set_mac(ps, mac, true);
	ps->report.recognised = true;
	if (in_network_attempt(ps))
		ps->net.waited_for_link = true;
}

/* "NET 192.168.20.100 255.255.255.0 gw 0.0.0.0 tftp 192.168.20.105" or the IPv6 form
 * "NET fd49:869:6f93::1000 tftp fd49:869:6f93::1". */
static void on_net_config(struct pv_uart_parser *ps, const char *p)
{
	struct pv_uart_report *r = &ps->report;
	char ip[PV_UART_ADDR_MAX], mask[PV_UART_ADDR_MAX] = "", gw[PV_UART_ADDR_MAX] = "";
	char server[PV_UART_ADDR_MAX];

	if (!take_address(&p, ip))
		return;
	skip_spaces(&p);
	if (!starts_with(p, "tftp ")) {
		if (!take_address(&p, mask))
			return;
		skip_spaces(&p);
		if (!take(&p, "gw ") || !take_address(&p, gw))
			return;
		skip_spaces(&p);
	}
	if (!take(&p, "tftp ") || !take_address(&p, server) || !in_network_attempt(ps))
		return;
	pv_strlcpy(r->client_ip, ip, sizeof(r->client_ip));
	pv_strlcpy(r->netmask, mask, sizeof(r->netmask));
	pv_strlcpy(r->gateway, gw, sizeof(r->gateway));
	pv_strlcpy(r->tftp_server, server, sizeof(r->tftp_server));
	ps->net.dhcp_done = true;
	r->recognised = true;
}

/* "GENET: UMAC_START 0xdca63209 0xf8c40000": the MAC the Ethernet block was given. */
static void on_umac_start(struct pv_uart_parser *ps, const char *p)
{
	uint64_t high, low;
	uint8_t mac[6];
	char text[PV_MAC_STRLEN];

	if (!take_hex(&p, 8, &high) || !take_hex(&p, 8, &low) || (low & 0xffff) != 0)
		return;
	mac[0] = (uint8_t)(high >> 24);
	mac[1] = (uint8_t)(high >> 16);
	mac[2] = (uint8_t)(high >> 8);
	mac[3] = (uint8_t)high;
	mac[4] = (uint8_t)(low >> 24);
	mac[5] = (uint8_t)(low >> 16);
	pv_mac_format(mac, ':', text);
	set_mac(ps, text, false);
	ps->report.recognised = true;
}

/* A TFTP request for path (to server, when the line names it). */
static void tftp_request(struct pv_uart_parser *ps, const char *server, const char *path)
{
	struct pv_uart_report *r = &ps->report;

	if (server && !r->tftp_server[0])
		pv_strlcpy(r->tftp_server, server, sizeof(r->tftp_server));
	if (r->tftp_path_count == 0 && r->tftp_paths_dropped == 0) {
		const char *slash = strrchr(path, '/');

		if (slash)
			copy_span(r->tftp_prefix, sizeof(r->tftp_prefix), path,
				  (size_t)(slash - path));
	}
	if (r->tftp_path_count < PV_UART_TFTP_PATHS_MAX) {
		pv_strlcpy(r->tftp_paths[r->tftp_path_count++], path, PV_UART_PATH_MAX);
		if (ps->attempt >= 0)
			r->attempts[ps->attempt].path_count++;
	} else {
		r->tftp_paths_dropped++;
	}
	pv_strlcpy(ps->net.last_path, path, sizeof(ps->net.last_path));
	ps->net.tftp_requested = true;
	ps->net.request_open = true;
	ps->net.dhcp_done = true;
	r->recognised = true;
}

/* "TFTP_GET: <server mac> <server ip> <path>" */
static void on_tftp_get(struct pv_uart_parser *ps, const char *p)
{
	char server_mac[PV_MAC_STRLEN], server[PV_UART_ADDR_MAX], path[PV_UART_PATH_MAX];

	if (!take_mac(&p, server_mac) || !take_address(&p, server) || !take_path(&p, path) ||
	    !in_network_attempt(ps))
		return;
	tftp_request(ps, server, path);
}

static void file_arrived(struct pv_uart_parser *ps, const char *path)
{
	struct pv_uart_report *r = &ps->report;

	if (!is_boot_payload(path) || ps->net.loaded || ps->net.incompatible)
		return;
	ps->net.loaded = true;
	pv_strlcpy(r->loaded_path, path, sizeof(r->loaded_path));
	if (ps->net.not_found && !strchr(path, '/') && strchr(r->failed_path, '/'))
		r->fell_back_to_root = true;
}

/* The latest request's file is not on the server (message: the server's words). */
static void tftp_missing(struct pv_uart_parser *ps, const char *message)
{
	struct pv_uart_report *r = &ps->report;
	struct net_attempt *net = &ps->net;

	net->request_open = false;
	r->recognised = true;
	if (is_optional_probe(net->last_path))
		return;
	if (!net->not_found) {
		pv_strlcpy(r->failed_path, net->last_path, sizeof(r->failed_path));
		pv_strlcpy(r->tftp_error, message, sizeof(r->tftp_error));
	}
	net->not_found = true;
	if (!strchr(net->last_path, '/'))
		net->not_found_unprefixed = true;
}

/* "TFTP 1: File not found", "TFTP: 1: File not found", "TFTP 1: file /srv/x not found",
 * "TFTP: complete 1540", "TFTP: disconnect: timeouts 1" and timeout messages. */
static void on_tftp(struct pv_uart_parser *ps, const char *p)
{
	struct pv_uart_report *r = &ps->report;
	struct net_attempt *net = &ps->net;
	uint64_t code, size;
	const char *rest = p;

	if (!in_network_attempt(ps))
		return;
	take(&rest, ":");
	skip_spaces(&rest);
	if (take(&rest, "complete")) {
		if (!take_decimal(&rest, &size))
			return;
		net->request_open = false;
		file_arrived(ps, net->last_path);
		r->recognised = true;
		return;
	}
	if (starts_with(rest, "disconnect")) {
		/* Printed after every transfer, good or bad ("timeouts 1" after a complete one
		 * is normal). Only a transfer that ends with neither "complete" nor an error
		 * was cut off by TFTP_FILE_TIMEOUT. */
		if (net->request_open) {
			net->request_open = false;
			if (!net->timeout && !net->not_found && !net->tftp_error)
				pv_strlcpy(r->failed_path, net->last_path, sizeof(r->failed_path));
			net->timeout = true;
			r->recognised = true;
		}
		return;
	}
	if (take_decimal(&rest, &code) && take(&rest, ":")) {
		skip_spaces(&rest);
		net->request_open = false;
		r->recognised = true;
		/* TFTP error 1 is "File not found"; servers word the text their own way. */
		if (code == 1 || contains_ci(rest, "not found")) {
			tftp_missing(ps, rest);
		} else if (!net->tftp_error) {
			net->tftp_error = true;
			pv_strlcpy(r->tftp_error, rest, sizeof(r->tftp_error));
			if (!net->not_found)
				pv_strlcpy(r->failed_path, net->last_path, sizeof(r->failed_path));
		}
		return;
	}
	if (contains_ci(p, "timeout") || contains_ci(p, "timed out")) {
		if (!net->timeout && !net->not_found && !net->tftp_error)
			pv_strlcpy(r->failed_path, net->last_path, sizeof(r->failed_path));
		net->timeout = true;
		r->recognised = true;
	}
}

/* "Read 6e87a417/config.txt bytes     1540 hnd 0x0" */
static void on_read(struct pv_uart_parser *ps, const char *p)
{
	struct pv_uart_report *r = &ps->report;
	char path[PV_UART_PATH_MAX];

	if (!ps->current_mode_is_network || !take_path(&p, path))
		return;
	skip_spaces(&p);
	if (starts_with(p, "bytes")) {
		ps->net.request_open = false;
		file_arrived(ps, path);
	} else if (starts_with(p, "failed") && !ps->net.tftp_error && !ps->net.not_found &&
		   !ps->net.timeout && !is_optional_probe(path)) {
		/* "Read 1234abcd/start4.elf failed" */
		ps->net.tftp_error = true;
		pv_strlcpy(r->failed_path, path, sizeof(r->failed_path));
		pv_strlcpy(r->tftp_error, "read failed", sizeof(r->tftp_error));
	}
}

/* "Firmware not found": neither start4.elf nor start.elf, under the prefix or at the root.
 * "start4.elf: is not compatible": the firmware on the server is older than the board. */
static void on_firmware_verdict(struct pv_uart_parser *ps, const char *line)
{
	struct pv_uart_report *r = &ps->report;
	struct net_attempt *net = &ps->net;
	const char *colon;

	if (!ps->current_mode_is_network)
		return;
	if (strcmp(line, "Firmware not found") == 0) {
		/* The bootloader gave up on the firmware; an earlier timeout or error is the
		 * cause when there was one, a missing file otherwise. */
		if (!net->not_found && !net->timeout && !net->tftp_error) {
			pv_strlcpy(r->failed_path, net->last_path, sizeof(r->failed_path));
			pv_strlcpy(r->tftp_error, "Firmware not found", sizeof(r->tftp_error));
			net->not_found = true;
		}
		net->gave_up = true;
		r->recognised = true;
		return;
	}
	colon = strstr(line, ": is not compatible");
	if (colon && colon[strlen(": is not compatible")] == '\0' && colon > line) {
		size_t name_len = (size_t)(colon - line);
		const char *last = base_name(net->last_path);

		/* name the file as requested ("1234abcd/start4.elf") when it is the last one */
		if (strlen(last) == name_len && memcmp(last, line, name_len) == 0)
			pv_strlcpy(r->failed_path, net->last_path, sizeof(r->failed_path));
		else
			copy_span(r->failed_path, sizeof(r->failed_path), line, name_len);
		pv_strlcpy(r->tftp_error, "is not compatible", sizeof(r->tftp_error));
		net->incompatible = true;
		net->loaded = false;
		r->loaded_path[0] = '\0';
		r->recognised = true;
	}
}

/* "DHCP src: <server mac> <server ip>": an offer or ACK arrived. */
static void on_dhcp_src(struct pv_uart_parser *ps, const char *p)
{
	struct pv_uart_report *r = &ps->report;
	char server_mac[PV_MAC_STRLEN], server[PV_UART_ADDR_MAX];

	if (!take_mac(&p, server_mac) || !take_address(&p, server) || !in_network_attempt(ps))
		return;
	ps->net.dhcp_offers++;
	ps->net.link_up = true;
	r->dhcp_offers = ps->net.dhcp_offers;
	r->link_up = true;
	if (!r->dhcp_server[0])
		pv_strlcpy(r->dhcp_server, server, sizeof(r->dhcp_server));
	r->recognised = true;
}

/* Lines of an "OPTIONS:-" block: "op: 43 len:  71" (option 43, the PXE menu) and
 * "op: 53 len:   1 DHCP recv ACK (5) expect ACK 19.27". */
static void on_dhcp_option(struct pv_uart_parser *ps, const char *p)
{
	uint64_t option;

	if (!take_decimal(&p, &option))
		return;
	if (option == 43) {
		ps->net.pxe_option_seen = true;
		ps->report.pxe_option_seen = true;
	} else if (option == 53 && strstr(p, "recv ACK")) {
		ps->net.dhcp_done = true;
	}
}

/* "ARP TX resp: sender: <board mac> <board ip> target: <ip>" (the board answering) and
 * "ARP <server ip> <server mac>" (the server answering the board). */
static void on_arp(struct pv_uart_parser *ps, const char *p)
{
	char mac[PV_MAC_STRLEN], ip[PV_UART_ADDR_MAX];

	if (take(&p, "TX resp: sender: ")) {
		if (take_mac(&p, mac) && take_address(&p, ip)) {
			set_mac(ps, mac, false);
			if (!ps->report.client_ip[0])
				pv_strlcpy(ps->report.client_ip, ip, sizeof(ps->report.client_ip));
			ps->report.recognised = true;
		}
		return;
	}
	if (take_address(&p, ip) && take_mac(&p, mac) && in_network_attempt(ps)) {
		ps->net.arp_reply = true;
		ps->report.recognised = true;
	}
}

/* ---- a Pi 3's bootcode.bin (raspberrypi/firmware #941, #1041, #1292; netboot doc §1.1) ----
 * It prints no serial, revision or "Boot mode:" line: "Raspberry Pi Bootcode", "Found SD
 * card, ... start.elf = 0 ...", "Trying booting from Ethernet device addr 5", "Initialise
 * ethernet with MAC b8:27:eb:85:c0:f2", "Wait for Link up", "Link up", "Sending DHCP
 * request", "Waiting for dhcp_reply", "ARP request: my IP addr A my eth_addr M ARP for addr
 * S", "Done ARP for S got M", "eth_open 7285c0f2/start.elf:" then "  file not found" on a
 * line of its own, "Read File: start.elf, 2880356 (bytes)", and start.elf's "MESS:..." lines
 * once the firmware runs. */

/* "Raspberry Pi Bootcode": bootcode.bin starts. The same banner again after files came over
 * the network, with no failure, is the next bootcode.bin starting [inferred from #1292's
 * log], not a new power-on. */
static void on_bootcode_banner(struct pv_uart_parser *ps)
{
	if (!(ps->report.format == PV_UART_FORMAT_BOOTCODE && ps->net.active &&
	      ps->net.read_any && !attempt_failed(&ps->net)))
		start_boot(ps);
	ps->report.format = PV_UART_FORMAT_BOOTCODE;
	ps->report.recognised = true;
}

/* A mode of bootcode.bin's own order (no "Boot mode:" line): an attempt of its own. */
static void bootcode_mode(struct pv_uart_parser *ps, const char *mode, bool network)
{
	struct pv_uart_report *r = &ps->report;

	if (ps->current_mode_is_network && !network)
		ps->net.abandoned = true;
	pv_strlcpy(r->boot_mode, mode, sizeof(r->boot_mode));
	r->boot_mode_code = -1;
	r->boot_order[0] = '\0';
	ps->mode_seen = true;
	pv_strlcpy(ps->latest_mode, mode, sizeof(ps->latest_mode));
	ps->latest_code = -1;
	ps->latest_order[0] = '\0';
	attempt_open(ps, mode, -1, "");
	ps->current_mode_is_network = network;
	if (network)
		start_attempt(ps);
	r->format = PV_UART_FORMAT_BOOTCODE;
	r->recognised = true;
}

/* "eth_open 7285c0f2/start.elf:": a TFTP request. A Pi 3 always asks its serial's folder
 * first (§1.1), so the first folder of 8 hex digits is its serial's low 32 bits [inferred:
 * bootcode.bin prints no serial; its MAC is b8:27:eb + the serial's low 3 bytes]. */
static void on_eth_open(struct pv_uart_parser *ps, const char *p)
{
	char path[PV_UART_PATH_MAX];
	size_t n;
	const char *s = path;
	uint64_t serial;

	if (!take_path(&p, path) || !in_network_attempt(ps))
		return;
	n = strlen(path);
	if (path[n - 1] == ':')
		path[--n] = '\0';
	if (n == 0)
		return;
	tftp_request(ps, NULL, path);
	if (!ps->report.have_serial && n > 9 && path[8] == '/') {
		path[8] = ' ';
		if (take_hex(&s, 8, &serial) && s == path + 8)
			set_serial(ps, (uint32_t)serial);
		path[8] = '/';
	}
}

/* "Read File: start.elf, 2880356 (bytes)": the name as the firmware asked for it, without
 * the folder; the latest request tells which copy it was. */
static void on_read_file(struct pv_uart_parser *ps, const char *p)
{
	char name[PV_UART_PATH_MAX];
	size_t n;
	const char *last = ps->net.last_path;

	skip_spaces(&p);
	if (!take_path(&p, name) || !ps->current_mode_is_network)
		return;
	n = strlen(name);
	if (name[n - 1] == ',')
		name[--n] = '\0';
	ps->net.request_open = false;
	ps->net.read_any = true;
	ps->report.recognised = true;
	file_arrived(ps, strcmp(base_name(last), name) == 0 ? last : name);
}

/* "ARP request: my IP addr A my eth_addr M ARP for addr S": DHCP gave A; S is the server
 * the files come from [inferred: the log shows no other server address]. */
static void on_bootcode_arp(struct pv_uart_parser *ps, const char *p)
{
	struct pv_uart_report *r = &ps->report;
	char ip[PV_UART_ADDR_MAX], mac[PV_MAC_STRLEN], server[PV_UART_ADDR_MAX];

	if (!take_address(&p, ip) || !take(&p, " my eth_addr") || !take_mac(&p, mac) ||
	    !take(&p, " ARP for addr") || !take_address(&p, server) || !in_network_attempt(ps))
		return;
	pv_strlcpy(r->client_ip, ip, sizeof(r->client_ip));
	if (!r->tftp_server[0])
		pv_strlcpy(r->tftp_server, server, sizeof(r->tftp_server));
	set_mac(ps, mac, false);
	ps->net.dhcp_done = true;
	ps->net.link_up = r->link_up = true;
	r->recognised = true;
}

static void dispatch_bootcode(struct pv_uart_parser *ps, const char *p)
{
	char mac[PV_MAC_STRLEN];

	switch (p[0]) {
	case 'A':
		if (take(&p, "ARP request: my IP addr"))
			on_bootcode_arp(ps, p);
		break;
	case 'D':
		if (take(&p, "Done ARP for ") && in_network_attempt(ps)) {
			ps->net.arp_reply = true;
			ps->report.recognised = true;
		}
		break;
	case 'F':
		/* "Found SD card, config.txt = 0, start.elf = 0, recovery.elf = 0, timeout = 0" */
		if (starts_with(p, "Found SD card"))
			bootcode_mode(ps, "SD", false);
		break;
	case 'I':
		if (take(&p, "Initialise ethernet with MAC") && take_mac(&p, mac)) {
			set_mac(ps, mac, true);
			ps->report.recognised = true;
		}
		break;
	case 'L':
		if (strcmp(p, "Link up") == 0 && in_network_attempt(ps)) {
			ps->net.link_up = ps->report.link_up = true;
			ps->report.recognised = true;
		}
		break;
	case 'M':
		/* start.elf logs "MESS:00:00:07.427456:0: ...": the firmware runs */
		if (starts_with(p, "MESS:") && ps->current_mode_is_network && !ps->net.loaded)
			file_arrived(ps, ps->net.last_path[0] && is_boot_payload(ps->net.last_path)
						 ? ps->net.last_path
						 : "start.elf");
		break;
	case 'R':
		if (strcmp(p, "Raspberry Pi Bootcode") == 0)
			on_bootcode_banner(ps);
		else if (take(&p, "Read File:"))
			on_read_file(ps, p);
		break;
	case 'T':
		if (starts_with(p, "Trying booting from Ethernet"))
			bootcode_mode(ps, "NETWORK", true);
		else if (strcmp(p, "Trying USB") == 0)
			bootcode_mode(ps, "USB", false);
		break;
	case 'W':
		if (strcmp(p, "Wait for Link up") == 0 && in_network_attempt(ps)) {
			ps->net.waited_for_link = true;
			ps->report.recognised = true;
		}
		break;
	case 'e':
		if (take(&p, "eth_open "))
			on_eth_open(ps, p);
		break;
	case 'f':
		if (strcmp(p, "file not found") == 0 && ps->current_mode_is_network &&
		    ps->net.request_open)
			tftp_missing(ps, "file not found");
		break;
	default:
		break;
	}
}

/* Remove "  2.52 " at the start (2024+ bootloaders) and, inside OPTIONS blocks, " 18.61"
 * at the end. */
static const char *strip_timestamps(struct pv_uart_parser *ps, char *line, size_t *len)
{
	char *p = line;
	char *q;

	while (*p == ' ')
		p++;
	q = p;
	while (is_digit(*q))
		q++;
	if (q > p && *q == '.' && is_digit(q[1])) {
		q++;
		while (is_digit(*q))
			q++;
		if (*q == ' ' || *q == '\0') {
			p = q;
			while (*p == ' ')
				p++;
		}
	}
	*len -= (size_t)(p - line);
	if (ps->in_options && *len > 0) {
		size_t end = *len;
		size_t i = end;

		while (i > 0 && is_digit(p[i - 1]))
			i--;
		if (i < end && i > 1 && p[i - 1] == '.') {
			size_t j = i - 1;

			while (j > 0 && is_digit(p[j - 1]))
				j--;
			if (j < i - 1 && j > 0 && p[j - 1] == ' ') {
				j--;
				while (j > 0 && p[j - 1] == ' ')
					j--;
				p[j] = '\0';
				*len = j;
			}
		}
	}
	return p;
}

/* "00000010  6f 6f 74 7e 7e 0a 27 ff    |oot~~.'.|": the dump of option 43 */
static bool is_hexdump_line(const char *p, size_t len)
{
	if (len < 9 || p[8] != ' ')
		return false;
	for (int i = 0; i < 8; i++)
		if (!is_hex(p[i]))
			return false;
	return true;
}

static void dispatch_line(struct pv_uart_parser *ps, char *line, size_t len)
{
	const char *p = strip_timestamps(ps, line, &len), *whole;

	if (len == 0)
		return;
	if (ps->in_options) {
		if (take(&p, "op:")) {
			on_dhcp_option(ps, p);
			return;
		}
		/* PXE sub-options and the hex dump of option 43 belong to the block too. */
		if (starts_with(p, "PXE op:") || is_hexdump_line(p, len))
			return;
		ps->in_options = false;
	}
	whole = p; /* the cases below step over what they match */
	switch (p[0]) {
	case 'A':
		if (take(&p, "ARP "))
			on_arp(ps, p);
		break;
	case 'B':
		if (take(&p, "Boot mode: "))
			on_boot_mode(ps, p);
		else if (starts_with(p, "BOOTMODE:"))
			parse_identity_fields(ps, p);
		break;
	case 'D':
		if (take(&p, "DHCP src: "))
			on_dhcp_src(ps, p);
		break;
	case 'F':
		if (starts_with(p, "Firmware not found"))
			on_firmware_verdict(ps, p);
		break;
	case 'G':
		if (take(&p, "GENET: UMAC_START "))
			on_umac_start(ps, p);
		break;
	case 'L':
		if ((starts_with(p, "LINK STATUS:") || starts_with(p, "Link ready")) &&
		    in_network_attempt(ps)) {
			ps->net.link_up = true;
			ps->report.link_up = true;
		}
		break;
	case 'N':
		if (take(&p, "NET_BOOT") || take(&p, "NETWORK")) {
			on_net_boot(ps, p);
		} else if (take(&p, "NETBOOT ")) {
			if (starts_with(p, "CANCEL") && in_network_attempt(ps)) {
				ps->net.cancelled = true;
				ps->report.recognised = true;
			} else if (starts_with(p, "init failed") && in_network_attempt(ps)) {
				ps->net.init_failed = true;
				ps->report.recognised = true;
			}
		} else if (take(&p, "NET ")) {
			on_net_config(ps, p);
		}
		break;
	case 'O':
		if (starts_with(p, "OPTIONS:")) {
			ps->in_options = true;
		} else if (take(&p, "OTP boardrev ")) {
			uint64_t rev;

			if (take_hex(&p, 8, &rev) && ps->report.boardrev == 0)
				set_boardrev(&ps->report, (uint32_t)rev);
		}
		break;
	case 'R':
		if (take(&p, "RPi:"))
			on_header(ps, p);
		else if (take(&p, "Read "))
			on_read(ps, p);
		break;
	case 'T':
		if (take(&p, "TFTP_GET:"))
			on_tftp_get(ps, p);
		else if (take(&p, "TFTP") && (*p == ' ' || *p == ':'))
			on_tftp(ps, p);
		break;
	case 'Y':
		if (take(&p, "YI_ADDR")) {
			char ip[PV_UART_ADDR_MAX];

			take(&p, ":");
			if (take_address(&p, ip)) {
				pv_strlcpy(ps->report.client_ip, ip, sizeof(ps->report.client_ip));
				ps->report.recognised = true;
			}
		}
		break;
	default:
		break;
	}
	if (p[0] == 's' && ends_with(p, ": is not compatible"))
		on_firmware_verdict(ps, p);
	else
		dispatch_bootcode(ps, whole);
}

static void end_line(struct pv_uart_parser *ps)
{
	if (ps->line_too_long) {
		ps->report.long_lines++;
	} else if (ps->line_len > 0) {
		ps->line[ps->line_len] = '\0';
		ps->report.lines++;
		if (ps->line_fn)
			ps->line_fn(ps->line, ps->line_len, ps->line_user);
		dispatch_line(ps, ps->line, ps->line_len);
	}
	ps->line_len = 0;
	ps->line_too_long = false;
}

void pv_uart_parser_feed(struct pv_uart_parser *ps, const void *data, size_t len)
{
	const unsigned char *in = data;
	size_t i = 0;

	ps->report.bytes += len;
	while (i < len) {
		size_t run = i;

		/* Copy runs of text at once: the common case, and what makes it fast. */
		while (run < len && in[run] >= 0x20 && in[run] <= 0x7e)
			run++;
		if (run > i) {
			size_t n = run - i;

			if (!ps->line_too_long && ps->line_len + n <= PV_UART_LINE_MAX) {
				memcpy(ps->line + ps->line_len, in + i, n);
				ps->line_len += n;
			} else {
				ps->line_too_long = true;
			}
			i = run;
			continue;
		}
		switch (byte_class(in[i])) {
		case BYTE_EOL:
			end_line(ps);
			break;
		case BYTE_TAB:
			if (!ps->line_too_long && ps->line_len < PV_UART_LINE_MAX)
				ps->line[ps->line_len++] = ' ';
			else
				ps->line_too_long = true;
			break;
		default:
			ps->report.noise_bytes++;
			break;
		}
		i++;
	}
}

/* ---- the verdict ---- */

static enum pv_uart_reason failure_reason(const struct net_attempt *net)
{
	if (net->init_failed)
		return PV_UART_REASON_NETBOOT_INIT_FAILED;
	if (net->incompatible)
		return PV_UART_REASON_FIRMWARE_INCOMPATIBLE;
	if (net->not_found)
		return PV_UART_REASON_TFTP_NOT_FOUND;
	if (net->tftp_error)
		return PV_UART_REASON_TFTP_ERROR;
	if (net->timeout)
		return PV_UART_REASON_TFTP_TIMEOUT;
	if (net->request_open || (net->dhcp_done && !net->tftp_requested))
		return PV_UART_REASON_TFTP_UNREACHABLE;
	if (net->tftp_requested)
		return PV_UART_REASON_NETBOOT_CANCELLED;
	if (net->pxe_option_seen)
		return PV_UART_REASON_DHCP_INCOMPLETE;
	if (net->dhcp_offers > 0)
		return PV_UART_REASON_NO_PXE_OPTION;
	if (net->link_up)
		return PV_UART_REASON_NO_DHCP_OFFER;
	if (net->waited_for_link)
		return PV_UART_REASON_NO_LINK;
	return PV_UART_REASON_NETBOOT_CANCELLED;
}

static enum pv_uart_reason stage_reason(const struct net_attempt *net)
{
	if (net->tftp_requested || net->dhcp_done)
		return PV_UART_REASON_TFTP_IN_PROGRESS;
	if (net->dhcp_offers > 0)
		return PV_UART_REASON_DHCP_IN_PROGRESS;
	if (net->link_up)
		return PV_UART_REASON_WAITING_FOR_DHCP;
	return PV_UART_REASON_WAITING_FOR_LINK;
}

/* The network attempt under way: its result as far as the log goes, or settled when the
 * bootloader left it (closing). with_earlier: a retry that has not failed on its own yet
 * takes the earlier attempt's reason (the overall verdict), not "incomplete" (the attempt's
 * own). Returns whether the verdict is final. */
static bool network_outcome(const struct pv_uart_parser *ps, bool closing, bool with_earlier,
			    enum pv_uart_result *result, enum pv_uart_reason *reason)
{
	const struct net_attempt *net = &ps->net;
	bool concluded = closing || net->cancelled || net->init_failed ||
			 !ps->current_mode_is_network;

	*reason = PV_UART_REASON_NONE;
	if (net->loaded) {
		*result = PV_UART_RESULT_OK;
		return true;
	}
	if (concluded) {
		/* cancelled, or the board moved on to the next boot mode */
		*result = PV_UART_RESULT_FAILED;
		*reason = failure_reason(net);
		return true;
	}
	if (net->incompatible) {
		*result = PV_UART_RESULT_FAILED;
		*reason = PV_UART_REASON_FIRMWARE_INCOMPATIBLE;
		return true;
	}
	if (net->not_found || net->tftp_error || net->timeout) {
		/* The evidence is there even if the log stops before the bootloader gives up; a
		 * missing file at the TFTP root leaves no fallback, so that one is final. */
		*result = PV_UART_RESULT_FAILED;
		*reason = failure_reason(net);
		return net->not_found_unprefixed || net->gave_up;
	}
	if (with_earlier && ps->prev_failure != PV_UART_REASON_NONE) {
		/* retrying after a failure that is likely to repeat */
		*result = PV_UART_RESULT_FAILED;
		*reason = ps->prev_failure;
		return false;
	}
	*result = PV_UART_RESULT_INCOMPLETE;
	*reason = stage_reason(net);
	return false;
}

static void compute_verdict(const struct pv_uart_parser *ps, enum pv_uart_result *result,
			    enum pv_uart_reason *reason, bool *final)
{
	*reason = PV_UART_REASON_NONE;
	*final = false;
	if (!ps->report.recognised)
		*result = PV_UART_RESULT_UNKNOWN;
	else if (ps->net.active)
		*final = network_outcome(ps, false, true, result, reason);
	else if (ps->mode_seen)
		*result = PV_UART_RESULT_NOT_NETWORK;
	else
		*result = PV_UART_RESULT_INCOMPLETE;
}

void pv_uart_parser_finish(struct pv_uart_parser *ps)
{
	bool final;

	struct pv_uart_report *r = &ps->report;

	if (ps->line_len > 0 || ps->line_too_long)
		end_line(ps);
	compute_verdict(ps, &r->result, &r->reason, &final);
	attempt_settle(ps, false);
	/* The verdict is the latest network attempt's: name its mode, not the RESTART or SD the
	 * bootloader went on to (the attempts list has them all, in order). */
	if (ps->net.active && ps->net_mode_set) {
		pv_strlcpy(r->boot_mode, ps->net_mode, sizeof(r->boot_mode));
		r->boot_mode_code = ps->net_code;
		pv_strlcpy(r->boot_order, ps->net_order, sizeof(r->boot_order));
	} else if (ps->mode_seen) {
		pv_strlcpy(r->boot_mode, ps->latest_mode, sizeof(r->boot_mode));
		r->boot_mode_code = ps->latest_code;
		pv_strlcpy(r->boot_order, ps->latest_order, sizeof(r->boot_order));
	}
}

bool pv_uart_parser_done(const struct pv_uart_parser *ps)
{
	enum pv_uart_result result;
	enum pv_uart_reason reason;
	bool final;

	compute_verdict(ps, &result, &reason, &final);
	return final;
}

const struct pv_uart_report *pv_uart_parser_report(const struct pv_uart_parser *ps)
{
	return &ps->report;
}

int pv_uart_parser_new(struct pv_uart_parser **out)
{
	struct pv_uart_parser *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return pv_fail(PV_ERR_NOMEM, "uart", "out of memory for the log parser");
	ps->report.boot_mode_code = -1;
	ps->attempt = -1;
	*out = ps;
	return PV_OK;
}

void pv_uart_parser_free(struct pv_uart_parser *ps)
{
	free(ps);
}

void pv_uart_parser_set_board_callback(struct pv_uart_parser *ps, pv_uart_board_fn fn,
				       void *user)
{
	ps->board_fn = fn;
	ps->board_user = user;
}

void pv_uart_parser_set_line_callback(struct pv_uart_parser *ps, pv_uart_line_fn fn, void *user)
{
	ps->line_fn = fn;
	ps->line_user = user;
}

int pv_uart_parse_buffer(const void *data, size_t len, struct pv_uart_report *out)
{
	struct pv_uart_parser *ps = NULL;
	int rc = pv_uart_parser_new(&ps);

	if (rc)
		return rc;
	pv_uart_parser_feed(ps, data, len);
	pv_uart_parser_finish(ps);
	*out = ps->report;
	pv_uart_parser_free(ps);
	return PV_OK;
}

int pv_uart_parse_file(const char *path, struct pv_uart_report *out)
{
	struct pv_buf buf = PV_BUF_INIT(SIZE_MAX);
	int rc;

	rc = pv_file_read(path, PV_UART_FILE_MAX, &buf);
	if (rc)
		goto out_release_buf;
	rc = pv_uart_parse_buffer(buf.data, buf.len, out);
out_release_buf:
	pv_buf_release(&buf);
	return rc;
}
