/* The mass-storage gadget stage (msd.h): descriptors, Bulk-Only Transport and SCSI block
 * commands over a file.
 *
 * Behaviour follows what the gadget runs. mass-storage-gadget64 is Linux's f_mass_storage
 * function configured by usbboot's configure-gadgets script (stall=1, removable LUN,
 * inquiry_string = the block device's name), so where BOT leaves the device a choice the
 * model does what that function does: a data-in phase the device ends early is followed by a
 * halt of bulk-in; an invalid CBW halts both bulk endpoints until a Bulk-Only Mass Storage
 * Reset ("wedged": CLEAR_FEATURE alone does not release them); a (re)configuration is
 * reported to the next command as UNIT ATTENTION 06/29/00; REQUEST SENSE returns the
 * sense of the previous command and clears it. Where the host sends more data than the
 * command takes (BOT cases 9-11, 13) the model accepts and drops it instead of stalling
 * bulk-out (BOT allows both). The legacy msd/ VPU firmware is closed: it gets the same
 * command set [inferred]. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "msd.h"
#include "piprov/fileio.h"
#include "piprov/text.h"
#include "banned.h"

#define CBW_SIGNATURE 0x43425355u /* "USBC" */
#define CSW_SIGNATURE 0x53425355u /* "USBS" */
#define CSW_GOOD 0
#define CSW_FAILED 1
#define CSW_PHASE_ERROR 2
/* Endpoints [inferred: the first free ones of the dwc2 controller in the order the
 * functions are bound: mass storage first, then the ACM console]. */
#define EP_MSD_IN 0x81
#define EP_MSD_OUT 0x01
#define EP_ACM_NOTIFY 0x82
#define EP_ACM_IN 0x83
#define EP_ACM_OUT 0x02
#define IFACE_MSD 0
#define IFACE_ACM_CONTROL 1
#define REPLY_MAX 64u

/* Sense keys and codes the model reports (SPC-4 tables). */
#define SK_NO_SENSE 0x0
#define SK_MEDIUM_ERROR 0x3
#define SK_ILLEGAL_REQUEST 0x5
#define SK_UNIT_ATTENTION 0x6
#define ASC_WRITE_ERROR 0x0c            /* 03/0C/00 */
#define ASC_UNRECOVERED_READ 0x11       /* 03/11/00 */
#define ASC_INVALID_OPCODE 0x20         /* 05/20/00 */
#define ASC_LBA_OUT_OF_RANGE 0x21       /* 05/21/00 */
#define ASC_INVALID_FIELD 0x24          /* 05/24/00 */
#define ASC_LUN_NOT_SUPPORTED 0x25      /* 05/25/00 */
#define ASC_POWER_ON_RESET 0x29         /* 06/29/00 */
#define ASC_SAVING_NOT_SUPPORTED 0x39   /* 05/39/00 */

/* mass-storage-gadget64 (usbboot, buildroot branch mass-storage-gadget64,
 * /usr/local/bin/configure-gadgets): idVendor 0x0a5c, idProduct 0x0104, bcdDevice 0x0100,
 * bcdUSB 0x0200, strings "Raspberry Pi" / "Raspberry Pi multi-function USB device" / the
 * Serial line of /proc/cpuinfo, configuration "Config 1: ACM+MSD gadget" with MaxPower 250
 * (configfs takes mA: bMaxPower 125), one mass-storage function per block device with
 * stall=1, ro=0, cdrom=0 and inquiry_string = the device name ("mmcblk0" for the eMMC), plus
 * acm.usb0. Linux pads the inquiry string to 28 characters; a configfs LUN is removable. */
static const struct vpi_msd_identity gadget64 = {
	.name = "mass-storage-gadget64",
	.vendor_id = 0x0a5c, .product_id = 0x0104, .bcd_device = 0x0100,
	.manufacturer = "Raspberry Pi",
	.product = "Raspberry Pi multi-function USB device",
	.configuration = "Config 1: ACM+MSD gadget",
	.serial_string = true, .acm_console = true, .max_power = 125,
	.inquiry = "mmcblk0                     ",
	.removable = true,
};

/* The legacy msd/ firmware (start.elf / start4.elf run by the VPU): idProduct 0x0001 from a
 * host's log of it (usbboot PR #9), SCSI vendor "RPi-MSD-" product "0001" from how hosts list
 * the disk (udisks "RPi-MSD- 0001", Windows "RPi-MSD-0001 Media"). [inferred] its USB
 * strings, revision, serial and power: not in any log found. */
static const struct vpi_msd_identity legacy_msd = {
	.name = "msd",
	.vendor_id = 0x0a5c, .product_id = 0x0001, .bcd_device = 0x0100,
	.manufacturer = "Broadcom",
	.product = "RPi-MSD-0001",
	.configuration = NULL,
	.serial_string = false, .acm_console = false, .max_power = 250,
	.inquiry = "RPi-MSD-0001            1.00",
	.removable = true,
};

/* Which program becomes which gadget. The model never runs what it receives: with an
 * emmc= medium it takes the program the bootloader hands over to for the mass-storage
 * firmware of that name (docs/vpi.md). */
static const struct {
	enum pv_soc soc;
	const char *program;
	const struct vpi_msd_identity *identity;
} programs[] = {
	{ PV_SOC_BCM2711, "boot.img", &gadget64 },    /* mass-storage-gadget64, CM4 */
	{ PV_SOC_BCM2712, "boot.img", &gadget64 },    /* mass-storage-gadget64, CM5 */
	{ PV_SOC_BCM2837, "boot.img", &gadget64 },    /* mass-storage-gadget64-cm3 */
	{ PV_SOC_BCM2711, "start4.elf", &legacy_msd }, /* msd/ (rpiboot's embedded files) */
	{ PV_SOC_BCM2835, "start.elf", &legacy_msd },
	{ PV_SOC_BCM2836, "start.elf", &legacy_msd },
	{ PV_SOC_BCM2837, "start.elf", &legacy_msd },
};

const struct vpi_msd_identity *vpi_msd_identity_for(enum pv_soc soc, const char *program)
{
	if (!program)
		return NULL;
	for (size_t i = 0; i < PV_ARRAY_SIZE(programs); i++)
		if (programs[i].soc == soc && strcmp(programs[i].program, program) == 0)
			return programs[i].identity;
	return NULL;
}

