/* Merging a capture into the inventory: which facts may change, which are conflicts, and
 * allocation of addresses and host names for new boards. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "inventory_internal.h"
#include "piprov/inventory.h"
#include "piprov/text.h"
#include "banned.h"

/* Facts that describe what is on the board now (flashing changes them): a new value simply
 * replaces the old. Every other fact is identity or an assignment: a different value is a
 * conflict unless the caller asked to overwrite. */
static bool fact_is_state(enum pv_inventory_fact fact)
{
	return fact == PV_FACT_BOOT_ORDER || fact == PV_FACT_CONFIG_HASH ||
	       fact == PV_FACT_BOOTLOADER;
}

static void fact_text(const struct pv_inventory_record *rec, enum pv_inventory_fact fact,
		      char out[PV_INVENTORY_VALUE_MAX])
{
	out[0] = '\0';
	switch (fact) {
	case PV_FACT_SERIAL: pv_inventory_serial_text(rec, out); break;
	case PV_FACT_MAC: if (rec->has_mac) pv_mac_format(rec->mac, ':', out); break;
	case PV_FACT_WIFI_MAC: if (rec->has_wifi_mac) pv_mac_format(rec->wifi_mac, ':', out); break;
	case PV_FACT_BT_MAC: if (rec->has_bt_mac) pv_mac_format(rec->bt_mac, ':', out); break;
	case PV_FACT_REVISION:
		if (rec->has_revision)
			snprintf(out, PV_INVENTORY_VALUE_MAX, "%x", rec->revision);
		break;
	case PV_FACT_UUID: pv_strlcpy(out, rec->uuid, PV_INVENTORY_VALUE_MAX); break;
	case PV_FACT_HOSTNAME: pv_strlcpy(out, rec->hostname, PV_INVENTORY_VALUE_MAX); break;
	case PV_FACT_IP: if (rec->has_ip) pv_ipv4_format(rec->ip, out); break;
	case PV_FACT_TFTP_PREFIX:
		if (rec->has_tftp_prefix)
			snprintf(out, PV_INVENTORY_VALUE_MAX, "%s%s%s",
				 pv_tftp_prefix_name(rec->tftp_prefix),
				 rec->tftp_prefix == PV_TFTP_PREFIX_STRING ? ":" : "",
				 rec->tftp_prefix == PV_TFTP_PREFIX_STRING ? rec->tftp_prefix_str
									     : "");
		break;
	case PV_FACT_BOOT_ORDER:
		if (rec->has_boot_order)
			snprintf(out, PV_INVENTORY_VALUE_MAX, "0x%x", rec->boot_order);
		break;
	case PV_FACT_CONFIG_HASH: pv_strlcpy(out, rec->config_hash, PV_INVENTORY_VALUE_MAX); break;
	case PV_FACT_BOOTLOADER:
		snprintf(out, PV_INVENTORY_VALUE_MAX, "%.64s/%lld/%.64s/%lld",
			 rec->bootloader_version, (long long)rec->bootloader_build_ts,
			 rec->eeprom_hash, (long long)rec->flashed_at);
		break;
	case PV_FACT_COUNT: break;
	}
}

