/*
 * vnf/pkt.h - Ethernet/IPv4/L4 header parsing and validation for the sample VNFs.
 *
 * Pure code (no DPDK): it reads a frame as bytes and says whether the VNFs may
 * process it, and if so where its headers are and what its 5-tuple is. Both
 * vmmgr-nat and vmmgr-fw call vnf_pkt_parse() first on every packet; the
 * malformed-packet policy of docs/vnf-samples.md is implemented here:
 *   - not IPv4 (ARP, IPv6, VLAN-tagged, ...)      -> VNF_PKT_NON_IPV4
 *   - frame too short for a header it announces    -> VNF_PKT_TRUNCATED
 *   - version != 4, IHL < 5, total length < IHL*4  -> VNF_PKT_BAD_HEADER
 *   - IPv4 header checksum wrong                   -> VNF_PKT_BAD_CSUM
 *   - fragment (MF set or offset != 0)             -> VNF_PKT_FRAGMENT
 * Both VNFs drop and count every verdict other than VNF_PKT_OK.
 * Neighbours: vnf/csum.h rewrites the headers this parser located.
 */
#ifndef VNF_PKT_H
#define VNF_PKT_H

#include <stddef.h>
#include <stdint.h>

#define VNF_ETH_HDR_SIZE  14
#define VNF_ETHERTYPE_IP4 0x0800
#define VNF_PROTO_ICMP    1
#define VNF_PROTO_TCP     6
#define VNF_PROTO_UDP     17

#define VNF_ICMP_ECHO_REPLY   0
#define VNF_ICMP_ECHO_REQUEST 8
#define VNF_ICMP_UNREACH      3
#define VNF_ICMP_TIME_EXCEED  11
#define VNF_ICMP_PARAM_PROB   12

#define VNF_TCP_FIN 0x01
#define VNF_TCP_SYN 0x02
#define VNF_TCP_RST 0x04
#define VNF_TCP_ACK 0x10

enum vnf_pkt_verdict {
    VNF_PKT_OK,
    VNF_PKT_NON_IPV4,
    VNF_PKT_TRUNCATED,
    VNF_PKT_BAD_HEADER,
    VNF_PKT_BAD_CSUM,
    VNF_PKT_FRAGMENT,
    VNF_PKT__COUNT
};

/* Stable counter names ("non_ipv4", "truncated", ...); "ok" for VNF_PKT_OK. */
const char *vnf_pkt_verdict_to_string(enum vnf_pkt_verdict v);

/*
 * What the parser found. Addresses and ports are in host byte order. For ICMP
 * echo request/reply, sport and dport both hold the echo identifier, so that a
 * reply's reversed tuple equals its request's tuple; for other ICMP types and
 * for protocols without ports they are 0.
 */
struct vnf_pkt {
    uint16_t l3_off; /* offset of the IPv4 header in the frame */
    uint16_t l4_off; /* offset of the L4 header */
    uint16_t ip_len; /* IPv4 total length */
    uint8_t proto;   /* IPv4 protocol */
    uint8_t is_echo; /* ICMP echo request or reply (identifier in the ports) */
    uint8_t icmp_type;
    uint8_t tcp_flags;
    uint32_t src_ip;
    uint32_t dst_ip;
    uint16_t sport;
    uint16_t dport;
};

/*
 * Parses the @len bytes of @frame. On VNF_PKT_OK fills *ret_pkt (untouched
 * otherwise). Checks the IPv4 header checksum. L4 headers of TCP (20 bytes
 * plus options per its data offset), UDP (8) and ICMP (8) must lie inside the
 * IPv4 total length; other protocols are accepted without ports.
 */
enum vnf_pkt_verdict vnf_pkt_parse(const uint8_t *frame, size_t len, struct vnf_pkt *ret_pkt);

/* True for the ICMP error types whose payload quotes the offending packet (3, 11, 12). */
static inline int vnf_icmp_is_error(uint8_t type)
{
    return type == VNF_ICMP_UNREACH || type == VNF_ICMP_TIME_EXCEED || type == VNF_ICMP_PARAM_PROB;
}

/*
 * The packet an ICMP error quotes (RFC 792: its IPv4 header and at least the
 * first 8 bytes of its payload). Offsets are from the start of the frame;
 * addresses and ports in host order, ports = echo identifier for a quoted
 * ICMP echo, as in struct vnf_pkt. l4_size is how many quoted L4 bytes the
 * frame holds (>= 8).
 */
struct vnf_pkt_inner {
    uint16_t l3_off;
    uint16_t l4_off;
    uint16_t l4_size;
    uint8_t proto;
    uint8_t is_echo;
    uint32_t src_ip;
    uint32_t dst_ip;
    uint16_t sport;
    uint16_t dport;
};

/*
 * Parses the quoted packet of ICMP error @outer (already accepted by
 * vnf_pkt_parse(), vnf_icmp_is_error(outer->icmp_type)). Returns VNF_PKT_OK,
 * VNF_PKT_TRUNCATED (quote shorter than its IPv4 header + 8 bytes) or
 * VNF_PKT_BAD_HEADER (not IPv4, IHL < 5, quoted protocol not TCP, UDP or ICMP
 * echo, or a quoted fragment other than the first). The quote's own checksums
 * are not verified: routers quote packets as they were.
 */
enum vnf_pkt_verdict vnf_pkt_parse_icmp_inner(const uint8_t *frame, const struct vnf_pkt *outer,
                                              struct vnf_pkt_inner *ret_inner);

#endif /* VNF_PKT_H */
