/* Fuzz target: one file-server request as the device sends it (decode, then what the server
 * does with it: metadata parsing or the name check). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "piprov/usb_protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pv_usb_request req;
	static struct pv_usb_metadata md;

	pv_usb_request_decode(data, size, &req);
	switch (req.kind) {
	case PV_USB_REQUEST_METADATA:
		pv_usb_metadata_init(&md);
		pv_usb_metadata_add(&md, req.name, strlen(req.name));
		break;
	case PV_USB_REQUEST_GET_FILE_SIZE:
	case PV_USB_REQUEST_READ_FILE:
		/* A decoded file name is always safe by construction. */
		if (!pv_usb_name_is_safe(req.name))
			__builtin_trap();
		break;
	default:
		break;
	}
	/* The rendering of any name is always a bounded C string. */
	if (strlen(req.name) >= sizeof(req.name))
		__builtin_trap();
	return 0;
}
