/* The inventory file: writing libconfig text (parse.c reads it), the lock
 * beside the file and the locked read-modify-write every writer goes through.
 * Format: docs/man/piprov-inventory.5. */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "inventory_internal.h"
#include "piprov/fileio.h"
#include "piprov/inventory.h"
#include "piprov/text.h"
#include "banned.h"

void pv_inventory_init(struct pv_inventory *inv)
{
	inv->records = NULL;
	inv->count = 0;
	inv->cap = 0;
	inv->index = NULL;
}

void pv_inventory_release(struct pv_inventory *inv)
{
	if (!inv)
		return;
	for (size_t i = 0; i < inv->count; i++)
		pv_inventory_record_release(&inv->records[i]);
	free(inv->records);
	pv_inventory_index_free(inv);
	pv_inventory_init(inv);
}

void pv_inventory_hint_huge(void *data, size_t size)
{
	const uintptr_t huge = (uintptr_t)2 << 20;
	uintptr_t start = ((uintptr_t)data + huge - 1) & ~(huge - 1);
	uintptr_t end = ((uintptr_t)data + size) & ~(huge - 1);

	/* Only for large buffers (measured here: 14 MiB fresh took 64 ms in 4 KiB pages, 8 ms
	 * in huge pages); for small ones compaction on fault would cost more. */
	if (size >= ((size_t)4 << 20) && end > start)
		madvise((void *)start, end - start, MADV_HUGEPAGE);
}

int pv_inventory_reserve(struct pv_inventory *inv, size_t records)
{
	struct pv_inventory_record *grown;

	if (records <= inv->cap)
		return PV_OK; /* a loaded file left room (and its index was sized for it) */
	grown = realloc(inv->records, records * sizeof(*grown));
	if (!grown)
		return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
	inv->records = grown;
	inv->cap = records;
	pv_inventory_hint_huge(grown, records * sizeof(*grown));
	pv_inventory_index_reserve(inv, records); /* sized once, not doubled record by record */
	return PV_OK;
}

/* Takes ownership of rec's allocations. */
int pv_inventory_append_record(struct pv_inventory *inv, struct pv_inventory_record *rec)
{
	if (inv->count == inv->cap) {
		size_t cap = inv->cap ? inv->cap * 2 : 64;
		struct pv_inventory_record *records = realloc(inv->records, cap * sizeof(*records));

		if (!records)
			return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
		inv->records = records;
		inv->cap = cap;
		pv_inventory_hint_huge(records, cap * sizeof(*records));
	}
	inv->records[inv->count++] = *rec;
	return PV_OK;
}

int pv_inventory_remove(struct pv_inventory *inv, struct pv_inventory_record *rec)
{
	size_t index = (size_t)(rec - inv->records);

	if (rec < inv->records || index >= inv->count)
		return pv_fail(PV_ERR_INVALID, "inventory", "record is not in this inventory");
	pv_inventory_index_free(inv); /* record numbers after it move */
	pv_inventory_record_release(rec);
	memmove(&inv->records[index], &inv->records[index + 1],
		(inv->count - index - 1) * sizeof(*rec));
	inv->count--;
	return PV_OK;
}

struct pv_inventory_record *pv_inventory_find_serial(struct pv_inventory *inv, uint64_t serial,
						     int digits)
{
	struct pv_inventory_record *rec;

	return pv_inventory_match_serial(inv, serial, digits, &rec) == 1 ? rec : NULL;
}

struct pv_inventory_record *pv_inventory_lookup(struct pv_inventory *inv, const char *key)
{
	uint64_t serial;
	uint8_t mac[6];
	int digits;

	if (pv_serial_parse(key, &serial, &digits) == PV_OK)
		return pv_inventory_find_serial(inv, serial, digits);
	if (pv_mac_parse(key, mac) == PV_OK)
		return pv_inventory_find_mac(inv, mac);
	for (size_t i = 0; i < inv->count; i++)
		if (strcmp(inv->records[i].hostname, key) == 0)
			return &inv->records[i];
	return NULL;
}

/* ---- writing ---- */

/* The record is formatted with plain stores into room reserved for its longest possible
 * text (record_text_max): saving 100,000 boards writes two million values, and a function
 * call with a bounds check per piece, or printf, was most of the time. */

