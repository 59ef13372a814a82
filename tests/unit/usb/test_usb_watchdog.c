/* The job engine's watchdog (issue 15): a board job honours its deadline and a cancel even
 * when its worker thread is stuck — in a transfer that ignores its timeout, in a busy loop,
 * or in one that can be interrupted. A stub bus holds one BCM2711 boot ROM whose transport
 * misbehaves as each test asks. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "piprov/error.h"
#include "piprov/text.h"
#include "piprov/usb.h"
#include "test_support.h"

enum stuck_kind {
	STUCK_SLEEPS,        /* blocks, ignoring its timeout; cannot be interrupted */
	STUCK_SPINS,         /* a busy loop; cannot be interrupted */
	STUCK_INTERRUPTIBLE, /* blocks until pv_usb_interrupt */
};

static enum stuck_kind kind;
static volatile int release_all; /* lets abandoned workers go at the end of the program */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static bool woken;

struct stuck {
	volatile int interrupted;
};

static uint64_t now_ms(void)
{
	return pv_usb_now_ms();
}

static int stuck_open(struct pv_usb_transport *t)
{
	(void)t;
	return PV_OK;
}

static void stuck_close(struct pv_usb_transport *t)
{
	(void)t;
}

/* Every transfer gets stuck in the way the test chose. */
static int stuck_transfer(struct pv_usb_transport *t)
{
	struct stuck *st = t->priv;

	switch (kind) {
	case STUCK_SLEEPS:
		while (!release_all) {
			struct timespec ts = { 0, 10 * 1000000L };
			nanosleep(&ts, NULL);
		}
		break;
	case STUCK_SPINS:
		while (!release_all)
			;
		break;
	case STUCK_INTERRUPTIBLE:
		while (!st->interrupted && !release_all) {
			struct timespec ts = { 0, 1000000L };
			nanosleep(&ts, NULL);
		}
		return pv_fail(PV_ERR_INTERRUPTED, "stub", "interrupted");
	}
	return pv_fail(PV_ERR_NO_DEVICE, "stub", "released");
}

static int stuck_out(struct pv_usb_transport *t, uint32_t length, unsigned timeout_ms)
{
	(void)length;
	(void)timeout_ms;
	return stuck_transfer(t);
}

static int stuck_in(struct pv_usb_transport *t, void *buf, size_t len, size_t *actual,
		    unsigned timeout_ms)
{
	(void)buf;
	(void)len;
	(void)actual;
	(void)timeout_ms;
	return stuck_transfer(t);
}

static int stuck_bulk(struct pv_usb_transport *t, const void *data, size_t len, size_t *actual,
		      unsigned timeout_ms)
{
	(void)data;
	(void)len;
	(void)timeout_ms;
	*actual = 0;
	return stuck_transfer(t);
}

static void stuck_destroy(struct pv_usb_transport *t)
{
	free(t->priv);
	free(t);
}

static void stuck_interrupt(struct pv_usb_transport *t)
{
	((struct stuck *)t->priv)->interrupted = 1;
}

static const struct pv_usb_transport_ops ops_plain = {
	.open = stuck_open, .close = stuck_close, .control_out_length = stuck_out,
	.control_in = stuck_in, .bulk_out = stuck_bulk, .destroy = stuck_destroy,
};
static const struct pv_usb_transport_ops ops_interruptible = {
	.open = stuck_open, .close = stuck_close, .control_out_length = stuck_out,
	.control_in = stuck_in, .bulk_out = stuck_bulk, .destroy = stuck_destroy,
	.interrupt = stuck_interrupt,
};

static void device(struct pv_usb_device_info *info)
{
	memset(info, 0, sizeof(*info));
	info->vendor_id = 0x0a5c;
	info->product_id = 0x2711;
	info->serial_index = 3;
	info->num_interfaces = 1;
	pv_strlcpy(info->port_path, "9-1", sizeof(info->port_path));
	pv_strlcpy(info->serial, "2188c924", sizeof(info->serial));
	info->backend = "stub";
}

static int bus_scan(struct pv_usb_bus *bus, struct pv_usb_device_info **devices, size_t *count)
{
	(void)bus;
	*devices = calloc(1, sizeof(**devices));
	assert_non_null(*devices);
	device(*devices);
	*count = 1;
	return PV_OK;
}

static int bus_wait(struct pv_usb_bus *bus, unsigned timeout_ms)
{
	struct timespec ts;
	int rc = PV_ERR_TIMEOUT;

	(void)bus;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(timeout_ms / 1000);
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&lock);
	if (!woken)
		pthread_cond_timedwait(&cond, &lock, &ts);
	if (woken)
		rc = PV_ERR_INTERRUPTED;
	woken = false;
	pthread_mutex_unlock(&lock);
	return rc;
}

