/*
 * fuzz_vnf_pkt.c - the sample VNFs' packet path on raw frames (vnf/pkt.h,
 * vnf/csum.h), plus the firewall classifier and the NAT's worker choice on
 * what parses. Pure code only: no EAL.
 *
 * Properties: an accepted frame's headers lie inside it; rewriting an
 * address or port (vnf_csum_set_ip/_port, the NAT's rewrites) keeps the
 * frame acceptable and keeps every checksum that verified before verifying
 * (checked with a naive RFC 1071 sum written here, not the code's own); the
 * same holds for an ICMP error's quote (vnf_csum_set_inner) and the outer
 * ICMP checksum. The rewrite values come from the frame's last bytes, so
 * the fuzzer steers them. Seed seed-icmp-echo-id-to-zero is the regression
 * input of the bug this harness found (an ICMP echo rewritten to all zeros
 * got checksum 0x0000 instead of 0xffff, fixed in 87a65bf).
 */
#include <arpa/inet.h>

#include "fuzz_util.h"
#include "fw.h"
#include "nat.h"
#include "vnf/csum.h"
#include "vnf/pkt.h"

/* RFC 1071, big-endian 16-bit words, odd tail padded; not inverted. */
static uint32_t fuzz_sum(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

/* 1 if the L4 checksum of accepted packet @p verifies, 0 if not, -1 if
 * there is none to check (other protocols, UDP without checksum). */
static int fuzz_l4_ok(const uint8_t *f, const struct vnf_pkt *p)
{
    const uint8_t *ip = f + p->l3_off;
    size_t l4_len = (size_t)p->ip_len - (size_t)(p->l4_off - p->l3_off);
    uint32_t sum = 0;

    if (p->proto == VNF_PROTO_ICMP)
        return fuzz_sum(f + p->l4_off, l4_len, 0) == 0xffff;
    if (p->proto != VNF_PROTO_TCP && p->proto != VNF_PROTO_UDP)
        return -1;
    if (p->proto == VNF_PROTO_UDP && vnf_ld16(f + p->l4_off + 6) == 0)
        return -1;
    sum = fuzz_sum(ip + 12, 8, 0) + p->proto + (uint32_t)l4_len;
    return fuzz_sum(f + p->l4_off, l4_len, sum) == 0xffff;
}

static void fuzz_check_accepted(const uint8_t *f, size_t len, const struct vnf_pkt *p)
{
    FUZZ_CHECK(p->l3_off >= VNF_ETH_HDR_SIZE && p->l4_off >= p->l3_off + 20);
    FUZZ_CHECK((size_t)p->l3_off + p->ip_len <= len);
    FUZZ_CHECK(p->l4_off <= p->l3_off + p->ip_len);
    FUZZ_CHECK(fuzz_sum(f + p->l3_off, (size_t)(p->l4_off - p->l3_off), 0) == 0xffff);
}

static void fuzz_rewrite(uint8_t *f, size_t len, const struct vnf_pkt *orig, uint32_t ip,
                         uint16_t port, int is_src)
{
    struct vnf_pkt p = *orig, again;
    int before = fuzz_l4_ok(f, &p);

    vnf_csum_set_ip(f, &p, is_src, ip);
    vnf_csum_set_port(f, &p, is_src, port);
    FUZZ_CHECK(vnf_pkt_parse(f, len, &again) == VNF_PKT_OK);
    fuzz_check_accepted(f, len, &again);
    FUZZ_CHECK(again.src_ip == p.src_ip && again.dst_ip == p.dst_ip);
    if (p.proto == VNF_PROTO_TCP || p.proto == VNF_PROTO_UDP || p.is_echo)
        FUZZ_CHECK(again.sport == p.sport && again.dport == p.dport);
    if (before == 1)
        FUZZ_CHECK(fuzz_l4_ok(f, &again) == 1);
}

static void fuzz_inner(uint8_t *f, size_t len, const struct vnf_pkt *p, uint32_t ip, uint16_t port)
{
    struct vnf_pkt_inner in;
    if (!vnf_icmp_is_error(p->icmp_type))
        return;
    if (vnf_pkt_parse_icmp_inner(f, p, &in) != VNF_PKT_OK)
        return;
    FUZZ_CHECK(in.l3_off >= p->l4_off + 8 && in.l4_off >= in.l3_off + 20);
    FUZZ_CHECK((size_t)in.l4_off + in.l4_size <= len && in.l4_size >= 8);
    int before = fuzz_l4_ok(f, p);
    vnf_csum_set_inner(f, p, &in, ip & 1, ip, port);
    struct vnf_pkt again;
    FUZZ_CHECK(vnf_pkt_parse(f, len, &again) == VNF_PKT_OK);
    if (before == 1)
        FUZZ_CHECK(fuzz_l4_ok(f, &again) == 1);
}

static const char fuzz_fw_rules[] = "accept src 10.0.0.0/8 proto tcp dport 80\n"
                                    "accept dst 192.0.2.10 proto tcp dport 8000-8099\n"
                                    "accept src 10.0.0.0/8 proto icmp\n"
                                    "drop proto udp dport 137-139\n";
static const char fuzz_nat_conf[] = "outside-ip 198.51.100.1 198.51.100.2\n"
                                    "forward tcp 198.51.100.1 8080 10.0.0.5 80\n"
                                    "forward tcp 198.51.100.1 8081 10.0.0.5 80\n"
                                    "forward udp 198.51.100.2 5353 10.0.0.6 53\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vnf_pkt p;
    struct nfv_err err;

    if (size > 9000)
        return 0;
    uint8_t *f = calloc(1, size ? size : 1);
    FUZZ_CHECK(f);
    if (size)
        memcpy(f, data, size);
    enum vnf_pkt_verdict v = vnf_pkt_parse(f, size, &p);
    FUZZ_CHECK(v < VNF_PKT__COUNT && vnf_pkt_verdict_to_string(v));
    if (v != VNF_PKT_OK) {
        free(f);
        return 0;
    }
    fuzz_check_accepted(f, size, &p);

    struct fw_rules *rules = NULL;
    FUZZ_CHECK(fw_rules_load_text("fuzz.rules", fuzz_fw_rules, &rules, &err) == NFV_OK);
    int r = fw_rules_match(rules, &p);
    FUZZ_CHECK(r >= -1 && r < (int)rules->n_rules);
    FUZZ_CHECK(fw_flow_owner(&p, 4) < 4);
    fw_rules_free(rules);

    struct nat_conf *nc = malloc(sizeof(*nc));
    FUZZ_CHECK(nc);
    nat_conf_init(nc);
    FUZZ_CHECK(nat_conf_load_text(nc, "fuzz.conf", fuzz_nat_conf, &err) == NFV_OK);
    FUZZ_CHECK(nat_conf_finish(nc, "fuzz.conf", &err) == NFV_OK);
    FUZZ_CHECK(nat_owner(nc, &p, 0, 4) < 4 && nat_owner(nc, &p, 1, 4) < 4);
    struct vnf_pkt_inner in;
    if (p.proto == VNF_PROTO_ICMP && vnf_icmp_is_error(p.icmp_type) &&
        vnf_pkt_parse_icmp_inner(f, &p, &in) == VNF_PKT_OK)
        FUZZ_CHECK(nat_owner_icmp_error(nc, &in, 0, 3) < 3);
    free(nc);

    /* Rewrite values from the last bytes: the fuzzer controls them too. */
    uint32_t ip = 0xc6336401u;
    uint16_t port = 1024;
    if (size >= 6) {
        memcpy(&ip, data + size - 6, 4);
        memcpy(&port, data + size - 2, 2);
    }
    fuzz_rewrite(f, size, &p, ip, port, 1);
    FUZZ_CHECK(vnf_pkt_parse(f, size, &p) == VNF_PKT_OK);
    fuzz_rewrite(f, size, &p, ~ip, (uint16_t)~port, 0);
    if (vnf_pkt_parse(f, size, &p) == VNF_PKT_OK && p.proto == VNF_PROTO_ICMP)
        fuzz_inner(f, size, &p, ip, port);
    free(f);
    return 0;
}
