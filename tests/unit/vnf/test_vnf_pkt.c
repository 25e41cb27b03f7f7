/* test_vnf_pkt.c - header parsing and the malformed-packet policy (vnf/pkt.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "vnf/csum.h"
#include "vnf/pkt.h"
#include "vnf_frame.h"

#define A_IN  0x0a000001u /* 10.0.0.1 */
#define A_OUT 0xcb007105u /* 203.0.113.5 */

static void test_valid_tcp_udp_icmp(void **state)
{
    uint8_t f[1600];
    struct vnf_pkt p;
    size_t n;

    (void)state;
    n = vf_build(f, &(struct vf_spec){.proto = 6,
                                      .src = A_IN,
                                      .dst = A_OUT,
                                      .sport = 4000,
                                      .dport = 443,
                                      .tcp_flags = 0x02,
                                      .payload_size = 10});
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_OK);
    assert_int_equal(p.proto, 6);
    assert_int_equal(p.src_ip, A_IN);
    assert_int_equal(p.dst_ip, A_OUT);
    assert_int_equal(p.sport, 4000);
    assert_int_equal(p.dport, 443);
    assert_int_equal(p.tcp_flags, 0x02);
    assert_int_equal(p.l3_off, 14);
    assert_int_equal(p.l4_off, 34);

    n = vf_build(
        f,
        &(struct vf_spec){
            .proto = 17, .src = A_IN, .dst = A_OUT, .sport = 53, .dport = 5353, .payload_size = 0});
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_OK);
    assert_int_equal(p.sport, 53);
    assert_int_equal(p.dport, 5353);

    n = vf_build(f, &(struct vf_spec){.proto = 1,
                                      .src = A_IN,
                                      .dst = A_OUT,
                                      .sport = 0x4242,
                                      .icmp_type = 8,
                                      .payload_size = 56});
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_OK);
    assert_true(p.is_echo);
    assert_int_equal(p.sport, 0x4242);
    assert_int_equal(p.dport, 0x4242);

    /* ICMP destination unreachable: parsed, but not an echo and no ports. */
    n = vf_build(
        f,
        &(struct vf_spec){
            .proto = 1, .src = A_IN, .dst = A_OUT, .sport = 7, .icmp_type = 3, .payload_size = 28});
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_OK);
    assert_false(p.is_echo);
    assert_int_equal(p.sport, 0);
}

static void test_options_and_padding(void **state)
{
    uint8_t f[1600];
    struct vnf_pkt p;
    size_t n;

    (void)state;
    n = vf_build(f, &(struct vf_spec){
                        .proto = 17, .src = A_IN, .dst = A_OUT, .sport = 1, .dport = 2, .ihl = 7});
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_OK);
    assert_int_equal(p.l4_off, 14 + 28);
    assert_int_equal(p.sport, 1);
    /* Ethernet padding after the IP datagram is fine. */
    assert_int_equal(vnf_pkt_parse(f, n + 12, &p), VNF_PKT_OK);
}

static void test_non_ipv4(void **state)
{
    uint8_t f[1600];
    struct vnf_pkt p;
    size_t n;

    (void)state;
    n = vf_build(f,
                 &(struct vf_spec){.proto = 6, .src = A_IN, .dst = A_OUT, .sport = 1, .dport = 2});
    f[12] = 0x08, f[13] = 0x06; /* ARP */
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_NON_IPV4);
    f[12] = 0x86, f[13] = 0xdd; /* IPv6 */
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_NON_IPV4);
    f[12] = 0x81, f[13] = 0x00; /* 802.1Q: not looked through */
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_NON_IPV4);
}

static void test_truncated(void **state)
{
    uint8_t f[1600];
    struct vnf_pkt p;
    size_t n;

    (void)state;
    n = vf_build(
        f, &(struct vf_spec){
               .proto = 6, .src = A_IN, .dst = A_OUT, .sport = 1, .dport = 2, .payload_size = 4});
    assert_int_equal(vnf_pkt_parse(f, 10, &p), VNF_PKT_TRUNCATED);      /* no Ethernet header */
    assert_int_equal(vnf_pkt_parse(f, 14 + 19, &p), VNF_PKT_TRUNCATED); /* partial IPv4 */
    assert_int_equal(vnf_pkt_parse(f, n - 1, &p), VNF_PKT_TRUNCATED);   /* shorter than total */

    /* A consistent IPv4 header whose total length leaves no room for the TCP header. */
    f[14 + 2] = 0, f[14 + 3] = 20 + 12;
    vf_fix_ip_csum(f);
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_TRUNCATED);

    n = vf_build(f,
                 &(struct vf_spec){.proto = 17, .src = A_IN, .dst = A_OUT, .sport = 1, .dport = 2});
    f[14 + 3] = 20 + 7;
    vf_fix_ip_csum(f);
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_TRUNCATED);

    n = vf_build(f, &(struct vf_spec){.proto = 1, .src = A_IN, .dst = A_OUT, .icmp_type = 8});
    f[14 + 3] = 20 + 4;
    vf_fix_ip_csum(f);
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_TRUNCATED);
}

