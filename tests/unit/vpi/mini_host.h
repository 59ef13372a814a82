/* A minimal rpiboot-style host for the virtual Pi tests: drives a board only through the
 * transport and bus API (piprov/usb_transport.h), as the real host does. */
#ifndef MINI_HOST_H
#define MINI_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "piprov/buf.h"
#include "piprov/usb_transport.h"
#include "piprov/vpi.h"

/* Limit for the tests' buffers (finite, so that pv_buf grows geometrically). */
#define TEST_BUF_MAX (64u * 1024u * 1024u)

struct mini_file {
	const char *name;
	const void *data;
	size_t len;
};

struct mini_host {
	const struct mini_file *files;
	size_t file_count;
	/* Filled by the run: */
	int rom_rc;                      /* of the return-code read */
	size_t rom_got;                  /* bytes it returned */
	uint32_t retcode;
	struct pv_buf metadata;          /* "KEY=VALUE\n" per metadata request */
	struct pv_buf requests;          /* "CMD NAME\n" per request, as received */
	bool done;
};

void mini_host_init(struct mini_host *h, const struct mini_file *files, size_t count);
void mini_host_release(struct mini_host *h);

/* Wait (bus events) until a device with the given serial index is at port_path, or fail. */
struct pv_usb_transport *mini_host_wait_device(struct pv_usb_bus *bus, const char *port_path,
					       uint8_t serial_index, unsigned timeout_ms);

/* ROM stage: boot message, the second stage, the return code. Returns the first failing
 * transport status (or PV_OK). */
int mini_host_rom(struct mini_host *h, struct pv_usb_transport *t, const void *code, size_t len);

/* The same in two halves: the upload (boot message + second stage), and the 4-byte
 * return-code read (fills rom_rc, rom_got, retcode), for hosts that wait in between. */
int mini_host_rom_upload(struct pv_usb_transport *t, const void *code, size_t len);
void mini_host_rom_read(struct mini_host *h, struct pv_usb_transport *t);

/* File server until Done/empty name; returns PV_OK or the failing status. */
int mini_host_serve(struct mini_host *h, struct pv_usb_transport *t, unsigned poll_timeout_ms);

/* The whole flow for the only board of `bus`: ROM, re-enumeration, file server. */
int mini_host_run(struct mini_host *h, struct pv_usb_bus *bus, const void *code, size_t len);

/* The value of KEY in h->metadata, or NULL. Returns a static buffer. */
const char *mini_host_meta(const struct mini_host *h, const char *key);

/* sha256 hex of data. */
void mini_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
