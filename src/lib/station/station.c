/* The station (piprov/station.h): boards as the USB engine reports them, translated into
 * the station's states and events, subscribers, stopping and reloading. Recording and the
 * exports are recorder.c; the JSON of events and boards is json.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "piprov/record.h"
#include "piprov/text.h"
#include "piprov/vpi.h"
#include "station_internal.h"
#include "banned.h"

#define DEFAULT_GRACE_MS 30000u
#define DEFAULT_LOG_LINES 200u
#define SUPERVISE_MS 100u

const char *pv_station_state_name(enum pv_station_state state)
{
	static const char *const names[] = {
		[PV_STATION_ARRIVED] = "arrived",     [PV_STATION_FLASHING] = "flashing",
		[PV_STATION_VERIFYING] = "verifying", [PV_STATION_VERIFIED] = "verified",
		[PV_STATION_BOOTED] = "booted",       [PV_STATION_RECORDED] = "recorded",
		[PV_STATION_FAILED] = "failed",       [PV_STATION_ABANDONED] = "abandoned",
	};

	if ((size_t)state < PV_ARRAY_SIZE(names) && names[state])
		return names[state];
	return "unknown";
}

const char *pv_station_event_name(enum pv_station_event_kind kind)
{
	static const char *const names[] = {
		[PV_STATION_EV_STARTED] = "started",
		[PV_STATION_EV_ARRIVED] = "arrived",
		[PV_STATION_EV_STAGE] = "stage",
		[PV_STATION_EV_FILE] = "file",
		[PV_STATION_EV_PROGRESS] = "progress",
		[PV_STATION_EV_METADATA] = "metadata",
		[PV_STATION_EV_VERIFYING] = "verifying",
		[PV_STATION_EV_VERIFIED] = "verified",
		[PV_STATION_EV_BOOTED] = "booted",
		[PV_STATION_EV_FAILED] = "failed",
		[PV_STATION_EV_ABANDONED] = "abandoned",
		[PV_STATION_EV_SKIPPED] = "skipped",
		[PV_STATION_EV_RECORDED] = "recorded",
		[PV_STATION_EV_EXPORTED] = "exported",
		[PV_STATION_EV_EXPORT_FAILED] = "export_failed",
		[PV_STATION_EV_RELOADED] = "reloaded",
		[PV_STATION_EV_STOPPING] = "stopping",
		[PV_STATION_EV_STOPPED] = "stopped",
		[PV_STATION_EV_LOG] = "log",
	};

	if ((size_t)kind < PV_ARRAY_SIZE(names) && names[kind])
		return names[kind];
	return "unknown";
}

const char *pv_station_board_key(const struct pv_station_board *board)
{
	return board->serial[0] ? board->serial : board->port;
}

void pv_station_config_init(struct pv_station_config *config)
{
	memset(config, 0, sizeof(*config));
	config->mode = PV_USB_JOB_FLASH;
	config->port_number = -1;
	pv_usb_timeouts_default(&config->timeouts);
	pv_export_opts_init(&config->profile.exports.opts);
}

uint64_t station_now(const struct pv_station *st)
{
	return pv_usb_now_ms() - st->start_ms;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- profile copies ---------------------------------------------------------------- */

static const char *keep(struct station_profile *sp, const char *text, int *rc)
{
	char **grown, *copy;

	if (!text || *rc)
		return NULL;
	grown = realloc(sp->strings, (sp->string_count + 1) * sizeof(*grown));
	copy = strdup(text);
	if (!grown || !copy) {
		if (grown)
			sp->strings = grown;
		free(copy);
		*rc = pv_fail(PV_ERR_NOMEM, "station", "out of memory");
		return NULL;
	}
	sp->strings = grown;
	sp->strings[sp->string_count++] = copy;
	return copy;
}

int station_profile_copy(const struct pv_station_profile *in, struct station_profile **out)
{
	struct station_profile *sp = calloc(1, sizeof(*sp));
	struct pv_station_profile *p;
	struct pv_export_opts *eo;
	int rc = PV_OK;

	if (!sp)
		return pv_fail(PV_ERR_NOMEM, "station", "out of memory");
	sp->p = *in;
	p = &sp->p;
	p->flash.image_path = keep(sp, in->flash.image_path, &rc);
	p->flash.recovery_path = keep(sp, in->flash.recovery_path, &rc);
	p->flash.firmware_dir = keep(sp, in->flash.firmware_dir, &rc);
	p->flash.channel = keep(sp, in->flash.channel, &rc);
	p->flash.preset = keep(sp, in->flash.preset, &rc);
	p->flash.config_path = keep(sp, in->flash.config_path, &rc);
	p->flash.recovery_config = keep(sp, in->flash.recovery_config, &rc);
	sp->settings = calloc(in->flash.setting_count + 1, sizeof(*sp->settings));
	sp->globs = calloc(in->port_glob_count + 1, sizeof(*sp->globs));
	if (!sp->settings || !sp->globs)
		rc = pv_fail(PV_ERR_NOMEM, "station", "out of memory");
	for (size_t i = 0; !rc && i < in->flash.setting_count; i++)
		sp->settings[i] = keep(sp, in->flash.settings[i], &rc);
	for (size_t i = 0; !rc && i < in->port_glob_count; i++)
		sp->globs[i] = keep(sp, in->port_globs[i], &rc);
	p->flash.settings = sp->settings;
	p->port_globs = sp->globs;
	for (size_t i = 0; i < in->exports.file_count && i < PV_STATION_EXPORTS_MAX; i++) {
		p->exports.files[i].format = keep(sp, in->exports.files[i].format, &rc);
		p->exports.files[i].path = keep(sp, in->exports.files[i].path, &rc);
	}
	p->exports.tftp_root = keep(sp, in->exports.tftp_root, &rc);
	p->exports.reload_pid_file = keep(sp, in->exports.reload_pid_file, &rc);
	eo = &p->exports.opts;
	eo->tftp_root = keep(sp, in->exports.opts.tftp_root, &rc);
	eo->nfs_root = keep(sp, in->exports.opts.nfs_root, &rc);
	eo->dhcp_range = keep(sp, in->exports.opts.dhcp_range, &rc);
	eo->proxy_network = keep(sp, in->exports.opts.proxy_network, &rc);
	eo->interface = keep(sp, in->exports.opts.interface, &rc);
	eo->domain = keep(sp, in->exports.opts.domain, &rc);
	eo->nfs_options = keep(sp, in->exports.opts.nfs_options, &rc);
	eo->namespace_ = keep(sp, in->exports.opts.namespace_, &rc);
	eo->template_dir = keep(sp, in->exports.opts.template_dir, &rc);
	if (rc) {
		station_profile_free(sp);
		return rc;
	}
	*out = sp;
	return PV_OK;
}

