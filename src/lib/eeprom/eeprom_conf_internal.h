/* The bootconf.txt line model, shared by conf.c (parse/edit) and conf_check.c (validate). */
#ifndef PIPROV_EEPROM_CONF_INTERNAL_H
#define PIPROV_EEPROM_CONF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pv_conf_line_kind {
	PV_CONF_LINE_BLANK,
	PV_CONF_LINE_COMMENT,
	PV_CONF_LINE_SECTION,  /* [filter] */
	PV_CONF_LINE_ASSIGN,   /* NAME=value */
	PV_CONF_LINE_OTHER,    /* anything else (kept, reported by validation) */
};

enum pv_conf_scope {
	PV_CONF_SCOPE_ALL,        /* unconditional */
	PV_CONF_SCOPE_FILTER,     /* inside a conditional section */
	PV_CONF_SCOPE_NONE,       /* after [none]: ignored */
	PV_CONF_SCOPE_CONFIG_TXT, /* [config.txt] and everything after: not bootloader text */
};

struct pv_conf_line {
	char *text;               /* without the line ending; NUL-terminated copy */
	size_t len;
	const char *eol;          /* "\n", "\r\n" or "" (last line without newline) */
	enum pv_conf_line_kind kind;
	enum pv_conf_scope scope; /* for a section line: the scope it opens */
	size_t key_len;           /* ASSIGN: text[0..key_len) is the name, value after '=' */
	char *value;              /* ASSIGN: the value without trailing blanks (the bootloader
				   * ignores them; 2019 releases pad with spaces); else NULL */
};

struct pv_eeprom_conf {
	struct pv_conf_line *lines;
	size_t n, cap;
	char *name;
};

bool pv_eeprom_conf_key_char(char c);
struct pv_eeprom_conf_target;
/* The validation rules for a BOOT_ORDER an edit produced, repeats included: first error as
 * pv_fail naming `name`, the order and the board. */
/* "Raspberry Pi 4 Model B", the SoC's name, or "any board". */
const char *pv_eeprom_conf_target_label(const struct pv_eeprom_conf_target *t);
int pv_eeprom_boot_order_require(const char *name, uint32_t order,
				 const struct pv_eeprom_conf_target *target);

#endif
