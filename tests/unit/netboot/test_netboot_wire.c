/* The wire formats and clients of src/lib/netboot: frames, DHCP, the PXE menu, option 97,
 * TFTP (against the in-memory LAN), RPC replies, mountd's decision, cmdline.txt and
 * config.txt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_lan.h"
#include "piprov/error.h"
#include "piprov/netboot.h"
#include "piprov/netboot_boot.h"
#include "test_support.h"

static const uint8_t board_mac[6] = { 0xdc, 0xa6, 0x32, 0xaa, 0xbb, 0x01 };

/* ---- frames ---- */

static void test_udp_frame_round_trip(void **state)
{
	struct pv_netboot_udp_frame f, g;
	uint8_t frame[PV_NETBOOT_FRAME_MAX];
	size_t len;

	(void)state;
	memset(&f, 0, sizeof(f));
	memcpy(f.src_mac, board_mac, 6);
	memset(f.dst_mac, 0xff, 6);
	f.src_ip = 0;
	f.dst_ip = 0xffffffff;
	f.src_port = 68;
	f.dst_port = 67;
	f.payload = (const uint8_t *)"hello";
	f.payload_len = 5;
	assert_int_equal(pv_netboot_udp_frame_build(&f, frame, &len), PV_OK);
	assert_int_equal(len, 14 + 20 + 8 + 5);
	assert_int_equal(pv_netboot_udp_frame_parse(frame, len, &g), PV_OK);
	assert_int_equal(g.src_port, 68);
	assert_int_equal(g.dst_ip, 0xffffffffu);
	assert_int_equal(g.payload_len, 5);
	assert_memory_equal(g.payload, "hello", 5);
	/* one flipped payload bit: the UDP checksum catches it */
	frame[len - 1] ^= 1;
	assert_int_equal(pv_netboot_udp_frame_parse(frame, len, &g), PV_ERR_FORMAT);
	frame[len - 1] ^= 1;
	/* a fragment is refused, not half-read */
	frame[14 + 6] |= 0x20;
	frame[14 + 10] = frame[14 + 11] = 0;
	{
		uint16_t sum = pv_netboot_checksum(frame + 14, 20, 0);
		frame[14 + 10] = (uint8_t)(sum >> 8);
		frame[14 + 11] = (uint8_t)sum;
	}
	assert_int_equal(pv_netboot_udp_frame_parse(frame, len, &g), PV_ERR_FORMAT);
	/* too short to be IPv4 */
	assert_int_equal(pv_netboot_udp_frame_parse(frame, 20, &g), PV_ERR_NOT_FOUND);
	pv_clear_error();
}

static void test_arp_round_trip(void **state)
{
	struct pv_netboot_arp a, b;
	uint8_t frame[42];
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	(void)state;
	memset(&a, 0, sizeof(a));
	a.op = 1;
	memcpy(a.sender_mac, board_mac, 6);
	a.sender_ip = 0x0a000033;
	a.target_ip = 0x0a000002;
	pv_netboot_arp_build(&a, bcast, frame);
	assert_int_equal(frame[12], 0x08);
	assert_int_equal(frame[13], 0x06);
	assert_int_equal(pv_netboot_arp_parse(frame, sizeof(frame), &b), PV_OK);
	assert_int_equal(b.op, 1);
	assert_int_equal(b.target_ip, 0x0a000002);
	assert_memory_equal(b.sender_mac, board_mac, 6);
	assert_int_equal(pv_netboot_arp_parse(frame, 30, &b), PV_ERR_FORMAT);
	pv_clear_error();
}

/* A 3000-byte datagram in three fragments, delivered out of order, with a duplicate and a
 * fragment of another datagram in between: the stack hands over the whole datagram once. */
