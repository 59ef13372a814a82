/* The image engine on synthetic images built by pv_eeprom_synthesize (always runs), plus
 * the .sig writer/verifier with keys generated here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "piprov/eeprom.h"
#include "piprov/error.h"
#include "piprov/fileio.h"
#include "test_support.h"

static void synth(enum pv_soc soc, const struct pv_eeprom_synth_options *opt,
		  struct pv_eeprom_image *img)
{
	struct pv_buf buf = PV_BUF_INIT(SIZE_MAX);

	assert_int_equal(pv_eeprom_synthesize(soc, opt, &buf), PV_OK);
	assert_int_equal(pv_eeprom_parse(img, buf.data, buf.len, "synth"), PV_OK);
	pv_buf_release(&buf);
}

static void test_synth_layouts(void **state)
{
	static const struct {
		enum pv_soc soc;
		bool ab;
		size_t size;
	} cases[] = {
		{ PV_SOC_BCM2711, false, 524288 },
		{ PV_SOC_BCM2712, false, 2097152 },
		{ PV_SOC_BCM2712, true, 2097152 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pv_eeprom_synth_options opt = { .ab = cases[i].ab,
						       .build_timestamp = 1712345678,
						       .version = "0123abcd" };
		struct pv_eeprom_image img = { 0 };
		struct pv_eeprom_info info;
		const unsigned char *conf;
		size_t len;

		synth(cases[i].soc, &opt, &img);
		assert_int_equal(img.size, cases[i].size);
		assert_int_equal(img.soc->soc, cases[i].soc);
		assert_int_equal(img.ab, cases[i].ab);
		assert_int_equal(img.sections[0].offset, 0);
		assert_int_equal(img.sections[0].magic, PV_EEPROM_MAGIC_GENERIC);
		assert_int_equal(pv_eeprom_get_info(&img, &info), PV_OK);
		assert_int_equal(info.build_timestamp, 1712345678);
		assert_string_equal(info.version, "0123abcd");
		assert_int_equal(info.mfg_version, 1);
		assert_true(info.has_bootconf && info.has_bootconf_sig && info.has_pubkey);
		assert_false(info.config_signed);
		assert_false(info.pubkey_set);
		assert_int_equal(info.bootconf_capacity, PV_EEPROM_MAX_FILE_SIZE);
		assert_int_equal(info.bootconf_offset % PV_EEPROM_ERASE_SIZE, 0);
		assert_int_equal(info.bootconf_is_last, !cases[i].ab);
		assert_int_equal(pv_eeprom_get_file(&img, PV_EEPROM_BOOTCONF_TXT, &conf, &len),
				 PV_OK);
		assert_true(len > 20 && memcmp(conf, "[all]\n", 6) == 0);
		assert_non_null(memmem(conf, len, "BOOT_ORDER=0xf", 14));
		assert_true(pv_eeprom_find_section(&img, PV_EEPROM_CACERT_DER, 0, SIZE_MAX) > 0);
		if (cases[i].ab) {
			assert_true(pv_eeprom_find_section(&img, PV_EEPROM_BOOTSYS, 0x10000,
							   0x10001) >= 0);
			assert_true(pv_eeprom_find_section(&img, PV_EEPROM_UPDATETIME, 0,
							   0x10000) >= 0);
		}
		/* The reserved tail is erased flash. */
		for (size_t k = img.size - 4096; k < img.size; k++)
			assert_int_equal(img.data[k], 0xff);
		pv_eeprom_release(&img);
	}
}

