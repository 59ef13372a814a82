#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "piprov/fileio.h"
#include "test_support.h"

const char *pv_test_fixtures_dir(void)
{
	const char *dir = getenv("PIPROV_FIXTURES");
	struct stat st;

	if (!dir || !*dir)
		dir = PIPROV_DEFAULT_FIXTURES_DIR;
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return dir;
	return NULL;
}

const char *pv_test_fixtures_or_skip_impl(const char *test_name)
{
	const char *dir = pv_test_fixtures_dir();

	if (!dir) {
		const char *env = getenv("PIPROV_FIXTURES");
		fprintf(stderr,
			"SKIP %s: shared fixtures not found at '%s' (set PIPROV_FIXTURES)\n",
			test_name, env && *env ? env : PIPROV_DEFAULT_FIXTURES_DIR);
		skip();
	}
	return dir;
}

char *pv_test_fixture_path(const char *relative)
{
	const char *dir = pv_test_fixtures_dir();
	char *path = NULL;

	assert_non_null(dir);
	assert_true(asprintf(&path, "%s/%s", dir, relative) > 0);
	return path;
}

const char *pv_test_source_dir(void)
{
	return PIPROV_SOURCE_DIR;
}

const char *pv_test_binary_dir(void)
{
	return PIPROV_BINARY_DIR;
}

char *pv_test_program(const char *name)
{
	char *path = NULL;

	assert_true(asprintf(&path, "%s/bin/%s", PIPROV_BINARY_DIR, name) > 0);
	return path;
}

void pv_test_read_file(const char *path, struct pv_buf *out)
{
	int rc = pv_file_read(path, 64u << 20, out);

	if (rc)
		fail_msg("cannot read '%s' (%d)", path, rc);
}

char *pv_test_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	char *path = NULL;

	assert_true(asprintf(&path, "%s/piprov-test-XXXXXX", tmp && *tmp ? tmp : "/tmp") > 0);
	assert_non_null(mkdtemp(path));
	return path;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

void pv_test_rmtree(const char *path)
{
	if (path)
		nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void pv_test_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void capture_log(enum pv_log_level level, const char *module, const char *message,
			void *user)
{
	pv_buf_appendf(user, "%s %s: %s\n", pv_log_level_name(level), module, message);
}

void pv_test_capture_logs(struct pv_buf *into)
{
	pv_log_set_level(PV_LOG_DEBUG);
	pv_log_set_callback(capture_log, into);
}

void pv_test_stop_capture(void)
{
	pv_log_set_callback(NULL, NULL);
	pv_log_set_level(PV_LOG_INFO);
}

int pv_test_run(const char *command, struct pv_buf *output, int merge_stderr)
{
	char *full = NULL;
	FILE *pipe;
	char chunk[4096];
	size_t got;
	int status;

	assert_true(asprintf(&full, "%s%s", command, merge_stderr ? " 2>&1" : "") > 0);
	pipe = popen(full, "r");
	free(full);
	assert_non_null(pipe);
	while ((got = fread(chunk, 1, sizeof(chunk), pipe)) > 0)
		if (output)
			assert_int_equal(pv_buf_append(output, chunk, got), 0);
	status = pclose(pipe);
	if (status < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}
