/* Who am I: serial, MAC, revision, model, bootloader state and the running EEPROM config,
 * each from the first source that has it (netboot-and-identity.md §4): the device tree
 * first, then /proc/cpuinfo or sysfs, then the firmware mailbox. A source that is absent is
 * noted and skipped; a source that is present but malformed is an error naming the file,
 * because guessing past bad data would record the wrong board. */
#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "piprov/eeprom_config.h"
#include "piprov/node.h"
#include "piprov/text.h"
#include "banned.h"

#define DT_PROP_MAX 4096      /* no property we read is anywhere near this */
#define CPUINFO_MAX (256 * 1024)
#define NVMEM_MAX (64 * 1024) /* the blconfig reserved-memory region is 4 KiB in practice */
#define PATH_LEN 512

/* Pi 3 family boot-mode OTP row and bit (otp-bits.adoc; "17:3020000a" once programmed). */
#define OTP_BOOT_MODE_ROW 17
#define OTP_USB_BOOT_BIT (1u << 29)

static const char *const dt_bases[] = { "sys/firmware/devicetree/base", "proc/device-tree" };

struct reader {
	const struct pv_node_root *root;
	const char *dt;                 /* chosen device-tree base */
	struct pv_node_identity *id;
};

const char *pv_node_source_name(enum pv_node_source src)
{
	switch (src) {
	case PV_NODE_SRC_DEVICE_TREE: return "device-tree";
	case PV_NODE_SRC_CPUINFO: return "cpuinfo";
	case PV_NODE_SRC_SYSFS: return "sysfs";
	case PV_NODE_SRC_MAILBOX: return "mailbox";
	case PV_NODE_SRC_NVMEM: return "nvmem";
	case PV_NODE_SRC_NONE: break;
	}
	return "none";
}

void pv_node_identity_init(struct pv_node_identity *id)
{
	memset(id, 0, sizeof(*id));
	pv_buf_init(&id->eeprom_config, PV_NODE_EEPROM_CONFIG_MAX + 1);
	pv_buf_init(&id->warnings, 64 * 1024);
}

void pv_node_identity_release(struct pv_node_identity *id)
{
	if (!id)
		return;
	pv_buf_release(&id->eeprom_config);
	pv_buf_release(&id->warnings);
}

static void warn(struct reader *r, const char *fmt, ...) PV_PRINTF(2, 3);
static void warn(struct reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	/* A full warnings buffer only loses warnings, never the identity itself. */
	if (pv_buf_vappendf(&r->id->warnings, fmt, ap) == 0)
		pv_buf_putc(&r->id->warnings, '\n');
	va_end(ap);
}

/* Read a device-tree property. 1 = absent (not an error), 0 = read, < 0 = failure. */
static int dt_read(struct reader *r, const char *prop, struct pv_buf *out)
{
	char path[PATH_LEN];
	int rc;

	if (!r->dt)
		return 1;
	snprintf(path, sizeof(path), "%s/%s", r->dt, prop);
	if (!pv_node_root_exists(r->root, path))
		return 1;
	pv_buf_reset(out);
	rc = pv_node_root_read(r->root, path, DT_PROP_MAX, out);
	return rc < 0 ? rc : 0;
}

/* Re-record a decoder failure with the property's path in front. */
static int dt_bad(struct reader *r, const char *prop, int status)
{
	char detail[256];

	pv_strlcpy(detail, pv_last_error(), sizeof(detail));
	return pv_fail(status, "node", "'/%s/%s' in root '%s': %s", r->dt, prop, r->root->path,
		       detail);
}

static int dt_u32(struct reader *r, const char *prop, uint32_t *out)
{
	struct pv_buf b = PV_BUF_INIT(DT_PROP_MAX + 1);
	int rc = dt_read(r, prop, &b);

	if (rc == 0 && pv_node_dt_u32(b.data, b.len, out))
		rc = dt_bad(r, prop, PV_ERR_FORMAT);
	pv_buf_release(&b);
	return rc;
}

static int dt_string(struct reader *r, const char *prop, char *out, size_t size)
{
	struct pv_buf b = PV_BUF_INIT(DT_PROP_MAX + 1);
	int rc = dt_read(r, prop, &b);

	if (rc == 0 && pv_node_dt_string(b.data, b.len, out, size))
		rc = dt_bad(r, prop, PV_ERR_FORMAT);
	pv_buf_release(&b);
	return rc;
}

