/* The mass-storage gadget stage: a Compute Module with emmc=FILE that runs upstream's
 * mass-storage programs (mass-storage-gadget64's boot.img, msd/'s start4.elf) comes back on
 * USB as a disk of that file. A tiny Bulk-Only host in this file drives it only through the
 * transport contract (piprov/usb_transport.h), as a host's usb-storage driver would: it
 * writes blocks, reads them back, finds them in the file, and checks the sense data a host
 * gets for every error path. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "mini_host.h"
#include "piprov/board.h"
#include "piprov/error.h"
#include "piprov/fileio.h"
#include "piprov/text.h"
#include "piprov/vpi.h"
#include "test_support.h"
#include "vpi_internal.h"

#define MEDIUM_BYTES (1024u * 1024u)
#define EP_IN 0x81
#define TIMEOUT_MS 2000

static char *tmp;

static int setup(void **state)
{
	(void)state;
	tmp = pv_test_mkdtemp();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pv_test_rmtree(tmp);
	free(tmp);
	return 0;
}

static char *tmp_path(const char *name)
{
	char *path = NULL;

	assert_true(asprintf(&path, "%s/%s", tmp, name) > 0);
	return path;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A bootloader-flow second stage: anything that is not the recovery placeholder. */
static const char bootcode[] = "synthetic bootcode: the board runs its ordinary bootloader";
static const char gadget_config[] = "boot_ramdisk=1\nuart_2ndstage=1\n";
static const char boot_img[] = "a FAT image with the gadget's initramfs would be here";
static const char start_elf[] = "msd start4.elf";

/* One board of `spec` on a bus, booted through the file server with `files`, then waited
 * for until it is attached in the gadget stage. Returns its transport, opened. */
static struct pv_usb_transport *boot_into_gadget(const char *spec, const struct mini_file *files,
						 size_t count, struct pv_usb_bus **bus_out)
{
	struct pv_usb_bus *bus;
	struct pv_vpi_board *board;
	struct pv_usb_transport *t;
	struct mini_host h;
	struct pv_vpi_result r;
	bool attached = false;

	assert_int_equal(pv_vpi_bus_new(&bus), PV_OK);
	assert_int_equal(pv_vpi_bus_add_spec(bus, spec), PV_OK);
	board = pv_vpi_bus_board_at(bus, 0);
	mini_host_init(&h, files, count);
	assert_int_equal(mini_host_run(&h, bus, bootcode, sizeof(bootcode)), PV_OK);
	assert_true(h.done);
	mini_host_release(&h);
	for (int i = 0; i < 200; i++) {
		pv_vpi_board_poll(board, &attached, NULL, NULL);
		pv_vpi_board_result(board, &r);
		if (attached && r.stage == PV_VPI_STAGE_MSD)
			break;
		sleep_ms(5);
	}
	assert_int_equal(r.stage, PV_VPI_STAGE_MSD);
	assert_true(attached);
	assert_int_equal(pv_vpi_transport_new(board, &t), PV_OK);
	assert_int_equal(pv_usb_open(t), PV_OK);
	*bus_out = bus;
	return t;
}

static int control(struct pv_usb_transport *t, uint8_t type, uint8_t request, uint16_t value,
		   uint16_t index, void *data, uint16_t length, size_t *actual)
{
	uint8_t setup[8] = { type, request, (uint8_t)value, (uint8_t)(value >> 8), (uint8_t)index,
			     (uint8_t)(index >> 8), (uint8_t)length, (uint8_t)(length >> 8) };
	size_t dummy;

	return pv_usb_control(t, setup, data, length, actual ? actual : &dummy, TIMEOUT_MS);
}

static void clear_halt(struct pv_usb_transport *t, uint8_t ep)
{
	assert_int_equal(control(t, 0x02, 1, 0, ep, NULL, 0, NULL), PV_OK);
}

