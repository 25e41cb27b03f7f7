/*
 * nat.h - vmmgr-nat's pure core: configuration and translation decisions.
 *
 * No DPDK here (nat_core.c is unit-tested in tests/unit/vnf): the config
 * file, which outside address and port a new flow gets, and the static
 * port-forward (DNAT) table. nat_main.c is the DPDK side: the connection
 * table (vnf/ct.h), the per-packet path, telemetry and main().
 *
 * Mapping (documented in docs/vnf-samples.md): each inside host is paired
 * with one outside address (RFC 4787 REQ-2, "paired" pooling), chosen by a
 * hash of its address. A new flow keeps its source port when that port is in
 * the port range and the resulting outside 5-tuple is free ("port
 * preservation"); otherwise the port search starts at a hash of the flow and
 * walks upwards, at most NAT_PORT_TRIES candidates. A port is free when no
 * flow to the same remote endpoint uses it (ports are reused across remote
 * endpoints, as Linux masquerading does) and no static forward reserves it.
 *
 * Several workers (lcores): worker w allocates only ports p with
 * p % n_workers == w, so the reply of a flow (its destination port) names
 * the worker that owns the flow; nat_owner() sends every packet to its owner.
 */
#ifndef NAT_H
#define NAT_H

#include <stdbool.h>
#include <stdint.h>

#include "nfv/err.h"
#include "vnf/flow.h"
#include "vnf/pkt.h"

#define NAT_MAX_OUTSIDE_IPS 64
#define NAT_MAX_FORWARDS    1024
#define NAT_PORT_TRIES      128
#define NAT_DEFAULT_FLOWS   1048576u
#define NAT_DEFAULT_IP      0xc6336401u /* 198.51.100.1 */

/* Static DNAT: packets to out_ip:out_port (proto) go to in_ip:in_port. */
struct nat_fwd {
    uint8_t proto; /* TCP or UDP */
    uint16_t out_port;
    uint16_t in_port;
    uint32_t out_ip;
    uint32_t in_ip;
    unsigned lineno; /* config line, for messages */
    /* Port that names the owner of this forward's flows: the outside port of the
     * first forward to the same inside endpoint (set by nat_conf_finish), so the
     * endpoint's answers, which cannot tell the forwards apart, find their flow. */
    uint16_t owner_port;
};

struct nat_conf {
    uint32_t outside_ip[NAT_MAX_OUTSIDE_IPS];
    unsigned n_outside_ip;
    uint32_t max_flows;
    uint16_t port_lo; /* dynamic port range (also ICMP identifiers) */
    uint16_t port_hi;
    struct vnf_timeouts tmo;
    struct nat_fwd fwd[NAT_MAX_FORWARDS];
    unsigned n_fwd;
    /* One bit per port number and protocol (0 TCP, 1 UDP) set when any forward uses it,
     * for its outside port and for its inside port. */
    uint64_t fwd_bits[2][65536 / 64];
    uint64_t fwd_in_bits[2][65536 / 64];
};

/* Defaults: no outside address yet, NAT_DEFAULT_FLOWS, ports 1024-65535, vnf_timeouts_default. */
void nat_conf_init(struct nat_conf *c);
/*
 * Reads a config file into @c (statements in docs/vnf-samples.md: outside-ip,
 * flows, port-range, timeout, forward). Errors are "FILE:LINE: reason"
 * (NFV_E_PARSE/NFV_E_INVAL) or NFV_E_IO.
 */
enum nfv_code nat_conf_load(struct nat_conf *c, const char *path, struct nfv_err *err);
/* Same from a string (tests); @name stands for the file name. */
enum nfv_code nat_conf_load_text(struct nat_conf *c, const char *name, const char *text,
                                 struct nfv_err *err);
/* Parses "A.B.C.D[,A.B.C.D...]" (--outside-ip), replacing the list. */
enum nfv_code nat_conf_set_outside_ips(struct nat_conf *c, const char *list, struct nfv_err *err);
/*
 * Final checks once file and options are applied: adds NAT_DEFAULT_IP if no
 * outside address was given, checks that every forward's outside address is
 * an outside address and that forwards do not collide. @name prefixes errors
 * ("FILE:LINE: reason" for a forward).
 */
enum nfv_code nat_conf_finish(struct nat_conf *c, const char *name, struct nfv_err *err);

/* Index of the outside address paired with inside host @inside_ip. */
unsigned nat_pick_outside(const struct nat_conf *c, uint32_t inside_ip);
/*
 * First port candidate for a flow owned by @worker of @n_workers: @sport if it
 * is in the range and belongs to the worker, else one chosen by @flow_hash
 * among the worker's ports. 0 if the worker has no port in the range.
 */
uint16_t nat_port_first(const struct nat_conf *c, uint16_t sport, uint32_t flow_hash,
                        unsigned worker, unsigned n_workers);
/* Next candidate of the same worker after @port, wrapping inside the range. */
uint16_t nat_port_next(const struct nat_conf *c, uint16_t port, unsigned n_workers);
/*
 * The @attempt-th (0-based) port to try for a new flow: first the preserved
 * source port when nat_port_first() keeps it, then a probe sequence that
 * starts at the flow's hash and steps by a per-flow stride coprime with the
 * worker's share of the range (similar source ports of one subnet pile up
 * into long runs of used ports that a linear walk could not leave within
 * NAT_PORT_TRIES). Candidates do not repeat before the whole share has been
 * offered. 0 if none.
 */
uint16_t nat_port_candidate(const struct nat_conf *c, uint16_t sport, uint32_t flow_hash,
                            unsigned worker, unsigned n_workers, unsigned attempt);
/* The forward for (proto, outside ip, outside port), or NULL. */
const struct nat_fwd *nat_fwd_find(const struct nat_conf *c, uint8_t proto, uint32_t ip,
                                   uint16_t port);
/* The forward whose inside endpoint is (proto, ip, port), or NULL. */
const struct nat_fwd *nat_fwd_find_inside(const struct nat_conf *c, uint8_t proto, uint32_t ip,
                                          uint16_t port);
/*
 * The worker owning the flow of parsed packet @p that entered @side (0 inside,
 * 1 outside): outside, the worker its destination port belongs to (for a
 * forward's address/port: its owner_port's); inside, the worker of the
 * forwards to its source endpoint, else a hash of its tuple.
 */
unsigned nat_owner(const struct nat_conf *c, const struct vnf_pkt *p, unsigned side,
                   unsigned n_workers);
/*
 * The worker owning the flow an ICMP error entering @side is about: the
 * owner of the quoted packet's reverse, i.e. of the flow's own packets
 * travelling in the error's direction.
 */
unsigned nat_owner_icmp_error(const struct nat_conf *c, const struct vnf_pkt_inner *in,
                              unsigned side, unsigned n_workers);
/* A 32-bit mix of a flow's inside tuple (deterministic; spreads port searches). */
uint32_t nat_flow_hash(uint32_t src_ip, uint16_t sport, uint32_t dst_ip, uint16_t dport,
                       uint8_t proto);

#endif /* NAT_H */
