/* Request decoding and metadata: what a hostile or broken device can send. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/error.h"
#include "piprov/usb_protocol.h"
#include "test_support.h"

static void make_request(unsigned char msg[260], int32_t command, const char *name)
{
	uint32_t c = (uint32_t)command;

	memset(msg, 0, 260);
	msg[0] = (unsigned char)c;
	msg[1] = (unsigned char)(c >> 8);
	msg[2] = (unsigned char)(c >> 16);
	msg[3] = (unsigned char)(c >> 24);
	memcpy(msg + 4, name, strlen(name));
}

static void test_plain_requests(void **state)
{
	unsigned char msg[260];
	struct pv_usb_request req;

	(void)state;
	make_request(msg, 0, "config.txt");
	pv_usb_request_decode(msg, sizeof(msg), &req);
	assert_int_equal(req.kind, PV_USB_REQUEST_GET_FILE_SIZE);
	assert_string_equal(req.name, "config.txt");

	make_request(msg, 1, "2712/bootcode5.bin");
	pv_usb_request_decode(msg, sizeof(msg), &req);
	assert_int_equal(req.kind, PV_USB_REQUEST_READ_FILE);
	assert_string_equal(req.name, "2712/bootcode5.bin");

	make_request(msg, 2, "x");
	pv_usb_request_decode(msg, sizeof(msg), &req);
	assert_int_equal(req.kind, PV_USB_REQUEST_DONE);

	make_request(msg, 0, "");
	pv_usb_request_decode(msg, sizeof(msg), &req);
	assert_int_equal(req.kind, PV_USB_REQUEST_END);

	make_request(msg, 0, "*MAC_ADDR*2c:cf:67:70:76:f3");
	pv_usb_request_decode(msg, sizeof(msg), &req);
	assert_int_equal(req.kind, PV_USB_REQUEST_METADATA);
	assert_string_equal(req.name, "*MAC_ADDR*2c:cf:67:70:76:f3");
}

static void expect_refused(const void *msg, size_t len, const char *why)
{
	struct pv_usb_request req;

	pv_usb_request_decode(msg, len, &req);
	assert_int_equal(req.kind, PV_USB_REQUEST_REFUSED);
	assert_non_null(req.refusal);
	assert_non_null(strstr(req.refusal, why));
}

static void test_hostile_requests(void **state)
{
	unsigned char msg[300];
	struct pv_usb_request req;

	(void)state;
	make_request(msg, 0, "../../etc/passwd");
	expect_refused(msg, 260, "plain relative");
	make_request(msg, 1, "/etc/shadow");
	expect_refused(msg, 260, "plain relative");
	make_request(msg, 0, "a/../../x");
	expect_refused(msg, 260, "plain relative");
	make_request(msg, 0, "dir//x");
	expect_refused(msg, 260, "plain relative");
	make_request(msg, 0, "./config.txt");
	expect_refused(msg, 260, "plain relative");
	make_request(msg, 0, "con\x01trol");
	expect_refused(msg, 260, "plain relative");
	make_request(msg, 0, "back\\slash");
	expect_refused(msg, 260, "plain relative");
	make_request(msg, 7, "config.txt");
	expect_refused(msg, 260, "unknown command");
	make_request(msg, -1, "config.txt");
	expect_refused(msg, 260, "unknown command");
	/* 256 name bytes, no NUL anywhere. */
	memset(msg, 'A', sizeof(msg));
	msg[0] = msg[1] = msg[2] = msg[3] = 0;
	expect_refused(msg, 260, "without NUL");
	/* Longer than the protocol allows. */
	expect_refused(msg, 300, "longer than 260");
	expect_refused(msg, 3, "shorter");
	/* A short message whose name is cut before its NUL. */
	make_request(msg, 0, "config.txt");
	expect_refused(msg, 8, "without NUL");
	/* The rendering of a refused name is printable. */
	make_request(msg, 0, "\x1b[31mred");
	pv_usb_request_decode(msg, 260, &req);
	assert_int_equal(req.kind, PV_USB_REQUEST_REFUSED);
	assert_string_equal(req.name, "\\x1b[31mred");
}

