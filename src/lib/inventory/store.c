/* The inventory file: libconfig text in, libconfig text out, the lock beside it and the
 * locked read-modify-write every writer goes through. Format: docs/man/piprov-inventory.5. */
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* ---- parsing ---- */

struct parse_ctx {
	const char *name;
};

static int field_error(const struct parse_ctx *ctx, const config_setting_t *setting,
		       const char *what)
{
	return pv_fail(PV_ERR_FORMAT, "inventory", "'%s': line %u: %s", ctx->name,
		       config_setting_source_line(setting), what);
}

/* Re-raise the last validation failure with the file and line in front. */
static int rewrap_error(const struct parse_ctx *ctx, const config_setting_t *setting)
{
	char detail[512];

	pv_strlcpy(detail, pv_last_error(), sizeof(detail));
	return field_error(ctx, setting, detail);
}

static int parse_seen(const struct parse_ctx *ctx, const config_setting_t *group,
		      struct pv_inventory_record *rec)
{
	char msg[300];

	if (!config_setting_is_group(group))
		return field_error(ctx, group, "'seen' must be a group { fact = [ ... ]; ... }");
	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *item = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(item);
		const char *parts[3];
		struct pv_inventory_seen seen;
		size_t fact;

		for (fact = 0; fact < PV_FACT_COUNT; fact++)
			if (strcmp(name, pv_inventory_fact_name((enum pv_inventory_fact)fact)) == 0)
				break;
		if (fact == PV_FACT_COUNT) {
			snprintf(msg, sizeof(msg), "'seen': unknown fact '%s'", name);
			return field_error(ctx, item, msg);
		}
		if (!config_setting_is_array(item) || config_setting_length(item) != 3) {
			snprintf(msg, sizeof(msg),
				 "'seen.%s' must be [ \"source\", \"first-seen\", \"last-seen\" ]",
				 name);
			return field_error(ctx, item, msg);
		}
		for (int k = 0; k < 3; k++) {
			parts[k] = config_setting_get_string_elem(item, k);
			if (!parts[k]) {
				snprintf(msg, sizeof(msg), "'seen.%s' must hold three strings", name);
				return field_error(ctx, item, msg);
			}
		}
		if (pv_inventory_source_parse(parts[0], &seen.source))
			return rewrap_error(ctx, item);
		if (pv_inventory_parse_time(parts[1], &seen.first_seen) ||
		    pv_inventory_parse_time(parts[2], &seen.last_seen)) {
			snprintf(msg, sizeof(msg),
				 "'seen.%s': times must look like 2026-11-25T04:27:40Z", name);
			return field_error(ctx, item, msg);
		}
		rec->seen[fact] = seen;
	}
	return PV_OK;
}

static int parse_board(const struct parse_ctx *ctx, const config_setting_t *board,
		       struct pv_inventory_record *rec)
{
	char msg[300], number[24];
	int rc;

	if (!config_setting_is_group(board))
		return field_error(ctx, board, "each board must be a group { ... }");
	for (int i = 0; i < config_setting_length(board); i++) {
		const config_setting_t *item = config_setting_get_elem(board, (unsigned)i);
		const char *name = config_setting_name(item);
		int type = config_setting_type(item);

		if (strcmp(name, "seen") == 0) {
			rc = parse_seen(ctx, item, rec);
		} else if (strcmp(name, "tags") == 0) {
			if (!config_setting_is_array(item) && !config_setting_is_list(item))
				return field_error(ctx, item, "'tags' must be [ \"tag\", ... ]");
			rc = PV_OK;
			for (int k = 0; k < config_setting_length(item) && !rc; k++) {
				const char *tag = config_setting_get_string_elem(item, k);
				if (!tag)
					return field_error(ctx, item, "'tags' must hold strings");
				rc = pv_inventory_record_add_tag(rec, tag);
			}
		} else if (strcmp(name, "bootloader_build_ts") == 0 &&
			   (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64)) {
			snprintf(number, sizeof(number), "%lld", config_setting_get_int64(item));
			rc = pv_inventory_record_set(rec, name, number);
		} else if (type == CONFIG_TYPE_STRING) {
			if (strcmp(name, "revision") == 0) {
				snprintf(msg, sizeof(msg), "unknown field '%s'", name);
				return field_error(ctx, item, msg);
			}
			rc = pv_inventory_record_set(rec, name, config_setting_get_string(item));
		} else {
			snprintf(msg, sizeof(msg), "field '%s' must be a quoted string", name);
			return field_error(ctx, item, msg);
		}
		if (rc)
			return rewrap_error(ctx, item);
	}
	if (rec->serial_digits == 0)
		return field_error(ctx, board, "board without a 'serial'");
	if (rec->has_tftp_prefix && rec->tftp_prefix == PV_TFTP_PREFIX_STRING &&
	    !rec->tftp_prefix_str[0])
		return field_error(ctx, board, "'tftp_prefix = \"string\"' needs 'tftp_prefix_str'");
	return PV_OK;
}

