/* Shared runner of `piprov usb boot|flash` and `piprov rpiboot` (see usb_run.h). */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "piprov/inventory.h"
#include "piprov/record.h"
#include "piprov/text.h"
#include "piprov/vpi.h"
#include "usb_run.h"
#include "banned.h"

#define REDRAW_INTERVAL_MS 100

static volatile int cancel_requested;

/* SIGINT/SIGTERM during a job: blocked in every thread and taken by one thread with
 * sigwait(), which can then wake the engine (pv_usb_bus_wakeup is not async-signal-safe, so a
 * plain handler could only set the flag). The engine then ends within about half a second
 * in every state (pv_usb_job_run). */
struct signal_watch {
	pthread_t thread;
	struct pv_usb_bus *bus;
	bool started;
	volatile int stopping;
};

/* The mask before block_stop_signals(): restored when the job has ended. */
static sigset_t mask_before_job;
static bool stop_signals_blocked;

/* Called before any thread exists (libusb_init starts its own: they must inherit the
 * blocked signals, or one of them takes a SIGTERM by its default action). */
static void block_stop_signals(void)
{
	sigset_t set;

	if (stop_signals_blocked)
		return;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &mask_before_job);
	stop_signals_blocked = true;
}

static void unblock_stop_signals(void)
{
	if (stop_signals_blocked) {
		pthread_sigmask(SIG_SETMASK, &mask_before_job, NULL);
		stop_signals_blocked = false;
	}
}

static void *signal_main(void *arg)
{
	struct signal_watch *w = arg;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGUSR1 && w->stopping)
			break;
		if (sig == SIGUSR1)
			continue;
		cancel_requested = 1;
		pv_usb_bus_wakeup(w->bus);
	}
	return NULL;
}

static void signal_watch_start(struct signal_watch *w, struct pv_usb_bus *bus)
{
	sigset_t usr1, before;

	block_stop_signals();
	w->bus = bus;
	/* SIGUSR1 (sent to this thread only) tells it to end: blocked in it from the start. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, &before);
	w->started = pthread_create(&w->thread, NULL, signal_main, w) == 0;
	pthread_sigmask(SIG_SETMASK, &before, NULL);
}

static void signal_watch_stop(struct signal_watch *w)
{
	/* Not pthread_cancel: glibc loads libgcc_s for it at run time, which a minimal system
	 * (the e2e guest) may not have. */
	if (w->started) {
		w->stopping = 1;
		pthread_kill(w->thread, SIGUSR1);
		pthread_join(w->thread, NULL);
	}
	/* A signal that came after the job ended is taken by its default action now (by this
	 * thread: the others keep them blocked). */
	unblock_stop_signals();
}

void usb_run_init(struct usb_run *run, struct cli_context *ctx)
{
	memset(run, 0, sizeof(*run));
	run->ctx = ctx;
	/* Global options: --json, --inventory FILE (or $PIPROV_INVENTORY) records the boards. */
	run->json = ctx->json;
	run->inventory = ctx->inventory;
	run->port_number = -1;
	run->timeout_s = 120;
	pv_usb_timeouts_default(&run->timeouts);
}

int usb_parse_seconds(const char *text, unsigned *ms)
{
	char *end;
	double value;

	errno = 0;
	value = strtod(text, &end);
	if (errno || end == text || *end || value < 0 || value > 86400.0 * 365)
		return PV_ERR_INVALID;
	*ms = (unsigned)(value * 1000.0 + 0.5);
	return PV_OK;
}

