/* The station's recorder thread: verified boards go to the inventory through the record
 * layer, as many as are waiting in one locked write (a board verified while the previous
 * write fsyncs waits for the next one instead of taking its own lock and two fsyncs), then
 * the exports are refreshed once for them. It also watches the stop flag and the grace
 * deadline (station_supervise). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "piprov/fileio.h"
#include "piprov/inventory_export.h"
#include "piprov/record.h"
#include "piprov/text.h"
#include "station_internal.h"
#include "banned.h"

#define PID_FILE_MAX 64

int station_recorder_queue(struct pv_station *st, uint64_t board_id,
			   const struct pv_usb_board_result *result)
{
	const struct pv_usb_payload_report *report;
	struct pending_record *item;

	if (st->queue_count == st->queue_cap) {
		size_t cap = st->queue_cap ? st->queue_cap * 2 : 16;
		struct pending_record *grown = realloc(st->queue, cap * sizeof(*grown));

		if (!grown)
			return pv_fail(PV_ERR_NOMEM, "station", "out of memory: board not recorded");
		st->queue = grown;
		st->queue_cap = cap;
	}
	item = &st->queue[st->queue_count];
	item->board_id = board_id;
	item->result = *result;
	item->bootconf_len = 0;
	item->bootconf_sha256[0] = '\0';
	/* Under the lock, during the job that flashed it: st->set is what it was flashed
	 * with. */
	report = result->outcome == PV_USB_PHASE_VERIFIED && st->set && result->soc
			 ? pv_usb_payload_set_report(st->set, result->soc)
			 : NULL;
	if (report && report->bootconf && strlen(report->bootconf) < sizeof(item->bootconf)) {
		item->bootconf_len = strlen(report->bootconf);
		memcpy(item->bootconf, report->bootconf, item->bootconf_len + 1);
		pv_strlcpy(item->bootconf_sha256, report->bootconf_sha256,
			   sizeof(item->bootconf_sha256));
	}
	st->queue_count++;
	pthread_cond_broadcast(&st->changed);
	return PV_OK;
}

/* What the merge told about one board of the batch. */
struct merged_board {
	bool seen;
	bool created;
	unsigned conflicts;
	char detail[512];          /* the conflicts, "; "-separated */
	char mac[18], ip[16];
	char hostname[PV_INVENTORY_HOSTNAME_MAX];
};

struct merge_call {
	struct merged_board *boards;
	size_t count, next;
};

static void on_merged(void *user, const struct pv_inventory_report *report,
		      const struct pv_inventory_record *stored)
{
	struct merge_call *call = user;
	struct merged_board *m;

	if (call->next >= call->count)
		return;
	m = &call->boards[call->next++];
	memset(m, 0, sizeof(*m));
	m->seen = true;
	m->created = report->created;
	m->conflicts = (unsigned)report->n_conflicts;
	for (size_t i = 0; i < report->n_conflicts && i < PV_INVENTORY_MAX_CONFLICTS; i++) {
		size_t used = strlen(m->detail);

		snprintf(m->detail + used, sizeof(m->detail) - used, "%s%s", used ? "; " : "",
			 report->conflicts[i].message);
	}
	if (stored) {
		if (stored->has_mac)
			pv_mac_format(stored->mac, ':', m->mac);
		if (stored->has_ip)
			pv_ipv4_format(stored->ip, m->ip);
		pv_strlcpy(m->hostname, stored->hostname, sizeof(m->hostname));
	}
}

struct record_update {
	enum pv_station_state state;
	const char *reason;
	const struct merged_board *merged;
};

static void apply_record(struct pv_station *st, struct board_entry *e, void *user)
{
	struct record_update *u = user;

	(void)st;
	e->b.state = u->state;
	pv_strlcpy(e->b.stage, pv_station_state_name(u->state), sizeof(e->b.stage));
	if (u->reason)
		pv_strlcpy(e->b.reason, u->reason, sizeof(e->b.reason));
	if (u->merged) {
		if (u->merged->mac[0])
			pv_strlcpy(e->b.mac, u->merged->mac, sizeof(e->b.mac));
		pv_strlcpy(e->b.ip, u->merged->ip, sizeof(e->b.ip));
		pv_strlcpy(e->b.hostname, u->merged->hostname, sizeof(e->b.hostname));
	}
}

static void board_not_recorded(struct pv_station *st, uint64_t id, const char *why)
{
	char reason[PV_STATION_REASON_MAX];
	struct record_update u = { .state = PV_STATION_FAILED, .reason = reason };
	struct station_event_args a = { .kind = PV_STATION_EV_FAILED, .board_id = id,
					.detail = reason, .update = apply_record, .user = &u };

	snprintf(reason, sizeof(reason), "verified, but not recorded in the inventory: %.200s",
		 why);
	pthread_mutex_lock(&st->lock);
	st->summary.not_recorded++;
	pthread_mutex_unlock(&st->lock);
	station_emit(st, &a);
}

