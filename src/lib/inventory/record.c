/* The record model: field names, validation of every value that enters a record (from the
 * command line, the inventory file or an importer) and the derived names (8-digit TFTP
 * serial, TFTP folder). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "inventory_internal.h"
#include "piprov/inventory.h"
#include "piprov/text.h"
#include "banned.h"

static const char *const source_names[] = {
	[PV_INVENTORY_SOURCE_NONE] = "none",     [PV_INVENTORY_SOURCE_USB] = "usb",
	[PV_INVENTORY_SOURCE_NODE] = "node",     [PV_INVENTORY_SOURCE_UART] = "uart",
	[PV_INVENTORY_SOURCE_MANUAL] = "manual",
};

static const char *const fact_names[PV_FACT_COUNT] = {
	[PV_FACT_SERIAL] = "serial",
	[PV_FACT_MAC] = "mac",
	[PV_FACT_WIFI_MAC] = "wifi_mac",
	[PV_FACT_BT_MAC] = "bt_mac",
	[PV_FACT_REVISION] = "board_revision",
	[PV_FACT_UUID] = "uuid",
	[PV_FACT_HOSTNAME] = "hostname",
	[PV_FACT_IP] = "ip",
	[PV_FACT_TFTP_PREFIX] = "tftp_prefix",
	[PV_FACT_BOOT_ORDER] = "boot_order",
	[PV_FACT_CONFIG_HASH] = "config_hash",
	[PV_FACT_BOOTLOADER] = "bootloader",
};

static const char *const prefix_names[] = {
	[PV_TFTP_PREFIX_SERIAL] = "serial",
	[PV_TFTP_PREFIX_STRING] = "string",
	[PV_TFTP_PREFIX_MAC] = "mac",
};

const char *pv_inventory_source_name(enum pv_inventory_source source)
{
	if ((size_t)source < PV_ARRAY_SIZE(source_names))
		return source_names[source];
	return "none";
}

int pv_inventory_source_parse(const char *name, enum pv_inventory_source *out)
{
	for (size_t i = 1; i < PV_ARRAY_SIZE(source_names); i++) {
		if (strcmp(name, source_names[i]) == 0) {
			*out = (enum pv_inventory_source)i;
			return PV_OK;
		}
	}
	return pv_fail(PV_ERR_INVALID, "inventory",
		       "'%s' is not a source (usb, node, uart or manual)", name);
}

const char *pv_inventory_fact_name(enum pv_inventory_fact fact)
{
	if ((size_t)fact < PV_FACT_COUNT)
		return fact_names[fact];
	return "?";
}

const char *pv_tftp_prefix_name(enum pv_tftp_prefix mode)
{
	if ((size_t)mode < PV_ARRAY_SIZE(prefix_names))
		return prefix_names[mode];
	return "serial";
}

int pv_tftp_prefix_parse(const char *name, enum pv_tftp_prefix *out)
{
	uint32_t number;

	for (size_t i = 0; i < PV_ARRAY_SIZE(prefix_names); i++) {
		if (strcmp(name, prefix_names[i]) == 0) {
			*out = (enum pv_tftp_prefix)i;
			return PV_OK;
		}
	}
	/* The EEPROM's own numbers (TFTP_PREFIX=0/1/2) are accepted too. */
	if (pv_parse_u32(name, 10, &number) == PV_OK && number < PV_ARRAY_SIZE(prefix_names)) {
		*out = (enum pv_tftp_prefix)number;
		return PV_OK;
	}
	return pv_fail(PV_ERR_INVALID, "inventory",
		       "field 'tftp_prefix': '%s' is not serial, mac, string, 0, 1 or 2", name);
}

void pv_inventory_record_init(struct pv_inventory_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->serial_digits = 0;
}

/* A record's tags are one allocation: the n pointers, then the n strings they point to.
 * Two allocations per tag (the array and a strdup) were a tenth of loading or importing
 * 100,000 boards, most of it first touches of fresh heap pages. */
static size_t tags_size(const struct pv_inventory_record *rec)
{
	size_t size = rec->n_tags * sizeof(*rec->tags);

	for (size_t i = 0; i < rec->n_tags; i++)
		size += strlen(rec->tags[i]) + 1;
	return size;
}

