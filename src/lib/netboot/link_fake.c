/* The in-memory link for tests: a peer callback plays the network (servers, lost or late
 * packets) and the clock moves only when the client waits, so timeouts of many seconds are
 * tested in no time. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "piprov/netboot.h"
#include "banned.h"

#define FAKE_QUEUE_MAX 256

struct fake_frame {
	size_t len;
	uint8_t data[PV_NETBOOT_FRAME_MAX];
};

struct fake_link {
	pv_netboot_fake_peer_fn peer;
	void *user;
	bool promiscuous;
	uint64_t now;
	unsigned sent;
	struct fake_frame *queue;      /* ring */
	size_t head, count;
};

static int fake_send(struct pv_netboot_link *link, const void *frame, size_t len)
{
	struct fake_link *f = link->priv;

	if (len < PV_NETBOOT_ETH_HEADER || len > PV_NETBOOT_FRAME_MAX)
		return pv_fail(PV_ERR_INVALID, "netboot", "frame of %zu bytes", len);
	f->sent++;
	if (f->peer)
		f->peer(link, frame, len, f->user);
	return PV_OK;
}

static int fake_recv(struct pv_netboot_link *link, void *frame, size_t size, size_t *len,
		     unsigned timeout_ms)
{
	struct fake_link *f = link->priv;

	while (f->count) {
		struct fake_frame *q = &f->queue[f->head];

		f->head = (f->head + 1) % FAKE_QUEUE_MAX;
		f->count--;
		if (q->len > size)
			continue;
		memcpy(frame, q->data, q->len);
		*len = q->len;
		return PV_OK;
	}
	f->now += timeout_ms;
	return PV_ERR_TIMEOUT;
}

static uint64_t fake_now(struct pv_netboot_link *link)
{
	return ((struct fake_link *)link->priv)->now;
}

static void fake_destroy(struct pv_netboot_link *link)
{
	if (!link)
		return;
	free(((struct fake_link *)link->priv)->queue);
	free(link->priv);
	free(link);
}

static const struct pv_netboot_link_ops fake_ops = {
	.send = fake_send,
	.recv = fake_recv,
	.now_ms = fake_now,
	.destroy = fake_destroy,
};

int pv_netboot_fake_link_new(const uint8_t mac[6], bool promiscuous,
			     pv_netboot_fake_peer_fn peer, void *user,
			     struct pv_netboot_link **link)
{
	struct pv_netboot_link *l = calloc(1, sizeof(*l));
	struct fake_link *f = calloc(1, sizeof(*f));

	if (f)
		f->queue = calloc(FAKE_QUEUE_MAX, sizeof(*f->queue));
	if (!l || !f || !f->queue) {
		if (f)
			free(f->queue);
		free(f);
		free(l);
		return pv_fail(PV_ERR_NOMEM, "netboot", "out of memory");
	}
	f->peer = peer;
	f->user = user;
	f->promiscuous = promiscuous;
	f->now = 1000; /* not 0: a deadline of 0 must never look reached */
	memcpy(l->mac, mac, 6);
	l->ops = &fake_ops;
	l->priv = f;
	*link = l;
	return PV_OK;
}

int pv_netboot_fake_link_inject(struct pv_netboot_link *link, const void *frame, size_t len)
{
	static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct fake_link *f = link->priv;
	struct fake_frame *q;

	if (len < PV_NETBOOT_ETH_HEADER || len > PV_NETBOOT_FRAME_MAX)
		return pv_fail(PV_ERR_INVALID, "netboot", "frame of %zu bytes", len);
	if (!f->promiscuous && memcmp(frame, link->mac, 6) != 0 &&
	    memcmp(frame, broadcast, 6) != 0)
		return PV_OK; /* the switch does not send it to this port */
	if (f->count == FAKE_QUEUE_MAX)
		return pv_fail(PV_ERR_NO_SPACE, "netboot", "fake link queue full");
	q = &f->queue[(f->head + f->count) % FAKE_QUEUE_MAX];
	memcpy(q->data, frame, len);
	q->len = len;
	f->count++;
	return PV_OK;
}

void pv_netboot_fake_link_advance(struct pv_netboot_link *link, unsigned ms)
{
	((struct fake_link *)link->priv)->now += ms;
}

unsigned pv_netboot_fake_link_sent(struct pv_netboot_link *link)
{
	return ((struct fake_link *)link->priv)->sent;
}
