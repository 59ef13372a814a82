/* Fault injector: a transport (and a bus) that wraps another and, on a schedule drawn from
 * a seed, makes chosen transfers time out, come up short, stall, or lose the device. The
 * same seed always gives the same schedule, so a failing run is replayed exactly.
 *
 * Steps are counted over every transfer call (control OUT, control IN, bulk OUT) of all the
 * transports a fault bus creates, in call order, so one schedule covers a board's whole
 * life (ROM stage and second stage). Faults return at once instead of waiting out the
 * timeout, so thousands of runs stay fast.
 */
#ifndef PIPROV_USB_FAULT_H
#define PIPROV_USB_FAULT_H

#include <stdint.h>

#include "piprov/usb_transport.h"

#ifdef __cplusplus
extern "C" {
#endif

enum pv_usb_fault_kind {
	PV_USB_FAULT_NONE = 0,
	PV_USB_FAULT_TIMEOUT,    /* PV_ERR_TIMEOUT, nothing reaches the device */
	PV_USB_FAULT_SHORT,      /* bulk: half the bytes reach the device, then TIMEOUT;
				  * control IN: a truncated answer */
	PV_USB_FAULT_STALL,      /* PV_ERR_PIPE */
	PV_USB_FAULT_DISCONNECT, /* PV_ERR_NO_DEVICE from this call on, for this transport */
};

#define PV_USB_FAULTS_MAX 4

struct pv_usb_fault {
	unsigned step;           /* 0-based transfer index */
	enum pv_usb_fault_kind kind;
};

struct pv_usb_fault_schedule {
	unsigned count;
	struct pv_usb_fault faults[PV_USB_FAULTS_MAX];
};

/* The schedule for a seed: 1-3 faults of any kind at steps below horizon (e.g. 200 covers
 * a whole 2711 flash with 16 KiB chunks). */
void pv_usb_fault_schedule_from_seed(uint64_t seed, unsigned horizon,
				     struct pv_usb_fault_schedule *out);

/* "timeout", "short", "stall", "disconnect". */
const char *pv_usb_fault_kind_name(enum pv_usb_fault_kind kind);

/* Statistics shared by every transport of one fault bus. */
struct pv_usb_fault_stats {
	unsigned steps;          /* transfer calls seen */
	unsigned injected;       /* faults fired */
};

/* Wrap a bus: every transport it creates is wrapped with the shared schedule. The fault
 * bus owns inner and destroys it. Returns PV_OK or PV_ERR_NOMEM (inner is then still the
 * caller's). */
int pv_usb_fault_bus_new(struct pv_usb_bus *inner, const struct pv_usb_fault_schedule *schedule,
			 struct pv_usb_bus **out);
void pv_usb_fault_bus_stats(struct pv_usb_bus *fault_bus, struct pv_usb_fault_stats *out);

/* Wrap one transport with its own schedule (steps counted from 0). Takes ownership of
 * inner. Returns PV_OK or PV_ERR_NOMEM (inner is then still the caller's). */
int pv_usb_fault_transport_new(struct pv_usb_transport *inner,
			       const struct pv_usb_fault_schedule *schedule,
			       struct pv_usb_transport **out);

#ifdef __cplusplus
}
#endif
#endif
