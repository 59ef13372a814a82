/* The bootloader's network boot, step by step on a link: BOOT_ORDER, the DHCP exchange with
 * the PXE answer, the TFTP server choice, the file order with the prefix and its fallback to
 * the root, the kernel's files, and the NFS root check. The per-SoC facts come from
 * profile.c; how the bootloader combines answers is [inferred] where marked. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "netboot_internal.h"
#include "piprov/netboot_boot.h"
#include "piprov/text.h"
#include "banned.h"

#define MODE_NETWORK 0x2u
#define MODE_STOP 0xeu
#define MODE_RESTART 0xfu
#define CMDLINE_MAX 4096u
#define CONFIG_MAX (64u * 1024u)
#define NFS_PORT_BASE 700u           /* a reserved port, as the kernel's mount uses */
#define DEFAULT_NETMASK 0xffffff00u  /* when the ACK has no option 1 [inferred] */

static const char *const reason_names[] = {
	[PV_NETBOOT_OK] = "ok",
	[PV_NETBOOT_NO_BOOTLOADER] = "no-bootloader",
	[PV_NETBOOT_NO_NETWORK_MODE] = "no-network-mode",
	[PV_NETBOOT_OTHER_MODES_FAILED] = "other-modes-failed",
	[PV_NETBOOT_NO_LINK] = "no-link",
	[PV_NETBOOT_NO_DHCP_OFFER] = "no-dhcp-offer",
	[PV_NETBOOT_NO_PXE_OPTION43] = "no-pxe-option43",
	[PV_NETBOOT_NO_ADDRESS] = "no-address-offered",
	[PV_NETBOOT_NO_ACK] = "no-dhcp-ack",
	[PV_NETBOOT_NO_TFTP_SERVER] = "no-tftp-server",
	[PV_NETBOOT_TFTP_UNREACHABLE] = "tftp-unreachable",
	[PV_NETBOOT_TFTP_NOT_FOUND] = "tftp-file-not-found",
	[PV_NETBOOT_TFTP_TIMEOUT] = "tftp-timeout",
	[PV_NETBOOT_TFTP_ERROR] = "tftp-error",
	[PV_NETBOOT_NO_NFSROOT] = "no-nfsroot",
	[PV_NETBOOT_NFS_UNREACHABLE] = "nfs-unreachable",
	[PV_NETBOOT_NFS_NOT_EXPORTED] = "nfs-not-exported",
	[PV_NETBOOT_CANCELLED] = "cancelled",
};

const char *pv_netboot_reason_name(enum pv_netboot_reason reason)
{
	return (unsigned)reason < PV_ARRAY_SIZE(reason_names) ? reason_names[reason] : "unknown";
}

struct lease {
	uint32_t ip, netmask, gateway, server;
};

struct boot {
	const struct pv_netboot_identity *id;
	const struct pv_netboot_settings *s;
	const struct pv_netboot_run_options *o;
	const struct pv_netboot_profile *profile;
	struct pv_netboot_link *link;
	struct pv_netboot_stack stack;
	struct pv_netboot_result *r;
	uint64_t start;
	uint16_t next_tftp_port;
	uint8_t server_mac[6];
	struct pv_netboot_config_txt config;
	struct pv_buf cmdline;
	/* the DHCP answers kept while collecting offers */
	struct pv_netboot_dhcp msg, addr_offer, pxe_offer, ack;
};

static uint64_t now(struct boot *b)
{
	return b->link->ops->now_ms(b->link);
}

static bool stopped(struct boot *b)
{
	return (b->o->cancel && *b->o->cancel) ||
	       (b->o->deadline_ms && now(b) - b->start >= b->o->deadline_ms);
}

/* For a TFTP transfer: stop when the run stops. */
static bool transfer_stop(void *arg)
{
	return stopped(arg);
}

/* The earlier of `t` and the run's own deadline. */
static uint64_t bounded(struct boot *b, uint64_t t)
{
	uint64_t d = b->o->deadline_ms ? b->start + b->o->deadline_ms : UINT64_MAX;

	return t < d ? t : d;
}

static void emit(struct boot *b, struct pv_netboot_event *e)
{
	e->at_ms = now(b) - b->start;
	e->stats = &b->stack.stats;
	if (b->o->on_event)
		b->o->on_event(e, b->o->user);
}

static void ip_text(uint32_t ip, char out[16])
{
	pv_ipv4_format(ip, out);
}

static enum pv_netboot_reason fail(struct boot *b, enum pv_netboot_reason reason,
				   const char *fmt, ...) PV_PRINTF(3, 4);
