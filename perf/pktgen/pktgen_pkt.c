/*
 * pktgen_pkt.c - frame building, checksums and the payload stamp (see pktgen.h).
 *
 * The generator writes every header of every frame (there is no template
 * copy to patch), because every frame may belong to a different flow; at 42
 * header bytes that costs about as much as patching four fields plus two
 * incremental checksum updates, and keeps one obviously-correct code path.
 * Checksums are RFC 1071 sums over big-endian 16-bit words, so the folded
 * value is stored big-endian, independent of the host byte order.
 */
#include "pktgen.h"

#include <assert.h>
#include <string.h>

#define ETH_HDR   14
#define IP_HDR    20
#define UDP_HDR   8
#define TCP_HDR   20
#define IPPROTO_U 17
#define IPPROTO_T 6

static const char *const proto_names[PKTGEN_PROTO__COUNT] = {"udp", "tcp"};

const char *pktgen_proto_to_string(enum pktgen_proto p)
{
    return p < PKTGEN_PROTO__COUNT ? proto_names[p] : "?";
}

enum pktgen_proto pktgen_proto_from_string(const char *s)
{
    for (int i = 0; i < PKTGEN_PROTO__COUNT; i++)
        if (strcmp(s, proto_names[i]) == 0)
            return (enum pktgen_proto)i;
    return PKTGEN_PROTO__COUNT;
}

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
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)get16(p) << 16) | get16(p + 2);
}

uint32_t pktgen_csum_add(uint32_t sum, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t s = sum;
    size_t i;

    for (i = 0; i + 1 < len; i += 2)
        s += (uint32_t)((p[i] << 8) | p[i + 1]);
    if (i < len)
        s += (uint32_t)p[i] << 8; /* odd length: pad with a zero byte */
    while (s >> 32)
        s = (s & UINT32_MAX) + (s >> 32);
    return (uint32_t)s;
}

uint16_t pktgen_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

size_t pktgen_pkt_hdr_size(enum pktgen_proto proto)
{
    return ETH_HDR + IP_HDR + (proto == PKTGEN_PROTO_TCP ? TCP_HDR : UDP_HDR);
}

static uint32_t pseudo_sum(const uint8_t *ip, uint8_t proto, uint16_t l4_len)
{
    uint8_t ph[12];

    memcpy(ph, ip + 12, 8); /* source and destination addresses */
    ph[8] = 0;
    ph[9] = proto;
    put16(ph + 10, l4_len);
    return pktgen_csum_add(0, ph, sizeof(ph));
}

bool pktgen_pkt_build(uint8_t *buf, size_t frame_len, const struct pktgen_pkt_tmpl *tmpl,
                      const struct pktgen_tuple *tuple, const struct pktgen_stamp *stamp)
{
    size_t hdr = pktgen_pkt_hdr_size(tmpl->proto);
    uint8_t *ip = buf + ETH_HDR;
    uint8_t *l4 = ip + IP_HDR;
    uint8_t ip_proto = tmpl->proto == PKTGEN_PROTO_TCP ? IPPROTO_T : IPPROTO_U;
    uint16_t l4_len = (uint16_t)(frame_len - ETH_HDR - IP_HDR);
    uint8_t *payload = buf + hdr;
    size_t payload_len;
    bool is_stamped = false;
    uint16_t csum;

    assert(frame_len >= hdr && frame_len <= UINT16_MAX);
    payload_len = frame_len - hdr;

    memcpy(buf, tmpl->dst_mac, 6);
    memcpy(buf + 6, tmpl->src_mac, 6);
    put16(buf + 12, 0x0800);

    ip[0] = 0x45;
    ip[1] = 0;
    put16(ip + 2, (uint16_t)(frame_len - ETH_HDR));
    put16(ip + 4, 0);      /* identification: unused, no fragments */
    put16(ip + 6, 0x4000); /* DF */
    ip[8] = tmpl->ttl;
    ip[9] = ip_proto;
    put16(ip + 10, 0);
    put32(ip + 12, tuple->src_ip);
    put32(ip + 16, tuple->dst_ip);
    put16(ip + 10, pktgen_csum_fold(pktgen_csum_add(0, ip, IP_HDR)));

    put16(l4, tuple->src_port);
    put16(l4 + 2, tuple->dst_port);
    if (tmpl->proto == PKTGEN_PROTO_TCP) {
        put32(l4 + 4, 1); /* sequence */
        put32(l4 + 8, 0); /* acknowledgement */
        l4[12] = (TCP_HDR / 4) << 4;
        l4[13] = 0x18; /* PSH|ACK: mid-connection data */
        put16(l4 + 14, 0xffff);
        put16(l4 + 16, 0);
        put16(l4 + 18, 0);
    } else {
        put16(l4 + 4, l4_len);
        put16(l4 + 6, 0);
    }

    if (stamp != NULL && payload_len >= PKTGEN_STAMP_SIZE) {
        put16(payload, PKTGEN_STAMP_MAGIC);
        put16(payload + 2, stamp->stream);
        put32(payload + 4, stamp->seq);
        put32(payload + 8, (uint32_t)(stamp->tsc >> 32));
        put32(payload + 12, (uint32_t)stamp->tsc);
        is_stamped = true;
    }
    for (size_t i = is_stamped ? PKTGEN_STAMP_SIZE : 0; i < payload_len; i++)
        payload[i] = (uint8_t)i;

    csum = pktgen_csum_fold(pktgen_csum_add(pseudo_sum(ip, ip_proto, l4_len), l4, l4_len));
    if (tmpl->proto == PKTGEN_PROTO_TCP) {
        put16(l4 + 16, csum);
    } else {
        put16(l4 + 6, csum == 0 ? 0xffff : csum); /* 0 means "no checksum" in UDP */
    }
    return is_stamped;
}

