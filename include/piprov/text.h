/* Small text helpers: bounded copies, strict number parsing, hex, MAC addresses and
 * Raspberry Pi serial numbers. Parsers accept exactly the documented forms and reject
 * everything else (trailing garbage, overflow, empty strings). */
#ifndef PIPROV_TEXT_H
#define PIPROV_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Copy at most size-1 bytes and always NUL-terminate (size > 0). Returns strlen(src), so
 * a result >= size means the copy was truncated. */
size_t pv_strlcpy(char *dst, const char *src, size_t size);

/* Strict unsigned parse: base 0 accepts decimal, 0x-hex and (not) octal: a leading 0 is
 * decimal. Rejects signs, spaces, empty input, trailing characters and overflow. */
int pv_parse_u64(const char *str, int base, uint64_t *out);
int pv_parse_u32(const char *str, int base, uint32_t *out);
int pv_parse_i64(const char *str, int64_t *out);

/* Lower-case hex of len bytes into out (needs 2*len+1). */
void pv_hex_encode(const void *data, size_t len, char *out);
/* Decode exactly 2*len hex digits (either case). */
int pv_hex_decode(const char *hex, void *out, size_t len);

/* MAC address: "aa:bb:cc:dd:ee:ff" or with '-' separators, or 12 bare hex digits. */
int pv_mac_parse(const char *str, uint8_t mac[6]);
#define PV_MAC_STRLEN 18
/* Lower-case with the given separator (':' or '-'). */
void pv_mac_format(const uint8_t mac[6], char sep, char out[PV_MAC_STRLEN]);

/* Board serial: 8 hex digits (the low 32 bits the bootloader uses for TFTP) or 16 hex
 * digits (full 64-bit serial on Pi 4/5). An optional "0x" prefix is accepted. Out: the
 * value and the number of digits given (8 or 16). Output is always lower-case. */
int pv_serial_parse(const char *str, uint64_t *serial, int *digits);
#define PV_SERIAL_STRLEN 17
void pv_serial_format(uint64_t serial, int digits, char out[PV_SERIAL_STRLEN]);
/* The 8-digit TFTP folder name: the low 32 bits as 8 lower-case hex digits. */
void pv_serial8_format(uint64_t serial, char out[9]);

/* IPv4 dotted quad, strict (no leading zeros beyond "0", each part 0..255). */
int pv_ipv4_parse(const char *str, uint32_t *addr_host_order);
void pv_ipv4_format(uint32_t addr_host_order, char out[16]);

/* RFC 1123 host name label sequence: letters, digits, '-', '.', 1..253 chars, labels
 * 1..63 chars, no leading/trailing '-'. */
bool pv_hostname_valid(const char *name);

/* True when str[0..len) contains no control bytes other than tab, CR, LF. */
bool pv_text_is_printable(const char *str, size_t len);

#ifdef __cplusplus
}
#endif
#endif