/* A block for the tags of rec plus `extra` (NULL for none), in that order. */
static char **tags_block(const struct pv_inventory_record *rec, const char *extra)
{
	size_t n = rec->n_tags + (extra ? 1 : 0);
	size_t size = tags_size(rec) + (extra ? sizeof(char *) + strlen(extra) + 1 : 0);
	char **block = malloc(size ? size : 1);
	char *p;

	if (!block)
		return NULL;
	p = (char *)(block + n);
	for (size_t i = 0; i < n; i++) {
		const char *tag = i < rec->n_tags ? rec->tags[i] : extra;
		size_t len = strlen(tag) + 1;

		memcpy(p, tag, len);
		block[i] = p;
		p += len;
	}
	return block;
}

static void free_tags(struct pv_inventory_record *rec)
{
	free(rec->tags);
	rec->tags = NULL;
	rec->n_tags = 0;
}

void pv_inventory_record_release(struct pv_inventory_record *rec)
{
	if (!rec)
		return;
	free_tags(rec);
	free(rec->notes);
	rec->notes = NULL;
}

int pv_inventory_record_copy(struct pv_inventory_record *dst, const struct pv_inventory_record *src)
{
	struct pv_inventory_record tmp = *src;

	tmp.tags = NULL;
	tmp.n_tags = 0;
	tmp.notes = NULL;
	if (src->n_tags) {
		tmp.tags = tags_block(src, NULL);
		if (!tmp.tags)
			return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
		tmp.n_tags = src->n_tags;
	}
	if (src->notes && pv_inventory_record_set_notes(&tmp, src->notes)) {
		pv_inventory_record_release(&tmp);
		return PV_ERR_NOMEM;
	}
	*dst = tmp;
	return PV_OK;
}

int pv_inventory_record_set_serial(struct pv_inventory_record *rec, const char *text)
{
	uint64_t serial;
	int digits;

	if (pv_serial_parse(text, &serial, &digits))
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "field 'serial': '%s' is not 8 or 16 hex digits", text);
	rec->serial = serial;
	rec->serial_digits = digits;
	return PV_OK;
}

static bool tag_valid(const char *tag)
{
	size_t len = strlen(tag);

	if (len == 0 || len >= PV_INVENTORY_TAG_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = tag[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '='))
			return false;
	}
	return true;
}

int pv_inventory_record_add_tag(struct pv_inventory_record *rec, const char *tag)
{
	char **tags;

	if (!tag_valid(tag))
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "field 'tags': '%s' is not a tag (1-%d letters, digits, - _ . : / =)",
			       tag, PV_INVENTORY_TAG_MAX - 1);
	for (size_t i = 0; i < rec->n_tags; i++)
		if (strcmp(rec->tags[i], tag) == 0)
			return PV_OK;
	if (rec->n_tags >= PV_INVENTORY_MAX_TAGS)
		return pv_fail(PV_ERR_TOO_BIG, "inventory", "field 'tags': more than %d tags",
			       PV_INVENTORY_MAX_TAGS);
	tags = tags_block(rec, tag);
	if (!tags)
		return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
	free(rec->tags);
	rec->tags = tags;
	rec->n_tags++;
	return PV_OK;
}

int pv_inventory_record_set_notes(struct pv_inventory_record *rec, const char *notes)
{
	size_t len = strlen(notes);
	char *copy;

	if (len >= PV_INVENTORY_NOTES_MAX)
		return pv_fail(PV_ERR_TOO_BIG, "inventory", "field 'notes': longer than %d bytes",
			       PV_INVENTORY_NOTES_MAX - 1);
	if (!pv_text_is_printable(notes, len))
		return pv_fail(PV_ERR_INVALID, "inventory", "field 'notes': control characters");
	free(rec->notes);
	rec->notes = NULL;
	if (len == 0)
		return PV_OK;
	copy = strdup(notes);
	if (!copy)
		return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
	rec->notes = copy;
	return PV_OK;
}

static int set_tags(struct pv_inventory_record *rec, const char *value, bool replace)
{
	char item[PV_INVENTORY_TAG_MAX + 1];
	const char *p = value;
	int rc;

	if (replace)
		free_tags(rec);
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		while (len > 0 && *p == ' ') {
			p++;
			len--;
		}
		while (len > 0 && p[len - 1] == ' ')
			len--;
		if (len >= sizeof(item))
			return pv_fail(PV_ERR_INVALID, "inventory",
				       "field 'tags': a tag is longer than %d characters",
				       PV_INVENTORY_TAG_MAX - 1);
		if (len > 0) {
			memcpy(item, p, len);
			item[len] = '\0';
			rc = pv_inventory_record_add_tag(rec, item);
			if (rc)
				return rc;
		}
		if (!end)
			break;
		p = end + 1;
	}
	return PV_OK;
}

