/* The station's profile file (docs/station.md "Profile"), read with libconfig.
 *
 * One table per level says which settings exist and what they hold, so an unknown name is
 * an error (a mistyped `prest = "network"` must not silently flash the default) and every
 * message names the file, the line and the setting. */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "piprov/fileio.h"
#include "piprov/station.h"
#include "piprov/text.h"
#include "internal.h"
#include "banned.h"

#define SECONDS_MAX 86400.0 /* a day: beyond any grace or board timeout */
#define LIST_MAX 64         /* settings, port globs: as many as the command line takes */

struct profile_storage {
	char **strings;
	size_t string_count;
	const char **settings;
	const char **globs;
};

struct parse_state {
	const char *name;
	struct pv_station_profile_file *out;
	struct profile_storage *store;
};

static int fail_at(const struct parse_state *ps, const config_setting_t *s, const char *what)
{
	const char *path = config_setting_name(s) ? config_setting_name(s) : "(list item)";
	const config_setting_t *parent = config_setting_parent(s);
	const char *parent_name = parent ? config_setting_name(parent) : NULL;

	return pv_fail(PV_ERR_INVALID, "station", "profile '%s' line %u: %s%s%s: %s", ps->name,
		       config_setting_source_line(s), parent_name ? parent_name : "",
		       parent_name ? "." : "", path, what);
}

/* A copy owned by the storage. */
static const char *keep(struct parse_state *ps, const char *text)
{
	char **grown = realloc(ps->store->strings,
			       (ps->store->string_count + 1) * sizeof(*grown));
	char *copy;

	if (!grown)
		return NULL;
	ps->store->strings = grown;
	copy = strdup(text);
	if (copy)
		grown[ps->store->string_count++] = copy;
	return copy;
}

static int get_string(struct parse_state *ps, const config_setting_t *s, const char **out)
{
	const char *text = config_setting_get_string(s);

	if (config_setting_type(s) != CONFIG_TYPE_STRING || !text)
		return fail_at(ps, s, "a \"string\" is expected");
	if (!*text)
		return fail_at(ps, s, "is empty");
	*out = keep(ps, text);
	return *out ? PV_OK : pv_fail(PV_ERR_NOMEM, "station", "out of memory");
}

/* ["A", "B", ...] or ("A", ...) of non-empty strings, at most LIST_MAX. */
static int get_strings(struct parse_state *ps, const config_setting_t *s, const char ***list,
		       size_t *count)
{
	int n = config_setting_length(s);
	int rc;

	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST)
		return fail_at(ps, s, "a list of strings [\"...\", ...] is expected");
	if (n > LIST_MAX)
		return fail_at(ps, s, "more than 64 items");
	*list = calloc((size_t)n + 1, sizeof(**list));
	if (!*list)
		return pv_fail(PV_ERR_NOMEM, "station", "out of memory");
	for (int i = 0; i < n; i++) {
		rc = get_string(ps, config_setting_get_elem(s, (unsigned)i), &(*list)[i]);
		if (rc)
			return rc;
	}
	*count = (size_t)n;
	return PV_OK;
}

static int get_seconds(struct parse_state *ps, const config_setting_t *s, unsigned *ms)
{
	double value;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		value = (double)config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_FLOAT:
		value = config_setting_get_float(s);
		break;
	default:
		return fail_at(ps, s, "a number of seconds is expected");
	}
	if (!(value >= 0 && value <= SECONDS_MAX)) /* also NaN */
		return fail_at(ps, s, "seconds from 0 to 86400 are expected");
	*ms = (unsigned)(value * 1000.0 + 0.5);
	return PV_OK;
}

static int get_ipv4(struct parse_state *ps, const config_setting_t *s, uint32_t *addr)
{
	const char *text;
	int rc = get_string(ps, s, &text);

	if (rc)
		return rc;
	if (pv_ipv4_parse(text, addr))
		return fail_at(ps, s, "an IPv4 address is expected");
	return PV_OK;
}

