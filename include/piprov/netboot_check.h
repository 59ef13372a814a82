/* `piprov netboot check`: what the boot LAN's servers would give a board, asked from any
 * host of that LAN the way the board's bootloader asks, before the board is plugged in.
 *
 * For each board: a DHCP DISCOVER with the board's MAC, options 55/60/93/94/97 as its SoC
 * and EEPROM send them (never a REQUEST: no lease is taken, no address is used), the offers
 * and the PXE answer collected as the bootloader would take them; then the board's files in
 * its bootloader's order over TFTP from this host's own address (config.txt and cmdline.txt
 * read in full, the others asked and cut off after their first block, as the firmware does
 * with the files it only probes), and the NFS export list of the cmdline's nfsroot server,
 * decided for the address the board was offered (rpc.mountd's rule, src/lib/netboot/rpc.c).
 * The verdicts are the virtual board's (pv_netboot_reason): the same servers give a check
 * and a boot the same answer.
 *
 * What it cannot see: a TFTP server that answers per client address (the check asks from
 * this host's address), and an export to a host name or netgroup (reported as unchecked).
 */
#ifndef PIPROV_NETBOOT_CHECK_H
#define PIPROV_NETBOOT_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "piprov/netboot_boot.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pv_inventory_record;

/* One board to check. */
struct pv_netboot_check_board {
	char name[64];                      /* hostname, else the serial (for the table) */
	char serial[17];                    /* as the inventory writes it (8 or 16 digits) */
	struct pv_netboot_identity id;
	struct pv_netboot_settings settings;
	uint32_t expected_ip;               /* the inventory's address (0 = none) */
};

/* A board from its inventory record: its model from the revision code (else the first
 * board of the SoC its MAC's OUI belongs to), the EEPROM settings the inventory knows
 * (TFTP_PREFIX, TFTP_PREFIX_STR, BOOT_ORDER; the network when it has none) over the SoC's defaults. PV_ERR_INVALID naming
 * the board when it has no MAC, or neither a revision nor a Pi's OUI. */
int pv_netboot_check_board_from_record(const struct pv_inventory_record *rec,
				       struct pv_netboot_check_board *out);

struct pv_netboot_check_options {
	const char *netns;                  /* the namespace of the interface (NULL = ours) */
	const char *ifname;                 /* this host's interface on the boot LAN */
	unsigned dhcp_wait_ms;              /* how long to collect offers (0 = 4000) */
	unsigned tftp_timeout_ms;           /* per file (0 = 5000) */
	bool check_nfs;
	unsigned parallel;                  /* boards asked at once (0 = 16) */
	volatile sig_atomic_t *cancel;      /* stop when non-zero (may be NULL; SIGINT) */
};

/* Check n boards; results[i] is boards[i]'s verdict (booted = the board would boot: kernel
 * and cmdline found, and with check_nfs its nfsroot exported to its address). PV_OK when
 * every board was asked (whatever the verdicts), a negative status when the interface
 * cannot be used (no such interface, no CAP_NET_RAW). */
int pv_netboot_check_run(const struct pv_netboot_check_options *options,
			 const struct pv_netboot_check_board *boards, size_t n,
			 struct pv_netboot_result *results);

#ifdef __cplusplus
}
#endif
#endif
