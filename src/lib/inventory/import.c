/* Import batches and the CSV importer (the columns of `export csv`, source manual). The
 * importers of what other modules capture (rpiboot metadata, piprov-node records, UART logs)
 * and the choice between them live in the record layer (src/lib/record/import.c), so the
 * inventory depends on no capture module. Every value goes through
 * pv_inventory_record_set(), so the same validation applies as for the inventory file;
 * failures name the file and the line, column or key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "inventory_internal.h"
#include "piprov/inventory_import.h"
#include "piprov/text.h"
#include "banned.h"

void pv_import_batch_init(struct pv_import_batch *batch)
{
	memset(batch, 0, sizeof(*batch));
}

void pv_import_batch_release(struct pv_import_batch *batch)
{
	if (!batch)
		return;
	for (size_t i = 0; i < batch->count; i++)
		pv_inventory_record_release(&batch->records[i]);
	free(batch->records);
	free(batch->sources);
	pv_import_batch_init(batch);
}

/* Room for `more` records in one allocation (realloc's copy of a growing array of 700-byte
 * records into fresh pages was the largest cost of a 100,000-row import). */
static int batch_reserve(struct pv_import_batch *batch, size_t more)
{
	struct pv_inventory_record *records;
	enum pv_inventory_source *sources;
	size_t cap;

	if (more > PV_IMPORT_MAX_RECORDS - batch->count)
		more = PV_IMPORT_MAX_RECORDS - batch->count;
	cap = batch->count + more;
	if (cap <= batch->cap)
		return PV_OK;
	records = realloc(batch->records, cap * sizeof(*records));
	if (!records)
		return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
	batch->records = records;
	pv_inventory_hint_huge(records, cap * sizeof(*records));
	sources = realloc(batch->sources, cap * sizeof(*sources));
	if (!sources)
		return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
	batch->sources = sources;
	batch->cap = cap;
	return PV_OK;
}

int pv_import_batch_add(struct pv_import_batch *batch, struct pv_inventory_record *rec,
			enum pv_inventory_source source)
{
	if (batch->count >= PV_IMPORT_MAX_RECORDS)
		return pv_fail(PV_ERR_TOO_BIG, "inventory", "more than %d records to import",
			       PV_IMPORT_MAX_RECORDS);
	if (batch->count == batch->cap) {
		int rc = batch_reserve(batch, batch->cap ? batch->cap : 16);

		if (rc)
			return rc;
	}
	batch->records[batch->count] = *rec;
	batch->sources[batch->count++] = source;
	return PV_OK;
}

static int rewrap(const char *name, const char *where)
{
	char detail[512];

	pv_strlcpy(detail, pv_last_error(), sizeof(detail));
	return pv_fail(PV_ERR_FORMAT, "inventory", "'%s': %s: %s", name, where, detail);
}

/* ---- CSV ---- */

#define CSV_MAX_COLUMNS 64
#define CSV_MAX_FIELD 4096

static const char *const csv_derived[] = { "serial8", "model", "memory", "tftp_dir" };

/* One RFC 4180 record starting at *pos; fields are NUL-terminated copies in storage. */
static int csv_record(const char *name, const char *text, size_t len, size_t *pos,
		      unsigned *line, struct pv_buf *storage, size_t offsets[CSV_MAX_COLUMNS],
		      size_t *n_fields)
{
	size_t p = *pos, n = 0, field_start;
	int rc;

	pv_buf_reset(storage);
	for (;;) {
		bool quoted = p < len && text[p] == '"';

		if (n == CSV_MAX_COLUMNS)
			return pv_fail(PV_ERR_FORMAT, "inventory", "'%s': line %u: more than %d "
				       "columns", name, *line, CSV_MAX_COLUMNS);
		offsets[n++] = storage->len;
		field_start = storage->len;
		if (quoted) {
			p++;
			for (;;) {
				if (p >= len)
					return pv_fail(PV_ERR_FORMAT, "inventory",
						       "'%s': line %u: unterminated quote", name,
						       *line);
				if (text[p] == '"' && p + 1 < len && text[p + 1] == '"') {
					rc = pv_buf_putc(storage, '"');
					p += 2;
				} else if (text[p] == '"') {
					p++;
					break;
				} else {
					if (text[p] == '\n')
						(*line)++;
					rc = pv_buf_putc(storage, text[p++]);
				}
				if (rc || storage->len - field_start > CSV_MAX_FIELD)
					return pv_fail(PV_ERR_FORMAT, "inventory",
						       "'%s': line %u: field too long", name, *line);
			}
		} else {
			size_t end = p;

			/* The field in one piece (a call per byte was most of an import). */
			while (end < len && text[end] != ',' && text[end] != '\n' &&
			       text[end] != '\r') {
				if (text[end] == '"')
					return pv_fail(PV_ERR_FORMAT, "inventory",
						       "'%s': line %u: quote inside an unquoted field",
						       name, *line);
				end++;
			}
			if (end - p > CSV_MAX_FIELD)
				return pv_fail(PV_ERR_FORMAT, "inventory",
					       "'%s': line %u: field too long", name, *line);
			if (pv_buf_append(storage, text + p, end - p))
				return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
			p = end;
		}
		if (pv_buf_putc(storage, '\0'))
			return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
		if (p < len && text[p] == ',') {
			p++;
			continue;
		}
		if (p < len && text[p] == '\r')
			p++;
		if (p < len && text[p] == '\n')
			p++;
		else if (p < len)
			return pv_fail(PV_ERR_FORMAT, "inventory",
				       "'%s': line %u: text after a closing quote", name, *line);
		break;
	}
	*pos = p;
	*n_fields = n;
	return PV_OK;
}

