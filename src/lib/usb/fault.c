/* Fault injector (piprov/usb_fault.h): a decorator over the transport and bus ops tables,
 * in the spirit of flashrom's fault programmer. A seeded xorshift generator draws the
 * schedule; the wrappers count transfer calls and fire the fault due at each step. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "piprov/usb_fault.h"
#include "banned.h"

struct fault_state {
	pthread_mutex_t lock;
	unsigned refs;
	struct pv_usb_fault_schedule schedule;
	struct pv_usb_fault_stats stats;
};

struct fault_transport {
	struct pv_usb_transport *inner;
	struct fault_state *state;
	bool disconnected;
};

struct fault_bus {
	struct pv_usb_bus *inner;
	struct fault_state *state;
};

static uint64_t next_random(uint64_t *s)
{
	/* xorshift64*: tiny, good enough to spread steps and kinds, identical everywhere. */
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

void pv_usb_fault_schedule_from_seed(uint64_t seed, unsigned horizon,
				     struct pv_usb_fault_schedule *out)
{
	uint64_t s = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;

	memset(out, 0, sizeof(*out));
	if (s == 0)
		s = 1;
	if (horizon == 0)
		horizon = 1;
	out->count = 1 + (unsigned)(next_random(&s) % 3);
	for (unsigned i = 0; i < out->count; i++) {
		out->faults[i].step = (unsigned)(next_random(&s) % horizon);
		out->faults[i].kind = (enum pv_usb_fault_kind)(1 + next_random(&s) % 4);
	}
}

const char *pv_usb_fault_kind_name(enum pv_usb_fault_kind kind)
{
	switch (kind) {
	case PV_USB_FAULT_TIMEOUT:
		return "timeout";
	case PV_USB_FAULT_SHORT:
		return "short";
	case PV_USB_FAULT_STALL:
		return "stall";
	case PV_USB_FAULT_DISCONNECT:
		return "disconnect";
	case PV_USB_FAULT_NONE:
		break;
	}
	return "none";
}

static struct fault_state *state_new(const struct pv_usb_fault_schedule *schedule)
{
	struct fault_state *state = calloc(1, sizeof(*state));

	if (!state)
		return NULL;
	pthread_mutex_init(&state->lock, NULL);
	state->refs = 1;
	state->schedule = *schedule;
	return state;
}

static void state_put(struct fault_state *state)
{
	bool last;

	pthread_mutex_lock(&state->lock);
	last = --state->refs == 0;
	pthread_mutex_unlock(&state->lock);
	if (last) {
		pthread_mutex_destroy(&state->lock);
		free(state);
	}
}

/* The fault due at this call, if any (the step counter advances either way). */
static enum pv_usb_fault_kind next_step(struct fault_transport *ft)
{
	struct fault_state *state = ft->state;
	enum pv_usb_fault_kind kind = PV_USB_FAULT_NONE;
	unsigned step;

	pthread_mutex_lock(&state->lock);
	step = state->stats.steps++;
	for (unsigned i = 0; i < state->schedule.count; i++) {
		if (state->schedule.faults[i].step == step) {
			kind = state->schedule.faults[i].kind;
			state->stats.injected++;
			break;
		}
	}
	pthread_mutex_unlock(&state->lock);
	if (kind != PV_USB_FAULT_NONE)
		pv_log(PV_LOG_DEBUG, "usb", "fault: %s at step %u", pv_usb_fault_kind_name(kind),
		       step);
	if (kind == PV_USB_FAULT_DISCONNECT)
		ft->disconnected = true;
	return kind;
}

static int injected(enum pv_usb_fault_kind kind)
{
	switch (kind) {
	case PV_USB_FAULT_STALL:
		return pv_fail(PV_ERR_PIPE, "usb", "injected fault: endpoint stalled");
	case PV_USB_FAULT_DISCONNECT:
		return pv_fail(PV_ERR_NO_DEVICE, "usb", "injected fault: device disconnected");
	default:
		return pv_fail(PV_ERR_TIMEOUT, "usb", "injected fault: transfer timed out");
	}
}

