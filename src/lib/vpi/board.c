/* The wire-level device model: descriptors per stage, attach/detach with a generation
 * counter, the standard and vendor control requests, bulk OUT, and the boot ROM stage
 * (boot message, second-stage upload, return code, re-enumeration). The second-stage
 * firmware behind the file-server requests is in firmware.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "internal.h"
#include "piprov/fileio.h"
#include "piprov/text.h"
#include "vpi_internal.h"
#include "banned.h"

#define REQ_GET_STATUS 0
#define REQ_CLEAR_FEATURE 1
#define REQ_SET_ADDRESS 5
#define REQ_GET_DESCRIPTOR 6
#define REQ_GET_CONFIGURATION 8
#define REQ_SET_CONFIGURATION 9
#define REQ_GET_INTERFACE 10
#define REQ_SET_INTERFACE 11
#define DESC_DEVICE 1
#define DESC_CONFIG 2
#define DESC_STRING 3
#define BOOT_MESSAGE_LEN 24
/* Re-enumeration of a second stage that leaves USB (Done + reboot, or booted on). */
#define LEAVE_AFTER_DONE_MS 100
/* A power cycle leaves the board without power this long: about what a hub's port switch
 * takes (uhubctl waits 1 s by default; the model need not). */
#define POWER_OFF_MS 200
/* Files the firmware keeps (config.txt, .sig, the image): well above a 2 MiB EEPROM. A finite
 * limit also keeps pv_buf growing geometrically. */
#define VPI_FILE_BUF_MAX (8u * 1024u * 1024u)

uint64_t vpi_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t vpi_now_ms(void)
{
	return vpi_now_us() / 1000u;
}

void vpi_note(struct pv_vpi_board *b, const char *fmt, ...)
{
	va_list ap;
	size_t before = b->transcript.len;

	va_start(ap, fmt);
	if (pv_buf_vappendf(&b->transcript, fmt, ap) || pv_buf_putc(&b->transcript, '\n'))
		pv_buf_truncate(&b->transcript, before); /* full: keep whole lines only */
	va_end(ap);
}

static void notify_bus(struct pv_vpi_board *b)
{
	pthread_cond_broadcast(&b->cond);
	if (b->notify)
		b->notify(b->notify_user);
}

static uint8_t current_serial_index(const struct pv_vpi_board *b)
{
	uint8_t d[PV_VPI_DEVICE_DESC_LEN];

	if (b->stage == PV_VPI_STAGE_MSD) {
		vpi_msd_device_descriptor(b->msd, d);
		return d[16];
	}
	return b->stage == PV_VPI_STAGE_ROM ? b->opts.soc->rom_serial_index
					    : b->opts.soc->second_stage_serial_index;
}

static uint8_t current_interfaces(const struct pv_vpi_board *b)
{
	if (b->stage == PV_VPI_STAGE_MSD)
		return vpi_msd_interfaces(b->msd);
	return b->stage == PV_VPI_STAGE_ROM ? b->profile->rom_interfaces : 1;
}

/* The vendor interface's bulk OUT endpoint, as rpiboot picks it. */
static uint8_t boot_endpoint(const struct pv_vpi_board *b)
{
	return current_interfaces(b) == 2 ? 0x03 : 0x01;
}

static const char *stage_name(enum pv_vpi_stage stage)
{
	switch (stage) {
	case PV_VPI_STAGE_ROM: return "rom";
	case PV_VPI_STAGE_SECOND: return "second";
	case PV_VPI_STAGE_FINISHED: return "finished";
	case PV_VPI_STAGE_MSD: return "msd";
	default: return "gone";
	}
}

/* The gadget a board leaving USB comes back as: with an emmc= medium, after its bootloader
 * ran a mass-storage program (msd.c), NULL otherwise. */
static const struct vpi_msd_identity *msd_gadget(const struct pv_vpi_board *b)
{
	if (!b->msd || b->unplugged || b->script || b->program_recovery || !b->boot_started ||
	    b->stage != PV_VPI_STAGE_FINISHED)
		return NULL;
	return vpi_msd_identity_for(b->opts.soc->soc, b->boot_ran);
}

/* A board just powered on: its boot ROM waits for the boot message, and whatever ran
 * before (second stage, its requests, the boot it started) is gone. The EEPROM, the medium,
 * the serial and the MACs are not touched: they are flash and OTP, not RAM. */
static void reset_to_rom(struct pv_vpi_board *b)
{
	b->detach_at_ms = 0;
	b->stage = PV_VPI_STAGE_ROM;
	b->rom = VPI_ROM_WAIT_MESSAGE_LEN;
	b->boot_message_got = 0;
	b->code_len = 0;
	pv_buf_reset(&b->code);
	b->retcode = 0;
	b->program_recovery = false;
	b->fw = VPI_FW_NEXT;    /* vpi_fw_start sets up the next second stage */
	b->busy_until_ms = 0;
	b->data_remaining = 0;
	b->boot_started = false;
	b->boot_ran = NULL;
}

void vpi_detach(struct pv_vpi_board *b, bool reattach, uint64_t now)
{
	const struct vpi_msd_identity *gadget;

	if (!b->attached)
		return;
	b->attached = false;
	b->generation++;
	b->detach_at_ms = 0;
	b->configuration = 0;
	if (reattach && !b->unplugged) {
		b->stage = PV_VPI_STAGE_SECOND;
		b->reattach_at_ms = now + b->opts.reenumerate_ms;
		vpi_note(b, "detach (re-enumerating)");
	} else if (!reattach && (gadget = msd_gadget(b)) != NULL) {
		b->stage = PV_VPI_STAGE_MSD;
		b->reattach_at_ms = now + b->opts.reenumerate_ms;
		vpi_note(b, "detach (%s: the %s gadget starts)", b->boot_ran, gadget->name);
	} else {
		b->stage = PV_VPI_STAGE_GONE;
		b->reattach_at_ms = 0;
		vpi_note(b, "detach");
	}
	notify_bus(b);
}

