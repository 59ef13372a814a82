/* TFTP read client (RFC 1350) with the option extension (RFC 2347), tsize (RFC 2349) and
 * blksize (RFC 2348), as the Raspberry Pi bootloaders use them: a Pi 4 sends
 * `RRQ "d9780558/start.elf" octet tsize 0 blksize 1024` and repeats it every 2 s without an
 * answer (tcpdump in rpi-eeprom #74); bootcode.bin sends tsize only and ACKs block 0 after
 * the OACK (firmware #1041, #1700). A probe ends the transfer with ERROR 0 "Early
 * terminate", which is how the firmware tests for a file (§1.5). */
#include <stdio.h>
#include <strings.h>
#include <string.h>

#include "internal.h"
#include "netboot_internal.h"
#include "piprov/netboot.h"
#include "piprov/text.h"
#include "banned.h"

#define TFTP_BLKSIZE_DEFAULT 512
#define TFTP_BLKSIZE_MIN 8
#define TFTP_BLKSIZE_MAX 1468       /* the most that fits a 1500-byte frame unfragmented */
#define TFTP_PACKET_MAX (4 + TFTP_BLKSIZE_MAX)
#define TFTP_DEFAULT_MAX_SIZE (64u << 20)
#define TFTP_ERR_NOT_FOUND 1
#define TFTP_ERR_UNKNOWN_TID 5
#define TFTP_ERR_OPTION 8

const char *pv_netboot_tftp_outcome_name(enum pv_netboot_tftp_outcome outcome)
{
	static const char *const names[] = {
		[PV_TFTP_OUTCOME_OK] = "ok",
		[PV_TFTP_OUTCOME_NOT_FOUND] = "not-found",
		[PV_TFTP_OUTCOME_ERROR] = "error",
		[PV_TFTP_OUTCOME_TIMEOUT] = "timeout",
		[PV_TFTP_OUTCOME_UNREACHABLE] = "unreachable",
		[PV_TFTP_OUTCOME_TOO_BIG] = "too-big",
		[PV_TFTP_OUTCOME_PROTOCOL] = "protocol-error",
		[PV_TFTP_OUTCOME_STOPPED] = "stopped",
	};

	return (unsigned)outcome < PV_ARRAY_SIZE(names) ? names[outcome] : "unknown";
}

/* The NUL-terminated string at p[0..len): its length, or -1 when there is no NUL. */
static long field(const uint8_t *p, size_t len)
{
	const uint8_t *nul = memchr(p, 0, len);

	return nul ? (long)(nul - p) : -1;
}

static int parse_options(const uint8_t *p, size_t len, struct pv_netboot_tftp_packet *out)
{
	while (len) {
		long name_len = field(p, len), value_len;
		char name[32], value[32];

		if (name_len < 0)
			return pv_fail(PV_ERR_FORMAT, "netboot", "TFTP option name without NUL");
		value_len = field(p + name_len + 1, len - (size_t)name_len - 1);
		if (value_len < 0)
			return pv_fail(PV_ERR_FORMAT, "netboot", "TFTP option value without NUL");
		if ((size_t)name_len < sizeof(name) && (size_t)value_len < sizeof(value)) {
			memcpy(name, p, (size_t)name_len);
			name[name_len] = '\0';
			memcpy(value, p + name_len + 1, (size_t)value_len);
			value[value_len] = '\0';
			if (strcasecmp(name, "tsize") == 0) {
				if (pv_parse_u64(value, 10, &out->tsize))
					return pv_fail(PV_ERR_FORMAT, "netboot",
						       "TFTP tsize '%s' is not a number", value);
				out->has_tsize = true;
			} else if (strcasecmp(name, "blksize") == 0) {
				uint32_t v;

				if (pv_parse_u32(value, 10, &v) || v < TFTP_BLKSIZE_MIN || v > 65464)
					return pv_fail(PV_ERR_FORMAT, "netboot",
						       "TFTP blksize '%s' (8..65464)", value);
				out->blksize = v;
				out->has_blksize = true;
			}
		}
		p += name_len + value_len + 2;
		len -= (size_t)(name_len + value_len + 2);
	}
	return PV_OK;
}

