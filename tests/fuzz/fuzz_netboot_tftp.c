/* Fuzz target for the TFTP packet parser (src/lib/netboot/tftp.c): requests as a server sees
 * them, DATA/ACK/ERROR/OACK as the board sees them. Checks the strings stay terminated and
 * DATA points inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/netboot.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pv_netboot_tftp_packet t;

	if (pv_netboot_tftp_parse(data, size, &t) == PV_OK) {
		if (!memchr(t.path, 0, sizeof(t.path)) || !memchr(t.mode, 0, sizeof(t.mode)) ||
		    !memchr(t.message, 0, sizeof(t.message)))
			abort();
		if (t.opcode == PV_TFTP_DATA && (t.data != data + 4 || t.data_len != size - 4))
			abort();
		if (t.has_blksize && (t.blksize < 8 || t.blksize > 65464))
			abort();
	}
	pv_clear_error();
	return 0;
}
