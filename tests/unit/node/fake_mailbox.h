/* A fake VideoCore firmware behind the node mailbox ops table: it decodes the property
 * request the library built (tag, value buffer size, request bytes) and answers the way the
 * firmware does, so the request encoding and the answer checks are both exercised. */
#ifndef PIPROV_TEST_FAKE_MAILBOX_H
#define PIPROV_TEST_FAKE_MAILBOX_H

#include <stddef.h>
#include <stdint.h>

#include "piprov/node.h"

struct fake_answer {
	uint32_t tag;
	const char *gencmd;      /* for the gencmd tag: the command it answers */
	const void *value;       /* answer bytes (gencmd: the text) */
	size_t len;
	uint32_t gencmd_error;   /* gencmd error code */
	uint32_t code;           /* response code; 0 = 0x80000000 (success) */
	uint32_t resp_len;       /* 0 = len (| 0x80000000); else used as is (bad answers) */
};

struct fake_mailbox {
	const struct fake_answer *answers;
	size_t count;
	unsigned calls;
	uint32_t last_tag;
	char last_gencmd[128];
	uint32_t last_words[8];  /* first words of the last request, as sent */
};

void fake_mailbox_attach(struct fake_mailbox *fake, struct pv_node_mailbox *mb);

#endif
