/* How `piprov usb flash|boot`, `piprov rpiboot` and `piprov station` show a station's
 * events: a live table on a terminal, one plain line per stage in a pipe, or one JSON
 * object per event (--json); optionally a log file per board (--log-dir). Rendering only:
 * the work is the station library's (piprov/station.h). */
#ifndef PIPROV_CLI_STATION_VIEW_H
#define PIPROV_CLI_STATION_VIEW_H

#include <stdbool.h>
#include <stdio.h>

#include "cli.h"
#include "piprov/station.h"

enum station_view_mode {
	STATION_VIEW_TTY,   /* live table redrawn in place, fitted to the terminal */
	STATION_VIEW_LINES, /* a plain line per stage change */
	STATION_VIEW_JSON,  /* every event's JSON, one per line */
	STATION_VIEW_NONE,  /* nothing on stdout (logs only) */
};

struct station_view_options {
	enum station_view_mode mode;
	bool color;               /* TTY: colours (isatty and no NO_COLOR) */
	const char *log_dir;      /* DIR/<port>.log per board, NULL: none */
	FILE *out;                /* stdout */
	int tty_fd;               /* for the terminal size (STDOUT_FILENO) */
	struct cli_context *ctx;
};

/* The mode and colour for stdout: TTY when stdout and stderr are terminals and --json was
 * not asked for; colour unless NO_COLOR is set (https://no-color.org) or TERM is dumb. */
void station_view_options_default(struct station_view_options *opts, struct cli_context *ctx,
				  bool json);

struct station_view;

/* Subscribe to the station; on a terminal also take over the library's log lines (they
 * go above the table). Returns a cli exit status. */
int station_view_start(struct pv_station *station, const struct station_view_options *opts,
		       struct station_view **out);
/* Draw the final state, unsubscribe, give the log callback back, close the logs. */
void station_view_finish(struct station_view *view);

/* The summary line: "12 of 32 verified, 1 failed, 4 in flight" (for tests and the view). */
void station_view_summary_line(const struct pv_station_board *boards, size_t count,
			       bool recording, char *out, size_t size);

#endif
