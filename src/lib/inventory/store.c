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
}

void pv_inventory_release(struct pv_inventory *inv)
{
	if (!inv)
		return;
	for (size_t i = 0; i < inv->count; i++)
		pv_inventory_record_release(&inv->records[i]);
	free(inv->records);
	pv_inventory_init(inv);
}

void pv_inventory_hint_huge(void *data, size_t size)
{
	const uintptr_t huge = (uintptr_t)2 << 20;
	uintptr_t start = ((uintptr_t)data + huge - 1) & ~(huge - 1);
	uintptr_t end = ((uintptr_t)data + size) & ~(huge - 1);

	/* Only for big inventories: for small ones compaction on fault would cost more. */
	if (size >= ((size_t)32 << 20) && end > start)
		madvise((void *)start, end - start, MADV_HUGEPAGE);
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
	}
	inv->records[inv->count++] = *rec;
	return PV_OK;
}

int pv_inventory_remove(struct pv_inventory *inv, struct pv_inventory_record *rec)
{
	size_t index = (size_t)(rec - inv->records);

	if (rec < inv->records || index >= inv->count)
		return pv_fail(PV_ERR_INVALID, "inventory", "record is not in this inventory");
	pv_inventory_record_release(rec);
	memmove(&inv->records[index], &inv->records[index + 1],
		(inv->count - index - 1) * sizeof(*rec));
	inv->count--;
	return PV_OK;
}

static bool serial_matches(const struct pv_inventory_record *rec, uint64_t serial, int digits)
{
	if (digits == 16 && rec->serial_digits == 16)
		return rec->serial == serial;
	return (uint32_t)rec->serial == (uint32_t)serial;
}

/* Number of records the serial matches; *first gets the first. */
size_t pv_inventory_match_serial(struct pv_inventory *inv, uint64_t serial, int digits,
				 struct pv_inventory_record **first)
{
	size_t n = 0;

	*first = NULL;
	for (size_t i = 0; i < inv->count; i++) {
		struct pv_inventory_record *rec = &inv->records[i];

		if (!serial_matches(rec, serial, digits))
			continue;
		/* An exact 16-digit match wins over 8-digit partial ones. */
		if (digits == 16 && rec->serial_digits == 16) {
			*first = rec;
			return 1;
		}
		if (n++ == 0)
			*first = rec;
	}
	return n;
}

struct pv_inventory_record *pv_inventory_find_serial(struct pv_inventory *inv, uint64_t serial,
						     int digits)
{
	struct pv_inventory_record *rec;

	return pv_inventory_match_serial(inv, serial, digits, &rec) == 1 ? rec : NULL;
}

struct pv_inventory_record *pv_inventory_find_mac(struct pv_inventory *inv, const uint8_t mac[6])
{
	for (size_t i = 0; i < inv->count; i++)
		if (inv->records[i].has_mac && memcmp(inv->records[i].mac, mac, 6) == 0)
			return &inv->records[i];
	return NULL;
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

static int append_quoted(struct pv_buf *out, const char *s)
{
	int rc = pv_buf_putc(out, '"');

	for (; *s && !rc; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '"': rc = pv_buf_append(out, "\\\"", 2); break;
		case '\\': rc = pv_buf_append(out, "\\\\", 2); break;
		case '\n': rc = pv_buf_append(out, "\\n", 2); break;
		case '\r': rc = pv_buf_append(out, "\\r", 2); break;
		case '\t': rc = pv_buf_append(out, "\\t", 2); break;
		default:
			if (c < 0x20 || c == 0x7f)
				rc = pv_buf_appendf(out, "\\x%02x", c);
			else
				rc = pv_buf_putc(out, (int)c);
		}
	}
	return rc ? rc : pv_buf_putc(out, '"');
}

/* Plain appends, not printf: saving 100,000 boards formats a million lines. */
static int put_parts(struct pv_buf *out, const char *const *parts, size_t n)
{
	int rc = PV_OK;

	for (size_t i = 0; i < n && !rc; i++)
		rc = pv_buf_append_str(out, parts[i]);
	return rc;
}

