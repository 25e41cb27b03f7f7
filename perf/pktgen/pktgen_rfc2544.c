/*
 * pktgen_rfc2544.c - RFC 2544 throughput search (see pktgen.h).
 *
 * RFC 2544 section 26.1 defines throughput as the fastest rate at which no
 * frame is lost; like most testers we allow a configurable loss ratio
 * (default 0) and search by bisection: first the maximum rate, then the
 * midpoint of the highest pass and the lowest fail, until the two are within
 * the resolution. If nothing above the minimum passed, the minimum itself is
 * tried once so the result is either a measured pass or 0.
 */
#include "pktgen.h"

#include <string.h>

enum nfv_code pktgen_rfc2544_init(struct pktgen_rfc2544 *s, double min_pps, double max_pps,
                                  double resolution_pps, double max_loss, struct nfv_err *err)
{
    if (!(min_pps > 0) || !(max_pps >= min_pps))
        return NFV_ERR(err, NFV_E_INVAL, "'rate': need 0 < min (%g) <= max (%g)", min_pps, max_pps);
    if (!(resolution_pps > 0))
        return NFV_ERR(err, NFV_E_INVAL, "'resolution': must be above 0");
    if (!(max_loss >= 0 && max_loss < 1))
        return NFV_ERR(err, NFV_E_INVAL, "'loss-ratio': must be in [0, 1)");
    memset(s, 0, sizeof(*s));
    s->min_pps = min_pps;
    s->max_pps = max_pps;
    s->resolution_pps = resolution_pps;
    s->max_loss = max_loss;
    s->hi = max_pps;
    return NFV_OK;
}

bool pktgen_rfc2544_next(struct pktgen_rfc2544 *s, double *ret_pps)
{
    double base;

    if (s->is_done)
        return false;
    if (s->n_trials == PKTGEN_RFC2544_MAX_TRIALS) {
        s->is_done = true;
        return false;
    }
    if (s->n_trials == 0) {
        s->cur = s->max_pps;
    } else if (s->lo >= s->max_pps) {
        s->is_done = true; /* the maximum passed */
        return false;
    } else {
        base = s->lo > 0 ? s->lo : s->min_pps;
        if (s->hi - base > s->resolution_pps) {
            s->cur = (base + s->hi) / 2;
        } else if (s->lo == 0 && s->hi > s->min_pps) {
            s->cur = s->min_pps; /* nothing passed yet: measure the floor */
        } else {
            s->is_done = true;
            return false;
        }
    }
    *ret_pps = s->cur;
    return true;
}

void pktgen_rfc2544_report(struct pktgen_rfc2544 *s, uint64_t n_tx, uint64_t n_rx)
{
    struct pktgen_trial *t;

    if (s->is_done || s->n_trials == PKTGEN_RFC2544_MAX_TRIALS)
        return;
    t = &s->trial[s->n_trials++];
    t->rate_pps = s->cur;
    t->n_tx = n_tx;
    t->n_rx = n_rx;
    if (n_tx == 0)
        t->loss_ratio = 1.0; /* nothing offered: cannot count as a pass */
    else if (n_rx >= n_tx)
        t->loss_ratio = 0.0;
    else
        t->loss_ratio = (double)(n_tx - n_rx) / (double)n_tx;
    t->is_pass = t->loss_ratio <= s->max_loss;
    if (t->is_pass) {
        if (s->cur > s->lo)
            s->lo = s->cur;
    } else if (s->cur < s->hi) {
        s->hi = s->cur;
    }
}

double pktgen_rfc2544_result(const struct pktgen_rfc2544 *s)
{
    return s->lo;
}