static int set_mac(const char *field, const char *value, uint8_t mac[6], bool *has)
{
	if (*value == '\0') {
		*has = false;
		return PV_OK;
	}
	if (pv_mac_parse(value, mac))
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "field '%s': '%s' is not a MAC address (aa:bb:cc:dd:ee:ff)", field,
			       value);
	*has = true;
	return PV_OK;
}

static int set_text(const char *field, const char *value, char *dst, size_t size, bool hex_only)
{
	size_t len = strlen(value);

	if (len >= size)
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "field '%s': longer than %zu characters", field, size - 1);
	for (size_t i = 0; i < len; i++) {
		char c = value[i];
		bool ok = hex_only ? ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
				      (c >= 'A' && c <= 'F'))
				   : (c > 0x20 && c < 0x7f && c != '"' && c != '\\');
		if (!ok)
			return pv_fail(PV_ERR_INVALID, "inventory",
				       "field '%s': '%s' has a character that is not allowed "
				       "(%s)", field, value, hex_only ? "hex digits only" : "space, quote or control");
	}
	for (size_t i = 0; i <= len; i++)
		dst[i] = hex_only && value[i] >= 'A' && value[i] <= 'F' ? (char)(value[i] + 32)
								      : value[i];
	return PV_OK;
}

static int set_time_field(const char *field, const char *value, int64_t *out)
{
	int64_t t;

	if (*value == '\0') {
		*out = 0;
		return PV_OK;
	}
	if (pv_inventory_parse_time(value, &t) && pv_parse_i64(value, &t))
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "field '%s': '%s' is not a time (2026-11-25T04:27:40Z or Unix "
			       "seconds)", field, value);
	if (t < 0)
		return pv_fail(PV_ERR_INVALID, "inventory", "field '%s': negative time", field);
	*out = t;
	return PV_OK;
}

/* TFTP_PREFIX_STR as the bootloader uses it: one path component, at most 32 characters.
 * The inventory keeps the folder name; the bootloader setting is usually written with its
 * separator ("cluster-a/", as in the documentation's example), so one is accepted and
 * dropped: both name the same folder. */
static int set_prefix_str(const char *value, struct pv_inventory_record *rec)
{
	size_t len = strlen(value);

	if (len > 0 && value[len - 1] == '/')
		len--;

	if (len >= PV_INVENTORY_PREFIX_STR_MAX)
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "field 'tftp_prefix_str': longer than %d characters",
			       PV_INVENTORY_PREFIX_STR_MAX - 1);
	for (size_t i = 0; i < len; i++) {
		char c = value[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return pv_fail(PV_ERR_INVALID, "inventory",
				       "field 'tftp_prefix_str': '%s' must be letters, digits, - _ . "
				       "(and one final /)", value);
	}
	if ((len == 0 && value[0]) || (len == 1 && value[0] == '.') ||
	    (len == 2 && value[0] == '.' && value[1] == '.'))
		return pv_fail(PV_ERR_INVALID, "inventory", "field 'tftp_prefix_str': '%s'", value);
	memcpy(rec->tftp_prefix_str, value, len);
	rec->tftp_prefix_str[len] = '\0';
	return PV_OK;
}

/* Settings of a board: the keys of the file and of KEY=VALUE arguments. */
struct field_name {
	const char *name;
	unsigned char len;
	unsigned char field; /* enum pv_inventory_field */
};
#define FIELD(text, id) { text, sizeof(text) - 1, id }
static const struct field_name field_names[] = {
	FIELD("serial", PV_FIELD_SERIAL),
	FIELD("mac", PV_FIELD_MAC),
	FIELD("wifi_mac", PV_FIELD_WIFI_MAC),
	FIELD("bt_mac", PV_FIELD_BT_MAC),
	FIELD("board_revision", PV_FIELD_REVISION),
	FIELD("uuid", PV_FIELD_UUID),
	FIELD("hostname", PV_FIELD_HOSTNAME),
	FIELD("ip", PV_FIELD_IP),
	FIELD("tftp_prefix", PV_FIELD_TFTP_PREFIX),
	FIELD("tftp_prefix_str", PV_FIELD_TFTP_PREFIX_STR),
	FIELD("boot_order", PV_FIELD_BOOT_ORDER),
	FIELD("config_hash", PV_FIELD_CONFIG_HASH),
	FIELD("bootloader_version", PV_FIELD_BOOTLOADER_VERSION),
	FIELD("bootloader_build_ts", PV_FIELD_BOOTLOADER_BUILD_TS),
	FIELD("eeprom_hash", PV_FIELD_EEPROM_HASH),
	FIELD("flashed_at", PV_FIELD_FLASHED_AT),
	FIELD("tags", PV_FIELD_TAGS),
	FIELD("notes", PV_FIELD_NOTES),
	FIELD("seen", PV_FIELD_SEEN),
	/* Not in the file, only in KEY=VALUE arguments. */
	FIELD("revision", PV_FIELD_REVISION),
	FIELD("tags+", PV_FIELD_TAGS_ADD),
};
#undef FIELD
/* The first entries are the file's settings. */
#define FILE_FIELDS 19

