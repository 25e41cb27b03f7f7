/*
 * conf.c - the shared line-oriented config syntax and its value parsers.
 *
 * Parsers never exit: they return NFV_E_PARSE/NFV_E_INVAL with a message, and
 * vnf_conf_parse_*() prefixes "FILE:LINE" so the user sees exactly where.
 */
#include "vnf/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits @line in place; '#' ends the line. Returns the token count or -1 if too many. */
static int vnf_conf_split(char *line, char **argv)
{
    char *save = NULL, *tok;
    int argc = 0;
    char *hash = strchr(line, '#');

    if (hash)
        *hash = '\0';
    for (tok = strtok_r(line, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
        if (argc == VNF_CONF_MAX_TOKENS)
            return -1;
        argv[argc++] = tok;
    }
    return argc;
}

static enum nfv_code vnf_conf_line(const char *name, unsigned lineno, char *line,
                                   vnf_conf_line_fn fn, void *opaque, struct nfv_err *err)
{
    char *argv[VNF_CONF_MAX_TOKENS];
    int argc = vnf_conf_split(line, argv);
    enum nfv_code rc;

    if (argc < 0)
        return NFV_ERR(err, NFV_E_PARSE, "%s:%u: more than %d tokens", name, lineno,
                       VNF_CONF_MAX_TOKENS);
    if (argc == 0)
        return NFV_OK;
    rc = fn(opaque, lineno, (unsigned)argc, argv, err);
    if (rc != NFV_OK)
        nfv_err_prefix(err, "%s:%u", name, lineno);
    return rc;
}

enum nfv_code vnf_conf_parse_text(const char *name, const char *text, vnf_conf_line_fn fn,
                                  void *opaque, struct nfv_err *err)
{
    char line[VNF_CONF_MAX_LINE];
    unsigned lineno = 0;
    const char *p = text;

    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        enum nfv_code rc;

        lineno++;
        if (n >= sizeof(line))
            return NFV_ERR(err, NFV_E_PARSE, "%s:%u: line longer than %d characters", name, lineno,
                           VNF_CONF_MAX_LINE - 1);
        memcpy(line, p, n);
        line[n] = '\0';
        rc = vnf_conf_line(name, lineno, line, fn, opaque, err);
        if (rc != NFV_OK)
            return rc;
        p += n;
        if (*p == '\n')
            p++;
    }
    return NFV_OK;
}

enum nfv_code vnf_conf_parse_file(const char *path, vnf_conf_line_fn fn, void *opaque,
                                  struct nfv_err *err)
{
    char line[VNF_CONF_MAX_LINE];
    unsigned lineno = 0;
    enum nfv_code rc = NFV_OK;
    FILE *f = fopen(path, "r");

    if (!f)
        return NFV_ERR_ERRNO(err, NFV_E_IO, errno, "%s: %s", path, strerror(errno));
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            rc = NFV_ERR(err, NFV_E_PARSE, "%s:%u: line longer than %d characters", path, lineno,
                         VNF_CONF_MAX_LINE - 2);
            break;
        }
        rc = vnf_conf_line(path, lineno, line, fn, opaque, err);
        if (rc != NFV_OK)
            break;
    }
    if (rc == NFV_OK && ferror(f))
        rc = NFV_ERR_ERRNO(err, NFV_E_IO, errno, "%s: read error", path);
    fclose(f);
    return rc;
}

enum nfv_code vnf_parse_u32(const char *s, uint32_t lo, uint32_t hi, const char *what,
                            uint32_t *ret, struct nfv_err *err)
{
    char *end = NULL;
    unsigned long long v;

    if (!s || *s < '0' || *s > '9')
        goto bad;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        goto bad;
    *ret = (uint32_t)v;
    return NFV_OK;
bad:
    return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not a number in %u..%u", what, s ? s : "", lo,
                   hi);
}

enum nfv_code vnf_parse_ipv4(const char *s, const char *what, uint32_t *ret, struct nfv_err *err)
{
    struct in_addr a;

    if (!s || inet_pton(AF_INET, s, &a) != 1)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not an IPv4 address", what, s ? s : "");
    *ret = ntohl(a.s_addr);
    return NFV_OK;
}

enum nfv_code vnf_parse_prefix(const char *s, const char *what, uint32_t *ret_ip,
                               uint8_t *ret_depth, struct nfv_err *err)
{
    char buf[32];
    const char *slash;
    uint32_t ip = 0, depth = 32;
    enum nfv_code rc;

    if (s && strcmp(s, "any") == 0) {
        *ret_ip = 0;
        *ret_depth = 0;
        return NFV_OK;
    }
    if (!s || strlen(s) >= sizeof(buf))
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not an IPv4 prefix", what, s ? s : "");
    memcpy(buf, s, strlen(s) + 1);
    slash = strchr(s, '/');
    if (slash) {
        buf[slash - s] = '\0';
        rc = vnf_parse_u32(slash + 1, 0, 32, what, &depth, err);
        if (rc != NFV_OK)
            return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' has a bad prefix length", what, s);
    }
    rc = vnf_parse_ipv4(buf, what, &ip, err);
    if (rc != NFV_OK)
        return rc;
    if (depth < 32 && (ip & (depth ? 0xffffffffu >> depth : 0xffffffffu)))
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' has host bits set", what, s);
    *ret_ip = ip;
    *ret_depth = (uint8_t)depth;
    return NFV_OK;
}

enum nfv_code vnf_parse_port_range(const char *s, const char *what, uint16_t *ret_lo,
                                   uint16_t *ret_hi, struct nfv_err *err)
{
    char buf[16];
    const char *dash;
    uint32_t lo, hi;

    if (s && strcmp(s, "any") == 0) {
        *ret_lo = 0;
        *ret_hi = 65535;
        return NFV_OK;
    }
    if (!s || strlen(s) >= sizeof(buf))
        goto bad;
    memcpy(buf, s, strlen(s) + 1);
    dash = strchr(s, '-');
    if (dash)
        buf[dash - s] = '\0';
    if (vnf_parse_u32(buf, 0, 65535, what, &lo, NULL) != NFV_OK)
        goto bad;
    hi = lo;
    if (dash && vnf_parse_u32(dash + 1, 0, 65535, what, &hi, NULL) != NFV_OK)
        goto bad;
    if (lo > hi)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': range '%s' is empty (low > high)", what, s);
    *ret_lo = (uint16_t)lo;
    *ret_hi = (uint16_t)hi;
    return NFV_OK;
bad:
    return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not a port or port range (0..65535)", what,
                   s ? s : "");
}

enum nfv_code vnf_parse_proto(const char *s, const char *what, uint8_t *ret_proto, bool *ret_is_any,
                              struct nfv_err *err)
{
    uint32_t v;

    *ret_is_any = false;
    if (s && strcmp(s, "any") == 0) {
        *ret_proto = 0;
        *ret_is_any = true;
        return NFV_OK;
    }
    if (s && strcmp(s, "tcp") == 0)
        v = 6;
    else if (s && strcmp(s, "udp") == 0)
        v = 17;
    else if (s && strcmp(s, "icmp") == 0)
        v = 1;
    else if (vnf_parse_u32(s, 0, 255, what, &v, NULL) != NFV_OK)
        return NFV_ERR(err, NFV_E_INVAL,
                       "'%s': '%s' is not tcp, udp, icmp, any or a protocol number", what,
                       s ? s : "");
    *ret_proto = (uint8_t)v;
    return NFV_OK;
}

const char *vnf_ipv4_format(uint32_t ip, char *buf, unsigned buf_size)
{
    snprintf(buf, buf_size, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
             ip & 0xff);
    return buf;
}
