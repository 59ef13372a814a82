/* The station's internals shared by its files (not installed). */
#ifndef PIPROV_STATION_INTERNAL_H
#define PIPROV_STATION_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "piprov/station.h"
#include "piprov/usb.h"

#define STATION_SUBSCRIBERS_MAX 64
#define STATION_SOC_SLOTS 8
#define STATION_PORT_RULES_MAX 256
#define STATION_LOG_LINE_MAX 240

/* A profile with its own copies of every string (pv_station_profile points into it). */
struct station_profile {
	struct pv_station_profile p;
	char **strings;            /* every copy, freed together */
	size_t string_count;
	const char **settings;     /* p.flash.settings */
	const char **globs;        /* p.port_globs */
	struct station_profile *retired_next; /* replaced by a reload, freed with the station
					       * (the recorder may still read it) */
};

struct board_entry {
	struct pv_station_board b;
	bool in_flight;            /* the engine still works on it */
	bool left_rom;             /* its ROM took the upload (it re-enumerated or was served):
				    * a retry must restart it (power cycle, re-plug) */
	char **log;                /* ring of log_cap lines */
	size_t log_count, log_next;
};

struct port_rule {
	char port[PV_USB_PORT_PATH_MAX];
	bool paused;
	bool again;                /* retry: serve once more, then cleared */
	bool served;               /* its board ended under the previous job (reload): the
				    * next job leaves it alone until it leaves the port */
};

struct subscriber {
	uint64_t id;
	pv_station_event_fn fn;
	void *user;
};

/* A verified board waiting for the recorder. */
/* The bootconf.txt a verified board was flashed with, copied when it is queued (the
 * payload set is replaced on reload while the recorder may still hold the board). The
 * EEPROM holds at most 4076 bytes of it. */
#define STATION_BOOTCONF_MAX 4096u

struct pending_record {
	uint64_t board_id;
	struct pv_usb_board_result result;
	size_t bootconf_len;                 /* 0: not flashed, or nothing known */
	char bootconf[STATION_BOOTCONF_MAX];
	char bootconf_sha256[65];
};

struct pv_station {
	struct pv_station_config cfg;       /* profile part replaced by current->p */
	struct station_profile *current;    /* what boards are flashed with now */
	struct station_profile *pending;    /* reload: used from the next job on */
	struct station_profile *retired;    /* earlier profiles (list) */
	struct pv_usb_payload_set *set;     /* flash payloads of current (owned) */
	struct pv_usb_payload_set *pending_set;
	struct pv_buf placeholder;          /* virtual-only: placeholder recovery.bin */
	struct pv_usb_bus *bus;
	struct pv_usb_bus *virtual_bus;
	bool own_bus;
	bool only_virtual;
	uint64_t start_ms;                  /* pv_usb_now_ms() at pv_station_new */

	/* lock: boards, ports, subscribers list, counters, queue. Never held while a
	 * subscriber runs. */
	pthread_mutex_t lock;
	/* deliver: one event at a time, in seq order (taken before lock). */
	pthread_mutex_t deliver;
	pthread_cond_t changed;             /* CLOCK_MONOTONIC: queue, stop, idle */
	struct board_entry **boards;
	size_t board_count, board_cap;
	uint64_t next_board_id;
	struct port_rule ports[STATION_PORT_RULES_MAX];
	size_t port_count;
	struct subscriber subscribers[STATION_SUBSCRIBERS_MAX];
	size_t subscriber_count;
	uint64_t next_subscriber_id;
	uint64_t seq;
	uint64_t totals[STATION_SOC_SLOTS];  /* bytes a board of that SoC takes, per soc enum */

	/* Stopping. */
	volatile int drain;                 /* engine: accept no new board */
	volatile int cancel;                /* engine: stop every board now */
	volatile const int *watch_flag;
	bool stop_requested;
	bool abandoning;                    /* board failures from now on are abandons */
	uint64_t stop_deadline_ms;          /* FINISH: abandon what is left after this */
	bool running;
	bool job_running;
	bool workers_left;                  /* the engine abandoned workers: never free */

	/* Recorder (recorder.c). */
	pthread_t recorder;
	bool recorder_started;
	bool recorder_quit;
	bool recorder_busy;
	struct pending_record *queue;
	size_t queue_count, queue_cap;

	struct pv_station_summary summary;
};

/* station.c */
uint64_t station_now(const struct pv_station *st);
/* Find a board by id (lock held). */
struct board_entry *station_board_by_id(struct pv_station *st, uint64_t id);
/* Emit an event: take `deliver`, then under `lock` let `update` change the board (may be
 * NULL, and the board may be NULL for station events), copy it, and deliver the event to
 * every subscriber. The detail also goes to the board's log. */
struct station_event_args {
	enum pv_station_event_kind kind;
	uint64_t board_id;                  /* 0: a station event */
	const char *detail;
	const char *file, *value;
	uint64_t size;
	bool created;
	unsigned conflicts;
	void (*update)(struct pv_station *st, struct board_entry *e, void *user);
	void *user;
	const struct pv_usb_event *usb;     /* the engine's event it came from, or NULL */
};
void station_emit(struct pv_station *st, const struct station_event_args *args);

/* The recorder thread calls it about every 100 ms: the stop flag and the grace deadline.
 * Returns how long it may sleep (ms). */
unsigned station_supervise(struct pv_station *st);
/* A board (by key) and copies of its log lines, oldest first (free each and the array). */
int station_board_log(struct pv_station *st, const char *key, struct pv_station_board *board,
		      char ***lines, size_t *count);

/* json.c: the event as a JSON object (malloc'd text). */
char *station_event_json(const struct pv_station_event *ev, size_t *len);

/* recorder.c */
int station_recorder_start(struct pv_station *st);
/* Wait until every queued board is recorded, then stop the thread. */
void station_recorder_finish(struct pv_station *st);
/* Queue a verified (or booted) board; takes a copy of result. lock held. */
int station_recorder_queue(struct pv_station *st, uint64_t board_id,
			   const struct pv_usb_board_result *result);

/* profile copies (station.c) */
int station_profile_copy(const struct pv_station_profile *in, struct station_profile **out);
void station_profile_free(struct station_profile *sp);

#endif
