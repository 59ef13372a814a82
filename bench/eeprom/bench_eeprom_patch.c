/* Whole-process time to patch a 2 MiB (BCM2712) image with a new bootconf.txt, the way a
 * provisioning script does it: `piprov eeprom-config --config C --out O IMAGE`, process
 * start to exit, median of N runs. When RPI_EEPROM_CONFIG names the official
 * rpi-eeprom-config, the same job is timed with it (run by RPI_EEPROM_PYTHON, default
 * python3), the outputs must be byte-identical, and the speed ratio is reported (and
 * checked against --min-ratio).
 *
 * It also measures the floor this machine sets for any program doing the job, so a missed
 * ratio can be told apart from a slow engine: starting a process (`true`), and writing 2 MiB
 * next to the output the way a crash-safe writer must (temporary file, fsync, rename,
 * directory fsync) and the way the official tool does (plain write, no fsync).
 *
 *   bench_eeprom_patch PIPROV [--runs N] [--image IMAGE] [--min-ratio R]
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "piprov/eeprom.h"
#include "piprov/fileio.h"
#include "banned.h"

extern char **environ;

static const char config_text[] = "[all]\nBOOT_UART=1\nBOOT_ORDER=0xf21\nTFTP_PREFIX=2\n"
				  "NET_BOOT_MAX_RETRIES=5\nDHCP_TIMEOUT=45000\n";

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Run argv with stdout/stderr to /dev/null; wall ms (and CPU ms, user + system, in *cpu);
 * -1 on spawn failure or non-zero exit. */
static double run_once(char *const argv[], double *cpu)
{
	struct rusage ru;
	posix_spawn_file_actions_t fa;
	double start;
	pid_t pid;
	int status;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	start = now_ms();
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	*cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	return now_ms() - start;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median wall time of `runs` runs; the median CPU time goes to *cpu_median. */
static double median_of(char *const argv[], int runs, const char *label, double *cpu_median)
{
	double *t = calloc((size_t)runs, sizeof(*t)), *c = calloc((size_t)runs, sizeof(*c)), m;

	for (int i = 0; i < runs; i++) {
		t[i] = run_once(argv, &c[i]);
		if (t[i] < 0) {
			fprintf(stderr, "bench: %s failed (run %d)\n", label, i + 1);
			free(t);
			free(c);
			return -1;
		}
	}
	qsort(t, (size_t)runs, sizeof(*t), cmp_double);
	qsort(c, (size_t)runs, sizeof(*c), cmp_double);
	m = t[runs / 2];
	*cpu_median = c[runs / 2];
	printf("%-22s wall median %8.2f ms (min %.2f, max %.2f), cpu median %.2f ms, %d runs\n",
	       label, m, t[0], t[runs - 1], *cpu_median, runs);
	free(t);
	free(c);
	return m;
}

static int same_file(const char *a, const char *b)
{
	struct pv_buf x = PV_BUF_INIT(SIZE_MAX), y = PV_BUF_INIT(SIZE_MAX);
	int same = pv_file_read_raw(a, 8u << 20, &x) == 0 && pv_file_read_raw(b, 8u << 20, &y) == 0 &&
		   x.len == y.len && memcmp(x.data, y.data, x.len) == 0;

	pv_buf_release(&x);
	pv_buf_release(&y);
	return same;
}

/* The cheapest way to write `len` bytes to path, as the official tool does: no temporary
 * file, no fsync. */
static int plain_write(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), rc;

	if (fd < 0)
		return -1;
	rc = pv_write_all(fd, data, len);
	if (close(fd) < 0)
		rc = -1;
	return rc;
}

/* Median wall time of `runs` in-process writes of img to path, durable or plain. */
static double median_write(const char *path, const struct pv_buf *img, int runs, bool durable)
{
	double *t = calloc((size_t)runs, sizeof(*t)), m = -1;

	if (!t)
		return -1;
	for (int i = 0; i < runs; i++) {
		double start = now_ms();
		int rc = durable ? pv_file_write_atomic(path, img->data, img->len, 0644)
				 : plain_write(path, img->data, img->len);
		if (rc != 0)
			goto out_free;
		t[i] = now_ms() - start;
	}
	qsort(t, (size_t)runs, sizeof(*t), cmp_double);
	m = t[runs / 2];
out_free:
	free(t);
	return m;
}

/* What no program can beat on this machine: process start plus the write itself. */
static int measure_floor(const char *image, const char *out, int runs, double *durable_floor,
			 double *plain_floor)
{
	struct pv_buf img = PV_BUF_INIT(SIZE_MAX);
	char true_name[] = "true";
	char *true_argv[] = { true_name, NULL };
	double spawn, spawn_cpu, durable, plain;
	int rc = -1;

	if (pv_file_read_raw(image, 8u << 20, &img) != 0)
		goto out_release;
	spawn = median_of(true_argv, runs, "floor: start `true`", &spawn_cpu);
	durable = median_write(out, &img, runs, true);
	plain = median_write(out, &img, runs, false);
	if (spawn < 0 || durable < 0 || plain < 0)
		goto out_release;
	printf("%-22s wall median %8.2f ms: temporary file + fsync + rename + dir fsync\n",
	       "floor: durable write", durable);
	printf("%-22s wall median %8.2f ms: open + write + close (the official tool's way)\n",
	       "floor: plain write", plain);
	*durable_floor = spawn + durable;
	*plain_floor = spawn + plain;
	printf("floor on this machine: %.2f ms for a crash-safe writer, %.2f ms without fsync\n",
	       *durable_floor, *plain_floor);
	rc = 0;
out_release:
	pv_buf_release(&img);
	unlink(out);
	return rc;
}