/* ---- setting names -------------------------------------------------------------------
 * Each level's settings as an enum and its names, so a switch names what it handles and the
 * "known:" list of an unknown setting's message is the table itself. */

enum export_key {
	EX_FILES,
	EX_TFTP_ROOT,
	EX_TEMPLATE_DIR,
	EX_NFS_ROOT,
	EX_RELOAD_PID_FILE,
	EX_DHCP_RANGE,
	EX_SUBNET,
	EX_INTERFACE,
	EX_DOMAIN,
	EX_TFTP_SERVER,
	EX_NFS_SERVER,
	EX_GATEWAY,
	EX_PREFIX_LEN,
	EX_CREATE_NFS_ROOTS,
	EX_COUNT /* not a setting: the name is unknown */
};

static const char *const export_names[EX_COUNT] = {
	[EX_FILES] = "files",
	[EX_TFTP_ROOT] = "tftp_root",
	[EX_TEMPLATE_DIR] = "template_dir",
	[EX_NFS_ROOT] = "nfs_root",
	[EX_RELOAD_PID_FILE] = "reload_pid_file",
	[EX_DHCP_RANGE] = "dhcp_range",
	[EX_SUBNET] = "subnet",
	[EX_INTERFACE] = "interface",
	[EX_DOMAIN] = "domain",
	[EX_TFTP_SERVER] = "tftp_server",
	[EX_NFS_SERVER] = "nfs_server",
	[EX_GATEWAY] = "gateway",
	[EX_PREFIX_LEN] = "prefix_len",
	[EX_CREATE_NFS_ROOTS] = "create_nfs_roots",
};

enum top_key {
	TOP_PRESET,
	TOP_CONFIG,
	TOP_IMAGE,
	TOP_RECOVERY,
	TOP_FIRMWARE_DIR,
	TOP_CHANNEL,
	TOP_SETTINGS,
	TOP_PORTS,
	TOP_IP_POOL,
	TOP_HOSTNAME_PATTERN,
	TOP_INVENTORY,
	TOP_METADATA_DIR,
	TOP_LOG_DIR,
	TOP_LISTEN,
	TOP_TOKEN_FILE,
	TOP_STOP_GRACE,
	TOP_BOARD_TIMEOUT,
	TOP_EXPORTS,
	TOP_COUNT /* not a setting: the name is unknown */
};

static const char *const top_names[TOP_COUNT] = {
	[TOP_PRESET] = "preset",
	[TOP_CONFIG] = "config",
	[TOP_IMAGE] = "image",
	[TOP_RECOVERY] = "recovery",
	[TOP_FIRMWARE_DIR] = "firmware_dir",
	[TOP_CHANNEL] = "channel",
	[TOP_SETTINGS] = "settings",
	[TOP_PORTS] = "ports",
	[TOP_IP_POOL] = "ip_pool",
	[TOP_HOSTNAME_PATTERN] = "hostname_pattern",
	[TOP_INVENTORY] = "inventory",
	[TOP_METADATA_DIR] = "metadata_dir",
	[TOP_LOG_DIR] = "log_dir",
	[TOP_LISTEN] = "listen",
	[TOP_TOKEN_FILE] = "token_file",
	[TOP_STOP_GRACE] = "stop_grace",
	[TOP_BOARD_TIMEOUT] = "board_timeout",
	[TOP_EXPORTS] = "exports",
};

/* The index of name in names[count], count when it is none of them. */
static size_t setting_key(const char *name, const char *const *names, size_t count)
{
	size_t k;

	for (k = 0; k < count; k++)
		if (strcmp(name, names[k]) == 0)
			break;
	return k;
}

