/* Fuzz target: the --virtual SPEC parser, then the per-board options of what it accepted. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/vpi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pv_vpi_spec spec;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (pv_vpi_spec_parse(text, &spec) == 0) {
		for (unsigned i = 0; i < spec.count; i++) {
			struct pv_vpi_options opts;
			if (pv_vpi_spec_board_options(&spec, i, &opts) != 0)
				abort(); /* every index below count must work */
			if (opts.board != spec.board)
				abort();
		}
		pv_vpi_spec_release(&spec);
	}
	free(text);
	return 0;
}
