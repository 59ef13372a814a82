/* The EEPROM properties a network boot depends on, read the way the bootloader reads them:
 * the unconditional part of bootconf.txt, defaults from the property table. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "piprov/eeprom.h"
#include "piprov/eeprom_config.h"
#include "piprov/netboot_boot.h"
#include "piprov/text.h"
#include "banned.h"

void pv_netboot_settings_defaults(const struct pv_soc_info *soc,
				  struct pv_netboot_settings *settings)
{
	struct pv_netboot_settings s;

	memset(&s, 0, sizeof(s));
	s.boot_order = 0xf41;
	s.tftp_prefix = PV_NETBOOT_PREFIX_SERIAL;
	s.dhcp_timeout_ms = 45000;
	s.dhcp_req_timeout_ms = 4000;
	s.tftp_file_timeout_ms = 30000;
	s.net_boot_max_retries = 0;
	pv_strlcpy(s.pxe_option43, "Raspberry Pi Boot", sizeof(s.pxe_option43));
	s.dhcp_option97 = soc ? soc->dhcp_option97_fourcc : 0;
	*settings = s;
}

/* An integer property within the range of the property table. */
static int get_int(const struct pv_eeprom_conf *conf, const char *name, const char *key,
		   int64_t *out)
{
	const struct pv_eeprom_property *prop = pv_eeprom_property_find(key);
	const char *v = pv_eeprom_conf_get(conf, key);
	uint64_t u;
	int64_t value;

	if (!v || !*v)
		return PV_ERR_NOT_FOUND;
	if (v[0] == '-') {
		if (pv_parse_i64(v, &value))
			goto out_invalid;
	} else {
		if (pv_parse_u64(v, 0, &u) || u > INT64_MAX)
			goto out_invalid;
		value = (int64_t)u;
	}
	if (prop && prop->min <= prop->max && (value < prop->min || value > prop->max))
		goto out_invalid;
	*out = value;
	return PV_OK;

out_invalid:
	return pv_fail(PV_ERR_INVALID, "netboot", "'%s': %s=%s is not a number in its range",
		       name, key, v);
}

static int get_ipv4(const struct pv_eeprom_conf *conf, const char *name, const char *key,
		    uint32_t *out)
{
	const char *v = pv_eeprom_conf_get(conf, key);

	if (!v || !*v)
		return PV_ERR_NOT_FOUND;
	if (pv_ipv4_parse(v, out))
		return pv_fail(PV_ERR_INVALID, "netboot", "'%s': %s=%s is not an IPv4 address",
			       name, key, v);
	return PV_OK;
}

int pv_netboot_settings_from_conf(const struct pv_eeprom_conf *conf, const char *name,
				  struct pv_netboot_settings *settings)
{
	struct pv_netboot_settings s = *settings;
	const char *v;
	int64_t n;
	int rc;

