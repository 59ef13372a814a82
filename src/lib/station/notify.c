/* pv_station_notify(): the service manager's readiness protocol (systemd's sd_notify(3)),
 * written by hand so that the library needs no libsystemd: one datagram of "KEY=VALUE"
 * lines to the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or '@' for the abstract
 * namespace). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "piprov/station.h"
#include "internal.h"
#include "banned.h"

int pv_station_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t path_len;
	socklen_t addr_len;
	ssize_t sent;
	int fd;

	if (!path || !*path)
		return PV_OK; /* not started by a service manager that listens */
	path_len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || path_len >= sizeof(addr.sun_path))
		return pv_fail(PV_ERR_INVALID, "station",
			       "NOTIFY_SOCKET '%.64s' is not a socket path", path);
	memcpy(addr.sun_path, path, path_len);
	if (path[0] == '@')
		addr.sun_path[0] = '\0'; /* abstract: the name has no terminating NUL */
	addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len +
			       (path[0] == '@' ? 0 : 1));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return pv_fail_errno(errno, "station", "NOTIFY_SOCKET: socket");
	sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr, addr_len);
	if (sent < 0) {
		int err = errno;

		close(fd);
		return pv_fail_errno(err, "station", "NOTIFY_SOCKET '%s': %s", path, state);
	}
	close(fd);
	return PV_OK;
}