static void test_loopback_and_revert(void **state)
{
	static const char conf2[] = "[all]\r\nBOOT_ORDER=0xf21\r\n# no final newline";
	enum pv_soc socs[] = { PV_SOC_BCM2711, PV_SOC_BCM2712, PV_SOC_BCM2712 };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct pv_eeprom_synth_options opt = { .ab = i == 2 };
		struct pv_eeprom_image img = { 0 };
		unsigned char *orig, *old_conf;
		const unsigned char *conf;
		size_t len, old_len;

		synth(socs[i], &opt, &img);
		orig = malloc(img.size);
		memcpy(orig, img.data, img.size);
		assert_int_equal(pv_eeprom_get_file(&img, PV_EEPROM_BOOTCONF_TXT, &conf, &len), 0);
		old_conf = malloc(len);
		memcpy(old_conf, conf, len);
		old_len = len;
		/* Same bytes back: identical image. */
		assert_int_equal(pv_eeprom_update_file(&img, PV_EEPROM_BOOTCONF_TXT, old_conf,
						       old_len), PV_OK);
		assert_memory_equal(img.data, orig, img.size);
		/* A different config reads back exactly (CRLF, no final newline). */
		assert_int_equal(pv_eeprom_update_file(&img, PV_EEPROM_BOOTCONF_TXT, conf2,
						       sizeof(conf2) - 1), PV_OK);
		assert_int_equal(pv_eeprom_get_file(&img, PV_EEPROM_BOOTCONF_TXT, &conf, &len), 0);
		assert_int_equal(len, sizeof(conf2) - 1);
		assert_memory_equal(conf, conf2, len);
		assert_memory_not_equal(img.data, orig, img.size);
		/* And reverting restores every byte. */
		assert_int_equal(pv_eeprom_update_file(&img, PV_EEPROM_BOOTCONF_TXT, old_conf,
						       old_len), PV_OK);
		assert_memory_equal(img.data, orig, img.size);
		free(old_conf);
		free(orig);
		pv_eeprom_release(&img);
	}
}

static void test_size_limits(void **state)
{
	struct pv_eeprom_synth_options opt = { .bootconf_capacity = 1504 };
	struct pv_eeprom_image img = { 0 };
	unsigned char *big = malloc(4077), *orig;
	size_t cap;

	(void)state;
	memset(big, '#', 4077);
	big[4076] = '\n';
	synth(PV_SOC_BCM2711, NULL, &img);
	orig = malloc(img.size);
	memcpy(orig, img.data, img.size);
	assert_int_equal(pv_eeprom_update_file(&img, PV_EEPROM_BOOTCONF_TXT, big, 4077),
			 PV_ERR_TOO_BIG);
	assert_non_null(strstr(pv_last_error(), "4076"));
	assert_memory_equal(img.data, orig, img.size);
	/* 4076 fits when bootconf.txt is last (its 4 extra bytes land in the reserved tail,
	 * exactly as the official tool writes them). */
	assert_int_equal(pv_eeprom_update_file(&img, PV_EEPROM_BOOTCONF_TXT, big, 4076), PV_OK);
	pv_eeprom_release(&img);
	free(orig);

	synth(PV_SOC_BCM2711, &opt, &img);
	assert_int_equal(pv_eeprom_file_capacity(&img, PV_EEPROM_BOOTCONF_TXT, &cap), PV_OK);
	assert_int_equal(cap, 1504);
	orig = malloc(img.size);
	memcpy(orig, img.data, img.size);
	assert_int_equal(pv_eeprom_update_file(&img, PV_EEPROM_BOOTCONF_TXT, big, 1505),
			 PV_ERR_NO_SPACE);
	assert_non_null(strstr(pv_last_error(), "room for 1504 bytes"));
	assert_memory_equal(img.data, orig, img.size);
	assert_int_equal(pv_eeprom_update_file(&img, PV_EEPROM_BOOTCONF_TXT, big, 1504), PV_OK);
	/* The section after it is intact. */
	assert_int_equal(pv_eeprom_file_capacity(&img, PV_EEPROM_BOOTCONF_TXT, &cap), PV_OK);
	assert_int_equal(cap, 1504);
	assert_int_equal(pv_eeprom_update_file(&img, "nosuch.txt", "x", 1), PV_ERR_NOT_FOUND);
	pv_eeprom_release(&img);
	free(orig);
	free(big);
}

