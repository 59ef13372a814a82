/* Ethernet, ARP, IPv4 and UDP framing: what the bootloader puts on the wire itself, since a
 * board has no kernel IP stack. IPv4 without options and without fragments (the boot
 * protocols never need them; a fragment is refused rather than half-read). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "netboot_internal.h"
#include "piprov/netboot.h"
#include "banned.h"

#define IP_HEADER 20
#define UDP_HEADER 8
#define IP_PROTO_UDP 17
#define ARP_LEN 28

uint64_t nb_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int nb_wait_readable(int fd, uint64_t deadline, const char *what)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = nb_monotonic_ms();
		int ready;

		if (now >= deadline)
			return PV_ERR_TIMEOUT;
		ready = poll(&pfd, 1, (int)(deadline - now));
		if (ready > 0)
			return PV_OK;
		if (ready == 0)
			return PV_ERR_TIMEOUT;
		if (errno != EINTR)
			return pv_fail_errno(errno, "netboot", "waiting for %s", what);
	}
}

uint16_t pv_netboot_checksum(const void *data, size_t len, uint32_t initial)
{
	const uint8_t *p = data;
	uint64_t sum = initial;

	for (; len >= 2; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The UDP pseudo-header sum (RFC 768) as a starting value for pv_netboot_checksum. */
static uint32_t pseudo_header_sum(uint32_t src, uint32_t dst, size_t udp_len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + IP_PROTO_UDP +
	       (uint32_t)udp_len;
}

int pv_netboot_udp_frame_build(const struct pv_netboot_udp_frame *f, uint8_t *out, size_t *len)
{
	size_t udp_len = UDP_HEADER + f->payload_len;
	uint8_t *ip = out + PV_NETBOOT_ETH_HEADER, *udp = ip + IP_HEADER;
	uint16_t sum;

	if (f->payload_len > PV_NETBOOT_UDP_MAX)
		return pv_fail(PV_ERR_TOO_BIG, "netboot", "UDP payload of %zu bytes (at most %u)",
			       f->payload_len, PV_NETBOOT_UDP_MAX);
	memcpy(out, f->dst_mac, 6);
	memcpy(out + 6, f->src_mac, 6);
	nb_put16(out + 12, PV_NETBOOT_ETHERTYPE_IPV4);
	ip[0] = 0x45;
	ip[1] = 0;
	nb_put16(ip + 2, (uint16_t)(IP_HEADER + udp_len));
	nb_put16(ip + 4, (uint16_t)(f->src_port ^ f->payload_len)); /* identification */
	nb_put16(ip + 6, 0x4000);                                   /* don't fragment */
	ip[8] = 64;
	ip[9] = IP_PROTO_UDP;
	nb_put16(ip + 10, 0);
	nb_put32(ip + 12, f->src_ip);
	nb_put32(ip + 16, f->dst_ip);
	nb_put16(ip + 10, pv_netboot_checksum(ip, IP_HEADER, 0));
	nb_put16(udp, f->src_port);
	nb_put16(udp + 2, f->dst_port);
	nb_put16(udp + 4, (uint16_t)udp_len);
	nb_put16(udp + 6, 0);
	if (f->payload_len)
		memcpy(udp + UDP_HEADER, f->payload, f->payload_len);
	sum = pv_netboot_checksum(udp, udp_len, pseudo_header_sum(f->src_ip, f->dst_ip, udp_len));
	nb_put16(udp + 6, sum ? sum : 0xffff); /* 0 means "no checksum" on the wire */
	*len = PV_NETBOOT_ETH_HEADER + IP_HEADER + udp_len;
	return PV_OK;
}

int pv_netboot_udp_frame_parse(const uint8_t *frame, size_t len,
			       struct pv_netboot_udp_frame *out)
{
	const uint8_t *ip = frame + PV_NETBOOT_ETH_HEADER, *udp;
	size_t ihl, total, udp_len;
	struct pv_netboot_udp_frame f;

