/* test_log.c - log levels, sinks and the rate limiter. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "nfv/log.h"

struct capture {
    int n;
    char last[256];
    enum nfv_log_level level;
};

static void capture_sink(void *opaque, enum nfv_log_level level, const char *module,
                         const char *msg)
{
    struct capture *c = opaque;

    c->n++;
    c->level = level;
    snprintf(c->last, sizeof(c->last), "%s|%s", module, msg);
}

static void test_levels_filter(void **state)
{
    struct capture c = {0};

    (void)state;
    nfv_log_set_sink(capture_sink, &c);
    nfv_log_set_level(NFV_LOG_INFO);
    NFV_LOG_DEBUG("pin", "hidden %d", 1);
    assert_int_equal(c.n, 0);
    NFV_LOG_INFO("pin", "shown %d%%", 2);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.last, "pin|shown 2%");
    NFV_LOG_ERR("vm", "bad");
    assert_int_equal(c.level, NFV_LOG_ERR);
    nfv_log_set_sink(NULL, NULL);
}

static void test_level_names(void **state)
{
    (void)state;
    for (int i = 0; i < NFV_LOG__COUNT; i++)
        assert_int_equal(nfv_log_level_from_string(nfv_log_level_to_string(i)), i);
    assert_int_equal(nfv_log_level_from_string("loud"), NFV_LOG__COUNT);
}

static void test_ratelimit(void **state)
{
    struct nfv_ratelimit rl = NFV_RATELIMIT_INIT(1000, 3);
    unsigned suppressed = 99;
    int allowed = 0;

    (void)state;
    for (int i = 0; i < 10; i++)
        allowed += nfv_ratelimit_ok(&rl, 1000000000ull + (uint64_t)i, NULL);
    assert_int_equal(allowed, 3);
    /* Next window: allowed again, and told how many were dropped. */
    assert_true(nfv_ratelimit_ok(&rl, 2500000000ull, &suppressed));
    assert_int_equal(suppressed, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_filter),
        cmocka_unit_test(test_level_names),
        cmocka_unit_test(test_ratelimit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
