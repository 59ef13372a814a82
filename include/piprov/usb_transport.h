/* The USB transport contract: how the boot protocol (src/lib/usb/) talks to one device, and
 * how it finds devices. Implementations: the libusb-1.0 backend (real boards), the virtual
 * Pi (src/lib/vpi/, in-process), and a fault injector that wraps any transport.
 *
 * Everything the boot protocol needs from a device is in these few calls (see
 * ../shared/docs/usbboot-protocol.md): the ROM and the recovery firmware are driven only by
 * vendor control transfers on EP0 whose wValue/wIndex carry a 32-bit length, plus bulk OUT
 * data on the boot endpoint. Nothing outside a backend file sees libusb types.
 *
 * Threading: one transport is used by one thread at a time. Different transports (different
 * devices) may be used concurrently from different threads. A bus may be scanned and waited
 * on from one thread while transports opened from it are used by others.
 *
 * Return values: PV_OK or a negative PV_ERR_* (piprov/error.h), with the detail recorded by
 * pv_fail(). The codes each call may return are listed above it; PV_ERR_NO_DEVICE always
 * means "the device is gone from this port (unplugged or re-enumerating)".
 */
#ifndef PIPROV_USB_TRANSPORT_H
#define PIPROV_USB_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "3-1.4.2": bus number, then the port numbers from the root hub down, '.'-separated (the
 * same spelling as Linux sysfs and rpiboot -p). USB allows 7 tiers: 3+1+7*4 chars < 48. */
#define PV_USB_PORT_PATH_MAX 48
/* USB string descriptors are at most 126 UTF-16 units; the boot ROM serial is 8-16 hex. */
#define PV_USB_SERIAL_MAX 128
/* rpiboot's transfer unit for bulk OUT (LIBUSB_MAX_TRANSFER). */
#define PV_USB_BULK_CHUNK (16 * 1024)

struct pv_usb_device_info {
	uint16_t vendor_id;
	uint16_t product_id;
	uint16_t bcd_device;
	/* iSerialNumber string *index*: the boot stage code (0/3 = ROM, 1/4 = second stage). */
	uint8_t serial_index;
	uint8_t num_interfaces;           /* of the active configuration */
	uint8_t bus_number;
	uint8_t device_address;
	char port_path[PV_USB_PORT_PATH_MAX];
	/* The iSerialNumber string when it could be read (needs the device opened on real
	 * hardware), "" otherwise. */
	char serial[PV_USB_SERIAL_MAX];
	/* Which backend produced it ("libusb", "virtual", ...), for logs and `usb list`. */
	const char *backend;
};

struct pv_usb_transport;

struct pv_usb_transport_ops {
	/* Open the device and claim its boot interface: interface 0 with bulk OUT endpoint 0x01
	 * when the configuration has one interface, else interface 1 with endpoint 0x03
	 * (BCM2837 ROMs expose mass storage first). Fills t->info (serial string included).
	 * Blocks for at most a few hundred milliseconds.
	 * Returns: PV_OK, PV_ERR_NO_DEVICE, PV_ERR_ACCESS (no permission: udev rules),
	 * PV_ERR_BUSY (interface claimed by another process), PV_ERR_IO. */
	int (*open)(struct pv_usb_transport *t);

	/* Release the interface and close. Safe on a transport whose open failed or whose
	 * device is gone. Never blocks for long. */
	void (*close)(struct pv_usb_transport *t);

	/* Vendor control OUT, device recipient: bmRequestType 0x40, bRequest 0,
	 * wValue = length & 0xffff, wIndex = length >> 16, no data stage. This announces a
	 * bulk transfer of `length` bytes, or, with nothing following, is the protocol's
	 * "size" answer (0 = not found / empty / ack). Blocks up to timeout_ms.
	 * Returns: PV_OK, PV_ERR_TIMEOUT, PV_ERR_PIPE (stall), PV_ERR_NO_DEVICE, PV_ERR_IO. */
	int (*control_out_length)(struct pv_usb_transport *t, uint32_t length,
				  unsigned timeout_ms);

