/* 1,000 seeded fault runs over the flash flow: a fault bus (host-side timeouts, short
 * transfers, stalls, disconnects at seeded steps) around the virtual Pi, some boards with a
 * device-side fault as well. Every run must end (no hang past the board deadline), report
 * the board (verified, or failed with a reason), and never call a board verified unless
 * its virtual EEPROM really holds the image that was served. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/error.h"
#include "piprov/usb.h"
#include "piprov/usb_fault.h"
#include "piprov/vpi.h"
#include "test_support.h"
#include "usb_vpi_rig.h"

#define RUNS 1000
/* A 2711 flash is ~60 transfers with 16 KiB chunks; 2712 ~150. Faults land in both. */
#define HORIZON 160
#define BOARD_MS 4000
/* Slack for a loaded CI machine (two sanitizer builds on two cores). */
#define HANG_MARGIN_MS 4000

static void test_fault_runs(void **state)
{
	unsigned verified = 0, failed = 0, injected_total = 0;
	uint64_t slowest = 0;
	struct rig shared;

	(void)state;
	/* One firmware folder and one payload set for all runs (built once per SoC). */
	rig_init(&shared);
	assert_int_equal(pv_usb_flash_payloads_new(&shared.flash, &shared.set), PV_OK);
	for (uint64_t seed = 1; seed <= RUNS; seed++) {
		struct rig rig = { 0 };
		struct pv_usb_fault_schedule schedule;
		struct pv_usb_fault_stats stats;
		struct pv_usb_job_result result;
		const struct pv_usb_board_result *b;
		/* Mostly Pi 4 (512 KiB) to keep the suite quick; every 8th run a Pi 5. */
		const char *model = seed % 8 == 0 ? "pi5" : "pi4";
		/* Every 5th run the board also misbehaves on its own side. */
		enum pv_vpi_fault device_fault =
			seed % 5 == 0 ? (enum pv_vpi_fault)(1 + (seed / 5) % (PV_VPI_FAULT_COUNT - 1))
				      : PV_VPI_FAULT_NONE;
		uint64_t started;

		rig_init_light(&rig);
		rig.set = shared.set;
		rig.timeouts.request_ms = 150;
		rig.timeouts.silent_polls = 2;
		rig.timeouts.retcode_ms = 300;
		rig.timeouts.reenumerate_ms = 300;
		rig.timeouts.board_ms = BOARD_MS;
		rig.timeouts.rom_attempts = 3;
		rig.timeouts.backoff_ms = 5;
		rig.wait_ms = 2000;
		/* A slow-flash device fault would sit out the whole deadline: keep it short. */
		if (device_fault == PV_VPI_FAULT_SLOW_FLASH || device_fault == PV_VPI_FAULT_HANG)
			rig.timeouts.board_ms = 1500;
		rig_add_board(&rig, model, (unsigned)seed, device_fault);
		pv_usb_fault_schedule_from_seed(seed, HORIZON, &schedule);
		rig_inject_faults(&rig, &schedule);
		started = pv_usb_now_ms();
		rig_run(&rig, PV_USB_JOB_FLASH, 1, &result);
		if (pv_usb_now_ms() - started > slowest)
			slowest = pv_usb_now_ms() - started;
		/* No hang: the run ends within the board deadline (+ the wait for a board). */
		if (pv_usb_now_ms() - started > BOARD_MS + 2000 + HANG_MARGIN_MS)
			fail_msg("seed %llu: ran %llu ms", (unsigned long long)seed,
				 (unsigned long long)(pv_usb_now_ms() - started));
		/* Every failure reported: the one board always has a result. */
		if (result.count != 1)
			fail_msg("seed %llu: %zu results (waited out: %d)", (unsigned long long)seed,
				 result.count, result.waited_out);
		b = &result.boards[0];
		if (b->outcome == PV_USB_PHASE_VERIFIED) {
			const struct pv_usb_payload *payload = NULL;
			struct pv_vpi_result vr;
			struct pv_vpi_board *board = pv_vpi_bus_board_at(rig.vbus, 0);

			assert_int_equal(pv_usb_payload_set_get(rig.set, b->soc, &payload), PV_OK);
			pv_vpi_board_result(board, &vr);
			/* Never recorded as flashed when it was not. */
			if (!vr.eeprom_written || strcmp(vr.eeprom_hash, payload->image_sha256) != 0)
				fail_msg("seed %llu: verified but the EEPROM was not written with "
					 "the served image", (unsigned long long)seed);
			rig_assert_eeprom_sha(board, payload->image_sha256, true);
			verified++;
		} else {
			assert_int_equal(b->outcome, PV_USB_PHASE_FAILED);
			if (!b->reason[0])
				fail_msg("seed %llu: failed without a reason", (unsigned long long)seed);
			failed++;
		}
		pv_usb_fault_bus_stats(rig.bus, &stats);
		injected_total += stats.injected;
		pv_usb_job_result_release(&result);
		rig.set = NULL;
		rig_release(&rig);
	}
	rig_release(&shared);
	printf("fault runs: %u verified, %u failed, %u faults injected, slowest %llu ms\n",
	       verified, failed, injected_total, (unsigned long long)slowest);
	/* The schedule must exercise both outcomes, or the test proves nothing. */
	assert_true(verified > RUNS / 10);
	assert_true(failed > RUNS / 10);
	assert_true(injected_total > RUNS / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fault_runs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
