/* pv_station_web_source(): the web page's view of a running station (piprov/web.h). Every
 * op copies what it needs under the station's lock and formats outside it. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "piprov/inventory_export.h"
#include "piprov/web.h"
#include "station_internal.h"
#include "banned.h"

static int ws_snapshot(void *ctx, struct pv_buf *out)
{
	return pv_station_snapshot_json(ctx, out);
}

static int ws_board(void *ctx, const char *serial, struct pv_buf *out)
{
	return pv_station_board_json(ctx, serial, out);
}

/* The web callback takes the event's JSON text; the station's takes the event. */
struct web_subscription {
	pv_web_event_fn fn;
	void *user;
};

static void forward_event(void *user, const struct pv_station_event *ev)
{
	struct web_subscription *sub = user;

	sub->fn(sub->user, ev->json, ev->json_len);
}

/* Subscriptions live until unsubscribed; the id is the station's, and the small struct is
 * found again through a list kept here. */
struct ws_entry {
	void *station;
	uint64_t id;
	struct web_subscription *sub;
	struct ws_entry *next;
};

static pthread_mutex_t ws_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ws_entry *ws_entries;

static int ws_subscribe(void *ctx, pv_web_event_fn fn, void *user, uint64_t *subscription)
{
	struct web_subscription *sub = calloc(1, sizeof(*sub));
	struct ws_entry *entry = calloc(1, sizeof(*entry));
	int rc;

	if (!sub || !entry) {
		free(sub);
		free(entry);
		return pv_fail(PV_ERR_NOMEM, "station", "out of memory");
	}
	sub->fn = fn;
	sub->user = user;
	rc = pv_station_subscribe(ctx, forward_event, sub, &entry->id);
	if (rc) {
		free(sub);
		free(entry);
		return rc;
	}
	entry->sub = sub;
	entry->station = ctx;
	pthread_mutex_lock(&ws_lock);
	entry->next = ws_entries;
	ws_entries = entry;
	pthread_mutex_unlock(&ws_lock);
	*subscription = entry->id;
	return PV_OK;
}

static void ws_unsubscribe(void *ctx, uint64_t subscription)
{
	struct ws_entry *found = NULL;

	pv_station_unsubscribe(ctx, subscription);
	pthread_mutex_lock(&ws_lock);
	for (struct ws_entry **link = &ws_entries; *link; link = &(*link)->next) {
		if ((*link)->station == ctx && (*link)->id == subscription) {
			found = *link;
			*link = found->next;
			break;
		}
	}
	pthread_mutex_unlock(&ws_lock);
	if (found) {
		free(found->sub);
		free(found);
	}
}

static int ws_action(void *ctx, const char *serial, enum pv_web_action action)
{
	static const enum pv_station_action map[] = {
		[PV_WEB_ACTION_RETRY] = PV_STATION_RETRY,
		[PV_WEB_ACTION_FORGET] = PV_STATION_FORGET,
		[PV_WEB_ACTION_PAUSE] = PV_STATION_PAUSE,
		[PV_WEB_ACTION_RESUME] = PV_STATION_RESUME,
	};

	if ((size_t)action >= PV_ARRAY_SIZE(map))
		return pv_fail(PV_ERR_UNSUPPORTED, "station", "unknown action");
	return pv_station_action(ctx, serial, map[action]);
}

static int load_inventory(struct pv_station *st, struct pv_inventory *inv)
{
	pv_inventory_init(inv);
	if (!st->cfg.inventory)
		return pv_fail(PV_ERR_NOT_FOUND, "station", "the station records no inventory");
	return pv_inventory_load(st->cfg.inventory, inv);
}

static int ws_inventory(void *ctx, struct pv_buf *out)
{
	struct pv_inventory inv;
	json_t *array;
	char *text;
	int rc = load_inventory(ctx, &inv);

	if (rc)
		goto out_release;
	array = json_array();
	for (size_t i = 0; array && i < inv.count; i++) {
		if (json_array_append_new(array, pv_export_record_json(&inv.records[i]))) {
			json_decref(array);
			array = NULL;
		}
	}
	text = array ? json_dumps(array, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(array);
	if (!text) {
		rc = pv_fail(PV_ERR_NOMEM, "station", "out of memory");
		goto out_release;
	}
	rc = pv_buf_append(out, text, strlen(text));
	free(text);
out_release:
	pv_inventory_release(&inv);
	return rc;
}

static const char *content_type(const char *format)
{
	if (strcmp(format, "json") == 0 || strcmp(format, "kea") == 0)
		return "application/json";
	if (strcmp(format, "csv") == 0)
		return "text/csv; charset=utf-8";
	if (strcmp(format, "tinkerbell") == 0)
		return "application/yaml";
	return "text/plain; charset=utf-8";
}

static int ws_export(void *ctx, const char *format, struct pv_buf *out,
		     const char **type)
{
	struct pv_station *st = ctx;
	struct pv_export_opts opts;
	struct pv_inventory inv;
	int rc;

	pthread_mutex_lock(&st->lock);
	opts = st->current->p.exports.opts; /* strings live until the station is freed */
	if (!opts.tftp_root)
		opts.tftp_root = st->current->p.exports.tftp_root;
	pthread_mutex_unlock(&st->lock);
	rc = load_inventory(st, &inv);
	if (!rc)
		rc = pv_inventory_export(format, &inv, &opts, out);
	pv_inventory_release(&inv);
	if (!rc)
		*type = content_type(format);
	return rc;
}

static const struct pv_web_source_ops station_web_ops = {
	.snapshot = ws_snapshot,
	.board = ws_board,
	.subscribe = ws_subscribe,
	.unsubscribe = ws_unsubscribe,
	.action = ws_action,
	.inventory = ws_inventory,
	.export_format = ws_export,
};

void pv_station_web_source(struct pv_station *st, struct pv_web_source *source)
{
	source->ops = &station_web_ops;
	source->ctx = st;
}