static enum pv_netboot_reason fail(struct boot *b, enum pv_netboot_reason reason,
				   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->r->detail, sizeof(b->r->detail), fmt, ap);
	va_end(ap);
	b->r->reason = reason;
	return reason;
}

/* ---- DHCP ---- */

static uint32_t make_xid(struct boot *b)
{
	uint64_t x = b->id->serial ^ ((uint64_t)b->r->network_attempts << 40) ^ now(b);

	x *= 0x9e3779b97f4a7c15ull;
	return (uint32_t)(x >> 32) ^ (uint32_t)x;
}

static int send_dhcp(struct boot *b, uint8_t type, uint32_t xid, const struct pv_netboot_dhcp *offer,
		     uint32_t server_id)
{
	struct pv_netboot_dhcp_builder m;
	uint64_t secs = (now(b) - b->start) / 1000;
	int rc;

	/* flags 0x0000 (unicast), ciaddr 0, from 0.0.0.0:68 to 255.255.255.255 (§1.5) */
	pv_netboot_dhcp_begin(&m, 1, xid, 0, b->link->mac);
	m.data[8] = (uint8_t)(secs > 0xffff ? 0xff : secs >> 8);
	m.data[9] = (uint8_t)(secs > 0xffff ? 0xff : secs);
	pv_netboot_dhcp_add(&m, PV_DHCP_OPT_MESSAGE_TYPE, &type, 1);
	if (type == PV_DHCP_REQUEST) {
		pv_netboot_dhcp_add_ip(&m, PV_DHCP_OPT_REQUESTED_IP, offer->yiaddr);
		pv_netboot_dhcp_add_ip(&m, PV_DHCP_OPT_SERVER_ID, server_id);
	}
	pv_netboot_add_client_options(&m, b->profile, b->id, b->s, type == PV_DHCP_DISCOVER);
	rc = pv_netboot_dhcp_finish(&m);
	if (rc)
		return rc;
	return pv_netboot_stack_send(&b->stack, PV_NETBOOT_IP_BROADCAST,
				     PV_NETBOOT_DHCP_CLIENT_PORT, PV_NETBOOT_DHCP_SERVER_PORT,
				     m.data, m.len);
}

/* The next DHCP reply for us (our xid and chaddr) until `until`; PV_ERR_TIMEOUT then, or
 * as soon as the run is stopped (looked at every PV_NETBOOT_STOP_POLL_MS). */
static int recv_dhcp(struct boot *b, uint32_t xid, uint64_t until)
{
	for (;;) {
		struct pv_netboot_udp_frame f;
		struct pv_netboot_event e;
		uint64_t slice = now(b) + PV_NETBOOT_STOP_POLL_MS;
		int rc = pv_netboot_stack_recv(&b->stack, PV_NETBOOT_DHCP_CLIENT_PORT,
					       slice < until ? slice : until, &f);

		if (rc == PV_ERR_TIMEOUT && now(b) < until && !stopped(b))
			continue;
		if (rc)
			return rc;
		if (f.src_port != PV_NETBOOT_DHCP_SERVER_PORT ||
		    pv_netboot_dhcp_parse(f.payload, f.payload_len, &b->msg) != PV_OK) {
			pv_clear_error();
			continue;
		}
		if (b->msg.op != 2 || b->msg.xid != xid || memcmp(b->msg.chaddr, b->link->mac, 6))
			continue;
		memset(&e, 0, sizeof(e));
		e.kind = PV_NETBOOT_EV_DHCP;
		e.dhcp = &b->msg;
		e.mac = f.src_mac;
		e.src_ip = f.src_ip;
		emit(b, &e);
		return PV_OK;
	}
}

static bool offer_has_menu(struct boot *b, const struct pv_netboot_dhcp *m, char menu[64])
{
	const char *strict = b->profile->rom_client ? pv_netboot_board_strict_menu(b->id->board)
						     : NULL;
	const uint8_t *v;
	size_t len;

	menu[0] = '\0';
	if (pv_netboot_dhcp_option(m, PV_DHCP_OPT_VENDOR, &v, &len) != PV_OK)
		return false;
	return pv_netboot_pxe_menu_matches(v, len, strict ? strict : b->s->pxe_option43,
					   strict != NULL, menu);
}

static uint32_t server_id(const struct pv_netboot_dhcp *m)
{
	uint32_t ip = 0;

	if (pv_netboot_dhcp_option_ip(m, PV_DHCP_OPT_SERVER_ID, &ip) != PV_OK)
		ip = m->siaddr;
	return ip;
}

/* DISCOVER until an offer of an address and an offer with the PXE menu have arrived (one
 * message in full mode; a proxy's and the LAN server's in proxy mode, in either order, as
 * the CM4 log of §3.3 shows [inferred: that the bootloader waits for both]), then REQUEST
 * and ACK (Pi 4/5) or the offer itself (Pi 3 ROM). */
