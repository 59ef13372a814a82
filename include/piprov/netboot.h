/* Network boot on the wire, as a Raspberry Pi bootloader does it: the client side of DHCP
 * (RFC 2131/2132, PXE option 43), TFTP (RFC 1350 with the tsize/blksize options of RFC
 * 2347-2349, which the bootloaders send) and, for the NFS root named by cmdline.txt, the
 * ONC RPC portmapper and MOUNT protocols. Sources: ../shared/docs/netboot-and-identity.md
 * §1.1, §1.2 and §1.5; facts marked [inferred] there are marked so here and in the code.
 *
 * Layers, each behind a small contract:
 *   link   - Ethernet frames on one interface (AF_PACKET on Linux, or an in-memory fake for
 *            tests). A board has no kernel IP stack: it builds every frame itself.
 *   stack  - a minimal IPv4 host on a link: ARP (answers for its address, resolves its
 *            peers), IPv4 and UDP with checksums, broadcast for DHCP. What the bootloader
 *            runs, with the board's MAC.
 *   udp    - datagrams to and from one local port: on a stack (the board) or on a kernel
 *            socket (`piprov netboot check`, which reads files from the host's own address).
 * The DHCP client needs the stack (it talks before it has an address); TFTP and RPC run on
 * any udp endpoint.
 *
 * Threading: one link, stack or udp endpoint is used by one thread at a time; different
 * ones may be used concurrently.
 *
 * Return values: PV_OK or a negative PV_ERR_* (piprov/error.h) with the detail recorded by
 * pv_fail(). Packet parsers fail with PV_ERR_FORMAT (naming the field) and never read past
 * the length they are given.
 */
#ifndef PIPROV_NETBOOT_H
#define PIPROV_NETBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "piprov/buf.h"
#include "piprov/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An Ethernet frame without FCS: 14-byte header + at most 1500 bytes of payload. */
#define PV_NETBOOT_ETH_HEADER 14
#define PV_NETBOOT_FRAME_MAX 1514
#define PV_NETBOOT_ETHERTYPE_IPV4 0x0800
#define PV_NETBOOT_ETHERTYPE_ARP 0x0806
/* The largest UDP payload a frame carries (1500 - 20 IP - 8 UDP); no IP fragmentation. */
#define PV_NETBOOT_UDP_MAX 1472
#define PV_NETBOOT_IP_BROADCAST 0xffffffffu

/* ---- link: Ethernet frames ------------------------------------------------------------ */

struct pv_netboot_link;

struct pv_netboot_link_ops {
	/* Send one frame (destination MAC, source MAC, EtherType, payload), 14..1514 bytes.
	 * The frame goes out as given: the caller chooses the source MAC. Never blocks for
	 * long. Returns PV_OK or PV_ERR_IO (the interface is down or gone). */
	int (*send)(struct pv_netboot_link *link, const void *frame, size_t len);

	/* Wait at most timeout_ms for one frame: to the link's MAC or broadcast, or any frame
	 * when the link was opened promiscuous. Frames longer than `size` are dropped.
	 * *len receives the length on PV_OK. Returns PV_OK, PV_ERR_TIMEOUT, PV_ERR_IO. */
	int (*recv)(struct pv_netboot_link *link, void *frame, size_t size, size_t *len,
		    unsigned timeout_ms);

	/* Monotonic milliseconds: every timeout of the clients is measured on this clock (the
	 * fake link's clock moves only when a recv waits, so tests of 45 s timeouts take no
	 * time). */
	uint64_t (*now_ms)(struct pv_netboot_link *link);

	/* Close and free. Accepts a link whose interface has gone. */
	void (*destroy)(struct pv_netboot_link *link);
};

struct pv_netboot_link {
	const struct pv_netboot_link_ops *ops;
	void *priv;
	uint8_t mac[6];         /* the MAC frames are sent from and received at */
};

