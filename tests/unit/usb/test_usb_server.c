/* ROM stage and file server against a scripted fake device: the exact conversation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_transport.h"
#include "piprov/error.h"
#include "piprov/usb_protocol.h"
#include "test_support.h"

static struct pv_usb_timeouts fast_timeouts(void)
{
	struct pv_usb_timeouts to;

	pv_usb_timeouts_default(&to);
	to.request_ms = 50;
	to.silent_polls = 3;
	return to;
}

static void test_rom_stage(void **state)
{
	struct fake_device dev;
	struct pv_usb_transport *t;
	struct pv_usb_timeouts to = fast_timeouts();
	unsigned char *second = malloc(40000);
	const unsigned char zero[4] = { 0 };
	const unsigned char bad[4] = { 0x05, 0, 0, 0 };
	bool reenum = true;

	(void)state;
	for (size_t i = 0; i < 40000; i++)
		second[i] = (unsigned char)(i * 7);
	fake_device_init(&dev);
	fake_device_raw(&dev, zero, 4);
	t = fake_transport_new(&dev);
	assert_int_equal(pv_usb_rom_boot(t, second, 40000, NULL, &to, &reenum), PV_OK);
	assert_false(reenum);
	assert_string_equal(pv_buf_str(&dev.transcript),
			    "out-length 24\nbulk 24\n"
			    "out-length 40000\nbulk 16384\nbulk 16384\nbulk 7232\n"
			    "in 4\n");
	/* Boot message: little-endian length, then 20 zero signature bytes. */
	assert_int_equal(dev.bulk.len, 24 + 40000);
	assert_int_equal(dev.bulk.data[0], 40000 & 0xff);
	assert_int_equal(dev.bulk.data[1], 40000 >> 8);
	assert_int_equal(dev.bulk.data[2], 0);
	for (int i = 4; i < 24; i++)
		assert_int_equal(dev.bulk.data[i], 0);
	assert_memory_equal(dev.bulk.data + 24, second, 40000);
	pv_usb_transport_destroy(t);
	fake_device_release(&dev);

	/* rpiboot -s: the 20 bytes of bootcode.sig travel in the boot message. */
	{
		uint8_t signature[20];

		for (int i = 0; i < 20; i++)
			signature[i] = (uint8_t)(0xa0 + i);
		fake_device_init(&dev);
		fake_device_raw(&dev, zero, 4);
		t = fake_transport_new(&dev);
		assert_int_equal(pv_usb_rom_boot(t, second, 100, signature, &to, &reenum), PV_OK);
		assert_int_equal(dev.bulk.len, 24 + 100);
		assert_int_equal(dev.bulk.data[0], 100);
		assert_memory_equal(dev.bulk.data + 4, signature, 20);
		assert_memory_equal(dev.bulk.data + 24, second, 100);
		pv_usb_transport_destroy(t);
		fake_device_release(&dev);
	}

	/* A vanished device while the return code is read = re-enumerating (success). */
	fake_device_init(&dev);
	fake_device_error(&dev, PV_ERR_NO_DEVICE);
	t = fake_transport_new(&dev);
	assert_int_equal(pv_usb_rom_boot(t, second, 100, NULL, &to, &reenum), PV_OK);
	assert_true(reenum);
	pv_usb_transport_destroy(t);
	fake_device_release(&dev);

	/* A non-zero return code is a failure naming the code. */
	fake_device_init(&dev);
	fake_device_raw(&dev, bad, 4);
	t = fake_transport_new(&dev);
	assert_int_equal(pv_usb_rom_boot(t, second, 100, NULL, &to, &reenum), PV_ERR_PROTOCOL);
	assert_non_null(strstr(pv_last_error(), "0x5"));
	pv_usb_transport_destroy(t);
	fake_device_release(&dev);

	/* A short return code too. */
	fake_device_init(&dev);
	fake_device_raw(&dev, zero, 2);
	t = fake_transport_new(&dev);
	assert_int_equal(pv_usb_rom_boot(t, second, 100, NULL, &to, &reenum), PV_ERR_PROTOCOL);
	pv_usb_transport_destroy(t);
	fake_device_release(&dev);

	/* A stalled bulk endpoint stops the upload with the transport's error. */
	fake_device_init(&dev);
	dev.bulk_status = PV_ERR_PIPE;
	t = fake_transport_new(&dev);
	assert_int_equal(pv_usb_rom_boot(t, second, 100, NULL, &to, &reenum), PV_ERR_PIPE);
	pv_usb_transport_destroy(t);
	fake_device_release(&dev);

	assert_int_equal(pv_usb_rom_boot(t = NULL, second, 0, NULL, &to, &reenum),
			 PV_ERR_TOO_BIG);
	free(second);
}