void station_profile_free(struct station_profile *sp)
{
	if (!sp)
		return;
	for (size_t i = 0; i < sp->string_count; i++)
		free(sp->strings[i]);
	free(sp->strings);
	free(sp->settings);
	free(sp->globs);
	free(sp);
}

/* ---- checks before anything waits --------------------------------------------------- */

/* A folder the station writes into: created when missing, must be writable. */
static int check_output_folder(const char *what, const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return pv_fail_errno(errno, "station", "%s '%s': cannot create it", what, dir);
	if (stat(dir, &st) < 0)
		return pv_fail_errno(errno, "station", "%s '%s'", what, dir);
	if (!S_ISDIR(st.st_mode))
		return pv_fail(PV_ERR_INVALID, "station", "%s '%s': not a folder", what, dir);
	if (access(dir, W_OK | X_OK) < 0)
		return pv_fail_errno(errno, "station", "%s '%s': cannot write in it", what, dir);
	return PV_OK;
}

/* The folder an export file is written in must take a temporary file and a rename. */
static int check_export_path(const char *path)
{
	char folder[4096];
	const char *slash = strrchr(path, '/');

	if (!slash)
		pv_strlcpy(folder, ".", sizeof(folder));
	else if (slash == path)
		pv_strlcpy(folder, "/", sizeof(folder));
	else if ((size_t)(slash - path) < sizeof(folder))
		snprintf(folder, sizeof(folder), "%.*s", (int)(slash - path), path);
	else
		return pv_fail(PV_ERR_INVALID, "station", "export '%.64s...': path too long", path);
	if (access(folder, W_OK | X_OK) < 0)
		return pv_fail_errno(errno, "station", "export '%s': cannot write in '%s'", path,
				     folder);
	return PV_OK;
}

static int check_exports(const struct pv_station_exports *ex, const char *inventory)
{
	const char *const *formats = pv_inventory_export_formats();
	int rc;

	if (ex->file_count > PV_STATION_EXPORTS_MAX)
		return pv_fail(PV_ERR_INVALID, "station", "more than %d exports",
			       PV_STATION_EXPORTS_MAX);
	if ((ex->file_count || ex->tftp_root) && !inventory)
		return pv_fail(PV_ERR_INVALID, "station", "exports need an inventory to export");
	for (size_t i = 0; i < ex->file_count; i++) {
		char names[256] = "";
		size_t len = 0;
		bool known = false;

		for (size_t k = 0; formats[k]; k++)
			known |= strcmp(formats[k], ex->files[i].format) == 0;
		if (!known) {
			/* The library's own list, so a new format is named here too. */
			for (size_t k = 0; formats[k] && len < sizeof(names); k++) {
				int n = snprintf(names + len, sizeof(names) - len, "%s%s",
						 k ? ", " : "", formats[k]);
				if (n < 0)
					break;
				len += (size_t)n;
			}
			return pv_fail(PV_ERR_INVALID, "station",
				       "export format '%.64s' is not one of %s",
				       ex->files[i].format, names);
		}
		rc = check_export_path(ex->files[i].path);
		if (rc)
			return rc;
	}
	if (ex->tftp_root) {
		rc = check_output_folder("tftp root", ex->tftp_root);
		if (rc)
			return rc;
	}
	if (ex->reload_pid_file && ex->file_count == 0 && !ex->tftp_root)
		return pv_fail(PV_ERR_INVALID, "station",
			       "a reload pid file without anything to export");
	return PV_OK;
}

/* A new payload set for a profile, checked; virtual-only stations get the placeholder
 * recovery and synthetic images (virtual Pis do not run what they are sent). */
static int make_payloads(struct pv_station *st, const struct pv_station_profile *p,
			 struct pv_usb_payload_set **out)
{
	struct pv_usb_flash_options o = p->flash;
	struct pv_usb_payload_set *set;
	int rc;

	if (st->only_virtual && st->placeholder.len) {
		o.placeholder_recovery = st->placeholder.data;
		o.placeholder_recovery_size = st->placeholder.len;
		o.allow_synthetic_image = true;
	}
	rc = pv_usb_flash_payloads_new(&o, &set);
	if (rc)
		return rc;
	rc = pv_usb_flash_payloads_check(set);
	if (rc) {
		pv_usb_payload_set_free(set);
		return rc;
	}
	*out = set;
	return PV_OK;
}

static int check_profile(struct pv_station *st, const struct pv_station_profile *p,
			 struct pv_usb_payload_set **set)
{
	int rc;

	if (p->has_alloc && !st->cfg.inventory)
		return pv_fail(PV_ERR_INVALID, "station",
			       "an IP pool or hostname pattern needs an inventory");
	rc = check_exports(&p->exports, st->cfg.inventory);
	if (rc)
		return rc;
	*set = NULL;
	if (st->cfg.mode == PV_USB_JOB_FLASH && !st->cfg.payload)
		return make_payloads(st, p, set);
	return PV_OK;
}

/* A spec's dump=DIR is written after the run: the folder is made usable now, before any
 * board is served, rather than found missing when every board is done. */
static int check_virtual_dump(const char *spec_text)
{
	struct pv_vpi_spec spec;
	int rc = pv_vpi_spec_parse(spec_text, &spec);

	if (rc)
		return rc;
	if (spec.dump_dir)
		rc = check_output_folder("virtual EEPROM dump folder", spec.dump_dir);
	pv_vpi_spec_release(&spec);
	return rc;
}

int pv_station_open_bus(const char *const *virtual_specs, size_t virtual_count, bool real,
			struct pv_usb_bus **bus, struct pv_usb_bus **virtual_bus)
{
	struct pv_usb_bus *buses[2] = { NULL, NULL };
	size_t n = 0;
	int rc;