static enum pv_netboot_reason dhcp(struct boot *b, struct lease *lease)
{
	bool rom = b->profile->rom_client;
	unsigned total = rom ? b->profile->rom_dhcp_timeout_ms : b->s->dhcp_timeout_ms;
	unsigned per_try = rom ? b->profile->rom_dhcp_req_timeout_ms : b->s->dhcp_req_timeout_ms;
	uint64_t deadline = bounded(b, now(b) + total);
	uint32_t xid = make_xid(b), first_server = 0;
	bool have_addr = false, have_pxe = false;
	unsigned offers = 0;
	char menu[64], seen_menu[64] = "", ip[16];
	int rc;

	while (!(have_addr && have_pxe) && now(b) < deadline && !stopped(b)) {
		uint64_t window = now(b) + per_try;

		rc = send_dhcp(b, PV_DHCP_DISCOVER, xid, NULL, 0);
		if (rc)
			return fail(b, PV_NETBOOT_NO_LINK, "cannot send on the link: %s",
				    pv_last_error());
		while (!(have_addr && have_pxe)) {
			rc = recv_dhcp(b, xid, window < deadline ? window : deadline);
			if (rc == PV_ERR_TIMEOUT)
				break;
			if (rc)
				return fail(b, PV_NETBOOT_NO_LINK, "link failed: %s", pv_last_error());
			if (b->msg.type != PV_DHCP_OFFER)
				continue;
			if (!offers++)
				first_server = server_id(&b->msg);
			if (!have_pxe && offer_has_menu(b, &b->msg, menu)) {
				b->pxe_offer = b->msg;
				have_pxe = true;
				pv_strlcpy(b->r->menu, menu, sizeof(b->r->menu));
			} else if (!seen_menu[0] && menu[0]) {
				pv_strlcpy(seen_menu, menu, sizeof(seen_menu));
			}
			if (!have_addr && b->msg.yiaddr) {
				b->addr_offer = b->msg;
				have_addr = true;
			}
		}
	}
	if (stopped(b))
		return fail(b, PV_NETBOOT_CANCELLED, "stopped during DHCP");
	if (!offers)
		return fail(b, PV_NETBOOT_NO_DHCP_OFFER,
			    "no DHCP offer in %u ms (DHCP_TIMEOUT); is a DHCP or proxy DHCP server "
			    "on this network?", total);
	if (!have_pxe) {
		char esc[96];

		ip_text(first_server, ip);
		nb_escape(seen_menu, strlen(seen_menu), esc, sizeof(esc));
		if (!b->r->menu[0])
			pv_strlcpy(b->r->menu, seen_menu, sizeof(b->r->menu));
		return fail(b, PV_NETBOOT_NO_PXE_OPTION43,
			    "%u DHCP offer(s) (first from %s), none with option 43 menu \"%s\"%s%s%s",
			    offers, ip,
			    rom && pv_netboot_board_strict_menu(b->id->board)
				    ? pv_netboot_board_strict_menu(b->id->board)
				    : b->s->pxe_option43,
			    esc[0] ? " (menu seen: \"" : "", esc, esc[0] ? "\")" : "");
	}
	b->r->option43_ok = true;
	b->r->pxe_server = server_id(&b->pxe_offer);
	if (!have_addr) {
		ip_text(b->r->pxe_server, ip);
		return fail(b, PV_NETBOOT_NO_ADDRESS,
			    "PXE answer from %s but no offer of an address (a proxy DHCP server "
			    "needs the LAN's DHCP server beside it)", ip);
	}
	b->r->proxy = b->pxe_offer.yiaddr == 0;
	b->r->dhcp_server = server_id(&b->addr_offer);
	b->ack = b->addr_offer;
	/* A check never REQUESTs: the offer is what the board would be given. */
	if (b->profile->requests_address && !b->o->probe) {
		bool acked = false;

		while (!acked && now(b) < deadline && !stopped(b)) {
			uint64_t window = now(b) + per_try;

			rc = send_dhcp(b, PV_DHCP_REQUEST, xid, &b->addr_offer, b->r->dhcp_server);
			if (rc)
				return fail(b, PV_NETBOOT_NO_LINK, "cannot send on the link: %s",
					    pv_last_error());
			while (!acked) {
				rc = recv_dhcp(b, xid, window < deadline ? window : deadline);
				if (rc == PV_ERR_TIMEOUT)
					break;
				if (rc)
					return fail(b, PV_NETBOOT_NO_LINK, "link failed: %s",
						    pv_last_error());
				if (b->msg.type == PV_DHCP_NAK) {
					ip_text(server_id(&b->msg), ip);
					return fail(b, PV_NETBOOT_NO_ACK, "DHCP NAK from %s", ip);
				}
				if (b->msg.type == PV_DHCP_ACK &&
				    server_id(&b->msg) == b->r->dhcp_server) {
					b->ack = b->msg;
					acked = true;
				}
			}
		}
		if (!acked) {
			ip_text(b->r->dhcp_server, ip);
			return fail(b, stopped(b) ? PV_NETBOOT_CANCELLED : PV_NETBOOT_NO_ACK,
				    "no DHCP ACK from %s for the offered address", ip);
		}
	}
	lease->ip = b->ack.yiaddr ? b->ack.yiaddr : b->addr_offer.yiaddr;
	if (pv_netboot_dhcp_option_ip(&b->ack, PV_DHCP_OPT_NETMASK, &lease->netmask) != PV_OK &&
	    pv_netboot_dhcp_option_ip(&b->addr_offer, PV_DHCP_OPT_NETMASK, &lease->netmask) !=
		    PV_OK)
		lease->netmask = DEFAULT_NETMASK;
	if (pv_netboot_dhcp_option_ip(&b->ack, PV_DHCP_OPT_ROUTER, &lease->gateway) != PV_OK)
		lease->gateway = 0;
	return PV_NETBOOT_OK;
}

