/* Answers of the firmware property mailbox: the buffer the ioctl hands back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t *words;
	const void *value;
	size_t len, nwords = size / 4;

	if (nwords == 0 || size > PV_NODE_MBOX_MAX_BYTES)
		return 0;
	words = malloc(nwords * 4);
	if (!words)
		return 0;
	memcpy(words, data, nwords * 4);
	if (pv_node_mailbox_parse_answer(words, nwords * 4, words[nwords > 2 ? 2 : 0], &value,
					 &len) == 0) {
		/* The value must lie inside the buffer. */
		volatile unsigned char sink = 0;
		for (size_t i = 0; i < len; i++)
			sink ^= ((const unsigned char *)value)[i];
		(void)sink;
	}
	free(words);
	return 0;
}
