/*
 * plc/json.h - the cluster and request files (an adapter: reads files,
 * uses jansson), and JSON views of placement results.
 *
 * The file formats are documented in docs/cluster-file.md. Every error in a
 * file is NFV_E_INVAL (CLI exit 2) with a message naming the file, the JSON
 * path and the reason: "c.json: $.hosts[3].labels.rack: must be a string".
 *
 * Neighbours: cluster.h/engine.h/plan.h (the pure core it feeds).
 */
#ifndef PLC_JSON_H
#define PLC_JSON_H

#include <jansson.h>

#include "plc/plan.h"

/* Loads a cluster file into a new cluster (owned by the caller). */
enum nfv_code plc_json_load_cluster(const char *path, struct plc_cluster **ret_cluster,
                                    struct nfv_err *err);
/*
 * Same, also returning (in *ret_topos, an owned array indexed by host) the
 * hwloc topology of every host whose "topology" is an XML file (NULL for
 * the others), so pins can be planned on real PU numbers. Free the array
 * with plc_json_topos_free().
 */
struct pin_topo;
enum nfv_code plc_json_load_cluster_topos(const char *path, struct plc_cluster **ret_cluster,
                                          struct pin_topo ***ret_topos, struct nfv_err *err);
void plc_json_topos_free(struct pin_topo **topos, size_t n);

/* Same, from an already parsed document; @file names it in errors. */
enum nfv_code plc_json_cluster_from(const json_t *doc, const char *file,
                                    struct plc_cluster **ret_cluster, struct nfv_err *err);
/* Both: from a parsed document, with the hosts' topologies. */
enum nfv_code plc_json_cluster_from_topos(const json_t *doc, const char *file,
                                          struct plc_cluster **ret_cluster,
                                          struct pin_topo ***ret_topos, struct nfv_err *err);

/* A parsed request file: the request plus the storage its strings live in. */
struct plc_req_doc {
    struct plc_req req;
    struct plc_vm_req *vms;
    json_t *doc; /* keeps the strings alive */
};
/* Loads a request file against @c (capability names resolve to @c's bits). */
enum nfv_code plc_json_load_request(const char *path, const struct plc_cluster *c,
                                    struct plc_req_doc **ret_doc, struct nfv_err *err);
/* Loads a file holding one request or a JSON array of requests (what-if
 * lists); *ret_docs is an owned array of *ret_n owned docs. Errors name
 * the element ("f.json: $[2].vms[0].vcpus: ..."). */
enum nfv_code plc_json_load_requests(const char *path, const struct plc_cluster *c,
                                     struct plc_req_doc ***ret_docs, size_t *ret_n,
                                     struct nfv_err *err);
enum nfv_code plc_json_request_from(json_t *take_doc, const char *file, const struct plc_cluster *c,
                                    struct plc_req_doc **ret_doc, struct nfv_err *err);
void plc_req_doc_free(struct plc_req_doc *d);

/* {"host":"h1","nodes":[0],"cores":"4-7","memory_mib":..,"hugepages_mib":..} */
json_t *plc_json_choice(const struct plc_cluster *c, const struct plc_choice *ch);
/* Formats a choice's host-wide core ids as a list ("4-7,9") into @buf. */
void plc_choice_cores_format(const struct plc_cluster *c, const struct plc_choice *ch, char *buf,
                             size_t size);
/* {"placeable":bool,"vms":[{"name","passing","reasons":{filter:n},"hosts":[{"host","first_fail"}]}]}
 */
json_t *plc_json_explain(const struct plc_cluster *c, const struct plc_req *r,
                         const struct plc_explain *e);
/* {"steps":[{"step","vm","role","from","to":choice}],"moves":n,"lost":n} */
json_t *plc_json_plan(const struct plc_cluster *c, const struct plc_plan *p);

#endif /* PLC_JSON_H */
