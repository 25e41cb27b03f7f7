/* test_pktgen_pkt.c - frames vmmgr-pktgen builds (headers, checksums, the
 * stamp) and the pcap files it replays. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pktgen.h"

static const struct pktgen_pkt_tmpl udp_tmpl = {.dst_mac = {0x02, 0, 0, 0, 0, 2},
                                                .src_mac = {0x02, 0, 0, 0, 0, 1},
                                                .proto = PKTGEN_PROTO_UDP,
                                                .ttl = 64};
static const struct pktgen_tuple tuple = {0x0a000001, 0xc6336401, 1234, 53};

static void test_csum_rfc1071_example(void **state)
{
    /* RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (before ~). */
    const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

    (void)state;
    assert_int_equal(pktgen_csum_fold(pktgen_csum_add(0, b, sizeof(b))), 0xffff & ~0xddf2);
    /* Odd length pads with zero. */
    assert_int_equal(pktgen_csum_add(0, b, 3), 0x0001 + 0xf200);
}

static void test_build_udp_64(void **state)
{
    uint8_t f[60];
    struct pktgen_stamp st = {.stream = 3, .seq = 0xdeadbeef, .tsc = 0x0123456789abcdefull};
    struct pktgen_pkt_info in;

    (void)state;
    assert_int_equal(pktgen_pkt_hdr_size(PKTGEN_PROTO_UDP), 42);
    assert_true(pktgen_pkt_build(f, sizeof(f), &udp_tmpl, &tuple, &st));
    assert_true(pktgen_pkt_csum_ok(f, sizeof(f)));
    assert_int_equal(f[12], 0x08);
    assert_int_equal(f[13], 0x00);
    assert_int_equal((f[16] << 8) | f[17], 46); /* IP total length */
    assert_int_equal((f[38] << 8) | f[39], 26); /* UDP length */
    assert_true(pktgen_pkt_parse(f, sizeof(f), &in));
    assert_int_equal(in.ip_proto, 17);
    assert_memory_equal(&in.tuple, &tuple, sizeof(tuple));
    assert_true(in.is_stamped);
    assert_int_equal(in.stamp.stream, 3);
    assert_int_equal(in.stamp.seq, 0xdeadbeef);
    assert_true(in.stamp.tsc == st.tsc);
    /* Any flipped byte breaks a checksum (header or payload). */
    f[30] ^= 1;
    assert_false(pktgen_pkt_csum_ok(f, sizeof(f)));
    f[30] ^= 1;
    f[59] ^= 0x40;
    assert_false(pktgen_pkt_csum_ok(f, sizeof(f)));
}

static void test_build_tcp_sizes(void **state)
{
    struct pktgen_pkt_tmpl t = udp_tmpl;
    static uint8_t f[1514];
    struct pktgen_stamp st = {.stream = 1, .seq = 7, .tsc = 99};
    struct pktgen_pkt_info in;

    (void)state;
    t.proto = PKTGEN_PROTO_TCP;
    /* 64-byte TCP frames leave 6 payload bytes: sent unstamped but valid. */
    assert_false(pktgen_pkt_build(f, 60, &t, &tuple, &st));
    assert_true(pktgen_pkt_csum_ok(f, 60));
    assert_true(pktgen_pkt_parse(f, 60, &in));
    assert_false(in.is_stamped);
    assert_int_equal(in.ip_proto, 6);
    assert_int_equal(in.tuple.src_port, 1234);
    for (size_t len = 70; len <= sizeof(f); len += 97) {
        assert_true(pktgen_pkt_build(f, len, &t, &tuple, &st));
        assert_true(pktgen_pkt_csum_ok(f, len));
        assert_true(pktgen_pkt_parse(f, len, &in));
        assert_true(in.is_stamped);
        assert_int_equal(in.stamp.seq, 7);
    }
    /* No stamp requested: none found. */
    assert_false(pktgen_pkt_build(f, 200, &t, &tuple, NULL));
    assert_true(pktgen_pkt_parse(f, 200, &in));
    assert_false(in.is_stamped);
}

