/* The inventory's uniqueness rules, in one place: serial, TFTP folder (the 8-digit serial
 * under the default prefix), Ethernet MAC, IP address and host name. The loader, every
 * merge (add, upsert, capture, import) and `set` ask pv_inventory_clash(); nothing else
 * compares two records for these.
 *
 * The index behind it: one open-addressing table of (key hash, record number) entries, kept
 * with the inventory (inv->index) and extended as records are added or changed, so a batch
 * of n imports costs O(n) lookups instead of n scans of the whole inventory. Entries are
 * only hints: every candidate is compared by value, so an entry left behind by a value
 * that changed since is harmless (it never matches), and a hash collision is too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "inventory_internal.h"
#include "piprov/inventory.h"
#include "piprov/text.h"
#include "banned.h"

struct pv_inventory_index {
	uint64_t *slots; /* (tag << 32) | (record number + 1); 0 = empty */
	size_t cap;      /* a power of two, at least twice `used` */
	size_t used;
	size_t indexed;  /* records[0..indexed) are in the table */
	/* Allocation: every address below ip_next of the pool ip_first-ip_last is taken,
	 * every host name number below name_next of name_pattern is taken. Valid while
	 * records only gain values (a merge); cleared when one may have been given up. */
	uint32_t ip_first, ip_last, ip_next;
	bool has_ip_hint;
	char name_pattern[64];
	unsigned name_next;
};

const char *pv_inventory_unique_rule_name(enum pv_unique_rule rule)
{
	switch (rule) {
	case PV_UNIQUE_SERIAL: return "serial";
	case PV_UNIQUE_TFTP_DIR: return "TFTP folder";
	case PV_UNIQUE_MAC: return "mac";
	case PV_UNIQUE_IP: return "ip";
	case PV_UNIQUE_HOSTNAME: return "hostname";
	case PV_UNIQUE_COUNT: break;
	}
	return "?";
}

