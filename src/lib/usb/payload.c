/* Payload sets: one payload per SoC, built on first use (the engine serialises the calls,
 * the set's lock makes it safe anyway) and kept until the set is freed. Boot sets read the
 * second stage from the served folder; flash sets are built by flash.c. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "piprov/text.h"
#include "piprov/usb.h"
#include "usb_internal.h"
#include "banned.h"

int pv_usb_boot_payloads_new(struct pv_usb_files *files, struct pv_usb_payload_set **out)
{
	struct pv_usb_payload_set *set = calloc(1, sizeof(*set));

	if (!set)
		return pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
	pthread_mutex_init(&set->lock, NULL);
	pthread_mutex_init(&set->digest_lock, NULL);
	set->files = files;
	*out = set;
	return PV_OK;
}

void pv_usb_boot_payloads_set_signature(struct pv_usb_payload_set *set,
					const uint8_t signature[20])
{
	memcpy(set->signature, signature, 20);
	set->has_signature = true;
}

static int build_boot(struct pv_usb_payload_set *set, const struct pv_soc_info *soc,
		      struct usb_payload_entry *e)
{
	struct pv_usb_served_file file;
	unsigned char *data;
	size_t got = 0;
	int rc;

	/* rpiboot's overlay never applies to bootcode*.bin: no port path here. */
	if (pv_usb_files_open(set->files, soc->rpiboot_folder, "", soc->second_stage, &file) !=
	    PV_OK)
		return pv_fail(PV_ERR_NOT_FOUND, "usb",
			       "no '%s' for %s boards in the served folder (looked in %s/ and the "
			       "folder itself)",
			       soc->second_stage, soc->name, soc->rpiboot_folder);
	if (file.size == 0 || file.size > PV_USB_SECOND_STAGE_MAX) {
		pv_usb_served_file_close(&file);
		return pv_fail(PV_ERR_TOO_BIG, "usb", "'%s': %llu bytes is not a second stage",
			       file.path, (unsigned long long)file.size);
	}
	data = malloc((size_t)file.size);
	if (!data) {
		pv_usb_served_file_close(&file);
		return pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
	}
	rc = pv_usb_served_file_read(&file, 0, data, (size_t)file.size, &got);
	if (!rc && got != file.size)
		rc = pv_fail(PV_ERR_IO, "usb", "'%s': short read", file.path);
	if (rc) {
		free(data);
		pv_usb_served_file_close(&file);
		return rc;
	}
	e->second_stage = data;
	e->payload.second_stage = data;
	e->payload.second_stage_size = (size_t)file.size;
	e->payload.files = set->files;
	e->payload.signature = set->has_signature ? set->signature : NULL;
	e->recovery_source = strdup(file.path);
	e->payload.second_stage_path = e->recovery_source ? e->recovery_source : "";
	e->payload.second_stage_origin = file.origin;
	e->report.recovery_source = e->recovery_source ? e->recovery_source : "";
	e->report.image_source = "";
	e->report.bootconf = "";
	pv_usb_served_file_close(&file);
	return PV_OK;
}

int pv_usb_payload_set_get(void *user, const struct pv_soc_info *soc,
			   const struct pv_usb_payload **payload)
{
	return usb_payload_get(user, soc, payload, true);
}

int usb_payload_get(struct pv_usb_payload_set *set, const struct pv_soc_info *soc,
		    const struct pv_usb_payload **payload, bool serving)
{
	struct usb_payload_entry *e;
	int rc;

	if (!soc || (size_t)soc->soc >= USB_PAYLOAD_SLOTS)
		return pv_fail(PV_ERR_UNSUPPORTED, "usb", "unknown SoC");
	e = &set->entries[soc->soc];
	pthread_mutex_lock(&set->lock);
	if (!e->tried) {
		e->tried = true;
		e->status = set->flash ? usb_build_flash_payload(set, soc, e)
				       : build_boot(set, soc, e);
		if (e->status)
			pv_strlcpy(e->reason, pv_last_error(), sizeof(e->reason));
	}
	rc = e->status;
	if (!rc && serving && !e->warned) {
		e->warned = true;
		if (e->stand_in)
			pv_log(PV_LOG_WARN, "usb",
			       "no recovery.bin for %s is installed: virtual boards get a "
			       "placeholder recovery program (they do not execute it)",
			       soc->name);
		if (e->synthetic)
			pv_log(PV_LOG_WARN, "usb",
			       "no release image for %s is installed: virtual boards get a "
			       "synthetic image with the real layout (made by piprov's EEPROM "
			       "writer, not bootloader code)",
			       soc->name);
	}
	if (rc)
		pv_fail(rc, "usb", "%s", e->reason);
	else
		*payload = &e->payload;
	pthread_mutex_unlock(&set->lock);
	return rc;
}

const struct pv_usb_payload_report *pv_usb_payload_set_report(struct pv_usb_payload_set *set,
								 const struct pv_soc_info *soc)
{
	const struct pv_usb_payload_report *report = NULL;

	if (!soc || (size_t)soc->soc >= USB_PAYLOAD_SLOTS)
		return NULL;
	pthread_mutex_lock(&set->lock);
	if (set->entries[soc->soc].tried && set->entries[soc->soc].status == PV_OK)
		report = &set->entries[soc->soc].report;
	pthread_mutex_unlock(&set->lock);
	return report;
}

void pv_usb_payload_set_free(struct pv_usb_payload_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < USB_PAYLOAD_SLOTS; i++) {
		struct usb_payload_entry *e = &set->entries[i];

		pv_usb_files_free(e->own_files);
		free(e->second_stage);
		free(e->image);
		free(e->sig);
		free(e->bootconf);
		free(e->image_source);
		free(e->recovery_source);
	}
	pthread_mutex_destroy(&set->digest_lock);
	pthread_mutex_destroy(&set->lock);
	free(set);
}