static void test_parse_rejects(void **state)
{
    uint8_t f[60];
    struct pktgen_pkt_info in;

    (void)state;
    pktgen_pkt_build(f, sizeof(f), &udp_tmpl, &tuple, NULL);
    assert_false(pktgen_pkt_parse(f, 30, &in)); /* truncated */
    f[12] = 0x86;
    f[13] = 0xdd; /* IPv6 ethertype */
    assert_false(pktgen_pkt_parse(f, sizeof(f), &in));
    pktgen_pkt_build(f, sizeof(f), &udp_tmpl, &tuple, NULL);
    f[14] = 0x44; /* IHL 4: invalid */
    assert_false(pktgen_pkt_parse(f, sizeof(f), &in));
    pktgen_pkt_build(f, sizeof(f), &udp_tmpl, &tuple, NULL);
    f[16] = 0x10; /* IP length beyond the frame */
    assert_false(pktgen_pkt_parse(f, sizeof(f), &in));
}

static void test_reflect(void **state)
{
    uint8_t f[128], orig[128];
    struct pktgen_stamp st = {.stream = 9, .seq = 77, .tsc = 5};
    struct pktgen_pkt_tmpl t = udp_tmpl;
    struct pktgen_pkt_info in;

    (void)state;
    for (int proto = 0; proto < PKTGEN_PROTO__COUNT; proto++) {
        t.proto = (enum pktgen_proto)proto;
        pktgen_pkt_build(f, sizeof(f), &t, &tuple, &st);
        memcpy(orig, f, sizeof(f));
        assert_true(pktgen_pkt_reflect(f, sizeof(f)));
        assert_true(pktgen_pkt_csum_ok(f, sizeof(f))); /* no recomputation needed */
        assert_true(pktgen_pkt_parse(f, sizeof(f), &in));
        assert_int_equal(in.tuple.src_ip, tuple.dst_ip);
        assert_int_equal(in.tuple.dst_ip, tuple.src_ip);
        assert_int_equal(in.tuple.src_port, tuple.dst_port);
        assert_int_equal(in.tuple.dst_port, tuple.src_port);
        assert_memory_equal(f, orig + 6, 6); /* MACs swapped */
        assert_memory_equal(f + 6, orig, 6);
        assert_true(in.is_stamped);
        assert_int_equal(in.stamp.seq, 77);
        assert_true(pktgen_pkt_reflect(f, sizeof(f)));
        assert_memory_equal(f, orig, sizeof(f)); /* twice is the identity */
    }
    f[12] = 0x86; /* not IPv4: untouched */
    memcpy(orig, f, sizeof(f));
    assert_false(pktgen_pkt_reflect(f, sizeof(f)));
    assert_memory_equal(f, orig, sizeof(f));
}

/* An IPv4 UDP/TCP packet whose ports are not there (no L4 bytes, or a TCP data
 * offset below 5) is not reflected: the port swap used to read and write 4
 * bytes past the IPv4 datagram, past the end of a 34-byte frame. */
static void test_reflect_without_ports(void **state)
{
    uint8_t full[128];
    struct pktgen_pkt_tmpl t = udp_tmpl;

    (void)state;
    for (int proto = 0; proto < PKTGEN_PROTO__COUNT; proto++) {
        uint8_t *f = malloc(34), orig[34];

        assert_non_null(f);
        t.proto = (enum pktgen_proto)proto;
        pktgen_pkt_build(full, sizeof(full), &t, &tuple, NULL);
        memcpy(f, full, 34);
        f[16] = 0; /* IPv4 total length 20: the header alone */
        f[17] = 20;
        memcpy(orig, f, 34);
        assert_false(pktgen_pkt_reflect(f, 34));
        assert_memory_equal(f, orig, 34);
        free(f);
    }
    /* TCP with a data offset of 1 word: no valid header, ports unknown */
    t.proto = PKTGEN_PROTO_TCP;
    pktgen_pkt_build(full, sizeof(full), &t, &tuple, NULL);
    full[14 + 20 + 12] = 0x10;
    assert_false(pktgen_pkt_reflect(full, sizeof(full)));
}

