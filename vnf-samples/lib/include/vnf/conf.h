/*
 * vnf/conf.h - line-oriented configuration files and value parsers.
 *
 * Pure code (no DPDK). The NAT config, the firewall config and the firewall
 * rules file share one syntax: one statement per line, tokens separated by
 * blanks, '#' starts a comment. vnf_conf_parse_*() splits lines and hands the
 * tokens to a per-file callback; an error the callback returns comes back as
 * "FILE:LINE: reason" (the callback writes only the reason), like a compiler.
 * The value parsers below name the offending token in quotes.
 */
#ifndef VNF_CONF_H
#define VNF_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "nfv/err.h"

#define VNF_CONF_MAX_TOKENS 32
#define VNF_CONF_MAX_LINE   1024

/* Called once per non-empty line with its tokens (argc >= 1). */
typedef enum nfv_code (*vnf_conf_line_fn)(void *opaque, unsigned lineno, unsigned argc, char **argv,
                                          struct nfv_err *err);

/*
 * Reads @path and calls @fn for each statement. Returns NFV_OK, NFV_E_IO when
 * the file cannot be read ("FILE: strerror"), or the callback's code with its
 * message prefixed "FILE:LINE: ". Lines longer than VNF_CONF_MAX_LINE or with
 * more than VNF_CONF_MAX_TOKENS tokens are NFV_E_PARSE.
 */
enum nfv_code vnf_conf_parse_file(const char *path, vnf_conf_line_fn fn, void *opaque,
                                  struct nfv_err *err);
/* Same over an in-memory text; @name stands for the file name in messages. */
enum nfv_code vnf_conf_parse_text(const char *name, const char *text, vnf_conf_line_fn fn,
                                  void *opaque, struct nfv_err *err);

/* Decimal unsigned in [lo, hi]; "'what': 'TOKEN' is not a number in LO..HI" on error. */
enum nfv_code vnf_parse_u32(const char *s, uint32_t lo, uint32_t hi, const char *what,
                            uint32_t *ret, struct nfv_err *err);
/* Dotted quad to host-order address. */
enum nfv_code vnf_parse_ipv4(const char *s, const char *what, uint32_t *ret, struct nfv_err *err);
/* "A.B.C.D/N", "A.B.C.D" (= /32) or "any" (= 0.0.0.0/0); host bits must be zero. */
enum nfv_code vnf_parse_prefix(const char *s, const char *what, uint32_t *ret_ip,
                               uint8_t *ret_depth, struct nfv_err *err);
/* "N", "LO-HI" or "any" (0-65535). */
enum nfv_code vnf_parse_port_range(const char *s, const char *what, uint16_t *ret_lo,
                                   uint16_t *ret_hi, struct nfv_err *err);
/* "tcp", "udp", "icmp", "any" or a number 0..255; *ret_is_any set for "any". */
enum nfv_code vnf_parse_proto(const char *s, const char *what, uint8_t *ret_proto, bool *ret_is_any,
                              struct nfv_err *err);
/* Formats a host-order address into @buf (at least 16 bytes). Returns @buf. */
const char *vnf_ipv4_format(uint32_t ip, char *buf, unsigned buf_size);

#endif /* VNF_CONF_H */
