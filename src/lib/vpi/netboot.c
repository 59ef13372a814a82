/* The virtual Pi's network stage (include/piprov/netboot_vpi.h): a virtual board boots over a
 * real interface with the netboot module's bootloader model, from the EEPROM it was flashed
 * with, and writes its UART log. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "piprov/eeprom.h"
#include "piprov/fileio.h"
#include "piprov/netboot_vpi.h"
#include "piprov/text.h"
#include "vpi_internal.h"
#include "banned.h"

#define EEPROM_FILE_MAX (16u << 20)
#define UART_LOG_MAX (4u << 20)

static void identity_of(const struct pv_vpi_options *o, struct pv_netboot_identity *id)
{
	memset(id, 0, sizeof(*id));
	id->board = o->board;
	id->soc = o->soc;
	id->serial = o->serial;
	memcpy(id->mac, o->mac, 6);
	id->boardrev = o->boardrev;
}

int pv_vpi_netboot(struct pv_vpi_board *board, const struct pv_vpi_netboot_options *options,
		   struct pv_netboot_result *result)
{
	const struct pv_vpi_options *vo = pv_vpi_board_options(board);
	const struct pv_netboot_profile *profile = pv_netboot_profile_for(vo->soc->soc);
	struct pv_netboot_identity id;
	struct pv_netboot_settings settings;
	struct pv_netboot_run_options run;
	struct pv_netboot_link *link = NULL;
	struct pv_vpi_uart *uart = NULL;
	struct pv_buf own = PV_BUF_INIT(EEPROM_FILE_MAX);
	int rc;

	if (!profile)
		return pv_fail(PV_ERR_UNSUPPORTED, "vpi", "'%s': no network boot on this model",
			       vo->board->short_name);
	identity_of(vo, &id);
	memset(result, 0, sizeof(*result));
	pv_netboot_settings_defaults(vo->soc, &settings);
	if (!profile->rom_client) {
		const void *image = options->eeprom;
		size_t len = options->eeprom_len;

		if (!image) {
			rc = pv_vpi_board_read_eeprom(board, &own);
			if (rc)
				goto out_release;
			image = own.data;
			len = own.len;
		}
		rc = pv_netboot_settings_from_image(image, len,
						    options->eeprom_name ? options->eeprom_name
									 : "virtual EEPROM",
						    vo->soc, &settings);
		if (rc) {
			/* An erased or broken EEPROM: the ROM finds no bootloader, nothing more
			 * happens on the wire or the UART. */
			result->reason = PV_NETBOOT_NO_BOOTLOADER;
			snprintf(result->detail, sizeof(result->detail), "%s", pv_last_error());
			pv_clear_error();
			rc = PV_OK;
			goto out_release;
		}
	}
	/* MAC_ADDRESS in the EEPROM changes the address the board speaks from. */
	if (settings.has_mac_address)
		memcpy(id.mac, settings.mac_address, 6);
	rc = pv_netboot_link_packet_open(options->netns, options->ifname, id.mac, false, &link);
	if (rc)
		goto out_release;
	memset(&run, 0, sizeof(run));
	run.link = link;
	run.deadline_ms = options->deadline_ms;
	run.cancel = options->cancel;
	run.check_nfs = options->check_nfs;
	if (options->uart && settings.boot_uart) {
		rc = pv_vpi_uart_new(&id, &settings, options->uart, &uart);
		if (rc)
			goto out_destroy_link;
		run.on_event = pv_vpi_uart_event;
		run.user = uart;
	}
	rc = pv_netboot_run(&id, &settings, &run, result);
	pv_vpi_uart_free(uart);
out_destroy_link:
	link->ops->destroy(link);
out_release:
	pv_buf_release(&own);
	return rc;
}

/* ---- many boards ---- */

