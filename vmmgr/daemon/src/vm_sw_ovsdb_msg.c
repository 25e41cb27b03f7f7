/*
 * vm_sw_ovsdb_msg.c - OVSDB JSON-RPC (RFC 7047) messages for the switch
 * driver: the pure half of vm_sw_ovsdb.
 *
 * Builds the "transact" operation lists the driver sends (select, wait,
 * insert, mutate, update on the Open_vSwitch, Bridge, Port and Interface
 * tables, rows linked by named-uuid within one transaction), the "monitor"
 * request, echo replies, and parses what ovsdb-server answers. No I/O: the
 * socket side is vm_sw_ovsdb.c; tests/unit/vmmgr/test_vm_sw.c checks these
 * against golden JSON in tests/data/vmmgr/ovsdb/.
 *
 * OVSDB encodings used here (RFC 7047 5.1): a set is ["set", [...]] (a
 * one-element set may also arrive as the bare atom), a UUID is ["uuid", s],
 * a reference to a row inserted earlier in the same transaction is
 * ["named-uuid", name].
 */
#include "vm_sw_ovsdb_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *vm_sw_ovsdb_request_new(const char *method, json_t *take_params, json_int_t id)
{
    return json_pack("{s:s, s:o, s:I}", "method", method, "params", take_params, "id", id);
}

json_t *vm_sw_ovsdb_echo_reply_new(json_t *request)
{
    json_t *params = json_object_get(request, "params");
    json_t *id = json_object_get(request, "id");
    return json_pack("{s:O, s:n, s:O}", "result", params ? params : json_null(), "error", "id",
                     id ? id : json_null());
}

json_t *vm_sw_ovsdb_monitor_params_new(void)
{
    return json_pack("[s, s, {s:{s:[s]}}]", VM_SW_OVSDB_DB, "vmmgr-cfg", "Open_vSwitch", "columns",
                     "cur_cfg");
}

size_t vm_sw_ovsdb_frame(const char *buf, size_t len)
{
    size_t i = 0, depth = 0;
    bool is_in_string = false, is_escaped = false, is_started = false;
    for (; i < len; i++) {
        char c = buf[i];
        if (is_in_string) {
            if (is_escaped)
                is_escaped = false;
            else if (c == '\\')
                is_escaped = true;
            else if (c == '"')
                is_in_string = false;
            continue;
        }
        if (!is_started) {
            if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
                continue;
            /* JSON-RPC messages are objects; anything else is not OVSDB. */
            if (c != '{')
                return (size_t)-1;
            is_started = true;
        }
        if (c == '"')
            is_in_string = true;
        else if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']') {
            if (--depth == 0)
                return i + 1;
        }
    }
    return 0;
}

/* ["set", [v, ...]] of the members of @s. */
static json_t *vm_sw_ovsdb_set_new(const struct vm_sw_vlanset *s)
{
    json_t *arr = json_array();
    for (int v = vm_sw_vlanset_next(s, 0); v >= 0; v = vm_sw_vlanset_next(s, (unsigned)v + 1))
        json_array_append_new(arr, json_integer(v));
    return json_pack("[s, o]", "set", arr);
}

static json_t *vm_sw_ovsdb_uuid_where_new(const char *uuid)
{
    return json_pack("[[s, s, [s, s]]]", "_uuid", "==", "uuid", uuid);
}

static json_t *vm_sw_ovsdb_name_where_new(const char *name)
{
    return json_pack("[[s, s, s]]", "name", "==", name);
}

/* [db, {"op": "comment"}] : every transaction starts so; ovsdb-server logs
 * the comment, which tells an operator who changed the switch. */
json_t *vm_sw_ovsdb_txn_new(const char *what, const char *object)
{
    char comment[128];
    snprintf(comment, sizeof(comment), "vmmgr: %s %s", what, object);
    return json_pack("[s, {s:s, s:s}]", VM_SW_OVSDB_DB, "op", "comment", "comment", comment);
}

/* next_cfg += 1 and read it back (ovs-vsctl's way to learn which cur_cfg
 * means "ovs-vswitchd applied this transaction"). */