static uint32_t le32_at(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_timestamp(void **state)
{
	struct pv_eeprom_synth_options ab = { .ab = true };
	struct pv_eeprom_image img = { 0 };
	struct pv_eeprom_info info;
	long ro, part;

	(void)state;
	synth(PV_SOC_BCM2711, NULL, &img);
	assert_int_equal(pv_eeprom_get_info(&img, &info), PV_OK);
	assert_false(info.has_update_timestamp);
	assert_int_equal(pv_eeprom_set_timestamp(&img, 1700000000), PV_OK);
	assert_int_equal(le32_at(img.data + img.size - 4), 1700000000u);
	assert_int_equal(le32_at(img.data + img.size - 8), ~1700000000u);
	assert_int_equal(pv_eeprom_get_info(&img, &info), PV_OK);
	assert_true(info.has_update_timestamp);
	assert_int_equal(info.update_timestamp, 1700000000u);
	pv_eeprom_release(&img);

	synth(PV_SOC_BCM2712, &ab, &img);
	assert_int_equal(pv_eeprom_set_timestamp(&img, 1700000000), PV_OK);
	ro = pv_eeprom_find_section(&img, PV_EEPROM_UPDATETIME, 0, PV_EEPROM_RO_SIZE);
	part = pv_eeprom_find_section(&img, PV_EEPROM_UPDATETIME, PV_EEPROM_RO_SIZE,
				      PV_EEPROM_PARTITION_END);
	assert_true(ro >= 0 && part > ro);
	assert_int_equal(le32_at(img.data + img.sections[ro].offset + 28), 1700000000u);
	assert_int_equal(le32_at(img.data + img.sections[part].offset + 28), 1700000000u);
	assert_int_equal(le32_at(img.data + img.sections[part].offset + 24), ~1700000000u);
	/* The tail is untouched on A/B images. */
	assert_int_equal(le32_at(img.data + img.size - 4), 0xffffffffu);
	pv_eeprom_release(&img);
}

static void test_bootcode(void **state)
{
	struct pv_eeprom_image img = { 0 };
	unsigned char code[1000];
	const unsigned char *got;
	size_t len;

	(void)state;
	memset(code, 0x5a, sizeof(code));
	synth(PV_SOC_BCM2711, NULL, &img); /* next section below 128 KiB, as in releases */
	assert_int_equal(pv_eeprom_update_bootcode(&img, code, sizeof(code)), PV_ERR_UNSUPPORTED);
	pv_eeprom_release(&img);
	synth(PV_SOC_BCM2712, NULL, &img);
	assert_int_equal(pv_eeprom_update_bootcode(&img, code, sizeof(code)), PV_OK);
	assert_int_equal(pv_eeprom_get_file(&img, PV_EEPROM_BOOTCODE_BIN, &got, &len), PV_OK);
	assert_int_equal(len, sizeof(code));
	assert_memory_equal(got, code, len);
	/* The PAD written after it reaches the first payload section at 128 KiB. */
	assert_int_equal(img.sections[1].magic, PV_EEPROM_MAGIC_PAD);
	assert_int_equal(img.sections[2].offset, 0x20000);
	pv_eeprom_release(&img);
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void test_bad_images(void **state)
{
	struct pv_buf buf = PV_BUF_INIT(SIZE_MAX);
	struct pv_eeprom_image img = { 0 };
	unsigned char *copy;
	long conf;

	(void)state;
	assert_int_equal(pv_eeprom_synthesize(PV_SOC_BCM2711, NULL, &buf), PV_OK);
	copy = malloc(buf.len);

	assert_int_equal(pv_eeprom_parse(&img, buf.data, buf.len - 1, "short.bin"),
			 PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "'short.bin'"));
	assert_non_null(strstr(pv_last_error(), "524287"));

	memcpy(copy, buf.data, buf.len);
	put_be32(copy, 0x12345678);
	assert_int_equal(pv_eeprom_parse(&img, copy, buf.len, "magic.bin"), PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "bad magic 0x12345678"));

	memset(copy, 0xff, buf.len);
	assert_int_equal(pv_eeprom_parse(&img, copy, buf.len, "blank.bin"), PV_ERR_FORMAT);

	/* Section length past the end of the image. */
	memcpy(copy, buf.data, buf.len);
	put_be32(copy + 4, (uint32_t)buf.len);
	assert_int_equal(pv_eeprom_parse(&img, copy, buf.len, "long.bin"), PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "runs past the end"));

	/* A length that makes the next header land in the middle of a payload. */
	memcpy(copy, buf.data, buf.len);
	put_be32(copy + 4, 1000);
	assert_int_equal(pv_eeprom_parse(&img, copy, buf.len, "overlap.bin"), PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "corrupted"));

	/* A FILE section shorter than its own name. */
	assert_int_equal(pv_eeprom_parse(&img, buf.data, buf.len, "ok.bin"), PV_OK);
	conf = pv_eeprom_find_section(&img, PV_EEPROM_BOOTCONF_TXT, 0, SIZE_MAX);
	memcpy(copy, buf.data, buf.len);
	put_be32(copy + img.sections[conf].offset + 4, 8);
	pv_eeprom_release(&img);
	assert_int_equal(pv_eeprom_parse(&img, copy, buf.len, "file.bin"), PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "too short"));

	assert_int_equal(pv_eeprom_load(&img, "/nonexistent/piprov/pieeprom.bin"),
			 PV_ERR_NOT_FOUND);
	assert_non_null(strstr(pv_last_error(), "/nonexistent/piprov/pieeprom.bin"));
	free(copy);
	pv_buf_release(&buf);
}