/* A quoted libconfig string; at most 4 * strlen(s) + 2 bytes. */
static char *put_quoted(char *p, const char *s)
{
	*p++ = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != 0x7f && c != '"' && c != '\\') {
			*p++ = (char)c;
			continue;
		}
		*p++ = '\\';
		switch (c) {
		case '"': *p++ = '"'; break;
		case '\\': *p++ = '\\'; break;
		case '\n': *p++ = 'n'; break;
		case '\r': *p++ = 'r'; break;
		case '\t': *p++ = 't'; break;
		default:
			*p++ = 'x';
			p = pv_put_hex(p, c, 2);
		}
	}
	*p++ = '"';
	return p;
}

/* "    key = " */
static char *put_key(char *p, const char *key)
{
	p = PV_PUT_LIT(p, "    ");
	p = pv_put_str(p, key);
	return PV_PUT_LIT(p, " = ");
}

/* "    key = \"value\";\n" with value quoted. */
static char *put_string(char *p, const char *key, const char *value)
{
	p = put_quoted(put_key(p, key), value);
	return PV_PUT_LIT(p, ";\n");
}

static char *put_mac_setting(char *p, const char *key, const uint8_t mac[6])
{
	p = PV_PUT_LIT(put_key(p, key), "\"");
	p = pv_put_mac(p, mac, ':');
	return PV_PUT_LIT(p, "\";\n");
}

/* Most stamps in a file are equal (one capture sets many facts): format each value once. */
struct time_cache {
	int64_t t;
	char text[21];
	bool valid;
};

static const char *cached_time(struct time_cache *cache, int64_t t)
{
	if (!cache->valid || cache->t != t) {
		pv_inventory_format_time(t, cache->text);
		cache->t = t;
		cache->valid = true;
	}
	return cache->text;
}

/* Keys, punctuation, numbers and the seen group take less than 1,536 bytes; strings may
 * quadruple when escaped. */
static size_t record_text_max(const struct pv_inventory_record *rec)
{
	size_t max = 1536 + 4 * (sizeof(rec->uuid) + sizeof(rec->hostname) +
				 sizeof(rec->tftp_prefix_str) + sizeof(rec->config_hash) +
				 sizeof(rec->bootloader_version) + sizeof(rec->eeprom_hash));

	for (size_t i = 0; i < rec->n_tags; i++)
		max += 4 * strlen(rec->tags[i]) + 4;
	if (rec->notes)
		max += 4 * strlen(rec->notes) + 32;
	return max;
}

static char *put_record(char *p, const struct pv_inventory_record *rec,
			struct time_cache cache[2])
{
	char t1[21];

