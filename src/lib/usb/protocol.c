/* The two conversations of the boot protocol, host side: the ROM stage (boot message,
 * second stage, return code) and the file server a second stage talks to. Byte layout in
 * ../shared/docs/usbboot-protocol.md §2-§3. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "piprov/text.h"
#include "piprov/usb_protocol.h"
#include "banned.h"

uint64_t pv_usb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void pv_usb_timeouts_default(struct pv_usb_timeouts *to)
{
	to->control_ms = 1000;
	to->bulk_ms = 5000;
	to->retcode_ms = 5000;
	to->request_ms = 20000;
	to->silent_polls = 3;
	to->reenumerate_ms = 10000;
	to->board_ms = 180000;
	to->rom_attempts = 5;
	to->backoff_ms = 100;
}

/* rpiboot's ep_write: a length announcement, then the bytes in 16 KiB bulk chunks. */
static int send_block(struct pv_usb_transport *t, const void *data, size_t len,
		      const struct pv_usb_timeouts *to)
{
	const unsigned char *bytes = data;
	size_t done = 0;
	int rc;

	rc = pv_usb_control_out_length(t, (uint32_t)len, to->control_ms);
	if (rc)
		return rc;
	while (done < len) {
		size_t chunk = len - done < PV_USB_BULK_CHUNK ? len - done : PV_USB_BULK_CHUNK;
		size_t actual = 0;

		rc = pv_usb_bulk_out(t, bytes + done, chunk, &actual, to->bulk_ms);
		if (rc)
			return rc;
		if (actual != chunk)
			return pv_fail(PV_ERR_PROTOCOL, "usb", "short bulk transfer: %zu of %zu bytes",
				       actual, chunk);
		done += actual;
	}
	return PV_OK;
}

int pv_usb_rom_boot(struct pv_usb_transport *t, const void *second_stage, size_t len,
		    const uint8_t signature[20], const struct pv_usb_timeouts *to,
		    bool *reenumerating)
{
	unsigned char message[PV_USB_BOOT_MESSAGE_SIZE] = { 0 };
	unsigned char retcode[4];
	size_t actual = 0;
	uint32_t value;
	int rc;

	*reenumerating = false;
	if (len == 0 || len > PV_USB_SECOND_STAGE_MAX)
		return pv_fail(PV_ERR_TOO_BIG, "usb", "second stage of %zu bytes (limit %u)", len,
			       PV_USB_SECOND_STAGE_MAX);
	message[0] = (unsigned char)len;
	message[1] = (unsigned char)(len >> 8);
	message[2] = (unsigned char)(len >> 16);
	message[3] = (unsigned char)(len >> 24);
	if (signature)
		memcpy(message + 4, signature, 20);
	rc = send_block(t, message, sizeof(message), to);
	if (rc)
		return rc;
	rc = send_block(t, second_stage, len, to);
	if (rc)
		return rc;
	rc = pv_usb_control_in(t, retcode, sizeof(retcode), &actual, to->retcode_ms);
	if (rc == PV_ERR_NO_DEVICE) {
		/* The upload worked and the second stage already took over (rpiboot PR #49). */
		pv_clear_error();
		*reenumerating = true;
		return PV_OK;
	}
	if (rc)
		return rc;
	if (actual != sizeof(retcode))
		return pv_fail(PV_ERR_PROTOCOL, "usb", "boot ROM return code: %zu of 4 bytes",
			       actual);
	value = (uint32_t)retcode[0] | (uint32_t)retcode[1] << 8 | (uint32_t)retcode[2] << 16 |
		(uint32_t)retcode[3] << 24;
	if (value != 0)
		return pv_fail(PV_ERR_PROTOCOL, "usb", "boot ROM refused the second stage: 0x%x",
			       (unsigned)value);
	return PV_OK;
}

static unsigned remaining_ms(uint64_t deadline, unsigned cap)
{
	uint64_t now = pv_usb_now_ms();

	if (now >= deadline)
		return 0;
	return deadline - now < cap ? (unsigned)(deadline - now) : cap;
}

/* ReadFile: the size, then the bytes streamed chunk by chunk from the open file. */
static int send_file(struct pv_usb_transport *t, const struct pv_usb_served_file *file,
		     const struct pv_usb_server_params *p, struct pv_usb_server_stats *stats)
{
	unsigned char *chunk;
	uint64_t pos = 0;
	int rc;

	if (file->size > UINT32_MAX)
		return pv_fail(PV_ERR_TOO_BIG, "usb", "'%s': over 4 GiB cannot be sent", file->path);
	chunk = malloc(PV_USB_BULK_CHUNK);
	if (!chunk)
		return pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
	rc = pv_usb_control_out_length(t, (uint32_t)file->size, p->timeouts->control_ms);
	while (!rc && pos < file->size) {
		size_t got = 0, actual = 0;

		if (p->cancel && *p->cancel) {
			rc = pv_fail(PV_ERR_INTERRUPTED, "usb", "%s: cancelled", p->port_path);
			break;
		}
		rc = pv_usb_served_file_read(file, pos, chunk, PV_USB_BULK_CHUNK, &got);
		if (rc)
			break;
		rc = pv_usb_bulk_out(t, chunk, got, &actual, p->timeouts->bulk_ms);
		if (!rc && actual != got)
			rc = pv_fail(PV_ERR_PROTOCOL, "usb", "'%s': device took %zu of %zu bytes",
				     file->path, actual, got);
		pos += actual;
		stats->bytes_sent += actual;
	}
	free(chunk);
	return rc;
}

