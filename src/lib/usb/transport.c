/* Thin forwarding wrappers of the transport and bus contracts (piprov/usb_transport.h). */
#include <stddef.h>

#include "internal.h"
#include "piprov/usb_transport.h"
#include "banned.h"

int pv_usb_open(struct pv_usb_transport *t)
{
	return t->ops->open(t);
}

void pv_usb_close(struct pv_usb_transport *t)
{
	t->ops->close(t);
}

int pv_usb_control_out_length(struct pv_usb_transport *t, uint32_t length, unsigned timeout_ms)
{
	return t->ops->control_out_length(t, length, timeout_ms);
}

int pv_usb_control_in(struct pv_usb_transport *t, void *buf, size_t len, size_t *actual,
		      unsigned timeout_ms)
{
	return t->ops->control_in(t, buf, len, actual, timeout_ms);
}

int pv_usb_bulk_out(struct pv_usb_transport *t, const void *data, size_t len, size_t *actual,
		    unsigned timeout_ms)
{
	return t->ops->bulk_out(t, data, len, actual, timeout_ms);
}

void pv_usb_transport_destroy(struct pv_usb_transport *t)
{
	if (t)
		t->ops->destroy(t);
}

bool pv_usb_interrupt(struct pv_usb_transport *t)
{
	if (!t || !t->ops->interrupt)
		return false;
	t->ops->interrupt(t);
	return true;
}

int pv_usb_bulk_in(struct pv_usb_transport *t, uint8_t ep, void *buf, size_t len,
		   size_t *actual, unsigned timeout_ms)
{
	if (!t->ops->bulk_in)
		return pv_fail(PV_ERR_UNSUPPORTED, "usb", "this USB backend has no bulk IN");
	return t->ops->bulk_in(t, ep, buf, len, actual, timeout_ms);
}

int pv_usb_control(struct pv_usb_transport *t, const uint8_t setup[8], void *data, size_t size,
		   size_t *actual, unsigned timeout_ms)
{
	if (!t->ops->control)
		return pv_fail(PV_ERR_UNSUPPORTED, "usb",
			       "this USB backend has no general control transfer");
	return t->ops->control(t, setup, data, size, actual, timeout_ms);
}

int pv_usb_bus_scan(struct pv_usb_bus *bus, struct pv_usb_device_info **devices, size_t *count)
{
	return bus->ops->scan(bus, devices, count);
}

int pv_usb_bus_wait_event(struct pv_usb_bus *bus, unsigned timeout_ms)
{
	return bus->ops->wait_event(bus, timeout_ms);
}

void pv_usb_bus_wakeup(struct pv_usb_bus *bus)
{
	bus->ops->wakeup(bus);
}

int pv_usb_bus_create_transport(struct pv_usb_bus *bus, const struct pv_usb_device_info *info,
				struct pv_usb_transport **transport)
{
	return bus->ops->create_transport(bus, info, transport);
}

void pv_usb_bus_destroy(struct pv_usb_bus *bus)
{
	if (bus)
		bus->ops->destroy(bus);
}

int pv_usb_bus_power_cycle(struct pv_usb_bus *bus, const char *port_path)
{
	if (!bus->ops->power_cycle)
		return pv_fail(PV_ERR_UNSUPPORTED, "usb",
			       "'%.48s': this bus cannot power-cycle its ports", port_path);
	return bus->ops->power_cycle(bus, port_path);
}
