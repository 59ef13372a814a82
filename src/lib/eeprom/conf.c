/* bootconf.txt line model: every byte kept (line endings per line, a missing final newline,
 * comments, sections), edits touch only the lines they must. Classification and scopes
 * follow the bootloader's config.txt-style parser (../shared/docs/eeprom-format.md §5). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "piprov/datadir.h"
#include "piprov/eeprom_config.h"
#include "piprov/fileio.h"
#include "piprov/text.h"
#include "eeprom_conf_internal.h"
#include "banned.h"

#define DEFAULT_BOOT_ORDER 0xf41u
#define MAX_BOOT_MODES 8u
#define BOOT_MODE_RPIBOOT 0x3u
#define BOOT_MODE_STOP 0xeu
#define BOOT_MODE_RESTART 0xfu

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

bool pv_eeprom_conf_key_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* Classify text[0..len) and work out its scope given the scope before it. */
static void classify(struct pv_conf_line *line, enum pv_conf_scope *scope)
{
	const char *t = line->text;
	size_t b = 0, e = line->len, k = 0;

	line->key_len = 0;
	free(line->value);
	line->value = NULL;
	if (*scope == PV_CONF_SCOPE_CONFIG_TXT) {
		line->kind = PV_CONF_LINE_OTHER;
		line->scope = *scope;
		return;
	}
	while (b < e && is_space(t[b]))
		b++;
	while (e > b && is_space(t[e - 1]))
		e--;
	if (b == e) {
		line->kind = PV_CONF_LINE_BLANK;
	} else if (t[b] == '#') {
		line->kind = PV_CONF_LINE_COMMENT;
	} else if (t[b] == '[' && t[e - 1] == ']') {
		size_t n = e - b - 2;
		const char *f = t + b + 1;
		line->kind = PV_CONF_LINE_SECTION;
		if (n == 3 && memcmp(f, "all", 3) == 0)
			*scope = PV_CONF_SCOPE_ALL;
		else if (n == 4 && memcmp(f, "none", 4) == 0)
			*scope = PV_CONF_SCOPE_NONE;
		else if (n == 10 && memcmp(f, "config.txt", 10) == 0)
			*scope = PV_CONF_SCOPE_CONFIG_TXT;
		else
			*scope = PV_CONF_SCOPE_FILTER;
	} else {
		while (k < line->len && pv_eeprom_conf_key_char(t[k]))
			k++;
		if (k > 0 && k < line->len && t[k] == '=' && b == 0) {
			line->kind = PV_CONF_LINE_ASSIGN;
			line->key_len = k;
			line->value = strndup(t + k + 1, e > k + 1 ? e - k - 1 : 0);
		} else {
			line->kind = PV_CONF_LINE_OTHER;
		}
	}
	line->scope = *scope;
}

static void reclassify(struct pv_eeprom_conf *conf)
{
	enum pv_conf_scope scope = PV_CONF_SCOPE_ALL;

	for (size_t i = 0; i < conf->n; i++)
		classify(&conf->lines[i], &scope);
}

static int set_text(struct pv_conf_line *line, const char *text, size_t len)
{
	char *copy = malloc(len + 1);

	if (!copy)
		return pv_fail(PV_ERR_NOMEM, "eeprom", "out of memory");
	memcpy(copy, text, len);
	copy[len] = '\0';
	free(line->text);
	line->text = copy;
	line->len = len;
	return PV_OK;
}

static int insert_line(struct pv_eeprom_conf *conf, size_t at)
{
	if (conf->n == conf->cap) {
		size_t cap = conf->cap ? conf->cap * 2 : 16;
		struct pv_conf_line *grown = realloc(conf->lines, cap * sizeof(*grown));
		if (!grown)
			return pv_fail(PV_ERR_NOMEM, "eeprom", "out of memory");
		conf->lines = grown;
		conf->cap = cap;
	}
	memmove(&conf->lines[at + 1], &conf->lines[at], (conf->n - at) * sizeof(*conf->lines));
	memset(&conf->lines[at], 0, sizeof(*conf->lines));
	conf->lines[at].eol = "";
	conf->n++;
	return PV_OK;
}

