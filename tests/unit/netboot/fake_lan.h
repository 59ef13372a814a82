/* A boot LAN in memory for the netboot tests: a DHCP server (full, or a proxy beside the LAN's
 * own DHCP server), a TFTP server with files, a portmapper + mountd with exports, all
 * answering through the fake link (include/piprov/netboot.h). It records what the board
 * asked, so tests assert the order and the content of the requests. */
#ifndef PIPROV_TEST_FAKE_LAN_H
#define PIPROV_TEST_FAKE_LAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "piprov/netboot.h"

#define FAKE_LAN_FILES 32
#define FAKE_LAN_LOG 128

enum fake_dhcp_mode {
	FAKE_DHCP_NONE,       /* nobody answers */
	FAKE_DHCP_FULL,       /* the boot server offers the address and the PXE menu */
	FAKE_DHCP_PROXY,      /* the boot server is a proxy (menu, no address); the LAN's router
			       * offers the address (no menu) */
	FAKE_DHCP_LAN_ONLY,   /* only the router answers: no menu anywhere */
};

struct fake_file {
	const char *path;
	const uint8_t *data;
	size_t len;
};

struct fake_lan {
	/* configuration */
	enum fake_dhcp_mode dhcp;
	const char *menu;                 /* the menu text of option 43 */
	uint32_t server_ip, router_ip, offer_ip, netmask;
	uint8_t server_mac[6], router_mac[6];
	bool option66;                    /* name the TFTP server in option 66 too */
	uint32_t option66_ip;             /* what option 66 says (default server_ip) */
	bool set_siaddr;
	bool ignore_requests;             /* never ACK */
	bool tftp;                        /* the TFTP server runs */
	bool tftp_options;                /* it answers options with an OACK */
	unsigned tftp_stall_after;        /* stop sending after this many DATA blocks (0 = never) */
	struct fake_file files[FAKE_LAN_FILES];
	size_t n_files;
	bool mountd;
	const char *exports[8][2];        /* { path, group } */
	size_t n_exports;

	/* what happened */
	unsigned discovers, requests, rrqs, early_terminates;
	char rrq_log[FAKE_LAN_LOG][PV_NETBOOT_TFTP_PATH_MAX];
	unsigned rrq_log_len;
	uint8_t last_discover[PV_NETBOOT_DHCP_MAX];
	size_t last_discover_len;
	uint8_t last_request[PV_NETBOOT_DHCP_MAX];
	size_t last_request_len;
	unsigned rrq_blksize;             /* the blksize the last RRQ asked (0 = none) */
	bool rrq_tsize;
	uint16_t rrq_port;                /* its source port */

	/* TFTP transfer in progress */
	int cur_file;
	uint16_t cur_client_port, cur_block;
	unsigned cur_blksize, cur_sent;
	bool cur_done;
};

/* Defaults: full DHCP from 10.0.0.2 offering 10.0.0.51/24 with router 10.0.0.1, menu
 * "Raspberry Pi Boot", TFTP with options, mountd with no exports. */
void fake_lan_init(struct fake_lan *lan);
void fake_lan_add_file(struct fake_lan *lan, const char *path, const char *text);
void fake_lan_add_blob(struct fake_lan *lan, const char *path, const uint8_t *data, size_t len);
void fake_lan_export(struct fake_lan *lan, const char *path, const char *group);
/* The peer callback for pv_netboot_fake_link_new (user = the fake_lan). */
void fake_lan_peer(struct pv_netboot_link *link, const uint8_t *frame, size_t len, void *user);

#endif
