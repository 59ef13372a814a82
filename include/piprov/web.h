/* The station's web page and HTTP API (src/lib/web/, docs/station.md "Web page and API").
 *
 * The server shows a station through a *source*: the small ops table below. The station
 * fills one from a running station (pv_station_web_source(), src/lib/station/); the tests
 * fill one from a fake. The server never sees the station's internals and the station never
 * sees HTTP, so the two depend on each other only through this header.
 *
 * Threading: the server answers every connection on its own thread, so each source op may be
 * called from several threads at once, and while the station works: every op must be
 * thread-safe. Ops should return quickly (copy the state under the station's lock, format
 * outside it). The server never holds a lock of its own while it calls an op.
 *
 * Return values: PV_OK or a negative PV_ERR_* (piprov/error.h) with the detail recorded by
 * pv_fail(); the server turns the codes listed above each op into HTTP statuses and puts
 * pv_last_error() into the JSON error body. Out-buffers are appended to; on failure the
 * server discards whatever was appended.
 *
 * Board JSON (one object; `snapshot` returns an array of them, `board` one with its log).
 * Every field is present, "" or 0 when not known yet:
 *   "serial"   USB serial string (the board's id in every URL), else the port path
 *   "port"     port path, "100-1.3"
 *   "state"    "arrived" | "flashing" | "verifying" | "verified" | "recorded" | "failed" |
 *              "abandoned" (a board the station stopped working on, e.g. on SIGTERM)
 *   "reason"   why it failed or was abandoned, "" otherwise
 *   "chip"     "2711", "2712", ...
 *   "board"    model name ("Raspberry Pi 4 Model B"), "" until the revision is known
 *   "stage"    what the board is doing now ("rom", "serving", "pieeprom.bin", ...)
 *   "bytes"    bytes sent to it so far; "total": bytes it will take in all (0 = unknown)
 *   "mac", "ip", "hostname"   as recorded in the inventory (or reported by the board)
 * Extra fields are allowed and shown nowhere unless the page learns them. Strings are as the
 * device or file gave them (JSON-escaped by jansson, never HTML-escaped: the page does that).
 *
 * Event JSON (one object, the same text as one `--json` line of `piprov station`; station
 * owns the schema, docs/station.md). What the page relies on:
 *   "event"    the event's name ("arrived", "stage", "progress", "verified", "failed",
 *              "recorded", ...)
 *   "time_ms"  wall-clock time of emission, ms since the Unix epoch (page latency)
 *   "board"    for an event about a board: the board object as `snapshot` would show it
 *              after this event (the page replaces its tile with it)
 *   "detail"   optional: one line for that board's log
 *   "key", "value"   of a "metadata" event: one item the board reported (a log line too)
 * Unknown events and fields are ignored by the page.
 */
#ifndef PIPROV_WEB_H
#define PIPROV_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "piprov/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a POST /api/boards/SERIAL/ACTION asks of the station. */
enum pv_web_action {
	PV_WEB_ACTION_RETRY,   /* flash this board again (a failed or abandoned one) */
	PV_WEB_ACTION_FORGET,  /* drop the board from the station's list (not from the inventory) */
	PV_WEB_ACTION_PAUSE,   /* do not start on this port's next board until resumed */
	PV_WEB_ACTION_RESUME,  /* undo pause */
};

/* "retry", "forget", "pause", "resume". */
const char *pv_web_action_name(enum pv_web_action action);

/* Receives one event: `json` is one JSON object of `len` bytes, NUL-terminated, without a
 * newline. Called from the station's threads, never concurrently for one subscription. It
 * copies the text and returns at once (never blocks on a client), and never calls back into
 * the source. */
typedef void (*pv_web_event_fn)(void *user, const char *json, size_t len);

struct pv_web_source_ops {
	/* Append a JSON array of every board the station knows, sorted by port.
	 * Returns: PV_OK, PV_ERR_NOMEM, PV_ERR_TOO_BIG (out's limit). */
	int (*snapshot)(void *ctx, struct pv_buf *out);

