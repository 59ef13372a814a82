/* bootconf.txt, the bootloader configuration stored in the EEPROM: a line model that keeps
 * every byte (comments, blank lines, CRLF, a missing final newline, [conditional] sections,
 * the [config.txt] tail) unless a line is edited; in-place edits with a minimal diff;
 * release presets; BOOT_ORDER helpers; and validation against a property table.
 *
 * Scope rules (as the bootloader reads the file): the text starts in the [all] scope;
 * a [filter] line starts a conditional scope, [all] returns to the unconditional one,
 * [none] ignores what follows, and [config.txt] ends the bootloader part (the rest is
 * appended to config.txt). pv_eeprom_conf_get/set/unset act on the unconditional
 * ([all]) scope only; later assignments win. */
#ifndef PIPROV_EEPROM_CONFIG_H
#define PIPROV_EEPROM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "piprov/board.h"
#include "piprov/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PV_EEPROM_CONF_MAX_TEXT (64u * 1024u)  /* parse limit; the EEPROM holds 4076 */
#define PV_EEPROM_CONF_MAX_KEY 64u
#define PV_EEPROM_CONF_MAX_VALUE 1024u

struct pv_eeprom_conf; /* opaque */

/* Parse text (any bytes; at most PV_EEPROM_CONF_MAX_TEXT). `name` labels messages. Never
 * fails on odd lines: they are kept and reported by pv_eeprom_conf_validate. */
int pv_eeprom_conf_parse(const void *text, size_t len, const char *name,
			 struct pv_eeprom_conf **out);
/* Read a file ("-" = stdin) and parse it. */
int pv_eeprom_conf_load(const char *path, struct pv_eeprom_conf **out);
void pv_eeprom_conf_free(struct pv_eeprom_conf *conf);

/* The text, byte for byte as parsed plus the edits made since. Appends to out. */
int pv_eeprom_conf_serialize(const struct pv_eeprom_conf *conf, struct pv_buf *out);

/* Effective unconditional value of key (the last assignment in [all] scope), or NULL.
 * The pointer is valid until the next edit. */
const char *pv_eeprom_conf_get(const struct pv_eeprom_conf *conf, const char *key);

/* Set key=value in the unconditional scope: rewrite the last assignment in place (the one
 * that wins; nothing else changes, its line ending included), or add a line after the last
 * unconditional assignment (never into a conditional section or the [config.txt] tail)
 * with the file's line ending. An added line is always terminated, and when it follows a
 * last line without newline that line gets one first: two properties are never glued
 * together, and a later `>>` append cannot glue onto ours. Key: [A-Za-z0-9_]+ (at most
 * 64); value: printable, no newline (at most 1024). */
int pv_eeprom_conf_set(struct pv_eeprom_conf *conf, const char *key, const char *value);
/* Remove every unconditional assignment of key. PV_ERR_NOT_FOUND when there is none. */
int pv_eeprom_conf_unset(struct pv_eeprom_conf *conf, const char *key);

/* Set every unconditional assignment of `preset` into conf (in the preset's order). */
int pv_eeprom_conf_merge(struct pv_eeprom_conf *conf, const struct pv_eeprom_conf *preset);

/* Presets: firmware-templates/<chip>/<name>.conf (network, sd, usb, nvme, http), read from
 * dir; dir NULL: from $PIPROV_FIRMWARE_TEMPLATES when set, else from the data folder beside
 * the program (<bin>/../share/piprov/firmware-templates, piprov/datadir.h). */
int pv_eeprom_preset_load(const char *dir, const struct pv_soc_info *soc, const char *name,
			  struct pv_eeprom_conf **out);
/* Is there a preset `name` for at least one SoC with an EEPROM (same folders as
 * pv_eeprom_preset_load)? PV_OK, else PV_ERR_NOT_FOUND naming the presets there are (or
 * PV_ERR_INVALID for a bad name). For checks before a board is known (usb flash). */
int pv_eeprom_preset_check(const char *dir, const char *name);

/* Line diff of a -> b in unified style ("--- label_a", "+++ label_b", "@@ -l,n +l,n @@",
 * " ", "-", "+" lines, 2 lines of context), appended to out; *changed = number of lines
 * removed + added (0: identical text). A line whose only change is its line ending shows
 * as changed. */
int pv_eeprom_conf_diff(const struct pv_eeprom_conf *a, const struct pv_eeprom_conf *b,
			const char *label_a, const char *label_b, struct pv_buf *out,
			size_t *changed);

/* ---- BOOT_ORDER ---- */

/* Mode by name ("sd", "network"/"net", "rpiboot", "usb", "bcm-usb", "nvme", "http",
 * "stop", "restart", "sd-detect") or single hex digit. Returns the nibble or -1. */
