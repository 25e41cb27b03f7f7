/*
 * pin_pools.c - parse and check a host's reserved/dedicated/shared pools.
 *
 * The pools are three cpusets over the host's PUs (pin/pools.h). Parsing
 * takes Nova-style lists; validation says which pool is wrong and on which
 * PU, because this is what an operator types into a host's configuration.
 */
#include <stdio.h>

#include "pin/pools.h"

static enum nfv_code parse_pool(const struct pin_topo *t, const char *name, const char *text,
                                struct pin_cpuset *ret, struct nfv_err *err)
{
    enum nfv_code rc = pin_cpuset_parse(text, PIN_MAX_PUS, true, ret, err);

    if (rc)
        nfv_err_prefix(err, "'%s'", name);
    (void)t;
    return rc;
}

enum nfv_code pin_pools_validate(const struct pin_topo *t, const struct pin_pools *p,
                                 struct nfv_err *err)
{
    static const char *const names[] = {"reserved", "dedicated", "shared"};
    const struct pin_cpuset *sets[] = {&p->reserved, &p->dedicated, &p->shared};
    struct pin_cpuset tmp;

    for (int i = 0; i < 3; i++) {
        pin_cpuset_andnot(&tmp, sets[i], &t->all);
        if (!pin_cpuset_is_empty(&tmp))
            return NFV_ERR(err, NFV_E_INVAL, "'%s': PU %d is not on this host (it has %u PUs)",
                           names[i], pin_cpuset_first(&tmp), t->n_pus);
    }
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++) {
            pin_cpuset_and(&tmp, sets[i], sets[j]);
            if (!pin_cpuset_is_empty(&tmp))
                return NFV_ERR(err, NFV_E_INVAL, "'%s' and '%s' overlap on PU %d", names[i],
                               names[j], pin_cpuset_first(&tmp));
        }
    return NFV_OK;
}

enum nfv_code pin_pools_parse(const struct pin_topo *t, const char *reserved, const char *dedicated,
                              const char *shared, struct pin_pools *ret_pools, struct nfv_err *err)
{
    struct pin_pools p;
    enum nfv_code rc;

    pin_cpuset_zero(&p.reserved);
    pin_cpuset_zero(&p.shared);
    if (reserved && (rc = parse_pool(t, "reserved", reserved, &p.reserved, err)))
        return rc;
    if (shared && (rc = parse_pool(t, "shared", shared, &p.shared, err)))
        return rc;
    if (dedicated) {
        rc = parse_pool(t, "dedicated", dedicated, &p.dedicated, err);
        if (rc)
            return rc;
    } else {
        pin_cpuset_andnot(&p.dedicated, &t->all, &p.reserved);
        pin_cpuset_andnot(&p.dedicated, &p.dedicated, &p.shared);
    }
    rc = pin_pools_validate(t, &p, err);
    if (rc)
        return rc;
    *ret_pools = p;
    return NFV_OK;
}