int pv_netboot_tftp_parse(const void *data, size_t len, struct pv_netboot_tftp_packet *out)
{
	const uint8_t *p = data;
	struct pv_netboot_tftp_packet t;
	long n, m;
	int rc;

	if (len < 4)
		return pv_fail(PV_ERR_FORMAT, "netboot", "TFTP packet of %zu bytes", len);
	memset(&t, 0, sizeof(t));
	t.opcode = nb_get16(p);
	switch (t.opcode) {
	case PV_TFTP_RRQ:
	case PV_TFTP_WRQ:
		n = field(p + 2, len - 2);
		if (n < 0 || (size_t)n >= sizeof(t.path))
			return pv_fail(PV_ERR_FORMAT, "netboot",
				       "TFTP request: file name without NUL or over %zu bytes",
				       sizeof(t.path) - 1);
		memcpy(t.path, p + 2, (size_t)n);
		m = field(p + 3 + n, len - 3 - (size_t)n);
		if (m < 0 || (size_t)m >= sizeof(t.mode))
			return pv_fail(PV_ERR_FORMAT, "netboot", "TFTP request: bad mode");
		memcpy(t.mode, p + 3 + n, (size_t)m);
		rc = parse_options(p + 4 + n + m, len - 4 - (size_t)(n + m), &t);
		if (rc)
			return rc;
		break;
	case PV_TFTP_DATA:
		t.block = nb_get16(p + 2);
		t.data = p + 4;
		t.data_len = len - 4;
		break;
	case PV_TFTP_ACK:
		t.block = nb_get16(p + 2);
		break;
	case PV_TFTP_ERROR:
		t.error_code = nb_get16(p + 2);
		/* Servers are not all careful with the final NUL: take what is there. */
		n = field(p + 4, len - 4);
		if (n < 0)
			n = (long)(len - 4);
		if ((size_t)n >= sizeof(t.message))
			n = sizeof(t.message) - 1;
		memcpy(t.message, p + 4, (size_t)n);
		break;
	case PV_TFTP_OACK:
		rc = parse_options(p + 2, len - 2, &t);
		if (rc)
			return rc;
		break;
	default:
		return pv_fail(PV_ERR_FORMAT, "netboot", "TFTP opcode %u", t.opcode);
	}
	*out = t;
	return PV_OK;
}

/* ---- the client ---- */

struct transfer {
	struct pv_netboot_udp *udp;
	uint32_t server;
	uint16_t tid;                     /* the server's port, 0 until it answered */
	uint8_t last[TFTP_PACKET_MAX];    /* the packet to resend on silence */
	size_t last_len;
	uint16_t last_port;
};

static int send_packet(struct transfer *x, const void *p, size_t len, uint16_t port, bool keep)
{
	if (keep) {
		memcpy(x->last, p, len);
		x->last_len = len;
		x->last_port = port;
	}
	return x->udp->ops->send(x->udp, x->server, port, p, len);
}

static int send_ack(struct transfer *x, uint16_t block)
{
	uint8_t ack[4];

	nb_put16(ack, PV_TFTP_ACK);
	nb_put16(ack + 2, block);
	return send_packet(x, ack, sizeof(ack), x->tid, true);
}

static int send_error(struct transfer *x, uint16_t port, uint16_t code, const char *text)
{
	uint8_t e[64];
	size_t n = strlen(text);

	nb_put16(e, PV_TFTP_ERROR);
	nb_put16(e + 2, code);
	memcpy(e + 4, text, n + 1);
	return send_packet(x, e, 4 + n + 1, port, false);
}

