/* The job engine (piprov/usb.h): the main thread scans the bus whenever it signals a change
 * and keeps one slot per port path; each selected board gets a worker thread running its
 * state machine. Workers wait for "their" port path to change on a condition variable the
 * main thread broadcasts after every scan, so nothing polls and nothing sleeps a fixed
 * time: retry backoffs and re-enumeration waits are timed condition waits that a scan, a
 * finished board or a cancel cut short.
 *
 * The main thread is also the watchdog: a board past its deadline, or any board once the job
 * is cancelled, has its open transfer interrupted (pv_usb_interrupt); a worker that still
 * has not returned after a grace period (a backend that cannot cancel, a thread busy in a
 * loop) is abandoned: its board is recorded as failed and the job ends without it. */
#include <errno.h>
#include <fnmatch.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "internal.h"
#include "piprov/text.h"
#include "piprov/usb.h"
#include "banned.h"

#define WORKER_STACK_SIZE (512u * 1024u)
#define SOC_SLOTS 8
/* Past its deadline a board's transfer is interrupted after INTERRUPT_AFTER_MS (the worker's
 * own deadline checks give the better reason first), and the worker is abandoned after
 * ABANDON_AFTER_MS. */
#define INTERRUPT_AFTER_MS 200u
#define ABANDON_AFTER_MS 1000u
/* After a cancel, workers get this long to return before they are abandoned, so that a
 * signal ends the process within a second in every state. */
#define CANCEL_GRACE_MS 500u
/* A cancel flag set from a signal handler cannot wake the engine: with one, the engine looks
 * at it at least this often (callers should also call pv_usb_bus_wakeup). */
#define CANCEL_POLL_MS 100u

struct job;

struct slot {
	struct job *job;
	struct slot *next;
	char port_path[PV_USB_PORT_PATH_MAX];
	struct pv_usb_device_info latest; /* the newest sighting on this path */
	unsigned sightings;               /* bumped by every scan that sees the path */
	bool present;
	bool finished;                    /* worker done; freed once the path is empty */
	bool thread_started;
	bool abandoned;                   /* given up on by the watchdog; never joined */
	bool interrupted;                 /* the watchdog interrupted its transfers */
	pthread_t thread;
	uint64_t deadline_ms;             /* found + board_ms */
	/* Job-lock protected copies for the watchdog (the worker owns `result`). */
	struct pv_usb_transport *transport; /* the transport in use, NULL when none */
	enum pv_usb_phase phase;          /* last phase emitted */
	char known_serial[PV_USB_SERIAL_MAX];
	/* Worker-owned while running. */
	struct pv_usb_board_result result;
	uint64_t started_ms;
	uint64_t server_base_bytes;       /* bytes sent before the file server started */
	const char *chip;
};

struct payload_cache {
	bool tried;
	int status;
	char reason[256];
	const struct pv_usb_payload *payload;
};

struct job {
	const struct pv_usb_job_config *cfg;
	/* A copy, so an abandoned worker never reads the caller's (maybe gone) struct. */
	struct pv_usb_job_config cfg_copy;
	pthread_mutex_t lock;
	pthread_cond_t changed;           /* CLOCK_MONOTONIC */
	pthread_mutex_t event_lock;
	pthread_mutex_t payload_lock;
	struct payload_cache payloads[SOC_SLOTS];
	struct slot *slots;
	volatile int stop;
	unsigned active;                  /* workers running */
	unsigned started;                 /* boards accepted (skipped ones given back) */
	unsigned target;                  /* 0 = not known yet */
	bool target_known;
	uint64_t last_activity_ms;
	uint64_t cancelled_at_ms;         /* 0 until the job stops */
	unsigned abandoned;               /* workers given up on (still running) */
	bool closed;                      /* pv_usb_job_run returned: no more events */
	bool left_to_workers;             /* it returned with abandoned workers running: the
					   * last of them frees the job */
	struct pv_usb_job_result *result;
	size_t result_cap;
};

const char *pv_usb_phase_name(enum pv_usb_phase phase)
{
	static const char *const names[] = {
		[PV_USB_PHASE_FOUND] = "found",
		[PV_USB_PHASE_ROM] = "rom",
		[PV_USB_PHASE_REENUMERATE] = "reenumerate",
		[PV_USB_PHASE_SERVING] = "serving",
		[PV_USB_PHASE_RETRY] = "retry",
		[PV_USB_PHASE_VERIFIED] = "verified",
		[PV_USB_PHASE_BOOTED] = "booted",
		[PV_USB_PHASE_FAILED] = "failed",
		[PV_USB_PHASE_SKIPPED] = "skipped",
	};

	if ((size_t)phase < PV_ARRAY_SIZE(names) && names[phase])
		return names[phase];
	return "unknown";
}

void pv_usb_job_config_init(struct pv_usb_job_config *config)
{
	memset(config, 0, sizeof(*config));
	config->mode = PV_USB_JOB_BOOT;
	config->port_number = -1;
	pv_usb_timeouts_default(&config->timeouts);
}

