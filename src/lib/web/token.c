/* The token that POST requests carry: kept in a file only the service user can read, made
 * on first start, compared in constant time. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "piprov/fileio.h"
#include "piprov/text.h"
#include "piprov/web.h"

#include "internal.h"
#include "web_internal.h"

#include "banned.h"

/* A random token: 32 bytes from OpenSSL's CSPRNG, as 64 hex digits and a newline. */
static int create_token_file(const char *path)
{
	unsigned char raw[32];
	char text[sizeof(raw) * 2 + 2];
	int rc;

	if (RAND_bytes(raw, (int)sizeof(raw)) != 1)
		return pv_fail(PV_ERR_CRYPTO, "web", "'%s': no random bytes for a new token", path);
	pv_hex_encode(raw, sizeof(raw), text);
	text[sizeof(raw) * 2] = '\n';
	text[sizeof(raw) * 2 + 1] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	rc = pv_file_write_atomic(path, text, sizeof(raw) * 2 + 1, 0600);
	OPENSSL_cleanse(text, sizeof(text));
	if (rc == PV_OK)
		pv_log(PV_LOG_INFO, "web", "'%s': new token for POST requests", path);
	return rc;
}

/* The first line, trimmed of "\r\n": 16..PV_WEB_TOKEN_MAX-1 bytes of printable ASCII
 * without spaces (it travels in an HTTP header). */
static int parse_token(const char *path, const char *data, size_t len,
		       char token[PV_WEB_TOKEN_MAX])
{
	size_t n = 0;

	while (n < len && data[n] != '\n')
		n++;
	if (n > 0 && data[n - 1] == '\r')
		n--;
	if (n < PV_WEB_TOKEN_MIN || n >= PV_WEB_TOKEN_MAX)
		return pv_fail(PV_ERR_FORMAT, "web",
			       "'%s': line 1: the token must be %d to %d characters", path,
			       PV_WEB_TOKEN_MIN, PV_WEB_TOKEN_MAX - 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c <= ' ' || c >= 0x7f)
			return pv_fail(PV_ERR_FORMAT, "web",
				       "'%s': line 1: the token holds a space or a byte that is not "
				       "printable ASCII (column %zu)", path, i + 1);
	}
	memcpy(token, data, n);
	token[n] = '\0';
	return PV_OK;
}

int pv_web_token_load(const char *path, char token[PV_WEB_TOKEN_MAX])
{
	char data[PV_WEB_TOKEN_MAX + 2];
	struct stat st;
	ssize_t got;
	int fd, rc;

	/* O_NONBLOCK: a FIFO put in its place must not hang the start (pv_file_check_input
	 * refuses it). O_NOFOLLOW: the file itself must be the service user's, not a link. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		rc = create_token_file(path);
		if (rc)
			return rc;
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	}
	if (fd < 0 && errno == ELOOP)
		return pv_fail(PV_ERR_ACCESS, "web",
			       "'%s': the token file is a symbolic link (use the file itself)", path);
	if (fd < 0)
		return pv_fail_errno(errno, "web", "'%s': cannot open the token file", path);
	rc = pv_file_check_input(fd, path);
	if (rc)
		goto out_close;
	if (fstat(fd, &st) < 0) {
		rc = pv_fail_errno(errno, "web", "'%s': cannot stat the token file", path);
		goto out_close;
	}
	if (st.st_uid != geteuid()) {
		rc = pv_fail(PV_ERR_ACCESS, "web",
			     "'%s': the token file belongs to uid %u, not to this user (uid %u)", path,
			     (unsigned)st.st_uid, (unsigned)geteuid());
		goto out_close;
	}
	if (st.st_mode & 077) {
		rc = pv_fail(PV_ERR_ACCESS, "web",
			     "'%s': group or others may use the token file (mode %03o; chmod 600 it)",
			     path, (unsigned)(st.st_mode & 0777));
		goto out_close;
	}
	do
		got = read(fd, data, sizeof(data));
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		rc = pv_fail_errno(errno, "web", "'%s': cannot read the token file", path);
		goto out_close;
	}
	rc = parse_token(path, data, (size_t)got, token);
out_close:
	OPENSSL_cleanse(data, sizeof(data));
	close(fd);
	return rc;
}

/* Both sides are hashed first so that the time taken depends on neither the token's length
 * nor where the first difference is. */
bool pv_web_token_equal(const char *expected, const char *given, size_t given_len)
{
	unsigned char a[32], b[32];
	bool same;

	if (EVP_Digest(expected, strlen(expected), a, NULL, EVP_sha256(), NULL) != 1 ||
	    EVP_Digest(given, given_len, b, NULL, EVP_sha256(), NULL) != 1)
		return false;
	same = CRYPTO_memcmp(a, b, sizeof(a)) == 0;
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	return same;
}
