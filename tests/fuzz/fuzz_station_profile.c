/* Fuzz target: the station's profile file (libconfig text, then the settings table). What
 * it accepts must hold together: lists as long as their counts, non-empty strings. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/station.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pv_station_profile_file f;
	const struct pv_station_profile *p = &f.profile;

	if (pv_station_profile_parse((const char *)data, size, "fuzz.conf", &f) != 0)
		return 0;
	for (size_t i = 0; i < p->flash.setting_count; i++)
		if (!p->flash.settings[i][0] || !strchr(p->flash.settings[i], '='))
			abort();
	for (size_t i = 0; i < p->port_glob_count; i++)
		if (!p->port_globs[i][0])
			abort();
	if (p->exports.file_count > PV_STATION_EXPORTS_MAX)
		abort();
	for (size_t i = 0; i < p->exports.file_count; i++)
		if (!p->exports.files[i].format[0] || !p->exports.files[i].path[0])
			abort();
	pv_station_profile_file_release(&f);
	return 0;
}