	/* Append the board object of `serial` (the "serial" field of the snapshot) with one more
	 * field, "log": an array of strings, the board's log lines oldest first (the last few
	 * hundred; the station bounds it; metadata items among them as "metadata: KEY=VALUE"),
	 * and optionally "metadata": an object of the items the board reported.
	 * Returns: PV_OK, PV_ERR_NOT_FOUND (no such board), PV_ERR_NOMEM, PV_ERR_TOO_BIG. */
	int (*board)(void *ctx, const char *serial, struct pv_buf *out);

	/* Start calling fn(user, ...) for every event from now on; *subscription receives an
	 * id for unsubscribe. Any event the station emits after subscribe returns is
	 * delivered, so subscribe-then-snapshot misses nothing (an event may show up in both:
	 * the page applies board objects idempotently).
	 * Returns: PV_OK, PV_ERR_NOMEM, PV_ERR_BUSY (too many subscribers). */
	int (*subscribe)(void *ctx, pv_web_event_fn fn, void *user, uint64_t *subscription);

	/* Stop the subscription. When it returns, fn is not running for it and will never be
	 * called for it again (the server frees `user` right after). Unknown ids are ignored. */
	void (*unsubscribe)(void *ctx, uint64_t subscription);

	/* Do `action` to the board `serial`; returns once the station accepted it (the effect
	 * shows up as events).
	 * Returns: PV_OK, PV_ERR_NOT_FOUND (no such board), PV_ERR_CONFLICT (not possible in the
	 * board's state, e.g. retry of a board being flashed), PV_ERR_UNSUPPORTED. */
	int (*action)(void *ctx, const char *serial, enum pv_web_action action);

	/* Append the inventory as JSON: an array of record objects as `piprov inventory show
	 * --json` prints them (serial, mac, ip, hostname, board_revision, model, ...).
	 * Returns: PV_OK, PV_ERR_NOT_FOUND (no inventory configured), PV_ERR_FORMAT (the file
	 * does not parse: the message names it and the line), PV_ERR_IO, PV_ERR_NOMEM. */
	int (*inventory)(void *ctx, struct pv_buf *out);

	/* Append the export `format` of the inventory (a name of pv_inventory_export_formats():
	 * "dnsmasq", "csv", ...) and set *content_type to a static MIME type
	 * ("text/plain; charset=utf-8", "text/csv; charset=utf-8", "application/json", ...).
	 * Returns: PV_OK, PV_ERR_INVALID (unknown format), PV_ERR_NOT_FOUND (no inventory),
	 * PV_ERR_FORMAT, PV_ERR_IO, PV_ERR_NOMEM. */
	int (*export_format)(void *ctx, const char *format, struct pv_buf *out,
			     const char **content_type);
};

struct pv_web_source {
	const struct pv_web_source_ops *ops;
	void *ctx;
};

/* ---- The server ---- */

struct pv_web_options {
	/* "ADDRESS:PORT": "127.0.0.1:8080", "0.0.0.0:8080", "[::1]:8080", "[::]:0"; port 0
	 * picks a free one (pv_web_server_port tells which). NULL: "127.0.0.1:8080". */
	const char *listen;
	/* File holding the token of POST requests (`Authorization: Bearer TOKEN`). Created
	 * with mode 0600 and a random 64-hex-digit token when absent; refused when it exists but
	 * group or others may read it, or it is not owned by this user. NULL: every POST is
	 * refused (403). */
	const char *token_file;
	/* Connections at once (0: 64); more are refused by the server. */
	unsigned max_connections;
	/* Seconds between SSE keep-alive comments (0: 15). */
	unsigned keepalive_s;
};

struct pv_web_server;

