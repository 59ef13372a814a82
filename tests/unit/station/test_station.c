/* The station library over virtual boards, in process: each board's events in order, the
 * JSON of the events agrees with the inventory file, a board is never recorded unless
 * verified, boards verified close together are recorded, the exports are refreshed after
 * them, stopping finishes or abandons boards in flight, pause/retry, the board order of the
 * views, the checks made before any board is waited for. */
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "piprov/error.h"
#include "piprov/inventory.h"
#include "piprov/station.h"
#include "piprov/text.h"
#include "piprov/vpi.h"
#include "test_support.h"

/* Every event's JSON, one per line. */
struct collector {
	pthread_mutex_t lock;
	struct pv_buf lines;
	unsigned count;
	unsigned verifying;           /* VERIFYING events seen */
	unsigned failed;              /* FAILED events seen */
	unsigned recorded;            /* RECORDED events seen */
	char failed_key[64];          /* the board of the last one */
	int retry_rc;
	unsigned engine_found;        /* engine FOUND events (the engine_event hook) */
	unsigned arrived_from_engine; /* ARRIVED events whose usb is that FOUND event */
	pthread_cond_t changed;
	/* A thread stops the station (mode) at the first VERIFYING: subscribers never call
	 * back into the station. */
	bool stop_on_verifying;
	enum pv_station_stop_mode stop_mode;
	struct pv_station *station;
	pthread_t stopper;
};

static void collect(void *user, const struct pv_station_event *ev)
{
	struct collector *c = user;

	pthread_mutex_lock(&c->lock);
	assert_int_equal(pv_buf_append(&c->lines, ev->json, ev->json_len), 0);
	assert_int_equal(pv_buf_putc(&c->lines, '\n'), 0);
	c->count++;
	if (ev->kind == PV_STATION_EV_VERIFYING)
		c->verifying++;
	if (ev->kind == PV_STATION_EV_RECORDED)
		c->recorded++;
	if (ev->kind == PV_STATION_EV_FAILED) {
		c->failed++;
		pv_strlcpy(c->failed_key, pv_station_board_key(ev->board), sizeof(c->failed_key));
	}
	if (ev->kind == PV_STATION_EV_ARRIVED && ev->usb && ev->usb->phase == PV_USB_PHASE_FOUND &&
	    strcmp(ev->usb->port_path, ev->board->port) == 0)
		c->arrived_from_engine++;
	pthread_cond_broadcast(&c->changed);
	pthread_mutex_unlock(&c->lock);
}

static void *stopper_main(void *arg)
{
	struct collector *c = arg;

	pthread_mutex_lock(&c->lock);
	while (c->verifying == 0)
		pthread_cond_wait(&c->changed, &c->lock);
	pthread_mutex_unlock(&c->lock);
	pv_station_stop(c->station, c->stop_mode);
	return NULL;
}

static void collector_init(struct collector *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->changed, NULL);
	pv_buf_init(&c->lines, 1u << 26);
}

static void collector_release(struct collector *c)
{
	pv_buf_release(&c->lines);
	pthread_cond_destroy(&c->changed);
	pthread_mutex_destroy(&c->lock);
}

/* The events of one kind (and, when port is not NULL, of one port), as parsed objects in
 * order; the caller json_decref()s the array. */
static json_t *events(struct collector *c, const char *kind, const char *port)
{
	json_t *out = json_array();
	const char *p = pv_buf_str(&c->lines);

	while (*p) {
		const char *nl = strchr(p, '\n');
		json_t *ev = json_loadb(p, (size_t)(nl - p), 0, NULL);

		assert_non_null(ev);
		if ((!kind || strcmp(json_string_value(json_object_get(ev, "event")), kind) == 0) &&
		    (!port || (json_object_get(ev, "port") &&
			       strcmp(json_string_value(json_object_get(ev, "port")), port) == 0)))
			json_array_append(out, ev);
		json_decref(ev);
		p = nl + 1;
	}
	return out;
}