static void copy_fact(struct pv_inventory_record *dst, const struct pv_inventory_record *src,
		      enum pv_inventory_fact fact)
{
	switch (fact) {
	case PV_FACT_SERIAL:
		dst->serial = src->serial;
		dst->serial_digits = src->serial_digits;
		break;
	case PV_FACT_MAC: dst->has_mac = src->has_mac; memcpy(dst->mac, src->mac, 6); break;
	case PV_FACT_WIFI_MAC:
		dst->has_wifi_mac = src->has_wifi_mac;
		memcpy(dst->wifi_mac, src->wifi_mac, 6);
		break;
	case PV_FACT_BT_MAC:
		dst->has_bt_mac = src->has_bt_mac;
		memcpy(dst->bt_mac, src->bt_mac, 6);
		break;
	case PV_FACT_REVISION:
		dst->has_revision = src->has_revision;
		dst->revision = src->revision;
		break;
	case PV_FACT_UUID: memcpy(dst->uuid, src->uuid, sizeof(dst->uuid)); break;
	case PV_FACT_HOSTNAME: memcpy(dst->hostname, src->hostname, sizeof(dst->hostname)); break;
	case PV_FACT_IP: dst->has_ip = src->has_ip; dst->ip = src->ip; break;
	case PV_FACT_TFTP_PREFIX:
		dst->has_tftp_prefix = src->has_tftp_prefix;
		dst->tftp_prefix = src->tftp_prefix;
		memcpy(dst->tftp_prefix_str, src->tftp_prefix_str, sizeof(dst->tftp_prefix_str));
		break;
	case PV_FACT_BOOT_ORDER:
		dst->has_boot_order = src->has_boot_order;
		dst->boot_order = src->boot_order;
		break;
	case PV_FACT_CONFIG_HASH:
		memcpy(dst->config_hash, src->config_hash, sizeof(dst->config_hash));
		break;
	case PV_FACT_BOOTLOADER:
		/* Parts the capture did not see are kept (UART logs know the build time only). */
		if (src->bootloader_version[0])
			memcpy(dst->bootloader_version, src->bootloader_version,
			       sizeof(dst->bootloader_version));
		if (src->bootloader_build_ts)
			dst->bootloader_build_ts = src->bootloader_build_ts;
		if (src->eeprom_hash[0])
			memcpy(dst->eeprom_hash, src->eeprom_hash, sizeof(dst->eeprom_hash));
		if (src->flashed_at)
			dst->flashed_at = src->flashed_at;
		break;
	case PV_FACT_COUNT: break;
	}
}

static void add_conflict(struct pv_inventory_report *report, enum pv_inventory_conflict_kind kind,
			 enum pv_inventory_fact fact, const struct pv_inventory_record *target,
			 const struct pv_inventory_record *other, const char *old_value,
			 const char *new_value)
{
	struct pv_inventory_conflict *c;
	const char *name = fact == PV_FACT_COUNT ? "notes" : pv_inventory_fact_name(fact);
	char serial[17], other_serial[17], message[1024];
	char old_text[PV_INVENTORY_VALUE_MAX], new_text[PV_INVENTORY_VALUE_MAX];

	if (report->n_conflicts++ >= PV_INVENTORY_MAX_CONFLICTS)
		return;
	c = &report->conflicts[report->n_conflicts - 1];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->fact = fact;
	pv_inventory_serial_text(target, c->serial);
	if (other)
		pv_inventory_serial_text(other, c->other_serial);
	pv_strlcpy(c->old_value, old_value ? old_value : "", sizeof(c->old_value));
	pv_strlcpy(c->new_value, new_value ? new_value : "", sizeof(c->new_value));
	/* Formatted from locals: GCC sees c->message and c->serial as one object. */
	memcpy(serial, c->serial, sizeof(serial));
	memcpy(other_serial, c->other_serial, sizeof(other_serial));
	memcpy(old_text, c->old_value, sizeof(old_text));
	memcpy(new_text, c->new_value, sizeof(new_text));
	switch (kind) {
	case PV_CONFLICT_VALUE_CHANGED:
		snprintf(message, sizeof(message),
			 "board '%s': %s is '%s' in the inventory, the capture says '%s' (kept '%s')",
			 serial, name, old_text, new_text, old_text);
		break;
	case PV_CONFLICT_MAC_IN_USE:
	case PV_CONFLICT_IP_IN_USE:
	case PV_CONFLICT_HOSTNAME_IN_USE:
		snprintf(message, sizeof(message),
			 "board '%s': %s '%s' already belongs to board '%s' (not recorded)",
			 serial, name, new_text, other_serial);
		break;
	case PV_CONFLICT_SERIAL8_COLLISION:
		snprintf(message, sizeof(message),
			 "board '%s': TFTP folder '%s' already belongs to board '%s' (not "
			 "recorded): give one of them tftp_prefix=mac or a string prefix",
			 serial, new_text, other_serial);
		break;
	case PV_CONFLICT_SERIAL_AMBIGUOUS:
		snprintf(message, sizeof(message),
			 "serial '%s' matches several boards ('%s', ...): give the full 16-digit "
			 "serial or the MAC", new_text, other_serial);
		break;
	}
	pv_strlcpy(c->message, message, sizeof(c->message));
}

