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

/* DETAILS.tsv columns: soc file build_timestamp version mfg_ver nsections files
 * bootconf_offset bootconf_is_last bootconf_capacity ab_image. */
static void test_details_and_loopback(void **state)
{
	static const char *const files[] = { PV_EEPROM_BOOTCONF_TXT, PV_EEPROM_BOOTCONF_SIG,
					     PV_EEPROM_PUBKEY_BIN, PV_EEPROM_CACERT_DER };
	struct pv_buf tsv = PV_BUF_INIT(SIZE_MAX), imgbuf = PV_BUF_INIT(SIZE_MAX);
	char *line, *save = NULL, big[4096];
	unsigned images = 0, shrunk = 0;

	(void)state;
	pv_test_fixtures_or_skip();
	memset(big, '#', sizeof(big));
	read_fixture("pieeprom/DETAILS.tsv", &tsv);
	line = strtok_r((char *)tsv.data, "\n", &save); /* header */
	while ((line = strtok_r(NULL, "\n", &save))) {
		char *col[11], *p = line, rel[200];
		struct pv_eeprom_image img = { 0 };
		struct pv_eeprom_info info;
		unsigned long cap;
		size_t mine;

		for (int i = 0; i < 11; i++) {
			col[i] = p;
			p = strchr(p, '\t');
			if (i < 10) {
				assert_non_null(p);
				*p++ = '\0';
			}
		}
		snprintf(rel, sizeof(rel), "pieeprom/%s/%s.gz", col[0], col[1]);
		read_fixture(rel, &imgbuf);
		assert_int_equal(pv_eeprom_parse(&img, imgbuf.data, imgbuf.len, rel), PV_OK);
		assert_int_equal(pv_eeprom_get_info(&img, &info), PV_OK);
		assert_string_equal(info.soc->chip, col[0]);
		assert_int_equal(info.build_timestamp, strtoull(col[2], NULL, 10));
		assert_string_equal(info.version, col[3]);
		assert_int_equal(img.nsections, strtoul(col[5], NULL, 10));
		assert_int_equal(info.bootconf_offset, strtoul(col[7], NULL, 16));
		assert_int_equal(info.bootconf_is_last, strcmp(col[8], "True") == 0);
		assert_int_equal(info.ab, strcmp(col[10], "True") == 0);
		/* Four 2025 BCM2711 releases put bootconf.txt so close to the reserved tail
		 * that less than 4076 bytes fit (rpi-eeprom #732). */
		cap = strtoul(col[9], NULL, 10);
		mine = info.bootconf_capacity;
		assert_int_equal(mine, cap);
		if (cap < PV_EEPROM_MAX_FILE_SIZE) {
			char want[64];
			shrunk++;
			assert_int_equal(pv_eeprom_update_file(&img, PV_EEPROM_BOOTCONF_TXT, big,
							       mine + 1), PV_ERR_NO_SPACE);
			snprintf(want, sizeof(want), "room for %zu bytes", mine);
			assert_non_null(strstr(pv_last_error(), want));
			assert_memory_equal(img.data, imgbuf.data, img.size);
			assert_int_equal(pv_eeprom_update_file(&img, PV_EEPROM_BOOTCONF_TXT, big,
							       mine), PV_OK);
			pv_eeprom_release(&img);
			assert_int_equal(pv_eeprom_parse(&img, imgbuf.data, imgbuf.len, rel), PV_OK);
		}
		/* 4077 bytes never fit. */
		assert_int_equal(pv_eeprom_update_file(&img, PV_EEPROM_BOOTCONF_TXT, big, 4077),
				 PV_ERR_TOO_BIG);
		/* Extract then re-apply every modifiable file: the same image. */
		for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
			const unsigned char *content;
			unsigned char *copy;
			size_t len;
			if (pv_eeprom_find_section(&img, files[f], 0, SIZE_MAX) < 0)
				continue;
			assert_int_equal(pv_eeprom_get_file(&img, files[f], &content, &len), PV_OK);
			copy = malloc(len + 1);
			memcpy(copy, content, len);
			assert_int_equal(pv_eeprom_update_file(&img, files[f], copy, len), PV_OK);
			free(copy);
			if (memcmp(img.data, imgbuf.data, img.size) != 0)
				fail_msg("%s: loopback of %s changed the image", rel, files[f]);
		}
		pv_eeprom_release(&img);
		images++;
	}
	assert_int_equal(images, 199);
	assert_int_equal(shrunk, 4);
	pv_buf_release(&tsv);
	pv_buf_release(&imgbuf);
}

/* The upstream signed-config fixtures: bootconf.sig is reproduced from bootconf.txt and the
 * test key at its timestamp; re-applying config + signature + public key to the signed
 * image gives the same bytes; the signature verifies. */
