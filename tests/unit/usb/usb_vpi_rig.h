/* A test rig for the job engine over the virtual Pi: a scratch firmware folder with a
 * placeholder recovery.bin and synthetic release images per SoC, a virtual bus, fast
 * timeouts, and helpers to compare a board's transcript with a template. */
#ifndef PIPROV_TEST_USB_VPI_RIG_H
#define PIPROV_TEST_USB_VPI_RIG_H

#include <stdbool.h>

#include "piprov/buf.h"
#include "piprov/usb.h"
#include "piprov/usb_fault.h"
#include "piprov/vpi.h"

struct rig {
	char *dir;
	char *firmware_dir;
	struct pv_usb_bus *vbus;         /* the virtual bus */
	struct pv_usb_bus *bus;          /* what the job uses (vbus, or a fault bus over it) */
	struct pv_usb_payload_set *set;
	struct pv_usb_files *files;      /* boot mode: the served folder */
	struct pv_buf opened;            /* every path the host opened, one per line */
	struct pv_usb_flash_options flash;
	struct pv_usb_timeouts timeouts;
	unsigned wait_ms;
};

void rig_init(struct rig *rig);
/* The same without the scratch folder and firmware (the test sets rig->set itself). */
void rig_init_light(struct rig *rig);
void rig_release(struct rig *rig);
void rig_add_spec(struct rig *rig, const char *spec);
void rig_add_board(struct rig *rig, const char *model, unsigned index, enum pv_vpi_fault fault);
void rig_add_scripted(struct rig *rig, const char *model, const struct pv_vpi_request *script,
		      size_t count);
/* Wrap the virtual bus in a fault bus with this schedule. */
void rig_inject_faults(struct rig *rig, const struct pv_usb_fault_schedule *schedule);
/* Boot mode: serve this folder (rpiboot -d). */
void rig_serve_folder(struct rig *rig, const char *dir);
/* Run a job to its end (count 0: the boards present). */
void rig_run(struct rig *rig, enum pv_usb_job_mode mode, unsigned count,
	     struct pv_usb_job_result *result);

struct pv_vpi_board *rig_board_by_port(struct rig *rig, const char *port_path);
void rig_assert_eeprom_sha(struct pv_vpi_board *board, const char *sha_hex, bool equal);
void rig_write(const char *dir, const char *name, const char *text);
void rig_script(struct pv_vpi_request *req, int32_t command, const char *name,
		size_t message_len);
bool rig_file_present(const char *path);

/* Replace @CODE@ @CODEHASH@ @IMG@ @IMGHASH@ @SIG@ @SIGHASH@ @CFG@ @CFGHASH@ with the sizes
 * and hashes of what the payload serves; "@ANY@" stays (matched by rig_match). */
void rig_expand(struct pv_buf *out, const char *tmpl, const struct pv_usb_payload *payload,
		const char *chip);
/* "in 123 ms" -> "in N ms" (flash time varies with load). */
void rig_mask_times(struct pv_buf *text);
/* got == expected where "@ANY@" matches any run of characters other than '"' and '\n'. */
bool rig_match(const char *got, const char *expected);

#endif