int pv_eeprom_boot_mode_parse(const char *name);
/* Short name of a nibble ("network"), or NULL for an unassigned one. */
const char *pv_eeprom_boot_mode_name(unsigned nibble);

/* BOOT_ORDER edits. The result must follow the nibble rules or the edit fails and conf is
 * unchanged: PV_ERR_NO_SPACE when it would need a 9th mode, PV_ERR_UNSUPPORTED when a mode
 * is not available on the target's board (5: BCM-USB-MSD, 6: NVMe; board table; target
 * NULL = any board), PV_ERR_INVALID when RPIBOOT (3) would not be last, a mode would repeat
 * or the mode is 0, STOP or RESTART, PV_ERR_FORMAT when the current value is not 0x-hex.
 * Messages name BOOT_ORDER, the order and the board.
 *   FIRST: mode first (lowest nibble), every other copy removed.
 *   FALLBACK: "make sure mode is tried": no change when the order already tries it (it
 *     stands before any STOP/RESTART), else it goes in as the last real attempt, before a
 *     trailing STOP/RESTART and before RPIBOOT; copies after STOP/RESTART (never tried)
 *     are removed. An order the user made is never reshuffled: 0xf12 stays 0xf12. */
enum pv_eeprom_boot_position {
	PV_EEPROM_BOOT_FIRST,
	PV_EEPROM_BOOT_FALLBACK,
};
struct pv_eeprom_conf_target;
int pv_eeprom_conf_boot_place(struct pv_eeprom_conf *conf, unsigned mode,
			      enum pv_eeprom_boot_position position,
			      const struct pv_eeprom_conf_target *target);
/* The same for any board (target NULL). */
int pv_eeprom_conf_boot_first(struct pv_eeprom_conf *conf, unsigned mode);
int pv_eeprom_conf_boot_fallback(struct pv_eeprom_conf *conf, unsigned mode);

/* Current unconditional BOOT_ORDER (the firmware default 0xf41 when unset, empty or 0).
 * PV_ERR_FORMAT unless it is 0x-hex, as the bootloader documentation writes it. */
int pv_eeprom_conf_boot_order(const struct pv_eeprom_conf *conf, uint32_t *order);

/* ---- validation ---- */

enum pv_eeprom_conf_severity {
	PV_EEPROM_CONF_WARNING = 1,
	PV_EEPROM_CONF_ERROR = 2,
};

struct pv_eeprom_conf_issue {
	enum pv_eeprom_conf_severity severity;
	int status;                    /* errors: the PV_ERR_* to fail with (UNSUPPORTED: not on
					  this board; NO_SPACE: too large; else INVALID) */
	unsigned line;                 /* 1-based; 0 = the whole file */
	char message[224];
};

struct pv_eeprom_conf_target {
	const struct pv_soc_info *soc;       /* NULL: any SoC with an EEPROM */
	const struct pv_board_type *board;   /* NULL: any board of soc */
	size_t capacity;                     /* bytes bootconf.txt may use; 0: 4076 */
	uint64_t build_timestamp;            /* the image's BUILD_TIMESTAMP; 0: unknown. Names
						newer than this bootloader get a warning. */
};

/* Check conf for target. Fills *issues (malloc'd array, free() it) and *count; returns
 * PV_OK even when there are errors (count them with pv_eeprom_conf_errors). */
int pv_eeprom_conf_validate(const struct pv_eeprom_conf *conf,
			    const struct pv_eeprom_conf_target *target,
			    struct pv_eeprom_conf_issue **issues, size_t *count);
size_t pv_eeprom_conf_errors(const struct pv_eeprom_conf_issue *issues, size_t count);
/* Validate and fail on the first error ("'NAME': line N: message", its status). Warnings
 * are appended to warnings (one "NAME: line N: message" line each) when it is not NULL. */
int pv_eeprom_conf_check(const struct pv_eeprom_conf *conf,
			 const struct pv_eeprom_conf_target *target, struct pv_buf *warnings);

/* The property table, for documentation and `piprov eeprom check --list`. */
struct pv_eeprom_property {
	const char *name;
	const char *type;              /* "bool", "int", "hex", "string", "ipv4", ... */
	int64_t min, max;              /* numeric range (inclusive) when min <= max */
	const char *default_value;
	const char *socs;              /* "" = all, else "2711" / "2712" */
	const char *since;             /* first release image per SoC that knows the name,
					  "2711:YYYY-MM-DD 2712:YYYY-MM-DD" ("" = unknown) */
	const char *summary;
};
const struct pv_eeprom_property *pv_eeprom_property_at(size_t index);
const struct pv_eeprom_property *pv_eeprom_property_find(const char *name);

#ifdef __cplusplus
}
#endif
#endif
