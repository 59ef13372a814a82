/* The real-release corpus (../shared/fixtures, skipped when absent): every case of
 * expected/public-expected.tsv (results of the official rpi-eeprom-config) reproduced,
 * extract-then-reapply identical on every image, the capacities of DETAILS.tsv, the
 * 4077-byte config refused and the signed fixtures reproduced. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "piprov/eeprom.h"
#include "piprov/error.h"
#include "piprov/text.h"
#include "test_support.h"

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	assert_true(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL));
	pv_hex_encode(md, 32, out);
}

static void read_fixture(const char *rel, struct pv_buf *buf)
{
	char *path = pv_test_fixture_path(rel);

	pv_buf_reset(buf);
	pv_test_read_file(path, buf);
	free(path);
}

/* Run one named case of cases.tsv the way the official tool was run. Returns the status
 * and the sha256 of the output in hex. */
static int run_case(const struct pv_eeprom_image *orig, const char *name,
		    const struct pv_buf *netboot, const struct pv_buf *max4076,
		    const struct pv_buf *sig, char out_hex[65])
{
	struct pv_eeprom_image img = { 0 };
	struct pv_eeprom_blob conf = { netboot->data, netboot->len, "public-netboot.conf" };
	struct pv_eeprom_blob big = { max4076->data, max4076->len, "public-max4076.conf" };
	struct pv_eeprom_blob digest = { sig->data, sig->len, "public-bootconf.sig" };
	struct pv_eeprom_edits edits = { 0 };
	const unsigned char *content;
	size_t len;
	int rc;

	if (strcmp(name, "pub-read") == 0) {
		rc = pv_eeprom_get_file(orig, PV_EEPROM_BOOTCONF_TXT, &content, &len);
		if (rc == 0)
			sha256_hex(content, len, out_hex);
		return rc;
	}
	if (strcmp(name, "pub-netboot") == 0) {
		edits.config = &conf;
	} else if (strcmp(name, "pub-max4076") == 0) {
		edits.config = &big;
	} else if (strcmp(name, "pub-ts") == 0) {
		edits.config = &conf;
		edits.set_timestamp = true;
		edits.timestamp = 1700000000;
	} else if (strcmp(name, "pub-digest") == 0) {
		edits.config = &conf;
		edits.digest = &digest;
	} else {
		fail_msg("unknown case '%s'", name);
	}
	assert_int_equal(pv_eeprom_parse(&img, orig->data, orig->size, orig->name), PV_OK);
	rc = pv_eeprom_apply_edits(&img, &edits);
	if (rc == 0)
		sha256_hex(img.data, img.size, out_hex);
	else /* all or nothing */
		assert_memory_equal(img.data, orig->data, orig->size);
	pv_eeprom_release(&img);
	return rc;
}

static void test_public_expected(void **state)
{
	struct pv_buf tsv = PV_BUF_INIT(SIZE_MAX), netboot = PV_BUF_INIT(SIZE_MAX);
	struct pv_buf max4076 = PV_BUF_INIT(SIZE_MAX), sig = PV_BUF_INIT(SIZE_MAX);
	struct pv_buf imgbuf = PV_BUF_INIT(SIZE_MAX);
	struct pv_eeprom_image img = { 0 };
	char current[128] = "", *line, *save = NULL;
	unsigned cases = 0, errors = 0, mismatches = 0;

	(void)state;
	pv_test_fixtures_or_skip();
	read_fixture("expected/public-expected.tsv", &tsv);
	read_fixture("expected/public-netboot.conf", &netboot);
	read_fixture("expected/public-max4076.conf", &max4076);
	read_fixture("expected/public-bootconf.sig", &sig);
	for (line = strtok_r((char *)tsv.data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *image = line, *name = strchr(line, '\t'), *expected, got[65];
		int rc;

		assert_non_null(name);
		*name++ = '\0';
		expected = strchr(name, '\t');
		assert_non_null(expected);
		*expected++ = '\0';
		if (strcmp(image, current) != 0) {
			char rel[200];
			pv_eeprom_release(&img);
			snprintf(rel, sizeof(rel), "pieeprom/%s.gz", image);
			read_fixture(rel, &imgbuf);
			assert_int_equal(pv_eeprom_parse(&img, imgbuf.data, imgbuf.len, image),
					 PV_OK);
			snprintf(current, sizeof(current), "%s", image);
		}
		rc = run_case(&img, name, &netboot, &max4076, &sig, got);
		cases++;
		if (strcmp(expected, "ERROR") == 0) {
			errors++;
			if (rc == 0) {
				print_message("%s %s: succeeded, official tool failed\n", image, name);
				mismatches++;
			}
		} else if (rc != 0) {
			print_message("%s %s: failed (%s), official tool succeeded\n", image, name,
				      pv_last_error());
			mismatches++;
		} else if (strcmp(got, expected) != 0) {
			print_message("%s %s: sha256 %s, expected %s\n", image, name, got, expected);
			mismatches++;
		}
	}
	print_message("%u cases (%u official errors), %u mismatches\n", cases, errors, mismatches);
	assert_int_equal(cases, 995);
	assert_int_equal(mismatches, 0);
	pv_eeprom_release(&img);
	pv_buf_release(&tsv);
	pv_buf_release(&netboot);
	pv_buf_release(&max4076);
	pv_buf_release(&sig);
	pv_buf_release(&imgbuf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_public_expected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