void pv_usb_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;

	if (!EVP_Digest(data, len, digest, &digest_len, EVP_sha256(), NULL) || digest_len != 32) {
		out[0] = '\0';
		return;
	}
	pv_hex_encode(digest, 32, out);
}

bool pv_usb_port_matches(const char *port_path, const char *const *globs, size_t count)
{
	if (count == 0)
		return true;
	for (size_t i = 0; i < count; i++)
		if (fnmatch(globs[i], port_path, 0) == 0)
			return true;
	return false;
}

/* The event lock, given up after a while: a callback that never returns must not hold the
 * watchdog (or the end of the job) forever. */
static bool lock_events(struct job *job)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 200 * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return pthread_mutex_timedlock(&job->event_lock, &ts) == 0;
}

static bool cancelled(struct job *job)
{
	return job->stop || (job->cfg->cancel && *job->cfg->cancel);
}

/* The last number of the port path: the port on the parent hub (rpiboot -N). */
static int last_port_number(const char *port_path)
{
	const char *p = strrchr(port_path, '.');
	uint32_t value;

	if (!p)
		p = strchr(port_path, '-');
	if (!p || pv_parse_u32(p + 1, 10, &value))
		return -1;
	return (int)value;
}

static bool selected(const struct pv_usb_job_config *cfg, const struct pv_usb_device_info *info)
{
	if (!pv_soc_by_usb_id(info->vendor_id, info->product_id))
		return false;
	if (!pv_usb_port_matches(info->port_path, cfg->port_globs, cfg->port_glob_count))
		return false;
	if (cfg->port_number >= 0 && last_port_number(info->port_path) != cfg->port_number)
		return false;
	/* A serial the scan already knows can be checked now; others after opening. */
	if (cfg->serial && info->serial[0] && strcmp(cfg->serial, info->serial) != 0)
		return false;
	return true;
}

static void deliver(struct slot *slot, const struct pv_usb_event *ev)
{
	struct job *job = slot->job;
	bool abandoned;

	pthread_mutex_lock(&job->lock);
	slot->phase = ev->phase;
	abandoned = slot->abandoned;
	pthread_mutex_unlock(&job->lock);
	if (!job->cfg->event || abandoned)
		return;
	pthread_mutex_lock(&job->event_lock);
	if (!job->closed)
		job->cfg->event(job->cfg->event_user, ev);
	pthread_mutex_unlock(&job->event_lock);
}

static void event_init(struct slot *slot, struct pv_usb_event *ev, enum pv_usb_phase phase,
		       const char *detail, unsigned attempt)
{
	memset(ev, 0, sizeof(*ev));
	ev->phase = phase;
	ev->port_path = slot->port_path;
	ev->serial = slot->result.serial;
	ev->chip = slot->chip ? slot->chip : "";
	ev->detail = detail ? detail : "";
	ev->bytes = slot->result.bytes;
	ev->elapsed_ms = pv_usb_now_ms() - slot->started_ms;
	ev->attempt = attempt;
	ev->file = "";
	ev->source = "";
	ev->result = phase == PV_USB_PHASE_VERIFIED || phase == PV_USB_PHASE_BOOTED ||
			     phase == PV_USB_PHASE_FAILED
			     ? &slot->result
			     : NULL;
}

static void emit(struct slot *slot, enum pv_usb_phase phase, const char *detail,
		 unsigned attempt)
{
	struct pv_usb_event ev;

	event_init(slot, &ev, phase, detail, attempt);
	deliver(slot, &ev);
}

static void deadline_timespec(uint64_t deadline_ms, struct timespec *ts)
{
	ts->tv_sec = (time_t)(deadline_ms / 1000);
	ts->tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
}

/* Wait (job lock held) until the bus changes, the deadline passes or the job stops. */
static void wait_changed(struct job *job, uint64_t deadline_ms)
{
	struct timespec ts;

	deadline_timespec(deadline_ms, &ts);
	pthread_cond_timedwait(&job->changed, &job->lock, &ts);
}

static int get_payload(struct job *job, const struct pv_soc_info *soc,
		       const struct pv_usb_payload **out, char *reason, size_t reason_size)
{
	struct payload_cache *cache = &job->payloads[(size_t)soc->soc % SOC_SLOTS];
	int rc;

	pthread_mutex_lock(&job->payload_lock);
	if (!cache->tried) {
		cache->tried = true;
		cache->status = job->cfg->payload(job->cfg->payload_user, soc, &cache->payload);
		if (cache->status)
			pv_strlcpy(cache->reason, pv_last_error(), sizeof(cache->reason));
		else if (!cache->payload)
			cache->status = PV_ERR_UNSUPPORTED;
		if (cache->status && !cache->reason[0])
			snprintf(cache->reason, sizeof(cache->reason), "nothing to serve a %s",
				 soc->name);
	}
	rc = cache->status;
	if (rc)
		pv_strlcpy(reason, cache->reason, reason_size);
	else
		*out = cache->payload;
	pthread_mutex_unlock(&job->payload_lock);
	return rc;
}