int pv_inventory_field_lookup(const char *name, size_t len, bool in_file)
{
	size_t n = in_file ? FILE_FIELDS : PV_ARRAY_SIZE(field_names);

	/* Comparing lengths first: a load looks up a million names. */
	for (size_t i = 0; i < n; i++)
		if (field_names[i].len == len && memcmp(field_names[i].name, name, len) == 0)
			return field_names[i].field;
	return -1;
}

int pv_inventory_fact_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < PV_FACT_COUNT; i++)
		if (fact_names[i][0] == name[0] && strncmp(fact_names[i], name, len) == 0 &&
		    fact_names[i][len] == '\0')
			return (int)i;
	return -1;
}

static int set_revision(struct pv_inventory_record *rec, const char *value)
{
	uint32_t u32;

	if (*value == '\0') {
		rec->has_revision = false;
		return PV_OK;
	}
	if (strncmp(value, "0x", 2) == 0 || strncmp(value, "0X", 2) == 0)
		value += 2;
	if (strlen(value) > 8 || pv_parse_u32(value, 16, &u32))
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "field 'board_revision': '%s' is not a hex revision code "
			       "(e.g. c03111)", value);
	rec->revision = u32;
	rec->has_revision = true;
	return PV_OK;
}

static int set_hostname(struct pv_inventory_record *rec, const char *value)
{
	size_t len = strlen(value);

	if (len >= sizeof(rec->hostname))
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "field 'hostname': '%.80s' is longer than %zu characters", value,
			       sizeof(rec->hostname) - 1);
	if (*value && !pv_hostname_valid(value))
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "field 'hostname': '%s' is not a valid host name", value);
	memcpy(rec->hostname, value, len + 1);
	return PV_OK;
}

static int set_ip(struct pv_inventory_record *rec, const char *value)
{
	uint32_t u32;

	if (*value == '\0') {
		rec->has_ip = false;
		return PV_OK;
	}
	if (pv_ipv4_parse(value, &u32))
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "field 'ip': '%s' is not an IPv4 address", value);
	rec->ip = u32;
	rec->has_ip = true;
	return PV_OK;
}

static int set_tftp_prefix(struct pv_inventory_record *rec, const char *value)
{
	enum pv_tftp_prefix mode;
	int rc;

	if (*value == '\0') {
		rec->has_tftp_prefix = false;
		return PV_OK;
	}
	rc = pv_tftp_prefix_parse(value, &mode);
	if (rc)
		return rc;
	rec->tftp_prefix = mode;
	rec->has_tftp_prefix = true;
	return PV_OK;
}

static int set_boot_order(struct pv_inventory_record *rec, const char *value)
{
	uint32_t u32;

	if (*value == '\0') {
		rec->has_boot_order = false;
		return PV_OK;
	}
	if (pv_parse_u32(value, 0, &u32) || strncmp(value, "0x", 2) != 0)
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "field 'boot_order': '%s' is not a hex BOOT_ORDER (e.g. 0xf21)",
			       value);
	rec->boot_order = u32;
	rec->has_boot_order = true;
	return PV_OK;
}

