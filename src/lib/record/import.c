/* Importers of captures into records, and the choice of importer by content: rpiboot
 * metadata JSON (source usb), piprov record JSON (as piprov-node emits it; source node), UART
 * logs through the UART parser (source uart); CSV goes to the inventory's own importer.
 * Every value goes through pv_inventory_record_set(), so the same validation applies as for
 * the inventory file; failures name the file and the line, column or key. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "piprov/fileio.h"
#include "piprov/inventory_import.h"
#include "piprov/record.h"
#include "piprov/text.h"
#include "piprov/uart.h"
#include "banned.h"

const char *pv_import_kind_name(enum pv_import_kind kind)
{
	switch (kind) {
	case PV_IMPORT_METADATA_JSON: return "rpiboot metadata";
	case PV_IMPORT_RECORD_JSON: return "piprov record JSON";
	case PV_IMPORT_CSV: return "CSV";
	case PV_IMPORT_UART: return "UART log";
	case PV_IMPORT_AUTO: break;
	}
	return "auto";
}

static int rewrap(const char *name, const char *where)
{
	char detail[512];

	pv_strlcpy(detail, pv_last_error(), sizeof(detail));
	return pv_fail(PV_ERR_FORMAT, "inventory", "'%s': %s: %s", name, where, detail);
}

/* ---- rpiboot metadata ---- */

static const struct {
	const char *key;   /* rpiboot -j key */
	const char *field; /* inventory field */
} metadata_keys[] = {
	{ "USER_SERIAL_NUM", "serial" },   { "MAC_ADDR", "mac" },
	{ "MAC_WIFI_ADDR", "wifi_mac" },   { "MAC_BT_ADDR", "bt_mac" },
	{ "USER_BOARDREV", "board_revision" }, { "FACTORY_UUID", "uuid" },
	{ "EEPROM_HASH", "eeprom_hash" },
};

static bool looks_like_metadata(json_t *obj)
{
	for (size_t i = 0; i < PV_ARRAY_SIZE(metadata_keys); i++)
		if (json_object_get(obj, metadata_keys[i].key))
			return true;
	return json_object_get(obj, "EEPROM_UPDATE") || json_object_get(obj, "BOOT_ROM");
}

static int import_metadata(const char *name, json_t *obj, struct pv_import_batch *batch)
{
	struct pv_inventory_record rec;
	char *copy = strdup(name), *base, *dot;
	char where[64];
	int rc = PV_OK;

	if (!copy)
		return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
	pv_inventory_record_init(&rec);
	for (size_t i = 0; i < PV_ARRAY_SIZE(metadata_keys) && !rc; i++) {
		json_t *value = json_object_get(obj, metadata_keys[i].key);

		if (!value || json_is_null(value))
			continue;
		snprintf(where, sizeof(where), "key '%s'", metadata_keys[i].key);
		if (!json_is_string(value)) {
			rc = pv_fail(PV_ERR_FORMAT, "inventory", "'%s': %s is not a string", name,
				     where);
			break;
		}
		if (pv_inventory_record_set(&rec, metadata_keys[i].field, json_string_value(value)))
			rc = rewrap(name, where);
	}
	/* The 2711 recovery firmware reports no serial: rpiboot names the file after it. */
	if (!rc && rec.serial_digits == 0) {
		base = basename(copy);
		dot = strrchr(base, '.');
		if (dot)
			*dot = '\0';
		if (pv_inventory_record_set_serial(&rec, base))
			rc = pv_fail(PV_ERR_FORMAT, "inventory",
				     "'%s': no USER_SERIAL_NUM and the file name is not "
				     "<serial>.json", name);
	}
	if (!rc) {
		rc = pv_import_batch_add(batch, &rec, PV_INVENTORY_SOURCE_USB);
		if (!rc)
			pv_inventory_record_init(&rec);
	}
	pv_inventory_record_release(&rec);
	free(copy);
	return rc;
}

/* ---- piprov record JSON ---- */

static const char *const derived_keys[] = {
	"serial8", "model", "memory", "soc", "manufacturer", "tftp_dir", "sources", "source",
};

static int import_record_object(const char *name, size_t index, json_t *obj,
				struct pv_import_batch *batch)
{
	enum pv_inventory_source source = PV_INVENTORY_SOURCE_NODE;
	struct pv_inventory_record rec;
	const char *key;
	json_t *value;
	char where[128], number[24];
	int rc = PV_OK;

