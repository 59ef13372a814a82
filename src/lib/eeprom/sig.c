/* .sig files as rpi-eeprom-digest writes them (../shared/docs/eeprom-format.md §3) and the
 * pubkey.bin conversion of rpi-eeprom-config's pemtobin(): sha256 of the whole input, a
 * ts: line, optional target-soc: and an optional RSASSA-PKCS#1 v1.5 / SHA-256 signature,
 * all through OpenSSL 3 (no subprocesses). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/evp.h>

#include "internal.h"
#include "piprov/eeprom.h"
#include "piprov/fileio.h"
#include "piprov/text.h"
#include "banned.h"

#define KEY_FILE_LIMIT (64u * 1024u)
#define SIG_TEXT_LIMIT 4096u
#define RSA_BITS 2048

static const char *openssl_reason(void)
{
	static __thread char text[160];
	unsigned long err = ERR_get_error();

	if (!err)
		return "unsupported or malformed key";
	ERR_error_string_n(err, text, sizeof(text));
	ERR_clear_error();
	return text;
}

/* Decode a PEM key (any of SubjectPublicKeyInfo, PKCS#1, PKCS#8, traditional private) and
 * insist on RSA-2048, the only kind the bootloader verifies. */
static int decode_rsa_key(const void *pem, size_t len, const char *name, int selection,
			  EVP_PKEY **out)
{
	const unsigned char *p = pem;
	size_t left = len;
	EVP_PKEY *pkey = NULL;
	OSSL_DECODER_CTX *dctx;
	int rc;

	dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, "RSA", selection, NULL, NULL);
	if (!dctx)
		return pv_fail(PV_ERR_NOMEM, "eeprom", "out of memory");
	if (!OSSL_DECODER_from_data(dctx, &p, &left) || !pkey) {
		rc = pv_fail(PV_ERR_CRYPTO, "eeprom", "'%s': not a PEM RSA %s key (%s)", name,
			     selection == EVP_PKEY_KEYPAIR ? "private" : "public",
			     openssl_reason());
		goto out_free_ctx;
	}
	if (EVP_PKEY_get_bits(pkey) != RSA_BITS) {
		rc = pv_fail(PV_ERR_CRYPTO, "eeprom", "'%s': RSA key size must be 2048 (got %d)",
			     name, EVP_PKEY_get_bits(pkey));
		goto out_free_key;
	}
	OSSL_DECODER_CTX_free(dctx);
	*out = pkey;
	return PV_OK;

out_free_key:
	EVP_PKEY_free(pkey);
out_free_ctx:
	OSSL_DECODER_CTX_free(dctx);
	return rc;
}

static int load_rsa_key(const char *path, int selection, EVP_PKEY **out)
{
	struct pv_buf pem = PV_BUF_INIT(SIZE_MAX);
	int rc = pv_file_read_raw(path, KEY_FILE_LIMIT, &pem);

	if (rc == 0)
		rc = decode_rsa_key(pem.data ? pem.data : (const unsigned char *)"", pem.len, path,
				    selection, out);
	/* Private key material: wipe the copy. */
	if (pem.data)
		OPENSSL_cleanse(pem.data, pem.cap);
	pv_buf_release(&pem);
	return rc;
}

int pv_eeprom_pubkey_from_pem(const void *pem, size_t len, const char *name,
			      unsigned char out[PV_EEPROM_PUBKEY_LEN])
{
	unsigned char bin[PV_EEPROM_PUBKEY_LEN];
	EVP_PKEY *pkey = NULL;
	BIGNUM *n = NULL, *e = NULL;
	int rc;

	if (!name)
		name = "key";
	rc = decode_rsa_key(pem, len, name, 0, &pkey);
	if (rc)
		return rc;
	if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) ||
	    !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) ||
	    BN_bn2lebinpad(n, bin, 256) != 256 || BN_bn2lebinpad(e, bin + 256, 8) != 8) {
		rc = pv_fail(PV_ERR_CRYPTO, "eeprom", "'%s': cannot read the RSA modulus/exponent (%s)",
			     name, openssl_reason());
		goto out_free;
	}
	memcpy(out, bin, sizeof(bin));
