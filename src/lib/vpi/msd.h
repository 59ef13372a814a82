/* The mass-storage gadget stage of a virtual Compute Module: what a CM4/CM5 becomes on USB
 * after its bootloader has handed over to a mass-storage program (upstream usbboot's
 * mass-storage-gadget64 boot.img, or the legacy msd/ start4.elf), modelled at the wire:
 * device and configuration descriptors, USB Mass Storage Bulk-Only Transport (CBW, data,
 * CSW, stalls, reset recovery) and the SCSI commands a host sends to a disk, on a medium that
 * is a regular file on the host (spec key emmc=FILE).
 *
 * One struct vpi_msd belongs to one board (board.c calls it with the board lock held) or
 * stands alone (the fuzz target, tests). It never sleeps: a transfer the device would NAK
 * returns PV_ERR_TIMEOUT, and the caller waits and retries.
 *
 * Sources: USB Mass Storage Class Bulk-Only Transport 1.0 (CBW/CSW layout, the thirteen
 * host/device data cases, reset recovery), SCSI SPC/SBC for the commands, and for the
 * personalities below the mass-storage-gadget64 configure-gadgets script (usbboot's
 * buildroot branch) and hosts' logs of the legacy msd firmware; what is inferred is marked
 * in msd.c. */
#ifndef PIPROV_VPI_MSD_H
#define PIPROV_VPI_MSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "piprov/board.h"
#include "piprov/buf.h"

#define VPI_MSD_BLOCK 512u
#define VPI_MSD_CBW_LEN 31u
#define VPI_MSD_CSW_LEN 13u
/* Bounds of a medium: at least 64 KiB, at most 1 TiB (READ CAPACITY(10) reaches 2 TiB, so a
 * host never needs the 16-byte form; the model answers it anyway). */
#define VPI_MSD_MEDIUM_MIN (64ull * 1024u)
#define VPI_MSD_MEDIUM_MAX (1024ull * 1024u * 1024u * 1024u)
/* The largest descriptor set a personality has (MSD + CDC ACM: 98 bytes). */
#define VPI_MSD_CONFIG_MAX 128u

/* Who the gadget is on the wire: one row per firmware (msd.c). */
struct vpi_msd_identity {
	const char *name;               /* "mass-storage-gadget64", "msd" */
	uint16_t vendor_id, product_id, bcd_device;
	const char *manufacturer, *product, *configuration;
	bool serial_string;             /* iSerialNumber = /proc/cpuinfo's 16-digit serial */
	bool acm_console;               /* a CDC ACM serial console beside the disk */
	uint8_t max_power;              /* bMaxPower, in 2 mA units */
	char inquiry[29];               /* SCSI vendor (8) + product (16) + revision (4) */
	bool removable;                 /* INQUIRY RMB bit */
};

/* Which identity follows the program the bootloader ran on this SoC, NULL when that program
 * is no mass-storage gadget (recovery.elf, ...). */
const struct vpi_msd_identity *vpi_msd_identity_for(enum pv_soc soc, const char *program);

/* Open (or create) the medium of emmc=FILE: a regular file only (a FIFO, device or folder
 * is refused, so a spec can never write to a real disk), locked against a second virtual
 * board; with `size` > 0 a missing file is created sparse with that size and an existing one
 * must have it; with 0 the file's own size is used. Sizes are multiples of 512 within the
 * bounds above. Returns the descriptor (>= 0) and *size_out, or a negative PV_ERR_* whose
 * message names the file. */
int vpi_msd_open_medium(const char *path, uint64_t size, uint64_t *size_out);

/* "8M", "512K", "1G", "1048576": a medium size for emmc-size=; PV_ERR_INVALID when it is no
 * size, not a multiple of 512 or outside the bounds. */
int vpi_msd_parse_size(const char *text, uint64_t *out);

struct vpi_msd;

/* A gadget over `fd` (the model takes it: closed by vpi_msd_free) of `size` bytes.
 * `transcript` (may be NULL) receives one line per command and event; `serial16` is the
 * board's serial as 16 hex digits (the gadget's iSerialNumber). */
int vpi_msd_new(int fd, uint64_t size, const char *serial16, struct pv_buf *transcript,
		struct vpi_msd **out);
void vpi_msd_free(struct vpi_msd *m);

/* The board attaches as this gadget (a fresh USB device: not configured, nothing pending). */
void vpi_msd_attach(struct vpi_msd *m, const struct vpi_msd_identity *identity);
const struct vpi_msd_identity *vpi_msd_identity(const struct vpi_msd *m);

/* Descriptors as on the wire, same contracts as pv_vpi_board_*_descriptor. */
void vpi_msd_device_descriptor(const struct vpi_msd *m, uint8_t out[18]);
size_t vpi_msd_config_descriptor(const struct vpi_msd *m, uint8_t out[VPI_MSD_CONFIG_MAX]);
/* The text of string descriptor `index`, NULL when there is none. */
const char *vpi_msd_string(const struct vpi_msd *m, uint8_t index);
uint8_t vpi_msd_interfaces(const struct vpi_msd *m);

/* A control transfer (raw SETUP) the gadget answers itself: the mass-storage class requests
 * (GET MAX LUN, Bulk-Only Mass Storage Reset), the ACM console's line coding and control line
 * state, CLEAR_FEATURE(ENDPOINT_HALT) and SET_CONFIGURATION (which it observes: a new
 * configuration is a reset, reported to the host as a unit attention). *handled is false
 * when the caller's standard handling applies (descriptors, addresses, and after
 * SET_CONFIGURATION). Returns PV_OK or PV_ERR_PIPE (stall). */
int vpi_msd_control(struct vpi_msd *m, const uint8_t setup[8], void *data, size_t size,
		    size_t *actual, bool *handled);

/* Bulk OUT on `ep`: a CBW, or the data of a write. Returns PV_OK (*actual accepted),
 * PV_ERR_PIPE (the endpoint is halted, or no such endpoint), PV_ERR_TIMEOUT (the device NAKs:
 * it is sending, the host must read first). */
int vpi_msd_bulk_out(struct vpi_msd *m, uint8_t ep, const uint8_t *data, size_t len,
		     size_t *actual);

/* Bulk IN on `ep`: data of a read or reply, then the 13-byte CSW. A transfer shorter than
 * `size` ends the data phase (a short packet). Returns PV_OK, PV_ERR_PIPE (halted: the host
 * clears the halt and reads the CSW), PV_ERR_TIMEOUT (nothing to send: NAK), PV_ERR_OVERFLOW
 * (`size` below the 13-byte CSW). */
int vpi_msd_bulk_in(struct vpi_msd *m, uint8_t ep, uint8_t *data, size_t size, size_t *actual);

/* Counters for pv_vpi_result. */
struct vpi_msd_stats {
	uint64_t commands, failed_commands, phase_errors, bytes_read, bytes_written, syncs;
};
void vpi_msd_stats(const struct vpi_msd *m, struct vpi_msd_stats *stats);

#endif
