/* The real link: an AF_PACKET socket on one interface, optionally inside another network
 * namespace (each virtual board sits in its own, the test's LAN in another). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "internal.h"
#include "netboot_internal.h"
#include "piprov/netboot.h"
#include "banned.h"

#define NETNS_DIR "/run/netns/"
#define NETNS_NAME_MAX 64

struct packet_link {
	int fd;
	int ifindex;
	bool promiscuous;
};

int nb_netns_enter(const char *name, int *saved)
{
	char path[sizeof(NETNS_DIR) + NETNS_NAME_MAX];
	int fd, self;

	*saved = -1;
	if (!name)
		return PV_OK;
	if (!*name || strlen(name) >= NETNS_NAME_MAX || strchr(name, '/') ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return pv_fail(PV_ERR_INVALID, "netboot", "'%s' is not a network namespace name",
			       name);
	snprintf(path, sizeof(path), NETNS_DIR "%s", name);
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return pv_fail_errno(errno, "netboot", "'/proc/thread-self/ns/net'");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int rc = pv_fail_errno(errno, "netboot", "network namespace '%s'", name);
		close(self);
		return rc;
	}
	if (setns(fd, CLONE_NEWNET) != 0) {
		int rc = pv_fail_errno(errno, "netboot", "entering network namespace '%s'", name);
		close(fd);
		close(self);
		return rc;
	}
	close(fd);
	*saved = self;
	return PV_OK;
}

void nb_netns_leave(int saved)
{
	if (saved < 0)
		return;
	/* Returning to the namespace we came from cannot fail for lack of rights: we had
	 * them to leave it. */
	if (setns(saved, CLONE_NEWNET) != 0)
		pv_log(PV_LOG_ERROR, "netboot", "cannot return to the original network namespace");
	close(saved);
}

static int packet_send(struct pv_netboot_link *link, const void *frame, size_t len)
{
	struct packet_link *p = link->priv;
	struct sockaddr_ll to;
	ssize_t n;

	if (len < PV_NETBOOT_ETH_HEADER || len > PV_NETBOOT_FRAME_MAX)
		return pv_fail(PV_ERR_INVALID, "netboot", "frame of %zu bytes", len);
	memset(&to, 0, sizeof(to));
	to.sll_family = AF_PACKET;
	to.sll_ifindex = p->ifindex;
	to.sll_halen = 6;
	memcpy(to.sll_addr, frame, 6);
	do
		n = sendto(p->fd, frame, len, 0, (struct sockaddr *)&to, sizeof(to));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return pv_fail_errno(errno, "netboot", "sending a frame");
	return PV_OK;
}

static bool for_us(const struct pv_netboot_link *link, const struct packet_link *p,
		   const uint8_t *frame)
{
	static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	return p->promiscuous || memcmp(frame, link->mac, 6) == 0 ||
	       memcmp(frame, broadcast, 6) == 0;
}

/* A frame the sending host left for the hardware to finish: on a veth, the local stack
 * hands over UDP with its checksum not yet computed (TP_STATUS_CSUMNOTREADY), which a NIC
 * would fill in on the wire. Fill it in, so the frame reads as it would on a cable. Only
 * whole (unfragmented) IPv4 UDP datagrams are left like that. */
static void finish_checksum(uint8_t *frame, size_t len)
{
	uint8_t *ip = frame + PV_NETBOOT_ETH_HEADER;
	size_t ihl, total, udp_len;
	uint8_t pseudo[12];
	uint32_t sum;
	uint16_t csum;

	if (len < PV_NETBOOT_ETH_HEADER + 28 || nb_get16(frame + 12) != PV_NETBOOT_ETHERTYPE_IPV4 ||
	    (ip[0] >> 4) != 4 || ip[9] != 17 || (nb_get16(ip + 6) & 0x3fff) != 0)
		return;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	total = nb_get16(ip + 2);
	if (ihl < 20 || total > len - PV_NETBOOT_ETH_HEADER || total < ihl + 8)
		return;
	udp_len = total - ihl;
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 17;
	nb_put16(pseudo + 10, (uint16_t)udp_len);
	nb_put16(ip + ihl + 6, 0);
	/* one's-complement sum of the pseudo header, then of the segment (RFC 768) */
	sum = (uint16_t)~pv_netboot_checksum(pseudo, sizeof(pseudo), 0);
	csum = pv_netboot_checksum(ip + ihl, udp_len, sum);
	nb_put16(ip + ihl + 6, csum ? csum : 0xffff);
}

