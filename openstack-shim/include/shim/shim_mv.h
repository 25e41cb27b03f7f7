/*
 * shim/shim_mv.h - Nova microversion negotiation (pure).
 *
 * A client names the compute API version in `OpenStack-API-Version: compute
 * X.Y` (it wins) or the legacy `X-OpenStack-Nova-API-Version: X.Y`; none
 * means 2.1 and `latest` means the maximum. Nova answers 400 for a string
 * that is not MAJOR.MINOR and 406 for a version outside [2.1, max], with the
 * messages reproduced here word for word (golden mv_garbage.http,
 * mv_too_high.http).
 *
 * Neighbours: shim_nova.c echoes the negotiated version in both headers.
 */
#ifndef SHIM_MV_H
#define SHIM_MV_H

#include <stddef.h>

#include "nfv/err.h"

/* A version as one number: major * 1000 + minor (2.61 -> 2061). */
#define SHIM_MV(major, minor) ((major)*1000 + (minor))
#define SHIM_MV_MIN           SHIM_MV(2, 1)
#define SHIM_MV_MAX           SHIM_MV(2, 93) /* Nova 26.2.2 (Zed), as in the golden set */

/* Outcome of shim_mv_negotiate(). */
enum shim_mv_result {
    SHIM_MV_OK,        /* *ret_mv is the version to serve */
    SHIM_MV_MALFORMED, /* 400 badRequest, message in @msg; no version headers */
    SHIM_MV_TOO_HIGH,  /* 406 computeFault (also below the minimum), message in @msg;
                        * *ret_mv is the version asked (echoed in the headers) */
};

/*
 * Negotiates from the two header values (either may be NULL).
 * @msg (@msg_size bytes) receives Nova's message on failure.
 */
enum shim_mv_result shim_mv_negotiate(const char *openstack_api_version,
                                      const char *legacy_nova_version, int *ret_mv, char *msg,
                                      size_t msg_size);

/* "2.61" into @buf. */
void shim_mv_format(int mv, char *buf, size_t buf_size);

#endif /* SHIM_MV_H */