/* The uniqueness rule a fact falls under, or PV_UNIQUE_COUNT. */
static enum pv_unique_rule fact_rule(enum pv_inventory_fact fact)
{
	switch (fact) {
	case PV_FACT_MAC: return PV_UNIQUE_MAC;
	case PV_FACT_IP: return PV_UNIQUE_IP;
	case PV_FACT_HOSTNAME: return PV_UNIQUE_HOSTNAME;
	default: return PV_UNIQUE_COUNT;
	}
}

static bool fact_equal(const struct pv_inventory_record *a, const struct pv_inventory_record *b,
		       enum pv_inventory_fact fact)
{
	char ta[PV_INVENTORY_VALUE_MAX], tb[PV_INVENTORY_VALUE_MAX];

	/* Values compared as values: formatting both as text per fact was most of a merge
	 * that changes nothing (re-importing 100,000 boards). */
	switch (fact) {
	case PV_FACT_SERIAL:
		return a->serial == b->serial && a->serial_digits == b->serial_digits;
	case PV_FACT_MAC:
		return a->has_mac == b->has_mac && memcmp(a->mac, b->mac, 6) == 0;
	case PV_FACT_WIFI_MAC:
		return a->has_wifi_mac == b->has_wifi_mac && memcmp(a->wifi_mac, b->wifi_mac, 6) == 0;
	case PV_FACT_BT_MAC:
		return a->has_bt_mac == b->has_bt_mac && memcmp(a->bt_mac, b->bt_mac, 6) == 0;
	case PV_FACT_REVISION:
		return a->has_revision == b->has_revision && a->revision == b->revision;
	case PV_FACT_UUID: return strcmp(a->uuid, b->uuid) == 0;
	case PV_FACT_HOSTNAME: return strcmp(a->hostname, b->hostname) == 0;
	case PV_FACT_IP: return a->has_ip == b->has_ip && a->ip == b->ip;
	case PV_FACT_BOOT_ORDER:
		return a->has_boot_order == b->has_boot_order && a->boot_order == b->boot_order;
	case PV_FACT_CONFIG_HASH: return strcmp(a->config_hash, b->config_hash) == 0;
	default:
		break;
	}
	if (fact == PV_FACT_BOOTLOADER) {
		/* b is equal when it adds nothing new to a: every part b knows (copy_fact takes
		 * only those) is a's. */
		return (!b->bootloader_version[0] ||
			strcmp(a->bootloader_version, b->bootloader_version) == 0) &&
		       (!b->bootloader_build_ts || a->bootloader_build_ts == b->bootloader_build_ts) &&
		       (!b->eeprom_hash[0] || strcmp(a->eeprom_hash, b->eeprom_hash) == 0) &&
		       (!b->flashed_at || a->flashed_at == b->flashed_at);
	}
	fact_text(a, fact, ta);
	fact_text(b, fact, tb);
	return strcmp(ta, tb) == 0;
}

/* Host name for allocation index n, or false when the pattern cannot make one. */
static bool pattern_name(const char *pattern, unsigned n, char out[PV_INVENTORY_HOSTNAME_MAX])
{
	int len;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	len = snprintf(out, PV_INVENTORY_HOSTNAME_MAX, pattern, n);
#pragma GCC diagnostic pop
	return len > 0 && len < PV_INVENTORY_HOSTNAME_MAX && pv_hostname_valid(out);
}

