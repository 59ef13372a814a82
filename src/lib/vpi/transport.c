/* The in-process transport and the virtual bus: piprov/usb_transport.h implemented on top of
 * the wire-level board model, so `--virtual` boards take the same code path as real ones. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "piprov/text.h"
#include "vpi_internal.h"
#include "banned.h"

/* More boards than any hub tree a real host would have; a fixed array keeps board pointers
 * stable while other threads scan. */
#define VPI_BUS_BOARDS_MAX 1024
/* Ports per virtual hub: boards are spread over 7-port hubs like a real fleet rig. */
#define VPI_HUB_PORTS 7
/* A control IN the board NAKs is waited for in slices this long, so that an interrupt
 * (pv_usb_interrupt) ends it promptly; a NAKed poll that times out changes nothing on the
 * board, so slicing is invisible to it. */
#define VPI_WAIT_SLICE_MS 20
/* How long a scan waits for a board whose lock another thread holds before it reports the
 * board as it last saw it. */
#define VPI_BUSY_BOARD_MS 50

struct vpi_transport {
	struct pv_vpi_board *board;
	uint32_t generation;
	uint8_t endpoint;
	bool open;
	volatile int interrupted;   /* set by vt_interrupt from another thread */
};

static struct vpi_transport *vt(struct pv_usb_transport *t)
{
	return t->priv;
}

static int vt_open(struct pv_usb_transport *t)
{
	struct vpi_transport *v = vt(t);
	struct pv_usb_device_info info;
	uint32_t generation;
	bool attached;
	int rc;

	pv_vpi_board_poll(v->board, &attached, &generation, NULL);
	rc = pv_vpi_board_info(v->board, &info);
	if (rc)
		return rc;
	if (!attached)
		return pv_fail(PV_ERR_NO_DEVICE, "vpi", "'%s' is gone", info.port_path);
	v->generation = generation;
	/* The boot interface's bulk OUT (interface 1 of a two-interface BCM2837 ROM); the
	 * mass-storage gadget's disk is interface 0, bulk OUT 0x01, too. */
	v->endpoint = info.num_interfaces == 2 ? 0x03 : 0x01;
	v->open = true;
	t->info = info;
	return PV_OK;
}

static void vt_close(struct pv_usb_transport *t)
{
	vt(t)->open = false;
}

static int vt_not_open(void)
{
	return pv_fail(PV_ERR_IO, "vpi", "virtual transport used before open");
}

static int vt_interrupted(void)
{
	return pv_fail(PV_ERR_INTERRUPTED, "vpi", "transfer interrupted");
}

static int vt_control_out_length(struct pv_usb_transport *t, uint32_t length, unsigned timeout_ms)
{
	struct vpi_transport *v = vt(t);
	uint8_t setup[PV_VPI_SETUP_LEN] = { 0x40, 0,
					    (uint8_t)length, (uint8_t)(length >> 8),
					    (uint8_t)(length >> 16), (uint8_t)(length >> 24), 0, 0 };

	if (!v->open)
		return vt_not_open();
	if (__atomic_load_n(&v->interrupted, __ATOMIC_ACQUIRE))
		return vt_interrupted();
	return pv_vpi_board_control(v->board, v->generation, setup, NULL, 0, NULL, timeout_ms);
}

/* The next piece of a wait that ends at `deadline`: at most VPI_WAIT_SLICE_MS, so that a
 * waiting call sees an interrupt soon; 0 once the deadline has passed. */
static unsigned wait_slice(uint64_t deadline)
{
	uint64_t now = vpi_now_ms();

	if (now >= deadline)
		return 0;
	return deadline - now < VPI_WAIT_SLICE_MS ? (unsigned)(deadline - now) : VPI_WAIT_SLICE_MS;
}

static int vt_control_in(struct pv_usb_transport *t, void *buf, size_t len, size_t *actual,
			 unsigned timeout_ms)
{
	struct vpi_transport *v = vt(t);
	uint8_t setup[PV_VPI_SETUP_LEN] = { 0xc0, 0, (uint8_t)len, (uint8_t)(len >> 8), 0, 0,
					    (uint8_t)len, (uint8_t)(len >> 8) };
	size_t got = 0;
	int rc;

	if (!v->open)
		return vt_not_open();
	if (len > 0xffff)
		return pv_fail(PV_ERR_INVALID, "vpi", "control IN of %zu bytes (max 65535)", len);
	for (uint64_t deadline = vpi_now_ms() + timeout_ms;;) {
		unsigned slice = wait_slice(deadline);

		if (__atomic_load_n(&v->interrupted, __ATOMIC_ACQUIRE))
			return vt_interrupted();
		rc = pv_vpi_board_control(v->board, v->generation, setup, buf, len, &got, slice);
		if (rc != PV_ERR_TIMEOUT || slice == 0 || vpi_now_ms() >= deadline)
			break;
		pv_clear_error();
	}
	if (!rc)
		*actual = got;
	return rc;
}

