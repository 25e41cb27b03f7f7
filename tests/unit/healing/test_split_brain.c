/*
 * test_split_brain.c - the state machine driven through the monitor port, as
 * the daemon will drive it: polls of a heal_mon_test BMC become inputs, FENCE
 * actions run heal_mon_fence() and report FENCE_DONE or FENCE_FAILED.
 *
 * Split brain: libvirt unreachable while the BMC says power on and the fence
 * cannot be confirmed (power off stuck, or the BMC silent) -> the host stays
 * FAILED or SUSPECT, fences are retried, and no SBY is promoted until the
 * power reads off or an operator confirms the host dead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "heal/mon.h"
#include "heal/mon_test.h"
#include "heal/sm.h"

struct rig {
    struct heal_rules rules;
    struct heal_mon_test_bmc bmc;
    struct heal_mon *mon;
    struct heal_host host;
    unsigned n_promote, n_fence, n_notify;
};

static void feed(struct rig *r, const struct heal_input *in)
{
    struct heal_step step;
    heal_host_step(&r->host, &r->rules, in, &step);
    for (unsigned i = 0; i < step.n_actions; i++) {
        switch (step.actions[i]) {
        case HEAL_ACT_FENCE: {
            r->n_fence++;
            struct heal_input done = {.now_ms = in->now_ms};
            done.kind = heal_mon_fence(&heal_mon_test, r->mon, 5, 1, NULL) == NFV_OK
                            ? HEAL_IN_FENCE_DONE
                            : HEAL_IN_FENCE_FAILED;
            feed(r, &done);
            break;
        }
        case HEAL_ACT_PROMOTE:
            r->n_promote++;
            break;
        case HEAL_ACT_NOTIFY:
            r->n_notify++;
            break;
        default:
            break;
        }
    }
}

/* One 200 ms poll of the BMC at @t_ms, fed to the state machine. */
static void poll_once(struct rig *r, uint64_t t_ms)
{
    struct heal_mon_poll p;
    struct heal_input in[HEAL_MON_POLL_MAX_INPUTS];
    unsigned n = heal_mon_poll_inputs(heal_mon_test.poll(r->mon, &p, NULL), &p, t_ms, in);
    for (unsigned i = 0; i < n; i++)
        feed(r, &in[i]);
}

static void rig_init(struct rig *r)
{
    *r = (struct rig){0};
    heal_rules_default(&r->rules);
    heal_mon_test_bmc_init(&r->bmc);
    struct heal_mon_config cfg;
    heal_mon_config_init(&cfg);
    cfg.driver_data = &r->bmc;
    assert_int_equal(heal_mon_test.open(&cfg, &r->mon, NULL), NFV_OK);
    heal_host_init(&r->host, 0);
}

static void run_polls(struct rig *r, uint64_t from_ms, uint64_t to_ms)
{
    for (uint64_t t = from_ms; t <= to_ms; t += 200)
        poll_once(r, t);
}

/* libvirt lost, BMC says on, power off does not take: fenced again and
 * again, never promoted; when the power finally reads off, promoted once. */
static void test_stuck_power_off(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    r.bmc.is_power_off_stuck = true;
    struct heal_input lost = {.kind = HEAL_IN_LIBVIRT_LOST, .now_ms = 1000};
    feed(&r, &lost);
    run_polls(&r, 1000, 60000);
    assert_int_equal(r.host.state, HEAL_FAILED); /* rule A after 15 s */
    assert_int_equal(r.n_promote, 0);
    assert_true(r.n_fence >= 8); /* first at 16 s, then every 5 s */
    assert_int_equal(r.bmc.n_power_off, r.n_fence);
    r.bmc.is_power_off_stuck = false;
    run_polls(&r, 60200, 70000);
    assert_int_equal(r.host.state, HEAL_FENCED);
    assert_int_equal(r.n_promote, 1);
    assert_int_equal(r.bmc.power, HEAL_POWER_OFF);
    heal_mon_test.close(r.mon);
}

/* libvirt lost and the BMC silent too (a network partition): confirmed by
 * rule A, the fence cannot be confirmed, nothing is promoted until an
 * operator says the host is dead. */
static void test_partition_needs_operator(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    r.bmc.is_silent = true;
    struct heal_input lost = {.kind = HEAL_IN_LIBVIRT_LOST, .now_ms = 1000};
    feed(&r, &lost);
    run_polls(&r, 1000, 120000);
    assert_int_equal(r.host.state, HEAL_FAILED);
    assert_int_equal(r.n_promote, 0);
    assert_true(r.n_notify >= 2); /* suspect, failed, each fence failure */
    struct heal_input dead = {.kind = HEAL_IN_OPERATOR_DEAD, .now_ms = 120100};
    feed(&r, &dead);
    assert_int_equal(r.host.state, HEAL_FENCED);
    assert_int_equal(r.n_promote, 1);
    heal_mon_test.close(r.mon);
}

/* A BMC that stops answering while libvirt is fine: suspect only, forever. */
static void test_silent_bmc_alone(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    r.bmc.is_silent = true;
    run_polls(&r, 200, 600000);
    assert_int_equal(r.host.state, HEAL_SUSPECT);
    assert_int_equal(r.n_fence, 0);
    assert_int_equal(r.n_promote, 0);
    r.bmc.is_silent = false;
    poll_once(&r, 600200);
    assert_int_equal(r.host.state, HEAL_UP);
    heal_mon_test.close(r.mon);
}

/* The fast path: a crash with an uncorrectable ECC event, power still on:
 * rule C confirms at the next poll, the fence powers it off, promoted. */
static void test_uecc_fast_path(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    run_polls(&r, 200, 1000);
    assert_int_equal(heal_mon_test_bmc_add_sel(&r.bmc, HEAL_SEL_MEM_UECC, NULL), NFV_OK);
    struct heal_input lost = {.kind = HEAL_IN_LIBVIRT_LOST, .now_ms = 1100};
    feed(&r, &lost);
    assert_int_equal(r.host.state, HEAL_SUSPECT);
    poll_once(&r, 1200);
    assert_int_equal(r.host.state, HEAL_FENCED);
    assert_int_equal(r.n_fence, 1);
    assert_int_equal(r.n_promote, 1);
    assert_int_equal(r.bmc.power, HEAL_POWER_OFF);
    heal_mon_test.close(r.mon);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stuck_power_off),
        cmocka_unit_test(test_partition_needs_operator),
        cmocka_unit_test(test_silent_bmc_alone),
        cmocka_unit_test(test_uecc_fast_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