static int ft_open(struct pv_usb_transport *t)
{
	struct fault_transport *ft = t->priv;
	int rc;

	if (ft->disconnected)
		return pv_fail(PV_ERR_NO_DEVICE, "usb", "injected fault: device disconnected");
	rc = pv_usb_open(ft->inner);
	if (!rc)
		t->info = ft->inner->info;
	return rc;
}

static void ft_close(struct pv_usb_transport *t)
{
	struct fault_transport *ft = t->priv;

	pv_usb_close(ft->inner);
}

static int ft_control_out_length(struct pv_usb_transport *t, uint32_t length,
				 unsigned timeout_ms)
{
	struct fault_transport *ft = t->priv;
	enum pv_usb_fault_kind kind;

	if (ft->disconnected)
		return injected(PV_USB_FAULT_DISCONNECT);
	kind = next_step(ft);
	if (kind != PV_USB_FAULT_NONE)
		return injected(kind == PV_USB_FAULT_SHORT ? PV_USB_FAULT_TIMEOUT : kind);
	return pv_usb_control_out_length(ft->inner, length, timeout_ms);
}

static int ft_control_in(struct pv_usb_transport *t, void *buf, size_t len, size_t *actual,
			 unsigned timeout_ms)
{
	struct fault_transport *ft = t->priv;
	enum pv_usb_fault_kind kind;
	size_t got = 0;
	int rc;

	if (ft->disconnected)
		return injected(PV_USB_FAULT_DISCONNECT);
	kind = next_step(ft);
	if (kind != PV_USB_FAULT_NONE && kind != PV_USB_FAULT_SHORT)
		return injected(kind);
	rc = pv_usb_control_in(ft->inner, buf, len, &got, timeout_ms);
	if (rc)
		return rc;
	/* A truncated answer: the caller must notice the count. */
	*actual = kind == PV_USB_FAULT_SHORT ? got / 2 : got;
	return PV_OK;
}

static int ft_bulk_out(struct pv_usb_transport *t, const void *data, size_t len, size_t *actual,
		       unsigned timeout_ms)
{
	struct fault_transport *ft = t->priv;
	enum pv_usb_fault_kind kind;
	size_t sent = 0;
	int rc;

	if (ft->disconnected)
		return injected(PV_USB_FAULT_DISCONNECT);
	kind = next_step(ft);
	if (kind == PV_USB_FAULT_SHORT) {
		rc = pv_usb_bulk_out(ft->inner, data, len / 2, &sent, timeout_ms);
		*actual = sent;
		return rc ? rc : injected(PV_USB_FAULT_TIMEOUT);
	}
	if (kind != PV_USB_FAULT_NONE) {
		*actual = 0;
		return injected(kind);
	}
	return pv_usb_bulk_out(ft->inner, data, len, actual, timeout_ms);
}

static void ft_destroy(struct pv_usb_transport *t)
{
	struct fault_transport *ft = t->priv;

	pv_usb_transport_destroy(ft->inner);
	state_put(ft->state);
	free(ft);
	free(t);
}

static void ft_interrupt(struct pv_usb_transport *t)
{
	struct fault_transport *ft = t->priv;

	pv_usb_interrupt(ft->inner);
}

static const struct pv_usb_transport_ops fault_transport_ops = {
	.open = ft_open,
	.close = ft_close,
	.control_out_length = ft_control_out_length,
	.control_in = ft_control_in,
	.bulk_out = ft_bulk_out,
	.destroy = ft_destroy,
	.interrupt = ft_interrupt,
};

static int wrap_transport(struct pv_usb_transport *inner, struct fault_state *state,
			  struct pv_usb_transport **out)
{
	struct pv_usb_transport *t = calloc(1, sizeof(*t));
	struct fault_transport *ft = calloc(1, sizeof(*ft));

