/* test_pktgen_traffic.c - what vmmgr-pktgen sends: flow ranges, IMIX, pacing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pktgen.h"

static void test_range_parse(void **state)
{
    struct pktgen_range r;
    struct nfv_err err;

    (void)state;
    assert_int_equal(pktgen_range_parse("10.0.0.1-10.0.1.0", true, "src-ip", &r, &err), NFV_OK);
    assert_int_equal(r.min, 0x0a000001);
    assert_int_equal(r.max, 0x0a000100);
    assert_int_equal(pktgen_range_parse("192.0.2.7", true, "src-ip", &r, &err), NFV_OK);
    assert_int_equal(r.min, r.max);
    assert_int_equal(pktgen_range_parse("1024-65535", false, "src-port", &r, &err), NFV_OK);
    assert_int_equal(r.min, 1024);
    assert_int_equal(r.max, 65535);

    assert_int_equal(pktgen_range_parse("10.0.0.256", true, "src-ip", &r, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'src-ip'"));
    assert_int_equal(pktgen_range_parse("10.0.0", true, "x", &r, &err), NFV_E_INVAL);
    assert_int_equal(pktgen_range_parse("10.0.0.1.2", true, "x", &r, &err), NFV_E_INVAL);
    assert_int_equal(pktgen_range_parse("65536", false, "dst-port", &r, &err), NFV_E_INVAL);
    assert_int_equal(pktgen_range_parse("-1", false, "dst-port", &r, &err), NFV_E_INVAL);
    assert_int_equal(pktgen_range_parse("20-10", false, "dst-port", &r, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "start above its end"));
    assert_int_equal(pktgen_range_parse("10.0.0.9-10.0.0.1", true, "x", &r, NULL), NFV_E_INVAL);
}

static void test_flow_iter_covers_every_tuple_once(void **state)
{
    struct pktgen_flow_spec sp = {
        .src_ip = {0x0a000001, 0x0a000003},
        .dst_ip = {0xc0000201, 0xc0000202},
        .src_port = {1000, 1004},
        .dst_port = {53, 54},
    };
    struct pktgen_flow_iter it;
    struct pktgen_tuple t, first;
    /* 3 * 2 * 5 * 2 = 60 tuples; mark each as seen. */
    unsigned char seen[3][2][5][2];

    (void)state;
    memset(seen, 0, sizeof(seen));
    assert_int_equal(pktgen_flow_spec_count(&sp), 60);
    pktgen_flow_iter_init(&it, &sp);
    for (int i = 0; i < 60; i++) {
        pktgen_flow_iter_next(&it, &t);
        if (i == 0)
            first = t;
        assert_in_range(t.src_ip, sp.src_ip.min, sp.src_ip.max);
        assert_in_range(t.dst_ip, sp.dst_ip.min, sp.dst_ip.max);
        assert_in_range(t.src_port, sp.src_port.min, sp.src_port.max);
        assert_in_range(t.dst_port, sp.dst_port.min, sp.dst_port.max);
        seen[t.src_ip - sp.src_ip.min][t.dst_ip - sp.dst_ip.min][t.src_port - 1000]
            [t.dst_port - 53]++;
    }
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 5; c++)
                for (int d = 0; d < 2; d++)
                    assert_int_equal(seen[a][b][c][d], 1);
    /* The source port turns fastest, and the walk wraps to the start. */
    assert_int_equal(first.src_port, 1000);
    pktgen_flow_iter_init(&it, &sp);
    pktgen_flow_iter_next(&it, &t);
    pktgen_flow_iter_next(&it, &t);
    assert_int_equal(t.src_port, 1001);
    assert_int_equal(t.src_ip, 0x0a000001);
    for (int i = 2; i < 61; i++)
        pktgen_flow_iter_next(&it, &t);
    assert_memory_equal(&t, &first, sizeof(t));
}

static void test_flow_iter_full_port_range_wraps(void **state)
{
    struct pktgen_flow_spec sp = {
        .src_ip = {1, 1}, .dst_ip = {2, 2}, .src_port = {65534, 65535}, .dst_port = {0, 0}};
    struct pktgen_flow_iter it;
    struct pktgen_tuple t;

    (void)state;
    pktgen_flow_iter_init(&it, &sp);
    pktgen_flow_iter_next(&it, &t);
    assert_int_equal(t.src_port, 65534);
    pktgen_flow_iter_next(&it, &t);
    assert_int_equal(t.src_port, 65535);
    pktgen_flow_iter_next(&it, &t);
    assert_int_equal(t.src_port, 65534);
    sp.src_ip = (struct pktgen_range){0, UINT32_MAX};
    sp.dst_ip = (struct pktgen_range){0, UINT32_MAX};
    sp.src_port = (struct pktgen_range){0, 65535};
    sp.dst_port = (struct pktgen_range){0, 65535};
    assert_true(pktgen_flow_spec_count(&sp) == UINT64_MAX); /* saturates, not wraps */
}

