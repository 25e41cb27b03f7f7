/*
 * test_vnf_csum.c - RFC 1624 incremental updates against full recomputation.
 *
 * Random TCP/UDP/ICMP frames are built with the naive reference checksum of
 * vnf_frame.c, rewritten with vnf_csum_set_ip()/vnf_csum_set_port(), and must
 * then verify with the reference again, bit for bit equal to a recomputation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "vnf/csum.h"
#include "vnf/pkt.h"
#include "vnf_frame.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)rng_state;
}

static void test_full_sum_matches_reference(void **state)
{
    uint8_t buf[301];

    (void)state;
    for (int it = 0; it < 200; it++) {
        size_t len = rnd() % sizeof(buf);
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)rnd();
        uint16_t c = vnf_csum_fold(vnf_csum_partial(buf, len, 0));
        /* vnf_csum works on raw words: compare in network order. */
        uint16_t ref = vf_ref_csum(buf, len, 0);
        uint8_t *cb = (uint8_t *)&c;
        assert_int_equal((uint16_t)(cb[0] << 8 | cb[1]), ref);
    }
}

static void test_update16_known_value(void **state)
{
    (void)state;
    /* RFC 1624 section 4 example: HC 0xdd2f, m 0x5555 -> m' 0x3285 gives 0x0000. */
    assert_int_equal(vnf_csum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
    /* Identity: replacing a word by itself changes nothing (except -0 to +0 normalisation). */
    assert_int_equal(vnf_csum_update16(0x1234, 0xabcd, 0xabcd), 0x1234);
}

static void rewrite_and_check(uint8_t proto, int udp_no_csum)
{
    uint8_t f[1600];
    struct vnf_pkt p;

    for (int it = 0; it < 3000; it++) {
        struct vf_spec s = {.proto = proto,
                            .src = rnd(),
                            .dst = rnd(),
                            .sport = (uint16_t)rnd(),
                            .dport = (uint16_t)rnd(),
                            .icmp_type = (rnd() & 1) ? 8 : 0,
                            .payload_size = rnd() % 64,
                            .udp_no_csum = udp_no_csum,
                            .ihl = (uint8_t)(5 + rnd() % 3)};
        size_t n = vf_build(f, &s);
        uint32_t ip = rnd();
        uint16_t port = (uint16_t)rnd();
        int is_src = (int)(rnd() & 1);

        assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_OK);
        vnf_csum_set_ip(f, &p, is_src, ip);
        vnf_csum_set_port(f, &p, is_src, port);
        assert_true(vf_verify(f, n));
        /* The rewritten fields read back, and the parser still accepts the frame. */
        assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_OK);
        assert_int_equal(is_src ? p.src_ip : p.dst_ip, ip);
        if (proto == VNF_PROTO_ICMP) {
            assert_int_equal(p.sport, port);
        } else {
            assert_int_equal(is_src ? p.sport : p.dport, port);
        }
        if (proto == VNF_PROTO_UDP && udp_no_csum)
            assert_int_equal(f[p.l4_off + 6] | f[p.l4_off + 7], 0);
        if (proto == VNF_PROTO_UDP && !udp_no_csum)
            assert_false(f[p.l4_off + 6] == 0 && f[p.l4_off + 7] == 0);
    }
}

static void test_tcp_rewrite(void **state)
{
    (void)state;
    rewrite_and_check(VNF_PROTO_TCP, 0);
}

static void test_udp_rewrite(void **state)
{
    (void)state;
    rewrite_and_check(VNF_PROTO_UDP, 0);
}

static void test_udp_without_checksum_stays_without(void **state)
{
    (void)state;
    rewrite_and_check(VNF_PROTO_UDP, 1);
}

static void test_icmp_echo_rewrite(void **state)
{
    (void)state;
    rewrite_and_check(VNF_PROTO_ICMP, 0);
}

/*
 * An echo reply whose identifier is rewritten to 0 with sequence 0 and no
 * payload is all zero: its checksum must be 0xffff, not the 0x0000 that
 * RFC 1624 eqn. 3 gives (a receiver drops that). Found by fuzz_vnf_pkt
 * (tests/data/fuzz/vnf_pkt/crash-icmp-echo-id-to-zero).
 */
static void test_icmp_all_zero_message_gets_0xffff(void **state)
{
    uint8_t f[128];
    struct vnf_pkt p;
    size_t n = vf_build(f, &(struct vf_spec){.proto = 1,
                                             .src = 0xc6336401u,
                                             .dst = 0x0a000005u,
                                             .sport = 0x1234,
                                             .dport = 0x1234,
                                             .icmp_type = 0,
                                             .ihl = 5});
    uint8_t *icmp = f + 34;

    (void)state;
    /* sequence 0, checksum recomputed */
    icmp[6] = icmp[7] = 0;
    icmp[2] = icmp[3] = 0;
    uint16_t c = vf_ref_csum(icmp, 8, 0);
    icmp[2] = (uint8_t)(c >> 8);
    icmp[3] = (uint8_t)c;
    assert_true(vf_verify(f, n));
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_OK);
    vnf_csum_set_port(f, &p, 0, 0);
    assert_int_equal(icmp[4] | icmp[5], 0);
    assert_int_equal(icmp[2], 0xff);
    assert_int_equal(icmp[3], 0xff);
    assert_true(vf_verify(f, n));
    /* and back: the identifier restored, the checksum as a full computation gives */
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_OK);
    vnf_csum_set_port(f, &p, 0, 0x1234);
    assert_true(vf_verify(f, n));
}

