/* ONC RPC (RFC 5531) calls for the NFS root check: the portmapper's GETPORT (RFC 1833,
 * version 2) and MOUNT version 3's EXPORT (RFC 1813 appendix I), plus the decision rpc.mountd
 * makes for a client address.
 *
 * Why EXPORT and not MNT: MNT would be the kernel's own question, but rpc.mountd answers it
 * only with a file handle from the kernel NFS server; without one (a container, a CI
 * machine without nfsd) every MNT gets EACCES whatever the exports say. EXPORT is answered
 * from rpc.mountd's own table (what exportfs wrote to etab), so the list is the real
 * server's, and the matching below follows mountd's auth_authenticate for addresses. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "netboot_internal.h"
#include "piprov/netboot.h"
#include "piprov/text.h"
#include "banned.h"

#define RPC_CALL 0
#define RPC_REPLY 1
#define RPC_VERSION 2
#define PMAP_PROGRAM 100000u
#define PMAP_VERSION 2u
#define PMAP_GETPORT 3u
#define MOUNT_PROGRAM 100005u
#define MOUNT_VERSION 3u
#define MOUNT_EXPORT 5u
#define IPPROTO_UDP_NUMBER 17u
#define IPPROTO_TCP_NUMBER 6u
#define EXPORTS_MAX 100000u
#define GROUPS_MAX 1000u
#define RPC_REPLY_MAX (4u << 20)
#define RPC_TRIES 3

/* ---- XDR ---- */

struct xdr {
	const uint8_t *p;
	size_t len, at;
};

static int xdr_u32(struct xdr *x, uint32_t *v)
{
	if (x->len - x->at < 4)
		return pv_fail(PV_ERR_FORMAT, "netboot", "RPC reply cut off at byte %zu", x->at);
	*v = nb_get32(x->p + x->at);
	x->at += 4;
	return PV_OK;
}

/* A string of at most `max` bytes, malloc'd, NUL-terminated; NUL bytes inside refused. */
static int xdr_string(struct xdr *x, size_t max, const char *what, char **out)
{
	uint32_t n;
	size_t padded;
	char *s;
	int rc = xdr_u32(x, &n);

	if (rc)
		return rc;
	if (n > max)
		return pv_fail(PV_ERR_FORMAT, "netboot", "RPC reply: %s of %u bytes (at most %zu)",
			       what, n, max);
	padded = ((size_t)n + 3) & ~(size_t)3;
	if (x->len - x->at < padded)
		return pv_fail(PV_ERR_FORMAT, "netboot", "RPC reply: %s cut off", what);
	if (memchr(x->p + x->at, 0, n))
		return pv_fail(PV_ERR_FORMAT, "netboot", "RPC reply: %s has a NUL byte", what);
	s = strndup((const char *)x->p + x->at, n);
	if (!s)
		return pv_fail(PV_ERR_NOMEM, "netboot", "out of memory");
	x->at += padded;
	*out = s;
	return PV_OK;
}

static void put32(uint8_t *p, size_t *at, uint32_t v)
{
	nb_put32(p + *at, v);
	*at += 4;
}

static int call_header(uint32_t xid, uint32_t program, uint32_t version, uint32_t proc,
		       struct pv_buf *out)
{
	uint8_t h[40];
	size_t at = 0;

	put32(h, &at, xid);
	put32(h, &at, RPC_CALL);
	put32(h, &at, RPC_VERSION);
	put32(h, &at, program);
	put32(h, &at, version);
	put32(h, &at, proc);
	put32(h, &at, 0); /* credential AUTH_NONE */
	put32(h, &at, 0);
	put32(h, &at, 0); /* verifier AUTH_NONE */
	put32(h, &at, 0);
	return pv_buf_append(out, h, at);
}

int pv_netboot_portmap_getport_call(uint32_t xid, uint32_t program, uint32_t version,
				    uint32_t protocol, struct pv_buf *out)
{
	uint8_t args[16];
	size_t at = 0;
	int rc = call_header(xid, PMAP_PROGRAM, PMAP_VERSION, PMAP_GETPORT, out);

	put32(args, &at, program);
	put32(args, &at, version);
	put32(args, &at, protocol);
	put32(args, &at, 0);
	return rc ? rc : pv_buf_append(out, args, at);
}