static void test_stack_reassembles_fragments(void **state)
{
	static uint8_t payload[3000];
	struct pv_netboot_udp_frame f, got;
	struct pv_netboot_link *link;
	struct pv_netboot_stack *stack = malloc(sizeof(*stack));
	uint8_t *whole = malloc(PV_NETBOOT_ETH_HEADER + 20 + 8 + sizeof(payload));
	uint8_t frag[3][PV_NETBOOT_FRAME_MAX];
	size_t flen[3];
	static const size_t cut[4] = { 0, 1480, 2960, 3008 }; /* of the 3008 UDP bytes */

	(void)state;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13);
	/* build the unfragmented frame with the library, then cut its IP payload */
	memset(&f, 0, sizeof(f));
	memcpy(f.dst_mac, board_mac, 6);
	f.src_ip = 0x0a000002;
	f.dst_ip = 0x0a000033;
	f.src_port = 20048;
	f.dst_port = 700;
	f.payload = payload;
	f.payload_len = 1000; /* build() refuses > 1472: assemble the header by hand below */
	{
		uint8_t small[PV_NETBOOT_FRAME_MAX];
		size_t len;
		uint32_t sum = 0;

		assert_int_equal(pv_netboot_udp_frame_build(&f, small, &len), PV_OK);
		memcpy(whole, small, PV_NETBOOT_ETH_HEADER + 20 + 8);
		memcpy(whole + PV_NETBOOT_ETH_HEADER + 28, payload, sizeof(payload));
		/* UDP length and checksum of the 3008-byte datagram */
		whole[PV_NETBOOT_ETH_HEADER + 24] = 3008 >> 8;
		whole[PV_NETBOOT_ETH_HEADER + 25] = 3008 & 0xff;
		whole[PV_NETBOOT_ETH_HEADER + 26] = whole[PV_NETBOOT_ETH_HEADER + 27] = 0;
		sum = (0x0a00 + 0x0002 + 0x0a00 + 0x0033 + 17 + 3008);
		{
			uint16_t c = pv_netboot_checksum(whole + PV_NETBOOT_ETH_HEADER + 20, 3008, sum);
			whole[PV_NETBOOT_ETH_HEADER + 26] = (uint8_t)(c >> 8);
			whole[PV_NETBOOT_ETH_HEADER + 27] = (uint8_t)c;
		}
	}
	for (int i = 0; i < 3; i++) {
		uint8_t *ip = frag[i] + PV_NETBOOT_ETH_HEADER;
		size_t n = cut[i + 1] - cut[i];
		uint16_t flags = (uint16_t)((i < 2 ? 0x2000 : 0) | (cut[i] / 8)), c;

		memcpy(frag[i], whole, PV_NETBOOT_ETH_HEADER + 20);
		memcpy(ip + 20, whole + PV_NETBOOT_ETH_HEADER + 20 + cut[i], n);
		ip[2] = (uint8_t)((20 + n) >> 8);
		ip[3] = (uint8_t)(20 + n);
		ip[6] = (uint8_t)(flags >> 8);
		ip[7] = (uint8_t)flags;
		ip[10] = ip[11] = 0;
		c = pv_netboot_checksum(ip, 20, 0);
		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;
		flen[i] = PV_NETBOOT_ETH_HEADER + 20 + n;
	}
	assert_int_equal(pv_netboot_fake_link_new(board_mac, false, NULL, NULL, &link), PV_OK);
	pv_netboot_stack_init(stack, link);
	pv_netboot_stack_configure(stack, 0x0a000033, 0xffffff00, 0);
	pv_netboot_fake_link_inject(link, frag[2], flen[2]);
	pv_netboot_fake_link_inject(link, frag[0], flen[0]);
	pv_netboot_fake_link_inject(link, frag[0], flen[0]);
	pv_netboot_fake_link_inject(link, frag[1], flen[1]);
	assert_int_equal(pv_netboot_stack_recv(stack, 700, link->ops->now_ms(link) + 1000, &got),
			 PV_OK);
	assert_int_equal(got.payload_len, sizeof(payload));
	assert_memory_equal(got.payload, payload, sizeof(payload));
	assert_int_equal(got.src_port, 20048);
	/* one piece missing: nothing is delivered */
	pv_netboot_fake_link_inject(link, frag[0], flen[0]);
	pv_netboot_fake_link_inject(link, frag[2], flen[2]);
	assert_int_equal(pv_netboot_stack_recv(stack, 700, link->ops->now_ms(link) + 1000, &got),
			 PV_ERR_TIMEOUT);
	link->ops->destroy(link);
	free(whole);
	free(stack);
}

/* ---- DHCP ---- */

