/* usbprobe: the harness's own self-test host program, run in the guest against the bridge's
 * "probe" model. It checks the path every piprov e2e case depends on, with plain libusb and
 * rpiboot's transfer shapes: one long-lived libusb context sees N boot ROMs appear, each
 * takes a 24-byte and an N-byte write (zero-length vendor OUT with the length, bulk OUT in
 * 16 KiB pieces) and answers a 4-byte vendor IN, then re-enumerates, and the same context
 * must see it come back as the second stage on the same port path.
 *
 *   usbprobe BOARDS [BYTES]      exit 0 and "USBPROBE: PASS" when every board did both
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libusb.h>

#include "banned.h"

#define MAX_BOARDS 16
#define WAIT_MS 20000

struct seen {
	char path[48];
	bool rom_done;
	bool second_stage;
};

static struct seen boards[MAX_BOARDS];
static unsigned board_count;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void port_path(libusb_device *dev, char *out, size_t size)
{
	uint8_t ports[8];
	int n = libusb_get_port_numbers(dev, ports, sizeof(ports)), i;
	size_t used = (size_t)snprintf(out, size, "%u", libusb_get_bus_number(dev));

	for (i = 0; i < n && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%c%u", i ? '.' : '-', ports[i]);
}

static struct seen *find_board(const char *path)
{
	for (unsigned i = 0; i < board_count; i++)
		if (strcmp(boards[i].path, path) == 0)
			return &boards[i];
	return NULL;
}

/* rpiboot's ep_write: length in wValue/wIndex of a zero-length vendor OUT, then bulk. */
static int ep_write(libusb_device_handle *h, const uint8_t *data, uint32_t len)
{
	int rc = libusb_control_transfer(h, 0x40, 0, len & 0xffff, len >> 16, NULL, 0, 1000);
	uint32_t sent = 0;

	if (rc < 0)
		return rc;
	while (sent < len) {
		int chunk = (int)(len - sent > 16384 ? 16384 : len - sent), done = 0;

		rc = libusb_bulk_transfer(h, 0x01, (uint8_t *)data + sent, chunk, &done, 5000);
		if (rc < 0)
			return rc;
		sent += (uint32_t)done;
	}
	return 0;
}

static bool run_rom_stage(libusb_device *dev, const char *path, uint32_t bytes)
{
	libusb_device_handle *h;
	uint8_t *payload = calloc(1, bytes ? bytes : 1), message[24] = { 0 };
	unsigned char serial[64] = "";
	uint32_t answer = 0;
	int rc;
	bool ok = false;

	if (!payload)
		return false;
	for (uint32_t i = 0; i < bytes; i++)
		payload[i] = (uint8_t)(i * 7);
	memcpy(message, &bytes, 4);
	rc = libusb_open(dev, &h);
	if (rc < 0) {
		printf("USBPROBE: %s: open: %s\n", path, libusb_error_name(rc));
		goto out_free;
	}
	rc = libusb_claim_interface(h, 0);
	if (rc < 0) {
		printf("USBPROBE: %s: claim: %s\n", path, libusb_error_name(rc));
		goto out_close;
	}
	libusb_get_string_descriptor_ascii(h, 3, serial, sizeof(serial));
	rc = ep_write(h, message, sizeof(message));
	if (rc == 0)
		rc = ep_write(h, payload, bytes);
	if (rc == 0)
		rc = libusb_control_transfer(h, 0xc0, 0, 4, 0, (uint8_t *)&answer, 4, 5000);
	if (rc < 0) {
		printf("USBPROBE: %s: transfer: %s\n", path, libusb_error_name(rc));
	} else if (answer != bytes) {
		printf("USBPROBE: %s: device counted %u bytes, sent %u\n", path, answer, bytes);
	} else {
		printf("USBPROBE: %s: rom stage ok (serial %s, %u bytes)\n", path, serial, bytes);
		ok = true;
	}
	libusb_release_interface(h, 0);
out_close:
	libusb_close(h);
out_free:
	free(payload);
	return ok;
}

int main(int argc, char **argv)
{
	unsigned wanted = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1;
	uint32_t bytes = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 1u << 20;
	uint64_t deadline = now_ms() + WAIT_MS;
	unsigned done = 0, polls = 0;
	libusb_context *ctx;

	if (wanted == 0 || wanted > MAX_BOARDS) {
		fprintf(stderr, "usage: usbprobe BOARDS(1-%d) [BYTES]\n", MAX_BOARDS);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (libusb_init(&ctx) < 0)
		return 1;
	printf("USBPROBE: libusb %s, hotplug %s\n", libusb_get_version()->describe,
	       libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG) ? "yes" : "no");
	/* One context for the whole run: a second stage is only seen if hotplug works. */
	while (done < wanted && now_ms() < deadline) {
		libusb_device **list;
		ssize_t n = libusb_get_device_list(ctx, &list);

		polls++;
		for (ssize_t i = 0; i < n; i++) {
			struct libusb_device_descriptor d;
			char path[48];
			struct seen *s;

			if (libusb_get_device_descriptor(list[i], &d) < 0 || d.idVendor != 0x0a5c)
				continue;
			port_path(list[i], path, sizeof(path));
			s = find_board(path);
			if (d.iSerialNumber == 3 && !s && board_count < MAX_BOARDS) {
				s = &boards[board_count++];
				snprintf(s->path, sizeof(s->path), "%s", path);
				s->rom_done = run_rom_stage(list[i], path, bytes);
			} else if (d.iSerialNumber == 4 && s && s->rom_done && !s->second_stage) {
				s->second_stage = true;
				done++;
				printf("USBPROBE: %s: second stage seen on the same port (poll %u)\n",
				       path, polls);
			}
		}
		if (n >= 0)
			libusb_free_device_list(list, 1);
		usleep(50000);
	}
	libusb_exit(ctx);
	printf("USBPROBE: %s boards=%u wanted=%u\n", done == wanted ? "PASS" : "FAIL", done, wanted);
	return done == wanted ? 0 : 1;
}
