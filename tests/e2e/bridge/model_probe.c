/* The "probe" device model: the smallest boot-ROM look-alike that exercises everything the
 * harness relies on, independent of the virtual Pi. It enumerates as a BCM2711 boot ROM
 * (0a5c:2711, iSerialNumber index 3), takes rpiboot-style writes (a zero-length vendor OUT
 * carrying the length, then bulk OUT), answers the vendor IN with the byte count of the last
 * write, and after two writes re-enumerates on the same port as its "second stage"
 * (iSerialNumber index 4), as the real ROM does once it has its bootcode. The guest
 * program usbprobe (tests/e2e/guest/usbprobe.c) drives it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device_model.h"

#include "banned.h"

/* QEMU re-attaches after its own 200 ms; the ROM takes about as long to restart. */
#define PROBE_REENUMERATE_MS 300

struct probe_model {
	struct e2e_device_model base;
	unsigned index;
	unsigned stage; /* 0: ROM, 1: second stage */
	bool attached;
	uint32_t generation;
	uint64_t reattach_at_ms; /* 0 = no re-enumeration scheduled */
	uint32_t announced;      /* length of the write the host announced */
	uint32_t received;       /* bulk bytes since that announcement */
	unsigned writes;         /* complete writes in this stage */
	uint64_t total_bytes;
};

static uint64_t clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static size_t string_descriptor(const char *text, uint8_t *out)
{
	size_t n = strlen(text), i;

	if (n > 126)
		n = 126;
	out[0] = (uint8_t)(2 + 2 * n);
	out[1] = 3;
	for (i = 0; i < n; i++) {
		out[2 + 2 * i] = (uint8_t)text[i];
		out[3 + 2 * i] = 0;
	}
	return 2 + 2 * n;
}

static enum e2e_xfer_status probe_descriptor(struct probe_model *m, uint8_t type, uint8_t index,
					     uint8_t *in, size_t *in_len)
{
	const uint8_t device[18] = { 18, 1, 0x00, 0x02, 0, 0, 0, 64, 0x5c, 0x0a, 0x11, 0x27,
				     0x00, 0x00, 1, 2, m->stage == 0 ? 3 : 4, 1 };
	const uint8_t config[32] = { 9, 2, 32, 0, 1, 1, 0, 0x80, 250,
				     9, 4, 0, 0, 2, 0xff, 0, 0, 0,
				     7, 5, 0x01, 2, 0x00, 0x02, 0,
				     7, 5, 0x81, 2, 0x00, 0x02, 0 };
	char serial[32];

	switch (type) {
	case 1:
		memcpy(in, device, sizeof(device));
		*in_len = sizeof(device);
		return E2E_XFER_DONE;
	case 2:
		memcpy(in, config, sizeof(config));
		*in_len = sizeof(config);
		return E2E_XFER_DONE;
	case 3:
		if (index == 0) {
			const uint8_t langs[4] = { 4, 3, 0x09, 0x04 };

			memcpy(in, langs, sizeof(langs));
			*in_len = sizeof(langs);
			return E2E_XFER_DONE;
		}
		snprintf(serial, sizeof(serial), "%08x", 0xe2e00000u + m->index);
		*in_len = string_descriptor(index == 1 ? "Broadcom" :
					    index == 2 ? "BCM2711 Boot" : serial, in);
		return index <= 4 ? E2E_XFER_DONE : E2E_XFER_STALL;
	default:
		return E2E_XFER_STALL;
	}
}

static void probe_tick(struct e2e_device_model *model)
{
	struct probe_model *m = (struct probe_model *)model;

	if (m->reattach_at_ms && clock_ms() >= m->reattach_at_ms) {
		m->reattach_at_ms = 0;
		m->attached = true;
		m->generation++;
		m->stage = 1;
		m->writes = 0;
		m->announced = m->received = 0;
	}
}

static bool probe_attached(struct e2e_device_model *model, uint32_t *generation)
{
	struct probe_model *m = (struct probe_model *)model;

	*generation = m->generation;
	return m->attached;
}

static enum e2e_xfer_status probe_control(struct e2e_device_model *model, uint32_t generation,
					  const uint8_t setup[8],
					  const uint8_t *out, size_t out_len, uint8_t *in,
					  size_t *in_len)
{
	struct probe_model *m = (struct probe_model *)model;
	uint8_t type = setup[0], request = setup[1];
	uint16_t value = (uint16_t)(setup[2] | setup[3] << 8);
	uint16_t index = (uint16_t)(setup[4] | setup[5] << 8);

	if (!m->attached || generation != m->generation)
		return E2E_XFER_GONE;
	*in_len = 0;
	if (type == 0x80 && request == 6)
		return probe_descriptor(m, (uint8_t)(value >> 8), (uint8_t)value, in, in_len);
	if (type == 0x80 && request == 8) { /* GET_CONFIGURATION: configured once enumerated */
		in[0] = 1;
		*in_len = 1;
		return E2E_XFER_DONE;
	}
	if (type == 0x80 && request == 0) { /* GET_STATUS */
		in[0] = 0;
		in[1] = 0;
		*in_len = 2;
		return E2E_XFER_DONE;
	}
	if ((type & 0x60) != 0x40)
		return (type & 0x80) ? E2E_XFER_STALL : E2E_XFER_DONE; /* SET_FEATURE & co */
	if (!(type & 0x80)) {
		m->announced = (uint32_t)value | (uint32_t)index << 16;
		m->received = 0;
		return E2E_XFER_DONE;
	}
	/* Vendor IN: the byte count of the last write; two complete writes in the ROM stage
	 * (boot message, bootcode) make it re-enumerate. */
	memcpy(in, &m->received, 4);
	*in_len = 4;
	if (m->stage == 0 && m->writes >= 2) {
		m->attached = false;
		m->generation++;
		m->reattach_at_ms = clock_ms() + PROBE_REENUMERATE_MS;
	}
	return E2E_XFER_DONE;
}

static enum e2e_xfer_status probe_bulk_out(struct e2e_device_model *model, uint32_t generation,
					   uint8_t ep,
					   const uint8_t *data, size_t len, size_t *accepted)
{
	struct probe_model *m = (struct probe_model *)model;

	if (!m->attached || generation != m->generation)
		return E2E_XFER_GONE;
	if (ep != 1 || len > m->announced - m->received)
		return E2E_XFER_STALL;
	m->received += (uint32_t)len;
	m->total_bytes += len;
	if (m->received == m->announced)
		m->writes++;
	*accepted = len;
	return E2E_XFER_DONE;
}

static void probe_describe(struct e2e_device_model *model, char *text, size_t size)
{
	struct probe_model *m = (struct probe_model *)model;

	snprintf(text, size, "model=probe stage=%u bytes=%llu", m->stage,
		 (unsigned long long)m->total_bytes);
}

static void probe_destroy(struct e2e_device_model *model)
{
	free(model);
}

static const struct e2e_device_model_ops probe_ops = {
	.tick = probe_tick,
	.attached = probe_attached,
	.control = probe_control,
	.bulk_out = probe_bulk_out,
	.describe = probe_describe,
	.destroy = probe_destroy,
};

struct e2e_device_model *e2e_probe_model_create(unsigned index);
struct e2e_device_model *e2e_probe_model_create(unsigned index)
{
	struct probe_model *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->base.ops = &probe_ops;
	m->index = index;
	m->attached = true;
	m->generation = 1;
	return &m->base;
}