static void remove_line(struct pv_eeprom_conf *conf, size_t at)
{
	free(conf->lines[at].text);
	free(conf->lines[at].value);
	memmove(&conf->lines[at], &conf->lines[at + 1], (conf->n - at - 1) * sizeof(*conf->lines));
	conf->n--;
}

int pv_eeprom_conf_parse(const void *text, size_t len, const char *name,
			 struct pv_eeprom_conf **out)
{
	const char *p = text, *end = p + len;
	struct pv_eeprom_conf *conf;
	int rc;

	if (!name)
		name = "config";
	if (len > PV_EEPROM_CONF_MAX_TEXT)
		return pv_fail(PV_ERR_TOO_BIG, "eeprom", "'%s': larger than %u bytes", name,
			       PV_EEPROM_CONF_MAX_TEXT);
	conf = calloc(1, sizeof(*conf));
	if (!conf || !(conf->name = strdup(name))) {
		free(conf);
		return pv_fail(PV_ERR_NOMEM, "eeprom", "out of memory");
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct pv_conf_line *line;

		rc = insert_line(conf, conf->n);
		if (rc)
			goto out_free;
		line = &conf->lines[conf->n - 1];
		if (nl && n > 0 && p[n - 1] == '\r') {
			line->eol = "\r\n";
			n--;
		} else {
			line->eol = nl ? "\n" : "";
		}
		rc = set_text(line, p, n);
		if (rc)
			goto out_free;
		p = nl ? nl + 1 : end;
	}
	reclassify(conf);
	*out = conf;
	return PV_OK;

out_free:
	pv_eeprom_conf_free(conf);
	return rc;
}

int pv_eeprom_conf_load(const char *path, struct pv_eeprom_conf **out)
{
	struct pv_buf buf = PV_BUF_INIT(SIZE_MAX);
	int rc = pv_file_read_raw(path, PV_EEPROM_CONF_MAX_TEXT, &buf);

	if (rc == 0)
		rc = pv_eeprom_conf_parse(buf.data ? buf.data : (const unsigned char *)"", buf.len,
					  path, out);
	pv_buf_release(&buf);
	return rc;
}

void pv_eeprom_conf_free(struct pv_eeprom_conf *conf)
{
	if (!conf)
		return;
	for (size_t i = 0; i < conf->n; i++) {
		free(conf->lines[i].text);
		free(conf->lines[i].value);
	}
	free(conf->lines);
	free(conf->name);
	free(conf);
}

int pv_eeprom_conf_serialize(const struct pv_eeprom_conf *conf, struct pv_buf *out)
{
	size_t start = out->len;

	for (size_t i = 0; i < conf->n; i++) {
		if (pv_buf_append(out, conf->lines[i].text, conf->lines[i].len) != 0 ||
		    pv_buf_append_str(out, conf->lines[i].eol) != 0) {
			pv_buf_truncate(out, start);
			return pv_fail(PV_ERR_TOO_BIG, "eeprom", "'%s': output buffer too small",
				       conf->name);
		}
	}
	return PV_OK;
}

static bool key_is(const struct pv_conf_line *line, const char *key)
{
	size_t n = strlen(key);

	return line->kind == PV_CONF_LINE_ASSIGN && line->key_len == n &&
	       memcmp(line->text, key, n) == 0;
}

static long last_unconditional(const struct pv_eeprom_conf *conf, const char *key)
{
	for (size_t i = conf->n; i-- > 0;)
		if (conf->lines[i].scope == PV_CONF_SCOPE_ALL && key_is(&conf->lines[i], key))
			return (long)i;
	return -1;
}

const char *pv_eeprom_conf_get(const struct pv_eeprom_conf *conf, const char *key)
{
	long i = last_unconditional(conf, key);

	if (i < 0)
		return NULL;
	return conf->lines[i].value ? conf->lines[i].value : "";
}

