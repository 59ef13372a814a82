/* What the usb-redir bridge needs from a device model: the wire-level view of one USB device.
 *
 * The bridge knows nothing about Raspberry Pis. It asks the model whether a device is
 * attached (and which attachment it is: every re-enumeration bumps the generation), forwards
 * every control transfer as its raw 8-byte setup packet (GET_DESCRIPTOR included: QEMU
 * synthesizes no descriptors) and every bulk OUT packet. The interface and endpoint layout
 * it announces to QEMU comes from the model's own configuration descriptor.
 */
#ifndef PIPROV_E2E_DEVICE_MODEL_H
#define PIPROV_E2E_DEVICE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* QEMU's control data buffer is 4096 bytes; nothing in the boot protocol is larger. */
#define E2E_CONTROL_MAX 4096

enum e2e_xfer_status {
	E2E_XFER_DONE,    /* completed; for IN, *in_len bytes are valid */
	E2E_XFER_STALL,   /* the device stalls the request */
	E2E_XFER_PENDING, /* not ready yet (the device NAKs): ask again later, same request */
	E2E_XFER_GONE,    /* the device is not attached */
};

struct e2e_device_model;

struct e2e_device_model_ops {
	/* Let time pass (re-enumeration delays, a flash taking a while). */
	void (*tick)(struct e2e_device_model *model);

	/* Whether a device is attached now, and which attachment: the generation changes on
	 * every detach and every attach. */
	bool (*attached)(struct e2e_device_model *model, uint32_t *generation);

	/* One control transfer to the attachment `generation` (what attached() reported when
	 * the bridge announced the device; a transfer for an older one is GONE). setup is the
	 * raw 8-byte SETUP packet (little-endian fields), standard requests included: the
	 * bridge turns QEMU's SET_CONFIGURATION / SET_INTERFACE packets back into them.
	 * OUT: data/len is the data stage. IN: up to wLength bytes go to in (E2E_CONTROL_MAX
	 * bytes of room), the count to *in_len. A PENDING transfer is asked again, unchanged,
	 * until it completes or the host cancels it. */
	enum e2e_xfer_status (*control)(struct e2e_device_model *model, uint32_t generation,
					const uint8_t setup[8],
					const uint8_t *out, size_t out_len, uint8_t *in,
					size_t *in_len);

	/* Bulk OUT on endpoint ep (address with direction bit clear); *accepted is written
	 * on DONE. */
	enum e2e_xfer_status (*bulk_out)(struct e2e_device_model *model, uint32_t generation,
					 uint8_t ep,
					 const uint8_t *data, size_t len, size_t *accepted);

	/* Bulk IN on endpoint ep (address with the direction bit set): up to len bytes into in,
	 * the count into *got on DONE (fewer than len: a short packet). PENDING while the device
	 * NAKs (nothing to send yet): asked again, unchanged. May be NULL: every bulk IN stalls
	 * (the boot protocol never reads one). */
	enum e2e_xfer_status (*bulk_in)(struct e2e_device_model *model, uint32_t generation,
					uint8_t ep, uint8_t *in, size_t len, size_t *got);

	/* Write what the device holds at the end (flash contents, ...) into dir, which exists.
	 * Returns 0 or -1 (message on stderr). May be NULL. */
	int (*save_state)(struct e2e_device_model *model, const char *dir);

	/* One-line summary for the bridge's exit report (counters, stage reached). */
	void (*describe)(struct e2e_device_model *model, char *text, size_t size);

	void (*destroy)(struct e2e_device_model *model);
};

struct e2e_device_model {
	const struct e2e_device_model_ops *ops;
};

/* Make a model from a board spec's model name ("pi4", "pi5", ...) and its index (for
 * distinct serial numbers). NULL with a message on stderr when the name is unknown. Each
 * model_*.c file provides one family; e2e_device_model_create picks by name. */
struct e2e_device_model *e2e_device_model_create(const char *name, unsigned index,
						  const char *options);

/* Names accepted by e2e_device_model_create, for --help. */
const char *e2e_device_model_names(void);

#endif