static void attach(struct pv_vpi_board *b)
{
	b->attached = true;
	b->plugged_in = true;
	b->generation++;
	b->address = (uint8_t)(b->address % 127 + 1);
	b->reattach_at_ms = 0;
	if (b->stage == PV_VPI_STAGE_MSD) {
		/* msd_gadget() found one for what the bootloader ran */
		const struct vpi_msd_identity *gadget = vpi_msd_identity_for(b->opts.soc->soc,
									     b->boot_ran);

		vpi_msd_attach(b->msd, gadget);
		pv_strlcpy(b->result.msd_program, b->boot_ran, sizeof(b->result.msd_program));
		pv_strlcpy(b->result.msd_gadget, gadget->name, sizeof(b->result.msd_gadget));
	}
	vpi_note(b, "attach stage=%s serial-index=%u port=%s", stage_name(b->stage),
		 current_serial_index(b), b->opts.port_path);
	if (b->stage == PV_VPI_STAGE_SECOND)
		vpi_fw_start(b);
	notify_bus(b);
}

/* arrive-when=PATH: a cheap look (access, no open) every VPI_ARRIVE_CHECK_MS until the path
 * exists; then the board is plugged in at once or arrive_after_ms later. */
static void check_arrive_when(struct pv_vpi_board *b, uint64_t now)
{
	if (now < b->arrive_check_at_ms)
		return;
	b->arrive_check_at_ms = now + VPI_ARRIVE_CHECK_MS;
	if (access(b->arrive_when, F_OK) != 0)
		return;
	vpi_note(b, "arrive-when: %s is there", b->arrive_when);
	free(b->arrive_when);
	b->arrive_when = NULL;
	if (b->opts.arrive_after_ms)
		b->reattach_at_ms = now + b->opts.arrive_after_ms;
	else
		attach(b);
}

/* Time-driven changes: plugging in (arrive-when, arrive-after), re-attach after
 * re-enumeration, ROM running its upload, leaving. */
static void advance(struct pv_vpi_board *b, uint64_t now)
{
	if (b->unplugged)
		return;
	if (b->arrive_when)
		check_arrive_when(b, now);
	if (!b->attached && b->reattach_at_ms && now >= b->reattach_at_ms)
		attach(b);
	if (b->attached && b->detach_at_ms && now >= b->detach_at_ms)
		vpi_detach(b, b->stage == PV_VPI_STAGE_ROM, now);
}

static uint64_t next_event(const struct pv_vpi_board *b)
{
	uint64_t next = UINT64_MAX;

	if (b->unplugged)
		return next;
	if (b->arrive_when)
		next = b->arrive_check_at_ms;
	if (!b->attached && b->reattach_at_ms)
		next = b->reattach_at_ms;
	if (b->attached && b->detach_at_ms && b->detach_at_ms < next)
		next = b->detach_at_ms;
	if (b->attached && b->fw == VPI_FW_BUSY && b->busy_until_ms < next)
		next = b->busy_until_ms;
	return next;
}

/* emmc=FILE (or FILE.<index> for a spec of several boards): the gadget's medium. */
static int open_medium(struct pv_vpi_board *b, const struct pv_vpi_options *opts)
{
	char *numbered = NULL;
	const char *path = opts->emmc_path;
	uint64_t size;
	int fd, rc;

	if (opts->emmc_numbered) {
		if (asprintf(&numbered, "%s.%u", opts->emmc_path, opts->emmc_index) < 0)
			return pv_fail(PV_ERR_NOMEM, "vpi", "out of memory");
		path = numbered;
	}
	fd = vpi_msd_open_medium(path, opts->emmc_size, &size);
	free(numbered);
	if (fd < 0)
		return fd;
	rc = vpi_msd_new(fd, size, b->serial16, &b->transcript, &b->msd);
	if (!rc)
		b->result.msd_size = size;
	return rc;
}

int pv_vpi_board_new(const struct pv_vpi_options *opts, struct pv_vpi_board **board)
{
	struct pv_vpi_board *b;
	pthread_condattr_t attr;
	int rc = PV_ERR_NOMEM;

	if (!opts->board || !opts->soc || !vpi_profile_for(opts->soc->soc))
		return pv_fail(PV_ERR_INVALID, "vpi", "virtual board without a known model");
	if (opts->script_len && !opts->script)
		return pv_fail(PV_ERR_INVALID, "vpi", "script length without a script");
	b = calloc(1, sizeof(*b));
	if (!b)
		return pv_fail(PV_ERR_NOMEM, "vpi", "out of memory");
	b->opts = *opts;
	b->opts.dump_dir = NULL;
	b->opts.script = NULL;
	b->opts.extra_metadata = NULL;
	b->opts.arrive_when = NULL;
	b->profile = vpi_profile_for(opts->soc->soc);
	pv_serial_format(opts->serial, 16, b->serial16);
	pv_serial8_format(opts->serial, b->serial8);
	b->fault_random = vpi_mix64(opts->serial ^ ((uint64_t)opts->fault << 56));
	pv_buf_init(&b->code, PV_VPI_SECOND_STAGE_MAX + 1);
	pv_buf_init(&b->transcript, PV_VPI_TRANSCRIPT_MAX);
	for (size_t i = 0; i < VPI_SLOT_COUNT; i++)
		pv_buf_init(&b->files[i], VPI_FILE_BUF_MAX);

	if (opts->dump_dir && !(b->dump_dir = strdup(opts->dump_dir)))
		goto out_free_board;
	if (opts->extra_metadata && !(b->extra_metadata = strdup(opts->extra_metadata)))
		goto out_free_board;
	if (opts->arrive_when && !(b->arrive_when = strdup(opts->arrive_when)))
		goto out_free_board;
	if (opts->script_len) {
		b->script = calloc(opts->script_len, sizeof(*b->script));
		b->script_answers = calloc(opts->script_len, sizeof(*b->script_answers));
		if (!b->script || !b->script_answers)
			goto out_free_board;
		memcpy(b->script, opts->script, opts->script_len * sizeof(*b->script));
		b->opts.script = b->script;
	}
	b->eeprom_size = opts->soc->eeprom_size;
	if (b->eeprom_size) {
		b->eeprom_borrowed = opts->eeprom_storage != NULL;
		b->eeprom = b->eeprom_borrowed ? opts->eeprom_storage : malloc(b->eeprom_size);
		if (!b->eeprom)
			goto out_free_board;
		memset(b->eeprom, 0xff, b->eeprom_size);
	}
	if (opts->emmc_path) {
		rc = open_medium(b, opts);
		if (rc)
			goto out_free_board;
		rc = PV_ERR_NOMEM;
	}
	b->opts.emmc_path = NULL;
	b->data_hash = EVP_MD_CTX_new();
	if (!b->data_hash)
		goto out_free_board;
	if (pthread_mutex_init(&b->lock, NULL))
		goto out_free_hash;
	if (pthread_condattr_init(&attr))
		goto out_destroy_lock;
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	rc = pthread_cond_init(&b->cond, &attr) ? PV_ERR_NOMEM : PV_OK;
	pthread_condattr_destroy(&attr);
	if (rc)
		goto out_destroy_lock;

	reset_to_rom(b);
	b->result.fault = opts->fault;
	b->fault = opts->fault;
	b->port_given = b->opts.port_path[0] != '\0';
	if (!b->port_given)
		pv_strlcpy(b->opts.port_path, "1-1", sizeof(b->opts.port_path));
	if (b->arrive_when)
		b->arrive_check_at_ms = 0; /* advance() looks for the path, then plugs it */
	else if (opts->arrive_after_ms)
		b->reattach_at_ms = vpi_now_ms() + opts->arrive_after_ms; /* advance() plugs it */
	else
		attach(b);
	*board = b;
	return PV_OK;

out_destroy_lock:
	pthread_mutex_destroy(&b->lock);
out_free_hash:
	EVP_MD_CTX_free(b->data_hash);
out_free_board:
	vpi_msd_free(b->msd);
	if (!b->eeprom_borrowed)
		free(b->eeprom);
	free(b->script);
	free(b->script_answers);
	free(b->dump_dir);
	free(b->extra_metadata);
	free(b->arrive_when);
	free(b);
	return rc == PV_ERR_NOMEM ? pv_fail(rc, "vpi", "out of memory") : rc;
}

