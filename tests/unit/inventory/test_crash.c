/* Crash safety and concurrency of pv_inventory_upsert: writers killed with SIGKILL at random
 * points (200 kills; bench/inventory runs more) never leave a file that does not parse or
 * lose an acknowledged board, and 16 concurrent writers x 200 upserts lose nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "crash_harness.h"
#include "test_support.h"

/* SIGKILL tests atomicity (rename over a complete file), which the page cache keeps across a
 * killed process; it does not need the disk. On tmpfs the thousands of fsyncs are free, so
 * the suite stays quick; power-loss durability is the fsyncs' job and is not simulated. */
static char *scratch_dir(void)
{
	char *path;

	if (access("/dev/shm", W_OK) != 0)
		return pv_test_mkdtemp();
	path = strdup("/dev/shm/piprov-inventory-test-XXXXXX");
	assert_non_null(path);
	assert_non_null(mkdtemp(path));
	return path;
}

static void test_sigkill_writers(void **state)
{
	char *dir = scratch_dir(), err[512];
	struct crash_stats stats;
	int rc;

	(void)state;
	rc = crash_run(dir, 200, 20000, 1234, &stats, err, sizeof(err));
	print_message("%u kills, %zu acknowledged upserts, %zu records, %u stale temp files\n",
		      stats.kills, stats.acknowledged, stats.records, stats.stale_temps);
	if (rc)
		fail_msg("%s", err);
	assert_int_equal(stats.kills, 200);
	/* Kills must have landed after some commits, or the test proves nothing. */
	assert_true(stats.acknowledged > 0);
	assert_true(stats.records >= stats.acknowledged);
	assert_int_equal(stats.stale_temps, 0);
	pv_test_rmtree(dir);
	free(dir);
}

static void test_concurrent_writers(void **state)
{
	char *dir = scratch_dir(), err[512];
	size_t records = 0;

	(void)state;
	if (concurrency_run(dir, 16, 200, &records, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(records, 3200);
	pv_test_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigkill_writers),
		cmocka_unit_test(test_concurrent_writers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