/* "%s" = serial8, "%i" = index, "%%" = '%'; anything else after '%' is an error. */
static int expand(const char *pattern, const char *serial8, unsigned index, char *out,
		  size_t size)
{
	size_t o = 0;

	for (const char *p = pattern; *p; p++) {
		char piece[16];
		const char *add = piece;

		if (*p != '%') {
			piece[0] = *p;
			piece[1] = '\0';
		} else if (p[1] == 's') {
			add = serial8;
			p++;
		} else if (p[1] == 'i') {
			snprintf(piece, sizeof(piece), "%u", index);
			p++;
		} else if (p[1] == '%') {
			piece[0] = '%';
			piece[1] = '\0';
			p++;
		} else {
			return pv_fail(PV_ERR_INVALID, "vpi",
				       "'%s': only %%s (serial), %%i (index) and %%%% are known",
				       pattern);
		}
		if (o + strlen(add) >= size)
			return pv_fail(PV_ERR_INVALID, "vpi", "'%s' expands to over %zu characters",
				       pattern, size - 1);
		memcpy(out + o, add, strlen(add));
		o += strlen(add);
	}
	out[o] = '\0';
	return PV_OK;
}

struct fleet_job {
	const struct pv_vpi_netboot_fleet *fleet;
	struct pv_vpi_board *board;
	struct pv_vpi_netboot_board *out;
	pthread_t thread;
	bool started;
};

static void *fleet_worker(void *arg)
{
	struct fleet_job *job = arg;
	struct pv_vpi_netboot_board *b = job->out;
	struct pv_vpi_netboot_options o;
	struct pv_buf image = PV_BUF_INIT(EEPROM_FILE_MAX), uart = PV_BUF_INIT(UART_LOG_MAX);
	int rc = PV_OK;

	memset(&o, 0, sizeof(o));
	o.netns = b->netns[0] ? b->netns : NULL;
	o.ifname = b->ifname;
	o.deadline_ms = job->fleet->deadline_ms;
	o.cancel = job->fleet->cancel;
	o.check_nfs = job->fleet->check_nfs;
	o.uart = job->fleet->uart_dir ? &uart : NULL;
	if (b->eeprom[0]) {
		rc = pv_file_read(b->eeprom, EEPROM_FILE_MAX, &image);
		o.eeprom = image.data;
		o.eeprom_len = image.len;
		o.eeprom_name = b->eeprom;
	}
	if (!rc)
		rc = pv_vpi_netboot(job->board, &o, &b->result);
	if (!rc && job->fleet->uart_dir && uart.len) {
		snprintf(b->uart_log, sizeof(b->uart_log), "%s/%s.log", job->fleet->uart_dir,
			 b->serial);
		rc = pv_file_write_atomic(b->uart_log, uart.data, uart.len, 0644);
		if (rc)
			b->uart_log[0] = '\0';
	}
	b->status = rc;
	if (rc)
		snprintf(b->error, sizeof(b->error), "%s", pv_last_error());
	pv_buf_release(&image);
	pv_buf_release(&uart);
	return NULL;
}

static int prepare(const struct pv_vpi_netboot_fleet *fleet, struct pv_vpi_board *board,
		   unsigned index, struct pv_vpi_netboot_board *b)
{
	const struct pv_vpi_options *vo = pv_vpi_board_options(board);
	char serial8[9];
	int rc;

	memset(b, 0, sizeof(*b));
	snprintf(b->serial, sizeof(b->serial), "%s", pv_vpi_board_serial(board));
	snprintf(b->model, sizeof(b->model), "%s", vo->board->short_name);
	memcpy(b->mac, vo->mac, 6);
	pv_serial8_format(vo->serial, serial8);
	if (fleet->netns_pattern) {
		rc = expand(fleet->netns_pattern, serial8, index, b->netns, sizeof(b->netns));
		if (rc)
			return rc;
	}
	rc = expand(fleet->ifname_pattern ? fleet->ifname_pattern : "eth0", serial8, index,
		    b->ifname, sizeof(b->ifname));
	if (rc)
		return rc;
	/* dump=DIR is where `usb flash` left the image this board was flashed with. */
	if (board->dump_dir) {
		char path[sizeof(b->eeprom)];

		snprintf(path, sizeof(path), "%s/%s.bin", board->dump_dir, b->serial);
		if (pv_path_exists(path))
			snprintf(b->eeprom, sizeof(b->eeprom), "%s", path);
	}
	return PV_OK;
}

int pv_vpi_netboot_fleet_run(const struct pv_vpi_netboot_fleet *fleet,
			     struct pv_vpi_netboot_board **boards, size_t *count)
{
	struct pv_usb_bus *bus = NULL;
	struct pv_vpi_netboot_board *out = NULL;
	struct fleet_job *jobs = NULL;
	size_t n = 0;
	int rc;

