/* Editing the running bootloader config (bootconf.txt) for network boot. The syntax is
 * config.txt's (eeprom-format.md §5): NAME=value lines, '#' comments, [filter] sections,
 * later assignments win, and everything after [config.txt] belongs to config.txt. An edit
 * replaces the last unconditional assignment in place, or adds the line at the end of the
 * unconditional part, so comments, order and conditional sections are kept as they were. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "piprov/node.h"
#include "piprov/text.h"
#include "banned.h"

#define BOOT_MODE_NETWORK 0x2u
#define BOOT_MODE_RPIBOOT 0x3u
#define BOOT_MODE_BCM_USB_MSD 0x5u
#define BOOT_MODE_NVME 0x6u
#define BOOT_MODE_STOP 0xeu
#define BOOT_MODE_RESTART 0xfu
#define TFTP_PREFIX_STR_MAX 32

struct line {
	size_t start, end; /* [start, end) without the newline */
};

static bool next_line(const char *text, size_t len, size_t *pos, struct line *l)
{
	size_t p = *pos;

	if (p >= len)
		return false;
	l->start = p;
	while (p < len && text[p] != '\n')
		p++;
	l->end = p;
	*pos = p < len ? p + 1 : p;
	return true;
}

static bool is_section(const char *text, const struct line *l, const char **name, size_t *nlen)
{
	size_t s = l->start;

	while (s < l->end && (text[s] == ' ' || text[s] == '\t'))
		s++;
	if (s >= l->end || text[s] != '[')
		return false;
	*name = text + s;
	*nlen = l->end - s;
	return true;
}

int pv_node_config_set(struct pv_buf *config, const char *key, const char *value)
{
	const char *text = pv_buf_str(config);
	size_t len = config->len, pos = 0, klen = strlen(key);
	size_t replace_start = 0, replace_end = 0, insert_at = 0;
	bool found = false, unconditional = true, insert_known = false;
	struct pv_buf out = PV_BUF_INIT(config->limit);
	struct line l;
	int rc;

	while (next_line(text, len, &pos, &l)) {
		const char *name;
		size_t nlen;
		if (is_section(text, &l, &name, &nlen)) {
			bool all = nlen >= 5 && strncmp(name, "[all]", 5) == 0;
			if (unconditional && !all && !insert_known) {
				insert_at = l.start;
				insert_known = true;
			}
			unconditional = all;
			if (nlen >= 12 && strncmp(name, "[config.txt]", 12) == 0)
				break; /* the rest is config.txt, not the bootloader's */
			continue;
		}
		if (unconditional && l.end - l.start > klen && strncmp(text + l.start, key, klen) == 0 &&
		    text[l.start + klen] == '=') {
			replace_start = l.start;
			replace_end = l.end;
			found = true;
		}
	}
	if (!insert_known)
		insert_at = pos >= len ? len : pos;
	if (found) {
		rc = pv_buf_append(&out, text, replace_start);
		if (!rc)
			rc = pv_buf_appendf(&out, "%s=%s", key, value);
		if (!rc)
			rc = pv_buf_append(&out, text + replace_end, len - replace_end);
	} else {
		rc = pv_buf_append(&out, text, insert_at);
		if (!rc && insert_at > 0 && text[insert_at - 1] != '\n')
			rc = pv_buf_putc(&out, '\n');
		if (!rc)
			rc = pv_buf_appendf(&out, "%s=%s\n", key, value);
		if (!rc)
			rc = pv_buf_append(&out, text + insert_at, len - insert_at);
	}
	if (rc) {
		pv_buf_release(&out);
		return pv_fail(rc, "node", "config: cannot set %s: %s", key, pv_strerror(rc));
	}
	pv_buf_release(config);
	*config = out;
	return PV_OK;
}

int pv_node_boot_order_with_network(uint32_t order, bool first, uint32_t *out)
{
	unsigned nibbles[8], n = 0, m = 0;
	unsigned kept[9];
	uint32_t result = 0;

	/* A 32-bit value holds at most 8 modes. */
	for (uint32_t o = order; o && n < 8; o >>= 4)
		nibbles[n++] = o & 0xf;
	/* Drop an existing network entry; it is put back where asked. */
	if (first)
		kept[m++] = BOOT_MODE_NETWORK;
	for (unsigned i = 0; i < n; i++) {
		if (nibbles[i] == BOOT_MODE_NETWORK)
			continue;
		if (!first && (nibbles[i] == BOOT_MODE_RESTART || nibbles[i] == BOOT_MODE_STOP ||
			       nibbles[i] == BOOT_MODE_RPIBOOT)) {
			kept[m++] = BOOT_MODE_NETWORK;
			first = true; /* placed */
		}
		kept[m++] = nibbles[i];
	}
	if (!first)
		kept[m++] = BOOT_MODE_NETWORK;
	if (m > 8)
		return pv_fail(PV_ERR_INVALID, "node", "BOOT_ORDER %#x has no room for network boot",
			       order);
	for (unsigned i = m; i-- > 0;)
		result = result << 4 | kept[i];
	*out = result;
	return PV_OK;
}