json_t *vm_sw_ovsdb_txn_finish(json_t *txn, bool is_confirm)
{
    if (!is_confirm)
        return txn;
    json_array_append_new(txn,
                          json_pack("{s:s, s:s, s:[], s:[[s, s, i]]}", "op", "mutate", "table",
                                    "Open_vSwitch", "where", "mutations", "next_cfg", "+=", 1));
    json_array_append_new(txn, json_pack("{s:s, s:s, s:[], s:[s]}", "op", "select", "table",
                                         "Open_vSwitch", "where", "columns", "next_cfg"));
    return txn;
}

json_t *vm_sw_ovsdb_read_txn_new(const char *bridge, const char *const *ports, size_t n_ports)
{
    json_t *txn = json_pack("[s]", VM_SW_OVSDB_DB);
    json_array_append_new(txn, json_pack("{s:s, s:s, s:[], s:[s, s]}", "op", "select", "table",
                                         "Open_vSwitch", "where", "columns", "_uuid", "next_cfg"));
    json_array_append_new(txn, json_pack("{s:s, s:s, s:o, s:[s, s]}", "op", "select", "table",
                                         "Bridge", "where", vm_sw_ovsdb_name_where_new(bridge),
                                         "columns", "_uuid", "ports"));
    /* OVSDB "where" clauses are ANDed: one select per port name. */
    for (size_t i = 0; i < (n_ports ? n_ports : 1); i++)
        json_array_append_new(
            txn, json_pack("{s:s, s:s, s:o, s:[s, s, s, s]}", "op", "select", "table", "Port",
                           "where", n_ports ? vm_sw_ovsdb_name_where_new(ports[i]) : json_array(),
                           "columns", "_uuid", "name", "tag", "trunks"));
    return txn;
}

/* The members of a set column value (bare atom or ["set", [...]]). */
static json_t *vm_sw_ovsdb_set_members(json_t *v, json_t **ret_single)
{
    if (json_is_array(v) && json_array_size(v) == 2 && json_is_string(json_array_get(v, 0)) &&
        strcmp(json_string_value(json_array_get(v, 0)), "set") == 0)
        return json_array_get(v, 1);
    /* A bare atom: present it as a one-element array through ret_single. */
    *ret_single = json_pack("[O]", v);
    return *ret_single;
}

static bool vm_sw_ovsdb_uuid_get(json_t *v, char *ret, size_t size)
{
    const char *s;
    if (!json_is_array(v) || json_array_size(v) != 2 ||
        !(s = json_string_value(json_array_get(v, 1))))
        return false;
    snprintf(ret, size, "%s", s);
    return true;
}

void vm_sw_ovsdb_view_free(struct vm_sw_ovsdb_view *v)
{
    if (!v)
        return;
    free(v->bridge_ports);
    free(v->ports);
    v->bridge_ports = NULL;
    v->ports = NULL;
}

static enum nfv_code vm_sw_ovsdb_port_parse(json_t *row, struct vm_sw_ovsdb_port *ret,
                                            struct nfv_err *err)
{
    json_t *single = NULL, *members;
    const char *name = json_string_value(json_object_get(row, "name"));
    size_t i;
    json_t *m;
    memset(ret, 0, sizeof(*ret));
    if (!name || !vm_sw_ovsdb_uuid_get(json_object_get(row, "_uuid"), ret->uuid, sizeof(ret->uuid)))
        return NFV_ERR(err, NFV_E_PARSE, "switch sent a Port row without name or _uuid");
    snprintf(ret->info.name, sizeof(ret->info.name), "%s", name);
    ret->info.tag = -1;
    members = vm_sw_ovsdb_set_members(json_object_get(row, "tag"), &single);
    json_array_foreach(members, i, m) if (json_is_integer(m)) ret->info.tag =
        (int)json_integer_value(m);
    json_decref(single);
    single = NULL;
    members = vm_sw_ovsdb_set_members(json_object_get(row, "trunks"), &single);
    json_array_foreach(members, i, m) if (json_is_integer(m))
        vm_sw_vlanset_add(&ret->info.trunks, (unsigned)json_integer_value(m));
    json_decref(single);
    return NFV_OK;
}