static int build_rrq(const struct pv_netboot_tftp_request *req, uint8_t *out, size_t *len)
{
	size_t path_len = strlen(req->path), n = 2;
	char options[48];
	int opt_len = 0;

	if (path_len == 0 || path_len >= PV_NETBOOT_TFTP_PATH_MAX)
		return pv_fail(PV_ERR_INVALID, "netboot", "TFTP path of %zu bytes", path_len);
	nb_put16(out, PV_TFTP_RRQ);
	memcpy(out + n, req->path, path_len + 1);
	n += path_len + 1;
	memcpy(out + n, "octet", 6);
	n += 6;
	/* Options in the bootloader's order: tsize, then blksize. */
	if (req->tsize)
		opt_len += snprintf(options + opt_len, sizeof(options) - (size_t)opt_len,
				    "tsize%c0%c", 0, 0);
	if (req->blksize)
		opt_len += snprintf(options + opt_len, sizeof(options) - (size_t)opt_len,
				    "blksize%c%u%c", 0, req->blksize, 0);
	memcpy(out + n, options, (size_t)opt_len);
	*len = n + (size_t)opt_len;
	return PV_OK;
}

static void finish(struct pv_netboot_tftp_result *r, enum pv_netboot_tftp_outcome outcome)
{
	r->outcome = outcome;
}

int pv_netboot_tftp_get(struct pv_netboot_udp *udp, uint32_t server,
			const struct pv_netboot_tftp_request *req, struct pv_buf *out,
			struct pv_netboot_tftp_result *result)
{
	struct pv_netboot_tftp_result r;
	struct transfer x;
	uint8_t packet[TFTP_PACKET_MAX + 64];
	size_t max_size = req->max_size ? req->max_size : TFTP_DEFAULT_MAX_SIZE, len;
	uint64_t start = udp->ops->now_ms(udp), deadline, next_resend;
	unsigned retransmit = req->retransmit_ms ? req->retransmit_ms : 2000;
	uint64_t received = 0;
	uint16_t expect = 1;
	bool answered = false, oack_seen = false;
	int rc;

	memset(&r, 0, sizeof(r));
	memset(&x, 0, sizeof(x));
	x.udp = udp;
	x.server = server;
	if (req->blksize && (req->blksize < TFTP_BLKSIZE_MIN || req->blksize > TFTP_BLKSIZE_MAX))
		return pv_fail(PV_ERR_INVALID, "netboot", "TFTP blksize %u (%u..%u)", req->blksize,
			       TFTP_BLKSIZE_MIN, TFTP_BLKSIZE_MAX);
	r.blksize = TFTP_BLKSIZE_DEFAULT;
	rc = build_rrq(req, packet, &len);
	if (rc)
		return rc;
	deadline = start + (req->file_timeout_ms ? req->file_timeout_ms : 30000);
	rc = send_packet(&x, packet, len, PV_NETBOOT_TFTP_PORT, true);
	if (rc && rc != PV_ERR_TIMEOUT)
		return rc;
	next_resend = udp->ops->now_ms(udp) + retransmit;

