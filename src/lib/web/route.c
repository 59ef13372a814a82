/* Request routing: method + path -> what to answer. Pure (no I/O, no allocation) so that it
 * can be fuzzed and tested on its own; the server (server.c) only acts on the result.
 *
 * The path arrives percent-decoded by libmicrohttpd, so it may hold any byte, NUL included:
 * every comparison is by length, and a name is accepted only from a small alphabet. */
#include <stdbool.h>
#include <string.h>

#include "piprov/web.h"

#include "internal.h"

#include "banned.h"

static const char *const action_names[] = {
	[PV_WEB_ACTION_RETRY] = "retry",
	[PV_WEB_ACTION_FORGET] = "forget",
	[PV_WEB_ACTION_PAUSE] = "pause",
	[PV_WEB_ACTION_RESUME] = "resume",
};

const char *pv_web_action_name(enum pv_web_action action)
{
	if ((unsigned)action >= PV_ARRAY_SIZE(action_names))
		return "?";
	return action_names[action];
}

/* The embedded assets (assets.c is generated from web/ at build time). Kept here as names
 * only so routing needs no generated code: the server looks the bytes up. */
static const char *const asset_paths[][2] = {
	{ "/", "index.html" },
	{ "/index.html", "index.html" },
	{ "/app.js", "app.js" },
	{ "/style.css", "style.css" },
	{ "/favicon.svg", "favicon.svg" },
};

struct segment {
	const char *text;
	size_t len;
};

static bool seg_is(const struct segment *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->len == n && memcmp(s->text, lit, n) == 0;
}

static bool mem_is(const char *p, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	return len == n && memcmp(p, lit, n) == 0;
}

static void set_error(struct pv_web_route *r, unsigned status, const char *message)
{
	r->kind = PV_WEB_ROUTE_ERROR;
	r->status = status;
	r->message = message;
	r->name[0] = '\0';
}

/* A method this route does not take: 405 with the methods it does. */
static void set_method_error(struct pv_web_route *r, const char *allow)
{
	set_error(r, 405, "method not allowed");
	r->allow = allow;
}

static bool name_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == ':' || c == '-';
}

/* Copies a serial or format into r->name. False (and 400) for anything outside the alphabet,
 * empty, too long, or starting with '.' (no "." / ".." look-alikes reach a source). */
static bool take_name(struct pv_web_route *r, const struct segment *s)
{
	size_t i;

	if (s->len == 0 || s->len >= sizeof(r->name) || s->text[0] == '.') {
		set_error(r, 400, "bad name in the URL");
		return false;
	}
	for (i = 0; i < s->len; i++) {
		if (!name_char_ok((unsigned char)s->text[i])) {
			set_error(r, 400, "bad name in the URL");
			return false;
		}
	}
	memcpy(r->name, s->text, s->len);
	r->name[s->len] = '\0';
	return true;
}

static bool parse_action(const struct segment *s, enum pv_web_action *action)
{
	unsigned i;

	for (i = 0; i < PV_ARRAY_SIZE(action_names); i++) {
		if (seg_is(s, action_names[i])) {
			*action = (enum pv_web_action)i;
			return true;
		}
	}
	return false;
}

#define MAX_SEGMENTS 5

/* Splits "/a/b/c" into segments; false when there are more than MAX_SEGMENTS or an empty
 * one ("//", a trailing "/" after the first). */
static bool split(const char *path, size_t len, struct segment *seg, unsigned *count)
{
	size_t i = 1, start = 1;
	unsigned n = 0;

	if (len == 1) {
		*count = 0;
		return true;
	}
	for (; i <= len; i++) {
		if (i == len || path[i] == '/') {
			if (i == start || n == MAX_SEGMENTS)
				return false;
			seg[n].text = path + start;
			seg[n].len = i - start;
			n++;
			start = i + 1;
		}
	}
	*count = n;
	return true;
}

/* The route when the method fits it; 405 naming the methods it takes otherwise. */
static void accept(struct pv_web_route *r, enum pv_web_route_kind kind, bool method_ok,
		   const char *allow)
{
	if (!method_ok) {
		set_method_error(r, allow);
		return;
	}
	r->kind = kind;
}

#define GET_HEAD "GET, HEAD"

/* /api/boards[/SERIAL[/ACTION]] */
static void route_boards(struct pv_web_route *r, const struct segment *seg, unsigned count,
			 bool get, bool post)
{
	if (count == 2) {
		accept(r, PV_WEB_ROUTE_BOARDS, get, GET_HEAD);
	} else if (count == 3) {
		if (take_name(r, &seg[2]))
			accept(r, PV_WEB_ROUTE_BOARD, get, GET_HEAD);
	} else if (count == 4 && parse_action(&seg[3], &r->action)) {
		if (take_name(r, &seg[2]))
			accept(r, PV_WEB_ROUTE_ACTION, post, "POST");
	} else {
		set_error(r, 404, count == 4 ? "no such action" : "no such page");
	}
}

/* /api/exports[/FORMAT] */
static void route_exports(struct pv_web_route *r, const struct segment *seg, unsigned count,
			  bool get)
{
	if (count == 2) {
		accept(r, PV_WEB_ROUTE_EXPORTS, get, GET_HEAD);
	} else if (count == 3) {
		if (take_name(r, &seg[2]))
			accept(r, PV_WEB_ROUTE_EXPORT, get, GET_HEAD);
	} else {
		set_error(r, 404, "no such page");
	}
}

void pv_web_route(const char *method, size_t method_len, const char *path, size_t path_len,
		  struct pv_web_route *r)
{
	bool get = mem_is(method, method_len, "GET") || mem_is(method, method_len, "HEAD");
	bool post = mem_is(method, method_len, "POST");
	struct segment seg[MAX_SEGMENTS];
	unsigned count, i;

	memset(r, 0, sizeof(*r));
	r->status = 200;
	if (path_len > PV_WEB_URL_MAX) {
		set_error(r, 414, "URL too long");
		return;
	}
	if (path_len == 0 || path[0] != '/') {
		set_error(r, 400, "the path must start with '/'");
		return;
	}
	for (i = 0; i < PV_ARRAY_SIZE(asset_paths); i++) {
		if (mem_is(path, path_len, asset_paths[i][0])) {
			accept(r, PV_WEB_ROUTE_ASSET, get, GET_HEAD);
			if (r->kind == PV_WEB_ROUTE_ASSET)
				memcpy(r->name, asset_paths[i][1], strlen(asset_paths[i][1]) + 1);
			return;
		}
	}
	if (!split(path, path_len, seg, &count) || count < 2 || !seg_is(&seg[0], "api"))
		set_error(r, 404, "no such page");
	else if (seg_is(&seg[1], "boards"))
		route_boards(r, seg, count, get, post);
	else if (seg_is(&seg[1], "exports"))
		route_exports(r, seg, count, get);
	else if (count == 2 && seg_is(&seg[1], "events"))
		accept(r, PV_WEB_ROUTE_EVENTS, get, GET_HEAD);
	else if (count == 2 && seg_is(&seg[1], "inventory"))
		accept(r, PV_WEB_ROUTE_INVENTORY, get, GET_HEAD);
	else
		set_error(r, 404, "no such page");
}