int pv_inventory_record_set_field(struct pv_inventory_record *rec,
				  enum pv_inventory_field field, const char *value)
{
	switch (field) {
	case PV_FIELD_SERIAL: return pv_inventory_record_set_serial(rec, value);
	case PV_FIELD_MAC: return set_mac("mac", value, rec->mac, &rec->has_mac);
	case PV_FIELD_WIFI_MAC: return set_mac("wifi_mac", value, rec->wifi_mac, &rec->has_wifi_mac);
	case PV_FIELD_BT_MAC: return set_mac("bt_mac", value, rec->bt_mac, &rec->has_bt_mac);
	case PV_FIELD_REVISION: return set_revision(rec, value);
	case PV_FIELD_UUID: return set_text("uuid", value, rec->uuid, sizeof(rec->uuid), false);
	case PV_FIELD_HOSTNAME: return set_hostname(rec, value);
	case PV_FIELD_IP: return set_ip(rec, value);
	case PV_FIELD_TFTP_PREFIX: return set_tftp_prefix(rec, value);
	case PV_FIELD_TFTP_PREFIX_STR: return set_prefix_str(value, rec);
	case PV_FIELD_BOOT_ORDER: return set_boot_order(rec, value);
	case PV_FIELD_CONFIG_HASH:
		return set_text("config_hash", value, rec->config_hash, sizeof(rec->config_hash),
				true);
	case PV_FIELD_BOOTLOADER_VERSION:
		return set_text("bootloader_version", value, rec->bootloader_version,
				sizeof(rec->bootloader_version), false);
	case PV_FIELD_BOOTLOADER_BUILD_TS:
		return set_time_field("bootloader_build_ts", value, &rec->bootloader_build_ts);
	case PV_FIELD_EEPROM_HASH:
		return set_text("eeprom_hash", value, rec->eeprom_hash, sizeof(rec->eeprom_hash),
				true);
	case PV_FIELD_FLASHED_AT: return set_time_field("flashed_at", value, &rec->flashed_at);
	case PV_FIELD_TAGS: return set_tags(rec, value, true);
	case PV_FIELD_TAGS_ADD: return set_tags(rec, value, false);
	case PV_FIELD_NOTES: return pv_inventory_record_set_notes(rec, value);
	case PV_FIELD_SEEN:
	case PV_FIELD_COUNT:
		break;
	}
	return pv_fail(PV_ERR_INVALID, "inventory", "field '%s' cannot be set from text",
		       field == PV_FIELD_SEEN ? "seen" : "?");
}

int pv_inventory_record_set(struct pv_inventory_record *rec, const char *key, const char *value)
{
	int field = pv_inventory_field_lookup(key, strlen(key), false);

	if (field < 0 || field == PV_FIELD_SEEN)
		return pv_fail(PV_ERR_INVALID, "inventory", "unknown field '%s'", key);
	return pv_inventory_record_set_field(rec, (enum pv_inventory_field)field, value);
}

bool pv_inventory_record_has(const struct pv_inventory_record *rec, enum pv_inventory_fact fact)
{
	switch (fact) {
	case PV_FACT_SERIAL: return rec->serial_digits != 0;
	case PV_FACT_MAC: return rec->has_mac;
	case PV_FACT_WIFI_MAC: return rec->has_wifi_mac;
	case PV_FACT_BT_MAC: return rec->has_bt_mac;
	case PV_FACT_REVISION: return rec->has_revision;
	case PV_FACT_UUID: return rec->uuid[0] != '\0';
	case PV_FACT_HOSTNAME: return rec->hostname[0] != '\0';
	case PV_FACT_IP: return rec->has_ip;
	case PV_FACT_TFTP_PREFIX: return rec->has_tftp_prefix;
	case PV_FACT_BOOT_ORDER: return rec->has_boot_order;
	case PV_FACT_CONFIG_HASH: return rec->config_hash[0] != '\0';
	case PV_FACT_BOOTLOADER:
		return rec->bootloader_version[0] || rec->bootloader_build_ts ||
		       rec->eeprom_hash[0] || rec->flashed_at;
	case PV_FACT_COUNT: break;
	}
	return false;
}

void pv_inventory_serial_text(const struct pv_inventory_record *rec, char out[17])
{
	pv_serial_format(rec->serial, rec->serial_digits == 16 ? 16 : 8, out);
}

char *pv_inventory_put_serial(char *p, const struct pv_inventory_record *rec)
{
	if (rec->serial_digits == 16)
		return pv_put_hex(p, rec->serial, 16);
	return pv_put_hex(p, rec->serial & 0xffffffffu, 8);
}

void pv_inventory_serial8(const struct pv_inventory_record *rec, char out[9])
{
	pv_serial8_format(rec->serial, out);
}

