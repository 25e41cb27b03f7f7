/*
 * vnf/csum.h - Internet checksum: full computation and incremental update.
 *
 * Pure code (no DPDK). The VNFs never recompute a checksum over a packet they
 * forward: they patch it with RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), for each
 * 16-bit word they change. One's-complement sums do not depend on byte order,
 * so every value here is a raw 16-bit word as it sits in the packet (network
 * order), read with memcpy; no byte swapping happens anywhere.
 * vnf_csum_set_ip()/vnf_csum_set_port() combine the header rewrite with the
 * updates of the IPv4 header checksum and the TCP/UDP/ICMP checksum.
 */
#ifndef VNF_CSUM_H
#define VNF_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>

#include "vnf/pkt.h"

/* One's-complement sum of @len bytes (odd tail padded with zero), folded, not inverted. */
uint32_t vnf_csum_partial(const void *data, size_t len, uint32_t sum);

/* The per-packet helpers below are inline: they run several times per forwarded packet. */

/* Folds @sum to 16 bits and inverts it: the value to store in a checksum field. */
static inline uint16_t vnf_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* RFC 1624 eqn. 3 for one 16-bit word @old_w replaced by @new_w; returns the new checksum. */
static inline uint16_t vnf_csum_update16(uint16_t csum, uint16_t old_w, uint16_t new_w)
{
    uint32_t sum = (uint16_t)~csum;
    sum += (uint16_t)~old_w;
    sum += new_w;
    return vnf_csum_fold(sum);
}

/* Same for a 32-bit field (an IPv4 address): two words at once. */
static inline uint16_t vnf_csum_update32(uint16_t csum, uint32_t old_w, uint32_t new_w)
{
    uint32_t sum = (uint16_t)~csum;
    sum += (uint16_t) ~(old_w & 0xffff);
    sum += (uint16_t) ~(old_w >> 16);
    sum += new_w & 0xffff;
    sum += new_w >> 16;
    return vnf_csum_fold(sum);
}

static inline uint16_t vnf_ld16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static inline void vnf_st16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

/* Offset of the L4 checksum field, or 0 when the protocol has none we patch. */
static inline size_t vnf_l4_csum_off(const struct vnf_pkt *p)
{
    switch (p->proto) {
    case VNF_PROTO_TCP:
        return (size_t)p->l4_off + 16;
    case VNF_PROTO_UDP:
        return (size_t)p->l4_off + 6;
    case VNF_PROTO_ICMP:
        return (size_t)p->l4_off + 2;
    default:
        return 0;
    }
}

/* Patches the L4 checksum for one changed word pair; UDP's "no checksum" stays. */
static inline void vnf_l4_patch(uint8_t *frame, const struct vnf_pkt *p, uint32_t old_w,
                                uint32_t new_w, int is_32)
{
    size_t off = vnf_l4_csum_off(p);
    uint16_t c;

    if (!off)
        return;
    c = vnf_ld16(frame + off);
    if (p->proto == VNF_PROTO_UDP && c == 0)
        return;
    c = is_32 ? vnf_csum_update32(c, old_w, new_w)
              : vnf_csum_update16(c, (uint16_t)old_w, (uint16_t)new_w);
    if (p->proto == VNF_PROTO_UDP && c == 0)
        c = 0xffff;
    if (p->proto == VNF_PROTO_ICMP && c == 0) {
        /* Eqn. 3 cannot tell a message whose words sum to +0 (all zero, as an
         * echo reply with identifier, sequence and payload 0: checksum 0xffff)
         * from one that sums to -0 (checksum 0x0000). ICMP has no pseudo-header,
         * so only it can be all zero; only the result 0 is ambiguous, and it is
         * rare, so recompute that case over the message (inside ip_len, which
         * the parser checked against the frame). */
        vnf_st16(frame + off, 0);
        c = vnf_csum_fold(
            vnf_csum_partial(frame + p->l4_off, (size_t)p->l3_off + p->ip_len - p->l4_off, 0));
    }
    vnf_st16(frame + off, c);
}

/*
 * Rewrites the source (is_src != 0) or destination IPv4 address of the parsed
 * packet @p in @frame to @new_ip (host order), updating the IPv4 header
 * checksum and, for TCP and UDP, the L4 checksum (pseudo-header). A UDP
 * checksum of 0 (none) stays 0; an updated UDP checksum of 0 is sent as 0xffff
 * (RFC 768). @p is updated too.
 */
static inline void vnf_csum_set_ip(uint8_t *frame, struct vnf_pkt *p, int is_src, uint32_t new_ip)
{
    uint8_t *ip = frame + p->l3_off;
    size_t off = is_src ? 12 : 16;
    uint32_t old_w, new_w = htonl(new_ip);
    uint16_t c;

    memcpy(&old_w, ip + off, 4);
    memcpy(ip + off, &new_w, 4);
    c = vnf_ld16(ip + 10);
    vnf_st16(ip + 10, vnf_csum_update32(c, old_w, new_w));
    /* ICMP has no pseudo-header: only TCP and UDP cover the addresses. */
    if (p->proto == VNF_PROTO_TCP || p->proto == VNF_PROTO_UDP)
        vnf_l4_patch(frame, p, old_w, new_w, 1);
    if (is_src)
        p->src_ip = new_ip;
    else
        p->dst_ip = new_ip;
}

