/* The two boot files whose contents decide what comes next: config.txt (which kernel and
 * command line the firmware loads) and cmdline.txt (the NFS root the kernel mounts). */
#include <string.h>

#include "internal.h"
#include "piprov/netboot.h"
#include "piprov/text.h"
#include "banned.h"

#define CONFIG_TXT_MAX (64u * 1024u)
#define CONFIG_LINE_MAX 1024u
#define CMDLINE_MAX 4096u

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int pv_netboot_cmdline_nfsroot(const char *text, size_t len, uint32_t client,
			       uint32_t default_server, struct pv_netboot_nfsroot *out)
{
	struct pv_netboot_nfsroot r;
	const char *value = NULL, *end = text + len;
	size_t value_len = 0, dir_len, n;
	const char *p = text, *colon, *comma, *dir;
	char client_text[16], server_text[16];

	if (len > CMDLINE_MAX)
		return pv_fail(PV_ERR_FORMAT, "netboot", "cmdline.txt of %zu bytes (at most %u)",
			       len, CMDLINE_MAX);
	if (memchr(text, '\0', len))
		return pv_fail(PV_ERR_FORMAT, "netboot", "cmdline.txt has a NUL byte");
	memset(&r, 0, sizeof(r));
	/* The kernel reads one line: the first newline ends it. */
	while (p < end && *p != '\n') {
		const char *word;

		while (p < end && *p != '\n' && is_space(*p))
			p++;
		word = p;
		while (p < end && !is_space(*p))
			p++;
		n = (size_t)(p - word);
		if (n > 8 && memcmp(word, "nfsroot=", 8) == 0) {
			value = word + 8; /* the last one wins, as in the kernel */
			value_len = n - 8;
		} else if (n == 13 && memcmp(word, "root=/dev/nfs", 13) == 0) {
			r.root_is_nfs = true;
		}
	}
	if (!value)
		return pv_fail(PV_ERR_NOT_FOUND, "netboot", "cmdline.txt has no nfsroot=");
	comma = memchr(value, ',', value_len);
	dir_len = comma ? (size_t)(comma - value) : value_len;
	colon = memchr(value, ':', dir_len);
	r.server = default_server;
	dir = value;
	if (colon) {
		n = (size_t)(colon - value);
		if (n == 0 || n >= sizeof(server_text))
			return pv_fail(PV_ERR_FORMAT, "netboot",
				       "cmdline.txt: nfsroot server '%.*s' is not an IPv4 address",
				       (int)(n < 40 ? n : 40), value);
		memcpy(server_text, value, n);
		server_text[n] = '\0';
		if (pv_ipv4_parse(server_text, &r.server))
			return pv_fail(PV_ERR_FORMAT, "netboot",
				       "cmdline.txt: nfsroot server '%s' is not an IPv4 address",
				       server_text);
		dir = colon + 1;
		dir_len -= n + 1;
	}
	if (!dir_len || dir[0] != '/')
		return pv_fail(PV_ERR_FORMAT, "netboot",
			       "cmdline.txt: nfsroot directory is not an absolute path");
	/* "%s" in the directory is the client's address (nfsroot.rst). */
	pv_ipv4_format(client, client_text);
	for (size_t i = 0, o = 0; i < dir_len; i++) {
		const char *piece = &dir[i];
		size_t piece_len = 1;

		if (dir[i] == '%' && i + 1 < dir_len && dir[i + 1] == 's') {
			piece = client_text;
			piece_len = strlen(client_text);
			i++;
		}
		if (o + piece_len >= sizeof(r.path))
			return pv_fail(PV_ERR_FORMAT, "netboot",
				       "cmdline.txt: nfsroot directory over %zu bytes",
				       sizeof(r.path) - 1);
		memcpy(r.path + o, piece, piece_len);
		o += piece_len;
		r.path[o] = '\0';
	}
	if (comma) {
		n = (size_t)(value + value_len - (comma + 1));
		if (n >= sizeof(r.options))
			n = sizeof(r.options) - 1;
		memcpy(r.options, comma + 1, n);
		r.options[n] = '\0';
	}
	*out = r;
	return PV_OK;
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_space((*s)[*n - 1]))
		(*n)--;
}

int pv_netboot_config_txt_parse(const char *text, size_t len, const char *board_section,
				struct pv_netboot_config_txt *out)
{
	static const struct {
		const char *key;
		size_t offset;
	} keys[] = {
		{ "kernel", offsetof(struct pv_netboot_config_txt, kernel) },
		{ "cmdline", offsetof(struct pv_netboot_config_txt, cmdline) },
		{ "device_tree", offsetof(struct pv_netboot_config_txt, device_tree) },
	};
	struct pv_netboot_config_txt c;
	size_t pos = 0;
	unsigned line_no = 0;
	bool active = true;

	if (len > CONFIG_TXT_MAX)
		return pv_fail(PV_ERR_FORMAT, "netboot", "config.txt of %zu bytes (at most %u)", len,
			       CONFIG_TXT_MAX);
	memset(&c, 0, sizeof(c));
	while (pos < len) {
		const char *line = text + pos, *eq;
		size_t n = 0;

		line_no++;
		while (pos + n < len && text[pos + n] != '\n')
			n++;
		pos += n + 1;
		if (n > CONFIG_LINE_MAX)
			return pv_fail(PV_ERR_FORMAT, "netboot", "config.txt: line %u is over %u bytes",
				       line_no, CONFIG_LINE_MAX);
		trim(&line, &n);
		if (!n || line[0] == '#')
			continue;
		if (line[0] == '[') {
			/* [all] applies to every board, the board's own filter to it; any other
			 * filter (another model, gpio, EDID, serial ...) is taken as not matching. */
			active = (n == 5 && memcmp(line, "[all]", 5) == 0) ||
				 (board_section && strlen(board_section) == n &&
				  memcmp(line, board_section, n) == 0);
			continue;
		}
		eq = memchr(line, '=', n);
		if (!active || !eq)
			continue;
		for (size_t k = 0; k < PV_ARRAY_SIZE(keys); k++) {
			size_t key_len = strlen(keys[k].key), value_len;
			const char *value = eq + 1;
			const char *name = line;
			size_t name_len = (size_t)(eq - line);

			trim(&name, &name_len);
			if (name_len != key_len || memcmp(name, keys[k].key, key_len) != 0)
				continue;
			value_len = n - (size_t)(value - line);
			trim(&value, &value_len);
			if (value_len >= PV_NETBOOT_TFTP_PATH_MAX ||
			    !pv_text_is_printable(value, value_len) || memchr(value, '\t', value_len))
				return pv_fail(PV_ERR_FORMAT, "netboot",
					       "config.txt: line %u: '%s' value is not a file name",
					       line_no, keys[k].key);
			memcpy((char *)&c + keys[k].offset, value, value_len);
			((char *)&c + keys[k].offset)[value_len] = '\0';
		}
	}
	*out = c;
	return PV_OK;
}
