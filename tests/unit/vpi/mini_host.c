#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mini_host.h"
#include "piprov/error.h"
#include "piprov/text.h"
#include "banned.h"

void mini_host_init(struct mini_host *h, const struct mini_file *files, size_t count)
{
	memset(h, 0, sizeof(*h));
	h->files = files;
	h->file_count = count;
	pv_buf_init(&h->metadata, 1u << 20);
	pv_buf_init(&h->requests, 1u << 20);
}

void mini_host_release(struct mini_host *h)
{
	pv_buf_release(&h->metadata);
	pv_buf_release(&h->requests);
}

void mini_sha256_hex(const void *data, size_t len, char hex[65])
{
	uint8_t md[32];
	unsigned int n = 0;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	pv_hex_encode(md, 32, hex);
}

struct pv_usb_transport *mini_host_wait_device(struct pv_usb_bus *bus, const char *port_path,
					       uint8_t serial_index, unsigned timeout_ms)
{
	for (unsigned waited = 0; waited <= timeout_ms; waited += 50) {
		struct pv_usb_device_info *devices = NULL;
		size_t count = 0;

		if (pv_usb_bus_scan(bus, &devices, &count))
			return NULL;
		for (size_t i = 0; i < count; i++) {
			if (strcmp(devices[i].port_path, port_path) == 0 &&
			    devices[i].serial_index == serial_index) {
				struct pv_usb_transport *t = NULL;
				if (pv_usb_bus_create_transport(bus, &devices[i], &t) == PV_OK &&
				    pv_usb_open(t) == PV_OK) {
					free(devices);
					return t;
				}
				pv_usb_transport_destroy(t);
			}
		}
		free(devices);
		pv_usb_bus_wait_event(bus, 50);
	}
	return NULL;
}

static int write_all(struct pv_usb_transport *t, const void *data, size_t len)
{
	const uint8_t *p = data;
	int rc = pv_usb_control_out_length(t, (uint32_t)len, 1000);

	while (!rc && len) {
		size_t chunk = len < PV_USB_BULK_CHUNK ? len : PV_USB_BULK_CHUNK, sent = 0;
		rc = pv_usb_bulk_out(t, p, chunk, &sent, 5000);
		if (!rc && sent != chunk)
			rc = PV_ERR_PROTOCOL;
		p += sent;
		len -= sent;
	}
	return rc;
}

int mini_host_rom(struct mini_host *h, struct pv_usb_transport *t, const void *code, size_t len)
{
	int rc = mini_host_rom_upload(t, code, len);

	if (rc)
		return rc;
	mini_host_rom_read(h, t);
	return PV_OK;
}

void mini_host_rom_read(struct mini_host *h, struct pv_usb_transport *t)
{
	uint8_t retcode[4];
	size_t got = 0;

	h->rom_got = 0;
	h->rom_rc = pv_usb_control_in(t, retcode, 4, &got, 2000);
	if (!h->rom_rc)
		h->rom_got = got;
	if (!h->rom_rc && got == 4)
		h->retcode = (uint32_t)retcode[0] | (uint32_t)retcode[1] << 8 |
			     (uint32_t)retcode[2] << 16 | (uint32_t)retcode[3] << 24;
}

int mini_host_rom_upload(struct pv_usb_transport *t, const void *code, size_t len)
{
	uint8_t message[24] = { 0 };
	int rc;

	message[0] = (uint8_t)len;
	message[1] = (uint8_t)(len >> 8);
	message[2] = (uint8_t)(len >> 16);
	message[3] = (uint8_t)(len >> 24);
	rc = write_all(t, message, sizeof(message));
	if (!rc)
		rc = write_all(t, code, len);
	return rc;
}

static const struct mini_file *find_file(const struct mini_host *h, const char *name)
{
	for (size_t i = 0; i < h->file_count; i++)
		if (strcmp(h->files[i].name, name) == 0)
			return &h->files[i];
	return NULL;
}

int mini_host_serve(struct mini_host *h, struct pv_usb_transport *t, unsigned poll_timeout_ms)
{
	const struct mini_file *open_file = NULL;

	for (;;) {
		uint8_t msg[PV_VPI_REQUEST_LEN];
		char name[PV_VPI_REQUEST_NAME_LEN + 1];
		size_t got = 0;
		int32_t command;
		int rc;

		rc = pv_usb_control_in(t, msg, sizeof(msg), &got, poll_timeout_ms);
		if (rc)
			return rc;
		if (got < 4)
			return PV_ERR_PROTOCOL;
		command = (int32_t)((uint32_t)msg[0] | (uint32_t)msg[1] << 8 |
				    (uint32_t)msg[2] << 16 | (uint32_t)msg[3] << 24);
		memset(name, 0, sizeof(name));
		memcpy(name, msg + 4, got - 4);
		pv_buf_appendf(&h->requests, "%d %s\n", command, name);
		if (!name[0] || command == 2) {
			pv_usb_control_out_length(t, 0, 1000);
			h->done = true;
			return PV_OK;
		}
		if (name[0] == '*') {
			char *star = strchr(name + 1, '*');
			if (star)
				*star = '=';
			pv_buf_appendf(&h->metadata, "%s\n", name + 1);
			rc = pv_usb_control_out_length(t, 0, 1000);
		} else if (command == 0) {
			open_file = strstr(name, "..") ? NULL : find_file(h, name);
			rc = pv_usb_control_out_length(t, open_file ? (uint32_t)open_file->len : 0,
						       1000);
		} else if (command == 1) {
			rc = open_file ? write_all(t, open_file->data, open_file->len)
				       : pv_usb_control_out_length(t, 0, 1000);
			open_file = NULL;
		} else {
			rc = pv_usb_control_out_length(t, 0, 1000);
		}
		if (rc)
			return rc;
	}
}

int mini_host_run(struct mini_host *h, struct pv_usb_bus *bus, const void *code, size_t len)
{
	struct pv_vpi_board *board = pv_vpi_bus_board_at(bus, 0);
	const struct pv_vpi_options *o = pv_vpi_board_options(board);
	struct pv_usb_transport *t;
	int rc;

	t = mini_host_wait_device(bus, o->port_path, o->soc->rom_serial_index, 1000);
	if (!t)
		return PV_ERR_NOT_FOUND;
	rc = mini_host_rom(h, t, code, len);
	pv_usb_transport_destroy(t);
	if (rc)
		return rc;
	t = mini_host_wait_device(bus, o->port_path, o->soc->second_stage_serial_index, 3000);
	if (!t)
		return PV_ERR_NOT_FOUND;
	rc = mini_host_serve(h, t, 5000);
	pv_usb_transport_destroy(t);
	return rc;
}

const char *mini_host_meta(const struct mini_host *h, const char *key)
{
	static char value[256];
	const char *text = pv_buf_str(&h->metadata);
	size_t klen = strlen(key);

	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (len > klen && strncmp(line, key, klen) == 0 && line[klen] == '=') {
			size_t vlen = len - klen - 1;
			if (vlen >= sizeof(value))
				vlen = sizeof(value) - 1;
			memcpy(value, line + klen + 1, vlen);
			value[vlen] = '\0';
			return value;
		}
		line = end ? end + 1 : line + len;
	}
	return NULL;
}