/* An AF_PACKET socket on interface `ifname`, inside network namespace `netns` (a name under
 * /run/netns, as `ip netns add` makes them; NULL = the caller's namespace). The calling
 * thread enters the namespace only while it opens the socket. `mac` is the address the
 * link speaks for (NULL = the interface's own); with `promiscuous` the interface also
 * passes frames to other MACs (needed when `mac` is not the interface's: replies to a
 * board's MAC). Needs CAP_NET_RAW (and CAP_SYS_ADMIN for another namespace).
 * Returns PV_OK, PV_ERR_NOT_FOUND (no such namespace or interface), PV_ERR_ACCESS,
 * PV_ERR_IO. */
int pv_netboot_link_packet_open(const char *netns, const char *ifname, const uint8_t mac[6],
				bool promiscuous, struct pv_netboot_link **link);

/* In-memory link for tests: every frame the client sends is handed to `peer`, which may
 * answer with any number of frames through pv_netboot_fake_link_inject(); recv returns
 * queued frames in order, and when none is queued advances the link's clock by the
 * timeout and returns PV_ERR_TIMEOUT. Frames to other MACs are not delivered (unless
 * promiscuous), like a switch port. */
typedef void (*pv_netboot_fake_peer_fn)(struct pv_netboot_link *link, const uint8_t *frame,
					size_t len, void *user);
int pv_netboot_fake_link_new(const uint8_t mac[6], bool promiscuous,
			     pv_netboot_fake_peer_fn peer, void *user,
			     struct pv_netboot_link **link);
/* Queue a frame for the client (from the peer callback or the test). */
int pv_netboot_fake_link_inject(struct pv_netboot_link *link, const void *frame, size_t len);
/* Move the fake clock (e.g. to let a peer answer late). */
void pv_netboot_fake_link_advance(struct pv_netboot_link *link, unsigned ms);
/* Frames sent so far. */
unsigned pv_netboot_fake_link_sent(struct pv_netboot_link *link);

/* ---- frames: Ethernet, ARP, IPv4, UDP ------------------------------------------------- */

/* A UDP datagram in an IPv4 packet in an Ethernet frame, as the stack sends and parses it. */
struct pv_netboot_udp_frame {
	uint8_t dst_mac[6], src_mac[6];
	uint32_t src_ip, dst_ip;            /* host order */
	uint16_t src_port, dst_port;
	const uint8_t *payload;             /* points into the parsed frame */
	size_t payload_len;
};

/* Build the frame (IPv4 header with checksum, TTL 64, DF; UDP checksum) into out, which
 * must hold PV_NETBOOT_FRAME_MAX bytes. PV_ERR_TOO_BIG over PV_NETBOOT_UDP_MAX. */
int pv_netboot_udp_frame_build(const struct pv_netboot_udp_frame *f, uint8_t *out,
			       size_t *len);
/* Parse an IPv4/UDP frame: checks the IP version, header length and checksum, total
 * length, the protocol and the UDP length and checksum (0 = none). Fragments are refused
 * here (the stack reassembles them first).
 * PV_ERR_NOT_FOUND for a frame that is not IPv4/UDP, PV_ERR_FORMAT for a broken one. */
int pv_netboot_udp_frame_parse(const uint8_t *frame, size_t len,
			       struct pv_netboot_udp_frame *out);

struct pv_netboot_arp {
	uint16_t op;                        /* 1 request, 2 reply */
	uint8_t sender_mac[6], target_mac[6];
	uint32_t sender_ip, target_ip;      /* host order */
};
/* Ethernet/IPv4 ARP only; the frame goes to `dst_mac` (broadcast for a request). */
void pv_netboot_arp_build(const struct pv_netboot_arp *arp, const uint8_t dst_mac[6],
			  uint8_t out[42]);
int pv_netboot_arp_parse(const uint8_t *frame, size_t len, struct pv_netboot_arp *out);

uint16_t pv_netboot_checksum(const void *data, size_t len, uint32_t initial);

/* ---- stack: a minimal IPv4 host on a link -------------------------------------------- */

