/* Small formatters that store text at a cursor in a buffer reserved beforehand: the writer
 * and the dnsmasq export format 100,000 boards, and snprintf() per MAC, address and serial
 * was most of their time. Each returns the cursor after what it wrote (no NUL). */
#include <string.h>

#include "inventory_internal.h"
#include "banned.h"

static const char hex_digits[] = "0123456789abcdef";

char *pv_inventory_put_mem(char *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	return p + len;
}

char *pv_inventory_put_str(char *p, const char *s)
{
	return pv_inventory_put_mem(p, s, strlen(s));
}

char *pv_inventory_put_hex(char *p, uint64_t value, int min_digits)
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

char *pv_inventory_put_u64(char *p, uint64_t value)
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

char *pv_inventory_put_i64(char *p, int64_t value)
{
	if (value < 0) {
		*p++ = '-';
		return pv_inventory_put_u64(p, (uint64_t)0 - (uint64_t)value);
	}
	return pv_inventory_put_u64(p, (uint64_t)value);
}

char *pv_inventory_put_mac(char *p, const uint8_t mac[6], char sep)
{
	for (int i = 0; i < 6; i++) {
		if (i)
			*p++ = sep;
		*p++ = hex_digits[mac[i] >> 4];
		*p++ = hex_digits[mac[i] & 0xf];
	}
	return p;
}

char *pv_inventory_put_ipv4(char *p, uint32_t ip)
{
	for (int shift = 24; shift >= 0; shift -= 8) {
		p = pv_inventory_put_u64(p, (ip >> shift) & 0xff);
		if (shift)
			*p++ = '.';
	}
	return p;
}

char *pv_inventory_put_serial(char *p, const struct pv_inventory_record *rec)
{
	if (rec->serial_digits == 16)
		return pv_inventory_put_hex(p, rec->serial, 16);
	return pv_inventory_put_hex(p, rec->serial & 0xffffffffu, 8);
}