/* A fault=SEED whose board `index` gets `fault` (the draw is the spec's, see vpi.h). */
static uint64_t seed_for(const char *model, unsigned index, enum pv_vpi_fault fault)
{
	for (uint64_t seed = 1; seed < 100000; seed++) {
		char text[96];
		struct pv_vpi_spec spec;
		struct pv_vpi_options o;

		snprintf(text, sizeof(text), "%s,count=%u,fault=%llu", model, index + 1,
			 (unsigned long long)seed);
		assert_int_equal(pv_vpi_spec_parse(text, &spec), PV_OK);
		assert_int_equal(pv_vpi_spec_board_options(&spec, index, &o), PV_OK);
		pv_vpi_spec_release(&spec);
		if (o.fault == fault)
			return seed;
	}
	fail_msg("no seed gives fault %d", (int)fault);
	return 0;
}

struct run_opts {
	const char *specs[4];
	size_t spec_count;
	const char *inventory;
	unsigned count;
	bool loop;
	struct pv_station_exports exports;
	const char *pool;             /* IP pool for new boards, or NULL */
	struct pv_station_summary summary;
};

static void count_engine(void *user, const struct pv_usb_event *ev)
{
	struct collector *c = user;

	pthread_mutex_lock(&c->lock);
	c->engine_found += ev->phase == PV_USB_PHASE_FOUND;
	pthread_mutex_unlock(&c->lock);
}

static void run_station(struct run_opts *o, struct collector *c)
{
	struct pv_station_config cfg;
	struct pv_station *st;

	pv_station_config_init(&cfg);
	cfg.profile.flash.preset = "network";
	cfg.virtual_specs = o->specs;
	cfg.virtual_count = o->spec_count;
	cfg.inventory = o->inventory;
	cfg.count = o->count;
	cfg.loop = o->loop;
	cfg.wait_ms = 20000;
	cfg.engine_event = count_engine;
	cfg.engine_event_user = c;
	if (o->exports.file_count || o->exports.tftp_root)
		cfg.profile.exports = o->exports;
	if (o->pool) {
		assert_int_equal(pv_inventory_parse_pool(o->pool, &cfg.profile.alloc), PV_OK);
		assert_int_equal(pv_inventory_set_hostname_pattern(&cfg.profile.alloc, "node-%02d"),
				 PV_OK);
		cfg.profile.has_alloc = true;
	}
	assert_int_equal(pv_station_new(&cfg, &st), PV_OK);
	assert_int_equal(pv_station_subscribe(st, collect, c, NULL), PV_OK);
	c->station = st;
	if (c->stop_on_verifying)
		assert_int_equal(pthread_create(&c->stopper, NULL, stopper_main, c), 0);
	assert_int_equal(pv_station_run(st, &o->summary, NULL), PV_OK);
	if (c->stop_on_verifying)
		pthread_join(c->stopper, NULL);
	pv_station_free(st);
}