#define PV_NETBOOT_ARP_CACHE 8
/* The largest IPv4 datagram: fragments are reassembled up to this (an NFS server's export
 * list for many boards does not fit one frame). */
#define PV_NETBOOT_DATAGRAM_MAX 65535

struct pv_netboot_stack_stats {
	/* What the bootloader's "RX: n IP: n ..." lines count. */
	unsigned rx, ip, udp, udp_delivered, ip_checksum_errors, udp_checksum_errors;
	unsigned arp_replies_sent;
};

struct pv_netboot_stack {
	struct pv_netboot_link *link;       /* not owned */
	uint32_t ip, netmask, gateway;      /* 0 until configured */
	struct {
		uint32_t ip;
		uint8_t mac[6];
	} arp[PV_NETBOOT_ARP_CACHE];
	unsigned arp_next;
	unsigned arp_timeout_ms;            /* per resolution (default 1000, 3 tries) */
	struct pv_netboot_stack_stats stats;
	uint8_t frame[PV_NETBOOT_FRAME_MAX];
	/* one datagram being reassembled: its source and IP id, the bytes, which 8-byte
	 * units have arrived, and its length once the last fragment came (0 before) */
	struct {
		uint32_t src;
		uint16_t id;
		bool active;
		size_t total;
		uint8_t bitmap[(PV_NETBOOT_DATAGRAM_MAX + 63) / 64];
		uint8_t data[PV_NETBOOT_ETH_HEADER + 20 + PV_NETBOOT_DATAGRAM_MAX];
	} reassembly;
};

void pv_netboot_stack_init(struct pv_netboot_stack *stack, struct pv_netboot_link *link);
void pv_netboot_stack_configure(struct pv_netboot_stack *stack, uint32_t ip, uint32_t netmask,
				uint32_t gateway);
/* The MAC of ip (on the local network, else of the gateway): from the cache, else by ARP
 * requests (answering requests for our own address meanwhile). PV_ERR_TIMEOUT when nobody
 * answers, PV_ERR_INVALID for an off-network address without a gateway. */
int pv_netboot_stack_resolve(struct pv_netboot_stack *stack, uint32_t ip, uint8_t mac[6]);
/* Send a datagram from our address (0.0.0.0 before configuration) to dst_ip:dst_port;
 * 255.255.255.255 goes to the broadcast MAC, anything else to its resolved MAC. */
int pv_netboot_stack_send(struct pv_netboot_stack *stack, uint32_t dst_ip, uint16_t src_port,
			  uint16_t dst_port, const void *data, size_t len);
/* Wait until `deadline_ms` (link clock) for a datagram to local port `port`, addressed to
 * our address or broadcast (to any address while unconfigured: DHCP offers are sent to
 * the address being offered). Fragmented datagrams are reassembled (one at a time). ARP
 * requests for our address are answered meanwhile, other traffic is dropped. Fills the frame view (payload points into the stack's buffer, valid
 * until the next call). PV_ERR_TIMEOUT at the deadline. */
int pv_netboot_stack_recv(struct pv_netboot_stack *stack, uint16_t port, uint64_t deadline_ms,
			  struct pv_netboot_udp_frame *out);

/* ---- udp: datagrams on one local port ------------------------------------------------- */

struct pv_netboot_udp;

struct pv_netboot_udp_ops {
	/* Send one datagram (at most PV_NETBOOT_UDP_MAX bytes) to ip:port (host order).
	 * Returns PV_OK, PV_ERR_TIMEOUT (the peer's MAC could not be resolved), PV_ERR_IO. */
	int (*send)(struct pv_netboot_udp *udp, uint32_t ip, uint16_t port, const void *data,
		    size_t len);
	/* Wait at most timeout_ms for a datagram to our port; source into *ip and *port, bytes
	 * into data (longer ones are cut to size; *len is the stored length).
	 * Returns PV_OK, PV_ERR_TIMEOUT, PV_ERR_IO. */
	int (*recv)(struct pv_netboot_udp *udp, uint32_t *ip, uint16_t *port, void *data,
		    size_t size, size_t *len, unsigned timeout_ms);
	/* Monotonic milliseconds (the same clock as the link under a stack). */
	uint64_t (*now_ms)(struct pv_netboot_udp *udp);
	/* Free (a stack endpoint owns nothing; a socket is closed). */
	void (*destroy)(struct pv_netboot_udp *udp);
};