int pv_inventory_set_hostname_pattern(struct pv_inventory_alloc *alloc, const char *pattern)
{
	char sample[PV_INVENTORY_VALUE_MAX];
	const char *p = pattern;
	int conversions = 0;

	if (strlen(pattern) >= sizeof(alloc->hostname_pattern))
		return pv_fail(PV_ERR_INVALID, "inventory", "hostname pattern '%s' is too long",
			       pattern);
	while ((p = strchr(p, '%')) != NULL) {
		p++;
		if (*p == '%') {
			p++;
			continue;
		}
		if (*p == '0')
			p++;
		if (*p >= '1' && *p <= '9')
			p++;
		if (*p != 'd' && *p != 'u')
			return pv_fail(PV_ERR_INVALID, "inventory",
				       "hostname pattern '%s': only %%d, %%0Nd or %%u are allowed",
				       pattern);
		conversions++;
	}
	if (conversions != 1 || !pattern_name(pattern, 1, sample))
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "hostname pattern '%s' must hold one %%d and make host names like "
			       "node-%%02d", pattern);
	pv_strlcpy(alloc->hostname_pattern, pattern, sizeof(alloc->hostname_pattern));
	return PV_OK;
}

int pv_inventory_parse_pool(const char *text, struct pv_inventory_alloc *alloc)
{
	char first[16], last[16];
	const char *dash = strchr(text, '-'), *slash;
	unsigned long prefix = 0;
	uint32_t a, b, mask;
	char *end;

	if (!dash || (size_t)(dash - text) >= sizeof(first))
		goto invalid;
	memcpy(first, text, (size_t)(dash - text));
	first[dash - text] = '\0';
	slash = strchr(dash + 1, '/');
	if ((slash ? (size_t)(slash - dash - 1) : strlen(dash + 1)) >= sizeof(last))
		goto invalid;
	pv_strlcpy(last, dash + 1, slash ? (size_t)(slash - dash) : sizeof(last));
	if (slash) {
		prefix = strtoul(slash + 1, &end, 10);
		if (end == slash + 1 || *end || prefix < 1 || prefix > 30)
			goto invalid;
	}
	if (pv_ipv4_parse(first, &a) || pv_ipv4_parse(last, &b) || b < a)
		goto invalid;
	if (b - a >= (1u << 24))
		return pv_fail(PV_ERR_INVALID, "inventory", "IP pool '%s' is larger than a /8", text);
	mask = prefix ? 0xffffffffu << (32 - prefix) : 0;
	if ((a & mask) != (b & mask))
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "IP pool '%s' spans more than one /%lu network", text, prefix);
	alloc->has_pool = true;
	alloc->pool_first = a;
	alloc->pool_last = b;
	alloc->pool_prefix = (unsigned)prefix;
	return PV_OK;
invalid:
	return pv_fail(PV_ERR_INVALID, "inventory",
		       "IP pool '%s' is not FIRST-LAST[/PREFIX] (e.g. 192.168.1.100-192.168.1.199)",
		       text);
}

/* The lowest free address of the pool, through the index (a cursor kept with it makes a
 * batch of new boards linear: addresses below it are known to be taken). */
static int allocate_ip(struct pv_inventory *inv, const struct pv_inventory_alloc *alloc,
		       struct pv_inventory_record *work)
{
	uint32_t ip = pv_inventory_index_ip_hint(inv, alloc->pool_first, alloc->pool_last);
	/* Without a prefix every .0 and .255 is skipped (as in any /24 the pool crosses). */
	uint32_t host_mask = 0xffffffffu >> (alloc->pool_prefix ? alloc->pool_prefix : 24);

