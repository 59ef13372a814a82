/* The fake station behind the web server's tests (fake_source.h). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "piprov/error.h"
#include "piprov/inventory_export.h"
#include "piprov/text.h"

#include "fake_source.h"

void fake_source_init(struct fake_source *fs)
{
	memset(fs, 0, sizeof(*fs));
	pthread_mutex_init(&fs->lock, NULL);
	for (size_t i = 0; i < FAKE_BOARDS_MAX; i++)
		pv_buf_init(&fs->logs[i], 1u << 20);
	fs->next_id = 1;
}

void fake_source_release(struct fake_source *fs)
{
	for (size_t i = 0; i < FAKE_BOARDS_MAX; i++)
		pv_buf_release(&fs->logs[i]);
	free(fs->inventory_json);
	pthread_mutex_destroy(&fs->lock);
}

static json_t *board_json(const struct fake_board *b)
{
	json_t *obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s}",
				"serial", b->serial, "port", b->port, "state", b->state, "reason",
				b->reason, "chip", b->chip, "board", b->board, "stage", b->stage,
				"bytes", (json_int_t)b->bytes, "total", (json_int_t)b->total, "mac",
				b->mac, "ip", b->ip, "hostname", b->hostname);

	if (obj && b->note[0])
		json_object_set_new(obj, "metadata", json_pack("{s:s}", "USER_NOTE", b->note));
	return obj;
}

static int append_json(struct pv_buf *out, json_t *value)
{
	char *text = value ? json_dumps(value, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	int rc;

	json_decref(value);
	if (!text)
		return PV_ERR_NOMEM;
	rc = pv_buf_append_str(out, text);
	free(text);
	return rc;
}

static int op_snapshot(void *ctx, struct pv_buf *out)
{
	struct fake_source *fs = ctx;
	json_t *array = json_array();

	pthread_mutex_lock(&fs->lock);
	for (size_t i = 0; i < fs->count; i++)
		json_array_append_new(array, board_json(&fs->boards[i]));
	pthread_mutex_unlock(&fs->lock);
	return append_json(out, array);
}

static int op_board(void *ctx, const char *serial, struct pv_buf *out)
{
	struct fake_source *fs = ctx;
	json_t *obj = NULL, *log;

	pthread_mutex_lock(&fs->lock);
	for (size_t i = 0; i < fs->count && !obj; i++) {
		const char *p, *end, *nl;

		if (strcmp(fs->boards[i].serial, serial) != 0)
			continue;
		obj = board_json(&fs->boards[i]);
		log = json_array();
		p = pv_buf_str(&fs->logs[i]);
		end = p + fs->logs[i].len;
		while (p < end) {
			nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl)
				nl = end;
			json_array_append_new(log, json_stringn(p, (size_t)(nl - p)));
			p = nl + 1;
		}
		json_object_set_new(obj, "log", log);
	}
	pthread_mutex_unlock(&fs->lock);
	if (!obj)
		return PV_ERR_NOT_FOUND;
	return append_json(out, obj);
}

static int op_subscribe(void *ctx, pv_web_event_fn fn, void *user, uint64_t *id)
{
	struct fake_source *fs = ctx;
	int rc = PV_OK;

	pthread_mutex_lock(&fs->lock);
	if (fs->sub_count == FAKE_SUBS_MAX) {
		rc = PV_ERR_BUSY;
	} else {
		fs->subs[fs->sub_count].fn = fn;
		fs->subs[fs->sub_count].user = user;
		fs->subs[fs->sub_count].id = fs->next_id;
		*id = fs->next_id++;
		fs->sub_count++;
		fs->subscribes++;
	}
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

static void op_unsubscribe(void *ctx, uint64_t id)
{
	struct fake_source *fs = ctx;

	pthread_mutex_lock(&fs->lock);
	for (size_t i = 0; i < fs->sub_count; i++) {
		if (fs->subs[i].id == id) {
			fs->subs[i] = fs->subs[--fs->sub_count];
			fs->unsubscribes++;
			break;
		}
	}
	pthread_mutex_unlock(&fs->lock);
}

static int op_action(void *ctx, const char *serial, enum pv_web_action action)
{
	struct fake_source *fs = ctx;
	int rc = PV_ERR_NOT_FOUND;

	pthread_mutex_lock(&fs->lock);
	for (size_t i = 0; i < fs->count; i++) {
		if (strcmp(fs->boards[i].serial, serial) == 0) {
			rc = fs->action_rc;
			break;
		}
	}
	if (rc == PV_OK) {
		fs->actions++;
		fs->last_action = action;
		pv_strlcpy(fs->last_serial, serial, sizeof(fs->last_serial));
	}
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

static int op_inventory(void *ctx, struct pv_buf *out)
{
	struct fake_source *fs = ctx;
	int rc;

	pthread_mutex_lock(&fs->lock);
	rc = fs->inventory_json ? pv_buf_append_str(out, fs->inventory_json) : PV_ERR_NOT_FOUND;
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

/* Exports: csv is a made-up table of the boards (the real one is the inventory's). */
static int op_export(void *ctx, const char *format, struct pv_buf *out, const char **type)
{
	struct fake_source *fs = ctx;
	int rc = PV_OK;

	if (strcmp(format, "csv") != 0 && strcmp(format, "dnsmasq") != 0)
		return PV_ERR_INVALID;
	pthread_mutex_lock(&fs->lock);
	if (strcmp(format, "csv") == 0) {
		*type = "text/csv; charset=utf-8";
		rc = pv_buf_append_str(out, "serial,mac\n");
		for (size_t i = 0; i < fs->count && !rc; i++)
			rc = pv_buf_appendf(out, "%s,%s\n", fs->boards[i].serial, fs->boards[i].mac);
	} else {
		*type = "text/plain; charset=utf-8";
		for (size_t i = 0; i < fs->count && !rc; i++)
			rc = pv_buf_appendf(out, "dhcp-host=%s,%s\n", fs->boards[i].mac,
					    fs->boards[i].ip);
	}
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

static const struct pv_web_source_ops fake_ops = {
	.snapshot = op_snapshot,
	.board = op_board,
	.subscribe = op_subscribe,
	.unsubscribe = op_unsubscribe,
	.action = op_action,
	.inventory = op_inventory,
	.export_format = op_export,
};

struct pv_web_source fake_source_web(struct fake_source *fs)
{
	struct pv_web_source s = { &fake_ops, fs };

	return s;
}

/* Called with fs->lock held, like a station that serialises its subscribers. */
static void emit_locked(struct fake_source *fs, const char *text)
{
	for (size_t i = 0; i < fs->sub_count; i++)
		fs->subs[i].fn(fs->subs[i].user, text, strlen(text));
}

void fake_source_emit(struct fake_source *fs, const char *json)
{
	pthread_mutex_lock(&fs->lock);
	emit_locked(fs, json);
	pthread_mutex_unlock(&fs->lock);
}

void fake_source_update(struct fake_source *fs, const struct fake_board *b, const char *event,
			const char *detail)
{
	struct timespec now;
	json_t *ev;
	char *text;
	size_t i;

	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&fs->lock);
	for (i = 0; i < fs->count; i++)
		if (strcmp(fs->boards[i].port, b->port) == 0)
			break;
	if (i == fs->count) {
		if (fs->count == FAKE_BOARDS_MAX) {
			pthread_mutex_unlock(&fs->lock);
			return;
		}
		fs->count++;
	}
	fs->boards[i] = *b;
	pv_buf_appendf(&fs->logs[i], "%s: %s\n", event, detail ? detail : "");
	ev = json_pack("{s:s, s:I, s:s, s:s, s:s, s:o}", "event", event, "time_ms",
		       (json_int_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, "serial", b->serial,
		       "port", b->port, "detail", detail ? detail : "", "board", board_json(b));
	text = ev ? json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(ev);
	if (text)
		emit_locked(fs, text);
	free(text);
	pthread_mutex_unlock(&fs->lock);
}

void fake_source_set_inventory(struct fake_source *fs, const char *json)
{
	pthread_mutex_lock(&fs->lock);
	free(fs->inventory_json);
	fs->inventory_json = json ? strdup(json) : NULL;
	pthread_mutex_unlock(&fs->lock);
}

size_t fake_source_subscribers(struct fake_source *fs)
{
	size_t n;

	pthread_mutex_lock(&fs->lock);
	n = fs->sub_count;
	pthread_mutex_unlock(&fs->lock);
	return n;
}