struct pv_netboot_udp {
	const struct pv_netboot_udp_ops *ops;
	void *priv;
	uint16_t local_port;
	uint32_t local_ip;                  /* our address (0 when unknown) */
};

/* An endpoint on a stack (no allocation; valid while the stack is). */
void pv_netboot_stack_udp(struct pv_netboot_stack *stack, uint16_t local_port,
			  struct pv_netboot_udp *udp);
/* A kernel UDP socket bound to local_port (0 = any), optionally to device `ifname`
 * (NULL = any) inside `netns` (NULL = ours). */
int pv_netboot_udp_socket_open(const char *netns, const char *ifname, uint16_t local_port,
			       struct pv_netboot_udp **udp);
void pv_netboot_udp_destroy(struct pv_netboot_udp *udp);

/* ---- DHCP (RFC 2131/2132) -------------------------------------------------------------- */

#define PV_NETBOOT_DHCP_CLIENT_PORT 68
#define PV_NETBOOT_DHCP_SERVER_PORT 67
#define PV_NETBOOT_DHCP_FIXED 236           /* op .. file, before the magic cookie */
#define PV_NETBOOT_DHCP_MIN 300             /* BOOTP minimum, padded */
#define PV_NETBOOT_DHCP_MAX 1472

enum pv_netboot_dhcp_type {
	PV_DHCP_DISCOVER = 1, PV_DHCP_OFFER = 2, PV_DHCP_REQUEST = 3, PV_DHCP_DECLINE = 4,
	PV_DHCP_ACK = 5, PV_DHCP_NAK = 6, PV_DHCP_RELEASE = 7, PV_DHCP_INFORM = 8,
};
const char *pv_netboot_dhcp_type_name(int type); /* "OFFER", ... "unknown" */

/* Option codes the bootloaders send or read. */
enum {
	PV_DHCP_OPT_PAD = 0, PV_DHCP_OPT_NETMASK = 1, PV_DHCP_OPT_ROUTER = 3,
	PV_DHCP_OPT_VENDOR = 43, PV_DHCP_OPT_REQUESTED_IP = 50, PV_DHCP_OPT_LEASE = 51,
	PV_DHCP_OPT_OVERLOAD = 52, PV_DHCP_OPT_MESSAGE_TYPE = 53, PV_DHCP_OPT_SERVER_ID = 54,
	PV_DHCP_OPT_PARAMS = 55, PV_DHCP_OPT_MESSAGE = 56, PV_DHCP_OPT_VENDOR_CLASS = 60,
	PV_DHCP_OPT_TFTP_SERVER = 66, PV_DHCP_OPT_BOOTFILE = 67, PV_DHCP_OPT_CLIENT_ARCH = 93,
	PV_DHCP_OPT_CLIENT_NDI = 94, PV_DHCP_OPT_CLIENT_GUID = 97, PV_DHCP_OPT_END = 255,
};

/* A parsed message: the fixed fields and every option (repeated options concatenated as
 * RFC 3396 says; options overloaded into `file`/`sname` (option 52) included). */
struct pv_netboot_dhcp {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr; /* host order */
	uint8_t chaddr[16];
	char sname[65];                     /* NUL-terminated copies (when not overloaded) */
	char file[129];
	int type;                           /* option 53, 0 when absent */
	uint16_t opt_offset[256];           /* into values[] */
	uint16_t opt_len[256];
	uint8_t opt_present[32];            /* bit per code */
	uint8_t values[PV_NETBOOT_DHCP_MAX];
	size_t values_len;
};

