/*
 * heal/mon_test.h - simulated BMCs behind the heal_mon_test driver.
 *
 * A struct heal_mon_test_bmc is one host's BMC in memory: its chassis power,
 * a SEL the test appends to, and switches that make it silent (every call
 * answers NFV_E_TIMEOUT at once, without sleeping) or refuse power off. A
 * scale run makes 1,000 of them and opens each through heal_mon_test with
 * heal_mon_config.driver_data pointing at it. Not thread-safe: the caller
 * serialises access to one BMC.
 */
#ifndef HEAL_MON_TEST_H
#define HEAL_MON_TEST_H

#include "heal/mon.h"

#define HEAL_MON_TEST_SEL_SIZE 256

struct heal_mon_test_bmc {
    enum heal_power power;
    bool is_silent;          /* every call: NFV_E_TIMEOUT */
    bool is_power_off_stuck; /* power_off accepted, power stays on */
    unsigned n_sel;
    struct heal_sel_event sel[HEAL_MON_TEST_SEL_SIZE];
    unsigned n_power_off; /* power_off calls seen */
};

/* A BMC powered on with an empty SEL. */
void heal_mon_test_bmc_init(struct heal_mon_test_bmc *bmc);
/* Appends an event of @kind (asserted); NFV_E_NOCAP when the SEL is full. */
enum nfv_code heal_mon_test_bmc_add_sel(struct heal_mon_test_bmc *bmc, enum heal_sel_kind kind,
                                        struct nfv_err *err);

#endif /* HEAL_MON_TEST_H */
