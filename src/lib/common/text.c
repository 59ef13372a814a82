#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "piprov/text.h"
#include "banned.h"

size_t pv_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

int pv_parse_u64(const char *str, int base, uint64_t *out)
{
	const char *digits = str;
	unsigned long long value;
	char *end;

	if (!str || !*str || !isxdigit((unsigned char)str[0]))
		return PV_ERR_INVALID;
	if (base == 0) {
		if (str[0] == '0' && (str[1] == 'x' || str[1] == 'X')) {
			base = 16;
			digits = str + 2;
			if (!isxdigit((unsigned char)*digits))
				return PV_ERR_INVALID;
		} else {
			base = 10;
		}
	} else if (base == 16 && str[0] == '0' && (str[1] == 'x' || str[1] == 'X')) {
		digits = str + 2;
		if (!isxdigit((unsigned char)*digits))
			return PV_ERR_INVALID;
	}
	if (base == 10 && !isdigit((unsigned char)digits[0]))
		return PV_ERR_INVALID;
	errno = 0;
	value = strtoull(digits, &end, base);
	if (errno || *end != '\0' || end == digits)
		return PV_ERR_INVALID;
	*out = value;
	return PV_OK;
}

int pv_parse_u32(const char *str, int base, uint32_t *out)
{
	uint64_t value;
	int rc = pv_parse_u64(str, base, &value);

	if (rc)
		return rc;
	if (value > UINT32_MAX)
		return PV_ERR_INVALID;
	*out = (uint32_t)value;
	return PV_OK;
}

int pv_parse_i64(const char *str, int64_t *out)
{
	long long value;
	char *end;

	if (!str || !*str || isspace((unsigned char)str[0]) || str[0] == '+')
		return PV_ERR_INVALID;
	errno = 0;
	value = strtoll(str, &end, 10);
	if (errno || *end != '\0' || end == str)
		return PV_ERR_INVALID;
	*out = value;
	return PV_OK;
}

static const char hex_digits[] = "0123456789abcdef";

char *pv_put_mem(char *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	return p + len;
}

char *pv_put_str(char *p, const char *s)
{
	return pv_put_mem(p, s, strlen(s));
}

char *pv_put_hex(char *p, uint64_t value, int min_digits)
{
	int n = 1;

	while (n < 16 && (value >> (4 * n)) != 0)
		n++;
	if (n < min_digits)
		n = min_digits;
	for (int i = n - 1; i >= 0; i--)
		*p++ = hex_digits[(value >> (4 * i)) & 0xf];
	return p;
}

char *pv_put_u64(char *p, uint64_t value)
{
	char digits[20];
	int n = 0;

	do {
		digits[n++] = (char)('0' + value % 10);
		value /= 10;
	} while (value);
	while (n)
		*p++ = digits[--n];
	return p;
}

char *pv_put_i64(char *p, int64_t value)
{
	if (value < 0) {
		*p++ = '-';
		return pv_put_u64(p, (uint64_t)0 - (uint64_t)value);
	}
	return pv_put_u64(p, (uint64_t)value);
}

char *pv_put_mac(char *p, const uint8_t mac[6], char sep)
{
	for (int i = 0; i < 6; i++) {
		if (i)
			*p++ = sep;
		*p++ = hex_digits[mac[i] >> 4];
		*p++ = hex_digits[mac[i] & 0xf];
	}
	return p;
}

char *pv_put_ipv4(char *p, uint32_t ip)
{
	for (int shift = 24; shift >= 0; shift -= 8) {
		p = pv_put_u64(p, (ip >> shift) & 0xff);
		if (shift)
			*p++ = '.';
	}
	return p;
}

void pv_hex_encode(const void *data, size_t len, char *out)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex_digits[p[i] >> 4];
		out[2 * i + 1] = hex_digits[p[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int pv_hex_decode(const char *hex, void *out, size_t len)
{
	unsigned char *p = out;

	for (size_t i = 0; i < len; i++) {
		int hi = hex_value(hex[2 * i]);
		int lo = hi < 0 ? -1 : hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return PV_ERR_INVALID;
		p[i] = (unsigned char)(hi << 4 | lo);
	}
	return hex[2 * len] == '\0' ? PV_OK : PV_ERR_INVALID;
}

int pv_mac_parse(const char *str, uint8_t mac[6])
{
	uint8_t parsed[6];
	size_t len = strlen(str);

	if (len == 12)
		return pv_hex_decode(str, mac, 6);
	if (len != 17)
		return PV_ERR_INVALID;
	for (int i = 0; i < 6; i++) {
		const char *p = str + 3 * i;
		int hi = hex_value(p[0]), lo = hex_value(p[1]);
		if (hi < 0 || lo < 0)
			return PV_ERR_INVALID;
		if (i < 5 && p[2] != str[2])
			return PV_ERR_INVALID; /* one separator style throughout */
		parsed[i] = (uint8_t)(hi << 4 | lo);
	}
	if (str[2] != ':' && str[2] != '-')
		return PV_ERR_INVALID;
	memcpy(mac, parsed, 6);
	return PV_OK;
}

void pv_mac_format(const uint8_t mac[6], char sep, char out[PV_MAC_STRLEN])
{
	*pv_put_mac(out, mac, sep) = '\0';
}

int pv_serial_parse(const char *str, uint64_t *serial, int *digits)
{
	size_t len;
	uint64_t value = 0;

	if (str[0] == '0' && (str[1] == 'x' || str[1] == 'X'))
		str += 2;
	len = strlen(str);
	if (len != 8 && len != 16)
		return PV_ERR_INVALID;
	for (size_t i = 0; i < len; i++) {
		int v = hex_value(str[i]);
		if (v < 0)
			return PV_ERR_INVALID;
		value = value << 4 | (uint64_t)v;
	}
	*serial = value;
	*digits = (int)len;
	return PV_OK;
}

void pv_serial_format(uint64_t serial, int digits, char out[PV_SERIAL_STRLEN])
{
	if (digits == 16)
		*pv_put_hex(out, serial, 16) = '\0';
	else
		pv_serial8_format(serial, out);
}

void pv_serial8_format(uint64_t serial, char out[9])
{
	*pv_put_hex(out, serial & 0xffffffffu, 8) = '\0';
}

int pv_ipv4_parse(const char *str, uint32_t *addr)
{
	uint32_t value = 0;
	const char *p = str;

	for (int part = 0; part < 4; part++) {
		unsigned octet = 0;
		int ndigits = 0;
		while (*p >= '0' && *p <= '9') {
			if (ndigits == 1 && octet == 0)
				return PV_ERR_INVALID; /* leading zero */
			octet = octet * 10 + (unsigned)(*p - '0');
			if (octet > 255 || ++ndigits > 3)
				return PV_ERR_INVALID;
			p++;
		}
		if (ndigits == 0)
			return PV_ERR_INVALID;
		value = value << 8 | octet;
		if (part < 3 && *p++ != '.')
			return PV_ERR_INVALID;
	}
	if (*p != '\0')
		return PV_ERR_INVALID;
	*addr = value;
	return PV_OK;
}

void pv_ipv4_format(uint32_t addr, char out[16])
{
	*pv_put_ipv4(out, addr) = '\0';
}

bool pv_hostname_valid(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char c = name[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || name[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!(isalnum((unsigned char)c) || c == '-'))
			return false;
		if (label == 0 && c == '-')
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

bool pv_text_is_printable(const char *str, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)str[i];
		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
			return false;
	}
	return true;
}