/* What one command came back with. */
struct reply {
	int data_rc;            /* of the data phase: PV_OK or PV_ERR_PIPE (the device halted) */
	size_t data_len;        /* bytes moved in it */
	uint32_t residue;
	uint8_t status;
	bool stalled_before_csw;
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The Bulk-Only Transport as a host does it (BOT 5-6): CBW, data, CSW; a halted bulk-in is
 * cleared before the CSW is read. `in` selects the direction of host_len bytes of data. */
static struct reply bot(struct pv_usb_transport *t, uint32_t tag, const uint8_t *cdb,
			uint8_t cdb_len, bool in, uint8_t *data, uint32_t host_len)
{
	uint8_t cbw[31] = { 'U', 'S', 'B', 'C' }, csw[13];
	struct reply r = { 0 };
	size_t actual = 0;
	int rc;

	memcpy(cbw + 4, &tag, 4); /* little-endian host */
	memcpy(cbw + 8, &host_len, 4);
	cbw[12] = in ? 0x80 : 0x00;
	cbw[14] = cdb_len;
	memcpy(cbw + 15, cdb, cdb_len);
	assert_int_equal(pv_usb_bulk_out(t, cbw, sizeof(cbw), &actual, TIMEOUT_MS), PV_OK);
	assert_int_equal(actual, sizeof(cbw));
	if (host_len && in) {
		while (r.data_len < host_len) {
			rc = pv_usb_bulk_in(t, EP_IN, data + r.data_len, host_len - r.data_len,
					    &actual, TIMEOUT_MS);
			if (rc) {
				assert_int_equal(rc, PV_ERR_PIPE);
				r.data_rc = rc;
				break;
			}
			r.data_len += actual;
			if (actual == 0 || r.data_len % 512)
				break; /* a short packet ends the phase */
		}
	} else if (host_len) {
		while (r.data_len < host_len) {
			size_t chunk = host_len - r.data_len > 16384 ? 16384 : host_len - r.data_len;

			assert_int_equal(pv_usb_bulk_out(t, data + r.data_len, chunk, &actual,
							 TIMEOUT_MS), PV_OK);
			r.data_len += actual;
		}
	}
	rc = pv_usb_bulk_in(t, EP_IN, csw, sizeof(csw), &actual, TIMEOUT_MS);
	if (rc == PV_ERR_PIPE) {
		r.stalled_before_csw = true;
		clear_halt(t, EP_IN);
		rc = pv_usb_bulk_in(t, EP_IN, csw, sizeof(csw), &actual, TIMEOUT_MS);
	}
	assert_int_equal(rc, PV_OK);
	assert_int_equal(actual, 13);
	assert_int_equal(le32(csw), 0x53425355u);
	assert_int_equal(le32(csw + 4), tag);
	r.residue = le32(csw + 8);
	r.status = csw[12];
	return r;
}

struct sense {
	uint8_t key, asc;
	uint32_t info;
	bool info_valid;
};

static struct sense request_sense(struct pv_usb_transport *t)
{
	uint8_t cdb[6] = { 0x03, 0, 0, 0, 18, 0 }, data[18] = { 0 };
	struct reply r = bot(t, 0x5e45e, cdb, 6, true, data, 18);
	struct sense s;