int usb_run_open_bus(struct usb_run *run)
{
	struct pv_usb_bus *buses[2];
	size_t n = 0;
	int rc;

	block_stop_signals();
	if (run->virtual_count > 0) {
		rc = pv_vpi_bus_new(&run->virtual_bus);
		if (rc)
			return cli_fail(rc);
		for (size_t i = 0; i < run->virtual_count; i++) {
			rc = pv_vpi_bus_add_spec(run->virtual_bus, run->virtual_specs[i]);
			if (rc) {
				pv_usb_bus_destroy(run->virtual_bus);
				run->virtual_bus = NULL;
				fprintf(stderr, "piprov: --virtual '%s': %s\n", run->virtual_specs[i],
					pv_last_error());
				return CLI_EXIT_USAGE;
			}
		}
		buses[n++] = run->virtual_bus;
	}
	if (run->virtual_count == 0 || run->real) {
		rc = pv_usb_libusb_bus_new(&buses[n]);
		if (rc) {
			if (n)
				pv_usb_bus_destroy(buses[0]);
			run->virtual_bus = NULL;
			return cli_fail(rc);
		}
		n++;
	}
	run->only_virtual = run->virtual_count > 0 && !run->real;
	if (n == 1) {
		run->bus = buses[0];
		return CLI_EXIT_OK;
	}
	rc = pv_usb_combined_bus_new(buses, n, &run->bus);
	if (rc) {
		for (size_t i = 0; i < n; i++)
			pv_usb_bus_destroy(buses[i]);
		run->virtual_bus = NULL;
		return cli_fail(rc);
	}
	return CLI_EXIT_OK;
}

void usb_run_close_bus(struct usb_run *run)
{
	unblock_stop_signals();
	pv_usb_bus_destroy(run->bus);
	run->bus = NULL;
	run->virtual_bus = NULL;
}

/* ---- progress --------------------------------------------------------------------- */

struct board_line {
	char port_path[PV_USB_PORT_PATH_MAX];
	enum pv_usb_phase phase;
	uint64_t last_draw_ms;
	FILE *log;
	char text[512];               /* as last drawn (TTY) */
};

struct progress {
	struct usb_run *run;
	bool tty;
	/* TTY: events (serialised by the engine) and log lines (any thread) both redraw. */
	pthread_mutex_t lock;
	struct board_line *lines;
	size_t count;
	size_t cap;
};

static struct board_line *line_for(struct progress *pg, const char *port_path, size_t *index)
{
	struct board_line *grown;

	for (size_t i = 0; i < pg->count; i++) {
		if (strcmp(pg->lines[i].port_path, port_path) == 0) {
			*index = i;
			return &pg->lines[i];
		}
	}
	if (pg->count == pg->cap) {
		size_t cap = pg->cap ? pg->cap * 2 : 16;
		grown = realloc(pg->lines, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		pg->lines = grown;
		pg->cap = cap;
	}
	memset(&pg->lines[pg->count], 0, sizeof(pg->lines[0]));
	pv_strlcpy(pg->lines[pg->count].port_path, port_path, PV_USB_PORT_PATH_MAX);
	pg->lines[pg->count].phase = (enum pv_usb_phase)-1;
	if (pg->run->log_dir) {
		char *path = NULL;
		if (asprintf(&path, "%s/%s.log", pg->run->log_dir, port_path) > 0) {
			pg->lines[pg->count].log = fopen(path, "a");
			if (!pg->lines[pg->count].log)
				cli_warn("--log-dir: cannot open '%s': %s", path, strerror(errno));
		}
		free(path);
	}
	*index = pg->count;
	return &pg->lines[pg->count++];
}

static void format_line(const struct pv_usb_event *ev, char *out, size_t size)
{
	char attempt[24] = "";

	if (ev->phase == PV_USB_PHASE_ROM || ev->phase == PV_USB_PHASE_RETRY)
		snprintf(attempt, sizeof(attempt), " (attempt %u)", ev->attempt);
	snprintf(out, size, "%-14s %-5s %-16s %-11s %9.1f KiB %6.1fs %s%s", ev->port_path,
		 ev->chip, ev->serial[0] ? ev->serial : "-", pv_usb_phase_name(ev->phase),
		 (double)ev->bytes / 1024.0, (double)ev->elapsed_ms / 1000.0, ev->detail, attempt);
}

static void print_json_event(const struct pv_usb_event *ev)
{
	json_t *obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:i}", "event",
				pv_usb_phase_name(ev->phase), "port", ev->port_path, "chip",
				ev->chip, "serial", ev->serial, "detail", ev->detail, "bytes",
				(json_int_t)ev->bytes, "elapsed_ms", (json_int_t)ev->elapsed_ms,
				"attempt", (int)ev->attempt);
	char *text;

	if (!obj)
		return;
	text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text) {
		puts(text);
		fflush(stdout);
		free(text);
	}
	json_decref(obj);
}