/* Listen and serve from a thread pool of the server's own until pv_web_server_stop.
 * Returns: PV_OK, PV_ERR_INVALID (bad `listen`: the message quotes it), PV_ERR_ACCESS /
 * PV_ERR_FORMAT (token file: the message names it), PV_ERR_BUSY (address in use), PV_ERR_IO,
 * PV_ERR_NOMEM. */
int pv_web_server_start(const struct pv_web_options *opts, const struct pv_web_source *source,
			struct pv_web_server **server);

/* The TCP port listened on. */
unsigned pv_web_server_port(const struct pv_web_server *server);

/* Close every connection (event streams end), unsubscribe, join the threads, free. When it
 * returns no source op is running or will be called. Accepts NULL. */
void pv_web_server_stop(struct pv_web_server *server);

/* Read the token from `path`, creating the file (0600, a random 64-hex-digit token, atomic)
 * when absent. token must hold PV_WEB_TOKEN_MAX bytes; it receives the first line without
 * its newline. Returns: PV_OK, PV_ERR_ACCESS (group/others may read it, another owner, a
 * symbolic link), PV_ERR_INVALID (a FIFO, device or folder), PV_ERR_FORMAT (shorter than PV_WEB_TOKEN_MIN, too long, a space or a
 * byte that is not printable ASCII), PV_ERR_CRYPTO (no random bytes), PV_ERR_IO. */
#define PV_WEB_TOKEN_MIN 16
#define PV_WEB_TOKEN_MAX 257
int pv_web_token_load(const char *path, char token[PV_WEB_TOKEN_MAX]);

/* ---- Request routing (pure; fuzzed by tests/fuzz/fuzz_web_route.c) ---- */

/* Longest URL path the server looks at; longer ones get 414. */
#define PV_WEB_URL_MAX 512
/* Longest board serial or export format name in a URL. */
#define PV_WEB_NAME_MAX 128

enum pv_web_route_kind {
	PV_WEB_ROUTE_ASSET,        /* GET /, /app.js, /style.css, ...: `name` is the asset */
	PV_WEB_ROUTE_BOARDS,       /* GET /api/boards */
	PV_WEB_ROUTE_BOARD,        /* GET /api/boards/SERIAL */
	PV_WEB_ROUTE_ACTION,       /* POST /api/boards/SERIAL/ACTION */
	PV_WEB_ROUTE_EVENTS,       /* GET /api/events */
	PV_WEB_ROUTE_INVENTORY,    /* GET /api/inventory */
	PV_WEB_ROUTE_EXPORTS,      /* GET /api/exports: the format names */
	PV_WEB_ROUTE_EXPORT,       /* GET /api/exports/FORMAT: `name` is the format */
	PV_WEB_ROUTE_ERROR,        /* no route: `status` says why */
};

struct pv_web_route {
	enum pv_web_route_kind kind;
	/* PV_WEB_ROUTE_ERROR: 400 (bad name), 404 (no such path), 405 (path known, method
	 * not: `allow` lists the methods), 414 (URL too long). 200 otherwise. */
	unsigned status;
	const char *allow;                 /* "GET, HEAD" or "POST" for 405 */
	enum pv_web_action action;         /* PV_WEB_ROUTE_ACTION */
	char name[PV_WEB_NAME_MAX];        /* serial, format or asset name; "" otherwise */
	const char *message;               /* ERROR: a short English reason */
};

/* Route a request by method ("GET", "HEAD", "POST", ...) and URL path (percent-decoding
 * already done, query string removed), both `method_len` / `path_len` bytes, not
 * necessarily NUL-terminated, any bytes. A serial or format is 1..PV_WEB_NAME_MAX-1 of
 * [A-Za-z0-9._:-], not starting with '.'; anything else is 400. Fills *route; never
 * fails. */
void pv_web_route(const char *method, size_t method_len, const char *path, size_t path_len,
		  struct pv_web_route *route);

#ifdef __cplusplus
}
#endif
#endif