/* Sets the failure reason from the last error of this thread. */
static void fail_with(struct slot *slot, const char *what, int status)
{
	snprintf(slot->result.reason, sizeof(slot->result.reason), "%s: %s", what,
		 status ? pv_last_error() : "failed");
}

/* Destroy a transport open_current() made, after taking it out of the watchdog's reach. */
static void release_transport(struct slot *slot, struct pv_usb_transport *t)
{
	pthread_mutex_lock(&slot->job->lock);
	if (slot->transport == t)
		slot->transport = NULL;
	pthread_mutex_unlock(&slot->job->lock);
	pv_usb_transport_destroy(t);
}

/* Open a transport on the current sighting of this slot. */
static int open_current(struct slot *slot, struct pv_usb_transport **out)
{
	struct job *job = slot->job;
	struct pv_usb_device_info info;
	struct pv_usb_transport *t;
	int rc;

	pthread_mutex_lock(&job->lock);
	info = slot->latest;
	pthread_mutex_unlock(&job->lock);
	rc = pv_usb_bus_create_transport(job->cfg->bus, &info, &t);
	if (rc)
		return rc;
	pthread_mutex_lock(&job->lock);
	slot->transport = t;
	if (slot->interrupted)
		pv_usb_interrupt(t);
	pthread_mutex_unlock(&job->lock);
	rc = pv_usb_open(t);
	if (rc) {
		release_transport(slot, t);
		return rc;
	}
	if (!slot->result.serial[0] && t->info.serial[0])
		pv_strlcpy(slot->result.serial, t->info.serial, sizeof(slot->result.serial));
	pthread_mutex_lock(&job->lock);
	pv_strlcpy(slot->known_serial, slot->result.serial, sizeof(slot->known_serial));
	pthread_mutex_unlock(&job->lock);
	*out = t;
	return PV_OK;
}

/* True when the serial filter rejects this board (known after the first open). */
static bool serial_rejected(struct slot *slot)
{
	const char *want = slot->job->cfg->serial;

	return want && strcmp(want, slot->result.serial) != 0;
}

enum step_result { STEP_OK, STEP_RETRY, STEP_FAIL, STEP_SKIP };

static enum step_result rom_stage(struct slot *slot, const struct pv_usb_payload *payload,
				  const struct pv_soc_info *soc, uint64_t deadline_ms,
				  unsigned attempt)
{
	struct job *job = slot->job;
	const struct pv_usb_timeouts *to = &job->cfg->timeouts;
	struct pv_usb_transport *t;
	bool reenumerating = false;
	unsigned seen;
	uint64_t wait_until;
	int rc;

	{
		struct pv_usb_event ev;

		event_init(slot, &ev, PV_USB_PHASE_ROM, soc->second_stage, attempt);
		ev.file = soc->second_stage;
		ev.source = payload->second_stage_path ? payload->second_stage_path : "";
		ev.origin = payload->second_stage_origin;
		ev.size = payload->second_stage_size;
		deliver(slot, &ev);
	}
	rc = open_current(slot, &t);
	if (rc) {
		fail_with(slot, "opening the boot ROM", rc);
		return rc == PV_ERR_ACCESS ? STEP_FAIL : STEP_RETRY;
	}
	if (serial_rejected(slot)) {
		release_transport(slot, t);
		return STEP_SKIP;
	}
	pthread_mutex_lock(&job->lock);
	seen = slot->sightings;
	pthread_mutex_unlock(&job->lock);
	rc = pv_usb_rom_boot(t, payload->second_stage, payload->second_stage_size,
			     payload->signature, to,
			     &reenumerating);
	release_transport(slot, t);
	if (rc) {
		fail_with(slot, "sending the second stage", rc);
		return STEP_RETRY;
	}
	slot->result.bytes += PV_USB_BOOT_MESSAGE_SIZE + payload->second_stage_size;
	emit(slot, PV_USB_PHASE_REENUMERATE, reenumerating ? "device left" : "", attempt);
	/* What the second stage will ask for is finished now, while the board re-enumerates
	 * (the flash image's digest): the first board does not wait for it before its
	 * upload. */
	if (payload->complete) {
		rc = payload->complete(payload, &job->stop);
		if (rc) {
			fail_with(slot, "preparing the files", rc);
			return STEP_FAIL;
		}
	}

	/* The second stage re-appears on the same port path with its own serial index. */
	wait_until = pv_usb_now_ms() + to->reenumerate_ms;
	if (wait_until > deadline_ms)
		wait_until = deadline_ms;
	pthread_mutex_lock(&job->lock);
	while (!cancelled(job)) {
		if (slot->present && slot->sightings != seen &&
		    slot->latest.serial_index == soc->second_stage_serial_index) {
			pthread_mutex_unlock(&job->lock);
			return STEP_OK;
		}
		if (pv_usb_now_ms() >= wait_until)
			break;
		wait_changed(job, wait_until);
	}
	pthread_mutex_unlock(&job->lock);
	snprintf(slot->result.reason, sizeof(slot->result.reason),
		 "the second stage did not appear on '%s' within %u ms", slot->port_path,
		 to->reenumerate_ms);
	return STEP_RETRY;
}

