/* pv_vpi_station: the station library (src/lib/station) over virtual Pis, shown by the web
 * server through pv_station_web_source(): the real station and the real source behind the
 * page, for tests/browser while `piprov station` is not on main. It takes the options of
 * `piprov station` that the browser test gives, so the test runs either unchanged:
 *
 *   pv_vpi_station --listen ADDR:PORT --inventory FILE [--token-file FILE] [--preset NAME]
 *                  [--ip-pool FIRST-LAST] [--hostname-pattern PATTERN] --virtual SPEC...
 *
 * Flashes every board that arrives (loop mode) until SIGTERM or SIGINT, then abandons what
 * is in flight and exits 0. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "piprov/error.h"
#include "piprov/inventory.h"
#include "piprov/station.h"
#include "piprov/web.h"

#define SPECS_MAX 16

static const char *program = "pv_vpi_station";

/* The stop signals are blocked in every thread (set before the station starts its own) and
 * taken here: pv_station_stop is not async-signal-safe. */
static void *signal_main(void *arg)
{
	struct pv_station *station = arg;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGUSR1)
			return NULL;
		pv_station_stop(station, PV_STATION_STOP_ABANDON);
	}
}

static int usage(void)
{
	fprintf(stderr,
		"usage: %s --listen ADDR:PORT --inventory FILE [--token-file FILE] [--preset NAME]\n"
		"       [--ip-pool FIRST-LAST] [--hostname-pattern PATTERN] --virtual SPEC...\n",
		program);
	return 2;
}

static int failed(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", program, what, pv_last_error());
	return 1;
}

int main(int argc, char **argv)
{
	const char *specs[SPECS_MAX];
	const char *pool = NULL, *pattern = NULL;
	struct pv_station_config cfg;
	struct pv_web_options web = { 0 };
	struct pv_web_source source;
	struct pv_web_server *server = NULL;
	struct pv_station *station = NULL;
	struct pv_station_summary summary;
	pthread_t signal_thread;
	sigset_t set;
	int i, rc, status = 1;

	pv_station_config_init(&cfg);
	cfg.profile.flash.preset = "network";
	cfg.loop = true;
	for (i = 1; i < argc; i += 2) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			return usage();
		if (strcmp(argv[i], "--listen") == 0)
			web.listen = v;
		else if (strcmp(argv[i], "--token-file") == 0)
			web.token_file = v;
		else if (strcmp(argv[i], "--inventory") == 0)
			cfg.inventory = v;
		else if (strcmp(argv[i], "--preset") == 0)
			cfg.profile.flash.preset = v;
		else if (strcmp(argv[i], "--ip-pool") == 0)
			pool = v;
		else if (strcmp(argv[i], "--hostname-pattern") == 0)
			pattern = v;
		else if (strcmp(argv[i], "--virtual") == 0 && cfg.virtual_count < SPECS_MAX)
			specs[cfg.virtual_count++] = v;
		else
			return usage();
	}
	if (!web.listen || !cfg.inventory || !cfg.virtual_count)
		return usage();
	cfg.virtual_specs = specs;
	if (pool || pattern) {
		if (pool && pv_inventory_parse_pool(pool, &cfg.profile.alloc) != PV_OK)
			return failed("--ip-pool");
		if (pattern && pv_inventory_set_hostname_pattern(&cfg.profile.alloc, pattern) != PV_OK)
			return failed("--hostname-pattern");
		cfg.profile.has_alloc = true;
	}

	/* Before any thread exists, so that every thread inherits the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (pv_station_new(&cfg, &station) != PV_OK)
		return failed("station");
	pv_station_web_source(station, &source);
	if (pv_web_server_start(&web, &source, &server) != PV_OK) {
		failed("web server");
		goto out_free_station;
	}
	printf("listening on http://%s/ (port %u)\n", web.listen, pv_web_server_port(server));
	fflush(stdout);
	if (pthread_create(&signal_thread, NULL, signal_main, station) != 0) {
		fprintf(stderr, "%s: cannot start the signal thread\n", program);
		goto out_stop_server;
	}
	rc = pv_station_run(station, &summary, NULL);
	pthread_kill(signal_thread, SIGUSR1);
	pthread_join(signal_thread, NULL);
	if (rc != PV_OK) {
		failed("station");
		goto out_stop_server;
	}
	printf("%u boards: %u verified, %u failed, %u recorded, %u abandoned\n", summary.boards,
	       summary.verified, summary.failed, summary.recorded, summary.abandoned);
	status = summary.abandoned && !summary.stopped ? 1 : 0;
out_stop_server:
	/* The server first: when it returns no source op runs, then the station may go. */
	pv_web_server_stop(server);
out_free_station:
	pv_station_free(station);
	return status;
}
