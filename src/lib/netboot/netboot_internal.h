/* Internals shared by the netboot module's files: big-endian field access and the clock. */
#ifndef PIPROV_NETBOOT_INTERNAL_H
#define PIPROV_NETBOOT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t nb_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t nb_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void nb_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void nb_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* CLOCK_MONOTONIC in milliseconds (the real links and sockets). */
uint64_t nb_monotonic_ms(void);

/* Wait until fd is readable or `deadline` (nb_monotonic_ms) passes: PV_OK, PV_ERR_TIMEOUT,
 * or a failure naming `what`. EINTR is retried. */
int nb_wait_readable(int fd, uint64_t deadline, const char *what);

/* Enter network namespace `name` (/run/netns/NAME) on the calling thread; *saved receives
 * a descriptor of the namespace to return to with nb_netns_leave (-1 when name is NULL). */
int nb_netns_enter(const char *name, int *saved);
void nb_netns_leave(int saved);

/* Copy text from the network for display: bytes outside printable ASCII become \xNN, the
 * copy is cut (with "...") to fit. */
void nb_escape(const char *in, size_t len, char *out, size_t size);

#endif