struct served {
	char *root;
	char *dir;
	struct pv_usb_files *files;
	struct pv_buf opened;
	unsigned char *image;
	struct pv_usb_memfile mem[2];
};

static void on_opened(void *user, const char *port, const char *path)
{
	struct served *s = user;

	(void)port;
	pv_buf_appendf(&s->opened, "%s\n", path);
}

static int setup(void **state)
{
	struct served *s = calloc(1, sizeof(*s));
	struct pv_usb_files_config cfg = { 0 };
	char *p;
	static const char sig[] = "0123456789abcdef\nts: 1\n";

	s->root = pv_test_mkdtemp();
	assert_true(asprintf(&s->dir, "%s/served", s->root) > 0);
	assert_int_equal(mkdir(s->dir, 0755), 0);
	assert_true(asprintf(&p, "%s/sentinel", s->root) > 0);
	pv_test_write_file(p, "secret", 6);
	free(p);
	assert_true(asprintf(&p, "%s/config.txt", s->dir) > 0);
	pv_test_write_file(p, "uart_2ndstage=1\n", 16);
	free(p);
	assert_true(asprintf(&p, "%s/escape", s->dir) > 0);
	assert_int_equal(symlink("../sentinel", p), 0);
	free(p);
	s->image = malloc(40000);
	memset(s->image, 0x5a, 40000);
	s->mem[0] = (struct pv_usb_memfile){ "pieeprom.bin", s->image, 40000 };
	s->mem[1] = (struct pv_usb_memfile){ "pieeprom.sig", sig, sizeof(sig) - 1 };
	pv_buf_init(&s->opened, 1 << 16);
	cfg.dir = s->dir;
	cfg.memfiles = s->mem;
	cfg.memfile_count = 2;
	cfg.opened = on_opened;
	cfg.opened_user = s;
	assert_int_equal(pv_usb_files_new(&cfg, &s->files), PV_OK);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct served *s = *state;

	pv_usb_files_free(s->files);
	pv_test_rmtree(s->root);
	free(s->root);
	free(s->dir);
	free(s->image);
	pv_buf_release(&s->opened);
	free(s);
	return 0;
}

static int run_server(struct served *s, struct fake_device *dev, struct pv_usb_metadata *md,
		      struct pv_usb_server_stats *stats)
{
	struct pv_usb_timeouts to = fast_timeouts();
	struct pv_usb_transport *t = fake_transport_new(dev);
	struct pv_usb_server_params p = {
		.files = s->files, .chip = "2711", .port_path = "1-1.2", .timeouts = &to,
		.deadline_ms = pv_usb_now_ms() + 10000, .metadata = md,
	};
	int rc = pv_usb_file_server_run(t, &p, stats);

	pv_usb_transport_destroy(t);
	return rc;
}

