/* A network-boot verdict (struct pv_netboot_result) as `piprov netboot check` and
 * `piprov netboot boot` show it: the cells of one table row, escaped for a terminal, and one
 * JSON object (field names in docs/netboot.md). */
#ifndef PIPROV_NETBOOT_REPORT_H
#define PIPROV_NETBOOT_REPORT_H

#include <jansson.h>
#include <stdbool.h>

#include "piprov/netboot_boot.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Each column: what the board got, or "-" when it did not get that far. */
struct pv_netboot_cells {
	char dhcp[64];      /* "10.0.0.41 from 10.0.0.1", "... proxy 10.0.0.2", "no offer" */
	char option43[96];  /* "ok", "none", "wrong: \"menu seen\"" */
	char tftp[16];      /* the TFTP server used */
	char first_file[160];
	char kernel[320];   /* "PREFIX/kernel8.img, PREFIX/cmdline.txt" or "FILE: reason" */
	char nfs[320];      /* "ok (EXPORT)", the reason, "not checked" */
	char result[32];    /* "ok" or the reason name */
};
void pv_netboot_result_cells(const struct pv_netboot_result *r, bool check_nfs,
			     struct pv_netboot_cells *cells);

/* A new JSON object (NULL when out of memory): booted, reason, detail, ip, dhcp_server,
 * pxe_server, proxy, option43, menu, tftp_server, prefix, fell_back_to_root, first_file,
 * failed_file, kernel, cmdline, nfsroot, nfs_export, files_read, bytes_read, elapsed_ms,
 * network_attempts (null for what is not known). */
json_t *pv_netboot_result_json(const struct pv_netboot_result *r);

#ifdef __cplusplus
}
#endif
#endif
