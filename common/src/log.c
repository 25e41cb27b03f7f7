/*
 * log.c - levelled logging with a replaceable sink (see nfv/log.h).
 *
 * The sink pointer and level are the only process-wide state; main.c files
 * set them once at start-up before threads exist, so no locking is needed for
 * the settings. Messages are formatted into a stack buffer and handed to the
 * sink whole, so concurrent writers never interleave within a line.
 */
#include "nfv/log.h"

#include <stdio.h>
#include <string.h>

static const char *const level_names[NFV_LOG__COUNT] = {
    [NFV_LOG_ERR] = "err",
    [NFV_LOG_WARN] = "warn",
    [NFV_LOG_INFO] = "info",
    [NFV_LOG_DEBUG] = "debug",
};

static void stderr_sink(void *opaque, enum nfv_log_level level, const char *module,
                        const char *msg);

static struct {
    nfv_log_sink_fn sink;
    void *opaque;
    enum nfv_log_level max_level;
    const char *progname;
} log_cfg = {stderr_sink, NULL, NFV_LOG_WARN, "vmmgr"};

static void stderr_sink(void *opaque, enum nfv_log_level level, const char *module, const char *msg)
{
    (void)opaque;
    /* "vmmgrctl: warn: pin: message"; info and debug lines carry no level word. */
    fprintf(stderr, "%s: %s%s%s%s%s\n", log_cfg.progname,
            level <= NFV_LOG_WARN ? level_names[level] : "", level <= NFV_LOG_WARN ? ": " : "",
            module ? module : "", module ? ": " : "", msg);
}

void nfv_log_set_sink(nfv_log_sink_fn sink, void *opaque)
{
    log_cfg.sink = sink ? sink : stderr_sink;
    log_cfg.opaque = sink ? opaque : NULL;
}

void nfv_log_set_level(enum nfv_log_level max_level)
{
    if ((unsigned)max_level < NFV_LOG__COUNT)
        log_cfg.max_level = max_level;
}

enum nfv_log_level nfv_log_get_level(void)
{
    return log_cfg.max_level;
}

void nfv_log_set_progname(const char *name)
{
    if (name)
        log_cfg.progname = name;
}

const char *nfv_log_level_to_string(enum nfv_log_level level)
{
    return (unsigned)level < NFV_LOG__COUNT ? level_names[level] : "?";
}

enum nfv_log_level nfv_log_level_from_string(const char *s)
{
    for (int i = 0; i < NFV_LOG__COUNT; i++)
        if (s && strcmp(s, level_names[i]) == 0)
            return (enum nfv_log_level)i;
    return NFV_LOG__COUNT;
}

void nfv_logv(enum nfv_log_level level, const char *module, const char *fmt, va_list ap)
{
    char buf[2048];

    if (level > log_cfg.max_level)
        return;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    log_cfg.sink(log_cfg.opaque, level, module, buf);
}

void nfv_log(enum nfv_log_level level, const char *module, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    nfv_logv(level, module, fmt, ap);
    va_end(ap);
}

bool nfv_ratelimit_ok(struct nfv_ratelimit *rl, uint64_t now_ns, unsigned *ret_suppressed)
{
    if (now_ns < rl->window_start_ns || now_ns - rl->window_start_ns >= rl->interval_ns) {
        if (ret_suppressed)
            *ret_suppressed = rl->n_suppressed;
        rl->window_start_ns = now_ns;
        rl->n_in_window = 0;
        rl->n_suppressed = 0;
    }
    if (rl->n_in_window < rl->burst) {
        rl->n_in_window++;
        return true;
    }
    rl->n_suppressed++;
    return false;
}
