/* piprov-e2e-bootconf IMAGE: print the bootconf.txt of an EEPROM image (the virtual board's
 * flash after an e2e case), so the case can check what was written. Exit 1 with the reason
 * when the image does not parse or has no bootconf.txt. */
#include <stdio.h>

#include "piprov/eeprom.h"
#include "piprov/error.h"

#include "banned.h"

int main(int argc, char **argv)
{
	struct pv_eeprom_image img = { 0 };
	const unsigned char *conf;
	size_t len;
	int status = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: piprov-e2e-bootconf IMAGE\n");
		return 2;
	}
	if (pv_eeprom_load(&img, argv[1]) != PV_OK ||
	    pv_eeprom_get_file(&img, PV_EEPROM_BOOTCONF_TXT, &conf, &len) != PV_OK) {
		fprintf(stderr, "piprov-e2e-bootconf: %s\n", pv_last_error());
		goto out_release;
	}
	if (fwrite(conf, 1, len, stdout) == len)
		status = 0;
out_release:
	pv_eeprom_release(&img);
	return status;
}
