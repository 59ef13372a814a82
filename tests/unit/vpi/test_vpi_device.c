/* The wire-level model: descriptors per stage, standard requests, re-enumeration, stalls,
 * timeouts, the rate cap, the bootloader personality and the scripted (hostile) mode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mini_host.h"
#include "piprov/board.h"
#include "piprov/error.h"
#include "piprov/text.h"
#include "piprov/vpi.h"
#include "test_support.h"

static struct pv_vpi_board *new_board(const char *model, void (*tweak)(struct pv_vpi_options *))
{
	struct pv_vpi_options opts;
	struct pv_vpi_board *b = NULL;

	assert_int_equal(pv_vpi_options_init(&opts, pv_board_by_short_name(model), 0), PV_OK);
	opts.reenumerate_ms = 5;
	if (tweak)
		tweak(&opts);
	assert_int_equal(pv_vpi_board_new(&opts, &b), PV_OK);
	return b;
}

static struct pv_usb_bus *bus_with(struct pv_vpi_board *b)
{
	struct pv_usb_bus *bus = NULL;

	assert_int_equal(pv_vpi_bus_new(&bus), PV_OK);
	assert_int_equal(pv_vpi_bus_add_board(bus, b), PV_OK);
	return bus;
}

static void setup_packet(uint8_t s[8], uint8_t type, uint8_t req, uint16_t value, uint16_t index,
			 uint16_t length)
{
	s[0] = type;
	s[1] = req;
	s[2] = (uint8_t)value;
	s[3] = (uint8_t)(value >> 8);
	s[4] = (uint8_t)index;
	s[5] = (uint8_t)(index >> 8);
	s[6] = (uint8_t)length;
	s[7] = (uint8_t)(length >> 8);
}

static void test_rom_descriptors_2711(void **state)
{
	struct pv_vpi_board *b = new_board("cm4", NULL);
	uint8_t d[PV_VPI_DEVICE_DESC_LEN], c[PV_VPI_CONFIG_DESC_MAX], s[PV_VPI_STRING_DESC_MAX];
	size_t len = 0;
	char serial8[9];

	(void)state;
	assert_int_equal(pv_vpi_board_device_descriptor(b, d), PV_OK);
	assert_int_equal(d[0], 18);
	assert_int_equal(d[1], 1);
	assert_int_equal(d[8] | d[9] << 8, 0x0a5c);
	assert_int_equal(d[10] | d[11] << 8, 0x2711);
	assert_int_equal(d[16], 3);                     /* ROM serial index */
	assert_int_equal(d[17], 1);
	assert_int_equal(pv_vpi_board_config_descriptor(b, c, sizeof(c), &len), PV_OK);
	assert_int_equal(len, 32);                      /* as in the CM4 dmesg of #87 */
	assert_int_equal(c[2] | c[3] << 8, 32);
	assert_int_equal(c[4], 1);                      /* one interface */
	assert_int_equal(c[9 + 5], 0xff);               /* vendor class */
	assert_int_equal(c[18 + 2], 0x01);              /* bulk OUT 0x01 */
	assert_int_equal(pv_vpi_board_string_descriptor(b, 0, s, sizeof(s), &len), PV_OK);
	assert_int_equal(len, 4);
	assert_int_equal(s[2] | s[3] << 8, 0x0409);
	assert_int_equal(pv_vpi_board_string_descriptor(b, 2, s, sizeof(s), &len), PV_OK);
	assert_int_equal(len, 2 + 2 * strlen("BCM2711 Boot"));
	assert_int_equal(s[2], 'B');
	assert_int_equal(pv_vpi_board_string_descriptor(b, 3, s, sizeof(s), &len), PV_OK);
	assert_int_equal(len, 18);
	for (int i = 0; i < 8; i++)
		serial8[i] = (char)s[2 + 2 * i];
	serial8[8] = '\0';
	assert_string_equal(serial8, pv_vpi_board_serial(b) + 8);
	assert_int_equal(pv_vpi_board_string_descriptor(b, 9, s, sizeof(s), &len),
			 PV_ERR_NOT_FOUND);
	assert_int_equal(pv_vpi_board_string_descriptor(b, 2, s, 5, &len), PV_ERR_NO_SPACE);
	pv_vpi_board_free(b);
}