static bool key_valid(const char *key)
{
	if (!*key)
		return false;
	for (const char *p = key; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

int pv_node_config_validate(const char *config, const struct pv_board_type *board)
{
	char value[256];
	uint32_t v;

	if (pv_node_config_get(config, "BOOT_ORDER", value, sizeof(value)) && value[0]) {
		unsigned pos = 0;
		if (pv_parse_u32(value, 0, &v) || strncmp(value, "0x", 2) != 0)
			return pv_fail(PV_ERR_INVALID, "node", "BOOT_ORDER '%s' is not a hex number "
				       "like 0xf21", value);
		for (uint32_t o = v; o; o >>= 4, pos++) {
			unsigned mode = o & 0xf;
			if ((mode > 0x7 && mode < 0xe))
				return pv_fail(PV_ERR_INVALID, "node", "BOOT_ORDER %s: %#x is not a "
					       "boot mode", value, mode);
			if (mode == BOOT_MODE_NVME && board && !(board->features & PV_BOARD_HAS_NVME))
				return pv_fail(PV_ERR_UNSUPPORTED, "node", "BOOT_ORDER %s: the %s "
					       "cannot boot from NVMe (mode 6)", value, board->name);
			if (mode == BOOT_MODE_BCM_USB_MSD && board &&
			    !(board->features & PV_BOARD_BCM_USB_MSD))
				return pv_fail(PV_ERR_UNSUPPORTED, "node", "BOOT_ORDER %s: the %s has "
					       "no BCM-USB-MSD boot (mode 5)", value, board->name);
			if (mode == BOOT_MODE_RPIBOOT && (o >> 4) != 0 &&
			    (o >> 4) != BOOT_MODE_RESTART && (o >> 4) != BOOT_MODE_STOP)
				return pv_fail(PV_ERR_INVALID, "node", "BOOT_ORDER %s: RPIBOOT (3) must "
					       "be the last mode", value);
		}
	}
	if (pv_node_config_get(config, "TFTP_PREFIX", value, sizeof(value)) &&
	    (pv_parse_u32(value, 10, &v) || v > 2))
		return pv_fail(PV_ERR_INVALID, "node", "TFTP_PREFIX '%s' must be 0, 1 or 2", value);
	if (pv_node_config_get(config, "TFTP_PREFIX_STR", value, sizeof(value)) &&
	    strlen(value) > TFTP_PREFIX_STR_MAX)
		return pv_fail(PV_ERR_INVALID, "node", "TFTP_PREFIX_STR '%s' is longer than %d "
			       "characters", value, TFTP_PREFIX_STR_MAX);
	if (pv_node_config_get(config, "TFTP_IP", value, sizeof(value)) && value[0] &&
	    pv_ipv4_parse(value, &v))
		return pv_fail(PV_ERR_INVALID, "node", "TFTP_IP '%s' is not an IPv4 address", value);
	return PV_OK;
}

int pv_node_setting_parse(const char *text, char *key, size_t key_size, const char **value)
{
	const char *eq = strchr(text, '=');
	size_t klen;

	if (!eq || eq == text)
		return pv_fail(PV_ERR_INVALID, "node", "'%s' is not KEY=VALUE", text);
	klen = (size_t)(eq - text);
	if (klen >= key_size)
		return pv_fail(PV_ERR_INVALID, "node", "'%s': the key is too long", text);
	memcpy(key, text, klen);
	key[klen] = '\0';
	if (!key_valid(key))
		return pv_fail(PV_ERR_INVALID, "node", "'%s': keys are upper-case letters, digits "
			       "and '_' (e.g. BOOT_UART)", key);
	if (!pv_text_is_printable(eq + 1, strlen(eq + 1)) || strpbrk(eq + 1, "\r\n"))
		return pv_fail(PV_ERR_INVALID, "node", "'%s': the value has control characters",
			       key);
	*value = eq + 1;
	return PV_OK;
}