/* TFTP_IP, else the PXE answer's option 66, siaddr, server id (the nstarke log of §3.2:
 * option 66 beats the server id; the CM4 log of §3.3: the proxy's answer beats the router's
 * siaddr) [inferred: the order among 66, siaddr and 54 beyond those two logs]. */
static uint32_t pick_tftp_server(struct boot *b)
{
	const struct pv_netboot_dhcp *m = &b->pxe_offer;
	const uint8_t *v;
	size_t len;
	uint32_t ip;

	if (b->s->has_tftp_ip)
		return b->s->tftp_ip;
	if (pv_netboot_dhcp_option(m, PV_DHCP_OPT_TFTP_SERVER, &v, &len) == PV_OK && len < 16) {
		char text[16];

		memcpy(text, v, len);
		text[len] = '\0';
		if (pv_ipv4_parse(text, &ip) == PV_OK)
			return ip;
	}
	if (m->siaddr)
		return m->siaddr;
	return server_id(m);
}

/* ---- TFTP ---- */

static uint16_t tftp_port(struct boot *b)
{
	if (b->profile->tftp_port)
		return b->profile->tftp_port;
	/* bootcode.bin counts its ports up from 49153 (firmware #1700) */
	if (b->next_tftp_port < 49153)
		b->next_tftp_port = 49153;
	return b->next_tftp_port++;
}

/* One transfer, with its events. */
static int transfer(struct boot *b, const char *path, bool probe, const struct pv_netboot_step *st,
		    struct pv_buf *out, struct pv_netboot_tftp_result *res)
{
	struct pv_netboot_tftp_request req;
	struct pv_netboot_event e;
	struct pv_netboot_udp udp;
	int rc;

	if (!b->r->first_file[0])
		pv_strlcpy(b->r->first_file, path, sizeof(b->r->first_file));
	memset(&e, 0, sizeof(e));
	e.kind = PV_NETBOOT_EV_TFTP_GET;
	e.path = path;
	e.server = b->r->tftp_server;
	e.mac = b->server_mac;
	e.firmware_stage = st->firmware_stage;
	e.role = st->role;
	emit(b, &e);
	memset(&req, 0, sizeof(req));
	req.path = path;
	req.tsize = true;
	req.blksize = b->profile->tftp_blksize;
	req.file_timeout_ms = b->s->tftp_file_timeout_ms;
	req.retransmit_ms = b->profile->tftp_retransmit_ms;
	req.stop = transfer_stop;
	req.stop_arg = b;
	/* A check reads what decides the next files (config.txt, cmdline.txt) and only asks
	 * for the rest: a kernel is megabytes, its first block proves it is served. */
	req.probe = probe || (b->o->probe && !out);
	if (b->o->probe) {
		struct pv_netboot_udp *host = NULL;

		rc = pv_netboot_udp_socket_open(b->o->host_netns, b->o->host_ifname, 0, &host);
		if (rc)
			return rc;
		rc = pv_netboot_tftp_get(host, b->r->tftp_server, &req, out, res);
		pv_netboot_udp_destroy(host);
	} else {
		pv_netboot_stack_udp(&b->stack, tftp_port(b), &udp);
		rc = pv_netboot_tftp_get(&udp, b->r->tftp_server, &req, out, res);
	}
	if (rc)
		return rc;
	e.kind = PV_NETBOOT_EV_TFTP_DONE;
	e.tftp = res;
	emit(b, &e);
	if (res->outcome == PV_TFTP_OUTCOME_OK && !req.probe) {
		b->r->files_read++;
		b->r->bytes_read += res->size;
		e.kind = PV_NETBOOT_EV_FILE_READ;
		e.size = res->size;
		emit(b, &e);
	}
	return PV_OK;
}

