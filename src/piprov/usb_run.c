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
#include "piprov/station.h"
#include "piprov/text.h"
#include "piprov/vpi.h"
#include "piprov/web.h"
#include "station_view.h"
#include "usb_run.h"
#include "banned.h"

static volatile int cancel_requested;

/* SIGINT/SIGTERM during a job: blocked in every thread and taken by one thread with
 * sigwait(), which can then stop the station (pv_station_stop wakes the engine, which is not
 * async-signal-safe, so a plain handler could only set a flag). The engine then ends within
 * about half a second in every state (pv_usb_job_run). */
struct signal_watch {
	pthread_t thread;
	struct pv_station *station;
	const struct usb_run *run;
	bool started;
	bool term_seen;               /* service: the first SIGTERM asked to finish */
	volatile int stopping;
};

/* The mask before block_stop_signals(): restored when the job has ended. */
static sigset_t mask_before_job;
static bool stop_signals_blocked;

/* Called before any thread exists (libusb_init starts its own: they must inherit the
 * blocked signals, or one of them takes a SIGTERM by its default action). SIGHUP too when
 * the job reloads on it (the station service). */
static void block_stop_signals(bool hup)
{
	sigset_t set;

	if (stop_signals_blocked)
		return;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (hup)
		sigaddset(&set, SIGHUP);
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
	if (w->run->reload)
		sigaddset(&set, SIGHUP);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGUSR1 && w->stopping)
			break;
		if (sig == SIGUSR1)
			continue;
		if (sig == SIGHUP) {
			pv_station_notify("RELOADING=1");
			w->run->reload(w->run->reload_user, w->station);
			pv_station_notify("READY=1");
			continue;
		}
		cancel_requested = 1;
		if (w->run->service && sig == SIGTERM && !w->term_seen) {
			/* systemctl stop: the boards being flashed finish (up to the grace), no
			 * new one is started; a second SIGTERM or a SIGINT abandons them. */
			w->term_seen = true;
			pv_station_notify("STOPPING=1");
			pv_station_stop(w->station, PV_STATION_STOP_FINISH);
			continue;
		}
		pv_station_notify("STOPPING=1");
		pv_station_stop(w->station, PV_STATION_STOP_ABANDON);
	}
	return NULL;
}

static void signal_watch_start(struct signal_watch *w, struct pv_station *station,
			       const struct usb_run *run)
{
	sigset_t usr1, before;

	block_stop_signals(run->reload != NULL);
	w->station = station;
	w->run = run;
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

int usb_arg_list_add(const char **list, size_t *count, const char *value, const char *what)
{
	if (*count >= USB_ARG_LIST_MAX)
		return cli_usage_error("too many %s (at most %d)", what, USB_ARG_LIST_MAX);
	list[(*count)++] = value;
	return CLI_EXIT_OK;
}

bool usb_flash_source_option(int opt, const char *arg, struct pv_usb_flash_options *flash)
{
	switch (opt) {
	case USB_OPT_PRESET:
		flash->preset = arg;
		return true;
	case USB_OPT_CONFIG:
		flash->config_path = arg;
		return true;
	case USB_OPT_IMAGE:
		flash->image_path = arg;
		return true;
	case USB_OPT_RECOVERY:
		flash->recovery_path = arg;
		return true;
	case USB_OPT_FIRMWARE_DIR:
		flash->firmware_dir = arg;
		return true;
	default:
		return false;
	}
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
	int rc;

	block_stop_signals(false);
	rc = pv_station_open_bus(run->virtual_specs, run->virtual_count, run->real,
				     &run->bus, &run->virtual_bus);

	if (rc == PV_ERR_INVALID) {
		fprintf(stderr, "piprov: %s\n", pv_last_error());
		return CLI_EXIT_USAGE;
	}
	if (rc)
		return cli_fail(rc);
	run->only_virtual = run->virtual_count > 0 && !run->real;
	return CLI_EXIT_OK;
}

void usb_run_close_bus(struct usb_run *run)
{
	unblock_stop_signals();
	pv_usb_bus_destroy(run->bus);
	run->bus = NULL;
	run->virtual_bus = NULL;
}

/* ---- summary ------------------------------------------------------------------------ */

static const char *outcome_name(const struct pv_usb_board_result *b)
{
	return pv_usb_phase_name(b->outcome);
}

static void print_summary_table(const struct pv_usb_job_result *r,
				const struct pv_station_summary *s, bool recording)
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
	if (recording)
		printf("%u recorded, %u not recorded\n", s->recorded, s->not_recorded);
}