static void test_name_rules(void **state)
{
	(void)state;
	assert_true(pv_usb_name_is_safe("a"));
	assert_true(pv_usb_name_is_safe("a.b/c..d"));
	assert_true(pv_usb_name_is_safe("..hidden"));
	assert_false(pv_usb_name_is_safe(""));
	assert_false(pv_usb_name_is_safe(".."));
	assert_false(pv_usb_name_is_safe("."));
	assert_false(pv_usb_name_is_safe("a/"));
	assert_false(pv_usb_name_is_safe("a/.."));
	assert_false(pv_usb_name_is_safe("caf\xc3\xa9"));
}

static void test_metadata_items(void **state)
{
	struct pv_usb_metadata md;
	const char *item;

	(void)state;
	pv_usb_metadata_init(&md);
	item = "*USER_SERIAL_NUM*bd989ae1";
	assert_int_equal(pv_usb_metadata_add(&md, item, strlen(item)), PV_OK);
	item = "*EEPROM_UPDATE*success";
	assert_int_equal(pv_usb_metadata_add(&md, item, strlen(item)), PV_OK);
	item = "*EEPROM_UPDATE*failed"; /* a repeat replaces the value, keeps the position */
	assert_int_equal(pv_usb_metadata_add(&md, item, strlen(item)), PV_OK);
	assert_int_equal(md.count, 2);
	assert_string_equal(md.items[1].key, "EEPROM_UPDATE");
	assert_string_equal(pv_usb_metadata_get(&md, "EEPROM_UPDATE"), "failed");
	item = "*SECURE_BOOT_PROVISION*"; /* empty values exist */
	assert_int_equal(pv_usb_metadata_add(&md, item, strlen(item)), PV_OK);
	assert_string_equal(pv_usb_metadata_get(&md, "SECURE_BOOT_PROVISION"), "");

	assert_int_equal(pv_usb_metadata_add(&md, "*lower*x", 8), PV_ERR_FORMAT);
	assert_int_equal(pv_usb_metadata_add(&md, "*NOVALUE", 8), PV_ERR_FORMAT);
	assert_int_equal(pv_usb_metadata_add(&md, "**x", 3), PV_ERR_FORMAT);
	assert_int_equal(pv_usb_metadata_add(&md, "*K*a\nb", 6), PV_ERR_FORMAT);
	assert_null(pv_usb_metadata_get(&md, "K"));
	/* Values may contain '*', quotes and backslashes: they are data. */
	item = "*ODD*a*\"b\\";
	assert_int_equal(pv_usb_metadata_add(&md, item, strlen(item)), PV_OK);
	assert_string_equal(pv_usb_metadata_get(&md, "ODD"), "a*\"b\\");
}

static void test_metadata_limits(void **state)
{
	struct pv_usb_metadata md;
	char item[300];

	(void)state;
	pv_usb_metadata_init(&md);
	for (int i = 0; i < PV_USB_METADATA_ITEMS_MAX; i++) {
		snprintf(item, sizeof(item), "*KEY%d*v", i);
		assert_int_equal(pv_usb_metadata_add(&md, item, strlen(item)), PV_OK);
	}
	assert_int_equal(pv_usb_metadata_add(&md, "*ONE_MORE*v", 11), PV_ERR_NO_SPACE);
	pv_usb_metadata_init(&md);
	memset(item, 'v', sizeof(item));
	memcpy(item, "*K*", 3);
	assert_int_equal(pv_usb_metadata_add(&md, item, 3 + 200), PV_OK);
	assert_int_equal(pv_usb_metadata_add(&md, item, 3 + 201), PV_ERR_FORMAT);
}