static void server_progress(void *user, const struct pv_usb_server_step *step)
{
	struct slot *slot = user;
	struct pv_usb_event ev;

	slot->result.bytes = slot->server_base_bytes + step->bytes_sent;
	event_init(slot, &ev, PV_USB_PHASE_SERVING, step->name, slot->result.attempts);
	ev.step = step->step;
	ev.command = step->command;
	ev.file = step->name ? step->name : "";
	ev.source = step->path ? step->path : "";
	ev.origin = step->origin;
	ev.size = step->size;
	deliver(slot, &ev);
}

/* Serve the second stage; on success fills the result's outcome. */
static enum step_result serve(struct slot *slot, const struct pv_usb_payload *payload,
			      const struct pv_soc_info *soc, uint64_t deadline_ms)
{
	struct job *job = slot->job;
	const struct pv_usb_timeouts *to = &job->cfg->timeouts;
	struct pv_usb_server_stats stats;
	struct pv_usb_transport *t = NULL;
	struct pv_usb_server_params params = {
		.files = payload->files,
		.chip = soc->rpiboot_folder,
		.port_path = slot->port_path,
		.timeouts = to,
		.deadline_ms = deadline_ms,
		.cancel = &job->stop,
		.metadata = &slot->result.metadata,
		.progress = server_progress,
		.progress_user = slot,
	};
	uint64_t open_until = pv_usb_now_ms() + to->reenumerate_ms;
	unsigned backoff = to->backoff_ms;
	int rc;

	/* Done already after the upload; here for a board found in its second stage. */
	if (payload->complete) {
		rc = payload->complete(payload, &job->stop);
		if (rc) {
			fail_with(slot, "preparing the files", rc);
			return STEP_FAIL;
		}
	}
	emit(slot, PV_USB_PHASE_SERVING, "", slot->result.attempts);
	/* A freshly enumerated device may refuse the first open for a moment. */
	for (;;) {
		rc = open_current(slot, &t);
		if (!rc || rc == PV_ERR_ACCESS || cancelled(job) || pv_usb_now_ms() >= open_until)
			break;
		pthread_mutex_lock(&job->lock);
		wait_changed(job, pv_usb_now_ms() + backoff);
		pthread_mutex_unlock(&job->lock);
		backoff *= 2;
	}
	if (rc) {
		fail_with(slot, "opening the second stage", rc);
		return STEP_FAIL;
	}
	if (slot->result.attempts == 0 && serial_rejected(slot)) {
		release_transport(slot, t);
		return STEP_SKIP;
	}
	/* The server counts its own bytes; progress adds them to what the ROM stage sent. */
	slot->server_base_bytes = slot->result.bytes;
	rc = pv_usb_file_server_run(t, &params, &stats);
	release_transport(slot, t);
	slot->result.bytes = slot->server_base_bytes + stats.bytes_sent;
	if (rc) {
		fail_with(slot, "serving files", rc);
		return STEP_FAIL;
	}
	if (!slot->result.serial[0]) {
		const char *user_serial = pv_usb_metadata_get(&slot->result.metadata,
							     "USER_SERIAL_NUM");
		if (user_serial)
			pv_strlcpy(slot->result.serial, user_serial, sizeof(slot->result.serial));
	} else if (slot->result.metadata.count > 0 &&
		   !pv_usb_metadata_get(&slot->result.metadata, "USER_SERIAL_NUM")) {
		/* Some firmware (the 2711 recovery) sends no serial: the USB string has it. */
		if (pv_usb_metadata_set(&slot->result.metadata, "USER_SERIAL_NUM",
					slot->result.serial) != PV_OK)
			pv_clear_error();
	}
	return STEP_OK;
}

/* The agreed verification rule (docs/usb.md): EEPROM_UPDATE is "success" and EEPROM_HASH
 * is the sha256 of the exact pieeprom.bin bytes served to this board. */
static bool verify_flash(struct slot *slot, const struct pv_usb_payload *payload)
{
	const struct pv_usb_metadata *md = &slot->result.metadata;
	const char *update = pv_usb_metadata_get(md, "EEPROM_UPDATE");
	const char *hash = pv_usb_metadata_get(md, "EEPROM_HASH");

	if (!update) {
		pv_strlcpy(slot->result.reason, "the firmware reported no EEPROM_UPDATE",
			   sizeof(slot->result.reason));
		return false;
	}
	if (strcmp(update, "success") != 0) {
		snprintf(slot->result.reason, sizeof(slot->result.reason),
			 "EEPROM_UPDATE is '%.64s', not 'success'", update);
		return false;
	}
	if (!hash) {
		pv_strlcpy(slot->result.reason, "the firmware reported no EEPROM_HASH",
			   sizeof(slot->result.reason));
		return false;
	}
	if (strcasecmp(hash, payload->image_sha256) != 0) {
		snprintf(slot->result.reason, sizeof(slot->result.reason),
			 "EEPROM_HASH %.64s is not the sha256 of the served pieeprom.bin (%s)",
			 hash, payload->image_sha256);
		return false;
	}
	return true;
}

