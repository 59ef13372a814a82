/* Logging: the library never prints. It hands every message to one process-wide callback.
 * The callback may be called from any thread that runs library code (e.g. per-device USB
 * workers), so it must be thread-safe; the default callback discards everything. */
#ifndef PIPROV_LOG_H
#define PIPROV_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

enum pv_log_level {
	PV_LOG_ERROR = 0,
	PV_LOG_WARN = 1,
	PV_LOG_INFO = 2,
	PV_LOG_DEBUG = 3,
};

/* module: short subsystem name ("eeprom", "usb", "inventory", ...); message: one line,
 * no trailing newline, lower-case start, subject in quotes. */
typedef void (*pv_log_fn)(enum pv_log_level level, const char *module, const char *message,
			  void *user);

/* Install the callback (NULL restores the silent default). Not thread-safe against
 * concurrent logging: call it before starting work. */
void pv_log_set_callback(pv_log_fn fn, void *user);

/* Messages above this level are not formatted at all (default PV_LOG_INFO). */
void pv_log_set_level(enum pv_log_level max_level);
enum pv_log_level pv_log_get_level(void);

const char *pv_log_level_name(enum pv_log_level level);

#ifdef __cplusplus
}
#endif
#endif
