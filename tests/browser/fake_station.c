/* A stand-in station for the page's browser test while `piprov station` is not there: the
 * real web server (pv_web_server_start) over the fake source of the unit tests, with boards
 * that go through a station's states on a timeline, and an inventory file written with the
 * library's locked upsert as each board is recorded (so the API can be checked against it).
 *
 *   pv_fake_station --listen ADDR:PORT --inventory FILE [--token-file FILE] [--boards N]
 *                   [--first-ms MS] [--interval-ms MS] [--flash-ms MS] [--fail N]
 *                   [--hostile N] [--arrive-when PATH]
 *
 * Board i (0-based) arrives at first + i * interval (counted from when PATH exists, with
 * --arrive-when: the test creates it once its page is ready, as the virtual Pi's key does); board --fail (default: the last) fails while
 * verifying; board --hostile (default 1) reports a metadata string holding <script>. Runs
 * until SIGTERM or SIGINT. */
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "piprov/error.h"
#include "piprov/inventory.h"
#include "piprov/inventory_export.h"
#include "piprov/text.h"
#include "piprov/web.h"
#include "fake_source.h"

#define HOSTILE_NOTE "<script>window.pvInjected=1</script><img src=x onerror=\"window.pvInjected=2\">"

struct station {
	struct fake_source fs;
	const char *inventory;
	unsigned boards, first_ms, interval_ms, flash_ms;
	int fail, hostile;
	volatile sig_atomic_t stop;
};

struct board_run {
	struct station *st;
	unsigned index;
};

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

static int inventory_json(struct station *st);

/* One writer thread at a time: the inventory's fcntl() lock is per process, so it keeps
 * other processes out but not this one's other threads. */
static pthread_mutex_t record_lock = PTHREAD_MUTEX_INITIALIZER;

static int record(struct station *st, const struct fake_board *b)
{
	struct pv_inventory_upsert_opts opts = { .source = PV_INVENTORY_SOURCE_USB };
	struct pv_inventory_record rec;
	int rc;

	pv_inventory_record_init(&rec);
	rc = pv_inventory_record_set_serial(&rec, b->serial);
	if (!rc)
		rc = pv_inventory_record_set(&rec, "mac", b->mac);
	if (!rc)
		rc = pv_inventory_record_set(&rec, "ip", b->ip);
	if (!rc)
		rc = pv_inventory_record_set(&rec, "hostname", b->hostname);
	if (!rc)
		rc = pv_inventory_record_set(&rec, "board_revision", "c03114");
	if (!rc) {
		pthread_mutex_lock(&record_lock);
		rc = pv_inventory_upsert(st->inventory, &rec, &opts, NULL);
		/* What GET /api/inventory answers from now on: the file as written. */
		if (!rc)
			rc = inventory_json(st);
		pthread_mutex_unlock(&record_lock);
	}
	pv_inventory_record_release(&rec);
	return rc;
}

static void *run_board(void *p)
{
	struct board_run *run = p;
	struct station *st = run->st;
	unsigned i = run->index, step;
	struct fake_board b;

	sleep_ms(st->first_ms + i * st->interval_ms);
	memset(&b, 0, sizeof(b));
	/* Numbered like the virtual Pi's boards: 7-port hubs on bus 100. */
	snprintf(b.serial, sizeof(b.serial), "10000000c0ff%04x", i + 1);
	snprintf(b.port, sizeof(b.port), "100-%u.%u", i / 7 + 1, i % 7 + 1);
	snprintf(b.mac, sizeof(b.mac), "dc:a6:32:c0:%02x:%02x", (i + 1) >> 8, (i + 1) & 0xff);
	snprintf(b.ip, sizeof(b.ip), "10.0.%u.%u", (11 + i) / 250, (11 + i) % 250 + 1);
	snprintf(b.hostname, sizeof(b.hostname), "node-%02u", i + 1);
	pv_strlcpy(b.chip, "2711", sizeof(b.chip));
	pv_strlcpy(b.board, "Raspberry Pi 4 Model B", sizeof(b.board));
	if ((int)i == st->hostile)
		pv_strlcpy(b.note, HOSTILE_NOTE, sizeof(b.note));
	b.total = 524288;

	pv_strlcpy(b.state, "arrived", sizeof(b.state));
	pv_strlcpy(b.stage, "rom", sizeof(b.stage));
	fake_source_update(&st->fs, &b, "arrived", "boot ROM found");
	pv_strlcpy(b.state, "flashing", sizeof(b.state));
	pv_strlcpy(b.stage, "pieeprom.bin", sizeof(b.stage));
	for (step = 1; step <= 10 && !st->stop; step++) {
		sleep_ms(st->flash_ms / 10);
		b.bytes = b.total * step / 10;
		fake_source_update(&st->fs, &b, "progress", "pieeprom.bin");
	}
	pv_strlcpy(b.state, "verifying", sizeof(b.state));
	pv_strlcpy(b.stage, "metadata", sizeof(b.stage));
	fake_source_update(&st->fs, &b, "stage", "EEPROM_HASH");
	sleep_ms(100);
	if ((int)i == st->fail) {
		pv_strlcpy(b.state, "failed", sizeof(b.state));
		pv_strlcpy(b.reason, "EEPROM_HASH 5e1f… is not the sha256 of the served pieeprom.bin",
			   sizeof(b.reason));
		b.ip[0] = b.hostname[0] = '\0';
		fake_source_update(&st->fs, &b, "failed", b.reason);
		return NULL;
	}
	pv_strlcpy(b.state, "verified", sizeof(b.state));
	pv_strlcpy(b.stage, "done", sizeof(b.stage));
	fake_source_update(&st->fs, &b, "verified", "EEPROM hash matches");
	if (record(st, &b) != PV_OK) {
		pv_strlcpy(b.state, "failed", sizeof(b.state));
		pv_strlcpy(b.reason, pv_last_error(), sizeof(b.reason));
		fake_source_update(&st->fs, &b, "failed", b.reason);
		return NULL;
	}
	pv_strlcpy(b.state, "recorded", sizeof(b.state));
	fake_source_update(&st->fs, &b, "recorded", st->inventory);
	return NULL;
}