static enum pv_netboot_reason tftp_failure(struct boot *b, const char *path,
					   const struct pv_netboot_tftp_result *res)
{
	char server[16], msg[PV_NETBOOT_TFTP_MESSAGE_MAX + 32];

	ip_text(b->r->tftp_server, server);
	pv_strlcpy(b->r->failed_file, path, sizeof(b->r->failed_file));
	nb_escape(res->error_message, strlen(res->error_message), msg, sizeof(msg));
	switch (res->outcome) {
	case PV_TFTP_OUTCOME_STOPPED:
		return fail(b, PV_NETBOOT_CANCELLED, "stopped while reading '%s' from %s", path,
			    server);
	case PV_TFTP_OUTCOME_NOT_FOUND:
		return fail(b, PV_NETBOOT_TFTP_NOT_FOUND, "'%s' not found on TFTP server %s (%s)",
			    path, server, msg);
	case PV_TFTP_OUTCOME_UNREACHABLE:
		/* The check asks through this host's kernel: a server whose MAC changed (a
		 * bridge gaining a port with a lower MAC) is unreachable from here until the
		 * host's ARP entry is renewed, while boards ARP afresh and boot (docs/netboot.md). */
		if (b->o->probe)
			return fail(b, PV_NETBOOT_TFTP_UNREACHABLE,
				    "TFTP server %s did not answer this host's request for '%s' "
				    "(if boards boot from it: a stale ARP entry here, "
				    "'ip neigh flush to %s')",
				    server, path, server);
		return fail(b, PV_NETBOOT_TFTP_UNREACHABLE,
			    "TFTP server %s did not answer the request for '%s'", server, path);
	case PV_TFTP_OUTCOME_TIMEOUT:
		return fail(b, PV_NETBOOT_TFTP_TIMEOUT,
			    "'%s' from %s: the transfer stopped (TFTP_FILE_TIMEOUT %u ms)", path,
			    server, b->s->tftp_file_timeout_ms);
	default:
		return fail(b, PV_NETBOOT_TFTP_ERROR, "'%s' from %s: %s (%u %s)", path, server,
			    pv_netboot_tftp_outcome_name(res->outcome), res->error_code, msg);
	}
}

/* The file a step names: its own, or the board's device tree / cmdline / kernel, as
 * config.txt may override them. */
static const char *step_file(struct boot *b, const struct pv_netboot_step *st, bool fallback)
{
	switch (st->role) {
	case PV_NETBOOT_ROLE_DTB:
		return b->config.device_tree[0] ? b->config.device_tree
						: pv_netboot_board_dtb(b->id->board);
	case PV_NETBOOT_ROLE_CMDLINE:
		return b->config.cmdline[0] ? b->config.cmdline : "cmdline.txt";
	case PV_NETBOOT_ROLE_KERNEL:
		if (b->config.kernel[0])
			return fallback ? NULL : b->config.kernel;
		return fallback ? b->profile->kernel_fallback : b->profile->kernel;
	default:
		return fallback ? NULL : st->file;
	}
}

static enum pv_netboot_reason boot_files(struct boot *b)
{
	char prefix[PV_NETBOOT_TFTP_PATH_MAX], path[PV_NETBOOT_TFTP_PATH_MAX * 2];
	bool probing = false, found_in_group = false;
	int rc;

