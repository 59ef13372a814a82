/* The installed data folder, found from the running program's own path (see datadir.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "piprov/datadir.h"
#include "banned.h"

int pv_data_dir(const char *rel, char *out, size_t size)
{
	char exe[4096];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;
	int n;

	if (len < 0)
		return pv_fail_errno(errno, "common",
				     "'/proc/self/exe': cannot read the program's path");
	if ((size_t)len >= sizeof(exe) - 1)
		return pv_fail(PV_ERR_TOO_BIG, "common", "'/proc/self/exe': path too long");
	exe[len] = '\0';
	/* Drop the program's name, then its folder (bin, sbin, a test's bin): the data is in
	 * the sibling share/piprov. A program at the root ("/piprov") has no parent to strip. */
	for (int i = 0; i < 2; i++) {
		slash = strrchr(exe, '/');
		if (!slash)
			return pv_fail(PV_ERR_IO, "common", "'%s': not an absolute program path", exe);
		*slash = '\0';
	}
	n = snprintf(NULL, 0, "%s/share/piprov%s%s", exe, rel && *rel ? "/" : "",
		     rel ? rel : "");
	if (n < 0 || (size_t)n >= size)
		return pv_fail(PV_ERR_TOO_BIG, "common", "data folder under '%s': path too long", exe);
	snprintf(out, size, "%s/share/piprov%s%s", exe, rel && *rel ? "/" : "", rel ? rel : "");
	return PV_OK;
}
