/*
 * vnf/flow.h - connection timeouts and the TCP state both VNFs track.
 *
 * Pure code (no DPDK, no clock: "now" is passed in, in milliseconds). The
 * connection table of each VNF (vnf/ct.h) stores a flow's protocol, its
 * vnf_flow_state and the time it last saw a packet; these functions decide
 * which timeout applies and whether the flow has expired.
 *
 * TCP is tracked coarsely, like a NAT and not like a full TCP window checker:
 *   OPENING  first packet seen (SYN or a picked-up mid-stream segment),
 *            no reply yet                       -> tcp-transitory timeout
 *   EST      a packet was seen in each direction -> tcp-established timeout
 *   CLOSING  FIN or RST seen in either direction -> tcp-transitory timeout
 */
#ifndef VNF_FLOW_H
#define VNF_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "nfv/err.h"

enum vnf_tmo {
    VNF_TMO_TCP_EST,
    VNF_TMO_TCP_TRANS,
    VNF_TMO_UDP,
    VNF_TMO_ICMP,
    VNF_TMO_OTHER,
    VNF_TMO__COUNT
};

enum vnf_flow_state { VNF_FLOW_OPENING, VNF_FLOW_EST, VNF_FLOW_CLOSING, VNF_FLOW__COUNT };

/* Timeouts in seconds, indexed by enum vnf_tmo. */
struct vnf_timeouts {
    uint32_t sec[VNF_TMO__COUNT];
};

/* Config names: "tcp-established", "tcp-transitory", "udp", "icmp", "other". */
const char *vnf_tmo_to_string(enum vnf_tmo t);
/* Returns VNF_TMO__COUNT for an unknown name. */
enum vnf_tmo vnf_tmo_from_string(const char *s);
/* Defaults as Linux conntrack/RFC 5382/4787: 7440, 240, 300, 60, 600 seconds. */
void vnf_timeouts_default(struct vnf_timeouts *t);
/* Handles the config statement "timeout NAME SECONDS" (argv[0] == "timeout"). */
enum nfv_code vnf_timeouts_conf(struct vnf_timeouts *t, unsigned argc, char **argv,
                                struct nfv_err *err);

/* State after a packet with TCP @flags; @is_reply: it went against the first packet. */
enum vnf_flow_state vnf_flow_next(enum vnf_flow_state s, uint8_t proto, uint8_t tcp_flags,
                                  bool is_reply);
/* Timeout class of a flow. */
enum vnf_tmo vnf_flow_tmo(uint8_t proto, enum vnf_flow_state s);
/* True once more than the flow's timeout has passed since @last_ms. */
bool vnf_flow_expired(const struct vnf_timeouts *t, uint8_t proto, enum vnf_flow_state s,
                      uint64_t last_ms, uint64_t now_ms);

#endif /* VNF_FLOW_H */