	assert_int_equal(r.status, 0);
	assert_int_equal(r.data_len, 18);
	assert_int_equal(data[0] & 0x7f, 0x70);
	s.key = data[2] & 0x0f;
	s.asc = data[12];
	s.info = (uint32_t)data[3] << 24 | (uint32_t)data[4] << 16 | (uint32_t)data[5] << 8 |
		 data[6];
	s.info_valid = data[0] & 0x80;
	return s;
}

static void rw10(uint8_t cdb[10], uint8_t opcode, uint32_t lba, uint16_t blocks)
{
	memset(cdb, 0, 10);
	cdb[0] = opcode;
	cdb[2] = (uint8_t)(lba >> 24);
	cdb[3] = (uint8_t)(lba >> 16);
	cdb[4] = (uint8_t)(lba >> 8);
	cdb[5] = (uint8_t)lba;
	cdb[7] = (uint8_t)(blocks >> 8);
	cdb[8] = (uint8_t)blocks;
}

static const struct mini_file gadget64_files[] = {
	{ "config.txt", gadget_config, sizeof(gadget_config) - 1 },
	{ "boot.img", boot_img, sizeof(boot_img) },
};

/* The gadget a host sees after mass-storage-gadget64 on a CM4: the USB identity of
 * configure-gadgets and a configured device with one LUN. */
static void test_cm4_gadget64_identity(void **state)
{
	char *medium = tmp_path("identity.img"), *spec = NULL;
	struct pv_usb_transport *t;
	struct pv_usb_bus *bus;
	struct pv_usb_device_info *list = NULL;
	uint8_t d[18], c[PV_VPI_CONFIG_DESC_MAX], s[PV_VPI_STRING_DESC_MAX], lun = 0xee;
	struct pv_vpi_result r;
	struct pv_buf text = PV_BUF_INIT(TEST_BUF_MAX);
	size_t n = 0, count = 9;
	char ascii[128];

	(void)state;
	assert_true(asprintf(&spec, "cm4,emmc=%s,emmc-size=1M,reenumerate-ms=0", medium) > 0);
	t = boot_into_gadget(spec, gadget64_files, 2, &bus);
	assert_int_equal(t->info.vendor_id, 0x0a5c);
	assert_int_equal(t->info.product_id, 0x0104);

	assert_int_equal(control(t, 0x80, 6, 0x0100, 0, d, sizeof(d), &n), PV_OK);
	assert_int_equal(n, 18);
	assert_int_equal(d[8] | d[9] << 8, 0x0a5c);
	assert_int_equal(d[10] | d[11] << 8, 0x0104);
	assert_int_equal(d[12] | d[13] << 8, 0x0100);
	assert_int_equal(control(t, 0x80, 6, 0x0200, 0, c, sizeof(c), &n), PV_OK);
	assert_int_equal(n, c[2] | c[3] << 8);
	assert_int_equal(c[4], 3);                       /* disk + ACM control + ACM data */
	assert_int_equal(c[8], 125);                     /* MaxPower 250 mA */
	assert_int_equal(c[9 + 5], 0x08);                /* interface 0: mass storage */
	assert_int_equal(c[9 + 6], 0x06);                /* SCSI transparent */
	assert_int_equal(c[9 + 7], 0x50);                /* Bulk-Only */
	struct { uint8_t index; const char *text; } strings[] = {
		{ d[14], "Raspberry Pi" },
		{ d[15], "Raspberry Pi multi-function USB device" },
		{ d[16], pv_vpi_board_serial(pv_vpi_bus_board_at(bus, 0)) },
		{ c[6], "Config 1: ACM+MSD gadget" },
	};
	for (size_t i = 0; i < PV_ARRAY_SIZE(strings); i++) {
		assert_int_equal(control(t, 0x80, 6, (uint16_t)(0x0300 | strings[i].index), 0x0409,
					 s, sizeof(s), &n), PV_OK);
		assert_true(n >= 2 && n == s[0]);
		for (size_t k = 0; k < (n - 2) / 2; k++)
			ascii[k] = (char)s[2 + 2 * k];
		ascii[(n - 2) / 2] = '\0';
		assert_string_equal(ascii, strings[i].text);
	}
	/* Nothing moves before SET_CONFIGURATION; then one LUN. */
	assert_int_equal(pv_usb_bulk_in(t, EP_IN, d, sizeof(d), &n, 10), PV_ERR_PIPE);
	assert_int_equal(control(t, 0x00, 9, 1, 0, NULL, 0, NULL), PV_OK);
	assert_int_equal(control(t, 0xa1, 0xfe, 0, 0, &lun, 1, &n), PV_OK);
	assert_int_equal(n, 1);
	assert_int_equal(lun, 0);
	/* The boot protocol is over: a vendor request stalls. */
	assert_int_equal(pv_usb_control_out_length(t, 24, 100), PV_ERR_PIPE);
	/* A host scanning for boot ROMs no longer finds it: it is a disk now. */
	assert_int_equal(pv_usb_bus_scan(bus, &list, &count), PV_OK);
	assert_int_equal(count, 0);
	free(list);

	pv_vpi_board_result(pv_vpi_bus_board_at(bus, 0), &r);
	assert_string_equal(r.msd_program, "boot.img");
	assert_string_equal(r.msd_gadget, "mass-storage-gadget64");
	assert_int_equal(r.msd_size, MEDIUM_BYTES);
	assert_int_equal(pv_vpi_board_transcript(pv_vpi_bus_board_at(bus, 0), &text), PV_OK);
	assert_non_null(strstr(pv_buf_str(&text),
			       "detach (boot.img: the mass-storage-gadget64 gadget starts)"));
	assert_non_null(strstr(pv_buf_str(&text), "attach stage=msd serial-index=3"));
	pv_buf_release(&text);
	pv_usb_transport_destroy(t);
	pv_usb_bus_destroy(bus);
	free(spec);
	free(medium);
}

/* Blocks written through the transport are in the file, and read back the same. */
static void test_write_read_back_and_in_the_file(void **state)
{
	char *medium = tmp_path("rw.img"), *spec = NULL;
	struct pv_usb_transport *t;
	struct pv_usb_bus *bus;
	uint8_t cdb[16], *pattern, *back, data[64];
	struct reply r;
	struct sense s;
	struct pv_vpi_result result;
	size_t len = 64 * 512;
	int fd;

	(void)state;
	assert_true(asprintf(&spec, "cm4,emmc=%s,emmc-size=1M,reenumerate-ms=0", medium) > 0);
	t = boot_into_gadget(spec, gadget64_files, 2, &bus);
	assert_int_equal(control(t, 0x00, 9, 1, 0, NULL, 0, NULL), PV_OK);

	/* After a (re)configuration the first command gets a unit attention (06/29/00). */
	memset(cdb, 0, sizeof(cdb));
	r = bot(t, 1, cdb, 6, false, NULL, 0);
	assert_int_equal(r.status, 1);
	s = request_sense(t);
	assert_int_equal(s.key, 0x6);
	assert_int_equal(s.asc, 0x29);
	r = bot(t, 2, cdb, 6, false, NULL, 0);
	assert_int_equal(r.status, 0);

	/* INQUIRY: direct access, removable, the inquiry_string of the eMMC. */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x12;
	cdb[4] = 36;
	r = bot(t, 3, cdb, 6, true, data, 36);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.data_len, 36);
	assert_int_equal(data[0], 0x00);
	assert_int_equal(data[1], 0x80);
	assert_memory_equal(data + 8, "mmcblk0 ", 8);