static void test_dhcp_build_parse(void **state)
{
	struct pv_netboot_dhcp_builder b;
	struct pv_netboot_dhcp *m = malloc(sizeof(*m));
	uint8_t type = PV_DHCP_OFFER, big[600];
	const uint8_t *v;
	size_t len;
	uint32_t ip;

	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	pv_netboot_dhcp_begin(&b, 2, 0x11223344, 0x8000, board_mac);
	pv_netboot_dhcp_set_addresses(&b, 0, 0x0a000033, 0x0a000002, 0);
	pv_netboot_dhcp_add(&b, PV_DHCP_OPT_MESSAGE_TYPE, &type, 1);
	pv_netboot_dhcp_add_ip(&b, PV_DHCP_OPT_SERVER_ID, 0x0a000002);
	/* 600 bytes: three options of code 43 on the wire, one value (RFC 3396) */
	pv_netboot_dhcp_add(&b, PV_DHCP_OPT_VENDOR, big, sizeof(big));
	assert_int_equal(pv_netboot_dhcp_finish(&b), PV_OK);
	assert_int_equal(pv_netboot_dhcp_parse(b.data, b.len, m), PV_OK);
	assert_int_equal(m->op, 2);
	assert_int_equal(m->xid, 0x11223344);
	assert_int_equal(m->flags, 0x8000);
	assert_int_equal(m->yiaddr, 0x0a000033);
	assert_int_equal(m->siaddr, 0x0a000002);
	assert_int_equal(m->type, PV_DHCP_OFFER);
	assert_memory_equal(m->chaddr, board_mac, 6);
	assert_int_equal(pv_netboot_dhcp_option_ip(m, PV_DHCP_OPT_SERVER_ID, &ip), PV_OK);
	assert_int_equal(ip, 0x0a000002);
	assert_int_equal(pv_netboot_dhcp_option(m, PV_DHCP_OPT_VENDOR, &v, &len), PV_OK);
	assert_int_equal(len, sizeof(big));
	assert_memory_equal(v, big, sizeof(big));
	assert_int_equal(pv_netboot_dhcp_option(m, PV_DHCP_OPT_TFTP_SERVER, &v, &len),
			 PV_ERR_NOT_FOUND);

	/* option 52 overload: options in the file field */
	pv_netboot_dhcp_begin(&b, 2, 1, 0, board_mac);
	{
		uint8_t overload = 1;
		pv_netboot_dhcp_add(&b, PV_DHCP_OPT_OVERLOAD, &overload, 1);
	}
	assert_int_equal(pv_netboot_dhcp_finish(&b), PV_OK);
	b.data[108] = PV_DHCP_OPT_TFTP_SERVER;
	b.data[109] = 8;
	memcpy(b.data + 110, "10.0.0.9", 8);
	b.data[118] = 255;
	assert_int_equal(pv_netboot_dhcp_parse(b.data, b.len, m), PV_OK);
	assert_int_equal(pv_netboot_dhcp_option(m, PV_DHCP_OPT_TFTP_SERVER, &v, &len), PV_OK);
	assert_int_equal(len, 8);
	assert_memory_equal(v, "10.0.0.9", 8);
	assert_string_equal(m->file, "");

	/* broken messages name what is wrong */
	assert_int_equal(pv_netboot_dhcp_parse(b.data, 200, m), PV_ERR_FORMAT);
	b.data[236] = 0;
	assert_int_equal(pv_netboot_dhcp_parse(b.data, b.len, m), PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "cookie"));
	b.data[236] = 99;
	b.data[240] = 43;
	b.data[241] = 250; /* runs past the end of a 300-byte message */
	assert_int_equal(pv_netboot_dhcp_parse(b.data, b.len, m), PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "option 43"));
	pv_clear_error();
	free(m);
}