out_free:
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(pkey);
	return rc;
}

static int sha256(const void *data, size_t len, unsigned char md[32])
{
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return pv_fail(PV_ERR_CRYPTO, "eeprom", "sha256 failed (%s)", openssl_reason());
	return PV_OK;
}

int pv_eeprom_sig_timestamp(int64_t requested, uint64_t *ts)
{
	const char *env;

	if (requested >= 0) {
		*ts = (uint64_t)requested;
		return PV_OK;
	}
	env = getenv("SOURCE_DATE_EPOCH");
	if (env && *env) {
		if (pv_parse_u64(env, 10, ts) != 0)
			return pv_fail(PV_ERR_INVALID, "eeprom",
				       "'SOURCE_DATE_EPOCH': not a decimal number of seconds: '%s'",
				       env);
		return PV_OK;
	}
	*ts = (uint64_t)time(NULL);
	return PV_OK;
}

int pv_eeprom_sig_from_digest(const unsigned char sha256_digest[32],
			      const struct pv_eeprom_sig_options *opt, struct pv_buf *out)
{
	static const struct pv_eeprom_sig_options defaults = { .timestamp = -1 };
	char hex[65];
	uint64_t ts;
	int rc;

	if (!opt)
		opt = &defaults;
	if (opt->private_key_path)
		return pv_fail(PV_ERR_INVALID, "eeprom",
			       "a signed .sig needs the data, not only its digest");
	rc = pv_eeprom_sig_timestamp(opt->timestamp, &ts);
	if (rc)
		return rc;
	pv_hex_encode(sha256_digest, 32, hex);
	rc = pv_buf_appendf(out, "%s\nts: %llu\n", hex, (unsigned long long)ts);
	if (rc == 0 && opt->target_soc)
		rc = pv_buf_appendf(out, "target-soc: %s\n", opt->target_soc->chip);
	if (rc)
		return pv_fail(rc, "eeprom", "cannot build the .sig text");
	return PV_OK;
}

int pv_eeprom_sig_create(const void *data, size_t len, const struct pv_eeprom_sig_options *opt,
			 struct pv_buf *out)
{
	static const struct pv_eeprom_sig_options defaults = { .timestamp = -1 };
	struct pv_eeprom_sig_options unsigned_opt;
	unsigned char md[32], sig[512];
	char hex[2 * sizeof(sig) + 1];
	size_t siglen = sizeof(sig), start = out->len;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *mdctx = NULL;
	int rc;

