/* Inventory benchmark.
 *   bench_inventory [--boards N] [--dir DIR]   N boards (default 100,000): time the load, one
 *       upsert and the dnsmasq export (goal: load + upsert + export < 1 s).
 *   bench_inventory --concurrency W          W writers x 200 upserts at once, none lost.
 *   bench_inventory --crash K [--dir DIR]      K writers killed with SIGKILL at random
 *       points; the file must always parse and hold every acknowledged board.
 * Prints one line per measurement; exits non-zero when a check fails (not when a speed goal
 * is missed: the numbers are for the report). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../tests/unit/inventory/crash_harness.h"
#include "piprov/error.h"
#include "piprov/fileio.h"
#include "piprov/inventory.h"
#include "piprov/inventory_export.h"
#include "banned.h"

/* CPU time of this process: the machine may be shared, and wall time then measures the
 * neighbours. Wall time is printed too. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A realistic record: serial, MAC, revision, hostname, IP, boot order, bootloader, tags. */
static void fill_board(struct pv_inventory_record *rec, size_t i, int64_t now)
{
	static const uint32_t revisions[] = { 0xc03111, 0xd03114, 0xb03140, 0xd04170, 0xe04171 };

	pv_inventory_record_init(rec);
	rec->serial = 0x1000000000000000ull | (uint64_t)(0x10000000u + i);
	rec->serial_digits = 16;
	rec->has_mac = true;
	rec->mac[0] = 0xdc;
	rec->mac[1] = 0xa6;
	rec->mac[2] = 0x32;
	rec->mac[3] = (uint8_t)(i >> 16);
	rec->mac[4] = (uint8_t)(i >> 8);
	rec->mac[5] = (uint8_t)i;
	rec->has_revision = true;
	rec->revision = revisions[i % 5];
	snprintf(rec->hostname, sizeof(rec->hostname), "node-%06zu", i + 1);
	rec->has_ip = true;
	rec->ip = 0x0a000000u + (uint32_t)i + 1; /* 10.0.0.1 ... */
	rec->has_boot_order = true;
	rec->boot_order = 0xf21;
	snprintf(rec->bootloader_version, sizeof(rec->bootloader_version),
		 "086b83e3332dfc8927c56762771d082f3077a1ae");
	rec->bootloader_build_ts = 1779807685;
	rec->flashed_at = now;
	for (int f = 0; f < PV_FACT_COUNT; f++) {
		if (!pv_inventory_record_has(rec, (enum pv_inventory_fact)f))
			continue;
		rec->seen[f].source = PV_INVENTORY_SOURCE_USB;
		rec->seen[f].first_seen = now;
		rec->seen[f].last_seen = now;
	}
	pv_inventory_record_add_tag(rec, i % 2 ? "rack-a" : "rack-b");
}

