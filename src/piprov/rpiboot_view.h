/* `piprov rpiboot`'s output: upstream rpiboot's lines, from the engine's events. */
#ifndef PIPROV_CLI_RPIBOOT_VIEW_H
#define PIPROV_CLI_RPIBOOT_VIEW_H

#include <stdbool.h>
#include <stdio.h>

#include "piprov/usb.h"

/* Upstream's DEFAULT_MSG_DIR ($(INSTALL_PREFIX)/share/rpiboot/mass-storage-gadget64/). */
#define RPIBOOT_DEFAULT_MSG_DIR "/usr/share/rpiboot/mass-storage-gadget64/"
#define RPIBOOT_VIEW_BOARDS_MAX 256

struct rpiboot_board {
	char port_path[PV_USB_PORT_PATH_MAX];
	char second_stage_name[32];
	char second_stage_path[PV_USB_NAME_MAX + 64];
	enum pv_usb_file_origin second_stage_origin;
	uint64_t second_stage_size;
	bool serving;
	unsigned metadata_items;
};

struct rpiboot_view {
	FILE *out;
	int verbose;
	const char *dir;            /* -d as given; NULL: none */
	const char *served_dir;     /* the folder served: -d, else the default found (or NULL) */
	/* Without -d: the default folder named in "trying default" (the mass-storage folder of
	 * the rpiboot package found, else upstream's DEFAULT_MSG_DIR), and whether the folder
	 * served is the local mass-storage-gadget64/ (upstream's second try). */
	const char *default_label;
	bool local_dir;
	const char *metadata_dir;   /* -j DIR; NULL: metadata JSON on out */
	bool loop;
	bool default_dir_said;
	struct rpiboot_board boards[RPIBOOT_VIEW_BOARDS_MAX];
	size_t board_count;
};

void rpiboot_view_init(struct rpiboot_view *v, FILE *out, int verbose, const char *dir,
		       const char *metadata_dir);
/* "RPIBOOT: build-date ... pkg-version ..." (also -V). */
void rpiboot_view_version(FILE *out);
/* The lines before the first board: version, the jumper hint, "Boot directory", "Using
 * DIR/bootfiles.bin" (bootfiles_path NULL: not printed), "Waiting for ...". */
void rpiboot_view_start(struct rpiboot_view *v, const char *bootfiles_path);
/* A pv_usb_event_fn (user = the view). */
void rpiboot_view_event(void *user, const struct pv_usb_event *ev);

#endif
