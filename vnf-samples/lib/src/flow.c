/*
 * flow.c - timeout classes and the coarse TCP state machine of vnf/flow.h.
 */
#include "vnf/flow.h"

#include <string.h>

#include "vnf/conf.h"
#include "vnf/pkt.h"

static const char *const vnf_tmo_names[VNF_TMO__COUNT] = {
    [VNF_TMO_TCP_EST] = "tcp-established",
    [VNF_TMO_TCP_TRANS] = "tcp-transitory",
    [VNF_TMO_UDP] = "udp",
    [VNF_TMO_ICMP] = "icmp",
    [VNF_TMO_OTHER] = "other",
};

const char *vnf_tmo_to_string(enum vnf_tmo t)
{
    return (unsigned)t < VNF_TMO__COUNT ? vnf_tmo_names[t] : "unknown";
}

enum vnf_tmo vnf_tmo_from_string(const char *s)
{
    for (unsigned i = 0; i < VNF_TMO__COUNT; i++)
        if (strcmp(s, vnf_tmo_names[i]) == 0)
            return (enum vnf_tmo)i;
    return VNF_TMO__COUNT;
}

void vnf_timeouts_default(struct vnf_timeouts *t)
{
    /* RFC 5382 REQ-5: established >= 2 h 4 min; RFC 4787 REQ-5: UDP >= 2 min
     * (5 min recommended); ICMP query 60 s (RFC 5508 REQ-1). */
    t->sec[VNF_TMO_TCP_EST] = 7440;
    t->sec[VNF_TMO_TCP_TRANS] = 240;
    t->sec[VNF_TMO_UDP] = 300;
    t->sec[VNF_TMO_ICMP] = 60;
    t->sec[VNF_TMO_OTHER] = 600;
}

enum nfv_code vnf_timeouts_conf(struct vnf_timeouts *t, unsigned argc, char **argv,
                                struct nfv_err *err)
{
    enum vnf_tmo k;

    if (argc != 3)
        return NFV_ERR(err, NFV_E_PARSE,
                       "'timeout': expected 'timeout tcp-established|tcp-transitory|udp|icmp|"
                       "other SECONDS'");
    k = vnf_tmo_from_string(argv[1]);
    if (k == VNF_TMO__COUNT)
        return NFV_ERR(err, NFV_E_PARSE, "'timeout': unknown class '%s'", argv[1]);
    return vnf_parse_u32(argv[2], 1, 86400 * 7, "timeout", &t->sec[k], err);
}

enum vnf_flow_state vnf_flow_next(enum vnf_flow_state s, uint8_t proto, uint8_t tcp_flags,
                                  bool is_reply)
{
    if (proto == VNF_PROTO_TCP && (tcp_flags & (VNF_TCP_FIN | VNF_TCP_RST)))
        return VNF_FLOW_CLOSING;
    if (s == VNF_FLOW_OPENING && is_reply)
        return VNF_FLOW_EST;
    return s;
}

enum vnf_tmo vnf_flow_tmo(uint8_t proto, enum vnf_flow_state s)
{
    switch (proto) {
    case VNF_PROTO_TCP:
        return s == VNF_FLOW_EST ? VNF_TMO_TCP_EST : VNF_TMO_TCP_TRANS;
    case VNF_PROTO_UDP:
        return VNF_TMO_UDP;
    case VNF_PROTO_ICMP:
        return VNF_TMO_ICMP;
    default:
        return VNF_TMO_OTHER;
    }
}

bool vnf_flow_expired(const struct vnf_timeouts *t, uint8_t proto, enum vnf_flow_state s,
                      uint64_t last_ms, uint64_t now_ms)
{
    uint64_t tmo_ms = (uint64_t)t->sec[vnf_flow_tmo(proto, s)] * 1000;

    /* A clock that went backwards (packet timestamps in a capture) never expires. */
    return now_ms > last_ms && now_ms - last_ms > tmo_ms;
}