static int bench_size(const char *dir, size_t boards)
{
	struct pv_inventory inv, loaded;
	struct pv_inventory_record extra;
	struct pv_inventory_upsert_opts opts = { .source = PV_INVENTORY_SOURCE_USB };
	struct pv_export_opts eopts;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX);
	char path[4096];
	struct stat st;
	double t0, t_load, t_merge, t_save, t_export, t_upsert;
	int64_t now = (int64_t)time(NULL);

	snprintf(path, sizeof(path), "%s/inventory.cfg", dir);
	pv_inventory_init(&inv);
	inv.records = calloc(boards, sizeof(*inv.records));
	if (!inv.records)
		return 1;
	inv.cap = boards;
	for (size_t i = 0; i < boards; i++)
		fill_board(&inv.records[inv.count++], i, now);
	t0 = now_s();
	if (pv_inventory_save(path, &inv)) {
		fprintf(stderr, "save: %s\n", pv_last_error());
		return 1;
	}
	printf("write %zu boards: %.3f s", boards, now_s() - t0);
	if (stat(path, &st) == 0)
		printf(" (%.1f MiB)", (double)st.st_size / (1024.0 * 1024.0));
	printf("\n");
	pv_inventory_release(&inv);

	/* The cycle the goal is about: load, upsert one board, export dnsmasq. */
	t0 = now_s();
	if (pv_inventory_load(path, &loaded)) {
		fprintf(stderr, "load: %s\n", pv_last_error());
		return 1;
	}
	t_load = now_s() - t0;
	fill_board(&extra, boards + 7, now);
	t0 = now_s();
	if (pv_inventory_merge(&loaded, &extra, &opts, NULL)) {
		fprintf(stderr, "merge: %s\n", pv_last_error());
		return 1;
	}
	t_merge = now_s() - t0;
	t0 = now_s();
	if (pv_inventory_save(path, &loaded)) {
		fprintf(stderr, "save: %s\n", pv_last_error());
		return 1;
	}
	t_save = now_s() - t0;
	pv_export_opts_init(&eopts);
	t0 = now_s();
	if (pv_export_dnsmasq(&loaded, &eopts, &out)) {
		fprintf(stderr, "export: %s\n", pv_last_error());
		return 1;
	}
	t_export = now_s() - t0;
	printf("CPU time: load %.3f s, merge %.4f s, save %.3f s, dnsmasq export %.3f s (%zu lines)\n",
	       t_load, t_merge, t_save, t_export, loaded.count + 11);
	printf("load + upsert + dnsmasq export: %.3f s (goal < 1 s: %s)\n",
	       t_load + t_merge + t_save + t_export,
	       t_load + t_merge + t_save + t_export < 1.0 ? "met" : "MISSED");
	pv_inventory_release(&loaded);
	pv_buf_release(&out);

	/* What one capture pays: pv_inventory_upsert (lock, load, merge, save) on that file. */
	fill_board(&extra, boards + 8, now);
	t0 = now_s();
	if (pv_inventory_upsert(path, &extra, &opts, NULL)) {
		fprintf(stderr, "upsert: %s\n", pv_last_error());
		return 1;
	}
	t_upsert = now_s() - t0;
	printf("pv_inventory_upsert on %zu boards: %.3f s\n", boards + 1, t_upsert);
	pv_inventory_record_release(&extra);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "boards", required_argument, NULL, 'b' }, { "crash", required_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, 'd' },    { "help", no_argument, NULL, 'h' },
		{ "concurrency", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	size_t boards = 100000;
	unsigned kills = 0, writers = 0;
	char *dir = NULL, tmpl[] = "/tmp/piprov-bench-inventory.XXXXXX";
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "b:c:d:h", options, NULL)) != -1) {
		switch (opt) {
		case 'b': boards = strtoul(optarg, NULL, 10); break;
		case 'c': kills = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'd': dir = optarg; break;
		case 'w': writers = (unsigned)strtoul(optarg, NULL, 10); break;
		default:
			fprintf(opt == 'h' ? stdout : stderr,
				"usage: bench_inventory [--boards N | --crash K | --concurrency W] "
				"[--dir DIR]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!dir) {
		dir = mkdtemp(tmpl);
		if (!dir) {
			perror("mkdtemp");
			return 1;
		}
	}
	if (writers) {
		struct timespec t0, t1;
		size_t records = 0;
		char err[512];

		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = concurrency_run(dir, writers, 200, &records, err, sizeof(err));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("concurrency: %u writers x 200 upserts -> %zu records in %.1f s (wall): %s\n",
		       writers, records, (double)(t1.tv_sec - t0.tv_sec) +
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, rc ? err : "none lost");
	} else if (kills) {
		struct crash_stats stats;
		char err[512];
		double t0 = now_s();

		rc = crash_run(dir, kills, 50000, 4242, &stats, err, sizeof(err));
		printf("crash: %u SIGKILLs, %zu acknowledged upserts, %zu records, %u stale temp "
		       "files, %.1f s: %s\n", stats.kills, stats.acknowledged, stats.records,
		       stats.stale_temps, now_s() - t0, rc ? err : "file always parsed, nothing lost");
	} else {
		rc = bench_size(dir, boards);
	}
	if (dir == tmpl) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpl);
	}
	return rc ? 1 : 0;
}