static void test_rom_descriptors_2837(void **state)
{
	struct pv_vpi_board *b = new_board("cm3", NULL);
	uint8_t d[PV_VPI_DEVICE_DESC_LEN], c[PV_VPI_CONFIG_DESC_MAX], s[PV_VPI_STRING_DESC_MAX];
	struct pv_usb_device_info info;
	size_t len = 0;

	(void)state;
	assert_int_equal(pv_vpi_board_device_descriptor(b, d), PV_OK);
	assert_int_equal(d[10] | d[11] << 8, 0x2764);
	assert_int_equal(d[16], 0);                     /* BCM2835-7 ROM: index 0 */
	assert_int_equal(pv_vpi_board_config_descriptor(b, c, sizeof(c), &len), PV_OK);
	assert_int_equal(len, 55);                      /* mass storage + vendor */
	assert_int_equal(c[4], 2);
	assert_int_equal(c[9 + 5], 0x08);               /* interface 0: mass storage */
	assert_int_equal(c[32 + 2], 1);                 /* interface 1 ... */
	assert_int_equal(c[32 + 5], 0xff);              /* ... vendor */
	assert_int_equal(c[41 + 2], 0x03);              /* its bulk OUT is 0x03 */
	assert_int_equal(pv_vpi_board_config_descriptor(b, c, 40, &len), PV_ERR_NO_SPACE);
	assert_int_equal(pv_vpi_board_string_descriptor(b, 2, s, sizeof(s), &len), PV_OK);
	assert_int_equal(s[2 + 2 * 5], '1');            /* "BCM2710 Boot" */
	assert_int_equal(pv_vpi_board_info(b, &info), PV_OK);
	assert_int_equal(info.num_interfaces, 2);
	assert_string_equal(info.serial, "");          /* the ROM has no serial string */
	assert_string_equal(info.backend, "virtual");
	pv_vpi_board_free(b);
}

static void test_standard_requests(void **state)
{
	struct pv_vpi_board *b = new_board("pi4", NULL);
	uint8_t setup[8], buf[256];
	size_t got = 0;

	(void)state;
	setup_packet(setup, 0x80, 6, 0x0100, 0, 64);
	assert_int_equal(pv_vpi_board_control(b, 0, setup, buf, sizeof(buf), &got, 100), PV_OK);
	assert_int_equal(got, 18);
	setup_packet(setup, 0x80, 6, 0x0200, 0, 9);     /* config header only */
	assert_int_equal(pv_vpi_board_control(b, 0, setup, buf, sizeof(buf), &got, 100), PV_OK);
	assert_int_equal(got, 9);
	assert_int_equal(buf[2], 32);
	setup_packet(setup, 0x80, 6, 0x0303, 0x0409, 255);
	assert_int_equal(pv_vpi_board_control(b, 0, setup, buf, sizeof(buf), &got, 100), PV_OK);
	assert_int_equal(got, 18);
	setup_packet(setup, 0x80, 6, 0x0600, 0, 10);    /* device qualifier: stall */
	assert_int_equal(pv_vpi_board_control(b, 0, setup, buf, sizeof(buf), &got, 100),
			 PV_ERR_PIPE);
	setup_packet(setup, 0x00, 9, 1, 0, 0);          /* SET_CONFIGURATION 1 */
	assert_int_equal(pv_vpi_board_control(b, 0, setup, NULL, 0, &got, 100), PV_OK);
	setup_packet(setup, 0x80, 8, 0, 0, 1);
	assert_int_equal(pv_vpi_board_control(b, 0, setup, buf, sizeof(buf), &got, 100), PV_OK);
	assert_int_equal(got, 1);
	assert_int_equal(buf[0], 1);
	setup_packet(setup, 0x01, 11, 0, 0, 0);         /* SET_INTERFACE 0/0 */
	assert_int_equal(pv_vpi_board_control(b, 0, setup, NULL, 0, &got, 100), PV_OK);
	setup_packet(setup, 0x01, 11, 0, 1, 0);         /* no interface 1 */
	assert_int_equal(pv_vpi_board_control(b, 0, setup, NULL, 0, &got, 100), PV_ERR_PIPE);
	setup_packet(setup, 0x80, 0, 0, 0, 2);
	assert_int_equal(pv_vpi_board_control(b, 0, setup, buf, sizeof(buf), &got, 100), PV_OK);
	assert_int_equal(got, 2);
	setup_packet(setup, 0x40, 7, 0, 0, 0);          /* unknown vendor request */
	assert_int_equal(pv_vpi_board_control(b, 0, setup, NULL, 0, &got, 100), PV_ERR_PIPE);
	setup_packet(setup, 0xc0, 0, 4, 0, 4);          /* return code before any upload */
	assert_int_equal(pv_vpi_board_control(b, 0, setup, buf, sizeof(buf), &got, 100),
			 PV_ERR_PIPE);
	pv_vpi_board_free(b);
}