/* Room for one row on the terminal. A row that wrapped would take two lines and the cursor
 * arithmetic of the redraw would leave stale rows behind, so rows are cut to fit; one column
 * is left free because a character in the last one makes some terminals wrap. */
static int row_width(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		return ws.ws_col - 1;
	return 79;
}

static void on_event(void *user, const struct pv_usb_event *ev)
{
	struct progress *pg = user;
	struct board_line *line;
	size_t index = 0;
	char text[512];
	bool phase_changed;
	uint64_t now = pv_usb_now_ms();

	pthread_mutex_lock(&pg->lock);
	line = line_for(pg, ev->port_path, &index);
	if (!line) {
		pthread_mutex_unlock(&pg->lock);
		return;
	}
	phase_changed = line->phase != ev->phase;
	format_line(ev, text, sizeof(text));
	if (line->log) {
		fprintf(line->log, "%s\n", text);
		fflush(line->log);
	}
	if (pg->run->json) {
		print_json_event(ev);
	} else if (pg->tty) {
		bool is_new = line->phase == (enum pv_usb_phase)-1;

		if (!phase_changed && now - line->last_draw_ms < REDRAW_INTERVAL_MS)
			goto out_remember;
		pv_strlcpy(line->text, text, sizeof(line->text));
		if (is_new) {
			printf("%.*s\n", row_width(), text);
		} else {
			size_t up = pg->count - index;
			/* Redraw this board's line in place, then return below the table. */
			printf("\033[%zuA\r\033[2K%.*s\033[%zuB\r", up, row_width(), text, up);
		}
		fflush(stdout);
		line->last_draw_ms = now;
	} else if (phase_changed) {
		printf("%s\n", text);
		fflush(stdout);
	}
out_remember:
	line->phase = ev->phase;
	pthread_mutex_unlock(&pg->lock);
}

/* TTY: a log line goes above the board table, which is then drawn again below it. */
static void tty_log(enum pv_log_level level, const char *module, const char *message,
		    void *user)
{
	struct progress *pg = user;
	int width = row_width();

	pthread_mutex_lock(&pg->lock);
	if (pg->count)
		printf("\033[%zuA\r\033[J", pg->count);
	fflush(stdout);
	cli_log_to_stderr(level, module, message, pg->run->ctx);
	for (size_t i = 0; i < pg->count; i++)
		printf("%.*s\n", width, pg->lines[i].text);
	fflush(stdout);
	pthread_mutex_unlock(&pg->lock);
}

static void progress_release(struct progress *pg)
{
	pthread_mutex_destroy(&pg->lock);
	for (size_t i = 0; i < pg->count; i++)
		if (pg->lines[i].log)
			fclose(pg->lines[i].log);
	free(pg->lines);
}

/* ---- summary, inventory ------------------------------------------------------------ */

static const char *outcome_name(const struct pv_usb_board_result *b)
{
	return pv_usb_phase_name(b->outcome);
}

static void print_summary_table(const struct pv_usb_job_result *r)
{
	printf("\n%-14s %-5s %-16s %-9s %7s %10s  %s\n", "PORT", "CHIP", "SERIAL", "RESULT",
	       "TIME", "BYTES", "REASON");
	for (size_t i = 0; i < r->count; i++) {
		const struct pv_usb_board_result *b = &r->boards[i];

		printf("%-14s %-5s %-16s %-9s %6.1fs %10llu  %s\n", b->port_path,
		       b->soc ? b->soc->chip : "-", b->serial[0] ? b->serial : "-",
		       outcome_name(b), (double)b->elapsed_ms / 1000.0,
		       (unsigned long long)b->bytes, b->reason);
	}
	printf("%u %s, %u failed\n", r->succeeded, "succeeded", r->failed);
}

