/* Fuzz target for the frame parsers of the board's IP stack (src/lib/netboot/wire.c,
 * stack.c): every Ethernet frame on the LAN reaches them. A frame that parses as UDP is
 * rebuilt and must parse to the same datagram. Then the input, cut into frames (a 2-byte
 * length before each), goes through the stack itself: ARP answers, fragment reassembly,
 * delivery to a port. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/netboot.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pv_netboot_udp_frame f, g;
	struct pv_netboot_arp arp;
	uint8_t frame[PV_NETBOOT_FRAME_MAX];
	size_t len;

	pv_netboot_arp_parse(data, size, &arp);
	if (pv_netboot_udp_frame_parse(data, size, &f) == PV_OK) {
		if (f.payload < data || f.payload + f.payload_len > data + size)
			abort();
		if (f.payload_len <= PV_NETBOOT_UDP_MAX) {
			if (pv_netboot_udp_frame_build(&f, frame, &len) != PV_OK ||
			    pv_netboot_udp_frame_parse(frame, len, &g) != PV_OK ||
			    g.payload_len != f.payload_len || g.src_port != f.src_port ||
			    g.dst_ip != f.dst_ip || memcmp(g.payload, f.payload, f.payload_len) != 0)
				abort();
		}
	}
	{
		static const uint8_t mac[6] = { 0xdc, 0xa6, 0x32, 0xaa, 0xbb, 0x01 };
		static struct pv_netboot_stack stack;
		static struct pv_netboot_link *link; /* one for the process: ~400 KB of queue */
		size_t at = 0;

		if (!link && pv_netboot_fake_link_new(mac, false, NULL, NULL, &link) != PV_OK)
			abort();
		pv_netboot_stack_init(&stack, link);
		pv_netboot_stack_configure(&stack, 0x0a000033, 0xffffff00, 0x0a000001);
		while (at + 2 <= size) {
			size_t n = (size_t)(data[at] << 8 | data[at + 1]) % (PV_NETBOOT_FRAME_MAX + 1);

			at += 2;
			if (n > size - at)
				n = size - at;
			if (n >= PV_NETBOOT_ETH_HEADER) {
				uint8_t copy[PV_NETBOOT_FRAME_MAX];

				memcpy(copy, data + at, n);
				memcpy(copy, mac, 6); /* to us, so the switch delivers it */
				pv_netboot_fake_link_inject(link, copy, n);
			}
			at += n;
		}
		while (pv_netboot_stack_recv(&stack, data[0] % 2 ? 700 : 6970,
					     link->ops->now_ms(link) + 10, &g) == PV_OK)
			if (g.payload_len > PV_NETBOOT_DATAGRAM_MAX)
				abort();
		/* the queue is empty again: stack_recv drained it up to the timeout */
	}
	pv_clear_error();
	return 0;
}