static void test_reenumeration_same_port(void **state)
{
	struct pv_vpi_board *b = new_board("pi4", NULL);
	struct pv_usb_bus *bus = bus_with(b);
	struct pv_usb_transport *t;
	struct pv_buf code = PV_BUF_INIT(TEST_BUF_MAX);
	struct mini_host h;
	uint8_t d[PV_VPI_DEVICE_DESC_LEN];
	uint32_t gen_before, gen_after;
	char port[PV_USB_PORT_PATH_MAX];
	size_t got;
	uint8_t msg[PV_VPI_REQUEST_LEN];

	(void)state;
	pv_strlcpy(port, pv_vpi_board_options(b)->port_path, sizeof(port));
	assert_string_equal(port, "100-1.1");
	assert_int_equal(pv_vpi_placeholder_recovery(&code), PV_OK);
	mini_host_init(&h, NULL, 0);
	t = mini_host_wait_device(bus, port, 3, 500);
	assert_non_null(t);
	assert_int_equal(t->info.serial_index, 3);
	assert_string_equal(t->info.serial, pv_vpi_board_serial(b) + 8);
	pv_vpi_board_poll(b, NULL, &gen_before, NULL);
	assert_int_equal(mini_host_rom(&h, t, code.data, code.len), PV_OK);
	assert_int_equal(h.rom_rc, PV_OK);
	assert_int_equal(h.retcode, 0);
	/* The old handle is dead from now on, whatever comes back on the port. */
	assert_int_equal(pv_usb_control_in(t, msg, sizeof(msg), &got, 10), PV_ERR_NO_DEVICE);
	pv_usb_transport_destroy(t);
	t = mini_host_wait_device(bus, port, 4, 1000);
	assert_non_null(t);
	pv_vpi_board_poll(b, NULL, &gen_after, NULL);
	assert_true(gen_after >= gen_before + 2);       /* a detach and an attach */
	assert_int_equal(pv_vpi_board_device_descriptor(b, d), PV_OK);
	assert_int_equal(d[16], 4);
	assert_string_equal(t->info.port_path, port);
	assert_string_equal(t->info.serial, pv_vpi_board_serial(b) + 8);
	/* the second stage now asks for its first file */
	assert_int_equal(pv_usb_control_in(t, msg, sizeof(msg), &got, 1000), PV_OK);
	assert_int_equal(got, PV_VPI_REQUEST_LEN);
	assert_string_equal((char *)msg + 4, "config.txt");
	pv_usb_transport_destroy(t);
	mini_host_release(&h);
	pv_buf_release(&code);
	pv_usb_bus_destroy(bus);
}

static void test_bcm2837_stages(void **state)
{
	struct pv_vpi_board *b = new_board("pi3", NULL);
	struct pv_usb_bus *bus = bus_with(b);
	struct mini_host h;
	static const char bootcode[] = "not really bootcode.bin";
	static const char start[] = "start.elf bytes";
	const struct mini_file files[] = { { "start.elf", start, sizeof(start) } };
	struct pv_vpi_result r;
	struct pv_buf transcript = PV_BUF_INIT(TEST_BUF_MAX);

	(void)state;
	mini_host_init(&h, files, 1);
	/* mini_host_run waits for index 0, then index 1 (bootcode.bin), on endpoint 0x03 first */
	assert_int_equal(mini_host_run(&h, bus, bootcode, sizeof(bootcode)), PV_OK);
	assert_true(h.done);
	assert_string_equal(pv_buf_str(&h.requests),
			    "0 autoboot.txt\n0 config.txt\n0 recovery.elf\n0 start.elf\n"
			    "1 start.elf\n0 fixup.dat\n2 \n");
	pv_vpi_board_result(b, &r);
	assert_false(r.recovery);
	assert_int_equal(pv_vpi_board_transcript(b, &transcript), PV_OK);
	assert_non_null(strstr(pv_buf_str(&transcript), "attach stage=second serial-index=1"));
	pv_buf_release(&transcript);
	mini_host_release(&h);
	pv_usb_bus_destroy(bus);
}