/* Try the hyphenated name the firmware uses, then the underscore one device-tree.adoc
 * documents (netboot-and-identity.md §4.3). */
static int dt_u32_either(struct reader *r, const char *hyphen, uint32_t *out)
{
	char underscore[128];
	int rc = dt_u32(r, hyphen, out);

	if (rc != 1)
		return rc;
	pv_strlcpy(underscore, hyphen, sizeof(underscore));
	for (char *p = underscore; *p; p++)
		if (*p == '-')
			*p = '_';
	return dt_u32(r, underscore, out);
}

static int read_cpuinfo(struct reader *r, struct pv_node_cpuinfo *info, bool *have)
{
	struct pv_buf b = PV_BUF_INIT(CPUINFO_MAX + 1);
	int rc;

	*have = false;
	if (!pv_node_root_exists(r->root, "proc/cpuinfo"))
		return PV_OK;
	rc = pv_node_root_read(r->root, "proc/cpuinfo", CPUINFO_MAX, &b);
	if (rc == 0) {
		rc = pv_node_cpuinfo_parse(pv_buf_str(&b), b.len, info);
		if (rc) {
			char detail[256];
			pv_strlcpy(detail, pv_last_error(), sizeof(detail));
			rc = pv_fail(rc, "node", "'/proc/cpuinfo' in root '%s': %s", r->root->path,
				     detail);
		}
	}
	*have = rc == 0;
	pv_buf_release(&b);
	return rc;
}

static int read_serial(struct reader *r, const struct pv_node_cpuinfo *cpu,
		       struct pv_node_mailbox *mb)
{
	char text[64];
	int digits, rc;

	rc = dt_string(r, "serial-number", text, sizeof(text));
	if (rc < 0)
		return rc;
	if (rc == 0) {
		if (pv_serial_parse(text, &r->id->serial, &digits))
			return pv_fail(PV_ERR_FORMAT, "node",
				       "'/%s/serial-number' in root '%s': '%s' is not an 8 or 16 "
				       "digit hex serial", r->dt, r->root->path, text);
		r->id->serial_source = PV_NODE_SRC_DEVICE_TREE;
		return PV_OK;
	}
	if (cpu && cpu->has_serial) {
		r->id->serial = cpu->serial;
		r->id->serial_source = PV_NODE_SRC_CPUINFO;
		return PV_OK;
	}
	if (mb && pv_node_mailbox_serial(mb, &r->id->serial) == 0) {
		r->id->serial_source = PV_NODE_SRC_MAILBOX;
		return PV_OK;
	}
	warn(r, "serial: not in the device tree, /proc/cpuinfo or the mailbox");
	return PV_OK;
}

static int read_revision(struct reader *r, const struct pv_node_cpuinfo *cpu,
			 struct pv_node_mailbox *mb)
{
	int rc = dt_u32(r, "system/linux,revision", &r->id->revision_code);

	if (rc < 0)
		return rc;
	if (rc == 0)
		r->id->revision_source = PV_NODE_SRC_DEVICE_TREE;
	else if (cpu && cpu->has_revision) {
		r->id->revision_code = cpu->revision;
		r->id->revision_source = PV_NODE_SRC_CPUINFO;
	} else if (mb && pv_node_mailbox_revision(mb, &r->id->revision_code) == 0) {
		r->id->revision_source = PV_NODE_SRC_MAILBOX;
	} else {
		warn(r, "revision: not in the device tree, /proc/cpuinfo or the mailbox");
		return PV_OK;
	}
	if (pv_revision_decode(r->id->revision_code, &r->id->revision) == 0)
		r->id->revision_decoded = true;
	else
		warn(r, "revision: %s", pv_last_error());
	return PV_OK;
}

static int read_mac_sysfs(struct reader *r)
{
	struct pv_buf b = PV_BUF_INIT(256);
	const char *path = "sys/class/net/eth0/address";
	int rc;

	if (!pv_node_root_exists(r->root, path))
		return 1;
	rc = pv_node_root_read(r->root, path, 64, &b);
	if (rc == 0) {
		size_t n = b.len;
		while (n > 0 && (b.data[n - 1] == '\n' || b.data[n - 1] == '\r'))
			n--;
		pv_buf_truncate(&b, n);
		if (pv_mac_parse(pv_buf_str(&b), r->id->mac))
			rc = pv_fail(PV_ERR_FORMAT, "node", "'/%s' in root '%s': '%s' is not a MAC "
				     "address", path, r->root->path, pv_buf_str(&b));
		else
			r->id->mac_source = PV_NODE_SRC_SYSFS;
	}
	pv_buf_release(&b);
	return rc;
}