static int packet_recv(struct pv_netboot_link *link, void *frame, size_t size, size_t *len,
		       unsigned timeout_ms)
{
	struct packet_link *p = link->priv;
	uint64_t deadline = nb_monotonic_ms() + timeout_ms;

	for (;;) {
		struct sockaddr_ll from;
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
		} control;
		struct iovec iov = { .iov_base = frame, .iov_len = size };
		struct msghdr msg;
		struct cmsghdr *cmsg;
		bool csum_not_ready = false;
		ssize_t n;
		int rc = nb_wait_readable(p->fd, deadline, "a frame");

		if (rc)
			return rc;
		memset(&msg, 0, sizeof(msg));
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		n = recvmsg(p->fd, &msg, MSG_TRUNC);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return pv_fail_errno(errno, "netboot", "receiving a frame");
		/* Our own frames come back as PACKET_OUTGOING; cut frames are dropped. */
		if (from.sll_pkttype == PACKET_OUTGOING || (size_t)n > size ||
		    n < PV_NETBOOT_ETH_HEADER || !for_us(link, p, frame))
			continue;
		for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
			struct tpacket_auxdata aux;

			if (cmsg->cmsg_level != SOL_PACKET || cmsg->cmsg_type != PACKET_AUXDATA ||
			    cmsg->cmsg_len < CMSG_LEN(sizeof(aux)))
				continue;
			memcpy(&aux, CMSG_DATA(cmsg), sizeof(aux));
			csum_not_ready = (aux.tp_status & TP_STATUS_CSUMNOTREADY) != 0;
		}
		if (csum_not_ready)
			finish_checksum(frame, (size_t)n);
		*len = (size_t)n;
		return PV_OK;
	}
}

static uint64_t packet_now(struct pv_netboot_link *link)
{
	(void)link;
	return nb_monotonic_ms();
}

static void packet_destroy(struct pv_netboot_link *link)
{
	struct packet_link *p;

	if (!link)
		return;
	p = link->priv;
	if (p->fd >= 0)
		close(p->fd); /* also drops the promiscuous membership */
	free(p);
	free(link);
}

static const struct pv_netboot_link_ops packet_ops = {
	.send = packet_send,
	.recv = packet_recv,
	.now_ms = packet_now,
	.destroy = packet_destroy,
};

static int open_socket(const char *ifname, const uint8_t mac[6], bool promiscuous,
		       struct packet_link *p, uint8_t mac_out[6])
{
	struct sockaddr_ll addr;
	struct ifreq ifr;

	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ)
		return pv_fail(PV_ERR_INVALID, "netboot", "'%s' is not an interface name",
			       ifname ? ifname : "");
	p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
	if (p->fd < 0)
		return pv_fail_errno(errno, "netboot", "packet socket for '%s'", ifname);
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(p->fd, SIOCGIFINDEX, &ifr) != 0)
		return pv_fail(PV_ERR_NOT_FOUND, "netboot", "no network interface '%s'", ifname);
	p->ifindex = ifr.ifr_ifindex;
	if (ioctl(p->fd, SIOCGIFHWADDR, &ifr) != 0)
		return pv_fail_errno(errno, "netboot", "MAC address of '%s'", ifname);
	memcpy(mac_out, mac ? mac : (const uint8_t *)ifr.ifr_hwaddr.sa_data, 6);
	memset(&addr, 0, sizeof(addr));
	addr.sll_family = AF_PACKET;
	addr.sll_protocol = htons(ETH_P_ALL);
	addr.sll_ifindex = p->ifindex;
	if (bind(p->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		return pv_fail_errno(errno, "netboot", "binding to '%s'", ifname);
	/* to learn which frames still lack their UDP checksum (finish_checksum) */
	if (setsockopt(p->fd, SOL_PACKET, PACKET_AUXDATA, &(int){ 1 }, sizeof(int)) != 0)
		return pv_fail_errno(errno, "netboot", "PACKET_AUXDATA on '%s'", ifname);
	if (promiscuous) {
		struct packet_mreq mreq;

		memset(&mreq, 0, sizeof(mreq));
		mreq.mr_ifindex = p->ifindex;
		mreq.mr_type = PACKET_MR_PROMISC;
		if (setsockopt(p->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) != 0)
			return pv_fail_errno(errno, "netboot", "promiscuous mode on '%s'", ifname);
	}
	p->promiscuous = promiscuous;
	return PV_OK;
}

int pv_netboot_link_packet_open(const char *netns, const char *ifname, const uint8_t mac[6],
				bool promiscuous, struct pv_netboot_link **link)
{
	struct pv_netboot_link *l;
	struct packet_link *p;
	int saved, rc;

	l = calloc(1, sizeof(*l));
	p = calloc(1, sizeof(*p));
	if (!l || !p) {
		rc = pv_fail(PV_ERR_NOMEM, "netboot", "out of memory");
		goto out_free;
	}
	p->fd = -1;
	l->ops = &packet_ops;
	l->priv = p;
	rc = nb_netns_enter(netns, &saved);
	if (rc)
		goto out_free;
	rc = open_socket(ifname, mac, promiscuous, p, l->mac);
	nb_netns_leave(saved);
	if (rc)
		goto out_destroy;
	*link = l;
	return PV_OK;

out_destroy:
	packet_destroy(l);
	return rc;
out_free:
	free(p);
	free(l);
	return rc;
}