	p = PV_PUT_LIT(p, "  {\n    serial = \"");
	p = pv_inventory_put_serial(p, rec);
	p = PV_PUT_LIT(p, "\";\n");
	if (rec->has_mac)
		p = put_mac_setting(p, "mac", rec->mac);
	if (rec->has_wifi_mac)
		p = put_mac_setting(p, "wifi_mac", rec->wifi_mac);
	if (rec->has_bt_mac)
		p = put_mac_setting(p, "bt_mac", rec->bt_mac);
	if (rec->has_revision) {
		p = PV_PUT_LIT(p, "    board_revision = \"");
		p = pv_put_hex(p, rec->revision, 1);
		p = PV_PUT_LIT(p, "\";\n");
	}
	if (rec->uuid[0])
		p = put_string(p, "uuid", rec->uuid);
	if (rec->hostname[0])
		p = put_string(p, "hostname", rec->hostname);
	if (rec->has_ip) {
		p = PV_PUT_LIT(p, "    ip = \"");
		p = pv_put_ipv4(p, rec->ip);
		p = PV_PUT_LIT(p, "\";\n");
	}
	if (rec->has_tftp_prefix)
		p = put_string(p, "tftp_prefix", pv_tftp_prefix_name(rec->tftp_prefix));
	if (rec->tftp_prefix_str[0])
		p = put_string(p, "tftp_prefix_str", rec->tftp_prefix_str);
	if (rec->has_boot_order) {
		p = PV_PUT_LIT(p, "    boot_order = \"0x");
		p = pv_put_hex(p, rec->boot_order, 1);
		p = PV_PUT_LIT(p, "\";\n");
	}
	if (rec->config_hash[0])
		p = put_string(p, "config_hash", rec->config_hash);
	if (rec->bootloader_version[0])
		p = put_string(p, "bootloader_version", rec->bootloader_version);
	if (rec->bootloader_build_ts) {
		p = PV_PUT_LIT(p, "    bootloader_build_ts = ");
		p = pv_put_i64(p, rec->bootloader_build_ts);
		p = PV_PUT_LIT(p, ";\n");
	}
	if (rec->eeprom_hash[0])
		p = put_string(p, "eeprom_hash", rec->eeprom_hash);
	if (rec->flashed_at) {
		pv_inventory_format_time(rec->flashed_at, t1);
		p = put_string(p, "flashed_at", t1);
	}
	if (rec->n_tags) {
		p = PV_PUT_LIT(p, "    tags = [ ");
		for (size_t i = 0; i < rec->n_tags; i++) {
			if (i)
				p = PV_PUT_LIT(p, ", ");
			p = put_quoted(p, rec->tags[i]);
		}
		p = PV_PUT_LIT(p, " ];\n");
	}
	if (rec->notes)
		p = put_string(p, "notes", rec->notes);
	p = PV_PUT_LIT(p, "    seen = {\n");
	for (size_t f = 0; f < PV_FACT_COUNT; f++) {
		const struct pv_inventory_seen *seen = &rec->seen[f];

		if (seen->source == PV_INVENTORY_SOURCE_NONE)
			continue;
		/* [ source, first-seen ] when the fact was seen once, else also last-seen. */
		p = PV_PUT_LIT(p, "      ");
		p = pv_put_str(p, pv_inventory_fact_name((enum pv_inventory_fact)f));
		p = PV_PUT_LIT(p, " = [ \"");
		p = pv_put_str(p, pv_inventory_source_name(seen->source));
		p = PV_PUT_LIT(p, "\", \"");
		p = pv_put_str(p, cached_time(&cache[0], seen->first_seen));
		if (seen->first_seen != seen->last_seen) {
			p = PV_PUT_LIT(p, "\", \"");
			p = pv_put_str(p, cached_time(&cache[1], seen->last_seen));
		}
		p = PV_PUT_LIT(p, "\" ];\n");
	}
	return PV_PUT_LIT(p, "    };\n  }");
}

/* Writes the text in chunks through flush (when given), so saving 100,000 boards never
 * holds the whole file in memory nor grows one huge buffer (each regrowth of a buffer that
 * large costs a page-table move). */
#define SAVE_CHUNK ((size_t)256 << 10)

static int serialize_to(const struct pv_inventory *inv, struct pv_buf *out,
			int (*flush)(struct pv_buf *chunk, void *user), void *user)
{
	struct time_cache cache[2] = { { 0, "", false }, { 0, "", false } };
	int rc = pv_buf_appendf(out,
				"# piprov board inventory (see piprov-inventory(5)). Hand edits are "
				"fine;\n# keep one group per board and take the lock (piprov "
				"inventory set) while piprov runs.\nversion = %d;\nboards = (\n",
				PV_INVENTORY_FORMAT_VERSION);

	for (size_t i = 0; i < inv->count && !rc; i++) {
		const struct pv_inventory_record *rec = &inv->records[i];
		char *start, *p;

		rc = pv_buf_reserve(out, record_text_max(rec) + 2);
		if (rc)
			break;
		start = p = (char *)out->data + out->len;
		p = put_record(p, rec, cache);
		p = i + 1 < inv->count ? PV_PUT_LIT(p, ",\n") : PV_PUT_LIT(p, "\n");
		out->len += (size_t)(p - start);
		out->data[out->len] = '\0';
		if (flush && out->len >= SAVE_CHUNK) {
			rc = flush(out, user);
			pv_buf_reset(out);
		}
	}
	if (!rc)
		rc = pv_buf_append_str(out, ");\n");
	if (!rc && flush)
		rc = flush(out, user);
	if (rc == PV_ERR_NOMEM || rc == PV_ERR_TOO_BIG)
		return pv_fail(rc, "inventory", "cannot serialise the inventory: %s",
			       pv_strerror(rc));
	return rc;
}

int pv_inventory_serialize(const struct pv_inventory *inv, struct pv_buf *out)
{
	return serialize_to(inv, out, NULL, NULL);
}

static int flush_to_file(struct pv_buf *chunk, void *user)
{
	return chunk->len ? pv_atomic_write(user, chunk->data, chunk->len) : PV_OK;
}