enum nfv_code vm_sw_ovsdb_view_parse(json_t *result, struct vm_sw_ovsdb_view *ret,
                                     struct nfv_err *err)
{
    struct vm_sw_ovsdb_view v = {0};
    json_t *ovs_rows, *br_rows, *port_rows, *single = NULL, *members, *m;
    enum nfv_code rc = NFV_OK;
    size_t i;

    ovs_rows = json_object_get(json_array_get(result, 0), "rows");
    br_rows = json_object_get(json_array_get(result, 1), "rows");
    if (!json_is_array(ovs_rows) || !json_is_array(br_rows) || json_array_size(result) < 3)
        return NFV_ERR(err, NFV_E_PARSE, "switch answered a read without rows");
    v.next_cfg = -1;
    if (json_array_size(ovs_rows) > 0) {
        json_t *row = json_array_get(ovs_rows, 0), *nc = json_object_get(row, "next_cfg");
        v.has_ovs_row =
            vm_sw_ovsdb_uuid_get(json_object_get(row, "_uuid"), v.ovs_uuid, sizeof(v.ovs_uuid));
        if (json_is_integer(nc))
            v.next_cfg = json_integer_value(nc);
    }
    if (json_array_size(br_rows) > 0) {
        json_t *br = json_array_get(br_rows, 0);
        v.has_bridge = vm_sw_ovsdb_uuid_get(json_object_get(br, "_uuid"), v.bridge_uuid,
                                            sizeof(v.bridge_uuid));
        members = vm_sw_ovsdb_set_members(json_object_get(br, "ports"), &single);
        v.bridge_ports = calloc(json_array_size(members) + 1, sizeof(*v.bridge_ports));
        if (!v.bridge_ports) {
            json_decref(single);
            return NFV_ERR(err, NFV_E_NOMEM, "out of memory reading a bridge");
        }
        json_array_foreach(members, i,
                           m) if (vm_sw_ovsdb_uuid_get(m, v.bridge_ports[v.n_bridge_ports], 40))
            v.n_bridge_ports++;
        json_decref(single);
    }
    /* Results 2.. are the Port selects (one per name, or one for all). */
    size_t n_rows = 0;
    for (size_t k = 2; k < json_array_size(result); k++) {
        port_rows = json_object_get(json_array_get(result, k), "rows");
        if (!json_is_array(port_rows)) {
            vm_sw_ovsdb_view_free(&v);
            return NFV_ERR(err, NFV_E_PARSE, "switch answered a port read without rows");
        }
        n_rows += json_array_size(port_rows);
    }
    v.ports = calloc(n_rows + 1, sizeof(*v.ports));
    if (!v.ports) {
        vm_sw_ovsdb_view_free(&v);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory reading ports");
    }
    for (size_t k = 2; k < json_array_size(result); k++) {
        port_rows = json_object_get(json_array_get(result, k), "rows");
        json_array_foreach(port_rows, i, m)
        {
            if ((rc = vm_sw_ovsdb_port_parse(m, &v.ports[v.n_ports], err)) != NFV_OK) {
                vm_sw_ovsdb_view_free(&v);
                return rc;
            }
            v.n_ports++;
        }
    }
    *ret = v;
    return NFV_OK;
}

bool vm_sw_ovsdb_view_on_bridge(const struct vm_sw_ovsdb_view *v, const char *uuid)
{
    for (size_t i = 0; i < v->n_bridge_ports; i++)
        if (strcmp(v->bridge_ports[i], uuid) == 0)
            return true;
    return false;
}