	/* READ CAPACITY (10) and (16): the file's size in 512-byte blocks. */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x25;
	r = bot(t, 4, cdb, 10, true, data, 8);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.data_len, 8);
	assert_int_equal((uint32_t)data[0] << 24 | data[1] << 16 | data[2] << 8 | data[3],
			 MEDIUM_BYTES / 512 - 1);
	assert_int_equal(data[6] << 8 | data[7], 512);
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x9e;
	cdb[1] = 0x10;
	cdb[13] = 32;
	r = bot(t, 5, cdb, 16, true, data, 32);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.data_len, 32);
	assert_int_equal(data[7], (MEDIUM_BYTES / 512 - 1) & 0xff);
	assert_int_equal(data[6], (MEDIUM_BYTES / 512 - 1) >> 8);

	/* WRITE(10) 64 blocks at LBA 100, SYNCHRONIZE CACHE, READ(10) them back. */
	pattern = malloc(len);
	back = calloc(1, len);
	assert_non_null(pattern);
	assert_non_null(back);
	for (size_t i = 0; i < len; i++)
		pattern[i] = (uint8_t)(i * 7 + i / 512);
	rw10(cdb, 0x2a, 100, 64);
	r = bot(t, 6, cdb, 10, false, pattern, (uint32_t)len);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.residue, 0);
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x35;
	r = bot(t, 7, cdb, 10, false, NULL, 0);
	assert_int_equal(r.status, 0);
	rw10(cdb, 0x28, 100, 64);
	r = bot(t, 8, cdb, 10, true, back, (uint32_t)len);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.data_len, len);
	assert_memory_equal(back, pattern, len);
	/* ... and the backing file holds exactly those bytes at 100 * 512. */
	memset(back, 0, len);
	fd = open(medium, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, back, len, 100 * 512), (ssize_t)len);
	assert_memory_equal(back, pattern, len);
	assert_int_equal(pread(fd, back, 512, 99 * 512), 512);
	for (size_t i = 0; i < 512; i++)
		assert_int_equal(back[i], 0); /* the block before is untouched */
	close(fd);

	pv_vpi_board_result(pv_vpi_bus_board_at(bus, 0), &result);
	assert_int_equal(result.msd_bytes_written, len);
	assert_int_equal(result.msd_bytes_read, len);
	assert_int_equal(result.msd_syncs, 1);
	free(pattern);
	free(back);
	pv_usb_transport_destroy(t);
	pv_usb_bus_destroy(bus);
	free(spec);
	free(medium);
}

