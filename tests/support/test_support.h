/* Helpers for the cmocka tests: fixture lookup, log capture, scratch directories. */
#ifndef PIPROV_TEST_SUPPORT_H
#define PIPROV_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "piprov/buf.h"
#include "piprov/log.h"

/* ../shared/fixtures (or $PIPROV_FIXTURES), or NULL when it is not a directory. */
const char *pv_test_fixtures_dir(void);

/* The fixtures dir, or skip the current cmocka test with a message naming what is
 * missing. Use as: const char *fx = pv_test_fixtures_or_skip(); */
#define pv_test_fixtures_or_skip() pv_test_fixtures_or_skip_impl(__func__)
const char *pv_test_fixtures_or_skip_impl(const char *test_name);

/* Join fixtures dir and a relative path into a static-lifetime-free malloc'd string. */
char *pv_test_fixture_path(const char *relative);

/* Source tree root and build tree root (for test data under tests/ and built programs). */
const char *pv_test_source_dir(void);
const char *pv_test_binary_dir(void);
/* Path of a built program: <build>/bin/<name>. malloc'd. */
char *pv_test_program(const char *name);

/* Read a whole file (gzip transparently) or fail the test. */
void pv_test_read_file(const char *path, struct pv_buf *out);

/* A fresh empty directory under $TMPDIR, removed recursively by pv_test_rmtree(). */
char *pv_test_mkdtemp(void);
void pv_test_rmtree(const char *path);
/* Write a file (test setup; fails the test on error). */
void pv_test_write_file(const char *path, const void *data, size_t len);

/* Capture library log lines into a buffer ("level module: message\n" each). */
void pv_test_capture_logs(struct pv_buf *into);
void pv_test_stop_capture(void);

/* Run a shell command, capture stdout (and stderr if merge_stderr), return exit status
 * (or -1 when it did not exit normally). */
int pv_test_run(const char *command, struct pv_buf *output, int merge_stderr);

#endif
