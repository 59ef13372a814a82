/* Inventory benchmark.
 *   bench_inventory [--boards N] [--runs R] [--goal S] [--piprov PATH] [--dir DIR]
 *       N boards (default 100,000): CPU and wall time of load, one upsert, save and the
 *       dnsmasq export, R times (default 3); fails when the best run's CPU total is not below
 *       S seconds (default 1, issue #4). With --piprov, also the whole-process times of
 *       `piprov inventory add` and `piprov inventory export dnsmasq -o` on that file.
 *   bench_inventory --import N [--runs R] [--goal S]     `inventory import` of a CSV of N
 *       boards (the columns of `export csv`) into an empty inventory, then again into the
 *       full one (every record an update): parse + one locked merge + save, CPU time each,
 *       R times (default 3); fails when the best run of either is not below S seconds
 *       (default 1, issue 15 item 7: it was quadratic in records).
 *   bench_inventory --concurrency W          W writers x 200 upserts at once, none lost.
 *   bench_inventory --crash K [--dir DIR]      K writers killed with SIGKILL at random
 *       points; the file must always parse and hold every acknowledged board.
 * Prints one line per measurement; exits non-zero when a check fails or the goal is missed. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../tests/unit/inventory/crash_harness.h"
#include "piprov/error.h"
#include "piprov/fileio.h"
#include "piprov/inventory.h"
#include "piprov/inventory_export.h"
#include "piprov/record.h"
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

/* An inventory of `boards` records made by fill_board. */
static int make_boards(struct pv_inventory *inv, size_t boards, int64_t now)
{
	pv_inventory_init(inv);
	if (pv_inventory_reserve(inv, boards))
		return 1;
	for (size_t i = 0; i < boards; i++)
		fill_board(&inv->records[inv->count++], i, now);
	return 0;
}

/* CPU and wall clock together. */
struct stamp {
	double cpu, wall;
};

static struct stamp stamp_now(void)
{
	struct timespec ts;
	struct stamp st;

	st.cpu = now_s();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	st.wall = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	return st;
}

static struct stamp stamp_since(struct stamp start)
{
	struct stamp end = stamp_now();

	end.cpu -= start.cpu;
	end.wall -= start.wall;
	return end;
}

/* The cycle the goal is about: load, upsert one board, save, export dnsmasq. */
enum { PHASE_LOAD, PHASE_MERGE, PHASE_SAVE, PHASE_EXPORT, PHASE_COUNT };
static const char *const phase_names[PHASE_COUNT] = { "load", "upsert", "save", "dnsmasq export" };

static int run_cycle(const char *path, size_t extra_index, int64_t now, struct stamp t[PHASE_COUNT])
{
	struct pv_inventory inv;
	struct pv_inventory_record extra;
	struct pv_inventory_upsert_opts opts = { .source = PV_INVENTORY_SOURCE_USB };
	struct pv_export_opts eopts;
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX);
	struct stamp t0;
	int rc;

	t0 = stamp_now();
	rc = pv_inventory_load(path, &inv);
	t[PHASE_LOAD] = stamp_since(t0);
	if (rc) {
		fprintf(stderr, "load: %s\n", pv_last_error());
		return 1;
	}
	fill_board(&extra, extra_index, now);
	t0 = stamp_now();
	rc = pv_inventory_merge(&inv, &extra, &opts, NULL);
	t[PHASE_MERGE] = stamp_since(t0);
	pv_inventory_record_release(&extra);
	if (rc) {
		fprintf(stderr, "merge: %s\n", pv_last_error());
		goto out_release;
	}
	t0 = stamp_now();
	rc = pv_inventory_save(path, &inv);
	t[PHASE_SAVE] = stamp_since(t0);
	if (rc) {
		fprintf(stderr, "save: %s\n", pv_last_error());
		goto out_release;
	}
	pv_export_opts_init(&eopts);
	t0 = stamp_now();
	rc = pv_export_dnsmasq(&inv, &eopts, &out);
	t[PHASE_EXPORT] = stamp_since(t0);
	if (rc)
		fprintf(stderr, "export: %s\n", pv_last_error());
