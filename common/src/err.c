/*
 * err.c - the project-wide error type (see nfv/err.h).
 *
 * The tables below are the single place where a code meets its JSON name, CLI
 * exit code and HTTP status; the daemon, vmmgrctl and the shim all read them.
 */
#include "nfv/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct nfv_code_info {
    const char *name;
    const char *describe;
    int exit_code;
    int http;
};

static const struct nfv_code_info code_info[NFV_E__COUNT] = {
    [NFV_OK] = {"OK", "success", 0, 200},
    [NFV_E_INVAL] = {"INVALID_ARGUMENT", "invalid argument", 2, 400},
    [NFV_E_NOENT] = {"NOT_FOUND", "not found", 3, 404},
    [NFV_E_EXIST] = {"CONFLICT", "already exists", 4, 409},
    [NFV_E_NOCAP] = {"NO_CAPACITY", "no capacity", 5, 409},
    [NFV_E_NOMEM] = {"OUT_OF_MEMORY", "out of memory", 1, 500},
    [NFV_E_IO] = {"IO_ERROR", "I/O error", 1, 500},
    [NFV_E_HYPERVISOR] = {"HYPERVISOR_ERROR", "hypervisor error", 1, 502},
    [NFV_E_UNREACHABLE] = {"UNREACHABLE", "unreachable", 6, 503},
    [NFV_E_PERM] = {"PERMISSION_DENIED", "permission denied", 7, 403},
    [NFV_E_TIMEOUT] = {"TIMEOUT", "timed out", 8, 504},
    [NFV_E_STATE] = {"INVALID_STATE", "invalid state", 4, 409},
    [NFV_E_UNSUPPORTED] = {"UNSUPPORTED", "unsupported", 1, 501},
    [NFV_E_INTERNAL] = {"INTERNAL", "internal error", 1, 500},
    [NFV_E_DB] = {"DATABASE_ERROR", "state database error", 1, 500},
    [NFV_E_PARSE] = {"PARSE_ERROR", "parse error", 2, 400},
};

static const struct nfv_code_info *info_get(enum nfv_code code)
{
    if ((unsigned)code >= NFV_E__COUNT)
        return &code_info[NFV_E_INTERNAL];
    return &code_info[code];
}

enum nfv_code nfv_err_set(struct nfv_err *err, enum nfv_code code, int sys_errno, const char *func,
                          const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return code;
    err->code = code;
    err->sys_errno = sys_errno;
    err->func = func;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

void nfv_err_prefix(struct nfv_err *err, const char *fmt, ...)
{
    char prefix[NFV_ERR_MSG_SIZE];
    char joined[2 * NFV_ERR_MSG_SIZE + 2];
    va_list ap;

    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    snprintf(joined, sizeof(joined), "%s: %s", prefix, err->msg);
    /* Keep the prefix and as much of the old message as fits. */
    memcpy(err->msg, joined, sizeof(err->msg) - 1);
    err->msg[sizeof(err->msg) - 1] = '\0';
}

void nfv_err_clear(struct nfv_err *err)
{
    if (!err)
        return;
    err->code = NFV_OK;
    err->sys_errno = 0;
    err->func = NULL;
    err->msg[0] = '\0';
}

const char *nfv_code_name(enum nfv_code code)
{
    return info_get(code)->name;
}

enum nfv_code nfv_code_from_name(const char *name)
{
    for (int i = 0; i < NFV_E__COUNT; i++)
        if (name && strcmp(code_info[i].name, name) == 0)
            return (enum nfv_code)i;
    return NFV_E__COUNT;
}

int nfv_code_exit(enum nfv_code code)
{
    return info_get(code)->exit_code;
}

int nfv_code_http(enum nfv_code code)
{
    return info_get(code)->http;
}

const char *nfv_code_describe(enum nfv_code code)
{
    return info_get(code)->describe;
}
