/* Throughput of the bootloader log parser.
 *
 *   bench_uart_parse [--min-mbps N] [--size MiB] LOG_DIR_OR_FILE...
 *
 * Concatenates the given logs (our synthetic set: every line type the parser knows, with
 * timestamps, OPTIONS blocks, hex dumps and CRLF) until the buffer holds --size MiB
 * (default 64), then feeds it to one parser in 4 KiB pieces (what a capture read returns)
 * and as one piece. Prints MB/s (10^6 bytes per CPU second of this thread: the machine may
 * be shared, and the goal is the parser's cost, not the scheduler's) of the best of 5 runs
 * each; exits 1 when a best run is below --min-mbps, so the speed goal is checked here, not
 * in a test. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "piprov/fileio.h"
#include "piprov/uart.h"
#include "banned.h"

#define RUNS 5
#define PIECE 4096

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int add_input(const char *path, struct pv_buf *seed)
{
	struct stat st;
	struct dirent **entries;
	int n;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "bench_uart_parse: '%s' does not exist\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return pv_file_read(path, PV_UART_FILE_MAX, seed) ? -1 : 0;
	n = scandir(path, &entries, NULL, alphasort);
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		const char *name = entries[i]->d_name;
		size_t len = strlen(name);
		char *child = NULL;

		if (len > 4 && strcmp(name + len - 4, ".log") == 0 &&
		    asprintf(&child, "%s/%s", path, name) > 0) {
			if (pv_file_read(child, PV_UART_FILE_MAX, seed))
				fprintf(stderr, "bench_uart_parse: skipping '%s'\n", child);
			free(child);
		}
		free(entries[i]);
	}
	free(entries);
	return 0;
}

/* Best throughput over RUNS runs, in MB/s; also leaves a report for a sanity check. */
static double best_mbps(const unsigned char *data, size_t len, size_t piece,
			struct pv_uart_report *last)
{
	double best = 0;

	for (int run = 0; run < RUNS; run++) {
		struct pv_uart_parser *parser = NULL;
		double start, seconds;

		if (pv_uart_parser_new(&parser))
			return 0;
		start = now_seconds();
		for (size_t at = 0; at < len; at += piece)
			pv_uart_parser_feed(parser, data + at, len - at < piece ? len - at : piece);
		pv_uart_parser_finish(parser);
		seconds = now_seconds() - start;
		*last = *pv_uart_parser_report(parser);
		pv_uart_parser_free(parser);
		if (seconds > 0 && (double)len / seconds / 1e6 > best)
			best = (double)len / seconds / 1e6;
	}
	return best;
}

int main(int argc, char **argv)
{
	struct pv_buf seed = PV_BUF_INIT(SIZE_MAX), data = PV_BUF_INIT(SIZE_MAX);
	struct pv_uart_report *report = malloc(sizeof(*report));
	double min_mbps = 0, chunked, whole;
	size_t size = 64u << 20;
	int first = 1, status = 0;

	while (first + 1 < argc && argv[first][0] == '-') {
		if (strcmp(argv[first], "--min-mbps") == 0)
			min_mbps = strtod(argv[first + 1], NULL);
		else if (strcmp(argv[first], "--size") == 0)
			size = (size_t)strtoul(argv[first + 1], NULL, 10) << 20;
		else
			break;
		first += 2;
	}
	if (first >= argc || !report || size == 0) {
		fprintf(stderr, "usage: bench_uart_parse [--min-mbps N] [--size MiB] LOGS...\n");
		return 2;
	}
	for (int i = first; i < argc; i++)
		if (add_input(argv[i], &seed))
			return 2;
	if (seed.len == 0) {
		fprintf(stderr, "bench_uart_parse: no .log input\n");
		return 2;
	}
	while (data.len < size)
		if (pv_buf_append(&data, seed.data, seed.len))
			return 2;

	chunked = best_mbps(data.data, data.len, PIECE, report);
	if (report->lines == 0 || !report->recognised) {
		fprintf(stderr, "bench_uart_parse: the parser recognised nothing\n");
		return 1;
	}
	whole = best_mbps(data.data, data.len, data.len, report);
	printf("uart log parse: %.1f MiB input, %llu lines, best of %d runs\n",
	       (double)data.len / (1 << 20), (unsigned long long)report->lines, RUNS);
	printf("  fed in %d-byte pieces: %8.1f MB/s (CPU time)\n", PIECE, chunked);
	printf("  fed in one piece:      %8.1f MB/s (CPU time)\n", whole);
	if (min_mbps > 0 && (chunked < min_mbps || whole < min_mbps)) {
		printf("  below the target of %.0f MB/s\n", min_mbps);
		status = 1;
	} else if (min_mbps > 0) {
		printf("  target %.0f MB/s: met\n", min_mbps);
	}
	free(report);
	pv_buf_release(&data);
	pv_buf_release(&seed);
	return status;
}
