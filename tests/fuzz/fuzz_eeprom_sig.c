/* Fuzz the .sig parser (rpi-eeprom-digest format) and the digest check. */
#include <stdint.h>
#include <stdlib.h>

#include "piprov/eeprom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pv_eeprom_sig sig;

	if (pv_eeprom_sig_parse(data, size, "fuzz", &sig) == 0) {
		if (sig.sha256_hex[64] != '\0' || sig.target_soc[sizeof(sig.target_soc) - 1])
			abort();
		pv_eeprom_sig_verify(data, size, &sig, NULL);
	}
	return 0;
}
