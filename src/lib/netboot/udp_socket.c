/* The udp contract on a kernel socket: `netboot check` reads files from the host's own
 * address, so the host's kernel (not a raw stack of ours) owns the port and no ICMP "port
 * unreachable" from it can cut a transfer short. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "netboot_internal.h"
#include "piprov/netboot.h"
#include "banned.h"

static int socket_send(struct pv_netboot_udp *udp, uint32_t ip, uint16_t port, const void *data,
		       size_t len)
{
	int fd = (int)(intptr_t)udp->priv;
	struct sockaddr_in to;
	ssize_t n;

	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons(port);
	to.sin_addr.s_addr = htonl(ip);
	do
		n = sendto(fd, data, len, 0, (struct sockaddr *)&to, sizeof(to));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return pv_fail_errno(errno, "netboot", "sending to %s:%u", inet_ntoa(to.sin_addr),
				     port);
	return PV_OK;
}

static int socket_recv(struct pv_netboot_udp *udp, uint32_t *ip, uint16_t *port, void *data,
		       size_t size, size_t *len, unsigned timeout_ms)
{
	int fd = (int)(intptr_t)udp->priv;
	uint64_t deadline = nb_monotonic_ms() + timeout_ms;

	for (;;) {
		struct sockaddr_in from;
		socklen_t from_len = sizeof(from);
		ssize_t n;
		int rc = nb_wait_readable(fd, deadline, "a datagram");

		if (rc)
			return rc;
		n = recvfrom(fd, data, size, 0, (struct sockaddr *)&from, &from_len);
		/* ECONNREFUSED: an ICMP error for an earlier datagram; the caller's timeout and
		 * retransmission handle it like a lost packet. */
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == ECONNREFUSED))
			continue;
		if (n < 0)
			return pv_fail_errno(errno, "netboot", "receiving a datagram");
		*ip = ntohl(from.sin_addr.s_addr);
		*port = ntohs(from.sin_port);
		*len = (size_t)n;
		return PV_OK;
	}
}

static uint64_t socket_now(struct pv_netboot_udp *udp)
{
	(void)udp;
	return nb_monotonic_ms();
}

static void socket_destroy(struct pv_netboot_udp *udp)
{
	if (!udp)
		return;
	close((int)(intptr_t)udp->priv);
	free(udp);
}

static const struct pv_netboot_udp_ops socket_ops = {
	.send = socket_send,
	.recv = socket_recv,
	.now_ms = socket_now,
	.destroy = socket_destroy,
};

static int open_bound(const char *ifname, uint16_t local_port, int *fd_out, uint16_t *port_out)
{
	struct sockaddr_in addr;
	socklen_t addr_len = sizeof(addr);
	int fd, one = 1, rc;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return pv_fail_errno(errno, "netboot", "UDP socket");
	if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) != 0)
		goto out_close_socket;
	if (ifname && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
				 (socklen_t)strnlen(ifname, IFNAMSIZ)) != 0)
		goto out_close_socket;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons(local_port);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&addr, &addr_len) != 0)
		goto out_close_socket;
	*fd_out = fd;
	*port_out = ntohs(addr.sin_port);
	return PV_OK;

out_close_socket:
	rc = pv_fail_errno(errno, "netboot", "UDP socket on port %u%s%s", local_port,
			   ifname ? " of " : "", ifname ? ifname : "");
	close(fd);
	return rc;
}

int pv_netboot_udp_socket_open(const char *netns, const char *ifname, uint16_t local_port,
			       struct pv_netboot_udp **udp)
{
	struct pv_netboot_udp *u = calloc(1, sizeof(*u));
	int saved, fd = -1, rc;
	uint16_t port = 0;

	if (!u)
		return pv_fail(PV_ERR_NOMEM, "netboot", "out of memory");
	rc = nb_netns_enter(netns, &saved);
	if (rc)
		goto out_free;
	rc = open_bound(ifname, local_port, &fd, &port);
	nb_netns_leave(saved);
	if (rc)
		goto out_free;
	u->ops = &socket_ops;
	u->priv = (void *)(intptr_t)fd;
	u->local_port = port;
	*udp = u;
	return PV_OK;

out_free:
	free(u);
	return rc;
}

void pv_netboot_udp_destroy(struct pv_netboot_udp *udp)
{
	if (udp)
		udp->ops->destroy(udp);
}