int pv_netboot_mount_export_call(uint32_t xid, struct pv_buf *out)
{
	return call_header(xid, MOUNT_PROGRAM, MOUNT_VERSION, MOUNT_EXPORT, out);
}

/* The reply header up to the results: xid, REPLY, MSG_ACCEPTED, verifier, SUCCESS. */
static int reply_header(struct xdr *x, uint32_t xid)
{
	uint32_t v[4], verf_len;
	int rc;

	for (int i = 0; i < 3; i++) {
		rc = xdr_u32(x, &v[i]);
		if (rc)
			return rc;
	}
	if (v[0] != xid)
		return pv_fail(PV_ERR_PROTOCOL, "netboot", "RPC reply for another call (xid)");
	if (v[1] != RPC_REPLY)
		return pv_fail(PV_ERR_FORMAT, "netboot", "RPC message type %u, not a reply", v[1]);
	if (v[2] != 0)
		return pv_fail(PV_ERR_PROTOCOL, "netboot", "RPC call denied by the server");
	rc = xdr_u32(x, &v[3]);       /* verifier flavor */
	if (!rc)
		rc = xdr_u32(x, &verf_len);
	if (rc)
		return rc;
	if (verf_len > 400 || x->len - x->at < ((verf_len + 3u) & ~3u))
		return pv_fail(PV_ERR_FORMAT, "netboot", "RPC reply: verifier of %u bytes", verf_len);
	x->at += (verf_len + 3u) & ~3u;
	rc = xdr_u32(x, &v[0]);
	if (rc)
		return rc;
	if (v[0] != 0) {
		static const char *const why[] = { "success", "program unavailable",
						   "program version mismatch",
						   "procedure unavailable", "garbage arguments",
						   "system error" };
		return pv_fail(PV_ERR_PROTOCOL, "netboot", "RPC call not accepted: %s",
			       v[0] < PV_ARRAY_SIZE(why) ? why[v[0]] : "unknown status");
	}
	return PV_OK;
}

int pv_netboot_portmap_parse_reply(const void *data, size_t len, uint32_t xid, uint16_t *port)
{
	struct xdr x = { data, len, 0 };
	uint32_t v;
	int rc = reply_header(&x, xid);

	if (!rc)
		rc = xdr_u32(&x, &v);
	if (rc)
		return rc;
	if (v > 65535)
		return pv_fail(PV_ERR_FORMAT, "netboot", "portmapper answered port %u", v);
	*port = (uint16_t)v;
	return PV_OK;
}

void pv_netboot_exports_release(struct pv_netboot_exports *exports)
{
	if (!exports)
		return;
	for (size_t i = 0; i < exports->count; i++) {
		for (size_t g = 0; g < exports->items[i].n_groups; g++)
			free(exports->items[i].groups[g]);
		free(exports->items[i].groups);
		free(exports->items[i].path);
	}
	free(exports->items);
	exports->items = NULL;
	exports->count = 0;
}

static int parse_groups(struct xdr *x, struct pv_netboot_export *e)
{
	size_t cap = 0;

	for (;;) {
		uint32_t more;
		char *name;
		int rc = xdr_u32(x, &more);

		if (rc)
			return rc;
		if (!more)
			return PV_OK;
		if (e->n_groups == GROUPS_MAX)
			return pv_fail(PV_ERR_FORMAT, "netboot", "export '%s': over %u client entries",
				       e->path, GROUPS_MAX);
		rc = xdr_string(x, PV_NETBOOT_EXPORT_GROUP_MAX, "client name", &name);
		if (rc)
			return rc;
		if (e->n_groups == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			char **g = realloc(e->groups, ncap * sizeof(*g));

			if (!g) {
				free(name);
				return pv_fail(PV_ERR_NOMEM, "netboot", "out of memory");
			}
			e->groups = g;
			cap = ncap;
		}
		e->groups[e->n_groups++] = name;
	}
}

