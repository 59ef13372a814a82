/* What a parsed boot log means: stable names, JSON, and the plain-language diagnosis. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/board.h"
#include "piprov/uart.h"
#include "internal.h"
#include "banned.h"

static const char *const result_names[] = {
	[PV_UART_RESULT_UNKNOWN] = "unknown",
	[PV_UART_RESULT_OK] = "ok",
	[PV_UART_RESULT_FAILED] = "failed",
	[PV_UART_RESULT_INCOMPLETE] = "incomplete",
	[PV_UART_RESULT_NOT_NETWORK] = "not-network",
};

static const char *const reason_names[] = {
	[PV_UART_REASON_NONE] = "none",
	[PV_UART_REASON_NO_LINK] = "no-link",
	[PV_UART_REASON_NO_DHCP_OFFER] = "no-dhcp-offer",
	[PV_UART_REASON_NO_PXE_OPTION] = "no-pxe-option43",
	[PV_UART_REASON_DHCP_INCOMPLETE] = "dhcp-incomplete",
	[PV_UART_REASON_TFTP_NOT_FOUND] = "tftp-file-not-found",
	[PV_UART_REASON_TFTP_ERROR] = "tftp-error",
	[PV_UART_REASON_TFTP_TIMEOUT] = "tftp-timeout",
	[PV_UART_REASON_TFTP_UNREACHABLE] = "tftp-unreachable",
	[PV_UART_REASON_NETBOOT_CANCELLED] = "netboot-cancelled",
	[PV_UART_REASON_NETBOOT_INIT_FAILED] = "netboot-init-failed",
	[PV_UART_REASON_WAITING_FOR_LINK] = "waiting-for-link",
	[PV_UART_REASON_WAITING_FOR_DHCP] = "waiting-for-dhcp",
	[PV_UART_REASON_DHCP_IN_PROGRESS] = "dhcp-in-progress",
	[PV_UART_REASON_TFTP_IN_PROGRESS] = "tftp-in-progress",
	[PV_UART_REASON_FIRMWARE_INCOMPATIBLE] = "firmware-incompatible",
	[PV_UART_REASON_MOVED_ON] = "moved-on",
};

const char *pv_uart_result_name(enum pv_uart_result result)
{
	if ((size_t)result < PV_ARRAY_SIZE(result_names) && result_names[result])
		return result_names[result];
	return "unknown";
}

const char *pv_uart_reason_name(enum pv_uart_reason reason)
{
	if ((size_t)reason < PV_ARRAY_SIZE(reason_names) && reason_names[reason])
		return reason_names[reason];
	return "none";
}

/* ---- JSON ---- */

/* Adds key: string, or null for "" (unknown). Returns non-zero on allocation failure. */
static int put_text(json_t *obj, const char *key, const char *value)
{
	return json_object_set_new(obj, key, value[0] ? json_string(value) : json_null());
}

static json_t *paths_json(const struct pv_uart_report *r, unsigned first, unsigned count)
{
	json_t *paths = json_array();

	for (unsigned i = first; paths && i < first + count && i < r->tftp_path_count; i++)
		if (json_array_append_new(paths, json_string(r->tftp_paths[i]))) {
			json_decref(paths);
			return NULL;
		}
	return paths;
}

