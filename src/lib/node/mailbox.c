/* The VideoCore property mailbox, as vcgencmd and vcmailbox use it (raspberrypi/utils;
 * netboot-and-identity.md §4.5): one ioctl on /dev/vcio with a buffer of 32-bit words
 *   size, code (0 = request; 0x80000000 = answered), tag, value buffer size,
 *   request/response length (bit 31 set on answer), value..., end tag 0.
 * The transport is an ops table so tests answer from a fake firmware. Every length in an
 * answer is checked against the buffer before use. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"
#include "piprov/node.h"
#include "piprov/text.h"
#include "banned.h"

/* _IOWR(100, 0, char *): 0xC0086400 on 64-bit, 0xC0046400 on 32-bit userland. */
#define IOCTL_MBOX_PROPERTY _IOWR(100, 0, char *)
#define MBOX_REQUEST 0x00000000u
#define MBOX_RESPONSE_OK 0x80000000u
#define MBOX_RESPONSE_BIT 0x80000000u
#define MBOX_HEADER_WORDS 5 /* size, code, tag, value size, req/resp length */
#define GENCMD_VALUE_SIZE 4096 /* vcgencmd's buffer */

struct vcio {
	int fd;
};

static int vcio_property(void *ctx, uint32_t *buf, size_t size)
{
	struct vcio *v = ctx;

	(void)size;
	if (ioctl(v->fd, IOCTL_MBOX_PROPERTY, buf) < 0)
		return pv_fail_errno(errno, "node", "mailbox property call failed");
	return PV_OK;
}

static void vcio_close(void *ctx)
{
	struct vcio *v = ctx;

	close(v->fd);
	free(v);
}

static const struct pv_node_mailbox_ops vcio_ops = { vcio_property, vcio_close };

int pv_node_mailbox_open_vcio(const struct pv_node_root *root, struct pv_node_mailbox *out)
{
	static const char *const nodes[] = { "dev/vcio_gencmd", "dev/vcio" };
	struct vcio *v;

	for (size_t i = 0; i < PV_ARRAY_SIZE(nodes); i++) {
		int fd;
		if (!pv_node_root_exists(root, nodes[i]))
			continue;
		fd = pv_node_root_openat(root, nodes[i], O_RDWR, 0);
		if (fd < 0)
			return fd;
		v = malloc(sizeof(*v));
		if (!v) {
			close(fd);
			return pv_fail(PV_ERR_NOMEM, "node", "out of memory");
		}
		v->fd = fd;
		out->ops = &vcio_ops;
		out->ctx = v;
		return PV_OK;
	}
	return pv_fail(PV_ERR_NOT_FOUND, "node", "no firmware mailbox ('/dev/vcio') in root '%s'",
		       root->path);
}

void pv_node_mailbox_close(struct pv_node_mailbox *mb)
{
	if (!mb || !mb->ops)
		return;
	if (mb->ops->close)
		mb->ops->close(mb->ctx);
	mb->ops = NULL;
	mb->ctx = NULL;
}

int pv_node_mailbox_parse_answer(const uint32_t *buf, size_t size, uint32_t tag,
				 const void **value, size_t *value_len)
{
	uint32_t value_size, resp;

	if (size < (MBOX_HEADER_WORDS + 1) * 4 || size % 4)
		return pv_fail(PV_ERR_FORMAT, "node", "mailbox answer of %zu bytes is too short",
			       size);
	if (buf[1] != MBOX_RESPONSE_OK)
		return pv_fail(PV_ERR_PROTOCOL, "node", "mailbox answered code %#x for tag %#x",
			       buf[1], tag);
	if (buf[2] != tag)
		return pv_fail(PV_ERR_PROTOCOL, "node", "mailbox answered tag %#x, asked %#x",
			       buf[2], tag);
	value_size = buf[3];
	resp = buf[4];
	if (value_size > size - MBOX_HEADER_WORDS * 4 - 4)
		return pv_fail(PV_ERR_FORMAT, "node",
			       "mailbox tag %#x: value size %u is past the buffer", tag, value_size);
	if (!(resp & MBOX_RESPONSE_BIT))
		return pv_fail(PV_ERR_PROTOCOL, "node", "mailbox did not answer tag %#x", tag);
	resp &= ~MBOX_RESPONSE_BIT;
	if (resp > value_size)
		return pv_fail(PV_ERR_OVERFLOW, "node",
			       "mailbox tag %#x: answer of %u bytes, room for %u", tag, resp,
			       value_size);
	*value = buf + MBOX_HEADER_WORDS;
	*value_len = resp;
	return PV_OK;
}

int pv_node_mailbox_tag(struct pv_node_mailbox *mb, uint32_t tag, const void *in, size_t in_len,
			size_t value_size, void *out, size_t out_size, size_t *out_len)
{
	size_t room = (in_len > value_size ? in_len : value_size);
	size_t words, bytes;
	uint32_t *buf;
	const void *value;
	size_t value_len;
	int rc;

	room = (room + 3) & ~(size_t)3;
	words = MBOX_HEADER_WORDS + room / 4 + 1;
	bytes = words * 4;
	if (bytes > PV_NODE_MBOX_MAX_BYTES)
		return pv_fail(PV_ERR_TOO_BIG, "node", "mailbox request of %zu bytes is too big",
			       bytes);
	buf = calloc(words, 4);
	if (!buf)
		return pv_fail(PV_ERR_NOMEM, "node", "out of memory");
	buf[0] = (uint32_t)bytes;
	buf[1] = MBOX_REQUEST;
	buf[2] = tag;
	buf[3] = (uint32_t)room;
	buf[4] = (uint32_t)in_len;
	if (in_len)
		memcpy(buf + MBOX_HEADER_WORDS, in, in_len);
	buf[words - 1] = 0; /* end tag */
	rc = mb->ops->property(mb->ctx, buf, bytes);
	if (rc)
		goto out_free;
	rc = pv_node_mailbox_parse_answer(buf, bytes, tag, &value, &value_len);
	if (rc)
		goto out_free;
	if (value_len > out_size) {
		rc = pv_fail(PV_ERR_OVERFLOW, "node",
			     "mailbox tag %#x: answer of %zu bytes, expected at most %zu", tag,
			     value_len, out_size);
		goto out_free;
	}
	memcpy(out, value, value_len);
	*out_len = value_len;
out_free:
	free(buf);
	return rc;
}