static void print_summary_json(const struct pv_usb_job_result *r,
			       const struct pv_station_summary *s)
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
	root = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:b, s:o}", "event", "summary",
			 "succeeded", (int)r->succeeded, "failed", (int)r->failed, "recorded",
			 (int)s->recorded, "not_recorded", (int)s->not_recorded, "abandoned",
			 (int)s->abandoned, "waited_out", r->waited_out, "boards",
			 boards ? boards : json_array());
	if (!root)
		return;
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text) {
		puts(text);
		free(text);
	}
	json_decref(root);
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

/* ---- the job ------------------------------------------------------------------------- */

static void station_config_from(const struct usb_run *run, struct pv_station_config *cfg)
{
	pv_station_config_init(cfg);
	cfg->mode = run->mode;
	if (run->flash)
		cfg->profile.flash = *run->flash;
	cfg->profile.port_globs = run->ports;
	cfg->profile.port_glob_count = run->port_count;
	cfg->profile.has_alloc = run->has_alloc;
	cfg->profile.alloc = run->alloc;
	cfg->virtual_specs = run->virtual_specs;
	cfg->virtual_count = run->virtual_count;
	cfg->real = run->real;
	cfg->port_number = run->port_number;
	cfg->serial = run->serial;
	cfg->count = run->count;
	cfg->loop = run->loop;
	cfg->wait_ms = run->timeout_s * 1000u;
	cfg->timeouts = run->timeouts;
	cfg->payload = run->payload;
	cfg->payload_user = run->payload_user;
	cfg->metadata_dir = run->metadata_dir;
	cfg->inventory = run->inventory;
	cfg->engine_event = run->event;
	cfg->engine_event_user = run->event_user;
	cfg->stop_grace_ms = run->stop_grace_ms;
	if (run->profile)
		cfg->profile = *run->profile;
}

/* The page and API of a running station (piprov/web.h); the port is printed, as "--listen
 * HOST:0" picks a free one. */
static int start_web(const struct usb_run *run, struct pv_station *st,
		     struct pv_web_server **web)
{
	struct pv_web_options wo = { .listen = run->listen, .token_file = run->token_file };
	struct pv_web_source source;
	const char *colon = strrchr(run->listen, ':');
	int rc;

	pv_station_web_source(st, &source);
	rc = pv_web_server_start(&wo, &source, web);
	if (rc)
		return cli_fail(rc);
	if (!run->ctx->quiet)
		fprintf(stderr, "piprov: station page on http://%.*s:%u/\n",
			colon ? (int)(colon - run->listen) : 0, run->listen,
			pv_web_server_port(*web));
	return CLI_EXIT_OK;
}

