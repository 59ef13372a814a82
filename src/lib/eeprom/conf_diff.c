/* Unified line diff of two configs (LCS; configs are small: an EEPROM holds 4076 bytes). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "piprov/eeprom_config.h"
#include "eeprom_conf_internal.h"
#include "banned.h"

#define MAX_DIFF_CELLS (8u * 1024u * 1024u)
#define CONTEXT 2

enum op { OP_SAME, OP_DEL, OP_ADD };

static bool same_line(const struct pv_conf_line *x, const struct pv_conf_line *y)
{
	return x->len == y->len && strcmp(x->eol, y->eol) == 0 &&
	       memcmp(x->text, y->text, x->len) == 0;
}

static int emit_line(struct pv_buf *out, char mark, const struct pv_conf_line *l)
{
	int rc = pv_buf_putc(out, mark);

	if (rc == 0)
		rc = pv_buf_append(out, l->text, l->len);
	if (rc == 0 && strcmp(l->eol, "\r\n") == 0)
		rc = pv_buf_append_str(out, "\\r");
	if (rc == 0)
		rc = pv_buf_append_str(out, l->eol[0] ? "\n" : "\n\\ No newline at end of file\n");
	return rc;
}

int pv_eeprom_conf_diff(const struct pv_eeprom_conf *a, const struct pv_eeprom_conf *b,
			const char *label_a, const char *label_b, struct pv_buf *out,
			size_t *changed)
{
	size_t n = a->n, m = b->n, k = 0, count = 0, start = out->len, p = 0;
	uint32_t *lcs = NULL;
	enum op *ops = NULL;
	size_t *ia = NULL, *ib = NULL;
	int rc = PV_OK;

	/* The table covers only what follows the common leading lines: the walk below takes
	 * those as SAME without looking at it, and an entry depends only on the lines after
	 * it, so the diff is the same, from a table that is usually much smaller (an edit
	 * touches a line or two). */
	while (p < n && p < m && same_line(&a->lines[p], &b->lines[p]))
		p++;
	if ((n - p + 1) * (m - p + 1) > MAX_DIFF_CELLS)
		return pv_fail(PV_ERR_TOO_BIG, "eeprom", "configs too long to compare (%zu and %zu lines)",
			       n, m);
	lcs = calloc((n - p + 1) * (m - p + 1), sizeof(*lcs));
	ops = malloc((n + m + 1) * sizeof(*ops));
	ia = malloc((n + m + 1) * sizeof(*ia));
	ib = malloc((n + m + 1) * sizeof(*ib));
	if (!lcs || !ops || !ia || !ib) {
		rc = pv_fail(PV_ERR_NOMEM, "eeprom", "out of memory");
		goto out_free;
	}
#define L(i, j) lcs[((i) - p) * (m - p + 1) + ((j) - p)]
	for (size_t i = n; i-- > p;)
		for (size_t j = m; j-- > p;)
			L(i, j) = same_line(&a->lines[i], &b->lines[j])
					  ? L(i + 1, j + 1) + 1
					  : (L(i + 1, j) >= L(i, j + 1) ? L(i + 1, j) : L(i, j + 1));
	for (size_t i = 0, j = 0; i < n || j < m; k++) {
		if (i < n && j < m && same_line(&a->lines[i], &b->lines[j])) {
			ops[k] = OP_SAME, ia[k] = i++, ib[k] = j++;
		} else if (i < n && (j == m || L(i + 1, j) >= L(i, j + 1))) {
			ops[k] = OP_DEL, ia[k] = i++, ib[k] = j;
			count++;
		} else {
			ops[k] = OP_ADD, ia[k] = i, ib[k] = j++;
			count++;
		}
	}
#undef L
	if (count) {
		rc = pv_buf_appendf(out, "--- %s\n+++ %s\n", label_a, label_b);
		for (size_t x = 0; rc == 0 && x < k;) {
			size_t lo, hi, na = 0, nb = 0;
			if (ops[x] == OP_SAME) {
				x++;
				continue;
			}
			/* A hunk: this change plus following ones closer than 2*CONTEXT. */
			lo = x >= CONTEXT ? x - CONTEXT : 0;
			hi = x;
			for (size_t y = x, same = 0; y < k && same <= 2 * CONTEXT; y++) {
				if (ops[y] == OP_SAME) {
					same++;
				} else {
					same = 0;
					hi = y;
				}
			}
			hi = hi + CONTEXT + 1 < k ? hi + CONTEXT + 1 : k;
			for (size_t y = lo; y < hi; y++) {
				na += ops[y] != OP_ADD;
				nb += ops[y] != OP_DEL;
			}
			rc = pv_buf_appendf(out, "@@ -%zu,%zu +%zu,%zu @@\n", ia[lo] + 1, na,
					    ib[lo] + 1, nb);
			for (size_t y = lo; rc == 0 && y < hi; y++)
				rc = ops[y] == OP_ADD ? emit_line(out, '+', &b->lines[ib[y]])
					: emit_line(out, ops[y] == OP_DEL ? '-' : ' ', &a->lines[ia[y]]);
			x = hi;
		}
		if (rc) {
			pv_buf_truncate(out, start);
			rc = pv_fail(PV_ERR_TOO_BIG, "eeprom", "diff output too large");
			goto out_free;
		}
	}
	*changed = count;
out_free:
	free(lcs);
	free(ops);
	free(ia);
	free(ib);
	return rc;
}