static void write_metadata(struct slot *slot)
{
	const char *dir = slot->job->cfg->metadata_dir;
	char name[PV_USB_SERIAL_MAX];
	size_t j = 0;

	if (!dir || slot->result.metadata.count == 0)
		return;
	/* rpiboot names the file after the USB serial string; the port path stands in when
	 * no serial is known (dots kept, other separators become '_'). */
	pv_strlcpy(name, slot->result.serial[0] ? slot->result.serial : slot->port_path,
		   sizeof(name));
	for (size_t i = 0; name[i]; i++) {
		char c = name[i];
		bool plain = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			     (c >= 'A' && c <= 'Z') || c == '-' || c == '.' || c == '_';
		name[j++] = plain ? c : '_';
	}
	name[j] = '\0';
	if (name[0] == '.')
		name[0] = '_';
	if (pv_usb_metadata_write(&slot->result.metadata, dir, name))
		pv_log(PV_LOG_ERROR, "usb", "%s: metadata: %s", slot->port_path, pv_last_error());
}

/* Add a board's result to the job's (job lock held). */
static void append_result(struct job *job, const struct pv_usb_board_result *board)
{
	struct pv_usb_job_result *r = job->result;

	if (r->count == job->result_cap) {
		size_t cap = job->result_cap ? job->result_cap * 2 : 16;
		struct pv_usb_board_result *grown = realloc(r->boards, cap * sizeof(*grown));

		if (!grown) {
			pv_log(PV_LOG_ERROR, "usb", "%s: out of memory recording the result",
			       board->port_path);
			return;
		}
		r->boards = grown;
		job->result_cap = cap;
	}
	r->boards[r->count++] = *board;
	if (board->outcome == PV_USB_PHASE_FAILED)
		r->failed++;
	else
		r->succeeded++;
}

static void record_result(struct slot *slot)
{
	struct job *job = slot->job;

	slot->result.elapsed_ms = pv_usb_now_ms() - slot->started_ms;
	pthread_mutex_lock(&job->lock);
	append_result(job, &slot->result);
	pthread_mutex_unlock(&job->lock);
}

static void job_free(struct job *job)
{
	while (job->slots) {
		struct slot *s = job->slots;

		job->slots = s->next;
		free(s);
	}
	pthread_cond_destroy(&job->changed);
	pthread_mutex_destroy(&job->payload_lock);
	pthread_mutex_destroy(&job->event_lock);
	pthread_mutex_destroy(&job->lock);
	free(job);
}

static void *worker_main(void *arg)
{
	struct slot *slot = arg;
	struct job *job = slot->job;
	const struct pv_usb_timeouts *to = &job->cfg->timeouts;
	const struct pv_usb_payload *payload = NULL;
	const struct pv_soc_info *soc;
	struct pv_usb_device_info first;
	uint64_t deadline_ms;
	enum step_result step = STEP_FAIL;
	unsigned backoff = to->backoff_ms;

	pthread_mutex_lock(&job->lock);
	first = slot->latest;
	deadline_ms = slot->deadline_ms;
	pthread_mutex_unlock(&job->lock);
	soc = pv_soc_by_usb_id(first.vendor_id, first.product_id);
	slot->result.soc = soc;
	slot->chip = soc ? soc->chip : "";
	pv_strlcpy(slot->result.port_path, slot->port_path, sizeof(slot->result.port_path));
	pv_strlcpy(slot->result.serial, first.serial, sizeof(slot->result.serial));
	pv_usb_metadata_init(&slot->result.metadata);
	emit(slot, PV_USB_PHASE_FOUND, soc ? soc->name : "", 0);

	if (get_payload(job, soc, &payload, slot->result.reason, sizeof(slot->result.reason)))
		goto out_finish;
	if (first.serial_index == soc->rom_serial_index) {
		for (;;) {
			slot->result.attempts++;
			step = rom_stage(slot, payload, soc, deadline_ms, slot->result.attempts);
			if (step != STEP_RETRY)
				break;
			if (cancelled(job)) {
				step = STEP_FAIL;
				pv_strlcpy(slot->result.reason, "cancelled",
					   sizeof(slot->result.reason));
				break;
			}
			if (slot->result.attempts >= to->rom_attempts ||
			    pv_usb_now_ms() + backoff >= deadline_ms) {
				step = STEP_FAIL;
				break;
			}
			emit(slot, PV_USB_PHASE_RETRY, slot->result.reason, slot->result.attempts);
			pthread_mutex_lock(&job->lock);
			{
				/* Back off, then wait (bounded) for the ROM to be there again. */
				uint64_t until = pv_usb_now_ms() + backoff;
				uint64_t give_up = pv_usb_now_ms() + to->reenumerate_ms;

				while (!cancelled(job) && pv_usb_now_ms() < until)
					wait_changed(job, until);
				while (!cancelled(job) && pv_usb_now_ms() < give_up &&
				       !(slot->present &&
					 slot->latest.serial_index == soc->rom_serial_index))
					wait_changed(job, give_up);
			}
			pthread_mutex_unlock(&job->lock);
			backoff *= 2;
		}
		if (step != STEP_OK)
			goto out_finish;
	}
	step = serve(slot, payload, soc, deadline_ms);
	if (step != STEP_OK)
		goto out_finish;
	slot->result.reason[0] = '\0';
	if (job->cfg->mode == PV_USB_JOB_FLASH && !verify_flash(slot, payload))
		step = STEP_FAIL;

out_finish:
	pthread_mutex_lock(&job->lock);
	if (slot->abandoned) {
		/* The watchdog recorded this board and the job may have ended: touch nothing
		 * of the caller's. The last abandoned worker to come back frees the job. */
		bool last = --job->abandoned == 0 && job->left_to_workers;

		pthread_mutex_unlock(&job->lock);
		if (last)
			job_free(job);
		return NULL;
	}
	pthread_mutex_unlock(&job->lock);
	if (step == STEP_SKIP) {
		emit(slot, PV_USB_PHASE_SKIPPED, "serial does not match", slot->result.attempts);
	} else {
		if (step == STEP_OK)
			slot->result.outcome = job->cfg->mode == PV_USB_JOB_FLASH
						       ? PV_USB_PHASE_VERIFIED
						       : PV_USB_PHASE_BOOTED;
		else
			slot->result.outcome = PV_USB_PHASE_FAILED;
		if (slot->result.outcome == PV_USB_PHASE_FAILED && !slot->result.reason[0])
			pv_strlcpy(slot->result.reason, "failed", sizeof(slot->result.reason));
		write_metadata(slot);
		record_result(slot);
		emit(slot, slot->result.outcome, slot->result.reason, slot->result.attempts);
	}
	pthread_mutex_lock(&job->lock);
	slot->finished = true;
	job->active--;
	if (step == STEP_SKIP)
		job->started--;
	job->last_activity_ms = pv_usb_now_ms();
	pthread_cond_broadcast(&job->changed);
	pthread_mutex_unlock(&job->lock);
	pv_usb_bus_wakeup(job->cfg->bus);
	return NULL;
}

