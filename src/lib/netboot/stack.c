/* A minimal IPv4 host on a link: what a board's bootloader runs itself. It answers ARP for
 * its own address (the TFTP server's kernel asks before it sends a block), resolves the
 * addresses it sends to, and delivers UDP to one port at a time (a bootloader does one
 * thing at a time; anything else arriving meanwhile is dropped, as on a real board). */
#include <string.h>

#include "internal.h"
#include "netboot_internal.h"
#include "piprov/netboot.h"
#include "banned.h"

#define ARP_TRIES 3
#define ARP_FRAME_LEN 42

static const uint8_t broadcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void pv_netboot_stack_init(struct pv_netboot_stack *stack, struct pv_netboot_link *link)
{
	memset(stack, 0, sizeof(*stack));
	stack->link = link;
	stack->arp_timeout_ms = 1000;
}

void pv_netboot_stack_configure(struct pv_netboot_stack *stack, uint32_t ip, uint32_t netmask,
				uint32_t gateway)
{
	stack->ip = ip;
	stack->netmask = netmask;
	stack->gateway = gateway;
}

static bool arp_lookup(const struct pv_netboot_stack *s, uint32_t ip, uint8_t mac[6])
{
	for (unsigned i = 0; i < PV_NETBOOT_ARP_CACHE; i++)
		if (s->arp[i].ip == ip && ip) {
			memcpy(mac, s->arp[i].mac, 6);
			return true;
		}
	return false;
}

static void arp_learn(struct pv_netboot_stack *s, uint32_t ip, const uint8_t mac[6])
{
	unsigned slot = s->arp_next;

	if (!ip)
		return;
	for (unsigned i = 0; i < PV_NETBOOT_ARP_CACHE; i++)
		if (s->arp[i].ip == ip) {
			slot = i;
			break;
		}
	if (slot == s->arp_next)
		s->arp_next = (s->arp_next + 1) % PV_NETBOOT_ARP_CACHE;
	s->arp[slot].ip = ip;
	memcpy(s->arp[slot].mac, mac, 6);
}

static int arp_send(struct pv_netboot_stack *s, uint16_t op, const uint8_t dst[6],
		    const uint8_t target_mac[6], uint32_t target_ip)
{
	struct pv_netboot_arp arp;
	uint8_t frame[ARP_FRAME_LEN];

	memset(&arp, 0, sizeof(arp));
	arp.op = op;
	memcpy(arp.sender_mac, s->link->mac, 6);
	arp.sender_ip = s->ip;
	if (target_mac)
		memcpy(arp.target_mac, target_mac, 6);
	arp.target_ip = target_ip;
	pv_netboot_arp_build(&arp, dst, frame);
	return s->link->ops->send(s->link, frame, sizeof(frame));
}

/* Handle an ARP frame: learn the sender, answer a request for our address. */
static void arp_input(struct pv_netboot_stack *s, const uint8_t *frame, size_t len)
{
	struct pv_netboot_arp arp;

	if (pv_netboot_arp_parse(frame, len, &arp) != PV_OK) {
		pv_clear_error();
		return;
	}
	if (arp.sender_ip && (arp_lookup(s, arp.sender_ip, (uint8_t[6]){ 0 }) ||
			      arp.target_ip == s->ip))
		arp_learn(s, arp.sender_ip, arp.sender_mac);
	if (arp.op == 1 && s->ip && arp.target_ip == s->ip) {
		if (arp_send(s, 2, arp.sender_mac, arp.sender_mac, arp.sender_ip) == PV_OK)
			s->stats.arp_replies_sent++;
	}
}

/* A fragment of an IPv4 datagram (RFC 791): store it; when every piece has arrived, build
 * the whole datagram as one frame in the reassembly buffer and return its length (0 while
 * pieces are missing). Overlaps simply overwrite: the checksums of the result decide. */