static int read_mac(struct reader *r, struct pv_node_mailbox *mb)
{
	char node[256], prop[PATH_LEN];
	struct pv_buf b = PV_BUF_INIT(DT_PROP_MAX + 1);
	int rc;

	/* The node path changed between kernels; the alias names it (netboot §4.1). */
	rc = dt_string(r, "aliases/ethernet0", node, sizeof(node));
	if (rc < 0)
		goto out;
	if (rc == 0) {
		if (node[0] != '/') {
			rc = pv_fail(PV_ERR_FORMAT, "node", "'/%s/aliases/ethernet0' in root '%s': "
				     "'%s' is not a device-tree path", r->dt, r->root->path, node);
			goto out;
		}
		snprintf(prop, sizeof(prop), "%s/local-mac-address", node + 1);
		rc = dt_read(r, prop, &b);
		if (rc < 0)
			goto out;
		if (rc == 0) {
			if (pv_node_dt_mac(b.data, b.len, r->id->mac)) {
				rc = dt_bad(r, prop, PV_ERR_FORMAT);
				goto out;
			}
			r->id->mac_source = PV_NODE_SRC_DEVICE_TREE;
			goto out;
		}
	}
	rc = read_mac_sysfs(r);
	if (rc <= 0)
		goto out;
	rc = PV_OK;
	if (mb && pv_node_mailbox_mac(mb, r->id->mac) == 0)
		r->id->mac_source = PV_NODE_SRC_MAILBOX;
	else
		warn(r, "mac: not in the device tree, /sys/class/net/eth0 or the mailbox");
out:
	pv_buf_release(&b);
	return rc < 0 ? rc : PV_OK;
}

static int read_bootloader(struct reader *r)
{
	struct pv_node_bootloader *bl = &r->id->bootloader;
	static const struct {
		const char *name;
		unsigned bit;
		size_t offset;
	} cells[] = {
		{ "chosen/bootloader/build-timestamp", PV_NODE_BL_BUILD_TIMESTAMP,
		  offsetof(struct pv_node_bootloader, build_timestamp) },
		{ "chosen/bootloader/update-timestamp", PV_NODE_BL_UPDATE_TIMESTAMP,
		  offsetof(struct pv_node_bootloader, update_timestamp) },
		{ "chosen/bootloader/capabilities", PV_NODE_BL_CAPABILITIES,
		  offsetof(struct pv_node_bootloader, capabilities) },
		{ "chosen/bootloader/boot-mode", PV_NODE_BL_BOOT_MODE,
		  offsetof(struct pv_node_bootloader, boot_mode) },
		{ "chosen/bootloader/partition", PV_NODE_BL_PARTITION,
		  offsetof(struct pv_node_bootloader, partition) },
		{ "chosen/bootloader/tryboot", PV_NODE_BL_TRYBOOT,
		  offsetof(struct pv_node_bootloader, tryboot) },
		{ "chosen/bootloader/signed-boot", PV_NODE_BL_SIGNED_BOOT,
		  offsetof(struct pv_node_bootloader, signed_boot) },
	};
	int rc;

	rc = dt_string(r, "chosen/bootloader/version", bl->version, sizeof(bl->version));
	if (rc < 0)
		return rc;
	if (rc == 0)
		bl->present |= PV_NODE_BL_VERSION;
	for (size_t i = 0; i < PV_ARRAY_SIZE(cells); i++) {
		uint32_t *field = (uint32_t *)((char *)bl + cells[i].offset);
		rc = dt_u32_either(r, cells[i].name, field);
		if (rc < 0)
			return rc;
		if (rc == 0)
			bl->present |= cells[i].bit;
	}
	return PV_OK;
}

/* `vcgencmd bootloader_version`: "version HASH (release)", "timestamp N", "update-time N",
 * "capabilities 0x..." lines; fills only what the device tree did not give. */