/*
 * Rewrites the source or destination port of a TCP/UDP packet, or the echo
 * identifier of an ICMP echo (is_src ignored: both tuple ports change), to
 * @new_port (host order), updating the L4 checksum. @p is updated too.
 */
static inline void vnf_csum_set_port(uint8_t *frame, struct vnf_pkt *p, int is_src,
                                     uint16_t new_port)
{
    uint8_t *l4 = frame + p->l4_off;
    size_t off;
    uint16_t old_w, new_w = htons(new_port);

    if (p->proto == VNF_PROTO_ICMP) {
        if (!p->is_echo)
            return;
        off = 4;
    } else if (p->proto == VNF_PROTO_TCP || p->proto == VNF_PROTO_UDP) {
        off = is_src ? 0 : 2;
    } else {
        return;
    }
    old_w = vnf_ld16(l4 + off);
    vnf_st16(l4 + off, new_w);
    vnf_l4_patch(frame, p, old_w, new_w, 0);
    if (p->proto == VNF_PROTO_ICMP) {
        p->sport = new_port;
        p->dport = new_port;
    } else if (is_src) {
        p->sport = new_port;
    } else {
        p->dport = new_port;
    }
}

/*
 * Rewrites the source (is_src != 0) or destination address and port (echo
 * identifier) of the packet quoted by ICMP error @outer, keeping every
 * checksum right: the quote's IPv4 header checksum, its TCP/UDP checksum when
 * quoted (TCP's needs 18 quoted bytes) and non-zero (UDP), its ICMP echo
 * checksum, and the outer ICMP checksum, which covers the whole quote. Each
 * changed word is patched with RFC 1624; the quote starts at an even offset
 * of the ICMP message, so its words are the message's words.
 */
static inline void vnf_csum_set_inner(uint8_t *frame, const struct vnf_pkt *outer,
                                      struct vnf_pkt_inner *in, int is_src, uint32_t new_ip,
                                      uint16_t new_port)
{
    uint8_t *icmp = frame + outer->l4_off;
    uint8_t *ip = frame + in->l3_off;
    uint8_t *l4 = frame + in->l4_off;
    uint16_t ic = vnf_ld16(icmp + 2);
    uint32_t old_ip, nip = htonl(new_ip);
    uint16_t old_c, new_c, old_p, np = htons(new_port);
    size_t ip_off = is_src ? 12 : 16, port_off, csum_off = 0;

    /* Address, then the quote's IPv4 header checksum. */
    memcpy(&old_ip, ip + ip_off, 4);
    memcpy(ip + ip_off, &nip, 4);
    ic = vnf_csum_update32(ic, old_ip, nip);
    old_c = vnf_ld16(ip + 10);
    new_c = vnf_csum_update32(old_c, old_ip, nip);
    vnf_st16(ip + 10, new_c);
    ic = vnf_csum_update16(ic, old_c, new_c);

    /* Port or echo identifier, and the quoted L4 checksum if it is there. */
    if (in->proto == VNF_PROTO_ICMP) {
        port_off = 4;
        csum_off = 2;
    } else {
        port_off = is_src ? 0 : 2;
        if (in->proto == VNF_PROTO_UDP)
            csum_off = 6;
        else if (in->l4_size >= 18)
            csum_off = 16;
    }
    old_p = vnf_ld16(l4 + port_off);
    vnf_st16(l4 + port_off, np);
    ic = vnf_csum_update16(ic, old_p, np);
    if (csum_off) {
        old_c = vnf_ld16(l4 + csum_off);
        if (!(in->proto == VNF_PROTO_UDP && old_c == 0)) {
            /* TCP/UDP checksums cover the pseudo-header address too; ICMP's does not. */
            new_c = in->proto == VNF_PROTO_ICMP ? old_c : vnf_csum_update32(old_c, old_ip, nip);
            new_c = vnf_csum_update16(new_c, old_p, np);
            if (in->proto == VNF_PROTO_UDP && new_c == 0)
                new_c = 0xffff;
            vnf_st16(l4 + csum_off, new_c);
            ic = vnf_csum_update16(ic, old_c, new_c);
        }
    }
    vnf_st16(icmp + 2, ic);
    if (is_src) {
        in->src_ip = new_ip;
        in->sport = new_port;
    } else {
        in->dst_ip = new_ip;
        in->dport = new_port;
    }
    if (in->proto == VNF_PROTO_ICMP)
        in->sport = in->dport = new_port;
}

#endif /* VNF_CSUM_H */
