/* piprov-redir-bridge: expose device models (virtual Pis) to QEMU as USB devices over the
 * usb-redir protocol, one unix socket per board, so a guest kernel's real USB stack
 * (qemu-xhci -> xhci-hcd -> usbfs -> libusb) enumerates and drives them.
 *
 *   piprov-redir-bridge --socket-dir DIR [--state-dir DIR] [-v] BOARD...
 *
 * BOARD is MODEL[:OPTION,...], e.g. "pi4", "pi5:unplug-after=32768". Board K (from 0) listens
 * on DIR/board-K.sock; QEMU connects with
 *   -chardev socket,id=urK,path=DIR/board-K.sock -device usb-redir,chardev=urK,bus=xhci.0
 * The bridge prints "BRIDGE: READY" once every socket listens (QEMU must not start before:
 * it exits when it cannot connect), serves until every connection has closed or SIGTERM,
 * then saves each model's state under --state-dir/board-K/ and prints one
 * "BRIDGE: board K ..." summary line per board.
 *
 * Bridge options in a board spec (the rest goes to the model):
 *   unplug-after=N   on the board's second attachment (the stage after re-enumeration),
 *                    drop it from the bus after N bulk OUT bytes and never bring it back,
 *                    as a cable pulled in the middle of a transfer.
 *
 * Protocol notes (../shared/docs/qemu-usb-e2e.md, P6): qemu-xhci insists on the
 * ep_info_max_packet_size, 64bits_ids and 32bits_bulk_length capabilities; interface_info
 * and ep_info must precede device_connect, which must wait for the peer's hello; every parser
 * callback must exist; SET/GET_CONFIGURATION and SET/GET_INTERFACE arrive as their own
 * packets, everything else (GET_DESCRIPTOR included) as control packets.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <usbredirparser.h>

#include "device_model.h"

#include "banned.h"

#define MAX_BOARDS 16
#define MAX_PENDING 8
/* A configuration descriptor is at most a few hundred bytes for anything we model. */
#define CONFIG_DESCRIPTOR_MAX 1024
/* Largest bulk IN the bridge buffers (Linux's usb-storage reads at most 120 KiB at once;
 * more is refused as a stall rather than allocated). */
#define BULK_IN_MAX (1024u * 1024u)
/* How long to wait for QEMU's device_disconnect_ack before announcing the next attachment. */
#define DISCONNECT_ACK_TIMEOUT_MS 2000

struct pending_transfer {
	bool used;
	bool is_control;
	uint64_t id;
	struct usb_redir_control_packet_header control;
	struct usb_redir_bulk_packet_header bulk;
	uint8_t *data; /* OUT data stage, or the buffer of a bulk IN (owned) */
	size_t data_len;
};

struct board {
	unsigned index;
	char spec[256];
	struct e2e_device_model *model;
	char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	int conn_fd;
	bool connection_closed;
	struct usbredirparser *parser;
	bool peer_ready;
	bool announced;
	uint32_t announced_generation;
	bool awaiting_disconnect_ack;
	uint64_t disconnect_sent_ms;
	uint8_t configuration;
	struct pending_transfer pending[MAX_PENDING];

	/* unplug-after: 0 = off. */
	uint64_t unplug_after;
	bool unplugged_by_fault;
	unsigned attachments;
	uint64_t attachment_bulk_bytes;

	uint64_t controls, bulk_packets, bulk_bytes, bulk_in_bytes, stalls;
};