static void parse_bootloader_version(struct pv_node_bootloader *bl, const char *text)
{
	const char *line = text;

	while (*line) {
		char buf[160], key[32], value[96];
		size_t n = strcspn(line, "\n");
		if (n < sizeof(buf)) {
			uint32_t v;
			memcpy(buf, line, n);
			buf[n] = '\0';
			if (sscanf(buf, "%31s %95s", key, value) == 2) {
				if (!(bl->present & PV_NODE_BL_VERSION) && strcmp(key, "version") == 0 &&
				    pv_strlcpy(bl->version, value, sizeof(bl->version)) <
					    sizeof(bl->version))
					bl->present |= PV_NODE_BL_VERSION;
				else if (!(bl->present & PV_NODE_BL_BUILD_TIMESTAMP) &&
					 strcmp(key, "timestamp") == 0 &&
					 pv_parse_u32(value, 10, &v) == 0) {
					bl->build_timestamp = v;
					bl->present |= PV_NODE_BL_BUILD_TIMESTAMP;
				} else if (!(bl->present & PV_NODE_BL_UPDATE_TIMESTAMP) &&
					   strcmp(key, "update-time") == 0 &&
					   pv_parse_u32(value, 10, &v) == 0) {
					bl->update_timestamp = v;
					bl->present |= PV_NODE_BL_UPDATE_TIMESTAMP;
				} else if (!(bl->present & PV_NODE_BL_CAPABILITIES) &&
					   strcmp(key, "capabilities") == 0 &&
					   pv_parse_u32(value, 0, &v) == 0) {
					bl->capabilities = v;
					bl->present |= PV_NODE_BL_CAPABILITIES;
				}
			}
		}
		line += n;
		if (*line == '\n')
			line++;
	}
}

static int set_config_text(struct reader *r, const unsigned char *data, size_t len,
			   const char *what)
{
	size_t n = 0;

	/* The nvmem region is the whole reserved block: the text ends at the first NUL or
	 * erased (0xff) byte. */
	while (n < len && data[n] != '\0' && data[n] != 0xff)
		n++;
	if (n > PV_NODE_EEPROM_CONFIG_MAX)
		return pv_fail(PV_ERR_TOO_BIG, "node", "%s: config of %zu bytes is over %d", what, n,
			       PV_NODE_EEPROM_CONFIG_MAX);
	if (!pv_text_is_printable((const char *)data, n))
		return pv_fail(PV_ERR_FORMAT, "node", "%s: config text has control bytes", what);
	pv_buf_reset(&r->id->eeprom_config);
	return pv_buf_append(&r->id->eeprom_config, data, n);
}

/* rpi-eeprom-config read_current_config(): aliases/blconfig names a DT node; the nvmem
 * device whose of_node is that node holds the config text. 1 = not available. */
static int read_config_nvmem(struct reader *r)
{
	char node[256], want[PATH_LEN], path[PATH_LEN], have[PATH_LEN];
	struct dirent *e;
	DIR *dir;
	int rc, fd;

	rc = dt_string(r, "aliases/blconfig", node, sizeof(node));
	if (rc)
		return rc;
	if (node[0] != '/')
		return pv_fail(PV_ERR_FORMAT, "node", "'/%s/aliases/blconfig' in root '%s': '%s' is "
			       "not a device-tree path", r->dt, r->root->path, node);
	snprintf(path, sizeof(path), "%s%s", r->dt, node);
	if (pv_node_root_resolve(r->root, path, want, sizeof(want)))
		return 1;
	if (!pv_node_root_exists(r->root, "sys/bus/nvmem/devices"))
		return 1;
	fd = pv_node_root_openat(r->root, "sys/bus/nvmem/devices", O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return pv_fail_errno(errno, "node", "cannot list '/sys/bus/nvmem/devices'");
	}
	rc = 1;
	while ((e = readdir(dir))) {
		struct pv_buf b = PV_BUF_INIT(NVMEM_MAX + 1);
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "sys/bus/nvmem/devices/%s/of_node", e->d_name);
		if (pv_node_root_resolve(r->root, path, have, sizeof(have)) ||
		    strcmp(have, want) != 0)
			continue;
		snprintf(path, sizeof(path), "sys/bus/nvmem/devices/%s/nvmem", e->d_name);
		rc = pv_node_root_read(r->root, path, NVMEM_MAX, &b);
		if (rc == 0) {
			char what[PATH_LEN + 8];
			snprintf(what, sizeof(what), "'/%s'", path);
			rc = set_config_text(r, b.data, b.len, what);
			if (rc == 0)
				r->id->eeprom_config_source = PV_NODE_SRC_NVMEM;
		}
		pv_buf_release(&b);
		break;
	}
	closedir(dir);
	/* Keep the detail of a failure (it names the file); a device that is simply absent
	 * left errors of the lookups behind. */
	if (rc >= 0)
		pv_clear_error();
	return rc;
}