out_release:
	pv_inventory_release(&inv);
	pv_buf_release(&out);
	return rc ? 1 : 0;
}

/* Run argv (stdout/stderr to /dev/null); wall and CPU (user + system) of the child. */
static int run_child(char *const argv[], struct stamp *t)
{
	struct stamp t0 = stamp_now();
	posix_spawn_file_actions_t fa;
	struct rusage ru;
	pid_t pid;
	int status;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		fprintf(stderr, "cannot run '%s'\n", argv[0]);
		return 1;
	}
	posix_spawn_file_actions_destroy(&fa);
	if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "'%s %s %s %s' failed\n", argv[0], argv[1], argv[2], argv[3]);
		return 1;
	}
	t->wall = stamp_since(t0).wall;
	t->cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	return 0;
}

static int cmp_stamp_cpu(const void *a, const void *b)
{
	const struct stamp *x = a, *y = b;

	return x->cpu < y->cpu ? -1 : x->cpu > y->cpu;
}

/* `piprov inventory add` (one new board) and `piprov inventory export dnsmasq -o OUT` on the
 * file: what a user waits for. Prints the median of runs. */
static int bench_cli(const char *piprov, const char *dir, const char *path, int runs)
{
	struct stamp add[16], exp[16];
	char out[4200], serial[17], mac[18];
	int rc = 0;

	/* Writable copies: exec takes char *const argv[]. */
	char a_inventory[] = "inventory", a_file[] = "--inventory", a_add[] = "add";
	char a_serial[] = "--serial", a_mac[] = "--mac", a_export[] = "export";
	char a_dnsmasq[] = "dnsmasq", a_out[] = "-o";
	char *file = strdup(path), *prog = strdup(piprov);

	snprintf(out, sizeof(out), "%s/dnsmasq.conf", dir);
	if (!file || !prog)
		rc = 1;
	for (int r = 0; r < runs && !rc; r++) {
		char *add_argv[] = { prog, a_inventory, a_file, file, a_add, a_serial, serial,
				     a_mac, mac, NULL };
		char *exp_argv[] = { prog, a_inventory, a_file, file, a_export, a_dnsmasq, a_out, out,
				     NULL };

		snprintf(serial, sizeof(serial), "20000000%08x", 0xc0de0000u + (unsigned)r);
		snprintf(mac, sizeof(mac), "e4:5f:01:ff:00:%02x", (unsigned)r);
		rc = run_child(add_argv, &add[r]) || run_child(exp_argv, &exp[r]);
	}
	free(file);
	free(prog);
	if (rc)
		return rc;
	qsort(add, (size_t)runs, sizeof(add[0]), cmp_stamp_cpu);
	qsort(exp, (size_t)runs, sizeof(exp[0]), cmp_stamp_cpu);
	printf("piprov inventory add (whole process, median of %d): CPU %.3f s, wall %.3f s\n",
	       runs, add[runs / 2].cpu, add[runs / 2].wall);
	printf("piprov inventory export dnsmasq -o (whole process, median of %d): CPU %.3f s, "
	       "wall %.3f s\n", runs, exp[runs / 2].cpu, exp[runs / 2].wall);
	return 0;
}

