/* A bus merging several (real + virtual boards in one run). Each child bus has its own way
 * of sleeping until something changes (libusb events, a condition variable), so one small
 * watcher thread per child sleeps in the child's wait_event and forwards "changed" to the
 * combined bus's condition variable; the engine then waits on a single thing. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "piprov/usb.h"
#include "banned.h"

/* Watchers re-arm this often; stopping wakes them at once, so it only bounds a lost
 * wakeup. */
#define WATCH_INTERVAL_MS 30000

struct combined;

struct child {
	struct pv_usb_bus *bus;
	struct combined *parent;
	pthread_t watcher;
	bool watcher_started;
};

struct route {
	char port_path[PV_USB_PORT_PATH_MAX];
	size_t child;
};

struct combined {
	struct child *children;
	size_t count;
	pthread_mutex_t lock;
	pthread_cond_t cond;          /* CLOCK_MONOTONIC */
	bool changed;
	bool interrupted;
	bool stopping;
	struct route *routes;         /* port path -> child, from the last scan */
	size_t route_count;
};

static void *watch_child(void *arg)
{
	struct child *c = arg;
	struct combined *cb = c->parent;

	for (;;) {
		int rc;

		pthread_mutex_lock(&cb->lock);
		if (cb->stopping) {
			pthread_mutex_unlock(&cb->lock);
			return NULL;
		}
		pthread_mutex_unlock(&cb->lock);
		rc = pv_usb_bus_wait_event(c->bus, WATCH_INTERVAL_MS);
		if (rc == PV_OK) {
			pthread_mutex_lock(&cb->lock);
			cb->changed = true;
			pthread_cond_broadcast(&cb->cond);
			pthread_mutex_unlock(&cb->lock);
		}
	}
}

static int cb_scan(struct pv_usb_bus *bus, struct pv_usb_device_info **devices, size_t *count)
{
	struct combined *cb = bus->priv;
	struct pv_usb_device_info *all = NULL;
	struct route *routes = NULL;
	size_t total = 0;
	int rc = PV_OK;

	for (size_t i = 0; i < cb->count; i++) {
		struct pv_usb_device_info *part = NULL;
		size_t n = 0;
		void *grown;

		rc = pv_usb_bus_scan(cb->children[i].bus, &part, &n);
		if (rc)
			goto out_fail;
		grown = realloc(all, (total + n + 1) * sizeof(*all));
		if (!grown) {
			free(part);
			rc = pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
			goto out_fail;
		}
		all = grown;
		grown = realloc(routes, (total + n + 1) * sizeof(*routes));
		if (!grown) {
			free(part);
			rc = pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
			goto out_fail;
		}
		routes = grown;
		for (size_t j = 0; j < n; j++) {
			all[total + j] = part[j];
			memcpy(routes[total + j].port_path, part[j].port_path,
			       sizeof(routes[0].port_path));
			routes[total + j].child = i;
		}
		total += n;
		free(part);
	}
	pthread_mutex_lock(&cb->lock);
	free(cb->routes);
	cb->routes = routes;
	cb->route_count = total;
	pthread_mutex_unlock(&cb->lock);
	if (!all)
		all = calloc(1, sizeof(*all));
	if (!all)
		return pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
	*devices = all;
	*count = total;
	return PV_OK;

out_fail:
	free(all);
	free(routes);
	return rc;
}

static int cb_wait_event(struct pv_usb_bus *bus, unsigned timeout_ms)
{
	struct combined *cb = bus->priv;
	uint64_t deadline = pv_usb_now_ms() + timeout_ms;
	struct timespec ts = { .tv_sec = (time_t)(deadline / 1000),
			       .tv_nsec = (long)(deadline % 1000) * 1000000L };
	int rc = PV_ERR_TIMEOUT;

	pthread_mutex_lock(&cb->lock);
	while (!cb->changed && !cb->interrupted) {
		if (pthread_cond_timedwait(&cb->cond, &cb->lock, &ts) != 0 &&
		    pv_usb_now_ms() >= deadline)
			break;
	}
	if (cb->interrupted)
		rc = PV_ERR_INTERRUPTED;
	else if (cb->changed)
		rc = PV_OK;
	cb->interrupted = false;
	cb->changed = false;
	pthread_mutex_unlock(&cb->lock);
	return rc;
}

