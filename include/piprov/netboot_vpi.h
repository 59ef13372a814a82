/* The virtual Pi's network stage: a virtual board (include/piprov/vpi.h) that boots over a
 * real network interface as its bootloader would, by the BOOT_ORDER in the EEPROM it was
 * flashed with, and writes the UART log the real bootloader of its SoC and version prints
 * (BOOT_UART=1), which `piprov uart parse/diagnose` read back.
 *
 * The faithful set-up (what tests/netboot builds): each board in its own network namespace,
 * on a veth whose MAC is the board's MAC, the other end on a bridge in the LAN's namespace
 * with the real servers. The board builds every frame itself (src/lib/netboot's stack): its
 * interface has no address.
 */
#ifndef PIPROV_NETBOOT_VPI_H
#define PIPROV_NETBOOT_VPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "piprov/buf.h"
#include "piprov/netboot_boot.h"
#include "piprov/netboot_check.h"
#include "piprov/vpi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The UART log of a boot, from its events, in the format of the board's bootloader: the old
 * one-line header for images built before 2024-02, the BOOTSYS/BOOTLOADER pair after, with
 * leading timestamps from 2024-05-17 (§3 of the netboot doc; [inferred] boundaries). The
 * bootloader falls silent once start4.elf runs (its firmware logs nothing without
 * uart_2ndstage=1). */
struct pv_vpi_uart;
int pv_vpi_uart_new(const struct pv_netboot_identity *id,
		    const struct pv_netboot_settings *settings, struct pv_buf *out,
		    struct pv_vpi_uart **uart);
/* The event callback for pv_netboot_run (user = the uart). */
void pv_vpi_uart_event(const struct pv_netboot_event *event, void *user);
void pv_vpi_uart_free(struct pv_vpi_uart *uart);

struct pv_vpi_netboot_options {
	const char *netns;                  /* the board's namespace (NULL = ours) */
	const char *ifname;                 /* its interface, e.g. "eth0" */
	/* The EEPROM it boots with: these bytes, else the board's virtual EEPROM (an erased
	 * one holds no bootloader: the board does not start). */
	const void *eeprom;
	size_t eeprom_len;
	const char *eeprom_name;            /* for messages */
	struct pv_buf *uart;                /* the UART log is appended here (NULL = none) */
	unsigned deadline_ms;               /* 0 = none */
	volatile sig_atomic_t *cancel;      /* stop when non-zero (may be NULL; SIGINT) */
	bool check_nfs;
};

/* Boot one board. PV_OK with the verdict in *result (booted, or where it stopped and why;
 * an unreadable EEPROM gives reason NO_BOOTLOADER), a negative status when the interface
 * cannot be opened. */
int pv_vpi_netboot(struct pv_vpi_board *board, const struct pv_vpi_netboot_options *options,
		   struct pv_netboot_result *result);

/* Many boards at once, one thread each: the boards of --virtual specs (numbered as on a
 * USB bus, so the same specs give the same boards as `usb flash`), each booting from its
 * dump= file DIR/<serial>.bin when the spec has one (the image it was flashed with), on the
 * interface named by the patterns ("%s" = the 8-digit serial, "%i" = the board's index,
 * "%%" = "%"). With uart_dir, each board's log goes to UART_DIR/<serial>.log. */
struct pv_vpi_netboot_fleet {
	const char *const *specs;
	size_t n_specs;
	const char *netns_pattern;          /* NULL = our namespace */
	const char *ifname_pattern;
	const char *uart_dir;               /* NULL = no log files */
	unsigned deadline_ms;
	volatile sig_atomic_t *cancel;      /* stop when non-zero (may be NULL; SIGINT) */
	bool check_nfs;
};
struct pv_vpi_netboot_board {
	char serial[17];
	char model[16];
	uint8_t mac[6];
	char netns[64], ifname[32];
	char eeprom[512];                   /* the image file, "" = the virtual EEPROM */
	char uart_log[512];                 /* "" = none written */
	int status;                         /* PV_OK, or why the board could not run */
	char error[256];
	struct pv_netboot_result result;
};
/* *boards receives a malloc'd array (free() it) of *count entries, in spec order. Fails
 * only for a bad spec or pattern; each board's own failure is in its entry. */
int pv_vpi_netboot_fleet_run(const struct pv_vpi_netboot_fleet *fleet,
			     struct pv_vpi_netboot_board **boards, size_t *count);

/* `netboot check --as SPEC`: the boards of --virtual specs as the check asks for them (the
 * same serials and MACs as `usb flash` gives those specs), with the settings of the EEPROM
 * image in the spec's dump= folder when there is one, else the SoC's defaults. *boards is
 * malloc'd (free() it). PV_ERR_INVALID for a bad spec or an unreadable image. */
int pv_vpi_netboot_check_boards(const char *const *specs, size_t n_specs,
				struct pv_netboot_check_board **boards, size_t *count);

#ifdef __cplusplus
}
#endif
#endif
