/* DHCP messages (RFC 2131 fixed part, RFC 2132 options, RFC 3396 long options, option 52
 * overload) and the PXE boot menu of option 43 that the Raspberry Pi bootloaders look for. */
#include <string.h>

#include "internal.h"
#include "netboot_internal.h"
#include "piprov/netboot.h"
#include "banned.h"

#define COOKIE_OFFSET 236
#define OPTIONS_OFFSET 240
#define SNAME_OFFSET 44
#define SNAME_LEN 64
#define FILE_OFFSET 108
#define FILE_LEN 128
#define PXE_BOOT_MENU 9

static const uint8_t magic_cookie[4] = { 99, 130, 83, 99 };

const char *pv_netboot_dhcp_type_name(int type)
{
	static const char *const names[] = { "unknown", "DISCOVER", "OFFER", "REQUEST",
					     "DECLINE", "ACK", "NAK", "RELEASE", "INFORM" };

	return type > 0 && (size_t)type < PV_ARRAY_SIZE(names) ? names[type] : "unknown";
}

/* One option area: walk its TLVs, calling `fn` for each (code, value). Stops at END.
 * PV_ERR_FORMAT when a length runs past the area. */
typedef void (*option_fn)(uint8_t code, const uint8_t *value, uint8_t len, void *user);

static int walk_area(const uint8_t *p, size_t len, const char *area, option_fn fn, void *user)
{
	size_t i = 0;

	while (i < len) {
		uint8_t code = p[i];

		if (code == PV_DHCP_OPT_PAD) {
			i++;
			continue;
		}
		if (code == PV_DHCP_OPT_END)
			return PV_OK;
		if (i + 1 >= len || i + 2 + p[i + 1] > len)
			return pv_fail(PV_ERR_FORMAT, "netboot",
				       "DHCP option %u in the %s area: length runs past its end",
				       code, area);
		fn(code, p + i + 2, p[i + 1], user);
		i += 2 + (size_t)p[i + 1];
	}
	/* A missing END is tolerated: several servers omit it in the file/sname areas. */
	return PV_OK;
}

struct layout {
	struct pv_netboot_dhcp *msg;
	size_t total[256];
	size_t filled[256];
	bool seen[256];
	uint8_t overload;
};

static void count_option(uint8_t code, const uint8_t *value, uint8_t len, void *user)
{
	struct layout *l = user;

	l->total[code] += len;
	l->seen[code] = true;
	if (code == PV_DHCP_OPT_OVERLOAD && len >= 1)
		l->overload = value[0];
}

static void copy_option(uint8_t code, const uint8_t *value, uint8_t len, void *user)
{
	struct layout *l = user;
	struct pv_netboot_dhcp *m = l->msg;

	memcpy(m->values + m->opt_offset[code] + l->filled[code], value, len);
	l->filled[code] += len;
}

static int walk_all(const uint8_t *d, size_t len, uint8_t overload, option_fn fn, void *user)
{
	int rc = walk_area(d + OPTIONS_OFFSET, len - OPTIONS_OFFSET, "options", fn, user);

	if (!rc && (overload & 1))
		rc = walk_area(d + FILE_OFFSET, FILE_LEN, "file", fn, user);
	if (!rc && (overload & 2))
		rc = walk_area(d + SNAME_OFFSET, SNAME_LEN, "sname", fn, user);
	return rc;
}