/* Every error a host can provoke shows as a CSW status and sense data (or a phase error),
 * and the device carries on afterwards. */
static void test_errors_are_sense_data(void **state)
{
	char *medium = tmp_path("errors.img"), *spec = NULL;
	struct pv_usb_transport *t;
	struct pv_usb_bus *bus;
	uint8_t cdb[16], data[1024], cbw[31] = { 'X', 'S', 'B', 'C' };
	struct reply r;
	struct sense s;
	size_t n;

	(void)state;
	assert_true(asprintf(&spec, "cm4,emmc=%s,emmc-size=1M,reenumerate-ms=0", medium) > 0);
	t = boot_into_gadget(spec, gadget64_files, 2, &bus);
	assert_int_equal(control(t, 0x00, 9, 1, 0, NULL, 0, NULL), PV_OK);
	memset(cdb, 0, sizeof(cdb));
	bot(t, 1, cdb, 6, false, NULL, 0); /* the unit attention */

	/* A read past the end: CHECK CONDITION, no data (bulk-in halts), 05/21/00 at the LBA. */
	rw10(cdb, 0x28, MEDIUM_BYTES / 512 - 1, 2);
	r = bot(t, 2, cdb, 10, true, data, 1024);
	assert_int_equal(r.status, 1);
	assert_int_equal(r.data_len, 0);
	assert_int_equal(r.data_rc, PV_ERR_PIPE);
	assert_int_equal(r.residue, 1024);
	s = request_sense(t);
	assert_int_equal(s.key, 0x5);
	assert_int_equal(s.asc, 0x21);
	assert_true(s.info_valid);
	assert_int_equal(s.info, MEDIUM_BYTES / 512 - 1);
	/* REQUEST SENSE clears it. */
	s = request_sense(t);
	assert_int_equal(s.key, 0);

	/* A write past the end: the data is taken and dropped, status 1, nothing written. */
	memset(data, 0xab, sizeof(data));
	rw10(cdb, 0x2a, MEDIUM_BYTES / 512, 2);
	r = bot(t, 3, cdb, 10, false, data, 1024);
	assert_int_equal(r.status, 1);
	assert_int_equal(r.residue, 1024);
	assert_int_equal(request_sense(t).asc, 0x21);

	/* An unknown command: 05/20/00. */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0xc7;
	r = bot(t, 4, cdb, 6, false, NULL, 0);
	assert_int_equal(r.status, 1);
	s = request_sense(t);
	assert_int_equal(s.key, 0x5);
	assert_int_equal(s.asc, 0x20);

	/* A field it does not support (INQUIRY EVPD): 05/24/00. */
	cdb[0] = 0x12;
	cdb[1] = 1;
	cdb[4] = 36;
	r = bot(t, 5, cdb, 6, true, data, 36);
	assert_int_equal(r.status, 1);
	assert_true(r.stalled_before_csw || r.data_rc == PV_ERR_PIPE);
	assert_int_equal(request_sense(t).asc, 0x24);

	/* MODE SENSE(6) of all pages with Linux's 192-byte allocation: 16 bytes, then the
	 * device halts bulk-in and the CSW tells the residue. */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x1a;
	cdb[2] = 0x3f;
	cdb[4] = 192;
	r = bot(t, 6, cdb, 6, true, data, 192);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.data_len, 16);
	assert_int_equal(data[0], 15);  /* mode data length */
	assert_int_equal(data[2] & 0x80, 0); /* not write-protected */
	assert_int_equal(data[4], 0x08); /* caching page */
	assert_true(r.stalled_before_csw);
	assert_int_equal(r.residue, 192 - 16);

	/* Host and device disagree on the direction: phase error, nothing written. */
	rw10(cdb, 0x2a, 0, 1);
	r = bot(t, 7, cdb, 10, true, data, 512);
	assert_int_equal(r.status, 2);
	/* The host expects less than the command moves (case 13): phase error. */
	rw10(cdb, 0x2a, 0, 2);
	r = bot(t, 8, cdb, 10, false, data, 512);
	assert_int_equal(r.status, 2);
	memset(cdb, 0, sizeof(cdb));
	r = bot(t, 9, cdb, 6, false, NULL, 0);
	assert_int_equal(r.status, 0);

	/* An invalid CBW halts both endpoints; CLEAR_FEATURE alone does not release them, a
	 * Bulk-Only Mass Storage Reset and then CLEAR_FEATURE on both do (BOT 5.3.4). */
	assert_int_equal(pv_usb_bulk_out(t, cbw, sizeof(cbw), &n, TIMEOUT_MS), PV_OK);
	assert_int_equal(pv_usb_bulk_in(t, EP_IN, data, 13, &n, 10), PV_ERR_PIPE);
	assert_int_equal(pv_usb_bulk_out(t, cbw, sizeof(cbw), &n, 10), PV_ERR_PIPE);
	clear_halt(t, EP_IN);
	clear_halt(t, 0x01);
	assert_int_equal(pv_usb_bulk_in(t, EP_IN, data, 13, &n, 10), PV_ERR_PIPE);
	assert_int_equal(control(t, 0x21, 0xff, 0, 0, NULL, 0, NULL), PV_OK);
	clear_halt(t, EP_IN);
	clear_halt(t, 0x01);
	memset(cdb, 0, sizeof(cdb));
	r = bot(t, 10, cdb, 6, false, NULL, 0);
	assert_int_equal(r.status, 0);
	/* Nothing reached the file. */
	{
		struct pv_buf file = PV_BUF_INIT(TEST_BUF_MAX);

		pv_test_read_file(medium, &file);
		for (size_t i = 0; i < file.len; i++)
			assert_int_equal(file.data[i], 0);
		pv_buf_release(&file);
	}
	pv_usb_transport_destroy(t);
	pv_usb_bus_destroy(bus);
	free(spec);
	free(medium);
}

