/* Fuzz the bootconf.txt model: parse, byte-exact serialization, validation, edits and
 * diff. Properties checked: an unedited config serializes to exactly its input, and every
 * edited config re-parses to the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/eeprom.h"
#include "piprov/eeprom_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reparse_same(const struct pv_eeprom_conf *conf)
{
	struct pv_buf a = PV_BUF_INIT(SIZE_MAX), b = PV_BUF_INIT(SIZE_MAX);
	struct pv_eeprom_conf *again = NULL;

	if (pv_eeprom_conf_serialize(conf, &a) != 0)
		abort();
	if (pv_eeprom_conf_parse(a.data ? a.data : (const unsigned char *)"", a.len, "again",
				 &again) != 0)
		abort();
	if (pv_eeprom_conf_serialize(again, &b) != 0 || a.len != b.len ||
	    (a.len && memcmp(a.data, b.data, a.len) != 0))
		abort();
	pv_eeprom_conf_free(again);
	pv_buf_release(&a);
	pv_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pv_eeprom_conf *conf = NULL, *orig = NULL;
	struct pv_eeprom_conf_issue *issues = NULL;
	struct pv_eeprom_conf_target t = { .soc = pv_soc_by_name("2712"),
					   .board = pv_board_by_short_name("pi5"),
					   .capacity = 1000 };
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX);
	size_t n = 0, changed = 0;
	uint32_t order;

	if (pv_eeprom_conf_parse(data, size, "fuzz", &conf) != 0)
		return 0;
	if (pv_eeprom_conf_parse(data, size, "fuzz", &orig) != 0)
		abort();
	if (pv_eeprom_conf_serialize(conf, &out) != 0 || out.len != size ||
	    (size && memcmp(out.data, data, size) != 0))
		abort();
	if (pv_eeprom_conf_validate(conf, &t, &issues, &n) == 0)
		free(issues);
	if (pv_eeprom_conf_validate(conf, NULL, &issues, &n) == 0)
		free(issues);
	pv_eeprom_conf_get(conf, "BOOT_ORDER");
	pv_eeprom_conf_boot_order(conf, &order);
	pv_eeprom_conf_set(conf, "TFTP_PREFIX", "2");
	reparse_same(conf);
	pv_eeprom_conf_boot_first(conf, 2);
	pv_eeprom_conf_boot_fallback(conf, 6);
	reparse_same(conf);
	pv_eeprom_conf_unset(conf, "BOOT_UART");
	reparse_same(conf);
	pv_buf_reset(&out);
	pv_eeprom_conf_diff(orig, conf, "a", "b", &out, &changed);
	pv_buf_release(&out);
	pv_eeprom_conf_free(conf);
	pv_eeprom_conf_free(orig);
	return 0;
}