void pv_vpi_board_free(struct pv_vpi_board *b)
{
	if (!b)
		return;
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
	EVP_MD_CTX_free(b->data_hash);
	pv_buf_release(&b->code);
	pv_buf_release(&b->transcript);
	for (size_t i = 0; i < VPI_SLOT_COUNT; i++)
		pv_buf_release(&b->files[i]);
	vpi_msd_free(b->msd);
	if (!b->eeprom_borrowed)
		free(b->eeprom);
	free(b->script);
	free(b->script_answers);
	free(b->dump_dir);
	free(b->extra_metadata);
	free(b->arrive_when);
	free(b);
}

const struct pv_vpi_options *pv_vpi_board_options(const struct pv_vpi_board *b)
{
	return &b->opts;
}

const char *pv_vpi_board_serial(const struct pv_vpi_board *b)
{
	return b->serial16;
}

void vpi_board_set_notify(struct pv_vpi_board *b, void (*fn)(void *), void *user)
{
	pthread_mutex_lock(&b->lock);
	b->notify = fn;
	b->notify_user = user;
	pthread_mutex_unlock(&b->lock);
}

void pv_vpi_board_poll(struct pv_vpi_board *b, bool *attached, uint32_t *generation,
		       uint32_t *next_event_ms)
{
	pthread_mutex_lock(&b->lock);
	vpi_board_poll_locked(b, attached, generation, next_event_ms);
	pthread_mutex_unlock(&b->lock);
}

void vpi_board_poll_locked(struct pv_vpi_board *b, bool *attached, uint32_t *generation,
			   uint32_t *next_event_ms)
{
	uint64_t now = vpi_now_ms(), next;

	advance(b, now);
	if (attached)
		*attached = b->attached;
	if (generation)
		*generation = b->generation;
	next = next_event(b);
	if (next_event_ms)
		*next_event_ms = next == UINT64_MAX ? UINT32_MAX
			       : next <= now	     ? 0
			       : next - now > UINT32_MAX - 1 ? UINT32_MAX - 1
						     : (uint32_t)(next - now);
}

/* --- descriptors ---------------------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void device_descriptor(const struct pv_vpi_board *b, uint8_t d[PV_VPI_DEVICE_DESC_LEN])
{
	uint8_t serial_index = current_serial_index(b);

	if (b->stage == PV_VPI_STAGE_MSD) {
		vpi_msd_device_descriptor(b->msd, d);
		return;
	}
	d[0] = PV_VPI_DEVICE_DESC_LEN;
	d[1] = DESC_DEVICE;
	put16(d + 2, 0x0200);           /* USB 2.0 */
	d[4] = 0;                        /* class per interface */
	d[5] = 0;
	d[6] = 0;
	d[7] = 64;                       /* EP0 max packet (high speed) */
	put16(d + 8, b->opts.soc->usb_vendor_id);
	put16(d + 10, b->opts.soc->usb_product_id);
	put16(d + 12, 0x0000);
	/* The string indexes are the stage code rpiboot reads: when the serial index is 1
	 * the manufacturer string moves out of its way. */
	d[14] = serial_index == 1 ? 3 : 1;
	d[15] = 2;
	d[16] = serial_index;
	d[17] = 1;
}

static size_t put_interface(uint8_t *p, uint8_t number, uint8_t cls, uint8_t sub, uint8_t proto,
			    uint8_t ep_out, uint8_t ep_in)
{
	const uint8_t iface[9] = { 9, 4, number, 0, 2, cls, sub, proto, 0 };

	memcpy(p, iface, 9);
	p += 9;
	for (int i = 0; i < 2; i++) {
		uint8_t ep = i == 0 ? ep_out : ep_in;
		p[0] = 7;
		p[1] = 5;
		p[2] = ep;
		p[3] = 2;               /* bulk */
		put16(p + 4, 512);
		p[6] = 0;
		p += 7;
	}
	return 9 + 14;
}

