/* Server-Sent Events framing (https://html.spec.whatwg.org/#server-sent-events). */
#include <string.h>

#include "piprov/buf.h"
#include "piprov/error.h"

#include "web_internal.h"

#include "banned.h"

int pv_web_sse_frame(struct pv_buf *out, const char *event, const char *data, size_t len)
{
	size_t before = out->len, start = 0, i = 0;
	int rc = PV_OK;

	if (event)
		rc = pv_buf_appendf(out, "event: %s\n", event);
	/* Every line break the browser would see (\r\n, \n, \r) starts a new data line. */
	while (!rc) {
		while (i < len && data[i] != '\n' && data[i] != '\r')
			i++;
		rc = pv_buf_append(out, "data: ", 6);
		if (!rc)
			rc = pv_buf_append(out, data + start, i - start);
		if (!rc)
			rc = pv_buf_putc(out, '\n');
		if (i >= len)
			break;
		if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
			i++;
		start = ++i;
	}
	if (!rc)
		rc = pv_buf_putc(out, '\n');
	if (rc)
		pv_buf_truncate(out, before);
	return rc;
}
