/* The in-memory boot LAN (fake_lan.h). Servers answer synchronously from the link's peer
 * callback; everything is built and parsed with the library's own wire functions, so a
 * mistake in them shows up as a failed exchange, not as a matching pair of bugs: the DHCP and
 * TFTP layouts are also checked byte by byte in test_netboot_wire.c. */
#include <stdio.h>
#include <string.h>

#include "fake_lan.h"
#include "piprov/error.h"
#include "piprov/text.h"

#define RPC_PORTMAP 111
#define RPC_MOUNTD 20048

static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void fake_lan_init(struct fake_lan *lan)
{
	static const uint8_t server_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	static const uint8_t router_mac[6] = { 0x48, 0x8f, 0x5a, 0xc0, 0xe3, 0x06 };

	memset(lan, 0, sizeof(*lan));
	lan->dhcp = FAKE_DHCP_FULL;
	lan->menu = "Raspberry Pi Boot";
	lan->server_ip = 0x0a000002;
	lan->router_ip = 0x0a000001;
	lan->offer_ip = 0x0a000033;
	lan->netmask = 0xffffff00;
	memcpy(lan->server_mac, server_mac, 6);
	memcpy(lan->router_mac, router_mac, 6);
	lan->tftp = true;
	lan->tftp_options = true;
	lan->mountd = true;
	lan->cur_file = -1;
}

void fake_lan_add_blob(struct fake_lan *lan, const char *path, const uint8_t *data, size_t len)
{
	lan->files[lan->n_files].path = path;
	lan->files[lan->n_files].data = data;
	lan->files[lan->n_files].len = len;
	lan->n_files++;
}

void fake_lan_add_file(struct fake_lan *lan, const char *path, const char *text)
{
	fake_lan_add_blob(lan, path, (const uint8_t *)text, strlen(text));
}

void fake_lan_export(struct fake_lan *lan, const char *path, const char *group)
{
	lan->exports[lan->n_exports][0] = path;
	lan->exports[lan->n_exports][1] = group;
	lan->n_exports++;
}

static void send_udp(struct pv_netboot_link *link, const uint8_t src_mac[6], uint32_t src_ip,
		     uint16_t src_port, const uint8_t dst_mac[6], uint32_t dst_ip, uint16_t dst_port,
		     const void *payload, size_t len)
{
	struct pv_netboot_udp_frame f;
	uint8_t frame[PV_NETBOOT_FRAME_MAX];
	size_t frame_len;

	memset(&f, 0, sizeof(f));
	memcpy(f.src_mac, src_mac, 6);
	memcpy(f.dst_mac, dst_mac, 6);
	f.src_ip = src_ip;
	f.dst_ip = dst_ip;
	f.src_port = src_port;
	f.dst_port = dst_port;
	f.payload = payload;
	f.payload_len = len;
	if (pv_netboot_udp_frame_build(&f, frame, &frame_len) == PV_OK)
		pv_netboot_fake_link_inject(link, frame, frame_len);
}

/* dnsmasq's option 43 for pxe-service=0,"TEXT": discovery control 3, the menu, the prompt. */
static size_t option43(const char *menu, uint8_t *out)
{
	size_t n = strlen(menu), at = 0;

	out[at++] = 6;
	out[at++] = 1;
	out[at++] = 3;
	out[at++] = 10;
	out[at++] = 4;
	out[at++] = 0;
	memcpy(out + at, "PXE", 3);
	at += 3;
	out[at++] = 9;
	out[at++] = (uint8_t)(3 + n);
	out[at++] = 0;
	out[at++] = 0;
	out[at++] = (uint8_t)n;
	memcpy(out + at, menu, n);
	at += n;
	out[at++] = 255;
	return at;
}

