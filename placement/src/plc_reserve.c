/*
 * plc_reserve.c - the healing reserve's public queries.
 *
 * The reserve is checked exactly per failure domain by plc_heal.c (a stored
 * witness rebuild per domain); these are the cluster.h entry points that
 * ask it whether the loaded cluster holds. (The slot-count aggregate that
 * used to live here was a sufficient condition only, and unsound with
 * capabilities and numbered cores: issue 11.)
 */
#include "plc_priv.h"

bool plc_reserve_holds(const struct plc_cluster *c, uint32_t *ret_domain)
{
    struct plc_heal_fail f = {.dom = PLC_NONE, .ref = PLC_NONE};
    /* The witnesses are a cache built on first use: not a change of @c. */
    bool ok = plc_heal_holds((struct plc_cluster *)c, &f);
    if (!ok && ret_domain)
        *ret_domain = f.dom;
    return ok;
}

bool plc_reserve_uncovered(const struct plc_cluster *c, enum plc_scope *ret_kind, uint32_t *ret_dom,
                           uint32_t *ret_vm)
{
    struct plc_heal_fail f = {.kind = PLC_SCOPE_HOST, .dom = PLC_NONE, .ref = PLC_NONE};
    bool ok = plc_heal_holds((struct plc_cluster *)c, &f);
    *ret_kind = f.kind;
    *ret_dom = f.dom;
    *ret_vm = f.ref;
    return !ok;
}