static size_t reassemble(struct pv_netboot_stack *s, const uint8_t *frame, size_t len)
{
	const uint8_t *ip = frame + PV_NETBOOT_ETH_HEADER;
	size_t ihl = (size_t)(ip[0] & 0xf) * 4, total = nb_get16(ip + 2), payload, offset, units;
	uint16_t flags = nb_get16(ip + 6), id = nb_get16(ip + 4);
	uint32_t src = nb_get32(ip + 12);
	uint8_t *hdr = s->reassembly.data + PV_NETBOOT_ETH_HEADER;

	if (ihl < 20 || total < ihl || PV_NETBOOT_ETH_HEADER + total > len)
		return 0;
	payload = total - ihl;
	offset = (size_t)(flags & 0x1fff) * 8;
	if (offset + payload > PV_NETBOOT_DATAGRAM_MAX - 20 || ((flags & 0x2000) && payload % 8))
		return 0;
	if (!s->reassembly.active || s->reassembly.src != src || s->reassembly.id != id) {
		memset(s->reassembly.bitmap, 0, sizeof(s->reassembly.bitmap));
		s->reassembly.active = true;
		s->reassembly.src = src;
		s->reassembly.id = id;
		s->reassembly.total = 0;
	}
	if (offset == 0) {
		memcpy(s->reassembly.data, frame, PV_NETBOOT_ETH_HEADER);
		memcpy(hdr, ip, 20);
	}
	memcpy(hdr + 20 + offset, ip + ihl, payload);
	for (size_t u = offset / 8; u < (offset + payload + 7) / 8; u++)
		s->reassembly.bitmap[u / 8] |= (uint8_t)(1u << (u % 8));
	if (!(flags & 0x2000))
		s->reassembly.total = offset + payload;
	if (!s->reassembly.total)
		return 0;
	units = (s->reassembly.total + 7) / 8;
	for (size_t u = 0; u < units; u++)
		if (!(s->reassembly.bitmap[u / 8] & (1u << (u % 8))))
			return 0;
	if (!(s->reassembly.bitmap[0] & 1))
		return 0;
	s->reassembly.active = false;
	/* the header of the whole datagram: no fragment fields, new length and checksum */
	hdr[0] = 0x45;
	nb_put16(hdr + 2, (uint16_t)(20 + s->reassembly.total));
	nb_put16(hdr + 6, 0);
	nb_put16(hdr + 10, 0);
	nb_put16(hdr + 10, pv_netboot_checksum(hdr, 20, 0));
	return PV_NETBOOT_ETH_HEADER + 20 + s->reassembly.total;
}

static bool is_fragment(const uint8_t *frame, size_t len)
{
	const uint8_t *ip = frame + PV_NETBOOT_ETH_HEADER;

	return len >= PV_NETBOOT_ETH_HEADER + 20 && nb_get16(frame + 12) == PV_NETBOOT_ETHERTYPE_IPV4 &&
	       ip[9] == 17 && (nb_get16(ip + 6) & 0x3fff) != 0 &&
	       pv_netboot_checksum(ip, (size_t)(ip[0] & 0xf) * 4, 0) == 0;
}

/* Wait until deadline for the next frame, handling ARP on the way. PV_OK with an IPv4/UDP
 * frame parsed into *out; PV_ERR_TIMEOUT; PV_ERR_IO. */
static int next_udp(struct pv_netboot_stack *s, uint64_t deadline, struct pv_netboot_udp_frame *out)
{
	struct pv_netboot_link *link = s->link;

	for (;;) {
		uint64_t now = link->ops->now_ms(link);
		size_t len;
		int rc;

		if (now >= deadline)
			return PV_ERR_TIMEOUT;
		rc = link->ops->recv(link, s->frame, sizeof(s->frame), &len,
				     (unsigned)(deadline - now > 60000 ? 60000 : deadline - now));
		if (rc == PV_ERR_TIMEOUT)
			continue;
		if (rc)
			return rc;
		s->stats.rx++;
		if (nb_get16(s->frame + 12) == PV_NETBOOT_ETHERTYPE_ARP) {
			arp_input(s, s->frame, len);
			continue;
		}
		if (is_fragment(s->frame, len)) {
			size_t whole = reassemble(s, s->frame, len);

			if (!whole)
				continue;
			rc = pv_netboot_udp_frame_parse(s->reassembly.data, whole, out);
		} else {
			rc = pv_netboot_udp_frame_parse(s->frame, len, out);
		}
		if (rc == PV_ERR_FORMAT) {
			/* The bootloader counts these ("IP_CSUM_ERR", "UDP_CSUM_ERR") and drops them. */
			if (strstr(pv_last_error(), "UDP checksum"))
				s->stats.udp_checksum_errors++;
			else
				s->stats.ip_checksum_errors++;
			pv_clear_error();
			continue;
		}
		if (rc == PV_ERR_NOT_FOUND) {
			if (nb_get16(s->frame + 12) == PV_NETBOOT_ETHERTYPE_IPV4)
				s->stats.ip++;
			continue;
		}
		s->stats.ip++;
		s->stats.udp++;
		return PV_OK;
	}
}