static int bench_size(const char *dir, size_t boards, int runs, double goal, const char *piprov)
{
	struct pv_inventory inv;
	struct pv_inventory_record extra;
	struct pv_inventory_upsert_opts opts = { .source = PV_INVENTORY_SOURCE_USB };
	char path[4096];
	struct stat st;
	double t0, t_upsert, best = 0;
	int64_t now = (int64_t)time(NULL);

	snprintf(path, sizeof(path), "%s/inventory.cfg", dir);
	if (make_boards(&inv, boards, now))
		return 1;
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

	/* Several runs: on a shared machine one of them may be slowed by the neighbours
	 * (CPU time still grows with cache and memory contention); the best run is checked. */
	for (int r = 0; r < runs; r++) {
		struct stamp t[PHASE_COUNT];
		double cpu = 0, wall = 0;

		if (run_cycle(path, boards + 7 + (size_t)r, now, t))
			return 1;
		printf("run %d:", r + 1);
		for (int p = 0; p < PHASE_COUNT; p++) {
			printf("%s %s %.3f s CPU (%.3f s wall)", p ? "," : "", phase_names[p], t[p].cpu,
			       t[p].wall);
			cpu += t[p].cpu;
			wall += t[p].wall;
		}
		printf("; total %.3f s CPU (%.3f s wall)\n", cpu, wall);
		if (r == 0 || cpu < best)
			best = cpu;
	}
	printf("load + upsert + save + dnsmasq export, best of %d: %.3f s CPU; goal < %.2f s: %s "
	       "(margin %.3f s, %.0f%%)\n", runs, best, goal, best < goal ? "met" : "MISSED",
	       goal - best, 100.0 * (goal - best) / goal);

	/* What one capture pays: pv_inventory_upsert (lock, load, merge, save) on that file. */
	fill_board(&extra, boards + 100, now);
	t0 = now_s();
	if (pv_inventory_upsert(path, &extra, &opts, NULL)) {
		fprintf(stderr, "upsert: %s\n", pv_last_error());
		return 1;
	}
	t_upsert = now_s() - t0;
	printf("pv_inventory_upsert on %zu boards: %.3f s CPU\n", boards + (size_t)runs + 1,
	       t_upsert);
	pv_inventory_record_release(&extra);
	if (piprov && bench_cli(piprov, dir, path, runs))
		return 1;
	return best < goal ? 0 : 1;
}

/* One `inventory import` of csv into path: read + parse, then the locked merge and save. */
static int import_once(const char *csv, const char *path, size_t expect_created,
		       struct stamp *parse, struct stamp *merge)
{
	struct pv_import_batch batch;
	struct pv_record_summary summary;
	struct stamp t0;
	int rc;

	pv_import_batch_init(&batch);
	t0 = stamp_now();
	rc = pv_record_import_path(csv, PV_IMPORT_AUTO, &batch);
	*parse = stamp_since(t0);
	if (rc) {
		fprintf(stderr, "import: %s\n", pv_last_error());
		goto out_release;
	}
	t0 = stamp_now();
	rc = pv_record_batch(path, &batch, NULL, &summary);
	*merge = stamp_since(t0);
	if (rc) {
		fprintf(stderr, "import: %s\n", pv_last_error());
		goto out_release;
	}
	if (summary.created != expect_created || summary.conflicts) {
		fprintf(stderr, "import: %zu created (expected %zu), %zu conflicts\n",
			summary.created, expect_created, summary.conflicts);
		rc = 1;
	}
out_release:
	pv_import_batch_release(&batch);
	return rc ? 1 : 0;
}