static void test_bootloader_2712_leaves(void **state)
{
	struct pv_vpi_board *b = new_board("cm5", NULL);
	struct pv_usb_bus *bus = bus_with(b);
	struct mini_host h;
	static const char bootcode[] = "a bootcode5.bin that is not recovery";
	static const char img[] = "boot.img";
	const struct mini_file files[] = { { "boot.img", img, sizeof(img) } };
	struct pv_vpi_result r;
	bool attached = true;

	(void)state;
	mini_host_init(&h, files, 1);
	assert_int_equal(mini_host_run(&h, bus, bootcode, sizeof(bootcode)), PV_OK);
	assert_string_equal(pv_buf_str(&h.requests),
			    "0 mcb.bin\n0 memsys00.bin\n0 memsys01.bin\n0 memsys02.bin\n"
			    "0 memsys03.bin\n0 bootmain\n0 config.txt\n0 boot.img\n1 boot.img\n2 \n");
	for (int i = 0; i < 100 && attached; i++) {
		pv_usb_bus_wait_event(bus, 20);
		pv_vpi_board_poll(b, &attached, NULL, NULL);
	}
	assert_false(attached);                         /* booted on: it left USB */
	pv_vpi_board_result(b, &r);
	assert_int_equal(r.stage, PV_VPI_STAGE_GONE);
	mini_host_release(&h);
	pv_usb_bus_destroy(bus);
}

static void slow_flash(struct pv_vpi_options *o)
{
	o->flash_ms = 400;
}

static void test_flash_keeps_device_busy(void **state)
{
	struct pv_vpi_board *b = new_board("pi4", slow_flash);
	struct pv_usb_bus *bus = bus_with(b);
	struct pv_usb_transport *t;
	struct pv_buf code = PV_BUF_INIT(TEST_BUF_MAX);
	struct pv_buf image = PV_BUF_INIT(TEST_BUF_MAX);
	struct mini_host h;
	char hex[65], sig[96];
	uint8_t msg[PV_VPI_REQUEST_LEN];
	size_t got;
	int rc;

	(void)state;
	pv_vpi_placeholder_recovery(&code);
	for (size_t i = 0; i < 512 * 1024; i++)
		pv_buf_putc(&image, (int)(i * 7 % 251));
	mini_sha256_hex(image.data, image.len, hex);
	snprintf(sig, sizeof(sig), "%s\nts: 1700000000\n", hex);
	const struct mini_file files[] = { { "pieeprom.bin", image.data, image.len },
					   { "pieeprom.sig", sig, strlen(sig) } };
	mini_host_init(&h, files, 2);
	t = mini_host_wait_device(bus, "100-1.1", 3, 500);
	assert_int_equal(mini_host_rom(&h, t, code.data, code.len), PV_OK);
	pv_usb_transport_destroy(t);
	t = mini_host_wait_device(bus, "100-1.1", 4, 1000);
	assert_non_null(t);
	/* Serve up to the image; the device then flashes for 400 ms and NAKs meanwhile. */
	rc = mini_host_serve(&h, t, 50);
	assert_int_equal(rc, PV_ERR_TIMEOUT);
	assert_null(mini_host_meta(&h, "EEPROM_UPDATE"));
	/* A poll with timeout 0 never blocks. */
	assert_int_equal(pv_usb_control_in(t, msg, sizeof(msg), &got, 0), PV_ERR_TIMEOUT);
	assert_int_equal(mini_host_serve(&h, t, 2000), PV_OK);
	assert_string_equal(mini_host_meta(&h, "EEPROM_UPDATE"), "success");
	pv_usb_transport_destroy(t);
	mini_host_release(&h);
	pv_buf_release(&code);
	pv_buf_release(&image);
	pv_usb_bus_destroy(bus);
}

static void capped(struct pv_vpi_options *o)
{
	o->usb_mbps = 8; /* 1 byte per microsecond */
}

