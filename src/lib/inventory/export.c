/* The table of text exports and what they share: defaults, the decoded board model, the
 * network facts (range, prefix, servers, gateway) and who may mount a board's NFS root. */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "inventory_internal.h"
#include "piprov/board.h"
#include "piprov/inventory_export.h"
#include "piprov/text.h"
#include "banned.h"

struct export_format {
	const char *name;
	int (*fn)(const struct pv_inventory *inv, const struct pv_export_opts *opts,
		  struct pv_buf *out);
};

static const struct export_format formats[] = {
	{ "dnsmasq", pv_export_dnsmasq }, { "dnsmasq-hosts", pv_export_dnsmasq_hosts },
	{ "ethers", pv_export_ethers },
	{ "hosts", pv_export_hosts },     { "csv", pv_export_csv },
	{ "json", pv_export_json },       { "exports", pv_export_nfs },
	{ "kea", pv_export_kea },         { "tinkerbell", pv_export_tinkerbell },
	{ "ansible", pv_export_ansible },
};

static const char *const format_names[] = {
	"dnsmasq", "dnsmasq-hosts", "ethers", "hosts", "csv", "json", "exports", "kea", "tinkerbell", "ansible",
	"tftp", NULL,
};

const char *const *pv_inventory_export_formats(void)
{
	return format_names;
}

void pv_export_opts_init(struct pv_export_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->tftp_root = "/srv/tftp";
	opts->nfs_root = "/srv/nfs";
	opts->nfs_options = "rw,sync,no_subtree_check,no_root_squash";
	opts->namespace_ = "tink-system";
}

int pv_inventory_export(const char *format, const struct pv_inventory *inv,
			const struct pv_export_opts *opts, struct pv_buf *out)
{
	for (size_t i = 0; i < PV_ARRAY_SIZE(formats); i++)
		if (strcmp(formats[i].name, format) == 0)
			return formats[i].fn(inv, opts, out);
	if (strcmp(format, "tftp") == 0)
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "'tftp' writes folders, not text (pv_export_tftp)");
	return pv_fail(PV_ERR_INVALID, "inventory",
		       "'%s' is not an export format (dnsmasq, dnsmasq-hosts, ethers, hosts, csv, "
		       "json, exports, tftp, kea, tinkerbell, ansible)", format);
}

void pv_export_describe(const struct pv_inventory_record *rec, struct pv_export_board *out)
{
	struct pv_revision rev;

	memset(out, 0, sizeof(*out));
	if (!rec->has_revision || pv_revision_decode(rec->revision, &rev) != PV_OK)
		return;
	if (rev.board)
		pv_strlcpy(out->model, rev.board->name, sizeof(out->model));
	if (rev.memory_mb >= 1024)
		snprintf(out->memory, sizeof(out->memory), "%uGB", rev.memory_mb / 1024);
	else if (rev.memory_mb)
		snprintf(out->memory, sizeof(out->memory), "%uMB", rev.memory_mb);
	if (rev.soc)
		pv_strlcpy(out->soc, rev.soc->name, sizeof(out->soc));
	if (rev.manufacturer)
		pv_strlcpy(out->manufacturer, rev.manufacturer, sizeof(out->manufacturer));
}

/* ---- the network facts the exports share ---- */

static bool netmask_prefix(uint32_t mask, unsigned *prefix)
{
	unsigned n = 0;

	while (n < 32 && (mask & (0x80000000u >> n)))
		n++;
	if (n < 32 && (mask << n) != 0)
		return false; /* not contiguous */
	*prefix = n;
	return true;
}

static uint32_t prefix_netmask(unsigned prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

/* "24" or "/24" (the slash already stepped over); 1..30 leaves room for hosts. */
static bool parse_prefix(const char *text, unsigned *out)
{
	char *end;
	unsigned long v;

	if (text[0] < '0' || text[0] > '9')
		return false;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end || v < 1 || v > 30)
		return false;
	*out = (unsigned)v;
	return true;
}

/* dnsmasq's lease forms: seconds, or a number with s/m/h/d/w, or "infinite". */
static bool parse_lease(const char *text, struct pv_export_net *net)
{
	static const struct { char unit; uint32_t seconds; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 },
	};
	uint64_t v = 0;
	const char *p = text;
	uint32_t scale = 1;

	if (strcmp(text, "infinite") == 0) {
		net->lease_infinite = true;
	} else {
		for (; *p >= '0' && *p <= '9' && v <= 0xffffffffu; p++)
			v = v * 10 + (uint64_t)(*p - '0');
		if (p == text || v > 0xffffffffu)
			return false;
		if (*p) {
			size_t i;

			for (i = 0; i < PV_ARRAY_SIZE(units) && units[i].unit != *p; i++)
				;
			if (i == PV_ARRAY_SIZE(units) || p[1])
				return false;
			scale = units[i].seconds;
		}
		if (v * scale > 0xffffffffu || v * scale < 120) /* dnsmasq's minimum: 2 min */
			return false;
		net->lease_seconds = (uint32_t)(v * scale);
	}
	pv_strlcpy(net->lease, text, sizeof(net->lease));
	return true;
}