int pv_netboot_exports_parse_reply(const void *data, size_t len, uint32_t xid,
				   struct pv_netboot_exports *out)
{
	struct xdr x = { data, len, 0 };
	struct pv_netboot_exports ex = { NULL, 0 };
	size_t cap = 0;
	int rc = reply_header(&x, xid);

	while (!rc) {
		uint32_t more;
		struct pv_netboot_export *e;

		rc = xdr_u32(&x, &more);
		if (rc || !more)
			break;
		if (ex.count == EXPORTS_MAX) {
			rc = pv_fail(PV_ERR_FORMAT, "netboot", "over %u exports", EXPORTS_MAX);
			break;
		}
		if (ex.count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct pv_netboot_export *items = realloc(ex.items, ncap * sizeof(*items));

			if (!items) {
				rc = pv_fail(PV_ERR_NOMEM, "netboot", "out of memory");
				break;
			}
			ex.items = items;
			cap = ncap;
		}
		e = &ex.items[ex.count];
		memset(e, 0, sizeof(*e));
		rc = xdr_string(&x, PV_NETBOOT_EXPORT_PATH_MAX, "export path", &e->path);
		if (rc)
			break;
		ex.count++;
		rc = parse_groups(&x, e);
	}
	if (rc) {
		pv_netboot_exports_release(&ex);
		return rc;
	}
	*out = ex;
	return PV_OK;
}

/* ---- one call over a udp endpoint ---- */

static uint32_t new_xid(uint64_t now, uint32_t server, uint16_t port)
{
	uint64_t x = now * 0x9e3779b97f4a7c15ull ^ ((uint64_t)server << 16) ^ port;

	x ^= x >> 29;
	return (uint32_t)x ^ (uint32_t)(x >> 32);
}

static int udp_call(struct pv_netboot_udp *udp, uint32_t server, uint16_t port,
		    const struct pv_buf *call, uint32_t xid, unsigned timeout_ms,
		    struct pv_buf *reply)
{
	uint8_t buf[65536];

	for (int attempt = 0; attempt < RPC_TRIES; attempt++) {
		uint64_t deadline = udp->ops->now_ms(udp) + timeout_ms / RPC_TRIES + 1;
		int rc = udp->ops->send(udp, server, port, call->data, call->len);

		if (rc)
			return rc;
		for (;;) {
			uint64_t now = udp->ops->now_ms(udp);
			uint32_t from;
			uint16_t from_port;
			size_t len;

			if (now >= deadline)
				break;
			rc = udp->ops->recv(udp, &from, &from_port, buf, sizeof(buf), &len,
					    (unsigned)(deadline - now));
			if (rc == PV_ERR_TIMEOUT)
				break;
			if (rc)
				return rc;
			if (from != server || from_port != port || len < 4 || nb_get32(buf) != xid)
				continue;
			pv_buf_reset(reply);
			return pv_buf_append(reply, buf, len);
		}
	}
	return pv_fail(PV_ERR_TIMEOUT, "netboot", "no RPC answer from %u.%u.%u.%u port %u",
		       server >> 24, (server >> 16) & 0xff, (server >> 8) & 0xff, server & 0xff,
		       port);
}

/* One call of the two-call flow: over a udp endpoint, or over TCP from this host. */
struct rpc_transport {
	struct pv_netboot_udp *udp;        /* NULL: TCP */
	const char *netns;
	uint64_t deadline;                 /* TCP: the whole flow */
	unsigned timeout_ms;               /* UDP: per call */
	uint32_t protocol;                 /* what GETPORT asks for */
};

static int tcp_call(const char *netns, uint32_t server, uint16_t port, const struct pv_buf *call,
		    uint64_t deadline, struct pv_buf *reply);

static int transport_call(const struct rpc_transport *t, uint32_t server, uint16_t port,
			  const struct pv_buf *call, uint32_t xid, struct pv_buf *reply)
{
	if (t->udp)
		return udp_call(t->udp, server, port, call, xid, t->timeout_ms, reply);
	return tcp_call(t->netns, server, port, call, t->deadline, reply);
}