static void test_factory_uuid(void **state)
{
	char out[PV_USB_FACTORY_UUID_MAX + 1];
	struct pv_usb_metadata md;
	const char *item = "*FACTORY_UUID*19a519a6_19ab520e_1ac0212b_0_0";

	(void)state;
	/* Worked by hand: "001" = 4*1600 + 4*40 + 5 + 1 = 0x19a6 (low half first). */
	assert_int_equal(pv_usb_factory_uuid_decode("19a519a6_19ab520e_1ac0212b", out,
						    sizeof(out)), PV_OK);
	assert_string_equal(out, "001000911006186073");
	/* "ABC" = 14*1600 + 15*40 + 16 + 1 = 0x59e9; one half only. */
	assert_int_equal(pv_usb_factory_uuid_decode("59e9", out, sizeof(out)), PV_OK);
	assert_string_equal(out, "ABC");
	assert_int_equal(pv_usb_factory_uuid_decode("zz", out, sizeof(out)), PV_ERR_FORMAT);
	assert_int_equal(pv_usb_factory_uuid_decode("0001", out, sizeof(out)), PV_ERR_FORMAT);
	assert_int_equal(pv_usb_factory_uuid_decode("", out, sizeof(out)), PV_ERR_FORMAT);
	assert_int_equal(pv_usb_factory_uuid_decode("59e9__59e9", out, sizeof(out)),
			 PV_ERR_FORMAT);
	assert_int_equal(pv_usb_factory_uuid_decode("123456789", out, sizeof(out)),
			 PV_ERR_FORMAT);
	/* 7 words = 14 halves = 42 characters: over the 36 a UUID has. */
	assert_int_equal(pv_usb_factory_uuid_decode(
				 "59e959e9_59e959e9_59e959e9_59e959e9_59e959e9_59e959e9_59e959e9",
				 out, sizeof(out)),
			 PV_ERR_FORMAT);

	pv_usb_metadata_init(&md);
	assert_int_equal(pv_usb_metadata_add(&md, item, strlen(item)), PV_OK);
	assert_string_equal(pv_usb_metadata_get(&md, "FACTORY_UUID"), "001000911006186073");
	assert_string_equal(pv_usb_metadata_get(&md, "FACTORY_UUID_RAW"),
			    "19a519a6_19ab520e_1ac0212b_0_0");
}

static void test_metadata_json(void **state)
{
	struct pv_usb_metadata md;
	char *text = NULL, *dir, *path;
	json_t *root;
	json_error_t err;
	const char *key;
	json_t *value;
	size_t index = 0;
	const char *items[] = { "*USER_SERIAL_NUM*bd989ae1", "*MAC_ADDR*2c:cf:67:70:76:f3",
				"*WEIRD*say \"hi\" \\ there", "*EEPROM_UPDATE*success" };

	(void)state;
	pv_usb_metadata_init(&md);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(pv_usb_metadata_add(&md, items[i], strlen(items[i])), PV_OK);
	assert_int_equal(pv_usb_metadata_to_json(&md, &text), PV_OK);
	/* rpiboot's own layout (a tab per item), escaped where rpiboot is not. */
	assert_string_equal(text, "{\n\t\"USER_SERIAL_NUM\": \"bd989ae1\",\n"
				  "\t\"MAC_ADDR\": \"2c:cf:67:70:76:f3\",\n"
				  "\t\"WEIRD\": \"say \\\"hi\\\" \\\\ there\",\n"
				  "\t\"EEPROM_UPDATE\": \"success\"\n}\n");
	root = json_loads(text, 0, &err);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "WEIRD")),
			    "say \"hi\" \\ there");
	/* Arrival order is kept, like rpiboot's incremental file. */
	json_object_foreach(root, key, value) {
		if (index == 0)
			assert_string_equal(key, "USER_SERIAL_NUM");
		if (index == 3)
			assert_string_equal(key, "EEPROM_UPDATE");
		index++;
	}
	assert_int_equal(index, 4);
	json_decref(root);
	free(text);

	dir = pv_test_mkdtemp();
	assert_int_equal(pv_usb_metadata_write(&md, dir, "bd989ae1"), PV_OK);
	assert_int_equal(asprintf(&path, "%s/bd989ae1.json", dir) > 0, 1);
	root = json_load_file(path, 0, &err);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "MAC_ADDR")),
			    "2c:cf:67:70:76:f3");
	json_decref(root);
	free(path);
	assert_int_equal(pv_usb_metadata_write(&md, dir, "../escape"), PV_ERR_INVALID);
	assert_int_equal(pv_usb_metadata_write(&md, dir, ".hidden"), PV_ERR_INVALID);
	assert_int_equal(pv_usb_metadata_write(&md, dir, ""), PV_ERR_INVALID);
	pv_test_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_requests),
		cmocka_unit_test(test_hostile_requests),
		cmocka_unit_test(test_name_rules),
		cmocka_unit_test(test_metadata_items),
		cmocka_unit_test(test_metadata_limits),
		cmocka_unit_test(test_factory_uuid),
		cmocka_unit_test(test_metadata_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