static int check_key_value(const struct pv_eeprom_conf *conf, const char *key,
			   const char *value)
{
	size_t klen = strlen(key);

	if (klen == 0 || klen > PV_EEPROM_CONF_MAX_KEY)
		return pv_fail(PV_ERR_INVALID, "eeprom", "'%s': bad property name '%.64s'",
			       conf->name, key);
	for (size_t i = 0; i < klen; i++)
		if (!pv_eeprom_conf_key_char(key[i]))
			return pv_fail(PV_ERR_INVALID, "eeprom",
				       "'%s': bad property name '%.64s' (letters, digits and _ only)",
				       conf->name, key);
	if (!value)
		return PV_OK;
	if (strlen(value) > PV_EEPROM_CONF_MAX_VALUE)
		return pv_fail(PV_ERR_TOO_BIG, "eeprom", "'%s': value of '%s' longer than %u bytes",
			       conf->name, key, PV_EEPROM_CONF_MAX_VALUE);
	for (const char *v = value; *v; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return pv_fail(PV_ERR_INVALID, "eeprom",
				       "'%s': value of '%s' contains a control character",
				       conf->name, key);
	return PV_OK;
}

/* The file's line ending: that of its first terminated line, else "\n". */
static const char *dominant_eol(const struct pv_eeprom_conf *conf)
{
	for (size_t i = 0; i < conf->n; i++)
		if (conf->lines[i].eol[0])
			return conf->lines[i].eol;
	return "\n";
}

/* Where a new unconditional assignment goes: after the last one; failing that, at the end
 * of the first unconditional region, before its trailing blank lines. */
static size_t insertion_point(const struct pv_eeprom_conf *conf)
{
	size_t at = 0;

	for (size_t i = 0; i < conf->n; i++)
		if (conf->lines[i].scope == PV_CONF_SCOPE_ALL &&
		    conf->lines[i].kind == PV_CONF_LINE_ASSIGN)
			at = i + 1;
	if (at)
		return at;
	while (at < conf->n && conf->lines[at].scope == PV_CONF_SCOPE_ALL)
		at++;
	while (at > 0 && conf->lines[at - 1].kind == PV_CONF_LINE_BLANK)
		at--;
	return at;
}

int pv_eeprom_conf_set(struct pv_eeprom_conf *conf, const char *key, const char *value)
{
	char text[PV_EEPROM_CONF_MAX_KEY + 1 + PV_EEPROM_CONF_MAX_VALUE + 1];
	int len, rc = check_key_value(conf, key, value);
	long found;
	size_t at;

	if (rc)
		return rc;
	len = snprintf(text, sizeof(text), "%s=%s", key, value);
	found = last_unconditional(conf, key);
	if (found >= 0) {
		rc = set_text(&conf->lines[found], text, (size_t)len);
		reclassify(conf);
		return rc;
	}
	at = insertion_point(conf);
	rc = insert_line(conf, at);
	if (rc)
		return rc;
	rc = set_text(&conf->lines[at], text, (size_t)len);
	if (rc) {
		remove_line(conf, at);
		return rc;
	}
	/* Decision (docs/eeprom.md, "Edits"): a line we add is a whole line. After a last line
	 * without newline that line is terminated first (never "B=2C=3"), and ours ends with
	 * the file's line ending, so a later `printf ... >>` cannot glue onto it either, and
	 * rpi-eeprom-update's `wc -l` line count sees every line. Only that one byte sequence
	 * outside the new line changes. */
	conf->lines[at].eol = dominant_eol(conf);
	if (at > 0 && !conf->lines[at - 1].eol[0])
		conf->lines[at - 1].eol = conf->lines[at].eol;
	reclassify(conf);
	return PV_OK;
}

int pv_eeprom_conf_unset(struct pv_eeprom_conf *conf, const char *key)
{
	bool removed = false;
	int rc = check_key_value(conf, key, NULL);

	if (rc)
		return rc;
	for (size_t i = conf->n; i-- > 0;) {
		if (conf->lines[i].scope == PV_CONF_SCOPE_ALL && key_is(&conf->lines[i], key)) {
			/* Removing the unterminated last line: the new last line loses its EOL. */
			if (i + 1 == conf->n && !conf->lines[i].eol[0] && i > 0)
				conf->lines[i - 1].eol = "";
			remove_line(conf, i);
			removed = true;
		}
	}
	if (!removed)
		return pv_fail(PV_ERR_NOT_FOUND, "eeprom", "'%s': '%s' is not set", conf->name, key);
	reclassify(conf);
	return PV_OK;
}

int pv_eeprom_conf_merge(struct pv_eeprom_conf *conf, const struct pv_eeprom_conf *preset)
{
	for (size_t i = 0; i < preset->n; i++) {
		const struct pv_conf_line *l = &preset->lines[i];
		char key[PV_EEPROM_CONF_MAX_KEY + 1];
		int rc;

		if (l->scope != PV_CONF_SCOPE_ALL || l->kind != PV_CONF_LINE_ASSIGN)
			continue;
		if (l->key_len > PV_EEPROM_CONF_MAX_KEY)
			return pv_fail(PV_ERR_INVALID, "eeprom", "'%s': line %zu: name too long",
				       preset->name, i + 1);
		memcpy(key, l->text, l->key_len);
		key[l->key_len] = '\0';
		rc = pv_eeprom_conf_set(conf, key, l->value ? l->value : "");
		if (rc)
			return rc;
	}
	return PV_OK;
}

/* The preset folder: dir when given, else $PIPROV_FIRMWARE_TEMPLATES, which replaces the
 * installed folder with no fallback behind it (a preset is then read from there or not at
 * all), else the one beside the program (bin/../share/piprov), wherever it was installed
 * or moved: no path of the build machine is compiled in. */
static int preset_dir(const char *dir, const char *name, char *buf, size_t size,
		      const char **out)
{
	if (!dir || !*dir)
		dir = getenv("PIPROV_FIRMWARE_TEMPLATES");
	if (!dir || !*dir) {
		if (pv_data_dir("firmware-templates", buf, size) != PV_OK)
			return pv_fail(PV_ERR_NOT_FOUND, "eeprom",
				       "no preset '%s': the data folder is unknown (%s); set "
				       "PIPROV_FIRMWARE_TEMPLATES", name, pv_last_error());
		dir = buf;
	}
	*out = dir;
	return PV_OK;
}

static int preset_name_check(const char *name)
{
	if (!name[0])
		return pv_fail(PV_ERR_INVALID, "eeprom", "empty preset name");
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' ||
		      *c == '_'))
			return pv_fail(PV_ERR_INVALID, "eeprom", "bad preset name '%.64s'", name);
	return PV_OK;
}

