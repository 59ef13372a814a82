/* String set: open addressing with linear probing over indexes into the names array, 64-bit
 * FNV-1a (also where size_t has 32 bits), grown to keep the load at most one half. */
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

/* The slot holding s, or the empty slot where it would go. cap must be non-zero. */
static size_t probe(const struct pv_strset *set, const size_t *slots, size_t cap, const char *s,
		    size_t len)
{
	size_t i = (size_t)hash_bytes(s, len) & (cap - 1);

	while (slots[i]) {
		const char *name = set->names[slots[i] - 1];
		if (strncmp(name, s, len) == 0 && name[len] == '\0')
			break;
		i = (i + 1) & (cap - 1);
	}
	return i;
}

static int grow_slots(struct pv_strset *set)
{
	size_t cap = set->cap ? set->cap * 2 : 64;
	size_t *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return PV_ERR_NOMEM;
	for (size_t n = 0; n < set->count; n++)
		slots[probe(set, slots, cap, set->names[n], strlen(set->names[n]))] = n + 1;
	free(set->slots);
	set->slots = slots;
	set->cap = cap;
	return PV_OK;
}

int pv_strset_add(struct pv_strset *set, const char *s, size_t len, size_t *index)
{
	size_t at;
	char *copy;

	if ((set->count + 1) * 2 > set->cap && grow_slots(set) != PV_OK)
		return PV_ERR_NOMEM;
	at = probe(set, set->slots, set->cap, s, len);
	if (set->slots[at]) {
		if (index)
			*index = set->slots[at] - 1;
		return 0;
	}
	if (set->count == set->names_cap) {
		size_t cap = set->names_cap ? set->names_cap * 2 : 16;
		char **names = realloc(set->names, cap * sizeof(*names));

		if (!names)
			return PV_ERR_NOMEM;
		set->names = names;
		set->names_cap = cap;
	}
	copy = malloc(len + 1);
	if (!copy)
		return PV_ERR_NOMEM;
	memcpy(copy, s, len);
	copy[len] = '\0';
	set->names[set->count] = copy;
	set->slots[at] = ++set->count;
	if (index)
		*index = set->count - 1;
	return 1;
}

bool pv_strset_contains(const struct pv_strset *set, const char *s, size_t len)
{
	return set->cap && set->slots[probe(set, set->slots, set->cap, s, len)] != 0;
}

const char *pv_strset_name(const struct pv_strset *set, size_t index)
{
	return set->names[index];
}

void pv_strset_release(struct pv_strset *set)
{
	for (size_t n = 0; n < set->count; n++)
		free(set->names[n]);
	free(set->names);
	free(set->slots);
	memset(set, 0, sizeof(*set));
}