static void test_pxe_menu(void **state)
{
	/* dnsmasq's option 43 for pxe-service=0,"Raspberry Pi Boot" (firmware #1605 shows its
	 * start: 06:01:03:0a:04:00:50:58:45:09:14:00:00:11...) */
	static const uint8_t dnsmasq43[] = { 6, 1, 3, 10, 4, 0, 'P', 'X', 'E', 9, 20, 0, 0, 17,
					     'R', 'a', 's', 'p', 'b', 'e', 'r', 'r', 'y', ' ', 'P',
					     'i', ' ', 'B', 'o', 'o', 't', 255 };
	/* the CM4 log of §3.3: a menu "~~Raspberry Pi Boot~~" was accepted */
	static const uint8_t tilde43[] = { 9, 24, 0, 0, 21, '~', '~', 'R', 'a', 's', 'p', 'b', 'e',
					   'r', 'r', 'y', ' ', 'P', 'i', ' ', 'B', 'o', 'o', 't', '~',
					   '~', 255 };
	static const uint8_t spaces43[] = { 9, 23, 0, 0, 20, 'R', 'a', 's', 'p', 'b', 'e', 'r', 'r',
					    'y', ' ', 'P', 'i', ' ', 'B', 'o', 'o', 't', ' ', ' ',
					    ' ', 255 };
	static const uint8_t cut43[] = { 9, 20, 0, 0, 17, 'R', 'a' };
	char menu[64];

	(void)state;
	assert_true(pv_netboot_pxe_menu_matches(dnsmasq43, sizeof(dnsmasq43), "Raspberry Pi Boot",
						false, menu));
	assert_string_equal(menu, "Raspberry Pi Boot");
	assert_true(pv_netboot_pxe_menu_matches(tilde43, sizeof(tilde43), "Raspberry Pi Boot",
						false, menu));
	assert_string_equal(menu, "~~Raspberry Pi Boot~~");
	/* the 3B ROM wants the three spaces */
	assert_false(pv_netboot_pxe_menu_matches(dnsmasq43, sizeof(dnsmasq43),
						 "Raspberry Pi Boot   ", true, NULL));
	assert_true(pv_netboot_pxe_menu_matches(spaces43, sizeof(spaces43), "Raspberry Pi Boot   ",
						true, NULL));
	assert_false(pv_netboot_pxe_menu_matches(tilde43, sizeof(tilde43), "Raspberry Pi Boot",
						 true, NULL));
	assert_false(pv_netboot_pxe_menu_matches(cut43, sizeof(cut43), "Ra", false, NULL));
	assert_false(pv_netboot_pxe_menu_matches(dnsmasq43, sizeof(dnsmasq43), "Other", false,
						 NULL));
}

static void test_option97_forms(void **state)
{
	struct pv_netboot_identity id;
	uint8_t o[17];
	/* the Pi 3B of firmware #1605: serial folder b66c4c16 */
	static const uint8_t legacy[17] = { 0x00, 0x16, 0x4c, 0x6c, 0xb6, 0x16, 0x4c, 0x6c, 0xb6,
					    0x16, 0x4c, 0x6c, 0xb6, 0x16, 0x4c, 0x6c, 0xb6 };

	(void)state;
	memset(&id, 0, sizeof(id));
	id.serial = 0xb66c4c16;
	pv_netboot_option97(&id, 0, o);
	assert_memory_equal(o, legacy, 17);
	/* the CM4 of cmprovision #16: 00:34:69:50:52:41:31:a0:00:01:f8:de:b9:... */
	id.boardrev = 0x00a03141;
	id.mac[0] = 0xe4, id.mac[1] = 0x5f, id.mac[2] = 0x01, id.mac[3] = 0xf8;
	id.mac[4] = 0xde, id.mac[5] = 0xb9;
	id.serial = 0x1000000012345678ull;
	pv_netboot_option97(&id, 0x34695052, o);
	{
		static const uint8_t head[13] = { 0x00, 0x34, 0x69, 0x50, 0x52, 0x41, 0x31, 0xa0,
						  0x00, 0x01, 0xf8, 0xde, 0xb9 };
		assert_memory_equal(o, head, 13);
		assert_int_equal(o[13], 0x78);
		assert_int_equal(o[16], 0x12);
	}
}

static void test_prefix_forms(void **state)
{
	struct pv_netboot_identity id;
	struct pv_netboot_settings s;
	char p[PV_NETBOOT_TFTP_PATH_MAX];

	(void)state;
	memset(&id, 0, sizeof(id));
	id.serial = 0x0c8f7e5c0d989ae1ull;
	memcpy(id.mac, board_mac, 6);
	pv_netboot_settings_defaults(pv_soc_info(PV_SOC_BCM2712), &s);
	assert_int_equal(s.dhcp_option97, 0x35695052);
	pv_netboot_prefix(&id, &s, p);
	assert_string_equal(p, "0d989ae1/"); /* 8 digits, leading zero kept (§1.1) */
	s.tftp_prefix = PV_NETBOOT_PREFIX_MAC;
	pv_netboot_prefix(&id, &s, p);
	assert_string_equal(p, "dc-a6-32-aa-bb-01/");
	s.tftp_prefix = PV_NETBOOT_PREFIX_STRING;
	snprintf(s.tftp_prefix_str, sizeof(s.tftp_prefix_str), "tftp_test/");
	pv_netboot_prefix(&id, &s, p);
	assert_string_equal(p, "tftp_test/");
	snprintf(s.tftp_prefix_str, sizeof(s.tftp_prefix_str), "cluster-a");
	pv_netboot_prefix(&id, &s, p);
	assert_string_equal(p, "cluster-a/");
}

