/*
 * test_pin_cpuset.c - the cpuset list syntax "0-3,8,^2" and bitmap helpers.
 *
 * Edge cases an operator can type into --reserved/--dedicated or a host's
 * configuration: exclusions, whitespace, reversed ranges, empty items,
 * signs, numbers past the limit, only-exclusions; and that formatting gives
 * the shortest list and parses back to the same set.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "pin/cpuset.h"

static void assert_parses_to(const char *text, const char *want)
{
    struct pin_cpuset s;
    struct nfv_err err = {0};
    char buf[256];

    if (pin_cpuset_parse(text, PIN_MAX_PUS, true, &s, &err) != NFV_OK)
        fail_msg("'%s' did not parse: %s", text, err.msg);
    pin_cpuset_format(&s, buf, sizeof(buf));
    if (strcmp(buf, want) != 0)
        fail_msg("'%s' parsed to '%s', want '%s'", text, buf, want);
}

static void assert_rejects(const char *text, unsigned n_max, const char *msg_part)
{
    struct pin_cpuset s;
    struct nfv_err err = {0};

    pin_cpuset_zero(&s);
    pin_cpuset_set(&s, 5);
    assert_int_equal(pin_cpuset_parse(text, n_max, false, &s, &err), NFV_E_INVAL);
    if (!strstr(err.msg, msg_part))
        fail_msg("'%s': message '%s' lacks '%s'", text, err.msg, msg_part);
    /* output untouched on error */
    assert_true(pin_cpuset_test(&s, 5));
    assert_int_equal(pin_cpuset_count(&s), 1);
}

static void test_parse_valid(void **state)
{
    (void)state;
    assert_parses_to("0-3,8,^2", "0-1,3,8");
    assert_parses_to("5", "5");
    assert_parses_to(" 1 , 3-4 ", "1,3-4");
    assert_parses_to("0-7,^2-5", "0-1,6-7");
    assert_parses_to("^2,0-3", "0-1,3"); /* exclusions apply after inclusions */
    assert_parses_to("3,1,2,2", "1-3");  /* order and duplicates do not matter */
    assert_parses_to("1023", "1023");
    assert_parses_to("0-1023,^1-1022", "0,1023");
    assert_parses_to("", ""); /* allowed when is_empty_ok */
}

static void test_parse_invalid(void **state)
{
    (void)state;
    assert_rejects("3-1", PIN_MAX_PUS, "reversed");
    assert_rejects("1,,2", PIN_MAX_PUS, "empty item");
    assert_rejects("1,", PIN_MAX_PUS, "empty item");
    assert_rejects("a", PIN_MAX_PUS, "not a cpu");
    assert_rejects("-1", PIN_MAX_PUS, "not a cpu");
    assert_rejects("+1", PIN_MAX_PUS, "not a cpu");
    assert_rejects("1-", PIN_MAX_PUS, "not a cpu range");
    assert_rejects("1x", PIN_MAX_PUS, "unexpected");
    assert_rejects("1 2", PIN_MAX_PUS, "unexpected");
    assert_rejects("64", 64, "out of range");
    assert_rejects("0-64", 64, "out of range");
    assert_rejects("1024", PIN_MAX_PUS, "out of range");
    assert_rejects("99999999999999999999999", PIN_MAX_PUS, "not a cpu");
    assert_rejects("^1", PIN_MAX_PUS, "only exclusions");
    assert_rejects("1,^1", PIN_MAX_PUS, "remove every cpu");
    assert_rejects("", PIN_MAX_PUS, "empty");
    assert_rejects("  ", PIN_MAX_PUS, "empty");
}

static void test_format_truncation_and_roundtrip(void **state)
{
    struct pin_cpuset s, back;
    char small[4], big[4096];
    size_t need;

    (void)state;
    pin_cpuset_zero(&s);
    for (unsigned i = 0; i < PIN_MAX_PUS; i += 3)
        pin_cpuset_set(&s, i);
    need = pin_cpuset_format(&s, small, sizeof(small));
    assert_true(need >= sizeof(small));
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_true(pin_cpuset_format(&s, big, sizeof(big)) == need);
    assert_int_equal(pin_cpuset_parse(big, PIN_MAX_PUS, false, &back, NULL), NFV_OK);
    assert_true(pin_cpuset_equal(&s, &back));
}

static void test_bit_ops(void **state)
{
    struct pin_cpuset a, b, c;

    (void)state;
    pin_cpuset_zero(&a);
    pin_cpuset_zero(&b);
    assert_true(pin_cpuset_is_empty(&a));
    assert_int_equal(pin_cpuset_first(&a), -1);
    pin_cpuset_set(&a, 63);
    pin_cpuset_set(&a, 64);
    pin_cpuset_set(&a, 1023);
    assert_int_equal(pin_cpuset_first(&a), 63);
    assert_int_equal(pin_cpuset_next(&a, 64), 64);
    assert_int_equal(pin_cpuset_next(&a, 65), 1023);
    assert_int_equal(pin_cpuset_next(&a, 1024), -1);
    assert_false(pin_cpuset_test(&a, 5000));
    pin_cpuset_set(&b, 64);
    assert_true(pin_cpuset_intersects(&a, &b));
    assert_true(pin_cpuset_is_subset(&b, &a));
    assert_false(pin_cpuset_is_subset(&a, &b));
    pin_cpuset_andnot(&c, &a, &b);
    assert_int_equal(pin_cpuset_count(&c), 2);
    pin_cpuset_or(&c, &c, &b);
    assert_true(pin_cpuset_equal(&c, &a));
    pin_cpuset_clr(&c, 64);
    pin_cpuset_and(&c, &c, &b);
    assert_true(pin_cpuset_is_empty(&c));
}

/* Random strings over the list alphabet: the parser either refuses with a
 * message or accepts, and then formatting and parsing again gives the same
 * set (run under ASan in CI, this is also a small fuzz of the parser). */
static void test_random_strings(void **state)
{
    static const char alphabet[] = "0123456789,-^ x";
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    unsigned n_ok = 0, n_bad = 0;

    (void)state;
    for (unsigned i = 0; i < 20000; i++) {
        char text[24], buf[4096];
        struct pin_cpuset s, back;
        struct nfv_err err = {0};
        unsigned len;

        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        len = (unsigned)(rng % (sizeof(text) - 1));
        for (unsigned k = 0; k < len; k++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            text[k] = alphabet[rng % (sizeof(alphabet) - 1)];
        }
        text[len] = '\0';
        if (pin_cpuset_parse(text, 256, true, &s, &err) != NFV_OK) {
            assert_int_equal(err.code, NFV_E_INVAL);
            assert_true(err.msg[0] != '\0');
            n_bad++;
            continue;
        }
        n_ok++;
        pin_cpuset_format(&s, buf, sizeof(buf));
        assert_int_equal(pin_cpuset_parse(buf, 256, true, &back, NULL), NFV_OK);
        assert_true(pin_cpuset_equal(&s, &back));
        for (int pu = pin_cpuset_first(&s); pu >= 0; pu = pin_cpuset_next(&s, pu + 1))
            assert_true(pu < 256);
    }
    /* both outcomes happened */
    assert_true(n_ok > 100);
    assert_true(n_bad > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_format_truncation_and_roundtrip),
        cmocka_unit_test(test_bit_ops),
        cmocka_unit_test(test_random_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
