/* `piprov station` as a process, over virtual boards: SIGTERM lets a board being flashed
 * finish and be recorded (exit 0); a second SIGTERM abandons it and it is not recorded; a
 * station killed mid-flash leaves the board unrecorded and the next station records it
 * once; two stations on one inventory (over its lock) record every board once with
 * distinct addresses; SIGHUP reads the profile again (a broken one is refused, the station
 * goes on); a mistyped preset, in an option or the profile, fails at start; the --json
 * lines agree with the inventory file. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "piprov/buf.h"
#include "piprov/error.h"
#include "piprov/inventory.h"
#include "piprov/text.h"
#include "piprov/usb.h"
#include "test_support.h"

#define EVENT_WAIT_MS 30000

static char *scratch;

static int setup(void **state)
{
	(void)state;
	scratch = pv_test_mkdtemp();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pv_test_rmtree(scratch);
	free(scratch);
	return 0;
}

struct child {
	pid_t pid;
	int fd;               /* its stdout (--json lines) */
	struct pv_buf out;
};

static char *path_in(const char *name)
{
	char *path;

	assert_true(asprintf(&path, "%s/%s", scratch, name) > 0);
	return path;
}

/* piprov --json station ARGS... (NULL-terminated), stderr to /dev/null. */
static void start(struct child *c, const char *const args[])
{
	const char *argv[32];
	char *program = pv_test_program("piprov");
	size_t n = 0;
	int fds[2];

	argv[n++] = program;
	argv[n++] = "--json";
	argv[n++] = "station";
	for (size_t i = 0; args[i]; i++) {
		assert_true(n < 31);
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	assert_int_equal(pipe(fds), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(fds[1], STDOUT_FILENO);
		if (devnull >= 0)
			dup2(devnull, STDERR_FILENO);
		close(fds[0]);
		close(fds[1]);
		if (chdir(scratch) != 0)
			_exit(126);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	free(program);
	close(fds[1]);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	c->fd = fds[0];
	pv_buf_init(&c->out, 1u << 26);
}

/* Read until `marker` is in the output (fails after EVENT_WAIT_MS) or, marker NULL, for ms. */
static void read_until(struct child *c, const char *marker, unsigned ms)
{
	uint64_t deadline = pv_usb_now_ms() + (marker ? EVENT_WAIT_MS : ms);

	while (pv_usb_now_ms() < deadline) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		char chunk[8192];
		ssize_t n;

		if (marker && strstr(pv_buf_str(&c->out), marker))
			return;
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		n = read(c->fd, chunk, sizeof(chunk));
		if (n > 0)
			assert_int_equal(pv_buf_append(&c->out, chunk, (size_t)n), PV_OK);
		else if (n == 0 || errno != EAGAIN)
			break;
	}
	if (marker && !strstr(pv_buf_str(&c->out), marker))
		fail_msg("'%s' not seen; output:\n%s", marker, pv_buf_str(&c->out));
}

/* Wait for the process to end (at most ms), reading its output; its exit status. */
static int finish(struct child *c, unsigned ms)
{
	uint64_t deadline = pv_usb_now_ms() + ms;
	int status;

	for (;;) {
		pid_t done = waitpid(c->pid, &status, WNOHANG);

		if (done == c->pid)
			break;
		if (pv_usb_now_ms() > deadline) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, &status, 0);
			fail_msg("piprov station still running after %u ms; output:\n%s", ms,
				 pv_buf_str(&c->out));
		}
		read_until(c, NULL, 10);
	}
	read_until(c, NULL, 50);
	close(c->fd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void child_release(struct child *c)
{
	pv_buf_release(&c->out);
}

/* How many --json lines have "event":name and the board's serial (NULL: any board). */
static unsigned count_events(const struct child *c, const char *name, const char *serial)
{
	const char *line = pv_buf_str(&c->out);
	unsigned n = 0;

	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		json_t *ev = json_loadb(line, len, 0, NULL);

		if (ev) {
			const char *e = json_string_value(json_object_get(ev, "event"));
			const char *s = json_string_value(json_object_get(ev, "serial"));

			if (e && strcmp(e, name) == 0 && (!serial || (s && strcmp(s, serial) == 0)))
				n++;
			json_decref(ev);
		}
		line += len + (end ? 1 : 0);
	}
	return n;
}