static int bench_import(const char *dir, size_t boards, int runs, double goal)
{
	static const char *const what[2] = { "into an empty inventory", "again (all updates)" };
	struct pv_inventory inv;
	struct pv_export_opts eopts;
	struct pv_buf csv = PV_BUF_INIT(SIZE_MAX);
	char csv_path[4096], path[4096];
	int64_t now = (int64_t)time(NULL);
	struct stamp best_parse[2], best_merge[2];
	bool met = true;

	snprintf(csv_path, sizeof(csv_path), "%s/boards.csv", dir);
	snprintf(path, sizeof(path), "%s/imported.cfg", dir);
	if (make_boards(&inv, boards, now))
		return 1;
	pv_export_opts_init(&eopts);
	if (pv_inventory_export("csv", &inv, &eopts, &csv) ||
	    pv_file_write_atomic(csv_path, csv.data, csv.len, 0644)) {
		fprintf(stderr, "csv: %s\n", pv_last_error());
		return 1;
	}
	printf("import: %zu boards as CSV, %.1f MiB\n", boards, (double)csv.len / 1048576.0);
	pv_buf_release(&csv);
	pv_inventory_release(&inv);
	/* Several runs, each from an empty inventory, as bench_size does: on a shared machine
	 * one run may be slowed by the neighbours; the best run of each pass is checked. */
	for (int r = 0; r < runs; r++) {
		if (unlink(path) < 0 && errno != ENOENT) {
			perror(path);
			return 1;
		}
		for (int pass = 0; pass < 2; pass++) {
			struct stamp parse, merge;

			if (import_once(csv_path, path, pass ? 0 : boards, &parse, &merge))
				return 1;
			printf("run %d: import %zu records %s: parse %.3f s CPU (%.3f s wall), "
			       "merge + save %.3f s CPU (%.3f s wall); total %.3f s CPU\n", r + 1,
			       boards, what[pass], parse.cpu, parse.wall, merge.cpu, merge.wall,
			       parse.cpu + merge.cpu);
			if (r == 0 || parse.cpu + merge.cpu <
					      best_parse[pass].cpu + best_merge[pass].cpu) {
				best_parse[pass] = parse;
				best_merge[pass] = merge;
			}
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		double cpu = best_parse[pass].cpu + best_merge[pass].cpu;

		printf("import %zu records %s, best of %d: parse %.3f s CPU, merge + save %.3f s "
		       "CPU; total %.3f s CPU; goal < %.2f s: %s (margin %.3f s, %.0f%%)\n", boards,
		       what[pass], runs, best_parse[pass].cpu, best_merge[pass].cpu, cpu, goal,
		       cpu < goal ? "met" : "MISSED", goal - cpu, 100.0 * (goal - cpu) / goal);
		met &= cpu < goal;
	}
	return met ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "boards", required_argument, NULL, 'b' }, { "crash", required_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, 'd' },    { "help", no_argument, NULL, 'h' },
		{ "concurrency", required_argument, NULL, 'w' },
		{ "runs", required_argument, NULL, 'r' },   { "goal", required_argument, NULL, 'g' },
		{ "piprov", required_argument, NULL, 'p' }, { "import", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	size_t boards = 100000, import = 0;
	unsigned kills = 0, writers = 0;
	int runs = 3;
	double goal = 1.0;
	const char *piprov = NULL;
	char *dir = NULL, tmpl[] = "/tmp/piprov-bench-inventory.XXXXXX";
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "b:c:d:h", options, NULL)) != -1) {
		switch (opt) {
		case 'b': boards = strtoul(optarg, NULL, 10); break;
		case 'c': kills = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'd': dir = optarg; break;
		case 'w': writers = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': runs = (int)strtol(optarg, NULL, 10); break;
		case 'g': goal = strtod(optarg, NULL); break;
		case 'p': piprov = optarg; break;
		case 'i': import = strtoul(optarg, NULL, 10); break;
		default:
			fprintf(opt == 'h' ? stdout : stderr,
				"usage: bench_inventory [--boards N [--runs R] [--goal SECONDS] "
				"[--piprov PATH] | --import N [--runs R] [--goal SECONDS] | --crash K | "
				"--concurrency W] [--dir DIR]\n");
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
	} else if (import) {
		if (runs < 1 || runs > 16) {
			fprintf(stderr, "--runs: 1 to 16\n");
			return 2;
		}
		rc = bench_import(dir, import, runs, goal);
	} else if (kills) {
		struct crash_stats stats;
		char err[512];
		double t0 = now_s();

		rc = crash_run(dir, kills, 50000, 4242, &stats, err, sizeof(err));
		printf("crash: %u SIGKILLs, %zu acknowledged upserts, %zu records, %u stale temp "
		       "files, %.1f s: %s\n", stats.kills, stats.acknowledged, stats.records,
		       stats.stale_temps, now_s() - t0, rc ? err : "file always parsed, nothing lost");
	} else {
		if (runs < 1 || runs > 16) {
			fprintf(stderr, "--runs: 1 to 16\n");
			return 2;
		}
		rc = bench_size(dir, boards, runs, goal, piprov);
	}
	if (dir == tmpl) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpl);
	}
	return rc ? 1 : 0;
}
