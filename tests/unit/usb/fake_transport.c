#include <stdlib.h>
#include <string.h>

#include "fake_transport.h"
#include "internal.h"
#include "piprov/text.h"
#include "test_support.h"
#include "banned.h"

void fake_device_init(struct fake_device *dev)
{
	memset(dev, 0, sizeof(*dev));
	dev->after_script = PV_ERR_NO_DEVICE;
	pv_buf_init(&dev->transcript, 1u << 20);
	pv_buf_init(&dev->bulk, 64u << 20);
}

void fake_device_release(struct fake_device *dev)
{
	pv_buf_release(&dev->transcript);
	pv_buf_release(&dev->bulk);
}

void fake_device_raw(struct fake_device *dev, const void *data, size_t len)
{
	struct fake_step *step;

	assert_true(dev->step_count < FAKE_STEPS_MAX);
	assert_true(len <= sizeof(step->data));
	step = &dev->steps[dev->step_count++];
	step->status = PV_OK;
	memcpy(step->data, data, len);
	step->len = len;
}

void fake_device_request(struct fake_device *dev, int32_t command, const char *name)
{
	unsigned char msg[260] = { 0 };
	uint32_t c = (uint32_t)command;

	msg[0] = (unsigned char)c;
	msg[1] = (unsigned char)(c >> 8);
	msg[2] = (unsigned char)(c >> 16);
	msg[3] = (unsigned char)(c >> 24);
	memcpy(msg + 4, name, strlen(name) < 256 ? strlen(name) : 256);
	fake_device_raw(dev, msg, sizeof(msg));
}

void fake_device_error(struct fake_device *dev, int status)
{
	assert_true(dev->step_count < FAKE_STEPS_MAX);
	dev->steps[dev->step_count].status = status;
	dev->steps[dev->step_count].len = 0;
	dev->step_count++;
}

static int fake_open(struct pv_usb_transport *t)
{
	(void)t;
	return PV_OK;
}

static void fake_close(struct pv_usb_transport *t)
{
	(void)t;
}

static int fake_out_length(struct pv_usb_transport *t, uint32_t length, unsigned timeout_ms)
{
	struct fake_device *dev = t->priv;

	(void)timeout_ms;
	pv_buf_appendf(&dev->transcript, "out-length %u\n", (unsigned)length);
	return PV_OK;
}

static int fake_control_in(struct pv_usb_transport *t, void *buf, size_t len, size_t *actual,
			   unsigned timeout_ms)
{
	struct fake_device *dev = t->priv;
	struct fake_step *step;

	(void)timeout_ms;
	pv_buf_appendf(&dev->transcript, "in %zu\n", len);
	if (dev->next_step >= dev->step_count)
		return pv_fail(dev->after_script, "fake", "script exhausted");
	step = &dev->steps[dev->next_step++];
	if (step->status)
		return pv_fail(step->status, "fake", "scripted error");
	if (step->len > len)
		return pv_fail(PV_ERR_OVERFLOW, "fake", "answer longer than asked");
	memcpy(buf, step->data, step->len);
	*actual = step->len;
	return PV_OK;
}

static int fake_bulk_out(struct pv_usb_transport *t, const void *data, size_t len,
			 size_t *actual, unsigned timeout_ms)
{
	struct fake_device *dev = t->priv;

	(void)timeout_ms;
	if (dev->bulk_status) {
		*actual = 0;
		return pv_fail(dev->bulk_status, "fake", "scripted bulk error");
	}
	pv_buf_appendf(&dev->transcript, "bulk %zu\n", len);
	assert_int_equal(pv_buf_append(&dev->bulk, data, len), PV_OK);
	*actual = len;
	return PV_OK;
}

static void fake_destroy(struct pv_usb_transport *t)
{
	free(t);
}

static const struct pv_usb_transport_ops fake_ops = {
	.open = fake_open,
	.close = fake_close,
	.control_out_length = fake_out_length,
	.control_in = fake_control_in,
	.bulk_out = fake_bulk_out,
	.destroy = fake_destroy,
};

struct pv_usb_transport *fake_transport_new(struct fake_device *dev)
{
	struct pv_usb_transport *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->ops = &fake_ops;
	t->priv = dev;
	pv_strlcpy(t->info.port_path, "1-1.2", sizeof(t->info.port_path));
	t->info.backend = "fake";
	return t;
}