static void cb_wakeup(struct pv_usb_bus *bus)
{
	struct combined *cb = bus->priv;

	pthread_mutex_lock(&cb->lock);
	cb->interrupted = true;
	pthread_cond_broadcast(&cb->cond);
	pthread_mutex_unlock(&cb->lock);
}

/* The child that reported port_path in the last scan; cb->count when none did. */
static size_t child_of(struct combined *cb, const char *port_path)
{
	size_t child = cb->count;

	pthread_mutex_lock(&cb->lock);
	for (size_t i = 0; i < cb->route_count; i++) {
		if (strcmp(cb->routes[i].port_path, port_path) == 0) {
			child = cb->routes[i].child;
			break;
		}
	}
	pthread_mutex_unlock(&cb->lock);
	return child;
}

static int cb_power_cycle(struct pv_usb_bus *bus, const char *port_path)
{
	struct combined *cb = bus->priv;
	size_t child = child_of(cb, port_path);

	if (child == cb->count)
		return pv_fail(PV_ERR_NO_DEVICE, "usb", "'%.48s': no longer there", port_path);
	return pv_usb_bus_power_cycle(cb->children[child].bus, port_path);
}

static int cb_create_transport(struct pv_usb_bus *bus, const struct pv_usb_device_info *info,
			       struct pv_usb_transport **transport)
{
	struct combined *cb = bus->priv;
	size_t child = child_of(cb, info->port_path);

	if (child == cb->count)
		return pv_fail(PV_ERR_NO_DEVICE, "usb", "'%s': no longer there", info->port_path);
	return pv_usb_bus_create_transport(cb->children[child].bus, info, transport);
}

static void cb_destroy(struct pv_usb_bus *bus)
{
	struct combined *cb = bus->priv;

	pthread_mutex_lock(&cb->lock);
	cb->stopping = true;
	pthread_mutex_unlock(&cb->lock);
	for (size_t i = 0; i < cb->count; i++) {
		if (!cb->children[i].watcher_started)
			continue;
		pv_usb_bus_wakeup(cb->children[i].bus);
		pthread_join(cb->children[i].watcher, NULL);
	}
	for (size_t i = 0; i < cb->count; i++)
		pv_usb_bus_destroy(cb->children[i].bus);
	pthread_cond_destroy(&cb->cond);
	pthread_mutex_destroy(&cb->lock);
	free(cb->routes);
	free(cb->children);
	free(cb);
	free(bus);
}

static const struct pv_usb_bus_ops combined_ops = {
	.scan = cb_scan,
	.wait_event = cb_wait_event,
	.wakeup = cb_wakeup,
	.create_transport = cb_create_transport,
	.destroy = cb_destroy,
	.power_cycle = cb_power_cycle,
};

int pv_usb_combined_bus_new(struct pv_usb_bus **buses, size_t count, struct pv_usb_bus **out)
{
	struct pv_usb_bus *bus = calloc(1, sizeof(*bus));
	struct combined *cb = calloc(1, sizeof(*cb));
	pthread_condattr_t attr;

	if (!bus || !cb || count == 0)
		goto out_free;
	cb->children = calloc(count, sizeof(*cb->children));
	if (!cb->children)
		goto out_free;
	cb->count = count;
	pthread_mutex_init(&cb->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&cb->cond, &attr);
	pthread_condattr_destroy(&attr);
	bus->ops = &combined_ops;
	bus->priv = cb;
	for (size_t i = 0; i < count; i++) {
		cb->children[i].bus = buses[i];
		cb->children[i].parent = cb;
	}
	for (size_t i = 0; i < count; i++) {
		if (pthread_create(&cb->children[i].watcher, NULL, watch_child, &cb->children[i]))
			break;
		cb->children[i].watcher_started = true;
	}
	*out = bus;
	return PV_OK;

out_free:
	if (cb)
		free(cb->children);
	free(cb);
	free(bus);
	return pv_fail(count ? PV_ERR_NOMEM : PV_ERR_INVALID, "usb",
		       count ? "out of memory" : "no bus to combine");
}
