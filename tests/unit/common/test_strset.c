/* The string set behind the TFTP export's manifest and folder lookups: membership by
 * length-delimited keys, copies owned by the set, growth far past the first table. */
#include <stdio.h>
#include <string.h>

#include "strset.h"
#include "test_support.h"

static void test_membership(void **state)
{
	struct pv_strset set = PV_STRSET_INIT;
	char key[32];

	(void)state;
	assert_false(pv_strset_contains(&set, "a", 1)); /* empty, never allocated */
	snprintf(key, sizeof(key), "dc-a6-32-01-02-03/start4.elf");
	assert_int_equal(pv_strset_add(&set, key, strlen(key), NULL), 1);
	key[0] = 'X'; /* the set keeps its own copy */
	assert_true(pv_strset_contains(&set, "dc-a6-32-01-02-03/start4.elf", 28));
	assert_int_equal(pv_strset_add(&set, "dc-a6-32-01-02-03/start4.elf", 28, NULL), 0);
	assert_int_equal(set.count, 1);
	/* Only the first len bytes count: the top folder of a path. */
	assert_int_equal(pv_strset_add(&set, "1234abcd/cmdline.txt", 8, NULL), 1);
	assert_true(pv_strset_contains(&set, "1234abcd", 8));
	assert_true(pv_strset_contains(&set, "1234abcd/other", strcspn("1234abcd/other", "/")));
	assert_false(pv_strset_contains(&set, "1234abc", 7));      /* a prefix is not a member */
	assert_false(pv_strset_contains(&set, "1234abcd/cmdline.txt", 20));
	assert_false(pv_strset_contains(&set, "", 0));
	assert_int_equal(pv_strset_add(&set, "", 0, NULL), 1); /* the empty string is a key too */
	assert_true(pv_strset_contains(&set, "", 0));
	pv_strset_release(&set);
	assert_int_equal(set.count, 0);
	assert_false(pv_strset_contains(&set, "1234abcd", 8));
}

static void test_growth(void **state)
{
	struct pv_strset set = PV_STRSET_INIT;
	char key[32];

	(void)state;
	for (unsigned i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "%08x/start4.elf", i * 2654435761u);
		assert_int_equal(pv_strset_add(&set, key, strlen(key), NULL), 1);
	}
	assert_int_equal(set.count, 20000);
	assert_true(set.cap >= 2 * set.count);
	for (unsigned i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "%08x/start4.elf", i * 2654435761u);
		assert_true(pv_strset_contains(&set, key, strlen(key)));
		assert_int_equal(pv_strset_add(&set, key, strlen(key), NULL), 0);
		snprintf(key, sizeof(key), "%08x/start4.elF", i * 2654435761u);
		assert_false(pv_strset_contains(&set, key, strlen(key)));
	}
	pv_strset_release(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_membership),
		cmocka_unit_test(test_growth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