_Static_assert(VPI_MSD_CONFIG_MAX <= PV_VPI_CONFIG_DESC_MAX,
	       "the gadget's descriptors fit the board's buffers");

static size_t config_descriptor(const struct pv_vpi_board *b, uint8_t *c)
{
	uint8_t interfaces = current_interfaces(b);
	size_t len = 9;

	if (b->stage == PV_VPI_STAGE_MSD)
		return vpi_msd_config_descriptor(b->msd, c);
	if (interfaces == 2) {
		/* BCM2837 ROM: mass storage (bulk-only SCSI) first, then the vendor interface. */
		len += put_interface(c + len, 0, 0x08, 0x06, 0x50, 0x01, 0x82);
		len += put_interface(c + len, 1, 0xff, 0x00, 0x00, 0x03, 0x84);
	} else {
		len += put_interface(c + len, 0, 0xff, 0x00, 0x00, 0x01, 0x82);
	}
	c[0] = 9;
	c[1] = DESC_CONFIG;
	put16(c + 2, (uint16_t)len);
	c[4] = interfaces;
	c[5] = 1;                       /* bConfigurationValue */
	c[6] = 0;
	c[7] = 0x80;                    /* bus powered */
	c[8] = 250;                     /* 500 mA */
	return len;
}

/* The text of string `index` in the current stage, NULL when there is none. */
static const char *string_text(const struct pv_vpi_board *b, uint8_t index)
{
	uint8_t serial_index = current_serial_index(b);

	if (index == 0)
		return NULL;
	if (b->stage == PV_VPI_STAGE_MSD)
		return vpi_msd_string(b->msd, index);
	if (index == serial_index)
		return (b->stage != PV_VPI_STAGE_ROM || b->profile->rom_has_serial_string)
			       ? b->serial8
			       : NULL;
	if (index == 2)
		return b->profile->product_string;
	if (index == (serial_index == 1 ? 3 : 1))
		return "Broadcom";
	return NULL;
}

static int string_descriptor(const struct pv_vpi_board *b, uint8_t index, uint8_t *out,
			     size_t size, size_t *len)
{
	const char *text;
	size_t n;

	if (index == 0) {
		static const uint8_t langids[4] = { 4, DESC_STRING, 0x09, 0x04 };
		if (size < sizeof(langids))
			return PV_ERR_NO_SPACE;
		memcpy(out, langids, sizeof(langids));
		*len = sizeof(langids);
		return PV_OK;
	}
	text = string_text(b, index);
	if (!text)
		return PV_ERR_NOT_FOUND;
	n = strlen(text);
	if (2 + 2 * n > PV_VPI_STRING_DESC_MAX || 2 + 2 * n > size)
		return PV_ERR_NO_SPACE;
	out[0] = (uint8_t)(2 + 2 * n);
	out[1] = DESC_STRING;
	for (size_t i = 0; i < n; i++) {
		out[2 + 2 * i] = (uint8_t)text[i];
		out[3 + 2 * i] = 0;
	}
	*len = 2 + 2 * n;
	return PV_OK;
}

static int check_present(struct pv_vpi_board *b, uint32_t generation)
{
	if (!b->attached || (generation && generation != b->generation))
		return pv_fail(PV_ERR_NO_DEVICE, "vpi", "virtual board '%s' at '%s' is gone",
			       b->serial16, b->opts.port_path);
	return PV_OK;
}

int pv_vpi_board_info(struct pv_vpi_board *b, struct pv_usb_device_info *info)
{
	int rc;

	pthread_mutex_lock(&b->lock);
	rc = vpi_board_info_locked(b, info);
	pthread_mutex_unlock(&b->lock);
	return rc;
}

bool vpi_board_lock_within(struct pv_vpi_board *b, unsigned ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return pthread_mutex_timedlock(&b->lock, &ts) == 0;
}

int vpi_board_info_locked(struct pv_vpi_board *b, struct pv_usb_device_info *info)
{
	int rc;

	advance(b, vpi_now_ms());
	rc = check_present(b, 0);
	if (!rc) {
		const char *serial = string_text(b, current_serial_index(b));
		memset(info, 0, sizeof(*info));
		info->vendor_id = b->opts.soc->usb_vendor_id;
		info->product_id = b->opts.soc->usb_product_id;
		if (b->stage == PV_VPI_STAGE_MSD) {
			info->vendor_id = vpi_msd_identity(b->msd)->vendor_id;
			info->product_id = vpi_msd_identity(b->msd)->product_id;
		}
		info->bcd_device = 0;
		info->serial_index = current_serial_index(b);
		info->num_interfaces = current_interfaces(b);
		info->bus_number = PV_VPI_BUS_NUMBER;
		info->device_address = b->address;
		pv_strlcpy(info->port_path, b->opts.port_path, sizeof(info->port_path));
		pv_strlcpy(info->serial, serial ? serial : "", sizeof(info->serial));
		info->backend = "virtual";
	}
	return rc;
}

int pv_vpi_board_device_descriptor(struct pv_vpi_board *b, uint8_t out[PV_VPI_DEVICE_DESC_LEN])
{
	int rc;

	pthread_mutex_lock(&b->lock);
	advance(b, vpi_now_ms());
	rc = check_present(b, 0);
	if (!rc)
		device_descriptor(b, out);
	pthread_mutex_unlock(&b->lock);
	return rc;
}

int pv_vpi_board_config_descriptor(struct pv_vpi_board *b, uint8_t *out, size_t size, size_t *len)
{
	uint8_t c[PV_VPI_CONFIG_DESC_MAX];
	size_t n;
	int rc;

	pthread_mutex_lock(&b->lock);
	advance(b, vpi_now_ms());
	rc = check_present(b, 0);
	if (!rc) {
		n = config_descriptor(b, c);
		if (n > size) {
			rc = PV_ERR_NO_SPACE;
		} else {
			memcpy(out, c, n);
			*len = n;
		}
	}
	pthread_mutex_unlock(&b->lock);
	return rc;
}

