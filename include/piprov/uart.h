/* Bootloader serial console (BOOT_UART=1): a streaming parser for the boot log of Raspberry
 * Pi 4/5 boards and Compute Modules (and of a Pi 3's bootcode.bin), the explanation of why a network boot failed, and
 * capture from a serial device (raw 8N1 via termios), a file or standard input.
 *
 * The parser takes bytes in pieces of any size (as they come off a serial line), cuts them
 * into lines at LF, CR or CRLF, drops bytes that are not printable ASCII (adapter noise),
 * ignores lines longer than PV_UART_LINE_MAX, strips the leading timestamps of 2024+
 * bootloaders ("  2.52 Boot mode: ...") and the trailing ones inside OPTIONS blocks, and
 * fills a struct pv_uart_report. Feeding the same bytes in any split gives the same report.
 *
 * The board's own MAC comes only from "NET_BOOT:"/"NETWORK:" (colon optional), "GENET:
 * UMAC_START" and "ARP TX resp: sender:" lines; "TFTP_GET:", "DHCP src:" and "ARP <ip>
 * <mac>" lines carry the server's MAC and are never used for it.
 *
 * A new boot (a bootloader header that is not the BOOTLOADER half of a BOOTSYS/BOOTLOADER
 * pair) starts the report's progress afresh; a header with a different serial starts a
 * whole new report: the report always describes the latest boot of the latest board.
 */
#ifndef PIPROV_UART_H
#define PIPROV_UART_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "piprov/buf.h"
#include "piprov/text.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PV_UART_LINE_MAX 512        /* longer lines are counted and ignored */
#define PV_UART_PATH_MAX 256        /* a TFTP path (the bootloader's own limit is lower) */
#define PV_UART_TFTP_PATHS_MAX 64   /* paths kept in order; later ones are only counted */
#define PV_UART_ADDR_MAX 46         /* an IPv4 or IPv6 address as text, with the NUL */
#define PV_UART_MESSAGE_MAX 128     /* a TFTP error text */
#define PV_UART_ATTEMPTS_MAX 16     /* boot-mode attempts kept in order; later ones counted */

/* What the log says about the (latest) boot. */
enum pv_uart_result {
	PV_UART_RESULT_UNKNOWN = 0,  /* no bootloader output recognised */
	PV_UART_RESULT_OK,           /* network boot loaded the firmware / kernel over TFTP */
	PV_UART_RESULT_FAILED,       /* network boot failed (reason says why) */
	PV_UART_RESULT_INCOMPLETE,   /* network boot under way when the log ends (reason: stage) */
	PV_UART_RESULT_NOT_NETWORK,  /* the board booted from another device, never tried the net */
};

enum pv_uart_reason {
	PV_UART_REASON_NONE = 0,
	/* failures (result FAILED) */
	PV_UART_REASON_NO_LINK,             /* Ethernet link never came up */
	PV_UART_REASON_NO_DHCP_OFFER,       /* link up, no DHCP server answered */
	PV_UART_REASON_NO_PXE_OPTION,       /* offers came, none with option 43 "Raspberry Pi Boot" */
	PV_UART_REASON_DHCP_INCOMPLETE,     /* PXE offer seen but no address/TFTP server settled */
	PV_UART_REASON_TFTP_NOT_FOUND,      /* a file the boot needs was not on the TFTP server */
	PV_UART_REASON_TFTP_ERROR,          /* the TFTP server answered another error */
	PV_UART_REASON_TFTP_TIMEOUT,        /* TFTP transfers timed out */
	PV_UART_REASON_TFTP_UNREACHABLE,    /* requests to the TFTP server got no answer at all */
	PV_UART_REASON_NETBOOT_CANCELLED,   /* NETBOOT CANCEL with no earlier clue */
	PV_UART_REASON_NETBOOT_INIT_FAILED, /* the network interface could not be started */
	/* stages (result INCOMPLETE): where the log ends */
	PV_UART_REASON_WAITING_FOR_LINK,
	PV_UART_REASON_WAITING_FOR_DHCP,
	PV_UART_REASON_DHCP_IN_PROGRESS,
	PV_UART_REASON_TFTP_IN_PROGRESS,
	/* failure: "start4.elf: is not compatible", the firmware files are too old */
	PV_UART_REASON_FIRMWARE_INCOMPATIBLE,
	/* an attempt of another mode (SD, USB-MSD, ...) that the bootloader left for the next
	 * mode: nothing bootable there (attempts only) */
	PV_UART_REASON_MOVED_ON,
};

/* Which program wrote the log. */
enum pv_uart_log_format {
	PV_UART_FORMAT_UNKNOWN = 0,
	PV_UART_FORMAT_BOOTLOADER, /* the Pi 4/5 EEPROM bootloader ("RPi: BOOTLOADER ...") */
	PV_UART_FORMAT_BOOTCODE,   /* a Pi 3 (or older): bootcode.bin ("Raspberry Pi Bootcode") */
};