/* GETPORT for MOUNT v3, then EXPORT on that port. */
static int mount_exports(const struct rpc_transport *t, uint32_t server, uint32_t xid,
			 struct pv_netboot_exports *out)
{
	struct pv_buf call = PV_BUF_INIT(4096), reply = PV_BUF_INIT(RPC_REPLY_MAX);
	uint16_t mount_port = 0;
	int rc;

	rc = pv_netboot_portmap_getport_call(xid, MOUNT_PROGRAM, MOUNT_VERSION, t->protocol, &call);
	if (!rc)
		rc = transport_call(t, server, PV_NETBOOT_PORTMAP_PORT, &call, xid, &reply);
	if (!rc)
		rc = pv_netboot_portmap_parse_reply(reply.data, reply.len, xid, &mount_port);
	if (rc)
		goto out_release;
	if (!mount_port) {
		rc = pv_fail(PV_ERR_NOT_FOUND, "netboot",
			     "%u.%u.%u.%u runs no NFS MOUNT service (portmapper has no mountd v3)",
			     server >> 24, (server >> 16) & 0xff, (server >> 8) & 0xff,
			     server & 0xff);
		goto out_release;
	}
	xid++;
	pv_buf_reset(&call);
	rc = pv_netboot_mount_export_call(xid, &call);
	if (!rc)
		rc = transport_call(t, server, mount_port, &call, xid, &reply);
	if (!rc)
		rc = pv_netboot_exports_parse_reply(reply.data, reply.len, xid, out);
out_release:
	pv_buf_release(&call);
	pv_buf_release(&reply);
	return rc;
}

int pv_netboot_mount_exports_udp(struct pv_netboot_udp *udp, uint32_t server,
				 unsigned timeout_ms, struct pv_netboot_exports *out)
{
	struct rpc_transport t = { .udp = udp, .timeout_ms = timeout_ms,
				   .protocol = IPPROTO_UDP_NUMBER };

	return mount_exports(&t, server, new_xid(udp->ops->now_ms(udp), server, udp->local_port),
			     out);
}

/* ---- over TCP (record marking, RFC 5531 §11) from this host ---- */

static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		uint64_t now = nb_monotonic_ms();
		int n;

		if (now >= deadline)
			return pv_fail(PV_ERR_TIMEOUT, "netboot", "RPC over TCP timed out");
		n = poll(&pfd, 1, (int)(deadline - now));
		if (n > 0)
			return PV_OK;
		if (n < 0 && errno != EINTR)
			return pv_fail_errno(errno, "netboot", "RPC over TCP");
	}
}

static int tcp_call(const char *netns, uint32_t server, uint16_t port, const struct pv_buf *call,
		    uint64_t deadline, struct pv_buf *reply)
{
	struct sockaddr_in to;
	uint8_t mark[4];
	bool last = false;
	int fd, saved, rc;

	rc = nb_netns_enter(netns, &saved);
	if (rc)
		return rc;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	nb_netns_leave(saved);
	if (fd < 0)
		return pv_fail_errno(errno, "netboot", "TCP socket");
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons(port);
	to.sin_addr.s_addr = htonl(server);
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0 && errno != EINPROGRESS) {
		rc = pv_fail_errno(errno, "netboot", "connecting to %s:%u", inet_ntoa(to.sin_addr),
				   port);
		goto out_close_socket;
	}
	rc = wait_fd(fd, POLLOUT, deadline);
	if (rc)
		goto out_close_socket;
	nb_put32(mark, 0x80000000u | (uint32_t)call->len);
	/* Both pieces are small: one send each completes on a fresh connection, and a short
	 * or failed write shows up as a missing reply. */
	if (send(fd, mark, 4, MSG_NOSIGNAL) != 4 ||
	    send(fd, call->data, call->len, MSG_NOSIGNAL) != (ssize_t)call->len) {
		rc = pv_fail_errno(errno ? errno : EIO, "netboot", "RPC over TCP: sending");
		goto out_close_socket;
	}
	pv_buf_reset(reply);
	while (!last) {
		uint8_t buf[65536];
		size_t want = 4, got = 0;
		uint32_t fragment;

		/* header, then the fragment's bytes */
		for (int part = 0; part < 2; part++) {
			while (got < want) {
				ssize_t n;

				rc = wait_fd(fd, POLLIN, deadline);
				if (rc)
					goto out_close_socket;
				n = recv(fd, part ? buf : mark + got,
					 part ? (want - got < sizeof(buf) ? want - got : sizeof(buf))
					      : want - got, 0);
				if (n == 0) {
					rc = pv_fail(PV_ERR_PROTOCOL, "netboot",
						     "RPC over TCP: connection closed mid-reply");
					goto out_close_socket;
				}
				if (n < 0) {
					if (errno == EINTR || errno == EAGAIN)
						continue;
					rc = pv_fail_errno(errno, "netboot", "RPC over TCP: receiving");
					goto out_close_socket;
				}
				if (part) {
					rc = pv_buf_append(reply, buf, (size_t)n);
					if (rc)
						goto out_close_socket;
				}
				got += (size_t)n;
			}
			if (part == 0) {
				fragment = nb_get32(mark);
				last = fragment & 0x80000000u;
				want = fragment & 0x7fffffffu;
				got = 0;
			}
		}
	}
	rc = PV_OK;