/* The watchdog gives up on a worker that did not return (job lock held): the board is
 * recorded as failed from what the job knows of it, and the job no longer waits for it. */
static void abandon(struct job *job, struct slot *s, uint64_t now)
{
	struct pv_usb_board_result *r = calloc(1, sizeof(*r));
	const char *phase = pv_usb_phase_name(s->phase);

	s->abandoned = true;
	s->finished = true;
	job->active--;
	job->abandoned++;
	job->result->abandoned++;
	job->last_activity_ms = now;
	if (s->thread_started)
		pthread_detach(s->thread);
	pv_log(PV_LOG_ERROR, "usb", "%s: the worker did not return %s (phase %s): abandoned",
	       s->port_path, job->cancelled_at_ms ? "after the cancel" : "at the board timeout",
	       phase);
	if (!r)
		return;
	pv_strlcpy(r->port_path, s->port_path, sizeof(r->port_path));
	pv_strlcpy(r->serial, s->known_serial, sizeof(r->serial));
	r->soc = pv_soc_by_usb_id(s->latest.vendor_id, s->latest.product_id);
	r->outcome = PV_USB_PHASE_FAILED;
	if (job->cancelled_at_ms)
		snprintf(r->reason, sizeof(r->reason), "cancelled during %s", phase);
	else
		snprintf(r->reason, sizeof(r->reason),
			 "board timeout (%u s) during %s: the transfer did not return",
			 (job->cfg->timeouts.board_ms + 999) / 1000, phase);
	r->elapsed_ms = now - s->started_ms;
	pv_usb_metadata_init(&r->metadata);
	append_result(job, r);
	if (job->cfg->event) {
		struct pv_usb_event ev = {
			.phase = PV_USB_PHASE_FAILED,
			.port_path = s->port_path,
			.serial = r->serial,
			.chip = r->soc ? r->soc->chip : "",
			.detail = r->reason,
			.elapsed_ms = r->elapsed_ms,
			.file = "",
			.source = "",
			.result = r,
		};
		/* Lock order: job lock, then event lock (emit never holds both). */
		if (lock_events(job)) {
			if (!job->closed)
				job->cfg->event(job->cfg->event_user, &ev);
			pthread_mutex_unlock(&job->event_lock);
		}
	}
	free(r);
}

/* The watchdog (job lock held): interrupt the transfers of boards past their deadline (or
 * of every board once the job is cancelled), abandon workers that still do not return.
 * Returns when it next needs to look (UINT64_MAX: nothing to watch). */