/* The inventory op of a station: the file as `inventory show --json` prints it. */
static int inventory_json(struct station *st)
{
	struct pv_inventory inv;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX);
	int rc;

	pv_inventory_init(&inv);
	rc = pv_inventory_load(st->inventory, &inv);
	if (rc == PV_ERR_NOT_FOUND) {
		fake_source_set_inventory(&st->fs, "[]");
		rc = PV_OK;
	} else if (!rc) {
		rc = pv_export_json(&inv, NULL, &out);
		if (!rc)
			fake_source_set_inventory(&st->fs, pv_buf_str(&out));
	}
	pv_buf_release(&out);
	pv_inventory_release(&inv);
	return rc;
}

static int usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s --listen ADDR:PORT --inventory FILE [--token-file FILE] [--boards N]\n"
		"       [--first-ms MS] [--interval-ms MS] [--flash-ms MS] [--fail N] [--hostile N]\n"
		"       [--arrive-when PATH]\n",
		argv0);
	return 2;
}

int main(int argc, char **argv)
{
	static struct station st;
	struct pv_web_options opts = { 0 };
	struct pv_web_source source;
	struct pv_web_server *srv;
	struct board_run runs[256];
	pthread_t threads[256];
	const char *arrive_when = NULL;
	struct timespec look = { 0, 50 * 1000000L };
	sigset_t set;
	int sig = 0, i;

	st.boards = 4;
	st.interval_ms = 1000;
	st.flash_ms = 1500;
	st.fail = -1;
	st.hostile = 1;
	for (i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint32_t n;

		if (!v)
			return usage(argv[0]);
		if (strcmp(argv[i], "--listen") == 0)
			opts.listen = v;
		else if (strcmp(argv[i], "--token-file") == 0)
			opts.token_file = v;
		else if (strcmp(argv[i], "--inventory") == 0)
			st.inventory = v;
		else if (strcmp(argv[i], "--arrive-when") == 0)
			arrive_when = v;
		else if (pv_parse_u32(v, 10, &n) != PV_OK)
			return usage(argv[0]);
		else if (strcmp(argv[i], "--boards") == 0 && n >= 1 && n <= 256)
			st.boards = n;
		else if (strcmp(argv[i], "--first-ms") == 0)
			st.first_ms = n;
		else if (strcmp(argv[i], "--interval-ms") == 0)
			st.interval_ms = n;
		else if (strcmp(argv[i], "--flash-ms") == 0)
			st.flash_ms = n;
		else if (strcmp(argv[i], "--fail") == 0)
			st.fail = (int)n;
		else if (strcmp(argv[i], "--hostile") == 0)
			st.hostile = (int)n;
		else
			return usage(argv[0]);
		i++;
	}
	if (!opts.listen || !st.inventory)
		return usage(argv[0]);
	if (st.fail < 0)
		st.fail = (int)st.boards - 1;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	fake_source_init(&st.fs);
	if (inventory_json(&st) != PV_OK) {
		fprintf(stderr, "pv_fake_station: %s\n", pv_last_error());
		return 1;
	}
	source = fake_source_web(&st.fs);
	if (pv_web_server_start(&opts, &source, &srv) != PV_OK) {
		fprintf(stderr, "pv_fake_station: %s\n", pv_last_error());
		return 1;
	}
	printf("listening on http://127.0.0.1:%u/\n", pv_web_server_port(srv));
	fflush(stdout);
	/* No board before the path exists (a stop signal ends the wait). */
	while (arrive_when && access(arrive_when, F_OK) != 0) {
		sig = sigtimedwait(&set, NULL, &look);
		if (sig == SIGTERM || sig == SIGINT) {
			st.boards = 0;
			break;
		}
	}
	for (i = 0; i < (int)st.boards; i++) {
		runs[i].st = &st;
		runs[i].index = (unsigned)i;
		pthread_create(&threads[i], NULL, run_board, &runs[i]);
	}
	while (sig != SIGTERM && sig != SIGINT)
		sig = sigwaitinfo(&set, NULL);
	st.stop = 1;
	for (i = 0; i < (int)st.boards; i++)
		pthread_join(threads[i], NULL);
	pv_web_server_stop(srv);
	fake_source_release(&st.fs);
	return 0;
}