static void test_bad_header(void **state)
{
    uint8_t f[1600];
    struct vnf_pkt p;
    size_t n;

    (void)state;
    n = vf_build(f,
                 &(struct vf_spec){.proto = 6, .src = A_IN, .dst = A_OUT, .sport = 1, .dport = 2});
    f[14] = 0x44; /* IHL 4 */
    vf_fix_ip_csum(f);
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_BAD_HEADER);
    f[14] = 0x65; /* version 6 in an IPv4 ethertype */
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_BAD_HEADER);

    n = vf_build(f,
                 &(struct vf_spec){.proto = 6, .src = A_IN, .dst = A_OUT, .sport = 1, .dport = 2});
    f[14 + 2] = 0, f[14 + 3] = 16; /* total length < header */
    vf_fix_ip_csum(f);
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_BAD_HEADER);

    n = vf_build(f,
                 &(struct vf_spec){.proto = 6, .src = A_IN, .dst = A_OUT, .sport = 1, .dport = 2});
    f[34 + 12] = 4 << 4; /* TCP data offset 4 */
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_BAD_HEADER);

    n = vf_build(
        f, &(struct vf_spec){
               .proto = 17, .src = A_IN, .dst = A_OUT, .sport = 1, .dport = 2, .payload_size = 4});
    f[34 + 5] = 200; /* UDP length beyond the datagram */
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_BAD_HEADER);
}

static void test_bad_checksum_and_fragments(void **state)
{
    uint8_t f[1600];
    struct vnf_pkt p;
    size_t n;

    (void)state;
    n = vf_build(f,
                 &(struct vf_spec){.proto = 17, .src = A_IN, .dst = A_OUT, .sport = 1, .dport = 2});
    f[14 + 8] = 63; /* TTL changed, checksum not */
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_BAD_CSUM);

    n = vf_build(f,
                 &(struct vf_spec){.proto = 17, .src = A_IN, .dst = A_OUT, .sport = 1, .dport = 2});
    f[14 + 6] = 0x20; /* MF */
    vf_fix_ip_csum(f);
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_FRAGMENT);
    f[14 + 6] = 0x00, f[14 + 7] = 0x10; /* offset 16*8 */
    vf_fix_ip_csum(f);
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_FRAGMENT);
    f[14 + 6] = 0x40, f[14 + 7] = 0; /* DF only: not a fragment */
    vf_fix_ip_csum(f);
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_OK);
}

static uint64_t fz_state = 0x2545f4914f6cdd1dull;

static uint32_t fz_rnd(void)
{
    fz_state ^= fz_state << 13;
    fz_state ^= fz_state >> 7;
    fz_state ^= fz_state << 17;
    return (uint32_t)fz_state;
}

/*
 * Robustness: mutated and truncated frames, each in a heap buffer of exactly
 * its length (so ASan sees any read or write past it). The parser must never
 * touch bytes beyond the frame, and whatever it accepts must be safe for the
 * NAT's rewrites: headers inside the frame, ports where it says.
 */
static void test_mutated_frames(void **state)
{
    uint8_t base[1600];
    unsigned n_ok = 0;

    (void)state;
    for (unsigned it = 0; it < 100000; it++) {
        static const uint8_t protos[] = {6, 17, 1, 47};
        struct vf_spec s = {.proto = protos[fz_rnd() % 4],
                            .src = fz_rnd(),
                            .dst = fz_rnd(),
                            .sport = (uint16_t)fz_rnd(),
                            .dport = (uint16_t)fz_rnd(),
                            .icmp_type = (uint8_t)(fz_rnd() % 3 ? 8 : fz_rnd()),
                            .ihl = (uint8_t)(5 + fz_rnd() % 3),
                            .payload_size = fz_rnd() % 40};
        size_t n = vf_build(base, &s);
        unsigned n_flips = fz_rnd() % 4;
        struct vnf_pkt p;

        for (unsigned f = 0; f < n_flips; f++) {
            /* Aim most flips at the headers, where the parser looks. */
            size_t at = fz_rnd() % (fz_rnd() % 2 ? 60 : n);
            base[at] ^= (uint8_t)(1u << (fz_rnd() % 8));
        }
        if (fz_rnd() % 3 == 0)
            vf_fix_ip_csum(base); /* let header mutations past the checksum check */
        if (fz_rnd() % 4 == 0)
            n = fz_rnd() % (n + 1);

        uint8_t *frame = malloc(n ? n : 1);
        assert_non_null(frame);
        memcpy(frame, base, n);
        if (vnf_pkt_parse(frame, n, &p) == VNF_PKT_OK) {
            n_ok++;
            assert_true(p.l4_off >= 34 && p.l4_off <= n);
            assert_true(14 + (size_t)p.ip_len <= n);
            if (p.proto == 6)
                assert_true((size_t)p.l4_off + 20 <= n);
            if (p.proto == 17 || p.proto == 1)
                assert_true((size_t)p.l4_off + 8 <= n);
            vnf_csum_set_ip(frame, &p, 1, 0xc6336401u);
            vnf_csum_set_port(frame, &p, 1, 4242);
            vnf_csum_set_ip(frame, &p, 0, 0x0a000001u);
            vnf_csum_set_port(frame, &p, 0, 80);
        }
        free(frame);
    }
    /* The generator must also produce accepted frames, or the test proves little. */
    assert_true(n_ok > 10000);
}

static void test_verdict_names(void **state)
{
    (void)state;
    assert_string_equal(vnf_pkt_verdict_to_string(VNF_PKT_FRAGMENT), "fragment");
    assert_string_equal(vnf_pkt_verdict_to_string(VNF_PKT__COUNT), "unknown");
    for (int v = 0; v < VNF_PKT__COUNT; v++)
        assert_non_null(vnf_pkt_verdict_to_string((enum vnf_pkt_verdict)v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_tcp_udp_icmp),
        cmocka_unit_test(test_options_and_padding),
        cmocka_unit_test(test_non_ipv4),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_bad_header),
        cmocka_unit_test(test_bad_checksum_and_fragments),
        cmocka_unit_test(test_mutated_frames),
        cmocka_unit_test(test_verdict_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