	/* Vendor control IN, device recipient: bmRequestType 0xC0, bRequest 0,
	 * wValue = len & 0xffff, wIndex = len >> 16, wLength = len (len <= 65535). The device
	 * answers with at most len bytes; *actual receives the count (short answers are
	 * legal and must be checked by the caller). Blocks up to timeout_ms; the recovery
	 * firmware may stay silent for many seconds while it flashes.
	 * Returns: PV_OK, PV_ERR_TIMEOUT, PV_ERR_PIPE, PV_ERR_NO_DEVICE, PV_ERR_OVERFLOW,
	 * PV_ERR_IO. *actual is written only on PV_OK. */
	int (*control_in)(struct pv_usb_transport *t, void *buf, size_t len, size_t *actual,
			  unsigned timeout_ms);

	/* Bulk OUT on the boot endpoint: up to len bytes (callers send at most
	 * PV_USB_BULK_CHUNK per call). *actual receives the bytes the device accepted, also
	 * on PV_ERR_TIMEOUT (a partial transfer). Blocks up to timeout_ms.
	 * Returns: PV_OK, PV_ERR_TIMEOUT, PV_ERR_PIPE, PV_ERR_NO_DEVICE, PV_ERR_IO. */
	int (*bulk_out)(struct pv_usb_transport *t, const void *data, size_t len, size_t *actual,
			unsigned timeout_ms);

	/* Free the transport (closing it first if open). Accepts NULL. */
	void (*destroy)(struct pv_usb_transport *t);

	/* Optional (may be NULL). Called from another thread while a call on t blocks, or
	 * before one: the blocked transfer ends as soon as the backend can cancel it (well
	 * under 100 ms) with PV_ERR_INTERRUPTED, and every later transfer on t returns
	 * PV_ERR_INTERRUPTED at once. Used by the job engine to stop a board on cancel or at
	 * its deadline. Must not block; safe to call more than once. Backends without it are
	 * waited for up to the call's own timeout (or abandoned, see pv_usb_job_run). */
	void (*interrupt)(struct pv_usb_transport *t);

	/* Optional (may be NULL): what a device beyond the boot protocol needs, such as the
	 * virtual Pi's mass-storage gadget stage (a USB disk: Bulk-Only Transport).
	 * bulk_in: bulk IN on endpoint address `ep` (0x80 bit set) of the open device, up to len
	 * bytes; *actual receives the count, fewer than len when the device ended the transfer
	 * early (a short packet). Blocks up to timeout_ms.
	 * Returns: PV_OK, PV_ERR_TIMEOUT, PV_ERR_PIPE (stall: the endpoint is halted),
	 * PV_ERR_NO_DEVICE, PV_ERR_OVERFLOW, PV_ERR_IO, PV_ERR_INTERRUPTED. */
	int (*bulk_in)(struct pv_usb_transport *t, uint8_t ep, void *buf, size_t len,
		       size_t *actual, unsigned timeout_ms);
	/* control: any control transfer given as its raw 8-byte SETUP packet (bmRequestType,
	 * bRequest, wValue, wIndex, wLength little-endian): for OUT, wLength bytes of data; for
	 * IN, up to min(wLength, size) bytes into data and the count into *actual. Standard
	 * requests included (CLEAR_FEATURE(ENDPOINT_HALT) of a halted endpoint, ...).
	 * Returns: PV_OK, PV_ERR_TIMEOUT, PV_ERR_PIPE, PV_ERR_NO_DEVICE, PV_ERR_IO,
	 * PV_ERR_INVALID, PV_ERR_INTERRUPTED. */
	int (*control)(struct pv_usb_transport *t, const uint8_t setup[8], void *data,
		       size_t size, size_t *actual, unsigned timeout_ms);
};

struct pv_usb_transport {
	const struct pv_usb_transport_ops *ops;
	void *priv;                       /* backend state */
	struct pv_usb_device_info info;   /* valid after a successful open */
};

/* Convenience wrappers: forward to t->ops. */
int pv_usb_open(struct pv_usb_transport *t);
void pv_usb_close(struct pv_usb_transport *t);
int pv_usb_control_out_length(struct pv_usb_transport *t, uint32_t length, unsigned timeout_ms);
int pv_usb_control_in(struct pv_usb_transport *t, void *buf, size_t len, size_t *actual,
		      unsigned timeout_ms);
int pv_usb_bulk_out(struct pv_usb_transport *t, const void *data, size_t len, size_t *actual,
		    unsigned timeout_ms);
