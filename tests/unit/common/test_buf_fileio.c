#include <fcntl.h>
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

static char *join(const char *dir, const char *name)
{
	char *path = NULL;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	return path;
}

static void assert_file_is(const char *path, const char *text)
{
	struct pv_buf buf = PV_BUF_INIT(SIZE_MAX);

	pv_test_read_file(path, &buf);
	assert_string_equal(pv_buf_str(&buf), text);
	pv_buf_release(&buf);
}

/* issue 15 item 2: -o link.bin replaced the link and never updated its target. */
static void test_atomic_write_goes_through_symlinks(void **state)
{
	char *dir = pv_test_mkdtemp();
	char *target = join(dir, "target.bin"), *link = join(dir, "link.bin");
	char *chain = join(dir, "chain.bin"), *dangling = join(dir, "dangling.bin");
	char *created = join(dir, "created.bin"), *resolved = NULL;
	struct stat st;

	(void)state;
	pv_test_write_file(target, "old", 3);
	assert_int_equal(symlink("target.bin", link), 0); /* relative to the link's folder */
	assert_int_equal(symlink(link, chain), 0);        /* absolute, to another link */
	assert_int_equal(pv_file_write_atomic(link, "new", 3, 0644), PV_OK);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_file_is(target, "new");
	assert_int_equal(pv_file_write_atomic(chain, "third", 5, 0644), PV_OK);
	assert_int_equal(lstat(chain, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_file_is(target, "third");
	assert_int_equal(pv_file_resolve_output(chain, &resolved), PV_OK);
	assert_string_equal(resolved, target);
	free(resolved);
	/* A link to a file not there yet creates the file. */
	assert_int_equal(symlink("created.bin", dangling), 0);
	assert_int_equal(pv_file_write_atomic(dangling, "x", 1, 0644), PV_OK);
	assert_file_is(created, "x");
	assert_int_equal(lstat(dangling, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	/* A loop is refused, not followed forever. */
	assert_int_equal(unlink(dangling), 0);
	assert_int_equal(symlink("dangling.bin", dangling), 0);
	assert_int_not_equal(pv_file_write_atomic(dangling, "x", 1, 0644), PV_OK);
	assert_non_null(strstr(pv_last_error(), "symbolic links"));
	free(target);
	free(link);
	free(chain);
	free(dangling);
	free(created);
	pv_test_rmtree(dir);
	free(dir);
}

/* issue 15 item 2: an existing 0600/0640 file came back 0644. */
static void test_atomic_write_keeps_mode_and_owner(void **state)
{
	char *dir = pv_test_mkdtemp();
	char *path = join(dir, "key-neighbour.pem");
	struct stat st;

	(void)state;
	pv_test_write_file(path, "secret", 6);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(pv_file_write_atomic(path, "secret2", 7, 0644), PV_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(pv_file_write_atomic(path, "secret3", 7, 0644), PV_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	if (geteuid() == 0) {
		/* root can keep anybody's ownership (CI runs as root). */
		assert_int_equal(chown(path, 4321, 4322), 0);
		assert_int_equal(pv_file_write_atomic(path, "secret4", 7, 0644), PV_OK);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_uid, 4321);
		assert_int_equal(st.st_gid, 4322);
		assert_int_equal(st.st_mode & 07777, 0640);
	}
	assert_file_is(path, geteuid() == 0 ? "secret4" : "secret3");
	free(path);
	pv_test_rmtree(dir);
	free(dir);
}

/* issue 15 item 2: -o /dev/full as root replaced the device node with a regular file. */
static void test_atomic_write_never_replaces_non_regular(void **state)
{
	char *dir = pv_test_mkdtemp();
	char *fifo = join(dir, "fifo"), *sub = join(dir, "sub"), *link = join(dir, "to-null");
	struct stat st;

	(void)state;
	assert_int_equal(mkfifo(fifo, 0644), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(symlink("/dev/null", link), 0);
	assert_int_equal(pv_file_write_atomic(fifo, "x", 1, 0644), PV_ERR_INVALID);
	assert_non_null(strstr(pv_last_error(), "a FIFO"));
	assert_non_null(strstr(pv_last_error(), fifo));
	assert_int_equal(pv_file_write_atomic(sub, "x", 1, 0644), PV_ERR_INVALID);
	assert_non_null(strstr(pv_last_error(), "a folder"));
	assert_int_equal(pv_file_write_atomic("/dev/null", "x", 1, 0644), PV_ERR_INVALID);
	assert_non_null(strstr(pv_last_error(), "a character device"));
	assert_int_equal(pv_file_write_atomic(link, "x", 1, 0644), PV_ERR_INVALID);
	assert_int_equal(pv_file_write_atomic("/dev/stdout", "x", 1, 0644), PV_ERR_INVALID);
	assert_non_null(strstr(pv_last_error(), "stream"));
	/* Where a command allows it, a device is written directly and stays a device. */
	assert_int_equal(pv_file_write_atomic_flags(link, "x", 1, 0644, PV_FILE_STREAMS), PV_OK);
	assert_int_equal(pv_file_write_atomic_flags("/dev/full", "x", 1, 0644, PV_FILE_STREAMS),
			 PV_ERR_NO_SPACE);
	assert_int_equal(stat("/dev/full", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(stat(fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	/* A FIFO nobody reads: refused at once instead of waiting for a reader. */
	assert_int_equal(pv_file_write_atomic_flags(fifo, "x", 1, 0644, PV_FILE_STREAMS),
			 PV_ERR_IO);
	assert_non_null(strstr(pv_last_error(), "no reader"));
	free(fifo);
	free(sub);
	free(link);
	pv_test_rmtree(dir);
	free(dir);
}

/* -o /dev/stdout and -o -: the process's own standard output, as a shell would use it. */
static void test_atomic_write_to_standard_output(void **state)
{
	char *dir = pv_test_mkdtemp();
	char *path = join(dir, "stdout.txt");
	int saved = dup(STDOUT_FILENO), fd;

	(void)state;
	fflush(stdout);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0 && saved >= 0);
	assert_int_equal(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
	close(fd);
	assert_int_equal(pv_file_write_atomic_flags("/dev/stdout", "one ", 4, 0644,
						    PV_FILE_STREAMS), PV_OK);
	assert_int_equal(pv_file_write_atomic_flags("-", "two", 3, 0644, PV_FILE_STREAMS),
			 PV_OK);
	assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
	close(saved);
	assert_file_is(path, "one two");
	free(path);
	pv_test_rmtree(dir);
	free(dir);
}

/* issue 15 item 8: a FIFO put where a file is read (an import folder, --root) hung forever. */
static void test_read_refuses_fifos_and_devices(void **state)
{
	char *dir = pv_test_mkdtemp();
	char *fifo = join(dir, "board.json"), *link = join(dir, "zero.bin");
	struct pv_buf buf = PV_BUF_INIT(SIZE_MAX);
	int fd;

	(void)state;
	assert_int_equal(mkfifo(fifo, 0644), 0);
	assert_int_equal(symlink("/dev/zero", link), 0);
	assert_int_equal(pv_file_read(fifo, 1024, &buf), PV_ERR_INVALID);
	assert_non_null(strstr(pv_last_error(), "'"));
	assert_non_null(strstr(pv_last_error(), "is a FIFO, not a regular file"));
	assert_int_equal(pv_file_read_raw(link, 1024, &buf), PV_ERR_INVALID);
	assert_non_null(strstr(pv_last_error(), "a character device"));
	assert_int_equal(pv_file_read(dir, 1024, &buf), PV_ERR_INVALID);
	assert_non_null(strstr(pv_last_error(), "a folder"));
	assert_int_equal(pv_file_open_input("/dev/stdin", 0), PV_ERR_INVALID);
	fd = pv_file_open_input("/dev/stdin", PV_FILE_STREAMS);
	assert_true(fd > STDERR_FILENO);
	close(fd);
	assert_int_equal(buf.len, 0);
	pv_buf_release(&buf);
	free(fifo);
	free(link);
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
		cmocka_unit_test(test_atomic_write_goes_through_symlinks),
		cmocka_unit_test(test_atomic_write_keeps_mode_and_owner),
		cmocka_unit_test(test_atomic_write_never_replaces_non_regular),
		cmocka_unit_test(test_atomic_write_to_standard_output),
		cmocka_unit_test(test_read_refuses_fifos_and_devices),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