struct serial_line {
	uint64_t serial;
	int digits;
	unsigned line;
};

static int compare_serial_line(const void *a, const void *b)
{
	const struct serial_line *x = a, *y = b;

	if (x->serial != y->serial)
		return x->serial < y->serial ? -1 : 1;
	if (x->digits != y->digits)
		return x->digits < y->digits ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Sorting keeps this O(n log n): a 100,000-board file must load in well under a second. */
static int check_duplicates(const struct pv_inventory *inv, const unsigned *lines,
			    const char *name)
{
	struct serial_line *keys;
	int rc = PV_OK;

	if (inv->count < 2)
		return PV_OK;
	keys = malloc(inv->count * sizeof(*keys));
	if (!keys)
		return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
	for (size_t i = 0; i < inv->count; i++) {
		keys[i].serial = inv->records[i].serial;
		keys[i].digits = inv->records[i].serial_digits;
		keys[i].line = lines[i];
	}
	qsort(keys, inv->count, sizeof(*keys), compare_serial_line);
	for (size_t i = 1; i < inv->count; i++) {
		if (keys[i].serial == keys[i - 1].serial && keys[i].digits == keys[i - 1].digits) {
			char serial[17];

			pv_serial_format(keys[i].serial, keys[i].digits, serial);
			rc = pv_fail(PV_ERR_FORMAT, "inventory",
				     "'%s': line %u: serial '%s' is already used by the board at "
				     "line %u", name, keys[i].line, serial, keys[i - 1].line);
			break;
		}
	}
	free(keys);
	return rc;
}

/* libconfig's @include would make the loader read other files: the inventory never uses it. */
static int check_no_include(const char *text, size_t len, const char *name)
{
	unsigned line = 1;
	bool line_start = true;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c == '\0')
			return pv_fail(PV_ERR_FORMAT, "inventory", "'%s': line %u: NUL byte", name,
				       line);
		if (c == '\n') {
			line++;
			line_start = true;
		} else if (c == '@' && line_start) {
			return pv_fail(PV_ERR_FORMAT, "inventory",
				       "'%s': line %u: directives (@include) are not allowed", name,
				       line);
		} else if (c != ' ' && c != '\t' && c != '\r') {
			line_start = false;
		}
	}
	return PV_OK;
}

int pv_inventory_parse(const char *text, size_t len, const char *name, struct pv_inventory *inv)
{
	struct parse_ctx ctx = { name };
	struct pv_inventory parsed;
	config_setting_t *boards, *version;
	unsigned *lines = NULL;
	size_t n_boards;
	config_t cfg;
	char *copy;
	int rc;

	pv_inventory_init(&parsed);
	rc = check_no_include(text, len, name);
	if (rc)
		return rc;
	/* An empty file is an empty inventory (e.g. created with touch). */
	if (len == 0) {
		*inv = parsed;
		return PV_OK;
	}
	copy = strndup(text, len);
	if (!copy)
		return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
	config_init(&cfg);
	if (config_read_string(&cfg, copy) != CONFIG_TRUE) {
		rc = pv_fail(PV_ERR_FORMAT, "inventory", "'%s': line %d: %s", name,
			     config_error_line(&cfg),
			     config_error_text(&cfg) ? config_error_text(&cfg) : "syntax error");
		goto out_destroy;
	}
	version = config_lookup(&cfg, "version");
	if (!version) {
		rc = pv_fail(PV_ERR_FORMAT, "inventory", "'%s': no 'version = %d;' line", name,
			     PV_INVENTORY_FORMAT_VERSION);
		goto out_destroy;
	}
	if (config_setting_type(version) != CONFIG_TYPE_INT ||
	    config_setting_get_int(version) != PV_INVENTORY_FORMAT_VERSION) {
		rc = pv_fail(PV_ERR_FORMAT, "inventory",
			     "'%s': line %u: unsupported format version (this piprov reads %d)",
			     name, config_setting_source_line(version),
			     PV_INVENTORY_FORMAT_VERSION);
		goto out_destroy;
	}
	for (int i = 0; i < config_setting_length(config_root_setting(&cfg)); i++) {
		config_setting_t *top = config_setting_get_elem(config_root_setting(&cfg),
								(unsigned)i);
		const char *top_name = config_setting_name(top);
		if (strcmp(top_name, "version") != 0 && strcmp(top_name, "boards") != 0) {
			rc = pv_fail(PV_ERR_FORMAT, "inventory", "'%s': line %u: unknown setting '%s'",
				     name, config_setting_source_line(top), top_name);
			goto out_destroy;
		}
	}
	boards = config_lookup(&cfg, "boards");
	if (boards && !config_setting_is_list(boards)) {
		rc = pv_fail(PV_ERR_FORMAT, "inventory",
			     "'%s': line %u: 'boards' must be a list ( { ... }, ... )", name,
			     config_setting_source_line(boards));
		goto out_destroy;
	}
	n_boards = boards ? (size_t)config_setting_length(boards) : 0;
	lines = calloc(n_boards ? n_boards : 1, sizeof(*lines));
	if (!lines) {
		rc = pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
		goto out_destroy;
	}
	for (size_t i = 0; i < n_boards; i++) {
		config_setting_t *board = config_setting_get_elem(boards, (unsigned)i);
		struct pv_inventory_record rec;

		pv_inventory_record_init(&rec);
		rc = parse_board(&ctx, board, &rec);
		if (!rc)
			rc = pv_inventory_append_record(&parsed, &rec);
		if (rc) {
			pv_inventory_record_release(&rec);
			goto out_release;
		}
		lines[parsed.count - 1] = config_setting_source_line(board);
	}
	rc = check_duplicates(&parsed, lines, name);
	if (rc)
		goto out_release;
	*inv = parsed;
	rc = PV_OK;
	goto out_destroy;

out_release:
	pv_inventory_release(&parsed);
out_destroy:
	free(lines);
	config_destroy(&cfg);
	free(copy);
	return rc;
}

