/* The "*KEY*VALUE" items the recovery firmware reports, FACTORY_UUID's C40 decoding, and
 * the <serial>.json file (jansson, so every value is escaped, unlike rpiboot's printf). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "piprov/fileio.h"
#include "piprov/text.h"
#include "piprov/usb_protocol.h"
#include "banned.h"

void pv_usb_metadata_init(struct pv_usb_metadata *md)
{
	memset(md, 0, sizeof(*md));
}

static bool key_is_valid(const char *key, size_t len)
{
	if (len == 0 || len >= PV_USB_METADATA_KEY_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = key[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

static bool value_is_valid(const char *value, size_t len)
{
	if (len > PV_USB_METADATA_VALUE_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)value[i] < 0x20 || (unsigned char)value[i] >= 0x7f)
			return false;
	return true;
}

static int set_counted(struct pv_usb_metadata *md, const char *key, size_t key_len,
		       const char *value, size_t value_len)
{
	struct pv_usb_metadata_item *item = NULL;

	if (!key_is_valid(key, key_len))
		return pv_fail(PV_ERR_FORMAT, "usb", "metadata key '%.*s' is not [A-Z0-9_]{1,63}",
			       (int)(key_len < 64 ? key_len : 64), key);
	if (!value_is_valid(value, value_len))
		return pv_fail(PV_ERR_FORMAT, "usb",
			       "metadata '%.*s': value is over 200 bytes or not printable ASCII",
			       (int)key_len, key);
	for (size_t i = 0; i < md->count; i++) {
		if (strlen(md->items[i].key) == key_len &&
		    memcmp(md->items[i].key, key, key_len) == 0) {
			item = &md->items[i];
			break;
		}
	}
	if (!item) {
		if (md->count >= PV_USB_METADATA_ITEMS_MAX)
			return pv_fail(PV_ERR_NO_SPACE, "usb",
				       "metadata '%.*s': more than %d keys", (int)key_len, key,
				       PV_USB_METADATA_ITEMS_MAX);
		item = &md->items[md->count++];
		memcpy(item->key, key, key_len);
		item->key[key_len] = '\0';
	}
	memcpy(item->value, value, value_len);
	item->value[value_len] = '\0';
	return PV_OK;
}

int pv_usb_metadata_set(struct pv_usb_metadata *md, const char *key, const char *value)
{
	return set_counted(md, key, strlen(key), value, strlen(value));
}

const char *pv_usb_metadata_get(const struct pv_usb_metadata *md, const char *key)
{
	for (size_t i = 0; i < md->count; i++)
		if (strcmp(md->items[i].key, key) == 0)
			return md->items[i].value;
	return NULL;
}

/* One C40 triple from a 16-bit half word: v-1 = c1*1600 + c2*40 + c3; 4..13 are the digits
 * and 14..39 the letters (the only symbols a factory UUID uses). */
static int decode_c40_half(unsigned half, char *out)
{
	unsigned v, digits[3];

	if (half == 0)
		return PV_ERR_FORMAT;
	v = half - 1;
	digits[0] = v / 1600;
	digits[1] = (v / 40) % 40;
	digits[2] = v % 40;
	for (int i = 0; i < 3; i++) {
		if (digits[i] >= 4 && digits[i] <= 13)
			out[i] = (char)('0' + digits[i] - 4);
		else if (digits[i] >= 14 && digits[i] <= 39)
			out[i] = (char)('A' + digits[i] - 14);
		else
			return PV_ERR_FORMAT;
	}
	return PV_OK;
}

int pv_usb_factory_uuid_decode(const char *words, char *out, size_t size)
{
	char text[PV_USB_FACTORY_UUID_MAX + 1];
	size_t used = 0;
	const char *p = words;

	while (*p) {
		char word_text[9];
		const char *end = strchr(p, '_');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		uint32_t word;

		if (len == 0 || len > 8)
			return pv_fail(PV_ERR_FORMAT, "usb", "FACTORY_UUID '%.40s': bad word", words);
		memcpy(word_text, p, len);
		word_text[len] = '\0';
		if (pv_parse_u32(word_text, 16, &word))
			return pv_fail(PV_ERR_FORMAT, "usb", "FACTORY_UUID '%.40s': bad hex word",
				       words);
		if (word == 0)
			break; /* the firmware pads with zero words */
		for (int half = 0; half < 2; half++) {
			unsigned value = half ? word >> 16 : word & 0xffff;

			/* An empty high half is simply not there (odd character counts). */
			if (half && value == 0)
				break;
			if (used + 3 > PV_USB_FACTORY_UUID_MAX ||
			    decode_c40_half(value, text + used))
				return pv_fail(PV_ERR_FORMAT, "usb",
					       "FACTORY_UUID '%.40s': not C40 text", words);
			used += 3;
		}
		p += len;
		if (*p == '_')
			p++;
	}
	if (used == 0)
		return pv_fail(PV_ERR_FORMAT, "usb", "FACTORY_UUID '%.40s': empty", words);
	text[used] = '\0';
	if (used + 1 > size)
		return pv_fail(PV_ERR_NO_SPACE, "usb", "FACTORY_UUID: output buffer too small");
	memcpy(out, text, used + 1);
	return PV_OK;
}

