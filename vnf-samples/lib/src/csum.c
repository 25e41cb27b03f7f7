/*
 * csum.c - Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * The update uses eqn. 3 of RFC 1624, HC' = ~(~HC + ~m + m'), which, unlike
 * eqn. 2 of RFC 1141, never produces 0x0000 for a header whose sum is 0xffff
 * ("-0"), so a patched checksum equals a recomputed one bit for bit.
 */
#include "vnf/csum.h"

#include <arpa/inet.h>
#include <string.h>

uint32_t vnf_csum_partial(const void *data, size_t len, uint32_t sum)
{
    const uint8_t *b = data;
    uint64_t acc = sum;

    while (len >= 2) {
        uint16_t w;
        memcpy(&w, b, 2);
        acc += w;
        b += 2;
        len -= 2;
    }
    if (len) {
        uint16_t w = 0;
        memcpy(&w, b, 1);
        acc += w;
    }
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint32_t)acc;
}

uint16_t vnf_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint16_t vnf_csum_update16(uint16_t csum, uint16_t old_w, uint16_t new_w)
{
    uint32_t sum = (uint16_t)~csum;
    sum += (uint16_t)~old_w;
    sum += new_w;
    return vnf_csum_fold(sum);
}

uint16_t vnf_csum_update32(uint16_t csum, uint32_t old_w, uint32_t new_w)
{
    uint32_t sum = (uint16_t)~csum;
    sum += (uint16_t) ~(old_w & 0xffff);
    sum += (uint16_t) ~(old_w >> 16);
    sum += new_w & 0xffff;
    sum += new_w >> 16;
    return vnf_csum_fold(sum);
}

static uint16_t vnf_ld16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static void vnf_st16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

/* Offset of the L4 checksum field, or 0 when the protocol has none we patch. */
static size_t vnf_l4_csum_off(const struct vnf_pkt *p)
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
static void vnf_l4_patch(uint8_t *frame, const struct vnf_pkt *p, uint32_t old_w, uint32_t new_w,
                         int is_32)
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
    vnf_st16(frame + off, c);
}

void vnf_csum_set_ip(uint8_t *frame, struct vnf_pkt *p, int is_src, uint32_t new_ip)
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

void vnf_csum_set_port(uint8_t *frame, struct vnf_pkt *p, int is_src, uint16_t new_port)
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