int pv_netboot_dhcp_parse(const void *data, size_t len, struct pv_netboot_dhcp *out);
/* Value of option `code`: PV_OK with *value and *len, or PV_ERR_NOT_FOUND. */
int pv_netboot_dhcp_option(const struct pv_netboot_dhcp *msg, uint8_t code,
			   const uint8_t **value, size_t *len);
/* A 4-byte address option (1, 3, 54, 50, ...) in host order; PV_ERR_NOT_FOUND when absent
 * or not 4 bytes long (for option 3, the first router). */
int pv_netboot_dhcp_option_ip(const struct pv_netboot_dhcp *msg, uint8_t code, uint32_t *ip);

/* Building a message: fixed fields, then options in the order added. */
struct pv_netboot_dhcp_builder {
	uint8_t data[PV_NETBOOT_DHCP_MAX];
	size_t len;
	bool overflow;                      /* an option did not fit: build fails */
};
void pv_netboot_dhcp_begin(struct pv_netboot_dhcp_builder *b, uint8_t op, uint32_t xid,
			   uint16_t flags, const uint8_t chaddr[6]);
/* Fixed address fields (host order); call after begin. */
void pv_netboot_dhcp_set_addresses(struct pv_netboot_dhcp_builder *b, uint32_t ciaddr,
				   uint32_t yiaddr, uint32_t siaddr, uint32_t giaddr);
void pv_netboot_dhcp_add(struct pv_netboot_dhcp_builder *b, uint8_t code, const void *value,
			 size_t len);
void pv_netboot_dhcp_add_ip(struct pv_netboot_dhcp_builder *b, uint8_t code, uint32_t ip);
/* End option + padding to the BOOTP minimum. PV_ERR_TOO_BIG after an overflow. */
int pv_netboot_dhcp_finish(struct pv_netboot_dhcp_builder *b);

/* Option 43 (PXE vendor options, RFC 4578 / PXE 2.1): does boot-menu suboption 9 hold an
 * entry whose text contains `match`? (The Pi 4/5 bootloader accepts the text inside a
 * longer one, e.g. "~~Raspberry Pi Boot~~" [inferred from a CM4 log, §3.3].) With
 * `exact_prefix` the entry must start with `match` (the Pi 3B ROM wants "Raspberry Pi
 * Boot   ", three trailing spaces, §1.2). Returns true/false; a malformed option is
 * false. *menu receives the first menu text (up to 63 bytes, escaped by the caller when
 * shown) when not NULL. */
bool pv_netboot_pxe_menu_matches(const uint8_t *option43, size_t len, const char *match,
				 bool exact_prefix, char menu[64]);

/* ---- TFTP (RFC 1350, options RFC 2347-2349) --------------------------------------------- */

#define PV_NETBOOT_TFTP_PORT 69
/* How often a waiting client asks whether to stop: SIGINT ends a run well within a second. */
#define PV_NETBOOT_STOP_POLL_MS 100u
#define PV_NETBOOT_TFTP_PATH_MAX 256
#define PV_NETBOOT_TFTP_MESSAGE_MAX 128

enum pv_netboot_tftp_opcode {
	PV_TFTP_RRQ = 1, PV_TFTP_WRQ = 2, PV_TFTP_DATA = 3, PV_TFTP_ACK = 4, PV_TFTP_ERROR = 5,
	PV_TFTP_OACK = 6,
};

/* A parsed TFTP packet (what a client receives, and what a fake server receives). */
struct pv_netboot_tftp_packet {
	uint16_t opcode;
	uint16_t block;                     /* DATA, ACK */
	const uint8_t *data;                /* DATA payload (points into the input) */
	size_t data_len;
	uint16_t error_code;                /* ERROR */
	char message[PV_NETBOOT_TFTP_MESSAGE_MAX]; /* ERROR text, NUL-terminated, may be cut */
	char path[PV_NETBOOT_TFTP_PATH_MAX]; /* RRQ/WRQ file name */
	char mode[16];                      /* RRQ/WRQ */
	/* options (RRQ/OACK): tsize and blksize when given; others are ignored */
	bool has_tsize, has_blksize;
	uint64_t tsize;
	unsigned blksize;
};
int pv_netboot_tftp_parse(const void *data, size_t len, struct pv_netboot_tftp_packet *out);