static int put_string(struct pv_buf *out, const char *key, const char *value)
{
	const char *head[] = { "    ", key, " = " };
	int rc = put_parts(out, head, 3);

	if (!rc)
		rc = append_quoted(out, value);
	return rc ? rc : pv_buf_append(out, ";\n", 2);
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

static int serialize_record(const struct pv_inventory_record *rec, struct pv_buf *out,
			    struct time_cache cache[2])
{
	char text[PV_INVENTORY_HOSTNAME_MAX], t1[21];
	int rc;

	pv_inventory_serial_text(rec, text);
	{
		const char *parts[] = { "  {\n    serial = \"", text, "\";\n" };
		rc = put_parts(out, parts, 3);
	}
	if (!rc && rec->has_mac) {
		pv_mac_format(rec->mac, ':', text);
		rc = put_string(out, "mac", text);
	}
	if (!rc && rec->has_wifi_mac) {
		pv_mac_format(rec->wifi_mac, ':', text);
		rc = put_string(out, "wifi_mac", text);
	}
	if (!rc && rec->has_bt_mac) {
		pv_mac_format(rec->bt_mac, ':', text);
		rc = put_string(out, "bt_mac", text);
	}
	if (!rc && rec->has_revision)
		rc = pv_buf_appendf(out, "    board_revision = \"%x\";\n", rec->revision);
	if (!rc && rec->uuid[0])
		rc = put_string(out, "uuid", rec->uuid);
	if (!rc && rec->hostname[0])
		rc = put_string(out, "hostname", rec->hostname);
	if (!rc && rec->has_ip) {
		pv_ipv4_format(rec->ip, text);
		rc = put_string(out, "ip", text);
	}
	if (!rc && rec->has_tftp_prefix)
		rc = put_string(out, "tftp_prefix", pv_tftp_prefix_name(rec->tftp_prefix));
	if (!rc && rec->tftp_prefix_str[0])
		rc = put_string(out, "tftp_prefix_str", rec->tftp_prefix_str);
	if (!rc && rec->has_boot_order)
		rc = pv_buf_appendf(out, "    boot_order = \"0x%x\";\n", rec->boot_order);
	if (!rc && rec->config_hash[0])
		rc = put_string(out, "config_hash", rec->config_hash);
	if (!rc && rec->bootloader_version[0])
		rc = put_string(out, "bootloader_version", rec->bootloader_version);
	if (!rc && rec->bootloader_build_ts)
		rc = pv_buf_appendf(out, "    bootloader_build_ts = %lld;\n",
				    (long long)rec->bootloader_build_ts);
	if (!rc && rec->eeprom_hash[0])
		rc = put_string(out, "eeprom_hash", rec->eeprom_hash);
	if (!rc && rec->flashed_at) {
		pv_inventory_format_time(rec->flashed_at, t1);
		rc = put_string(out, "flashed_at", t1);
	}
	if (!rc && rec->n_tags) {
		rc = pv_buf_append_str(out, "    tags = [ ");
		for (size_t i = 0; i < rec->n_tags && !rc; i++) {
			rc = append_quoted(out, rec->tags[i]);
			if (!rc)
				rc = pv_buf_append_str(out, i + 1 < rec->n_tags ? ", " : " ];\n");
		}
	}
	if (!rc && rec->notes)
		rc = put_string(out, "notes", rec->notes);
	if (!rc)
		rc = pv_buf_append_str(out, "    seen = {\n");
	for (size_t f = 0; f < PV_FACT_COUNT && !rc; f++) {
		const struct pv_inventory_seen *seen = &rec->seen[f];

		if (seen->source == PV_INVENTORY_SOURCE_NONE)
			continue;
		/* [ source, first-seen ] when the fact was seen once, else also last-seen. */
		{
			bool once = seen->first_seen == seen->last_seen;
			const char *parts[] = {
				"      ", pv_inventory_fact_name((enum pv_inventory_fact)f), " = [ \"",
				pv_inventory_source_name(seen->source), "\", \"",
				cached_time(&cache[0], seen->first_seen), once ? "" : "\", \"",
				once ? "" : cached_time(&cache[1], seen->last_seen), "\" ];\n",
			};
			rc = put_parts(out, parts, PV_ARRAY_SIZE(parts));
		}
	}
	if (!rc)
		rc = pv_buf_append_str(out, "    };\n  }");
	return rc;
}

/* Writes the text in chunks through flush (when given), so saving 100,000 boards never
 * holds the whole file in memory nor grows one huge buffer (each regrowth of a buffer that
 * large costs a page-table move). */
#define SAVE_CHUNK ((size_t)64 << 10)

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
		rc = serialize_record(&inv->records[i], out, cache);
		if (!rc)
			rc = pv_buf_append_str(out, i + 1 < inv->count ? ",\n" : "\n");
		if (!rc && flush && out->len >= SAVE_CHUNK) {
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

	rc = pv_buf_reserve(&chunk, SAVE_CHUNK + 16 * 1024);
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

int pv_inventory_lock(const char *path, struct pv_inventory_lock *lock)
{
	struct flock fl;
	char *lock_path;
	int fd, rc;

	if (asprintf(&lock_path, "%s.lock", path) < 0)
		return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
	fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
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
	int rc;

	rc = pv_inventory_lock(path, &lock);
	if (rc)
		return rc;
	remove_stale_temps(path);
	rc = pv_inventory_load(path, &inv);
	if (rc)
		goto out_unlock; /* a file that does not parse is never overwritten */
	rc = fn(&inv, user);
	if (rc == PV_OK)
		rc = pv_inventory_save(path, &inv);
	else if (rc > 0)
		rc = PV_OK;
	pv_inventory_release(&inv);
out_unlock:
	pv_inventory_unlock(&lock);
	return rc;
}