int pv_usb_file_server_run(struct pv_usb_transport *t, const struct pv_usb_server_params *p,
			   struct pv_usb_server_stats *stats)
{
	unsigned char raw[PV_USB_REQUEST_SIZE];
	struct pv_usb_request *req;
	struct pv_usb_served_file current = { .fd = -1 };
	char current_name[PV_USB_NAME_MAX] = "";
	char sent_path[sizeof(current.path)] = "";
	unsigned silent = 0;
	int rc = PV_OK;

	memset(stats, 0, sizeof(*stats));
	req = malloc(sizeof(*req));
	if (!req)
		return pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
	for (;;) {
		size_t actual = 0;
		unsigned wait = remaining_ms(p->deadline_ms, p->timeouts->request_ms);
		struct pv_usb_server_step step = { .step = PV_USB_STEP_NONE };

		if (p->cancel && *p->cancel) {
			rc = pv_fail(PV_ERR_INTERRUPTED, "usb", "%s: cancelled", p->port_path);
			break;
		}
		if (wait == 0) {
			rc = pv_fail(PV_ERR_TIMEOUT, "usb", "%s: board not done before its deadline",
				     p->port_path);
			break;
		}
		rc = pv_usb_control_in(t, raw, sizeof(raw), &actual, wait);
		if (rc == PV_ERR_TIMEOUT) {
			if (++silent >= p->timeouts->silent_polls) {
				rc = pv_fail(PV_ERR_TIMEOUT, "usb", "%s: no request for %u polls",
					     p->port_path, silent);
				break;
			}
			continue;
		}
		if (rc == PV_ERR_NO_DEVICE && stats->files_sent > 0) {
			/* The payload took over (gadget kernel, reboot): served. */
			pv_clear_error();
			stats->end = PV_USB_SERVER_GONE;
			rc = PV_OK;
			break;
		}
		if (rc)
			break;
		silent = 0;
		stats->requests++;
		pv_usb_request_decode(raw, actual, req);
		step.name = req->name;
		step.command = req->command;
		switch (req->kind) {
		case PV_USB_REQUEST_END:
			rc = pv_usb_control_out_length(t, 0, p->timeouts->control_ms);
			stats->end = PV_USB_SERVER_DONE;
			goto out_done;
		case PV_USB_REQUEST_DONE:
			stats->end = PV_USB_SERVER_DONE;
			goto out_done;
		case PV_USB_REQUEST_REFUSED:
			step.step = PV_USB_STEP_REFUSED;
			stats->refused++;
			pv_log(PV_LOG_WARN, "usb", "%s: refused request '%s' (command %d): %s",
			       p->port_path, req->name, (int)req->command, req->refusal);
			rc = pv_usb_control_out_length(t, 0, p->timeouts->control_ms);
			break;
		case PV_USB_REQUEST_METADATA:
			step.step = PV_USB_STEP_METADATA;
			if (p->metadata && pv_usb_metadata_add(p->metadata, req->name,
							       strlen(req->name)) != PV_OK)
				pv_log(PV_LOG_WARN, "usb", "%s: ignored metadata: %s", p->port_path,
				       pv_last_error());
			rc = pv_usb_control_out_length(t, 0, p->timeouts->control_ms);
			break;
		case PV_USB_REQUEST_GET_FILE_SIZE:
			pv_usb_served_file_close(&current);
			current_name[0] = '\0';
			if (pv_usb_files_open(p->files, p->chip, p->port_path, req->name,
					      &current) != PV_OK) {
				stats->not_found++;
				pv_log(PV_LOG_INFO, "usb", "%s: '%s' not found", p->port_path,
				       req->name);
				step.step = PV_USB_STEP_NOT_FOUND;
				rc = pv_usb_control_out_length(t, 0, p->timeouts->control_ms);
				break;
			}
			pv_strlcpy(current_name, req->name, sizeof(current_name));
			step.step = PV_USB_STEP_SIZE;
			step.size = current.size;
			step.origin = current.origin;
			step.path = current.path;
			rc = pv_usb_control_out_length(t, current.size > UINT32_MAX
								  ? 0
								  : (uint32_t)current.size,
						       p->timeouts->control_ms);
			break;
		case PV_USB_REQUEST_READ_FILE:
			/* rpiboot reads the file its GetFileSize opened; a ReadFile for another
			 * name (or none before it) is looked up afresh, through the same rules. */
			if (strcmp(current_name, req->name) != 0) {
				pv_usb_served_file_close(&current);
				current_name[0] = '\0';
				if (pv_usb_files_open(p->files, p->chip, p->port_path, req->name,
						      &current) == PV_OK)
					pv_strlcpy(current_name, req->name, sizeof(current_name));
			}
			if (!current_name[0]) {
				stats->not_found++;
				step.step = PV_USB_STEP_READ_MISSING;
				rc = pv_usb_control_out_length(t, 0, p->timeouts->control_ms);
				break;
			}
			step.step = PV_USB_STEP_READ;
			step.size = current.size;
			step.origin = current.origin;
			pv_strlcpy(sent_path, current.path, sizeof(sent_path));
			step.path = sent_path;
			rc = send_file(t, &current, p, stats);
			pv_usb_served_file_close(&current);
			current_name[0] = '\0';
			if (!rc)
				stats->files_sent++;
			break;
		}
		if (rc)
			break;
		step.bytes_sent = stats->bytes_sent;
		if (p->progress)
			p->progress(p->progress_user, &step);
		continue;
out_done:
		if (!rc && p->progress) {
			step.step = PV_USB_STEP_DONE;
			step.bytes_sent = stats->bytes_sent;
			p->progress(p->progress_user, &step);
		}
		goto out_close;
	}
out_close:
	pv_usb_served_file_close(&current);
	free(req);
	return rc;
}
