/* test_pktgen_opts.c - vmmgr-pktgen's command line: defaults, derived
 * values, and one clear error per bad option. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pktgen_opts.h"

#define ARGV(...)        ((char *[]){"--", __VA_ARGS__, NULL})
#define ARGC(...)        ((int)(sizeof((char *[]){"--", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(o, e, ...) pktgen_opts_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o), (e))

static void test_defaults(void **state)
{
    static struct pktgen_opts o;
    struct nfv_err e;

    (void)state;
    assert_int_equal(PARSE(&o, &e, "--duration", "1"), NFV_OK);
    assert_int_equal(o.n_tx_ports, 1);
    assert_int_equal(o.tx_port[0], 0);
    assert_true(o.rate_pps == 0); /* unlimited */
    assert_int_equal(o.imix.n_sizes, 1);
    assert_int_equal(o.imix.size[0], 64);
    assert_int_equal(o.tmpl.proto, PKTGEN_PROTO_UDP);
    assert_int_equal(o.burst, 32);
    assert_int_equal(o.drain_ms, 200);
    assert_int_equal(o.n_windows, 200);
    assert_false(o.is_rfc2544);
    assert_int_equal(pktgen_flow_spec_count(&o.flows), 1);
}

static void test_rates_and_suffixes(void **state)
{
    static struct pktgen_opts o;
    struct nfv_err e;

    (void)state;
    assert_int_equal(PARSE(&o, &e, "--rate", "1.5M", "--count", "10k"), NFV_OK);
    assert_true(o.rate_pps == 1.5e6);
    assert_true(o.count == 10000);
    /* 50% of 10G at 64 B = 7.44 Mpps; IMIX uses the mean frame size. */
    assert_int_equal(PARSE(&o, &e, "--rate-pct", "50", "--duration", "1"), NFV_OK);
    assert_float_equal(o.rate_pps, 7440476.19, 0.01);
    assert_int_equal(
        PARSE(&o, &e, "--imix", "imix", "--rate-pct", "100", "--line-rate", "1", "--duration", "1"),
        NFV_OK);
    assert_float_equal(o.rate_pps, 1e9 / ((353.833333 + 20) * 8), 0.5);
}

static void test_rfc2544_derived(void **state)
{
    static struct pktgen_opts o;
    struct nfv_err e;

    (void)state;
    assert_int_equal(PARSE(&o, &e, "--rfc2544"), NFV_OK);
    assert_float_equal(o.max_pps, 14880952.38, 0.01);
    assert_float_equal(o.min_pps, o.max_pps / 1000, 1e-6);
    assert_float_equal(o.resolution_pps, o.max_pps * 0.005, 1e-6);
    assert_int_equal(PARSE(&o, &e, "--rfc2544", "--max-rate", "2M", "--min-rate", "10k",
                           "--resolution", "5k", "--loss-ratio", "0.001", "--trial-sec", "0.5"),
                     NFV_OK);
    assert_true(o.max_pps == 2e6 && o.min_pps == 1e4 && o.resolution_pps == 5e3);
    assert_true(o.loss_ratio == 0.001 && o.trial_sec == 0.5);
    assert_int_equal(PARSE(&o, &e, "--rfc2544", "--pcap", "x.pcap"), NFV_E_INVAL);
    assert_non_null(strstr(e.msg, "'rfc2544'"));
}

static void test_lists_and_ranges(void **state)
{
    static struct pktgen_opts o;
    struct nfv_err e;

    (void)state;
    assert_int_equal(PARSE(&o, &e, "--tx-port", "0,2,4", "--src-ip", "10.0.0.1-10.0.0.4",
                           "--src-port", "1024-1039", "--proto", "tcp", "--dst-mac",
                           "aa:bb:cc:dd:ee:ff", "--window-us", "100,300", "--duration", "1"),
                     NFV_OK);
    assert_int_equal(o.n_tx_ports, 3);
    assert_int_equal(o.tx_port[2], 4);
    assert_int_equal(pktgen_flow_spec_count(&o.flows), 64);
    assert_int_equal(o.tmpl.proto, PKTGEN_PROTO_TCP);
    assert_int_equal(o.tmpl.dst_mac[0], 0xaa);
    assert_int_equal(o.tmpl.dst_mac[5], 0xff);
    assert_int_equal(o.window_us[0], 100);
    assert_int_equal(o.window_us[1], 300);
    /* --dut-pid alone is a complete run (the windows) */
    assert_int_equal(PARSE(&o, &e, "--dut-pid", "1234"), NFV_OK);
    assert_int_equal(o.dut_pid, 1234);
}

static void test_errors_name_the_option(void **state)
{
    static struct pktgen_opts o;
    struct nfv_err e;
    static const struct {
        const char *opt, *val, *want;
    } bad[] = {
        {"--tx-port", "0,0", "'tx-port'"},
        {"--tx-port", "8", "'tx-port'"},
        {"--tx-port", "1,x", "'tx-port'"},
        {"--rate", "fast", "'rate'"},
        {"--rate", "-5", "'rate'"},
        {"--size", "63", "'size'"},
        {"--size", "9019", "'size'"},
        {"--proto", "sctp", "'proto'"},
        {"--src-mac", "00:11", "'src-mac'"},
        {"--dst-port", "1-70000", "'dst-port'"},
        {"--burst", "65", "'burst'"},
        {"--window-us", "5", "'window-us'"},
        {"--loss-ratio", "1", "'loss-ratio'"},
        {"--imix", "64:1,x", "'imix'"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *argv[] = {"--", (char *)bad[i].opt, (char *)bad[i].val, "--duration", "1", NULL};

        nfv_err_clear(&e);
        assert_int_equal(pktgen_opts_parse(5, argv, &o, &e), NFV_E_INVAL);
        if (strstr(e.msg, bad[i].want) == NULL)
            fail_msg("%s %s: message '%s' does not name %s", bad[i].opt, bad[i].val, e.msg,
                     bad[i].want);
    }
    assert_int_equal(PARSE(&o, &e, "--rate", "1k"), NFV_E_INVAL); /* no end given */
    assert_non_null(strstr(e.msg, "--duration"));
    assert_int_equal(PARSE(&o, &e, "--duration", "1", "stray"), NFV_E_INVAL);
    assert_non_null(strstr(e.msg, "'stray'"));
    assert_int_equal(PARSE(&o, &e, "--help"), NFV_OK);
    assert_true(o.is_help);
}

/* A refused integer option leaves its field alone: the value of an earlier
 * option (or an uninitialized one) was converted into it before (UB; found by
 * fuzz_pktgen_opts, tests/data/fuzz/pktgen_opts/crash-size-invalid). */
static void test_refused_value_is_not_stored(void **state)
{
    static struct pktgen_opts o;
    struct nfv_err e;

    (void)state;
    assert_int_equal(PARSE(&o, &e, "--count", "5", "--burst", "999", "--duration", "1"),
                     NFV_E_INVAL);
    assert_non_null(strstr(e.msg, "'burst'"));
    assert_int_equal(o.burst, 32);
    assert_int_equal(PARSE(&o, &e, "--count", "100000", "--size", "x", "--duration", "1"),
                     NFV_E_INVAL);
    assert_non_null(strstr(e.msg, "'size'"));
    assert_int_equal(o.imix.n_sizes, 1);
    assert_int_equal(o.imix.size[0], 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_rates_and_suffixes),
        cmocka_unit_test(test_rfc2544_derived),
        cmocka_unit_test(test_lists_and_ranges),
        cmocka_unit_test(test_errors_name_the_option),
        cmocka_unit_test(test_refused_value_is_not_stored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