static int read_eeprom_state(struct reader *r, struct pv_node_mailbox *mb)
{
	int rc = read_config_nvmem(r);

	if (rc < 0)
		return rc;
	if (rc == 1 && mb) {
		struct pv_buf text = PV_BUF_INIT(8192);
		if (pv_node_mailbox_gencmd(mb, "bootloader_config", &text) == 0 &&
		    set_config_text(r, text.data, text.len, "mailbox bootloader_config") == 0)
			r->id->eeprom_config_source = PV_NODE_SRC_MAILBOX;
		else
			warn(r, "eeprom config: %s", pv_last_error());
		pv_buf_release(&text);
	} else if (rc == 1) {
		warn(r, "eeprom config: no blconfig nvmem device and no mailbox");
	}
	if (mb && (r->id->bootloader.present & (PV_NODE_BL_VERSION | PV_NODE_BL_BUILD_TIMESTAMP)) !=
			  (PV_NODE_BL_VERSION | PV_NODE_BL_BUILD_TIMESTAMP)) {
		struct pv_buf text = PV_BUF_INIT(8192);
		if (pv_node_mailbox_gencmd(mb, "bootloader_version", &text) == 0)
			parse_bootloader_version(&r->id->bootloader, pv_buf_str(&text));
		pv_buf_release(&text);
	}
	return PV_OK;
}

static void read_otp_boot(struct reader *r, struct pv_node_mailbox *mb)
{
	struct pv_buf text = PV_BUF_INIT(64 * 1024);

	if (!mb) {
		warn(r, "otp: no mailbox, cannot read OTP row %d", OTP_BOOT_MODE_ROW);
		return;
	}
	if (pv_node_mailbox_gencmd(mb, "otp_dump", &text) == 0 &&
	    pv_node_otp_row(pv_buf_str(&text), text.len, OTP_BOOT_MODE_ROW, &r->id->otp_boot_row) ==
		    0)
		r->id->has_otp_boot_row = true;
	else
		warn(r, "otp: %s", pv_last_error());
	pv_buf_release(&text);
}

int pv_node_identity_read(const struct pv_node_root *root, struct pv_node_mailbox *mb,
			  struct pv_node_identity *id)
{
	struct reader r = { root, NULL, id };
	struct pv_node_cpuinfo cpu;
	bool have_cpu;
	char compatible_buf[DT_PROP_MAX];
	int rc;

	for (size_t i = 0; i < PV_ARRAY_SIZE(dt_bases); i++)
		if (pv_node_root_exists(root, dt_bases[i])) {
			r.dt = dt_bases[i];
			break;
		}
	if (!r.dt)
		warn(&r, "device tree: neither /sys/firmware/devicetree/base nor /proc/device-tree");
	rc = read_cpuinfo(&r, &cpu, &have_cpu);
	if (rc)
		return rc;
	if ((rc = read_serial(&r, have_cpu ? &cpu : NULL, mb)) ||
	    (rc = read_revision(&r, have_cpu ? &cpu : NULL, mb)))
		return rc;
	if (id->serial_source == PV_NODE_SRC_NONE && id->revision_source == PV_NODE_SRC_NONE)
		return pv_fail(PV_ERR_NOT_FOUND, "node", "root '%s': no serial number or revision "
			       "code anywhere (is this a Raspberry Pi?)", root->path);
	rc = dt_string(&r, "model", id->model, sizeof(id->model));
	if (rc < 0)
		return rc;
	if (rc == 1 && have_cpu)
		pv_strlcpy(id->model, cpu.model, sizeof(id->model));
	{
		struct pv_buf b = PV_BUF_INIT(DT_PROP_MAX + 1);
		rc = dt_read(&r, "compatible", &b);
		if (rc == 0 && pv_node_dt_string_at(b.data, b.len, 0, compatible_buf,
						    sizeof(compatible_buf)) == 0)
			pv_strlcpy(id->compatible, compatible_buf, sizeof(id->compatible));
		else if (rc == 0)
			rc = dt_bad(&r, "compatible", PV_ERR_FORMAT);
		pv_buf_release(&b);
		if (rc < 0)
			return rc;
	}
	if ((rc = read_mac(&r, mb)))
		return rc;
	rc = dt_string(&r, "chosen/rpi-duid", id->duid, sizeof(id->duid));
	if (rc < 0)
		return rc;
	rc = dt_u32(&r, "chosen/rpi-boardrev-ext", &id->boardrev_ext);
	if (rc < 0)
		return rc;
	id->has_boardrev_ext = rc == 0;
	if ((rc = read_bootloader(&r)))
		return rc;
	if (pv_node_identity_has_eeprom(id)) {
		if ((rc = read_eeprom_state(&r, mb)))
			return rc;
	} else if (id->revision_decoded) {
		/* No EEPROM (Pi 3 family): network/USB boot is an OTP bit. */
		read_otp_boot(&r, mb);
	}
	pv_clear_error();
	return PV_OK;
}