static void test_signed_fixtures(void **state)
{
	struct pv_buf conf = PV_BUF_INIT(SIZE_MAX), sig = PV_BUF_INIT(SIZE_MAX);
	struct pv_buf pem = PV_BUF_INIT(SIZE_MAX), imgbuf = PV_BUF_INIT(SIZE_MAX);
	struct pv_buf made = PV_BUF_INIT(SIZE_MAX);
	struct pv_eeprom_sig_options opt = { .timestamp = 1614092425 };
	struct pv_eeprom_image img = { 0 };
	struct pv_eeprom_sig parsed;
	struct pv_eeprom_info info;
	char *priv, *pub;

	(void)state;
	pv_test_fixtures_or_skip();
	priv = pv_test_fixture_path("signed/private.pem");
	pub = pv_test_fixture_path("signed/public.pem");
	read_fixture("signed/bootconf.txt", &conf);
	read_fixture("signed/bootconf.sig", &sig);
	read_fixture("signed/public.pem", &pem);
	read_fixture("signed/pieeprom-signed.bin", &imgbuf);

	opt.private_key_path = priv;
	assert_int_equal(pv_eeprom_sig_create(conf.data, conf.len, &opt, &made), PV_OK);
	assert_int_equal(made.len, sig.len);
	assert_memory_equal(made.data, sig.data, sig.len);
	assert_int_equal(pv_eeprom_sig_parse(sig.data, sig.len, "bootconf.sig", &parsed), PV_OK);
	assert_int_equal(pv_eeprom_sig_verify(conf.data, conf.len, &parsed, pub), PV_OK);
	assert_int_equal(pv_eeprom_sig_verify(conf.data, conf.len - 1, &parsed, pub),
			 PV_ERR_VERIFY);

	assert_int_equal(pv_eeprom_parse(&img, imgbuf.data, imgbuf.len, "pieeprom-signed.bin"),
			 PV_OK);
	assert_int_equal(pv_eeprom_get_info(&img, &info), PV_OK);
	assert_true(info.config_signed);
	assert_true(info.pubkey_set);
	assert_int_equal(pv_eeprom_verify_signed_config(&img), PV_OK);
	{
		struct pv_eeprom_blob c = { conf.data, conf.len, "bootconf.txt" };
		struct pv_eeprom_blob d = { sig.data, sig.len, "bootconf.sig" };
		struct pv_eeprom_blob k = { pem.data, pem.len, "public.pem" };
		struct pv_eeprom_edits edits = { .config = &c, .digest = &d, .pubkey_pem = &k };
		assert_int_equal(pv_eeprom_apply_edits(&img, &edits), PV_OK);
	}
	assert_memory_equal(img.data, imgbuf.data, imgbuf.len);
	/* A changed config no longer matches its signature. */
	assert_int_equal(pv_eeprom_update_file(&img, PV_EEPROM_BOOTCONF_TXT, "BOOT_UART=1\n", 12),
			 PV_OK);
	assert_int_equal(pv_eeprom_verify_signed_config(&img), PV_ERR_VERIFY);
	assert_non_null(strstr(pv_last_error(), "sha256 mismatch"));
	pv_eeprom_release(&img);
	pv_buf_release(&conf);
	pv_buf_release(&sig);
	pv_buf_release(&pem);
	pv_buf_release(&imgbuf);
	pv_buf_release(&made);
	free(priv);
	free(pub);
}

/* The official off-by-4: --cacertder of 2284 bytes on 2711/pieeprom-2026-08-04.bin is
 * accepted by rpi-eeprom-config and overwrites the magic of bootconf.sig behind it. Here
 * the room is 2280 bytes: 2284 is refused, 2280 fits and the image stays readable. */
static void test_cacert_overrun_refused(void **state)
{
	struct pv_buf imgbuf = PV_BUF_INIT(SIZE_MAX);
	struct pv_eeprom_image img = { 0 }, back = { 0 };
	unsigned char der[2284];
	size_t cap;

	(void)state;
	pv_test_fixtures_or_skip();
	memset(der, 0x30, sizeof(der));
	read_fixture("pieeprom/2711/pieeprom-2026-08-04.bin.gz", &imgbuf);
	assert_int_equal(pv_eeprom_parse(&img, imgbuf.data, imgbuf.len, "2026-08-04"), PV_OK);
	assert_int_equal(pv_eeprom_file_capacity(&img, PV_EEPROM_CACERT_DER, &cap), PV_OK);
	assert_int_equal(cap, 2280);
	assert_int_equal(pv_eeprom_update_file(&img, PV_EEPROM_CACERT_DER, der, 2284),
			 PV_ERR_NO_SPACE);
	assert_non_null(strstr(pv_last_error(), "room for 2280 bytes"));
	assert_memory_equal(img.data, imgbuf.data, img.size);
	assert_int_equal(pv_eeprom_update_file(&img, PV_EEPROM_CACERT_DER, der, 2280), PV_OK);
	assert_int_equal(pv_eeprom_parse(&back, img.data, img.size, "patched"), PV_OK);
	assert_true(pv_eeprom_find_section(&back, PV_EEPROM_BOOTCONF_SIG, 0, SIZE_MAX) > 0);
	pv_eeprom_release(&back);
	pv_eeprom_release(&img);
	pv_buf_release(&imgbuf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_public_expected),
		cmocka_unit_test(test_details_and_loopback),
		cmocka_unit_test(test_signed_fixtures),
		cmocka_unit_test(test_cacert_overrun_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
