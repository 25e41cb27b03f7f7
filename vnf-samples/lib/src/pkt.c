/*
 * pkt.c - header parsing and validation (see vnf/pkt.h for the policy).
 *
 * Reads only; never writes the frame. Every multi-byte field is read with
 * memcpy, so frames at any alignment are fine and UBSan stays quiet.
 */
#include "vnf/pkt.h"

#include <arpa/inet.h>
#include <string.h>

#include "vnf/csum.h"

static const char *const vnf_pkt_verdict_names[VNF_PKT__COUNT] = {
    [VNF_PKT_OK] = "ok",
    [VNF_PKT_NON_IPV4] = "non_ipv4",
    [VNF_PKT_TRUNCATED] = "truncated",
    [VNF_PKT_BAD_HEADER] = "bad_header",
    [VNF_PKT_BAD_CSUM] = "bad_ip_checksum",
    [VNF_PKT_FRAGMENT] = "fragment",
};

const char *vnf_pkt_verdict_to_string(enum vnf_pkt_verdict v)
{
    if ((unsigned)v >= VNF_PKT__COUNT)
        return "unknown";
    return vnf_pkt_verdict_names[v];
}

static uint16_t vnf_rd16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof(v));
    return ntohs(v);
}

static uint32_t vnf_rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return ntohl(v);
}

enum vnf_pkt_verdict vnf_pkt_parse(const uint8_t *frame, size_t len, struct vnf_pkt *ret_pkt)
{
    struct vnf_pkt p = {0};
    const uint8_t *ip;
    size_t ihl_size, l4_size;

    if (len < VNF_ETH_HDR_SIZE)
        return VNF_PKT_TRUNCATED;
    /* VLAN tags are not looked through: a tagged frame is "not IPv4". */
    if (vnf_rd16(frame + 12) != VNF_ETHERTYPE_IP4)
        return VNF_PKT_NON_IPV4;
    if (len < VNF_ETH_HDR_SIZE + 20)
        return VNF_PKT_TRUNCATED;
    ip = frame + VNF_ETH_HDR_SIZE;
    if ((ip[0] >> 4) != 4)
        return VNF_PKT_BAD_HEADER;
    ihl_size = (size_t)(ip[0] & 0x0f) * 4;
    if (ihl_size < 20)
        return VNF_PKT_BAD_HEADER;
    p.ip_len = vnf_rd16(ip + 2);
    if (p.ip_len < ihl_size)
        return VNF_PKT_BAD_HEADER;
    /* The frame may be longer (Ethernet padding), never shorter. */
    if (len < VNF_ETH_HDR_SIZE + (size_t)p.ip_len)
        return VNF_PKT_TRUNCATED;
    if (vnf_csum_fold(vnf_csum_partial(ip, ihl_size, 0)) != 0)
        return VNF_PKT_BAD_CSUM;
    /* MF flag or a non-zero offset: no reassembly here, ports are unknown. */
    if ((vnf_rd16(ip + 6) & 0x3fff) != 0)
        return VNF_PKT_FRAGMENT;

    p.l3_off = VNF_ETH_HDR_SIZE;
    p.l4_off = (uint16_t)(VNF_ETH_HDR_SIZE + ihl_size);
    p.proto = ip[9];
    p.src_ip = vnf_rd32(ip + 12);
    p.dst_ip = vnf_rd32(ip + 16);
    l4_size = p.ip_len - ihl_size;

    const uint8_t *l4 = frame + p.l4_off;
    switch (p.proto) {
    case VNF_PROTO_TCP: {
        size_t doff;
        if (l4_size < 20)
            return VNF_PKT_TRUNCATED;
        doff = (size_t)(l4[12] >> 4) * 4;
        if (doff < 20)
            return VNF_PKT_BAD_HEADER;
        if (l4_size < doff)
            return VNF_PKT_TRUNCATED;
        p.sport = vnf_rd16(l4);
        p.dport = vnf_rd16(l4 + 2);
        p.tcp_flags = l4[13];
        break;
    }
    case VNF_PROTO_UDP:
        if (l4_size < 8)
            return VNF_PKT_TRUNCATED;
        if (vnf_rd16(l4 + 4) < 8 || vnf_rd16(l4 + 4) > l4_size)
            return VNF_PKT_BAD_HEADER;
        p.sport = vnf_rd16(l4);
        p.dport = vnf_rd16(l4 + 2);
        break;
    case VNF_PROTO_ICMP:
        if (l4_size < 8)
            return VNF_PKT_TRUNCATED;
        p.icmp_type = l4[0];
        if (p.icmp_type == VNF_ICMP_ECHO_REQUEST || p.icmp_type == VNF_ICMP_ECHO_REPLY) {
            p.is_echo = 1;
            p.sport = vnf_rd16(l4 + 4);
            p.dport = p.sport;
        }
        break;
    default:
        break;
    }
    *ret_pkt = p;
    return VNF_PKT_OK;
}

enum vnf_pkt_verdict vnf_pkt_parse_icmp_inner(const uint8_t *frame, const struct vnf_pkt *outer,
                                              struct vnf_pkt_inner *ret_inner)
{
    struct vnf_pkt_inner in = {0};
    /* The quote lies inside the outer datagram, after the 8-byte ICMP header. */
    size_t end = (size_t)outer->l3_off + outer->ip_len;
    size_t at = (size_t)outer->l4_off + 8;
    const uint8_t *ip = frame + at;
    size_t ihl_size;

    if (at + 20 > end)
        return VNF_PKT_TRUNCATED;
    if ((ip[0] >> 4) != 4 || (ip[0] & 0x0f) < 5)
        return VNF_PKT_BAD_HEADER;
    ihl_size = (size_t)(ip[0] & 0x0f) * 4;
    if (at + ihl_size + 8 > end)
        return VNF_PKT_TRUNCATED;
    /* A non-first fragment quotes no ports. */
    if ((vnf_rd16(ip + 6) & 0x1fff) != 0)
        return VNF_PKT_BAD_HEADER;
    in.l3_off = (uint16_t)at;
    in.l4_off = (uint16_t)(at + ihl_size);
    in.l4_size = (uint16_t)(end - in.l4_off);
    in.proto = ip[9];
    in.src_ip = vnf_rd32(ip + 12);
    in.dst_ip = vnf_rd32(ip + 16);
    const uint8_t *l4 = frame + in.l4_off;
    switch (in.proto) {
    case VNF_PROTO_TCP:
    case VNF_PROTO_UDP:
        in.sport = vnf_rd16(l4);
        in.dport = vnf_rd16(l4 + 2);
        break;
    case VNF_PROTO_ICMP:
        if (l4[0] != VNF_ICMP_ECHO_REQUEST && l4[0] != VNF_ICMP_ECHO_REPLY)
            return VNF_PKT_BAD_HEADER;
        in.is_echo = 1;
        in.sport = vnf_rd16(l4 + 4);
        in.dport = in.sport;
        break;
    default:
        return VNF_PKT_BAD_HEADER;
    }
    *ret_inner = in;
    return VNF_PKT_OK;
}