static void test_rate_cap_times_out_partially(void **state)
{
	struct pv_vpi_board *b = new_board("pi4", capped);
	uint8_t setup[8], data[PV_USB_BULK_CHUNK] = { 100 };
	size_t actual = 0;

	(void)state;
	setup_packet(setup, 0x40, 0, 24, 0, 0);
	assert_int_equal(pv_vpi_board_control(b, 0, setup, NULL, 0, NULL, 100), PV_OK);
	assert_int_equal(pv_vpi_board_bulk_out(b, 0, 0x01, data, 24, &actual, 100), PV_OK);
	assert_int_equal(actual, 24);
	data[0] = 0;
	setup_packet(setup, 0x40, 0, 0x8000, 0, 0);     /* the message said 100 bytes */
	assert_int_equal(pv_vpi_board_control(b, 0, setup, NULL, 0, NULL, 100), PV_ERR_PIPE);
	setup_packet(setup, 0x40, 0, 24, 0, 0);         /* the ROM takes a new message */
	assert_int_equal(pv_vpi_board_control(b, 0, setup, NULL, 0, NULL, 100), PV_OK);
	memset(data, 0, 24);
	data[1] = 0x80;                                 /* length 0x8000 */
	assert_int_equal(pv_vpi_board_bulk_out(b, 0, 0x01, data, 24, &actual, 100), PV_OK);
	setup_packet(setup, 0x40, 0, 0x8000, 0, 0);
	assert_int_equal(pv_vpi_board_control(b, 0, setup, NULL, 0, NULL, 100), PV_OK);
	/* 16 KiB at 1 byte/us needs ~16 ms: a 2 ms timeout accepts only part of it. */
	assert_int_equal(pv_vpi_board_bulk_out(b, 0, 0x01, data, sizeof(data), &actual, 2),
			 PV_ERR_TIMEOUT);
	assert_true(actual < sizeof(data));
	/* wrong endpoint */
	assert_int_equal(pv_vpi_board_bulk_out(b, 0, 0x03, data, 16, &actual, 100), PV_ERR_PIPE);
	pv_vpi_board_free(b);
}

static void test_unplug(void **state)
{
	struct pv_vpi_board *b = new_board("pi5", NULL);
	struct pv_usb_bus *bus = bus_with(b);
	struct pv_usb_device_info *devices = NULL;
	size_t count = 9;
	uint8_t d[PV_VPI_DEVICE_DESC_LEN];

	(void)state;
	pv_vpi_board_unplug(b);
	assert_int_equal(pv_vpi_board_device_descriptor(b, d), PV_ERR_NO_DEVICE);
	assert_int_equal(pv_usb_bus_wait_event(bus, 1000), PV_OK);
	assert_int_equal(pv_usb_bus_scan(bus, &devices, &count), PV_OK);
	assert_int_equal(count, 0);
	free(devices);
	assert_int_equal(pv_usb_bus_wait_event(bus, 10), PV_ERR_TIMEOUT);
	pv_usb_bus_wakeup(bus);
	assert_int_equal(pv_usb_bus_wait_event(bus, 1000), PV_ERR_INTERRUPTED);
	pv_usb_bus_destroy(bus);
}

static struct pv_vpi_request hostile[7];

static void make_hostile(void)
{
	static const char *const names[] = { "../../etc/passwd", "/etc/shadow", "link-out" };

	memset(hostile, 0, sizeof(hostile));
	for (size_t i = 0; i < 3; i++) {
		hostile[i].command = PV_VPI_GET_FILE_SIZE;
		hostile[i].name_len = strlen(names[i]);
		memcpy(hostile[i].name, names[i], hostile[i].name_len);
	}
	hostile[3].command = PV_VPI_GET_FILE_SIZE;      /* 256 bytes, no NUL */
	memset(hostile[3].name, 'a', PV_VPI_REQUEST_NAME_LEN);
	hostile[3].name_len = PV_VPI_REQUEST_NAME_LEN;
	hostile[4].command = 7;                         /* unknown command */
	memcpy(hostile[4].name, "config.txt", 10);
	hostile[4].name_len = 10;
	hostile[5].command = PV_VPI_READ_FILE;          /* read without a size first */
	memcpy(hostile[5].name, "ok.txt\x01\x7f", 8);
	hostile[5].name_len = 8;
	hostile[6].command = PV_VPI_GET_FILE_SIZE;      /* short message: 10 bytes */
	memcpy(hostile[6].name, "ok.txt", 6);
	hostile[6].name_len = 6;
	hostile[6].message_len = 10;
}

static void scripted(struct pv_vpi_options *o)
{
	make_hostile();
	o->script = hostile;
	o->script_len = 7;
}

