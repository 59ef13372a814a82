/* Immediate bootloader update with flashrom, as rpi-eeprom-update does it
 * (eeprom-format.md §4 "Immediate updates"): probe the SPI flash, then up to five rounds of
 * write (-w) and a separate verify (-v) run, the first at 16 MHz and the rest at 8 MHz,
 * because a marginal SPI bus fails at speed and the separate verify catches a write that
 * did not stick. The programmer string is a template so tests can aim the real flashrom at
 * its dummy programmer. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "piprov/node.h"
#include "piprov/text.h"
#include "banned.h"

#define FLASHROM_OUTPUT_MAX (256 * 1024) /* per run; flashrom -V is chatty, but not this */
#define PROGRAMMER_MAX 1024

static const unsigned default_speeds[] = { 16000, 8000, 8000, 8000, 8000 };

/* Replace every "{speed}" in the template. */
static int expand_programmer(const char *template, unsigned speed, char *out, size_t size)
{
	struct pv_buf b = PV_BUF_INIT(PROGRAMMER_MAX);
	const char *p = template;
	int rc = PV_OK;

	while (*p && rc == 0) {
		if (strncmp(p, "{speed}", 7) == 0) {
			rc = pv_buf_appendf(&b, "%u", speed);
			p += 7;
		} else {
			rc = pv_buf_putc(&b, *p++);
		}
	}
	if (rc == 0 && pv_strlcpy(out, pv_buf_str(&b), size) >= size)
		rc = PV_ERR_TOO_BIG;
	pv_buf_release(&b);
	if (rc)
		return pv_fail(PV_ERR_TOO_BIG, "node", "flashrom programmer string is too long");
	return PV_OK;
}

/* Run argv, capturing stdout+stderr (bounded) into out. Returns the exit status (>= 0) or a
 * PV_ERR_* when it could not be run. */
static int run_capture(char *const argv[], struct pv_buf *out)
{
	int pipefd[2], status;
	pid_t pid;
	size_t taken = 0;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return pv_fail_errno(errno, "node", "cannot create a pipe for '%s'", argv[0]);
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return pv_fail_errno(errno, "node", "cannot start '%s'", argv[0]);
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		char chunk[4096];
		ssize_t got = read(pipefd[0], chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		/* Keep reading past the limit so the child never blocks on a full pipe. */
		if (taken + (size_t)got <= FLASHROM_OUTPUT_MAX && out)
			pv_buf_append(out, chunk, (size_t)got);
		taken += (size_t)got;
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return pv_fail_errno(errno, "node", "waiting for '%s'", argv[0]);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return pv_fail(PV_ERR_NOT_FOUND, "node",
			       "cannot run '%s' (is the flashrom package installed?)", argv[0]);
	if (!WIFEXITED(status))
		return pv_fail(PV_ERR_IO, "node", "'%s' was killed by signal %d", argv[0],
			       WTERMSIG(status));
	return WEXITSTATUS(status);
}

static void note(const struct pv_node_flashrom *fr, const char *fmt, ...) PV_PRINTF(2, 3);
static void note(const struct pv_node_flashrom *fr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (fr->transcript) {
		va_list copy;
		va_copy(copy, ap);
		pv_buf_append_str(fr->transcript, "$ ");
		pv_buf_vappendf(fr->transcript, fmt, copy);
		pv_buf_putc(fr->transcript, '\n');
		va_end(copy);
	}
	pv_vlog(PV_LOG_INFO, "node", fmt, ap);
	va_end(ap);
}

static int flashrom_run(const struct pv_node_flashrom *fr, const char *programmer,
			const char *op, const char *file, struct pv_buf *output)
{
	const char *program = fr->flashrom ? fr->flashrom : "flashrom";
	char *argv[7];
	int n = 0;

	argv[n++] = (char *)program;
	argv[n++] = (char *)"-p";
	argv[n++] = (char *)programmer;
	argv[n++] = (char *)op;
	if (file)
		argv[n++] = (char *)file;
	argv[n] = NULL;
	note(fr, "%s -p %s %s%s%s", program, programmer, op, file ? " " : "", file ? file : "");
	pv_buf_reset(output);
	{
		int rc = run_capture(argv, output);
		if (fr->transcript)
			pv_buf_append(fr->transcript, output->data ? output->data : (void *)"",
				      output->len);
		return rc;
	}
}

/* The last line of `flashrom --flash-size` is the size in bytes. */
static int parse_flash_size(const struct pv_buf *output, uint64_t *size)
{
	const char *text = pv_buf_str(output);
	size_t len = output->len;
	char line[32];
	size_t start;

	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	start = len;
	while (start > 0 && text[start - 1] != '\n')
		start--;
	if (len - start >= sizeof(line))
		return PV_ERR_FORMAT;
	memcpy(line, text + start, len - start);
	line[len - start] = '\0';
	return pv_parse_u64(line, 10, size);
}

int pv_node_flashrom_update(const struct pv_node_flashrom *fr, const char *image_path,
			    size_t image_len)
{
	const unsigned *speeds = fr->speeds_khz ? fr->speeds_khz : default_speeds;
	size_t attempts = fr->speeds_khz ? fr->attempts : PV_ARRAY_SIZE(default_speeds);
	struct pv_buf output = PV_BUF_INIT(FLASHROM_OUTPUT_MAX + 1);
	char programmer[PROGRAMMER_MAX];
	uint64_t chip_size;
	int rc;

	if (!fr->programmer || attempts == 0)
		return pv_fail(PV_ERR_INVALID, "node", "flashrom: no programmer or no attempts");
	rc = expand_programmer(fr->programmer, speeds[0], programmer, sizeof(programmer));
	if (rc)
		goto out;
	/* Probe first: an unknown or wrongly sized chip disables the immediate path, as
	 * upstream does on "Unknown flash". */
	rc = flashrom_run(fr, programmer, "--flash-size", NULL, &output);
	if (rc < 0)
		goto out;
	if (rc != 0 || parse_flash_size(&output, &chip_size)) {
		rc = pv_fail(PV_ERR_NO_DEVICE, "node", "flashrom found no usable SPI flash with "
			     "programmer '%s' (exit status %d)", programmer, rc);
		goto out;
	}
	if (chip_size != image_len) {
		rc = pv_fail(PV_ERR_UNSUPPORTED, "node", "the SPI flash is %llu bytes but the image "
			     "is %zu bytes", (unsigned long long)chip_size, image_len);
		goto out;
	}
	for (size_t i = 0; i < attempts; i++) {
		rc = expand_programmer(fr->programmer, speeds[i], programmer, sizeof(programmer));
		if (rc)
			goto out;
		note(fr, "# attempt %zu of %zu at %u kHz", i + 1, attempts, speeds[i]);
		rc = flashrom_run(fr, programmer, "-w", image_path, &output);
		if (rc < 0)
			goto out;
		if (rc == 0)
			rc = flashrom_run(fr, programmer, "-v", image_path, &output);
		if (rc < 0)
			goto out;
		if (rc == 0) {
			pv_log(PV_LOG_INFO, "node", "flashrom: written and verified at %u kHz",
			       speeds[i]);
			rc = PV_OK;
			goto out;
		}
		pv_log(PV_LOG_WARN, "node", "flashrom: attempt %zu at %u kHz failed (exit status %d)",
		       i + 1, speeds[i], rc);
	}
	rc = pv_fail(PV_ERR_VERIFY, "node", "flashrom: write or verify of '%s' failed %zu times; "
		     "the bootloader may be damaged: do not power off, retry or use rpiboot "
		     "recovery", image_path, attempts);
out:
	pv_buf_release(&output);
	return rc;
}
