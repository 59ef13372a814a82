/* Replays a fuzz corpus without libFuzzer: every regular file under the given directories
 * (or the given files) is passed once to LLVMFuzzerTestOneInput, each in an exact-size heap
 * buffer so AddressSanitizer sees any overread. A crash or sanitizer report fails the test;
 * an empty corpus fails too, so a missing corpus is noticed. */
#include <dirent.h>
#include <stdint.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "piprov/buf.h"
#include "piprov/fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_INPUT_MAX (8u << 20)

static int replay_file(const char *path)
{
	struct pv_buf buf = PV_BUF_INIT(SIZE_MAX);
	uint8_t *exact;

	if (pv_file_read_raw(path, REPLAY_INPUT_MAX, &buf)) {
		fprintf(stderr, "replay: cannot read '%s'\n", path);
		pv_buf_release(&buf);
		return -1;
	}
	exact = malloc(buf.len ? buf.len : 1);
	if (!exact) {
		pv_buf_release(&buf);
		return -1;
	}
	if (buf.len)
		memcpy(exact, buf.data, buf.len);
	LLVMFuzzerTestOneInput(exact, buf.len);
	free(exact);
	pv_buf_release(&buf);
	return 0;
}

static int replay_path(const char *path, unsigned *count)
{
	struct stat st;
	struct dirent **entries;
	int n, rc = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: '%s' does not exist\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return replay_file(path);
	}
	n = scandir(path, &entries, NULL, alphasort);
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		char *child = NULL;
		if (entries[i]->d_name[0] != '.' &&
		    asprintf(&child, "%s/%s", path, entries[i]->d_name) > 0) {
			if (replay_path(child, count))
				rc = -1;
			free(child);
		}
		free(entries[i]);
	}
	free(entries);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int rc = 0;

	for (int i = 1; i < argc; i++)
		if (replay_path(argv[i], &count))
			rc = 1;
	if (count == 0) {
		fprintf(stderr, "replay: no corpus inputs found\n");
		return 1;
	}
	printf("replayed %u inputs: %s\n", count, rc ? "errors" : "ok");
	return rc;
}
