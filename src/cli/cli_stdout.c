/* Standard output is checked once, at the end: a full disk or a closed pipe behind
 * `piprov inventory export dnsmasq > FILE` must not leave an empty config and exit 0. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli_globals.h"
#include "banned.h"

int cli_finish_stdout(const char *program, int status)
{
	bool failed_before = ferror(stdout) != 0;
	int saved;

	errno = 0;
	/* A failed buffered write keeps its bytes: flushing again gives the reason. */
	if (fflush(stdout) == 0 && !failed_before)
		return status;
	saved = errno;
	fprintf(stderr, "%s: error: cannot write to standard output: %s\n", program,
		saved ? strerror(saved) : "input/output error");
	return status ? status : 1;
}
