/* Shared between the payload files of the usb module (not installed). */
#ifndef PIPROV_USB_INTERNAL_H
#define PIPROV_USB_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "piprov/usb.h"

/* Indexed by enum pv_soc. */
#define USB_PAYLOAD_SLOTS 8

struct usb_payload_entry {
	bool tried;
	int status;
	char reason[256];
	struct pv_usb_payload payload;
	struct pv_usb_payload_report report;
	struct pv_usb_files *own_files;   /* flash: the memory files */
	struct pv_usb_memfile mem[3];
	unsigned char *second_stage;
	unsigned char *image;
	char *sig;
	char *bootconf;
	char *image_source;
	char *recovery_source;
	bool stand_in, synthetic;         /* placeholder recovery / synthetic image used */
	/* Flash: the image's digest (pieeprom.sig, image_sha256) is made by complete_flash,
	 * on the board's worker while its ROM re-enumerates, not when the payload is built;
	 * under the set's digest_lock. */
	struct pv_usb_payload_set *set;
	size_t image_size, sig_len;
	uint64_t sig_ts;
	bool digested;
	int digest_status;
	bool warned;                      /* ...and said so */
};

struct pv_usb_payload_set {
	pthread_mutex_t lock;
	pthread_mutex_t digest_lock;      /* the entries' digests (flash) */
	bool flash;
	struct pv_usb_files *files;       /* boot sets: the caller's served folder */
	bool has_signature;
	uint8_t signature[20];
	struct pv_usb_flash_options flash_options; /* flash sets: pointers are the caller's */
	struct usb_payload_entry entries[USB_PAYLOAD_SLOTS];
};

/* payload.c: pv_usb_payload_set_get; `serving`: for a board (a check builds without it, so
 * warnings about stand-ins come when a board gets them). */
int usb_payload_get(struct pv_usb_payload_set *set, const struct pv_soc_info *soc,
		    const struct pv_usb_payload **payload, bool serving);

/* flash.c: build the flash payload of one SoC into e. */
int usb_build_flash_payload(struct pv_usb_payload_set *set, const struct pv_soc_info *soc,
			    struct usb_payload_entry *e);

#endif