int pv_netboot_stack_resolve(struct pv_netboot_stack *stack, uint32_t ip, uint8_t mac[6])
{
	struct pv_netboot_link *link = stack->link;
	uint32_t hop = ip;

	if (ip == PV_NETBOOT_IP_BROADCAST ||
	    (stack->netmask && (ip | stack->netmask) == PV_NETBOOT_IP_BROADCAST &&
	     (ip & stack->netmask) == (stack->ip & stack->netmask))) {
		memcpy(mac, broadcast_mac, 6);
		return PV_OK;
	}
	if (stack->netmask && (ip & stack->netmask) != (stack->ip & stack->netmask)) {
		if (!stack->gateway)
			return pv_fail(PV_ERR_INVALID, "netboot",
				       "no route to %u.%u.%u.%u (no gateway)", ip >> 24,
				       (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
		hop = stack->gateway;
	}
	if (arp_lookup(stack, hop, mac))
		return PV_OK;
	for (int attempt = 0; attempt < ARP_TRIES; attempt++) {
		uint64_t deadline = link->ops->now_ms(link) + stack->arp_timeout_ms;
		int rc = arp_send(stack, 1, broadcast_mac, NULL, hop);

		if (rc)
			return rc;
		while (link->ops->now_ms(link) < deadline) {
			uint64_t now = link->ops->now_ms(link);
			size_t len;
			struct pv_netboot_arp arp;

			rc = link->ops->recv(link, stack->frame, sizeof(stack->frame), &len,
					     (unsigned)(deadline - now));
			if (rc == PV_ERR_TIMEOUT)
				break;
			if (rc)
				return rc;
			stack->stats.rx++;
			if (pv_netboot_arp_parse(stack->frame, len, &arp) != PV_OK) {
				pv_clear_error();
				continue;
			}
			arp_input(stack, stack->frame, len);
			if (arp.op == 2 && arp.sender_ip == hop) {
				arp_learn(stack, hop, arp.sender_mac);
				memcpy(mac, arp.sender_mac, 6);
				return PV_OK;
			}
		}
	}
	return pv_fail(PV_ERR_TIMEOUT, "netboot", "no ARP answer from %u.%u.%u.%u", hop >> 24,
		       (hop >> 16) & 0xff, (hop >> 8) & 0xff, hop & 0xff);
}

int pv_netboot_stack_send(struct pv_netboot_stack *stack, uint32_t dst_ip, uint16_t src_port,
			  uint16_t dst_port, const void *data, size_t len)
{
	struct pv_netboot_udp_frame f;
	uint8_t frame[PV_NETBOOT_FRAME_MAX];
	size_t frame_len;
	int rc;

	memset(&f, 0, sizeof(f));
	rc = pv_netboot_stack_resolve(stack, dst_ip, f.dst_mac);
	if (rc)
		return rc;
	memcpy(f.src_mac, stack->link->mac, 6);
	f.src_ip = stack->ip;
	f.dst_ip = dst_ip;
	f.src_port = src_port;
	f.dst_port = dst_port;
	f.payload = data;
	f.payload_len = len;
	rc = pv_netboot_udp_frame_build(&f, frame, &frame_len);
	if (rc)
		return rc;
	return stack->link->ops->send(stack->link, frame, frame_len);
}

static bool addressed_to_us(const struct pv_netboot_stack *s, uint32_t dst)
{
	if (!s->ip || dst == s->ip || dst == PV_NETBOOT_IP_BROADCAST)
		return true;
	return s->netmask && (dst | s->netmask) == PV_NETBOOT_IP_BROADCAST &&
	       (dst & s->netmask) == (s->ip & s->netmask);
}

int pv_netboot_stack_recv(struct pv_netboot_stack *stack, uint16_t port, uint64_t deadline_ms,
			  struct pv_netboot_udp_frame *out)
{
	for (;;) {
		struct pv_netboot_udp_frame f;
		int rc = next_udp(stack, deadline_ms, &f);

		if (rc)
			return rc;
		if (f.dst_port != port || !addressed_to_us(stack, f.dst_ip))
			continue;
		/* A peer that talks to us is a peer whose MAC we know: the TFTP server's data
		 * arrives from the address we will ACK to. */
		if (stack->ip && f.src_ip && (f.src_ip & stack->netmask) == (stack->ip & stack->netmask))
			arp_learn(stack, f.src_ip, f.src_mac);
		stack->stats.udp_delivered++;
		*out = f;
		return PV_OK;
	}
}

/* ---- the udp contract on a stack ---- */

static int stack_udp_send(struct pv_netboot_udp *udp, uint32_t ip, uint16_t port,
			  const void *data, size_t len)
{
	return pv_netboot_stack_send(udp->priv, ip, udp->local_port, port, data, len);
}

static int stack_udp_recv(struct pv_netboot_udp *udp, uint32_t *ip, uint16_t *port, void *data,
			  size_t size, size_t *len, unsigned timeout_ms)
{
	struct pv_netboot_stack *stack = udp->priv;
	struct pv_netboot_udp_frame f;
	uint64_t deadline = stack->link->ops->now_ms(stack->link) + timeout_ms;
	int rc = pv_netboot_stack_recv(stack, udp->local_port, deadline, &f);
	size_t n;

	if (rc)
		return rc;
	n = f.payload_len < size ? f.payload_len : size;
	memcpy(data, f.payload, n);
	*ip = f.src_ip;
	*port = f.src_port;
	*len = n;
	return PV_OK;
}

static uint64_t stack_udp_now(struct pv_netboot_udp *udp)
{
	struct pv_netboot_stack *stack = udp->priv;

	return stack->link->ops->now_ms(stack->link);
}

static void stack_udp_destroy(struct pv_netboot_udp *udp)
{
	(void)udp; /* nothing allocated: the endpoint lives in the caller's struct */
}

static const struct pv_netboot_udp_ops stack_udp_ops = {
	.send = stack_udp_send,
	.recv = stack_udp_recv,
	.now_ms = stack_udp_now,
	.destroy = stack_udp_destroy,
};

void pv_netboot_stack_udp(struct pv_netboot_stack *stack, uint16_t local_port,
			  struct pv_netboot_udp *udp)
{
	udp->ops = &stack_udp_ops;
	udp->priv = stack;
	udp->local_port = local_port;
	udp->local_ip = stack->ip;
}