static void dhcp_reply(struct fake_lan *lan, struct pv_netboot_link *link,
		       const struct pv_netboot_dhcp *req, uint8_t type, bool from_router,
		       bool with_address, bool with_menu)
{
	struct pv_netboot_dhcp_builder b;
	const uint8_t *mac = from_router ? lan->router_mac : lan->server_mac;
	uint32_t ip = from_router ? lan->router_ip : lan->server_ip;
	uint8_t o43[96];

	pv_netboot_dhcp_begin(&b, 2, req->xid, 0, req->chaddr);
	pv_netboot_dhcp_set_addresses(&b, 0, with_address ? lan->offer_ip : 0,
				      lan->set_siaddr && !from_router ? lan->server_ip : 0, 0);
	pv_netboot_dhcp_add(&b, PV_DHCP_OPT_MESSAGE_TYPE, &type, 1);
	pv_netboot_dhcp_add_ip(&b, PV_DHCP_OPT_SERVER_ID, ip);
	if (with_address) {
		pv_netboot_dhcp_add_ip(&b, PV_DHCP_OPT_NETMASK, lan->netmask);
		pv_netboot_dhcp_add_ip(&b, PV_DHCP_OPT_ROUTER, lan->router_ip);
		pv_netboot_dhcp_add_ip(&b, PV_DHCP_OPT_LEASE, 3600);
	}
	if (with_menu) {
		pv_netboot_dhcp_add(&b, PV_DHCP_OPT_VENDOR_CLASS, "PXEClient", 9);
		pv_netboot_dhcp_add(&b, PV_DHCP_OPT_VENDOR, o43, option43(lan->menu, o43));
		if (lan->option66) {
			char text[16];

			pv_ipv4_format(lan->option66_ip ? lan->option66_ip : lan->server_ip, text);
			pv_netboot_dhcp_add(&b, PV_DHCP_OPT_TFTP_SERVER, text, strlen(text));
		}
	}
	if (pv_netboot_dhcp_finish(&b) == PV_OK)
		/* unicast to the offered address at the client's MAC (flags 0), like dnsmasq */
		send_udp(link, mac, ip, 67, req->chaddr, with_address ? lan->offer_ip : 0xffffffff,
			 68, b.data, b.len);
}

static void dhcp_input(struct fake_lan *lan, struct pv_netboot_link *link,
		       const struct pv_netboot_udp_frame *f)
{
	struct pv_netboot_dhcp req;

	if (pv_netboot_dhcp_parse(f->payload, f->payload_len, &req) != PV_OK || req.op != 1)
		return;
	if (req.type == PV_DHCP_DISCOVER) {
		lan->discovers++;
		memcpy(lan->last_discover, f->payload, f->payload_len);
		lan->last_discover_len = f->payload_len;
		switch (lan->dhcp) {
		case FAKE_DHCP_FULL:
			dhcp_reply(lan, link, &req, PV_DHCP_OFFER, false, true, true);
			break;
		case FAKE_DHCP_PROXY:
			/* the proxy answers first (the CM4 log of §3.3) */
			dhcp_reply(lan, link, &req, PV_DHCP_OFFER, false, false, true);
			dhcp_reply(lan, link, &req, PV_DHCP_OFFER, true, true, false);
			break;
		case FAKE_DHCP_LAN_ONLY:
			dhcp_reply(lan, link, &req, PV_DHCP_OFFER, true, true, false);
			break;
		case FAKE_DHCP_NONE:
			break;
		}
	} else if (req.type == PV_DHCP_REQUEST) {
		uint32_t server = 0;

		lan->requests++;
		memcpy(lan->last_request, f->payload, f->payload_len);
		lan->last_request_len = f->payload_len;
		pv_netboot_dhcp_option_ip(&req, PV_DHCP_OPT_SERVER_ID, &server);
		if (lan->ignore_requests)
			return;
		if (lan->dhcp == FAKE_DHCP_FULL && server == lan->server_ip)
			dhcp_reply(lan, link, &req, PV_DHCP_ACK, false, true, true);
		else if ((lan->dhcp == FAKE_DHCP_PROXY || lan->dhcp == FAKE_DHCP_LAN_ONLY) &&
			 server == lan->router_ip)
			dhcp_reply(lan, link, &req, PV_DHCP_ACK, true, true, false);
	}
}

/* ---- TFTP ---- */