	if (!name)
		name = "bootconf.txt";
	rc = pv_eeprom_conf_boot_order(conf, &s.boot_order);
	if (rc)
		return pv_fail(rc, "netboot", "'%s': %s", name, pv_last_error());
	if ((rc = get_int(conf, name, "TFTP_PREFIX", &n)) == PV_OK)
		s.tftp_prefix = (enum pv_netboot_prefix)n;
	else if (rc != PV_ERR_NOT_FOUND)
		return rc;
	v = pv_eeprom_conf_get(conf, "TFTP_PREFIX_STR");
	if (v && pv_strlcpy(s.tftp_prefix_str, v, sizeof(s.tftp_prefix_str)) >=
			 sizeof(s.tftp_prefix_str))
		return pv_fail(PV_ERR_INVALID, "netboot", "'%s': TFTP_PREFIX_STR over 32 characters",
			       name);
	static const struct {
		const char *key;
		size_t offset;
	} timeouts[] = {
		{ "DHCP_TIMEOUT", offsetof(struct pv_netboot_settings, dhcp_timeout_ms) },
		{ "DHCP_REQ_TIMEOUT", offsetof(struct pv_netboot_settings, dhcp_req_timeout_ms) },
		{ "TFTP_FILE_TIMEOUT", offsetof(struct pv_netboot_settings, tftp_file_timeout_ms) },
	};
	for (size_t i = 0; i < PV_ARRAY_SIZE(timeouts); i++) {
		rc = get_int(conf, name, timeouts[i].key, &n);
		if (rc == PV_OK)
			*(unsigned *)((char *)&s + timeouts[i].offset) =
				n > 24 * 3600 * 1000 ? 24u * 3600 * 1000 : (unsigned)n;
		else if (rc != PV_ERR_NOT_FOUND)
			return rc;
	}
	if ((rc = get_int(conf, name, "NET_BOOT_MAX_RETRIES", &n)) == PV_OK)
		s.net_boot_max_retries = n > 1000000 ? 1000000 : (int)n;
	else if (rc != PV_ERR_NOT_FOUND)
		return rc;
	if ((rc = get_int(conf, name, "DHCP_OPTION97", &n)) == PV_OK)
		s.dhcp_option97 = (uint32_t)n;
	else if (rc != PV_ERR_NOT_FOUND)
		return rc;
	if ((rc = get_int(conf, name, "BOOT_UART", &n)) == PV_OK)
		s.boot_uart = n != 0;
	else if (rc != PV_ERR_NOT_FOUND)
		return rc;
	v = pv_eeprom_conf_get(conf, "PXE_OPTION43");
	if (v && *v && pv_strlcpy(s.pxe_option43, v, sizeof(s.pxe_option43)) >=
			       sizeof(s.pxe_option43))
		return pv_fail(PV_ERR_INVALID, "netboot", "'%s': PXE_OPTION43 over 64 characters",
			       name);
	if ((rc = get_ipv4(conf, name, "TFTP_IP", &s.tftp_ip)) == PV_OK)
		s.has_tftp_ip = true;
	else if (rc != PV_ERR_NOT_FOUND)
		return rc;
	/* Static addressing needs TFTP_IP too: "If TFTP_IP and the following options are set
	 * then DHCP is skipped" (eeprom-bootloader.adoc). */
	if ((rc = get_ipv4(conf, name, "CLIENT_IP", &s.client_ip)) == PV_OK &&
	    (rc = get_ipv4(conf, name, "SUBNET", &s.subnet)) == PV_OK) {
		rc = get_ipv4(conf, name, "GATEWAY", &s.gateway);
		s.has_static_ip = s.has_tftp_ip;
	}
	if (rc && rc != PV_ERR_NOT_FOUND)
		return rc;
	v = pv_eeprom_conf_get(conf, "MAC_ADDRESS");
	if (v && *v) {
		if (pv_mac_parse(v, s.mac_address))
			return pv_fail(PV_ERR_INVALID, "netboot",
				       "'%s': MAC_ADDRESS=%s is not a MAC address", name, v);
		s.has_mac_address = true;
	}
	*settings = s;
	return PV_OK;
}

int pv_netboot_settings_from_image(const void *image, size_t len, const char *name,
				   const struct pv_soc_info *soc,
				   struct pv_netboot_settings *settings)
{
	struct pv_eeprom_image img;
	struct pv_eeprom_info info;
	struct pv_eeprom_conf *conf = NULL;
	struct pv_netboot_settings s;
	const unsigned char *text;
	size_t text_len;
	int rc;

	memset(&img, 0, sizeof(img));
	rc = pv_eeprom_parse(&img, image, len, name);
	if (rc)
		return pv_fail(PV_ERR_FORMAT, "netboot", "no bootloader in the EEPROM: %s",
			       pv_last_error());
	if (soc && img.soc && img.soc->soc != soc->soc) {
		rc = pv_fail(PV_ERR_FORMAT, "netboot", "'%s': an EEPROM image for %s, not %s",
			     name ? name : "image", img.soc->name, soc->name);
		goto out_release_image;
	}
	pv_netboot_settings_defaults(soc ? soc : img.soc, &s);
	rc = pv_eeprom_get_info(&img, &info);
	if (rc)
		goto out_release_image;
	s.build_timestamp = info.build_timestamp;
	pv_strlcpy(s.version, info.version, sizeof(s.version));
	rc = pv_eeprom_get_file(&img, PV_EEPROM_BOOTCONF_TXT, &text, &text_len);
	if (rc == PV_ERR_NOT_FOUND) {
		pv_clear_error();
		goto out_done; /* no config: the firmware defaults */
	}
	if (rc)
		goto out_release_image;
	rc = pv_eeprom_conf_parse(text, text_len, name ? name : "bootconf.txt", &conf);
	if (!rc)
		rc = pv_netboot_settings_from_conf(conf, name, &s);
	pv_eeprom_conf_free(conf);
	if (rc)
		goto out_release_image;
out_done:
	*settings = s;
out_release_image:
	pv_eeprom_release(&img);
	return rc;
}