static void test_events_in_order_and_json_agrees_with_inventory(void **state)
{
	char *dir = pv_test_mkdtemp(), *inv_path;
	struct run_opts o = { .specs = { "pi4,count=3", "pi5" }, .spec_count = 2, .count = 4 };
	struct collector c;
	struct pv_inventory inv;
	json_t *recorded;
	size_t i;
	json_t *ev;

	(void)state;
	collector_init(&c);
	assert_true(asprintf(&inv_path, "%s/inv.cfg", dir) > 0);
	o.inventory = inv_path;
	run_station(&o, &c);
	assert_int_equal(o.summary.verified, 4);
	assert_int_equal(o.summary.recorded, 4);
	assert_int_equal(o.summary.failed, 0);
	/* The engine's own events reach a renderer too, and each arrival names its own. */
	assert_int_equal(c.engine_found, 4);
	assert_int_equal(c.arrived_from_engine, 4);
	/* Each board: arrived, rom, reenumerate, serving, files, verifying, metadata,
	 * verified, recorded; t_ms never goes back. */
	recorded = events(&c, "recorded", NULL);
	assert_int_equal(json_array_size(recorded), 4);
	json_array_foreach(recorded, i, ev) {
		const char *port = json_string_value(json_object_get(ev, "port"));
		static const char *const order[] = { "arrived", "stage", "file", "verifying",
						     "metadata", "verified", "recorded" };
		json_t *mine = events(&c, NULL, port), *e;
		size_t k, at = 0;
		json_int_t last_t = 0;

		json_array_foreach(mine, k, e) {
			const char *kind = json_string_value(json_object_get(e, "event"));
			json_int_t t = json_integer_value(json_object_get(e, "t_ms"));

			assert_true(t >= last_t);
			last_t = t;
			while (at < 7 && strcmp(order[at], kind) != 0)
				at++;
			if (at == 7)
				fail_msg("%s: event '%s' out of order", port, kind);
		}
		assert_string_equal(json_string_value(json_object_get(
					    json_array_get(mine, json_array_size(mine) - 1), "event")),
				    "recorded");
		json_decref(mine);
	}
	/* The recorded events say what the inventory file holds: serial and MAC. */
	pv_inventory_init(&inv);
	assert_int_equal(pv_inventory_load(inv_path, &inv), PV_OK);
	assert_int_equal(inv.count, 4);
	json_array_foreach(recorded, i, ev) {
		json_t *board = json_object_get(ev, "board");
		struct pv_inventory_record *rec =
			pv_inventory_lookup(&inv, json_string_value(json_object_get(ev, "serial")));
		char mac[PV_MAC_STRLEN];

		assert_non_null(rec);
		pv_mac_format(rec->mac, ':', mac);
		assert_string_equal(json_string_value(json_object_get(board, "mac")), mac);
		assert_string_equal(json_string_value(json_object_get(board, "state")), "recorded");
		assert_true(rec->flashed_at > 0);
		assert_int_equal(strlen(rec->eeprom_hash), 64);
		/* What the board was flashed with (preset network), for netboot check. */
		assert_true(rec->has_boot_order);
		assert_int_equal(rec->boot_order, 0xf21);
		assert_true(rec->has_tftp_prefix);
		assert_int_equal(rec->tftp_prefix, PV_TFTP_PREFIX_SERIAL);
		assert_int_equal(strlen(rec->config_hash), 64);
	}
	pv_inventory_release(&inv);
	json_decref(recorded);
	collector_release(&c);
	pv_test_rmtree(dir);
	free(inv_path);
	free(dir);
}

/* Boards whose flash is not verified (a corrupt write reported as success, a failed write)
 * are failed with the reason and never in the inventory; the others are. */
static void test_never_recorded_unless_verified(void **state)
{
	char *dir = pv_test_mkdtemp(), *inv_path, corrupt[96], fails[96];
	struct run_opts o = { .spec_count = 3, .count = 3 };
	struct collector c;
	struct pv_inventory inv;
	json_t *failed;

	(void)state;
	collector_init(&c);
	snprintf(corrupt, sizeof(corrupt), "pi4,serial=10000000aaaa0000,fault=%llu",
		 (unsigned long long)seed_for("pi4,serial=10000000aaaa0000", 0,
					      PV_VPI_FAULT_CORRUPT_WRITE));
	snprintf(fails, sizeof(fails), "pi4,serial=10000000bbbb0000,fault=%llu",
		 (unsigned long long)seed_for("pi4,serial=10000000bbbb0000", 0,
					      PV_VPI_FAULT_WRITE_FAILS));
	o.specs[0] = corrupt;
	o.specs[1] = fails;
	o.specs[2] = "pi4,serial=10000000cccc0000";
	assert_true(asprintf(&inv_path, "%s/inv.cfg", dir) > 0);
	o.inventory = inv_path;
	run_station(&o, &c);
	assert_int_equal(o.summary.failed, 2);
	assert_int_equal(o.summary.recorded, 1);
	failed = events(&c, "failed", NULL);
	assert_int_equal(json_array_size(failed), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *board = json_object_get(json_array_get(failed, i), "board");

		assert_string_equal(json_string_value(json_object_get(board, "state")), "failed");
		assert_true(strstr(json_string_value(json_object_get(board, "reason")), "EEPROM_"));
	}
	json_decref(failed);
	pv_inventory_init(&inv);
	assert_int_equal(pv_inventory_load(inv_path, &inv), PV_OK);
	assert_int_equal(inv.count, 1);
	assert_non_null(pv_inventory_lookup(&inv, "10000000cccc0000"));
	pv_inventory_release(&inv);
	collector_release(&c);
	pv_test_rmtree(dir);
	free(inv_path);
	free(dir);
}

