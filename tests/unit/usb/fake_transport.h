/* A scripted fake device for protocol tests: control IN answers come from a script, and
 * everything the host does (length announcements, bulk bytes, control INs) is recorded as
 * one transcript line each, so a test asserts the exact conversation. */
#ifndef PIPROV_TEST_FAKE_TRANSPORT_H
#define PIPROV_TEST_FAKE_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "piprov/buf.h"
#include "piprov/usb_transport.h"

#define FAKE_STEPS_MAX 64

struct fake_step {
	int status;             /* PV_OK or the error control IN returns */
	unsigned char data[300];
	size_t len;
};

struct fake_device {
	struct fake_step steps[FAKE_STEPS_MAX];
	size_t step_count;
	size_t next_step;
	int after_script;       /* status once the script is exhausted (default NO_DEVICE) */
	struct pv_buf transcript; /* "out-length N", "bulk N", "in N" lines */
	struct pv_buf bulk;     /* every bulk byte, concatenated */
	int bulk_status;        /* forced bulk status (PV_OK normally) */
};

void fake_device_init(struct fake_device *dev);
void fake_device_release(struct fake_device *dev);
/* Queue a file-server request (command + name, padded to 260 bytes). */
void fake_device_request(struct fake_device *dev, int32_t command, const char *name);
/* Queue raw bytes as the next control IN answer. */
void fake_device_raw(struct fake_device *dev, const void *data, size_t len);
/* Queue an error for the next control IN. */
void fake_device_error(struct fake_device *dev, int status);

/* A transport over dev (not owned). */
struct pv_usb_transport *fake_transport_new(struct fake_device *dev);

#endif