enum bot_state {
	BOT_CBW,        /* waiting for a command block on bulk-out */
	BOT_DATA_IN,    /* sending the command's data on bulk-in */
	BOT_DATA_OUT,   /* receiving the command's data on bulk-out */
	BOT_CSW,        /* the status block waits on bulk-in */
};

enum data_dir { DIR_NONE, DIR_IN, DIR_OUT };

struct vpi_msd {
	int fd;
	uint64_t size, blocks;
	char serial[17];
	struct pv_buf *transcript;
	const struct vpi_msd_identity *id;
	bool configured;
	bool in_halted, out_halted;
	bool wedged;                /* invalid CBW: halts stay until a mass-storage reset */

	enum bot_state state;
	uint32_t tag;
	uint32_t host_len;          /* dCBWDataTransferLength */
	uint32_t moved;             /* bytes of the data phase so far */
	uint32_t processed;         /* of those, sent or written by the device (residue) */
	uint32_t data_len;          /* bytes the device moves in it (<= host_len) */
	uint8_t status;             /* CSW bStatus */
	bool medium_data;           /* the data phase reads/writes the medium (else reply) */
	uint64_t offset;            /* medium byte offset of the data phase */
	uint8_t reply[REPLY_MAX];
	char command[32];           /* name of the current command, for the transcript */

	uint8_t sense_key, asc;
	uint32_t sense_info;
	bool sense_info_valid;
	bool unit_attention;

	uint8_t line_coding[7];     /* ACM console: SET/GET_LINE_CODING */
	struct vpi_msd_stats stats;
};

static void note(struct vpi_msd *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct vpi_msd *m, const char *fmt, ...)
{
	va_list ap;
	size_t before;

	if (!m->transcript)
		return;
	before = m->transcript->len;
	va_start(ap, fmt);
	if (pv_buf_append_str(m->transcript, "msd ") ||
	    pv_buf_vappendf(m->transcript, fmt, ap) || pv_buf_putc(m->transcript, '\n'))
		pv_buf_truncate(m->transcript, before); /* full: whole lines only */
	va_end(ap);
}

/* --- medium ------------------------------------------------------------------------------ */

int vpi_msd_parse_size(const char *text, uint64_t *out)
{
	uint64_t value, unit = 1;
	size_t len = strlen(text);
	char digits[32];

	if (len == 0 || len >= sizeof(digits))
		return pv_fail(PV_ERR_INVALID, "vpi", "'%s' is not a size", text);
	memcpy(digits, text, len + 1);
	switch (digits[len - 1]) {
	case 'K': case 'k': unit = 1024u; break;
	case 'M': case 'm': unit = 1024u * 1024u; break;
	case 'G': case 'g': unit = 1024u * 1024u * 1024u; break;
	case 'T': case 't': unit = 1024ull * 1024u * 1024u * 1024u; break;
	default: break;
	}
	if (unit != 1)
		digits[--len] = '\0';
	if (len == 0 || digits[0] < '0' || digits[0] > '9' || pv_parse_u64(digits, 10, &value)) {
		pv_clear_error();
		return pv_fail(PV_ERR_INVALID, "vpi", "'%s' is not a size (bytes, or K, M, G, T)",
			       text);
	}
	if (value > VPI_MSD_MEDIUM_MAX / unit || value * unit < VPI_MSD_MEDIUM_MIN ||
	    value * unit > VPI_MSD_MEDIUM_MAX || (value * unit) % VPI_MSD_BLOCK)
		return pv_fail(PV_ERR_INVALID, "vpi",
			       "'%s' is not a medium size: a multiple of 512 bytes from 64K to 1T",
			       text);
	*out = value * unit;
	return PV_OK;
}

int vpi_msd_open_medium(const char *path, uint64_t size, uint64_t *size_out)
{
	struct stat st;
	int fd, rc;

	/* O_NONBLOCK: a FIFO must not hang the open; pv_file_check_input refuses it after. */
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && size) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			return pv_fail_errno(errno, "vpi", "eMMC file '%s': cannot create it", path);
		if (ftruncate(fd, (off_t)size) != 0) {
			rc = pv_fail_errno(errno, "vpi", "eMMC file '%s': cannot make it %llu bytes",
					   path, (unsigned long long)size);
			close(fd);
			unlink(path);
			return rc;
		}
	} else if (fd < 0) {
		return pv_fail_errno(errno, "vpi", "eMMC file '%s'%s", path,
				     errno == ENOENT ? " (give emmc-size= to create it)" : "");
	}
	rc = pv_file_check_input(fd, path);
	if (rc)
		goto out_close;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK
			     ? pv_fail(PV_ERR_BUSY, "vpi",
				       "eMMC file '%s' is the medium of another virtual board", path)
			     : pv_fail_errno(errno, "vpi", "eMMC file '%s': cannot lock it", path);
		goto out_close;
	}
	if (fstat(fd, &st) != 0) {
		rc = pv_fail_errno(errno, "vpi", "eMMC file '%s'", path);
		goto out_close;
	}
	if (size && (uint64_t)st.st_size != size) {
		/* Never resized: the file may hold someone's image. */
		rc = pv_fail(PV_ERR_CONFLICT, "vpi",
			     "eMMC file '%s' is %llu bytes, emmc-size= says %llu", path,
			     (unsigned long long)st.st_size, (unsigned long long)size);
		goto out_close;
	}
	if ((uint64_t)st.st_size < VPI_MSD_MEDIUM_MIN || (uint64_t)st.st_size > VPI_MSD_MEDIUM_MAX ||
	    st.st_size % VPI_MSD_BLOCK) {
		rc = pv_fail(PV_ERR_INVALID, "vpi",
			     "eMMC file '%s' is %llu bytes: a medium is a multiple of 512 bytes "
			     "from 64K to 1T", path, (unsigned long long)st.st_size);
		goto out_close;
	}
	*size_out = (uint64_t)st.st_size;
	return fd;

out_close:
	close(fd);
	return rc;
}

int vpi_msd_new(int fd, uint64_t size, const char *serial16, struct pv_buf *transcript,
		struct vpi_msd **out)
{
	struct vpi_msd *m;