	for (;;) {
		struct pv_netboot_tftp_packet t;
		uint64_t now = udp->ops->now_ms(udp), until;
		uint32_t from;
		uint16_t port;

		if (now >= deadline) {
			finish(&r, answered ? PV_TFTP_OUTCOME_TIMEOUT : PV_TFTP_OUTCOME_UNREACHABLE);
			break;
		}
		if (req->stop && req->stop(req->stop_arg)) {
			finish(&r, PV_TFTP_OUTCOME_STOPPED);
			break;
		}
		if (now >= next_resend) {
			r.timeouts++;
			rc = send_packet(&x, x.last, x.last_len, x.last_port, false);
			if (rc && rc != PV_ERR_TIMEOUT)
				return rc;
			next_resend = udp->ops->now_ms(udp) + retransmit;
			continue;
		}
		until = next_resend < deadline ? next_resend : deadline;
		if (req->stop && until - now > PV_NETBOOT_STOP_POLL_MS)
			until = now + PV_NETBOOT_STOP_POLL_MS;
		rc = udp->ops->recv(udp, &from, &port, packet, sizeof(packet), &len,
				    (unsigned)(until - now));
		if (rc == PV_ERR_TIMEOUT)
			continue;
		if (rc)
			return rc;
		if (from != server)
			continue;
		if (x.tid && port != x.tid) {
			/* RFC 1350: a packet from another transfer gets an error, ours goes on. */
			send_error(&x, port, TFTP_ERR_UNKNOWN_TID, "Unknown transfer ID");
			continue;
		}
		if (pv_netboot_tftp_parse(packet, len, &t) != PV_OK) {
			pv_clear_error();
			continue;
		}
		if (t.opcode == PV_TFTP_ERROR) {
			r.error_code = t.error_code;
			pv_strlcpy(r.error_message, t.message, sizeof(r.error_message));
			finish(&r, t.error_code == TFTP_ERR_NOT_FOUND ? PV_TFTP_OUTCOME_NOT_FOUND
								       : PV_TFTP_OUTCOME_ERROR);
			break;
		}
		if (!x.tid)
			x.tid = port;
		answered = true;
		if (t.opcode == PV_TFTP_OACK && expect == 1 && !oack_seen) {
			oack_seen = true;
			if (t.has_blksize) {
				if (!req->blksize || t.blksize > req->blksize) {
					send_error(&x, x.tid, TFTP_ERR_OPTION, "Bad blksize");
					finish(&r, PV_TFTP_OUTCOME_PROTOCOL);
					break;
				}
				r.blksize = t.blksize;
			}
			if (t.has_tsize) {
				r.size = t.tsize;
				r.size_known = true;
				if (t.tsize > max_size) {
					send_error(&x, x.tid, 3, "File too big");
					finish(&r, PV_TFTP_OUTCOME_TOO_BIG);
					break;
				}
			}
			if (req->probe) {
				send_error(&x, x.tid, 0, "Early terminate");
				finish(&r, PV_TFTP_OUTCOME_OK);
				break;
			}
			rc = send_ack(&x, 0);
			if (rc)
				return rc;
			next_resend = udp->ops->now_ms(udp) + retransmit;
			continue;
		}
		if (t.opcode != PV_TFTP_DATA)
			continue;
		if (t.block == (uint16_t)(expect - 1)) {
			/* Our ACK was lost: the server sent the block again. */
			send_packet(&x, x.last, x.last_len, x.last_port, false);
			continue;
		}
		if (t.block != expect)
			continue;
		if (req->probe) {
			/* A server without options: the file is there, its size unknown. */
			send_error(&x, x.tid, 0, "Early terminate");
			r.size_known = false;
			finish(&r, PV_TFTP_OUTCOME_OK);
			break;
		}
		if (t.data_len > r.blksize) {
			send_error(&x, x.tid, 4, "Block too long");
			finish(&r, PV_TFTP_OUTCOME_PROTOCOL);
			break;
		}
		if (received + t.data_len > max_size) {
			send_error(&x, x.tid, 3, "File too big");
			finish(&r, PV_TFTP_OUTCOME_TOO_BIG);
			break;
		}
		if (out && t.data_len) {
			rc = pv_buf_append(out, t.data, t.data_len);
			if (rc) {
				send_error(&x, x.tid, 3, "File too big");
				pv_clear_error();
				finish(&r, PV_TFTP_OUTCOME_TOO_BIG);
				break;
			}
		}
		received += t.data_len;
		rc = send_ack(&x, t.block);
		if (rc)
			return rc;
		if (t.data_len < r.blksize) {
			/* The data counts, whatever tsize announced. */
			r.size = received;
			r.size_known = true;
			finish(&r, PV_TFTP_OUTCOME_OK);
			break;
		}
		expect++;
		next_resend = udp->ops->now_ms(udp) + retransmit;
	}
	*result = r;
	return PV_OK;
}