static struct board boards[MAX_BOARDS];
static unsigned board_count;
static int verbose;
static volatile sig_atomic_t stop_requested;
static uint64_t start_ms;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void note(const struct board *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const struct board *b, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bridge[%u] %6.3f ", b->index, (double)(now_ms() - start_ms) / 1000.0);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* ---- talking to the model ---------------------------------------------------------------- */

static enum e2e_xfer_status model_get_descriptor(struct board *b, uint32_t generation,
						 uint8_t type, uint16_t length, uint8_t *buf,
						 size_t *got)
{
	const uint8_t setup[8] = { 0x80, 6, 0, type, 0, 0, (uint8_t)(length & 0xff),
				   (uint8_t)(length >> 8) };

	return b->model->ops->control(b->model, generation, setup, NULL, 0, buf, got);
}

/* A standard request QEMU sends as its own packet type, back to its SETUP form. */
static enum e2e_xfer_status model_standard_request(struct board *b, uint8_t type,
						   uint8_t request, uint16_t value,
						   uint16_t index, uint8_t *in, size_t *in_len)
{
	const uint8_t setup[8] = { type, request, (uint8_t)(value & 0xff), (uint8_t)(value >> 8),
				   (uint8_t)(index & 0xff), (uint8_t)(index >> 8),
				   (uint8_t)((type & 0x80) ? 1 : 0), 0 };
	uint8_t scratch[E2E_CONTROL_MAX];
	size_t scratch_len = 0;

	if (!b->announced)
		return E2E_XFER_GONE;
	return b->model->ops->control(b->model, b->announced_generation, setup, NULL, 0,
				      in ? in : scratch, in_len ? in_len : &scratch_len);
}

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

/* Send interface_info, ep_info and device_connect for the model's current attachment, as
 * its device and configuration descriptors describe it. Returns false (device not
 * announced) when the descriptors are unusable. */
static bool announce_device(struct board *b, uint32_t generation)
{
	uint8_t device[E2E_CONTROL_MAX], config[E2E_CONTROL_MAX];
	size_t device_len = 0, config_len = 0, pos;
	struct usb_redir_interface_info_header interfaces;
	struct usb_redir_ep_info_header endpoints;
	struct usb_redir_device_connect_header connect;
	unsigned i;
	uint8_t current_interface = 0;

	if (model_get_descriptor(b, generation, 1, 18, device, &device_len) != E2E_XFER_DONE ||
	    device_len < 18 || device[1] != 1) {
		note(b, "model gave no usable device descriptor; not attaching");
		return false;
	}
	if (model_get_descriptor(b, generation, 2, 9, config, &config_len) != E2E_XFER_DONE || config_len < 9 ||
	    config[1] != 2) {
		note(b, "model gave no usable configuration descriptor; not attaching");
		return false;
	}
	uint16_t total = get_le16(config + 2);
	if (total < 9 || total > CONFIG_DESCRIPTOR_MAX ||
	    model_get_descriptor(b, generation, 2, total, config, &config_len) != E2E_XFER_DONE ||
	    config_len != total) {
		note(b, "configuration descriptor length %u unusable; not attaching", total);
		return false;
	}

	memset(&interfaces, 0, sizeof(interfaces));
	memset(&endpoints, 0, sizeof(endpoints));
	/* Index 255 marks "no such endpoint"; zero would declare 32 control endpoints. */
	memset(endpoints.type, usb_redir_type_invalid, sizeof(endpoints.type));
	endpoints.type[0] = usb_redir_type_control;
	endpoints.type[16] = usb_redir_type_control;
	endpoints.max_packet_size[0] = device[7];
	endpoints.max_packet_size[16] = device[7];

	for (pos = 0; pos + 2 <= config_len;) {
		uint8_t len = config[pos], type = config[pos + 1];

		if (len < 2 || pos + len > config_len) {
			note(b, "configuration descriptor malformed at byte %zu; not attaching", pos);
			return false;
		}
		if (type == 4 && len >= 9 && config[pos + 3] == 0 /* alt setting 0 only */) {
			if (interfaces.interface_count >= 32)
				return false;
			i = interfaces.interface_count++;
			interfaces.interface[i] = config[pos + 2];
			interfaces.interface_class[i] = config[pos + 5];
			interfaces.interface_subclass[i] = config[pos + 6];
			interfaces.interface_protocol[i] = config[pos + 7];
			current_interface = config[pos + 2];
		} else if (type == 5 && len >= 7) {
			uint8_t address = config[pos + 2];
			unsigned slot = ((address & 0x80u) >> 3) | (address & 0x0fu);

			endpoints.type[slot] = config[pos + 3] & 3;
			endpoints.interval[slot] = config[pos + 6];
			endpoints.interface[slot] = current_interface;
			endpoints.max_packet_size[slot] = get_le16(config + pos + 4);
		}
		pos += len;
	}

	memset(&connect, 0, sizeof(connect));
	connect.speed = usb_redir_speed_high;
	connect.device_class = device[4];
	connect.device_subclass = device[5];
	connect.device_protocol = device[6];
	connect.vendor_id = get_le16(device + 8);
	connect.product_id = get_le16(device + 10);
	connect.device_version_bcd = get_le16(device + 12);

	usbredirparser_send_interface_info(b->parser, &interfaces);
	usbredirparser_send_ep_info(b->parser, &endpoints);
	usbredirparser_send_device_connect(b->parser, &connect);
	b->announced = true;
	b->announced_generation = generation;
	b->configuration = 0;
	b->attachments++;
	b->attachment_bulk_bytes = 0;
	note(b, "attach #%u: %04x:%04x iSerialNumber=%u, %u interface(s)", b->attachments,
	     connect.vendor_id, connect.product_id, device[16], interfaces.interface_count);
	return true;
}

static void drop_pending(struct board *b)
{
	for (unsigned i = 0; i < MAX_PENDING; i++) {
		free(b->pending[i].data);
		memset(&b->pending[i], 0, sizeof(b->pending[i]));
	}
}

static void detach_device(struct board *b, const char *why)
{
	usbredirparser_send_device_disconnect(b->parser);
	b->announced = false;
	b->awaiting_disconnect_ack =
		usbredirparser_peer_has_cap(b->parser, usb_redir_cap_device_disconnect_ack);
	b->disconnect_sent_ms = now_ms();
	/* QEMU cancels whatever it had in flight for the old device itself. */
	drop_pending(b);
	note(b, "detach (%s)", why);
}

/* ---- transfers --------------------------------------------------------------------------- */

/* Try one transfer against the model; returns false when it is still pending. */
static bool complete_transfer(struct board *b, struct pending_transfer *t)
{
	if (t->is_control) {
		struct usb_redir_control_packet_header reply = t->control;
		uint8_t setup[8] = { t->control.requesttype, t->control.request,
				     (uint8_t)(t->control.value & 0xff), (uint8_t)(t->control.value >> 8),
				     (uint8_t)(t->control.index & 0xff), (uint8_t)(t->control.index >> 8),
				     (uint8_t)(t->control.length & 0xff),
				     (uint8_t)(t->control.length >> 8) };
		uint8_t in[E2E_CONTROL_MAX];
		size_t in_len = 0;
		bool is_in = (t->control.requesttype & 0x80) != 0;
		enum e2e_xfer_status status;

		status = b->model->ops->control(b->model, b->announced_generation, setup, t->data,
						t->data_len, in, &in_len);
		if (status == E2E_XFER_PENDING)
			return false;
		if (is_in && in_len > t->control.length)
			in_len = t->control.length;
		reply.status = status == E2E_XFER_DONE ? usb_redir_success :
			       status == E2E_XFER_STALL ? usb_redir_stall : usb_redir_ioerror;
		reply.length = status != E2E_XFER_DONE ? 0 :
			       is_in ? (uint16_t)in_len : (uint16_t)t->data_len;
		if (status == E2E_XFER_STALL)
			b->stalls++;
		if (verbose)
			note(b, "control %02x %02x %04x %04x len %u -> %s %u",
			     t->control.requesttype, t->control.request, t->control.value,
			     t->control.index, t->control.length,
			     status == E2E_XFER_DONE ? "ok" :
			     status == E2E_XFER_STALL ? "stall" : "gone", reply.length);
		usbredirparser_send_control_packet(b->parser, t->id, &reply,
						   is_in && reply.length ? in : NULL,
						   is_in ? reply.length : 0);
		b->controls++;
	} else if (t->bulk.endpoint & 0x80) {
		struct usb_redir_bulk_packet_header reply = t->bulk;
		size_t got = 0;
		enum e2e_xfer_status status;

		status = b->model->ops->bulk_in(b->model, b->announced_generation, t->bulk.endpoint,
						t->data, t->data_len, &got);
		if (status == E2E_XFER_PENDING)
			return false;
		if (status != E2E_XFER_DONE || got > t->data_len)
			got = 0;
		reply.status = status == E2E_XFER_DONE ? usb_redir_success :
			       status == E2E_XFER_STALL ? usb_redir_stall : usb_redir_ioerror;
		reply.length = (uint16_t)(got & 0xffff);
		reply.length_high = (uint16_t)(got >> 16);
		if (status == E2E_XFER_STALL)
			b->stalls++;
		if (verbose > 1)
			note(b, "bulk IN ep %02x %zu -> %zu", t->bulk.endpoint, t->data_len, got);
		usbredirparser_send_bulk_packet(b->parser, t->id, &reply, got ? t->data : NULL,
						(int)got);
		b->bulk_packets++;
		b->bulk_in_bytes += got;
	} else {
		struct usb_redir_bulk_packet_header reply = t->bulk;
		size_t accepted = 0;
		enum e2e_xfer_status status;

		status = b->model->ops->bulk_out(b->model, b->announced_generation,
						 t->bulk.endpoint & 0x7f, t->data, t->data_len,
						 &accepted);
		if (status == E2E_XFER_PENDING)
			return false;
		if (status != E2E_XFER_DONE || accepted > t->data_len)
			accepted = 0;
		reply.status = status == E2E_XFER_DONE ? usb_redir_success :
			       status == E2E_XFER_STALL ? usb_redir_stall : usb_redir_ioerror;
		reply.length = (uint16_t)(accepted & 0xffff);
		reply.length_high = (uint16_t)(accepted >> 16);
		if (verbose > 1)
			note(b, "bulk OUT ep %02x %zu -> %zu", t->bulk.endpoint, t->data_len, accepted);
		usbredirparser_send_bulk_packet(b->parser, t->id, &reply, NULL, 0);
		b->bulk_packets++;
		b->bulk_bytes += accepted;
		b->attachment_bulk_bytes += accepted;
	}
	return true;
}

static void queue_transfer(struct board *b, struct pending_transfer *t)
{
	if (!b->announced) {
		/* A late packet for a device we already dropped. */
		if (t->is_control) {
			t->control.status = usb_redir_ioerror;
			t->control.length = 0;
			usbredirparser_send_control_packet(b->parser, t->id, &t->control, NULL, 0);
		} else {
			t->bulk.status = usb_redir_ioerror;
			t->bulk.length = 0;
			t->bulk.length_high = 0;
			usbredirparser_send_bulk_packet(b->parser, t->id, &t->bulk, NULL, 0);
		}
		free(t->data);
		return;
	}
	if (complete_transfer(b, t)) {
		free(t->data);
		return;
	}
	for (unsigned i = 0; i < MAX_PENDING; i++) {
		if (!b->pending[i].used) {
			b->pending[i] = *t;
			b->pending[i].used = true;
			return;
		}
	}
	note(b, "more than %d transfers pending; failing one", MAX_PENDING);
	if (t->is_control) {
		t->control.status = usb_redir_ioerror;
		t->control.length = 0;
		usbredirparser_send_control_packet(b->parser, t->id, &t->control, NULL, 0);
	} else {
		t->bulk.status = usb_redir_ioerror;
		t->bulk.length = 0;
		t->bulk.length_high = 0;
		usbredirparser_send_bulk_packet(b->parser, t->id, &t->bulk, NULL, 0);
	}
	free(t->data);
}

static void retry_pending(struct board *b)
{
	for (unsigned i = 0; i < MAX_PENDING && b->announced; i++) {
		struct pending_transfer *t = &b->pending[i];

		if (t->used && complete_transfer(b, t)) {
			free(t->data);
			memset(t, 0, sizeof(*t));
		}
	}
}

/* ---- usbredirparser callbacks ------------------------------------------------------------ */

static void cb_log(void *priv, int level, const char *msg)
{
	struct board *b = priv;

	if (level <= usbredirparser_warning || verbose > 1)
		note(b, "usbredir: %s", msg);
}

static int cb_read(void *priv, uint8_t *data, int count)
{
	struct board *b = priv;
	ssize_t n = read(b->conn_fd, data, (size_t)count);

	if (n > 0)
		return (int)n;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	/* 0 from read() is EOF, but 0 from this callback means "would block". */
	b->connection_closed = true;
	return -1;
}

static int cb_write(void *priv, uint8_t *data, int count)
{
	struct board *b = priv;
	ssize_t n = write(b->conn_fd, data, (size_t)count);

	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	b->connection_closed = true;
	return -1;
}

static void cb_hello(void *priv, struct usb_redir_hello_header *hello)
{
	struct board *b = priv;

	note(b, "peer hello: %.64s", hello->version);
	b->peer_ready = true;
}

static void cb_reset(void *priv)
{
	struct board *b = priv;

	if (verbose)
		note(b, "bus reset");
}

static void cb_control(void *priv, uint64_t id, struct usb_redir_control_packet_header *header,
		       uint8_t *data, int data_len)
{
	struct board *b = priv;
	struct pending_transfer t = { .is_control = true, .id = id, .control = *header };

	if (!(header->requesttype & 0x80) && data_len > 0) {
		t.data = malloc((size_t)data_len);
		if (t.data) {
			memcpy(t.data, data, (size_t)data_len);
			t.data_len = (size_t)data_len;
		}
	}
	usbredirparser_free_packet_data(b->parser, data);
	queue_transfer(b, &t);
}

static void cb_bulk(void *priv, uint64_t id, struct usb_redir_bulk_packet_header *header,
		    uint8_t *data, int data_len)
{
	struct board *b = priv;
	struct pending_transfer t = { .is_control = false, .id = id, .bulk = *header };

	if (header->endpoint & 0x80) {
		/* A read of up to length bytes: the boot protocol never reads one (stall); a
		 * model with bulk_in (the mass-storage gadget) answers, maybe after NAKs. */
		size_t want = (size_t)header->length | (size_t)header->length_high << 16;

		usbredirparser_free_packet_data(b->parser, data);
		if (!b->model->ops->bulk_in || want > BULK_IN_MAX || !(t.data = malloc(want ? want : 1))) {
			t.bulk.status = usb_redir_stall;
			t.bulk.length = 0;
			t.bulk.length_high = 0;
			usbredirparser_send_bulk_packet(b->parser, id, &t.bulk, NULL, 0);
			return;
		}
		t.data_len = want;
		queue_transfer(b, &t);
		return;
	}
	/* The parser owns data; keep our own copy only if the transfer has to wait. */
	t.data = data;
	t.data_len = data_len > 0 ? (size_t)data_len : 0;
	if (b->announced && complete_transfer(b, &t)) {
		usbredirparser_free_packet_data(b->parser, data);
		return;
	}
	t.data = NULL;
	if (t.data_len) {
		t.data = malloc(t.data_len);
		if (t.data)
			memcpy(t.data, data, t.data_len);
		else
			t.data_len = 0;
	}
	usbredirparser_free_packet_data(b->parser, data);
	queue_transfer(b, &t);
}

static void cb_set_configuration(void *priv, uint64_t id,
				 struct usb_redir_set_configuration_header *header)
{
	struct board *b = priv;
	struct usb_redir_configuration_status_header status = {
		.configuration = header->configuration };

	status.status = model_standard_request(b, 0x00, 9, header->configuration, 0, NULL, NULL) ==
			E2E_XFER_DONE ? usb_redir_success : usb_redir_stall;
	if (status.status == usb_redir_success)
		b->configuration = header->configuration;
	usbredirparser_send_configuration_status(b->parser, id, &status);
}

static void cb_get_configuration(void *priv, uint64_t id)
{
	struct board *b = priv;
	struct usb_redir_configuration_status_header status = { .configuration = b->configuration };
	uint8_t in[E2E_CONTROL_MAX];
	size_t in_len = 0;

	status.status = model_standard_request(b, 0x80, 8, 0, 0, in, &in_len) == E2E_XFER_DONE &&
			in_len == 1 ? usb_redir_success : usb_redir_stall;
	if (status.status == usb_redir_success)
		status.configuration = in[0];
	usbredirparser_send_configuration_status(b->parser, id, &status);
}

static void cb_set_alt_setting(void *priv, uint64_t id,
			       struct usb_redir_set_alt_setting_header *header)
{
	struct board *b = priv;
	struct usb_redir_alt_setting_status_header status = {
		.interface = header->interface, .alt = header->alt };

	status.status = model_standard_request(b, 0x01, 11, header->alt, header->interface, NULL,
					       NULL) == E2E_XFER_DONE ? usb_redir_success :
			usb_redir_stall;
	usbredirparser_send_alt_setting_status(b->parser, id, &status);
}

static void cb_get_alt_setting(void *priv, uint64_t id,
			       struct usb_redir_get_alt_setting_header *header)
{
	struct board *b = priv;
	struct usb_redir_alt_setting_status_header status = {
		.status = usb_redir_success, .interface = header->interface, .alt = 0 };

	usbredirparser_send_alt_setting_status(b->parser, id, &status);
}

static void cb_cancel(void *priv, uint64_t id)
{
	struct board *b = priv;

	for (unsigned i = 0; i < MAX_PENDING; i++) {
		struct pending_transfer *t = &b->pending[i];

		if (!t->used || t->id != id)
			continue;
		if (verbose)
			note(b, "host cancelled a pending transfer");
		if (t->is_control) {
			t->control.status = usb_redir_cancelled;
			t->control.length = 0;
			usbredirparser_send_control_packet(b->parser, id, &t->control, NULL, 0);
		} else {
			t->bulk.status = usb_redir_cancelled;
			t->bulk.length = 0;
			t->bulk.length_high = 0;
			usbredirparser_send_bulk_packet(b->parser, id, &t->bulk, NULL, 0);
		}
		free(t->data);
		memset(t, 0, sizeof(*t));
	}
}

static void cb_disconnect_ack(void *priv)
{
	struct board *b = priv;

	b->awaiting_disconnect_ack = false;
}

static void cb_filter_reject(void *priv)
{
	struct board *b = priv;

	note(b, "QEMU rejected the device (usb-redir filter or missing capabilities)");
}

static void cb_filter_filter(void *priv, struct usbredirfilter_rule *rules, int count)
{
	(void)priv;
	(void)count;
	free(rules); /* ours now; QEMU's filter only matters on its side */
}

/* Streams, iso and interrupt endpoints: none of that exists on the boards we model. */
static void cb_start_iso(void *priv, uint64_t id, struct usb_redir_start_iso_stream_header *h)
{
	struct board *b = priv;
	struct usb_redir_iso_stream_status_header s = { .status = usb_redir_stall, .endpoint = h->endpoint };

	usbredirparser_send_iso_stream_status(b->parser, id, &s);
}

static void cb_stop_iso(void *priv, uint64_t id, struct usb_redir_stop_iso_stream_header *h)
{
	struct board *b = priv;
	struct usb_redir_iso_stream_status_header s = { .status = usb_redir_success, .endpoint = h->endpoint };

	usbredirparser_send_iso_stream_status(b->parser, id, &s);
}

static void cb_start_interrupt(void *priv, uint64_t id,
			       struct usb_redir_start_interrupt_receiving_header *h)
{
	struct board *b = priv;
	struct usb_redir_interrupt_receiving_status_header s = { .status = usb_redir_stall,
								 .endpoint = h->endpoint };

	usbredirparser_send_interrupt_receiving_status(b->parser, id, &s);
}

static void cb_stop_interrupt(void *priv, uint64_t id,
			      struct usb_redir_stop_interrupt_receiving_header *h)
{
	struct board *b = priv;
	struct usb_redir_interrupt_receiving_status_header s = { .status = usb_redir_success,
								 .endpoint = h->endpoint };

	usbredirparser_send_interrupt_receiving_status(b->parser, id, &s);
}

static void cb_alloc_streams(void *priv, uint64_t id, struct usb_redir_alloc_bulk_streams_header *h)
{
	struct board *b = priv;
	struct usb_redir_bulk_streams_status_header s = { .endpoints = h->endpoints,
							  .no_streams = 0, .status = usb_redir_stall };

	usbredirparser_send_bulk_streams_status(b->parser, id, &s);
}

static void cb_free_streams(void *priv, uint64_t id, struct usb_redir_free_bulk_streams_header *h)
{
	struct board *b = priv;
	struct usb_redir_bulk_streams_status_header s = { .endpoints = h->endpoints,
							  .no_streams = 0, .status = usb_redir_success };

	usbredirparser_send_bulk_streams_status(b->parser, id, &s);
}

static void cb_start_bulk_receiving(void *priv, uint64_t id,
				    struct usb_redir_start_bulk_receiving_header *h)
{
	struct board *b = priv;
	struct usb_redir_bulk_receiving_status_header s = { .stream_id = h->stream_id,
							    .endpoint = h->endpoint,
							    .status = usb_redir_stall };

	usbredirparser_send_bulk_receiving_status(b->parser, id, &s);
}

static void cb_stop_bulk_receiving(void *priv, uint64_t id,
				   struct usb_redir_stop_bulk_receiving_header *h)
{
	struct board *b = priv;
	struct usb_redir_bulk_receiving_status_header s = { .stream_id = h->stream_id,
							    .endpoint = h->endpoint,
							    .status = usb_redir_success };

	usbredirparser_send_bulk_receiving_status(b->parser, id, &s);
}

static void cb_iso(void *priv, uint64_t id, struct usb_redir_iso_packet_header *h, uint8_t *data,
		   int len)
{
	struct board *b = priv;

	usbredirparser_free_packet_data(b->parser, data);
}

static void cb_interrupt(void *priv, uint64_t id, struct usb_redir_interrupt_packet_header *h,
			 uint8_t *data, int len)
{
	struct board *b = priv;

	usbredirparser_free_packet_data(b->parser, data);
}

static void cb_buffered_bulk(void *priv, uint64_t id,
			     struct usb_redir_buffered_bulk_packet_header *h, uint8_t *data, int len)
{
	struct board *b = priv;

	usbredirparser_free_packet_data(b->parser, data);
}

/* Packets only a usb-host sends; the peer (QEMU, a usb-guest) never does. */
static void cb_ignore_connect(void *priv, struct usb_redir_device_connect_header *h) {}
static void cb_ignore(void *priv) {}
static void cb_ignore_interface_info(void *priv, struct usb_redir_interface_info_header *h) {}
static void cb_ignore_ep_info(void *priv, struct usb_redir_ep_info_header *h) {}
static void cb_ignore_config_status(void *priv, uint64_t id,
				    struct usb_redir_configuration_status_header *h) {}
static void cb_ignore_alt_status(void *priv, uint64_t id,
				 struct usb_redir_alt_setting_status_header *h) {}
static void cb_ignore_iso_status(void *priv, uint64_t id,
				 struct usb_redir_iso_stream_status_header *h) {}
static void cb_ignore_interrupt_status(void *priv, uint64_t id,
				       struct usb_redir_interrupt_receiving_status_header *h) {}
static void cb_ignore_streams_status(void *priv, uint64_t id,
				     struct usb_redir_bulk_streams_status_header *h) {}
static void cb_ignore_bulk_receiving_status(void *priv, uint64_t id,
					    struct usb_redir_bulk_receiving_status_header *h) {}

static struct usbredirparser *create_parser(struct board *b)
{
	struct usbredirparser *p = usbredirparser_create();
	uint32_t caps[USB_REDIR_CAPS_SIZE] = { 0 };

	if (!p)
		return NULL;
	p->priv = b;
	p->log_func = cb_log;
	p->read_func = cb_read;
	p->write_func = cb_write;
	p->hello_func = cb_hello;
	p->device_connect_func = cb_ignore_connect;
	p->device_disconnect_func = cb_ignore;
	p->reset_func = cb_reset;
	p->interface_info_func = cb_ignore_interface_info;
	p->ep_info_func = cb_ignore_ep_info;
	p->set_configuration_func = cb_set_configuration;
	p->get_configuration_func = cb_get_configuration;
	p->configuration_status_func = cb_ignore_config_status;
	p->set_alt_setting_func = cb_set_alt_setting;
	p->get_alt_setting_func = cb_get_alt_setting;
	p->alt_setting_status_func = cb_ignore_alt_status;
	p->start_iso_stream_func = cb_start_iso;
	p->stop_iso_stream_func = cb_stop_iso;
	p->iso_stream_status_func = cb_ignore_iso_status;
	p->start_interrupt_receiving_func = cb_start_interrupt;
	p->stop_interrupt_receiving_func = cb_stop_interrupt;
	p->interrupt_receiving_status_func = cb_ignore_interrupt_status;
	p->alloc_bulk_streams_func = cb_alloc_streams;
	p->free_bulk_streams_func = cb_free_streams;
	p->bulk_streams_status_func = cb_ignore_streams_status;
	p->cancel_data_packet_func = cb_cancel;
	p->control_packet_func = cb_control;
	p->bulk_packet_func = cb_bulk;
	p->iso_packet_func = cb_iso;
	p->interrupt_packet_func = cb_interrupt;
	p->filter_reject_func = cb_filter_reject;
	p->filter_filter_func = cb_filter_filter;
	p->device_disconnect_ack_func = cb_disconnect_ack;
	p->start_bulk_receiving_func = cb_start_bulk_receiving;
	p->stop_bulk_receiving_func = cb_stop_bulk_receiving;
	p->bulk_receiving_status_func = cb_ignore_bulk_receiving_status;
	p->buffered_bulk_packet_func = cb_buffered_bulk;

	usbredirparser_caps_set_cap(caps, usb_redir_cap_connect_device_version);
	usbredirparser_caps_set_cap(caps, usb_redir_cap_filter);
	usbredirparser_caps_set_cap(caps, usb_redir_cap_device_disconnect_ack);
	usbredirparser_caps_set_cap(caps, usb_redir_cap_ep_info_max_packet_size);
	usbredirparser_caps_set_cap(caps, usb_redir_cap_64bits_ids);
	usbredirparser_caps_set_cap(caps, usb_redir_cap_32bits_bulk_length);
	usbredirparser_init(p, "piprov-redir-bridge " PIPROV_VERSION, caps, USB_REDIR_CAPS_SIZE,
			    usbredirparser_fl_usb_host);
	return p;
}

/* ---- board lifecycle --------------------------------------------------------------------- */

/* "pi5:unplug-after=4096,foo=bar" -> model "pi5", bridge options taken out, rest to model. */
static int setup_board(struct board *b, unsigned index, const char *spec, const char *socket_dir)
{
	char model_name[32] = "", model_options[256] = "";
	const char *colon = strchr(spec, ':');
	size_t name_len = colon ? (size_t)(colon - spec) : strlen(spec);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	memset(b, 0, sizeof(*b));
	b->index = index;
	b->listen_fd = b->conn_fd = -1;
	snprintf(b->spec, sizeof(b->spec), "%s", spec);
	if (name_len == 0 || name_len >= sizeof(model_name)) {
		fprintf(stderr, "piprov-redir-bridge: board '%s': bad model name\n", spec);
		return -1;
	}
	memcpy(model_name, spec, name_len);
	if (colon) {
		char options[256];
		char *save = NULL, *item;
		size_t used = 0;

		if (snprintf(options, sizeof(options), "%s", colon + 1) >= (int)sizeof(options)) {
			fprintf(stderr, "piprov-redir-bridge: board '%s': options too long\n", spec);
			return -1;
		}
		for (item = strtok_r(options, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
			if (strncmp(item, "unplug-after=", 13) == 0) {
				char *end;

				errno = 0;
				b->unplug_after = strtoull(item + 13, &end, 0);
				if (errno || *end || b->unplug_after == 0) {
					fprintf(stderr, "piprov-redir-bridge: board '%s': bad "
						"unplug-after value\n", spec);
					return -1;
				}
			} else {
				used += (size_t)snprintf(model_options + used,
							 sizeof(model_options) - used, "%s%s",
							 used ? "," : "", item);
				if (used >= sizeof(model_options))
					return -1;
			}
		}
	}
	b->model = e2e_device_model_create(model_name, index, model_options);
	if (!b->model)
		return -1;

	if ((size_t)snprintf(b->socket_path, sizeof(b->socket_path), "%s/board-%u.sock", socket_dir,
			     index) >= sizeof(b->socket_path)) {
		fprintf(stderr, "piprov-redir-bridge: socket dir '%s' is too long\n", socket_dir);
		return -1;
	}
	memcpy(addr.sun_path, b->socket_path, sizeof(addr.sun_path));
	unlink(b->socket_path);
	b->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (b->listen_fd < 0 || bind(b->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(b->listen_fd, 1) < 0) {
		fprintf(stderr, "piprov-redir-bridge: '%s': %s\n", b->socket_path, strerror(errno));
		return -1;
	}
	return 0;
}

static void accept_connection(struct board *b)
{
	int fd = accept4(b->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	b->conn_fd = fd;
	close(b->listen_fd);
	b->listen_fd = -1;
	b->parser = create_parser(b);
	if (!b->parser) {
		note(b, "cannot create the usbredir parser");
		b->connection_closed = true;
		return;
	}
	note(b, "QEMU connected");
}

/* Bring QEMU's view in line with the model: detach a device that went away (or that the
 * fault option pulls), attach the one that is there now. */
static void sync_attachment(struct board *b)
{
	uint32_t generation = 0;
	bool attached;

	if (!b->parser || !b->peer_ready || b->connection_closed)
		return;
	attached = b->model->ops->attached(b->model, &generation);

	if (b->announced && b->unplug_after && b->attachments >= 2 &&
	    b->attachment_bulk_bytes >= b->unplug_after) {
		b->unplugged_by_fault = true;
		detach_device(b, "unplug-after: cable pulled");
		return;
	}
	if (b->announced && (!attached || generation != b->announced_generation)) {
		detach_device(b, attached ? "re-enumeration" : "device left");
		return;
	}
	if (b->awaiting_disconnect_ack &&
	    now_ms() - b->disconnect_sent_ms > DISCONNECT_ACK_TIMEOUT_MS) {
		note(b, "no device_disconnect_ack from QEMU; attaching anyway");
		b->awaiting_disconnect_ack = false;
	}
	if (!b->announced && attached && !b->awaiting_disconnect_ack && !b->unplugged_by_fault &&
	    !announce_device(b, generation))
		b->unplugged_by_fault = true; /* unusable descriptors: keep it off the bus */
}

static void finish_board(struct board *b, const char *state_dir)
{
	char summary[256] = "";

	if (state_dir && b->model->ops->save_state) {
		char dir[4096];

		snprintf(dir, sizeof(dir), "%s/board-%u", state_dir, b->index);
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			fprintf(stderr, "piprov-redir-bridge: '%s': %s\n", dir, strerror(errno));
		else
			b->model->ops->save_state(b->model, dir);
	}
	if (b->model->ops->describe)
		b->model->ops->describe(b->model, summary, sizeof(summary));
	printf("BRIDGE: board %u spec=%s attachments=%u controls=%" PRIu64 " stalls=%" PRIu64
	       " bulk_packets=%" PRIu64 " bulk_bytes=%" PRIu64 " bulk_in_bytes=%" PRIu64
	       " unplugged=%s %s\n",
	       b->index, b->spec, b->attachments, b->controls, b->stalls, b->bulk_packets,
	       b->bulk_bytes, b->bulk_in_bytes, b->unplugged_by_fault ? "yes" : "no", summary);
	drop_pending(b);
	if (b->parser)
		usbredirparser_destroy(b->parser);
	if (b->conn_fd >= 0)
		close(b->conn_fd);
	if (b->listen_fd >= 0)
		close(b->listen_fd);
	unlink(b->socket_path);
	b->model->ops->destroy(b->model);
}

static bool has_pending(const struct board *b)
{
	for (unsigned i = 0; i < MAX_PENDING; i++)
		if (b->pending[i].used)
			return true;
	return false;
}

static void serve(void)
{
	for (;;) {
		struct pollfd fds[MAX_BOARDS];
		unsigned open_boards = 0, i;
		int timeout = 20;

		for (i = 0; i < board_count; i++) {
			struct board *b = &boards[i];

			fds[i].fd = -1;
			fds[i].events = 0;
			fds[i].revents = 0;
			if (b->connection_closed)
				continue;
			open_boards++;
			b->model->ops->tick(b->model);
			if (b->parser) {
				sync_attachment(b);
				retry_pending(b);
				if (has_pending(b) || b->awaiting_disconnect_ack)
					timeout = 2;
				fds[i].fd = b->conn_fd;
				fds[i].events = POLLIN;
				if (usbredirparser_has_data_to_write(b->parser))
					fds[i].events |= POLLOUT;
			} else {
				fds[i].fd = b->listen_fd;
				fds[i].events = POLLIN;
			}
		}
		if (open_boards == 0 || stop_requested)
			return;
		if (poll(fds, board_count, timeout) < 0 && errno != EINTR) {
			perror("piprov-redir-bridge: poll");
			return;
		}
		for (i = 0; i < board_count; i++) {
			struct board *b = &boards[i];

			if (b->connection_closed || fds[i].fd < 0)
				continue;
			if (!b->parser) {
				if (fds[i].revents & POLLIN)
					accept_connection(b);
				continue;
			}
			if (fds[i].revents & (POLLIN | POLLHUP | POLLERR))
				if (usbredirparser_do_read(b->parser) == usbredirparser_read_io_error)
					b->connection_closed = true;
			if (!b->connection_closed && usbredirparser_has_data_to_write(b->parser))
				if (usbredirparser_do_write(b->parser) < 0)
					b->connection_closed = true;
			if (b->connection_closed)
				note(b, "QEMU disconnected");
		}
	}
}

static void usage(FILE *to)
{
	fprintf(to, "usage: piprov-redir-bridge --socket-dir DIR [--state-dir DIR] [-v] BOARD...\n"
		    "  BOARD is MODEL[:OPTION,...]; models: %s\n"
		    "  bridge option: unplug-after=N (drop the board after N bulk bytes of its\n"
		    "  second attachment)\n", e2e_device_model_names());
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "socket-dir", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *socket_dir = NULL, *state_dir = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	int opt, status = 0;

	while ((opt = getopt_long(argc, argv, "s:S:vh", options, NULL)) != -1) {
		switch (opt) {
		case 's': socket_dir = optarg; break;
		case 'S': state_dir = optarg; break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!socket_dir || optind >= argc || argc - optind > MAX_BOARDS) {
		usage(stderr);
		return 2;
	}
	start_ms = now_ms();
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (; optind < argc; optind++) {
		if (setup_board(&boards[board_count], board_count, argv[optind], socket_dir) < 0) {
			status = 1;
			break;
		}
		board_count++;
	}
	if (status == 0) {
		printf("BRIDGE: READY boards=%u\n", board_count);
		fflush(stdout);
		serve();
	}
	for (unsigned i = 0; i < board_count; i++)
		finish_board(&boards[i], state_dir);
	return status;
}