static void print_summary_json(const struct pv_usb_job_result *r)
{
	json_t *boards = json_array();
	json_t *root;
	char *text;

	for (size_t i = 0; i < r->count && boards; i++) {
		const struct pv_usb_board_result *b = &r->boards[i];
		json_t *md = json_object();

		for (size_t k = 0; md && k < b->metadata.count; k++)
			json_object_set_new(md, b->metadata.items[k].key,
					    json_string(b->metadata.items[k].value));
		json_array_append_new(
			boards, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:o}", "port",
					  b->port_path, "chip", b->soc ? b->soc->chip : "",
					  "serial", b->serial, "result", outcome_name(b), "reason",
					  b->reason, "elapsed_ms", (json_int_t)b->elapsed_ms,
					  "bytes", (json_int_t)b->bytes, "attempts",
					  (int)b->attempts, "metadata", md ? md : json_object()));
	}
	root = json_pack("{s:s, s:i, s:i, s:b, s:o}", "event", "summary", "succeeded",
			 (int)r->succeeded, "failed", (int)r->failed, "waited_out",
			 r->waited_out, "boards", boards ? boards : json_array());
	if (!root)
		return;
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text) {
		puts(text);
		free(text);
	}
	json_decref(root);
}

static unsigned update_inventory(struct usb_run *run, const struct pv_usb_job_result *r)
{
	struct pv_record_opts opts = { .alloc = run->has_alloc ? &run->alloc : NULL };
	unsigned written = 0;

	for (size_t i = 0; i < r->count; i++) {
		const struct pv_usb_board_result *b = &r->boards[i];
		struct pv_inventory_record rec;
		char warning[512];

		if (b->outcome == PV_USB_PHASE_FAILED ||
		    pv_record_from_usb(b, (int64_t)time(NULL), &rec, warning, sizeof(warning)))
			continue;
		if (warning[0])
			cli_warn("%s: inventory: %s", b->port_path, warning);
		if (pv_record_one(run->inventory, &rec, PV_INVENTORY_SOURCE_USB, &opts, NULL) ==
		    PV_OK)
			written++;
		else
			fprintf(stderr, "piprov: error: %s: inventory '%s': %s\n", b->port_path,
				run->inventory, pv_last_error());
		pv_inventory_record_release(&rec);
	}
	return written;
}

static void print_metadata_stdout(const struct pv_usb_job_result *r)
{
	for (size_t i = 0; i < r->count; i++) {
		char *text = NULL;

		if (r->boards[i].metadata.count == 0 ||
		    pv_usb_metadata_to_json(&r->boards[i].metadata, &text) != PV_OK)
			continue;
		fputs(text, stdout);
		free(text);
	}
}

