/* String set: open addressing with linear probing, 64-bit FNV-1a (also where size_t has 32
 * bits), grown to keep the load at most one half. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/error.h"
#include "strset.h"
#include "banned.h"

static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	return h;
}

static bool same(const char *stored, const char *s, size_t len)
{
	return strncmp(stored, s, len) == 0 && stored[len] == '\0';
}

/* The slot holding s, or the empty slot where it would go. cap must be non-zero. */
static size_t probe(char *const *slots, size_t cap, const char *s, size_t len)
{
	size_t i = (size_t)hash_bytes(s, len) & (cap - 1);

	while (slots[i] && !same(slots[i], s, len))
		i = (i + 1) & (cap - 1);
	return i;
}

static int grow(struct pv_strset *set)
{
	size_t cap = set->cap ? set->cap * 2 : 64;
	char **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return PV_ERR_NOMEM;
	for (size_t i = 0; i < set->cap; i++)
		if (set->slots[i])
			slots[probe(slots, cap, set->slots[i], strlen(set->slots[i]))] =
				set->slots[i];
	free(set->slots);
	set->slots = slots;
	set->cap = cap;
	return PV_OK;
}

int pv_strset_add(struct pv_strset *set, const char *s, size_t len)
{
	size_t i;
	char *copy;

	if (pv_strset_contains(set, s, len))
		return 0;
	if ((set->count + 1) * 2 > set->cap && grow(set) != PV_OK)
		return PV_ERR_NOMEM;
	copy = malloc(len + 1);
	if (!copy)
		return PV_ERR_NOMEM;
	memcpy(copy, s, len);
	copy[len] = '\0';
	i = probe(set->slots, set->cap, s, len);
	set->slots[i] = copy;
	set->count++;
	return 1;
}

bool pv_strset_contains(const struct pv_strset *set, const char *s, size_t len)
{
	return set->cap && set->slots[probe(set->slots, set->cap, s, len)] != NULL;
}

void pv_strset_release(struct pv_strset *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slots[i]);
	free(set->slots);
	set->slots = NULL;
	set->count = set->cap = 0;
}
