/* /proc/cpuinfo: "Key<tabs>: value" lines. Only Serial, Revision, Model and Hardware are
 * used; the per-CPU blocks are skipped. arm64 kernels omit Hardware and always say BCM2835
 * where they have it, so the device tree is preferred (netboot-and-identity.md §4.1). */
#include <string.h>

#include "internal.h"
#include "piprov/node.h"
#include "piprov/text.h"
#include "banned.h"

#define CPUINFO_LINE_MAX 1024

static void trim(char *s)
{
	size_t n = strlen(s);
	char *p = s;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	memmove(s, p, strlen(p) + 1);
}

int pv_node_cpuinfo_parse(const char *text, size_t len, struct pv_node_cpuinfo *out)
{
	struct pv_node_cpuinfo info;
	size_t pos = 0;
	unsigned lineno = 0;

	memset(&info, 0, sizeof(info));
	while (pos < len) {
		char line[CPUINFO_LINE_MAX], *colon;
		const char *key, *value;
		size_t n = 0;

		lineno++;
		while (pos + n < len && text[pos + n] != '\n')
			n++;
		if (n >= sizeof(line))
			return pv_fail(PV_ERR_FORMAT, "node", "cpuinfo: line %u is too long", lineno);
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + 1;
		if (memchr(line, '\0', n))
			return pv_fail(PV_ERR_FORMAT, "node", "cpuinfo: line %u has a NUL byte",
				       lineno);
		colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		trim(line);
		trim(colon + 1);
		key = line;
		value = colon + 1;
		if (strcmp(key, "Serial") == 0) {
			int digits;
			if (pv_serial_parse(value, &info.serial, &digits))
				return pv_fail(PV_ERR_FORMAT, "node",
					       "cpuinfo: line %u: bad Serial '%s'", lineno, value);
			info.has_serial = true;
		} else if (strcmp(key, "Revision") == 0) {
			if (pv_parse_u32(value, 16, &info.revision))
				return pv_fail(PV_ERR_FORMAT, "node",
					       "cpuinfo: line %u: bad Revision '%s'", lineno, value);
			info.has_revision = true;
		} else if (strcmp(key, "Model") == 0) {
			pv_strlcpy(info.model, value, sizeof(info.model));
		} else if (strcmp(key, "Hardware") == 0) {
			pv_strlcpy(info.hardware, value, sizeof(info.hardware));
		}
	}
	*out = info;
	return PV_OK;
}