static uint64_t mix(uint64_t x)
{
	/* splitmix64's finaliser: every input bit reaches every output bit. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t hash_text(const char *s, bool fold_case)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (fold_case && c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h = (h ^ c) * 0x100000001b3ull;
	}
	return h;
}

/* The key a record has under a rule; false when it has none (no MAC, no host name...). */
static bool rule_key(enum pv_unique_rule rule, const struct pv_inventory_record *rec,
		     uint64_t *hash)
{
	char dir[PV_INVENTORY_HOSTNAME_MAX];
	uint64_t key;

	switch (rule) {
	case PV_UNIQUE_SERIAL:
		if (rec->serial_digits == 0)
			return false;
		key = (uint32_t)rec->serial; /* 8 digits match 16 on the low 32 bits */
		break;
	case PV_UNIQUE_TFTP_DIR:
		pv_inventory_tftp_dir(rec, dir);
		if (!dir[0])
			return false;
		key = hash_text(dir, false);
		break;
	case PV_UNIQUE_MAC:
		if (!rec->has_mac)
			return false;
		key = 0;
		for (int i = 0; i < 6; i++)
			key = key << 8 | rec->mac[i];
		break;
	case PV_UNIQUE_IP:
		if (!rec->has_ip)
			return false;
		key = rec->ip;
		break;
	case PV_UNIQUE_HOSTNAME:
		if (!rec->hostname[0])
			return false;
		key = hash_text(rec->hostname, true); /* DNS names ignore case */
		break;
	default:
		return false;
	}
	*hash = mix(key ^ ((uint64_t)rule + 1) * 0x9e3779b97f4a7c15ull);
	return true;
}

/* The rule itself: whether a and b may not both be in one inventory. */
static bool rule_clashes(enum pv_unique_rule rule, const struct pv_inventory_record *a,
			 const struct pv_inventory_record *b)
{
	char da[PV_INVENTORY_HOSTNAME_MAX], db[PV_INVENTORY_HOSTNAME_MAX];

	switch (rule) {
	case PV_UNIQUE_SERIAL:
		if (!a->serial_digits || !b->serial_digits)
			return false;
		/* Two full serials must differ; a short one is the low 32 bits of a full one. */
		if (a->serial_digits == 16 && b->serial_digits == 16)
			return a->serial == b->serial;
		return (uint32_t)a->serial == (uint32_t)b->serial;
	case PV_UNIQUE_TFTP_DIR:
		pv_inventory_tftp_dir(a, da);
		pv_inventory_tftp_dir(b, db);
		return da[0] && strcmp(da, db) == 0;
	case PV_UNIQUE_MAC:
		return a->has_mac && b->has_mac && memcmp(a->mac, b->mac, 6) == 0;
	case PV_UNIQUE_IP:
		return a->has_ip && b->has_ip && a->ip == b->ip;
	case PV_UNIQUE_HOSTNAME:
		return a->hostname[0] && strcasecmp(a->hostname, b->hostname) == 0;
	default:
		return false;
	}
}

static int index_grow(struct pv_inventory_index *idx, size_t want_used)
{
	size_t cap = idx->cap ? idx->cap : 256;
	uint64_t *slots;

	while (cap < 2 * want_used)
		cap *= 2;
	if (cap == idx->cap)
		return PV_OK;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return PV_ERR_NOMEM;
	pv_inventory_hint_huge(slots, cap * sizeof(*slots));
	for (size_t i = 0; i < idx->cap; i++) {
		uint64_t e = idx->slots[i];
		size_t at;

		if (!e)
			continue;
		/* The tag is the hash's top half; the low half chose the slot, and is lost: re-hash
		 * from the tag (a second mix keeps the spread). */
		at = (size_t)mix(e >> 32) & (cap - 1);
		while (slots[at])
			at = (at + 1) & (cap - 1);
		slots[at] = e;
	}
	free(idx->slots);
	idx->slots = slots;
	idx->cap = cap;
	return PV_OK;
}

/* Slot chains start from the tag (the hash's top 32 bits), so a table can be regrown
 * from its entries alone. */
static size_t first_slot(const struct pv_inventory_index *idx, uint64_t hash)
{
	return (size_t)mix(hash >> 32) & (idx->cap - 1);
}

static int index_insert(struct pv_inventory_index *idx, uint64_t hash, size_t record)
{
	uint64_t entry = (hash & 0xffffffff00000000ull) | (uint64_t)(record + 1);
	size_t at;
	int rc;

	if (record >= 0xffffffffu)
		return PV_ERR_TOO_BIG;
	rc = index_grow(idx, idx->used + 1);
	if (rc)
		return rc;
	for (at = first_slot(idx, hash); idx->slots[at]; at = (at + 1) & (idx->cap - 1))
		if (idx->slots[at] == entry)
			return PV_OK; /* already there */
	idx->slots[at] = entry;
	idx->used++;
	return PV_OK;
}

static int index_add(struct pv_inventory_index *idx, const struct pv_inventory *inv, size_t i)
{
	for (int rule = 0; rule < PV_UNIQUE_COUNT; rule++) {
		uint64_t hash;
		int rc;

		if (!rule_key((enum pv_unique_rule)rule, &inv->records[i], &hash))
			continue;
		rc = index_insert(idx, hash, i);
		if (rc)
			return rc;
	}
	return PV_OK;
}

void pv_inventory_index_free(struct pv_inventory *inv)
{
	if (!inv->index)
		return;
	free(inv->index->slots);
	free(inv->index);
	inv->index = NULL;
}

/* The index covering every record, or NULL when memory ran out (callers then scan). */
static struct pv_inventory_index *index_sync(struct pv_inventory *inv)
{
	struct pv_inventory_index *idx = inv->index;

	if (idx && idx->indexed > inv->count)
		pv_inventory_index_free(inv); /* records went away behind our back */
	if (!inv->index) {
		idx = calloc(1, sizeof(*idx));
		if (!idx)
			return NULL;
		inv->index = idx;
		if (index_grow(idx, 1)) {
			pv_inventory_index_free(inv);
			return NULL;
		}
	}
	idx = inv->index;
	if (idx->indexed < inv->count && index_grow(idx, idx->used + (inv->count - idx->indexed) *
						     PV_UNIQUE_COUNT)) {
		pv_inventory_index_free(inv);
		return NULL;
	}
	for (; idx->indexed < inv->count; idx->indexed++) {
		if (index_add(idx, inv, idx->indexed)) {
			pv_inventory_index_free(inv);
			return NULL;
		}
	}
	return idx;
}

void pv_inventory_index_note(struct pv_inventory *inv, const struct pv_inventory_record *rec,
			     const struct pv_inventory_record *after, bool gave_up_values)
{
	size_t i = (size_t)(rec - inv->records);

	if (!inv->index)
		return;
	if (gave_up_values) {
		inv->index->has_ip_hint = false;
		inv->index->name_pattern[0] = '\0';
	}
	if (i >= inv->index->indexed)
		return; /* index_sync adds it */
	for (int rule = 0; rule < PV_UNIQUE_COUNT; rule++) {
		uint64_t hash, old_hash;

		if (!rule_key((enum pv_unique_rule)rule, after, &hash))
			continue;
		/* The entry (key, i) is already there: a value that stays is not re-added. */
		if (rule_key((enum pv_unique_rule)rule, rec, &old_hash) &&
		    (old_hash >> 32) == (hash >> 32))
			continue;
		if (index_insert(inv->index, hash, i)) {
			pv_inventory_index_free(inv);
			return;
		}
	}
}

void pv_inventory_index_reserve(struct pv_inventory *inv, size_t records)
{
	struct pv_inventory_index *idx = index_sync(inv);

	if (idx && records > idx->indexed &&
	    index_grow(idx, idx->used + (records - idx->indexed) * PV_UNIQUE_COUNT))
		pv_inventory_index_free(inv);
}

/* Calls fn(record number) for every record whose key under rule hashes like rec's, stopping
 * when fn returns true; false when the index is unavailable (the caller scans). */
struct candidates {
	struct pv_inventory *inv;
	struct pv_inventory_index *idx;
	uint64_t hash;
	size_t at;
	bool started;
};

static bool candidates_start(struct candidates *c, struct pv_inventory *inv,
			     enum pv_unique_rule rule, const struct pv_inventory_record *rec,
			     bool *has_key)
{
	c->inv = inv;
	c->idx = index_sync(inv);
	c->started = false;
	*has_key = rule_key(rule, rec, &c->hash);
	return c->idx != NULL;
}

/* The next candidate record number, or SIZE_MAX. */
static size_t candidates_next(struct candidates *c)
{
	struct pv_inventory_index *idx = c->idx;

	if (!c->started) {
		c->at = first_slot(idx, c->hash);
		c->started = true;
	} else {
		c->at = (c->at + 1) & (idx->cap - 1);
	}
	for (; idx->slots[c->at]; c->at = (c->at + 1) & (idx->cap - 1)) {
		uint64_t e = idx->slots[c->at];

		if ((e >> 32) == (c->hash >> 32) && (e & 0xffffffffu) - 1 < c->inv->count)
			return (size_t)(e & 0xffffffffu) - 1;
	}
	return SIZE_MAX;
}

/* The record that clashes with rec under rule among the candidates of c (rec's key),
 * the first in file order, as a scan would find it. */
static struct pv_inventory_record *first_clash(struct candidates *c,
					       const struct pv_inventory_record *rec,
					       const struct pv_inventory_record *self,
					       enum pv_unique_rule rule)
{
	struct pv_inventory_record *found = NULL;

	for (size_t i; (i = candidates_next(c)) != SIZE_MAX;) {
		struct pv_inventory_record *other = &c->inv->records[i];

		if (other != self && (!found || other < found) && rule_clashes(rule, rec, other))
			found = other;
	}
	return found;
}

struct pv_inventory_record *pv_inventory_clash(struct pv_inventory *inv,
					       const struct pv_inventory_record *rec,
					       const struct pv_inventory_record *self,
					       enum pv_unique_rule rule)
{
	struct candidates c;
	bool has_key;

	if (!candidates_start(&c, inv, rule, rec, &has_key)) {
		for (size_t i = 0; i < inv->count; i++)
			if (&inv->records[i] != self && rule_clashes(rule, rec, &inv->records[i]))
				return &inv->records[i];
		return NULL;
	}
	return has_key ? first_clash(&c, rec, self, rule) : NULL;
}

size_t pv_inventory_match_serial(struct pv_inventory *inv, uint64_t serial, int digits,
				 struct pv_inventory_record **first)
{
	struct pv_inventory_record probe;
	struct candidates c;
	size_t n = 0;
	bool has_key;

	*first = NULL;
	memset(&probe, 0, sizeof(probe));
	probe.serial = serial;
	probe.serial_digits = digits;
	if (!candidates_start(&c, inv, PV_UNIQUE_SERIAL, &probe, &has_key)) {
		c.idx = NULL;
	}
	for (size_t k = 0;; k++) {
		struct pv_inventory_record *rec;
		size_t i;

		if (c.idx) {
			i = candidates_next(&c);
			if (i == SIZE_MAX)
				break;
		} else {
			if (k >= inv->count)
				break;
			i = k;
		}
		rec = &inv->records[i];
		if (!rule_clashes(PV_UNIQUE_SERIAL, &probe, rec))
			continue;
		/* An exact 16-digit match wins over 8-digit partial ones. */
		if (digits == 16 && rec->serial_digits == 16) {
			*first = rec;
			return 1;
		}
		if (n++ == 0 || rec < *first)
			*first = rec;
	}
	return n;
}

struct pv_inventory_record *pv_inventory_find_mac(struct pv_inventory *inv, const uint8_t mac[6])
{
	struct pv_inventory_record probe;

	memset(&probe, 0, sizeof(probe));
	probe.has_mac = true;
	memcpy(probe.mac, mac, 6);
	return pv_inventory_clash(inv, &probe, NULL, PV_UNIQUE_MAC);
}

void pv_inventory_clash_text(enum pv_unique_rule rule, const struct pv_inventory_record *rec,
			     const struct pv_inventory_record *other, char *out, size_t size)
{
	char serial[17], other_serial[17], value[PV_INVENTORY_VALUE_MAX];

	pv_inventory_serial_text(rec, serial);
	pv_inventory_serial_text(other, other_serial);
	value[0] = '\0';
	switch (rule) {
	case PV_UNIQUE_SERIAL:
		if (rec->serial_digits != other->serial_digits) {
			pv_inventory_serial8(rec, value);
			snprintf(out, size, "board '%s' and board '%s' are one serial: they share the "
				 "low 32 bits '%s'", serial, other_serial, value);
			return;
		}
		snprintf(out, size, "serial '%s' is used twice", serial);
		return;
	case PV_UNIQUE_TFTP_DIR:
		pv_inventory_tftp_dir(rec, value);
		snprintf(out, size, "board '%s': TFTP folder '%s' already belongs to board '%s' "
			 "(both bootloaders would ask for it: give one of them tftp_prefix=mac or a "
			 "string prefix)", serial, value, other_serial);
		return;
	case PV_UNIQUE_MAC: pv_mac_format(rec->mac, ':', value); break;
	case PV_UNIQUE_IP: pv_ipv4_format(rec->ip, value); break;
	case PV_UNIQUE_HOSTNAME: pv_strlcpy(value, rec->hostname, sizeof(value)); break;
	case PV_UNIQUE_COUNT: break;
	}
	snprintf(out, size, "board '%s': %s '%s' already belongs to board '%s'", serial,
		 pv_inventory_unique_rule_name(rule), value, other_serial);
}

/* How many records ahead a load fetches the index slots of their keys: enough to cover a
 * memory access, few enough that the lines are still cached when their record comes. */
#define FETCH_AHEAD 8

/* A record's keys under every rule, worked out once per record of a load. */
struct record_keys {
	uint64_t hash[PV_UNIQUE_COUNT];
	bool has[PV_UNIQUE_COUNT];
};

/* rec's keys, and a start at fetching the slots they lead to (the lookups of a load are
 * cache misses one after the other; fetching ahead overlaps them). */
static void keys_fetch(const struct pv_inventory_index *idx, const struct pv_inventory_record *rec,
		       struct record_keys *keys)
{
	for (int rule = 0; rule < PV_UNIQUE_COUNT; rule++) {
		keys->has[rule] = rule_key((enum pv_unique_rule)rule, rec, &keys->hash[rule]);
		if (keys->has[rule])
			__builtin_prefetch(&idx->slots[first_slot(idx, keys->hash[rule])]);
	}
}

/* Record i against records[0..i) under every rule, then i added to the index; false when
 * the index had no room left (the caller goes on without it). */
static bool check_indexed(struct pv_inventory *inv, struct pv_inventory_index *idx, size_t i,
			  const struct record_keys *keys,
			  const struct pv_inventory_record **other, enum pv_unique_rule *rule)
{
	const struct pv_inventory_record *rec = &inv->records[i];

	*other = NULL;
	for (int r = 0; r < PV_UNIQUE_COUNT && !*other; r++) {
		struct candidates c = { inv, idx, keys->hash[r], 0, false };

		if (keys->has[r]) {
			*rule = (enum pv_unique_rule)r;
			*other = first_clash(&c, rec, NULL, *rule);
		}
	}
	if (*other)
		return true;
	for (int r = 0; r < PV_UNIQUE_COUNT; r++)
		if (keys->has[r] && index_insert(idx, keys->hash[r], i))
			return false;
	idx->indexed = i + 1;
	return true;
}

int pv_inventory_check_unique(struct pv_inventory *inv, const unsigned *lines, const char *name)
{
	struct record_keys ring[FETCH_AHEAD];
	struct pv_inventory_index *idx;
	size_t count = inv->count;
	int rc = PV_OK;

	/* Built record by record: each is checked against those before it, so the message
	 * names the later line and the earlier board. The index is sized once for all. */
	pv_inventory_index_free(inv);
	inv->count = 0;
	pv_inventory_index_reserve(inv, count);
	idx = index_sync(inv);
	for (size_t i = 0; idx && i < FETCH_AHEAD && i < count; i++)
		keys_fetch(idx, &inv->records[i], &ring[i]);
	for (size_t i = 0; i < count && !rc; i++) {
		const struct pv_inventory_record *rec = &inv->records[i], *other = NULL;
		enum pv_unique_rule rule = PV_UNIQUE_SERIAL;
		char text[512];

		inv->count = i; /* records[0..i) are the ones before it */
		if (idx && !check_indexed(inv, idx, i, &ring[i % FETCH_AHEAD], &other, &rule)) {
			pv_inventory_index_free(inv); /* out of memory: on without the index */
			idx = NULL;
		}
		if (!idx) {
			for (int r = 0; r < PV_UNIQUE_COUNT && !other; r++) {
				rule = (enum pv_unique_rule)r;
				other = pv_inventory_clash(inv, rec, NULL, rule);
			}
		}
		if (other) {
			pv_inventory_clash_text(rule, rec, other, text, sizeof(text));
			rc = pv_fail(PV_ERR_FORMAT, "inventory",
				     "'%s': line %u: %s (the board at line %u)", name,
				     lines ? lines[i] : (unsigned)i + 1, text,
				     lines ? lines[other - inv->records]
					   : (unsigned)(other - inv->records) + 1);
			break;
		}
		if (idx && i + FETCH_AHEAD < count)
			keys_fetch(idx, &inv->records[i + FETCH_AHEAD], &ring[i % FETCH_AHEAD]);
	}
	inv->count = count;
	return rc;
}

uint32_t pv_inventory_index_ip_hint(struct pv_inventory *inv, uint32_t first, uint32_t last)
{
	struct pv_inventory_index *idx = inv->index;

	if (!idx || !idx->has_ip_hint || idx->ip_first != first || idx->ip_last != last)
		return 0;
	return idx->ip_next;
}

void pv_inventory_index_set_ip_hint(struct pv_inventory *inv, uint32_t first, uint32_t last,
				    uint32_t next)
{
	struct pv_inventory_index *idx = index_sync(inv);

	if (!idx)
		return;
	idx->has_ip_hint = true;
	idx->ip_first = first;
	idx->ip_last = last;
	idx->ip_next = next;
}

unsigned pv_inventory_index_name_hint(struct pv_inventory *inv, const char *pattern)
{
	struct pv_inventory_index *idx = inv->index;

	if (!idx || !idx->name_pattern[0] || strcmp(idx->name_pattern, pattern) != 0)
		return 0;
	return idx->name_next;
}

void pv_inventory_index_set_name_hint(struct pv_inventory *inv, const char *pattern,
				      unsigned next)
{
	struct pv_inventory_index *idx = index_sync(inv);

	if (!idx || pv_strlcpy(idx->name_pattern, pattern, sizeof(idx->name_pattern)) >=
			    sizeof(idx->name_pattern)) {
		if (idx)
			idx->name_pattern[0] = '\0';
		return;
	}
	idx->name_next = next;
}
