/* The inventory file reader: a streaming parser for the libconfig syntax the file uses, which
 * fills records as it reads instead of building libconfig's setting tree.
 *
 * Why not config_read_string(): measured on 100,000 boards (bench/inventory), libconfig
 * spends about 1 µs per setting building and freeing its tree, i.e. several seconds per
 * load, against a goal of one second for load + upsert + export. The file stays plain
 * libconfig (the unit tests and the fuzz target check that libconfig accepts everything
 * this parser accepts): comments (#, //, / * * /), '=' or ':', ';' or ',' or nothing after a
 * setting, adjacent strings concatenated, escapes \" \\ \n \r \t \f \xNN, decimal or hex
 * integers with an optional L suffix. Directives (@include) are refused.
 *
 * A file is read through a small window that is refilled as the parser goes, not into one
 * buffer as large as the file: on a 70 MiB file the first touch of that much fresh memory
 * costs more than parsing it. Every token but blanks and comments is at most LOOKAHEAD
 * bytes long (longer ones are errors), so the lexer makes sure that much text is in the
 * window before it reads a token and refills only between tokens and inside comments. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "inventory_internal.h"
#include "piprov/fileio.h"
#include "piprov/inventory.h"
#include "piprov/text.h"
#include "banned.h"

#define MAX_STRING 8192 /* longest string value (notes are at most 4095 bytes) */
/* A string of MAX_STRING bytes takes at most 4 * MAX_STRING bytes of text (\xNN). */
#define LOOKAHEAD ((size_t)64 << 10)
#define WINDOW ((size_t)256 << 10)

enum token_type {
	TOK_END = 0,
	TOK_NAME,
	TOK_STRING,
	TOK_INT,
	TOK_OTHER_SCALAR, /* float, boolean: valid libconfig, never valid in this schema */
	TOK_PUNCT,
};

/* Character classes, one table lookup per byte instead of chains of comparisons. */
enum {
	C_BLANK = 1 << 0,       /* libconfig's blanks: space, tab, CR (not VT, not FF) */
	C_NEWLINE = 1 << 1,
	C_NAME_START = 1 << 2,  /* letters and '*' */
	C_NAME = 1 << 3,        /* letters, digits, '*', '_', '-' */
	C_STRING_STOP = 1 << 4, /* ends a plain run in a string: '"', '\\', newline, NUL */
	C_PUNCT = 1 << 5,
};

static const unsigned char char_class[256] = {
	[' '] = C_BLANK, ['\t'] = C_BLANK, ['\r'] = C_BLANK,
	['\n'] = C_NEWLINE | C_STRING_STOP, ['"'] = C_STRING_STOP, ['\\'] = C_STRING_STOP,
	['\0'] = C_STRING_STOP,
	['a' ... 'z'] = C_NAME_START | C_NAME, ['A' ... 'Z'] = C_NAME_START | C_NAME,
	['*'] = C_NAME_START | C_NAME, ['0' ... '9'] = C_NAME, ['_'] = C_NAME, ['-'] = C_NAME,
	['='] = C_PUNCT, [':'] = C_PUNCT, [';'] = C_PUNCT, [','] = C_PUNCT, ['{'] = C_PUNCT,
	['}'] = C_PUNCT, ['('] = C_PUNCT, [')'] = C_PUNCT, ['['] = C_PUNCT, [']'] = C_PUNCT,
};

static bool has_class(char c, unsigned mask)
{
	return (char_class[(unsigned char)c] & mask) != 0;
}

struct lexer {
	const char *p, *end; /* text not read yet (all of it, or what the window holds) */
	/* Streaming from a file (fd >= 0): the window and how much of the file it has seen. */
	int fd;
	char *window;
	size_t total;
	bool eof;
	const char *file;
	unsigned line;
	/* current token */
	enum token_type type;
	char punct;
	const char *name; /* TOK_NAME: in the window, valid until the next token */
	size_t name_len;
	long long integer;
	unsigned tok_line;
	/* last time stamp parsed */
	bool time_valid;
	char time_text[24];
	int64_t time_value;
	/* decoded value of the last TOK_STRING (NUL-terminated) */
	size_t str_len;
	char str[MAX_STRING + 1];
};

static int syntax_error(struct lexer *lx, const char *what)
{
	return pv_fail(PV_ERR_FORMAT, "inventory", "'%s': line %u: %s", lx->file, lx->tok_line,
		       what);
}

static bool can_read_more(const struct lexer *lx)
{
	return lx->fd >= 0 && !lx->eof;
}