static uint64_t watch_boards(struct job *job, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	for (struct slot *s = job->slots; s; s = s->next) {
		uint64_t interrupt_at, abandon_at;

		if (s->finished || !s->thread_started)
			continue;
		if (job->cancelled_at_ms) {
			interrupt_at = job->cancelled_at_ms;
			abandon_at = job->cancelled_at_ms + CANCEL_GRACE_MS;
		} else {
			interrupt_at = s->deadline_ms + INTERRUPT_AFTER_MS;
			abandon_at = s->deadline_ms + ABANDON_AFTER_MS;
		}
		if (now >= abandon_at) {
			abandon(job, s, now);
			continue;
		}
		if (now >= interrupt_at && !s->interrupted) {
			s->interrupted = true;
			pv_usb_interrupt(s->transport);
		}
		if (now < interrupt_at && interrupt_at < next)
			next = interrupt_at;
		else if (now >= interrupt_at && abandon_at < next)
			next = abandon_at;
	}
	return next;
}

static struct slot *find_slot(struct job *job, const char *port_path)
{
	for (struct slot *s = job->slots; s; s = s->next)
		if (strcmp(s->port_path, port_path) == 0)
			return s;
	return NULL;
}

static bool draining(struct job *job)
{
	return job->cfg->drain && *job->cfg->drain;
}

static bool accepting(struct job *job)
{
	if (cancelled(job) || draining(job))
		return false;
	if (job->cfg->loop)
		return true;
	return !job->target_known || job->started < job->target;
}

static int port_policy(struct job *job, const char *port_path)
{
	if (!job->cfg->port_policy)
		return PV_USB_PORT_SERVE;
	return job->cfg->port_policy(job->cfg->port_policy_user, port_path);
}

static int start_slot(struct job *job, const struct pv_usb_device_info *info)
{
	struct slot *slot = calloc(1, sizeof(*slot));
	pthread_attr_t attr;
	int err;

	if (!slot)
		return pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
	slot->job = job;
	pv_strlcpy(slot->port_path, info->port_path, sizeof(slot->port_path));
	pv_strlcpy(slot->known_serial, info->serial, sizeof(slot->known_serial));
	slot->started_ms = pv_usb_now_ms();
	slot->deadline_ms = slot->started_ms + job->cfg->timeouts.board_ms;
	slot->phase = PV_USB_PHASE_FOUND;
	slot->latest = *info;
	slot->present = true;
	slot->sightings = 1;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WORKER_STACK_SIZE);
	err = pthread_create(&slot->thread, &attr, worker_main, slot);
	pthread_attr_destroy(&attr);
	if (err) {
		free(slot);
		return pv_fail_errno(err, "usb", "%s: cannot start a worker thread",
				     info->port_path);
	}
	slot->thread_started = true;
	slot->next = job->slots;
	job->slots = slot;
	job->active++;
	job->started++;
	job->last_activity_ms = pv_usb_now_ms();
	return PV_OK;
}

/* A board an earlier job served (PV_USB_PORT_SERVED): a finished slot without a worker,
 * so the port is not served again until it was seen empty. */
static int keep_served_slot(struct job *job, const struct pv_usb_device_info *info)
{
	struct slot *slot = calloc(1, sizeof(*slot));

	if (!slot)
		return pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
	slot->job = job;
	pv_strlcpy(slot->port_path, info->port_path, sizeof(slot->port_path));
	slot->latest = *info;
	slot->present = true;
	slot->sightings = 1;
	slot->finished = true;
	slot->next = job->slots;
	job->slots = slot;
	return PV_OK;
}

/* Served again on a retry only from its boot ROM: a board whose recovery program ran stays
 * in its second stage and asks for nothing more; it is served once it was re-plugged or
 * reset (its port seen empty). */
static bool in_rom_stage(const struct pv_usb_device_info *info)
{
	const struct pv_soc_info *soc = pv_soc_by_usb_id(info->vendor_id, info->product_id);

	return soc && info->serial_index == soc->rom_serial_index;
}

/* Apply one scan: update sightings, start workers for new boards, free finished slots
 * whose port is empty. Job lock held. */
static int apply_scan(struct job *job, const struct pv_usb_device_info *devices, size_t count)
{
	unsigned new_boards = 0;
	int rc = PV_OK, policy;

	for (struct slot *s = job->slots; s; s = s->next)
		s->present = false;
	for (size_t i = 0; i < count; i++) {
		const struct pv_usb_device_info *info = &devices[i];
		struct slot *slot;

		if (!selected(job->cfg, info))
			continue;
		slot = find_slot(job, info->port_path);
		if (slot) {
			slot->present = true;
			slot->latest = *info;
			slot->sightings++;
			continue;
		}
		if (!accepting(job))
			continue;
		policy = port_policy(job, info->port_path);
		if (policy == PV_USB_PORT_HOLD)
			continue;
		if (policy == PV_USB_PORT_SERVED) {
			rc = keep_served_slot(job, info);
			if (rc)
				break;
			continue;
		}
		rc = start_slot(job, info);
		if (rc)
			break;
		new_boards++;
	}
	if (!job->target_known && !job->cfg->loop && new_boards > 0) {
		job->target = job->cfg->count ? job->cfg->count : new_boards;
		job->target_known = true;
	}
	for (struct slot **link = &job->slots; *link;) {
		struct slot *s = *link;

		if (s->finished && !s->abandoned &&
		    (!s->present || (port_policy(job, s->port_path) == PV_USB_PORT_AGAIN &&
				     in_rom_stage(&s->latest)))) {
			*link = s->next;
			if (s->thread_started) {
				pthread_mutex_unlock(&job->lock);
				pthread_join(s->thread, NULL);
				pthread_mutex_lock(&job->lock);
			}
			free(s);
			continue;
		}
		link = &s->next;
	}
	pthread_cond_broadcast(&job->changed);
	return rc;
}

