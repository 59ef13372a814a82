/* Fuzz target: HTTP request routing. The input is "METHOD PATH" (split at the first space;
 * no space: all of it is the path of a GET). Checks the invariants the server relies on. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "piprov/web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int name_is_clean(const char *name)
{
	size_t len = strnlen(name, PV_WEB_NAME_MAX);
	size_t i;

	if (len == PV_WEB_NAME_MAX || len == 0 || name[0] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == ':' || c == '-'))
			return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *space = memchr(text, ' ', size);
	struct pv_web_route r;

	if (space)
		pv_web_route(text, (size_t)(space - text), space + 1, size - (size_t)(space - text) - 1,
			     &r);
	else
		pv_web_route("GET", 3, text, size, &r);

	switch (r.kind) {
	case PV_WEB_ROUTE_ERROR:
		if (r.status != 400 && r.status != 404 && r.status != 405 && r.status != 414)
			__builtin_trap();
		if (!r.message || (r.status == 405) != (r.allow != NULL))
			__builtin_trap();
		if (r.name[0] != '\0')
			__builtin_trap();
		break;
	case PV_WEB_ROUTE_BOARD:
	case PV_WEB_ROUTE_ACTION:
	case PV_WEB_ROUTE_EXPORT:
		/* Whatever reaches a source is a clean, bounded name. */
		if (r.status != 200 || !name_is_clean(r.name))
			__builtin_trap();
		if (r.kind == PV_WEB_ROUTE_ACTION &&
		    strcmp(pv_web_action_name(r.action), "?") == 0)
			__builtin_trap();
		break;
	case PV_WEB_ROUTE_ASSET:
		if (r.status != 200 || r.name[0] == '\0' || strchr(r.name, '/'))
			__builtin_trap();
		break;
	default:
		if (r.status != 200 || r.name[0] != '\0')
			__builtin_trap();
		break;
	}
	return 0;
}