int pv_eeprom_preset_load(const char *dir, const struct pv_soc_info *soc, const char *name,
			  struct pv_eeprom_conf **out)
{
	char path[4096], installed[4096];
	int n, rc = preset_name_check(name);

	if (rc)
		return rc;
	if (!soc || !soc->eeprom_size)
		return pv_fail(PV_ERR_INVALID, "eeprom", "presets need a SoC with an EEPROM");
	if ((rc = preset_dir(dir, name, installed, sizeof(installed), &dir)))
		return rc;
	n = snprintf(path, sizeof(path), "%s/%s/%s.conf", dir, soc->chip, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return pv_fail(PV_ERR_TOO_BIG, "eeprom", "preset folder '%.256s...': path too long",
			       dir);
	if (!pv_path_exists(path))
		return pv_fail(PV_ERR_NOT_FOUND, "eeprom",
			       "no preset '%s' for %s (looked for %s/%s.conf under %s)", name,
			       soc->name, soc->chip, name, dir);
	return pv_eeprom_conf_load(path, out);
}

#define PRESET_NAMES_MAX 32

/* Add the NAME of every NAME.conf in folder to names (sorted, no repeats). */
static void collect_preset_names(const char *folder, char names[][64], size_t *count)
{
	DIR *d = opendir(folder);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) && *count < PRESET_NAMES_MAX) {
		size_t len = strlen(e->d_name), at = 0;

		if (len < 6 || len - 5 >= 64 || strcmp(e->d_name + len - 5, ".conf") != 0)
			continue;
		while (at < *count && strncmp(names[at], e->d_name, len - 5) < 0)
			at++;
		if (at < *count && strlen(names[at]) == len - 5 &&
		    strncmp(names[at], e->d_name, len - 5) == 0)
			continue;
		memmove(names[at + 1], names[at], (*count - at) * sizeof(names[0]));
		memcpy(names[at], e->d_name, len - 5);
		names[at][len - 5] = '\0';
		(*count)++;
	}
	closedir(d);
}

