/* A set of strings (owned copies) with constant-time lookup, for the exports that must ask
 * "seen this path / folder before?" once per file of 100,000 boards. Internal to libpiprov. */
#ifndef PIPROV_STRSET_H
#define PIPROV_STRSET_H

#include <stdbool.h>
#include <stddef.h>

struct pv_strset {
	char **slots;     /* open addressing; NULL = empty */
	size_t count, cap; /* cap: a power of two, at least twice count */
};

#define PV_STRSET_INIT { NULL, 0, 0 }

/* Add the first len bytes of s. 1 when added, 0 when already there, PV_ERR_NOMEM. */
int pv_strset_add(struct pv_strset *set, const char *s, size_t len);

/* Whether the first len bytes of s are in the set. */
bool pv_strset_contains(const struct pv_strset *set, const char *s, size_t len);

void pv_strset_release(struct pv_strset *set);

#endif