int main(int argc, char **argv)
{
	const char *piprov = NULL, *image_arg = NULL, *ref = getenv("RPI_EEPROM_CONFIG");
	char dir[] = "/tmp/piprov-bench-XXXXXX", image[256], conf[256], out[256], ref_out[256];
	char floor_out[256];
	struct pv_buf img = PV_BUF_INIT(SIZE_MAX);
	double ours, theirs, ours_cpu = 0, theirs_cpu = 0, min_ratio = 0, start_cpu;
	double durable_floor = 0, plain_floor = 0;
	int runs = 21, rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = (int)strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--image") == 0 && i + 1 < argc)
			image_arg = argv[++i];
		else if (strcmp(argv[i], "--min-ratio") == 0 && i + 1 < argc)
			min_ratio = strtod(argv[++i], NULL);
		else
			piprov = argv[i];
	}
	if (!piprov || runs < 1) {
		fprintf(stderr, "usage: bench_eeprom_patch PIPROV [--runs N] [--image IMAGE] "
				"[--min-ratio R]\n");
		return 2;
	}
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(conf, sizeof(conf), "%s/boot.conf", dir);
	snprintf(out, sizeof(out), "%s/ours.bin", dir);
	snprintf(ref_out, sizeof(ref_out), "%s/official.bin", dir);
	snprintf(floor_out, sizeof(floor_out), "%s/floor.bin", dir);
	if (image_arg) {
		snprintf(image, sizeof(image), "%s", image_arg);
	} else {
		snprintf(image, sizeof(image), "%s/pieeprom-synth-2712.bin", dir);
		if (pv_eeprom_synthesize(PV_SOC_BCM2712, NULL, &img) != 0 ||
		    pv_file_write_atomic(image, img.data, img.len, 0644) != 0) {
			fprintf(stderr, "bench: cannot build the synthetic image\n");
			goto out;
		}
	}
	if (pv_file_write_atomic(conf, config_text, sizeof(config_text) - 1, 0644) != 0)
		goto out;
	printf("patch bootconf.txt of %s\n", image);
	{
		char sub[] = "eeprom-config", copt[] = "--config", oopt[] = "--out";
		char *ours_argv[] = { (char *)piprov, sub, copt, conf, oopt, out, image, NULL };
		ours = median_of(ours_argv, runs, "piprov eeprom-config", &ours_cpu);
	}
	if (ours < 0)
		goto out;
	{
		/* Where the time goes: the same job inside this process (no exec, no dynamic
		 * loading): load, replace bootconf.txt, save (with its fsyncs). */
		double *t = calloc((size_t)runs, sizeof(*t));
		for (int i = 0; i < runs; i++) {
			struct pv_eeprom_image im = { 0 };
			double start = now_ms();
			if (pv_eeprom_load(&im, image) != 0 ||
			    pv_eeprom_update_file(&im, PV_EEPROM_BOOTCONF_TXT, config_text,
						  sizeof(config_text) - 1) != 0 ||
			    pv_eeprom_save(&im, out) != 0) {
				fprintf(stderr, "bench: in-process patch failed\n");
				pv_eeprom_release(&im);
				free(t);
				goto out;
			}
			pv_eeprom_release(&im);
			t[i] = now_ms() - start;
		}
		qsort(t, (size_t)runs, sizeof(*t), cmp_double);
		printf("%-22s wall median %8.2f ms (min %.2f): load + patch + save, in-process\n",
		       "engine", t[runs / 2], t[0]);
		free(t);
	}
	{
		/* Start-up alone: loading piprov and its shared libraries. */
		char vopt[] = "--version";
		char *version_argv[] = { (char *)piprov, vopt, NULL };
		if (median_of(version_argv, runs, "piprov --version", &start_cpu) < 0)
			goto out;
	}
	if (measure_floor(image, floor_out, runs, &durable_floor, &plain_floor) != 0) {
		fprintf(stderr, "bench: cannot measure the floor in %s\n", dir);
		goto out;
	}
	if (!ref || !*ref) {
		printf("ratio: not measured (set RPI_EEPROM_CONFIG to the official "
		       "rpi-eeprom-config to compare)\n");
		rc = 0;
		goto out;
	}
	{
		/* Through the interpreter (RPI_EEPROM_PYTHON, default python3 from PATH) so a
		 * checkout without the executable bit works too. */
		const char *python = getenv("RPI_EEPROM_PYTHON");
		char copt[] = "--config", oopt[] = "--out";
		char *ref_argv[] = { (char *)(python && *python ? python : "python3"), (char *)ref,
				     copt, conf, oopt, ref_out, image, NULL };
		theirs = median_of(ref_argv, runs, "rpi-eeprom-config", &theirs_cpu);
	}
	if (theirs < 0)
		goto out;
	if (!same_file(out, ref_out)) {
		fprintf(stderr, "bench: outputs differ from the official tool's\n");
		goto out;
	}
	printf("outputs byte-identical; %.1fx faster (wall), %.1fx less CPU", theirs / ours,
	       ours_cpu > 0 ? theirs_cpu / ours_cpu : 0.0);
	if (min_ratio > 0)
		printf(" (goal: %.0fx)", min_ratio);
	printf("\n");
	/* The most any program could reach here: the official tool's time over the floor. */
	printf("ceiling on this machine: %.1fx for a crash-safe writer, %.1fx without fsync\n",
	       theirs / durable_floor, theirs / plain_floor);
	rc = min_ratio > 0 && theirs / ours < min_ratio ? 1 : 0;
out:
	pv_buf_release(&img);
	unlink(conf);
	unlink(out);
	unlink(ref_out);
	if (!image_arg)
		unlink(image);
	rmdir(dir);
	return rc;
}