int pv_eeprom_preset_check(const char *dir, const char *name)
{
	size_t count = 0, len = 0;
	char names[PRESET_NAMES_MAX + 1][64], path[4096], installed[4096];
	char list[PRESET_NAMES_MAX * 66] = "";
	const struct pv_soc_info *soc;
	int rc = preset_name_check(name);

	if (rc || (rc = preset_dir(dir, name, installed, sizeof(installed), &dir)))
		return rc;
	for (size_t i = 0; (soc = pv_soc_at(i)); i++) {
		if (!soc->eeprom_size)
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s.conf", dir, soc->chip, name);
		if (pv_path_exists(path))
			return PV_OK;
		snprintf(path, sizeof(path), "%s/%s", dir, soc->chip);
		collect_preset_names(path, names, &count);
	}
	for (size_t i = 0; i < count; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
					names[i]);
	return pv_fail(PV_ERR_NOT_FOUND, "eeprom", "no preset '%s' (%s%s)", name,
		       count ? "presets: " : "no presets found under ", count ? list : dir);
}

/* ---- BOOT_ORDER ---- */

static const struct {
	unsigned nibble;
	const char *name;
	const char *alias;
} boot_modes[] = {
	{ 0x0, "sd-detect", NULL },
	{ 0x1, "sd", "emmc" },
	{ 0x2, "network", "net" },
	{ 0x3, "rpiboot", "usbboot" },
	{ 0x4, "usb", "usb-msd" },
	{ 0x5, "bcm-usb", "bcm-usb-msd" },
	{ 0x6, "nvme", NULL },
	{ 0x7, "http", NULL },
	{ 0xe, "stop", NULL },
	{ 0xf, "restart", NULL },
};

int pv_eeprom_boot_mode_parse(const char *name)
{
	for (size_t i = 0; i < PV_ARRAY_SIZE(boot_modes); i++)
		if (strcmp(name, boot_modes[i].name) == 0 ||
		    (boot_modes[i].alias && strcmp(name, boot_modes[i].alias) == 0))
			return (int)boot_modes[i].nibble;
	if (name[0] && !name[1]) {
		uint32_t v;
		if (pv_parse_u32(name, 16, &v) == 0 && pv_eeprom_boot_mode_name(v))
			return (int)v;
	}
	return -1;
}

const char *pv_eeprom_boot_mode_name(unsigned nibble)
{
	for (size_t i = 0; i < PV_ARRAY_SIZE(boot_modes); i++)
		if (boot_modes[i].nibble == nibble)
			return boot_modes[i].name;
	return NULL;
}

int pv_eeprom_conf_boot_order(const struct pv_eeprom_conf *conf, uint32_t *order)
{
	const char *v = pv_eeprom_conf_get(conf, "BOOT_ORDER");
	uint32_t value;

	if (!v || !*v) {
		*order = DEFAULT_BOOT_ORDER;
		return PV_OK;
	}
	/* Hex only: "21" would be read as decimal 21 = 0x15 (USB-MSD, BCM-USB), not 0x21. */
	if (!(v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) || pv_parse_u32(v, 0, &value) != 0)
		return pv_fail(PV_ERR_FORMAT, "eeprom",
			       "'%s': BOOT_ORDER '%s' is not a hex number like 0xf41", conf->name, v);
	*order = value ? value : DEFAULT_BOOT_ORDER;
	return PV_OK;
}

