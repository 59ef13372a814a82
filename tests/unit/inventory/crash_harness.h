/* Writers killed with SIGKILL at random points, and concurrent writers: shared by the unit
 * test (test_crash.c) and bench/inventory (more kills). */
#ifndef PIPROV_INVENTORY_CRASH_HARNESS_H
#define PIPROV_INVENTORY_CRASH_HARNESS_H

#include <stddef.h>

struct crash_stats {
	unsigned kills;        /* writers killed */
	size_t acknowledged;   /* upserts that returned success before the kill */
	size_t records;        /* records in the file at the end */
	unsigned stale_temps;  /* temporary files left by killed writers at the end */
};

/* kills cycles of: start a writer upserting new boards into dir/inventory.cfg, kill it with
 * SIGKILL after a random 0..max_delay_us, then check the file parses and holds every board
 * whose upsert returned success. Returns 0, or -1 with the reason in err. */
int crash_run(const char *dir, unsigned kills, unsigned max_delay_us, unsigned seed,
	      struct crash_stats *stats, char *err, size_t err_size);

/* writers processes each upserting per_writer new boards at once; checks that all
 * writers*per_writer boards are in the file. Returns 0, or -1 with the reason in err. */
int concurrency_run(const char *dir, unsigned writers, unsigned per_writer, size_t *records,
		    char *err, size_t err_size);

#endif