	if (len < PV_NETBOOT_ETH_HEADER + IP_HEADER ||
	    nb_get16(frame + 12) != PV_NETBOOT_ETHERTYPE_IPV4)
		return PV_ERR_NOT_FOUND;
	if (ip[0] >> 4 != 4)
		return pv_fail(PV_ERR_FORMAT, "netboot", "IP version %u", ip[0] >> 4);
	ihl = (size_t)(ip[0] & 0xf) * 4;
	total = nb_get16(ip + 2);
	if (ihl < IP_HEADER || total < ihl || PV_NETBOOT_ETH_HEADER + total > len)
		return pv_fail(PV_ERR_FORMAT, "netboot",
			       "IP header length %zu / total length %zu in a %zu-byte frame", ihl,
			       total, len);
	if (pv_netboot_checksum(ip, ihl, 0) != 0)
		return pv_fail(PV_ERR_FORMAT, "netboot", "IP header checksum");
	if (ip[9] != IP_PROTO_UDP)
		return PV_ERR_NOT_FOUND;
	if ((nb_get16(ip + 6) & 0x3fff) != 0)
		return pv_fail(PV_ERR_FORMAT, "netboot", "IP fragment (not reassembled)");
	udp = ip + ihl;
	if (total - ihl < UDP_HEADER)
		return pv_fail(PV_ERR_FORMAT, "netboot", "UDP header cut off");
	udp_len = nb_get16(udp + 4);
	if (udp_len < UDP_HEADER || udp_len > total - ihl)
		return pv_fail(PV_ERR_FORMAT, "netboot", "UDP length %zu in %zu bytes", udp_len,
			       total - ihl);
	memset(&f, 0, sizeof(f));
	memcpy(f.dst_mac, frame, 6);
	memcpy(f.src_mac, frame + 6, 6);
	f.src_ip = nb_get32(ip + 12);
	f.dst_ip = nb_get32(ip + 16);
	if (nb_get16(udp + 6) != 0 &&
	    pv_netboot_checksum(udp, udp_len, pseudo_header_sum(f.src_ip, f.dst_ip, udp_len)) != 0)
		return pv_fail(PV_ERR_FORMAT, "netboot", "UDP checksum");
	f.src_port = nb_get16(udp);
	f.dst_port = nb_get16(udp + 2);
	f.payload = udp + UDP_HEADER;
	f.payload_len = udp_len - UDP_HEADER;
	*out = f;
	return PV_OK;
}

void pv_netboot_arp_build(const struct pv_netboot_arp *arp, const uint8_t dst_mac[6],
			  uint8_t out[42])
{
	uint8_t *a = out + PV_NETBOOT_ETH_HEADER;

	memcpy(out, dst_mac, 6);
	memcpy(out + 6, arp->sender_mac, 6);
	nb_put16(out + 12, PV_NETBOOT_ETHERTYPE_ARP);
	nb_put16(a, 1);          /* Ethernet */
	nb_put16(a + 2, PV_NETBOOT_ETHERTYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	nb_put16(a + 6, arp->op);
	memcpy(a + 8, arp->sender_mac, 6);
	nb_put32(a + 14, arp->sender_ip);
	memcpy(a + 18, arp->target_mac, 6);
	nb_put32(a + 24, arp->target_ip);
}

int pv_netboot_arp_parse(const uint8_t *frame, size_t len, struct pv_netboot_arp *out)
{
	const uint8_t *a = frame + PV_NETBOOT_ETH_HEADER;
	struct pv_netboot_arp arp;

	if (len < PV_NETBOOT_ETH_HEADER || nb_get16(frame + 12) != PV_NETBOOT_ETHERTYPE_ARP)
		return PV_ERR_NOT_FOUND;
	if (len < PV_NETBOOT_ETH_HEADER + ARP_LEN)
		return pv_fail(PV_ERR_FORMAT, "netboot", "ARP packet of %zu bytes",
			       len - PV_NETBOOT_ETH_HEADER);
	if (nb_get16(a) != 1 || nb_get16(a + 2) != PV_NETBOOT_ETHERTYPE_IPV4 || a[4] != 6 ||
	    a[5] != 4)
		return pv_fail(PV_ERR_FORMAT, "netboot", "ARP for another hardware or protocol");
	arp.op = nb_get16(a + 6);
	memcpy(arp.sender_mac, a + 8, 6);
	arp.sender_ip = nb_get32(a + 14);
	memcpy(arp.target_mac, a + 18, 6);
	arp.target_ip = nb_get32(a + 24);
	*out = arp;
	return PV_OK;
}

void nb_escape(const char *in, size_t len, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < len && in[i]; i++) {
		unsigned char c = (unsigned char)in[i];
		size_t need = (c >= 0x20 && c < 0x7f && c != '\\') ? 1 : 4;

		if (o + need + 4 > size) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (need == 1)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
	}
	out[o] = '\0';
}