/* A byte-order mark: UTF-8's is dropped (spreadsheets write one), UTF-16's is named. */
static int csv_skip_bom(const char *name, const char *text, size_t len, size_t *pos)
{
	const unsigned char *u = (const unsigned char *)text;

	if (len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) {
		*pos = 3;
		return PV_OK;
	}
	if (len >= 2 && ((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff)))
		return pv_fail(PV_ERR_FORMAT, "inventory",
			       "'%s': UTF-16 text (byte-order mark %02X %02X): save it as UTF-8", name,
			       u[0], u[1]);
	return PV_OK;
}

/* The header row: each column's field (or -1 for a derived column, which is skipped); an
 * unknown or repeated column is an error naming it. */
static int csv_columns(const char *name, const struct pv_buf *header, const size_t *hoff,
		       size_t n_cols, int fields[CSV_MAX_COLUMNS])
{
	for (size_t c = 0; c < n_cols; c++) {
		const char *col = (const char *)header->data + hoff[c];
		bool derived = false;

		for (size_t i = 0; i < PV_ARRAY_SIZE(csv_derived); i++)
			derived |= strcmp(col, csv_derived[i]) == 0;
		fields[c] = derived ? -1 : pv_inventory_field_lookup(col, strlen(col), false);
		if (!derived && (fields[c] < 0 || fields[c] == PV_FIELD_SEEN))
			return pv_fail(PV_ERR_FORMAT, "inventory", "'%s': line 1: unknown column '%s'",
				       name, col);
		for (size_t d = 0; d < c; d++)
			if (strcmp(col, (const char *)header->data + hoff[d]) == 0)
				return pv_fail(PV_ERR_FORMAT, "inventory",
					       "'%s': line 1: column '%s' appears twice (columns "
					       "%zu and %zu)", name, col, d + 1, c + 1);
	}
	return PV_OK;
}

int pv_inventory_import_csv(const char *name, const char *text, size_t len,
		      struct pv_import_batch *batch)
{
	struct pv_buf header = PV_BUF_INIT(SIZE_MAX), row = PV_BUF_INIT(SIZE_MAX);
	size_t hoff[CSV_MAX_COLUMNS], roff[CSV_MAX_COLUMNS], n_cols, n_fields, pos = 0;
	int fields[CSV_MAX_COLUMNS];
	unsigned line = 1, row_line;
	int rc;

	rc = csv_skip_bom(name, text, len, &pos);
	if (!rc)
		rc = csv_record(name, text, len, &pos, &line, &header, hoff, &n_cols);
	if (!rc)
		rc = csv_columns(name, &header, hoff, n_cols, fields);
	if (rc)
		goto out_release;
	line++;
	{
		/* At most one record per line. */
		size_t lines = 0;

		for (const char *nl = text + pos; (nl = memchr(nl, '\n', len - (size_t)(nl - text)));
		     nl++)
			lines++;
		rc = batch_reserve(batch, lines + 1);
		if (rc)
			goto out_release;
	}
	while (pos < len) {
		struct pv_inventory_record rec;
		size_t before = pos;

		row_line = line;
		rc = csv_record(name, text, len, &pos, &line, &row, roff, &n_fields);
		line++;
		if (rc)
			goto out_release;
		if (pos <= before) {
			/* Every record consumes text; a parser that did not would loop here. */
			rc = pv_fail(PV_ERR_FORMAT, "inventory", "'%s': line %u: unreadable", name,
				     row_line);
			goto out_release;
		}
		if (n_fields == 1 && ((const char *)row.data)[0] == '\0')
			continue; /* blank line */
		if (n_fields != n_cols) {
			rc = pv_fail(PV_ERR_FORMAT, "inventory",
				     "'%s': line %u: %zu fields, the header has %zu", name, row_line,
				     n_fields, n_cols);
			goto out_release;
		}
		pv_inventory_record_init(&rec);
		for (size_t c = 0; c < n_cols && !rc; c++) {
			char *value = (char *)row.data + roff[c];

			if (fields[c] < 0)
				continue;
			/* Tags in a CSV cell are separated by ';' (',' is the column separator). */
			if (fields[c] == PV_FIELD_TAGS)
				for (char *t = value; *t; t++)
					if (*t == ';')
						*t = ',';
			if (pv_inventory_record_set_field(&rec, (enum pv_inventory_field)fields[c],
							  value)) {
				char where[96];
				snprintf(where, sizeof(where), "line %u", row_line);
				rc = rewrap(name, where);
			}
		}
		if (!rc && rec.serial_digits == 0)
			rc = pv_fail(PV_ERR_FORMAT, "inventory", "'%s': line %u: no serial", name,
				     row_line);
		if (!rc)
			rc = pv_import_batch_add(batch, &rec, PV_INVENTORY_SOURCE_MANUAL);
		if (rc) {
			pv_inventory_record_release(&rec);
			goto out_release;
		}
	}
out_release:
	pv_buf_release(&header);
	pv_buf_release(&row);
	return rc;
}
