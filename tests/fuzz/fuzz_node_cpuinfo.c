/* /proc/cpuinfo and `vcgencmd otp_dump` text as piprov-node parses them. */
#include <stddef.h>
#include <stdint.h>

#include "piprov/log.h"
#include "piprov/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pv_node_cpuinfo info;
	uint32_t row;

	if (size > 256 * 1024)
		return 0;
	pv_node_cpuinfo_parse((const char *)data, size, &info);
	pv_node_otp_row((const char *)data, size, 17, &row);
	return 0;
}