void vm_sw_ovsdb_port_create_append(json_t *txn, unsigned idx, const char *bridge, const char *port,
                                    const char *iface_type, const struct vm_sw_vlanset *trunks,
                                    int tag)
{
    char iface_ref[24], port_ref[24];
    json_t *iface_row = json_pack("{s:s}", "name", port);
    json_t *port_row;
    /* named-uuid names are per transaction: number them per port. */
    snprintf(iface_ref, sizeof(iface_ref), "iface%u", idx);
    snprintf(port_ref, sizeof(port_ref), "port%u", idx);
    if (iface_type && *iface_type)
        json_object_set_new(iface_row, "type", json_string(iface_type));
    json_array_append_new(txn, json_pack("{s:s, s:s, s:o, s:s}", "op", "insert", "table",
                                         "Interface", "row", iface_row, "uuid-name", iface_ref));
    port_row = json_pack("{s:s, s:[s, s]}", "name", port, "interfaces", "named-uuid", iface_ref);
    if (trunks)
        json_object_set_new(port_row, "trunks", vm_sw_ovsdb_set_new(trunks));
    else
        json_object_set_new(port_row, "tag", json_integer(tag));
    json_array_append_new(txn, json_pack("{s:s, s:s, s:o, s:s}", "op", "insert", "table", "Port",
                                         "row", port_row, "uuid-name", port_ref));
    json_array_append_new(txn,
                          json_pack("{s:s, s:s, s:o, s:[[s, s, [s, [[s, s]]]]]}", "op", "mutate",
                                    "table", "Bridge", "where", vm_sw_ovsdb_name_where_new(bridge),
                                    "mutations", "ports", "insert", "set", "named-uuid", port_ref));
}

void vm_sw_ovsdb_trunk_change_append(json_t *txn, const char *uuid,
                                     const struct vm_sw_vlanset *actual,
                                     const struct vm_sw_vlanset *add,
                                     const struct vm_sw_vlanset *remove)
{
    json_array_append_new(
        txn, json_pack("{s:s, s:s, s:o, s:[s], s:s, s:[{s:o}], s:i}", "op", "wait", "table", "Port",
                       "where", vm_sw_ovsdb_uuid_where_new(uuid), "columns", "trunks", "until",
                       "==", "rows", "trunks", vm_sw_ovsdb_set_new(actual), "timeout", 0));
    if (vm_sw_vlanset_count(add))
        json_array_append_new(txn,
                              json_pack("{s:s, s:s, s:o, s:[[s, s, o]]}", "op", "mutate", "table",
                                        "Port", "where", vm_sw_ovsdb_uuid_where_new(uuid),
                                        "mutations", "trunks", "insert", vm_sw_ovsdb_set_new(add)));
    if (vm_sw_vlanset_count(remove))
        json_array_append_new(txn, json_pack("{s:s, s:s, s:o, s:[[s, s, o]]}", "op", "mutate",
                                             "table", "Port", "where",
                                             vm_sw_ovsdb_uuid_where_new(uuid), "mutations",
                                             "trunks", "delete", vm_sw_ovsdb_set_new(remove)));
}

json_t *vm_sw_ovsdb_tag_set_txn_new(const char *uuid, unsigned tag, bool is_confirm)
{
    json_t *txn = vm_sw_ovsdb_txn_new("tag set", uuid);
    json_array_append_new(txn, json_pack("{s:s, s:s, s:o, s:{s:i}}", "op", "update", "table",
                                         "Port", "where", vm_sw_ovsdb_uuid_where_new(uuid), "row",
                                         "tag", (int)tag));
    return vm_sw_ovsdb_txn_finish(txn, is_confirm);
}

json_t *vm_sw_ovsdb_port_delete_txn_new(const char *bridge, const char *uuid, bool is_confirm)
{
    json_t *txn = vm_sw_ovsdb_txn_new("port delete", uuid);
    json_array_append_new(txn,
                          json_pack("{s:s, s:s, s:o, s:[[s, s, [s, [[s, s]]]]]}", "op", "mutate",
                                    "table", "Bridge", "where", vm_sw_ovsdb_name_where_new(bridge),
                                    "mutations", "ports", "delete", "set", "uuid", uuid));
    return vm_sw_ovsdb_txn_finish(txn, is_confirm);
}

