/* piprov-e2e-tool: host-side helpers of the e2e cases, built from the project's own code.
 *
 *   piprov-e2e-tool firmware DIR    write what `piprov usb flash --firmware-dir DIR` needs for
 *                                   every SoC with an EEPROM: DIR/<chip>/pieeprom-2026-01-01.bin
 *                                   (a synthetic image with the real layout) and
 *                                   DIR/<chip>/recovery.bin (the virtual Pi's placeholder
 *                                   recovery program: the virtual board runs its recovery
 *                                   flow on it; nothing executes it)
 *   piprov-e2e-tool bootconf IMAGE  print the bootconf.txt of an EEPROM image (a virtual
 *                                   board's flash after a case)
 *
 * Exit 0, 1 on failure (with the reason), 2 on bad usage, 77 when this build has no virtual
 * Pi (firmware needs its placeholder recovery).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "piprov/board.h"
#include "piprov/buf.h"
#include "piprov/eeprom.h"
#include "piprov/error.h"
#include "piprov/fileio.h"
#ifdef PIPROV_E2E_HAVE_VPI
#include "piprov/vpi.h"
#endif

#include "banned.h"

static int print_bootconf(const char *path)
{
	struct pv_eeprom_image img = { 0 };
	const unsigned char *conf;
	size_t len;
	int status = 1;

	if (pv_eeprom_load(&img, path) != PV_OK ||
	    pv_eeprom_get_file(&img, PV_EEPROM_BOOTCONF_TXT, &conf, &len) != PV_OK) {
		fprintf(stderr, "piprov-e2e-tool: %s\n", pv_last_error());
		goto out_release;
	}
	if (fwrite(conf, 1, len, stdout) == len)
		status = 0;
out_release:
	pv_eeprom_release(&img);
	return status;
}

#ifdef PIPROV_E2E_HAVE_VPI
static int make_dir(const char *path)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return 0;
	fprintf(stderr, "piprov-e2e-tool: '%s': %s\n", path, strerror(errno));
	return -1;
}

static int write_firmware(const char *dir)
{
	struct pv_buf recovery, image;
	char path[4096];
	int status = 1;

	pv_buf_init(&recovery, 1u << 20);
	pv_buf_init(&image, 1u << 24);
	if (make_dir(dir) < 0)
		goto out_release;
	if (pv_vpi_placeholder_recovery(&recovery) != PV_OK)
		goto out_fail;
	for (size_t i = 0; pv_soc_at(i); i++) {
		const struct pv_soc_info *soc = pv_soc_at(i);

		if (!soc->eeprom_size)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, soc->chip);
		if (make_dir(path) < 0)
			goto out_release;
		if (pv_eeprom_synthesize(soc->soc, NULL, &image) != PV_OK)
			goto out_fail;
		snprintf(path, sizeof(path), "%s/%s/pieeprom-2026-01-01.bin", dir, soc->chip);
		if (pv_file_write_atomic(path, image.data, image.len, 0644) != PV_OK)
			goto out_fail;
		snprintf(path, sizeof(path), "%s/%s/recovery.bin", dir, soc->chip);
		if (pv_file_write_atomic(path, recovery.data, recovery.len, 0644) != PV_OK)
			goto out_fail;
	}
	status = 0;
	goto out_release;
out_fail:
	fprintf(stderr, "piprov-e2e-tool: %s\n", pv_last_error());
out_release:
	pv_buf_release(&image);
	pv_buf_release(&recovery);
	return status;
}
#else
static int write_firmware(const char *dir)
{
	(void)dir;
	fprintf(stderr, "piprov-e2e-tool: built without the virtual Pi: no placeholder recovery\n");
	return 77;
}
#endif

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "bootconf") == 0)
		return print_bootconf(argv[2]);
	if (argc == 3 && strcmp(argv[1], "firmware") == 0)
		return write_firmware(argv[2]);
	fprintf(stderr, "usage: piprov-e2e-tool firmware DIR | bootconf IMAGE\n");
	return 2;
}