	if (ip < alloc->pool_first)
		ip = alloc->pool_first;
	for (;; ip++) {
		/* Skip the network and broadcast addresses of the pool's network, which a user
		 * may have written as .0-.255. */
		if ((ip & host_mask) != 0 && (ip & host_mask) != host_mask) {
			work->ip = ip;
			work->has_ip = true;
			if (!pv_inventory_clash(inv, work, NULL, PV_UNIQUE_IP)) {
				pv_inventory_index_set_ip_hint(inv, alloc->pool_first,
							       alloc->pool_last, ip);
				return PV_OK;
			}
		}
		if (ip == alloc->pool_last)
			break;
	}
	work->has_ip = false;
	work->ip = 0;
	return pv_fail(PV_ERR_NO_SPACE, "inventory", "the IP pool has no free address left");
}

static int allocate_hostname(struct pv_inventory *inv, const struct pv_inventory_alloc *alloc,
			     struct pv_inventory_record *work)
{
	unsigned n = pv_inventory_index_name_hint(inv, alloc->hostname_pattern);

	/* Every board holds at most one name: among count + 1 numbers one is free. */
	for (n = n ? n : 1; n <= inv->count + 1; n++) {
		char name[PV_INVENTORY_VALUE_MAX];

		if (!pattern_name(alloc->hostname_pattern, n, name))
			break;
		/* Taken by the pattern or typed on another board by hand. */
		pv_strlcpy(work->hostname, name, sizeof(work->hostname));
		if (pv_inventory_clash(inv, work, NULL, PV_UNIQUE_HOSTNAME))
			continue;
		pv_inventory_index_set_name_hint(inv, alloc->hostname_pattern, n);
		return PV_OK;
	}
	work->hostname[0] = '\0';
	return pv_fail(PV_ERR_NO_SPACE, "inventory", "hostname pattern '%s' has no free name left",
		       alloc->hostname_pattern);
}

static void mark_set(struct pv_inventory_record *work, enum pv_inventory_fact fact,
		     enum pv_inventory_source source, int64_t now, struct pv_inventory_report *rep)
{
	work->seen[fact].source = source;
	work->seen[fact].first_seen = now;
	work->seen[fact].last_seen = now;
	rep->facts_set |= 1u << fact;
}

int pv_inventory_merge(struct pv_inventory *inv, const struct pv_inventory_record *rec,
		       const struct pv_inventory_upsert_opts *opts,
		       struct pv_inventory_report *report)
{
	struct pv_inventory_report local;
	struct pv_inventory_record *target = NULL, work;
	struct pv_inventory_report *rep = report ? report : &local;
	int64_t now = opts->now ? opts->now : (int64_t)time(NULL);
	const struct pv_inventory_record *other_dir;
	size_t matches, blocking = 0;
	char text[PV_INVENTORY_VALUE_MAX], old[PV_INVENTORY_VALUE_MAX];
	int rc;

	/* The header only: a conflict is cleared when it is added, and clearing all 32 (27 KiB)
	 * per merge was a tenth of an import. */
	memset(rep, 0, offsetof(struct pv_inventory_report, conflicts));
	if (rec->serial_digits != 8 && rec->serial_digits != 16)
		return pv_fail(PV_ERR_INVALID, "inventory", "field 'serial': missing");
	if (opts->source == PV_INVENTORY_SOURCE_NONE)
		return pv_fail(PV_ERR_INVALID, "inventory", "upsert without a source");