	*virtual_bus = NULL;
	if (virtual_count > 0) {
		rc = pv_vpi_bus_new(&buses[0]);
		if (rc)
			return rc;
		for (size_t i = 0; i < virtual_count; i++) {
			rc = check_virtual_dump(virtual_specs[i]);
			if (!rc)
				rc = pv_vpi_bus_add_spec(buses[0], virtual_specs[i]);
			if (rc)
				goto out_destroy;
		}
		n = 1;
	}
	if (virtual_count == 0 || real) {
		rc = pv_usb_libusb_bus_new(&buses[n]);
		if (rc)
			goto out_destroy;
		n++;
	}
	if (n == 1) {
		*bus = buses[0];
	} else {
		rc = pv_usb_combined_bus_new(buses, n, bus);
		if (rc)
			goto out_destroy;
	}
	if (virtual_count > 0)
		*virtual_bus = buses[0];
	return PV_OK;

out_destroy:
	for (size_t i = 0; i < 2; i++)
		pv_usb_bus_destroy(buses[i]);
	return rc;
}

int pv_station_new(const struct pv_station_config *config, struct pv_station **out)
{
	struct pv_station *st = calloc(1, sizeof(*st));
	pthread_condattr_t cattr;
	int rc;

	if (!st)
		return pv_fail(PV_ERR_NOMEM, "station", "out of memory");
	st->cfg = *config;
	st->start_ms = pv_usb_now_ms();
	pv_buf_init(&st->placeholder, 1u << 20);
	pthread_mutex_init(&st->lock, NULL);
	pthread_mutex_init(&st->deliver, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&st->changed, &cattr);
	pthread_condattr_destroy(&cattr);
	if (!st->cfg.stop_grace_ms)
		st->cfg.stop_grace_ms = DEFAULT_GRACE_MS;
	if (!st->cfg.log_lines)
		st->cfg.log_lines = DEFAULT_LOG_LINES;

	/* Outputs first: a bad inventory or folder is found before any board is flashed. */
	if (config->inventory) {
		rc = pv_record_check_inventory(config->inventory);
		if (rc)
			goto out_free;
	}
	if (config->metadata_dir) {
		rc = check_output_folder("metadata folder", config->metadata_dir);
		if (rc)
			goto out_free;
	}
	if (config->bus) {
		st->bus = config->bus;
	} else {
		rc = pv_station_open_bus(config->virtual_specs, config->virtual_count,
					 config->real, &st->bus, &st->virtual_bus);
		if (rc)
			goto out_free;
		st->own_bus = true;
		st->only_virtual = config->virtual_count > 0 && !config->real;
	}
	if (st->only_virtual && pv_vpi_placeholder_recovery(&st->placeholder) != PV_OK)
		pv_clear_error();
	rc = check_profile(st, &config->profile, &st->set);
	if (rc)
		goto out_free;
	rc = station_profile_copy(&config->profile, &st->current);
	if (rc)
		goto out_free;
	*out = st;
	return PV_OK;

out_free:
	pv_station_free(st);
	return rc;
}

static void board_entry_free(struct board_entry *e)
{
	if (!e)
		return;
	for (size_t i = 0; e->log && i < e->log_count; i++)
		free(e->log[i]);
	free(e->log);
	free(e);
}

