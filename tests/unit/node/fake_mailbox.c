#include <string.h>

#include "fake_mailbox.h"
#include "piprov/text.h"
#include "banned.h"

static int fake_property(void *ctx, uint32_t *buf, size_t size)
{
	struct fake_mailbox *fake = ctx;
	uint32_t tag = buf[2], room = buf[3];
	unsigned char *value = (unsigned char *)(buf + 5);

	fake->calls++;
	memset(fake->last_words, 0, sizeof(fake->last_words));
	memcpy(fake->last_words, buf,
	       size < sizeof(fake->last_words) ? size : sizeof(fake->last_words));
	fake->last_tag = tag;
	if (buf[0] != size || buf[1] != 0)
		return PV_ERR_PROTOCOL;
	for (size_t i = 0; i < fake->count; i++) {
		const struct fake_answer *a = &fake->answers[i];
		size_t len = a->len;
		if (a->tag != tag)
			continue;
		if (a->gencmd) {
			pv_strlcpy(fake->last_gencmd, (const char *)value + 4,
				   sizeof(fake->last_gencmd));
			if (strcmp(a->gencmd, (const char *)value + 4) != 0)
				continue;
			memcpy(value, &a->gencmd_error, 4);
			memcpy(value + 4, a->value, a->len);
			value[4 + a->len] = '\0';
			len = 4 + a->len + 1;
		} else {
			memcpy(value, a->value, a->len);
		}
		(void)room;
		buf[1] = a->code ? a->code : 0x80000000u;
		buf[4] = a->resp_len ? a->resp_len : 0x80000000u | (uint32_t)len;
		return 0;
	}
	buf[1] = 0x80000001u; /* parse error: unknown tag */
	return 0;
}

static const struct pv_node_mailbox_ops fake_ops = { fake_property, NULL };

void fake_mailbox_attach(struct fake_mailbox *fake, struct pv_node_mailbox *mb)
{
	mb->ops = &fake_ops;
	mb->ctx = fake;
}