	matches = pv_inventory_match_serial(inv, rec->serial, rec->serial_digits, &target);
	if (matches > 1) {
		struct pv_inventory_record *by_mac = rec->has_mac ? pv_inventory_find_mac(inv, rec->mac)
								  : NULL;
		if (by_mac && (uint32_t)by_mac->serial == (uint32_t)rec->serial) {
			target = by_mac;
		} else {
			pv_inventory_serial_text(rec, text);
			add_conflict(rep, PV_CONFLICT_SERIAL_AMBIGUOUS, PV_FACT_SERIAL, rec, target,
				     text, text);
			return pv_fail(PV_ERR_CONFLICT, "inventory", "%s",
				       rep->conflicts[0].message);
		}
	}
	if (target && (opts->flags & PV_UPSERT_CREATE_ONLY)) {
		pv_inventory_serial_text(target, text);
		return pv_fail(PV_ERR_CONFLICT, "inventory", "board '%s' is already in the inventory",
			       text);
	}
	if (!target && (opts->flags & PV_UPSERT_EXISTING_ONLY)) {
		pv_inventory_serial_text(rec, text);
		return pv_fail(PV_ERR_NOT_FOUND, "inventory", "board '%s' is not in the inventory",
			       text);
	}

	if (target) {
		rc = pv_inventory_record_copy(&work, target);
		if (rc)
			return rc;
	} else {
		pv_inventory_record_init(&work);
		work.serial = rec->serial;
		work.serial_digits = rec->serial_digits;
		mark_set(&work, PV_FACT_SERIAL, opts->source, now, rep);
		rep->created = true;
	}

	for (size_t f = 0; f < PV_FACT_COUNT; f++) {
		enum pv_inventory_fact fact = (enum pv_inventory_fact)f;
		const struct pv_inventory_record *other;

		if (!pv_inventory_record_has(rec, fact))
			continue;
		if (fact == PV_FACT_SERIAL) {
			/* The full serial upgrades a record that knew only the low 32 bits. */
			if (work.serial_digits == 8 && rec->serial_digits == 16) {
				copy_fact(&work, rec, fact);
				mark_set(&work, fact, opts->source, now, rep);
			} else if (work.seen[fact].source != PV_INVENTORY_SOURCE_NONE) {
				work.seen[fact].last_seen = now;
				rep->facts_refreshed |= 1u << fact;
			}
			continue;
		}
		if (pv_inventory_record_has(&work, fact) && fact_equal(&work, rec, fact)) {
			if (work.seen[fact].source == PV_INVENTORY_SOURCE_NONE)
				mark_set(&work, fact, opts->source, now, rep);
			work.seen[fact].last_seen = now;
			rep->facts_refreshed |= 1u << fact;
			continue;
		}
		if (fact_rule(fact) != PV_UNIQUE_COUNT) {
			other = pv_inventory_clash(inv, rec, target, fact_rule(fact));
			if (other) {
				fact_text(rec, fact, text);
				add_conflict(rep,
					     fact == PV_FACT_MAC  ? PV_CONFLICT_MAC_IN_USE
					     : fact == PV_FACT_IP ? PV_CONFLICT_IP_IN_USE
								  : PV_CONFLICT_HOSTNAME_IN_USE,
					     fact, &work, other, "", text);
				blocking++;
				continue;
			}
		}
		if (pv_inventory_record_has(&work, fact) && !fact_is_state(fact) &&
		    !(opts->flags & PV_UPSERT_OVERWRITE)) {
			fact_text(&work, fact, old);
			fact_text(rec, fact, text);
			add_conflict(rep, PV_CONFLICT_VALUE_CHANGED, fact, &work, NULL, old, text);
			blocking++;
			continue;
		}
		copy_fact(&work, rec, fact);
		mark_set(&work, fact, opts->source, now, rep);
	}
	for (size_t i = 0; i < rec->n_tags; i++) {
		rc = pv_inventory_record_add_tag(&work, rec->tags[i]);
		if (rc)
			goto out_release_work;
	}
	if (rec->notes && (!work.notes || strcmp(work.notes, rec->notes) != 0)) {
		if (work.notes && !(opts->flags & PV_UPSERT_OVERWRITE)) {
			add_conflict(rep, PV_CONFLICT_VALUE_CHANGED, PV_FACT_COUNT, &work, NULL,
				     "(notes)", "(notes)");
			blocking++;
		} else {
			rc = pv_inventory_record_set_notes(&work, rec->notes);
			if (rc)
				goto out_release_work;
		}
	}