static void test_recovery_conversation(void **state)
{
	struct served *s = *state;
	struct fake_device dev;
	struct pv_usb_metadata md;
	struct pv_usb_server_stats stats;

	fake_device_init(&dev);
	pv_usb_metadata_init(&md);
	fake_device_request(&dev, 0, "config.txt");
	fake_device_request(&dev, 1, "config.txt");
	fake_device_request(&dev, 0, "vl805.sig");
	fake_device_request(&dev, 0, "pieeprom.sig");
	fake_device_request(&dev, 1, "pieeprom.sig");
	fake_device_request(&dev, 0, "pieeprom.upd");
	fake_device_request(&dev, 0, "pieeprom.bin");
	fake_device_request(&dev, 1, "pieeprom.bin");
	fake_device_request(&dev, 0, "*EEPROM_UPDATE*success");
	fake_device_request(&dev, 0, "*EEPROM_HASH*abc");
	fake_device_request(&dev, 2, "done");
	assert_int_equal(run_server(s, &dev, &md, &stats), PV_OK);
	assert_string_equal(pv_buf_str(&dev.transcript),
			    "in 260\nout-length 16\n"
			    "in 260\nout-length 16\nbulk 16\n"
			    "in 260\nout-length 0\n"
			    "in 260\nout-length 23\n"
			    "in 260\nout-length 23\nbulk 23\n"
			    "in 260\nout-length 0\n"
			    "in 260\nout-length 40000\n"
			    "in 260\nout-length 40000\nbulk 16384\nbulk 16384\nbulk 7232\n"
			    "in 260\nout-length 0\n"
			    "in 260\nout-length 0\n"
			    "in 260\n");
	assert_int_equal(stats.end, PV_USB_SERVER_DONE);
	assert_int_equal(stats.files_sent, 3);
	assert_int_equal(stats.not_found, 2);
	assert_int_equal(stats.bytes_sent, 16 + 23 + 40000);
	assert_string_equal(pv_usb_metadata_get(&md, "EEPROM_UPDATE"), "success");
	assert_string_equal(pv_usb_metadata_get(&md, "EEPROM_HASH"), "abc");
	assert_memory_equal(dev.bulk.data + 16 + 23, s->image, 40000);
	assert_string_equal(pv_buf_str(&s->opened),
			    "config.txt\nmemory:pieeprom.sig\nmemory:pieeprom.bin\n");
	fake_device_release(&dev);
}

static void test_hostile_device(void **state)
{
	struct served *s = *state;
	struct fake_device dev;
	struct pv_usb_server_stats stats;
	unsigned char raw[260];

	fake_device_init(&dev);
	fake_device_request(&dev, 0, "../../etc/passwd");
	fake_device_request(&dev, 1, "../sentinel");
	fake_device_request(&dev, 0, "/etc/shadow");
	fake_device_request(&dev, 1, "/etc/shadow");
	fake_device_request(&dev, 0, "escape");
	fake_device_request(&dev, 1, "escape");
	fake_device_request(&dev, 7, "config.txt");
	memset(raw, 'A', sizeof(raw));
	memset(raw, 0, 4);
	fake_device_raw(&dev, raw, sizeof(raw)); /* 256 name bytes, no NUL */
	fake_device_request(&dev, 0, "");
	assert_int_equal(run_server(s, &dev, NULL, &stats), PV_OK);
	/* Every one answered "not found" (size 0), no bulk byte sent, nothing opened. */
	assert_string_equal(pv_buf_str(&dev.transcript),
			    "in 260\nout-length 0\nin 260\nout-length 0\nin 260\nout-length 0\n"
			    "in 260\nout-length 0\nin 260\nout-length 0\nin 260\nout-length 0\n"
			    "in 260\nout-length 0\nin 260\nout-length 0\nin 260\nout-length 0\n");
	assert_int_equal(dev.bulk.len, 0);
	assert_int_equal(s->opened.len, 0);
	assert_int_equal(stats.refused, 6);
	assert_int_equal(stats.not_found, 2);
	assert_int_equal(stats.end, PV_USB_SERVER_DONE);
	fake_device_release(&dev);

	/* An answer longer than the 260 bytes asked for is the transport's OVERFLOW. */
	fake_device_init(&dev);
	{
		unsigned char big[300] = { 0 };
		memset(big + 4, 'B', 296);
		fake_device_raw(&dev, big, sizeof(big));
	}
	assert_int_equal(run_server(s, &dev, NULL, &stats), PV_ERR_OVERFLOW);
	assert_int_equal(s->opened.len, 0);
	fake_device_release(&dev);
}

