/* The libusb-1.0 backend: the only file that sees libusb types. Discovery uses hotplug
 * callbacks where libusb has them (Linux: netlink/udev), so an idle host sleeps inside
 * libusb_handle_events until something is plugged in; without hotplug it polls at 2 Hz.
 * Transfers are submitted asynchronously and waited for the way libusb's own synchronous calls
 * wait (libusb_handle_events_completed on the worker's thread), so that another thread can
 * cancel the one in flight (pv_usb_interrupt: a cancel or a board deadline). */
#include <errno.h>
#include <fcntl.h>
#include <libusb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "piprov/board.h"
#include "piprov/text.h"
#include "piprov/usb.h"
#include "banned.h"

#define POLL_INTERVAL_MS 500
#define BROADCOM_VENDOR_ID 0x0a5c
/* USB allows 7 tiers below the root hub. */
#define PORT_DEPTH_MAX 7

struct lu_bus {
	libusb_context *ctx;
	bool hotplug;
	libusb_hotplug_callback_handle hotplug_handle;
	int changed;                     /* set by the hotplug callback (event thread) */
	volatile int interrupted;
	int wake_pipe[2];                /* polling mode: wakeup() writes here */
};

struct lu_transport {
	libusb_context *ctx;
	libusb_device *device;
	libusb_device_handle *handle;
	int interface;
	unsigned char out_ep;
	pthread_mutex_t lock;            /* pending and interrupted (any thread) */
	struct libusb_transfer *pending; /* the transfer in flight, NULL when none */
	bool interrupted;
};

static int map_error(int lu_error, const char *what, const char *port_path)
{
	int status;

	switch (lu_error) {
	case LIBUSB_ERROR_TIMEOUT:
		status = PV_ERR_TIMEOUT;
		break;
	case LIBUSB_ERROR_PIPE:
		status = PV_ERR_PIPE;
		break;
	case LIBUSB_ERROR_NO_DEVICE:
	case LIBUSB_ERROR_NOT_FOUND:
		status = PV_ERR_NO_DEVICE;
		break;
	case LIBUSB_ERROR_ACCESS:
		status = PV_ERR_ACCESS;
		break;
	case LIBUSB_ERROR_BUSY:
		status = PV_ERR_BUSY;
		break;
	case LIBUSB_ERROR_OVERFLOW:
		status = PV_ERR_OVERFLOW;
		break;
	case LIBUSB_ERROR_INTERRUPTED:
		status = PV_ERR_INTERRUPTED;
		break;
	case LIBUSB_ERROR_NO_MEM:
		status = PV_ERR_NOMEM;
		break;
	default:
		status = PV_ERR_IO;
		break;
	}
	if (lu_error == LIBUSB_ERROR_ACCESS)
		return pv_fail(status, "usb",
			       "'%s': %s: permission denied (install the udev rules: see "
			       "docs/usb.md)",
			       port_path, what);
	return pv_fail(status, "usb", "'%s': %s: %s", port_path, what,
		       libusb_strerror((enum libusb_error)lu_error));
}

