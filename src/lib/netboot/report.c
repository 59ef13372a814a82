/* A verdict as `netboot check` and `netboot boot` show it: one JSON object, or the cells of
 * one table row (include/piprov/netboot_report.h). Every string a server gave (menu text,
 * file names from config.txt, error messages) is escaped here for the terminal; jansson
 * escapes the JSON. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "netboot_internal.h"
#include "piprov/netboot_report.h"
#include "piprov/text.h"
#include "banned.h"

/* A cell is cut to its width: the full text is in the detail line and the JSON. */
static void cellf(char *out, size_t size, const char *fmt, ...) PV_PRINTF(3, 4);
static void cellf(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, size, fmt, ap);
	va_end(ap);
}

static void esc(const char *in, char *out, size_t size)
{
	nb_escape(in, strlen(in), out, size);
}

static void ip_or_dash(uint32_t ip, char out[16])
{
	if (ip)
		pv_ipv4_format(ip, out);
	else
		pv_strlcpy(out, "-", 16);
}

void pv_netboot_result_cells(const struct pv_netboot_result *r, bool check_nfs,
			     struct pv_netboot_cells *c)
{
	char a[16], b[16], text[PV_NETBOOT_TFTP_PATH_MAX * 2];

	memset(c, 0, sizeof(*c));
	/* DHCP: the address and who offered it; a proxy's answer named beside it */
	if (r->ip) {
		pv_ipv4_format(r->ip, a);
		ip_or_dash(r->dhcp_server, b);
		if (r->proxy && r->pxe_server && r->pxe_server != r->dhcp_server) {
			char p[16];

			pv_ipv4_format(r->pxe_server, p);
			cellf(c->dhcp, sizeof(c->dhcp), "%s from %s, proxy %s", a, b, p);
		} else {
			cellf(c->dhcp, sizeof(c->dhcp), "%s from %s", a, b);
		}
	} else if (r->reason == PV_NETBOOT_NO_DHCP_OFFER || r->reason == PV_NETBOOT_NO_LINK) {
		pv_strlcpy(c->dhcp, "no offer", sizeof(c->dhcp));
	} else if (r->reason == PV_NETBOOT_NO_ADDRESS) {
		ip_or_dash(r->pxe_server, b);
		cellf(c->dhcp, sizeof(c->dhcp), "proxy %s, no address", b);
	} else {
		pv_strlcpy(c->dhcp, "-", sizeof(c->dhcp));
	}
	if (r->option43_ok) {
		pv_strlcpy(c->option43, "ok", sizeof(c->option43));
	} else if (r->reason == PV_NETBOOT_NO_PXE_OPTION43) {
		esc(r->menu, text, sizeof(text));
		cellf(c->option43, sizeof(c->option43), "%s%s%s", text[0] ? "wrong: \"" : "none",
			 text, text[0] ? "\"" : "");
	} else {
		pv_strlcpy(c->option43, "-", sizeof(c->option43));
	}
	ip_or_dash(r->tftp_server, c->tftp);
	if (r->first_file[0]) {
		esc(r->first_file, text, sizeof(text));
		pv_strlcpy(c->first_file, text, sizeof(c->first_file));
	} else {
		pv_strlcpy(c->first_file, "-", sizeof(c->first_file));
	}
	if (r->kernel[0] && r->cmdline_file[0]) {
		char k[PV_NETBOOT_TFTP_PATH_MAX], l[PV_NETBOOT_TFTP_PATH_MAX];

		esc(r->kernel, k, sizeof(k));
		esc(r->cmdline_file, l, sizeof(l));
		cellf(c->kernel, sizeof(c->kernel), "%s, %s", k, l);
	} else if (r->failed_file[0]) {
		esc(r->failed_file, text, sizeof(text));
		cellf(c->kernel, sizeof(c->kernel), "%s: %s", text,
			 pv_netboot_reason_name(r->reason));
	} else {
		pv_strlcpy(c->kernel, "-", sizeof(c->kernel));
	}
	if (!check_nfs) {
		pv_strlcpy(c->nfs, "not checked", sizeof(c->nfs));
	} else if (r->nfs_export[0]) {
		esc(r->nfs_export, text, sizeof(text));
		cellf(c->nfs, sizeof(c->nfs), "ok (%s)", text);
	} else if (r->reason >= PV_NETBOOT_NO_NFSROOT && r->reason != PV_NETBOOT_CANCELLED) {
		pv_strlcpy(c->nfs, pv_netboot_reason_name(r->reason), sizeof(c->nfs));
	} else {
		pv_strlcpy(c->nfs, "-", sizeof(c->nfs));
	}
	if (r->booted)
		pv_strlcpy(c->result, "ok", sizeof(c->result));
	else
		pv_strlcpy(c->result, pv_netboot_reason_name(r->reason), sizeof(c->result));
}