static void test_endings(void **state)
{
	struct served *s = *state;
	struct fake_device dev;
	struct pv_usb_server_stats stats;

	/* Leaves after reading a file: the payload took over. */
	fake_device_init(&dev);
	fake_device_request(&dev, 0, "config.txt");
	fake_device_request(&dev, 1, "config.txt");
	fake_device_error(&dev, PV_ERR_NO_DEVICE);
	assert_int_equal(run_server(s, &dev, NULL, &stats), PV_OK);
	assert_int_equal(stats.end, PV_USB_SERVER_GONE);
	fake_device_release(&dev);

	/* Leaves before reading anything: a failure. */
	fake_device_init(&dev);
	fake_device_request(&dev, 0, "config.txt");
	fake_device_error(&dev, PV_ERR_NO_DEVICE);
	assert_int_equal(run_server(s, &dev, NULL, &stats), PV_ERR_NO_DEVICE);
	fake_device_release(&dev);

	/* Silent device: gives up after silent_polls empty polls. */
	fake_device_init(&dev);
	dev.after_script = PV_ERR_TIMEOUT;
	assert_int_equal(run_server(s, &dev, NULL, &stats), PV_ERR_TIMEOUT);
	assert_string_equal(pv_buf_str(&dev.transcript), "in 260\nin 260\nin 260\n");
	fake_device_release(&dev);

	/* ReadFile without GetFileSize is looked up by name; unknown names get size 0. */
	fake_device_init(&dev);
	fake_device_request(&dev, 1, "config.txt");
	fake_device_request(&dev, 1, "missing");
	fake_device_request(&dev, 0, "");
	assert_int_equal(run_server(s, &dev, NULL, &stats), PV_OK);
	assert_string_equal(pv_buf_str(&dev.transcript),
			    "in 260\nout-length 16\nbulk 16\nin 260\nout-length 0\n"
			    "in 260\nout-length 0\n");
	fake_device_release(&dev);

	/* A stalled bulk endpoint in the middle of a file is an error, not success. */
	fake_device_init(&dev);
	fake_device_request(&dev, 1, "pieeprom.bin");
	dev.bulk_status = PV_ERR_PIPE;
	assert_int_equal(run_server(s, &dev, NULL, &stats), PV_ERR_PIPE);
	fake_device_release(&dev);
}

static void test_deadline_and_cancel(void **state)
{
	struct served *s = *state;
	struct fake_device dev;
	struct pv_usb_server_stats stats;
	struct pv_usb_timeouts to = fast_timeouts();
	struct pv_usb_transport *t;
	volatile int cancel = 1;
	struct pv_usb_server_params p = {
		.files = s->files, .chip = "2711", .port_path = "1-1", .timeouts = &to,
		.deadline_ms = pv_usb_now_ms() + 10000, .cancel = &cancel,
	};

	fake_device_init(&dev);
	fake_device_request(&dev, 0, "config.txt");
	t = fake_transport_new(&dev);
	assert_int_equal(pv_usb_file_server_run(t, &p, &stats), PV_ERR_INTERRUPTED);
	cancel = 0;
	p.deadline_ms = pv_usb_now_ms() - 1;
	assert_int_equal(pv_usb_file_server_run(t, &p, &stats), PV_ERR_TIMEOUT);
	assert_int_equal(dev.transcript.len, 0);
	pv_usb_transport_destroy(t);
	fake_device_release(&dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rom_stage),
		cmocka_unit_test_setup_teardown(test_recovery_conversation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline_and_cancel, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
