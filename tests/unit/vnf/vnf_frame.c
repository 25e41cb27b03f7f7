/* vnf_frame.c - independent frame builder and checksum reference for the VNF unit tests. */
#include "vnf_frame.h"

#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

uint16_t vf_ref_csum(const uint8_t *data, size_t len, uint32_t extra)
{
    uint64_t sum = extra;

    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(data[i] << 8 | data[i + 1]);
    if (len & 1)
        sum += (uint32_t)data[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint32_t pseudo(const uint8_t *ip, uint8_t proto, size_t l4_len)
{
    return get16(ip + 12) + get16(ip + 14) + get16(ip + 16) + get16(ip + 18) + proto +
           (uint32_t)l4_len;
}

void vf_fix_ip_csum(uint8_t *frame)
{
    uint8_t *ip = frame + 14;
    size_t ihl = (size_t)(ip[0] & 0xf) * 4;

    put16(ip + 10, 0);
    put16(ip + 10, vf_ref_csum(ip, ihl, 0));
}

size_t vf_build(uint8_t *buf, const struct vf_spec *s)
{
    uint8_t ihl = s->ihl ? s->ihl : 5;
    size_t l4_hdr = s->proto == 6 ? 20 : 8;
    size_t l4_len = l4_hdr + s->payload_size;
    size_t ip_len = (size_t)ihl * 4 + l4_len;
    uint8_t *ip = buf + 14, *l4 = ip + ihl * 4;

    memset(buf, 0, 14 + ip_len);
    memcpy(buf, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
    ip[0] = (uint8_t)(0x40 | ihl);
    put16(ip + 2, (uint16_t)ip_len);
    put16(ip + 4, 0x1234);
    ip[8] = 64;
    ip[9] = s->proto;
    put32(ip + 12, s->src);
    put32(ip + 16, s->dst);
    for (size_t i = 20; i < (size_t)ihl * 4; i++)
        ip[i] = 1; /* NOP options */
    for (size_t i = 0; i < s->payload_size; i++)
        l4[l4_hdr + i] = (uint8_t)(i * 7 + 3);
    if (s->proto == 6) {
        put16(l4, s->sport);
        put16(l4 + 2, s->dport);
        put32(l4 + 4, 1000);
        l4[12] = 5 << 4;
        l4[13] = s->tcp_flags;
        put16(l4 + 14, 65535);
        put16(l4 + 16, vf_ref_csum(l4, l4_len, pseudo(ip, 6, l4_len)));
    } else if (s->proto == 17) {
        put16(l4, s->sport);
        put16(l4 + 2, s->dport);
        put16(l4 + 4, (uint16_t)l4_len);
        if (!s->udp_no_csum) {
            uint16_t c = vf_ref_csum(l4, l4_len, pseudo(ip, 17, l4_len));
            put16(l4 + 6, c ? c : 0xffff);
        }
    } else if (s->proto == 1) {
        l4[0] = s->icmp_type;
        put16(l4 + 4, s->sport);
        put16(l4 + 6, 1);
        put16(l4 + 2, vf_ref_csum(l4, l4_len, 0));
    }
    vf_fix_ip_csum(buf);
    return 14 + ip_len;
}

int vf_verify(const uint8_t *frame, size_t len)
{
    const uint8_t *ip = frame + 14;
    size_t ihl = (size_t)(ip[0] & 0xf) * 4, ip_len = get16(ip + 2), l4_len = ip_len - ihl;
    const uint8_t *l4 = ip + ihl;

    (void)len;
    if (vf_ref_csum(ip, ihl, 0) != 0)
        return 0;
    switch (ip[9]) {
    case 6:
        return vf_ref_csum(l4, l4_len, pseudo(ip, 6, l4_len)) == 0;
    case 17:
        if (get16(l4 + 6) == 0)
            return 1;
        return vf_ref_csum(l4, l4_len, pseudo(ip, 17, l4_len)) == 0;
    case 1:
        return vf_ref_csum(l4, l4_len, 0) == 0;
    default:
        return 1;
    }
}
