/* The recovery config.txt parser of the virtual Pi (firmware.c). Issue 15 found its loop
 * spinning forever on a last line without a newline that ended in a blank; these tests feed
 * every truncation of a set of configs, each followed by every awkward ending, under an
 * alarm, and check what the switches read. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "test_support.h"
#include "vpi_internal.h"

static const char *const configs[] = {
	"recovery_reboot=1 ",                    /* the reproduction of issue 15 */
	"# comment\nuart_2ndstage=1\nrecovery_metadata=0\nrecovery_reboot=1\n",
	"erase_eeprom=1\r\nprogram_pubkey=1\r\n",
	"\n\n \t\nrecovery_reboot=1\t \n#recovery_metadata=0",
	"[all]\nrecovery_reboot = 1\nrecovery_metadata=0 \t\r\n",
	"recovery_metadata=0\0\nrecovery_reboot=1\n",
	"x=" /* an unfinished key */,
};

static const char *const endings[] = { "", " ", "\t", "\r", "\n", "\r\n", " \n ", "=", "#" };

static struct vpi_recovery_config parse(const char *text, size_t len)
{
	struct vpi_recovery_config c = { .metadata = true };

	vpi_recovery_config_parse(text, len, &c);
	return c;
}

static void test_recovery_config_parser_advances_on_every_truncation(void **state)
{
	char buf[512];
	unsigned calls = 0;

	(void)state;
	/* A loop that stops advancing hangs: the alarm turns that into a failure. */
	alarm(20);
	for (size_t c = 0; c < PV_ARRAY_SIZE(configs); c++) {
		/* configs[5] has a NUL inside: its length is that of the literal. */
		size_t len = c == 5 ? sizeof("recovery_metadata=0\0\nrecovery_reboot=1\n") - 1
				    : strlen(configs[c]);
		for (size_t cut = 0; cut <= len; cut++) {
			for (size_t e = 0; e < PV_ARRAY_SIZE(endings); e++) {
				size_t elen = strlen(endings[e]);

				memcpy(buf, configs[c], cut);
				memcpy(buf + cut, endings[e], elen);
				parse(buf, cut + elen);
				calls++;
			}
		}
	}
	alarm(0);
	assert_true(calls > 1000);
}

static void test_recovery_config_switches(void **state)
{
	struct vpi_recovery_config c;

	(void)state;
	c = parse(configs[0], strlen(configs[0]));
	assert_true(c.reboot);            /* the trailing blank is trimmed */
	assert_true(c.metadata);
	c = parse(configs[1], strlen(configs[1]));
	assert_true(c.reboot);
	assert_false(c.metadata);
	assert_false(c.erase_eeprom);
	c = parse(configs[2], strlen(configs[2]));
	assert_true(c.erase_eeprom);      /* CRLF line ends */
	assert_true(c.program_pubkey);
	c = parse(configs[3], strlen(configs[3]));
	assert_true(c.reboot);
	assert_true(c.metadata);          /* commented out */
	c = parse(configs[4], strlen(configs[4]));
	assert_false(c.reboot);           /* "recovery_reboot " is another key */
	assert_false(c.metadata);
	/* A line with a NUL byte is no key; the next line still counts. */
	c = parse(configs[5], sizeof("recovery_metadata=0\0\nrecovery_reboot=1\n") - 1);
	assert_true(c.metadata);
	assert_true(c.reboot);
	/* Cut inside the value: "recovery_reboot=" is not "1". */
	c = parse(configs[0], strlen("recovery_reboot="));
	assert_false(c.reboot);
	/* A line too long for any key the firmware knows is skipped whole. */
	{
		char longline[400];
		memset(longline, 'a', sizeof(longline));
		memcpy(longline + sizeof(longline) - 19, "\nrecovery_reboot=1\n", 19);
		c = parse(longline, sizeof(longline));
		assert_true(c.reboot);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recovery_config_parser_advances_on_every_truncation),
		cmocka_unit_test(test_recovery_config_switches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
