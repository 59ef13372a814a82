/* Fuzz target: whatever a host sends to the virtual Compute Module's mass-storage gadget
 * (src/lib/vpi/msd.c): command blocks (CBW: signature, tag, lengths, flags, LUN, CDB of any
 * opcode and field), data of any length in either direction, class and standard control
 * requests, in any order. Drives the CBW parser, the SCSI decoders (block ranges, allocation
 * lengths, service actions, mode pages) and the BOT state machine (phases, halts, resets).
 * The medium is a 256 KiB memfd, emptied before every input.
 * Input: byte 0 picks the gadget and whether to configure first; then operations:
 *   0 SETUP(8) [+ wLength data]   1 bulk OUT EP LEN16 data   2 bulk IN EP LEN16
 *   3 a CBW with a valid signature: TAG(4) LEN(4) FLAGS LUN CBLEN CDB(16) (then bulk OUT) */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "piprov/board.h"
#include "piprov/buf.h"
#include "../../src/lib/vpi/msd.h" /* internal: the gadget model itself */

#define MEDIUM (256u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t in[65536];

static int medium_fd(void)
{
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("fuzz-msd", MFD_CLOEXEC);
		if (fd < 0)
			abort();
	}
	/* Empty (every page back to zeros) and full size again: inputs do not see each
	 * other's writes. */
	if (ftruncate(fd, 0) != 0 || ftruncate(fd, MEDIUM) != 0)
		abort();
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const programs[] = { "boot.img", "start4.elf" };
	struct pv_buf transcript = PV_BUF_INIT(4096);
	struct vpi_msd *m;
	size_t pos = 1, actual;
	bool handled;
	int fd;

	if (size < 1)
		return 0;
	fd = dup(medium_fd());
	if (fd < 0)
		abort();
	if (vpi_msd_new(fd, MEDIUM, "10000000deadbeef", &transcript, &m) != 0)
		abort();
	vpi_msd_attach(m, vpi_msd_identity_for(PV_SOC_BCM2711, programs[data[0] & 1]));
	if (data[0] & 2) {
		static const uint8_t configure[8] = { 0x00, 9, 1, 0, 0, 0, 0, 0 };

		vpi_msd_control(m, configure, NULL, 0, &actual, &handled);
	}
	while (pos < size) {
		uint8_t op = data[pos++] % 4, setup[8], cbw[31];
		size_t len;

		switch (op) {
		case 0: {
			uint16_t w_length;

			if (size - pos < 8)
				goto out;
			memcpy(setup, data + pos, 8);
			pos += 8;
			w_length = (uint16_t)(setup[6] | setup[7] << 8);
			if (!(setup[0] & 0x80)) {
				/* OUT: the data stage comes from the input (zeros past its end). */
				memset(in, 0, w_length);
				len = size - pos < w_length ? size - pos : w_length;
				memcpy(in, data + pos, len);
				pos += len;
			}
			vpi_msd_control(m, setup, in, sizeof(in), &actual, &handled);
			if ((setup[0] & 0x80) && actual > w_length)
				abort();
			break;
		}
		case 1:
			if (size - pos < 3)
				goto out;
			len = (size_t)data[pos + 1] | (size_t)data[pos + 2] << 8;
			pos += 3;
			if (len > size - pos)
				len = size - pos;
			vpi_msd_bulk_out(m, data[pos - 3], data + pos, len, &actual);
			if (actual > len)
				abort();
			pos += len;
			break;
		case 2:
			if (size - pos < 3)
				goto out;
			len = (size_t)data[pos + 1] | (size_t)data[pos + 2] << 8;
			vpi_msd_bulk_in(m, data[pos], in, len, &actual);
			pos += 3;
			if (actual > len)
				abort();
			break;
		default:
			if (size - pos < 27)
				goto out;
			memcpy(cbw, "USBC", 4);
			memcpy(cbw + 4, data + pos, 27);
			pos += 27;
			vpi_msd_bulk_out(m, 0x01, cbw, sizeof(cbw), &actual);
			break;
		}
	}
out:
	vpi_msd_free(m);
	pv_buf_release(&transcript);
	return 0;
}