	if (size < VPI_MSD_MEDIUM_MIN || size > VPI_MSD_MEDIUM_MAX || size % VPI_MSD_BLOCK) {
		close(fd);
		return pv_fail(PV_ERR_INVALID, "vpi", "medium of %llu bytes",
			       (unsigned long long)size);
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		close(fd);
		return pv_fail(PV_ERR_NOMEM, "vpi", "out of memory");
	}
	m->fd = fd;
	m->size = size;
	m->blocks = size / VPI_MSD_BLOCK;
	pv_strlcpy(m->serial, serial16 ? serial16 : "", sizeof(m->serial));
	m->transcript = transcript;
	m->id = &gadget64;
	/* 115200 8N1, what a gadget's ttyGS0 starts with. */
	m->line_coding[0] = 0x00;
	m->line_coding[1] = 0xc2;
	m->line_coding[2] = 0x01;
	m->line_coding[6] = 8;
	*out = m;
	return PV_OK;
}

void vpi_msd_free(struct vpi_msd *m)
{
	if (!m)
		return;
	close(m->fd);
	free(m);
}

static void bot_reset(struct vpi_msd *m)
{
	m->state = BOT_CBW;
	m->moved = 0;
	m->processed = 0;
	m->data_len = 0;
	m->host_len = 0;
}

void vpi_msd_attach(struct vpi_msd *m, const struct vpi_msd_identity *identity)
{
	m->id = identity ? identity : &gadget64;
	m->configured = false;
	m->in_halted = m->out_halted = m->wedged = false;
	m->unit_attention = false;
	m->sense_key = SK_NO_SENSE;
	m->asc = 0;
	m->sense_info_valid = false;
	bot_reset(m);
	note(m, "gadget %s %04x:%04x medium %llu bytes (%llu blocks)", m->id->name,
	     m->id->vendor_id, m->id->product_id, (unsigned long long)m->size,
	     (unsigned long long)m->blocks);
}

const struct vpi_msd_identity *vpi_msd_identity(const struct vpi_msd *m)
{
	return m->id;
}

void vpi_msd_stats(const struct vpi_msd *m, struct vpi_msd_stats *stats)
{
	*stats = m->stats;
}

/* --- descriptors -------------------------------------------------------------------------- */

/* String indexes as Linux's composite framework hands them out: the device strings first,
 * then the configuration's, then each function's in bind order [inferred from the gadget
 * drivers; no dump of the device was available]. */