static void board_log_event(struct pv_station *st, uint64_t id, const char *text)
{
	struct station_event_args a = { .kind = PV_STATION_EV_LOG, .board_id = id,
					.detail = text };

	station_emit(st, &a);
}

/* ---- exports ------------------------------------------------------------------------ */

/* Write path only when its content changes (so a reload is only asked for when needed). */
static int write_if_changed(const char *path, const struct pv_buf *text, bool *changed)
{
	struct pv_buf old = PV_BUF_INIT(SIZE_MAX);
	int rc = pv_file_read_raw(path, text->len + 1, &old);

	*changed = rc || old.len != text->len || memcmp(old.data, text->data, text->len) != 0;
	pv_buf_release(&old);
	pv_clear_error();
	if (!*changed)
		return PV_OK;
	return pv_file_write_atomic(path, text->data, text->len, 0644);
}

/* SIGHUP the process named by the pid file (dnsmasq re-reads its hosts files on it). */
static int signal_reload(const char *pid_file, long *pid_out)
{
	struct pv_buf text = PV_BUF_INIT(PID_FILE_MAX + 1);
	uint32_t pid;
	char digits[PID_FILE_MAX + 1];
	size_t n = 0;
	int rc = pv_file_read_raw(pid_file, PID_FILE_MAX, &text);

	if (rc)
		goto out_release;
	while (n < text.len && n < PID_FILE_MAX && text.data[n] >= '0' && text.data[n] <= '9') {
		digits[n] = (char)text.data[n];
		n++;
	}
	digits[n] = '\0';
	if (n == 0 || pv_parse_u32(digits, 10, &pid) || pid < 2 || pid > INT32_MAX) {
		rc = pv_fail(PV_ERR_FORMAT, "station", "pid file '%s': no process id in it",
			     pid_file);
		goto out_release;
	}
	if (kill((pid_t)pid, SIGHUP) < 0) {
		rc = pv_fail_errno(errno, "station", "pid file '%s': cannot signal process %u",
				   pid_file, pid);
		goto out_release;
	}
	*pid_out = (long)pid;
out_release:
	pv_buf_release(&text);
	return rc;
}

static int refresh_exports(struct pv_station *st, const struct pv_station_exports *ex,
			   char *detail, size_t size)
{
	struct pv_inventory inv;
	struct pv_export_opts opts = ex->opts;
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX);
	bool any_changed = false;
	size_t used = 0;
	int rc;

	detail[0] = '\0';
	if (!opts.tftp_root)
		opts.tftp_root = ex->tftp_root;
	pv_inventory_init(&inv);
	rc = pv_inventory_load(st->cfg.inventory, &inv);
	if (rc)
		goto out_release;
	for (size_t i = 0; i < ex->file_count; i++) {
		bool changed = false;

		pv_buf_reset(&text);
		rc = pv_inventory_export(ex->files[i].format, &inv, &opts, &text);
		if (!rc)
			rc = write_if_changed(ex->files[i].path, &text, &changed);
		if (rc)
			goto out_release;
		any_changed |= changed;
		used += (size_t)snprintf(detail + used, used < size ? size - used : 0, "%s%s %s%s",
					 used ? ", " : "", ex->files[i].format, ex->files[i].path,
					 changed ? "" : " (unchanged)");
	}
	if (ex->tftp_root) {
		struct pv_tftp_report report;

		opts.tftp_root = ex->tftp_root;
		rc = pv_export_tftp(&inv, &opts, &report);
		if (rc)
			goto out_release;
		any_changed |= report.created || report.updated || report.pruned;
		used += (size_t)snprintf(detail + used, used < size ? size - used : 0,
					 "%stftp %s (%u boards, %u created)", used ? ", " : "",
					 ex->tftp_root, report.boards, report.created);
	}
	if (ex->reload_pid_file && any_changed) {
		long pid = 0;

		rc = signal_reload(ex->reload_pid_file, &pid);
		if (rc)
			goto out_release;
		snprintf(detail + used, used < size ? size - used : 0, ", SIGHUP to %ld", pid);
	}
out_release:
	pv_buf_release(&text);
	pv_inventory_release(&inv);
	return rc;
}

/* ---- one batch ------------------------------------------------------------------------ */