/* "unknown setting (known: a, b, ...)" for s, from its level's table. */
static int fail_unknown(const struct parse_state *ps, const config_setting_t *s,
			const char *const *names, size_t count)
{
	char what[512];
	size_t len = pv_strlcpy(what, "unknown setting (known: ", sizeof(what));

	for (size_t k = 0; k < count && len < sizeof(what); k++)
		len += (size_t)snprintf(what + len, sizeof(what) - len, "%s%s", k ? ", " : "",
					names[k]);
	if (len < sizeof(what))
		pv_strlcpy(what + len, ")", sizeof(what) - len);
	return fail_at(ps, s, what);
}

/* ---- exports = { ... } ---------------------------------------------------------------- */

static int parse_export_files(struct parse_state *ps, const config_setting_t *s)
{
	struct pv_station_exports *ex = &ps->out->profile.exports;
	int n = config_setting_length(s);
	int rc;

	if (config_setting_type(s) != CONFIG_TYPE_LIST)
		return fail_at(ps, s, "a list ( { format = \"...\"; path = \"...\"; }, ... ) "
				      "is expected");
	if (n > PV_STATION_EXPORTS_MAX)
		return fail_at(ps, s, "more than 8 export files");
	for (int i = 0; i < n; i++) {
		const config_setting_t *item = config_setting_get_elem(s, (unsigned)i);
		const config_setting_t *format, *path;

		if (config_setting_type(item) != CONFIG_TYPE_GROUP)
			return fail_at(ps, item, "a { format = \"...\"; path = \"...\"; } is expected");
		for (int k = 0; k < config_setting_length(item); k++) {
			const config_setting_t *field = config_setting_get_elem(item, (unsigned)k);
			const char *name = config_setting_name(field);

			if (strcmp(name, "format") != 0 && strcmp(name, "path") != 0)
				return fail_at(ps, field, "unknown setting (known: format, path)");
		}
		format = config_setting_get_member(item, "format");
		path = config_setting_get_member(item, "path");
		if (!format || !path)
			return fail_at(ps, item, "an export file needs both format and path");
		rc = get_string(ps, format, &ex->files[i].format);
		if (!rc)
			rc = get_string(ps, path, &ex->files[i].path);
		if (rc)
			return rc;
		ex->file_count = (size_t)i + 1;
	}
	return PV_OK;
}

static int parse_exports(struct parse_state *ps, const config_setting_t *group)
{
	struct pv_station_exports *ex = &ps->out->profile.exports;
	struct pv_export_opts *o = &ex->opts;

	if (config_setting_type(group) != CONFIG_TYPE_GROUP)
		return fail_at(ps, group, "a group { ... } is expected");
	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		int rc;

		switch ((enum export_key)setting_key(name, export_names, EX_COUNT)) {
		case EX_FILES:
			rc = parse_export_files(ps, s);
			break;
		case EX_TFTP_ROOT:
			/* The folder the TFTP tree is written in is dnsmasq's tftp-root too. */
			rc = get_string(ps, s, &ex->tftp_root);
			o->tftp_root = ex->tftp_root;
			break;
		case EX_TEMPLATE_DIR:
			rc = get_string(ps, s, &o->template_dir);
			break;
		case EX_NFS_ROOT:
			rc = get_string(ps, s, &o->nfs_root);
			break;
		case EX_RELOAD_PID_FILE:
			rc = get_string(ps, s, &ex->reload_pid_file);
			break;
		case EX_DHCP_RANGE:
			rc = get_string(ps, s, &o->dhcp_range);
			break;
		case EX_SUBNET:
			rc = get_string(ps, s, &o->proxy_network);
			break;
		case EX_INTERFACE:
			rc = get_string(ps, s, &o->interface);
			break;
		case EX_DOMAIN:
			rc = get_string(ps, s, &o->domain);
			break;
		case EX_TFTP_SERVER:
			rc = get_ipv4(ps, s, &o->tftp_server);
			o->has_tftp_server = true;
			break;
		case EX_NFS_SERVER:
			rc = get_ipv4(ps, s, &o->server_ip);
			o->has_server_ip = true;
			break;
		case EX_GATEWAY:
			rc = get_ipv4(ps, s, &o->gateway);
			o->has_gateway = true;
			break;
		case EX_PREFIX_LEN: {
			int value = config_setting_get_int(s);

			if (config_setting_type(s) != CONFIG_TYPE_INT || value < 1 || value > 30)
				return fail_at(ps, s, "a prefix length from 1 to 30 is expected");
			o->prefix_len = (unsigned)value;
			rc = PV_OK;
			break;
		}
		case EX_CREATE_NFS_ROOTS:
			if (config_setting_type(s) != CONFIG_TYPE_BOOL)
				return fail_at(ps, s, "true or false is expected");
			o->create_nfs_roots = config_setting_get_bool(s) != 0;
			rc = PV_OK;
			break;
		case EX_COUNT:
		default:
			return fail_unknown(ps, s, export_names, EX_COUNT);
		}
		if (rc)
			return rc;
	}
	return PV_OK;
}