/* What the client asks for and how long it waits. */
struct pv_netboot_tftp_request {
	const char *path;
	bool tsize;                         /* send "tsize 0" (every Pi bootloader does) */
	unsigned blksize;                   /* 0: no blksize option (512-byte blocks) */
	unsigned file_timeout_ms;           /* whole transfer (TFTP_FILE_TIMEOUT) */
	unsigned retransmit_ms;             /* resend the RRQ/ACK after this much silence */
	size_t max_size;                    /* refuse files bigger than this (0 = 64 MiB) */
	/* Probe only: learn whether the file exists (and its size from tsize), then end the
	 * transfer with ERROR 0 "Early terminate" as the Pi firmware does (§1.5). */
	bool probe;
	/* Optional: asked at least every PV_NETBOOT_STOP_POLL_MS while the transfer waits;
	 * true ends it at once with PV_TFTP_OUTCOME_STOPPED (a signal, the caller's deadline:
	 * a silent server must not hold the caller for the whole TFTP_FILE_TIMEOUT). */
	bool (*stop)(void *stop_arg);
	void *stop_arg;
};

enum pv_netboot_tftp_outcome {
	PV_TFTP_OUTCOME_OK = 0,             /* read (or, for a probe, found) */
	PV_TFTP_OUTCOME_NOT_FOUND,          /* ERROR 1 */
	PV_TFTP_OUTCOME_ERROR,              /* another ERROR from the server */
	PV_TFTP_OUTCOME_TIMEOUT,            /* the server answered, then went silent */
	PV_TFTP_OUTCOME_UNREACHABLE,        /* no answer at all to the request */
	PV_TFTP_OUTCOME_TOO_BIG,            /* over max_size */
	PV_TFTP_OUTCOME_PROTOCOL,           /* the server broke the protocol */
	PV_TFTP_OUTCOME_STOPPED,            /* request.stop said so */
};
const char *pv_netboot_tftp_outcome_name(enum pv_netboot_tftp_outcome outcome);

struct pv_netboot_tftp_result {
	enum pv_netboot_tftp_outcome outcome;
	uint16_t error_code;
	char error_message[PV_NETBOOT_TFTP_MESSAGE_MAX];
	uint64_t size;                      /* bytes received (or tsize for a probe) */
	bool size_known;
	unsigned timeouts;                  /* retransmissions ("TFTP: disconnect: timeouts n") */
	unsigned blksize;                   /* block size in use */
};

/* Read `req->path` from server:69 over `udp` into out (appended; NULL = discard). The
 * outcome is in *result; the return value is PV_OK whenever the exchange came to an
 * outcome (also NOT_FOUND, TIMEOUT, ...), or PV_ERR_IO when the endpoint failed. */
int pv_netboot_tftp_get(struct pv_netboot_udp *udp, uint32_t server,
			const struct pv_netboot_tftp_request *req, struct pv_buf *out,
			struct pv_netboot_tftp_result *result);

/* ---- ONC RPC: portmapper and MOUNT (RFC 1833, RFC 1813 appendix I) ----------------------- */

#define PV_NETBOOT_PORTMAP_PORT 111
#define PV_NETBOOT_EXPORT_PATH_MAX 1024    /* MNTPATHLEN */
#define PV_NETBOOT_EXPORT_GROUP_MAX 255    /* MNTNAMLEN */

/* The export list as rpc.mountd gives it (MOUNTPROC3_EXPORT): each exported directory with
 * the client specifications it is exported to ("10.0.0.5", "10.0.0.0/24", "*", "@group",
 * "*.lan"). */