	pv_netboot_prefix(b->id, b->s, prefix);
	if (b->profile->rom_client)
		snprintf(prefix, sizeof(prefix), "%08x/", (unsigned)(uint32_t)b->id->serial);
	memset(&b->config, 0, sizeof(b->config));
	for (size_t i = 0; i < b->profile->n_steps; i++) {
		const struct pv_netboot_step *st = &b->profile->steps[i];
		struct pv_netboot_tftp_result res;
		struct pv_buf data = PV_BUF_INIT(CONFIG_MAX);
		const char *file = step_file(b, st, false);
		bool keep = st->role == PV_NETBOOT_ROLE_CONFIG || st->role == PV_NETBOOT_ROLE_CMDLINE;

		if (stopped(b))
			return fail(b, PV_NETBOOT_CANCELLED, "stopped while reading boot files");
		if (st->kind == PV_NETBOOT_STEP_PREFIX_PROBE) {
			if (!probing) {
				probing = true;
				found_in_group = false;
			}
			if (found_in_group || !prefix[0])
				continue;
		} else if (probing) {
			/* "If neither start4.elf nor start.elf are found in the prefixed directory
			 * then the prefix is cleared" (§1.1) */
			probing = false;
			if (!found_in_group && prefix[0]) {
				b->r->fell_back_to_root = true;
				prefix[0] = '\0';
			}
		}
		if (!file)
			return fail(b, PV_NETBOOT_TFTP_NOT_FOUND, "no device tree known for %s",
				    b->id->board ? b->id->board->name : "this board");
		snprintf(path, sizeof(path), "%s%s", st->from_root ? "" : prefix, file);
		rc = transfer(b, path, st->kind == PV_NETBOOT_STEP_PREFIX_PROBE ||
					       st->kind == PV_NETBOOT_STEP_PROBE,
			      st, keep ? &data : NULL, &res);
		if (rc) {
			pv_buf_release(&data);
			return fail(b, PV_NETBOOT_NO_LINK, "link failed: %s", pv_last_error());
		}
		if (res.outcome == PV_TFTP_OUTCOME_NOT_FOUND && st->role == PV_NETBOOT_ROLE_KERNEL &&
		    step_file(b, st, true)) {
			snprintf(path, sizeof(path), "%s%s", prefix, step_file(b, st, true));
			rc = transfer(b, path, false, st, NULL, &res);
			if (rc)
				return fail(b, PV_NETBOOT_NO_LINK, "link failed: %s", pv_last_error());
		}
		if (res.outcome != PV_TFTP_OUTCOME_OK && res.outcome != PV_TFTP_OUTCOME_NOT_FOUND) {
			pv_buf_release(&data);
			return tftp_failure(b, path, &res);
		}
		if (res.outcome == PV_TFTP_OUTCOME_NOT_FOUND) {
			pv_buf_release(&data);
			if (st->kind == PV_NETBOOT_STEP_REQUIRED)
				return tftp_failure(b, path, &res);
			continue;
		}
		if (st->kind == PV_NETBOOT_STEP_PREFIX_PROBE)
			found_in_group = true;
		if (st->role == PV_NETBOOT_ROLE_CONFIG &&
		    pv_netboot_config_txt_parse((const char *)data.data, data.len,
						b->id->board ? b->id->board->config_filter : NULL,
						&b->config) != PV_OK) {
			/* The firmware skips what it cannot use; so does the model. */
			pv_log(PV_LOG_INFO, "netboot", "'%s': %s", path, pv_last_error());
			pv_clear_error();
			memset(&b->config, 0, sizeof(b->config));
		}
		if (st->role == PV_NETBOOT_ROLE_CMDLINE) {
			pv_buf_release(&b->cmdline);
			b->cmdline = data;
			data = (struct pv_buf)PV_BUF_INIT(CONFIG_MAX);
			pv_strlcpy(b->r->cmdline_file, path, sizeof(b->r->cmdline_file));
		}
		if (st->role == PV_NETBOOT_ROLE_KERNEL) {
			pv_strlcpy(b->r->kernel, path, sizeof(b->r->kernel));
			b->r->kernel_size = res.size;
		}
		if (st->role == PV_NETBOOT_ROLE_FIRMWARE || st->role == PV_NETBOOT_ROLE_SECOND_STAGE) {
			struct pv_netboot_event e;

			memset(&e, 0, sizeof(e));
			e.kind = PV_NETBOOT_EV_HANDOVER;
			e.path = path;
			e.role = st->role;
			emit(b, &e);
		}
		pv_buf_release(&data);
	}
	pv_strlcpy(b->r->prefix, prefix, sizeof(b->r->prefix));
	return PV_NETBOOT_OK;
}

/* ---- NFS ---- */

static enum pv_netboot_reason check_nfs(struct boot *b)
{
	struct pv_netboot_exports ex = { NULL, 0 };
	const struct pv_netboot_export *allowed;
	struct pv_netboot_udp udp;
	char server[16], client[16], clients[160] = "";
	bool unchecked = false;
	enum pv_netboot_reason reason = PV_NETBOOT_OK;
	int rc;

