/*
 * nfv/log.h - levelled logging with a replaceable sink and rate limiting.
 *
 * Library code logs at debug only (STYLE.md); daemons and CLIs decide where
 * messages go by installing a sink from their main.c (stderr by default,
 * syslog for a daemonized vmmgrd). Each source file names its module in the
 * first argument so a line reads "vmmgrd: pin: re-applied plan for 'nat-act'".
 *
 * In loops, guard a log call with an nfv_ratelimit so a flapping host cannot
 * flood the log; the limiter reports how many lines it suppressed.
 */
#ifndef NFV_LOG_H
#define NFV_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum nfv_log_level { NFV_LOG_ERR, NFV_LOG_WARN, NFV_LOG_INFO, NFV_LOG_DEBUG, NFV_LOG__COUNT };

/* A sink receives fully formatted messages (no trailing newline). */
typedef void (*nfv_log_sink_fn)(void *opaque, enum nfv_log_level level, const char *module,
                                const char *msg);

/* Installs @sink (NULL restores the stderr sink) and the most verbose level kept. */
void nfv_log_set_sink(nfv_log_sink_fn sink, void *opaque);
void nfv_log_set_level(enum nfv_log_level max_level);
enum nfv_log_level nfv_log_get_level(void);
/* Sets the program name printed by the stderr sink ("vmmgrctl"). */
void nfv_log_set_progname(const char *name);

const char *nfv_log_level_to_string(enum nfv_log_level level);
/* Returns NFV_LOG__COUNT when @s is not one of "err", "warn", "info", "debug". */
enum nfv_log_level nfv_log_level_from_string(const char *s);

void nfv_log(enum nfv_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void nfv_logv(enum nfv_log_level level, const char *module, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#define NFV_LOG_ERR(mod, ...)   nfv_log(NFV_LOG_ERR, (mod), __VA_ARGS__)
#define NFV_LOG_WARN(mod, ...)  nfv_log(NFV_LOG_WARN, (mod), __VA_ARGS__)
#define NFV_LOG_INFO(mod, ...)  nfv_log(NFV_LOG_INFO, (mod), __VA_ARGS__)
#define NFV_LOG_DEBUG(mod, ...) nfv_log(NFV_LOG_DEBUG, (mod), __VA_ARGS__)

/*
 * Token-bucket style limiter: at most @burst messages per @interval_ns.
 * Time is passed in (no clock reads here), so it is testable.
 */
struct nfv_ratelimit {
    uint64_t interval_ns;
    unsigned burst;
    uint64_t window_start_ns;
    unsigned n_in_window;
    unsigned n_suppressed; /* suppressed since the last allowed message */
};

#define NFV_RATELIMIT_INIT(interval_ms, burst_)                                                    \
    {                                                                                              \
        .interval_ns = (uint64_t)(interval_ms)*1000000ull, .burst = (burst_)                       \
    }

/* True if a message may be logged at @now_ns. When a new window opens,
 * *ret_suppressed (if not NULL) receives the count dropped in earlier ones. */
bool nfv_ratelimit_ok(struct nfv_ratelimit *rl, uint64_t now_ns, unsigned *ret_suppressed);

#endif /* NFV_LOG_H */