static int vt_bulk_out(struct pv_usb_transport *t, const void *data, size_t len, size_t *actual,
		       unsigned timeout_ms)
{
	struct vpi_transport *v = vt(t);

	if (!v->open)
		return vt_not_open();
	if (__atomic_load_n(&v->interrupted, __ATOMIC_ACQUIRE))
		return vt_interrupted();
	return pv_vpi_board_bulk_out(v->board, v->generation, v->endpoint, data, len, actual,
				     timeout_ms);
}

/* Waits that the board NAKs are sliced, as for control IN, so an interrupt ends them. */
static int vt_bulk_in(struct pv_usb_transport *t, uint8_t ep, void *buf, size_t len,
		      size_t *actual, unsigned timeout_ms)
{
	struct vpi_transport *v = vt(t);
	size_t got = 0;
	int rc;

	if (!v->open)
		return vt_not_open();
	for (uint64_t deadline = vpi_now_ms() + timeout_ms;;) {
		unsigned slice = wait_slice(deadline);

		if (__atomic_load_n(&v->interrupted, __ATOMIC_ACQUIRE))
			return vt_interrupted();
		rc = pv_vpi_board_bulk_in(v->board, v->generation, ep, buf, len, &got, slice);
		if (rc != PV_ERR_TIMEOUT || slice == 0 || vpi_now_ms() >= deadline)
			break;
		pv_clear_error();
	}
	*actual = got;
	return rc;
}

static int vt_control(struct pv_usb_transport *t, const uint8_t setup[8], void *data,
		      size_t size, size_t *actual, unsigned timeout_ms)
{
	struct vpi_transport *v = vt(t);
	size_t got = 0;
	int rc;

	if (!v->open)
		return vt_not_open();
	if (__atomic_load_n(&v->interrupted, __ATOMIC_ACQUIRE))
		return vt_interrupted();
	rc = pv_vpi_board_control(v->board, v->generation, setup, data, size, &got, timeout_ms);
	if (actual)
		*actual = got;
	return rc;
}

static void vt_destroy(struct pv_usb_transport *t)
{
	if (!t)
		return;
	free(t->priv);
	free(t);
}

static void vt_interrupt(struct pv_usb_transport *t)
{
	__atomic_store_n(&vt(t)->interrupted, 1, __ATOMIC_RELEASE);
}

static const struct pv_usb_transport_ops vpi_transport_ops = {
	.open = vt_open,
	.close = vt_close,
	.control_out_length = vt_control_out_length,
	.control_in = vt_control_in,
	.bulk_out = vt_bulk_out,
	.destroy = vt_destroy,
	.interrupt = vt_interrupt,
	.bulk_in = vt_bulk_in,
	.control = vt_control,
};

int pv_vpi_transport_new(struct pv_vpi_board *board, struct pv_usb_transport **transport)
{
	struct pv_usb_transport *t = calloc(1, sizeof(*t));
	struct vpi_transport *v = calloc(1, sizeof(*v));

	if (!t || !v) {
		free(t);
		free(v);
		return pv_fail(PV_ERR_NOMEM, "vpi", "out of memory");
	}
	v->board = board;
	t->ops = &vpi_transport_ops;
	t->priv = v;
	*transport = t;
	return PV_OK;
}

/* --- bus -------------------------------------------------------------------------------- */

struct vpi_bus {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct pv_vpi_board *boards[VPI_BUS_BOARDS_MAX];
	/* What the last scan saw of each board (attached or not): a busy board is reported as
	 * it was. Used by the scanning thread only. */
	struct pv_usb_device_info last_seen[VPI_BUS_BOARDS_MAX];
	bool last_attached[VPI_BUS_BOARDS_MAX];
	size_t count;
	uint64_t events;            /* attach/detach count, bumped by the boards */
	uint64_t events_seen;       /* value at the last scan */
	bool woken;
};

static struct vpi_bus *vb(struct pv_usb_bus *bus)
{
	return bus->priv;
}