bool pktgen_pkt_parse(const uint8_t *buf, size_t len, struct pktgen_pkt_info *ret_info)
{
    struct pktgen_pkt_info info = {0};
    const uint8_t *ip, *l4;
    size_t ihl, ip_len, l4_hdr;

    if (len < ETH_HDR + IP_HDR || get16(buf + 12) != 0x0800)
        return false;
    ip = buf + ETH_HDR;
    ihl = (size_t)(ip[0] & 0x0f) * 4;
    if ((ip[0] >> 4) != 4 || ihl < IP_HDR || len < ETH_HDR + ihl)
        return false;
    ip_len = get16(ip + 2);
    if (ip_len < ihl || ETH_HDR + ip_len > len)
        return false;
    info.ip_proto = ip[9];
    info.tuple.src_ip = get32(ip + 12);
    info.tuple.dst_ip = get32(ip + 16);
    l4 = ip + ihl;
    if (info.ip_proto == IPPROTO_U)
        l4_hdr = UDP_HDR;
    else if (info.ip_proto == IPPROTO_T)
        l4_hdr = ip_len - ihl >= TCP_HDR ? (size_t)(l4[12] >> 4) * 4 : TCP_HDR;
    else
        l4_hdr = 0;
    if (l4_hdr > 0 && ip_len - ihl >= l4_hdr && l4_hdr >= UDP_HDR) {
        const uint8_t *pl = l4 + l4_hdr;

        info.tuple.src_port = get16(l4);
        info.tuple.dst_port = get16(l4 + 2);
        info.has_ports = true;
        if (ip_len - ihl - l4_hdr >= PKTGEN_STAMP_SIZE && get16(pl) == PKTGEN_STAMP_MAGIC) {
            info.is_stamped = true;
            info.stamp.stream = get16(pl + 2);
            info.stamp.seq = get32(pl + 4);
            info.stamp.tsc = ((uint64_t)get32(pl + 8) << 32) | get32(pl + 12);
        }
    }
    *ret_info = info;
    return true;
}

bool pktgen_pkt_csum_ok(const uint8_t *buf, size_t len)
{
    const uint8_t *ip = buf + ETH_HDR;
    size_t ihl, ip_len;
    uint16_t l4_len;

    if (len < ETH_HDR + IP_HDR || get16(buf + 12) != 0x0800)
        return false;
    ihl = (size_t)(ip[0] & 0x0f) * 4;
    ip_len = get16(ip + 2);
    if (ihl < IP_HDR || ip_len < ihl || ETH_HDR + ip_len > len)
        return false;
    if (pktgen_csum_fold(pktgen_csum_add(0, ip, ihl)) != 0)
        return false;
    l4_len = (uint16_t)(ip_len - ihl);
    if (ip[9] != IPPROTO_U && ip[9] != IPPROTO_T)
        return true;
    if (ip[9] == IPPROTO_U && l4_len >= UDP_HDR && get16(ip + ihl + 6) == 0)
        return true; /* UDP without checksum */
    return pktgen_csum_fold(pktgen_csum_add(pseudo_sum(ip, ip[9], l4_len), ip + ihl, l4_len)) == 0;
}

bool pktgen_pkt_reflect(uint8_t *buf, size_t len)
{
    struct pktgen_pkt_info in;
    uint8_t tmp[6];
    uint8_t *ip = buf + ETH_HDR;
    size_t ihl;

    if (!pktgen_pkt_parse(buf, len, &in) ||
        (in.ip_proto != IPPROTO_U && in.ip_proto != IPPROTO_T) || !in.has_ports)
        return false;
    /* Swapping two fields of a one's complement sum leaves the sum as it
     * was, so the IPv4 and L4 checksums stay valid without recomputation. */
    memcpy(tmp, buf, 6);
    memcpy(buf, buf + 6, 6);
    memcpy(buf + 6, tmp, 6);
    memcpy(tmp, ip + 12, 4);
    memcpy(ip + 12, ip + 16, 4);
    memcpy(ip + 16, tmp, 4);
    ihl = (size_t)(ip[0] & 0x0f) * 4;
    memcpy(tmp, ip + ihl, 2);
    memcpy(ip + ihl, ip + ihl + 2, 2);
    memcpy(ip + ihl + 2, tmp, 2);
    return true;
}