static void format_port_path(libusb_device *dev, char *out, size_t size)
{
	uint8_t ports[PORT_DEPTH_MAX + 1];
	int depth = libusb_get_port_numbers(dev, ports, sizeof(ports));
	size_t used;

	used = (size_t)snprintf(out, size, "%u", libusb_get_bus_number(dev));
	if (depth <= 0)
		return; /* a root hub has no port numbers */
	for (int i = 0; i < depth && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%c%u", i ? '.' : '-', ports[i]);
}

/* Fill info from the descriptors libusb caches (no need to open the device). */
static bool describe(libusb_device *dev, struct pv_usb_device_info *info)
{
	struct libusb_device_descriptor desc;
	struct libusb_config_descriptor *config;

	if (libusb_get_device_descriptor(dev, &desc) != 0 ||
	    !pv_soc_by_usb_id(desc.idVendor, desc.idProduct))
		return false;
	memset(info, 0, sizeof(*info));
	info->vendor_id = desc.idVendor;
	info->product_id = desc.idProduct;
	info->bcd_device = desc.bcdDevice;
	info->serial_index = desc.iSerialNumber;
	info->bus_number = libusb_get_bus_number(dev);
	info->device_address = libusb_get_device_address(dev);
	info->num_interfaces = 1;
	if (libusb_get_active_config_descriptor(dev, &config) == 0) {
		info->num_interfaces = config->bNumInterfaces;
		libusb_free_config_descriptor(config); /* rpiboot leaks this on every poll */
	}
	format_port_path(dev, info->port_path, sizeof(info->port_path));
	info->backend = "libusb";
	return true;
}

static int lu_scan(struct pv_usb_bus *bus, struct pv_usb_device_info **devices, size_t *count)
{
	struct lu_bus *lb = bus->priv;
	libusb_device **list;
	ssize_t n = libusb_get_device_list(lb->ctx, &list);
	struct pv_usb_device_info *out;
	size_t found = 0;

	if (n < 0)
		return map_error((int)n, "listing devices", "usb");
	out = calloc((size_t)n + 1, sizeof(*out));
	if (!out) {
		libusb_free_device_list(list, 1);
		return pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
	}
	for (ssize_t i = 0; i < n; i++)
		if (describe(list[i], &out[found]))
			found++;
	libusb_free_device_list(list, 1);
	*devices = out;
	*count = found;
	return PV_OK;
}

static int LIBUSB_CALL on_hotplug(libusb_context *ctx, libusb_device *dev,
				  libusb_hotplug_event event, void *user)
{
	struct lu_bus *lb = user;

	(void)ctx;
	(void)dev;
	(void)event;
	lb->changed = 1;
	return 0; /* stay registered */
}

static int lu_wait_event(struct pv_usb_bus *bus, unsigned timeout_ms)
{
	struct lu_bus *lb = bus->priv;
	uint64_t deadline = pv_usb_now_ms() + timeout_ms;

	if (!lb->hotplug) {
		struct pollfd pfd = { .fd = lb->wake_pipe[0], .events = POLLIN };
		unsigned wait = timeout_ms < POLL_INTERVAL_MS ? timeout_ms : POLL_INTERVAL_MS;
		int ready = poll(&pfd, 1, (int)wait);

		if (ready > 0) {
			char drain[16];
			while (read(lb->wake_pipe[0], drain, sizeof(drain)) > 0)
				;
			return PV_ERR_INTERRUPTED;
		}
		/* Polling: after the interval anything may have changed. */
		return wait == POLL_INTERVAL_MS ? PV_OK : PV_ERR_TIMEOUT;
	}
	for (;;) {
		uint64_t now = pv_usb_now_ms();
		struct timeval tv;

		if (lb->interrupted) {
			lb->interrupted = 0;
			return PV_ERR_INTERRUPTED;
		}
		if (lb->changed) {
			lb->changed = 0;
			return PV_OK;
		}
		if (now >= deadline)
			return PV_ERR_TIMEOUT;
		tv.tv_sec = (time_t)((deadline - now) / 1000);
		tv.tv_usec = (suseconds_t)((deadline - now) % 1000 * 1000);
		libusb_handle_events_timeout_completed(lb->ctx, &tv, &lb->changed);
	}
}

static void lu_wakeup(struct pv_usb_bus *bus)
{
	struct lu_bus *lb = bus->priv;

	lb->interrupted = 1;
	if (lb->hotplug) {
		libusb_interrupt_event_handler(lb->ctx);
	} else {
		char byte = 1;
		if (write(lb->wake_pipe[1], &byte, 1) < 0) {
			/* pipe full: a wakeup is already pending */
		}
	}
}

static int lu_open(struct pv_usb_transport *t)
{
	struct lu_transport *lt = t->priv;
	struct libusb_device_descriptor desc;
	unsigned char serial[PV_USB_SERIAL_MAX];
	int err;

	if (lt->handle)
		return PV_OK;
	err = libusb_open(lt->device, &lt->handle);
	if (err)
		return map_error(err, "open", t->info.port_path);
	/* BCM2837 ROMs expose mass storage first: the vendor interface is then number 1. */
	describe(lt->device, &t->info);
	if (t->info.num_interfaces == 1) {
		lt->interface = 0;
		lt->out_ep = 0x01;
	} else {
		lt->interface = 1;
		lt->out_ep = 0x03;
	}
	libusb_set_auto_detach_kernel_driver(lt->handle, 1);
	err = libusb_claim_interface(lt->handle, lt->interface);
	if (err) {
		libusb_close(lt->handle);
		lt->handle = NULL;
		return map_error(err, "claiming the boot interface", t->info.port_path);
	}
	if (libusb_get_device_descriptor(lt->device, &desc) == 0 && desc.iSerialNumber) {
		int n = libusb_get_string_descriptor_ascii(lt->handle, desc.iSerialNumber, serial,
							   sizeof(serial) - 1);
		if (n > 0) {
			serial[n] = '\0';
			/* Keep it printable: it names files and log lines. */
			if (pv_text_is_printable((const char *)serial, (size_t)n) &&
			    !memchr(serial, '/', (size_t)n))
				pv_strlcpy(t->info.serial, (const char *)serial,
					   sizeof(t->info.serial));
		}
	}
	return PV_OK;
}

static void lu_close(struct pv_usb_transport *t)
{
	struct lu_transport *lt = t->priv;

	if (!lt->handle)
		return;
	libusb_release_interface(lt->handle, lt->interface);
	libusb_close(lt->handle);
	lt->handle = NULL;
}

static void LIBUSB_CALL transfer_done(struct libusb_transfer *transfer)
{
	*(int *)transfer->user_data = 1;
}

/* Submit, then wait for the completion on this thread; *actual = bytes moved (also on a
 * timeout). An interrupt from another thread cancels the transfer in flight. */
static int run_transfer(struct pv_usb_transport *t, struct libusb_transfer *transfer,
			const char *what, size_t *actual)
{
	struct lu_transport *lt = t->priv;
	int completed = 0, err;

	transfer->user_data = &completed;
	transfer->callback = transfer_done;
	pthread_mutex_lock(&lt->lock);
	if (lt->interrupted) {
		pthread_mutex_unlock(&lt->lock);
		return pv_fail(PV_ERR_INTERRUPTED, "usb", "'%s': %s: interrupted",
			       t->info.port_path, what);
	}
	err = libusb_submit_transfer(transfer);
	if (!err)
		lt->pending = transfer;
	pthread_mutex_unlock(&lt->lock);
	if (err)
		return map_error(err, what, t->info.port_path);
	while (!completed) {
		err = libusb_handle_events_completed(lt->ctx, &completed);
		if (err < 0 && err != LIBUSB_ERROR_INTERRUPTED) {
			libusb_cancel_transfer(transfer);
			while (!completed)
				if (libusb_handle_events_completed(lt->ctx, &completed) < 0)
					break;
			break;
		}
	}
	pthread_mutex_lock(&lt->lock);
	lt->pending = NULL;
	pthread_mutex_unlock(&lt->lock);
	*actual = transfer->actual_length > 0 ? (size_t)transfer->actual_length : 0;
	switch (transfer->status) {
	case LIBUSB_TRANSFER_COMPLETED:
		return PV_OK;
	case LIBUSB_TRANSFER_TIMED_OUT:
		return map_error(LIBUSB_ERROR_TIMEOUT, what, t->info.port_path);
	case LIBUSB_TRANSFER_STALL:
		return map_error(LIBUSB_ERROR_PIPE, what, t->info.port_path);
	case LIBUSB_TRANSFER_NO_DEVICE:
		return map_error(LIBUSB_ERROR_NO_DEVICE, what, t->info.port_path);
	case LIBUSB_TRANSFER_OVERFLOW:
		return map_error(LIBUSB_ERROR_OVERFLOW, what, t->info.port_path);
	case LIBUSB_TRANSFER_CANCELLED:
		if (lt->interrupted)
			return pv_fail(PV_ERR_INTERRUPTED, "usb", "'%s': %s: interrupted",
				       t->info.port_path, what);
		return map_error(LIBUSB_ERROR_IO, what, t->info.port_path);
	default:
		return map_error(LIBUSB_ERROR_IO, what, t->info.port_path);
	}
}

/* A vendor control transfer (bmRequestType 0x40 / 0xC0, bRequest 0, the length in
 * wValue/wIndex) with `len` data bytes in buf (IN) or none (OUT). */
static int vendor_control(struct pv_usb_transport *t, uint8_t request_type, uint32_t length,
			  void *buf, size_t len, size_t *actual, unsigned timeout_ms,
			  const char *what)
{
	struct lu_transport *lt = t->priv;
	struct libusb_transfer *transfer;
	unsigned char *setup;
	size_t moved = 0;
	int rc;

	if (!lt->handle)
		return pv_fail(PV_ERR_NO_DEVICE, "usb", "'%s': not open", t->info.port_path);
	transfer = libusb_alloc_transfer(0);
	setup = malloc(LIBUSB_CONTROL_SETUP_SIZE + len);
	if (!transfer || !setup) {
		libusb_free_transfer(transfer);
		free(setup);
		return pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
	}
	libusb_fill_control_setup(setup, request_type, 0, (uint16_t)(length & 0xffff),
				  (uint16_t)(length >> 16), (uint16_t)len);
	libusb_fill_control_transfer(transfer, lt->handle, setup, NULL, NULL, timeout_ms);
	rc = run_transfer(t, transfer, what, &moved);
	if (!rc && len)
		memcpy(buf, libusb_control_transfer_get_data(transfer), moved);
	if (actual)
		*actual = moved;
	libusb_free_transfer(transfer);
	free(setup);
	return rc;
}

static int lu_control_out_length(struct pv_usb_transport *t, uint32_t length,
				 unsigned timeout_ms)
{
	return vendor_control(t, 0x40, length, NULL, 0, NULL, timeout_ms, "control out");
}

static int lu_control_in(struct pv_usb_transport *t, void *buf, size_t len, size_t *actual,
			 unsigned timeout_ms)
{
	size_t got = 0;
	int rc;

	if (len > 0xffff)
		return pv_fail(PV_ERR_INVALID, "usb", "control IN of %zu bytes", len);
	rc = vendor_control(t, 0xC0, (uint32_t)len, buf, len, &got, timeout_ms, "control in");
	if (!rc)
		*actual = got;
	return rc;
}

static int lu_bulk_out(struct pv_usb_transport *t, const void *data, size_t len, size_t *actual,
		       unsigned timeout_ms)
{
	struct lu_transport *lt = t->priv;
	struct libusb_transfer *transfer;
	int rc;

	*actual = 0;
	if (!lt->handle)
		return pv_fail(PV_ERR_NO_DEVICE, "usb", "'%s': not open", t->info.port_path);
	if (len > PV_USB_BULK_CHUNK * 64)
		return pv_fail(PV_ERR_INVALID, "usb", "bulk OUT of %zu bytes", len);
	transfer = libusb_alloc_transfer(0);
	if (!transfer)
		return pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
	/* libusb's API takes a non-const buffer for both directions. */
	libusb_fill_bulk_transfer(transfer, lt->handle, lt->out_ep,
				  (unsigned char *)(uintptr_t)data, (int)len, NULL, NULL,
				  timeout_ms);
	rc = run_transfer(t, transfer, "bulk out", actual);
	libusb_free_transfer(transfer);
	return rc;
}

static void lu_interrupt(struct pv_usb_transport *t)
{
	struct lu_transport *lt = t->priv;

	pthread_mutex_lock(&lt->lock);
	lt->interrupted = true;
	if (lt->pending)
		libusb_cancel_transfer(lt->pending);
	pthread_mutex_unlock(&lt->lock);
}

static void lu_transport_destroy(struct pv_usb_transport *t)
{
	struct lu_transport *lt = t->priv;

	lu_close(t);
	libusb_unref_device(lt->device);
	pthread_mutex_destroy(&lt->lock);
	free(lt);
	free(t);
}

static const struct pv_usb_transport_ops lu_transport_ops = {
	.open = lu_open,
	.close = lu_close,
	.control_out_length = lu_control_out_length,
	.control_in = lu_control_in,
	.bulk_out = lu_bulk_out,
	.destroy = lu_transport_destroy,
	.interrupt = lu_interrupt,
};

static int lu_create_transport(struct pv_usb_bus *bus, const struct pv_usb_device_info *info,
			       struct pv_usb_transport **out)
{
	struct lu_bus *lb = bus->priv;
	libusb_device **list;
	ssize_t n = libusb_get_device_list(lb->ctx, &list);
	libusb_device *found = NULL;
	struct pv_usb_device_info seen;
	struct pv_usb_transport *t;
	struct lu_transport *lt;

	if (n < 0)
		return map_error((int)n, "listing devices", info->port_path);
	for (ssize_t i = 0; i < n && !found; i++)
		if (describe(list[i], &seen) && strcmp(seen.port_path, info->port_path) == 0)
			found = libusb_ref_device(list[i]);
	libusb_free_device_list(list, 1);
	if (!found)
		return pv_fail(PV_ERR_NO_DEVICE, "usb", "'%s': no longer there", info->port_path);
	t = calloc(1, sizeof(*t));
	lt = calloc(1, sizeof(*lt));
	if (!t || !lt) {
		free(t);
		free(lt);
		libusb_unref_device(found);
		return pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
	}
	pthread_mutex_init(&lt->lock, NULL);
	lt->ctx = lb->ctx;
	lt->device = found;
	t->ops = &lu_transport_ops;
	t->priv = lt;
	t->info = seen;
	*out = t;
	return PV_OK;
}

static void lu_destroy(struct pv_usb_bus *bus)
{
	struct lu_bus *lb = bus->priv;

	if (lb->hotplug)
		libusb_hotplug_deregister_callback(lb->ctx, lb->hotplug_handle);
	libusb_exit(lb->ctx);
	if (lb->wake_pipe[0] >= 0) {
		close(lb->wake_pipe[0]);
		close(lb->wake_pipe[1]);
	}
	free(lb);
	free(bus);
}

static const struct pv_usb_bus_ops lu_bus_ops = {
	.scan = lu_scan,
	.wait_event = lu_wait_event,
	.wakeup = lu_wakeup,
	.create_transport = lu_create_transport,
	.destroy = lu_destroy,
};

int pv_usb_libusb_bus_new(struct pv_usb_bus **out)
{
	struct pv_usb_bus *bus = calloc(1, sizeof(*bus));
	struct lu_bus *lb = calloc(1, sizeof(*lb));
	int err, rc;

	if (!bus || !lb) {
		rc = pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
		goto out_free;
	}
	lb->wake_pipe[0] = lb->wake_pipe[1] = -1;
	err = libusb_init(&lb->ctx);
	if (err) {
		rc = pv_fail(PV_ERR_IO, "usb", "libusb_init: %s",
			     libusb_strerror((enum libusb_error)err));
		goto out_free;
	}
	if (libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG) &&
	    libusb_hotplug_register_callback(
		    lb->ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT,
		    0, BROADCOM_VENDOR_ID, LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
		    on_hotplug, lb, &lb->hotplug_handle) == LIBUSB_SUCCESS) {
		lb->hotplug = true;
	} else {
		if (pipe2(lb->wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
			rc = pv_fail_errno(errno, "usb", "pipe");
			goto out_exit;
		}
		pv_log(PV_LOG_INFO, "usb", "libusb has no hotplug here: polling twice a second");
	}
	bus->ops = &lu_bus_ops;
	bus->priv = lb;
	*out = bus;
	return PV_OK;

out_exit:
	libusb_exit(lb->ctx);
out_free:
	free(lb);
	free(bus);
	return rc;
}
