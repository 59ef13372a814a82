#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "piprov/buf.h"
#include "piprov/error.h"
#include "piprov/fileio.h"
#include "test_support.h"

static void test_buf_limit(void **state)
{
	struct pv_buf buf = PV_BUF_INIT(8);

	(void)state;
	assert_int_equal(pv_buf_append_str(&buf, "12345678"), PV_OK);
	assert_string_equal(pv_buf_str(&buf), "12345678");
	assert_int_equal(pv_buf_putc(&buf, 'x'), PV_ERR_TOO_BIG);
	assert_int_equal(buf.len, 8); /* a failed append changes nothing */
	pv_buf_reset(&buf);
	assert_int_equal(pv_buf_appendf(&buf, "%d-%s", 42, "ab"), PV_OK);
	assert_string_equal(pv_buf_str(&buf), "42-ab");
	assert_int_equal(pv_buf_appendf(&buf, "%s", "too long"), PV_ERR_TOO_BIG);
	pv_buf_release(&buf);
	assert_string_equal(pv_buf_str(&buf), "");
}

static void test_buf_grows_geometrically(void **state)
{
	struct pv_buf unlimited = PV_BUF_INIT(SIZE_MAX);
	struct pv_buf limited = PV_BUF_INIT(100);

	(void)state;
	/* Byte-by-byte appends must not reallocate each time (quadratic copying). */
	for (int i = 0; i < 10000; i++)
		assert_int_equal(pv_buf_putc(&unlimited, 'a'), PV_OK);
	assert_int_equal(unlimited.len, 10000);
	assert_int_equal(unlimited.cap, 16384);
	/* A limited buffer never holds more storage than limit + 1. */
	for (int i = 0; i < 100; i++)
		assert_int_equal(pv_buf_putc(&limited, 'a'), PV_OK);
	assert_int_equal(limited.cap, 101);
	pv_buf_release(&unlimited);
	pv_buf_release(&limited);
}

static void test_read_limit_and_gzip(void **state)
{
	char *dir = pv_test_mkdtemp();
	char *plain = NULL, *gz_path = NULL;
	struct pv_buf buf = PV_BUF_INIT(SIZE_MAX);
	gzFile gz;

	(void)state;
	assert_true(asprintf(&plain, "%s/plain.txt", dir) > 0);
	assert_true(asprintf(&gz_path, "%s/data.bin.gz", dir) > 0);
	pv_test_write_file(plain, "hello world", 11);
	assert_int_equal(pv_file_read(plain, 11, &buf), PV_OK);
	assert_string_equal(pv_buf_str(&buf), "hello world");
	pv_buf_reset(&buf);
	assert_int_equal(pv_file_read(plain, 10, &buf), PV_ERR_TOO_BIG);
	assert_non_null(strstr(pv_last_error(), "plain.txt"));

	gz = gzopen(gz_path, "wb");
	assert_non_null(gz);
	assert_int_equal(gzwrite(gz, "compressed!", 11), 11);
	gzclose(gz);
	pv_buf_reset(&buf);
	assert_int_equal(pv_file_read(gz_path, 1024, &buf), PV_OK);
	assert_int_equal(buf.len, 11);
	assert_memory_equal(buf.data, "compressed!", 11);
	pv_buf_reset(&buf);
	assert_int_equal(pv_file_read(gz_path, 10, &buf), PV_ERR_TOO_BIG);

	pv_buf_reset(&buf);
	assert_int_equal(pv_file_read("/nonexistent/piprov/x", 10, &buf), PV_ERR_NOT_FOUND);
	assert_non_null(strstr(pv_last_error(), "/nonexistent/piprov/x"));

	pv_buf_release(&buf);
	free(plain);
	free(gz_path);
	pv_test_rmtree(dir);
	free(dir);
}

static void test_atomic_write(void **state)
{
	char *dir = pv_test_mkdtemp();
	char *target = NULL;
	struct pv_atomic_file af;
	struct pv_buf buf = PV_BUF_INIT(SIZE_MAX);
	struct stat st;

	(void)state;
	assert_true(asprintf(&target, "%s/out.bin", dir) > 0);
	assert_int_equal(pv_file_write_atomic(target, "old", 3, 0640), PV_OK);
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);

	/* An aborted write leaves the old file and no temporary behind. */
	assert_int_equal(pv_atomic_open(&af, target, 0644), PV_OK);
	assert_int_equal(pv_atomic_write(&af, "new-but-aborted", 15), PV_OK);
	pv_atomic_abort(&af);
	pv_test_read_file(target, &buf);
	assert_string_equal(pv_buf_str(&buf), "old");
	{
		struct pv_buf listing = PV_BUF_INIT(SIZE_MAX);
		char *cmd = NULL;
		assert_true(asprintf(&cmd, "ls -A '%s'", dir) > 0);
		assert_int_equal(pv_test_run(cmd, &listing, 0), 0);
		assert_string_equal(pv_buf_str(&listing), "out.bin\n");
		pv_buf_release(&listing);
		free(cmd);
	}

	assert_int_equal(pv_atomic_open(&af, target, 0644), PV_OK);
	assert_int_equal(pv_atomic_write(&af, "new", 3), PV_OK);
	assert_int_equal(pv_atomic_commit(&af), PV_OK);
	pv_buf_reset(&buf);
	pv_test_read_file(target, &buf);
	assert_string_equal(pv_buf_str(&buf), "new");

	/* A destination in a missing directory fails with the path named. */
	assert_int_not_equal(pv_file_write_atomic("/nonexistent/piprov/out", "x", 1, 0644), PV_OK);
	assert_non_null(strstr(pv_last_error(), "/nonexistent/piprov"));

	pv_buf_release(&buf);
	free(target);
	pv_test_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_limit),
		cmocka_unit_test(test_buf_grows_geometrically),
		cmocka_unit_test(test_read_limit_and_gzip),
		cmocka_unit_test(test_atomic_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