/* Read until an event of that name for that board came (fails after EVENT_WAIT_MS). */
static void wait_event(struct child *c, const char *name, const char *serial)
{
	uint64_t deadline = pv_usb_now_ms() + EVENT_WAIT_MS;

	while (count_events(c, name, serial) == 0) {
		if (pv_usb_now_ms() > deadline)
			fail_msg("no '%s' event for %s; output:\n%s", name, serial,
				 pv_buf_str(&c->out));
		read_until(c, NULL, 50);
	}
}

/* The inventory's records with this 8-digit serial (0 when the file does not exist). */
static unsigned records_with(const char *inventory, const char *serial8)
{
	struct pv_inventory inv;
	unsigned n = 0;

	if (access(inventory, F_OK) != 0)
		return 0;
	assert_int_equal(pv_inventory_load(inventory, &inv), PV_OK);
	for (size_t i = 0; i < inv.count; i++) {
		char s[9];

		pv_inventory_serial8(&inv.records[i], s);
		n += strcmp(s, serial8) == 0;
	}
	pv_inventory_release(&inv);
	return n;
}

static size_t record_count(const char *inventory)
{
	struct pv_inventory inv;
	size_t n;

	if (access(inventory, F_OK) != 0)
		return 0;
	assert_int_equal(pv_inventory_load(inventory, &inv), PV_OK);
	n = inv.count;
	pv_inventory_release(&inv);
	return n;
}

/* A board that takes 1.5 s to write its EEPROM after the image was sent. */
#define SLOW_BOARD "pi4,serial=10000000c0ffee01,flash-ms=1500"
#define SLOW_SERIAL "c0ffee01"

static void test_sigterm_finishes_in_flight_board(void **state)
{
	char *inv = path_in("term.cfg");
	const char *args[] = { "--preset", "network", "--inventory", inv, "--virtual",
			       SLOW_BOARD, NULL };
	struct child c;

	(void)state;
	start(&c, args);
	read_until(&c, "\"event\":\"verifying\"", 0);
	assert_int_equal(kill(c.pid, SIGTERM), 0);
	assert_int_equal(finish(&c, 15000), 0);
	/* It finished, was verified and recorded: the --json lines and the file agree. */
	assert_int_equal(count_events(&c, "stopping", NULL), 1);
	assert_int_equal(count_events(&c, "verified", SLOW_SERIAL), 1);
	assert_int_equal(count_events(&c, "recorded", SLOW_SERIAL), 1);
	assert_int_equal(count_events(&c, "abandoned", NULL), 0);
	assert_int_equal(records_with(inv, SLOW_SERIAL), 1);
	child_release(&c);
	free(inv);
}

static void test_second_sigterm_abandons_unrecorded(void **state)
{
	char *inv = path_in("abandon.cfg");
	const char *args[] = { "--preset", "network", "--inventory", inv, "--virtual",
			       "pi4,serial=10000000c0ffee02,flash-ms=20000", NULL };
	struct child c;
	uint64_t sent;

	(void)state;
	start(&c, args);
	read_until(&c, "\"event\":\"verifying\"", 0);
	sent = pv_usb_now_ms();
	assert_int_equal(kill(c.pid, SIGTERM), 0);
	read_until(&c, "\"event\":\"stopping\"", 0);
	assert_int_equal(kill(c.pid, SIGTERM), 0);
	finish(&c, 10000);
	/* Abandoned long before the board would have been verified, never recorded. */
	assert_true(pv_usb_now_ms() - sent < 5000);
	assert_int_equal(count_events(&c, "verified", NULL), 0);
	assert_int_equal(count_events(&c, "recorded", NULL), 0);
	assert_int_equal(records_with(inv, "c0ffee02"), 0);
	child_release(&c);
	free(inv);
}

