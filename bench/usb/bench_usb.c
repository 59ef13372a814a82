/* USB boot host benchmarks.
 *
 *   bench_usb [--flash-ms N] [--boards N] [--idle-s S] [--check]
 *
 * 1. Concurrency: wall time to flash 1 virtual board and N (default 32: half Pi 4, half
 *    Pi 5) with the same flash-ms (simulated EEPROM write time), through the real engine and
 *    the in-process virtual Pi; ratio N/1 (target <= 1.5). Payloads are built before the
 *    clock starts (once per SoC, as in a real run).
 *    Best of 3 runs each.
 * 2. CPU per board: getrusage(RUSAGE_SELF) user+sys over the N-board run, divided by N. It
 *    includes the virtual Pi's own work (sha256 of every image twice, copies), so it is an
 *    upper bound of the host's share.
 * 3. Idle: the engine waiting on the libusb bus with no board for --idle-s seconds (default
 *    5): process CPU (getrusage, all threads; /proc/self/stat printed too) and wake-ups
 *    (voluntary + involuntary context switches of all threads, from getrusage) per second.
 *    Targets: < 0.1 % CPU, < 5 wake-ups/s.
 * With --check, exits 1 when a target is missed (the machine may be shared: the ratio is
 * the one most sensitive to load; rerun when the load average is high). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "piprov/error.h"
#include "piprov/text.h"
#include "piprov/usb.h"
#include "piprov/vpi.h"
#include "banned.h"

struct usage {
	double cpu_s;
	long switches;
};

static struct usage usage_now(void)
{
	struct rusage ru;
	struct usage u;

	getrusage(RUSAGE_SELF, &ru);
	u.cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		  (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	u.switches = ru.ru_nvcsw + ru.ru_nivcsw;
	return u;
}

/* utime+stime of the whole process in clock ticks, /proc/self/stat fields 14 and 15. */
static double proc_cpu_s(void)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "r");
	unsigned long utime = 0, stime = 0;
	char *p;

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
			 &stime) != 2)
		return -1;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static int flash_run(const struct pv_usb_flash_options *fo, unsigned boards, unsigned flash_ms,
		     struct pv_usb_payload_set *set, double *wall_s, struct usage *used)
{
	struct pv_usb_bus *bus;
	struct pv_usb_job_config cfg;
	struct pv_usb_job_result result;
	struct usage before, after;
	char spec[96];
	uint64_t start;
	int rc;

	(void)fo;
	if (pv_vpi_bus_new(&bus))
		return -1;
	if (boards == 1) {
		snprintf(spec, sizeof(spec), "pi5,flash-ms=%u", flash_ms);
		rc = pv_vpi_bus_add_spec(bus, spec);
	} else {
		snprintf(spec, sizeof(spec), "pi4,count=%u,flash-ms=%u", boards / 2, flash_ms);
		rc = pv_vpi_bus_add_spec(bus, spec);
		snprintf(spec, sizeof(spec), "pi5,count=%u,flash-ms=%u", boards - boards / 2,
			 flash_ms);
		if (!rc)
			rc = pv_vpi_bus_add_spec(bus, spec);
	}
	if (rc) {
		fprintf(stderr, "bench_usb: %s\n", pv_last_error());
		pv_usb_bus_destroy(bus);
		return -1;
	}
	pv_usb_job_config_init(&cfg);
	cfg.mode = PV_USB_JOB_FLASH;
	cfg.bus = bus;
	cfg.payload = pv_usb_payload_set_get;
	cfg.payload_user = set;
	cfg.wait_ms = 10000;
	before = usage_now();
	start = pv_usb_now_ms();
	rc = pv_usb_job_run(&cfg, &result);
	*wall_s = (double)(pv_usb_now_ms() - start) / 1000.0;
	after = usage_now();
	used->cpu_s = after.cpu_s - before.cpu_s;
	used->switches = after.switches - before.switches;
	if (!rc && result.succeeded != boards) {
		fprintf(stderr, "bench_usb: %u of %u boards verified\n", result.succeeded, boards);
		rc = -1;
	}
	pv_usb_job_result_release(&result);
	pv_usb_bus_destroy(bus);
	return rc;
}

