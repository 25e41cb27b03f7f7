/*
 * shim_mv.c - microversion negotiation (see shim_mv.h). Pure: no I/O.
 */
#include "shim/shim_mv.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void shim_mv_format(int mv, char *buf, size_t buf_size)
{
    snprintf(buf, buf_size, "%d.%d", mv / 1000, mv % 1000);
}

/* Parses "X.Y" (digits only, each at most 3 digits) or "latest". */
static bool parse_version(const char *s, size_t len, int *ret)
{
    int major = 0, minor = 0, *cur = &major;
    size_t n_digits = 0;
    bool is_dot = false;

    if (len == 6 && strncasecmp(s, "latest", 6) == 0) {
        *ret = SHIM_MV_MAX;
        return true;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.' && !is_dot && n_digits) {
            is_dot = true;
            cur = &minor;
            n_digits = 0;
            continue;
        }
        if (!isdigit((unsigned char)s[i]) || ++n_digits > 3)
            return false;
        *cur = *cur * 10 + (s[i] - '0');
    }
    if (!is_dot || !n_digits)
        return false;
    *ret = SHIM_MV(major, minor);
    return true;
}

/* The "compute X.Y" item of an OpenStack-API-Version value ("compute 2.1,
 * volume 3.0"); NULL/0 when the header names no compute version. */
static const char *compute_item(const char *v, size_t *ret_len)
{
    while (v && *v) {
        const char *end = strchr(v, ',');
        size_t len = end ? (size_t)(end - v) : strlen(v);
        while (len && isspace((unsigned char)*v)) {
            v++;
            len--;
        }
        if (len > 8 && strncasecmp(v, "compute", 7) == 0 && isspace((unsigned char)v[7])) {
            const char *p = v + 7;
            while (isspace((unsigned char)*p))
                p++;
            len -= (size_t)(p - v);
            while (len && isspace((unsigned char)p[len - 1]))
                len--;
            *ret_len = len;
            return p;
        }
        v = end ? end + 1 : NULL;
    }
    return NULL;
}

enum shim_mv_result shim_mv_negotiate(const char *openstack_api_version,
                                      const char *legacy_nova_version, int *ret_mv, char *msg,
                                      size_t msg_size)
{
    const char *v = NULL;
    size_t len = 0;
    int mv;

    if (openstack_api_version)
        v = compute_item(openstack_api_version, &len);
    if (!v && legacy_nova_version) {
        v = legacy_nova_version;
        while (isspace((unsigned char)*v))
            v++;
        len = strlen(v);
        while (len && isspace((unsigned char)v[len - 1]))
            len--;
    }
    if (!v) {
        *ret_mv = SHIM_MV_MIN;
        return SHIM_MV_OK;
    }
    if (!parse_version(v, len, &mv)) {
        /* Nova quotes the string; keep it short and printable. */
        char shown[64];
        size_t n = 0;
        for (size_t i = 0; i < len && n + 1 < sizeof(shown); i++)
            shown[n++] = isprint((unsigned char)v[i]) ? v[i] : '?';
        shown[n] = '\0';
        snprintf(msg, msg_size,
                 "API Version String %s is of invalid format. Must be of format "
                 "MajorNum.MinorNum.",
                 shown);
        return SHIM_MV_MALFORMED;
    }
    *ret_mv = mv;
    if (mv < SHIM_MV_MIN || mv > SHIM_MV_MAX) {
        char asked[16], lo[16], hi[16];
        shim_mv_format(mv, asked, sizeof(asked));
        shim_mv_format(SHIM_MV_MIN, lo, sizeof(lo));
        shim_mv_format(SHIM_MV_MAX, hi, sizeof(hi));
        snprintf(msg, msg_size,
                 "Version %s is not supported by the API. Minimum is %s and maximum is %s.", asked,
                 lo, hi);
        return SHIM_MV_TOO_HIGH;
    }
    return SHIM_MV_OK;
}