	rc = pv_netboot_cmdline_nfsroot((const char *)b->cmdline.data, b->cmdline.len,
					b->r->ip, b->r->tftp_server, &b->r->nfsroot);
	if (rc == PV_ERR_NOT_FOUND) {
		pv_clear_error();
		return fail(b, PV_NETBOOT_NO_NFSROOT, "'%s' has no nfsroot=", b->r->cmdline_file);
	}
	if (rc)
		return fail(b, PV_NETBOOT_NO_NFSROOT, "'%s': %s", b->r->cmdline_file,
			    pv_last_error());
	b->r->has_nfsroot = true;
	ip_text(b->r->nfsroot.server, server);
	ip_text(b->r->ip, client);
	if (b->o->probe) {
		/* from this host: the list is the same for every client; the decision below is
		 * made for the board's address */
		rc = pv_netboot_mount_exports_tcp(b->o->host_netns, b->r->nfsroot.server,
						  b->o->nfs_timeout_ms ? b->o->nfs_timeout_ms : 3000,
						  &ex);
	} else {
		pv_netboot_stack_udp(&b->stack,
				     (uint16_t)(NFS_PORT_BASE + b->r->network_attempts % 100), &udp);
		rc = pv_netboot_mount_exports_udp(&udp, b->r->nfsroot.server,
						  b->o->nfs_timeout_ms ? b->o->nfs_timeout_ms : 3000,
						  &ex);
	}
	if (rc)
		return fail(b, PV_NETBOOT_NFS_UNREACHABLE, "NFS server %s: %s", server,
			    pv_last_error());
	allowed = pv_netboot_exports_allow(&ex, b->r->nfsroot.path, b->r->ip, &unchecked);
	if (allowed) {
		pv_strlcpy(b->r->nfs_export, allowed->path, sizeof(b->r->nfs_export));
		goto out_release;
	}
	/* Name who the covering exports are for, so the reason says what to change. */
	for (size_t i = 0; i < ex.count; i++) {
		size_t n = strlen(ex.items[i].path);

		if (strncmp(ex.items[i].path, b->r->nfsroot.path, n) != 0 ||
		    (b->r->nfsroot.path[n] && b->r->nfsroot.path[n] != '/'))
			continue;
		for (size_t g = 0; g < ex.items[i].n_groups; g++) {
			char esc[64];
			size_t used = strlen(clients);

			nb_escape(ex.items[i].groups[g], strlen(ex.items[i].groups[g]), esc,
				  sizeof(esc));
			snprintf(clients + used, sizeof(clients) - used, "%s%s", used ? " " : "", esc);
		}
	}
	reason = fail(b, PV_NETBOOT_NFS_NOT_EXPORTED, "%s does not export '%s' to %s (%s%s)%s",
		      server, b->r->nfsroot.path, client, clients[0] ? "exported to: " : "not exported",
		      clients, unchecked ? "; host names and netgroups were not resolved" : "");
out_release:
	pv_netboot_exports_release(&ex);
	return reason;
}

/* ---- one network attempt ---- */

static enum pv_netboot_reason network_attempt(struct boot *b)
{
	struct pv_netboot_event e;
	struct lease lease = { 0, 0, 0, 0 };
	enum pv_netboot_reason reason;
	char server[16];
	int rc;

	b->r->network_attempts++;
	b->r->detail[0] = '\0';
	memset(&e, 0, sizeof(e));
	e.kind = PV_NETBOOT_EV_NET_START;
	e.mac = b->link->mac;
	emit(b, &e);
	e.kind = PV_NETBOOT_EV_LINK_UP;
	emit(b, &e);
	pv_netboot_stack_configure(&b->stack, 0, 0, 0);
	if (b->s->has_static_ip) {
		lease.ip = b->s->client_ip;
		lease.netmask = b->s->subnet;
		lease.gateway = b->s->gateway;
	} else {
		reason = dhcp(b, &lease);
		if (reason)
			return reason;
	}
	b->r->ip = lease.ip;
	b->r->netmask = lease.netmask;
	b->r->gateway = lease.gateway;
	b->r->tftp_server = pick_tftp_server(b);
	/* A check never takes the offered address: its stack stays unconfigured, so it
	 * answers no ARP for it. */
	if (!b->o->probe)
		pv_netboot_stack_configure(&b->stack, lease.ip, lease.netmask, lease.gateway);
	memset(&e, 0, sizeof(e));
	e.kind = PV_NETBOOT_EV_NET_CONFIGURED;
	e.ip = lease.ip;
	e.netmask = lease.netmask;
	e.gateway = lease.gateway;
	e.server = b->r->tftp_server;
	emit(b, &e);
	if (!b->r->tftp_server)
		return fail(b, PV_NETBOOT_NO_TFTP_SERVER,
			    "the PXE answer names no TFTP server (no option 66, siaddr 0.0.0.0, no "
			    "server id)");
	ip_text(b->r->tftp_server, server);
	/* A check's TFTP goes through this host's kernel, which finds the server's MAC. */
	if (!b->o->probe) {
		rc = pv_netboot_stack_resolve(&b->stack, b->r->tftp_server, b->server_mac);
		if (rc) {
			pv_clear_error();
			return fail(b, PV_NETBOOT_TFTP_UNREACHABLE,
				    "TFTP server %s does not answer ARP", server);
		}
		memset(&e, 0, sizeof(e));
		e.kind = PV_NETBOOT_EV_ARP;
		e.ip = b->r->tftp_server;
		e.mac = b->server_mac;
		emit(b, &e);
	}
	reason = boot_files(b);
	if (reason)
		return reason;
	if (b->o->check_nfs)
		return check_nfs(b);
	return PV_NETBOOT_OK;
}