static int idle_run(unsigned idle_s, double *cpu_pct, double *wakeups)
{
	struct pv_usb_bus *bus;
	struct pv_usb_job_config cfg;
	struct pv_usb_job_result result;
	struct usage before, after;
	double cpu0, cpu1;
	uint64_t start;
	int rc;

	if (pv_usb_libusb_bus_new(&bus)) {
		fprintf(stderr, "bench_usb: %s\n", pv_last_error());
		return -1;
	}
	pv_usb_job_config_init(&cfg);
	cfg.bus = bus;
	cfg.payload = pv_usb_payload_set_get;
	cfg.wait_ms = idle_s * 1000u;
	cpu0 = proc_cpu_s();
	before = usage_now();
	start = pv_usb_now_ms();
	rc = pv_usb_job_run(&cfg, &result);
	after = usage_now();
	cpu1 = proc_cpu_s();
	{
		double seconds = (double)(pv_usb_now_ms() - start) / 1000.0;
		/* getrusage counts in microseconds; /proc/self/stat in 10 ms ticks, so one tick
		 * landing in the window would read 0.2 %: it is printed as a cross-check. */
		double cpu = after.cpu_s - before.cpu_s;

		if (cpu0 >= 0 && cpu1 >= 0)
			printf("idle cpu from /proc/self/stat: %.2f s (10 ms ticks)\n", cpu1 - cpu0);
		*cpu_pct = 100.0 * cpu / seconds;
		*wakeups = (double)(after.switches - before.switches) / seconds;
	}
	if (!rc && !result.waited_out)
		rc = -1;
	pv_usb_job_result_release(&result);
	pv_usb_bus_destroy(bus);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned flash_ms = 1000, boards = 32, idle_s = 5;
	bool check = false;
	struct pv_usb_flash_options fo = { 0 };
	struct pv_usb_payload_set *set;
	struct pv_buf placeholder = PV_BUF_INIT(1u << 20);
	double wall1, wallN, idle_pct, wakeups;
	struct usage usedN = { 0 };
	const struct pv_usb_payload *p;
	bool ok = true;

	for (int i = 1; i < argc; i++) {
		uint32_t v;
		if (strcmp(argv[i], "--check") == 0) {
			check = true;
		} else if (i + 1 < argc && pv_parse_u32(argv[i + 1], 10, &v) == PV_OK &&
			   (strcmp(argv[i], "--flash-ms") == 0 || strcmp(argv[i], "--boards") == 0 ||
			    strcmp(argv[i], "--idle-s") == 0)) {
			if (strcmp(argv[i], "--flash-ms") == 0)
				flash_ms = v;
			else if (strcmp(argv[i], "--boards") == 0)
				boards = v < 2 ? 2 : v;
			else
				idle_s = v;
			i++;
		} else {
			fprintf(stderr, "usage: bench_usb [--flash-ms N] [--boards N] [--idle-s S] "
					"[--check]\n");
			return 2;
		}
	}
	/* Synthetic images and the placeholder recovery: no firmware needed. */
	if (pv_vpi_placeholder_recovery(&placeholder))
		return 1;
	fo.placeholder_recovery = placeholder.data;
	fo.placeholder_recovery_size = placeholder.len;
	fo.allow_synthetic_image = true;
	fo.preset = "network";
	fo.firmware_dir = "/nonexistent";
	if (pv_usb_flash_payloads_new(&fo, &set) ||
	    pv_usb_payload_set_get(set, pv_soc_info(PV_SOC_BCM2711), &p) ||
	    pv_usb_payload_set_get(set, pv_soc_info(PV_SOC_BCM2712), &p)) {
		fprintf(stderr, "bench_usb: %s\n", pv_last_error());
		return 1;
	}
	/* Best of 3 each: a shared machine adds noise, never speed. */
	wall1 = wallN = 1e9;
	for (int run = 0; run < 3; run++) {
		double w1, wN;
		struct usage u1, uN;

		if (flash_run(&fo, 1, flash_ms, set, &w1, &u1) ||
		    flash_run(&fo, boards, flash_ms, set, &wN, &uN))
			return 1;
		if (w1 < wall1)
			wall1 = w1;
		if (wN < wallN) {
			wallN = wN;
			usedN = uN;
		}
	}
	printf("flash, flash-ms=%u: 1 board %.2f s, %u boards %.2f s, ratio %.2f (target <= 1.5)\n",
	       flash_ms, wall1, boards, wallN, wallN / wall1);
	printf("cpu per board (host + virtual Pi): %.1f ms (%u boards: %.2f s cpu)\n",
	       1000.0 * usedN.cpu_s / boards, boards, usedN.cpu_s);
	if (idle_run(idle_s, &idle_pct, &wakeups))
		return 1;
	printf("idle %u s waiting for a board (libusb bus): cpu %.3f %% (target < 0.1), "
	       "%.2f wake-ups/s (target < 5)\n",
	       idle_s, idle_pct, wakeups);
	if (wallN / wall1 > 1.5 || idle_pct >= 0.1 || wakeups >= 5)
		ok = false;
	pv_usb_payload_set_free(set);
	pv_buf_release(&placeholder);
	return check && !ok ? 1 : 0;
}
