/* Inventory exports: the configuration netboot servers read, generated from the inventory.
 * Text formats append to a pv_buf (the CLI writes it atomically); the TFTP export builds
 * folders on disk. Output is deterministic: records in inventory order, no timestamps. */
#ifndef PIPROV_INVENTORY_EXPORT_H
#define PIPROV_INVENTORY_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "piprov/buf.h"
#include "piprov/inventory.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Who may mount a board's NFS root (the exports export, and whether the tftp export writes
 * an nfsroot into the board's cmdline.txt: both follow the same rule). */
enum pv_nfs_clients {
	/* PV_NFS_CLIENTS_SUBNET in proxy mode (no dhcp_range: the LAN's DHCP server gives the
	 * boards their addresses, piprov does not know them), PV_NFS_CLIENTS_IP otherwise. */
	PV_NFS_CLIENTS_AUTO = 0,
	PV_NFS_CLIENTS_IP,     /* only the board's inventory address; no address: not exported */
	PV_NFS_CLIENTS_SUBNET, /* the board's network (its address or `subnet`, prefix_len) */
};

struct pv_export_opts {
	const char *tftp_root;   /* dnsmasq tftp-root and the tftp export's root ("/srv/tftp") */
	const char *nfs_root;    /* parent of the per-board root file systems ("/srv/nfs") */
	bool has_server_ip;
	uint32_t server_ip;      /* NFS server in cmdline.txt; default: the TFTP server */
	bool has_tftp_server;
	uint32_t tftp_server;    /* siaddr + option 66 (Kea, dnsmasq); default: the address of
				  * `interface` on this host, else the NFS server */
	bool has_gateway;
	uint32_t gateway;        /* router option (dnsmasq full DHCP, Kea), Tinkerbell gateway */
	unsigned prefix_len;     /* boards' network prefix, 1..30; 0 = from dhcp_range's netmask
				  * or subnet's /N, else 24 */
	/* "FIRST,LAST[,NETMASK|/PREFIX][,LEASE]": dnsmasq full DHCP, Kea pool; NULL = proxy
	 * (dnsmasq) / reservations only (Kea) */
	const char *dhcp_range;
	const char *proxy_network; /* the board network "192.168.1.0[/24]" (--subnet, --proxy);
				    * NULL = from the boards' IPs */
	const char *interface;   /* dnsmasq interface= / Kea interfaces-config; NULL = all */
	const char *domain;      /* hosts, Kea, Ansible: domain for FQDNs; NULL = none */
	const char *nfs_options; /* exports: default "rw,sync,no_subtree_check,no_root_squash" */
	enum pv_nfs_clients nfs_clients;
	bool create_nfs_roots;   /* exports, tftp: create missing <nfs_root>/<folder> */
	const char *namespace_;  /* tinkerbell: metadata.namespace (default "tink-system") */
	/* tftp export */
	const char *template_dir; /* boot files to populate each folder from */
	bool copy;               /* copy the template instead of symlinking it */
	bool prune;              /* remove folders piprov created for boards no longer listed */
};

void pv_export_opts_init(struct pv_export_opts *opts);

/* Text exports by name: dnsmasq, dnsmasq-hosts, ethers, hosts, csv, json, exports, kea, tinkerbell,
 * ansible. Unknown names fail with PV_ERR_INVALID. */
int pv_inventory_export(const char *format, const struct pv_inventory *inv,
			const struct pv_export_opts *opts, struct pv_buf *out);
/* Names of all formats, NULL-terminated (for --help). */
const char *const *pv_inventory_export_formats(void);

int pv_export_dnsmasq(const struct pv_inventory *inv, const struct pv_export_opts *opts,
		      struct pv_buf *out);
/* dhcp-host lines only ("MAC,set:rpi,IP,NAME # SERIAL"), for dhcp-hostsfile=FILE (dnsmasq
 * re-reads it on SIGHUP, not the main config). */
int pv_export_dnsmasq_hosts(const struct pv_inventory *inv, const struct pv_export_opts *opts,
			    struct pv_buf *out);
int pv_export_ethers(const struct pv_inventory *inv, const struct pv_export_opts *opts,
		     struct pv_buf *out);
int pv_export_hosts(const struct pv_inventory *inv, const struct pv_export_opts *opts,
		    struct pv_buf *out);
int pv_export_csv(const struct pv_inventory *inv, const struct pv_export_opts *opts,
		  struct pv_buf *out);
int pv_export_json(const struct pv_inventory *inv, const struct pv_export_opts *opts,
		   struct pv_buf *out);
int pv_export_nfs(const struct pv_inventory *inv, const struct pv_export_opts *opts,
		  struct pv_buf *out);
int pv_export_kea(const struct pv_inventory *inv, const struct pv_export_opts *opts,
		  struct pv_buf *out);
int pv_export_tinkerbell(const struct pv_inventory *inv, const struct pv_export_opts *opts,
			 struct pv_buf *out);
int pv_export_ansible(const struct pv_inventory *inv, const struct pv_export_opts *opts,
		      struct pv_buf *out);

/* One record as a JSON object (jansson json_t *, returned as void * to keep jansson out of
 * this header): serial, serial8, mac, hostname, ip, board_revision, model, tftp_dir,
 * sources, ... Caller json_decref()s it. NULL on allocation failure. */
void *pv_export_record_json(const struct pv_inventory_record *rec);

/* The TFTP tree. Each board gets <root>/<tftp_dir>/ with the template's entries (relative
 * symlinks, so a chrooted TFTP server such as tftpd-hpa -s follows them; or copies with
 * opts->copy) and a cmdline.txt booting from <server>:<nfs_root>/<tftp_dir> when that root
 * is exported to the board (pv_export_nfs_client; otherwise no cmdline.txt).
 * Everything created is listed in <root>/.piprov-manifest; an existing file piprov did not
 * create is never changed or removed (it is counted in `kept`). Running it twice changes
 * nothing. */
struct pv_tftp_report {
	unsigned boards;      /* folders handled */
	unsigned created;     /* files, links and folders created */
	unsigned updated;     /* cmdline.txt files rewritten because they changed */
	unsigned kept;        /* foreign files left alone */
	unsigned pruned;      /* entries removed (opts->prune) */
	unsigned skipped;     /* boards without a folder name (mac mode, no MAC) */
	unsigned no_nfs;      /* boards whose root is not exported (no address): no cmdline.txt */
	unsigned nfs_missing; /* exported roots <nfs_root>/<folder> missing on this host */
	unsigned nfs_created; /* ... created (opts->create_nfs_roots) */
};
/* Whether the exports export gives the board's root to anyone, and to whom: addr/prefix
 * (prefix 32: one address). The tftp export writes an nfsroot only for such boards, so
 * cmdline.txt and /etc/exports agree when both get the same options. */
bool pv_export_nfs_client(const struct pv_export_opts *opts,
			  const struct pv_inventory_record *rec, uint32_t *addr, unsigned *prefix);

int pv_export_tftp(const struct pv_inventory *inv, const struct pv_export_opts *opts,
		   struct pv_tftp_report *report);

#ifdef __cplusplus
}
#endif
#endif