/* ---- the top level ------------------------------------------------------------------ */

static int parse_top(struct parse_state *ps, const config_setting_t *root)
{
	struct pv_station_profile_file *f = ps->out;
	struct pv_station_profile *p = &f->profile;

	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(s), *text = NULL;
		enum top_key k = (enum top_key)setting_key(name, top_names, TOP_COUNT);
		int rc;

		switch (k) {
		case TOP_PRESET:
			rc = get_string(ps, s, &p->flash.preset);
			break;
		case TOP_CONFIG:
			rc = get_string(ps, s, &p->flash.config_path);
			break;
		case TOP_IMAGE:
			rc = get_string(ps, s, &p->flash.image_path);
			break;
		case TOP_RECOVERY:
			rc = get_string(ps, s, &p->flash.recovery_path);
			break;
		case TOP_FIRMWARE_DIR:
			rc = get_string(ps, s, &p->flash.firmware_dir);
			break;
		case TOP_CHANNEL:
			rc = get_string(ps, s, &p->flash.channel);
			if (!rc && strcmp(p->flash.channel, "default") != 0 &&
			    strcmp(p->flash.channel, "latest") != 0)
				return fail_at(ps, s, "\"default\" or \"latest\" is expected");
			break;
		case TOP_SETTINGS:
			rc = get_strings(ps, s, &ps->store->settings, &p->flash.setting_count);
			p->flash.settings = ps->store->settings;
			for (size_t n = 0; !rc && n < p->flash.setting_count; n++)
				if (!strchr(p->flash.settings[n], '=') || p->flash.settings[n][0] == '=')
					return fail_at(ps, s, "each item is a \"KEY=VALUE\"");
			break;
		case TOP_PORTS:
			rc = get_strings(ps, s, &ps->store->globs, &p->port_glob_count);
			p->port_globs = ps->store->globs;
			break;
		case TOP_IP_POOL:
		case TOP_HOSTNAME_PATTERN:
			rc = get_string(ps, s, &text);
			if (rc)
				return rc;
			rc = k == TOP_IP_POOL ? pv_inventory_parse_pool(text, &p->alloc)
				    : pv_inventory_set_hostname_pattern(&p->alloc, text);
			if (rc) {
				char why[200];

				pv_strlcpy(why, pv_last_error(), sizeof(why));
				return fail_at(ps, s, why);
			}
			p->has_alloc = true;
			break;
		case TOP_INVENTORY:
			rc = get_string(ps, s, &f->inventory);
			break;
		case TOP_METADATA_DIR:
			rc = get_string(ps, s, &f->metadata_dir);
			break;
		case TOP_LOG_DIR:
			rc = get_string(ps, s, &f->log_dir);
			break;
		case TOP_LISTEN:
			rc = get_string(ps, s, &f->listen);
			break;
		case TOP_TOKEN_FILE:
			rc = get_string(ps, s, &f->token_file);
			break;
		case TOP_STOP_GRACE:
			rc = get_seconds(ps, s, &f->stop_grace_ms);
			f->has_stop_grace = true;
			break;
		case TOP_BOARD_TIMEOUT:
			rc = get_seconds(ps, s, &f->board_timeout_ms);
			if (!rc && f->board_timeout_ms == 0)
				return fail_at(ps, s, "a board timeout of 0 s gives no board a chance");
			f->has_board_timeout = true;
			break;
		case TOP_EXPORTS:
			rc = parse_exports(ps, s);
			break;
		case TOP_COUNT:
		default:
			return fail_unknown(ps, s, top_names, TOP_COUNT);
		}
		if (rc)
			return rc;
	}
	return PV_OK;
}