static void bus_notify(void *user)
{
	struct vpi_bus *b = user;

	pthread_mutex_lock(&b->lock);
	b->events++;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

static size_t board_snapshot(struct vpi_bus *b)
{
	size_t count;

	pthread_mutex_lock(&b->lock);
	count = b->count;
	pthread_mutex_unlock(&b->lock);
	return count;
}

static int vb_scan(struct pv_usb_bus *bus, struct pv_usb_device_info **devices, size_t *count)
{
	struct vpi_bus *b = vb(bus);
	size_t total = board_snapshot(b), n = 0;
	struct pv_usb_device_info *list;

	pthread_mutex_lock(&b->lock);
	b->events_seen = b->events;
	pthread_mutex_unlock(&b->lock);
	list = calloc(total ? total : 1, sizeof(*list));
	if (!list)
		return pv_fail(PV_ERR_NOMEM, "vpi", "out of memory");
	for (size_t i = 0; i < total; i++) {
		struct pv_vpi_board *board = b->boards[i];

		if (vpi_board_lock_within(board, VPI_BUSY_BOARD_MS)) {
			b->last_attached[i] = vpi_board_info_locked(board, &b->last_seen[i]) == PV_OK;
			pthread_mutex_unlock(&board->lock);
			if (!b->last_attached[i])
				pv_clear_error();
		}
		/* The bus contract: boot-ROM family devices only (a board that became its
		 * mass-storage gadget is a USB disk, no longer one). */
		if (b->last_attached[i] &&
		    pv_soc_by_usb_id(b->last_seen[i].vendor_id, b->last_seen[i].product_id))
			list[n++] = b->last_seen[i];
	}
	*devices = list;
	*count = n;
	return PV_OK;
}

static int vb_wait_event(struct pv_usb_bus *bus, unsigned timeout_ms)
{
	struct vpi_bus *b = vb(bus);
	uint64_t deadline = vpi_now_ms() + timeout_ms;

	for (;;) {
		uint64_t now, wake = deadline;
		size_t total = board_snapshot(b);
		bool changed, woken;

		/* Polling a board may attach or detach it (and bump events via bus_notify). */
		for (size_t i = 0; i < total; i++) {
			uint32_t next = VPI_BUSY_BOARD_MS;

			if (vpi_board_lock_within(b->boards[i], VPI_BUSY_BOARD_MS)) {
				vpi_board_poll_locked(b->boards[i], NULL, NULL, &next);
				pthread_mutex_unlock(&b->boards[i]->lock);
			}
			if (next != UINT32_MAX && vpi_now_ms() + next < wake)
				wake = vpi_now_ms() + next;
		}
		pthread_mutex_lock(&b->lock);
		woken = b->woken;
		b->woken = false;
		changed = b->events != b->events_seen;
		now = vpi_now_ms();
		if (!woken && !changed && now < deadline) {
			struct timespec ts = { .tv_sec = (time_t)(wake / 1000),
					       .tv_nsec = (long)(wake % 1000) * 1000000L };
			pthread_cond_timedwait(&b->cond, &b->lock, &ts);
			woken = b->woken;
			b->woken = false;
			changed = b->events != b->events_seen;
			now = vpi_now_ms();
		}
		pthread_mutex_unlock(&b->lock);
		if (woken)
			return PV_ERR_INTERRUPTED;
		if (changed)
			return PV_OK;
		if (now >= deadline)
			return PV_ERR_TIMEOUT;
	}
}

static void vb_wakeup(struct pv_usb_bus *bus)
{
	struct vpi_bus *b = vb(bus);

	pthread_mutex_lock(&b->lock);
	b->woken = true;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

static int vb_create_transport(struct pv_usb_bus *bus, const struct pv_usb_device_info *info,
			       struct pv_usb_transport **transport)
{
	struct vpi_bus *b = vb(bus);
	size_t total = board_snapshot(b);

	for (size_t i = 0; i < total; i++)
		if (strcmp(pv_vpi_board_options(b->boards[i])->port_path, info->port_path) == 0)
			return pv_vpi_transport_new(b->boards[i], transport);
	return pv_fail(PV_ERR_NO_DEVICE, "vpi", "no virtual board at '%s'", info->port_path);
}

static int vb_power_cycle(struct pv_usb_bus *bus, const char *port_path)
{
	struct vpi_bus *b = vb(bus);
	size_t total = board_snapshot(b);

	for (size_t i = 0; i < total; i++)
		if (strcmp(pv_vpi_board_options(b->boards[i])->port_path, port_path) == 0)
			return pv_vpi_board_power_cycle(b->boards[i]);
	return pv_fail(PV_ERR_NO_DEVICE, "vpi", "no virtual board at '%.48s'", port_path);
}

static void vb_destroy(struct pv_usb_bus *bus)
{
	struct vpi_bus *b = vb(bus);

	for (size_t i = 0; i < b->count; i++)
		pv_vpi_board_free(b->boards[i]);
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
	free(b);
	free(bus);
}

static const struct pv_usb_bus_ops vpi_bus_ops = {
	.scan = vb_scan,
	.wait_event = vb_wait_event,
	.wakeup = vb_wakeup,
	.create_transport = vb_create_transport,
	.destroy = vb_destroy,
	.power_cycle = vb_power_cycle,
};

int pv_vpi_bus_new(struct pv_usb_bus **bus)
{
	struct pv_usb_bus *bus_out = calloc(1, sizeof(*bus_out));
	struct vpi_bus *b = calloc(1, sizeof(*b));
	pthread_condattr_t attr;

	if (!bus_out || !b)
		goto out_free;
	if (pthread_mutex_init(&b->lock, NULL))
		goto out_free;
	if (pthread_condattr_init(&attr))
		goto out_destroy_lock;
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (pthread_cond_init(&b->cond, &attr)) {
		pthread_condattr_destroy(&attr);
		goto out_destroy_lock;
	}
	pthread_condattr_destroy(&attr);
	bus_out->ops = &vpi_bus_ops;
	bus_out->priv = b;
	*bus = bus_out;
	return PV_OK;

out_destroy_lock:
	pthread_mutex_destroy(&b->lock);
out_free:
	free(b);
	free(bus_out);
	return pv_fail(PV_ERR_NOMEM, "vpi", "out of memory");
}

int pv_vpi_bus_add_board(struct pv_usb_bus *bus, struct pv_vpi_board *board)
{
	struct vpi_bus *b = vb(bus);
	size_t index;

	pthread_mutex_lock(&b->lock);
	if (b->count >= VPI_BUS_BOARDS_MAX) {
		pthread_mutex_unlock(&b->lock);
		pv_vpi_board_free(board);
		return pv_fail(PV_ERR_TOO_BIG, "vpi", "more than %d virtual boards",
			       VPI_BUS_BOARDS_MAX);
	}
	index = b->count;
	pthread_mutex_unlock(&b->lock);

	pthread_mutex_lock(&board->lock);
	if (!board->port_given)
		/* Root port 1, then a 7-port hub per group: "100-1.3", "100-2.7", ... */
		snprintf(board->opts.port_path, sizeof(board->opts.port_path), "%d-%zu.%zu",
			 PV_VPI_BUS_NUMBER, index / VPI_HUB_PORTS + 1, index % VPI_HUB_PORTS + 1);
	pthread_mutex_unlock(&board->lock);
	vpi_board_set_notify(board, bus_notify, b);

	pthread_mutex_lock(&b->lock);
	b->boards[b->count++] = board;
	b->events++;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	return PV_OK;
}

int pv_vpi_bus_add_spec(struct pv_usb_bus *bus, const char *spec_text)
{
	struct pv_vpi_spec spec;
	int rc;

	rc = pv_vpi_spec_parse(spec_text, &spec);
	if (rc)
		return rc;
	/* Boards of this model already on the bus: the new ones continue their numbering. */
	for (size_t i = 0, n = board_snapshot(vb(bus)); i < n; i++)
		if (vb(bus)->boards[i]->opts.board == spec.board)
			spec.first_default++;
	for (unsigned i = 0; i < spec.count && !rc; i++) {
		struct pv_vpi_options opts;
		struct pv_vpi_board *board;

		rc = pv_vpi_spec_board_options(&spec, i, &opts);
		if (!rc)
			rc = pv_vpi_board_new(&opts, &board);
		if (!rc)
			rc = pv_vpi_bus_add_board(bus, board);
	}
	pv_vpi_spec_release(&spec);
	return rc;
}

size_t pv_vpi_bus_board_count(struct pv_usb_bus *bus)
{
	return board_snapshot(vb(bus));
}

struct pv_vpi_board *pv_vpi_bus_board_at(struct pv_usb_bus *bus, size_t index)
{
	struct vpi_bus *b = vb(bus);

	return index < board_snapshot(b) ? b->boards[index] : NULL;
}

int pv_vpi_bus_write_dumps(struct pv_usb_bus *bus)
{
	struct vpi_bus *b = vb(bus);
	size_t total = board_snapshot(b);
	int first = PV_OK;

	for (size_t i = 0; i < total; i++) {
		struct pv_vpi_board *board = b->boards[i];
		int rc;

		if (!board->dump_dir || !board->eeprom)
			continue;
		rc = pv_vpi_board_dump(board, board->dump_dir);
		if (rc && !first)
			first = rc;
	}
	return first;
}