/* After the boards are recorded the exports are written (atomically) and the pid file's
 * process gets SIGHUP. */
static volatile sig_atomic_t hups;
static void on_hup(int sig)
{
	(void)sig;
	hups++;
}

static void test_exports_refreshed_and_reload_signalled(void **state)
{
	char *dir = pv_test_mkdtemp(), *inv_path, *ethers, *hosts, *pid_file, pid_text[32];
	struct run_opts o = { .specs = { "pi4,count=2" }, .spec_count = 1, .count = 2 };
	struct collector c;
	struct sigaction sa = { .sa_handler = on_hup }, old;
	struct pv_buf text = PV_BUF_INIT(1u << 20);
	json_t *exported;

	(void)state;
	collector_init(&c);
	assert_true(asprintf(&inv_path, "%s/inv.cfg", dir) > 0);
	assert_true(asprintf(&ethers, "%s/ethers", dir) > 0);
	assert_true(asprintf(&hosts, "%s/dnsmasq.conf", dir) > 0);
	assert_true(asprintf(&pid_file, "%s/dnsmasq.pid", dir) > 0);
	snprintf(pid_text, sizeof(pid_text), "%ld\n", (long)getpid());
	pv_test_write_file(pid_file, pid_text, strlen(pid_text));
	o.inventory = inv_path;
	o.exports.files[0].format = "ethers";
	o.exports.files[0].path = ethers;
	o.exports.files[1].format = "dnsmasq";
	o.exports.files[1].path = hosts;
	o.exports.file_count = 2;
	o.exports.reload_pid_file = pid_file;
	pv_export_opts_init(&o.exports.opts);
	o.exports.opts.proxy_network = "192.168.1.0";
	o.pool = "192.168.1.10-192.168.1.20";
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, &old);
	hups = 0;
	run_station(&o, &c);
	sigaction(SIGHUP, &old, NULL);
	assert_int_equal(o.summary.recorded, 2);
	exported = events(&c, "exported", NULL);
	assert_true(json_array_size(exported) >= 1);
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(exported, 0),
								  "detail")),
			       "SIGHUP"));
	json_decref(exported);
	assert_true(hups >= 1);
	pv_test_read_file(ethers, &text);
	/* a line per board with the address the pool gave it; the recorded events say so */
	assert_non_null(strstr(pv_buf_str(&text), " 192.168.1.10\n"));
	assert_non_null(strstr(pv_buf_str(&text), " 192.168.1.11\n"));
	{
		json_t *recorded = events(&c, "recorded", NULL);

		assert_int_equal(json_array_size(recorded), 2);
		for (size_t i = 0; i < 2; i++) {
			json_t *board = json_object_get(json_array_get(recorded, i), "board");

			assert_true(strncmp(json_string_value(json_object_get(board, "ip")),
					    "192.168.1.1", 11) == 0);
			assert_true(strncmp(json_string_value(json_object_get(board, "hostname")),
					    "node-0", 6) == 0);
		}
		json_decref(recorded);
	}
	pv_buf_reset(&text);
	pv_test_read_file(hosts, &text);
	assert_non_null(strstr(pv_buf_str(&text), "dhcp-host="));
	pv_buf_release(&text);
	collector_release(&c);
	pv_test_rmtree(dir);
	free(inv_path);
	free(ethers);
	free(hosts);
	free(pid_file);
	free(dir);
}

/* Stop(FINISH) while a board is being written: it finishes, is verified and recorded; a
 * board that arrives later is not started. Stop(ABANDON): it is abandoned, not recorded. */