	if (opts->alloc && opts->alloc->has_pool && !work.has_ip) {
		rc = allocate_ip(inv, opts->alloc, &work);
		if (rc)
			goto out_release_work;
		mark_set(&work, PV_FACT_IP, opts->source, now, rep);
	}
	if (opts->alloc && opts->alloc->hostname_pattern[0] && !work.hostname[0]) {
		rc = allocate_hostname(inv, opts->alloc, &work);
		if (rc)
			goto out_release_work;
		mark_set(&work, PV_FACT_HOSTNAME, opts->source, now, rep);
	}

	/* The folder the bootloader asks the TFTP server for must be this board's alone. */
	other_dir = pv_inventory_clash(inv, &work, target, PV_UNIQUE_TFTP_DIR);
	if (other_dir && target && (rep->facts_set & (1u << PV_FACT_TFTP_PREFIX))) {
		/* The captured prefix is what clashes: this board keeps its own. */
		pv_inventory_tftp_dir(&work, text);
		add_conflict(rep, PV_CONFLICT_SERIAL8_COLLISION, PV_FACT_TFTP_PREFIX, &work,
			     other_dir, "", text);
		blocking++;
		copy_fact(&work, target, PV_FACT_TFTP_PREFIX);
		work.seen[PV_FACT_TFTP_PREFIX] = target->seen[PV_FACT_TFTP_PREFIX];
		rep->facts_set &= ~(1u << PV_FACT_TFTP_PREFIX);
		other_dir = pv_inventory_clash(inv, &work, target, PV_UNIQUE_TFTP_DIR);
	}
	if (other_dir) {
		/* A board cannot be recorded without a folder of its own (the file would break
		 * the rule and no longer load). */
		pv_inventory_tftp_dir(&work, text);
		add_conflict(rep, PV_CONFLICT_SERIAL8_COLLISION, PV_FACT_SERIAL, &work, other_dir,
			     "", text);
		rc = pv_fail(PV_ERR_CONFLICT, "inventory", "%s",
			     rep->conflicts[rep->n_conflicts <= PV_INVENTORY_MAX_CONFLICTS
						    ? rep->n_conflicts - 1
						    : PV_INVENTORY_MAX_CONFLICTS - 1].message);
		goto out_release_work;
	}

	if (blocking && (opts->flags & PV_UPSERT_STRICT)) {
		rc = pv_fail(PV_ERR_CONFLICT, "inventory", "%s", rep->conflicts[0].message);
		goto out_release_work;
	}
	pv_inventory_serial_text(&work, rep->serial);
	if (target) {
		bool gave_up = (target->has_ip && (!work.has_ip || work.ip != target->ip)) ||
			       (target->hostname[0] && strcmp(work.hostname, target->hostname));

		pv_inventory_index_note(inv, target, &work, gave_up);
		pv_inventory_record_release(target);
		*target = work;
	} else {
		rc = pv_inventory_append_record(inv, &work);
		if (rc)
			goto out_release_work;
	}
	rep->changed = true;
	return PV_OK;

out_release_work:
	pv_inventory_record_release(&work);
	return rc;
}

