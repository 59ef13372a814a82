#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "piprov/eeprom.h"
#include "piprov/error.h"
#include "piprov/fileio.h"
#include "test_support.h"
#include "usb_vpi_rig.h"

static pthread_mutex_t opened_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_opened(void *user, const char *port_path, const char *path)
{
	struct rig *rig = user;

	(void)port_path;
	/* Called from the worker threads of every board at once. */
	pthread_mutex_lock(&opened_lock);
	pv_buf_appendf(&rig->opened, "%s\n", path);
	pthread_mutex_unlock(&opened_lock);
}

static void write_firmware(struct rig *rig, enum pv_soc soc_id)
{
	const struct pv_soc_info *soc = pv_soc_info(soc_id);
	struct pv_buf image = PV_BUF_INIT(SIZE_MAX), code = PV_BUF_INIT(SIZE_MAX);
	char *dir, *path;

	assert_true(asprintf(&dir, "%s/%s", rig->firmware_dir, soc->firmware_dir) > 0);
	assert_int_equal(mkdir(dir, 0755), 0);
	free(dir);
	assert_true(asprintf(&dir, "%s/%s/default", rig->firmware_dir, soc->firmware_dir) > 0);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(pv_eeprom_synthesize(soc_id, NULL, &image), PV_OK);
	assert_true(asprintf(&path, "%s/pieeprom-2026-01-01.bin", dir) > 0);
	pv_test_write_file(path, image.data, image.len);
	free(path);
	assert_int_equal(pv_vpi_placeholder_recovery(&code), PV_OK);
	assert_true(asprintf(&path, "%s/recovery.bin", dir) > 0);
	pv_test_write_file(path, code.data, code.len);
	free(path);
	free(dir);
	pv_buf_release(&image);
	pv_buf_release(&code);
}

void rig_init(struct rig *rig)
{
	memset(rig, 0, sizeof(*rig));
	rig->dir = pv_test_mkdtemp();
	assert_true(asprintf(&rig->firmware_dir, "%s/firmware", rig->dir) > 0);
	assert_int_equal(mkdir(rig->firmware_dir, 0755), 0);
	write_firmware(rig, PV_SOC_BCM2711);
	write_firmware(rig, PV_SOC_BCM2712);
	rig_init_light(rig);
}

void rig_init_light(struct rig *rig)
{
	assert_int_equal(pv_vpi_bus_new(&rig->vbus), PV_OK);
	rig->bus = rig->vbus;
	pv_buf_init(&rig->opened, 1u << 20);
	rig->flash.firmware_dir = rig->firmware_dir;
	rig->flash.opened = on_opened;
	rig->flash.opened_user = rig;
	pv_usb_timeouts_default(&rig->timeouts);
	rig->timeouts.control_ms = 1000;
	rig->timeouts.bulk_ms = 2000;
	rig->timeouts.retcode_ms = 1000;
	rig->timeouts.request_ms = 2000;
	rig->timeouts.silent_polls = 2;
	rig->timeouts.reenumerate_ms = 2000;
	rig->timeouts.board_ms = 30000;
	rig->timeouts.rom_attempts = 3;
	rig->timeouts.backoff_ms = 10;
	rig->wait_ms = 5000;
}

void rig_release(struct rig *rig)
{
	pv_usb_bus_destroy(rig->bus);
	pv_usb_payload_set_free(rig->set);
	pv_usb_files_free(rig->files);
	pv_buf_release(&rig->opened);
	if (rig->dir)
		pv_test_rmtree(rig->dir);
	free(rig->dir);
	free(rig->firmware_dir);
}

void rig_add_spec(struct rig *rig, const char *spec)
{
	if (pv_vpi_bus_add_spec(rig->vbus, spec) != PV_OK)
		fail_msg("--virtual '%s': %s", spec, pv_last_error());
}

static void add_with(struct rig *rig, const char *model, unsigned index, enum pv_vpi_fault fault,
		     const struct pv_vpi_request *script, size_t count)
{
	struct pv_vpi_options opts;
	struct pv_vpi_board *board;

	assert_int_equal(pv_vpi_options_init(&opts, pv_board_by_short_name(model), index), PV_OK);
	opts.fault = fault;
	opts.script = script;
	opts.script_len = count;
	opts.reenumerate_ms = 5;
	assert_int_equal(pv_vpi_board_new(&opts, &board), PV_OK);
	assert_int_equal(pv_vpi_bus_add_board(rig->vbus, board), PV_OK);
}

void rig_add_board(struct rig *rig, const char *model, unsigned index, enum pv_vpi_fault fault)
{
	add_with(rig, model, index, fault, NULL, 0);
}

void rig_add_scripted(struct rig *rig, const char *model, const struct pv_vpi_request *script,
		      size_t count)
{
	add_with(rig, model, 0, PV_VPI_FAULT_NONE, script, count);
}

void rig_inject_faults(struct rig *rig, const struct pv_usb_fault_schedule *schedule)
{
	assert_int_equal(pv_usb_fault_bus_new(rig->vbus, schedule, &rig->bus), PV_OK);
}

void rig_serve_folder(struct rig *rig, const char *dir)
{
	struct pv_usb_files_config fc = { .dir = dir, .use_bootfiles = true, .opened = on_opened,
					  .opened_user = rig };

	assert_int_equal(pv_usb_files_new(&fc, &rig->files), PV_OK);
}

void rig_run(struct rig *rig, enum pv_usb_job_mode mode, unsigned count,
	     struct pv_usb_job_result *result)
{
	struct pv_usb_job_config cfg;