json_t *vm_sw_ovsdb_bridge_create_txn_new(const char *ovs_uuid, const char *bridge,
                                          const char *datapath_type, bool is_confirm)
{
    json_t *txn = vm_sw_ovsdb_txn_new("bridge create", bridge);
    json_t *br_row;
    json_array_append_new(txn, json_pack("{s:s, s:s, s:{s:s, s:s}, s:s}", "op", "insert", "table",
                                         "Interface", "row", "name", bridge, "type", "internal",
                                         "uuid-name", "iface"));
    json_array_append_new(txn, json_pack("{s:s, s:s, s:{s:s, s:[s, s]}, s:s}", "op", "insert",
                                         "table", "Port", "row", "name", bridge, "interfaces",
                                         "named-uuid", "iface", "uuid-name", "port"));
    br_row = json_pack("{s:s, s:[s, s]}", "name", bridge, "ports", "named-uuid", "port");
    if (datapath_type && *datapath_type)
        json_object_set_new(br_row, "datapath_type", json_string(datapath_type));
    json_array_append_new(txn, json_pack("{s:s, s:s, s:o, s:s}", "op", "insert", "table", "Bridge",
                                         "row", br_row, "uuid-name", "bridge"));
    json_array_append_new(txn, json_pack("{s:s, s:s, s:o, s:[[s, s, [s, [[s, s]]]]]}", "op",
                                         "mutate", "table", "Open_vSwitch", "where",
                                         vm_sw_ovsdb_uuid_where_new(ovs_uuid), "mutations",
                                         "bridges", "insert", "set", "named-uuid", "bridge"));
    return vm_sw_ovsdb_txn_finish(txn, is_confirm);
}

enum nfv_code vm_sw_ovsdb_txn_parse(json_t *result, enum vm_sw_ovsdb_txn_status *ret_status,
                                    long long *ret_next_cfg, char *ret_detail, size_t detail_size,
                                    struct nfv_err *err)
{
    enum vm_sw_ovsdb_txn_status status = VM_SW_OVSDB_TXN_OK;
    long long next_cfg = -1;
    size_t i;
    json_t *r;
    if (ret_detail && detail_size)
        ret_detail[0] = '\0';
    if (!json_is_array(result))
        return NFV_ERR(err, NFV_E_PARSE, "switch answered a transaction without a result array");
    json_array_foreach(result, i, r)
    {
        const char *e = json_string_value(json_object_get(r, "error"));
        json_t *count = json_object_get(r, "count");
        json_t *rows = json_object_get(r, "rows");
        if (e) {
            const char *details = json_string_value(json_object_get(r, "details"));
            if (ret_detail && detail_size)
                snprintf(ret_detail, detail_size, "operation %zu: %s: %s", i, e,
                         details ? details : "");
            /* A "wait" with timeout 0 whose condition is false. */
            status = strcmp(e, "timed out") == 0 ? VM_SW_OVSDB_TXN_RACE : VM_SW_OVSDB_TXN_REFUSED;
            break;
        }
        if (json_is_integer(count) && json_integer_value(count) == 0 &&
            status == VM_SW_OVSDB_TXN_OK)
            status = VM_SW_OVSDB_TXN_NO_ROW;
        if (json_is_array(rows) && json_array_size(rows) == 1) {
            json_t *nc = json_object_get(json_array_get(rows, 0), "next_cfg");
            if (json_is_integer(nc) && json_object_size(json_array_get(rows, 0)) == 1)
                next_cfg = json_integer_value(nc);
        }
    }
    *ret_status = status;
    if (ret_next_cfg)
        *ret_next_cfg = next_cfg;
    return NFV_OK;
}

bool vm_sw_ovsdb_cur_cfg_parse(json_t *updates, long long *ret)
{
    json_t *rows = json_object_get(updates, "Open_vSwitch");
    const char *uuid;
    json_t *row;
    json_object_foreach(rows, uuid, row)
    {
        json_t *cfg = json_object_get(json_object_get(row, "new"), "cur_cfg");
        if (json_is_integer(cfg)) {
            *ret = json_integer_value(cfg);
            return true;
        }
    }
    return false;
}