/* Wraps the first @quote_len bytes of IPv4 datagram @inner (a frame) in an ICMP error. */
static size_t build_icmp_error(uint8_t *f, const uint8_t *inner, size_t quote_len, uint8_t type)
{
    size_t n = vf_build(f, &(struct vf_spec){.proto = 1,
                                             .src = 0xc0000201u,
                                             .dst = 0xc6336401u,
                                             .icmp_type = type,
                                             .payload_size = quote_len});
    uint8_t *icmp = f + 34;

    memcpy(icmp + 8, inner + 14, quote_len);
    icmp[2] = icmp[3] = 0;
    uint16_t c = vf_ref_csum(icmp, 8 + quote_len, 0);
    icmp[2] = (uint8_t)(c >> 8);
    icmp[3] = (uint8_t)c;
    return n;
}

static void test_icmp_error_quote_rewrite(void **state)
{
    uint8_t inner[1600], f[1600];

    (void)state;
    for (int it = 0; it < 2000; it++) {
        static const uint8_t protos[] = {6, 17, 1};
        struct vf_spec s = {.proto = protos[rnd() % 3],
                            .src = rnd(),
                            .dst = rnd(),
                            .sport = (uint16_t)rnd(),
                            .dport = (uint16_t)rnd(),
                            .icmp_type = 8,
                            .payload_size = rnd() % 48,
                            .udp_no_csum = (int)(rnd() % 8 == 0),
                            .ihl = (uint8_t)(5 + rnd() % 2)};
        size_t in_len = vf_build(inner, &s) - 14;
        /* Routers quote 8 bytes (RFC 792) or as much as fits (RFC 1812). */
        int is_full = (int)(rnd() & 1);
        size_t quote = is_full ? in_len : (size_t)s.ihl * 4 + 8;
        size_t n = build_icmp_error(f, inner, quote, (uint8_t)(rnd() & 1 ? 3 : 11));
        struct vnf_pkt p;
        struct vnf_pkt_inner in;
        uint32_t ip = rnd();
        uint16_t port = (uint16_t)rnd();
        int is_src = (int)(rnd() & 1);

        assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_OK);
        assert_false(p.is_echo);
        assert_int_equal(vnf_pkt_parse_icmp_inner(f, &p, &in), VNF_PKT_OK);
        assert_int_equal(in.proto, s.proto);
        assert_int_equal(in.src_ip, s.src);
        assert_int_equal(in.sport, s.sport);
        assert_int_equal(in.l4_size, quote - (size_t)s.ihl * 4);
        vnf_csum_set_inner(f, &p, &in, is_src, ip, port);
        /* Outer ICMP checksum over the whole message, and the quote's IPv4 header. */
        assert_int_equal(vf_ref_csum(f + 34, n - 34, 0), 0);
        assert_int_equal(vf_ref_csum(f + 42, (size_t)s.ihl * 4, 0), 0);
        /* A whole quoted datagram verifies as a packet of its own. */
        if (is_full) {
            uint8_t q[1600];
            memcpy(q, f + 42 - 14, 14 + quote);
            assert_true(vf_verify(q, 14 + quote));
        }
        struct vnf_pkt_inner again;
        assert_int_equal(vnf_pkt_parse_icmp_inner(f, &p, &again), VNF_PKT_OK);
        assert_int_equal(is_src ? again.src_ip : again.dst_ip, ip);
        if (s.proto == 1)
            assert_int_equal(again.sport, port);
        else
            assert_int_equal(is_src ? again.sport : again.dport, port);
    }
}

static void test_icmp_error_bad_quotes(void **state)
{
    uint8_t inner[1600], f[1600];
    struct vnf_pkt p;
    struct vnf_pkt_inner in;
    size_t n;

    (void)state;
    vf_build(inner, &(struct vf_spec){.proto = 17, .src = 1, .dst = 2, .sport = 3, .dport = 4});
    n = build_icmp_error(f, inner, 27, 3); /* header + 7 bytes: no full 8 */
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_OK);
    assert_int_equal(vnf_pkt_parse_icmp_inner(f, &p, &in), VNF_PKT_TRUNCATED);
    inner[14] = 0x65; /* quoted IPv6 version */
    n = build_icmp_error(f, inner, 28, 3);
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_OK);
    assert_int_equal(vnf_pkt_parse_icmp_inner(f, &p, &in), VNF_PKT_BAD_HEADER);
    vf_build(inner, &(struct vf_spec){.proto = 47, .src = 1, .dst = 2});
    n = build_icmp_error(f, inner, 28, 3);
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_OK);
    assert_int_equal(vnf_pkt_parse_icmp_inner(f, &p, &in), VNF_PKT_BAD_HEADER);
    vf_build(inner, &(struct vf_spec){.proto = 17, .src = 1, .dst = 2, .sport = 3, .dport = 4});
    inner[14 + 7] = 0x08; /* a later fragment quotes no ports */
    n = build_icmp_error(f, inner, 28, 3);
    assert_int_equal(vnf_pkt_parse(f, n, &p), VNF_PKT_OK);
    assert_int_equal(vnf_pkt_parse_icmp_inner(f, &p, &in), VNF_PKT_BAD_HEADER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_sum_matches_reference),
        cmocka_unit_test(test_update16_known_value),
        cmocka_unit_test(test_tcp_rewrite),
        cmocka_unit_test(test_udp_rewrite),
        cmocka_unit_test(test_udp_without_checksum_stays_without),
        cmocka_unit_test(test_icmp_echo_rewrite),
        cmocka_unit_test(test_icmp_all_zero_message_gets_0xffff),
        cmocka_unit_test(test_icmp_error_quote_rewrite),
        cmocka_unit_test(test_icmp_error_bad_quotes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
