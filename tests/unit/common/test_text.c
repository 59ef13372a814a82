#include <string.h>

#include "piprov/error.h"
#include "piprov/text.h"
#include "test_support.h"

static void test_parse_numbers(void **state)
{
	uint64_t v;
	uint32_t v32;
	int64_t s;

	(void)state;
	assert_int_equal(pv_parse_u64("0x1f", 0, &v), PV_OK);
	assert_int_equal(v, 31);
	assert_int_equal(pv_parse_u64("010", 0, &v), PV_OK);
	assert_int_equal(v, 10); /* leading zero is decimal, never octal */
	assert_int_equal(pv_parse_u64("f41", 16, &v), PV_OK);
	assert_int_equal(v, 0xf41);
	assert_int_equal(pv_parse_u64("", 0, &v), PV_ERR_INVALID);
	assert_int_equal(pv_parse_u64("12 ", 0, &v), PV_ERR_INVALID);
	assert_int_equal(pv_parse_u64("-1", 0, &v), PV_ERR_INVALID);
	assert_int_equal(pv_parse_u64("0x", 0, &v), PV_ERR_INVALID);
	assert_int_equal(pv_parse_u64("18446744073709551616", 0, &v), PV_ERR_INVALID);
	assert_int_equal(pv_parse_u32("4294967296", 0, &v32), PV_ERR_INVALID);
	assert_int_equal(pv_parse_u32("4294967295", 0, &v32), PV_OK);
	assert_int_equal(pv_parse_i64("-1", &s), PV_OK);
	assert_int_equal(s, -1);
	assert_int_equal(pv_parse_i64("+1", &s), PV_ERR_INVALID);
}

static void test_mac(void **state)
{
	uint8_t mac[6];
	char text[PV_MAC_STRLEN];

	(void)state;
	assert_int_equal(pv_mac_parse("DC:A6:32:01:36:C2", mac), PV_OK);
	pv_mac_format(mac, '-', text);
	assert_string_equal(text, "dc-a6-32-01-36-c2");
	assert_int_equal(pv_mac_parse("dca6320136c2", mac), PV_OK);
	pv_mac_format(mac, ':', text);
	assert_string_equal(text, "dc:a6:32:01:36:c2");
	assert_int_equal(pv_mac_parse("dc:a6-32:01:36:c2", mac), PV_ERR_INVALID);
	assert_int_equal(pv_mac_parse("dc:a6:32:01:36", mac), PV_ERR_INVALID);
	assert_int_equal(pv_mac_parse("dc:a6:32:01:36:cg", mac), PV_ERR_INVALID);
	assert_int_equal(pv_mac_parse("dc.a6.32.01.36.c2", mac), PV_ERR_INVALID);
}

static void test_serial(void **state)
{
	uint64_t serial;
	int digits;
	char text[PV_SERIAL_STRLEN];
	char s8[9];

	(void)state;
	assert_int_equal(pv_serial_parse("0C8F7E5CBD989AE1", &serial, &digits), PV_OK);
	assert_int_equal(digits, 16);
	pv_serial_format(serial, digits, text);
	assert_string_equal(text, "0c8f7e5cbd989ae1");
	pv_serial8_format(serial, s8);
	assert_string_equal(s8, "bd989ae1");
	assert_int_equal(pv_serial_parse("0x6e87a417", &serial, &digits), PV_OK);
	assert_int_equal(digits, 8);
	assert_int_equal(serial, 0x6e87a417);
	assert_int_equal(pv_serial_parse("6e87a41", &serial, &digits), PV_ERR_INVALID);
	assert_int_equal(pv_serial_parse("6e87a41z", &serial, &digits), PV_ERR_INVALID);
}

static void test_ipv4_hostname(void **state)
{
	uint32_t ip;
	char text[16];

	(void)state;
	assert_int_equal(pv_ipv4_parse("10.0.0.254", &ip), PV_OK);
	assert_int_equal(ip, 0x0a0000fe);
	pv_ipv4_format(ip + 1, text);
	assert_string_equal(text, "10.0.0.255");
	assert_int_equal(pv_ipv4_parse("10.0.0.256", &ip), PV_ERR_INVALID);
	assert_int_equal(pv_ipv4_parse("10.0.0", &ip), PV_ERR_INVALID);
	assert_int_equal(pv_ipv4_parse("10.0.0.01", &ip), PV_ERR_INVALID);
	assert_int_equal(pv_ipv4_parse("10.0.0.1.", &ip), PV_ERR_INVALID);
	assert_true(pv_hostname_valid("node-01"));
	assert_true(pv_hostname_valid("node-01.cluster.lan"));
	assert_false(pv_hostname_valid("-node"));
	assert_false(pv_hostname_valid("node-"));
	assert_false(pv_hostname_valid("no_de"));
	assert_false(pv_hostname_valid("a..b"));
	assert_false(pv_hostname_valid(""));
}

static void test_strlcpy_hex(void **state)
{
	char small[4];
	unsigned char bytes[3];
	char hex[7];

	(void)state;
	assert_int_equal(pv_strlcpy(small, "abcdef", sizeof(small)), 6);
	assert_string_equal(small, "abc");
	assert_int_equal(pv_hex_decode("00fFa0", bytes, 3), PV_OK);
	pv_hex_encode(bytes, 3, hex);
	assert_string_equal(hex, "00ffa0");
	assert_int_equal(pv_hex_decode("00ffa", bytes, 3), PV_ERR_INVALID);
	assert_int_equal(pv_hex_decode("00ffa0b", bytes, 3), PV_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_numbers), cmocka_unit_test(test_mac),
		cmocka_unit_test(test_serial), cmocka_unit_test(test_ipv4_hostname),
		cmocka_unit_test(test_strlcpy_hex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