int pv_vpi_board_string_descriptor(struct pv_vpi_board *b, uint8_t index, uint8_t *out,
				   size_t size, size_t *len)
{
	int rc;

	pthread_mutex_lock(&b->lock);
	advance(b, vpi_now_ms());
	rc = check_present(b, 0);
	if (!rc)
		rc = string_descriptor(b, index, out, size, len);
	pthread_mutex_unlock(&b->lock);
	return rc;
}

/* --- control transfers ----------------------------------------------------------------- */

static void wait_until(struct pv_vpi_board *b, uint64_t until_ms)
{
	struct timespec ts = { .tv_sec = (time_t)(until_ms / 1000),
			       .tv_nsec = (long)(until_ms % 1000) * 1000000L };

	pthread_cond_timedwait(&b->cond, &b->lock, &ts);
}

static int copy_in(const void *src, size_t len, void *data, size_t size, uint16_t w_length,
		   size_t *actual)
{
	size_t n = len;

	if (n > w_length)
		n = w_length;
	if (n > size)
		n = size;
	if (n)
		memcpy(data, src, n);
	*actual = n;
	return PV_OK;
}

static int standard_request(struct pv_vpi_board *b, const uint8_t *setup, void *data, size_t size,
			    size_t *actual)
{
	uint8_t type = setup[0], request = setup[1];
	uint16_t w_value = (uint16_t)(setup[2] | setup[3] << 8);
	uint16_t w_index = (uint16_t)(setup[4] | setup[5] << 8);
	uint16_t w_length = (uint16_t)(setup[6] | setup[7] << 8);
	uint8_t buf[PV_VPI_STRING_DESC_MAX];
	size_t len = 0;
	int rc;

	*actual = 0;
	switch (request) {
	case REQ_GET_DESCRIPTOR:
		if (!(type & 0x80))
			break;
		switch (w_value >> 8) {
		case DESC_DEVICE:
			device_descriptor(b, buf);
			return copy_in(buf, PV_VPI_DEVICE_DESC_LEN, data, size, w_length, actual);
		case DESC_CONFIG:
			if ((w_value & 0xff) != 0)
				break;
			len = config_descriptor(b, buf);
			return copy_in(buf, len, data, size, w_length, actual);
		case DESC_STRING:
			rc = string_descriptor(b, (uint8_t)w_value, buf, sizeof(buf), &len);
			if (rc)
				break;
			return copy_in(buf, len, data, size, w_length, actual);
		default:
			break; /* device qualifier, BOS...: a USB 2.0-only device stalls */
		}
		break;
	case REQ_SET_ADDRESS:
		if (type == 0x00 && w_value && w_value < 128) {
			b->address = (uint8_t)w_value;
			return PV_OK;
		}
		break;
	case REQ_SET_CONFIGURATION:
		if (type == 0x00 && w_value <= 1) {
			b->configuration = (uint8_t)w_value;
			return PV_OK;
		}
		break;
	case REQ_GET_CONFIGURATION:
		if (type == 0x80) {
			buf[0] = b->configuration;
			return copy_in(buf, 1, data, size, w_length, actual);
		}
		break;
	case REQ_SET_INTERFACE:
		if (type == 0x01 && w_index < current_interfaces(b) && w_value == 0)
			return PV_OK;
		break;
	case REQ_GET_INTERFACE:
		if (type == 0x81 && w_index < current_interfaces(b)) {
			buf[0] = 0;
			return copy_in(buf, 1, data, size, w_length, actual);
		}
		break;
	case REQ_GET_STATUS:
		if ((type & 0x80) && (type & 0x1f) <= 2) {
			buf[0] = 0;
			buf[1] = 0;
			return copy_in(buf, 2, data, size, w_length, actual);
		}
		break;
	case REQ_CLEAR_FEATURE:
		if (type == 0x02 || type == 0x00 || type == 0x01)
			return PV_OK; /* endpoint halt: nothing latches in this model */
		break;
	default:
		break;
	}
	return pv_fail(PV_ERR_PIPE, "vpi", "'%s': stall on standard request %02x %02x %04x %04x",
		       b->serial16, type, request, w_value, w_index);
}

static int stall(struct pv_vpi_board *b, const char *what)
{
	return pv_fail(PV_ERR_PIPE, "vpi", "'%s': stall: %s", b->serial16, what);
}

static int rom_length(struct pv_vpi_board *b, uint32_t length)
{
	if (b->rom == VPI_ROM_WAIT_CODE_LEN && length == b->code_len) {
		b->rom = VPI_ROM_WAIT_CODE;
		pv_buf_reset(&b->code);
		return PV_OK;
	}
	if (length == BOOT_MESSAGE_LEN && b->rom != VPI_ROM_UPLOADED) {
		/* A (re)start of the upload: the ROM listens for a boot message again. */
		b->rom = VPI_ROM_WAIT_MESSAGE;
		b->boot_message_got = 0;
		return PV_OK;
	}
	return stall(b, "the boot ROM did not expect this length");
}

static int vendor_out(struct pv_vpi_board *b, uint32_t length, uint64_t now)
{
	switch (b->stage) {
	case PV_VPI_STAGE_ROM:
		return rom_length(b, length);
	case PV_VPI_STAGE_SECOND:
		return vpi_fw_answer(b, length, now);
	case PV_VPI_STAGE_FINISHED:
		if (length == 0)
			return PV_OK; /* the host acknowledging Done */
		return stall(b, "the firmware has finished");
	default:
		return pv_fail(PV_ERR_NO_DEVICE, "vpi", "'%s' is gone", b->serial16);
	}
}

