/* Decoding the 260-byte file-server request. The bytes come straight from the device, so
 * nothing is trusted: the name may lack its NUL, carry control bytes or try to climb out of
 * the served folder; all of that becomes a REFUSED request answered "not found". */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "piprov/usb_protocol.h"
#include "banned.h"

enum {
	COMMAND_GET_FILE_SIZE = 0,
	COMMAND_READ_FILE = 1,
	COMMAND_DONE = 2,
};

bool pv_usb_name_is_safe(const char *name)
{
	const char *component = name;

	if (!name[0] || name[0] == '/')
		return false;
	for (const char *p = name;; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '/' || c == '\0') {
			size_t len = (size_t)(p - component);

			/* "a//b", "./x", "x/.." and a trailing '/' name no file of their own. */
			if (len == 0 || (len == 1 && component[0] == '.') ||
			    (len == 2 && component[0] == '.' && component[1] == '.'))
				return false;
			if (c == '\0')
				return true;
			component = p + 1;
			continue;
		}
		if (c < 0x20 || c >= 0x7f || c == '\\')
			return false;
	}
}

/* Printable rendering of untrusted bytes for a log line. */
static void render_raw(const unsigned char *bytes, size_t len, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < len; i++) {
		char piece[5];
		size_t plen;

		if (bytes[i] >= 0x20 && bytes[i] < 0x7f && bytes[i] != '\\') {
			piece[0] = (char)bytes[i];
			piece[1] = '\0';
			plen = 1;
		} else {
			plen = (size_t)snprintf(piece, sizeof(piece), "\\x%02x", bytes[i]);
		}
		if (used + plen + 1 > size)
			break;
		memcpy(out + used, piece, plen + 1);
		used += plen;
	}
}

static void refuse(struct pv_usb_request *req, const unsigned char *name, size_t name_len,
		   const char *why)
{
	req->kind = PV_USB_REQUEST_REFUSED;
	req->refusal = why;
	render_raw(name, name_len, req->name, sizeof(req->name));
}

void pv_usb_request_decode(const void *data, size_t len, struct pv_usb_request *req)
{
	const unsigned char *bytes = data;
	const unsigned char *name = bytes + 4;
	size_t field_len, name_len;
	const unsigned char *nul;

	memset(req, 0, sizeof(*req));
	if (len < 5) {
		refuse(req, bytes, len, "request shorter than 5 bytes");
		return;
	}
	if (len > PV_USB_REQUEST_SIZE) {
		refuse(req, name, PV_USB_NAME_MAX, "request longer than 260 bytes");
		return;
	}
	/* Little-endian on the wire whatever the host order is. */
	req->command = (int32_t)((uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 |
				 (uint32_t)bytes[2] << 16 | (uint32_t)bytes[3] << 24);
	field_len = len - 4;
	nul = memchr(name, '\0', field_len);
	if (!nul) {
		refuse(req, name, field_len, "name without NUL terminator");
		return;
	}
	name_len = (size_t)(nul - name);
	if (name_len == 0) {
		/* rpiboot: "Done can also just be null filename". */
		req->kind = PV_USB_REQUEST_END;
		return;
	}
	if (req->command == COMMAND_DONE) {
		req->kind = PV_USB_REQUEST_DONE;
		render_raw(name, name_len, req->name, sizeof(req->name));
		return;
	}
	if (req->command != COMMAND_GET_FILE_SIZE && req->command != COMMAND_READ_FILE) {
		refuse(req, name, name_len, "unknown command");
		return;
	}
	if (name[0] == '*') {
		/* Metadata values are checked item by item by the metadata parser. */
		req->kind = PV_USB_REQUEST_METADATA;
		memcpy(req->name, name, name_len);
		req->name[name_len] = '\0';
		return;
	}
	memcpy(req->name, name, name_len);
	req->name[name_len] = '\0';
	if (!pv_usb_name_is_safe(req->name)) {
		refuse(req, name, name_len, "not a plain relative file name");
		return;
	}
	req->kind = req->command == COMMAND_GET_FILE_SIZE ? PV_USB_REQUEST_GET_FILE_SIZE
							  : PV_USB_REQUEST_READ_FILE;
}