int pv_inventory_set(struct pv_inventory *inv, const char *board, const char *const *assignments,
		     size_t count, int64_t now)
{
	struct pv_inventory_record *target = pv_inventory_lookup(inv, board), work;
	char text[PV_INVENTORY_VALUE_MAX], other_serial[17];
	int rc;

	if (!target)
		return pv_fail(PV_ERR_NOT_FOUND, "inventory", "no board '%s' in the inventory",
			       board);
	if (!now)
		now = (int64_t)time(NULL);
	rc = pv_inventory_record_copy(&work, target);
	if (rc)
		return rc;
	for (size_t i = 0; i < count; i++) {
		const char *eq = strchr(assignments[i], '=');
		char key[64];

		if (!eq || eq == assignments[i] || (size_t)(eq - assignments[i]) >= sizeof(key)) {
			rc = pv_fail(PV_ERR_INVALID, "inventory", "'%s' is not KEY=VALUE",
				     assignments[i]);
			goto out_release_work;
		}
		memcpy(key, assignments[i], (size_t)(eq - assignments[i]));
		key[eq - assignments[i]] = '\0';
		if (strcmp(key, "serial") == 0) {
			rc = pv_fail(PV_ERR_INVALID, "inventory",
				     "field 'serial' is the board's key: remove and add it instead");
			goto out_release_work;
		}
		rc = pv_inventory_record_set(&work, key, eq + 1);
		if (rc)
			goto out_release_work;
	}
	if (work.has_tftp_prefix && work.tftp_prefix == PV_TFTP_PREFIX_STRING &&
	    !work.tftp_prefix_str[0]) {
		rc = pv_fail(PV_ERR_INVALID, "inventory",
			     "field 'tftp_prefix': 'string' needs tftp_prefix_str=NAME");
		goto out_release_work;
	}
	for (size_t f = 0; f < PV_FACT_COUNT; f++) {
		enum pv_inventory_fact fact = (enum pv_inventory_fact)f;
		bool had = pv_inventory_record_has(target, fact);
		bool has = pv_inventory_record_has(&work, fact);
		const struct pv_inventory_record *other;

		if (had == has && (!has || fact_equal(target, &work, fact)))
			continue;
		if (!has) {
			memset(&work.seen[fact], 0, sizeof(work.seen[fact]));
			continue;
		}
		if (fact_rule(fact) != PV_UNIQUE_COUNT) {
			other = pv_inventory_clash(inv, &work, target, fact_rule(fact));
			if (other) {
				fact_text(&work, fact, text);
				pv_inventory_serial_text(other, other_serial);
				rc = pv_fail(PV_ERR_CONFLICT, "inventory",
					     "field '%s': '%s' already belongs to board '%s'",
					     pv_inventory_fact_name(fact), text, other_serial);
				goto out_release_work;
			}
		}
		work.seen[fact].source = PV_INVENTORY_SOURCE_MANUAL;
		work.seen[fact].first_seen = now;
		work.seen[fact].last_seen = now;
	}
	/* A new prefix (or MAC, under the mac prefix) may name another board's folder. */
	{
		const struct pv_inventory_record *other =
			pv_inventory_clash(inv, &work, target, PV_UNIQUE_TFTP_DIR);
		char clash[512];

		if (other) {
			pv_inventory_clash_text(PV_UNIQUE_TFTP_DIR, &work, other, clash,
						sizeof(clash));
			rc = pv_fail(PV_ERR_CONFLICT, "inventory", "%s", clash);
			goto out_release_work;
		}
	}
	pv_inventory_index_note(inv, target, &work, true);
	pv_inventory_record_release(target);
	*target = work;
	return PV_OK;

out_release_work:
	pv_inventory_record_release(&work);
	return rc;
}

struct upsert_call {
	const struct pv_inventory_record *rec;
	const struct pv_inventory_upsert_opts *opts;
	struct pv_inventory_report *report;
};

static int upsert_edit(struct pv_inventory *inv, void *user)
{
	struct upsert_call *call = user;

	return pv_inventory_merge(inv, call->rec, call->opts, call->report);
}

int pv_inventory_upsert(const char *path, const struct pv_inventory_record *rec,
			const struct pv_inventory_upsert_opts *opts,
			struct pv_inventory_report *report)
{
	struct pv_inventory_report local;
	struct upsert_call call = { rec, opts, report ? report : &local };
	int rc = pv_inventory_update(path, upsert_edit, &call);

	if (rc)
		call.report->changed = false;
	return rc;
}
