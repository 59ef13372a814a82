/* Device-tree property values as the kernel exposes them under /proc/device-tree: integers
 * are big-endian 32-bit cells, strings are NUL-terminated, string lists NUL-separated, MAC
 * addresses six raw bytes (netboot-and-identity.md §4.1, §4.3). Every length is checked:
 * a property of the wrong size is reported, never read past. */
#include <string.h>

#include "internal.h"
#include "piprov/node.h"
#include "piprov/text.h"
#include "banned.h"

int pv_node_dt_u32(const void *data, size_t len, uint32_t *out)
{
	const unsigned char *b = data;

	if (len != 4)
		return pv_fail(PV_ERR_FORMAT, "node",
			       "expected one 4-byte big-endian cell, found %zu bytes", len);
	*out = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	return PV_OK;
}

int pv_node_dt_string(const void *data, size_t len, char *out, size_t size)
{
	const char *s = data;
	size_t n = len;

	if (n > 0 && s[n - 1] == '\0')
		n--;
	if (n == 0)
		return pv_fail(PV_ERR_FORMAT, "node", "empty string property");
	if (memchr(s, '\0', n))
		return pv_fail(PV_ERR_FORMAT, "node", "string property has an embedded NUL");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return pv_fail(PV_ERR_FORMAT, "node",
				       "string property has a control byte at offset %zu", i);
	if (n >= size)
		return pv_fail(PV_ERR_TOO_BIG, "node",
			       "string property of %zu bytes is longer than %zu", n, size - 1);
	memcpy(out, s, n);
	out[n] = '\0';
	return PV_OK;
}

int pv_node_dt_string_at(const void *data, size_t len, unsigned index, char *out, size_t size)
{
	const char *s = data, *end = s + len;

	if (len == 0 || s[len - 1] != '\0')
		return pv_fail(PV_ERR_FORMAT, "node", "string list is not NUL-terminated");
	for (unsigned i = 0; s < end; i++) {
		size_t n = strlen(s); /* bounded: the list ends with a NUL */
		if (i == index)
			return pv_node_dt_string(s, n + 1, out, size);
		s += n + 1;
	}
	return pv_fail(PV_ERR_NOT_FOUND, "node", "string list has no entry %u", index);
}

int pv_node_dt_mac(const void *data, size_t len, uint8_t mac[6])
{
	if (len != 6)
		return pv_fail(PV_ERR_FORMAT, "node", "expected a 6-byte MAC address, found %zu bytes",
			       len);
	memcpy(mac, data, 6);
	return PV_OK;
}