static void put_le32(FILE *f, uint32_t v, int is_be)
{
    uint8_t b[4];

    for (int i = 0; i < 4; i++)
        b[is_be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
    assert_int_equal(fwrite(b, 1, 4, f), 4);
}

static void write_pcap(const char *path, int is_be, uint32_t magic, uint32_t link, int n,
                       size_t frame_len)
{
    FILE *f = fopen(path, "wb");
    uint8_t frame[1514];

    assert_non_null(f);
    put_le32(f, magic, is_be);
    put_le32(f, 0x00040002, is_be); /* version 2.4 (two 16-bit fields, order irrelevant here) */
    put_le32(f, 0, is_be);
    put_le32(f, 0, is_be);
    put_le32(f, 65535, is_be);
    put_le32(f, link, is_be);
    for (int i = 0; i < n; i++) {
        struct pktgen_stamp st = {.seq = (uint32_t)i};
        size_t len = frame_len + (size_t)i;

        pktgen_pkt_build(frame, len, &udp_tmpl, &tuple, &st);
        put_le32(f, (uint32_t)i, is_be);
        put_le32(f, 0, is_be);
        put_le32(f, (uint32_t)len, is_be);
        put_le32(f, (uint32_t)len, is_be);
        assert_int_equal(fwrite(frame, 1, len, f), len);
    }
    fclose(f);
}

static void test_pcap_load(void **state)
{
    char path[] = "/tmp/vmmgr-test-pcap-XXXXXX";
    int fd = mkstemp(path);
    struct pktgen_pcap *pc = NULL;
    struct nfv_err err;
    size_t n_trunc = 99;
    struct pktgen_pkt_info in;

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    for (int be = 0; be < 2; be++) {
        write_pcap(path, be, be ? 0xa1b23c4d : 0xa1b2c3d4, 1, 3, 60);
        assert_int_equal(pktgen_pcap_load(path, 2048, &pc, &n_trunc, &err), NFV_OK);
        assert_int_equal(pc->n_frames, 3);
        assert_int_equal(n_trunc, 0);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(pc->len[i], 60 + i);
            assert_true(pktgen_pkt_parse(pc->data + pc->offset[i], pc->len[i], &in));
            assert_int_equal(in.stamp.seq, i);
        }
        pktgen_pcap_free(pc);
    }
    assert_int_equal(pktgen_pcap_load(path, 61, &pc, &n_trunc, &err), NFV_OK);
    assert_int_equal(n_trunc, 1);
    assert_int_equal(pc->len[2], 61);
    pktgen_pcap_free(pc);

    write_pcap(path, 0, 0xa1b2c3d4, 113, 1, 60); /* Linux cooked capture */
    assert_int_equal(pktgen_pcap_load(path, 2048, &pc, NULL, &err), NFV_E_PARSE);
    assert_non_null(strstr(err.msg, "not Ethernet"));
    write_pcap(path, 0, 0x0a0d0d0a, 1, 1, 60); /* pcapng section header block */
    assert_int_equal(pktgen_pcap_load(path, 2048, &pc, NULL, &err), NFV_E_PARSE);
    write_pcap(path, 0, 0xa1b2c3d4, 1, 0, 60);
    assert_int_equal(pktgen_pcap_load(path, 2048, &pc, NULL, &err), NFV_E_PARSE);
    assert_non_null(strstr(err.msg, "no frames"));
    write_pcap(path, 0, 0xa1b2c3d4, 1, 2, 60);
    assert_int_equal(truncate(path, 24 + 16 + 60 + 16 + 30), 0);
    assert_int_equal(pktgen_pcap_load(path, 2048, &pc, NULL, &err), NFV_E_PARSE);
    assert_non_null(strstr(err.msg, "record 2"));
    unlink(path);
    assert_int_equal(pktgen_pcap_load(path, 2048, &pc, NULL, &err), NFV_E_IO);
    pktgen_pcap_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csum_rfc1071_example),
        cmocka_unit_test(test_build_udp_64),
        cmocka_unit_test(test_build_tcp_sizes),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_reflect),
        cmocka_unit_test(test_reflect_without_ports),
        cmocka_unit_test(test_pcap_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