	if (!json_is_object(obj))
		return pv_fail(PV_ERR_FORMAT, "inventory", "'%s': record %zu is not an object", name,
			       index + 1);
	value = json_object_get(obj, "source");
	if (json_is_string(value) && pv_inventory_source_parse(json_string_value(value), &source))
		return rewrap(name, "key 'source'");
	pv_inventory_record_init(&rec);
	json_object_foreach(obj, key, value) {
		bool derived = false;

		for (size_t i = 0; i < PV_ARRAY_SIZE(derived_keys); i++)
			derived |= strcmp(key, derived_keys[i]) == 0;
		if (derived || json_is_null(value))
			continue;
		snprintf(where, sizeof(where), "record %zu: key '%.64s'", index + 1, key);
		if (strcmp(key, "tags") == 0 && json_is_array(value)) {
			size_t i;
			json_t *tag;

			json_array_foreach(value, i, tag) {
				if (!json_is_string(tag) ||
				    pv_inventory_record_add_tag(&rec, json_string_value(tag))) {
					rc = json_is_string(tag) ? rewrap(name, where)
								 : pv_fail(PV_ERR_FORMAT, "inventory",
									   "'%s': %s: tags are strings",
									   name, where);
					break;
				}
			}
		} else if (json_is_integer(value)) {
			snprintf(number, sizeof(number), "%lld", (long long)json_integer_value(value));
			if (pv_inventory_record_set(&rec, key, number))
				rc = rewrap(name, where);
		} else if (json_is_string(value)) {
			if (pv_inventory_record_set(&rec, key, json_string_value(value)))
				rc = rewrap(name, where);
		} else {
			rc = pv_fail(PV_ERR_FORMAT, "inventory", "'%s': %s has the wrong type", name,
				     where);
		}
		if (rc)
			break;
	}
	if (!rc && rec.serial_digits == 0)
		rc = pv_fail(PV_ERR_FORMAT, "inventory", "'%s': record %zu has no 'serial'", name,
			     index + 1);
	if (!rc) {
		rc = pv_import_batch_add(batch, &rec, source);
		if (!rc)
			pv_inventory_record_init(&rec);
	}
	pv_inventory_record_release(&rec);
	return rc;
}

static int import_json(const char *name, const char *text, size_t len, enum pv_import_kind kind,
		       struct pv_import_batch *batch)
{
	json_error_t error;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
	int rc = PV_OK;

	if (!root)
		return pv_fail(PV_ERR_FORMAT, "inventory", "'%s': line %d: %s", name, error.line,
			       error.text);
	if (json_is_object(root) &&
	    (kind == PV_IMPORT_METADATA_JSON || (kind == PV_IMPORT_AUTO && looks_like_metadata(root))))
		rc = import_metadata(name, root, batch);
	else if (json_is_object(root))
		rc = import_record_object(name, 0, root, batch);
	else if (json_is_array(root)) {
		size_t i;
		json_t *item;

		json_array_foreach(root, i, item) {
			rc = import_record_object(name, i, item, batch);
			if (rc)
				break;
		}
	} else {
		rc = pv_fail(PV_ERR_FORMAT, "inventory", "'%s': expected a JSON object or array",
			     name);
	}
	json_decref(root);
	return rc;
}

/* ---- UART logs ---- */

static int import_uart(const char *name, const char *text, size_t len,
		       struct pv_import_batch *batch)
{
	struct pv_uart_report report;
	struct pv_inventory_record rec;
	int rc = pv_uart_parse_buffer(text, len, &report);

	if (rc)
		return rewrap(name, "UART log");
	rc = pv_record_from_uart(&report, &rec);
	if (rc)
		return rewrap(name, "UART log");
	rc = pv_import_batch_add(batch, &rec, PV_INVENTORY_SOURCE_UART);
	if (rc)
		pv_inventory_record_release(&rec);
	return rc;
}

static bool has_suffix(const char *name, const char *suffix)
{
	size_t len = strlen(name), n = strlen(suffix);

	return len > n && strcmp(name + len - n, suffix) == 0;
}

/* What no importer reads, named for what it is: UTF-16 (a spreadsheet's "Unicode text"),
 * an empty file. A UTF-8 byte-order mark is skipped (*skip = 3). */
static int check_shape(const char *name, const char *text, size_t len, size_t *skip)
{
	const unsigned char *u = (const unsigned char *)text;
	size_t i;

	*skip = 0;
	if (len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf)
		*skip = 3;
	else if (len >= 2 && ((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff)))
		return pv_fail(PV_ERR_FORMAT, "inventory",
			       "'%s': UTF-16 text (byte-order mark %02X %02X): save it as UTF-8",
			       name, u[0], u[1]);
	for (i = *skip; i < len && text[i] && strchr(" \t\r\n", text[i]); i++)
		;
	if (i == len)
		return pv_fail(PV_ERR_FORMAT, "inventory", "'%s': empty file (%s): nothing to import",
			       name, len ? "only blanks" : "0 bytes");
	return PV_OK;
}

/* A NUL byte: binary data, which no text format holds (a UART log may carry line noise,
 * so there this is only used to explain a parse that failed). */
static int refuse_binary(const char *name, const char *text, size_t len, const char *what)
{
	const char *nul = memchr(text, 0, len);

	if (!nul)
		return PV_OK;
	return pv_fail(PV_ERR_FORMAT, "inventory", "'%s': binary data (a NUL byte at offset %zu), "
		       "not %s", name, (size_t)(nul - text), what);
}

static enum pv_import_kind detect(const char *name, const char *text, size_t len)
{
	size_t i = 0;
	const char *nl;

	if (has_suffix(name, ".json"))
		return PV_IMPORT_RECORD_JSON; /* refined by the keys */
	if (has_suffix(name, ".csv"))
		return PV_IMPORT_CSV;