static void bus_wakeup(struct pv_usb_bus *bus)
{
	(void)bus;
	pthread_mutex_lock(&lock);
	woken = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static int bus_transport(struct pv_usb_bus *bus, const struct pv_usb_device_info *info,
			 struct pv_usb_transport **out)
{
	struct pv_usb_transport *t = calloc(1, sizeof(*t));

	(void)bus;
	assert_non_null(t);
	t->priv = calloc(1, sizeof(struct stuck));
	assert_non_null(t->priv);
	t->ops = kind == STUCK_INTERRUPTIBLE ? &ops_interruptible : &ops_plain;
	t->info = *info;
	*out = t;
	return PV_OK;
}

static void bus_destroy(struct pv_usb_bus *bus)
{
	(void)bus;
}

static const struct pv_usb_bus_ops bus_ops = {
	.scan = bus_scan, .wait_event = bus_wait, .wakeup = bus_wakeup,
	.create_transport = bus_transport, .destroy = bus_destroy,
};
/* Never freed: an abandoned worker may still use it until the program ends. */
static struct pv_usb_bus stub_bus = { .ops = &bus_ops };

static const char code[] = "second stage";
static struct pv_usb_payload payload = { .second_stage = code, .second_stage_size = 12 };

static int get_payload(void *user, const struct pv_soc_info *soc,
		       const struct pv_usb_payload **out)
{
	(void)user;
	(void)soc;
	*out = &payload;
	return PV_OK;
}

static volatile int cancel_flag;

static void *cancel_later(void *arg)
{
	struct timespec ts = { 0, 100 * 1000000L };

	(void)arg;
	nanosleep(&ts, NULL);
	cancel_flag = 1;
	pv_usb_bus_wakeup(&stub_bus);
	return NULL;
}

/* Runs one job over the stub; returns its time in ms. */
static uint64_t run_job(enum stuck_kind k, unsigned board_ms, bool cancel,
			struct pv_usb_job_result *result)
{
	struct pv_usb_job_config cfg;
	pthread_t canceller;
	uint64_t start;

	kind = k;
	cancel_flag = 0;
	pv_usb_job_config_init(&cfg);
	cfg.bus = &stub_bus;
	cfg.payload = get_payload;
	cfg.count = 1;
	cfg.timeouts.board_ms = board_ms;
	cfg.cancel = &cancel_flag;
	start = now_ms();
	if (cancel)
		assert_int_equal(pthread_create(&canceller, NULL, cancel_later, NULL), 0);
	assert_int_equal(pv_usb_job_run(&cfg, result), PV_OK);
	if (cancel)
		pthread_join(canceller, NULL);
	return now_ms() - start;
}

static void test_board_timeout_when_the_transfer_ignores_its_timeout(void **state)
{
	struct pv_usb_job_result r;
	uint64_t ms;

	(void)state;
	ms = run_job(STUCK_SLEEPS, 300, false, &r);
	/* Deadline 300 ms, abandoned 1 s after it: well before a stuck transfer would end. */
	assert_true(ms >= 300 && ms < 3000);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.failed, 1);
	assert_int_equal(r.abandoned, 1);
	assert_string_equal(r.boards[0].port_path, "9-1");
	assert_string_equal(r.boards[0].serial, "2188c924");
	assert_non_null(strstr(r.boards[0].reason, "board timeout"));
	assert_non_null(strstr(r.boards[0].reason, "during rom"));
	pv_usb_job_result_release(&r);
}

static void test_board_timeout_when_the_worker_spins(void **state)
{
	struct pv_usb_job_result r;
	uint64_t ms;

	(void)state;
	ms = run_job(STUCK_SPINS, 300, false, &r);
	assert_true(ms >= 300 && ms < 3000);
	assert_int_equal(r.failed, 1);
	assert_int_equal(r.abandoned, 1);
	assert_non_null(strstr(r.boards[0].reason, "board timeout"));
	pv_usb_job_result_release(&r);
}

static void test_board_timeout_interrupts_the_transfer(void **state)
{
	struct pv_usb_job_result r;
	uint64_t ms;

	(void)state;
	ms = run_job(STUCK_INTERRUPTIBLE, 300, false, &r);
	/* Interrupted 200 ms past the deadline; the worker comes back and is joined. */
	assert_true(ms >= 300 && ms < 2000);
	assert_int_equal(r.failed, 1);
	assert_int_equal(r.abandoned, 0);
	assert_non_null(strstr(r.boards[0].reason, "interrupted"));
	pv_usb_job_result_release(&r);
}

static void test_cancel_ends_the_job_with_a_stuck_worker(void **state)
{
	struct pv_usb_job_result r;
	uint64_t ms;

	(void)state;
	ms = run_job(STUCK_SPINS, 600000, true, &r);
	/* Cancelled after 100 ms, abandoned 500 ms later: within a second. */
	assert_true(ms < 1000);
	assert_true(r.cancelled);
	assert_int_equal(r.abandoned, 1);
	assert_non_null(strstr(r.boards[0].reason, "cancelled during rom"));
	pv_usb_job_result_release(&r);
}

static void test_cancel_interrupts_a_blocked_transfer(void **state)
{
	struct pv_usb_job_result r;
	uint64_t ms;

	(void)state;
	ms = run_job(STUCK_INTERRUPTIBLE, 600000, true, &r);
	assert_true(ms < 1000);
	assert_true(r.cancelled);
	assert_int_equal(r.abandoned, 0);
	assert_int_equal(r.failed, 1);
	pv_usb_job_result_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_board_timeout_when_the_transfer_ignores_its_timeout),
		cmocka_unit_test(test_board_timeout_when_the_worker_spins),
		cmocka_unit_test(test_board_timeout_interrupts_the_transfer),
		cmocka_unit_test(test_cancel_ends_the_job_with_a_stuck_worker),
		cmocka_unit_test(test_cancel_interrupts_a_blocked_transfer),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	release_all = 1; /* the abandoned workers return and free their jobs */
	{
		struct timespec ts = { 0, 200 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return failed;
}