void pv_usb_transport_destroy(struct pv_usb_transport *t);
/* Forwards to ops->interrupt when the backend has one; returns false when it has none. */
bool pv_usb_interrupt(struct pv_usb_transport *t);
/* Forward to ops->bulk_in / ops->control; PV_ERR_UNSUPPORTED when the backend has none. */
int pv_usb_bulk_in(struct pv_usb_transport *t, uint8_t ep, void *buf, size_t len,
		   size_t *actual, unsigned timeout_ms);
int pv_usb_control(struct pv_usb_transport *t, const uint8_t setup[8], void *data, size_t size,
		   size_t *actual, unsigned timeout_ms);

/* A bus: where devices are found. The libusb bus covers real hardware (hotplug where
 * available, else polling at most twice a second); the virtual bus holds virtual Pis; a
 * combined bus merges several. Only boot-ROM-family devices (vendor 0x0a5c, products
 * 0x2763/0x2764/0x2711/0x2712, see pv_soc_by_usb_id) are ever reported. */
struct pv_usb_bus;

struct pv_usb_bus_ops {
	/* Snapshot of the devices present now, into a malloc'd array the caller frees.
	 * Serial strings may be "" (reading them would need opening the device).
	 * Returns: PV_OK, PV_ERR_NOMEM, PV_ERR_IO. */
	int (*scan)(struct pv_usb_bus *bus, struct pv_usb_device_info **devices, size_t *count);

	/* Sleep until the set of devices may have changed (attach or detach) or timeout_ms
	 * passes, whichever is first. Must sleep, never spin: an idle host stays idle.
	 * Returns: PV_OK (something may have changed: scan again), PV_ERR_TIMEOUT,
	 * PV_ERR_INTERRUPTED (pv_usb_bus_wakeup was called). */
	int (*wait_event)(struct pv_usb_bus *bus, unsigned timeout_ms);

	/* Wake a thread blocked in wait_event (from another thread or a signal handler-safe
	 * context via a pipe). */
	void (*wakeup)(struct pv_usb_bus *bus);

	/* A transport for the device a scan reported at info->port_path (not yet opened).
	 * Returns: PV_OK, PV_ERR_NO_DEVICE (no longer there), PV_ERR_NOMEM. */
	int (*create_transport)(struct pv_usb_bus *bus, const struct pv_usb_device_info *info,
				struct pv_usb_transport **transport);

	/* Free the bus. Transports created from it must be destroyed first. */
	void (*destroy)(struct pv_usb_bus *bus);

	/* Optional (NULL: the bus cannot). Power the port at port_path (as a scan reported it)
	 * off and on again, so that the device there restarts in its boot ROM: what a person
	 * does by re-plugging a board whose recovery program already ran (a station's Retry).
	 * Returns once the port was switched (within a few hundred milliseconds); the device
	 * leaves the bus and arrives again later, as a re-plugged one does: the caller scans
	 * again (wait_event reports both changes). Transports open on the device get
	 * PV_ERR_NO_DEVICE. Safe from any thread, also while the bus is scanned or waited on.
	 * Returns: PV_OK, PV_ERR_NO_DEVICE (nothing plugged in there), PV_ERR_UNSUPPORTED
	 * (the port cannot be switched), PV_ERR_IO. */
	int (*power_cycle)(struct pv_usb_bus *bus, const char *port_path);
};

struct pv_usb_bus {
	const struct pv_usb_bus_ops *ops;
	void *priv;
};

int pv_usb_bus_scan(struct pv_usb_bus *bus, struct pv_usb_device_info **devices, size_t *count);
int pv_usb_bus_wait_event(struct pv_usb_bus *bus, unsigned timeout_ms);
void pv_usb_bus_wakeup(struct pv_usb_bus *bus);
int pv_usb_bus_create_transport(struct pv_usb_bus *bus, const struct pv_usb_device_info *info,
				struct pv_usb_transport **transport);
void pv_usb_bus_destroy(struct pv_usb_bus *bus);
/* Forwards to ops->power_cycle; PV_ERR_UNSUPPORTED (with a message naming the port) when
 * the bus has none. */
int pv_usb_bus_power_cycle(struct pv_usb_bus *bus, const char *port_path);

#ifdef __cplusplus
}
#endif
#endif