int pv_inventory_save(const char *path, const struct pv_inventory *inv)
{
	struct pv_buf chunk = PV_BUF_INIT(SIZE_MAX);
	struct pv_atomic_file af;
	int rc;

	rc = pv_buf_reserve(&chunk, SAVE_CHUNK + 64 * 1024);
	if (rc)
		return pv_fail(rc, "inventory", "out of memory");
	rc = pv_atomic_open(&af, path, 0644);
	if (rc)
		goto out_release;
	rc = serialize_to(inv, &chunk, flush_to_file, &af);
	if (rc)
		pv_atomic_abort(&af);
	else
		rc = pv_atomic_commit(&af);
out_release:
	pv_buf_release(&chunk);
	return rc;
}

/* ---- locking ---- */

/* The lock beside the file a path resolves to: a writer through a symlink and one using the
 * real name take the same lock (the file written is the link's target, see fileio.h). */
static int lock_resolved(const char *resolved, struct pv_inventory_lock *lock)
{
	struct flock fl;
	char *lock_path;
	int fd, rc;

	if (asprintf(&lock_path, "%s.lock", resolved) < 0)
		return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
	fd = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = pv_fail_errno(errno, "inventory", "cannot open the lock file '%s'", lock_path);
		goto out_free_path;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	/* POSIX record locks (not flock) because NFS carries them through lockd/NLM. */
	while (fcntl(fd, F_SETLKW, &fl) < 0) {
		if (errno == EINTR)
			continue;
		rc = pv_fail_errno(errno, "inventory", "cannot lock '%s'", lock_path);
		close(fd);
		goto out_free_path;
	}
	lock->fd = fd;
	rc = PV_OK;
out_free_path:
	free(lock_path);
	return rc;
}

int pv_inventory_lock(const char *path, struct pv_inventory_lock *lock)
{
	char *resolved;
	int rc = pv_file_resolve_output(path, &resolved);

	if (rc)
		return rc;
	rc = lock_resolved(resolved, lock);
	free(resolved);
	return rc;
}

void pv_inventory_unlock(struct pv_inventory_lock *lock)
{
	if (lock->fd >= 0)
		close(lock->fd); /* closing releases the fcntl lock */
	lock->fd = -1;
}

/* Temporary files "<dir>/.<name>.XXXXXX" left by writers that were killed mid-save. Only
 * called with the lock held, when no other writer can have one open. */
static void remove_stale_temps(const char *path)
{
	char *copy = strdup(path), *copy2 = strdup(path), *dir_name, *base;
	size_t base_len;
	struct dirent *ent;
	DIR *dir;

	if (!copy || !copy2)
		goto out_free;
	dir_name = dirname(copy);
	base = basename(copy2);
	base_len = strlen(base);
	dir = opendir(dir_name);
	if (!dir)
		goto out_free;
	while ((ent = readdir(dir)) != NULL) {
		const char *n = ent->d_name;
		char *stale;

		if (n[0] != '.' || strlen(n) != base_len + 8 || strncmp(n + 1, base, base_len) != 0 ||
		    n[base_len + 1] != '.')
			continue;
		if (asprintf(&stale, "%s/%s", dir_name, n) < 0)
			break;
		if (unlink(stale) == 0)
			pv_log(PV_LOG_DEBUG, "inventory", "removed '%s' left by an interrupted writer",
			       stale);
		free(stale);
	}
	closedir(dir);
out_free:
	free(copy);
	free(copy2);
}

int pv_inventory_update(const char *path, pv_inventory_edit_fn fn, void *user)
{
	struct pv_inventory_lock lock;
	struct pv_inventory inv;
	char *resolved;
	int rc;

	/* Resolved once: the lock, the load and the rename all concern the same file. */
	rc = pv_file_resolve_output(path, &resolved);
	if (rc)
		return rc;
	rc = lock_resolved(resolved, &lock);
	if (rc)
		goto out_free_resolved;
	remove_stale_temps(resolved);
	rc = pv_inventory_load(resolved, &inv);
	if (rc)
		goto out_unlock; /* a file that does not parse is never overwritten */
	rc = fn(&inv, user);
	if (rc == PV_OK)
		rc = pv_inventory_save(resolved, &inv);
	else if (rc > 0)
		rc = PV_OK;
	pv_inventory_release(&inv);
out_unlock:
	pv_inventory_unlock(&lock);
out_free_resolved:
	free(resolved);
	return rc;
}
