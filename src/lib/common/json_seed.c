/* jansson's hash seed, set before any JSON object exists.
 *
 * Left to itself, jansson seeds its hash tables on the first json_object() by reading
 * /dev/urandom. Before the kernel's random pool is initialised (a host early in its boot: a
 * station started by systemd, the QEMU guest of tests/e2e) that read makes the kernel gather
 * entropy first: measured in the e2e guest, the first event of `piprov usb flash` waited
 * 1.4-2.0 s for it, longer than the whole flash of a board. The seed only spreads JSON
 * object keys over hash buckets (keys piprov builds, or at most a few hundred a device or a
 * file provides), so bytes the kernel gives without waiting are good enough; before the pool
 * is ready the clocks, the pid and an address make it differ between runs.
 *
 * A constructor, so every program linked with the library (the CLIs, the tests, fuzz
 * targets) seeds before its first JSON object, whatever it does first. The library is
 * static: the link option in CMakeLists.txt keeps this object in every program. */
#include <jansson.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"

/* Referenced by the link option (-Wl,--undefined=...) so the linker keeps this file. */
extern const int pv_json_seed_linked;
const int pv_json_seed_linked = 1;

static uint64_t mix(uint64_t h, uint64_t v)
{
	/* splitmix64's finaliser over the running value. */
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

__attribute__((constructor)) static void pv_json_seed(void)
{
	uint64_t seed = 0;
	struct timespec ts;

	/* GRND_INSECURE (Linux 5.6+) never waits; older kernels refuse it (EINVAL) and
	 * GRND_NONBLOCK then fails with EAGAIN while the pool is not ready. */
	if (getrandom(&seed, sizeof(seed), GRND_INSECURE) != (ssize_t)sizeof(seed) &&
	    getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	seed = mix(seed, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	seed = mix(seed, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
	seed = mix(seed, (uint64_t)getpid());
	seed = mix(seed, (uint64_t)(uintptr_t)&ts);
	/* 0 would mean "seed yourself" to jansson. */
	json_object_seed((size_t)(seed ? seed : 1));
}