/* The legacy msd/ firmware: no config.txt, the bootloader runs start4.elf, and the board
 * becomes 0a5c:0001 "RPi-MSD- 0001", one interface. A CM5 runs mass-storage-gadget64's
 * boot.img after its DDR files. */
static void test_legacy_msd_and_cm5(void **state)
{
	char *medium = tmp_path("legacy.img"), *medium5 = tmp_path("cm5.img"), *spec = NULL;
	const struct mini_file legacy_files[] = {
		{ "start4.elf", start_elf, sizeof(start_elf) },
	};
	struct pv_usb_transport *t;
	struct pv_usb_bus *bus;
	uint8_t cdb[6] = { 0x12, 0, 0, 0, 36, 0 }, data[36];
	struct reply r;
	struct pv_vpi_result res;

	(void)state;
	assert_true(asprintf(&spec, "cm4,emmc=%s,emmc-size=64K,reenumerate-ms=0", medium) > 0);
	t = boot_into_gadget(spec, legacy_files, 1, &bus);
	assert_int_equal(t->info.product_id, 0x0001);
	assert_int_equal(t->info.num_interfaces, 1);
	assert_int_equal(control(t, 0x00, 9, 1, 0, NULL, 0, NULL), PV_OK);
	r = bot(t, 1, cdb, 6, true, data, 36);
	assert_int_equal(r.status, 0);
	assert_memory_equal(data + 8, "RPi-MSD-0001    ", 16);
	pv_vpi_board_result(pv_vpi_bus_board_at(bus, 0), &res);
	assert_string_equal(res.msd_program, "start4.elf");
	assert_string_equal(res.msd_gadget, "msd");
	pv_usb_transport_destroy(t);
	pv_usb_bus_destroy(bus);
	free(spec);

	assert_true(asprintf(&spec, "cm5,emmc=%s,emmc-size=128K,reenumerate-ms=0", medium5) > 0);
	t = boot_into_gadget(spec, gadget64_files + 1, 1, &bus);
	assert_int_equal(t->info.product_id, 0x0104);
	pv_vpi_board_result(pv_vpi_bus_board_at(bus, 0), &res);
	assert_string_equal(res.msd_program, "boot.img");
	assert_int_equal(res.msd_size, 128 * 1024);
	pv_usb_transport_destroy(t);
	pv_usb_bus_destroy(bus);
	free(spec);
	free(medium);
	free(medium5);
}