void pv_inventory_tftp_dir(const struct pv_inventory_record *rec,
			   char out[PV_INVENTORY_HOSTNAME_MAX])
{
	enum pv_tftp_prefix mode = rec->has_tftp_prefix ? rec->tftp_prefix : PV_TFTP_PREFIX_SERIAL;

	out[0] = '\0';
	switch (mode) {
	case PV_TFTP_PREFIX_MAC:
		if (rec->has_mac)
			pv_mac_format(rec->mac, '-', out);
		break;
	case PV_TFTP_PREFIX_STRING:
		pv_strlcpy(out, rec->tftp_prefix_str, PV_INVENTORY_HOSTNAME_MAX);
		break;
	case PV_TFTP_PREFIX_SERIAL:
		pv_serial8_format(rec->serial, out);
		break;
	}
}

/* Days since 1970-01-01 of a proleptic Gregorian date and back (H. Hinnant's algorithms):
 * gmtime_r/strftime and strptime/timegm cost microseconds, and a file of 100,000 boards
 * holds about a million stamps. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put_digits(char *out, unsigned value, int n)
{
	while (n-- > 0) {
		out[n] = (char)('0' + value % 10);
		value /= 10;
	}
}

void pv_inventory_format_time(int64_t t, char out[21])
{
	/* 0000-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, years always in 4 digits (strftime
	 * wrote "420-..." for the year 420, which did not read back). */
	if (t >= -62167219200LL && t <= 253402300799LL) {
		int64_t year, days = t / 86400, rest = t % 86400;
		unsigned month, day, secs;

		if (rest < 0) {
			rest += 86400;
			days--;
		}
		secs = (unsigned)rest;
		civil_from_days(days, &year, &month, &day);
		memcpy(out, "0000-00-00T00:00:00Z", 21);
		put_digits(out, (unsigned)year, 4);
		put_digits(out + 5, month, 2);
		put_digits(out + 8, day, 2);
		put_digits(out + 11, secs / 3600, 2);
		put_digits(out + 14, secs / 60 % 60, 2);
		put_digits(out + 17, secs % 60, 2);
		return;
	}
	{
		struct tm tm;
		time_t tt = (time_t)t;

		if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 > 9999 ||
		    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			pv_strlcpy(out, "1970-01-01T00:00:00Z", 21);
	}
}

/* The digits text[at..at+n) as a number, or -1 when one is not a digit. */
static int read_digits(const char *text, int at, int n)
{
	int value = 0;

	for (int i = at; i < at + n; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		value = value * 10 + (text[i] - '0');
	}
	return value;
}

/* The canonical form with in-range fields from 1970 on; false sends the text to strptime
 * (which also decides, as before, about the years before 1970). */
static bool parse_time_fast(const char *text, int64_t *out)
{
	static const unsigned char month_days[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30,
						      31 };
	int year = read_digits(text, 0, 4), month = read_digits(text, 5, 2);
	int day = read_digits(text, 8, 2), hour = read_digits(text, 11, 2);
	int minute = read_digits(text, 14, 2), second = read_digits(text, 17, 2);
	bool leap;

	if (text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
	    text[16] != ':' || text[19] != 'Z' || year < 1970 || month < 1 || month > 12 ||
	    day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 ||
	    second > 59 || day > month_days[month - 1])
		return false;
	leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
	if (month == 2 && day == 29 && !leap)
		return false;
	*out = days_from_civil(year, (unsigned)month, (unsigned)day) * 86400 + hour * 3600 +
	       minute * 60 + second;
	return true;
}

int pv_inventory_parse_time(const char *text, int64_t *out)
{
	struct tm tm;
	const char *end;
	time_t t;

	if (strlen(text) != 20)
		return PV_ERR_INVALID;
	if (parse_time_fast(text, out))
		return PV_OK;
	/* Anything else a hand edit may hold is read as before (strptime is lenient). */
	memset(&tm, 0, sizeof(tm));
	end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end != '\0')
		return PV_ERR_INVALID;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return PV_ERR_INVALID;
	*out = (int64_t)t;
	return PV_OK;
}

const char *pv_inventory_path(const char *explicit_path)
{
	const char *env;

	if (explicit_path && *explicit_path)
		return explicit_path;
	env = getenv(PV_INVENTORY_ENV);
	if (env && *env)
		return env;
	return PV_INVENTORY_DEFAULT_PATH;
}