static void record_batch(struct pv_station *st, struct pending_record *items, size_t n)
{
	struct pv_import_batch batch;
	struct pv_inventory_alloc alloc;
	struct pv_record_opts opts = { 0 };
	struct merge_call call = { 0 };
	const struct pv_station_exports *exports;
	uint64_t *ids = calloc(n, sizeof(*ids));
	char detail[1024], warning[512];
	int64_t now = (int64_t)time(NULL);
	bool has_alloc;
	int rc;

	pv_import_batch_init(&batch);
	call.boards = calloc(n, sizeof(*call.boards));
	if (!ids || !call.boards) {
		for (size_t i = 0; i < n; i++)
			board_not_recorded(st, items[i].board_id, "out of memory");
		goto out_free;
	}
	pthread_mutex_lock(&st->lock);
	has_alloc = st->current->p.has_alloc;
	alloc = st->current->p.alloc;
	exports = &st->current->p.exports; /* profiles are kept until the station is freed */
	pthread_mutex_unlock(&st->lock);
	for (size_t i = 0; i < n; i++) {
		struct pv_inventory_record rec;

		if (pv_record_from_usb(&items[i].result, now, &rec, warning, sizeof(warning))) {
			board_not_recorded(st, items[i].board_id, pv_last_error());
			continue;
		}
		pv_record_set_flashed_config(&rec, items[i].bootconf, items[i].bootconf_len,
					     items[i].bootconf_sha256[0] ? items[i].bootconf_sha256
									 : NULL,
					     warning, sizeof(warning));
		if (warning[0])
			board_log_event(st, items[i].board_id, warning);
		if (pv_import_batch_add(&batch, &rec, PV_INVENTORY_SOURCE_USB)) {
			pv_inventory_record_release(&rec);
			board_not_recorded(st, items[i].board_id, pv_last_error());
			continue;
		}
		ids[batch.count - 1] = items[i].board_id;
	}
	if (batch.count == 0)
		goto out_free;
	call.count = batch.count;
	opts.alloc = has_alloc ? &alloc : NULL;
	opts.now = now;
	opts.merged = on_merged;
	opts.user = &call;
	rc = pv_record_batch(st->cfg.inventory, &batch, &opts, NULL);
	if (rc) {
		char why[PV_STATION_REASON_MAX];

		snprintf(why, sizeof(why), "'%s': %s", st->cfg.inventory, pv_last_error());
		for (size_t i = 0; i < batch.count; i++)
			board_not_recorded(st, ids[i], why);
		goto out_free;
	}
	for (size_t i = 0; i < batch.count; i++) {
		struct record_update u = { .state = PV_STATION_RECORDED,
					   .merged = call.boards[i].seen ? &call.boards[i] : NULL };
		struct station_event_args a = {
			.kind = PV_STATION_EV_RECORDED,
			.board_id = ids[i],
			.detail = call.boards[i].detail,
			.created = call.boards[i].created,
			.conflicts = call.boards[i].conflicts,
			.update = apply_record,
			.user = &u,
		};

		pthread_mutex_lock(&st->lock);
		st->summary.recorded++;
		pthread_mutex_unlock(&st->lock);
		station_emit(st, &a);
	}
	if (exports->file_count || exports->tftp_root) {
		struct station_event_args a = { .detail = detail };

		rc = refresh_exports(st, exports, detail, sizeof(detail));
		if (rc) {
			snprintf(detail, sizeof(detail), "%s", pv_last_error());
			a.kind = PV_STATION_EV_EXPORT_FAILED;
		} else {
			a.kind = PV_STATION_EV_EXPORTED;
		}
		station_emit(st, &a);
	}
out_free:
	pv_import_batch_release(&batch);
	free(call.boards);
	free(ids);
}

static void *recorder_main(void *arg)
{
	struct pv_station *st = arg;

	pthread_mutex_lock(&st->lock);
	for (;;) {
		struct pending_record *items;
		size_t n;

		while (st->queue_count == 0 && !st->recorder_quit) {
			unsigned sleep_ms;
			struct timespec ts;
			uint64_t until;

			pthread_mutex_unlock(&st->lock);
			sleep_ms = station_supervise(st);
			pthread_mutex_lock(&st->lock);
			if (st->queue_count || st->recorder_quit)
				break;
			until = pv_usb_now_ms() + sleep_ms;
			ts.tv_sec = (time_t)(until / 1000);
			ts.tv_nsec = (long)(until % 1000) * 1000000L;
			pthread_cond_timedwait(&st->changed, &st->lock, &ts);
		}
		if (st->queue_count == 0 && st->recorder_quit)
			break;
		items = st->queue;
		n = st->queue_count;
		st->queue = NULL;
		st->queue_count = st->queue_cap = 0;
		st->recorder_busy = true;
		pthread_mutex_unlock(&st->lock);
		record_batch(st, items, n);
		free(items);
		station_supervise(st);
		pthread_mutex_lock(&st->lock);
		st->recorder_busy = false;
		pthread_cond_broadcast(&st->changed);
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

int station_recorder_start(struct pv_station *st)
{
	int err;

	st->recorder_quit = false;
	err = pthread_create(&st->recorder, NULL, recorder_main, st);
	if (err)
		return pv_fail_errno(err, "station", "cannot start the recorder thread");
	st->recorder_started = true;
	return PV_OK;
}

void station_recorder_finish(struct pv_station *st)
{
	if (!st->recorder_started)
		return;
	pthread_mutex_lock(&st->lock);
	st->recorder_quit = true;
	pthread_cond_broadcast(&st->changed);
	pthread_mutex_unlock(&st->lock);
	pthread_join(st->recorder, NULL);
	st->recorder_started = false;
}