static int vendor_in(struct pv_vpi_board *b, uint32_t generation, uint16_t w_length, void *data,
		     size_t size, size_t *actual, unsigned timeout_ms)
{
	uint64_t now = vpi_now_ms(), deadline = now + timeout_ms;
	int rc;

	for (;;) {
		uint64_t wake = deadline;

		advance(b, now);
		rc = check_present(b, generation);
		if (rc)
			return rc;
		if (b->stage == PV_VPI_STAGE_ROM) {
			uint8_t code[4];
			if (b->rom != VPI_ROM_UPLOADED && b->rom != VPI_ROM_REJECTED)
				return stall(b, "the boot ROM has no return code yet");
			code[0] = (uint8_t)b->retcode;
			code[1] = (uint8_t)(b->retcode >> 8);
			code[2] = (uint8_t)(b->retcode >> 16);
			code[3] = (uint8_t)(b->retcode >> 24);
			copy_in(code, sizeof(code), data, size, w_length, actual);
			vpi_note(b, "rom return-code %u", b->retcode);
			if (b->rom == VPI_ROM_UPLOADED)
				vpi_detach(b, true, now);
			else
				b->rom = VPI_ROM_WAIT_MESSAGE_LEN;
			return PV_OK;
		}
		if (b->stage == PV_VPI_STAGE_SECOND) {
			if (b->fw == VPI_FW_AWAIT_ANSWER || b->fw == VPI_FW_AWAIT_DATA)
				vpi_fw_unanswered(b);
			if (vpi_fw_prepare(b, now)) {
				copy_in(b->message, b->message_len, data, size, w_length, actual);
				if (b->message_command == PV_VPI_DONE) {
					vpi_note(b, "request Done \"%s\"", b->message_name);
					b->fw = VPI_FW_FINISHED;
					b->stage = PV_VPI_STAGE_FINISHED;
					if (b->reboot_after ||
					    (!b->program_recovery && b->boot_started))
						b->detach_at_ms = now + LEAVE_AFTER_DONE_MS;
				} else {
					b->fw = VPI_FW_AWAIT_ANSWER;
				}
				return PV_OK;
			}
			if (b->fw == VPI_FW_BUSY && b->busy_until_ms < wake)
				wake = b->busy_until_ms;
		}
		if (b->detach_at_ms && b->detach_at_ms < wake)
			wake = b->detach_at_ms;
		if (now >= deadline)
			return pv_fail(PV_ERR_TIMEOUT, "vpi", "'%s': no request within %u ms",
				       b->serial16, timeout_ms);
		wait_until(b, wake);
		now = vpi_now_ms();
	}
}

int pv_vpi_board_control(struct pv_vpi_board *b, uint32_t generation,
			 const uint8_t setup[PV_VPI_SETUP_LEN], void *data, size_t size,
			 size_t *actual, unsigned timeout_ms)
{
	uint8_t type = setup[0], request = setup[1];
	uint16_t w_value = (uint16_t)(setup[2] | setup[3] << 8);
	uint16_t w_index = (uint16_t)(setup[4] | setup[5] << 8);
	uint16_t w_length = (uint16_t)(setup[6] | setup[7] << 8);
	size_t dummy;
	int rc;

	if (!actual)
		actual = &dummy;
	*actual = 0;
	if ((type & 0x80) && w_length && !data)
		return pv_fail(PV_ERR_INVALID, "vpi", "control IN without a buffer");
	pthread_mutex_lock(&b->lock);
	advance(b, vpi_now_ms());
	rc = check_present(b, generation);
	if (rc)
		goto out_unlock;
	if (b->stage == PV_VPI_STAGE_MSD) {
		bool handled;

		rc = vpi_msd_control(b->msd, setup, data, size, actual, &handled);
		pthread_cond_broadcast(&b->cond); /* a reset or cleared halt may unblock bulk */
		if (handled)
			goto out_unlock;
	}
	if ((type & 0x60) == 0x00) {
		rc = standard_request(b, setup, data, size, actual);
	} else if (type == 0x40 && request == 0 && w_length == 0) {
		rc = vendor_out(b, (uint32_t)w_value | (uint32_t)w_index << 16, vpi_now_ms());
	} else if (type == 0xc0 && request == 0) {
		rc = vendor_in(b, generation, w_length, data, size, actual, timeout_ms);
	} else {
		rc = stall(b, "unknown control request");
	}
out_unlock:
	pthread_mutex_unlock(&b->lock);
	return rc;
}

/* --- bulk ------------------------------------------------------------------------------- */

/* What the uploaded program is (issue 14: by identity, not by a string in it, since
 * upstream's mass-storage bootcode4.bin names pieeprom.sig as well): the recovery program
 * when it is the placeholder or a published recovery.bin release (profile.c), unless the
 * spec forces a role. Writes a description for the transcript and the result. */
static bool identify_program(struct pv_vpi_board *b, const char *sha_hex, char *what,
			     size_t size)
{
	struct pv_buf placeholder = PV_BUF_INIT(64 * 1024);
	const struct vpi_recovery_release *release;
	bool recovery = false;

	if (!b->profile->recovery_capable) {
		snprintf(what, size, "bootloader");
		return false;
	}
	switch (b->opts.second_stage) {
	case PV_VPI_SECOND_STAGE_RECOVERY:
		snprintf(what, size, "recovery (second-stage=recovery)");
		return true;
	case PV_VPI_SECOND_STAGE_BOOTLOADER:
		snprintf(what, size, "bootloader (second-stage=bootloader)");
		return false;
	default:
		break;
	}
	release = vpi_recovery_release_find(b->opts.soc->soc, sha_hex);
	if (release) {
		snprintf(what, size, "recovery (recovery.bin %s %s)", b->opts.soc->chip,
			 release->channel);
		return true;
	}
	if (pv_vpi_placeholder_recovery(&placeholder) == PV_OK && placeholder.len == b->code.len &&
	    memcmp(placeholder.data, b->code.data, b->code.len) == 0)
		recovery = true;
	pv_buf_release(&placeholder);
	snprintf(what, size, recovery ? "recovery (placeholder)" : "bootloader");
	return recovery;
}

static void rom_upload_done(struct pv_vpi_board *b, uint64_t now)
{
	char hex[65];
	unsigned int md_len = 0;

	EVP_Digest(b->code.data, b->code.len, b->result.second_stage_sha256, &md_len, EVP_sha256(),
		   NULL);
	pv_hex_encode(b->result.second_stage_sha256, 32, hex);
	b->result.second_stage_received = true;
	b->result.second_stage_size = b->code.len;
	b->program_recovery = identify_program(b, hex, b->result.program,
					       sizeof(b->result.program));
	b->result.recovery = b->program_recovery;
	b->rom = VPI_ROM_UPLOADED;
	b->retcode = 0;
	vpi_note(b, "rom second-stage %zu bytes sha256=%s program=%s", b->code.len, hex,
		 b->result.program);
	/* The ROM stays until the host has read the return code (then it detaches at once,
	 * vendor_in), or at most rom_exec_ms: a host that never reads it still sees the
	 * board re-enumerate. */
	b->detach_at_ms = now + b->opts.rom_exec_ms;
	if (b->fault == PV_VPI_FAULT_RETCODE_LOST)
		vpi_detach(b, true, now);
}