	if (!t || !ft) {
		free(t);
		free(ft);
		return pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
	}
	ft->inner = inner;
	ft->state = state;
	t->ops = &fault_transport_ops;
	t->priv = ft;
	t->info = inner->info;
	*out = t;
	return PV_OK;
}

int pv_usb_fault_transport_new(struct pv_usb_transport *inner,
			       const struct pv_usb_fault_schedule *schedule,
			       struct pv_usb_transport **out)
{
	struct fault_state *state = state_new(schedule);
	int rc;

	if (!state)
		return pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
	rc = wrap_transport(inner, state, out);
	if (rc)
		state_put(state);
	return rc;
}

static int fb_scan(struct pv_usb_bus *bus, struct pv_usb_device_info **devices, size_t *count)
{
	struct fault_bus *fb = bus->priv;

	return pv_usb_bus_scan(fb->inner, devices, count);
}

static int fb_wait_event(struct pv_usb_bus *bus, unsigned timeout_ms)
{
	struct fault_bus *fb = bus->priv;

	return pv_usb_bus_wait_event(fb->inner, timeout_ms);
}

static void fb_wakeup(struct pv_usb_bus *bus)
{
	struct fault_bus *fb = bus->priv;

	pv_usb_bus_wakeup(fb->inner);
}

static int fb_create_transport(struct pv_usb_bus *bus, const struct pv_usb_device_info *info,
			       struct pv_usb_transport **transport)
{
	struct fault_bus *fb = bus->priv;
	struct pv_usb_transport *inner;
	int rc = pv_usb_bus_create_transport(fb->inner, info, &inner);

	if (rc)
		return rc;
	pthread_mutex_lock(&fb->state->lock);
	fb->state->refs++;
	pthread_mutex_unlock(&fb->state->lock);
	rc = wrap_transport(inner, fb->state, transport);
	if (rc) {
		state_put(fb->state);
		pv_usb_transport_destroy(inner);
	}
	return rc;
}

static void fb_destroy(struct pv_usb_bus *bus)
{
	struct fault_bus *fb = bus->priv;

	pv_usb_bus_destroy(fb->inner);
	state_put(fb->state);
	free(fb);
	free(bus);
}

/* A power cycle is no transfer: nothing to inject, the inner bus does it. */
static int fb_power_cycle(struct pv_usb_bus *bus, const char *port_path)
{
	struct fault_bus *fb = bus->priv;

	return pv_usb_bus_power_cycle(fb->inner, port_path);
}

static const struct pv_usb_bus_ops fault_bus_ops = {
	.scan = fb_scan,
	.wait_event = fb_wait_event,
	.wakeup = fb_wakeup,
	.create_transport = fb_create_transport,
	.destroy = fb_destroy,
	.power_cycle = fb_power_cycle,
};

int pv_usb_fault_bus_new(struct pv_usb_bus *inner, const struct pv_usb_fault_schedule *schedule,
			 struct pv_usb_bus **out)
{
	struct pv_usb_bus *bus = calloc(1, sizeof(*bus));
	struct fault_bus *fb = calloc(1, sizeof(*fb));

	if (!bus || !fb)
		goto out_nomem;
	fb->state = state_new(schedule);
	if (!fb->state)
		goto out_nomem;
	fb->inner = inner;
	bus->ops = &fault_bus_ops;
	bus->priv = fb;
	*out = bus;
	return PV_OK;

out_nomem:
	free(fb);
	free(bus);
	return pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
}

void pv_usb_fault_bus_stats(struct pv_usb_bus *fault_bus, struct pv_usb_fault_stats *out)
{
	struct fault_bus *fb = fault_bus->priv;

	pthread_mutex_lock(&fb->state->lock);
	*out = fb->state->stats;
	pthread_mutex_unlock(&fb->state->lock);
}