struct pv_netboot_export {
	char *path;
	char **groups;
	size_t n_groups;
};
struct pv_netboot_exports {
	struct pv_netboot_export *items;
	size_t count;
};
void pv_netboot_exports_release(struct pv_netboot_exports *exports);

/* Parse a complete RPC reply to MOUNTPROC3_EXPORT (xid checked against `xid`): the reply
 * header (accepted, success), then the XDR list. At most 100,000 exports and 1,000 groups
 * each. */
int pv_netboot_exports_parse_reply(const void *data, size_t len, uint32_t xid,
				   struct pv_netboot_exports *out);
/* Parse a reply to PMAPPROC_GETPORT: *port (0 = program not registered). */
int pv_netboot_portmap_parse_reply(const void *data, size_t len, uint32_t xid, uint16_t *port);
/* Build the two calls (AUTH_NONE), appending to out. */
int pv_netboot_portmap_getport_call(uint32_t xid, uint32_t program, uint32_t version,
				    uint32_t protocol, struct pv_buf *out);
int pv_netboot_mount_export_call(uint32_t xid, struct pv_buf *out);

/* Ask server's portmapper for MOUNT v3 over UDP, then its export list, over `udp`.
 * timeout_ms bounds each call (3 tries). PV_ERR_TIMEOUT when nothing answers,
 * PV_ERR_NOT_FOUND when no MOUNT service is registered. */
int pv_netboot_mount_exports_udp(struct pv_netboot_udp *udp, uint32_t server,
				 unsigned timeout_ms, struct pv_netboot_exports *out);
/* The same over TCP from this host (lists too long for one datagram). */
int pv_netboot_mount_exports_tcp(const char *netns, uint32_t server, unsigned timeout_ms,
				 struct pv_netboot_exports *out);

/* Would rpc.mountd let `client` mount `path`? As mountd decides (auth_authenticate): the
 * export of `path` or of its nearest ancestor directory that names the client; a client
 * matches "*", its own address, an "a.b.c.d/len" or "a.b.c.d/mask.mask.mask.mask"
 * network. Host names, wildcards and @netgroups would need the server's resolver: they
 * never match here, and *unchecked is set when one was passed over (NULL allowed).
 * Returns the export that allows it, or NULL. */
const struct pv_netboot_export *pv_netboot_exports_allow(const struct pv_netboot_exports *ex,
							 const char *path, uint32_t client,
							 bool *unchecked);

/* ---- boot files -------------------------------------------------------------------------- */

/* The NFS root of a kernel command line: nfsroot=[SERVER:]DIR[,OPTIONS] (the kernel's
 * Documentation/admin-guide/nfs/nfsroot.rst). "%s" in DIR becomes the client address.
 * Without SERVER, `default_server` is used (the kernel takes the DHCP server's
 * [inferred: the bootloader's TFTP server here]). Returns PV_ERR_NOT_FOUND when the line
 * has no nfsroot=, PV_ERR_FORMAT for a bad one. */
struct pv_netboot_nfsroot {
	uint32_t server;
	char path[PV_NETBOOT_EXPORT_PATH_MAX];
	char options[256];
	bool root_is_nfs;                   /* root=/dev/nfs is on the line too */
};
int pv_netboot_cmdline_nfsroot(const char *text, size_t len, uint32_t client,
			       uint32_t default_server, struct pv_netboot_nfsroot *out);

/* What the firmware takes from config.txt for the files it loads next: kernel=, cmdline=,
 * device_tree= in the unconditional part, [all] and the board's own section (e.g. "[pi4]");
 * other sections are skipped. Empty strings when not set. */
struct pv_netboot_config_txt {
	char kernel[PV_NETBOOT_TFTP_PATH_MAX];
	char cmdline[PV_NETBOOT_TFTP_PATH_MAX];
	char device_tree[PV_NETBOOT_TFTP_PATH_MAX];
};
int pv_netboot_config_txt_parse(const char *text, size_t len, const char *board_section,
				struct pv_netboot_config_txt *out);

#ifdef __cplusplus
}
#endif
#endif