static bool job_done(struct job *job)
{
	if (job->active > 0)
		return false;
	if (cancelled(job) || draining(job))
		return true;
	if (job->cfg->loop)
		return false;
	return job->target_known && job->started >= job->target;
}

int pv_usb_job_run(const struct pv_usb_job_config *config, struct pv_usb_job_result *result)
{
	struct job *job = calloc(1, sizeof(*job));
	pthread_condattr_t cattr;
	int rc = PV_OK;

	memset(result, 0, sizeof(*result));
	if (!job)
		return pv_fail(PV_ERR_NOMEM, "usb", "out of memory");
	job->cfg_copy = *config;
	job->cfg = &job->cfg_copy;
	job->result = result;
	if (config->count && !config->loop) {
		job->target = config->count;
		job->target_known = true;
	}
	pthread_mutex_init(&job->lock, NULL);
	pthread_mutex_init(&job->event_lock, NULL);
	pthread_mutex_init(&job->payload_lock, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&job->changed, &cattr);
	pthread_condattr_destroy(&cattr);
	job->last_activity_ms = pv_usb_now_ms();

	pthread_mutex_lock(&job->lock);
	for (;;) {
		struct pv_usb_device_info *devices = NULL;
		size_t count = 0;
		uint64_t now, next_watch;
		unsigned wait;

		if (cancelled(job)) {
			job->stop = 1;
			result->cancelled = true;
			if (!job->cancelled_at_ms)
				job->cancelled_at_ms = pv_usb_now_ms();
			pthread_cond_broadcast(&job->changed);
		}
		pthread_mutex_unlock(&job->lock);
		rc = pv_usb_bus_scan(config->bus, &devices, &count);
		pthread_mutex_lock(&job->lock);
		if (rc) {
			job->stop = 1;
			pthread_cond_broadcast(&job->changed);
			break;
		}
		rc = apply_scan(job, devices, count);
		free(devices);
		if (rc) {
			job->stop = 1;
			pthread_cond_broadcast(&job->changed);
			break;
		}
		now = pv_usb_now_ms();
		next_watch = watch_boards(job, now);
		if (job_done(job))
			break;
		if (job->active == 0 && config->wait_ms &&
		    now - job->last_activity_ms >= config->wait_ms) {
			result->waited_out = true;
			break;
		}
		/* Finished workers and bus changes wake us; a cancel flag set from a signal
		 * handler cannot, so with one the loop looks at it once a second. */
		wait = config->cancel || config->drain ? CANCEL_POLL_MS : 60000;
		if (job->stop)
			wait = CANCEL_POLL_MS;
		if (next_watch != UINT64_MAX && next_watch - now < wait)
			wait = (unsigned)(next_watch - now) + 1;
		if (job->active == 0 && config->wait_ms) {
			uint64_t left = config->wait_ms - (now - job->last_activity_ms);
			if (left < wait)
				wait = (unsigned)left;
		}
		pthread_mutex_unlock(&job->lock);
		pv_usb_bus_wait_event(config->bus, wait);
		pthread_mutex_lock(&job->lock);
	}
	/* Stop (on error or cancel) and join every worker; on an error the workers get the same
	 * grace as after a cancel. */
	job->stop = 1;
	if (!job->cancelled_at_ms)
		job->cancelled_at_ms = pv_usb_now_ms();
	pthread_cond_broadcast(&job->changed);
	while (job->active > 0) {
		uint64_t now = pv_usb_now_ms(), next = watch_boards(job, now);
		struct timespec ts;

		if (job->active == 0 || next == UINT64_MAX)
			break;
		deadline_timespec(next + 1, &ts);
		pthread_cond_timedwait(&job->changed, &job->lock, &ts);
	}
	for (struct slot *s = job->slots; s; s = s->next)
		if (s->thread_started && !s->abandoned)
			pthread_join(s->thread, NULL); /* finished: returns at once */
	if (lock_events(job)) {
		job->closed = true;
		pthread_mutex_unlock(&job->event_lock);
	} else {
		job->closed = true; /* a callback is stuck: it cannot see this either way */
	}
	if (job->abandoned > 0) {
		/* Workers still running use the job: it is left to them (the last one frees
		 * it), see pv_usb_job_run in piprov/usb.h. */
		job->left_to_workers = true;
		pthread_mutex_unlock(&job->lock);
		return rc;
	}
	pthread_mutex_unlock(&job->lock);
	job_free(job);
	return rc;
}

void pv_usb_job_result_release(struct pv_usb_job_result *result)
{
	free(result->boards);
	memset(result, 0, sizeof(*result));
}