static int rom_bulk(struct pv_vpi_board *b, const uint8_t *data, size_t len, size_t *actual,
		    uint64_t now)
{
	size_t take;

	if (b->rom == VPI_ROM_WAIT_MESSAGE) {
		take = BOOT_MESSAGE_LEN - b->boot_message_got;
		if (take > len)
			take = len;
		memcpy(b->boot_message + b->boot_message_got, data, take);
		b->boot_message_got += take;
		*actual = take;
		if (b->boot_message_got == BOOT_MESSAGE_LEN) {
			uint32_t length = (uint32_t)b->boot_message[0] |
					  (uint32_t)b->boot_message[1] << 8 |
					  (uint32_t)b->boot_message[2] << 16 |
					  (uint32_t)b->boot_message[3] << 24;
			vpi_note(b, "rom boot-message length=%u", length);
			if (length == 0 || length > PV_VPI_SECOND_STAGE_MAX) {
				b->rom = VPI_ROM_REJECTED;
				b->retcode = 1;
			} else {
				b->code_len = length;
				b->rom = VPI_ROM_WAIT_CODE_LEN;
			}
		}
		return PV_OK;
	}
	if (b->rom == VPI_ROM_WAIT_CODE) {
		take = b->code_len - b->code.len;
		if (take > len)
			take = len;
		if (b->fault == PV_VPI_FAULT_UNPLUG_UPLOAD &&
		    b->code.len + take >= b->code_len / 2) {
			take = b->code_len / 2 > b->code.len ? b->code_len / 2 - b->code.len : 0;
			pv_buf_append(&b->code, data, take);
			*actual = take;
			b->result.bytes_received += take;
			vpi_note(b, "fault unplug during the second-stage upload");
			b->unplugged = true;
			vpi_detach(b, false, now);
			return pv_fail(PV_ERR_NO_DEVICE, "vpi", "'%s' was unplugged", b->serial16);
		}
		if (pv_buf_append(&b->code, data, take))
			return stall(b, "second stage too big");
		*actual = take;
		if (b->code.len == b->code_len)
			rom_upload_done(b, now);
		return PV_OK;
	}
	return stall(b, "the boot ROM did not announce a bulk transfer");
}

/* The gadget NAKs a bulk OUT while it has data or a status to send: wait (lock released)
 * until a bulk IN on another thread has taken it, or the deadline. */
static int msd_bulk_out(struct pv_vpi_board *b, uint32_t generation, uint8_t ep,
			const uint8_t *data, size_t len, size_t *actual, uint64_t deadline_ms)
{
	for (;;) {
		int rc = vpi_msd_bulk_out(b->msd, ep, data, len, actual);

		if (rc != PV_ERR_TIMEOUT) {
			pthread_cond_broadcast(&b->cond); /* a bulk IN may have something now */
			return rc;
		}
		if (vpi_now_ms() >= deadline_ms)
			return rc;
		wait_until(b, deadline_ms);
		rc = check_present(b, generation);
		if (rc)
			return rc;
	}
}

int pv_vpi_board_bulk_out(struct pv_vpi_board *b, uint32_t generation, uint8_t ep,
			  const void *data, size_t len, size_t *actual, unsigned timeout_ms)
{
	uint64_t now_us = vpi_now_us(), deadline_us = now_us + (uint64_t)timeout_ms * 1000u;
	size_t allowed = len, dummy;
	bool partial = false;
	int rc;

	if (!actual)
		actual = &dummy;
	*actual = 0;
	pthread_mutex_lock(&b->lock);
	advance(b, now_us / 1000u);
	rc = check_present(b, generation);
	if (rc)
		goto out_unlock;
	if (b->stage != PV_VPI_STAGE_MSD && ep != boot_endpoint(b)) {
		rc = stall(b, "bulk OUT on an endpoint the boot protocol does not use");
		goto out_unlock;
	}
	if (b->opts.usb_mbps && timeout_ms && len) {
		/* Bits / (Mbit/s) = microseconds on the wire. */
		uint64_t start = b->link_free_at_us > now_us ? b->link_free_at_us : now_us;
		uint64_t end = start + (uint64_t)len * 8u / b->opts.usb_mbps;
		if (end > deadline_us) {
			partial = true;
			allowed = start >= deadline_us ? 0
				: (size_t)((deadline_us - start) * b->opts.usb_mbps / 8u);
			end = start + (uint64_t)allowed * 8u / b->opts.usb_mbps;
		}
		b->link_free_at_us = end;
		while (vpi_now_us() < end) {
			wait_until(b, (end + 999u) / 1000u);
			if (check_present(b, generation)) {
				rc = PV_ERR_NO_DEVICE;
				goto out_unlock;
			}
		}
	}
	if (b->stage == PV_VPI_STAGE_MSD) {
		rc = msd_bulk_out(b, generation, ep, data, allowed, actual, deadline_us / 1000u);
	} else if (b->stage == PV_VPI_STAGE_ROM) {
		rc = rom_bulk(b, data, allowed, actual, vpi_now_ms());
	} else if (b->stage == PV_VPI_STAGE_SECOND && b->fw == VPI_FW_AWAIT_DATA) {
		vpi_fw_receive(b, data, allowed, actual, vpi_now_ms());
		rc = check_present(b, generation);
	} else {
		rc = stall(b, "the firmware did not announce a bulk transfer");
	}
	b->result.bytes_received += *actual;
	if (!rc && partial)
		rc = pv_fail(PV_ERR_TIMEOUT, "vpi", "'%s': bulk OUT capped at %u Mbit/s timed out",
			     b->serial16, b->opts.usb_mbps);
out_unlock:
	pthread_mutex_unlock(&b->lock);
	return rc;
}