int usb_run_job(struct usb_run *run)
{
	struct pv_station_config cfg;
	struct pv_station *st = NULL;
	struct pv_station_summary summary;
	struct pv_usb_job_result result;
	struct station_view_options vo;
	struct station_view *view = NULL;
	struct signal_watch signals = { .started = false };
	struct pv_web_server *web = NULL;
	int status = CLI_EXIT_OK;
	bool dump_failed = false;
	int rc;

	if (run->log_dir && mkdir(run->log_dir, 0755) < 0 && errno != EEXIST)
		return cli_error("--log-dir '%s': %s", run->log_dir, strerror(errno));
	/* A mistyped --virtual spec is a usage error. */
	for (size_t i = 0; i < run->virtual_count; i++) {
		struct pv_vpi_spec spec;

		if (pv_vpi_spec_parse(run->virtual_specs[i], &spec) != PV_OK) {
			fprintf(stderr, "piprov: %s\n", pv_last_error());
			return CLI_EXIT_USAGE;
		}
		pv_vpi_spec_release(&spec);
	}
	station_config_from(run, &cfg);
	/* Before the station opens the bus: libusb's threads must inherit the blocked
	 * signals. */
	block_stop_signals(run->reload != NULL);
	/* Everything else a board needs is checked here, before any waiting: the flash
	 * options and config, the inventory (parses, writable: a board that cannot be
	 * recorded is a failure), the metadata folder. */
	rc = pv_station_new(&cfg, &st);
	if (rc) {
		unblock_stop_signals();
		return cli_fail(rc);
	}
	station_view_options_default(&vo, run->ctx, run->json);
	if (run->event)
		vo.mode = STATION_VIEW_NONE; /* the caller's renderer shows the boards */
	vo.log_dir = run->log_dir;
	status = station_view_start(st, &vo, &view);
	if (status) {
		unblock_stop_signals();
		goto out_free_station;
	}
	if (run->listen) {
		status = start_web(run, st, &web);
		if (status) {
			station_view_finish(view);
			unblock_stop_signals();
			goto out_free_station;
		}
	}
	cancel_requested = 0;
	signal_watch_start(&signals, st, run);
	if (run->service)
		pv_station_notify("READY=1");
	if (!run->json && !run->ctx->quiet && !run->event)
		fprintf(stderr, "piprov: waiting for %s (%s)...\n",
			pv_station_only_virtual(st) ? "virtual boards" : "boards in USB boot mode",
			run->loop ? "until interrupted"
			: run->timeout_s ? "--timeout applies" : "no timeout");
	rc = pv_station_run(st, &summary, &result);
	signal_watch_stop(&signals);
	/* No page request may read the station once it is freed. */
	pv_web_server_stop(web);
	station_view_finish(view);
	if (rc) {
		status = cli_fail(rc);
		goto out_free_station;
	}
	if (run->metadata_stdout && !run->event)
		print_metadata_stdout(&result);
	if (run->json)
		print_summary_json(&result, &summary);
	else if (result.count > 0 && !run->event)
		print_summary_table(&result, &summary, run->inventory != NULL);
	if (run->inventory && result.count > 0 && !run->json && !run->ctx->quiet)
		fprintf(stderr, "piprov: inventory '%s': %u board%s recorded\n", run->inventory,
			summary.recorded, summary.recorded == 1 ? "" : "s");
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
	if (pv_station_virtual_bus(st) &&
	    pv_vpi_bus_write_dumps(pv_station_virtual_bus(st)) != PV_OK) {
		fprintf(stderr, "piprov: error: virtual EEPROM dump: %s\n", pv_last_error());
		dump_failed = true;
	}
	if (run->service && summary.stopped) {
		/* Stopped as a service is stopped: boards that failed were shown and are not
		 * recorded; only a verified board the inventory did not take is a failure. */
		status = summary.not_recorded > 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
	} else if (result.failed > 0 || summary.not_recorded > 0 || summary.abandoned > 0) {
		status = CLI_EXIT_FAILURE;
	} else if (result.count == 0) {
		if (result.cancelled || summary.stopped)
			fprintf(stderr, "piprov: interrupted before any board was served\n");
		else
			fprintf(stderr, "piprov: error: no board in USB boot mode appeared within "
					"%u s (see docs/usb.md: jumper, cable, udev rules)\n",
				run->timeout_s);
		status = CLI_EXIT_FAILURE;
	} else if (result.cancelled || summary.stopped) {
		status = CLI_EXIT_FAILURE;
	}
	if (dump_failed)
		status = CLI_EXIT_FAILURE;
	pv_usb_job_result_release(&result);
out_free_station:
	pv_station_free(st);
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