/* Without emmc= a CM4 that runs boot.img leaves USB, as before; one that runs the
 * recovery program halts attached (no gadget) even with a medium. */
static void test_no_gadget_without_medium_or_after_recovery(void **state)
{
	char *medium = tmp_path("recovery.img"), *spec = NULL;
	struct pv_usb_bus *bus;
	struct pv_vpi_board *board;
	struct pv_vpi_result r;
	struct mini_host h;
	struct pv_buf placeholder = PV_BUF_INIT(TEST_BUF_MAX);

	(void)state;
	assert_int_equal(pv_vpi_bus_new(&bus), PV_OK);
	assert_int_equal(pv_vpi_bus_add_spec(bus, "cm4,reenumerate-ms=0"), PV_OK);
	board = pv_vpi_bus_board_at(bus, 0);
	mini_host_init(&h, gadget64_files, 2);
	assert_int_equal(mini_host_run(&h, bus, bootcode, sizeof(bootcode)), PV_OK);
	mini_host_release(&h);
	sleep_ms(300);
	pv_vpi_board_result(board, &r);
	assert_int_equal(r.stage, PV_VPI_STAGE_GONE);
	assert_string_equal(r.msd_program, "");
	pv_usb_bus_destroy(bus);

	assert_int_equal(pv_vpi_placeholder_recovery(&placeholder), PV_OK);
	assert_true(asprintf(&spec, "cm4,emmc=%s,emmc-size=64K,reenumerate-ms=0", medium) > 0);
	assert_int_equal(pv_vpi_bus_new(&bus), PV_OK);
	assert_int_equal(pv_vpi_bus_add_spec(bus, spec), PV_OK);
	board = pv_vpi_bus_board_at(bus, 0);
	mini_host_init(&h, NULL, 0);
	assert_int_equal(mini_host_run(&h, bus, placeholder.data, placeholder.len), PV_OK);
	mini_host_release(&h);
	sleep_ms(300);
	pv_vpi_board_result(board, &r);
	assert_int_equal(r.stage, PV_VPI_STAGE_FINISHED);
	pv_usb_bus_destroy(bus);
	pv_buf_release(&placeholder);
	free(spec);
	free(medium);
}