/* An A/B image whose PAD after bootconf.txt swallows the partition-B header: the official
 * tool would write a PAD up to 0x107000 and leave garbage as the next header. Refused,
 * image unchanged. */
static void test_refuse_unreadable_result(void **state)
{
	struct pv_eeprom_synth_options ab = { .ab = true };
	struct pv_eeprom_image img = { 0 }, crafted = { 0 };
	unsigned char *copy;
	long conf;
	size_t pad_off, end_b;

	(void)state;
	synth(PV_SOC_BCM2712, &ab, &img);
	conf = pv_eeprom_find_section(&img, PV_EEPROM_BOOTCONF_TXT, 0, SIZE_MAX);
	assert_int_equal(img.sections[conf + 1].magic, PV_EEPROM_MAGIC_PAD);
	assert_int_equal(img.sections[conf + 2].offset, PV_EEPROM_PARTITION_END);
	pad_off = img.sections[conf + 1].offset;
	end_b = PV_EEPROM_PARTITION_END + 8 + img.sections[conf + 2].length;
	copy = malloc(img.size);
	memcpy(copy, img.data, img.size);
	put_be32(copy + pad_off + 4, (uint32_t)(end_b - pad_off - 8));
	memcpy(copy + PV_EEPROM_PARTITION_END, "garbage!", 8);
	assert_int_equal(pv_eeprom_parse(&crafted, copy, img.size, "crafted.bin"), PV_OK);
	assert_int_equal(pv_eeprom_update_file(&crafted, PV_EEPROM_BOOTCONF_TXT, "A=1\n", 4),
			 PV_ERR_FORMAT);
	assert_memory_equal(crafted.data, copy, img.size);
	pv_eeprom_release(&crafted);
	pv_eeprom_release(&img);
	free(copy);
}

static void test_save(void **state)
{
	struct pv_eeprom_image img = { 0 }, back = { 0 };
	char *dir = pv_test_mkdtemp(), *path = NULL, *bad = NULL;

	(void)state;
	assert_true(asprintf(&path, "%s/out.bin", dir) > 0);
	assert_true(asprintf(&bad, "%s/missing/out.bin", dir) > 0);
	synth(PV_SOC_BCM2712, NULL, &img);
	assert_int_equal(pv_eeprom_save(&img, path), PV_OK);
	assert_int_equal(pv_eeprom_load(&back, path), PV_OK);
	assert_int_equal(back.size, img.size);
	assert_memory_equal(back.data, img.data, img.size);
	assert_int_not_equal(pv_eeprom_save(&img, bad), PV_OK);
	assert_false(pv_path_exists(bad));
	/* A loaded (mapped) image edits like a parsed one, and saving over its own file
	 * works (the rename leaves the mapped original alone). */
	assert_int_equal(pv_eeprom_update_file(&back, PV_EEPROM_BOOTCONF_TXT, "A=1\n", 4), PV_OK);
	assert_int_equal(pv_eeprom_save(&back, path), PV_OK);
	pv_eeprom_release(&back);
	assert_int_equal(pv_eeprom_load(&back, path), PV_OK);
	{
		const unsigned char *conf;
		size_t len;
		assert_int_equal(pv_eeprom_get_file(&back, PV_EEPROM_BOOTCONF_TXT, &conf, &len), 0);
		assert_int_equal(len, 4);
		assert_memory_equal(conf, "A=1\n", 4);
	}
	pv_eeprom_release(&back);
	/* Empty and oversized files: size messages naming the file. */
	pv_test_write_file(path, "", 0);
	assert_int_equal(pv_eeprom_load(&back, path), PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "got 0 bytes"));
	{
		unsigned char *big = calloc(1, 2097153);
		pv_test_write_file(path, big, 2097153);
		free(big);
	}
	assert_int_equal(pv_eeprom_load(&back, path), PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "got 2097153 bytes"));
	pv_eeprom_release(&back);
	pv_eeprom_release(&img);
	pv_test_rmtree(dir);
	free(dir);
	free(path);
	free(bad);
}