/* ---- TFTP ---- */

struct tftp_env {
	struct fake_lan lan;
	struct pv_netboot_link *link;
	struct pv_netboot_stack stack;
	struct pv_netboot_udp udp;
};

static struct tftp_env *tftp_env_new(void)
{
	struct tftp_env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	fake_lan_init(&e->lan);
	assert_int_equal(pv_netboot_fake_link_new(board_mac, false, fake_lan_peer, &e->lan,
						  &e->link), PV_OK);
	pv_netboot_stack_init(&e->stack, e->link);
	pv_netboot_stack_configure(&e->stack, 0x0a000033, 0xffffff00, 0x0a000001);
	pv_netboot_stack_udp(&e->stack, 6970, &e->udp);
	return e;
}

static void tftp_env_free(struct tftp_env *e)
{
	e->link->ops->destroy(e->link);
	free(e);
}

static void test_tftp_parse(void **state)
{
	struct pv_netboot_tftp_packet t;
	static const uint8_t rrq[] = "\0\1d9780558/start.elf\0octet\0tsize\0" "0\0blksize\0" "1024";
	static const uint8_t err[] = { 0, 5, 0, 1, 'F', 'i', 'l', 'e' }; /* no final NUL */
	static const uint8_t oack[] = "\0\6tsize\0" "2965216";

	(void)state;
	assert_int_equal(pv_netboot_tftp_parse(rrq, sizeof(rrq), &t), PV_OK);
	assert_int_equal(t.opcode, PV_TFTP_RRQ);
	assert_string_equal(t.path, "d9780558/start.elf");
	assert_string_equal(t.mode, "octet");
	assert_true(t.has_tsize && t.has_blksize);
	assert_int_equal(t.blksize, 1024);
	assert_int_equal(pv_netboot_tftp_parse(err, sizeof(err), &t), PV_OK);
	assert_int_equal(t.error_code, 1);
	assert_string_equal(t.message, "File");
	assert_int_equal(pv_netboot_tftp_parse(oack, sizeof(oack), &t), PV_OK);
	assert_true(t.has_tsize);
	assert_int_equal(t.tsize, 2965216);
	assert_int_equal(pv_netboot_tftp_parse(oack, 6, &t), PV_ERR_FORMAT);
	assert_int_equal(pv_netboot_tftp_parse("\0\11xx", 4, &t), PV_ERR_FORMAT);
	pv_clear_error();
}

static void test_tftp_read_with_options(void **state)
{
	struct tftp_env *e = tftp_env_new();
	struct pv_netboot_tftp_request req = { .path = "1234abcd/start4.elf", .tsize = true,
					       .blksize = 1024, .file_timeout_ms = 30000,
					       .retransmit_ms = 2000 };
	struct pv_netboot_tftp_result r;
	struct pv_buf out = PV_BUF_INIT(1 << 20);
	uint8_t *blob = malloc(3 * 1024); /* an exact multiple: an empty last block ends it */

	(void)state;
	for (size_t i = 0; i < 3 * 1024; i++)
		blob[i] = (uint8_t)(i * 7);
	fake_lan_add_blob(&e->lan, "1234abcd/start4.elf", blob, 3 * 1024);
	assert_int_equal(pv_netboot_tftp_get(&e->udp, 0x0a000002, &req, &out, &r), PV_OK);
	assert_int_equal(r.outcome, PV_TFTP_OUTCOME_OK);
	assert_int_equal(r.blksize, 1024);
	assert_int_equal(r.size, 3 * 1024);
	assert_int_equal(out.len, 3 * 1024);
	assert_memory_equal(out.data, blob, 3 * 1024);
	/* what a Pi 4 sends (rpi-eeprom #74): tsize 0 blksize 1024, from port 6970 */
	assert_true(e->lan.rrq_tsize);
	assert_int_equal(e->lan.rrq_blksize, 1024);
	assert_int_equal(e->lan.rrq_port, 6970);
	assert_int_equal(r.timeouts, 0);

	/* a server without options: 512-byte blocks */
	pv_buf_reset(&out);
	e->lan.tftp_options = false;
	assert_int_equal(pv_netboot_tftp_get(&e->udp, 0x0a000002, &req, &out, &r), PV_OK);
	assert_int_equal(r.outcome, PV_TFTP_OUTCOME_OK);
	assert_int_equal(r.blksize, 512);
	assert_int_equal(out.len, 3 * 1024);
	pv_buf_release(&out);
	free(blob);
	tftp_env_free(e);
}