/* [{mode, mode_code, order, result, reason, failed_path, tftp_paths}] in order */
static json_t *attempts_json(const struct pv_uart_report *r)
{
	json_t *list = json_array();

	for (unsigned i = 0; list && i < r->attempt_count; i++) {
		const struct pv_uart_attempt *a = &r->attempts[i];
		json_t *one = json_object();
		int bad = !one;

		bad |= json_object_set_new(one, "mode", json_string(a->mode));
		bad |= json_object_set_new(one, "mode_code",
					   a->mode_code >= 0 ? json_integer(a->mode_code) : json_null());
		bad |= put_text(one, "order", a->order);
		bad |= json_object_set_new(one, "result", json_string(pv_uart_result_name(a->result)));
		bad |= json_object_set_new(one, "reason", json_string(pv_uart_reason_name(a->reason)));
		bad |= put_text(one, "failed_path", a->failed_path);
		bad |= json_object_set_new(one, "tftp_paths",
					   paths_json(r, a->first_path, a->path_count));
		if (bad || json_array_append_new(list, one)) {
			json_decref(one);
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

/* The report's keys into obj; non-zero on allocation failure. */
static int report_fields(const struct pv_uart_report *r, json_t *obj);
static int explain(const struct pv_uart_report *r, struct pv_buf *out);

int pv_uart_report_to_json(const struct pv_uart_report *r, struct pv_buf *out)
{
	json_t *obj = json_object();
	char *text = NULL;
	int rc = PV_OK;

	if (!obj || report_fields(r, obj)) {
		rc = pv_fail(PV_ERR_NOMEM, "uart", "out of memory building the JSON report");
		goto out_free_obj;
	}
	text = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (!text) {
		rc = pv_fail(PV_ERR_NOMEM, "uart", "out of memory writing the JSON report");
		goto out_free_obj;
	}
	rc = pv_buf_append_str(out, text);
	free(text);
out_free_obj:
	json_decref(obj);
	return rc;
}

static int report_fields(const struct pv_uart_report *r, json_t *obj)
{
	int bad = 0;

	bad |= put_text(obj, "serial8", r->serial8);
	bad |= put_text(obj, "boardrev", r->boardrev_text);
	bad |= put_text(obj, "mac", r->mac);
	bad |= put_text(obj, "boot_mode", r->boot_mode);
	bad |= put_text(obj, "boot_order", r->boot_order);
	bad |= put_text(obj, "client_ip", r->client_ip);
	bad |= put_text(obj, "netmask", r->netmask);
	bad |= put_text(obj, "gateway", r->gateway);
	bad |= put_text(obj, "tftp_server", r->tftp_server);
	bad |= put_text(obj, "dhcp_server", r->dhcp_server);
	bad |= put_text(obj, "tftp_prefix", r->tftp_prefix);
	bad |= json_object_set_new(obj, "tftp_paths", paths_json(r, 0, r->tftp_path_count));
	bad |= json_object_set_new(obj, "tftp_paths_dropped", json_integer(r->tftp_paths_dropped));
	bad |= put_text(obj, "bootloader_version", r->bootloader_version);
	bad |= put_text(obj, "bootloader_date", r->bootloader_date);
	bad |= json_object_set_new(obj, "build_timestamp",
				   r->build_timestamp ? json_integer((json_int_t)r->build_timestamp)
						      : json_null());
	bad |= json_object_set_new(obj, "result", json_string(pv_uart_result_name(r->result)));
	bad |= json_object_set_new(obj, "reason", json_string(pv_uart_reason_name(r->reason)));
	bad |= put_text(obj, "failed_path", r->failed_path);
	bad |= put_text(obj, "tftp_error", r->tftp_error);
	bad |= put_text(obj, "loaded_path", r->loaded_path);
	bad |= json_object_set_new(obj, "fell_back_to_root", json_boolean(r->fell_back_to_root));
	bad |= json_object_set_new(obj, "mac_mismatch", json_boolean(r->mac_mismatch));
	bad |= json_object_set_new(obj, "dhcp_offers", json_integer(r->dhcp_offers));
	bad |= json_object_set_new(obj, "pxe_option43", json_boolean(r->pxe_option_seen));
	bad |= json_object_set_new(obj, "network_attempts", json_integer(r->network_attempts));
	bad |= json_object_set_new(obj, "boots", json_integer(r->boots));
	bad |= json_object_set_new(obj, "lines", json_integer((json_int_t)r->lines));
	bad |= json_object_set_new(obj, "noise_bytes", json_integer((json_int_t)r->noise_bytes));
	bad |= json_object_set_new(obj, "long_lines", json_integer((json_int_t)r->long_lines));
	bad |= json_object_set_new(obj, "log_format",
				   json_string(r->format == PV_UART_FORMAT_BOOTCODE ? "bootcode"
					       : r->format == PV_UART_FORMAT_BOOTLOADER ? "bootloader"
											  : "unknown"));
	bad |= json_object_set_new(obj, "attempts", attempts_json(r));
	bad |= json_object_set_new(obj, "attempts_dropped", json_integer(r->attempts_dropped));
	return bad;
}

/* ---- diagnosis ---- */

static const char *or_unknown(const char *s)
{
	return s[0] ? s : "(unknown)";
}

/* The folder part of a TFTP path ("6e87a417" of "6e87a417/start4.elf"), into out. */
static void folder_of(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (slash)
		snprintf(out, size, "%.*s", (int)(slash - path), path);
	else
		out[0] = '\0';
}

/* The board's chip: from its revision, its MAC's OUI, or the log's program (bootcode.bin
 * prints the log of a Pi 3 or older). NULL when none of them tells. */
static const struct pv_soc_info *report_soc(const struct pv_uart_report *r)
{
	struct pv_revision rev;
	uint8_t mac[6];
	const struct pv_soc_info *soc = NULL;

	if (r->boardrev && pv_revision_decode(r->boardrev, &rev) == PV_OK)
		soc = rev.soc;
	if (!soc && r->mac[0] && pv_mac_parse(r->mac, mac) == PV_OK)
		soc = pv_soc_by_mac(mac);
	if (!soc && r->format == PV_UART_FORMAT_BOOTCODE)
		soc = pv_soc_info(PV_SOC_BCM2837);
	return soc;
}

/* A board whose network boot is the Pi 3's (boot ROM / bootcode.bin, no EEPROM). */
static bool is_pi3(const struct pv_uart_report *r)
{
	const struct pv_soc_info *soc = report_soc(r);

	return soc && soc->eeprom_size == 0;
}

static int describe_attempts(const struct pv_uart_report *r, struct pv_buf *out)
{
	int rc = 0;

	for (unsigned i = 0; i < r->attempt_count; i++) {
		const struct pv_uart_attempt *a = &r->attempts[i];
		char code[16] = "";

		if (a->mode_code >= 0)
			snprintf(code, sizeof(code), " (%02x)", (unsigned)a->mode_code);
		rc |= pv_buf_appendf(out, "%s%u. %s%s: %s", i == 0 ? "attempts:   " : "            ",
				     i + 1, a->mode, code, pv_uart_result_name(a->result));
		if (a->reason != PV_UART_REASON_NONE)
			rc |= pv_buf_appendf(out, " (%s%s%s)", pv_uart_reason_name(a->reason),
					     a->failed_path[0] ? ": " : "", a->failed_path);
		rc |= pv_buf_appendf(out, "%s\n", a->path_count ? ", " : "");
		/* the requests of each attempt, after it */
		for (unsigned k = a->first_path; k < a->first_path + a->path_count &&
						 k < r->tftp_path_count; k++)
			rc |= pv_buf_appendf(out, "               %s\n", r->tftp_paths[k]);
	}
	if (r->attempts_dropped)
		rc |= pv_buf_appendf(out, "            ... and %u more\n", r->attempts_dropped);
	return rc;
}

static int describe_board(const struct pv_uart_report *r, struct pv_buf *out)
{
	char model[160] = "";
	struct pv_revision rev;
	int rc = 0;

	if (r->boardrev && pv_revision_decode(r->boardrev, &rev) == PV_OK)
		pv_revision_describe(&rev, model, sizeof(model));
	rc |= pv_buf_appendf(out, "board:      serial %s, revision %s%s%s%s, MAC %s%s\n",
			     or_unknown(r->serial8), or_unknown(r->boardrev_text),
			     model[0] ? " (" : "", model, model[0] ? ")" : "", or_unknown(r->mac),
			     r->mac_mismatch ? " (other lines disagree)" : "");
	if (r->bootloader_version[0] || r->build_timestamp)
		rc |= pv_buf_appendf(out, "bootloader: %s %s (BUILD_TIMESTAMP=%" PRIu64 ")\n",
				     or_unknown(r->bootloader_version), r->bootloader_date,
				     r->build_timestamp);
	if (r->boot_mode[0])
		rc |= pv_buf_appendf(out, "boot mode:  %s, BOOT_ORDER left: %s\n", r->boot_mode,
				     r->boot_order[0] ? r->boot_order : "(none)");
	if (r->client_ip[0] || r->tftp_server[0])
		rc |= pv_buf_appendf(out, "network:    address %s, TFTP server %s\n",
				     or_unknown(r->client_ip), or_unknown(r->tftp_server));
	if (r->attempt_count > 1) {
		rc |= describe_attempts(r, out);
	} else {
		for (unsigned i = 0; i < r->tftp_path_count; i++)
			rc |= pv_buf_appendf(out, "%s%s\n", i == 0 ? "requested:  " : "            ",
					     r->tftp_paths[i]);
	}
	if (r->tftp_paths_dropped)
		rc |= pv_buf_appendf(out, "            ... and %u more requests\n",
				     r->tftp_paths_dropped);
	rc |= pv_buf_appendf(out, "result:     %s (%s)\n\n", pv_uart_result_name(r->result),
			     pv_uart_reason_name(r->reason));
	return rc;
}

static int explain_not_found(const struct pv_uart_report *r, struct pv_buf *out)
{
	char folder[PV_UART_PATH_MAX];
	int rc = 0;

	folder_of(r->failed_path, folder, sizeof(folder));
	rc |= pv_buf_appendf(out,
			     "The board asked for '%s' on %s and got \"%s\".\n",
			     r->failed_path, or_unknown(r->tftp_server),
			     r->tftp_error[0] ? r->tftp_error : "File not found");
	if (folder[0]) {
		rc |= pv_buf_appendf(out,
				     "Its TFTP folder '%s/' is missing (or lacks the boot files) "
				     "on the server.\n",
				     folder);
		rc |= pv_buf_appendf(out, "Next step: record the board in the inventory and create "
					  "its folder:\n");
		if (r->serial8[0])
			rc |= pv_buf_appendf(out, "  piprov inventory add --serial %s%s%s\n",
					     r->serial8, r->mac[0] ? " --mac " : "", r->mac);
		rc |= pv_buf_appendf(
			out,
			"  piprov inventory export tftp --tftp-root DIR --template BOOTFILES\n"
			"('piprov uart capture DEVICE --inventory FILE' records the board as well), or "
			"copy the boot files into <tftp root>/%s/ yourself.\n",
			folder);
		if (is_pi3(r))
			rc |= pv_buf_appendf(out, "A Pi 3 always asks for its serial's folder (it has "
						  "no TFTP_PREFIX); bootcode.bin and bootsig.bin come "
						  "from the root, and without start.elf in the folder it "
						  "reads the root's boot files.\n");
		else if (r->serial8[0] && strcmp(folder, r->serial8) == 0)
			rc |= pv_buf_appendf(out, "The folder name is the board's serial "
						  "(TFTP_PREFIX=0, the default).\n");
		else
			rc |= pv_buf_appendf(out, "The folder name comes from TFTP_PREFIX / "
						  "TFTP_PREFIX_STR in the EEPROM config.\n");
	} else {
		const struct pv_soc_info *soc = report_soc(r);

		rc |= pv_buf_appendf(
			out,
			"The file is missing from the root of the TFTP server.\n"
			"Next step: put the boot files (%s) into the TFTP root, or give each board "
			"its folder with 'piprov inventory export tftp --tftp-root DIR --template "
			"BOOTFILES'.\n",
			is_pi3(r) ? "bootcode.bin, start.elf, fixup.dat, config.txt, kernel, device "
				    "trees: a Pi 3's boot ROM reads bootcode.bin from the root"
			: soc && !soc->tftp_start_file
				? "config.txt, the kernel (kernel_2712.img) and device trees: a Pi 5 "
				  "has its firmware in the EEPROM"
				: "start4.elf, fixup4.dat, config.txt, kernel, device trees");
	}
	return rc;
}

static int explain(const struct pv_uart_report *r, struct pv_buf *out)
{
	const char *server = or_unknown(r->tftp_server);

	switch (r->result) {
	case PV_UART_RESULT_UNKNOWN:
		return pv_buf_appendf(
			out,
			"No bootloader output was recognised (%" PRIu64 " line(s), %" PRIu64
			" bytes of noise).\n"
			"%s"
			"Next step: check the wiring (adapter RX to the Pi's TX = GPIO14, GND to "
			"GND; Pi 5: the 3-pin debug UART), 115200 8N1, and turn the log on in the "
			"EEPROM config:\n  piprov eeprom set IMAGE -o OUT BOOT_UART=1   (then flash OUT)\n"
			"(A Pi 3 has no EEPROM: its bootcode.bin logs once patched, "
			"sed -i -e 's/BOOT_UART=0/BOOT_UART=1/' bootcode.bin.)\n",
			r->lines, r->noise_bytes,
			r->noise_bytes > r->lines ? "Much of it is noise: a wrong baud rate or a "
						    "floating RX line looks like this.\n"
						  : "");
	case PV_UART_RESULT_OK:
		return pv_buf_appendf(
			out,
			"Network boot works: the board loaded '%s' from %s.\n%s",
			r->loaded_path, server,
			r->fell_back_to_root
				? "But its own folder lacked the files: the bootloader fell back "
				  "to the TFTP root, so it runs what every board without a folder "
				  "gets.\nNext step: 'piprov inventory export tftp --tftp-root DIR "
				  "--template BOOTFILES' to give it its own folder.\n"
				: "");
	case PV_UART_RESULT_NOT_NETWORK:
		if (is_pi3(r))
			return pv_buf_appendf(
				out,
				"The board booted in mode %s and did not try network boot in this "
				"log.\n"
				"Next step: a Pi 3 has no BOOT_ORDER: a Pi 3B+ tries the network when "
				"no SD card boots; a Pi 3B needs network boot turned on in its OTP "
				"once ('piprov-node netboot' on the board, or program_usb_boot_mode=1 "
				"in config.txt), or bootcode.bin alone on an SD card.\n",
				r->boot_mode);
		return pv_buf_appendf(
			out,
			"The board booted in mode %s and did not try network boot in this log.\n"
			"Next step: put network boot (mode 2) into BOOT_ORDER, e.g. "
			"'piprov eeprom set IMAGE -o OUT BOOT_ORDER=0xf21' (SD, then network, "
			"repeat), then flash OUT.\n",
			r->boot_mode);
	case PV_UART_RESULT_INCOMPLETE:
		break;
	case PV_UART_RESULT_FAILED:
		break;
	}

	switch (r->reason) {
	case PV_UART_REASON_TFTP_NOT_FOUND:
		return explain_not_found(r, out);
	case PV_UART_REASON_NO_DHCP_OFFER:
		if (is_pi3(r))
			return pv_buf_appendf(
				out,
				"The Ethernet link came up but no DHCP server answered the board "
				"(\"Waiting for dhcp_reply\" without an answer).\n"
				"Next step: the Pi 3B boot ROM has no DHCP relay support: run the "
				"DHCP server (dnsmasq, proxy DHCP beside the router works) on this "
				"segment; 'piprov inventory export dnsmasq -o "
				"/etc/dnsmasq.d/piprov.conf' writes one that answers a Pi 3 (by its "
				"b8:27:eb OUI) with the menu text it needs.\n");
		return pv_buf_appendf(
			out,
			"The Ethernet link came up but no DHCP server answered the board.\n"
			"Next step: check that the DHCP server (dnsmasq) runs and listens on this "
			"segment/VLAN ('journalctl -u dnsmasq', 'tcpdump -ni IFACE port 67 or port "
			"68'); 'piprov inventory export dnsmasq -o /etc/dnsmasq.d/piprov.conf' "
			"writes a working config (proxy DHCP beside an existing router).\n");
	case PV_UART_REASON_NO_PXE_OPTION:
		return pv_buf_appendf(
			out,
			"%u DHCP offer(s) arrived (first from %s), but none carried option 43 with "
			"the PXE menu text \"Raspberry Pi Boot\", so the bootloader ignored them: "
			"no DHCP offer with option 43.\n"
			"Next step: add '%s' to dnsmasq (proxy DHCP works beside an existing "
			"router), or export it with 'piprov inventory export dnsmasq -o "
			"/etc/dnsmasq.d/piprov.conf'%s.\n",
			r->dhcp_offers, or_unknown(r->dhcp_server),
			is_pi3(r) ? "pxe-service=0,\"Raspberry Pi Boot   \"" : "pxe-service=0,\"Raspberry Pi Boot\"",
			is_pi3(r) ? "; a Pi 3B's boot ROM takes the menu text only with its three "
				    "trailing spaces (\"Raspberry Pi Boot   \")"
				  : " (a Pi 3B needs the text with three trailing spaces)");
	case PV_UART_REASON_DHCP_INCOMPLETE:
		return pv_buf_appendf(
			out,
			"A PXE offer arrived but the board never settled on an address and a TFTP "
			"server (no DHCP ACK / 'NET' line).\n"
			"Next step: check the DHCP server's log for the REQUEST/ACK, the address "
			"range (or proxy mode: dhcp-range=IP,proxy), and that a TFTP server address "
			"is offered.\n");
	case PV_UART_REASON_TFTP_TIMEOUT:
		return pv_buf_appendf(
			out,
			"Transfers from the TFTP server %s timed out%s%s%s.\n"
			"Next step: check the TFTP server is running ('enable-tftp' in dnsmasq), "
			"that a firewall lets UDP port 69 and the transfer ports through, and look "
			"for packet loss or an MTU problem between the board and the server.\n",
			server, r->failed_path[0] ? " (file '" : "", r->failed_path,
			r->failed_path[0] ? "')" : "");
	case PV_UART_REASON_TFTP_UNREACHABLE:
		return pv_buf_appendf(
			out,
			"TFTP server unreachable: the board %s%s%s on %s and got no answer.\n"
			"Next step: check that a TFTP server runs at %s ('enable-tftp' and "
			"'tftp-root' in dnsmasq), that it is on the board's network, and that UDP "
			"port 69 is open; test with 'tftp %s -c get %s'.\n",
			r->failed_path[0] || r->tftp_path_count ? "asked for '" : "got its address",
			r->tftp_path_count ? r->tftp_paths[r->tftp_path_count - 1] : "",
			r->tftp_path_count ? "'" : " and looked for the TFTP server", server,
			server, server,
			r->tftp_path_count ? r->tftp_paths[r->tftp_path_count - 1] : "start4.elf");
	case PV_UART_REASON_TFTP_ERROR:
		return pv_buf_appendf(
			out,
			"The TFTP server %s refused '%s': \"%s\".\n"
			"Next step: make the file readable by the TFTP daemon (with dnsmasq's "
			"'tftp-secure' it must be owned by the dnsmasq user) and check the server "
			"log.\n",
			server, or_unknown(r->failed_path), r->tftp_error);
	case PV_UART_REASON_FIRMWARE_INCOMPATIBLE:
		return pv_buf_appendf(
			out,
			"The board loaded '%s' from %s, but the firmware is not compatible with "
			"it: the boot files on the server are older than this board.\n"
			"Next step: copy current firmware files (start4.elf, fixup4.dat and the "
			"device trees from the Raspberry Pi OS boot partition or the firmware "
			"repository) into the board's TFTP folder, then 'piprov inventory export "
			"tftp ...' if you use a shared template.\n",
			or_unknown(r->failed_path), server);
	case PV_UART_REASON_NETBOOT_CANCELLED:
		return pv_buf_appendf(
			out,
			"The bootloader cancelled the network boot (NETBOOT CANCEL) without an "
			"earlier error in this log.\n"
			"Next step: capture the whole boot from power-on ('piprov uart capture "
			"DEVICE --until done') and check NET_BOOT_MAX_RETRIES and BOOT_ORDER.\n");
	case PV_UART_REASON_NETBOOT_INIT_FAILED:
		return pv_buf_appendf(
			out,
			"The Ethernet interface could not be started (NETBOOT init failed).\n"
			"Next step: check the board has Ethernet (CM4/CM5 carrier), the PHY and "
			"the cable; update the bootloader if it is old.\n");
	case PV_UART_REASON_NO_LINK:
		return pv_buf_appendf(
			out,
			"The Ethernet link never came up.\n"
			"Next step: check the cable, the switch port (and its speed/PoE settings); "
			"some switches take long to bring a port up (spanning tree: enable "
			"portfast).\n");
	case PV_UART_REASON_WAITING_FOR_LINK:
	case PV_UART_REASON_WAITING_FOR_DHCP:
	case PV_UART_REASON_DHCP_IN_PROGRESS:
	case PV_UART_REASON_TFTP_IN_PROGRESS:
		return pv_buf_appendf(
			out,
			"The log ends while the network boot is under way (%s%s%s%s).\n"
			"Next step: capture longer, until the boot settles: 'piprov uart capture "
			"DEVICE --until done'.\n",
			r->reason == PV_UART_REASON_WAITING_FOR_LINK ? "waiting for the Ethernet link"
			: r->reason == PV_UART_REASON_WAITING_FOR_DHCP ? "link up, waiting for a DHCP offer"
			: r->reason == PV_UART_REASON_DHCP_IN_PROGRESS ? "DHCP under way"
								       : "TFTP under way",
			r->tftp_path_count ? ", last request '" : "",
			r->tftp_path_count ? r->tftp_paths[r->tftp_path_count - 1] : "",
			r->tftp_path_count ? "'" : "");
	case PV_UART_REASON_MOVED_ON: /* an attempt's reason, never the verdict's */
	case PV_UART_REASON_NONE:
		break;
	}
	return pv_buf_appendf(out, "The log shows the bootloader starting but no boot mode yet.\n"
				   "Next step: capture longer ('piprov uart capture DEVICE "
				   "--until done').\n");
}

/* Wrap prose lines at DIAGNOSE_WIDTH columns for a terminal; lines that start with two
 * spaces are commands to copy and stay whole. */
#define DIAGNOSE_WIDTH 78

static int append_wrapped(const char *text, struct pv_buf *out)
{
	int rc = 0;

	while (*text && rc == 0) {
		const char *end = strchr(text, '\n');
		size_t len = end ? (size_t)(end - text) : strlen(text);

		if (text[0] == ' ' && text[1] == ' ') {
			rc = pv_buf_append(out, text, len);
		} else {
			const char *line = text;
			size_t left = len;

			while (left > DIAGNOSE_WIDTH && rc == 0) {
				size_t cut = DIAGNOSE_WIDTH;

				while (cut > 0 && line[cut] != ' ')
					cut--;
				if (cut == 0) /* one long word: break after it */
					for (cut = DIAGNOSE_WIDTH; cut < left && line[cut] != ' '; cut++)
						;
				if (cut >= left)
					break;
				rc |= pv_buf_append(out, line, cut);
				rc |= pv_buf_putc(out, '\n');
				line += cut + 1;
				left -= cut + 1;
			}
			if (rc == 0)
				rc = pv_buf_append(out, line, left);
		}
		if (rc == 0 && end)
			rc = pv_buf_putc(out, '\n');
		text += len + (end ? 1 : 0);
	}
	return rc;
}

int pv_uart_diagnose(const struct pv_uart_report *r, struct pv_buf *out)
{
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX);
	int rc = PV_OK;

	if (describe_board(r, &text) || explain(r, &text) ||
	    append_wrapped(pv_buf_str(&text), out))
		rc = pv_fail(PV_ERR_NOMEM, "uart", "out of memory writing the diagnosis");
	pv_buf_release(&text);
	return rc;
}

int pv_uart_diagnose_json(const struct pv_uart_report *r, struct pv_buf *out)
{
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX);
	json_t *obj = json_object();
	const char *all, *next;
	char *dumped = NULL;
	int rc = PV_OK, bad;

	bad = !obj || explain(r, &text) || report_fields(r, obj);
	if (!bad) {
		/* "...what happened.\nNext step: what to do..." split at the first next step */
		all = pv_buf_str(&text);
		next = strstr(all, "Next step: ");
		bad |= json_object_set_new(obj, "explanation",
					   json_stringn(all, next ? (size_t)(next - all) : strlen(all)));
		bad |= json_object_set_new(obj, "next_step",
					   json_string(next ? next + strlen("Next step: ") : ""));
	}
	if (bad || !(dumped = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII)))
		rc = pv_fail(PV_ERR_NOMEM, "uart", "out of memory writing the diagnosis");
	else
		rc = pv_buf_append_str(out, dumped);
	free(dumped);
	json_decref(obj);
	pv_buf_release(&text);
	return rc;
}

int pv_uart_report_check(const struct pv_uart_report *r, const char *name)
{
	if (r->recognised)
		return PV_OK;
	return pv_fail(PV_ERR_FORMAT, "uart",
		       "'%s': no bootloader output in %" PRIu64 " line(s) (not a BOOT_UART=1 log, or "
		       "captured at the wrong baud rate)", name, r->lines);
}
