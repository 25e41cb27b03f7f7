/* test_pktgen_stats.c - what vmmgr-pktgen concludes from received traffic:
 * loss/reorder/duplicate accounting, latency percentiles, RFC 2544 search. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "pktgen.h"

static void test_seq_in_order(void **state)
{
    struct pktgen_seq s;

    (void)state;
    pktgen_seq_init(&s);
    for (uint32_t i = 0; i < 5000; i++)
        pktgen_seq_rx(&s, i);
    assert_int_equal(s.n_rx, 5000);
    assert_int_equal(s.n_gap, 0);
    assert_int_equal(s.n_reorder, 0);
    assert_int_equal(s.n_dup, 0);
}

static void test_seq_loss_reorder_dup(void **state)
{
    struct pktgen_seq s;
    /* 0 1 3 2 4 4 7 8 : 2 late (reordered), 4 twice, 5 and 6 lost. */
    const uint32_t rx[] = {0, 1, 3, 2, 4, 4, 7, 8};

    (void)state;
    pktgen_seq_init(&s);
    for (size_t i = 0; i < sizeof(rx) / sizeof(rx[0]); i++)
        pktgen_seq_rx(&s, rx[i]);
    assert_int_equal(s.n_rx, 7);
    assert_int_equal(s.n_reorder, 1);
    assert_int_equal(s.n_dup, 1);
    assert_int_equal(s.n_gap, 2);
    /* The late 6 fills a gap; a very old number is counted apart. */
    pktgen_seq_rx(&s, 6);
    assert_int_equal(s.n_gap, 1);
    assert_int_equal(s.n_reorder, 2);
    for (uint32_t i = 9; i < 9 + 2 * PKTGEN_SEQ_WINDOW; i++)
        pktgen_seq_rx(&s, i);
    pktgen_seq_rx(&s, 5);
    assert_int_equal(s.n_too_late, 1);
    assert_int_equal(s.n_gap, 1);
}

static void test_seq_wraps_32_bits(void **state)
{
    struct pktgen_seq s;

    (void)state;
    pktgen_seq_init(&s);
    s.next = UINT32_MAX - 2; /* as if 4G packets had gone by */
    for (uint64_t i = UINT32_MAX - 2; i < (uint64_t)UINT32_MAX + 5; i++)
        pktgen_seq_rx(&s, (uint32_t)i);
    assert_int_equal(s.n_rx, 7);
    assert_int_equal(s.n_gap, 0);
    assert_int_equal(s.n_reorder, 0);
    assert_true(s.next == (uint64_t)UINT32_MAX + 5);
    /* A late packet from just before the wrap is reordered, not a 4G jump. */
    pktgen_seq_init(&s);
    s.next = UINT32_MAX - 2;
    pktgen_seq_rx(&s, UINT32_MAX);
    pktgen_seq_rx(&s, 1);
    pktgen_seq_rx(&s, UINT32_MAX - 1);
    assert_int_equal(s.n_reorder, 1);
    assert_int_equal(s.n_gap, 2); /* UINT32_MAX - 2 and 0 */
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static void test_lat_percentiles_within_precision(void **state)
{
    static struct pktgen_lat l;
    enum { N = 10000 };
    static uint64_t v[N];
    const double pcts[] = {1, 50, 90, 99, 99.9};

    (void)state;
    pktgen_lat_init(&l);
    assert_int_equal(pktgen_lat_percentile(&l, 99), 0);
    srand(7);
    for (int i = 0; i < N; i++) {
        /* Spread over six decades: 10 ns .. ~10 ms. */
        v[i] = 10 + ((uint64_t)rand() % 1000) * ((uint64_t)1 << (rand() % 20));
        pktgen_lat_add(&l, v[i]);
    }
    qsort(v, N, sizeof(v[0]), cmp_u64);
    assert_int_equal(l.min, v[0]);
    assert_int_equal(l.max, v[N - 1]);
    assert_int_equal(pktgen_lat_percentile(&l, 0), v[0]);
    assert_int_equal(pktgen_lat_percentile(&l, 100), v[N - 1]);
    for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
        uint64_t exact = v[(size_t)(pcts[i] / 100 * N) - 1];
        uint64_t got = pktgen_lat_percentile(&l, pcts[i]);

        /* The bucket lower bound: at most exact, and within 1/32 below it. */
        assert_true(got <= exact);
        assert_true((double)got >= (double)exact * (1.0 - 1.0 / 32));
    }
}

static void test_lat_exact_small_and_merge(void **state)
{
    struct pktgen_lat a, b;

    (void)state;
    pktgen_lat_init(&a);
    pktgen_lat_init(&b);
    for (uint64_t i = 1; i <= 50; i++)
        pktgen_lat_add(&a, i);
    for (uint64_t i = 51; i <= 100; i++)
        pktgen_lat_add(&b, i * 1000);
    assert_int_equal(pktgen_lat_percentile(&a, 50), 25);
    assert_float_equal(pktgen_lat_mean(&a), 25.5, 1e-9);
    pktgen_lat_merge(&a, &b);
    assert_int_equal(a.n, 100);
    assert_int_equal(a.min, 1);
    assert_int_equal(a.max, 100000);
    assert_int_equal(pktgen_lat_percentile(&a, 50), 50);
    assert_true(pktgen_lat_percentile(&a, 99) <= 99000);
    assert_true(pktgen_lat_percentile(&a, 99) >= 99000 * 31 / 32);
}