/* A caller's stop (a signal, a deadline) once the link clock reaches `at`. */
struct stop_at {
	struct pv_netboot_link *link;
	uint64_t at;
	unsigned asked;
};

static bool stop_at_time(void *arg)
{
	struct stop_at *s = arg;

	s->asked++;
	return s->link->ops->now_ms(s->link) >= s->at;
}

static void test_tftp_outcomes(void **state)
{
	struct tftp_env *e = tftp_env_new();
	struct pv_netboot_tftp_request req = { .path = "x/start4.elf", .tsize = true,
					       .blksize = 1024, .file_timeout_ms = 30000,
					       .retransmit_ms = 2000 };
	struct pv_netboot_tftp_result r;
	static uint8_t big[50000];

	(void)state;
	/* not found */
	assert_int_equal(pv_netboot_tftp_get(&e->udp, 0x0a000002, &req, NULL, &r), PV_OK);
	assert_int_equal(r.outcome, PV_TFTP_OUTCOME_NOT_FOUND);
	assert_int_equal(r.error_code, 1);
	assert_string_equal(r.error_message, "File not found");

	/* a probe learns the size from tsize and ends with "Early terminate" */
	fake_lan_add_blob(&e->lan, "x/start4.elf", big, sizeof(big));
	req.probe = true;
	assert_int_equal(pv_netboot_tftp_get(&e->udp, 0x0a000002, &req, NULL, &r), PV_OK);
	assert_int_equal(r.outcome, PV_TFTP_OUTCOME_OK);
	assert_true(r.size_known);
	assert_int_equal(r.size, sizeof(big));
	assert_int_equal(e->lan.early_terminates, 1);
	req.probe = false;

	/* too big for the caller's limit: refused at the OACK */
	req.max_size = 1000;
	assert_int_equal(pv_netboot_tftp_get(&e->udp, 0x0a000002, &req, NULL, &r), PV_OK);
	assert_int_equal(r.outcome, PV_TFTP_OUTCOME_TOO_BIG);
	req.max_size = 0;

	/* the server stops after 5 blocks: TIMEOUT after TFTP_FILE_TIMEOUT, with resends */
	e->lan.tftp_stall_after = 5;
	assert_int_equal(pv_netboot_tftp_get(&e->udp, 0x0a000002, &req, NULL, &r), PV_OK);
	assert_int_equal(r.outcome, PV_TFTP_OUTCOME_TIMEOUT);
	assert_true(r.timeouts >= 10);
	e->lan.tftp_stall_after = 0;

	/* no server: UNREACHABLE, the RRQ sent again every 2 s for 30 s */
	e->lan.tftp = false;
	e->lan.rrqs = 0;
	assert_int_equal(pv_netboot_tftp_get(&e->udp, 0x0a000002, &req, NULL, &r), PV_OK);
	assert_int_equal(r.outcome, PV_TFTP_OUTCOME_UNREACHABLE);
	assert_int_equal(r.timeouts, 14);

	/* the caller stops it 3 s in: STOPPED within one poll, not after the 30 s */
	{
		uint64_t t0 = e->link->ops->now_ms(e->link), took;
		struct stop_at stop = { e->link, t0 + 3000, 0 };

		req.stop = stop_at_time;
		req.stop_arg = &stop;
		assert_int_equal(pv_netboot_tftp_get(&e->udp, 0x0a000002, &req, NULL, &r), PV_OK);
		took = e->link->ops->now_ms(e->link) - t0;
		assert_int_equal(r.outcome, PV_TFTP_OUTCOME_STOPPED);
		assert_string_equal(pv_netboot_tftp_outcome_name(r.outcome), "stopped");
		assert_true(took >= 3000 && took <= 3000 + PV_NETBOOT_STOP_POLL_MS);
		assert_true(stop.asked >= 3000 / PV_NETBOOT_STOP_POLL_MS);
	}
	tftp_env_free(e);
}