out_close_socket:
	close(fd);
	return rc;
}

int pv_netboot_mount_exports_tcp(const char *netns, uint32_t server, unsigned timeout_ms,
				 struct pv_netboot_exports *out)
{
	struct rpc_transport t = { .netns = netns, .deadline = nb_monotonic_ms() + timeout_ms,
				   .protocol = IPPROTO_TCP_NUMBER };

	return mount_exports(&t, server, new_xid(nb_monotonic_ms(), server, 0), out);
}

/* ---- mountd's decision ---- */

/* An address spec as exportfs accepts it: a.b.c.d, a.b.c.d/len, a.b.c.d/m.m.m.m. */
static bool group_matches(const char *group, uint32_t client, bool *unchecked)
{
	char addr[32];
	const char *slash = strchr(group, '/');
	uint32_t ip, mask = 0xffffffffu;
	size_t n = slash ? (size_t)(slash - group) : strlen(group);

	if (strcmp(group, "*") == 0)
		return true;
	if (n < sizeof(addr)) {
		memcpy(addr, group, n);
		addr[n] = '\0';
		if (pv_ipv4_parse(addr, &ip) == PV_OK) {
			if (slash) {
				uint32_t bits;

				if (pv_parse_u32(slash + 1, 10, &bits) == PV_OK && bits <= 32)
					mask = bits ? 0xffffffffu << (32 - bits) : 0;
				else if (pv_ipv4_parse(slash + 1, &mask) != PV_OK)
					return false;
			}
			return (client & mask) == (ip & mask);
		}
	}
	/* A host name, a wildcard name or an @netgroup: only the server's resolver knows. */
	if (unchecked)
		*unchecked = true;
	return false;
}

/* Is `dir` the path itself or a directory above it? */
static bool covers(const char *dir, const char *path)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (strncmp(dir, path, n) != 0)
		return false;
	return path[n] == '\0' || path[n] == '/' || (n == 1 && dir[0] == '/');
}

const struct pv_netboot_export *pv_netboot_exports_allow(const struct pv_netboot_exports *ex,
							 const char *path, uint32_t client,
							 bool *unchecked)
{
	const struct pv_netboot_export *best = NULL;
	size_t best_len = 0;

	/* mountd walks up from the path to the nearest export that names the client; the
	 * longest covering export that matches is that one. */
	for (size_t i = 0; i < ex->count; i++) {
		const struct pv_netboot_export *e = &ex->items[i];
		size_t len = strlen(e->path);

		if (!covers(e->path, path) || (best && len <= best_len))
			continue;
		for (size_t g = 0; g < e->n_groups; g++)
			if (group_matches(e->groups[g], client, unchecked)) {
				best = e;
				best_len = len;
				break;
			}
	}
	return best;
}