int usb_run_job(struct usb_run *run)
{
	struct pv_usb_job_config cfg;
	struct pv_usb_job_result result;
	struct progress pg = { .run = run };
	struct signal_watch signals = { .started = false };
	int status = CLI_EXIT_OK;
	int rc;

	pg.tty = isatty(STDOUT_FILENO) && isatty(STDERR_FILENO) && !run->json;
	pthread_mutex_init(&pg.lock, NULL);
	if (run->log_dir && mkdir(run->log_dir, 0755) < 0 && errno != EEXIST)
		return cli_error("--log-dir '%s': %s", run->log_dir, strerror(errno));
	if (run->metadata_dir && mkdir(run->metadata_dir, 0755) < 0 && errno != EEXIST)
		return cli_error("--metadata '%s': %s", run->metadata_dir, strerror(errno));
	pv_usb_job_config_init(&cfg);
	cfg.mode = run->mode;
	cfg.bus = run->bus;
	cfg.payload = run->payload;
	cfg.payload_user = run->payload_user;
	cfg.port_globs = run->ports;
	cfg.port_glob_count = run->port_count;
	cfg.port_number = run->port_number;
	cfg.serial = run->serial;
	cfg.count = run->count;
	cfg.loop = run->loop;
	cfg.wait_ms = run->timeout_s * 1000u;
	cfg.timeouts = run->timeouts;
	cfg.metadata_dir = run->metadata_dir;
	cfg.event = run->event ? run->event : on_event;
	cfg.event_user = run->event ? run->event_user : &pg;
	cfg.cancel = &cancel_requested;

	signal_watch_start(&signals, run->bus);
	if (!run->json && !run->ctx->quiet && !run->event)
		fprintf(stderr, "piprov: waiting for %s (%s)...\n",
			run->only_virtual ? "virtual boards" : "boards in USB boot mode",
			run->loop ? "until interrupted"
			: run->timeout_s ? "--timeout applies" : "no timeout");
	pg.tty = pg.tty && !run->event;
	if (pg.tty)
		pv_log_set_callback(tty_log, &pg);
	rc = pv_usb_job_run(&cfg, &result);
	if (pg.tty)
		pv_log_set_callback(cli_log_to_stderr, run->ctx);
	signal_watch_stop(&signals);
	if (rc) {
		progress_release(&pg);
		return cli_fail(rc);
	}
	if (run->metadata_stdout && !run->event)
		print_metadata_stdout(&result);
	if (run->json)
		print_summary_json(&result);
	else if (result.count > 0 && !run->event)
		print_summary_table(&result);
	if (run->inventory && result.count > 0) {
		unsigned n = update_inventory(run, &result);
		if (!run->json && !run->ctx->quiet)
			fprintf(stderr, "piprov: inventory '%s': %u board%s recorded\n",
				run->inventory, n, n == 1 ? "" : "s");
	}
	if (result.abandoned > 0) {
		/* A worker is still inside the bus or a transport (pv_usb_job_run): nothing
		 * they use may be freed, so the process ends here, without the dumps. */
		fprintf(stderr, "piprov: %u board%s abandoned (the transfer did not return); "
				"exiting\n", result.abandoned, result.abandoned == 1 ? "" : "s");
		if (fflush(stdout) != 0 || ferror(stdout))
			fprintf(stderr, "piprov: error: cannot write to standard output\n");
		fflush(stderr);
		_exit(CLI_EXIT_FAILURE);
	}
	if (run->virtual_bus && pv_vpi_bus_write_dumps(run->virtual_bus) != PV_OK)
		fprintf(stderr, "piprov: error: virtual EEPROM dump: %s\n", pv_last_error());
	if (result.failed > 0) {
		status = CLI_EXIT_FAILURE;
	} else if (result.count == 0) {
		if (result.cancelled)
			fprintf(stderr, "piprov: interrupted before any board was served\n");
		else
			fprintf(stderr, "piprov: error: no board in USB boot mode appeared within "
					"%u s (see docs/usb.md: jumper, cable, udev rules)\n",
				run->timeout_s);
		status = CLI_EXIT_FAILURE;
	} else if (result.cancelled) {
		status = CLI_EXIT_FAILURE;
	}
	pv_usb_job_result_release(&result);
	progress_release(&pg);
	return status;
}

int usb_run_list(struct usb_run *run)
{
	struct pv_usb_device_info *devices = NULL;
	size_t count = 0;
	json_t *array = NULL;
	int rc = pv_usb_bus_scan(run->bus, &devices, &count);

	if (rc)
		return cli_fail(rc);
	if (run->json)
		array = json_array();
	else if (count > 0)
		printf("%-14s %-5s %-6s %-16s %s\n", "PORT", "CHIP", "STAGE", "SERIAL", "BACKEND");
	for (size_t i = 0; i < count; i++) {
		const struct pv_usb_device_info *d = &devices[i];
		const struct pv_soc_info *soc = pv_soc_by_usb_id(d->vendor_id, d->product_id);
		const char *stage = soc && d->serial_index == soc->rom_serial_index ? "rom"
															  : "second";

		if (!soc || !pv_usb_port_matches(d->port_path, run->ports, run->port_count))
			continue;
		if (array)
			json_array_append_new(
				array, json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "port",
						 d->port_path, "chip", soc->chip, "soc", soc->name,
						 "stage", stage, "serial_index", (int)d->serial_index,
						 "serial", d->serial, "backend",
						 d->backend ? d->backend : ""));
		else
			printf("%-14s %-5s %-6s %-16s %s\n", d->port_path, soc->chip, stage,
			       d->serial[0] ? d->serial : "-", d->backend ? d->backend : "");
	}
	if (array) {
		char *text = json_dumps(array, JSON_INDENT(2));
		if (text) {
			puts(text);
			free(text);
		}
		json_decref(array);
	} else if (count == 0 && !run->ctx->quiet) {
		fprintf(stderr, "piprov: no board in USB boot mode found\n");
	}
	free(devices);
	return CLI_EXIT_OK;
}