static void test_restart_mid_flash_leaves_board_unrecorded_and_retried(void **state)
{
	char *inv = path_in("restart.cfg");
	const char *first[] = { "--preset", "network", "--inventory", inv, "--virtual",
				"pi4,serial=10000000c0ffee03,flash-ms=20000", NULL };
	const char *second[] = { "--preset", "network", "--inventory", inv, "-n", "1",
				 "--virtual", "pi4,serial=10000000c0ffee03", NULL };
	struct child c;

	(void)state;
	/* The station dies (power cut, kill -9) while the board writes its EEPROM. */
	start(&c, first);
	read_until(&c, "\"event\":\"verifying\"", 0);
	assert_int_equal(kill(c.pid, SIGKILL), 0);
	finish(&c, 5000);
	child_release(&c);
	assert_int_equal(records_with(inv, "c0ffee03"), 0);
	/* The board is still plugged in (here: presented again): the next station flashes it
	 * from the start and records it, once. */
	start(&c, second);
	assert_int_equal(finish(&c, 30000), 0);
	assert_int_equal(count_events(&c, "verified", "c0ffee03"), 1);
	assert_int_equal(records_with(inv, "c0ffee03"), 1);
	child_release(&c);
	free(inv);
}

static void test_two_stations_record_every_board_once(void **state)
{
	char *inv = path_in("shared.cfg");
	/* Both stations see the same eight boards (the same generated identities), and each
	 * four of its own: 16 boards, each recorded once, 16 distinct addresses. */
	const char *a_args[] = { "--preset", "network", "--inventory", inv, "--ip-pool",
				 "10.9.0.10-10.9.0.99", "-n", "12", "--virtual",
				 "pi4,count=8,arrive-every=40", "--virtual",
				 "pi5,count=4,serial=10000000aaaa0000,arrive-every=30", NULL };
	const char *b_args[] = { "--preset", "network", "--inventory", inv, "--ip-pool",
				 "10.9.0.10-10.9.0.99", "-n", "12", "--virtual",
				 "pi4,count=8,arrive-every=50", "--virtual",
				 "pi5,count=4,serial=10000000bbbb0000,arrive-every=30", NULL };
	struct child a, b;
	struct pv_inventory loaded;

	(void)state;
	start(&a, a_args);
	start(&b, b_args);
	assert_int_equal(finish(&a, 60000), 0);
	assert_int_equal(finish(&b, 60000), 0);
	assert_int_equal(count_events(&a, "recorded", NULL), 12);
	assert_int_equal(count_events(&b, "recorded", NULL), 12);
	assert_int_equal(pv_inventory_load(inv, &loaded), PV_OK);
	assert_int_equal(loaded.count, 16);
	for (size_t i = 0; i < loaded.count; i++) {
		assert_true(loaded.records[i].has_ip);
		for (size_t k = 0; k < i; k++) {
			assert_true(loaded.records[i].serial != loaded.records[k].serial);
			assert_true(loaded.records[i].ip != loaded.records[k].ip);
		}
	}
	pv_inventory_release(&loaded);
	child_release(&a);
	child_release(&b);
	free(inv);
}

static void write_profile(const char *path, const char *text)
{
	pv_test_write_file(path, text, strlen(text));
}

static void test_sighup_rereads_profile(void **state)
{
	char *inv = path_in("hup.cfg"), *profile = path_in("hup.conf");
	const char *args[] = { "--profile", profile, "--inventory", inv, "--virtual",
			       "pi4,count=2,serial=10000000c0ffee10,arrive-every=4000", NULL };
	struct child c;

	(void)state;
	write_profile(profile, "# a station\npreset = \"network\";\nports = [ \"100-*\" ];\n");
	start(&c, args);
	read_until(&c, "\"event\":\"recorded\"", 0);
	/* A broken profile is refused: the station keeps the one it has. */
	write_profile(profile, "preset = \"network\";\nprest = \"sd\";\n");
	assert_int_equal(kill(c.pid, SIGHUP), 0);
	read_until(&c, NULL, 500);
	assert_int_equal(count_events(&c, "reloaded", NULL), 0);
	/* A good one is taken for the next boards. */
	write_profile(profile, "preset = \"sd\";\n");
	assert_int_equal(kill(c.pid, SIGHUP), 0);
	read_until(&c, "\"event\":\"reloaded\"", 0);
	/* The second board arrives after the reload, is flashed and recorded. */
	wait_event(&c, "recorded", "c0ffee11");
	assert_int_equal(kill(c.pid, SIGTERM), 0);
	assert_int_equal(finish(&c, 15000), 0);
	assert_int_equal(records_with(inv, "c0ffee10"), 1);
	assert_int_equal(records_with(inv, "c0ffee11"), 1);
	child_release(&c);
	free(inv);
	free(profile);
}