	if (!opt)
		opt = &defaults;
	rc = sha256(data, len, md);
	if (rc)
		return rc;
	unsigned_opt = *opt;
	unsigned_opt.private_key_path = NULL;
	rc = pv_eeprom_sig_from_digest(md, &unsigned_opt, out);
	if (rc)
		goto out_truncate;
	if (!opt->private_key_path)
		return PV_OK;
	rc = load_rsa_key(opt->private_key_path, EVP_PKEY_KEYPAIR, &pkey);
	if (rc)
		goto out_truncate;
	mdctx = EVP_MD_CTX_new();
	if (!mdctx) {
		rc = pv_fail(PV_ERR_NOMEM, "eeprom", "out of memory");
		goto out_free_key;
	}
	if (EVP_DigestSignInit(mdctx, NULL, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_DigestSign(mdctx, sig, &siglen, data, len) != 1) {
		rc = pv_fail(PV_ERR_CRYPTO, "eeprom", "'%s': signing failed (%s)",
			     opt->private_key_path, openssl_reason());
		goto out_free_ctx;
	}
	pv_hex_encode(sig, siglen, hex);
	rc = pv_buf_appendf(out, "rsa2048: %s\n", hex);
	if (rc)
		rc = pv_fail(rc, "eeprom", "cannot build the .sig text");
out_free_ctx:
	EVP_MD_CTX_free(mdctx);
out_free_key:
	EVP_PKEY_free(pkey);
out_truncate:
	if (rc)
		pv_buf_truncate(out, start);
	return rc;
}

static bool is_hex_string(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

int pv_eeprom_sig_parse(const void *text, size_t len, const char *name,
			struct pv_eeprom_sig *out)
{
	const char *p = text, *end = p + len;
	struct pv_eeprom_sig sig;
	char line[1100];
	unsigned lineno = 0;

	if (!name)
		name = "signature";
	if (len > SIG_TEXT_LIMIT)
		return pv_fail(PV_ERR_TOO_BIG, "eeprom", "'%s': larger than %u bytes", name,
			       SIG_TEXT_LIMIT);
	memset(&sig, 0, sizeof(sig));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *value;

		lineno++;
		if (n >= sizeof(line))
			return pv_fail(PV_ERR_FORMAT, "eeprom", "'%s': line %u: too long", name,
				       lineno);
		memcpy(line, p, n);
		line[n] = '\0';
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		p = nl ? nl + 1 : end;
		if (memchr(line, '\0', n))
			return pv_fail(PV_ERR_FORMAT, "eeprom", "'%s': line %u: NUL byte", name,
				       lineno);
		if (lineno == 1) {
			if (n != 64 || !is_hex_string(line, 64))
				return pv_fail(PV_ERR_FORMAT, "eeprom",
					       "'%s': line 1: expected a sha256 (64 hex digits)",
					       name);
			for (size_t i = 0; i < 64; i++)
				sig.sha256_hex[i] = (char)tolower((unsigned char)line[i]);
			continue;
		}
		if (n == 0)
			continue;
		if (strncmp(line, "ts: ", 4) == 0) {
			if (pv_parse_u64(line + 4, 10, &sig.timestamp) != 0)
				return pv_fail(PV_ERR_FORMAT, "eeprom",
					       "'%s': line %u: bad timestamp '%s'", name, lineno,
					       line + 4);
			sig.has_timestamp = true;
		} else if (strncmp(line, "target-soc: ", 12) == 0) {
			value = line + 12;
			if (strlen(value) >= sizeof(sig.target_soc) || !*value)
				return pv_fail(PV_ERR_FORMAT, "eeprom",
					       "'%s': line %u: bad target-soc", name, lineno);
			pv_strlcpy(sig.target_soc, value, sizeof(sig.target_soc));
		} else if (strncmp(line, "rsa2048: ", 9) == 0) {
			value = line + 9;
			if (strlen(value) != 512 || pv_hex_decode(value, sig.rsa, 256) != 0)
				return pv_fail(PV_ERR_FORMAT, "eeprom",
					       "'%s': line %u: rsa2048 signature must be 512 hex "
					       "digits", name, lineno);
			sig.has_rsa = true;
		} else {
			pv_log(PV_LOG_WARN, "eeprom", "'%s': line %u: ignoring unknown line", name,
			       lineno);
		}
	}
	if (lineno == 0)
		return pv_fail(PV_ERR_FORMAT, "eeprom", "'%s': empty signature file", name);
	*out = sig;
	return PV_OK;
}

/* The sha256 of data must be the one sig names. */
static int check_digest(const void *data, size_t len, const struct pv_eeprom_sig *sig)
{
	unsigned char md[32];
	char hex[65];
	int rc = sha256(data, len, md);

	if (rc)
		return rc;
	pv_hex_encode(md, sizeof(md), hex);
	if (strcmp(hex, sig->sha256_hex) != 0)
		return pv_fail(PV_ERR_VERIFY, "eeprom",
			       "sha256 mismatch: the data has %s, the signature file says %s", hex,
			       sig->sha256_hex);
	return PV_OK;
}

static int check_rsa(const void *data, size_t len, const struct pv_eeprom_sig *sig,
		     EVP_PKEY *pkey, const char *key_name)
{
	EVP_MD_CTX *mdctx;
	int rc = PV_OK;

	if (!sig->has_rsa)
		return pv_fail(PV_ERR_VERIFY, "eeprom", "no rsa2048 signature to verify");
	mdctx = EVP_MD_CTX_new();
	if (!mdctx)
		return pv_fail(PV_ERR_NOMEM, "eeprom", "out of memory");
	if (EVP_DigestVerifyInit(mdctx, NULL, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_DigestVerify(mdctx, sig->rsa, sizeof(sig->rsa), data, len) != 1) {
		ERR_clear_error();
		rc = pv_fail(PV_ERR_VERIFY, "eeprom",
			     "rsa2048 signature does not match the data and the key '%s'", key_name);
	}
	EVP_MD_CTX_free(mdctx);
	return rc;
}

int pv_eeprom_sig_verify(const void *data, size_t len, const struct pv_eeprom_sig *sig,
			 const char *pubkey_path)
{
	EVP_PKEY *pkey = NULL;
	int rc = check_digest(data, len, sig);

	if (rc || !pubkey_path)
		return rc;
	if (!sig->has_rsa)
		return pv_fail(PV_ERR_VERIFY, "eeprom", "no rsa2048 signature to verify");
	rc = load_rsa_key(pubkey_path, EVP_PKEY_PUBLIC_KEY, &pkey);
	if (rc)
		return rc;
	rc = check_rsa(data, len, sig, pkey, pubkey_path);
	EVP_PKEY_free(pkey);
	return rc;
}

/* pubkey.bin (n, e little-endian) back into an RSA public key. */
static int pubkey_bin_to_pkey(const unsigned char *bin, size_t len, EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *n = NULL, *e = NULL;
	EVP_PKEY *pkey = NULL;
	int rc = PV_OK;

	if (len < PV_EEPROM_PUBKEY_LEN)
		return pv_fail(PV_ERR_FORMAT, "eeprom", "pubkey.bin is %zu bytes, not %u", len,
			       PV_EEPROM_PUBKEY_LEN);
	n = BN_lebin2bn(bin, 256, NULL);
	e = BN_lebin2bn(bin + 256, 8, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (!n || !e || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	    !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		rc = pv_fail(PV_ERR_CRYPTO, "eeprom", "pubkey.bin is not a usable RSA key (%s)",
			     openssl_reason());
		goto out_free;
	}
	*out = pkey;
out_free:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return rc;
}

static bool all_zero(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

int pv_eeprom_verify_signed_config(const struct pv_eeprom_image *img)
{
	const unsigned char *conf, *sig_text, *key;
	size_t conf_len, sig_len, key_len;
	struct pv_eeprom_sig sig;
	EVP_PKEY *pkey = NULL;
	int rc;

	if (pv_eeprom_get_file(img, PV_EEPROM_BOOTCONF_SIG, &sig_text, &sig_len) != 0 ||
	    all_zero(sig_text, sig_len))
		return pv_fail(PV_ERR_NOT_FOUND, "eeprom", "'%s': the config is not signed",
			       img->name);
	rc = pv_eeprom_sig_parse(sig_text, sig_len, "bootconf.sig", &sig);
	if (rc == 0)
		rc = pv_eeprom_get_file(img, PV_EEPROM_BOOTCONF_TXT, &conf, &conf_len);
	if (rc == 0)
		rc = check_digest(conf, conf_len, &sig);
	if (rc)
		return rc;
	if (pv_eeprom_get_file(img, PV_EEPROM_PUBKEY_BIN, &key, &key_len) != 0 ||
	    all_zero(key, key_len))
		return pv_fail(PV_ERR_VERIFY, "eeprom",
			       "'%s': bootconf.sig matches bootconf.txt but no public key is set",
			       img->name);
	rc = pubkey_bin_to_pkey(key, key_len, &pkey);
	if (rc == 0)
		rc = check_rsa(conf, conf_len, &sig, pkey, "pubkey.bin");
	EVP_PKEY_free(pkey);
	return rc;
}
