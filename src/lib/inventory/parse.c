/* The inventory file reader: a streaming parser for the libconfig syntax the file uses, which
 * fills records as it reads instead of building libconfig's setting tree.
 *
 * Why not config_read_string(): measured on 100,000 boards (bench/inventory), libconfig
 * spends about 1 µs per setting building and freeing its tree, i.e. several seconds per
 * load, against a goal of one second for load + upsert + export. The file stays plain
 * libconfig (the unit tests and the fuzz target check that libconfig accepts everything
 * this parser accepts): comments (#, //, / * * /), '=' or ':', ';' or ',' or nothing after a
 * setting, adjacent strings concatenated, escapes \" \\ \n \r \t \f \xNN, decimal or hex
 * integers with an optional L suffix. Directives (@include) are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "inventory_internal.h"
#include "piprov/inventory.h"
#include "piprov/text.h"
#include "banned.h"

#define MAX_STRING 8192 /* longest string value (notes are at most 4095 bytes) */

enum token_type {
	TOK_END = 0,
	TOK_NAME,
	TOK_STRING,
	TOK_INT,
	TOK_OTHER_SCALAR, /* float, boolean: valid libconfig, never valid in this schema */
	TOK_PUNCT,
};

struct lexer {
	const char *p, *end;
	const char *file;
	unsigned line;
	struct pv_buf str; /* decoded value of the last TOK_STRING */
	/* current token */
	enum token_type type;
	char punct;
	const char *name;
	size_t name_len;
	long long integer;
	unsigned tok_line;
	/* last time stamp parsed */
	bool time_valid;
	char time_text[24];
	int64_t time_value;
};

static int syntax_error(struct lexer *lx, const char *what)
{
	return pv_fail(PV_ERR_FORMAT, "inventory", "'%s': line %u: %s", lx->file, lx->tok_line,
		       what);
}