static int put_str(json_t *o, const char *key, const char *value)
{
	return json_object_set_new(o, key, value && value[0] ? json_string(value) : json_null());
}

static int put_ip(json_t *o, const char *key, uint32_t ip)
{
	char text[16];

	if (!ip)
		return json_object_set_new(o, key, json_null());
	pv_ipv4_format(ip, text);
	return json_object_set_new(o, key, json_string(text));
}

json_t *pv_netboot_result_json(const struct pv_netboot_result *r)
{
	json_t *o = json_object();
	int bad = 0;

	if (!o)
		return NULL;
	/* Server-given strings may hold any byte; jansson takes only UTF-8, so they go in
	 * escaped as on the terminal. */
	char menu[256], first[PV_NETBOOT_TFTP_PATH_MAX * 4], failed[PV_NETBOOT_TFTP_PATH_MAX * 4],
		kernel[PV_NETBOOT_TFTP_PATH_MAX * 4], cmdline[PV_NETBOOT_TFTP_PATH_MAX * 4],
		prefix[PV_NETBOOT_TFTP_PATH_MAX * 4], detail[sizeof(r->detail) * 4],
		nfs[PV_NETBOOT_EXPORT_PATH_MAX * 4], export_path[PV_NETBOOT_EXPORT_PATH_MAX * 4];

	esc(r->menu, menu, sizeof(menu));
	esc(r->first_file, first, sizeof(first));
	esc(r->failed_file, failed, sizeof(failed));
	esc(r->kernel, kernel, sizeof(kernel));
	esc(r->cmdline_file, cmdline, sizeof(cmdline));
	esc(r->prefix, prefix, sizeof(prefix));
	esc(r->detail, detail, sizeof(detail));
	esc(r->nfs_export, export_path, sizeof(export_path));
	nfs[0] = '\0';
	if (r->has_nfsroot) {
		char server[16], path[PV_NETBOOT_EXPORT_PATH_MAX * 4];

		pv_ipv4_format(r->nfsroot.server, server);
		esc(r->nfsroot.path, path, sizeof(path));
		cellf(nfs, sizeof(nfs), "%s:%s", server, path);
	}
	bad |= json_object_set_new(o, "booted", json_boolean(r->booted));
	bad |= put_str(o, "reason", pv_netboot_reason_name(r->reason));
	bad |= put_str(o, "detail", detail);
	bad |= json_object_set_new(o, "network_attempts", json_integer(r->network_attempts));
	bad |= put_ip(o, "ip", r->ip);
	bad |= put_ip(o, "netmask", r->netmask);
	bad |= put_ip(o, "gateway", r->gateway);
	bad |= put_ip(o, "dhcp_server", r->dhcp_server);
	bad |= put_ip(o, "pxe_server", r->pxe_server);
	bad |= json_object_set_new(o, "proxy", json_boolean(r->proxy));
	bad |= json_object_set_new(o, "option43", json_boolean(r->option43_ok));
	bad |= put_str(o, "menu", menu);
	bad |= put_ip(o, "tftp_server", r->tftp_server);
	bad |= json_object_set_new(o, "prefix", json_string(prefix));
	bad |= json_object_set_new(o, "fell_back_to_root", json_boolean(r->fell_back_to_root));
	bad |= put_str(o, "first_file", first);
	bad |= put_str(o, "failed_file", failed);
	bad |= put_str(o, "kernel", kernel);
	bad |= put_str(o, "cmdline", cmdline);
	bad |= put_str(o, "nfsroot", nfs);
	bad |= put_str(o, "nfs_export", export_path);
	bad |= json_object_set_new(o, "files_read", json_integer(r->files_read));
	bad |= json_object_set_new(o, "bytes_read", json_integer((json_int_t)r->bytes_read));
	bad |= json_object_set_new(o, "elapsed_ms", json_integer((json_int_t)r->elapsed_ms));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