/* ---- RPC and mountd ---- */

static size_t put32(uint8_t *p, size_t at, uint32_t v)
{
	p[at] = (uint8_t)(v >> 24);
	p[at + 1] = (uint8_t)(v >> 16);
	p[at + 2] = (uint8_t)(v >> 8);
	p[at + 3] = (uint8_t)v;
	return at + 4;
}

static size_t put_str(uint8_t *p, size_t at, const char *s)
{
	size_t n = strlen(s);

	at = put32(p, at, (uint32_t)n);
	memcpy(p + at, s, n);
	memset(p + at + n, 0, 3);
	return at + ((n + 3) & ~(size_t)3);
}

static void test_exports_reply(void **state)
{
	uint8_t r[512];
	size_t at = 0;
	struct pv_netboot_exports ex;
	bool unchecked = false;

	(void)state;
	at = put32(r, at, 77);
	at = put32(r, at, 1);
	at = put32(r, at, 0);
	at = put32(r, at, 0);
	at = put32(r, at, 0);
	at = put32(r, at, 0);
	/* /srv/nfs 10.0.0.0/24 ; /srv/nfs/1234abcd 10.0.0.51 node.lan */
	at = put32(r, at, 1);
	at = put_str(r, at, "/srv/nfs");
	at = put32(r, at, 1);
	at = put_str(r, at, "10.0.0.0/255.255.255.0");
	at = put32(r, at, 0);
	at = put32(r, at, 1);
	at = put_str(r, at, "/srv/nfs/1234abcd");
	at = put32(r, at, 1);
	at = put_str(r, at, "10.0.0.51");
	at = put32(r, at, 1);
	at = put_str(r, at, "node.lan");
	at = put32(r, at, 0);
	at = put32(r, at, 0);
	assert_int_equal(pv_netboot_exports_parse_reply(r, at, 77, &ex), PV_OK);
	assert_int_equal(ex.count, 2);
	assert_string_equal(ex.items[1].path, "/srv/nfs/1234abcd");
	assert_int_equal(ex.items[1].n_groups, 2);
	/* the board's own export */
	assert_string_equal(pv_netboot_exports_allow(&ex, "/srv/nfs/1234abcd", 0x0a000033,
						     &unchecked)->path, "/srv/nfs/1234abcd");
	/* another board of the subnet: the parent export covers it (mountd walks up) */
	assert_string_equal(pv_netboot_exports_allow(&ex, "/srv/nfs/1234abcd", 0x0a000034,
						     &unchecked)->path, "/srv/nfs");
	assert_true(unchecked); /* node.lan was passed over */
	/* off the subnet: nothing; a path outside every export: nothing */
	assert_null(pv_netboot_exports_allow(&ex, "/srv/nfs/1234abcd", 0x0b000033, NULL));
	assert_null(pv_netboot_exports_allow(&ex, "/srv/nfsx", 0x0a000033, NULL));
	assert_non_null(pv_netboot_exports_allow(&ex, "/srv/nfs/1234abcd/usr", 0x0a000033, NULL));
	pv_netboot_exports_release(&ex);
	/* every truncation fails cleanly */
	for (size_t cut = 0; cut < at; cut += 4)
		assert_int_not_equal(pv_netboot_exports_parse_reply(r, cut, 77, &ex), PV_OK);
	assert_int_equal(pv_netboot_exports_parse_reply(r, at, 78, &ex), PV_ERR_PROTOCOL);
	pv_clear_error();
}

static void test_mount_exports_over_stack(void **state)
{
	struct tftp_env *e = tftp_env_new();
	struct pv_netboot_exports ex;

	(void)state;
	fake_lan_export(&e->lan, "/srv/nfs/1234abcd", "10.0.0.51");
	pv_netboot_stack_udp(&e->stack, 700, &e->udp);
	assert_int_equal(pv_netboot_mount_exports_udp(&e->udp, 0x0a000002, 3000, &ex), PV_OK);
	assert_int_equal(ex.count, 1);
	assert_string_equal(ex.items[0].groups[0], "10.0.0.51");
	pv_netboot_exports_release(&ex);
	e->lan.mountd = false;
	assert_int_equal(pv_netboot_mount_exports_udp(&e->udp, 0x0a000002, 3000, &ex),
			 PV_ERR_TIMEOUT);
	pv_clear_error();
	tftp_env_free(e);
}