/* libconfig would open the file an @include names, relative to the working folder (and a
 * FIFO there would block the parse): a profile is one file. The directive is matched as
 * libconfig's scanner matches it, at the start of a line after blanks, in any case. */
static bool has_include(const char *text)
{
	for (const char *line = text; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		while (*line == ' ' || *line == '\t')
			line++;
		if (strncasecmp(line, "@include", 8) == 0)
			return true;
	}
	return false;
}

int pv_station_profile_parse(const char *text, size_t len, const char *name,
			     struct pv_station_profile_file *out)
{
	struct parse_state ps = { .name = name ? name : "-", .out = out };
	config_t cfg;
	char *copy;
	int rc;

	memset(out, 0, sizeof(*out));
	pv_export_opts_init(&out->profile.exports.opts);
	if (len > PV_STATION_PROFILE_MAX)
		return pv_fail(PV_ERR_TOO_BIG, "station", "profile '%s': more than %u bytes",
			       ps.name, PV_STATION_PROFILE_MAX);
	if (memchr(text, '\0', len))
		return pv_fail(PV_ERR_INVALID, "station", "profile '%s': a NUL byte (not text)",
			       ps.name);
	ps.store = calloc(1, sizeof(*ps.store));
	copy = malloc(len + 1);
	if (!ps.store || !copy) {
		free(ps.store);
		free(copy);
		return pv_fail(PV_ERR_NOMEM, "station", "out of memory");
	}
	out->storage = ps.store;
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (has_include(copy)) {
		rc = pv_fail(PV_ERR_INVALID, "station",
			     "profile '%s': @include is not supported (a profile is one file)",
			     ps.name);
		goto out_free_copy;
	}
	config_init(&cfg);
	if (config_read_string(&cfg, copy) != CONFIG_TRUE) {
		rc = pv_fail(PV_ERR_INVALID, "station", "profile '%s' line %d: %s", ps.name,
			     config_error_line(&cfg),
			     config_error_text(&cfg) ? config_error_text(&cfg) : "syntax error");
		goto out_destroy_config;
	}
	rc = parse_top(&ps, config_root_setting(&cfg));
out_destroy_config:
	config_destroy(&cfg);
out_free_copy:
	free(copy);
	if (rc)
		pv_station_profile_file_release(out);
	return rc;
}

int pv_station_profile_load(const char *path, struct pv_station_profile_file *out)
{
	struct pv_buf text;
	int rc;

	memset(out, 0, sizeof(*out));
	pv_buf_init(&text, SIZE_MAX);
	rc = pv_file_read_raw(path, PV_STATION_PROFILE_MAX, &text);
	if (rc == PV_ERR_TOO_BIG)
		rc = pv_fail(PV_ERR_TOO_BIG, "station", "profile '%s': more than %u bytes", path,
			     PV_STATION_PROFILE_MAX);
	if (!rc)
		rc = pv_station_profile_parse(pv_buf_str(&text), text.len, path, out);
	pv_buf_release(&text);
	return rc;
}

void pv_station_profile_file_release(struct pv_station_profile_file *file)
{
	struct profile_storage *store;

	if (!file || !file->storage)
		return;
	store = file->storage;
	for (size_t i = 0; i < store->string_count; i++)
		free(store->strings[i]);
	free(store->strings);
	free(store->settings);
	free(store->globs);
	free(store);
	memset(file, 0, sizeof(*file));
}