int pv_usb_metadata_add(struct pv_usb_metadata *md, const char *item, size_t len)
{
	const char *key, *sep, *value;
	size_t key_len, value_len;
	const char *nul = memchr(item, '\0', len);
	int rc;

	if (nul)
		len = (size_t)(nul - item);
	if (len < 2 || item[0] != '*')
		return pv_fail(PV_ERR_FORMAT, "usb", "metadata item does not start with '*'");
	key = item + 1;
	sep = memchr(key, '*', len - 1);
	if (!sep)
		return pv_fail(PV_ERR_FORMAT, "usb", "metadata item '%.*s' has no second '*'",
			       (int)(len > 64 ? 64 : len), item);
	key_len = (size_t)(sep - key);
	value = sep + 1;
	value_len = len - 2 - key_len;
	if (key_len == strlen("FACTORY_UUID") && memcmp(key, "FACTORY_UUID", key_len) == 0) {
		char raw[PV_USB_METADATA_VALUE_MAX + 1], decoded[PV_USB_FACTORY_UUID_MAX + 1];

		if (!value_is_valid(value, value_len))
			return pv_fail(PV_ERR_FORMAT, "usb", "FACTORY_UUID is not printable");
		memcpy(raw, value, value_len);
		raw[value_len] = '\0';
		rc = pv_usb_factory_uuid_decode(raw, decoded, sizeof(decoded));
		if (rc)
			return rc;
		rc = pv_usb_metadata_set(md, "FACTORY_UUID", decoded);
		return rc ? rc : pv_usb_metadata_set(md, "FACTORY_UUID_RAW", raw);
	}
	return set_counted(md, key, key_len, value, value_len);
}

int pv_usb_metadata_item_json(const struct pv_usb_metadata_item *item, struct pv_buf *out)
{
	json_t *key = json_string(item->key);
	json_t *value = json_string(item->value);
	char *ekey = key ? json_dumps(key, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
	char *evalue = value ? json_dumps(value, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
	int rc = PV_ERR_NOMEM;

	if (ekey && evalue)
		rc = pv_buf_appendf(out, "%s: %s", ekey, evalue);
	free(ekey);
	free(evalue);
	json_decref(key);
	json_decref(value);
	return rc;
}

/* rpiboot's layout (its create/write/close_metadata_file), escaped where rpiboot is not (a
 * '"' in a value breaks its file). */
int pv_usb_metadata_to_json(const struct pv_usb_metadata *md, char **text)
{
	struct pv_buf out = PV_BUF_INIT(1u << 20);
	int rc = PV_OK;

	if (md->count == 0)
		rc = pv_buf_append_str(&out, "{");
	for (size_t i = 0; i < md->count && !rc; i++) {
		rc = pv_buf_append_str(&out, i ? ",\n\t" : "{\n\t");
		if (!rc)
			rc = pv_usb_metadata_item_json(&md->items[i], &out);
	}
	if (!rc)
		rc = pv_buf_append_str(&out, "\n}\n");
	if (!rc)
		rc = pv_buf_putc(&out, '\0');
	if (rc) {
		pv_buf_release(&out);
		return pv_fail(PV_ERR_NOMEM, "usb", "metadata: out of memory");
	}
	*text = (char *)pv_buf_detach(&out, NULL);
	return PV_OK;
}

static bool stem_is_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 128 || name[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

int pv_usb_metadata_write(const struct pv_usb_metadata *md, const char *dir, const char *name)
{
	char *text = NULL;
	char *path = NULL;
	int rc;

	if (!stem_is_valid(name))
		return pv_fail(PV_ERR_INVALID, "usb",
			       "metadata: '%.64s' is not usable as a file name", name);
	if (asprintf(&path, "%s/%s.json", dir, name) < 0)
		return pv_fail(PV_ERR_NOMEM, "usb", "metadata: out of memory");
	rc = pv_usb_metadata_to_json(md, &text);
	if (rc)
		goto out_free_path;
	rc = pv_file_write_atomic(path, text, strlen(text), 0644);
	free(text);
out_free_path:
	free(path);
	return rc;
}