static void test_scripted_hostile_requests(void **state)
{
	struct pv_vpi_board *b = new_board("pi4", scripted);
	struct pv_usb_bus *bus = bus_with(b);
	static const char ok[] = "fine";
	const struct mini_file files[] = { { "ok.txt", ok, 4 } };
	struct pv_buf code = PV_BUF_INIT(TEST_BUF_MAX), transcript = PV_BUF_INIT(TEST_BUF_MAX);
	struct mini_host h;
	struct pv_vpi_result r;
	uint32_t size;
	uint64_t bytes;

	(void)state;
	/* the script replaces the firmware flow, whatever program was uploaded */
	pv_vpi_placeholder_recovery(&code);
	mini_host_init(&h, files, 1);
	assert_int_equal(mini_host_run(&h, bus, code.data, code.len), PV_OK);
	assert_true(h.done);
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(pv_vpi_board_script_answer(b, i, &size, &bytes), PV_OK);
		/* the mini host refuses all but the short "ok.txt" request */
		assert_int_equal(size, i == 6 ? 4 : 0);
		assert_int_equal(bytes, 0);
	}
	assert_int_equal(pv_vpi_board_script_answer(b, 7, &size, &bytes), PV_ERR_NOT_FOUND);
	pv_vpi_board_result(b, &r);
	assert_int_equal(r.files_refused, 6);
	assert_int_equal(r.requests, 8);                /* + Done */
	pv_vpi_board_transcript(b, &transcript);
	assert_non_null(strstr(pv_buf_str(&transcript),
			       "request GetFileSize \"../../etc/passwd\" -> size 0"));
	assert_non_null(strstr(pv_buf_str(&transcript), "request command=7 \"config.txt\""));
	assert_non_null(strstr(pv_buf_str(&transcript),
			       "request ReadFile \"ok.txt\\x01\\x7f\" -> not found"));
	/* the 256-byte name arrives without a NUL */
	assert_non_null(strstr(pv_buf_str(&h.requests), "0 aaaaaaaa"));
	pv_buf_release(&transcript);
	pv_buf_release(&code);
	mini_host_release(&h);
	pv_usb_bus_destroy(bus);
}

static void test_bus_many_boards(void **state)
{
	struct pv_usb_bus *bus = NULL;
	struct pv_usb_device_info *devices = NULL;
	size_t count = 0;

	(void)state;
	assert_int_equal(pv_vpi_bus_new(&bus), PV_OK);
	assert_int_equal(pv_vpi_bus_add_spec(bus, "cm4,count=9"), PV_OK);
	assert_int_equal(pv_vpi_bus_add_spec(bus, "pi5"), PV_OK);
	assert_int_not_equal(pv_vpi_bus_add_spec(bus, "pi5,count=x"), PV_OK);
	/* A second spec of a model already attached is another board, not a twin. */
	assert_int_equal(pv_vpi_bus_add_spec(bus, "pi5"), PV_OK);
	assert_int_equal(pv_vpi_bus_add_spec(bus, "cm4"), PV_OK);
	assert_int_equal(pv_vpi_bus_board_count(bus), 12);
	for (size_t i = 0; i < 12; i++)
		for (size_t j = i + 1; j < 12; j++) {
			const struct pv_vpi_options *a, *b;
			a = pv_vpi_board_options(pv_vpi_bus_board_at(bus, i));
			b = pv_vpi_board_options(pv_vpi_bus_board_at(bus, j));
			assert_true(a->serial != b->serial);
			assert_memory_not_equal(a->mac, b->mac, 6);
		}
	assert_int_equal(pv_usb_bus_scan(bus, &devices, &count), PV_OK);
	assert_int_equal(count, 12);
	assert_string_equal(devices[0].port_path, "100-1.1");
	assert_string_equal(devices[6].port_path, "100-1.7");
	assert_string_equal(devices[7].port_path, "100-2.1");
	assert_int_equal(devices[9].product_id, 0x2712);
	for (size_t i = 0; i < count; i++)
		for (size_t j = i + 1; j < count; j++)
			assert_string_not_equal(devices[i].serial, devices[j].serial);
	free(devices);
	pv_usb_bus_destroy(bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rom_descriptors_2711),
		cmocka_unit_test(test_rom_descriptors_2837),
		cmocka_unit_test(test_standard_requests),
		cmocka_unit_test(test_reenumeration_same_port),
		cmocka_unit_test(test_bcm2837_stages),
		cmocka_unit_test(test_bootloader_2712_leaves),
		cmocka_unit_test(test_flash_keeps_device_busy),
		cmocka_unit_test(test_rate_cap_times_out_partially),
		cmocka_unit_test(test_unplug),
		cmocka_unit_test(test_scripted_hostile_requests),
		cmocka_unit_test(test_bus_many_boards),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