static void write_key(EVP_PKEY *key, const char *path, bool private_key)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	if (private_key)
		assert_true(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL));
	else
		assert_true(PEM_write_PUBKEY(f, key));
	fclose(f);
}

static void test_sig(void **state)
{
	static const char data[] = "BOOT_ORDER=0xf21\n";
	struct pv_eeprom_sig_options opt = { .timestamp = 1614092425 };
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX), pem = PV_BUF_INIT(SIZE_MAX);
	struct pv_eeprom_sig sig;
	char *dir = pv_test_mkdtemp(), *priv = NULL, *pub = NULL, *other = NULL;
	EVP_PKEY *key = EVP_RSA_gen(2048), *key2 = EVP_RSA_gen(2048);
	unsigned char bin[PV_EEPROM_PUBKEY_LEN];

	(void)state;
	assert_non_null(key);
	assert_non_null(key2);
	assert_true(asprintf(&priv, "%s/private.pem", dir) > 0);
	assert_true(asprintf(&pub, "%s/public.pem", dir) > 0);
	assert_true(asprintf(&other, "%s/other.pem", dir) > 0);
	write_key(key, priv, true);
	write_key(key, pub, false);
	write_key(key2, other, false);

	/* Plain digest: sha256 + ts (sha256 of the data checked independently). */
	assert_int_equal(pv_eeprom_sig_create(data, sizeof(data) - 1, &opt, &text), PV_OK);
	{
		unsigned char md[32];
		char hex[65], want[128];
		unsigned int n = 0;
		EVP_Digest(data, sizeof(data) - 1, md, &n, EVP_sha256(), NULL);
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		snprintf(want, sizeof(want), "%s\nts: 1614092425\n", hex);
		assert_string_equal(pv_buf_str(&text), want);
	}
	/* From the digest alone: the same text; a signed one needs the data. */
	{
		struct pv_buf again = PV_BUF_INIT(8192);
		unsigned char md[32];
		unsigned int n = 0;

		EVP_Digest(data, sizeof(data) - 1, md, &n, EVP_sha256(), NULL);
		assert_int_equal(pv_eeprom_sig_from_digest(md, &opt, &again), PV_OK);
		assert_string_equal(pv_buf_str(&again), pv_buf_str(&text));
		opt.private_key_path = priv;
		assert_int_equal(pv_eeprom_sig_from_digest(md, &opt, &again), PV_ERR_INVALID);
		opt.private_key_path = NULL;
		pv_buf_release(&again);
	}
	/* SOURCE_DATE_EPOCH when no explicit time; target-soc line. */
	pv_buf_reset(&text);
	setenv("SOURCE_DATE_EPOCH", "1234567890", 1);
	opt.timestamp = -1;
	opt.target_soc = pv_soc_by_name("2712");
	assert_int_equal(pv_eeprom_sig_create(data, sizeof(data) - 1, &opt, &text), PV_OK);
	assert_non_null(strstr(pv_buf_str(&text), "\nts: 1234567890\ntarget-soc: 2712\n"));
	setenv("SOURCE_DATE_EPOCH", "yesterday", 1);
	assert_int_equal(pv_eeprom_sig_create(data, sizeof(data) - 1, &opt, &text),
			 PV_ERR_INVALID);
	unsetenv("SOURCE_DATE_EPOCH");

	/* Signed: verifies with the right key only, and not for other data. */
	pv_buf_reset(&text);
	opt.timestamp = 1;
	opt.private_key_path = priv;
	assert_int_equal(pv_eeprom_sig_create(data, sizeof(data) - 1, &opt, &text), PV_OK);
	assert_int_equal(pv_eeprom_sig_parse(text.data, text.len, "x.sig", &sig), PV_OK);
	assert_true(sig.has_rsa);
	assert_string_equal(sig.target_soc, "2712");
	assert_int_equal(sig.timestamp, 1);
	assert_int_equal(pv_eeprom_sig_verify(data, sizeof(data) - 1, &sig, NULL), PV_OK);
	assert_int_equal(pv_eeprom_sig_verify(data, sizeof(data) - 1, &sig, pub), PV_OK);
	assert_int_equal(pv_eeprom_sig_verify(data, sizeof(data) - 1, &sig, other),
			 PV_ERR_VERIFY);
	assert_int_equal(pv_eeprom_sig_verify(data, sizeof(data) - 2, &sig, NULL),
			 PV_ERR_VERIFY);
	sig.rsa[10] ^= 1;
	assert_int_equal(pv_eeprom_sig_verify(data, sizeof(data) - 1, &sig, pub), PV_ERR_VERIFY);

	/* Malformed .sig text names the line. */
	assert_int_equal(pv_eeprom_sig_parse("abc\n", 4, "bad.sig", &sig), PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "'bad.sig': line 1"));

	/* pubkey.bin: n then e, little-endian. */
	pv_test_read_file(pub, &pem);
	assert_int_equal(pv_eeprom_pubkey_from_pem(pem.data, pem.len, pub, bin), PV_OK);
	{
		BIGNUM *n = NULL;
		unsigned char nle[256];
		static const unsigned char e65537[8] = { 1, 0, 1, 0, 0, 0, 0, 0 };
		assert_true(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n));
		assert_int_equal(BN_bn2lebinpad(n, nle, 256), 256);
		assert_memory_equal(bin, nle, 256);
		assert_memory_equal(bin + 256, e65537, 8);
		BN_free(n);
	}
	assert_int_equal(pv_eeprom_pubkey_from_pem("junk", 4, "junk.pem", bin), PV_ERR_CRYPTO);

	/* A signed config inside an image: bootconf.sig over bootconf.txt + pubkey.bin. */
	{
		static const char conf[] = "[all]\nBOOT_ORDER=0xf21\nSIGNED_BOOT=1\n";
		struct pv_eeprom_image img = { 0 };
		struct pv_buf buf = PV_BUF_INIT(SIZE_MAX);
		unsigned char bin2[PV_EEPROM_PUBKEY_LEN];
		struct pv_buf pem2 = PV_BUF_INIT(SIZE_MAX);

		assert_int_equal(pv_eeprom_synthesize(PV_SOC_BCM2712, NULL, &buf), 0);
		assert_int_equal(pv_eeprom_parse(&img, buf.data, buf.len, "s"), 0);
		assert_int_equal(pv_eeprom_verify_signed_config(&img), PV_ERR_NOT_FOUND);
		pv_buf_reset(&text);
		opt.private_key_path = priv;
		opt.target_soc = NULL;
		assert_int_equal(pv_eeprom_sig_create(conf, sizeof(conf) - 1, &opt, &text), 0);
		assert_int_equal(pv_eeprom_update_file(&img, PV_EEPROM_BOOTCONF_TXT, conf,
						       sizeof(conf) - 1), 0);
		assert_int_equal(pv_eeprom_update_file(&img, PV_EEPROM_BOOTCONF_SIG, text.data,
						       text.len), 0);
		/* No key yet. */
		assert_int_equal(pv_eeprom_verify_signed_config(&img), PV_ERR_VERIFY);
		assert_int_equal(pv_eeprom_update_file(&img, PV_EEPROM_PUBKEY_BIN, bin, sizeof(bin)),
				 0);
		assert_int_equal(pv_eeprom_verify_signed_config(&img), PV_OK);
		/* The other key's pubkey.bin does not verify it. */
		pv_test_read_file(other, &pem2);
		assert_int_equal(pv_eeprom_pubkey_from_pem(pem2.data, pem2.len, other, bin2), 0);
		assert_int_equal(pv_eeprom_update_file(&img, PV_EEPROM_PUBKEY_BIN, bin2,
						       sizeof(bin2)), 0);
		assert_int_equal(pv_eeprom_verify_signed_config(&img), PV_ERR_VERIFY);
		pv_eeprom_release(&img);
		pv_buf_release(&buf);
		pv_buf_release(&pem2);
	}

	EVP_PKEY_free(key);
	EVP_PKEY_free(key2);
	pv_buf_release(&text);
	pv_buf_release(&pem);
	pv_test_rmtree(dir);
	free(dir);
	free(priv);
	free(pub);
	free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synth_layouts),
		cmocka_unit_test(test_loopback_and_revert),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_timestamp),
		cmocka_unit_test(test_bootcode),
		cmocka_unit_test(test_bad_images),
		cmocka_unit_test(test_refuse_unreadable_result),
		cmocka_unit_test(test_save),
		cmocka_unit_test(test_sig),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