/* "FIRST,LAST[,NETMASK|/PREFIX][,LEASE]" */
static int parse_range(const char *text, struct pv_export_net *net, unsigned *range_prefix)
{
	char copy[128], *field[5], *save = NULL;
	size_t n = 0;
	uint32_t mask;

	if (strlen(text) >= sizeof(copy))
		goto invalid;
	pv_strlcpy(copy, text, sizeof(copy));
	for (char *f = strtok_r(copy, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		if (n == PV_ARRAY_SIZE(field))
			goto invalid;
		field[n++] = f;
	}
	if (n < 2 || pv_ipv4_parse(field[0], &net->range_first) ||
	    pv_ipv4_parse(field[1], &net->range_last) || net->range_last < net->range_first)
		goto invalid;
	for (size_t i = 2; i < n; i++) {
		if (field[i][0] == '/' && !*range_prefix && parse_prefix(field[i] + 1, range_prefix))
			continue;
		if (strchr(field[i], '.') && !*range_prefix && !pv_ipv4_parse(field[i], &mask)) {
			if (!netmask_prefix(mask, range_prefix) || *range_prefix < 1 ||
			    *range_prefix > 30)
				return pv_fail(PV_ERR_INVALID, "inventory",
					       "DHCP range '%s': '%s' is not a netmask", text,
					       field[i]);
			continue;
		}
		if (i == n - 1 && !net->lease[0] && parse_lease(field[i], net))
			continue;
		goto invalid;
	}
	net->has_range = true;
	return PV_OK;
invalid:
	return pv_fail(PV_ERR_INVALID, "inventory",
		       "DHCP range '%s' is not FIRST,LAST[,NETMASK|/PREFIX][,LEASE] (e.g. "
		       "192.168.1.100,192.168.1.199,255.255.255.0,12h)", text);
}

/* "192.168.1.0" or "192.168.1.0/24" */
static int parse_subnet(const char *text, struct pv_export_net *net, unsigned *subnet_prefix)
{
	char addr[16];
	const char *slash = strchr(text, '/');
	size_t len = slash ? (size_t)(slash - text) : strlen(text);

	if (len >= sizeof(addr))
		goto invalid;
	memcpy(addr, text, len);
	addr[len] = '\0';
	if (pv_ipv4_parse(addr, &net->subnet) || (slash && !parse_prefix(slash + 1, subnet_prefix)))
		goto invalid;
	net->has_subnet = true;
	return PV_OK;
invalid:
	return pv_fail(PV_ERR_INVALID, "inventory",
		       "subnet '%s' is not an IPv4 network NETWORK[/PREFIX] (e.g. 192.168.1.0/24)",
		       text);
}

/* The first IPv4 address of a local interface (the default TFTP server). */
static bool interface_address(const char *name, uint32_t *addr)
{
	struct ifaddrs *list, *ifa;
	bool found = false;

	if (getifaddrs(&list) < 0)
		return false;
	for (ifa = list; ifa && !found; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != AF_INET ||
		    strcmp(ifa->ifa_name, name) != 0)
			continue;
		*addr = ntohl(((const struct sockaddr_in *)(const void *)ifa->ifa_addr)->sin_addr.s_addr);
		found = true;
	}
	freeifaddrs(list);
	return found;
}

int pv_export_settle(const struct pv_export_opts *opts, struct pv_export_net *net)
{
	unsigned range_prefix = 0, subnet_prefix = 0;
	char text[16];
	int rc;

	memset(net, 0, sizeof(*net));
	if (opts->prefix_len && (opts->prefix_len > 30))
		return pv_fail(PV_ERR_INVALID, "inventory", "prefix length %u is not 1..30",
			       opts->prefix_len);
	if (opts->dhcp_range && (rc = parse_range(opts->dhcp_range, net, &range_prefix)))
		return rc;
	if (opts->proxy_network && (rc = parse_subnet(opts->proxy_network, net, &subnet_prefix)))
		return rc;
	net->prefix_len = opts->prefix_len ? opts->prefix_len
			  : range_prefix   ? range_prefix
			  : subnet_prefix  ? subnet_prefix
					   : 24;
	if ((range_prefix && range_prefix != net->prefix_len) ||
	    (subnet_prefix && subnet_prefix != net->prefix_len))
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "the prefix lengths disagree (/%u from --prefix-len, /%u from the "
			       "DHCP range, /%u from the subnet)", opts->prefix_len, range_prefix,
			       subnet_prefix);
	net->netmask = prefix_netmask(net->prefix_len);
	net->proxy = !net->has_range;
	net->subnet &= net->netmask;
	if (net->has_range &&
	    (net->range_first & net->netmask) != (net->range_last & net->netmask)) {
		pv_ipv4_format(net->range_last, text);
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "DHCP range '%s': %s is outside the /%u network of the first "
			       "address", opts->dhcp_range, text, net->prefix_len);
	}
	if (net->has_range && net->has_subnet &&
	    (net->range_first & net->netmask) != net->subnet)
		return pv_fail(PV_ERR_INVALID, "inventory",
			       "DHCP range '%s' is outside the subnet '%s'", opts->dhcp_range,
			       opts->proxy_network);
	if (opts->has_gateway) {
		net->has_gateway = true;
		net->gateway = opts->gateway;
	}
	if (opts->has_tftp_server) {
		net->has_tftp_server = net->tftp_server_given = true;
		net->tftp_server = opts->tftp_server;
	} else if (opts->interface && interface_address(opts->interface, &net->tftp_server)) {
		net->has_tftp_server = true;
	} else if (opts->has_server_ip) {
		net->has_tftp_server = true;
		net->tftp_server = opts->server_ip;
	}
	if (opts->has_server_ip || net->has_tftp_server) {
		net->has_nfs_server = true;
		net->nfs_server = opts->has_server_ip ? opts->server_ip : net->tftp_server;
	}
	net->nfs_clients = opts->nfs_clients;
	if (net->nfs_clients == PV_NFS_CLIENTS_AUTO) {
		net->nfs_clients_auto = true;
		net->nfs_clients = net->proxy ? PV_NFS_CLIENTS_SUBNET : PV_NFS_CLIENTS_IP;
	}
	return PV_OK;
}

