/* See crash_harness.h. Children only call the public library and _exit(); the parent
 * decides what was committed from what the children acknowledged through a pipe. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crash_harness.h"
#include "piprov/error.h"
#include "piprov/inventory.h"
#include "banned.h"

#define SERIALS_PER_CYCLE 100000u

static void make_board(uint32_t serial, struct pv_inventory_record *rec)
{
	pv_inventory_record_init(rec);
	rec->serial = serial;
	rec->serial_digits = 8;
	rec->has_mac = true;
	rec->mac[0] = 0xdc;
	rec->mac[1] = 0xa6;
	rec->mac[2] = (uint8_t)(serial >> 24);
	rec->mac[3] = (uint8_t)(serial >> 16);
	rec->mac[4] = (uint8_t)(serial >> 8);
	rec->mac[5] = (uint8_t)serial;
}

/* Child: upsert serials first, first+1, ... and acknowledge each success on fd. */
static void writer(const char *path, uint32_t first, unsigned count, int fd)
{
	struct pv_inventory_upsert_opts opts = { .source = PV_INVENTORY_SOURCE_USB };

	for (unsigned i = 0; i < count; i++) {
		struct pv_inventory_record rec;
		uint32_t serial = first + i;
		int rc;

		make_board(serial, &rec);
		rc = pv_inventory_upsert(path, &rec, &opts, NULL);
		pv_inventory_record_release(&rec);
		if (rc) {
			fprintf(stderr, "writer: %s\n", pv_last_error());
			_exit(2);
		}
		if (fd >= 0 && write(fd, &serial, sizeof(serial)) != (ssize_t)sizeof(serial))
			_exit(3);
	}
	_exit(0);
}

static int compare_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Every acknowledged serial must be in the file, which must parse. */
static int verify(const char *path, const uint32_t *acked, size_t n_acked, size_t *records,
		  char *err, size_t err_size)
{
	struct pv_inventory inv;
	uint32_t *have;
	int rc = 0;

	if (pv_inventory_load(path, &inv) != PV_OK) {
		snprintf(err, err_size, "the inventory does not load: %s", pv_last_error());
		return -1;
	}
	have = malloc((inv.count ? inv.count : 1) * sizeof(*have));
	if (!have) {
		pv_inventory_release(&inv);
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < inv.count; i++)
		have[i] = (uint32_t)inv.records[i].serial;
	qsort(have, inv.count, sizeof(*have), compare_u32);
	for (size_t i = 0; i < n_acked; i++) {
		if (!bsearch(&acked[i], have, inv.count, sizeof(*have), compare_u32)) {
			snprintf(err, err_size, "board %08x was acknowledged but is not in the file",
				 acked[i]);
			rc = -1;
			break;
		}
	}
	*records = inv.count;
	free(have);
	pv_inventory_release(&inv);
	return rc;
}

static unsigned count_temps(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((ent = readdir(d)) != NULL)
		if (strncmp(ent->d_name, ".inventory.cfg.", 15) == 0)
			n++;
	closedir(d);
	return n;
}

int crash_run(const char *dir, unsigned kills, unsigned max_delay_us, unsigned seed,
	      struct crash_stats *stats, char *err, size_t err_size)
{
	char path[4096];
	uint32_t *acked = NULL;
	size_t n_acked = 0, cap = 0;
	int rc = 0;

	memset(stats, 0, sizeof(*stats));
	snprintf(path, sizeof(path), "%s/inventory.cfg", dir);
	srand(seed);
	for (unsigned cycle = 0; cycle < kills && rc == 0; cycle++) {
		uint32_t first = 0x10000000u + cycle * SERIALS_PER_CYCLE, serial;
		int fds[2], status;
		pid_t pid;

		if (pipe(fds) < 0) {
			snprintf(err, err_size, "pipe: %s", strerror(errno));
			rc = -1;
			break;
		}
		pid = fork();
		if (pid < 0) {
			snprintf(err, err_size, "fork: %s", strerror(errno));
			close(fds[0]);
			close(fds[1]);
			rc = -1;
			break;
		}
		if (pid == 0) {
			close(fds[0]);
			writer(path, first, SERIALS_PER_CYCLE, fds[1]);
		}
		close(fds[1]);
		usleep((useconds_t)((unsigned)rand() % (max_delay_us + 1)));
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
			snprintf(err, err_size, "writer failed with status %d", WEXITSTATUS(status));
			rc = -1;
		}
		while (read(fds[0], &serial, sizeof(serial)) == (ssize_t)sizeof(serial)) {
			if (n_acked == cap) {
				uint32_t *grown;
				cap = cap ? cap * 2 : 1024;
				grown = realloc(acked, cap * sizeof(*acked));
				if (!grown) {
					snprintf(err, err_size, "out of memory");
					rc = -1;
					break;
				}
				acked = grown;
			}
			acked[n_acked++] = serial;
		}
		close(fds[0]);
		stats->kills++;
		if (rc == 0)
			rc = verify(path, acked, n_acked, &stats->records, err, err_size);
	}
	/* One more writer that finishes: it must clear what the killed ones left behind. */
	if (rc == 0) {
		pid_t pid = fork();
		int status = 0;

		if (pid == 0)
			writer(path, 0x0fff0000u, 1, -1);
		if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			snprintf(err, err_size, "the last writer failed");
			rc = -1;
		}
	}
	stats->acknowledged = n_acked;
	stats->stale_temps = count_temps(dir);
	free(acked);
	return rc;
}

int concurrency_run(const char *dir, unsigned writers, unsigned per_writer, size_t *records,
		    char *err, size_t err_size)
{
	char path[4096];
	pid_t *pids = calloc(writers, sizeof(*pids));
	uint32_t *expected = calloc((size_t)writers * per_writer, sizeof(*expected));
	int rc = 0;

	if (!pids || !expected) {
		free(pids);
		free(expected);
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/inventory.cfg", dir);
	for (unsigned w = 0; w < writers; w++) {
		uint32_t first = 0x20000000u + w * 0x10000u;

		for (unsigned i = 0; i < per_writer; i++)
			expected[(size_t)w * per_writer + i] = first + i;
		pids[w] = fork();
		if (pids[w] == 0)
			writer(path, first, per_writer, -1);
		if (pids[w] < 0) {
			snprintf(err, err_size, "fork: %s", strerror(errno));
			rc = -1;
			break;
		}
	}
	for (unsigned w = 0; w < writers; w++) {
		int status;

		if (pids[w] <= 0)
			continue;
		waitpid(pids[w], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			snprintf(err, err_size, "writer %u failed (status 0x%x)", w, status);
			rc = -1;
		}
	}
	if (rc == 0)
		rc = verify(path, expected, (size_t)writers * per_writer, records, err, err_size);
	if (rc == 0 && *records != (size_t)writers * per_writer) {
		snprintf(err, err_size, "%zu records, expected %zu", *records,
			 (size_t)writers * per_writer);
		rc = -1;
	}
	free(pids);
	free(expected);
	return rc;
}
