/* Fuzz target: whatever a host sends down the wire to a virtual board: raw SETUP packets,
 * vendor lengths, bulk data, polls, in any order. This drives the device's own parsers
 * (boot message, file answers, config.txt, pieeprom.sig) with hostile input. Timeouts are
 * 0, so nothing blocks.
 * Input: byte 0 picks the model; then operations: 0 SETUP(8) [+ data], 1 bulk LEN16 data,
 * 2 poll, 3 vendor OUT LEN32, 4 vendor IN LEN16, 5 bulk IN.
 * Bit 0x40 of byte 0 makes the uploaded program the recovery one whatever its bytes (the
 * virtual Pi otherwise recognises it only by identity), so random uploads reach the recovery
 * program's parsers (config.txt, pieeprom.sig) and not just the bootloader flow.
 * Speed (issue 15 item 9: >= 1,000 exec/s): the board's EEPROM is one static buffer
 * (opts.eeprom_storage) instead of a 512 KiB/2 MiB allocation per input, which under ASan is
 * a new mapping each time (~50 exec/s); the ROM detaches at once (rom_exec_ms = 0). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/board.h"
#include "piprov/vpi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const models[] = { "pi4", "pi5", "cm3", "cm5" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pv_vpi_options opts;
	struct pv_vpi_board *board;
	static uint8_t in[65536];
	static unsigned char eeprom[4u << 20]; /* larger than any SoC's EEPROM (checked) */
	size_t pos = 1, actual;

	if (size < 1)
		return 0;
	if (pv_vpi_options_init(&opts, pv_board_by_short_name(models[data[0] % 4]), 0) != 0)
		abort();
	opts.reenumerate_ms = 0;
	opts.rom_exec_ms = 0;
	if (opts.soc->eeprom_size > sizeof(eeprom))
		abort();
	opts.eeprom_storage = eeprom;
	if (data[0] & 0x40)
		opts.second_stage = PV_VPI_SECOND_STAGE_RECOVERY;
	if (pv_vpi_board_new(&opts, &board) != 0)
		return 0;
	while (pos < size) {
		uint8_t op = data[pos++] % 6;
		uint8_t setup[8] = { 0 };
		size_t len;

		switch (op) {
		case 0:
			if (size - pos < 8)
				goto out;
			memcpy(setup, data + pos, 8);
			pos += 8;
			pv_vpi_board_control(board, 0, setup, in, sizeof(in), &actual, 0);
			break;
		case 1:
			if (size - pos < 2)
				goto out;
			len = (size_t)data[pos] | (size_t)data[pos + 1] << 8;
			pos += 2;
			if (len > size - pos)
				len = size - pos;
			pv_vpi_board_bulk_out(board, 0, data[0] & 0x80 ? 0x03 : 0x01, data + pos, len,
					      &actual, 0);
			if (actual > len)
				abort();
			pos += len;
			break;
		case 2:
			pv_vpi_board_poll(board, NULL, NULL, NULL);
			break;
		case 3:
			if (size - pos < 4)
				goto out;
			setup[0] = 0x40;
			memcpy(setup + 2, data + pos, 4); /* wValue, wIndex = a 32-bit length */
			pos += 4;
			pv_vpi_board_control(board, 0, setup, NULL, 0, NULL, 0);
			break;
		case 4:
			if (size - pos < 2)
				goto out;
			setup[0] = 0xc0;
			setup[2] = setup[6] = data[pos];
			setup[3] = setup[7] = data[pos + 1];
			pos += 2;
			pv_vpi_board_control(board, 0, setup, in, sizeof(in), &actual, 0);
			if (actual > ((size_t)setup[6] | (size_t)setup[7] << 8))
				abort();
			break;
		default:
			pv_vpi_board_bulk_in(board, 0, 0x82, in, 64, &actual, 0);
			break;
		}
	}
out:
	pv_vpi_board_free(board);
	return 0;
}