bool pv_export_net_client(const struct pv_export_net *net, const struct pv_inventory_record *rec,
			  uint32_t *addr, unsigned *prefix)
{
	if (net->nfs_clients == PV_NFS_CLIENTS_IP) {
		if (!rec->has_ip)
			return false;
		*addr = rec->ip;
		*prefix = 32;
		return true;
	}
	/* Subnet: where the board will be, from its address or the network given. */
	if (rec->has_ip)
		*addr = pv_export_network_of(net, rec->ip);
	else if (net->has_subnet)
		*addr = net->subnet;
	else if (net->has_range)
		*addr = pv_export_network_of(net, net->range_first);
	else
		return false;
	*prefix = net->prefix_len;
	return true;
}

bool pv_export_nfs_client(const struct pv_export_opts *opts,
			  const struct pv_inventory_record *rec, uint32_t *addr, unsigned *prefix)
{
	struct pv_export_net net;

	if (pv_export_settle(opts, &net)) {
		pv_clear_error();
		return false;
	}
	return pv_export_net_client(&net, rec, addr, prefix);
}

const char *pv_export_menu_text(const struct pv_inventory_record *rec)
{
	const struct pv_soc_info *soc = NULL, *pi4 = pv_soc_info(PV_SOC_BCM2711);
	struct pv_revision rev;

	if (rec->has_revision && pv_revision_decode(rec->revision, &rev) == PV_OK)
		soc = rev.soc;
	if (!soc && rec->has_mac)
		soc = pv_soc_by_mac(rec->mac);
	return soc && soc->pxe_menu_text ? soc->pxe_menu_text : pi4->pxe_menu_text;
}

/* How many missing roots are named one by one; the rest are counted. */
#define NFS_WARN_MAX 10

int pv_export_check_nfs_roots(const struct pv_inventory *inv, const struct pv_export_opts *opts,
			      const struct pv_export_net *net, unsigned *missing,
			      unsigned *created)
{
	char dir[PV_INVENTORY_HOSTNAME_MAX], *path;
	uint32_t addr;
	unsigned prefix, warned = 0;
	struct stat st;

	*missing = *created = 0;
	for (size_t i = 0; i < inv->count; i++) {
		const struct pv_inventory_record *rec = &inv->records[i];

		pv_inventory_tftp_dir(rec, dir);
		if (!dir[0] || !pv_export_net_client(net, rec, &addr, &prefix))
			continue;
		if (asprintf(&path, "%s/%s", opts->nfs_root, dir) < 0)
			return pv_fail(PV_ERR_NOMEM, "inventory", "out of memory");
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			free(path);
			continue;
		}
		if (opts->create_nfs_roots) {
			if (mkdir(opts->nfs_root, 0755) < 0 && errno != EEXIST) {
				int err = errno;

				free(path);
				return pv_fail_errno(err, "inventory", "cannot create '%s'",
						     opts->nfs_root);
			}
			if (mkdir(path, 0755) < 0) {
				int err = errno;
				int rc = pv_fail_errno(err, "inventory", "cannot create '%s'", path);

				free(path);
				return rc;
			}
			(*created)++;
			free(path);
			continue;
		}
		(*missing)++;
		if (warned++ < NFS_WARN_MAX)
			pv_log(PV_LOG_WARN, "inventory",
			       "NFS root '%s' is missing on this host: the board cannot mount it "
			       "(copy a root file system there, or --create-nfs-roots for empty "
			       "folders)", path);
		free(path);
	}
	if (*missing > NFS_WARN_MAX)
		pv_log(PV_LOG_WARN, "inventory", "... and %u more NFS roots missing under '%s'",
		       *missing - NFS_WARN_MAX, opts->nfs_root);
	return PV_OK;
}
