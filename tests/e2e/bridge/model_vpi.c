/* The virtual Pi (src/lib/vpi, piprov/vpi.h) as a bridge device model: the very same board
 * model the in-process transport drives, here driven by the guest kernel's USB stack.
 *
 * Model names and options are those of a --virtual spec ("pi4", "pi5,flash-ms=200",
 * "cm4,fault=3"): board K of the bridge is board K of "MODEL,count=K+1,OPTIONS", so its
 * serial and MAC are the ones `piprov ... --virtual MODEL,count=N` gives the same board, and
 * it sits at port path 1-(K+1), where the bridge's harness plugs it into QEMU's xHCI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_model.h"
#include "piprov/error.h"
#include "piprov/vpi.h"

#include "banned.h"

struct vpi_model {
	struct e2e_device_model base;
	struct pv_vpi_board *board;
	char name[32];
};

static enum e2e_xfer_status map_status(int status)
{
	switch (status) {
	case PV_OK:
		return E2E_XFER_DONE;
	case PV_ERR_TIMEOUT: /* timeout 0: the device NAKs for now */
		return E2E_XFER_PENDING;
	case PV_ERR_NO_DEVICE:
		return E2E_XFER_GONE;
	default: /* PV_ERR_PIPE, PV_ERR_INVALID: the request is refused */
		return E2E_XFER_STALL;
	}
}

static void vpi_tick(struct e2e_device_model *model)
{
	struct vpi_model *m = (struct vpi_model *)model;

	pv_vpi_board_poll(m->board, NULL, NULL, NULL);
}

static bool vpi_attached(struct e2e_device_model *model, uint32_t *generation)
{
	struct vpi_model *m = (struct vpi_model *)model;
	bool attached = false;

	pv_vpi_board_poll(m->board, &attached, generation, NULL);
	return attached;
}

static enum e2e_xfer_status vpi_control(struct e2e_device_model *model, uint32_t generation,
					const uint8_t setup[8], const uint8_t *out, size_t out_len,
					uint8_t *in, size_t *in_len)
{
	struct vpi_model *m = (struct vpi_model *)model;
	uint8_t data[E2E_CONTROL_MAX];
	size_t actual = 0;
	int status;

	if (setup[0] & 0x80) {
		status = pv_vpi_board_control(m->board, generation, setup, in, E2E_CONTROL_MAX,
					      &actual, 0);
		if (status == PV_OK)
			*in_len = actual;
	} else {
		if (out_len > sizeof(data))
			return E2E_XFER_STALL;
		if (out_len)
			memcpy(data, out, out_len);
		status = pv_vpi_board_control(m->board, generation, setup, out_len ? data : NULL,
					      out_len, &actual, 0);
	}
	return map_status(status);
}

static enum e2e_xfer_status vpi_bulk_out(struct e2e_device_model *model, uint32_t generation,
					 uint8_t ep, const uint8_t *data, size_t len,
					 size_t *accepted)
{
	struct vpi_model *m = (struct vpi_model *)model;
	size_t actual = 0;
	int status = pv_vpi_board_bulk_out(m->board, generation, ep, data, len, &actual, 0);

	if (status == PV_OK)
		*accepted = actual;
	return map_status(status);
}

static enum e2e_xfer_status vpi_bulk_in(struct e2e_device_model *model, uint32_t generation,
					uint8_t ep, uint8_t *in, size_t len, size_t *got)
{
	struct vpi_model *m = (struct vpi_model *)model;
	size_t actual = 0;
	int status = pv_vpi_board_bulk_in(m->board, generation, ep, in, len, &actual, 0);

	if (status == PV_OK)
		*got = actual;
	return map_status(status);
}

static const char *stage_name(enum pv_vpi_stage stage)
{
	static const char *const names[] = { "rom", "second", "finished", "gone", "msd" };

	return (unsigned)stage < sizeof(names) / sizeof(names[0]) ? names[stage] : "?";
}

/* board-K/: the EEPROM (<serial>.bin), the request transcript, and result.txt with one
 * key=value per line for the test scripts. */