/* A device under test that forwards at most @cap pps: a trial at rate r
 * offers r packets and gets min(r, cap) back. */
static double run_search(double cap, double min, double max, double res, double loss,
                         struct pktgen_rfc2544 *s)
{
    double r;

    assert_int_equal(pktgen_rfc2544_init(s, min, max, res, loss, NULL), NFV_OK);
    while (pktgen_rfc2544_next(s, &r)) {
        uint64_t tx = (uint64_t)r, rx = (uint64_t)(r < cap ? r : cap);

        pktgen_rfc2544_report(s, tx, rx);
    }
    return pktgen_rfc2544_result(s);
}

static void test_rfc2544_converges(void **state)
{
    static struct pktgen_rfc2544 s;
    double got;

    (void)state;
    got = run_search(3.3e6, 1e4, 14.88e6, 1e4, 0, &s);
    assert_true(got <= 3.3e6);
    assert_true(got >= 3.3e6 - 1e4);
    assert_true(s.trial[0].rate_pps == 14.88e6); /* starts at the maximum */
    assert_false(s.trial[0].is_pass);
    assert_true(s.n_trials < 15);
    /* Every pass is below every fail. */
    for (unsigned i = 0; i < s.n_trials; i++)
        for (unsigned j = 0; j < s.n_trials; j++)
            if (s.trial[i].is_pass && !s.trial[j].is_pass)
                assert_true(s.trial[i].rate_pps < s.trial[j].rate_pps);

    /* A 10% loss allowance finds a rate about 1/0.9 above the capacity. */
    got = run_search(1e6, 1e3, 10e6, 1e3, 0.1, &s);
    assert_true(got >= 1e6 / 0.9 - 1e3 && got <= 1e6 / 0.9);
}

static void test_rfc2544_edges(void **state)
{
    static struct pktgen_rfc2544 s;
    struct nfv_err err;

    (void)state;
    /* The maximum passes: one trial. */
    assert_true(run_search(1e9, 1e3, 1e6, 1e3, 0, &s) == 1e6);
    assert_int_equal(s.n_trials, 1);
    /* Nothing passes, not even the floor: 0, and the floor was measured. */
    assert_true(run_search(10, 1e3, 1e6, 1e3, 0, &s) == 0);
    assert_true(s.trial[s.n_trials - 1].rate_pps == 1e3);
    assert_false(s.trial[s.n_trials - 1].is_pass);
    /* Nothing sent is a failure, not a zero-loss pass. */
    assert_int_equal(pktgen_rfc2544_init(&s, 1, 10, 1, 0, NULL), NFV_OK);
    {
        double r;

        assert_true(pktgen_rfc2544_next(&s, &r));
        pktgen_rfc2544_report(&s, 0, 0);
        assert_false(s.trial[0].is_pass);
    }
    assert_int_equal(pktgen_rfc2544_init(&s, 0, 10, 1, 0, &err), NFV_E_INVAL);
    assert_int_equal(pktgen_rfc2544_init(&s, 20, 10, 1, 0, &err), NFV_E_INVAL);
    assert_int_equal(pktgen_rfc2544_init(&s, 1, 10, 0, 0, &err), NFV_E_INVAL);
    assert_int_equal(pktgen_rfc2544_init(&s, 1, 10, 1, 1.0, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'loss-ratio'"));
}

static void test_fit_recovers_slope_despite_contended_windows(void **state)
{
    /* 40 windows of two lengths: cycles = 5000 + 120 * frames. In every
     * fourth window another process held the core for part of it, so it
     * forwarded a third fewer frames for the same cycles. */
    double x[40], y[40], slope, icpt, s_all, i_all;
    unsigned cls[40], n;

    (void)state;
    for (unsigned i = 0; i < 40; i++) {
        double frames = (i % 2 ? 3000 : 1000) + (double)(i % 5); /* a little jitter */

        cls[i] = i % 2;
        y[i] = 5000 + 120 * frames;
        x[i] = i % 4 == 3 ? frames * 2 / 3 : frames;
    }
    pktgen_fit_line(x, y, 40, &s_all, &i_all);
    pktgen_fit_best_half(x, y, cls, 40, &slope, &icpt, &n);
    assert_true(n >= 20 && n < 40);
    assert_float_equal(slope, 120, 0.5);
    assert_float_equal(icpt, 5000, 500);
    assert_true(s_all > 125 || i_all < 0 || i_all > 5500); /* the plain fit is biased */
    /* Degenerate input: no points, one x. */
    pktgen_fit_line(x, y, 0, &slope, &icpt);
    assert_true(slope == 0 && icpt == 0);
    pktgen_fit_line(x, y, 1, &slope, &icpt);
    assert_true(slope == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seq_in_order),
        cmocka_unit_test(test_seq_loss_reorder_dup),
        cmocka_unit_test(test_seq_wraps_32_bits),
        cmocka_unit_test(test_lat_percentiles_within_precision),
        cmocka_unit_test(test_lat_exact_small_and_merge),
        cmocka_unit_test(test_rfc2544_converges),
        cmocka_unit_test(test_rfc2544_edges),
        cmocka_unit_test(test_fit_recovers_slope_despite_contended_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