static bool is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Skip blanks and comments; false with an error set when a comment is unterminated. */
static int skip_space(struct lexer *lx)
{
	while (lx->p < lx->end) {
		char c = *lx->p;

		if (c == '\n') {
			lx->line++;
			lx->p++;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			lx->p++;
		} else if (c == '#' || (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '/')) {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else if (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
			unsigned start = lx->line;
			lx->p += 2;
			while (lx->p + 1 < lx->end && !(lx->p[0] == '*' && lx->p[1] == '/')) {
				if (*lx->p == '\n')
					lx->line++;
				lx->p++;
			}
			if (lx->p + 1 >= lx->end) {
				lx->tok_line = start;
				return syntax_error(lx, "comment not closed");
			}
			lx->p += 2;
		} else {
			break;
		}
	}
	return PV_OK;
}

static int lex_string_part(struct lexer *lx)
{
	lx->p++; /* opening quote */
	for (;;) {
		const char *run = lx->p;
		char c;
		int rc = PV_OK;

		/* Plain runs are appended in one go: strings are most of the file. */
		while (lx->p < lx->end && *lx->p != '"' && *lx->p != '\\' && *lx->p != '\n')
			lx->p++;
		if (lx->str.len + (size_t)(lx->p - run) > MAX_STRING)
			return syntax_error(lx, "string longer than 8192 bytes");
		if (lx->p > run)
			rc = pv_buf_append(&lx->str, run, (size_t)(lx->p - run));
		if (rc)
			return pv_fail(rc, "inventory", "out of memory");
		if (lx->p >= lx->end || *lx->p == '\n')
			return syntax_error(lx, "string not closed on its line");
		if (*lx->p++ == '"')
			return PV_OK;
		if (lx->p >= lx->end)
			return syntax_error(lx, "string not closed");
		c = *lx->p++;
		switch (c) {
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'f': c = '\f'; break;
		case '\\': case '"': break;
		case 'x': {
			int hi = lx->p < lx->end ? hex_value(lx->p[0]) : -1;
			int lo = lx->p + 1 < lx->end ? hex_value(lx->p[1]) : -1;
			if (hi < 0 || lo < 0)
				return syntax_error(lx, "bad \\x escape");
			c = (char)(hi * 16 + lo);
			lx->p += 2;
			if (c == '\0')
				return syntax_error(lx, "\\x00 in a string");
			break;
		}
		default:
			return syntax_error(lx, "unknown escape in a string");
		}
		if (lx->str.len >= MAX_STRING)
			return syntax_error(lx, "string longer than 8192 bytes");
		rc = pv_buf_putc(&lx->str, c);
		if (rc)
			return pv_fail(rc, "inventory", "out of memory");
	}
}

static int lex_number(struct lexer *lx)
{
	const char *start = lx->p;
	unsigned long long value = 0;
	bool negative = false, hex = false, any = false;

	if (*lx->p == '-' || *lx->p == '+') {
		negative = *lx->p == '-';
		lx->p++;
	}
	if (lx->p + 1 < lx->end && lx->p[0] == '0' && (lx->p[1] == 'x' || lx->p[1] == 'X')) {
		if (lx->p != start)
			return syntax_error(lx, "bad number"); /* libconfig hex has no sign */
		hex = true;
		lx->p += 2;
	}
	while (lx->p < lx->end) {
		int d = hex ? hex_value(*lx->p) : (*lx->p >= '0' && *lx->p <= '9' ? *lx->p - '0' : -1);
		if (d < 0)
			break;
		if (value > (~0ull - (unsigned)d) / (hex ? 16 : 10))
			return syntax_error(lx, "integer out of range");
		value = value * (hex ? 16 : 10) + (unsigned)d;
		any = true;
		lx->p++;
	}
	if (!any)
		return syntax_error(lx, "bad number");
	if (lx->p < lx->end && (*lx->p == '.' || *lx->p == 'e' || *lx->p == 'E') && !hex) {
		while (lx->p < lx->end && (is_name_char(*lx->p) || *lx->p == '.' || *lx->p == '+' ||
					   *lx->p == '-'))
			lx->p++;
		lx->type = TOK_OTHER_SCALAR;
		return PV_OK;
	}
	if (lx->p < lx->end && *lx->p == 'L') {
		lx->p++;
		if (lx->p < lx->end && *lx->p == 'L')
			lx->p++;
	}
	if (lx->p < lx->end && is_name_char(*lx->p))
		return syntax_error(lx, "bad number");
	if (value > (unsigned long long)0x7fffffffffffffffLL + (negative ? 1u : 0u))
		return syntax_error(lx, "integer out of range");
	lx->integer = negative ? -(long long)(value - 1) - 1 : (long long)value;
	lx->type = TOK_INT;
	return PV_OK;
}

static int next(struct lexer *lx)
{
	int rc = skip_space(lx);
	char c;

	if (rc)
		return rc;
	lx->tok_line = lx->line;
	if (lx->p >= lx->end) {
		lx->type = TOK_END;
		return PV_OK;
	}
	c = *lx->p;
	if (c == '"') {
		pv_buf_reset(&lx->str);
		/* Adjacent strings are one value ("a" "b" is "ab"), as in libconfig. */
		do {
			rc = lex_string_part(lx);
			if (!rc)
				rc = skip_space(lx);
		} while (!rc && lx->p < lx->end && *lx->p == '"');
		if (rc)
			return rc;
		if (pv_buf_putc(&lx->str, '\0'))
			return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
		lx->str.len--;
		lx->type = TOK_STRING;
		return PV_OK;
	}
	if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.')
		return c == '.' ? syntax_error(lx, "bad number") : lex_number(lx);
	if (is_name_start(c)) {
		lx->name = lx->p;
		while (lx->p < lx->end && is_name_char(*lx->p))
			lx->p++;
		lx->name_len = (size_t)(lx->p - lx->name);
		lx->type = TOK_NAME;
		return PV_OK;
	}
	if (strchr("=:;,{}()[]", c)) {
		lx->punct = c;
		lx->p++;
		lx->type = TOK_PUNCT;
		return PV_OK;
	}
	if (c == '@')
		return syntax_error(lx, "directives (@include) are not allowed");
	if (c == '\0')
		return syntax_error(lx, "NUL byte");
	return syntax_error(lx, "syntax error");
}

static bool is_punct(const struct lexer *lx, char c)
{
	return lx->type == TOK_PUNCT && lx->punct == c;
}

static bool is_boolean_name(const struct lexer *lx)
{
	return lx->type == TOK_NAME && (lx->name_len == 4 || lx->name_len == 5) &&
	       (strncasecmp(lx->name, "true", lx->name_len) == 0 ||
		strncasecmp(lx->name, "false", lx->name_len) == 0);
}

/* Current token is a setting name; consume it and the '=' or ':'. */
static int expect_assign(struct lexer *lx, char *name, size_t size)
{
	int rc;

	if (lx->type != TOK_NAME || is_boolean_name(lx))
		return syntax_error(lx, "expected a setting name");
	if (lx->name_len >= size)
		return syntax_error(lx, "setting name too long");
	memcpy(name, lx->name, lx->name_len);
	name[lx->name_len] = '\0';
	rc = next(lx);
	if (rc)
		return rc;
	if (!is_punct(lx, '=') && !is_punct(lx, ':'))
		return syntax_error(lx, "expected '=' or ':'");
	return next(lx);
}

/* After a value: optional ';' or ','. */
static int end_setting(struct lexer *lx)
{
	if (is_punct(lx, ';') || is_punct(lx, ','))
		return next(lx);
	return PV_OK;
}

static int field_error(struct lexer *lx, unsigned line, const char *what)
{
	lx->tok_line = line;
	return syntax_error(lx, what);
}

static int rewrap(struct lexer *lx, unsigned line)
{
	char detail[512];

	pv_strlcpy(detail, pv_last_error(), sizeof(detail));
	return field_error(lx, line, detail);
}

/* Skip a scalar token the schema does not accept, so the message can name the field. */
static bool is_scalar(const struct lexer *lx)
{
	return lx->type == TOK_STRING || lx->type == TOK_INT || lx->type == TOK_OTHER_SCALAR ||
	       is_boolean_name(lx);
}

/* [ "a", "b" ] or ( "a", "b" ): strings into out (up to max); returns the count. */
#define SEQ_ITEM_MAX 64 /* tags are at most 63 characters, seen entries about 20 */

/* Into fixed buffers: no allocation per item (a load reads millions of them). */
static int parse_string_seq(struct lexer *lx, const char *prefix, const char *field,
			    char (*out)[SEQ_ITEM_MAX], size_t max, size_t *count)
{
	char close, msg[160];
	unsigned line = lx->tok_line;
	int rc;

	*count = 0;
	if (!is_punct(lx, '[') && !is_punct(lx, '(')) {
		snprintf(msg, sizeof(msg), "'%s%s' must be [ \"...\", ... ]", prefix,
			 field);
		return syntax_error(lx, msg);
	}
	close = lx->punct == '[' ? ']' : ')';
	rc = next(lx);
	if (rc)
		return rc;
	if (is_punct(lx, close))
		return next(lx);
	for (;;) {
		if (lx->type != TOK_STRING) {
			snprintf(msg, sizeof(msg), "'%s%s' must hold quoted strings", prefix,
				 field);
			return is_scalar(lx) || is_punct(lx, '[') || is_punct(lx, '(') ||
					       is_punct(lx, '{')
				       ? syntax_error(lx, msg)
				       : syntax_error(lx, "syntax error");
		}
		if (*count >= max) {
			snprintf(msg, sizeof(msg), "'%s%s' has more than %zu items", prefix,
				 field, max);
			return field_error(lx, line, msg);
		}
		if (lx->str.len >= SEQ_ITEM_MAX) {
			snprintf(msg, sizeof(msg), "'%s%s': an item is longer than %d characters",
				 prefix, field, SEQ_ITEM_MAX - 1);
			return syntax_error(lx, msg);
		}
		memcpy(out[*count], pv_buf_str(&lx->str), lx->str.len + 1);
		(*count)++;
		rc = next(lx);
		if (rc)
			return rc;
		if (is_punct(lx, close))
			return next(lx);
		if (!is_punct(lx, ','))
			return syntax_error(lx, "expected ',' or the end of the list");
		rc = next(lx);
		if (rc)
			return rc;
	}
}

/* Most stamps repeat (one capture stamps many facts): parse each text once. */
static int parse_time_cached(struct lexer *lx, const char *text, int64_t *out)
{
	if (lx->time_valid && strcmp(text, lx->time_text) == 0) {
		*out = lx->time_value;
		return PV_OK;
	}
	if (pv_inventory_parse_time(text, out))
		return PV_ERR_INVALID;
	pv_strlcpy(lx->time_text, text, sizeof(lx->time_text));
	lx->time_value = *out;
	lx->time_valid = true;
	return PV_OK;
}

static int parse_seen(struct lexer *lx, struct pv_inventory_record *rec)
{
	char name[64], msg[200], parts[3][SEQ_ITEM_MAX];
	unsigned done = 0;
	int rc;

	if (!is_punct(lx, '{'))
		return syntax_error(lx, "'seen' must be a group { fact = [ ... ]; ... }");
	rc = next(lx);
	while (!rc && !is_punct(lx, '}')) {
		struct pv_inventory_seen seen;
		unsigned line = lx->tok_line;
		size_t fact, n = 0;

		if (lx->type == TOK_END)
			return syntax_error(lx, "'seen' group not closed");
		rc = expect_assign(lx, name, sizeof(name));
		if (rc)
			return rc;
		for (fact = 0; fact < PV_FACT_COUNT; fact++)
			if (strcmp(name, pv_inventory_fact_name((enum pv_inventory_fact)fact)) == 0)
				break;
		if (fact == PV_FACT_COUNT) {
			snprintf(msg, sizeof(msg), "'seen': unknown fact '%.40s'", name);
			return field_error(lx, line, msg);
		}
		if (done & (1u << fact)) {
			snprintf(msg, sizeof(msg), "'seen.%s' appears twice", name);
			return field_error(lx, line, msg);
		}
		done |= 1u << fact;
		rc = parse_string_seq(lx, "seen.", name, parts, 3, &n);
		if (!rc && n < 2) {
			snprintf(msg, sizeof(msg),
				 "'seen.%s' must be [ \"source\", \"first-seen\"(, \"last-seen\") ]",
				 name);
			rc = field_error(lx, line, msg);
		}
		if (!rc && pv_inventory_source_parse(parts[0], &seen.source))
			rc = rewrap(lx, line);
		if (!rc && (parse_time_cached(lx, parts[1], &seen.first_seen) ||
			    parse_time_cached(lx, parts[n - 1], &seen.last_seen))) {
			snprintf(msg, sizeof(msg),
				 "'seen.%s': times must look like 2026-11-25T04:27:40Z", name);
			rc = field_error(lx, line, msg);
		}
		if (!rc)
			rec->seen[fact] = seen;
		if (!rc)
			rc = end_setting(lx);
	}
	return rc ? rc : next(lx);
}

static const char *const board_fields[] = {
	"serial", "mac", "wifi_mac", "bt_mac", "board_revision", "uuid", "hostname", "ip",
	"tftp_prefix", "tftp_prefix_str", "boot_order", "config_hash", "bootloader_version",
	"bootloader_build_ts", "eeprom_hash", "flashed_at", "tags", "notes", "seen",
};

static int parse_board(struct lexer *lx, struct pv_inventory_record *rec)
{
	char name[64], msg[200], number[24];
	unsigned start = lx->tok_line;
	uint32_t done = 0;
	int rc;

	if (!is_punct(lx, '{'))
		return syntax_error(lx, "each board must be a group { ... }");
	rc = next(lx);
	while (!rc && !is_punct(lx, '}')) {
		unsigned line = lx->tok_line;
		size_t field;

		if (lx->type == TOK_END)
			return field_error(lx, start, "board group not closed");
		rc = expect_assign(lx, name, sizeof(name));
		if (rc)
			return rc;
		for (field = 0; field < PV_ARRAY_SIZE(board_fields); field++)
			if (strcmp(name, board_fields[field]) == 0)
				break;
		if (field == PV_ARRAY_SIZE(board_fields)) {
			snprintf(msg, sizeof(msg), "unknown field '%.40s'", name);
			return field_error(lx, line, msg);
		}
		if (done & (1u << field)) {
			snprintf(msg, sizeof(msg), "field '%s' appears twice", name);
			return field_error(lx, line, msg);
		}
		done |= 1u << field;
		if (strcmp(name, "seen") == 0) {
			rc = parse_seen(lx, rec);
		} else if (strcmp(name, "tags") == 0) {
			char tags[PV_INVENTORY_MAX_TAGS + 1][SEQ_ITEM_MAX];
			size_t n = 0;

			rc = parse_string_seq(lx, "", "tags", tags, PV_INVENTORY_MAX_TAGS + 1, &n);
			for (size_t i = 0; i < n && !rc; i++)
				if (pv_inventory_record_add_tag(rec, tags[i]))
					rc = rewrap(lx, line);
		} else if (lx->type == TOK_STRING ||
			   (lx->type == TOK_INT && strcmp(name, "bootloader_build_ts") == 0)) {
			const char *value = pv_buf_str(&lx->str);

			if (lx->type == TOK_INT) {
				snprintf(number, sizeof(number), "%lld", lx->integer);
				value = number;
			}
			if (pv_inventory_record_set(rec, name, value))
				return rewrap(lx, line);
			rc = next(lx);
		} else {
			snprintf(msg, sizeof(msg), "field '%s' must be a quoted string", name);
			return is_scalar(lx) || is_punct(lx, '[') || is_punct(lx, '(') ||
					       is_punct(lx, '{')
				       ? syntax_error(lx, msg)
				       : syntax_error(lx, "syntax error");
		}
		if (!rc)
			rc = end_setting(lx);
	}
	if (rc)
		return rc;
	if (rec->serial_digits == 0)
		return field_error(lx, start, "board without a 'serial'");
	if (rec->has_tftp_prefix && rec->tftp_prefix == PV_TFTP_PREFIX_STRING &&
	    !rec->tftp_prefix_str[0])
		return field_error(lx, start, "'tftp_prefix = \"string\"' needs 'tftp_prefix_str'");
	return next(lx);
}

static int parse_boards(struct lexer *lx, struct pv_inventory *inv, struct pv_buf *lines)
{
	int rc;

	if (!is_punct(lx, '('))
		return syntax_error(lx, "'boards' must be a list ( { ... }, ... )");
	rc = next(lx);
	if (rc || is_punct(lx, ')'))
		return rc ? rc : next(lx);
	for (;;) {
		struct pv_inventory_record *rec;
		unsigned line = lx->tok_line;

		/* Parsed in place: copying 100,000 large records costs more than parsing them. */
		if (inv->count == inv->cap) {
			size_t cap = inv->cap ? inv->cap * 2 : 64;
			struct pv_inventory_record *grown = realloc(inv->records, cap * sizeof(*grown));

			if (!grown)
				return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
			inv->records = grown;
			inv->cap = cap;
		}
		rec = &inv->records[inv->count];
		pv_inventory_record_init(rec);
		rc = parse_board(lx, rec);
		if (!rc)
			rc = pv_buf_append(lines, &line, sizeof(line));
		if (rc) {
			pv_inventory_record_release(rec);
			return rc;
		}
		inv->count++;
		if (is_punct(lx, ')'))
			return next(lx);
		if (!is_punct(lx, ','))
			return syntax_error(lx, "expected ',' between boards or ')' after the last");
		rc = next(lx);
		if (rc)
			return rc;
	}
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

/* Sorting keeps this O(n log n) for 100,000 boards. */
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

int pv_inventory_parse(const char *text, size_t len, const char *name, struct pv_inventory *inv)
{
	struct lexer lx;
	struct pv_inventory parsed;
	struct pv_buf lines = PV_BUF_INIT(SIZE_MAX);
	bool have_version = false, have_boards = false;
	char setting[64], msg[160];
	int rc;

	memset(&lx, 0, sizeof(lx));
	lx.p = text;
	lx.end = text + len;
	lx.file = name;
	lx.line = 1;
	pv_buf_init(&lx.str, SIZE_MAX);
	pv_inventory_init(&parsed);
	/* A board takes 120 bytes or more: sizing the array once avoids moving the records
	 * through realloc on every load (untouched capacity costs no memory). */
	if (len / 120 > 64) {
		parsed.records = malloc((len / 120) * sizeof(*parsed.records));
		if (parsed.records) {
			parsed.cap = len / 120;
			pv_inventory_hint_huge(parsed.records, parsed.cap * sizeof(*parsed.records));
		}
	}
	/* An empty file is an empty inventory (e.g. created with touch). */
	rc = next(&lx);
	if (!rc && lx.type == TOK_END && len == 0)
		goto out_done;
	while (!rc && lx.type != TOK_END) {
		unsigned line = lx.tok_line;

		rc = expect_assign(&lx, setting, sizeof(setting));
		if (rc)
			break;
		if (strcmp(setting, "version") == 0 && !have_version) {
			have_version = true;
			if (lx.type != TOK_INT || lx.integer != PV_INVENTORY_FORMAT_VERSION) {
				snprintf(msg, sizeof(msg),
					 "unsupported format version (this piprov reads %d)",
					 PV_INVENTORY_FORMAT_VERSION);
				rc = field_error(&lx, line, msg);
				break;
			}
			rc = next(&lx);
		} else if (strcmp(setting, "boards") == 0 && !have_boards) {
			have_boards = true;
			rc = parse_boards(&lx, &parsed, &lines);
		} else {
			snprintf(msg, sizeof(msg), "%s setting '%.40s'",
				 strcmp(setting, "version") == 0 || strcmp(setting, "boards") == 0
					 ? "second" : "unknown", setting);
			rc = field_error(&lx, line, msg);
			break;
		}
		if (!rc)
			rc = end_setting(&lx);
	}
	if (!rc && !have_version)
		rc = pv_fail(PV_ERR_FORMAT, "inventory", "'%s': no 'version = %d;' line", name,
			     PV_INVENTORY_FORMAT_VERSION);
	if (!rc)
		rc = check_duplicates(&parsed, (const unsigned *)lines.data, name);
	if (rc)
		goto out_release;
out_done:
	*inv = parsed;
	pv_buf_release(&lines);
	pv_buf_release(&lx.str);
	return PV_OK;

out_release:
	pv_inventory_release(&parsed);
	pv_buf_release(&lines);
	pv_buf_release(&lx.str);
	return rc;
}