static bool is_terminator(unsigned mode)
{
	return mode == BOOT_MODE_STOP || mode == BOOT_MODE_RESTART;
}

/* Modes from the lowest nibble (first tried) up, with mode taken out when drop. */
static size_t order_to_modes(uint32_t order, unsigned *modes, int drop)
{
	size_t n = 0;

	for (; order; order >>= 4)
		if ((int)(order & 0xf) != drop)
			modes[n++] = order & 0xf;
	return n;
}

int pv_eeprom_conf_boot_place(struct pv_eeprom_conf *conf, unsigned mode,
			      enum pv_eeprom_boot_position position,
			      const struct pv_eeprom_conf_target *target)
{
	unsigned modes[MAX_BOOT_MODES + 1], kept[MAX_BOOT_MODES];
	uint32_t order, result = 0;
	size_t n, m, at;
	char text[16];
	int rc;

	if (mode > 0xf || !pv_eeprom_boot_mode_name(mode) || mode == 0 || is_terminator(mode))
		return pv_fail(PV_ERR_INVALID, "eeprom", "'%s': BOOT_ORDER: 0x%x is not a boot "
			       "mode to try (STOP, RESTART and the deprecated 0 are not)", conf->name,
			       mode);
	rc = pv_eeprom_conf_boot_order(conf, &order);
	if (rc)
		return rc;
	n = order_to_modes(order, modes, -1);
	if (position == PV_EEPROM_BOOT_FALLBACK) {
		/* Already tried (before any STOP/RESTART): the user's order stays as it is. */
		for (size_t i = 0; i < n && !is_terminator(modes[i]); i++)
			if (modes[i] == mode)
				return PV_OK;
		m = order_to_modes(order, kept, (int)mode);
		for (at = 0; at < m && !is_terminator(kept[at]);)
			at++;
		/* RPIBOOT waits for ever: a new fallback goes before it. */
		if (at > 0 && kept[at - 1] == BOOT_MODE_RPIBOOT)
			at--;
		memcpy(modes, kept, at * sizeof(*modes));
		modes[at] = mode;
		memcpy(modes + at + 1, kept + at, (m - at) * sizeof(*modes));
	} else {
		m = order_to_modes(order, kept, (int)mode);
		modes[0] = mode;
		memcpy(modes + 1, kept, m * sizeof(*modes));
	}
	if (m + 1 > MAX_BOOT_MODES)
		return pv_fail(PV_ERR_NO_SPACE, "eeprom", "'%s': BOOT_ORDER 0x%x already holds %u "
			       "modes: no room for 0x%x (%s) on %s", conf->name, order,
			       MAX_BOOT_MODES, mode, pv_eeprom_boot_mode_name(mode),
			       pv_eeprom_conf_target_label(target));
	for (size_t i = m + 1; i-- > 0;)
		result = result << 4 | modes[i];
	rc = pv_eeprom_boot_order_require(conf->name, result, target);
	if (rc)
		return rc;
	snprintf(text, sizeof(text), "0x%x", result);
	return pv_eeprom_conf_set(conf, "BOOT_ORDER", text);
}

int pv_eeprom_conf_boot_first(struct pv_eeprom_conf *conf, unsigned mode)
{
	return pv_eeprom_conf_boot_place(conf, mode, PV_EEPROM_BOOT_FIRST, NULL);
}

int pv_eeprom_conf_boot_fallback(struct pv_eeprom_conf *conf, unsigned mode)
{
	return pv_eeprom_conf_boot_place(conf, mode, PV_EEPROM_BOOT_FALLBACK, NULL);
}
