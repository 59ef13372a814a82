/* Replays a fuzz corpus without libFuzzer: every regular file under the given directories
 * (or the given files) is passed once to LLVMFuzzerTestOneInput, each in an exact-size heap
 * buffer so AddressSanitizer sees any overread. A crash or sanitizer report fails the test;
 * an empty corpus fails too, so a missing corpus is noticed.
 *
 * --truncations: instead, feed prefixes of every input (issue 15: "every loop over outside
 * data advances"; the recovery config.txt parser spun on a last line ending in a blank,
 * i.e. on an input cut short). Every prefix of a small input, and for larger ones a stride
 * with a per-file offset, within a budget of TRUNCATION_CALLS calls per corpus so that the
 * case stays a few seconds; each call must return within TRUNCATION_SECONDS or the test
 * fails naming the file and the length. */
#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "piprov/buf.h"
#include "piprov/fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_INPUT_MAX (8u << 20)
#define TRUNCATION_CALLS 2000u
#define TRUNCATION_SECONDS 30u

struct inputs {
	char **paths;
	size_t count;
};

/* Run data[0..len) in an exact-size heap buffer. */
static int run_exact(const unsigned char *data, size_t len)
{
	uint8_t *exact = malloc(len ? len : 1);

	if (!exact)
		return -1;
	if (len)
		memcpy(exact, data, len);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

static int read_input(const char *path, struct pv_buf *buf)
{
	if (pv_file_read_raw(path, REPLAY_INPUT_MAX, buf)) {
		fprintf(stderr, "replay: cannot read '%s'\n", path);
		return -1;
	}
	return 0;
}

static int collect(const char *path, struct inputs *in)
{
	struct stat st;
	struct dirent **entries;
	char **grown;
	int n, rc = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: '%s' does not exist\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		grown = realloc(in->paths, (in->count + 1) * sizeof(*grown));
		if (!grown || !(grown[in->count] = strdup(path))) {
			if (grown)
				in->paths = grown;
			return -1;
		}
		in->paths = grown;
		in->count++;
		return 0;
	}
	n = scandir(path, &entries, NULL, alphasort);
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		char *child = NULL;
		if (entries[i]->d_name[0] != '.' &&
		    asprintf(&child, "%s/%s", path, entries[i]->d_name) > 0) {
			if (collect(child, in))
				rc = -1;
			free(child);
		}
		free(entries[i]);
	}
	free(entries);
	return rc;
}

/* What the watchdog names when a call does not return. */
static char watched[600];

static void watchdog_fired(int sig)
{
	(void)sig;
	(void)!write(STDERR_FILENO, watched, strlen(watched));
	_exit(1);
}

/* Prefixes of one input: all of them when it is short, else `per_file` lengths spread
 * over it from an offset that differs per file (so the corpus covers every residue). */
static int truncate_input(const char *path, size_t file_index, size_t per_file, size_t *calls)
{
	struct pv_buf buf = PV_BUF_INIT(SIZE_MAX);
	size_t stride, len;
	int rc = read_input(path, &buf);

	if (rc)
		goto out_release;
	len = buf.len;
	stride = len / per_file + 1;
	for (size_t cut = len; ; cut = cut >= stride ? cut - stride : 0) {
		size_t at = cut;
		if (stride > 1 && cut != len && cut >= file_index % stride)
			at = cut - file_index % stride;
		snprintf(watched, sizeof(watched),
			 "replay --truncations: '%s' cut to %zu of %zu bytes did not return within "
			 "%u s (a loop that does not advance?)\n", path, at, len, TRUNCATION_SECONDS);
		alarm(TRUNCATION_SECONDS);
		rc = run_exact(buf.data, at);
		alarm(0);
		(*calls)++;
		if (rc || cut == 0)
			break;
	}
out_release:
	pv_buf_release(&buf);
	return rc;
}

int main(int argc, char **argv)
{
	struct inputs in = { NULL, 0 };
	bool truncations = argc > 1 && strcmp(argv[1], "--truncations") == 0;
	size_t calls = 0;
	int rc = 0;

	for (int i = truncations ? 2 : 1; i < argc; i++)
		if (collect(argv[i], &in))
			rc = 1;
	if (in.count == 0) {
		fprintf(stderr, "replay: no corpus inputs found\n");
		return 1;
	}
	if (truncations)
		signal(SIGALRM, watchdog_fired);
	for (size_t i = 0; i < in.count; i++) {
		if (truncations) {
			size_t per_file = TRUNCATION_CALLS / in.count;
			if (truncate_input(in.paths[i], i, per_file > 4 ? per_file : 4, &calls))
				rc = 1;
		} else {
			struct pv_buf buf = PV_BUF_INIT(SIZE_MAX);
			if (read_input(in.paths[i], &buf) || run_exact(buf.data, buf.len))
				rc = 1;
			pv_buf_release(&buf);
			calls++;
		}
		free(in.paths[i]);
	}
	free(in.paths);
	if (truncations)
		printf("fed %zu prefixes of %zu inputs: %s\n", calls, in.count, rc ? "errors" : "ok");
	else
		printf("replayed %zu inputs: %s\n", calls, rc ? "errors" : "ok");
	return rc;
}