/* One boot mode the bootloader tried, in order ("Boot mode: NETWORK (02) order f21", or
 * bootcode.bin's "Trying booting from Ethernet device"). */
struct pv_uart_attempt {
	char mode[16];               /* "NETWORK", "SD", "RESTART", ... as printed */
	int mode_code;               /* the number in "(02)", -1 when the log prints none */
	char order[17];              /* BOOT_ORDER nibbles left, as printed, or "" */
	/* OK / FAILED / INCOMPLETE (the log ends in it) for a network attempt; FAILED with
	 * MOVED_ON for another mode the bootloader left; NOT_NETWORK for another mode the log
	 * ends in (the board went on booting from it) and for RESTART / STOP */
	enum pv_uart_result result;
	enum pv_uart_reason reason;
	char failed_path[PV_UART_PATH_MAX]; /* TFTP failures: the file, else "" */
	unsigned first_path;         /* its requests: tftp_paths[first_path .. +path_count) */
	unsigned path_count;
};

struct pv_uart_report {
	/* identity (from the bootloader header, "OTP boardrev", "NET_BOOT:"/"NETWORK:") */
	bool have_serial;
	uint32_t serial;             /* low 32 bits: all the bootloader prints */
	char serial8[9];             /* "6e87a417", the TFTP folder name; "" when unknown */
	uint32_t boardrev;           /* revision code, 0 when unknown */
	char boardrev_text[9];       /* "b03111" (lower-case hex, no leading zeros) or "" */
	char mac[PV_MAC_STRLEN];     /* the board's own "dc:a6:32:09:f8:c4" or "" */
	bool mac_mismatch;           /* GENET UMAC_START / ARP sender disagreed with NET_BOOT */
	char bootloader_version[9];  /* git hash from "VERSION:3c912e10" or "" */
	char bootloader_date[32];    /* "2021/11/22 11:23:32" as printed, or "" */
	uint64_t build_timestamp;    /* BUILD_TIMESTAMP=, seconds since 1970; 0 when unknown */

	/* the latest boot */
	/* the mode the verdict is about: that of the latest network attempt, else the latest
	 * mode ("NETWORK", "SD", "USB-MSD", ... as printed), or "" (settled by finish) */
	char boot_mode[16];
	int boot_mode_code;          /* the number in "(02)", -1 when unknown */
	char boot_order[17];         /* remaining BOOT_ORDER nibbles "f41", or "" */
	char client_ip[PV_UART_ADDR_MAX];   /* the board's address (YI_ADDR / NET) or "" */
	char netmask[PV_UART_ADDR_MAX];
	char gateway[PV_UART_ADDR_MAX];
	char tftp_server[PV_UART_ADDR_MAX]; /* from NET ... tftp, else the first TFTP_GET */
	char dhcp_server[PV_UART_ADDR_MAX]; /* first "DHCP src:" address */
	unsigned dhcp_offers;        /* "DHCP src:" lines of the latest network attempt */
	bool pxe_option_seen;        /* an offer carried option 43 */
	bool link_up;
	unsigned tftp_path_count;    /* paths kept in tftp_paths (<= PV_UART_TFTP_PATHS_MAX) */
	unsigned tftp_paths_dropped; /* further TFTP_GET lines not kept */
	char tftp_paths[PV_UART_TFTP_PATHS_MAX][PV_UART_PATH_MAX]; /* TFTP_GET order */
	char tftp_prefix[PV_UART_PATH_MAX]; /* folder of the first TFTP_GET path, "" for root */
	unsigned network_attempts;   /* "Boot mode: NETWORK" lines since the latest boot began */

	/* the verdict */
	enum pv_uart_result result;
	enum pv_uart_reason reason;
	char failed_path[PV_UART_PATH_MAX]; /* the file behind TFTP_NOT_FOUND/ERROR/TIMEOUT */
	char tftp_error[PV_UART_MESSAGE_MAX]; /* the server's error text */
	char loaded_path[PV_UART_PATH_MAX]; /* the file whose transfer made the result OK */
	bool fell_back_to_root;      /* a prefixed file was missing and the root copy loaded */

	/* the stream itself */
	uint64_t bytes;
	uint64_t lines;
	uint64_t noise_bytes;        /* non-printable bytes dropped */
	uint64_t long_lines;         /* lines over PV_UART_LINE_MAX, ignored */
	unsigned boots;              /* bootloader starts seen */
	bool recognised;             /* at least one bootloader line was understood */
	enum pv_uart_log_format format;

	/* every boot mode of the latest boot, in order (the verdict above is the latest network
	 * attempt's; `boot_mode` names that attempt's mode when there was one) */
	unsigned attempt_count;
	unsigned attempts_dropped;   /* attempts after PV_UART_ATTEMPTS_MAX, only counted */
	struct pv_uart_attempt attempts[PV_UART_ATTEMPTS_MAX];
};

/* Short stable names used in JSON: "ok", "failed", "incomplete", "not-network", "unknown";
 * reasons "tftp-file-not-found", "no-dhcp-offer", "waiting-for-dhcp", ... ("none"). */