static void mode_event(struct boot *b, enum pv_netboot_event_kind kind, unsigned mode,
		       uint32_t order, enum pv_netboot_reason reason)
{
	struct pv_netboot_event e;

	memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.mode = mode;
	e.order = order;
	e.reason = reason;
	e.detail = b->r->detail;
	emit(b, &e);
}

int pv_netboot_run(const struct pv_netboot_identity *id,
		   const struct pv_netboot_settings *settings,
		   const struct pv_netboot_run_options *options, struct pv_netboot_result *result)
{
	struct boot *b;
	uint32_t order;
	bool tried_network = false;
	int rc = PV_OK;

	if (!id->soc || !pv_netboot_profile_for(id->soc->soc))
		return pv_fail(PV_ERR_UNSUPPORTED, "netboot", "%s has no network boot model",
			       id->board ? id->board->name : "this board");
	if (!options->link)
		return pv_fail(PV_ERR_INVALID, "netboot", "no link to boot on");
	b = calloc(1, sizeof(*b));
	if (!b)
		return pv_fail(PV_ERR_NOMEM, "netboot", "out of memory");
	b->id = id;
	b->s = settings;
	b->o = options;
	b->profile = pv_netboot_profile_for(id->soc->soc);
	b->link = options->link;
	b->r = result;
	pv_buf_init(&b->cmdline, CMDLINE_MAX);
	memset(result, 0, sizeof(*result));
	b->start = now(b);
	pv_netboot_stack_init(&b->stack, b->link);
	/* A Pi 3's boot order is in OTP, not an EEPROM: SD, then USB and the network
	 * [inferred: the default OTP of a 3B+]. */
	order = b->profile->rom_client ? 0x21u : settings->boot_order ? settings->boot_order : 0xf41u;

	for (unsigned i = 0; i < 8 && order >> (4 * i); i++) {
		uint32_t rest = order >> (4 * i);
		unsigned mode = rest & 0xf;
		int attempts, max;

		result->stopped_mode = mode;
		mode_event(b, PV_NETBOOT_EV_MODE, mode, rest, PV_NETBOOT_OK);
		if (mode == MODE_STOP || mode == MODE_RESTART) {
			mode_event(b, PV_NETBOOT_EV_RESTART, mode, rest, result->reason);
			break;
		}
		if (mode != MODE_NETWORK) {
			/* A virtual board has no SD card, USB drive, NVMe or HTTP server to boot. */
			mode_event(b, PV_NETBOOT_EV_MODE_FAILED, mode, rest, PV_NETBOOT_OK);
			continue;
		}
		tried_network = true;
		max = settings->net_boot_max_retries;
		for (attempts = 0; max < 0 || attempts <= max; attempts++) {
			enum pv_netboot_reason reason = network_attempt(b);

			if (reason == PV_NETBOOT_OK) {
				result->booted = true;
				result->reason = PV_NETBOOT_OK;
				result->detail[0] = '\0';
				goto out_done;
			}
			mode_event(b, PV_NETBOOT_EV_CANCEL, mode, rest, reason);
			if (stopped(b))
				goto out_done;
		}
		result->stopped_mode = MODE_NETWORK;
	}
	if (!tried_network) {
		result->reason = PV_NETBOOT_NO_NETWORK_MODE;
		snprintf(result->detail, sizeof(result->detail),
			 "BOOT_ORDER 0x%x never tries the network (mode 2)", order);
	} else if (result->stopped_mode != MODE_NETWORK) {
		result->stopped_mode = MODE_NETWORK;
	}
out_done:
	if (stopped(b) && !result->booted && result->reason == PV_NETBOOT_OK) {
		result->reason = PV_NETBOOT_CANCELLED;
		snprintf(result->detail, sizeof(result->detail), "stopped by the caller");
	}
	result->elapsed_ms = now(b) - b->start;
	pv_buf_release(&b->cmdline);
	free(b);
	return rc;
}