/* The medium: created only when emmc-size= says how big, never resized, never anything but
 * a regular file, one board at a time; count > 1 gives each board its own FILE.i. */
static void test_medium_rules(void **state)
{
	char *missing = tmp_path("missing.img"), *odd = tmp_path("odd.img"),
	     *fifo = tmp_path("fifo"), *shared = tmp_path("shared.img"), *many = tmp_path("many"),
	     *spec = NULL, *path = NULL;
	struct pv_usb_bus *bus;
	struct stat st;
	char bytes[1000] = { 0 };

	(void)state;
	assert_int_equal(pv_vpi_bus_new(&bus), PV_OK);
	/* Missing without a size: the error names the file and the way out. */
	assert_true(asprintf(&spec, "cm4,emmc=%s", missing) > 0);
	assert_int_equal(pv_vpi_bus_add_spec(bus, spec), PV_ERR_NOT_FOUND);
	assert_non_null(strstr(pv_last_error(), missing));
	assert_non_null(strstr(pv_last_error(), "emmc-size="));
	assert_false(pv_path_exists(missing));
	free(spec);
	/* Not a whole number of blocks. */
	pv_test_write_file(odd, bytes, sizeof(bytes));
	assert_true(asprintf(&spec, "cm4,emmc=%s", odd) > 0);
	assert_int_equal(pv_vpi_bus_add_spec(bus, spec), PV_ERR_INVALID);
	assert_non_null(strstr(pv_last_error(), odd));
	free(spec);
	/* An existing file of another size is never resized. */
	assert_true(asprintf(&spec, "cm4,emmc=%s,emmc-size=1M", odd) > 0);
	assert_int_equal(pv_vpi_bus_add_spec(bus, spec), PV_ERR_CONFLICT);
	assert_int_equal(stat(odd, &st), 0);
	assert_int_equal(st.st_size, sizeof(bytes));
	free(spec);
	/* A FIFO (or device) is refused without blocking. */
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_true(asprintf(&spec, "cm4,emmc=%s", fifo) > 0);
	assert_int_not_equal(pv_vpi_bus_add_spec(bus, spec), PV_OK);
	assert_non_null(strstr(pv_last_error(), "FIFO"));
	free(spec);
	/* One medium, one board. */
	assert_true(asprintf(&spec, "cm4,emmc=%s,emmc-size=64K", shared) > 0);
	assert_int_equal(pv_vpi_bus_add_spec(bus, spec), PV_OK);
	assert_int_equal(pv_vpi_bus_add_spec(bus, spec), PV_ERR_BUSY);
	free(spec);
	/* count=3: many.0 many.1 many.2, 64 KiB each. */
	assert_true(asprintf(&spec, "cm4,count=3,emmc=%s,emmc-size=64K", many) > 0);
	assert_int_equal(pv_vpi_bus_add_spec(bus, spec), PV_OK);
	for (int i = 0; i < 3; i++) {
		free(path);
		assert_true(asprintf(&path, "%s.%d", many, i) > 0);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, 64 * 1024);
	}
	pv_usb_bus_destroy(bus);
	free(spec);
	free(path);
	free(missing);
	free(odd);
	free(fifo);
	free(shared);
	free(many);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cm4_gadget64_identity),
		cmocka_unit_test(test_write_read_back_and_in_the_file),
		cmocka_unit_test(test_errors_are_sense_data),
		cmocka_unit_test(test_legacy_msd_and_cm5),
		cmocka_unit_test(test_no_gadget_without_medium_or_after_recovery),
		cmocka_unit_test(test_medium_rules),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