/* ---- boot files ---- */

static void test_cmdline_nfsroot(void **state)
{
	struct pv_netboot_nfsroot n;
	static const char line[] = "console=serial0,115200 root=/dev/nfs "
				   "nfsroot=10.0.0.2:/srv/nfs/1234abcd,vers=3 rw ip=dhcp rootwait\n";

	(void)state;
	assert_int_equal(pv_netboot_cmdline_nfsroot(line, strlen(line), 0x0a000033, 0, &n), PV_OK);
	assert_int_equal(n.server, 0x0a000002);
	assert_string_equal(n.path, "/srv/nfs/1234abcd");
	assert_string_equal(n.options, "vers=3");
	assert_true(n.root_is_nfs);
	/* no server: the default; %s: the client's address */
	assert_int_equal(pv_netboot_cmdline_nfsroot("nfsroot=/nfs/%s", 15, 0x0a000033, 0x0a000009,
						    &n), PV_OK);
	assert_int_equal(n.server, 0x0a000009);
	assert_string_equal(n.path, "/nfs/10.0.0.51");
	assert_false(n.root_is_nfs);
	assert_int_equal(pv_netboot_cmdline_nfsroot("root=/dev/mmcblk0p2", 19, 1, 2, &n),
			 PV_ERR_NOT_FOUND);
	assert_int_equal(pv_netboot_cmdline_nfsroot("nfsroot=host:/x", 15, 1, 2, &n),
			 PV_ERR_FORMAT);
	assert_int_equal(pv_netboot_cmdline_nfsroot("nfsroot=10.0.0.2:relative", 25, 1, 2, &n),
			 PV_ERR_FORMAT);
	/* only the first line counts */
	assert_int_equal(pv_netboot_cmdline_nfsroot("quiet\nnfsroot=/x", 16, 1, 2, &n),
			 PV_ERR_NOT_FOUND);
	pv_clear_error();
}

static void test_config_txt(void **state)
{
	struct pv_netboot_config_txt c;
	static const char text[] = "# comment\n"
				   "kernel=vmlinuz\n"
				   "[pi5]\n"
				   "kernel=kernel_pi5.img\n"
				   "[pi4]\n"
				   "cmdline=cmdline-pi4.txt\n"
				   "[all]\n"
				   "device_tree = custom.dtb \n"
				   "[none]\n"
				   "kernel=never.img\n";

	(void)state;
	assert_int_equal(pv_netboot_config_txt_parse(text, strlen(text), "[pi4]", &c), PV_OK);
	assert_string_equal(c.kernel, "vmlinuz");
	assert_string_equal(c.cmdline, "cmdline-pi4.txt");
	assert_string_equal(c.device_tree, "custom.dtb");
	assert_int_equal(pv_netboot_config_txt_parse(text, strlen(text), "[pi5]", &c), PV_OK);
	assert_string_equal(c.kernel, "kernel_pi5.img");
	assert_string_equal(c.cmdline, "");
	assert_int_equal(pv_netboot_config_txt_parse("kernel=a\x01" "b\n", 11, NULL, &c),
			 PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "line 1"));
	pv_clear_error();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_frame_round_trip),
		cmocka_unit_test(test_arp_round_trip),
		cmocka_unit_test(test_stack_reassembles_fragments),
		cmocka_unit_test(test_dhcp_build_parse),
		cmocka_unit_test(test_pxe_menu),
		cmocka_unit_test(test_option97_forms),
		cmocka_unit_test(test_prefix_forms),
		cmocka_unit_test(test_tftp_parse),
		cmocka_unit_test(test_tftp_read_with_options),
		cmocka_unit_test(test_tftp_outcomes),
		cmocka_unit_test(test_exports_reply),
		cmocka_unit_test(test_mount_exports_over_stack),
		cmocka_unit_test(test_cmdline_nfsroot),
		cmocka_unit_test(test_config_txt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