	if (rig->set)
		; /* given by the test (shared between runs) */
	else if (mode == PV_USB_JOB_FLASH)
		assert_int_equal(pv_usb_flash_payloads_new(&rig->flash, &rig->set), PV_OK);
	else
		assert_int_equal(pv_usb_boot_payloads_new(rig->files, &rig->set), PV_OK);
	pv_usb_job_config_init(&cfg);
	cfg.mode = mode;
	cfg.bus = rig->bus;
	cfg.payload = pv_usb_payload_set_get;
	cfg.payload_user = rig->set;
	cfg.count = count;
	cfg.wait_ms = rig->wait_ms;
	cfg.timeouts = rig->timeouts;
	assert_int_equal(pv_usb_job_run(&cfg, result), PV_OK);
}

struct pv_vpi_board *rig_board_by_port(struct rig *rig, const char *port_path)
{
	for (size_t i = 0; i < pv_vpi_bus_board_count(rig->vbus); i++) {
		struct pv_vpi_board *board = pv_vpi_bus_board_at(rig->vbus, i);
		struct pv_usb_device_info info;

		if (strcmp(pv_vpi_board_options(board)->port_path, port_path) == 0)
			return board;
		if (pv_vpi_board_info(board, &info) == PV_OK &&
		    strcmp(info.port_path, port_path) == 0)
			return board;
	}
	fail_msg("no virtual board at '%s'", port_path);
	return NULL;
}

void rig_assert_eeprom_sha(struct pv_vpi_board *board, const char *sha_hex, bool equal)
{
	struct pv_buf eeprom = PV_BUF_INIT(SIZE_MAX);
	char hex[65];

	assert_int_equal(pv_vpi_board_read_eeprom(board, &eeprom), PV_OK);
	pv_usb_sha256_hex(eeprom.data, eeprom.len, hex);
	if (equal)
		assert_string_equal(hex, sha_hex);
	else
		assert_string_not_equal(hex, sha_hex);
	pv_buf_release(&eeprom);
}

void rig_write(const char *dir, const char *name, const char *text)
{
	char *path;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	pv_test_write_file(path, text, strlen(text));
	free(path);
}

void rig_script(struct pv_vpi_request *req, int32_t command, const char *name,
		size_t message_len)
{
	memset(req, 0, sizeof(*req));
	req->command = command;
	req->name_len = strlen(name);
	memcpy(req->name, name, req->name_len);
	req->message_len = message_len;
}

bool rig_file_present(const char *path)
{
	if (pv_path_exists(path))
		return true;
	fprintf(stderr, "skipping a case: '%s' is not there\n", path);
	return false;
}

static void served_facts(const struct pv_usb_payload *p, const char *chip, const char *name,
			 char size[24], char hex[65])
{
	struct pv_usb_served_file f;
	unsigned char *data;
	size_t got = 0;

	assert_int_equal(pv_usb_files_open(p->files, chip, "", name, &f), PV_OK);
	data = malloc((size_t)f.size + 1);
	assert_int_equal(pv_usb_served_file_read(&f, 0, data, (size_t)f.size, &got), PV_OK);
	snprintf(size, 24, "%llu", (unsigned long long)f.size);
	pv_usb_sha256_hex(data, got, hex);
	free(data);
	pv_usb_served_file_close(&f);
}

static void replace_all(struct pv_buf *buf, const char *key, const char *value)
{
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX);
	const char *p = pv_buf_str(buf), *hit;

	while ((hit = strstr(p, key)) != NULL) {
		pv_buf_append(&out, p, (size_t)(hit - p));
		pv_buf_append_str(&out, value);
		p = hit + strlen(key);
	}
	pv_buf_append_str(&out, p);
	pv_buf_reset(buf);
	pv_buf_append(buf, out.data, out.len);
	pv_buf_release(&out);
}

void rig_expand(struct pv_buf *out, const char *tmpl, const struct pv_usb_payload *p,
		const char *chip)
{
	char size[24], hex[65];

	pv_buf_append_str(out, tmpl);
	snprintf(size, sizeof(size), "%zu", p->second_stage_size);
	pv_usb_sha256_hex(p->second_stage, p->second_stage_size, hex);
	replace_all(out, "@CODEHASH@", hex);
	replace_all(out, "@CODE@", size);
	served_facts(p, chip, "pieeprom.bin", size, hex);
	replace_all(out, "@IMGHASH@", hex);
	replace_all(out, "@IMG@", size);
	served_facts(p, chip, "pieeprom.sig", size, hex);
	replace_all(out, "@SIGHASH@", hex);
	replace_all(out, "@SIG@", size);
	served_facts(p, chip, "config.txt", size, hex);
	replace_all(out, "@CFGHASH@", hex);
	replace_all(out, "@CFG@", size);
}

void rig_mask_times(struct pv_buf *text)
{
	struct pv_buf out = PV_BUF_INIT(SIZE_MAX);
	const char *p = pv_buf_str(text);

	while (*p) {
		if (strncmp(p, " in ", 4) == 0 && p[4] >= '0' && p[4] <= '9') {
			const char *q = p + 4;
			while (*q >= '0' && *q <= '9')
				q++;
			if (strncmp(q, " ms", 3) == 0) {
				pv_buf_append_str(&out, " in N");
				p = q;
				continue;
			}
		}
		pv_buf_putc(&out, *p++);
	}
	pv_buf_reset(text);
	pv_buf_append(text, out.data, out.len);
	pv_buf_release(&out);
}

bool rig_match(const char *got, const char *expected)
{
	while (*expected) {
		if (strncmp(expected, "@ANY@", 5) == 0) {
			expected += 5;
			while (*got && *got != '"' && *got != '\n' && *got != *expected)
				got++;
			continue;
		}
		if (*got != *expected)
			return false;
		got++;
		expected++;
	}
	return *got == '\0';
}