/* Runs `piprov station ARGS` (a shell line) in scratch; its status, output in out. */
static int run_station(const char *args, struct pv_buf *out)
{
	char *program = pv_test_program("piprov"), *cmd;
	int status;

	assert_true(asprintf(&cmd, "cd '%s' && '%s' station %s", scratch, program, args) > 0);
	pv_buf_reset(out);
	status = pv_test_run(cmd, out, 1);
	free(cmd);
	free(program);
	return status;
}

/* A board that would arrive in a minute: a check made after waiting would hang. */
#define LATE "--virtual pi4,arrive-after=60000 --inventory late.cfg"

static void test_mistyped_preset_fails_at_start(void **state)
{
	struct pv_buf out = PV_BUF_INIT(1u << 20);
	char *profile = path_in("typo.conf"), *late = path_in("late.cfg");

	(void)state;
	assert_int_equal(run_station("--preset netwrok " LATE, &out), 2);
	assert_non_null(strstr(pv_buf_str(&out), "no preset 'netwrok'"));
	write_profile(profile, "preset = \"netwrok\";\n");
	assert_int_equal(run_station("--profile typo.conf " LATE, &out), 1);
	assert_non_null(strstr(pv_buf_str(&out), "profile 'typo.conf'"));
	assert_non_null(strstr(pv_buf_str(&out), "no preset 'netwrok'"));
	/* A mistyped setting name is not ignored: the file, line and name are given. */
	write_profile(profile, "preset = \"network\";\n\nprest = \"sd\";\n");
	assert_int_equal(run_station("--profile typo.conf " LATE, &out), 1);
	assert_non_null(strstr(pv_buf_str(&out), "profile 'typo.conf' line 3: prest: unknown"));
	assert_int_equal(record_count(late), 0);
	pv_buf_release(&out);
	free(profile);
	free(late);
}

/* Datagrams on the socket until one holds `what` (fails after EVENT_WAIT_MS). */
static void expect_notify(int sock, const char *what)
{
	uint64_t deadline = pv_usb_now_ms() + EVENT_WAIT_MS;

	while (pv_usb_now_ms() < deadline) {
		struct pollfd pfd = { .fd = sock, .events = POLLIN };
		char msg[512];
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = recv(sock, msg, sizeof(msg) - 1, 0);
		if (n <= 0)
			continue;
		msg[n] = '\0';
		if (strstr(msg, what))
			return;
	}
	fail_msg("no '%s' on NOTIFY_SOCKET", what);
}

/* Type=notify: READY=1 once the station waits for boards (after its checks), RELOADING=1
 * and READY=1 around a SIGHUP, STOPPING=1 on SIGTERM. */
static void test_service_manager_notified(void **state)
{
	char *sock_path = path_in("notify.sock"), *inv = path_in("notify.cfg");
	const char *args[] = { "--preset", "network", "--inventory", inv, "--virtual",
			       "pi4,arrive-after=60000", NULL };
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct child c;
	int sock = socket(AF_UNIX, SOCK_DGRAM, 0);

	(void)state;
	assert_true(sock >= 0);
	assert_true(strlen(sock_path) < sizeof(addr.sun_path));
	pv_strlcpy(addr.sun_path, sock_path, sizeof(addr.sun_path));
	assert_int_equal(bind(sock, (struct sockaddr *)&addr, sizeof(addr)), 0);
	setenv("NOTIFY_SOCKET", sock_path, 1);
	start(&c, args);
	unsetenv("NOTIFY_SOCKET");
	expect_notify(sock, "READY=1");
	assert_int_equal(kill(c.pid, SIGHUP), 0);
	expect_notify(sock, "RELOADING=1");
	expect_notify(sock, "READY=1");
	assert_int_equal(kill(c.pid, SIGTERM), 0);
	expect_notify(sock, "STOPPING=1");
	assert_int_equal(finish(&c, 10000), 0);
	close(sock);
	child_release(&c);
	free(sock_path);
	free(inv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigterm_finishes_in_flight_board),
		cmocka_unit_test(test_second_sigterm_abandons_unrecorded),
		cmocka_unit_test(test_restart_mid_flash_leaves_board_unrecorded_and_retried),
		cmocka_unit_test(test_two_stations_record_every_board_once),
		cmocka_unit_test(test_sighup_rereads_profile),
		cmocka_unit_test(test_mistyped_preset_fails_at_start),
		cmocka_unit_test(test_service_manager_notified),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