static void check_stop(enum pv_station_stop_mode mode)
{
	char *dir = pv_test_mkdtemp(), *inv_path;
	struct run_opts o = { .specs = { "pi4,serial=10000000dddd0000,flash-ms=600",
					 "pi5,arrive-after=3000" },
			      .spec_count = 2, .loop = true };
	struct collector c;
	struct pv_inventory inv;

	collector_init(&c);
	c.stop_on_verifying = true;
	c.stop_mode = mode;
	assert_true(asprintf(&inv_path, "%s/inv.cfg", dir) > 0);
	o.inventory = inv_path;
	run_station(&o, &c);
	assert_true(o.summary.stopped);
	assert_int_equal(o.summary.boards, 1); /* the Pi 5 arrived after the stop: not started */
	pv_inventory_init(&inv);
	assert_int_equal(pv_inventory_load(inv_path, &inv), PV_OK);
	if (mode == PV_STATION_STOP_FINISH) {
		assert_int_equal(o.summary.recorded, 1);
		assert_int_equal(inv.count, 1);
	} else {
		json_t *abandoned = events(&c, "abandoned", NULL);

		assert_int_equal(o.summary.abandoned, 1);
		assert_int_equal(o.summary.recorded, 0);
		assert_int_equal(inv.count, 0);
		assert_int_equal(json_array_size(abandoned), 1);
		assert_non_null(strstr(json_string_value(json_object_get(
						json_object_get(json_array_get(abandoned, 0), "board"),
						"reason")),
				       "station stopped"));
		json_decref(abandoned);
	}
	pv_inventory_release(&inv);
	collector_release(&c);
	pv_test_rmtree(dir);
	free(inv_path);
	free(dir);
}

static void test_stop_finishes_in_flight_board(void **state)
{
	(void)state;
	check_stop(PV_STATION_STOP_FINISH);
}

static void test_stop_abandons_in_flight_board(void **state)
{
	(void)state;
	check_stop(PV_STATION_STOP_ABANDON);
}

/* Retry of a board whose recovery program ran (a corrupt write, failed on the hash): the
 * board is still on its port but in its second stage, where it asks for nothing more. On
 * a bus that cannot power-cycle its ports (a libusb bus) it is not taken as a new board
 * that would sit in "serving" until stopped (web's report): the log says it is flashed
 * once re-plugged or reset. */
static void retry_once_failed(struct collector *c)
{
	char key[64];

	pthread_mutex_lock(&c->lock);
	while (c->failed == 0)
		pthread_cond_wait(&c->changed, &c->lock);
	pv_strlcpy(key, c->failed_key, sizeof(key));
	pthread_mutex_unlock(&c->lock);
	/* No cmocka assertion off the test's thread: the result is checked after the run. */
	c->retry_rc = pv_station_action(c->station, key, PV_STATION_RETRY);
}

static void *retrier_main(void *arg)
{
	struct collector *c = arg;

	retry_once_failed(c);
	usleep(1500 * 1000); /* the engine scans about every 100-250 ms */
	pv_station_stop(c->station, PV_STATION_STOP_ABANDON);
	return NULL;
}

/* The board of both retry tests: a Pi 4 whose recovery program writes a corrupt image
 * (fault=corrupt-write), in a looping station (recording into `inventory` when not NULL). */
static struct pv_station *corrupt_write_station(struct collector *c, const char *inventory)
{
	char spec[96];
	const char *specs[1] = { spec };
	struct pv_station_config cfg;
	struct pv_station *st;

	snprintf(spec, sizeof(spec), "pi4,serial=10000000eeee0000,flash-ms=100,fault=%llu",
		 (unsigned long long)seed_for("pi4,serial=10000000eeee0000", 0,
					      PV_VPI_FAULT_CORRUPT_WRITE));
	pv_station_config_init(&cfg);
	cfg.profile.flash.preset = "network";
	cfg.virtual_specs = specs;
	cfg.virtual_count = 1;
	cfg.loop = true;
	cfg.inventory = inventory;
	assert_int_equal(pv_station_new(&cfg, &st), PV_OK);
	assert_int_equal(pv_station_subscribe(st, collect, c, NULL), PV_OK);
	c->station = st;
	return st;
}

/* Run the station with `retrier` on its own thread; the summary once it stopped. */
static void run_with_retrier(struct collector *c, void *(*retrier)(void *),
			     struct pv_station_summary *summary)
{
	assert_int_equal(pthread_create(&c->stopper, NULL, retrier, c), 0);
	assert_int_equal(pv_station_run(c->station, summary, NULL), PV_OK);
	pthread_join(c->stopper, NULL);
	pv_station_free(c->station);
	c->station = NULL;
}