/* Keep the unread text, move it to the start of the window and fill the rest. */
static int refill(struct lexer *lx)
{
	size_t keep = (size_t)(lx->end - lx->p);
	char *end;

	memmove(lx->window, lx->p, keep);
	lx->p = lx->window;
	end = lx->window + keep;
	while (!lx->eof && end < lx->window + WINDOW) {
		ssize_t got = read(lx->fd, end, (size_t)(lx->window + WINDOW - end));

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return pv_fail_errno(errno, "file", "cannot read '%s'", lx->file);
		if (got == 0)
			lx->eof = true;
		lx->total += (size_t)got;
		end += got;
		if (lx->total > PV_INVENTORY_MAX_FILE_SIZE)
			return pv_fail(PV_ERR_TOO_BIG, "file",
				       "'%s' is larger than the limit of %zu bytes", lx->file,
				       PV_INVENTORY_MAX_FILE_SIZE);
	}
	lx->end = end;
	return PV_OK;
}

/* At least n bytes in [p, end) unless the text ends first. */
static int ensure(struct lexer *lx, size_t n)
{
	if ((size_t)(lx->end - lx->p) >= n || !can_read_more(lx))
		return PV_OK;
	return refill(lx);
}

/* A token ran into the end of the window: it is longer than any valid one. */
static bool cut_by_window(const struct lexer *lx, const char *p)
{
	return p >= lx->end && can_read_more(lx);
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

static int skip_line_comment(struct lexer *lx)
{
	for (;;) {
		const char *nl = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
		const char *stop = nl ? nl : lx->end;
		int rc;

		/* libconfig reads text up to a NUL: what follows would not be a comment. */
		if (memchr(lx->p, '\0', (size_t)(stop - lx->p))) {
			lx->tok_line = lx->line;
			return syntax_error(lx, "NUL byte");
		}
		if (nl) {
			lx->p = nl; /* the newline is counted as a blank */
			return PV_OK;
		}
		lx->p = lx->end;
		if (!can_read_more(lx))
			break;
		rc = refill(lx);
		if (rc)
			return rc;
	}
	/* libconfig wants the newline that ends a line comment. */
	lx->tok_line = lx->line;
	return syntax_error(lx, "comment on the last line needs a newline");
}

static int skip_block_comment(struct lexer *lx)
{
	unsigned start = lx->line;

	lx->p += 2;
	for (;;) {
		const char *p = lx->p, *end = lx->end;
		int rc;

		while (p + 1 < end && !(p[0] == '*' && p[1] == '/') && *p != '\0') {
			lx->line += *p == '\n';
			p++;
		}
		if (p + 1 < end && *p == '\0') {
			lx->tok_line = lx->line;
			return syntax_error(lx, "NUL byte");
		}
		lx->p = p;
		if (p + 1 < end) {
			lx->p += 2;
			return PV_OK;
		}
		/* The last byte may be the '*' of the end: it stays for the next window. */
		if (!can_read_more(lx))
			break;
		rc = refill(lx);
		if (rc)
			return rc;
	}
	lx->tok_line = start;
	return syntax_error(lx, "comment not closed");
}

/* Skip blanks and comments. */
static int skip_space(struct lexer *lx)
{
	for (;;) {
		const char *p = lx->p, *end = lx->end;
		int rc;

		while (p < end && has_class(*p, C_BLANK | C_NEWLINE)) {
			lx->line += *p == '\n';
			p++;
		}
		lx->p = p;
		if (p >= end) {
			if (!can_read_more(lx))
				return PV_OK;
			rc = refill(lx);
			if (rc)
				return rc;
			continue;
		}
		if (*p != '#' && *p != '/')
			return PV_OK;
		rc = ensure(lx, 2);
		if (rc)
			return rc;
		p = lx->p;
		if (*p == '#' || (p + 1 < lx->end && p[1] == '/'))
			rc = skip_line_comment(lx);
		else if (p + 1 < lx->end && p[1] == '*')
			rc = skip_block_comment(lx);
		else
			return PV_OK; /* a lone '/': the caller reports it */
		if (rc)
			return rc;
	}
}

/* Skip blanks; true when the next token starts well inside the window (no comment, no
 * refill needed): the case for almost every token, kept free of function calls. */
static bool skip_blanks_fast(struct lexer *lx)
{
	const char *p = lx->p, *end = lx->end;
	unsigned line = lx->line;

	while (p < end && has_class(*p, C_BLANK | C_NEWLINE))
		line += *p++ == '\n';
	lx->p = p;
	lx->line = line;
	return (size_t)(end - p) >= LOOKAHEAD && *p != '#' && *p != '/';
}

static int lex_string_part(struct lexer *lx)
{
	const char *p = lx->p + 1, *end = lx->end; /* after the opening quote */

	for (;;) {
		const char *run = p;
		char c;

		/* Plain runs are copied in one go: strings are most of the file. */
		while (p < end && !has_class(*p, C_STRING_STOP))
			p++;
		lx->p = p;
		if (lx->str_len + (size_t)(p - run) > MAX_STRING || cut_by_window(lx, p))
			return syntax_error(lx, "string longer than 8192 bytes");
		memcpy(lx->str + lx->str_len, run, (size_t)(p - run));
		lx->str_len += (size_t)(p - run);
		if (p >= end || *p == '\n')
			return syntax_error(lx, "string not closed on its line");
		if (*p == '\0')
			return syntax_error(lx, "NUL byte");
		if (*p++ == '"') {
			lx->p = p;
			return PV_OK;
		}
		if (p >= end)
			return syntax_error(lx, "string not closed");
		c = *p++;
		switch (c) {
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'f': c = '\f'; break;
		case '\\': case '"': break;
		case 'x': {
			int hi = p < end ? hex_value(p[0]) : -1;
			int lo = p + 1 < end ? hex_value(p[1]) : -1;
			if (hi < 0 || lo < 0)
				return syntax_error(lx, "bad \\x escape");
			c = (char)(hi * 16 + lo);
			p += 2;
			if (c == '\0')
				return syntax_error(lx, "\\x00 in a string");
			break;
		}
		default:
			return syntax_error(lx, "unknown escape in a string");
		}
		if (lx->str_len >= MAX_STRING)
			return syntax_error(lx, "string longer than 8192 bytes");
		lx->str[lx->str_len++] = c;
	}
}

/* Adjacent strings are one value ("a" "b" is "ab"), as in libconfig. */
static int lex_string(struct lexer *lx)
{
	int rc;

	lx->str_len = 0;
	do {
		rc = lex_string_part(lx);
		if (!rc && !skip_blanks_fast(lx)) {
			rc = skip_space(lx);
			if (!rc)
				rc = ensure(lx, LOOKAHEAD);
		}
	} while (!rc && lx->p < lx->end && *lx->p == '"');
	if (rc)
		return rc;
	lx->str[lx->str_len] = '\0';
	lx->type = TOK_STRING;
	return PV_OK;
}

static int lex_number(struct lexer *lx)
{
	const char *p = lx->p, *end = lx->end, *start = p;
	unsigned long long value = 0;
	bool negative = false, hex = false, any = false;

	if (*p == '-' || *p == '+') {
		negative = *p == '-';
		p++;
	}
	if (p + 1 < end && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		if (p != start)
			return syntax_error(lx, "bad number"); /* libconfig hex has no sign */
		hex = true;
		p += 2;
	}
	while (p < end) {
		int d = hex ? hex_value(*p) : (*p >= '0' && *p <= '9' ? *p - '0' : -1);
		if (d < 0)
			break;
		if (value > (~0ull - (unsigned)d) / (hex ? 16 : 10))
			return syntax_error(lx, "integer out of range");
		value = value * (hex ? 16 : 10) + (unsigned)d;
		any = true;
		p++;
	}
	if (!any || cut_by_window(lx, p))
		return syntax_error(lx, "bad number");
	if (p < end && (*p == '.' || *p == 'e' || *p == 'E') && !hex) {
		while (p < end && (has_class(*p, C_NAME) || *p == '.' || *p == '+'))
			p++;
		if (cut_by_window(lx, p))
			return syntax_error(lx, "bad number");
		lx->p = p;
		lx->type = TOK_OTHER_SCALAR;
		return PV_OK;
	}
	if (p < end && *p == 'L') {
		p++;
		if (p < end && *p == 'L')
			p++;
	}
	if ((p < end && has_class(*p, C_NAME)) || cut_by_window(lx, p))
		return syntax_error(lx, "bad number");
	if (value > (unsigned long long)0x7fffffffffffffffLL + (negative ? 1u : 0u))
		return syntax_error(lx, "integer out of range");
	lx->p = p;
	lx->integer = negative ? -(long long)(value - 1) - 1 : (long long)value;
	lx->type = TOK_INT;
	return PV_OK;
}

static int next(struct lexer *lx)
{
	const char *p;
	char c;

	if (!skip_blanks_fast(lx)) {
		int rc = skip_space(lx);

		if (!rc)
			rc = ensure(lx, LOOKAHEAD);
		if (rc)
			return rc;
	}
	lx->tok_line = lx->line;
	p = lx->p;
	if (p >= lx->end) {
		lx->type = TOK_END;
		return PV_OK;
	}
	c = *p;
	if (has_class(c, C_PUNCT)) {
		lx->punct = c;
		lx->p = p + 1;
		lx->type = TOK_PUNCT;
		return PV_OK;
	}
	if (has_class(c, C_NAME_START)) {
		lx->name = p;
		while (p < lx->end && has_class(*p, C_NAME))
			p++;
		if (cut_by_window(lx, p))
			return syntax_error(lx, "name longer than 65536 characters");
		lx->name_len = (size_t)(p - lx->name);
		lx->p = p;
		lx->type = TOK_NAME;
		return PV_OK;
	}
	if (c == '"')
		return lex_string(lx);
	if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.')
		return c == '.' ? syntax_error(lx, "bad number") : lex_number(lx);
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

/* Current token is a setting name; copy it (the window moves), consume it and the '=' or
 * ':'. */
static int expect_assign(struct lexer *lx, char *name, size_t size, size_t *len)
{
	int rc;

	if (lx->type != TOK_NAME || is_boolean_name(lx))
		return syntax_error(lx, "expected a setting name");
	if (lx->name_len >= size)
		return syntax_error(lx, "setting name too long");
	memcpy(name, lx->name, lx->name_len);
	name[lx->name_len] = '\0';
	*len = lx->name_len;
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

/* A value of the wrong type: name the field when the value is one, else a syntax error. */
static int wrong_type(struct lexer *lx, const char *msg)
{
	return is_scalar(lx) || is_punct(lx, '[') || is_punct(lx, '(') || is_punct(lx, '{')
		       ? syntax_error(lx, msg)
		       : syntax_error(lx, "syntax error");
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
			return wrong_type(lx, msg);
		}
		if (*count >= max) {
			snprintf(msg, sizeof(msg), "'%s%s' has more than %zu items", prefix,
				 field, max);
			return field_error(lx, line, msg);
		}
		if (lx->str_len >= SEQ_ITEM_MAX) {
			snprintf(msg, sizeof(msg), "'%s%s': an item is longer than %d characters",
				 prefix, field, SEQ_ITEM_MAX - 1);
			return syntax_error(lx, msg);
		}
		memcpy(out[*count], lx->str, lx->str_len + 1);
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
		size_t len, n = 0;
		int fact;

		if (lx->type == TOK_END)
			return syntax_error(lx, "'seen' group not closed");
		rc = expect_assign(lx, name, sizeof(name), &len);
		if (rc)
			return rc;
		fact = pv_inventory_fact_lookup(name, len);
		if (fact < 0) {
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

static int parse_tags(struct lexer *lx, struct pv_inventory_record *rec, unsigned line)
{
	char tags[PV_INVENTORY_MAX_TAGS + 1][SEQ_ITEM_MAX];
	size_t n = 0;
	int rc = parse_string_seq(lx, "", "tags", tags, PV_INVENTORY_MAX_TAGS + 1, &n);

	for (size_t i = 0; i < n && !rc; i++)
		if (pv_inventory_record_add_tag(rec, tags[i]))
			rc = rewrap(lx, line);
	return rc;
}

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
		size_t len;
		int field;

		if (lx->type == TOK_END)
			return field_error(lx, start, "board group not closed");
		rc = expect_assign(lx, name, sizeof(name), &len);
		if (rc)
			return rc;
		field = pv_inventory_field_lookup(name, len, true);
		if (field < 0) {
			snprintf(msg, sizeof(msg), "unknown field '%.40s'", name);
			return field_error(lx, line, msg);
		}
		if (done & (1u << field)) {
			snprintf(msg, sizeof(msg), "field '%s' appears twice", name);
			return field_error(lx, line, msg);
		}
		done |= 1u << field;
		if (field == PV_FIELD_SEEN) {
			rc = parse_seen(lx, rec);
		} else if (field == PV_FIELD_TAGS) {
			rc = parse_tags(lx, rec, line);
		} else if (lx->type == TOK_STRING ||
			   (lx->type == TOK_INT && field == PV_FIELD_BOOTLOADER_BUILD_TS)) {
			const char *value = lx->str;

			if (lx->type == TOK_INT) {
				snprintf(number, sizeof(number), "%lld", lx->integer);
				value = number;
			}
			if (pv_inventory_record_set_field(rec, (enum pv_inventory_field)field,
							  value))
				return rewrap(lx, line);
			rc = next(lx);
		} else {
			snprintf(msg, sizeof(msg), "field '%s' must be a quoted string", name);
			return wrong_type(lx, msg);
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

/* The file: "version = 1;" and "boards = ( ... );" in any order. size_hint: the text's
 * length when known, to size the records array once. */
static int parse_text(struct lexer *lx, size_t size_hint, struct pv_inventory *inv)
{
	struct pv_inventory parsed;
	struct pv_buf lines = PV_BUF_INIT(SIZE_MAX);
	bool have_version = false, have_boards = false;
	char setting[64], msg[160];
	size_t len;
	int rc;

	pv_inventory_init(&parsed);
	/* A board takes 120 bytes or more: sizing the array once avoids moving the records
	 * through realloc on every load (untouched capacity costs no memory). */
	if (size_hint / 120 > 64) {
		parsed.records = malloc((size_hint / 120) * sizeof(*parsed.records));
		if (parsed.records) {
			parsed.cap = size_hint / 120;
			pv_inventory_hint_huge(parsed.records, parsed.cap * sizeof(*parsed.records));
		}
	}
	rc = next(lx);
	/* An empty file is an empty inventory (e.g. created with touch). */
	if (!rc && lx->type == TOK_END && (lx->fd >= 0 ? lx->total : size_hint) == 0)
		goto out_done;
	while (!rc && lx->type != TOK_END) {
		unsigned line = lx->tok_line;

		rc = expect_assign(lx, setting, sizeof(setting), &len);
		if (rc)
			break;
		if (strcmp(setting, "version") == 0 && !have_version) {
			have_version = true;
			if (lx->type != TOK_INT || lx->integer != PV_INVENTORY_FORMAT_VERSION) {
				snprintf(msg, sizeof(msg),
					 "unsupported format version (this piprov reads %d)",
					 PV_INVENTORY_FORMAT_VERSION);
				rc = field_error(lx, line, msg);
				break;
			}
			rc = next(lx);
		} else if (strcmp(setting, "boards") == 0 && !have_boards) {
			have_boards = true;
			rc = parse_boards(lx, &parsed, &lines);
		} else {
			snprintf(msg, sizeof(msg), "%s setting '%.40s'",
				 strcmp(setting, "version") == 0 || strcmp(setting, "boards") == 0
					 ? "second" : "unknown", setting);
			rc = field_error(lx, line, msg);
			break;
		}
		if (!rc)
			rc = end_setting(lx);
	}
	if (!rc && !have_version)
		rc = pv_fail(PV_ERR_FORMAT, "inventory", "'%s': no 'version = %d;' line", lx->file,
			     PV_INVENTORY_FORMAT_VERSION);
	if (!rc)
		rc = pv_inventory_check_unique(&parsed, (const unsigned *)lines.data, lx->file);
	if (rc)
		goto out_release;
out_done:
	*inv = parsed;
	pv_buf_release(&lines);
	return PV_OK;

out_release:
	pv_inventory_release(&parsed);
	pv_buf_release(&lines);
	return rc;
}

/* The lexer holds an 8 KiB string buffer: on the heap, not the stack. */
static struct lexer *lexer_new(const char *name)
{
	struct lexer *lx = malloc(sizeof(*lx));

	if (!lx) {
		pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
		return NULL;
	}
	memset(lx, 0, offsetof(struct lexer, str));
	lx->fd = -1;
	lx->file = name;
	lx->line = 1;
	return lx;
}

int pv_inventory_parse(const char *text, size_t len, const char *name, struct pv_inventory *inv)
{
	struct lexer *lx = lexer_new(name);
	int rc;

	if (!lx)
		return PV_ERR_NOMEM;
	lx->p = text;
	lx->end = text + len;
	rc = parse_text(lx, len, inv);
	free(lx);
	return rc;
}

int pv_inventory_load(const char *path, struct pv_inventory *inv)
{
	bool is_stdin = strcmp(path, "-") == 0;
	struct lexer *lx;
	struct stat st;
	size_t size_hint = 0;
	int fd, rc;

	fd = is_stdin ? STDIN_FILENO : pv_file_open_input(path, 0);
	if (fd == PV_ERR_NOT_FOUND) {
		pv_clear_error();
		pv_inventory_init(inv); /* a missing file is an empty inventory */
		return PV_OK;
	}
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (size_t)st.st_size <= PV_INVENTORY_MAX_FILE_SIZE)
		size_hint = (size_t)st.st_size;
	lx = lexer_new(path);
	if (!lx) {
		rc = PV_ERR_NOMEM;
		goto out_close_file;
	}
	lx->window = malloc(WINDOW);
	if (!lx->window) {
		rc = pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
		goto out_free_lexer;
	}
	lx->fd = fd;
	lx->p = lx->end = lx->window;
	rc = parse_text(lx, size_hint, inv);
	free(lx->window);
out_free_lexer:
	free(lx);
out_close_file:
	if (!is_stdin)
		close(fd);
	return rc;
}