int pv_vpi_board_bulk_in(struct pv_vpi_board *b, uint32_t generation, uint8_t ep, void *data,
			 size_t size, size_t *actual, unsigned timeout_ms)
{
	uint64_t deadline = vpi_now_ms() + timeout_ms;
	int rc;

	if (actual)
		*actual = 0;
	pthread_mutex_lock(&b->lock);
	for (;;) {
		uint64_t now = vpi_now_ms();
		advance(b, now);
		rc = check_present(b, generation);
		if (rc)
			break;
		if (b->stage == PV_VPI_STAGE_MSD) {
			rc = vpi_msd_bulk_in(b->msd, ep, data, size, actual ? actual : &(size_t){ 0 });
			if (rc != PV_ERR_TIMEOUT) {
				pthread_cond_broadcast(&b->cond); /* bulk OUT may go on now */
				break;
			}
			if (now >= deadline)
				break;
			wait_until(b, deadline);
			continue;
		}
		if (ep != (current_interfaces(b) == 2 ? 0x84 : 0x82) && ep != 0x82) {
			rc = stall(b, "bulk IN on an unknown endpoint");
			break;
		}
		if (now >= deadline) {
			rc = pv_fail(PV_ERR_TIMEOUT, "vpi", "'%s': bulk IN is never used",
				     b->serial16);
			break;
		}
		wait_until(b, deadline);
	}
	pthread_mutex_unlock(&b->lock);
	return rc;
}

void pv_vpi_board_unplug(struct pv_vpi_board *b)
{
	pthread_mutex_lock(&b->lock);
	if (!b->unplugged) {
		b->unplugged = true;
		if (b->attached)
			vpi_detach(b, false, vpi_now_ms());
		b->stage = PV_VPI_STAGE_GONE;
		b->reattach_at_ms = 0;
		notify_bus(b);
	}
	pthread_mutex_unlock(&b->lock);
}

int pv_vpi_board_power_cycle(struct pv_vpi_board *b)
{
	uint64_t now;

	pthread_mutex_lock(&b->lock);
	now = vpi_now_ms();
	advance(b, now);
	if (b->unplugged || !b->plugged_in) {
		pthread_mutex_unlock(&b->lock);
		return pv_fail(PV_ERR_NO_DEVICE, "vpi", "no virtual board plugged in at '%s'",
			       b->opts.port_path);
	}
	if (b->attached) {
		b->attached = false;
		b->generation++;    /* transports opened before get NO_DEVICE */
		b->configuration = 0;
	}
	reset_to_rom(b);
	b->fault = PV_VPI_FAULT_NONE;
	b->reattach_at_ms = now + POWER_OFF_MS;
	vpi_note(b, "power cycle: off for %u ms, then its boot ROM", (unsigned)POWER_OFF_MS);
	notify_bus(b);
	pthread_mutex_unlock(&b->lock);
	return PV_OK;
}

/* --- results ---------------------------------------------------------------------------- */

void pv_vpi_board_result(struct pv_vpi_board *b, struct pv_vpi_result *result)
{
	pthread_mutex_lock(&b->lock);
	advance(b, vpi_now_ms());
	*result = b->result;
	result->stage = b->stage;
	if (b->msd) {
		struct vpi_msd_stats st;

		vpi_msd_stats(b->msd, &st);
		result->msd_commands = st.commands;
		result->msd_failed_commands = st.failed_commands;
		result->msd_phase_errors = st.phase_errors;
		result->msd_bytes_read = st.bytes_read;
		result->msd_bytes_written = st.bytes_written;
		result->msd_syncs = st.syncs;
	}
	pthread_mutex_unlock(&b->lock);
}

int pv_vpi_board_script_answer(struct pv_vpi_board *b, size_t index, uint32_t *size,
			       uint64_t *bytes_sent)
{
	int rc = PV_OK;

	pthread_mutex_lock(&b->lock);
	if (index >= b->opts.script_len) {
		rc = pv_fail(PV_ERR_NOT_FOUND, "vpi", "no scripted request %zu", index);
	} else {
		*size = b->script_answers[index].size;
		*bytes_sent = b->script_answers[index].bytes;
	}
	pthread_mutex_unlock(&b->lock);
	return rc;
}

int pv_vpi_board_read_eeprom(struct pv_vpi_board *b, struct pv_buf *out)
{
	int rc;

	pthread_mutex_lock(&b->lock);
	if (!b->eeprom)
		rc = pv_fail(PV_ERR_UNSUPPORTED, "vpi", "'%s': a %s has no bootloader EEPROM",
			     b->serial16, b->opts.board->short_name);
	else
		rc = pv_buf_append(out, b->eeprom, b->eeprom_size);
	pthread_mutex_unlock(&b->lock);
	return rc;
}

int pv_vpi_board_dump(struct pv_vpi_board *b, const char *dir)
{
	struct pv_buf image = PV_BUF_INIT(VPI_FILE_BUF_MAX);
	char *path = NULL;
	int rc;

	rc = pv_vpi_board_read_eeprom(b, &image);
	if (rc)
		goto out_release_image;
	if (asprintf(&path, "%s/%s.bin", dir, b->serial16) < 0) {
		path = NULL;
		rc = pv_fail(PV_ERR_NOMEM, "vpi", "out of memory");
		goto out_release_image;
	}
	rc = pv_file_write_atomic(path, image.data, image.len, 0644);
	if (!rc)
		pv_log(PV_LOG_INFO, "vpi", "wrote the virtual EEPROM of '%s' to '%s'", b->serial16,
		       path);
	free(path);
out_release_image:
	pv_buf_release(&image);
	return rc;
}

int pv_vpi_board_transcript(struct pv_vpi_board *b, struct pv_buf *out)
{
	int rc;

	pthread_mutex_lock(&b->lock);
	rc = pv_buf_append(out, b->transcript.data ? b->transcript.data : (const uint8_t *)"",
			   b->transcript.len);
	pthread_mutex_unlock(&b->lock);
	return rc;
}