int pv_node_mailbox_gencmd(struct pv_node_mailbox *mb, const char *command, struct pv_buf *out)
{
	unsigned char *answer;
	unsigned char request[GENCMD_VALUE_SIZE];
	size_t cmd_len = strlen(command), answer_len, text_len;
	uint32_t error;
	int rc;

	/* value: u32 error code (0 in the request), then the NUL-terminated command. */
	if (cmd_len + 1 > sizeof(request) - 4)
		return pv_fail(PV_ERR_TOO_BIG, "node", "gencmd '%s' is too long", command);
	memset(request, 0, 4);
	memcpy(request + 4, command, cmd_len + 1);
	answer = malloc(GENCMD_VALUE_SIZE);
	if (!answer)
		return pv_fail(PV_ERR_NOMEM, "node", "out of memory");
	/* vcgencmd sends request length 0; the firmware reads the command from the buffer. */
	rc = pv_node_mailbox_tag(mb, PV_NODE_MBOX_TAG_GENCMD, request, 4 + cmd_len + 1,
				 GENCMD_VALUE_SIZE, answer, GENCMD_VALUE_SIZE, &answer_len);
	if (rc)
		goto out_free;
	if (answer_len < 4) {
		rc = pv_fail(PV_ERR_FORMAT, "node", "gencmd '%s': answer of %zu bytes", command,
			     answer_len);
		goto out_free;
	}
	memcpy(&error, answer, 4);
	if (error) {
		rc = pv_fail(PV_ERR_PROTOCOL, "node", "gencmd '%s' failed with code %u", command,
			     error);
		goto out_free;
	}
	text_len = strnlen((const char *)answer + 4, answer_len - 4);
	rc = pv_buf_append(out, answer + 4, text_len);
	if (rc)
		rc = pv_fail(rc, "node", "gencmd '%s': %s", command, pv_strerror(rc));
out_free:
	free(answer);
	return rc;
}

int pv_node_mailbox_serial(struct pv_node_mailbox *mb, uint64_t *serial)
{
	unsigned char v[8];
	size_t len;
	uint64_t value = 0;
	int rc;

	rc = pv_node_mailbox_tag(mb, PV_NODE_MBOX_TAG_BOARD_SERIAL, NULL, 0, 8, v, sizeof(v), &len);
	if (rc)
		return rc;
	if (len != 8)
		return pv_fail(PV_ERR_FORMAT, "node", "mailbox serial: %zu bytes, expected 8", len);
	/* The firmware answers in its (little-endian) word order. */
	for (int i = 7; i >= 0; i--)
		value = value << 8 | v[i];
	*serial = value;
	return PV_OK;
}

int pv_node_mailbox_mac(struct pv_node_mailbox *mb, uint8_t mac[6])
{
	unsigned char v[6];
	size_t len;
	int rc;

	rc = pv_node_mailbox_tag(mb, PV_NODE_MBOX_TAG_BOARD_MAC, NULL, 0, 6, v, sizeof(v), &len);
	if (rc)
		return rc;
	if (len != 6)
		return pv_fail(PV_ERR_FORMAT, "node", "mailbox MAC: %zu bytes, expected 6", len);
	memcpy(mac, v, 6); /* network byte order */
	return PV_OK;
}

int pv_node_mailbox_revision(struct pv_node_mailbox *mb, uint32_t *revision)
{
	unsigned char v[4];
	size_t len;
	int rc;

	rc = pv_node_mailbox_tag(mb, PV_NODE_MBOX_TAG_BOARD_REVISION, NULL, 0, 4, v, sizeof(v),
				 &len);
	if (rc)
		return rc;
	if (len != 4)
		return pv_fail(PV_ERR_FORMAT, "node", "mailbox revision: %zu bytes, expected 4", len);
	*revision = (uint32_t)v[0] | (uint32_t)v[1] << 8 | (uint32_t)v[2] << 16 |
		    (uint32_t)v[3] << 24;
	return PV_OK;
}

int pv_node_otp_row(const char *text, size_t len, unsigned row, uint32_t *value)
{
	size_t pos = 0;

	while (pos < len) {
		char line[64];
		size_t n = 0;
		char *colon;
		uint32_t number, v;

		while (pos + n < len && text[pos + n] != '\n')
			n++;
		if (n < sizeof(line)) {
			memcpy(line, text + pos, n);
			line[n] = '\0';
			colon = memchr(line, ':', n);
			if (colon && !memchr(line, '\0', n)) {
				*colon = '\0';
				if (pv_parse_u32(line, 10, &number) == 0 && number == row &&
				    pv_parse_u32(colon + 1, 16, &v) == 0 && strlen(colon + 1) == 8) {
					*value = v;
					return PV_OK;
				}
			}
		}
		pos += n + 1;
	}
	return pv_fail(PV_ERR_NOT_FOUND, "node", "otp_dump has no row %u", row);
}
