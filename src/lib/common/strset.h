/* A set of strings (owned copies) numbered in order of first appearance, with constant-time
 * lookup: for the exports that ask "seen this path / folder / group before?" once per item of
 * 100,000 boards. Internal to libpiprov. */
#ifndef PIPROV_STRSET_H
#define PIPROV_STRSET_H

#include <stdbool.h>
#include <stddef.h>

struct pv_strset {
	char **names;      /* in order of first appearance */
	size_t count, names_cap;
	size_t *slots;     /* open addressing: index + 1 into names; 0 = empty */
	size_t cap;        /* a power of two, at least twice count */
};

#define PV_STRSET_INIT { NULL, 0, 0, NULL, 0 }

/* Add the first len bytes of s. 1 when added, 0 when already there, PV_ERR_NOMEM; *index
 * (when not NULL) gets its number either way. */
int pv_strset_add(struct pv_strset *set, const char *s, size_t len, size_t *index);

/* Whether the first len bytes of s are in the set. */
bool pv_strset_contains(const struct pv_strset *set, const char *s, size_t len);

/* The string numbered index (< count). */
const char *pv_strset_name(const struct pv_strset *set, size_t index);

void pv_strset_release(struct pv_strset *set);

#endif