/* Whether a board's log line has `said`; none may have `never`. */
static bool log_says(struct collector *c, const char *said, const char *never)
{
	json_t *logs = events(c, "log", NULL), *ev;
	bool found = false;
	size_t i;

	json_array_foreach(logs, i, ev) {
		const char *detail = json_string_value(json_object_get(ev, "detail"));

		found |= strstr(detail, said) != NULL;
		assert_null(strstr(detail, never));
	}
	json_decref(logs);
	return found;
}

/* The virtual bus's ops without power_cycle: what a bus that cannot switch its ports
 * (libusb) offers the station. */
static struct pv_usb_bus_ops no_power_cycle_ops;

static void test_retry_of_board_past_its_rom_waits_for_replug(void **state)
{
	struct pv_station_summary summary;
	struct pv_usb_bus *bus;
	struct collector c;
	json_t *arrived;

	(void)state;
	collector_init(&c);
	/* Virtual only: the station's bus is the virtual one. */
	bus = pv_station_virtual_bus(corrupt_write_station(&c, NULL));
	assert_non_null(bus);
	assert_non_null(bus->ops->power_cycle);
	no_power_cycle_ops = *bus->ops;
	no_power_cycle_ops.power_cycle = NULL;
	bus->ops = &no_power_cycle_ops;
	run_with_retrier(&c, retrier_main, &summary);
	assert_int_equal(c.retry_rc, PV_OK);
	assert_int_equal(summary.failed, 1);
	assert_int_equal(summary.abandoned, 0);
	arrived = events(&c, "arrived", NULL);
	assert_int_equal(json_array_size(arrived), 1);
	assert_true(log_says(&c, "re-plugged", "power-cycled"));
	json_decref(arrived);
	collector_release(&c);
}

/* Retry on a bus that can power-cycle (the virtual one): the station waits for the
 * failure, retries, then for the board to be recorded (bounded: a board that never comes
 * back ends the run and fails the test), then lets the station finish. */
static void *cycling_retrier_main(void *arg)
{
	struct collector *c = arg;
	struct timespec until;

	retry_once_failed(c);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 60;
	pthread_mutex_lock(&c->lock);
	while (c->recorded == 0 &&
	       pthread_cond_timedwait(&c->changed, &c->lock, &until) == 0)
		;
	pthread_mutex_unlock(&c->lock);
	pv_station_stop(c->station, PV_STATION_STOP_FINISH);
	return NULL;
}

/* The same corrupt write on the virtual bus, which can power-cycle its ports: Retry
 * re-plugs the board, it comes back in its boot ROM and is flashed again (its fault struck
 * once), verified and recorded, with "power-cycled" in its log. */
static void test_retry_power_cycles_a_board_past_its_rom(void **state)
{
	char *dir = pv_test_mkdtemp(), *inv_path;
	struct pv_station_summary summary;
	struct pv_inventory inv;
	struct collector c;
	json_t *arrived, *verified, *failed;

	(void)state;
	collector_init(&c);
	assert_true(asprintf(&inv_path, "%s/inventory.cfg", dir) > 0);
	corrupt_write_station(&c, inv_path);
	run_with_retrier(&c, cycling_retrier_main, &summary);
	assert_int_equal(c.retry_rc, PV_OK);
	assert_int_equal(c.recorded, 1);
	assert_int_equal(summary.recorded, 1);
	assert_int_equal(summary.abandoned, 0);
	/* It arrived twice on the same port: plugged in, and back from the power cycle. */
	arrived = events(&c, "arrived", NULL);
	assert_int_equal(json_array_size(arrived), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arrived, 1), "port")),
			    json_string_value(json_object_get(json_array_get(arrived, 0), "port")));
	failed = events(&c, "failed", NULL);
	assert_int_equal(json_array_size(failed), 1);
	verified = events(&c, "verified", NULL);
	assert_int_equal(json_array_size(verified), 1);
	assert_true(log_says(&c, "retry: power-cycled port 100-1.1", "re-plugged"));
	pv_inventory_init(&inv);
	assert_int_equal(pv_inventory_load(inv_path, &inv), PV_OK);
	assert_non_null(pv_inventory_lookup(&inv, "10000000eeee0000"));
	pv_inventory_release(&inv);
	json_decref(verified);
	json_decref(failed);
	json_decref(arrived);
	collector_release(&c);
	free(inv_path);
	pv_test_rmtree(dir);
	free(dir);
}

