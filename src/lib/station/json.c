/* The station's JSON: events (one `--json` line each, the web page's event stream) and
 * boards, in the schema of docs/station.md. jansson escapes every string a device gave. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "station_internal.h"
#include "banned.h"

/* A JSON string of text that may not be UTF-8 (a device's string, a file name): bytes that
 * jansson refuses become '?', so one odd byte never loses the whole event. */
static json_t *text_json(const char *text)
{
	json_t *value = json_string(text);
	char safe[1024];
	size_t i;

	if (value)
		return value;
	for (i = 0; text[i] && i + 1 < sizeof(safe); i++)
		safe[i] = (unsigned char)text[i] < 0x80 ? text[i] : '?';
	safe[i] = '\0';
	return json_string(safe);
}

static int set_text(json_t *obj, const char *key, const char *text)
{
	return json_object_set_new(obj, key, text_json(text ? text : ""));
}

static int set_int(json_t *obj, const char *key, uint64_t value)
{
	return json_object_set_new(obj, key, json_integer((json_int_t)value));
}

void *pv_station_board_to_json(const struct pv_station_board *b)
{
	json_t *obj = json_object();
	int rc;

	if (!obj)
		return NULL;
	rc = set_text(obj, "serial", pv_station_board_key(b));
	rc |= set_text(obj, "usb_serial", b->serial);
	rc |= set_text(obj, "port", b->port);
	rc |= set_text(obj, "state", pv_station_state_name(b->state));
	rc |= set_text(obj, "reason", b->reason);
	rc |= set_text(obj, "chip", b->chip);
	rc |= set_text(obj, "board", b->model);
	rc |= set_text(obj, "stage", b->stage);
	rc |= set_int(obj, "bytes", b->bytes);
	rc |= set_int(obj, "total", b->total);
	rc |= set_text(obj, "mac", b->mac);
	rc |= set_text(obj, "ip", b->ip);
	rc |= set_text(obj, "hostname", b->hostname);
	rc |= set_int(obj, "id", b->id);
	rc |= set_int(obj, "attempt", b->attempt);
	rc |= set_int(obj, "arrived_ms", b->arrived_ms);
	rc |= set_int(obj, "ended_ms", b->ended_ms);
	if (rc) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

char *station_event_json(const struct pv_station_event *ev, size_t *len)
{
	json_t *obj = json_pack("{s:s, s:I, s:I, s:I}", "event", pv_station_event_name(ev->kind),
				"seq", (json_int_t)ev->seq, "t_ms", (json_int_t)ev->t_ms,
				"time_ms", (json_int_t)ev->time_ms);
	char *text = NULL;
	int rc = 0;

	if (!obj)
		return NULL;
	if (ev->board) {
		rc |= set_text(obj, "port", ev->board->port);
		rc |= set_text(obj, "serial", ev->board->serial);
		rc |= json_object_set_new(obj, "board", pv_station_board_to_json(ev->board));
	}
	if (ev->detail[0])
		rc |= set_text(obj, "detail", ev->detail);
	switch (ev->kind) {
	case PV_STATION_EV_FILE:
		rc |= set_text(obj, "file", ev->file);
		rc |= set_int(obj, "size", ev->size);
		break;
	case PV_STATION_EV_METADATA:
		rc |= set_text(obj, "key", ev->file);
		rc |= set_text(obj, "value", ev->value);
		break;
	case PV_STATION_EV_RECORDED:
		rc |= json_object_set_new(obj, "created", json_boolean(ev->created));
		rc |= set_int(obj, "conflicts", ev->conflicts);
		break;
	default:
		break;
	}
	if (!rc)
		text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (text)
		*len = strlen(text);
	return text;
}

static int append_json(json_t *value, struct pv_buf *out)
{
	char *text;
	int rc;

	if (!value)
		return pv_fail(PV_ERR_NOMEM, "station", "out of memory");
	text = json_dumps(value, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(value);
	if (!text)
		return pv_fail(PV_ERR_NOMEM, "station", "out of memory");
	rc = pv_buf_append(out, text, strlen(text));
	free(text);
	return rc;
}

static int compare_port_only(const void *pa, const void *pb)
{
	const struct pv_station_board *a = pa, *b = pb;
	int c = strcmp(a->port, b->port);

	return c ? c : a->id < b->id ? -1 : a->id > b->id;
}

int pv_station_snapshot_json(struct pv_station *st, struct pv_buf *out)
{
	struct pv_station_board *boards;
	json_t *array;
	size_t n;
	int rc = pv_station_boards(st, &boards, &n);

	if (rc)
		return rc;
	qsort(boards, n, sizeof(*boards), compare_port_only);
	array = json_array();
	for (size_t i = 0; array && i < n; i++) {
		if (json_array_append_new(array, pv_station_board_to_json(&boards[i]))) {
			json_decref(array);
			array = NULL;
		}
	}
	free(boards);
	return append_json(array, out);
}

int pv_station_board_json(struct pv_station *st, const char *key, struct pv_buf *out)
{
	struct pv_station_board board;
	char **lines = NULL;
	size_t n = 0;
	json_t *obj, *log;
	int rc = station_board_log(st, key, &board, &lines, &n);

	if (rc)
		return rc;
	obj = pv_station_board_to_json(&board);
	log = json_array();
	for (size_t i = 0; i < n; i++) {
		if (log && json_array_append_new(log, text_json(lines[i]))) {
			json_decref(log);
			log = NULL;
		}
		free(lines[i]);
	}
	free(lines);
	if (!obj || !log || json_object_set_new(obj, "log", log)) {
		if (!obj)
			json_decref(log);
		json_decref(obj);
		return pv_fail(PV_ERR_NOMEM, "station", "out of memory");
	}
	return append_json(obj, out);
}