static int vpi_save_state(struct e2e_device_model *model, const char *dir)
{
	struct vpi_model *m = (struct vpi_model *)model;
	const struct pv_vpi_options *o = pv_vpi_board_options(m->board);
	struct pv_vpi_result r;
	struct pv_buf transcript;
	char path[4096];
	FILE *f;
	int rc = 0;

	pv_vpi_board_result(m->board, &r);
	if (r.eeprom_written && pv_vpi_board_dump(m->board, dir) != PV_OK) {
		fprintf(stderr, "piprov-redir-bridge: EEPROM dump: %s\n", pv_last_error());
		rc = -1;
	}
	pv_buf_init(&transcript, PV_VPI_TRANSCRIPT_MAX);
	snprintf(path, sizeof(path), "%s/transcript.txt", dir);
	if (pv_vpi_board_transcript(m->board, &transcript) == PV_OK) {
		f = fopen(path, "w");
		if (f) {
			fwrite(transcript.data, 1, transcript.len, f);
			fclose(f);
		}
	}
	pv_buf_release(&transcript);

	snprintf(path, sizeof(path), "%s/result.txt", dir);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		return -1;
	}
	fprintf(f, "mac=%02x:%02x:%02x:%02x:%02x:%02x\nboardrev=%x\n", o->mac[0], o->mac[1],
		o->mac[2], o->mac[3], o->mac[4], o->mac[5], o->boardrev);
	fprintf(f, "model=%s\nserial=%s\nstage=%s\nsecond_stage_received=%d\nrecovery=%d\n"
		"image_received=%d\nsignature_ok=%d\neeprom_written=%d\neeprom_update=%s\n"
		"eeprom_hash=%s\nrequests=%u\nmetadata_sent=%u\nbytes_received=%llu\nfault=%s\n",
		m->name, pv_vpi_board_serial(m->board), stage_name(r.stage),
		r.second_stage_received, r.recovery, r.image_received, r.signature_ok,
		r.eeprom_written, r.eeprom_update, r.eeprom_hash, r.requests, r.metadata_sent,
		(unsigned long long)r.bytes_received, pv_vpi_fault_name(r.fault));
	if (r.msd_gadget[0])
		fprintf(f, "msd_program=%s\nmsd_gadget=%s\nmsd_size=%llu\nmsd_commands=%llu\n"
			"msd_failed_commands=%llu\nmsd_phase_errors=%llu\nmsd_bytes_read=%llu\n"
			"msd_bytes_written=%llu\nmsd_syncs=%llu\n", r.msd_program, r.msd_gadget,
			(unsigned long long)r.msd_size, (unsigned long long)r.msd_commands,
			(unsigned long long)r.msd_failed_commands,
			(unsigned long long)r.msd_phase_errors,
			(unsigned long long)r.msd_bytes_read,
			(unsigned long long)r.msd_bytes_written, (unsigned long long)r.msd_syncs);
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

static void vpi_describe(struct e2e_device_model *model, char *text, size_t size)
{
	struct vpi_model *m = (struct vpi_model *)model;
	struct pv_vpi_result r;

	pv_vpi_board_result(m->board, &r);
	snprintf(text, size, "model=%s serial=%s stage=%s eeprom_written=%s eeprom_update=%s",
		 m->name, pv_vpi_board_serial(m->board), stage_name(r.stage),
		 r.eeprom_written ? "yes" : "no", r.eeprom_update[0] ? r.eeprom_update : "-");
}

static void vpi_destroy(struct e2e_device_model *model)
{
	struct vpi_model *m = (struct vpi_model *)model;

	pv_vpi_board_free(m->board);
	free(m);
}

static const struct e2e_device_model_ops vpi_ops = {
	.tick = vpi_tick,
	.attached = vpi_attached,
	.control = vpi_control,
	.bulk_out = vpi_bulk_out,
	.bulk_in = vpi_bulk_in,
	.save_state = vpi_save_state,
	.describe = vpi_describe,
	.destroy = vpi_destroy,
};

struct e2e_device_model *e2e_vpi_model_create(const char *name, unsigned index,
					       const char *options);
struct e2e_device_model *e2e_vpi_model_create(const char *name, unsigned index,
					       const char *options)
{
	struct pv_vpi_spec spec;
	struct pv_vpi_options opts;
	struct vpi_model *m;
	char text[256];

	if ((size_t)snprintf(text, sizeof(text), "%s,count=%u%s%s", name, index + 1,
			     options && *options ? "," : "", options ? options : "") >= sizeof(text)) {
		fprintf(stderr, "piprov-redir-bridge: board spec too long\n");
		return NULL;
	}
	if (pv_vpi_spec_parse(text, &spec) != PV_OK) {
		fprintf(stderr, "piprov-redir-bridge: '%s': %s\n", text, pv_last_error());
		return NULL;
	}
	if (pv_vpi_spec_board_options(&spec, index, &opts) != PV_OK) {
		fprintf(stderr, "piprov-redir-bridge: '%s': %s\n", text, pv_last_error());
		goto out_release_spec;
	}
	snprintf(opts.port_path, sizeof(opts.port_path), "1-%u", index + 1);
	m = calloc(1, sizeof(*m));
	if (!m)
		goto out_release_spec;
	m->base.ops = &vpi_ops;
	snprintf(m->name, sizeof(m->name), "%s", name);
	if (pv_vpi_board_new(&opts, &m->board) != PV_OK) {
		fprintf(stderr, "piprov-redir-bridge: '%s': %s\n", text, pv_last_error());
		goto out_free_model;
	}
	pv_vpi_spec_release(&spec);
	return &m->base;

out_free_model:
	free(m);
out_release_spec:
	pv_vpi_spec_release(&spec);
	return NULL;
}