/* Boards that need a person first, then by port in numeric order. */
static void test_board_order(void **state)
{
	struct pv_station_board b[4];

	(void)state;
	memset(b, 0, sizeof(b));
	pv_strlcpy(b[0].port, "1-1.10", sizeof(b[0].port));
	pv_strlcpy(b[1].port, "1-1.9", sizeof(b[1].port));
	pv_strlcpy(b[2].port, "1-1.2", sizeof(b[2].port));
	b[2].state = PV_STATION_FAILED;
	pv_strlcpy(b[3].port, "1-1.1", sizeof(b[3].port));
	b[0].state = b[1].state = b[3].state = PV_STATION_RECORDED;
	for (unsigned i = 0; i < 4; i++)
		b[i].id = i + 1;
	qsort(b, 4, sizeof(b[0]), pv_station_board_compare);
	assert_string_equal(b[0].port, "1-1.2");
	assert_string_equal(b[1].port, "1-1.1");
	assert_string_equal(b[2].port, "1-1.9");
	assert_string_equal(b[3].port, "1-1.10");
}

/* Before any board is waited for: an inventory that does not parse, a metadata folder
 * that is a file, a preset no chip has, an unknown export format, a bad spec. */
static void test_checks_before_waiting(void **state)
{
	char *dir = pv_test_mkdtemp(), *path, *file;
	struct pv_station_config cfg;
	struct pv_station *st = NULL;
	const char *spec = "pi4";
	static const char bad[] = "version = 1;\nboards = ( { serial = \"zz\"; } );\n";

	(void)state;
	assert_true(asprintf(&path, "%s/inv.cfg", dir) > 0);
	assert_true(asprintf(&file, "%s/file", dir) > 0);
	pv_test_write_file(path, bad, strlen(bad));
	pv_test_write_file(file, "x", 1);
	pv_station_config_init(&cfg);
	cfg.virtual_specs = &spec;
	cfg.virtual_count = 1;
	cfg.inventory = path;
	assert_int_equal(pv_station_new(&cfg, &st), PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "inv.cfg"));
	cfg.inventory = NULL;
	cfg.metadata_dir = file;
	assert_int_not_equal(pv_station_new(&cfg, &st), PV_OK);
	assert_non_null(strstr(pv_last_error(), "not a folder"));
	cfg.metadata_dir = NULL;
	cfg.profile.flash.preset = "netwrok";
	assert_int_equal(pv_station_new(&cfg, &st), PV_ERR_INVALID);
	assert_non_null(strstr(pv_last_error(), "netwrok"));
	cfg.profile.flash.preset = "network";
	cfg.inventory = file; /* not parsed: a one-byte file "x" */
	assert_int_not_equal(pv_station_new(&cfg, &st), PV_OK);
	cfg.inventory = NULL;
	cfg.profile.exports.files[0].format = "dnsmask";
	cfg.profile.exports.files[0].path = file;
	cfg.profile.exports.file_count = 1;
	assert_int_equal(pv_station_new(&cfg, &st), PV_ERR_INVALID);
	cfg.profile.exports.file_count = 0;
	spec = "pi4,flash-ms=nope";
	assert_int_equal(pv_station_new(&cfg, &st), PV_ERR_INVALID);
	assert_null(st);
	pv_test_rmtree(dir);
	free(path);
	free(file);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_in_order_and_json_agrees_with_inventory),
		cmocka_unit_test(test_never_recorded_unless_verified),
		cmocka_unit_test(test_exports_refreshed_and_reload_signalled),
		cmocka_unit_test(test_stop_finishes_in_flight_board),
		cmocka_unit_test(test_stop_abandons_in_flight_board),
		cmocka_unit_test(test_retry_of_board_past_its_rom_waits_for_replug),
		cmocka_unit_test(test_retry_power_cycles_a_board_past_its_rom),
		cmocka_unit_test(test_board_order),
		cmocka_unit_test(test_checks_before_waiting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
