/*
 * fuzz_plc_json.c - placement's cluster and request files (plc/json.h,
 * docs/cluster-file.md), then the engine on whatever loads.
 *
 * Input: a cluster document immediately followed by a request document
 * (two concatenated JSON values, as `cat cluster.json request.json` gives).
 * Inputs naming an hwloc XML topology ("xml" anywhere) are skipped: they
 * would make the loader read files. What loads goes through plc_place
 * (without and with commit), plc_explain_new and the JSON views, bounded to
 * 64 hosts and 16 VMs per request so an input cannot make a run slow.
 * Properties: errors carry a message; a placement without commit leaves
 * the cluster's VM count alone, and the explanation agrees with it
 * (placeable iff plc_place succeeds).
 */
#define _GNU_SOURCE /* memmem */
#include <stdbool.h>

#include "fuzz_util.h"
#include "plc/engine.h"
#include "plc/json.h"

static size_t fuzz_n_vms(const struct plc_cluster *c)
{
    size_t n = 0;
    for (size_t i = 0; i < plc_cluster_n_vm_slots(c); i++)
        if (plc_cluster_vm(c, (uint32_t)i)->name)
            n++;
    return n;
}

static void fuzz_place(struct plc_cluster *c, json_t *take_req)
{
    struct nfv_err err;
    struct plc_req_doc *rd = NULL;

    if (plc_json_request_from(take_req, "req.json", c, &rd, &err) != NFV_OK) {
        FUZZ_CHECK(err.msg[0]);
        return;
    }
    const struct plc_req *r = &rd->req;
    if (r->n_vms == 0 || r->n_vms > 16) {
        plc_req_doc_free(rd);
        return;
    }
    struct plc_choice *ch = calloc(r->n_vms, sizeof(*ch));
    FUZZ_CHECK(ch);
    size_t n_before = fuzz_n_vms(c);
    enum nfv_code rc = plc_place(c, r, false, ch, &err);
    FUZZ_CHECK(fuzz_n_vms(c) == n_before);
    if (rc == NFV_OK) {
        for (size_t i = 0; i < r->n_vms; i++) {
            FUZZ_CHECK(ch[i].host < plc_cluster_n_hosts(c));
            json_t *jc = plc_json_choice(c, &ch[i]);
            FUZZ_CHECK(jc);
            json_decref(jc);
            char cores[1024];
            plc_choice_cores_format(c, &ch[i], cores, sizeof(cores));
        }
    } else {
        FUZZ_CHECK(err.msg[0]);
    }
    struct plc_explain *e = plc_explain_new(c, r, &err);
    if (e) {
        /* Deliberately one-way: explain judges members against the group,
         * plc_place may still fail the reserve search's bounded tries. */
        if (rc == NFV_OK)
            FUZZ_CHECK(e->is_placeable);
        json_t *je = plc_json_explain(c, r, e);
        FUZZ_CHECK(je);
        json_decref(je);
        plc_explain_free(e);
    }
    if (rc == NFV_OK) {
        FUZZ_CHECK(plc_place(c, r, true, ch, &err) == NFV_OK);
        FUZZ_CHECK(fuzz_n_vms(c) == n_before + r->n_vms);
    }
    free(ch);
    plc_req_doc_free(rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nfv_err err;
    json_error_t je;
    struct plc_cluster *c = NULL;

    if (size > 65536 || (size >= 3 && memmem(data, size, "xml", 3)))
        return 0;
    json_t *cdoc =
        json_loadb((const char *)data, size, JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &je);
    if (!cdoc)
        return 0;
    size_t used = (size_t)je.position;
    if (plc_json_cluster_from(cdoc, "cluster.json", &c, &err) != NFV_OK) {
        FUZZ_CHECK(err.msg[0]);
        json_decref(cdoc);
        return 0;
    }
    json_decref(cdoc);
    if (plc_cluster_n_hosts(c) <= 64 && used <= size) {
        json_t *rdoc =
            json_loadb((const char *)data + used, size - used, JSON_REJECT_DUPLICATES, NULL);
        if (rdoc)
            fuzz_place(c, rdoc);
    }
    plc_cluster_free(c);
    return 0;
}
