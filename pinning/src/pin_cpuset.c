/*
 * pin_cpuset.c - the cpuset list syntax "0-3,8,^2": parse and format.
 *
 * The bitmap operations are inline in pin/cpuset.h; this file holds the two
 * text conversions. The grammar is Nova's (nova.virt.hardware.parse_cpu_spec):
 * comma-separated items, each "N", "N-M" or an exclusion "^N" / "^N-M";
 * exclusions are applied after all inclusions. Whitespace around items is
 * ignored; an empty item ("1,,2") is an error, as are reversed ranges,
 * signs, and numbers beyond the limit.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "pin/cpuset.h"

/* Parses one unsigned decimal at *p (no sign), advances *p. */
static bool parse_num(const char **p, unsigned long *ret)
{
    char *end;

    if (!isdigit((unsigned char)**p))
        return false;
    errno = 0;
    unsigned long v = strtoul(*p, &end, 10);
    if (errno)
        return false;
    *p = end;
    *ret = v;
    return true;
}

enum nfv_code pin_cpuset_parse(const char *text, unsigned n_max, bool is_empty_ok,
                               struct pin_cpuset *ret_set, struct nfv_err *err)
{
    struct pin_cpuset inc, exc;
    const char *p = text;
    bool any_item = false;

    if (!text)
        return NFV_ERR(err, NFV_E_INVAL, "missing cpu list");
    if (n_max > PIN_MAX_PUS)
        n_max = PIN_MAX_PUS;
    pin_cpuset_zero(&inc);
    pin_cpuset_zero(&exc);

    while (isspace((unsigned char)*p))
        p++;
    if (*p == '\0') {
        if (!is_empty_ok)
            return NFV_ERR(err, NFV_E_INVAL, "'%s': empty cpu list", text);
        pin_cpuset_zero(ret_set);
        return NFV_OK;
    }

    for (;;) {
        const char *item = p;
        bool is_exclude = false;
        unsigned long lo, hi;

        while (isspace((unsigned char)*p))
            p++;
        item = p;
        if (*p == '^') {
            is_exclude = true;
            p++;
        }
        if (!parse_num(&p, &lo)) {
            size_t n = strcspn(item, ",");
            return NFV_ERR(err, NFV_E_INVAL, "'%s': '%.*s' is not a cpu number or range", text,
                           (int)n, item);
        }
        hi = lo;
        if (*p == '-') {
            p++;
            if (!parse_num(&p, &hi)) {
                size_t n = strcspn(item, ",");
                return NFV_ERR(err, NFV_E_INVAL, "'%s': '%.*s' is not a cpu range", text, (int)n,
                               item);
            }
            if (hi < lo) {
                size_t n = strcspn(item, ",");
                return NFV_ERR(err, NFV_E_INVAL, "'%s': range '%.*s' is reversed", text, (int)n,
                               item);
            }
        }
        if (hi >= n_max)
            return NFV_ERR(err, NFV_E_INVAL, "'%s': cpu %lu is out of range (limit %u)", text, hi,
                           n_max - 1);
        while (isspace((unsigned char)*p))
            p++;
        if (*p != ',' && *p != '\0') {
            size_t n = strcspn(item, ",");
            return NFV_ERR(err, NFV_E_INVAL, "'%s': unexpected text in '%.*s'", text, (int)n, item);
        }
        for (unsigned long c = lo; c <= hi; c++)
            pin_cpuset_set(is_exclude ? &exc : &inc, (unsigned)c);
        if (!is_exclude)
            any_item = true;
        if (*p == '\0')
            break;
        p++; /* ',' */
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0' || *p == ',')
            return NFV_ERR(err, NFV_E_INVAL, "'%s': empty item in cpu list", text);
    }
    if (!any_item)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': only exclusions, no cpu included", text);
    pin_cpuset_andnot(&inc, &inc, &exc);
    if (!is_empty_ok && pin_cpuset_is_empty(&inc))
        return NFV_ERR(err, NFV_E_INVAL, "'%s': the exclusions remove every cpu", text);
    *ret_set = inc;
    return NFV_OK;
}

/* Appends @s to buf at *len (truncating safely), always counting its length. */
static void append(char *buf, size_t buf_size, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (*len < buf_size) {
        size_t room = buf_size - *len - 1;
        memcpy(buf + *len, s, n < room ? n : room);
        buf[*len + (n < room ? n : room)] = '\0';
    }
    *len += n;
}

size_t pin_cpuset_format(const struct pin_cpuset *s, char *buf, size_t buf_size)
{
    size_t len = 0;
    char item[32];
    int pu;

    if (buf_size)
        buf[0] = '\0';
    pu = pin_cpuset_first(s);
    while (pu >= 0) {
        int end = pu;
        while (end + 1 < PIN_MAX_PUS && pin_cpuset_test(s, (unsigned)end + 1))
            end++;
        if (end == pu)
            snprintf(item, sizeof(item), "%s%d", len ? "," : "", pu);
        else
            snprintf(item, sizeof(item), "%s%d-%d", len ? "," : "", pu, end);
        append(buf, buf_size, &len, item);
        pu = pin_cpuset_next(s, (unsigned)end + 1);
    }
    return len;
}