void pv_station_free(struct pv_station *st)
{
	if (!st)
		return;
	if (st->workers_left)
		return; /* see pv_station_run: abandoned workers still use it */
	for (size_t i = 0; i < st->board_count; i++)
		board_entry_free(st->boards[i]);
	free(st->boards);
	free(st->queue);
	pv_usb_payload_set_free(st->set);
	pv_usb_payload_set_free(st->pending_set);
	station_profile_free(st->current);
	station_profile_free(st->pending);
	while (st->retired) {
		struct station_profile *next = st->retired->retired_next;

		station_profile_free(st->retired);
		st->retired = next;
	}
	if (st->own_bus)
		pv_usb_bus_destroy(st->bus);
	pv_buf_release(&st->placeholder);
	pthread_cond_destroy(&st->changed);
	pthread_mutex_destroy(&st->deliver);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

/* ---- subscribers and events ----------------------------------------------------------- */

int pv_station_subscribe(struct pv_station *st, pv_station_event_fn fn, void *user,
			 uint64_t *id)
{
	int rc = PV_OK;

	pthread_mutex_lock(&st->lock);
	if (st->subscriber_count == STATION_SUBSCRIBERS_MAX) {
		rc = pv_fail(PV_ERR_BUSY, "station", "more than %d subscribers",
			     STATION_SUBSCRIBERS_MAX);
	} else {
		struct subscriber *s = &st->subscribers[st->subscriber_count++];

		s->id = ++st->next_subscriber_id;
		s->fn = fn;
		s->user = user;
		if (id)
			*id = s->id;
	}
	pthread_mutex_unlock(&st->lock);
	return rc;
}

void pv_station_unsubscribe(struct pv_station *st, uint64_t id)
{
	/* deliver first: when this returns, no event is being delivered to id. */
	pthread_mutex_lock(&st->deliver);
	pthread_mutex_lock(&st->lock);
	for (size_t i = 0; i < st->subscriber_count; i++) {
		if (st->subscribers[i].id == id) {
			st->subscribers[i] = st->subscribers[--st->subscriber_count];
			break;
		}
	}
	pthread_mutex_unlock(&st->lock);
	pthread_mutex_unlock(&st->deliver);
}

struct board_entry *station_board_by_id(struct pv_station *st, uint64_t id)
{
	/* Ids grow with the array (forget removes from the middle): binary search. */
	size_t lo = 0, hi = st->board_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->boards[mid]->b.id == id)
			return st->boards[mid];
		if (st->boards[mid]->b.id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void board_log(struct pv_station *st, struct board_entry *e, uint64_t t_ms,
		      const char *kind, const char *text)
{
	char line[STATION_LOG_LINE_MAX], *copy;

	if (!e->log) {
		e->log = calloc(st->cfg.log_lines, sizeof(*e->log));
		if (!e->log)
			return;
	}
	snprintf(line, sizeof(line), "%7.3f %s%s%s", (double)t_ms / 1000.0, kind,
		 text && *text ? ": " : "", text ? text : "");
	copy = strdup(line);
	if (!copy)
		return;
	if (e->log_count < st->cfg.log_lines) {
		e->log[e->log_count++] = copy;
	} else {
		free(e->log[e->log_next]);
		e->log[e->log_next] = copy;
		e->log_next = (e->log_next + 1) % st->cfg.log_lines;
	}
}

void station_emit(struct pv_station *st, const struct station_event_args *a)
{
	struct pv_station_event ev = {
		.kind = a->kind,
		.detail = a->detail ? a->detail : "",
		.file = a->file,
		.value = a->value,
		.size = a->size,
		.created = a->created,
		.conflicts = a->conflicts,
		.usb = a->usb,
	};
	struct subscriber subs[STATION_SUBSCRIBERS_MAX];
	struct pv_station_board copy;
	char meta[200]; /* KEY=VALUE, cut to fit one log line */
	size_t nsubs;
	char *json;

	pthread_mutex_lock(&st->deliver);
	pthread_mutex_lock(&st->lock);
	ev.seq = ++st->seq;
	ev.t_ms = station_now(st);
	ev.time_ms = wall_ms();
	if (a->board_id) {
		struct board_entry *e = station_board_by_id(st, a->board_id);

		if (e) {
			if (a->update)
				a->update(st, e, a->user);
			copy = e->b;
			ev.board = &copy;
			const char *text = ev.detail;

			if (a->kind == PV_STATION_EV_FILE) {
				text = a->file;
			} else if (a->kind == PV_STATION_EV_METADATA && a->file) {
				/* The board's own words, shown on the page's log (escaped there). */
				snprintf(meta, sizeof(meta), "%s=%s", a->file,
					 a->value ? a->value : "");
				text = meta;
			}
			board_log(st, e, ev.t_ms, pv_station_event_name(a->kind), text);
		}
	}
	nsubs = st->subscriber_count;
	memcpy(subs, st->subscribers, nsubs * sizeof(subs[0]));
	pthread_mutex_unlock(&st->lock);
	if (a->board_id && !ev.board) {
		pthread_mutex_unlock(&st->deliver); /* forgotten meanwhile */
		return;
	}
	json = station_event_json(&ev, &ev.json_len);
	ev.json = json ? json : "{}";
	if (!json)
		ev.json_len = 2;
	for (size_t i = 0; i < nsubs; i++)
		subs[i].fn(subs[i].user, &ev);
	free(json);
	pthread_mutex_unlock(&st->deliver);
}

/* ---- the engine's events ----------------------------------------------------------- */

static void board_entry_free(struct board_entry *e);

static void forget_at(struct pv_station *st, size_t index)
{
	board_entry_free(st->boards[index]);
	memmove(&st->boards[index], &st->boards[index + 1],
		(st->board_count - index - 1) * sizeof(st->boards[0]));
	st->board_count--;
}

static void forget_by_id(struct pv_station *st, uint64_t id)
{
	pthread_mutex_lock(&st->lock);
	for (size_t i = 0; i < st->board_count; i++) {
		if (st->boards[i]->b.id == id) {
			forget_at(st, i);
			break;
		}
	}
	pthread_mutex_unlock(&st->lock);
}

/* The board the engine works on at a port (lock held). */
static struct board_entry *in_flight_at(struct pv_station *st, const char *port)
{
	for (size_t i = st->board_count; i-- > 0;)
		if (st->boards[i]->in_flight && strcmp(st->boards[i]->b.port, port) == 0)
			return st->boards[i];
	return NULL;
}

static struct board_entry *new_board(struct pv_station *st, const struct pv_usb_event *ev)
{
	struct board_entry *e;

	if (st->board_count == st->board_cap) {
		size_t cap = st->board_cap ? st->board_cap * 2 : 64;
		struct board_entry **grown = realloc(st->boards, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		st->boards = grown;
		st->board_cap = cap;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->b.id = ++st->next_board_id;
	e->in_flight = true;
	pv_strlcpy(e->b.port, ev->port_path, sizeof(e->b.port));
	pv_strlcpy(e->b.serial, ev->serial, sizeof(e->b.serial));
	pv_strlcpy(e->b.chip, ev->chip, sizeof(e->b.chip));
	e->b.state = PV_STATION_ARRIVED;
	pv_strlcpy(e->b.stage, "found", sizeof(e->b.stage));
	e->b.arrived_ms = station_now(st);
	st->boards[st->board_count++] = e;
	return e;
}

static void set_model(struct board_entry *e, const char *boardrev)
{
	struct pv_revision rev;
	const struct pv_board_type *type;
	uint32_t code;

	if (pv_parse_u32(boardrev, 16, &code) || pv_revision_decode(code, &rev)) {
		pv_clear_error();
		return;
	}
	type = pv_board_by_type_code(rev.type_code);
	if (type)
		pv_strlcpy(e->b.model, type->name, sizeof(e->b.model));
}

struct usb_update {
	const struct pv_usb_event *ev;
	enum pv_station_state state;
	const char *stage;
	bool ended;
	const char *reason;
	const char *meta_key, *meta_value;
};

static void apply_usb(struct pv_station *st, struct board_entry *e, void *user)
{
	struct usb_update *u = user;
	const struct pv_usb_event *ev = u->ev;

	if (ev->serial[0])
		pv_strlcpy(e->b.serial, ev->serial, sizeof(e->b.serial));
	if (ev->chip[0])
		pv_strlcpy(e->b.chip, ev->chip, sizeof(e->b.chip));
	e->b.bytes = ev->bytes;
	if (ev->attempt)
		e->b.attempt = ev->attempt;
	e->b.state = u->state;
	if (ev->phase == PV_USB_PHASE_REENUMERATE || ev->phase == PV_USB_PHASE_SERVING)
		e->left_rom = true;
	if (u->stage)
		pv_strlcpy(e->b.stage, u->stage, sizeof(e->b.stage));
	if (u->reason)
		pv_strlcpy(e->b.reason, u->reason, sizeof(e->b.reason));
	if (u->meta_key && strcmp(u->meta_key, "MAC_ADDR") == 0)
		pv_strlcpy(e->b.mac, u->meta_value, sizeof(e->b.mac));
	if (u->meta_key && strcmp(u->meta_key, "USER_BOARDREV") == 0)
		set_model(e, u->meta_value);
	if (!e->b.total) {
		const struct pv_soc_info *soc = pv_soc_by_name(e->b.chip);

		if (soc && (size_t)soc->soc < STATION_SOC_SLOTS)
			e->b.total = st->totals[soc->soc];
	}
	if (u->ended) {
		e->in_flight = false;
		e->b.ended_ms = station_now(st);
	}
}

/* The stages before the file server: a SERVING event then starts it. */
static bool before_serving(const char *stage)
{
	return strcmp(stage, "found") == 0 || strcmp(stage, "rom") == 0 ||
	       strcmp(stage, "reenumerate") == 0 || strcmp(stage, "retry") == 0;
}

static bool is_flash(const struct pv_station *st)
{
	return st->cfg.mode == PV_USB_JOB_FLASH;
}

/* Serialised by the engine. Board state changes under the station's lock; the verified
 * board goes to the recorder, which records it later on its own thread. */
static void on_usb_event(void *user, const struct pv_usb_event *ev)
{
	struct pv_station *st = user;
	struct board_entry *e;
	struct usb_update u = { .ev = ev };
	struct station_event_args a = { .update = apply_usb, .user = &u, .usb = ev };
	char key[PV_USB_METADATA_KEY_MAX + 1], reason[PV_STATION_REASON_MAX];
	uint64_t previous_bytes;
	enum pv_station_state previous_state;
	char previous_stage[PV_STATION_STAGE_MAX];

	if (st->cfg.engine_event)
		st->cfg.engine_event(st->cfg.engine_event_user, ev);
	pthread_mutex_lock(&st->lock);
	e = ev->phase == PV_USB_PHASE_FOUND ? new_board(st, ev) : in_flight_at(st, ev->port_path);
	if (!e) {
		pthread_mutex_unlock(&st->lock);
		return;
	}
	a.board_id = e->b.id;
	previous_bytes = e->b.bytes;
	previous_state = e->b.state;
	pv_strlcpy(previous_stage, e->b.stage, sizeof(previous_stage));
	pthread_mutex_unlock(&st->lock);

	u.state = previous_state == PV_STATION_VERIFYING ? PV_STATION_VERIFYING
							: PV_STATION_FLASHING;
	switch (ev->phase) {
	case PV_USB_PHASE_FOUND:
		u.state = PV_STATION_ARRIVED;
		a.kind = PV_STATION_EV_ARRIVED;
		a.detail = ev->detail;
		station_emit(st, &a);
		return;
	case PV_USB_PHASE_ROM:
	case PV_USB_PHASE_REENUMERATE:
	case PV_USB_PHASE_RETRY:
		u.stage = pv_usb_phase_name(ev->phase);
		a.kind = PV_STATION_EV_STAGE;
		a.detail = ev->detail;
		station_emit(st, &a);
		return;
	case PV_USB_PHASE_SERVING:
		if (before_serving(previous_stage)) {
			/* The file server started (or its first request came after the ROM). */
			u.stage = "serving";
			a.kind = PV_STATION_EV_STAGE;
			station_emit(st, &a);
		}
		if (!ev->detail[0])
			return;
		if (ev->detail[0] == '*') {
			/* "*KEY*VALUE": one metadata item, already checked by the engine. */
			const char *sep = strchr(ev->detail + 1, '*');
			size_t key_len = sep ? (size_t)(sep - ev->detail - 1) : 0;

			if (!sep || key_len == 0 || key_len > PV_USB_METADATA_KEY_MAX)
				return;
			memcpy(key, ev->detail + 1, key_len);
			key[key_len] = '\0';
			u.meta_key = key;
			u.meta_value = sep + 1;
			a.kind = PV_STATION_EV_METADATA;
			a.file = key;
			a.value = sep + 1;
			station_emit(st, &a);
			return;
		}
		if (ev->bytes == previous_bytes)
			return; /* GetFileSize, a name not found: the file event comes with its bytes */
		u.stage = ev->detail;
		a.kind = PV_STATION_EV_FILE;
		a.file = ev->detail;
		a.size = ev->bytes - previous_bytes;
		station_emit(st, &a);
		if (is_flash(st) && (strcmp(ev->detail, "pieeprom.bin") == 0 ||
				     strcmp(ev->detail, "pieeprom.upd") == 0)) {
			struct station_event_args v = { .kind = PV_STATION_EV_VERIFYING,
							.board_id = e->b.id, .update = apply_usb,
							.user = &u, .usb = ev };

			u.state = PV_STATION_VERIFYING;
			u.stage = "verifying";
			station_emit(st, &v);
		}
		return;
	case PV_USB_PHASE_VERIFIED:
	case PV_USB_PHASE_BOOTED:
		u.state = ev->phase == PV_USB_PHASE_VERIFIED ? PV_STATION_VERIFIED
							     : PV_STATION_BOOTED;
		u.stage = pv_station_state_name(u.state);
		u.reason = "";
		u.ended = true;
		a.kind = ev->phase == PV_USB_PHASE_VERIFIED ? PV_STATION_EV_VERIFIED
							    : PV_STATION_EV_BOOTED;
		station_emit(st, &a);
		pthread_mutex_lock(&st->lock);
		st->summary.boards++;
		st->summary.verified++;
		if (st->cfg.inventory && ev->result &&
		    station_recorder_queue(st, e->b.id, ev->result) != PV_OK)
			pv_log(PV_LOG_ERROR, "station", "%s: %s", ev->port_path, pv_last_error());
		pthread_mutex_unlock(&st->lock);
		return;
	case PV_USB_PHASE_FAILED:
		pthread_mutex_lock(&st->lock);
		st->summary.boards++;
		if (st->abandoning) {
			st->summary.abandoned++;
			u.state = PV_STATION_ABANDONED;
			a.kind = PV_STATION_EV_ABANDONED;
			snprintf(reason, sizeof(reason),
				 "the station stopped before the board was verified (%.180s)",
				 ev->detail);
		} else {
			st->summary.failed++;
			u.state = PV_STATION_FAILED;
			a.kind = PV_STATION_EV_FAILED;
			pv_strlcpy(reason, ev->detail, sizeof(reason));
		}
		pthread_mutex_unlock(&st->lock);
		u.stage = pv_station_state_name(u.state);
		u.reason = reason;
		u.ended = true;
		a.detail = reason;
		station_emit(st, &a);
		return;
	case PV_USB_PHASE_SKIPPED:
		u.state = PV_STATION_ABANDONED;
		u.reason = ev->detail;
		u.ended = true;
		a.kind = PV_STATION_EV_SKIPPED;
		a.detail = ev->detail;
		station_emit(st, &a);
		/* Not one of the station's boards: drop it from the list. */
		forget_by_id(st, e->b.id);
		return;
	}
}

/* ---- payloads, port rules ------------------------------------------------------------- */

static uint64_t file_size(const struct pv_usb_payload *payload, const char *chip,
			  const char *name)
{
	struct pv_usb_served_file f;
	uint64_t size = 0;

	if (pv_usb_files_open(payload->files, chip, "", name, &f) == PV_OK) {
		size = f.size;
		pv_usb_served_file_close(&f);
	} else {
		pv_clear_error();
	}
	return size;
}

/* The engine asks once per SoC and job; the station learns what a board of it takes. */
static int station_payload(void *user, const struct pv_soc_info *soc,
			   const struct pv_usb_payload **payload)
{
	struct pv_station *st = user;
	int rc;

	if (st->cfg.payload)
		rc = st->cfg.payload(st->cfg.payload_user, soc, payload);
	else
		rc = pv_usb_payload_set_get(st->set, soc, payload);
	if (rc || !is_flash(st) || (size_t)soc->soc >= STATION_SOC_SLOTS)
		return rc;
	pthread_mutex_lock(&st->lock);
	st->totals[soc->soc] = PV_USB_BOOT_MESSAGE_SIZE + (*payload)->second_stage_size +
			       file_size(*payload, soc->chip, "config.txt") +
			       file_size(*payload, soc->chip, "pieeprom.sig") +
			       file_size(*payload, soc->chip, "pieeprom.bin");
	pthread_mutex_unlock(&st->lock);
	return PV_OK;
}

static struct port_rule *port_rule(struct pv_station *st, const char *port, bool create)
{
	for (size_t i = 0; i < st->port_count; i++)
		if (strcmp(st->ports[i].port, port) == 0)
			return &st->ports[i];
	if (!create || st->port_count == STATION_PORT_RULES_MAX)
		return NULL;
	memset(&st->ports[st->port_count], 0, sizeof(st->ports[0]));
	pv_strlcpy(st->ports[st->port_count].port, port, sizeof(st->ports[0].port));
	return &st->ports[st->port_count++];
}

/* Engine thread, job lock held: only the station's lock, never an event. */
static int station_port_policy(void *user, const char *port_path)
{
	struct pv_station *st = user;
	struct port_rule *rule;
	int policy = PV_USB_PORT_SERVE;

	pthread_mutex_lock(&st->lock);
	rule = port_rule(st, port_path, false);
	if (rule && rule->paused) {
		policy = PV_USB_PORT_HOLD;
	} else if (rule && rule->again) {
		rule->again = false;
		rule->served = false;
		policy = PV_USB_PORT_AGAIN;
	} else if (rule && rule->served) {
		rule->served = false;
		policy = PV_USB_PORT_SERVED;
	}
	pthread_mutex_unlock(&st->lock);
	return policy;
}

/* ---- running ----------------------------------------------------------------------- */

static int append_results(struct pv_usb_job_result *all, struct pv_usb_job_result *part)
{
	struct pv_usb_board_result *grown;

	if (part->count == 0)
		return PV_OK;
	grown = realloc(all->boards, (all->count + part->count) * sizeof(*grown));
	if (!grown)
		return pv_fail(PV_ERR_NOMEM, "station", "out of memory");
	memcpy(grown + all->count, part->boards, part->count * sizeof(*grown));
	all->boards = grown;
	all->count += part->count;
	all->succeeded += part->succeeded;
	all->failed += part->failed;
	all->waited_out = part->waited_out;
	all->cancelled |= part->cancelled;
	all->abandoned += part->abandoned;
	return PV_OK;
}

static void emit_station(struct pv_station *st, enum pv_station_event_kind kind,
			 const char *detail)
{
	struct station_event_args a = { .kind = kind, .detail = detail };

	station_emit(st, &a);
}

static void describe(struct pv_station *st, char *out, size_t size)
{
	const struct pv_station_profile *p = &st->current->p;

	if (st->cfg.mode != PV_USB_JOB_FLASH)
		snprintf(out, size, "serving boot files");
	else
		snprintf(out, size, "flashing%s%s%s%s%s", p->flash.preset ? " preset " : "",
			 p->flash.preset ? p->flash.preset : "",
			 p->flash.config_path ? " config " : "",
			 p->flash.config_path ? p->flash.config_path : "",
			 st->cfg.inventory ? ", recording" : "");
}

int pv_station_run(struct pv_station *st, struct pv_station_summary *summary,
		   struct pv_usb_job_result *result)
{
	struct pv_usb_job_result all;
	char text[512];
	int rc;

	memset(&all, 0, sizeof(all));
	pthread_mutex_lock(&st->lock);
	if (st->running) {
		pthread_mutex_unlock(&st->lock);
		return pv_fail(PV_ERR_BUSY, "station", "the station is already running");
	}
	st->running = true;
	pthread_mutex_unlock(&st->lock);
	rc = station_recorder_start(st);
	if (rc)
		goto out_not_running;
	describe(st, text, sizeof(text));
	emit_station(st, PV_STATION_EV_STARTED, text);
	for (;;) {
		struct pv_usb_job_config jc;
		struct pv_usb_job_result part;
		bool again = false;

		pv_usb_job_config_init(&jc);
		jc.mode = st->cfg.mode;
		jc.bus = st->bus;
		jc.payload = station_payload;
		jc.payload_user = st;
		jc.port_globs = st->current->p.port_globs;
		jc.port_glob_count = st->current->p.port_glob_count;
		jc.port_number = st->cfg.port_number;
		jc.serial = st->cfg.serial;
		jc.count = st->cfg.count;
		jc.loop = st->cfg.loop;
		jc.wait_ms = st->cfg.wait_ms;
		jc.timeouts = st->cfg.timeouts;
		jc.metadata_dir = st->cfg.metadata_dir;
		jc.event = on_usb_event;
		jc.event_user = st;
		jc.cancel = &st->cancel;
		jc.drain = &st->drain;
		jc.port_policy = station_port_policy;
		jc.port_policy_user = st;
		pthread_mutex_lock(&st->lock);
		st->job_running = true;
		pthread_mutex_unlock(&st->lock);
		rc = pv_usb_job_run(&jc, &part);
		pthread_mutex_lock(&st->lock);
		st->job_running = false;
		/* A worker the engine gave up on may still be inside the bus or the payloads:
		 * no new job, and they are never freed (the caller should end the process). */
		if (part.abandoned)
			st->workers_left = true;
		pthread_cond_broadcast(&st->changed);
		if (!rc && st->pending && !st->stop_requested && !st->workers_left) {
			/* Reload: the boards of the old profile are done; the next ones get the
			 * new one. */
			pv_usb_payload_set_free(st->set);
			st->current->retired_next = st->retired;
			st->retired = st->current;
			st->set = st->pending_set;
			st->current = st->pending;
			st->pending_set = NULL;
			st->pending = NULL;
			st->drain = 0;
			st->abandoning = false;
			/* Boards that ended and may still be on their port were served: the new
			 * job must not flash them again (it would not know them). */
			for (size_t i = 0; i < st->board_count; i++) {
				struct port_rule *rule =
					port_rule(st, st->boards[i]->b.port, true);

				if (rule && !st->boards[i]->in_flight)
					rule->served = true;
			}
			memset(st->totals, 0, sizeof(st->totals));
			again = true;
		}
		st->summary.waited_out = part.waited_out;
		pthread_mutex_unlock(&st->lock);
		if (!rc)
			rc = append_results(&all, &part);
		free(part.boards);
		if (rc || !again)
			break;
	}
	station_recorder_finish(st);
	pthread_mutex_lock(&st->lock);
	st->summary.stopped = st->stop_requested;
	if (summary)
		*summary = st->summary;
	pthread_mutex_unlock(&st->lock);
	snprintf(text, sizeof(text),
		 "%u boards: %u verified, %u recorded, %u failed, %u not recorded, %u abandoned",
		 st->summary.boards, st->summary.verified, st->summary.recorded,
		 st->summary.failed, st->summary.not_recorded, st->summary.abandoned);
	emit_station(st, PV_STATION_EV_STOPPED, text);
	if (result)
		*result = all;
	else
		pv_usb_job_result_release(&all);
	if (rc)
		pv_usb_job_result_release(result ? result : &all);
out_not_running:
	pthread_mutex_lock(&st->lock);
	st->running = false;
	pthread_mutex_unlock(&st->lock);
	return rc;
}

/* lock held */
static void stop_locked(struct pv_station *st, enum pv_station_stop_mode mode)
{
	st->stop_requested = true;
	st->drain = 1;
	if (mode == PV_STATION_STOP_ABANDON) {
		st->abandoning = true;
		st->cancel = 1;
	} else if (!st->stop_deadline_ms) {
		st->stop_deadline_ms = pv_usb_now_ms() + st->cfg.stop_grace_ms;
	}
	pthread_cond_broadcast(&st->changed);
}

void pv_station_stop(struct pv_station *st, enum pv_station_stop_mode mode)
{
	bool first;

	pthread_mutex_lock(&st->lock);
	first = !st->stop_requested || (mode == PV_STATION_STOP_ABANDON && !st->abandoning);
	pthread_mutex_unlock(&st->lock);
	/* Announced before the stop takes effect, so "stopping" comes before the events it
	 * causes ("abandoned", "stopped"). */
	if (first)
		emit_station(st, PV_STATION_EV_STOPPING,
			     mode == PV_STATION_STOP_ABANDON ? "abandon" : "finish");
	pthread_mutex_lock(&st->lock);
	stop_locked(st, mode);
	pthread_mutex_unlock(&st->lock);
	pv_usb_bus_wakeup(st->bus);
}

void pv_station_watch_flag(struct pv_station *st, volatile const int *stop_flag)
{
	pthread_mutex_lock(&st->lock);
	st->watch_flag = stop_flag;
	pthread_mutex_unlock(&st->lock);
}

/* Called by the recorder thread about every SUPERVISE_MS: the stop flag and the grace
 * deadline. Returns how long it may sleep. */
unsigned station_supervise(struct pv_station *st)
{
	bool flag, expired;

	pthread_mutex_lock(&st->lock);
	flag = st->watch_flag && *st->watch_flag && !st->abandoning;
	expired = st->stop_deadline_ms && !st->abandoning && pv_usb_now_ms() >= st->stop_deadline_ms;
	pthread_mutex_unlock(&st->lock);
	if (flag || expired)
		pv_station_stop(st, PV_STATION_STOP_ABANDON);
	return SUPERVISE_MS;
}

int pv_station_reload(struct pv_station *st, const struct pv_station_profile *profile)
{
	struct pv_usb_payload_set *set = NULL;
	struct station_profile *copy = NULL;
	char detail[PV_STATION_REASON_MAX];
	int rc;

	rc = check_profile(st, profile, &set);
	if (!rc)
		rc = station_profile_copy(profile, &copy);
	if (rc) {
		pv_usb_payload_set_free(set);
		snprintf(detail, sizeof(detail), "kept the old profile: %s", pv_last_error());
		emit_station(st, PV_STATION_EV_RELOADED, detail);
		return pv_fail(rc, "station", "%s", detail);
	}
	pthread_mutex_lock(&st->lock);
	if (!st->running) {
		/* Not running yet: use it from the start. */
		pv_usb_payload_set_free(st->set);
		station_profile_free(st->current);
		st->set = set;
		st->current = copy;
	} else {
		pv_usb_payload_set_free(st->pending_set);
		station_profile_free(st->pending);
		st->pending_set = set;
		st->pending = copy;
		st->drain = 1; /* the job ends when its boards are done, then starts again */
	}
	pthread_mutex_unlock(&st->lock);
	pv_usb_bus_wakeup(st->bus);
	emit_station(st, PV_STATION_EV_RELOADED, "the next boards get the new profile");
	return PV_OK;
}

/* ---- actions and reading ------------------------------------------------------------ */

static struct board_entry *board_by_key(struct pv_station *st, const char *key, size_t *index)
{
	for (size_t i = st->board_count; i-- > 0;) {
		if (strcmp(pv_station_board_key(&st->boards[i]->b), key) == 0) {
			*index = i;
			return st->boards[i];
		}
	}
	return NULL;
}

/* Retry, outside the station's lock (a hub request may block). A board in its boot ROM
 * is served again on the next scan once its port is armed (PV_USB_PORT_AGAIN). One whose
 * ROM took the upload asks for nothing more until it restarts: its port is power-cycled
 * first when the bus can, then armed, so that the engine serves it when it is back in its
 * ROM whether it saw the port empty or not; never armed before the power cycle, where the
 * next scan would use the arming up on the board still in its second stage. Without a
 * power cycle a person re-plugs or resets it. */
static void retry_board(struct pv_station *st, uint64_t board_id, const char *cycle_port)
{
	struct station_event_args a = {
		.kind = PV_STATION_EV_LOG, .board_id = board_id,
		.detail = "retry: flashed again from its boot ROM; if its recovery program "
			  "ran, once it is re-plugged or reset",
	};
	char detail[PV_STATION_REASON_MAX];
	struct port_rule *rule;

	if (!cycle_port[0]) {
		station_emit(st, &a);
		return;
	}
	if (pv_usb_bus_power_cycle(st->bus, cycle_port) == PV_OK) {
		snprintf(detail, sizeof(detail), "retry: power-cycled port %s", cycle_port);
		a.detail = detail;
	} else {
		pv_clear_error(); /* no switchable port: the board waits for a person */
	}
	pthread_mutex_lock(&st->lock);
	/* Not when the engine already took the board back (in flight there again). */
	rule = in_flight_at(st, cycle_port) ? NULL : port_rule(st, cycle_port, false);
	if (rule)
		rule->again = true;
	pthread_mutex_unlock(&st->lock);
	station_emit(st, &a);
}

int pv_station_action(struct pv_station *st, const char *key, enum pv_station_action action)
{
	struct board_entry *e;
	struct port_rule *rule;
	size_t index = 0;
	uint64_t retried = 0;
	char cycle_port[PV_USB_PORT_PATH_MAX] = "";
	int rc = PV_OK;

	pthread_mutex_lock(&st->lock);
	e = board_by_key(st, key, &index);
	if (!e) {
		rc = pv_fail(PV_ERR_NOT_FOUND, "station", "no board '%.64s'", key);
		goto out_unlock;
	}
	switch (action) {
	case PV_STATION_RETRY:
		if (e->in_flight || (e->b.state != PV_STATION_FAILED &&
				     e->b.state != PV_STATION_ABANDONED)) {
			rc = pv_fail(PV_ERR_CONFLICT, "station", "board '%.64s' is %s: nothing to retry",
				     key, pv_station_state_name(e->b.state));
			goto out_unlock;
		}
		rule = port_rule(st, e->b.port, true);
		if (!rule) {
			rc = pv_fail(PV_ERR_BUSY, "station", "too many port rules");
			goto out_unlock;
		}
		retried = e->b.id;
		if (e->left_rom)
			pv_strlcpy(cycle_port, e->b.port, sizeof(cycle_port)); /* retry_board arms it */
		else
			rule->again = true;
		break;
	case PV_STATION_PAUSE:
	case PV_STATION_RESUME:
		rule = port_rule(st, e->b.port, true);
		if (!rule) {
			rc = pv_fail(PV_ERR_BUSY, "station", "too many port rules");
			goto out_unlock;
		}
		rule->paused = action == PV_STATION_PAUSE;
		break;
	case PV_STATION_FORGET:
		if (e->in_flight) {
			rc = pv_fail(PV_ERR_CONFLICT, "station", "board '%.64s' is in flight", key);
			goto out_unlock;
		}
		goto out_forget;
	}
	goto out_unlock;

out_forget:
	forget_at(st, index);
out_unlock:
	pthread_mutex_unlock(&st->lock);
	if (retried)
		retry_board(st, retried, cycle_port);
	if (!rc && action != PV_STATION_FORGET)
		pv_usb_bus_wakeup(st->bus);
	return rc;
}

/* Failures first (they need a person), then by port (numbers in order: 1-1.10 after
 * 1-1.9), then by arrival. */
static int compare_port(const char *a, const char *b)
{
	while (*a && *b) {
		if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
			unsigned long x = strtoul(a, (char **)&a, 10);
			unsigned long y = strtoul(b, (char **)&b, 10);

			if (x != y)
				return x < y ? -1 : 1;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return *a ? 1 : *b ? -1 : 0;
}

static bool needs_attention(const struct pv_station_board *b)
{
	return b->state == PV_STATION_FAILED || b->state == PV_STATION_ABANDONED;
}

bool pv_station_board_in_flight(const struct pv_station_board *b, bool recording)
{
	return b->state == PV_STATION_ARRIVED || b->state == PV_STATION_FLASHING ||
	       b->state == PV_STATION_VERIFYING ||
	       (recording && (b->state == PV_STATION_VERIFIED || b->state == PV_STATION_BOOTED));
}

int pv_station_board_compare(const void *pa, const void *pb)
{
	const struct pv_station_board *a = pa, *b = pb;
	int c;

	if (needs_attention(a) != needs_attention(b))
		return needs_attention(a) ? -1 : 1;
	c = compare_port(a->port, b->port);
	if (c)
		return c;
	return a->id < b->id ? -1 : a->id > b->id;
}

int pv_station_boards(struct pv_station *st, struct pv_station_board **boards, size_t *count)
{
	struct pv_station_board *list;
	size_t n;

	pthread_mutex_lock(&st->lock);
	n = st->board_count;
	list = malloc((n ? n : 1) * sizeof(*list));
	if (!list) {
		pthread_mutex_unlock(&st->lock);
		return pv_fail(PV_ERR_NOMEM, "station", "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		list[i] = st->boards[i]->b;
	pthread_mutex_unlock(&st->lock);
	qsort(list, n, sizeof(*list), pv_station_board_compare);
	*boards = list;
	*count = n;
	return PV_OK;
}

int station_board_log(struct pv_station *st, const char *key, struct pv_station_board *board,
		      char ***lines, size_t *count)
{
	struct board_entry *e;
	size_t index, n;
	char **copy;

	pthread_mutex_lock(&st->lock);
	e = board_by_key(st, key, &index);
	if (!e) {
		pthread_mutex_unlock(&st->lock);
		return pv_fail(PV_ERR_NOT_FOUND, "station", "no board '%.64s'", key);
	}
	*board = e->b;
	n = e->log_count;
	copy = calloc(n ? n : 1, sizeof(*copy));
	for (size_t i = 0; copy && i < n; i++) {
		size_t at = n < st->cfg.log_lines ? i : (e->log_next + i) % st->cfg.log_lines;

		copy[i] = strdup(e->log[at]);
		if (!copy[i]) {
			for (size_t k = 0; k < i; k++)
				free(copy[k]);
			free(copy);
			copy = NULL;
		}
	}
	pthread_mutex_unlock(&st->lock);
	if (!copy)
		return pv_fail(PV_ERR_NOMEM, "station", "out of memory");
	*lines = copy;
	*count = n;
	return PV_OK;
}

const char *pv_station_inventory(const struct pv_station *st)
{
	return st->cfg.inventory;
}

struct pv_usb_bus *pv_station_virtual_bus(struct pv_station *st)
{
	return st->virtual_bus;
}

bool pv_station_only_virtual(const struct pv_station *st)
{
	return st->only_virtual;
}

const struct pv_usb_payload_report *pv_station_payload_report(struct pv_station *st,
								 const struct pv_soc_info *soc)
{
	return st->set ? pv_usb_payload_set_report(st->set, soc) : NULL;
}
