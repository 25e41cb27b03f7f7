/*
 * heal_mon_test.c - the in-memory monitor driver (heal/mon_test.h).
 *
 * Each connection points at a caller-owned struct heal_mon_test_bmc and
 * remembers how far into its SEL it has read, like the IPMI driver remembers
 * the last record id. A silent BMC answers NFV_E_TIMEOUT immediately, so a
 * 1,000-host run does not spend real time waiting.
 */
#include "heal/mon_test.h"

#include <stdlib.h>

struct heal_mon {
    struct heal_mon_test_bmc *bmc;
    unsigned sel_seen; /* index of the first SEL entry not reported yet */
};

void heal_mon_test_bmc_init(struct heal_mon_test_bmc *bmc)
{
    *bmc = (struct heal_mon_test_bmc){.power = HEAL_POWER_ON};
}

enum nfv_code heal_mon_test_bmc_add_sel(struct heal_mon_test_bmc *bmc, enum heal_sel_kind kind,
                                        struct nfv_err *err)
{
    if (bmc->n_sel >= HEAL_MON_TEST_SEL_SIZE)
        return NFV_ERR(err, NFV_E_NOCAP, "test BMC: SEL full (%d entries)", HEAL_MON_TEST_SEL_SIZE);
    bmc->sel[bmc->n_sel] =
        (struct heal_sel_event){.record_id = (uint16_t)(bmc->n_sel + 1), .kind = kind};
    bmc->n_sel++;
    return NFV_OK;
}

static enum nfv_code silent(struct nfv_err *err)
{
    return NFV_ERR(err, NFV_E_TIMEOUT, "test BMC: does not answer");
}

static enum nfv_code test_open(const struct heal_mon_config *cfg, struct heal_mon **ret,
                               struct nfv_err *err)
{
    if (!cfg->driver_data)
        return NFV_ERR(err, NFV_E_INVAL, "'driver_data': the test driver needs its BMC");
    struct heal_mon_test_bmc *bmc = cfg->driver_data;
    if (bmc->is_silent)
        return silent(err);
    struct heal_mon *mon = calloc(1, sizeof(*mon));
    if (!mon)
        return NFV_ERR(err, NFV_E_NOMEM, "test BMC: out of memory");
    mon->bmc = bmc;
    mon->sel_seen = bmc->n_sel; /* what is in the SEL at open is history */
    *ret = mon;
    return NFV_OK;
}

static enum nfv_code test_poll(struct heal_mon *mon, struct heal_mon_poll *ret, struct nfv_err *err)
{
    if (mon->bmc->is_silent)
        return silent(err);
    struct heal_mon_poll p = {.power = mon->bmc->power};
    while (mon->sel_seen < mon->bmc->n_sel && p.n_events < HEAL_MON_MAX_EVENTS)
        p.events[p.n_events++] = mon->bmc->sel[mon->sel_seen++];
    p.is_truncated = mon->sel_seen < mon->bmc->n_sel;
    *ret = p;
    return NFV_OK;
}

static enum nfv_code test_power_off(struct heal_mon *mon, struct nfv_err *err)
{
    if (mon->bmc->is_silent)
        return silent(err);
    mon->bmc->n_power_off++;
    if (!mon->bmc->is_power_off_stuck)
        mon->bmc->power = HEAL_POWER_OFF;
    return NFV_OK;
}

static enum nfv_code test_power_status(struct heal_mon *mon, enum heal_power *ret,
                                       struct nfv_err *err)
{
    if (mon->bmc->is_silent)
        return silent(err);
    *ret = mon->bmc->power;
    return NFV_OK;
}

static void test_close(struct heal_mon *mon)
{
    free(mon);
}

const struct heal_mon_driver heal_mon_test = {
    .name = "test",
    .open = test_open,
    .poll = test_poll,
    .power_off = test_power_off,
    .power_status = test_power_status,
    .close = test_close,
};
