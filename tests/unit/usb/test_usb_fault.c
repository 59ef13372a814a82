/* The fault injector: deterministic schedules and what each fault does to a transfer. */
#include <stdlib.h>
#include <string.h>

#include "fake_transport.h"
#include "piprov/error.h"
#include "piprov/usb_fault.h"
#include "test_support.h"

static void test_schedule_is_seeded(void **state)
{
	struct pv_usb_fault_schedule a, b;
	unsigned differ = 0, kinds[5] = { 0 };

	(void)state;
	for (uint64_t seed = 0; seed < 200; seed++) {
		pv_usb_fault_schedule_from_seed(seed, 100, &a);
		pv_usb_fault_schedule_from_seed(seed, 100, &b);
		assert_memory_equal(&a, &b, sizeof(a));
		assert_in_range(a.count, 1, 3);
		for (unsigned i = 0; i < a.count; i++) {
			assert_in_range(a.faults[i].step, 0, 99);
			assert_in_range(a.faults[i].kind, PV_USB_FAULT_TIMEOUT,
					PV_USB_FAULT_DISCONNECT);
			kinds[a.faults[i].kind]++;
		}
		pv_usb_fault_schedule_from_seed(seed + 1, 100, &b);
		if (memcmp(&a, &b, sizeof(a)) != 0)
			differ++;
	}
	assert_true(differ > 190);
	for (int k = PV_USB_FAULT_TIMEOUT; k <= PV_USB_FAULT_DISCONNECT; k++)
		assert_true(kinds[k] > 20);
}

static struct pv_usb_transport *wrapped(struct fake_device *dev, unsigned step,
					enum pv_usb_fault_kind kind)
{
	struct pv_usb_fault_schedule s = { .count = 1, .faults = { { step, kind } } };
	struct pv_usb_transport *t;

	assert_int_equal(pv_usb_fault_transport_new(fake_transport_new(dev), &s, &t), PV_OK);
	assert_int_equal(pv_usb_open(t), PV_OK);
	return t;
}

static void test_fault_kinds(void **state)
{
	struct fake_device dev;
	struct pv_usb_transport *t;
	unsigned char data[100] = { 0 }, in[8];
	size_t actual = 99;

	(void)state;
	/* Step 1 (the bulk) times out; steps 0 and 2 pass through. */
	fake_device_init(&dev);
	t = wrapped(&dev, 1, PV_USB_FAULT_TIMEOUT);
	assert_int_equal(pv_usb_control_out_length(t, 100, 10), PV_OK);
	assert_int_equal(pv_usb_bulk_out(t, data, 100, &actual, 10), PV_ERR_TIMEOUT);
	assert_int_equal(actual, 0);
	assert_int_equal(pv_usb_bulk_out(t, data, 100, &actual, 10), PV_OK);
	assert_int_equal(actual, 100);
	assert_string_equal(pv_buf_str(&dev.transcript), "out-length 100\nbulk 100\n");
	pv_usb_transport_destroy(t);
	fake_device_release(&dev);

	/* A short bulk: half reaches the device, then a timeout with the count. */
	fake_device_init(&dev);
	t = wrapped(&dev, 0, PV_USB_FAULT_SHORT);
	assert_int_equal(pv_usb_bulk_out(t, data, 100, &actual, 10), PV_ERR_TIMEOUT);
	assert_int_equal(actual, 50);
	assert_int_equal(dev.bulk.len, 50);
	pv_usb_transport_destroy(t);
	fake_device_release(&dev);

	/* A short control IN: the answer arrives truncated. */
	fake_device_init(&dev);
	fake_device_raw(&dev, "12345678", 8);
	t = wrapped(&dev, 0, PV_USB_FAULT_SHORT);
	assert_int_equal(pv_usb_control_in(t, in, sizeof(in), &actual, 10), PV_OK);
	assert_int_equal(actual, 4);
	pv_usb_transport_destroy(t);
	fake_device_release(&dev);

	/* A stall. */
	fake_device_init(&dev);
	t = wrapped(&dev, 0, PV_USB_FAULT_STALL);
	assert_int_equal(pv_usb_control_out_length(t, 5, 10), PV_ERR_PIPE);
	assert_int_equal(pv_usb_control_out_length(t, 5, 10), PV_OK);
	pv_usb_transport_destroy(t);
	fake_device_release(&dev);

	/* A disconnect is for good: every later call, open included, says NO_DEVICE. */
	fake_device_init(&dev);
	t = wrapped(&dev, 0, PV_USB_FAULT_DISCONNECT);
	assert_int_equal(pv_usb_control_out_length(t, 5, 10), PV_ERR_NO_DEVICE);
	assert_int_equal(pv_usb_control_out_length(t, 5, 10), PV_ERR_NO_DEVICE);
	assert_int_equal(pv_usb_control_in(t, in, sizeof(in), &actual, 10), PV_ERR_NO_DEVICE);
	assert_int_equal(pv_usb_bulk_out(t, data, 1, &actual, 10), PV_ERR_NO_DEVICE);
	pv_usb_close(t);
	assert_int_equal(pv_usb_open(t), PV_ERR_NO_DEVICE);
	assert_int_equal(dev.transcript.len, 0);
	pv_usb_transport_destroy(t);
	fake_device_release(&dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schedule_is_seeded),
		cmocka_unit_test(test_fault_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