	while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
		i++;
	if (i < len && (text[i] == '{' || text[i] == '['))
		return PV_IMPORT_RECORD_JSON; /* refined by the keys */
	nl = memchr(text, '\n', len);
	if (len >= 6 && strncmp(text, "serial", 6) == 0 && memchr(text, ',', nl ? (size_t)(nl - text) : len))
		return PV_IMPORT_CSV;
	return PV_IMPORT_UART;
}

int pv_record_import_text(const char *name, const char *text, size_t len,
			     enum pv_import_kind kind, struct pv_import_batch *batch)
{
	enum pv_import_kind actual;
	size_t skip;
	int rc = check_shape(name, text, len, &skip);

	if (rc)
		return rc;
	text += skip;
	len -= skip;
	actual = kind == PV_IMPORT_AUTO ? detect(name, text, len) : kind;
	switch (actual) {
	case PV_IMPORT_METADATA_JSON:
	case PV_IMPORT_RECORD_JSON:
		rc = refuse_binary(name, text, len, "JSON");
		return rc ? rc : import_json(name, text, len, kind, batch);
	case PV_IMPORT_CSV:
		rc = refuse_binary(name, text, len, "CSV");
		return rc ? rc : pv_inventory_import_csv(name, text, len, batch);
	case PV_IMPORT_UART:
	case PV_IMPORT_AUTO:
		break;
	}
	rc = import_uart(name, text, len, batch);
	if (rc && refuse_binary(name, text, len, "a UART log, JSON or CSV"))
		rc = PV_ERR_FORMAT;
	return rc;
}

static int import_file(const char *path, enum pv_import_kind kind, struct pv_import_batch *batch)
{
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX);
	int rc = pv_file_read(path, PV_IMPORT_MAX_FILE_SIZE, &text);

	if (!rc)
		rc = pv_record_import_text(path, (const char *)pv_buf_str(&text), text.len, kind,
					      batch);
	pv_buf_release(&text);
	return rc;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool importable_name(const char *name)
{
	static const char *const suffixes[] = { ".json", ".csv", ".log", ".txt" };
	size_t len = strlen(name);

	if (name[0] == '.')
		return false;
	for (size_t i = 0; i < PV_ARRAY_SIZE(suffixes); i++) {
		size_t n = strlen(suffixes[i]);
		if (len > n && strcmp(name + len - n, suffixes[i]) == 0)
			return true;
	}
	return false;
}

/* Drop the records a failed file had already added (a JSON array fails at item k). */
static void batch_truncate(struct pv_import_batch *batch, size_t count)
{
	while (batch->count > count)
		pv_inventory_record_release(&batch->records[--batch->count]);
}

struct each {
	pv_import_failed_fn failed; /* NULL: the first failure ends the import */
	void *user;
	size_t *failures;
};

static int import_entry(const char *path, enum pv_import_kind kind,
			struct pv_import_batch *batch, const struct each *each)
{
	size_t before = batch->count;
	int rc = import_file(path, kind, batch);

	if (rc == PV_OK || !each->failed || rc == PV_ERR_NOMEM ||
	    batch->count >= PV_IMPORT_MAX_RECORDS)
		return rc;
	batch_truncate(batch, before);
	each->failed(each->user, path, rc, pv_last_error());
	pv_clear_error();
	(*each->failures)++;
	return PV_OK;
}

static int import_path(const char *path, enum pv_import_kind kind,
		       struct pv_import_batch *batch, const struct each *each)
{
	struct stat st;
	struct dirent *ent;
	char **names = NULL;
	size_t count = 0;
	DIR *dir;
	int rc = PV_OK;

	if (strcmp(path, "-") == 0 || stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return import_entry(path, kind, batch, each);
	dir = opendir(path);
	if (!dir)
		return pv_fail_errno(errno, "inventory", "cannot read '%s'", path);
	/* Sorted, so repeated imports of a folder merge in the same order. */
	while ((ent = readdir(dir)) != NULL) {
		char **grown, *full;

		if (!importable_name(ent->d_name))
			continue;
		grown = realloc(names, (count + 1) * sizeof(*names));
		if (!grown || asprintf(&full, "%s/%s", path, ent->d_name) < 0) {
			if (grown)
				names = grown;
			rc = pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
			break;
		}
		names = grown;
		names[count++] = full;
	}
	closedir(dir);
	if (!rc)
		qsort(names, count, sizeof(*names), compare_names);
	for (size_t i = 0; i < count && !rc; i++)
		rc = import_entry(names[i], kind, batch, each);
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	return rc;
}

int pv_record_import_path(const char *path, enum pv_import_kind kind,
			  struct pv_import_batch *batch)
{
	const struct each first_failure_ends = { NULL, NULL, NULL };

	return import_path(path, kind, batch, &first_failure_ends);
}

int pv_record_import_path_each(const char *path, enum pv_import_kind kind,
			       struct pv_import_batch *batch, pv_import_failed_fn failed,
			       void *user, size_t *failures)
{
	const struct each each = { failed, user, failures };

	return import_path(path, kind, batch, &each);
}