enum {
	STR_MANUFACTURER = 1, STR_PRODUCT, STR_SERIAL, STR_CONFIG, STR_MSD_INTERFACE,
	STR_ACM_CONTROL, STR_ACM_DATA, STR_ACM_IAD,
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t get_be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

void vpi_msd_device_descriptor(const struct vpi_msd *m, uint8_t d[18])
{
	d[0] = 18;
	d[1] = 1;
	put16(d + 2, 0x0200);
	d[4] = d[5] = d[6] = 0;         /* class per interface (configfs default) */
	d[7] = 64;
	put16(d + 8, m->id->vendor_id);
	put16(d + 10, m->id->product_id);
	put16(d + 12, m->id->bcd_device);
	d[14] = STR_MANUFACTURER;
	d[15] = STR_PRODUCT;
	d[16] = m->id->serial_string ? STR_SERIAL : 0;
	d[17] = 1;
}

static size_t put_endpoint(uint8_t *p, uint8_t address, uint8_t type, uint16_t max_packet,
			   uint8_t interval)
{
	p[0] = 7;
	p[1] = 5;
	p[2] = address;
	p[3] = type;
	put16(p + 4, max_packet);
	p[6] = interval;
	return 7;
}

static size_t put_iface(uint8_t *p, uint8_t number, uint8_t endpoints, uint8_t cls,
			uint8_t sub, uint8_t proto, uint8_t string)
{
	const uint8_t d[9] = { 9, 4, number, 0, endpoints, cls, sub, proto, string };

	memcpy(p, d, sizeof(d));
	return sizeof(d);
}

uint8_t vpi_msd_interfaces(const struct vpi_msd *m)
{
	return m->id->acm_console ? 3 : 1;
}

size_t vpi_msd_config_descriptor(const struct vpi_msd *m, uint8_t c[VPI_MSD_CONFIG_MAX])
{
	size_t n = 9;

	/* f_mass_storage: interface, bulk-in, bulk-out (high speed, 512-byte packets). */
	n += put_iface(c + n, IFACE_MSD, 2, 0x08, 0x06, 0x50, STR_MSD_INTERFACE);
	n += put_endpoint(c + n, EP_MSD_IN, 2, 512, 0);
	n += put_endpoint(c + n, EP_MSD_OUT, 2, 512, 0);
	if (m->id->acm_console) {
		/* f_acm: association, control interface with the CDC functional descriptors
		 * (header 1.10, call management, ACM caps 0x02, union), notify endpoint (10
		 * bytes, 32 ms = bInterval 9 at high speed), data interface. */
		static const uint8_t acm_head[] = {
			8, 0x0b, IFACE_ACM_CONTROL, 2, 0x02, 0x02, 0x01, STR_ACM_IAD,
		};
		static const uint8_t functional[] = {
			5, 0x24, 0x00, 0x10, 0x01,
			5, 0x24, 0x01, 0x00, IFACE_ACM_CONTROL + 1,
			4, 0x24, 0x02, 0x02,
			5, 0x24, 0x06, IFACE_ACM_CONTROL, IFACE_ACM_CONTROL + 1,
		};

		memcpy(c + n, acm_head, sizeof(acm_head));
		n += sizeof(acm_head);
		n += put_iface(c + n, IFACE_ACM_CONTROL, 1, 0x02, 0x02, 0x01, STR_ACM_CONTROL);
		memcpy(c + n, functional, sizeof(functional));
		n += sizeof(functional);
		n += put_endpoint(c + n, EP_ACM_NOTIFY, 3, 10, 9);
		n += put_iface(c + n, IFACE_ACM_CONTROL + 1, 2, 0x0a, 0x00, 0x00, STR_ACM_DATA);
		n += put_endpoint(c + n, EP_ACM_IN, 2, 512, 0);
		n += put_endpoint(c + n, EP_ACM_OUT, 2, 512, 0);
	}
	c[0] = 9;
	c[1] = 2;
	put16(c + 2, (uint16_t)n);
	c[4] = vpi_msd_interfaces(m);
	c[5] = 1;
	c[6] = m->id->configuration ? STR_CONFIG : 0;
	c[7] = 0x80;                    /* bus powered */
	c[8] = m->id->max_power;
	return n;
}

const char *vpi_msd_string(const struct vpi_msd *m, uint8_t index)
{
	switch (index) {
	case STR_MANUFACTURER: return m->id->manufacturer;
	case STR_PRODUCT: return m->id->product;
	case STR_SERIAL: return m->id->serial_string ? m->serial : NULL;
	case STR_CONFIG: return m->id->configuration;
	case STR_MSD_INTERFACE: return "Mass Storage";
	case STR_ACM_CONTROL: return m->id->acm_console ? "CDC Abstract Control Model (ACM)" : NULL;
	case STR_ACM_DATA: return m->id->acm_console ? "CDC ACM Data" : NULL;
	case STR_ACM_IAD: return m->id->acm_console ? "CDC Serial" : NULL;
	default: return NULL;
	}
}

/* --- control ------------------------------------------------------------------------------ */

static bool our_endpoint(const struct vpi_msd *m, uint16_t ep)
{
	if (ep == EP_MSD_IN || ep == EP_MSD_OUT)
		return true;
	return m->id->acm_console && (ep == EP_ACM_NOTIFY || ep == EP_ACM_IN || ep == EP_ACM_OUT);
}

static int control_stall(const char *what)
{
	return pv_fail(PV_ERR_PIPE, "vpi", "mass-storage gadget: stall: %s", what);
}

int vpi_msd_control(struct vpi_msd *m, const uint8_t setup[8], void *data, size_t size,
		    size_t *actual, bool *handled)
{
	uint8_t type = setup[0], request = setup[1];
	uint16_t value = (uint16_t)(setup[2] | setup[3] << 8);
	uint16_t index = (uint16_t)(setup[4] | setup[5] << 8);
	uint16_t length = (uint16_t)(setup[6] | setup[7] << 8);
	size_t n;

	*actual = 0;
	*handled = true;
	switch (type << 8 | request) {
	case 0x0009: /* SET_CONFIGURATION: a new configuration resets the function */
		if (value > 1)
			break; /* the board's handler stalls it */
		m->configured = value == 1;
		m->in_halted = m->out_halted = m->wedged = false;
		bot_reset(m);
		if (m->configured) {
			m->unit_attention = true;
			note(m, "configured");
		}
		break;
	case 0x0201: /* CLEAR_FEATURE(ENDPOINT_HALT) */
		if (value != 0 || !our_endpoint(m, index))
			return control_stall("CLEAR_FEATURE on an unknown endpoint");
		if (m->wedged && (index == EP_MSD_IN || index == EP_MSD_OUT))
			return PV_OK; /* acknowledged, still halted (BOT 6.6.1) */
		if (index == EP_MSD_IN)
			m->in_halted = false;
		if (index == EP_MSD_OUT)
			m->out_halted = false;
		return PV_OK;
	case 0x8200: /* GET_STATUS(endpoint): the halt bit */
		if (!our_endpoint(m, index) || length < 2 || size < 2)
			return control_stall("GET_STATUS on an unknown endpoint");
		((uint8_t *)data)[0] = (uint8_t)((index == EP_MSD_IN && m->in_halted) ||
						 (index == EP_MSD_OUT && m->out_halted));
		((uint8_t *)data)[1] = 0;
		*actual = 2;
		return PV_OK;
	case 0xa1fe: /* GET MAX LUN */
		if (index != IFACE_MSD || value != 0 || length != 1 || size < 1)
			return control_stall("bad GET MAX LUN");
		((uint8_t *)data)[0] = 0;
		*actual = 1;
		return PV_OK;
	case 0x21ff: /* Bulk-Only Mass Storage Reset: halts stay until cleared (BOT 3.1) */
		if (index != IFACE_MSD || value != 0 || length != 0)
			return control_stall("bad mass-storage reset");
		m->wedged = false;
		bot_reset(m);
		note(m, "mass-storage reset");
		return PV_OK;
	case 0x2120: /* ACM SET_LINE_CODING */
		if (!m->id->acm_console || index != IFACE_ACM_CONTROL || length != 7 || !data ||
		    size < sizeof(m->line_coding))
			return control_stall("bad SET_LINE_CODING");
		memcpy(m->line_coding, data, sizeof(m->line_coding));
		return PV_OK;
	case 0xa121: /* ACM GET_LINE_CODING */
		if (!m->id->acm_console || index != IFACE_ACM_CONTROL || !data)
			return control_stall("bad GET_LINE_CODING");
		n = sizeof(m->line_coding);
		if (n > length)
			n = length;
		if (n > size)
			n = size;
		memcpy(data, m->line_coding, n);
		*actual = n;
		return PV_OK;
	case 0x2122: /* ACM SET_CONTROL_LINE_STATE */
	case 0x2123: /* ACM SEND_BREAK */
		if (!m->id->acm_console || index != IFACE_ACM_CONTROL || length != 0)
			return control_stall("bad ACM request");
		return PV_OK;
	default:
		if ((type & 0x60) != 0x00)
			return control_stall("unknown class or vendor request");
		break;
	}
	*handled = false;
	return PV_OK;
}

/* --- SCSI ---------------------------------------------------------------------------------- */

static void set_sense(struct vpi_msd *m, uint8_t key, uint8_t asc)
{
	m->sense_key = key;
	m->asc = asc;
	m->sense_info_valid = false;
}

static void set_sense_lba(struct vpi_msd *m, uint8_t key, uint8_t asc, uint64_t lba)
{
	set_sense(m, key, asc);
	m->sense_info = lba > UINT32_MAX ? UINT32_MAX : (uint32_t)lba;
	m->sense_info_valid = true;
}

/* What a command moves, decoded from its CDB before anything runs: the phase check (BOT
 * 6.7) compares it with what the host announced. */
struct plan {
	enum data_dir dir;
	uint64_t len;           /* bytes the device means to move */
	uint64_t lba, count;    /* block commands */
};

struct scsi_command {
	uint8_t opcode;
	const char *name;
	uint8_t cdb_len;
	enum data_dir dir;
	/* Fills plan->len (and lba/count) from the CDB. */
	void (*decode)(const uint8_t *cdb, struct plan *plan);
	/* Runs it: PV_OK or a failure with the sense set. Data-in replies go to m->reply and
	 * set m->data_len (<= plan len); medium commands set up m->offset. */
	int (*run)(struct vpi_msd *m, const uint8_t *cdb, struct plan *plan);
};

static void len_none(const uint8_t *cdb, struct plan *p) { (void)cdb; p->len = 0; }
static void len_byte4(const uint8_t *cdb, struct plan *p) { p->len = cdb[4]; }
static void len_be16_3(const uint8_t *cdb, struct plan *p) { p->len = get_be16(cdb + 3); }
static void len_be16_7(const uint8_t *cdb, struct plan *p) { p->len = get_be16(cdb + 7); }
static void len_8(const uint8_t *cdb, struct plan *p) { (void)cdb; p->len = 8; }
static void len_be32_10(const uint8_t *cdb, struct plan *p) { p->len = get_be32(cdb + 10); }

static void rw6(const uint8_t *cdb, struct plan *p)
{
	p->lba = (uint64_t)(cdb[1] & 0x1f) << 16 | get_be16(cdb + 2);
	p->count = cdb[4] ? cdb[4] : 256; /* SBC: 0 means 256 blocks in the 6-byte form */
	p->len = p->count * VPI_MSD_BLOCK;
}

static void rw10(const uint8_t *cdb, struct plan *p)
{
	p->lba = get_be32(cdb + 2);
	p->count = get_be16(cdb + 7);
	p->len = p->count * VPI_MSD_BLOCK;
}

static void rw12(const uint8_t *cdb, struct plan *p)
{
	p->lba = get_be32(cdb + 2);
	p->count = get_be32(cdb + 6);
	p->len = p->count * VPI_MSD_BLOCK;
}

static void rw16(const uint8_t *cdb, struct plan *p)
{
	p->lba = get_be64(cdb + 2);
	p->count = get_be32(cdb + 10);
	p->len = p->count * VPI_MSD_BLOCK;
}

static void verify10(const uint8_t *cdb, struct plan *p)
{
	p->lba = get_be32(cdb + 2);
	p->count = get_be16(cdb + 7);
	p->len = 0;
}

static void sync10(const uint8_t *cdb, struct plan *p)
{
	verify10(cdb, p);
}

static void sync16(const uint8_t *cdb, struct plan *p)
{
	p->lba = get_be64(cdb + 2);
	p->count = get_be32(cdb + 10);
	p->len = 0;
}

static void reply(struct vpi_msd *m, const struct plan *p, size_t len)
{
	m->data_len = (uint32_t)(len < p->len ? len : p->len);
}

static int run_test_unit_ready(struct vpi_msd *m, const uint8_t *cdb, struct plan *p)
{
	(void)m;
	(void)cdb;
	(void)p;
	return PV_OK;
}

static int run_request_sense(struct vpi_msd *m, const uint8_t *cdb, struct plan *p)
{
	(void)cdb;
	memset(m->reply, 0, 18);
	m->reply[0] = (uint8_t)(0x70 | (m->sense_info_valid ? 0x80 : 0)); /* current, fixed */
	m->reply[2] = m->sense_key;
	put_be32(m->reply + 3, m->sense_info_valid ? m->sense_info : 0);
	m->reply[7] = 10;               /* additional sense length */
	m->reply[12] = m->asc;
	m->reply[13] = 0;               /* every ASCQ the model reports is 0 */
	reply(m, p, 18);
	set_sense(m, SK_NO_SENSE, 0);   /* reported: cleared */
	return PV_OK;
}

static int run_inquiry(struct vpi_msd *m, const uint8_t *cdb, struct plan *p)
{
	if (cdb[1] & 0x01) {            /* EVPD: no vital product data pages (f_mass_storage) */
		set_sense(m, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
		return PV_ERR_INVALID;
	}
	memset(m->reply, 0, 36);
	m->reply[0] = 0x00;             /* direct-access block device */
	m->reply[1] = m->id->removable ? 0x80 : 0;
	m->reply[2] = 2;                /* SCSI-2 */
	m->reply[3] = 2;                /* response data format */
	m->reply[4] = 36 - 5;
	memcpy(m->reply + 8, m->id->inquiry, 28);
	reply(m, p, 36);
	return PV_OK;
}

static int run_read_capacity10(struct vpi_msd *m, const uint8_t *cdb, struct plan *p)
{
	if (!(cdb[8] & 1) && get_be32(cdb + 2)) { /* an LBA without PMI */
		set_sense(m, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
		return PV_ERR_INVALID;
	}
	put_be32(m->reply, (uint32_t)(m->blocks - 1));
	put_be32(m->reply + 4, VPI_MSD_BLOCK);
	reply(m, p, 8);
	return PV_OK;
}

static int run_service_action_in(struct vpi_msd *m, const uint8_t *cdb, struct plan *p)
{
	if ((cdb[1] & 0x1f) != 0x10) {  /* only READ CAPACITY(16) */
		set_sense(m, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
		return PV_ERR_INVALID;
	}
	memset(m->reply, 0, 32);
	put_be64(m->reply, m->blocks - 1);
	put_be32(m->reply + 8, VPI_MSD_BLOCK);
	reply(m, p, 32);
	return PV_OK;
}

static int run_read_format_capacities(struct vpi_msd *m, const uint8_t *cdb, struct plan *p)
{
	(void)cdb;
	memset(m->reply, 0, 12);
	m->reply[3] = 8;                /* capacity list length */
	put_be32(m->reply + 4, m->blocks > UINT32_MAX ? UINT32_MAX : (uint32_t)m->blocks);
	m->reply[8] = 0x02;             /* formatted media */
	m->reply[9] = 0;
	put_be16(m->reply + 10, VPI_MSD_BLOCK);
	reply(m, p, 12);
	return PV_OK;
}

/* MODE SENSE: no block descriptors, the caching page (write cache on, as the gadget says)
 * for page 0x08 and 0x3f; saved values are not supported, other pages are refused. */
static int mode_sense(struct vpi_msd *m, const uint8_t *cdb, struct plan *p, size_t header)
{
	uint8_t control = cdb[2] >> 6, page = cdb[2] & 0x3f;
	uint8_t *out = m->reply;
	size_t len = header;

	if (control == 3) {
		set_sense(m, SK_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED);
		return PV_ERR_INVALID;
	}
	if (page != 0x08 && page != 0x3f) {
		set_sense(m, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
		return PV_ERR_INVALID;
	}
	memset(out, 0, header + 12);
	out[len] = 0x08;
	out[len + 1] = 10;
	if (control != 1) {             /* current/default values; "changeable" are all 0 */
		out[len + 2] = 0x04;    /* WCE */
		put_be16(out + len + 4, 0xffff);
		put_be16(out + len + 8, 0xffff);
		put_be16(out + len + 10, 0xffff);
	}
	len += 12;
	if (header == 4) {
		out[0] = (uint8_t)(len - 1);
	} else {
		put_be16(out, (uint16_t)(len - 2));
	}
	/* medium type 0, device-specific 0 (not write-protected), no block descriptor */
	reply(m, p, len);
	return PV_OK;
}

static int run_mode_sense6(struct vpi_msd *m, const uint8_t *cdb, struct plan *p)
{
	return mode_sense(m, cdb, p, 4);
}

static int run_mode_sense10(struct vpi_msd *m, const uint8_t *cdb, struct plan *p)
{
	return mode_sense(m, cdb, p, 8);
}

static int run_prevent_allow(struct vpi_msd *m, const uint8_t *cdb, struct plan *p)
{
	(void)p;
	if (!m->id->removable && (cdb[4] & 1)) {
		set_sense(m, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
		return PV_ERR_INVALID;
	}
	return PV_OK;
}

static int run_start_stop(struct vpi_msd *m, const uint8_t *cdb, struct plan *p)
{
	/* Accepted; an eject does not unload the medium in this model. */
	(void)m;
	(void)cdb;
	(void)p;
	return PV_OK;
}

static int check_range(struct vpi_msd *m, const struct plan *p)
{
	if (p->lba > m->blocks || p->count > m->blocks - p->lba) {
		set_sense_lba(m, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, p->lba);
		return PV_ERR_INVALID;
	}
	return PV_OK;
}

static int run_read(struct vpi_msd *m, const uint8_t *cdb, struct plan *p)
{
	(void)cdb;
	if (check_range(m, p))
		return PV_ERR_INVALID;
	m->medium_data = true;
	m->offset = p->lba * VPI_MSD_BLOCK;
	m->data_len = (uint32_t)p->len; /* the phase check bounded it by the host's length */
	return PV_OK;
}

static int run_write(struct vpi_msd *m, const uint8_t *cdb, struct plan *p)
{
	return run_read(m, cdb, p);
}

static int run_verify(struct vpi_msd *m, const uint8_t *cdb, struct plan *p)
{
	if (cdb[1] & 0x02) {            /* BYTCHK: compare with data from the host: refused */
		set_sense(m, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
		return PV_ERR_INVALID;
	}
	return check_range(m, p);
}

static int run_sync(struct vpi_msd *m, const uint8_t *cdb, struct plan *p)
{
	(void)cdb;
	if (p->count && check_range(m, p))
		return PV_ERR_INVALID;
	m->stats.syncs++;
	if (fdatasync(m->fd) != 0) {
		set_sense(m, SK_MEDIUM_ERROR, ASC_WRITE_ERROR);
		return PV_ERR_IO;
	}
	return PV_OK;
}

static const struct scsi_command commands[] = {
	{ 0x00, "TEST UNIT READY", 6, DIR_NONE, len_none, run_test_unit_ready },
	{ 0x03, "REQUEST SENSE", 6, DIR_IN, len_byte4, run_request_sense },
	{ 0x08, "READ(6)", 6, DIR_IN, rw6, run_read },
	{ 0x0a, "WRITE(6)", 6, DIR_OUT, rw6, run_write },
	{ 0x12, "INQUIRY", 6, DIR_IN, len_be16_3, run_inquiry },
	{ 0x1a, "MODE SENSE(6)", 6, DIR_IN, len_byte4, run_mode_sense6 },
	{ 0x1b, "START STOP UNIT", 6, DIR_NONE, len_none, run_start_stop },
	{ 0x1e, "PREVENT ALLOW MEDIUM REMOVAL", 6, DIR_NONE, len_none, run_prevent_allow },
	{ 0x23, "READ FORMAT CAPACITIES", 10, DIR_IN, len_be16_7, run_read_format_capacities },
	{ 0x25, "READ CAPACITY(10)", 10, DIR_IN, len_8, run_read_capacity10 },
	{ 0x28, "READ(10)", 10, DIR_IN, rw10, run_read },
	{ 0x2a, "WRITE(10)", 10, DIR_OUT, rw10, run_write },
	{ 0x2f, "VERIFY(10)", 10, DIR_NONE, verify10, run_verify },
	{ 0x35, "SYNCHRONIZE CACHE(10)", 10, DIR_NONE, sync10, run_sync },
	{ 0x5a, "MODE SENSE(10)", 10, DIR_IN, len_be16_7, run_mode_sense10 },
	{ 0x88, "READ(16)", 16, DIR_IN, rw16, run_read },
	{ 0x8a, "WRITE(16)", 16, DIR_OUT, rw16, run_write },
	{ 0x91, "SYNCHRONIZE CACHE(16)", 16, DIR_NONE, sync16, run_sync },
	{ 0x9e, "SERVICE ACTION IN(16)", 16, DIR_IN, len_be32_10, run_service_action_in },
	{ 0xa8, "READ(12)", 12, DIR_IN, rw12, run_read },
	{ 0xaa, "WRITE(12)", 12, DIR_OUT, rw12, run_write },
};

static const struct scsi_command *find_command(uint8_t opcode)
{
	for (size_t i = 0; i < PV_ARRAY_SIZE(commands); i++)
		if (commands[i].opcode == opcode)
			return &commands[i];
	return NULL;
}

/* --- Bulk-Only Transport --------------------------------------------------------------------- */

static void halt_both(struct vpi_msd *m)
{
	m->in_halted = m->out_halted = true;
}

/* After the command ran (or was refused): the data phase the host gets, by the thirteen
 * cases of BOT 6.7. host_dir/host_len: what the CBW announced. */
static void start_data_phase(struct vpi_msd *m, enum data_dir host_dir, enum data_dir dev_dir,
			     bool phase_error)
{
	if (phase_error)
		m->status = CSW_PHASE_ERROR;
	m->moved = 0;
	m->processed = 0;
	if (host_dir == DIR_NONE) {         /* cases 1-3 */
		m->state = BOT_CSW;
		return;
	}
	if (host_dir == DIR_OUT) {          /* cases 9-13: take (and maybe drop) Ho bytes */
		if (phase_error || dev_dir != DIR_OUT || m->status != CSW_GOOD)
			m->data_len = 0;    /* nothing goes to the medium */
		m->state = BOT_DATA_OUT;
		return;
	}
	if (phase_error && dev_dir != DIR_IN)
		m->data_len = 0;            /* case 8: no data, bulk-in halts */
	if (m->status != CSW_GOOD && !phase_error)
		m->data_len = 0;
	m->state = BOT_DATA_IN;
	if (m->data_len == 0) {             /* case 4 (and failed commands): halt at once */
		m->in_halted = true;
		m->state = BOT_CSW;
	}
}

static void run_cbw(struct vpi_msd *m, const uint8_t *cbw)
{
	uint8_t flags = cbw[12], lun = cbw[13] & 0x0f, cdb_len = cbw[14] & 0x1f;
	const uint8_t *cdb = cbw + 15;
	const struct scsi_command *cmd = find_command(cdb[0]);
	enum data_dir host_dir;
	struct plan plan = { .dir = DIR_NONE };
	bool phase_error = false;
	int rc;

	m->tag = get_le32(cbw + 4);
	m->host_len = get_le32(cbw + 8);
	host_dir = m->host_len == 0 ? DIR_NONE : (flags & 0x80) ? DIR_IN : DIR_OUT;
	m->status = CSW_GOOD;
	m->medium_data = false;
	m->data_len = 0;
	m->stats.commands++;
	if (cmd)
		snprintf(m->command, sizeof(m->command), "%s", cmd->name);
	else
		snprintf(m->command, sizeof(m->command), "opcode 0x%02x", cdb[0]);

	if (!cmd || (lun != 0 && cdb[0] != 0x03)) {
		/* Unknown command, or a LUN the device does not have: no data, CHECK CONDITION. */
		set_sense(m, SK_ILLEGAL_REQUEST, cmd ? ASC_LUN_NOT_SUPPORTED : ASC_INVALID_OPCODE);
		m->status = CSW_FAILED;
		start_data_phase(m, host_dir, DIR_NONE, false);
		goto out_note;
	}
	cmd->decode(cdb, &plan);
	plan.dir = plan.len ? cmd->dir : DIR_NONE;
	if (cdb_len < cmd->cdb_len) {
		phase_error = true;         /* a CDB shorter than the command (f_mass_storage) */
	} else if (plan.dir != DIR_NONE && (host_dir != plan.dir || m->host_len < plan.len)) {
		phase_error = true;         /* cases 2, 3, 7, 8, 10, 13 */
	}
	if (phase_error) {
		m->stats.phase_errors++;
		/* Case 7 (Hi < Di): the host still gets what it asked for, for a reply. */
		if (host_dir == DIR_IN && plan.dir == DIR_IN && cmd->dir == DIR_IN &&
		    cmd->run != run_read && cmd->cdb_len <= cdb_len) {
			plan.len = m->host_len;
			if (cmd->run(m, cdb, &plan))
				m->data_len = 0;
		}
		start_data_phase(m, host_dir, plan.dir, true);
		goto out_note;
	}
	/* Sense of the previous command is kept only for REQUEST SENSE; a pending unit
	 * attention fails any command but INQUIRY and REQUEST SENSE (and is then reported). */
	if (cdb[0] != 0x03)
		set_sense(m, SK_NO_SENSE, 0);
	if (m->unit_attention && cdb[0] != 0x03 && cdb[0] != 0x12) {
		m->unit_attention = false;
		set_sense(m, SK_UNIT_ATTENTION, ASC_POWER_ON_RESET);
		m->status = CSW_FAILED;
		start_data_phase(m, host_dir, plan.dir, false);
		goto out_note;
	}
	rc = cmd->run(m, cdb, &plan);
	if (rc)
		m->status = CSW_FAILED;
	start_data_phase(m, host_dir, plan.dir, false);

out_note:
	if (m->status != CSW_GOOD)
		m->stats.failed_commands++;
	if (cmd && (cmd->run == run_read || cmd->run == run_write || cmd->run == run_verify))
		note(m, "%s lba=%llu blocks=%llu -> %s", m->command, (unsigned long long)plan.lba,
		     (unsigned long long)plan.count,
		     m->status == CSW_PHASE_ERROR ? "phase error"
		     : m->status == CSW_FAILED ? "check condition" : "ok");
	else
		note(m, "%s -> %s", m->command,
		     m->status == CSW_PHASE_ERROR ? "phase error"
		     : m->status == CSW_FAILED ? "check condition" : "ok");
	if (m->status == CSW_FAILED)
		note(m, "sense %x/%02x/00", m->sense_key, m->asc);
}

/* A CBW is valid when it is 31 bytes with the signature, and meaningful when its LUN and
 * CB length are possible (BOT 6.2). Anything else halts both endpoints until a reset. */
static bool cbw_valid(const uint8_t *data, size_t len)
{
	uint8_t cdb_len;

	if (len != VPI_MSD_CBW_LEN || get_le32(data) != CBW_SIGNATURE)
		return false;
	cdb_len = data[14];
	return cdb_len >= 1 && cdb_len <= 16 && !(data[13] & 0xf0) && !(data[12] & 0x7f);
}

static int bulk_stall(const char *what)
{
	return pv_fail(PV_ERR_PIPE, "vpi", "mass-storage gadget: stall: %s", what);
}

static int bulk_nak(void)
{
	return pv_fail(PV_ERR_TIMEOUT, "vpi", "mass-storage gadget: NAK");
}

static void data_out_done(struct vpi_msd *m)
{
	if (m->moved >= m->host_len)
		m->state = BOT_CSW;
}

int vpi_msd_bulk_out(struct vpi_msd *m, uint8_t ep, const uint8_t *data, size_t len,
		     size_t *actual)
{
	*actual = 0;
	if (!m->configured)
		return bulk_stall("not configured");
	if (m->id->acm_console && ep == EP_ACM_OUT) {
		*actual = len;              /* the console: typed text is dropped */
		return PV_OK;
	}
	if (ep != EP_MSD_OUT)
		return bulk_stall("bulk OUT on an unknown endpoint");
	if (m->out_halted)
		return bulk_stall("bulk-out is halted");
	switch (m->state) {
	case BOT_CBW:
		*actual = len;
		if (!cbw_valid(data, len)) {
			halt_both(m);
			m->wedged = true;
			note(m, "invalid CBW (%zu bytes): both endpoints halted until reset", len);
			return PV_OK;
		}
		run_cbw(m, data);
		return PV_OK;
	case BOT_DATA_OUT: {
		uint32_t room = m->host_len - m->moved, take = len < room ? (uint32_t)len : room;
		uint32_t to_medium = 0;

		if (m->moved < m->data_len)
			to_medium = m->data_len - m->moved < take ? m->data_len - m->moved : take;
		if (to_medium && m->medium_data && m->status == CSW_GOOD) {
			ssize_t n = pwrite(m->fd, data, to_medium, (off_t)(m->offset + m->moved));

			if (n != (ssize_t)to_medium) {
				/* Host's disk full or failing: the board reports a write error
				 * at the first block not written, and drops the rest. */
				uint64_t done = m->moved + (n > 0 ? (uint64_t)n : 0);

				set_sense_lba(m, SK_MEDIUM_ERROR, ASC_WRITE_ERROR,
					      (m->offset + done) / VPI_MSD_BLOCK);
				m->status = CSW_FAILED;
				m->stats.failed_commands++;
				note(m, "%s: write error at byte %llu: %s", m->command,
				     (unsigned long long)(m->offset + done),
				     n < 0 ? strerror(errno) : "short write");
				if (n > 0)
					m->stats.bytes_written += (uint64_t)n;
			} else {
				m->stats.bytes_written += to_medium;
				m->processed += to_medium;
			}
		}
		m->moved += take;
		*actual = take;
		data_out_done(m);
		return PV_OK;
	}
	default:
		return bulk_nak();          /* sending: the host has to read first */
	}
}

static void put_csw(struct vpi_msd *m, uint8_t *out)
{
	/* What the device did not process of what the host announced: unsent data, data it
	 * dropped (BOT cases 4, 5, 9, 11). */
	uint32_t residue = m->host_len - (m->processed < m->host_len ? m->processed : m->host_len);

	/* A phase error leaves the residue undefined (BOT 6.7); 0 as f_mass_storage. */
	if (m->status == CSW_PHASE_ERROR)
		residue = 0;
	put16(out, (uint16_t)CSW_SIGNATURE);
	put16(out + 2, (uint16_t)(CSW_SIGNATURE >> 16));
	out[4] = (uint8_t)m->tag;
	out[5] = (uint8_t)(m->tag >> 8);
	out[6] = (uint8_t)(m->tag >> 16);
	out[7] = (uint8_t)(m->tag >> 24);
	out[8] = (uint8_t)residue;
	out[9] = (uint8_t)(residue >> 8);
	out[10] = (uint8_t)(residue >> 16);
	out[11] = (uint8_t)(residue >> 24);
	out[12] = m->status;
}

int vpi_msd_bulk_in(struct vpi_msd *m, uint8_t ep, uint8_t *data, size_t size, size_t *actual)
{
	*actual = 0;
	if (!m->configured)
		return bulk_stall("not configured");
	if (m->id->acm_console && (ep == EP_ACM_IN || ep == EP_ACM_NOTIFY))
		return bulk_nak();          /* the console never prints in this model */
	if (ep != EP_MSD_IN)
		return bulk_stall("bulk IN on an unknown endpoint");
	if (m->in_halted)
		return bulk_stall("bulk-in is halted");
	if (m->state == BOT_DATA_IN) {
		uint32_t left = m->data_len - m->moved;
		size_t take = size < left ? size : left;

		if (m->medium_data && take) {
			ssize_t n = pread(m->fd, data, take, (off_t)(m->offset + m->moved));

			if (n != (ssize_t)take) {
				/* The file shrank or failed under the board: a medium error at
				 * the first block not read; the data phase ends here. */
				size_t got = n > 0 ? (size_t)n : 0;

				set_sense_lba(m, SK_MEDIUM_ERROR, ASC_UNRECOVERED_READ,
					      (m->offset + m->moved + got) / VPI_MSD_BLOCK);
				note(m, "%s: read error at byte %llu: %s", m->command,
				     (unsigned long long)(m->offset + m->moved + got),
				     n < 0 ? strerror(errno) : "end of file");
				m->status = CSW_FAILED;
				m->stats.failed_commands++;
				take = got;
				m->data_len = m->moved + (uint32_t)got;
			}
			m->stats.bytes_read += take;
		} else if (take) {
			memcpy(data, m->reply + m->moved, take);
		}
		m->moved += (uint32_t)take;
		m->processed += (uint32_t)take;
		*actual = take;
		if (m->moved >= m->data_len) {
			m->state = BOT_CSW;
			/* The device ends early: a short packet, then bulk-in halts (stall=1). */
			if (m->moved < m->host_len)
				m->in_halted = true;
		}
		return PV_OK;
	}
	if (m->state == BOT_CSW) {
		if (size < VPI_MSD_CSW_LEN)
			return pv_fail(PV_ERR_OVERFLOW, "vpi",
				       "mass-storage gadget: %zu-byte read of the 13-byte CSW", size);
		put_csw(m, data);
		*actual = VPI_MSD_CSW_LEN;
		bot_reset(m);
		return PV_OK;
	}
	return bulk_nak();                  /* waiting for a CBW or for write data */
}