const struct pv_soc_info *pv_node_identity_soc(const struct pv_node_identity *id)
{
	return id->revision_decoded ? id->revision.soc : NULL;
}

bool pv_node_identity_has_eeprom(const struct pv_node_identity *id)
{
	return id->revision_decoded && id->revision.board &&
	       (id->revision.board->features & PV_BOARD_HAS_EEPROM);
}

bool pv_node_identity_otp_boot_enabled(const struct pv_node_identity *id)
{
	return id->has_otp_boot_row && (id->otp_boot_row & OTP_USB_BOOT_BIT);
}

enum pv_node_netboot_route pv_node_netboot_route(const struct pv_node_identity *id)
{
	unsigned features;

	if (!id->revision_decoded || !id->revision.board)
		return PV_NODE_NETBOOT_NONE;
	features = id->revision.board->features;
	if (features & PV_BOARD_HAS_EEPROM)
		return PV_NODE_NETBOOT_EEPROM;
	if (features & PV_BOARD_NETBOOT_IN_ROM)
		return PV_NODE_NETBOOT_IN_ROM;
	/* A Pi 2B has the bit only from v1.2 on, whose revision code names a BCM2837. */
	if ((features & PV_BOARD_NETBOOT_OTP) && id->revision.soc &&
	    id->revision.soc->soc == PV_SOC_BCM2837)
		return PV_NODE_NETBOOT_OTP;
	return PV_NODE_NETBOOT_NONE;
}

bool pv_node_config_get(const char *config, const char *key, char *out, size_t size)
{
	struct pv_eeprom_conf *conf;
	const char *value;
	bool found = false;

	/* The EEPROM library's model decides what counts (scopes, [none], [config.txt]). */
	if (pv_eeprom_conf_parse(config, strlen(config), "running config", &conf)) {
		pv_clear_error();
		return false;
	}
	value = pv_eeprom_conf_get(conf, key);
	if (value && strlen(value) < size) {
		memcpy(out, value, strlen(value) + 1);
		found = true;
	}
	pv_eeprom_conf_free(conf);
	return found;
}

void pv_node_identity_tftp_prefix(const struct pv_node_identity *id, char *out, size_t size)
{
	char value[64], serial8[9], mac[PV_MAC_STRLEN];
	const char *config = pv_buf_str(&id->eeprom_config);
	uint32_t mode = 0;

	if (pv_node_config_get(config, "TFTP_PREFIX", value, sizeof(value)))
		pv_parse_u32(value, 0, &mode);
	if (mode == 1 && pv_node_config_get(config, "TFTP_PREFIX_STR", value, sizeof(value))) {
		pv_strlcpy(out, value, size);
	} else if (mode == 2 && id->mac_source != PV_NODE_SRC_NONE) {
		pv_mac_format(id->mac, '-', mac);
		snprintf(out, size, "%s/", mac);
	} else if (id->serial_source != PV_NODE_SRC_NONE) {
		pv_serial8_format(id->serial, serial8);
		snprintf(out, size, "%s/", serial8);
	} else {
		pv_strlcpy(out, "", size);
	}
}