static void test_imix_parse_and_sequence(void **state)
{
    struct pktgen_imix m;
    struct nfv_err err;
    uint16_t seq[PKTGEN_IMIX_MAX_SEQ];
    unsigned n, n64 = 0, n570 = 0, n1518 = 0, run = 0, max_run = 0;

    (void)state;
    assert_int_equal(pktgen_imix_parse("imix", &m, &err), NFV_OK);
    n = pktgen_imix_sequence(&m, seq);
    assert_int_equal(n, 12);
    for (unsigned i = 0; i < n; i++) {
        n64 += seq[i] == 64;
        n570 += seq[i] == 570;
        n1518 += seq[i] == 1518;
        run = (i > 0 && seq[i] == seq[i - 1]) ? run + 1 : 1;
        if (run > max_run)
            max_run = run;
    }
    assert_int_equal(n64, 7);
    assert_int_equal(n570, 4);
    assert_int_equal(n1518, 1);
    assert_true(max_run <= 2); /* interleaved, not 7 x 64 then 4 x 570 */
    assert_float_equal(pktgen_imix_mean_size(&m), (64.0 * 7 + 570 * 4 + 1518) / 12, 1e-9);

    assert_int_equal(pktgen_imix_parse("128:1,256:3", &m, &err), NFV_OK);
    assert_int_equal(m.n_sizes, 2);
    n = pktgen_imix_sequence(&m, seq);
    assert_int_equal(n, 4);

    assert_int_equal(pktgen_imix_parse("63:1", &m, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "63"));
    assert_int_equal(pktgen_imix_parse("64", &m, &err), NFV_E_INVAL);
    assert_int_equal(pktgen_imix_parse("64:0", &m, &err), NFV_E_INVAL);
    assert_int_equal(pktgen_imix_parse("64:1,", &m, &err), NFV_OK);
    assert_int_equal(pktgen_imix_parse("64:1000,128:100", &m, &err), NFV_E_INVAL);
    assert_int_equal(pktgen_imix_parse("", &m, &err), NFV_E_INVAL);
}

static void test_pps_from_pct(void **state)
{
    (void)state;
    /* The classic figures: 10GbE line rate is 14.88 Mpps at 64 B, 812.7 kpps at 1518 B. */
    assert_float_equal(pktgen_pps_from_pct(100, 10e9, 64), 14880952.38, 0.01);
    assert_float_equal(pktgen_pps_from_pct(100, 10e9, 1518), 812743.82, 0.01);
    assert_float_equal(pktgen_pps_from_pct(50, 1e9, 64), 744047.62, 0.01);
    assert_float_equal(pktgen_pps_from_pct(100, 1e9, 0), 0, 0);
}

static void test_pace_schedule(void **state)
{
    struct pktgen_pace p;
    const uint64_t hz = 2000000000ull; /* 2 GHz TSC */
    uint64_t sent = 0;

    (void)state;
    pktgen_pace_init(&p, hz, 1000000, 1000); /* 1 Mpps: one packet per 2000 cycles */
    assert_int_equal(pktgen_pace_due(&p, 1000, 32), 0);
    assert_int_equal(pktgen_pace_due(&p, 1000 + 1999, 32), 0);
    assert_int_equal(pktgen_pace_due(&p, 1000 + 2000, 32), 1);
    /* Polled every 10 us for one second, sending whatever is due: exactly 1M. */
    for (uint64_t t = 1000; t <= 1000 + hz; t += 20000) {
        unsigned n = pktgen_pace_due(&p, t, 32);

        pktgen_pace_sent(&p, n);
        sent += n;
    }
    assert_int_equal(sent, 1000000);
    /* Burst cap: after a 100 us gap 100 are due but at most 32 come at once. */
    assert_int_equal(pktgen_pace_due(&p, 1000 + hz + 200000, 32), 32);
    /* After a 1 s stall the backlog is capped at 1 ms (1000 packets), no burst of 1M. */
    pktgen_pace_init(&p, hz, 1000000, 0);
    {
        unsigned total = 0, n;

        while ((n = pktgen_pace_due(&p, hz, 64)) > 0) {
            pktgen_pace_sent(&p, n);
            total += n;
        }
        assert_int_equal(total, 1000);
    }
    /* Rate 0 means unlimited: always a full burst. */
    pktgen_pace_init(&p, hz, 0, 0);
    assert_int_equal(pktgen_pace_due(&p, 0, 32), 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_parse),
        cmocka_unit_test(test_flow_iter_covers_every_tuple_once),
        cmocka_unit_test(test_flow_iter_full_port_range_wraps),
        cmocka_unit_test(test_imix_parse_and_sequence),
        cmocka_unit_test(test_pps_from_pct),
        cmocka_unit_test(test_pace_schedule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
