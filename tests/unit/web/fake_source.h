/* A station as the web server sees it (the pv_web_source ops), made of plain data the test
 * sets: boards, their logs, an inventory, what actions answer. Thread-safe like the real one.
 * Used by the server's unit tests and by tests/browser's fake station program. */
#ifndef PIPROV_TEST_FAKE_SOURCE_H
#define PIPROV_TEST_FAKE_SOURCE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "piprov/buf.h"
#include "piprov/web.h"

#define FAKE_BOARDS_MAX 256
#define FAKE_SUBS_MAX 64

struct fake_board {
	char serial[64];
	char port[48];
	char state[16];
	char reason[256];
	char chip[8];
	char board[64];
	char stage[64];
	uint64_t bytes, total;
	char mac[32];
	char ip[32];
	char hostname[64];
	char note[256];          /* metadata USER_NOTE when not "" */
};

struct fake_source {
	pthread_mutex_t lock;
	struct fake_board boards[FAKE_BOARDS_MAX];
	struct pv_buf logs[FAKE_BOARDS_MAX];   /* one line per event, '\n'-separated */
	size_t count;

	struct {
		pv_web_event_fn fn;
		void *user;
		uint64_t id;
	} subs[FAKE_SUBS_MAX];
	size_t sub_count;
	uint64_t next_id;
	unsigned subscribes, unsubscribes;

	char *inventory_json;   /* NULL: the inventory op fails with PV_ERR_NOT_FOUND */
	int action_rc;          /* what action returns */
	unsigned actions;       /* how many accepted */
	enum pv_web_action last_action;
	char last_serial[PV_WEB_NAME_MAX];
};

void fake_source_init(struct fake_source *fs);
void fake_source_release(struct fake_source *fs);
struct pv_web_source fake_source_web(struct fake_source *fs);

/* Set the board on b->port (add it when new) and emit `event` about it with `detail`. */
void fake_source_update(struct fake_source *fs, const struct fake_board *b, const char *event,
			const char *detail);
/* Emit raw event text to every subscriber. */
void fake_source_emit(struct fake_source *fs, const char *json);
void fake_source_set_inventory(struct fake_source *fs, const char *json);
size_t fake_source_subscribers(struct fake_source *fs);

#endif
