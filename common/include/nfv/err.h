/*
 * nfv/err.h - the one project-wide error type.
 *
 * Every fallible function in vmmgr returns an enum nfv_code and takes a
 * struct nfv_err * as its last parameter (NULL allowed). The struct carries
 * the code, the errno that caused it (if any), the function that raised it and
 * a one-sentence message that names the field or object in quotes, e.g.
 *   "cpu-map: PU 97 is out of range (host has 64 PUs)".
 *
 * Codes are added last and never renumbered. Each code has a stable JSON name,
 * a CLI exit code and an HTTP status (nfv_code_*), so the daemon, the CLI and
 * the REST shim report the same failure the same way.
 */
#ifndef NFV_ERR_H
#define NFV_ERR_H

#include <stddef.h>

enum nfv_code {
    NFV_OK = 0,
    NFV_E_INVAL,       /* bad input: a field or option is malformed or out of range */
    NFV_E_NOENT,       /* a named object does not exist */
    NFV_E_EXIST,       /* a named object already exists / conflicts */
    NFV_E_NOCAP,       /* no capacity: no host, core or memory fits the request */
    NFV_E_NOMEM,       /* allocation failed */
    NFV_E_IO,          /* file or socket I/O failed */
    NFV_E_HYPERVISOR,  /* libvirt or the hypervisor refused or failed */
    NFV_E_UNREACHABLE, /* a daemon or host cannot be reached */
    NFV_E_PERM,        /* permission denied or bad credentials */
    NFV_E_TIMEOUT,     /* an operation did not finish in time */
    NFV_E_STATE,       /* the object is in a state that forbids the operation */
    NFV_E_UNSUPPORTED, /* the operation or option is not supported here */
    NFV_E_INTERNAL,    /* a bug or an unexpected condition */
    NFV_E_DB,          /* the state database failed */
    NFV_E_PARSE,       /* a file or document could not be parsed */
    NFV_E__COUNT
};

#define NFV_ERR_MSG_SIZE 512

struct nfv_err {
    enum nfv_code code;
    int sys_errno;    /* errno at the failure, 0 if none */
    const char *func; /* function that raised it (static string) */
    char msg[NFV_ERR_MSG_SIZE];
};

/*
 * Records an error in @err (if not NULL) and returns @code, so callers can
 * write `return NFV_ERR(err, NFV_E_INVAL, "'vcpus': must be 1..4096");`.
 * The message is formatted with printf semantics and truncated to fit.
 */
enum nfv_code nfv_err_set(struct nfv_err *err, enum nfv_code code, int sys_errno, const char *func,
                          const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define NFV_ERR(err, code, ...) nfv_err_set((err), (code), 0, __func__, __VA_ARGS__)
#define NFV_ERR_ERRNO(err, code, errnum, ...)                                                      \
    nfv_err_set((err), (code), (errnum), __func__, __VA_ARGS__)

/* Prefixes the existing message of @err with "prefix: " (context as it bubbles up). */
void nfv_err_prefix(struct nfv_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Resets @err to NFV_OK with an empty message. NULL is a no-op. */
void nfv_err_clear(struct nfv_err *err);

/* Stable upper-case JSON code, e.g. "NO_CAPACITY". Unknown codes give "INTERNAL". */
const char *nfv_code_name(enum nfv_code code);
/* Parses a name from nfv_code_name(); returns NFV_E__COUNT if unknown. */
enum nfv_code nfv_code_from_name(const char *name);
/* CLI exit code (STYLE.md: 0 ok, 1 failure, 2 usage, 3 not found, 4 conflict,
 * 5 no capacity, 6 unreachable, 7 permission, 8 timeout). */
int nfv_code_exit(enum nfv_code code);
/* HTTP status for the native API and the shim. */
int nfv_code_http(enum nfv_code code);
/* Short human description of the code ("no capacity"). */
const char *nfv_code_describe(enum nfv_code code);

#endif /* NFV_ERR_H */