	rc = pv_vpi_bus_new(&bus);
	if (rc)
		return rc;
	for (size_t i = 0; i < fleet->n_specs && !rc; i++)
		rc = pv_vpi_bus_add_spec(bus, fleet->specs[i]);
	if (rc)
		goto out_destroy_bus;
	n = pv_vpi_bus_board_count(bus);
	out = calloc(n ? n : 1, sizeof(*out));
	jobs = calloc(n ? n : 1, sizeof(*jobs));
	if (!out || !jobs) {
		rc = pv_fail(PV_ERR_NOMEM, "vpi", "out of memory");
		goto out_free;
	}
	if (fleet->uart_dir && mkdir(fleet->uart_dir, 0755) != 0 && errno != EEXIST) {
		rc = pv_fail_errno(errno, "vpi", "'%s'", fleet->uart_dir);
		goto out_free;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		jobs[i].fleet = fleet;
		jobs[i].board = pv_vpi_bus_board_at(bus, i);
		jobs[i].out = &out[i];
		rc = prepare(fleet, jobs[i].board, (unsigned)i, &out[i]);
	}
	if (rc)
		goto out_free;
	for (size_t i = 0; i < n; i++) {
		if (pthread_create(&jobs[i].thread, NULL, fleet_worker, &jobs[i]) == 0) {
			jobs[i].started = true;
		} else {
			out[i].status = PV_ERR_NOMEM;
			snprintf(out[i].error, sizeof(out[i].error), "cannot start a thread");
		}
	}
	for (size_t i = 0; i < n; i++)
		if (jobs[i].started)
			pthread_join(jobs[i].thread, NULL);
	*boards = out;
	*count = n;
	out = NULL;
out_free:
	free(jobs);
	free(out);
out_destroy_bus:
	pv_usb_bus_destroy(bus);
	return rc;
}

/* ---- boards for `netboot check --as` ---- */

int pv_vpi_netboot_check_boards(const char *const *specs, size_t n_specs,
				struct pv_netboot_check_board **boards, size_t *count)
{
	struct pv_usb_bus *bus = NULL;
	struct pv_netboot_check_board *out = NULL;
	struct pv_buf image = PV_BUF_INIT(EEPROM_FILE_MAX);
	size_t n = 0;
	int rc;

	rc = pv_vpi_bus_new(&bus);
	if (rc)
		return rc;
	for (size_t i = 0; i < n_specs && !rc; i++)
		rc = pv_vpi_bus_add_spec(bus, specs[i]);
	if (rc)
		goto out_destroy_bus;
	n = pv_vpi_bus_board_count(bus);
	out = calloc(n ? n : 1, sizeof(*out));
	if (!out) {
		rc = pv_fail(PV_ERR_NOMEM, "vpi", "out of memory");
		goto out_destroy_bus;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		struct pv_vpi_board *board = pv_vpi_bus_board_at(bus, i);
		const struct pv_vpi_options *vo = pv_vpi_board_options(board);
		struct pv_netboot_check_board *b = &out[i];
		struct pv_vpi_netboot_board where;

		identity_of(vo, &b->id);
		pv_strlcpy(b->serial, pv_vpi_board_serial(board), sizeof(b->serial));
		pv_strlcpy(b->name, b->serial, sizeof(b->name));
		pv_netboot_settings_defaults(vo->soc, &b->settings);
		rc = prepare(&(const struct pv_vpi_netboot_fleet){ .ifname_pattern = "eth0" },
			     board, (unsigned)i, &where);
		if (rc || !where.eeprom[0])
			continue;
		pv_buf_reset(&image);
		rc = pv_file_read(where.eeprom, EEPROM_FILE_MAX, &image);
		if (!rc)
			rc = pv_netboot_settings_from_image(image.data, image.len, where.eeprom,
							    vo->soc, &b->settings);
		if (rc)
			rc = pv_fail(PV_ERR_INVALID, "vpi", "%s", pv_last_error());
		else if (b->settings.has_mac_address)
			memcpy(b->id.mac, b->settings.mac_address, 6);
	}
	if (rc)
		goto out_free;
	*boards = out;
	*count = n;
	out = NULL;
out_free:
	free(out);
out_destroy_bus:
	pv_buf_release(&image);
	pv_usb_bus_destroy(bus);
	return rc;
}
