/* Helpers shared by the files of the eeprom module (not installed). */
#ifndef PIPROV_EEPROM_INTERNAL_H
#define PIPROV_EEPROM_INTERNAL_H

#include <stdint.h>

uint32_t pv_eeprom_be32(const unsigned char *p);
void pv_eeprom_put_be32(unsigned char *p, uint32_t v);

#endif