static void copy_text(char *dst, const uint8_t *src, size_t len)
{
	size_t n = strnlen((const char *)src, len);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

int pv_netboot_dhcp_parse(const void *data, size_t len, struct pv_netboot_dhcp *out)
{
	const uint8_t *d = data;
	struct layout l;
	struct pv_netboot_dhcp *m = out;
	size_t offset = 0;
	int rc;

	if (len < OPTIONS_OFFSET)
		return pv_fail(PV_ERR_FORMAT, "netboot", "DHCP message of %zu bytes (at least %u)",
			       len, OPTIONS_OFFSET);
	if (len > PV_NETBOOT_DHCP_MAX)
		return pv_fail(PV_ERR_FORMAT, "netboot", "DHCP message of %zu bytes (at most %u)",
			       len, PV_NETBOOT_DHCP_MAX);
	if (memcmp(d + COOKIE_OFFSET, magic_cookie, 4) != 0)
		return pv_fail(PV_ERR_FORMAT, "netboot", "DHCP magic cookie missing (BOOTP?)");
	memset(&l, 0, sizeof(l));
	/* Pass 1: validate every area and add up each option's length (RFC 3396: repeated
	 * options are one value, concatenated in order). The overload option itself lives in
	 * the main area, so it is known before the other areas are read. */
	rc = walk_area(d + OPTIONS_OFFSET, len - OPTIONS_OFFSET, "options", count_option, &l);
	if (rc)
		return rc;
	{
		uint8_t overload = l.overload;

		memset(l.total, 0, sizeof(l.total));
		memset(l.seen, 0, sizeof(l.seen));
		rc = walk_all(d, len, overload, count_option, &l);
		l.overload = overload;
	}
	if (rc)
		return rc;
	memset(m, 0, sizeof(*m));
	for (unsigned code = 1; code < 255; code++) {
		if (!l.seen[code])
			continue;
		m->opt_offset[code] = (uint16_t)offset;
		m->opt_len[code] = (uint16_t)l.total[code];
		m->opt_present[code / 8] |= (uint8_t)(1u << (code % 8));
		offset += l.total[code];
	}
	/* Every byte of a value came from the message, so the values fit in its size. */
	m->values_len = offset;
	l.msg = m;
	rc = walk_all(d, len, l.overload, copy_option, &l);
	if (rc)
		return rc;
	m->op = d[0];
	m->htype = d[1];
	m->hlen = d[2];
	m->hops = d[3];
	m->xid = nb_get32(d + 4);
	m->secs = nb_get16(d + 8);
	m->flags = nb_get16(d + 10);
	m->ciaddr = nb_get32(d + 12);
	m->yiaddr = nb_get32(d + 16);
	m->siaddr = nb_get32(d + 20);
	m->giaddr = nb_get32(d + 24);
	memcpy(m->chaddr, d + 28, 16);
	if (!(l.overload & 2))
		copy_text(m->sname, d + SNAME_OFFSET, SNAME_LEN);
	if (!(l.overload & 1))
		copy_text(m->file, d + FILE_OFFSET, FILE_LEN);
	if (m->opt_len[PV_DHCP_OPT_MESSAGE_TYPE] >= 1)
		m->type = m->values[m->opt_offset[PV_DHCP_OPT_MESSAGE_TYPE]];
	return PV_OK;
}

static bool option_present(const struct pv_netboot_dhcp *msg, uint8_t code)
{
	return msg->opt_present[code / 8] & (1u << (code % 8));
}

int pv_netboot_dhcp_option(const struct pv_netboot_dhcp *msg, uint8_t code,
			   const uint8_t **value, size_t *len)
{
	if (!option_present(msg, code))
		return PV_ERR_NOT_FOUND;
	*value = msg->values + msg->opt_offset[code];
	*len = msg->opt_len[code];
	return PV_OK;
}

int pv_netboot_dhcp_option_ip(const struct pv_netboot_dhcp *msg, uint8_t code, uint32_t *ip)
{
	const uint8_t *v;
	size_t len;

	if (pv_netboot_dhcp_option(msg, code, &v, &len) != PV_OK || len < 4 ||
	    (code != PV_DHCP_OPT_ROUTER && len != 4))
		return PV_ERR_NOT_FOUND;
	*ip = nb_get32(v);
	return PV_OK;
}

/* ---- building ---- */

void pv_netboot_dhcp_begin(struct pv_netboot_dhcp_builder *b, uint8_t op, uint32_t xid,
			   uint16_t flags, const uint8_t chaddr[6])
{
	memset(b, 0, sizeof(*b));
	b->data[0] = op;
	b->data[1] = 1; /* Ethernet */
	b->data[2] = 6;
	nb_put32(b->data + 4, xid);
	nb_put16(b->data + 10, flags);
	memcpy(b->data + 28, chaddr, 6);
	memcpy(b->data + COOKIE_OFFSET, magic_cookie, 4);
	b->len = OPTIONS_OFFSET;
}

void pv_netboot_dhcp_set_addresses(struct pv_netboot_dhcp_builder *b, uint32_t ciaddr,
				   uint32_t yiaddr, uint32_t siaddr, uint32_t giaddr)
{
	nb_put32(b->data + 12, ciaddr);
	nb_put32(b->data + 16, yiaddr);
	nb_put32(b->data + 20, siaddr);
	nb_put32(b->data + 24, giaddr);
}

void pv_netboot_dhcp_add(struct pv_netboot_dhcp_builder *b, uint8_t code, const void *value,
			 size_t len)
{
	const uint8_t *v = value;

	/* Values over 255 bytes become several options of the same code (RFC 3396); one byte
	 * stays reserved for END. */
	do {
		size_t piece = len > 255 ? 255 : len;

		if (b->len + 2 + piece + 1 > sizeof(b->data)) {
			b->overflow = true;
			return;
		}
		b->data[b->len] = code;
		b->data[b->len + 1] = (uint8_t)piece;
		if (piece)
			memcpy(b->data + b->len + 2, v, piece);
		b->len += 2 + piece;
		v += piece;
		len -= piece;
	} while (len);
}

void pv_netboot_dhcp_add_ip(struct pv_netboot_dhcp_builder *b, uint8_t code, uint32_t ip)
{
	uint8_t v[4];

	nb_put32(v, ip);
	pv_netboot_dhcp_add(b, code, v, sizeof(v));
}

int pv_netboot_dhcp_finish(struct pv_netboot_dhcp_builder *b)
{
	if (b->overflow)
		return pv_fail(PV_ERR_TOO_BIG, "netboot", "DHCP options over %u bytes",
			       PV_NETBOOT_DHCP_MAX);
	b->data[b->len++] = PV_DHCP_OPT_END;
	if (b->len < PV_NETBOOT_DHCP_MIN)
		b->len = PV_NETBOOT_DHCP_MIN; /* the rest is already zero (pad) */
	return PV_OK;
}

/* ---- option 43: the PXE boot menu ---- */

bool pv_netboot_pxe_menu_matches(const uint8_t *option43, size_t len, const char *match,
				 bool exact_prefix, char menu[64])
{
	size_t match_len = strlen(match), i = 0;
	bool found = false, first = true;

	if (menu)
		menu[0] = '\0';
	while (i < len) {
		uint8_t code = option43[i];
		size_t sub_len, j;

		if (code == PV_DHCP_OPT_PAD) {
			i++;
			continue;
		}
		if (code == PV_DHCP_OPT_END || i + 1 >= len || i + 2 + option43[i + 1] > len)
			break;
		sub_len = option43[i + 1];
		/* Suboption 9: entries of { type (2 bytes), text length (1), text }. */
		for (j = 0; code == PXE_BOOT_MENU && j + 3 <= sub_len;) {
			const uint8_t *entry = option43 + i + 2 + j;
			size_t text_len = entry[2];

			if (j + 3 + text_len > sub_len)
				break;
			if (menu && first) {
				size_t n = text_len < 63 ? text_len : 63;
				memcpy(menu, entry + 3, n);
				menu[n] = '\0';
				first = false;
			}
			if (exact_prefix ? text_len >= match_len &&
						   memcmp(entry + 3, match, match_len) == 0
					 : memmem(entry + 3, text_len, match, match_len) != NULL)
				found = true;
			j += 3 + text_len;
		}
		i += 2 + sub_len;
	}
	return found && match_len > 0;
}