int pv_inventory_load(const char *path, struct pv_inventory *inv)
{
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX);
	int rc;

	rc = pv_file_read_raw(path, PV_INVENTORY_MAX_FILE_SIZE, &text);
	if (rc == PV_ERR_NOT_FOUND) {
		pv_clear_error();
		pv_inventory_init(inv);
		return PV_OK;
	}
	if (rc == PV_OK)
		rc = pv_inventory_parse((const char *)pv_buf_str(&text), text.len, path, inv);
	pv_buf_release(&text);
	return rc;
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

static int put_string(struct pv_buf *out, const char *key, const char *value)
{
	int rc = pv_buf_appendf(out, "    %s = ", key);

	if (!rc)
		rc = append_quoted(out, value);
	return rc ? rc : pv_buf_append(out, ";\n", 2);
}

static int serialize_record(const struct pv_inventory_record *rec, struct pv_buf *out)
{
	char text[PV_INVENTORY_HOSTNAME_MAX], t1[21], t2[21];
	int rc;

	pv_inventory_serial_text(rec, text);
	rc = pv_buf_appendf(out, "  {\n    serial = \"%s\";\n", text);
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
		pv_inventory_format_time(seen->first_seen, t1);
		pv_inventory_format_time(seen->last_seen, t2);
		rc = pv_buf_appendf(out, "      %s = [ \"%s\", \"%s\", \"%s\" ];\n",
				    pv_inventory_fact_name((enum pv_inventory_fact)f),
				    pv_inventory_source_name(seen->source), t1, t2);
	}
	if (!rc)
		rc = pv_buf_append_str(out, "    };\n  }");
	return rc;
}

int pv_inventory_serialize(const struct pv_inventory *inv, struct pv_buf *out)
{
	int rc = pv_buf_appendf(out,
				"# piprov board inventory (see piprov-inventory(5)). Hand edits are "
				"fine;\n# keep one group per board and take the lock (piprov "
				"inventory set) while piprov runs.\nversion = %d;\nboards = (\n",
				PV_INVENTORY_FORMAT_VERSION);

	for (size_t i = 0; i < inv->count && !rc; i++) {
		rc = serialize_record(&inv->records[i], out);
		if (!rc)
			rc = pv_buf_append_str(out, i + 1 < inv->count ? ",\n" : "\n");
	}
	if (!rc)
		rc = pv_buf_append_str(out, ");\n");
	if (rc)
		return pv_fail(rc, "inventory", "cannot serialise the inventory: %s",
			       pv_strerror(rc));
	return PV_OK;
}

int pv_inventory_save(const char *path, const struct pv_inventory *inv)
{
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX);
	int rc = pv_inventory_serialize(inv, &text);

	if (!rc)
		rc = pv_file_write_atomic(path, text.data ? text.data : (const unsigned char *)"",
					  text.len, 0644);
	pv_buf_release(&text);
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

int pv_inventory_update(const char *path, pv_inventory_edit_fn fn, void *user)
{
	struct pv_inventory_lock lock;
	struct pv_inventory inv;
	int rc;

	rc = pv_inventory_lock(path, &lock);
	if (rc)
		return rc;
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