static void tftp_send(struct fake_lan *lan, struct pv_netboot_link *link,
		      const struct pv_netboot_udp_frame *f, const void *p, size_t len)
{
	send_udp(link, lan->server_mac, lan->server_ip, 40000, f->src_mac, f->src_ip, f->src_port,
		 p, len);
}

static void tftp_error(struct fake_lan *lan, struct pv_netboot_link *link,
		       const struct pv_netboot_udp_frame *f, uint16_t code, const char *msg)
{
	uint8_t p[128];
	size_t n = strlen(msg);

	p[0] = 0;
	p[1] = 5;
	p[2] = (uint8_t)(code >> 8);
	p[3] = (uint8_t)code;
	memcpy(p + 4, msg, n + 1);
	tftp_send(lan, link, f, p, 5 + n);
}

static void tftp_data(struct fake_lan *lan, struct pv_netboot_link *link,
		      const struct pv_netboot_udp_frame *f, uint16_t block)
{
	const struct fake_file *file = &lan->files[lan->cur_file];
	uint8_t p[4 + 1468];
	size_t off = (size_t)(block - 1) * lan->cur_blksize, n;

	if (lan->tftp_stall_after && lan->cur_sent >= lan->tftp_stall_after)
		return;
	n = off >= file->len ? 0 : file->len - off;
	if (n > lan->cur_blksize)
		n = lan->cur_blksize;
	p[0] = 0;
	p[1] = 3;
	p[2] = (uint8_t)(block >> 8);
	p[3] = (uint8_t)block;
	if (n)
		memcpy(p + 4, file->data + off, n);
	lan->cur_sent++;
	tftp_send(lan, link, f, p, 4 + n);
}

static void tftp_input(struct fake_lan *lan, struct pv_netboot_link *link,
		       const struct pv_netboot_udp_frame *f)
{
	struct pv_netboot_tftp_packet t;

	if (pv_netboot_tftp_parse(f->payload, f->payload_len, &t) != PV_OK)
		return;
	if (t.opcode == PV_TFTP_RRQ && f->dst_port == 69) {
		lan->rrqs++;
		lan->rrq_blksize = t.has_blksize ? t.blksize : 0;
		lan->rrq_tsize = t.has_tsize;
		lan->rrq_port = f->src_port;
		if (lan->rrq_log_len < FAKE_LAN_LOG)
			snprintf(lan->rrq_log[lan->rrq_log_len++], PV_NETBOOT_TFTP_PATH_MAX, "%s",
				 t.path);
		lan->cur_file = -1;
		for (size_t i = 0; i < lan->n_files; i++)
			if (strcmp(lan->files[i].path, t.path) == 0)
				lan->cur_file = (int)i;
		if (lan->cur_file < 0) {
			tftp_error(lan, link, f, 1, "File not found");
			return;
		}
		lan->cur_client_port = f->src_port;
		lan->cur_blksize = 512;
		lan->cur_sent = 0;
		if (lan->tftp_options && (t.has_tsize || t.has_blksize)) {
			char oack[64];
			int n = 2;

			oack[0] = 0;
			oack[1] = 6;
			if (t.has_tsize)
				n += snprintf(oack + n, sizeof(oack) - (size_t)n, "tsize%c%zu%c", 0,
					      lan->files[lan->cur_file].len, 0);
			if (t.has_blksize) {
				lan->cur_blksize = t.blksize;
				n += snprintf(oack + n, sizeof(oack) - (size_t)n, "blksize%c%u%c", 0,
					      t.blksize, 0);
			}
			tftp_send(lan, link, f, oack, (size_t)n);
		} else {
			tftp_data(lan, link, f, 1);
		}
		return;
	}
	if (f->src_port != lan->cur_client_port || lan->cur_file < 0)
		return;
	if (t.opcode == PV_TFTP_ACK) {
		size_t sent = (size_t)t.block * lan->cur_blksize;

		/* the last block was short: the transfer is complete after its ACK */
		if (t.block > 0 && sent > lan->files[lan->cur_file].len)
			return;
		tftp_data(lan, link, f, (uint16_t)(t.block + 1));
	} else if (t.opcode == PV_TFTP_ERROR) {
		if (t.error_code == 0 && strcmp(t.message, "Early terminate") == 0)
			lan->early_terminates++;
		lan->cur_file = -1;
	}
}