const char *pv_uart_result_name(enum pv_uart_result result);
const char *pv_uart_reason_name(enum pv_uart_reason reason);

/* Streaming parser. */
struct pv_uart_parser;

/* Called once per cleaned line (no terminator, noise dropped, timestamp kept), e.g. to show
 * the log live. len <= PV_UART_LINE_MAX. */
typedef void (*pv_uart_line_fn)(const char *line, size_t len, void *user);

/* Called with the report of a board, verdict settled, when another board's header appears
 * on the same line (the adapter was moved to the next board during a long capture). The
 * last board is the parser's own report at the end. */
typedef void (*pv_uart_board_fn)(const struct pv_uart_report *report, void *user);

int pv_uart_parser_new(struct pv_uart_parser **out);
void pv_uart_parser_free(struct pv_uart_parser *parser);
void pv_uart_parser_set_line_callback(struct pv_uart_parser *parser, pv_uart_line_fn fn,
				      void *user);
void pv_uart_parser_set_board_callback(struct pv_uart_parser *parser, pv_uart_board_fn fn,
				       void *user);
/* Consume any number of bytes; never fails on content (bad bytes are noise). */
void pv_uart_parser_feed(struct pv_uart_parser *parser, const void *data, size_t len);
/* End of input: parse an unterminated last line and settle the verdict. Feeding after
 * finish continues the stream (finish again to settle the new verdict). */
void pv_uart_parser_finish(struct pv_uart_parser *parser);
/* The report so far (verdict settled only after finish). Valid until the next feed. */
const struct pv_uart_report *pv_uart_parser_report(const struct pv_uart_parser *parser);
/* True once the latest boot reached a final verdict (OK, FAILED, or NOT_NETWORK): the
 * moment `capture --until done` stops. */
bool pv_uart_parser_done(const struct pv_uart_parser *parser);

/* One-shot helpers. */
int pv_uart_parse_buffer(const void *data, size_t len, struct pv_uart_report *out);
/* PV_OK when the report holds bootloader output, else PV_ERR_FORMAT "'NAME': no bootloader
 * output in N lines (not a BOOT_UART log, or the wrong baud rate)": what `uart parse` of a
 * file that is no log (say /etc/passwd) says. */
int pv_uart_report_check(const struct pv_uart_report *report, const char *name);
/* path "-" reads standard input. Files over limit bytes fail with PV_ERR_TOO_BIG. */
#define PV_UART_FILE_MAX (64u << 20)
int pv_uart_parse_file(const char *path, struct pv_uart_report *out);

/* The report as one compact JSON object (keys serial8, boardrev, mac, boot_mode,
 * boot_order, client_ip, tftp_server, tftp_paths, bootloader_version, build_timestamp,
 * result, reason, attempts: [{mode, mode_code, order, result, reason, failed_path,
 * tftp_paths}], ...; unknown values are null), appended to out. */
int pv_uart_report_to_json(const struct pv_uart_report *report, struct pv_buf *out);

/* Plain-language explanation of the report (what the board is, what happened, why) and the
 * next step to take, as several lines of text appended to out. */
int pv_uart_diagnose(const struct pv_uart_report *report, struct pv_buf *out);
/* The same as one compact JSON object: the report's keys (pv_uart_report_to_json) plus
 * "explanation" (what happened, why) and "next_step" (what to do; "" when nothing). */
int pv_uart_diagnose_json(const struct pv_uart_report *report, struct pv_buf *out);

/* The board as an inventory record: pv_record_from_uart() in piprov/record.h (the record
 * layer depends on this module, never the other way). */

/* Capture. */
struct pv_uart_capture_options {
	unsigned baud;               /* 0 = 115200; only used for terminals */
	int timeout_ms;              /* stop after this long; <= 0 = until end of input */
	bool until_done;             /* stop once pv_uart_parser_done() */
	volatile sig_atomic_t *cancel; /* optional: stop when it becomes non-zero (SIGINT) */
	/* optional: every chunk as read, before parsing (to save the raw log); a non-zero
	 * return stops the capture with that status */
	int (*on_data)(const void *data, size_t len, void *user);
	void *user;
};

/* Read source ("-" = stdin, a terminal device, a FIFO or a regular file) into parser until
 * end of input, the timeout, done or cancel; a terminal is switched to raw 8N1 at the baud
 * rate (no flow control, no echo, no translation) and restored afterwards; it is locked
 * (flock) for the capture, so a second capture of the same device fails with PV_ERR_BUSY. A
 * terminal that hangs up (USB adapter unplugged, pty closed) ends the input. Calls
 * pv_uart_parser_finish() before returning 0. */
int pv_uart_capture(const char *source, const struct pv_uart_capture_options *options,
		    struct pv_uart_parser *parser);

/* Valid termios rates: 9600 ... 4000000. */
bool pv_uart_baud_supported(unsigned baud);

#ifdef __cplusplus
}
#endif
#endif