/* ---- portmapper and mountd (ONC RPC over UDP) ---- */

static size_t put32(uint8_t *p, size_t at, uint32_t v)
{
	p[at] = (uint8_t)(v >> 24);
	p[at + 1] = (uint8_t)(v >> 16);
	p[at + 2] = (uint8_t)(v >> 8);
	p[at + 3] = (uint8_t)v;
	return at + 4;
}

static size_t put_string(uint8_t *p, size_t at, const char *s)
{
	size_t n = strlen(s);

	at = put32(p, at, (uint32_t)n);
	memcpy(p + at, s, n);
	memset(p + at + n, 0, (4 - n % 4) % 4);
	return at + ((n + 3) & ~(size_t)3);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void rpc_input(struct fake_lan *lan, struct pv_netboot_link *link,
		      const struct pv_netboot_udp_frame *f)
{
	uint8_t reply[1400];
	size_t at = 0;
	uint32_t prog, proc;

	if (!lan->mountd || f->payload_len < 40)
		return;
	prog = get32(f->payload + 12);
	proc = get32(f->payload + 20);
	at = put32(reply, at, get32(f->payload)); /* xid */
	at = put32(reply, at, 1);                 /* reply */
	at = put32(reply, at, 0);                 /* accepted */
	at = put32(reply, at, 0);                 /* verifier */
	at = put32(reply, at, 0);
	at = put32(reply, at, 0);                 /* success */
	if (f->dst_port == RPC_PORTMAP && prog == 100000 && proc == 3) {
		at = put32(reply, at, get32(f->payload + 40) == 100005 ? RPC_MOUNTD : 0);
	} else if (f->dst_port == RPC_MOUNTD && prog == 100005 && proc == 5) {
		for (size_t i = 0; i < lan->n_exports; i++) {
			at = put32(reply, at, 1);
			at = put_string(reply, at, lan->exports[i][0]);
			at = put32(reply, at, 1);
			at = put_string(reply, at, lan->exports[i][1]);
			at = put32(reply, at, 0);
		}
		at = put32(reply, at, 0);
	} else {
		return;
	}
	send_udp(link, lan->server_mac, lan->server_ip, f->dst_port, f->src_mac, f->src_ip,
		 f->src_port, reply, at);
}

void fake_lan_peer(struct pv_netboot_link *link, const uint8_t *frame, size_t len, void *user)
{
	struct fake_lan *lan = user;
	struct pv_netboot_udp_frame f;
	struct pv_netboot_arp arp;

	if (pv_netboot_arp_parse(frame, len, &arp) == PV_OK) {
		if (arp.op == 1 && (arp.target_ip == lan->server_ip || arp.target_ip == lan->router_ip)) {
			struct pv_netboot_arp answer;
			uint8_t out[42];
			bool server = arp.target_ip == lan->server_ip;

			memset(&answer, 0, sizeof(answer));
			answer.op = 2;
			memcpy(answer.sender_mac, server ? lan->server_mac : lan->router_mac, 6);
			answer.sender_ip = arp.target_ip;
			memcpy(answer.target_mac, arp.sender_mac, 6);
			answer.target_ip = arp.sender_ip;
			pv_netboot_arp_build(&answer, arp.sender_mac, out);
			pv_netboot_fake_link_inject(link, out, sizeof(out));
		}
		return;
	}
	pv_clear_error();
	if (pv_netboot_udp_frame_parse(frame, len, &f) != PV_OK) {
		pv_clear_error();
		return;
	}
	if (f.dst_port == 67 && memcmp(f.dst_mac, broadcast, 6) == 0)
		dhcp_input(lan, link, &f);
	else if (f.dst_ip == lan->server_ip && lan->tftp && (f.dst_port == 69 || f.dst_port == 40000))
		tftp_input(lan, link, &f);
	else if (f.dst_ip == lan->server_ip && (f.dst_port == RPC_PORTMAP || f.dst_port == RPC_MOUNTD))
		rpc_input(lan, link, &f);
}
