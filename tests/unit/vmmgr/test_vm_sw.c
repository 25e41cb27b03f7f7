/*
 * test_vm_sw.c - the switch port without a switch: VLAN sets and checks
 * (vm_sw.c), the OVSDB driver's pure messages (vm_sw_ovsdb_msg.c) against
 * golden JSON in tests/data/vmmgr/ovsdb/ (VMMGR_REGEN_GOLDEN=1 rewrites them;
 * review the diff), canned ovsdb-server answers, and the fake driver behind
 * the same table (expected-vs-actual, repair).
 * The real ovsdb-server is exercised by tests/integration/ovs/test_ovs.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm_sw.h"
#include "vm_sw_ovsdb_priv.h"

static struct vm_sw_vlanset set_of(const char *text)
{
    struct vm_sw_vlanset s;
    assert_int_equal(vm_sw_vlanset_parse(text, "vlans", &s, NULL), NFV_OK);
    return s;
}

/* @got (consumed) must equal tests/data/vmmgr/ovsdb/@name.json as JSON. */
static void golden_json(const char *name, json_t *got)
{
    const char *src = getenv("VMMGR_SOURCE_DIR"), *regen = getenv("VMMGR_REGEN_GOLDEN");
    char path[1024];
    json_error_t jerr;
    json_t *want;
    snprintf(path, sizeof(path), "%s/tests/data/vmmgr/ovsdb/%s.json", src ? src : ".", name);
    if (regen && strcmp(regen, "1") == 0)
        assert_int_equal(json_dump_file(got, path, JSON_INDENT(2)), 0);
    want = json_load_file(path, 0, &jerr);
    if (!want)
        fail_msg("no golden file %s (VMMGR_REGEN_GOLDEN=1 writes it): %s", path, jerr.text);
    if (!json_equal(want, got)) {
        char *text = json_dumps(got, JSON_INDENT(2));
        fail_msg("%s differs; got:\n%s", path, text);
    }
    json_decref(want);
    json_decref(got);
}

static void test_vlanset(void **state)
{
    struct vm_sw_vlanset s;
    struct nfv_err err = {0};
    char buf[64];
    (void)state;
    s = set_of("100,200,300-305,4094,1");
    assert_int_equal(vm_sw_vlanset_count(&s), 10);
    vm_sw_vlanset_format(&s, buf, sizeof(buf));
    assert_string_equal(buf, "1,100,200,300-305,4094");
    assert_int_equal(vm_sw_vlanset_next(&s, 201), 300);
    assert_int_equal(vm_sw_vlanset_next(&s, 4095), -1);
    s = set_of("7,8");
    vm_sw_vlanset_format(&s, buf, sizeof(buf));
    assert_string_equal(buf, "7,8");
    s = set_of("");
    assert_int_equal(vm_sw_vlanset_count(&s), 0);
    /* Bad ids are named with the field; -1 and 4096 are not wrapped. */
    const char *bad[] = {"0", "4095", "4096", "-1", "100,x", "300-200", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(vm_sw_vlanset_parse(bad[i], "vlans", &s, &err), NFV_E_INVAL);
        assert_non_null(strstr(err.msg, "'vlans'"));
    }
    assert_int_equal(vm_sw_vlanset_parse("-1", "vlans", &s, &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "'vlans': -1 is not a VLAN id (1..4094)");
    assert_int_equal(vm_sw_vlan_check(4096, "tag", &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "'tag': 4096 is not a VLAN id (1..4094)");
    assert_int_equal(vm_sw_vlan_check(4094, "tag", NULL), NFV_OK);
    vm_sw_vlanset_clear(&s);
    assert_int_equal(vm_sw_trunk_vlans_check(&s, &err), NFV_E_INVAL);
    vm_sw_vlanset_add(&s, 0);
    assert_int_equal(vm_sw_trunk_vlans_check(&s, &err), NFV_E_INVAL);
    assert_int_equal(vm_sw_name_check("h1-trunk", "port", NULL), NFV_OK);
    assert_int_equal(vm_sw_name_check("a-name-longer-than-15", "port", &err), NFV_E_INVAL);
    assert_int_equal(vm_sw_name_check("x;rm", "bridge", &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'bridge'"));
    assert_int_equal(vm_sw_port_name_check("br0", "br0", &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "'port': 'br0' is the bridge's own internal port");
}

static void test_frame(void **state)
{
    const char *two = " {\"id\":1,\"result\":[\"}\\\"{\"]}{\"id\":2";
    (void)state;
    /* The first object ends after its "}"; braces inside strings and
     * escaped quotes do not count. */
    assert_int_equal(vm_sw_ovsdb_frame(two, strlen(two)),
                     strlen(" {\"id\":1,\"result\":[\"}\\\"{\"]}"));
    assert_int_equal(vm_sw_ovsdb_frame("{\"id\":2", 7), 0);
    assert_int_equal(vm_sw_ovsdb_frame("", 0), 0);
    assert_int_equal(vm_sw_ovsdb_frame("HTTP/1.1", 8), (size_t)-1);
}

static void test_golden_requests(void **state)
{
    struct vm_sw_vlanset actual = set_of("100,200"), add = set_of("300"), rm = set_of("200");
    struct vm_sw_vlanset trunks = set_of("100,200");
    (void)state;
    const char *one[] = {"h1"}, *two[] = {"h1", "h2"};
    json_t *txn;
    golden_json("read", vm_sw_ovsdb_read_txn_new("br0", one, 1));
    golden_json("read_two", vm_sw_ovsdb_read_txn_new("br0", two, 2));
    golden_json("read_all", vm_sw_ovsdb_read_txn_new("br0", NULL, 0));
    txn = vm_sw_ovsdb_txn_new("trunk change", "h1");
    vm_sw_ovsdb_port_create_append(txn, 0, "br0", "h1", "dummy", &trunks, -1);
    golden_json("trunk_create", vm_sw_ovsdb_txn_finish(txn, true));
    txn = vm_sw_ovsdb_txn_new("access create", "vm1");
    vm_sw_ovsdb_port_create_append(txn, 0, "br0", "vm1", NULL, NULL, 100);
    golden_json("access_create", vm_sw_ovsdb_txn_finish(txn, false));
    txn = vm_sw_ovsdb_txn_new("trunk change", "h1");
    vm_sw_ovsdb_trunk_change_append(txn, "5e8b3a6c-0000-4000-8000-000000000001", &actual, &add,
                                    &rm);
    golden_json("trunk_change", vm_sw_ovsdb_txn_finish(txn, true));
    /* A failover's VLAN move: 100 leaves h1 and joins h2 (which is new) in
     * one transaction. */
    struct vm_sw_vlanset h1_now = set_of("100,200"), h1_rm = set_of("100"), none = set_of("");
    txn = vm_sw_ovsdb_txn_new("trunk change", "br0");
    vm_sw_ovsdb_trunk_change_append(txn, "5e8b3a6c-0000-4000-8000-000000000001", &h1_now, &none,
                                    &h1_rm);
    vm_sw_ovsdb_port_create_append(txn, 1, "br0", "h2", "dummy", &h1_rm, -1);
    golden_json("vlan_move", vm_sw_ovsdb_txn_finish(txn, true));
    golden_json("tag_set",
                vm_sw_ovsdb_tag_set_txn_new("5e8b3a6c-0000-4000-8000-000000000002", 200, false));
    golden_json("port_delete", vm_sw_ovsdb_port_delete_txn_new(
                                   "br0", "5e8b3a6c-0000-4000-8000-000000000001", true));
    golden_json("bridge_create",
                vm_sw_ovsdb_bridge_create_txn_new("5e8b3a6c-0000-4000-8000-0000000000ff", "br0",
                                                  "netdev", false));
    golden_json("monitor", vm_sw_ovsdb_request_new("monitor", vm_sw_ovsdb_monitor_params_new(), 1));
    json_t *echo = json_pack("{s:s, s:[s], s:s}", "method", "echo", "params", "x", "id", "echo");
    golden_json("echo_reply", vm_sw_ovsdb_echo_reply_new(echo));
    json_decref(echo);
}

static json_t *load(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    if (!j)
        fail_msg("bad test JSON: %s", jerr.text);
    return j;
}

static void test_parse_answers(void **state)
{
    struct vm_sw_ovsdb_view v;
    enum vm_sw_ovsdb_txn_status st;
    long long cfg;
    char detail[128];
    (void)state;
    /* A read answer as ovsdb-server 3.1 gives it: a one-element set is a
     * bare atom, an empty tag is ["set", []]. */
    json_t *r = load(
        "[{\"rows\":[{\"_uuid\":[\"uuid\",\"o1\"],\"next_cfg\":4}]},"
        "{\"rows\":[{\"_uuid\":[\"uuid\",\"b1\"],\"ports\":[\"set\",[[\"uuid\",\"p1\"],"
        "[\"uuid\",\"p2\"]]]}]},"
        "{\"rows\":[{\"_uuid\":[\"uuid\",\"p1\"],\"name\":\"h1\",\"tag\":[\"set\",[]],"
        "\"trunks\":[\"set\",[100,200]]},"
        "{\"_uuid\":[\"uuid\",\"p2\"],\"name\":\"vm1\",\"tag\":100,\"trunks\":[\"set\",[]]},"
        "{\"_uuid\":[\"uuid\",\"p9\"],\"name\":\"h2\",\"tag\":[\"set\",[]],\"trunks\":300}]}]");
    assert_int_equal(vm_sw_ovsdb_view_parse(r, &v, NULL), NFV_OK);
    assert_true(v.has_ovs_row && v.has_bridge);
    assert_string_equal(v.ovs_uuid, "o1");
    assert_int_equal(v.next_cfg, 4);
    assert_int_equal(v.n_bridge_ports, 2);
    assert_int_equal(v.n_ports, 3);
    assert_int_equal(v.ports[0].info.tag, -1);
    assert_true(vm_sw_vlanset_equal(&v.ports[0].info.trunks, &(struct vm_sw_vlanset){0}) == false);
    assert_int_equal(v.ports[1].info.tag, 100);
    assert_true(vm_sw_vlanset_has(&v.ports[2].info.trunks, 300));
    assert_true(vm_sw_ovsdb_view_on_bridge(&v, "p2"));
    assert_false(vm_sw_ovsdb_view_on_bridge(&v, "p9"));
    vm_sw_ovsdb_view_free(&v);
    json_decref(r);

    r = load("[{},{\"count\":1},{\"count\":1},{\"rows\":[{\"next_cfg\":7}]}]");
    assert_int_equal(vm_sw_ovsdb_txn_parse(r, &st, &cfg, NULL, 0, NULL), NFV_OK);
    assert_int_equal(st, VM_SW_OVSDB_TXN_OK);
    assert_int_equal(cfg, 7);
    json_decref(r);
    r = load("[{},{\"error\":\"timed out\"},null,null]");
    assert_int_equal(vm_sw_ovsdb_txn_parse(r, &st, &cfg, detail, sizeof(detail), NULL), NFV_OK);
    assert_int_equal(st, VM_SW_OVSDB_TXN_RACE);
    assert_int_equal(cfg, -1);
    json_decref(r);
    r = load("[{},{\"count\":0}]");
    assert_int_equal(vm_sw_ovsdb_txn_parse(r, &st, NULL, NULL, 0, NULL), NFV_OK);
    assert_int_equal(st, VM_SW_OVSDB_TXN_NO_ROW);
    json_decref(r);
    r = load(
        "[{\"uuid\":[\"uuid\",\"x\"]},{\"error\":\"constraint violation\",\"details\":\"d\"}]");
    assert_int_equal(vm_sw_ovsdb_txn_parse(r, &st, NULL, detail, sizeof(detail), NULL), NFV_OK);
    assert_int_equal(st, VM_SW_OVSDB_TXN_REFUSED);
    assert_string_equal(detail, "operation 1: constraint violation: d");
    json_decref(r);
    r = load("{\"Open_vSwitch\":{\"o1\":{\"new\":{\"cur_cfg\":12}}}}");
    assert_true(vm_sw_ovsdb_cur_cfg_parse(r, &cfg));
    assert_int_equal(cfg, 12);
    json_decref(r);
}

static void test_fake_driver(void **state)
{
    const struct vm_sw_driver *d = vm_sw_driver_for("fake:");
    struct vm_sw_conn *c = NULL;
    struct nfv_err err = {0};
    struct vm_sw_vlanset vl = set_of("100,200");
    struct vm_sw_port_info p;
    struct vm_sw_port_state *st = NULL;
    size_t n_st = 0;
    unsigned n_add, n_rm, n_rep;
    (void)state;
    assert_ptr_equal(d, &vm_sw_fake);
    assert_ptr_equal(vm_sw_driver_for("unix:/x"), &vm_sw_ovsdb);
    assert_null(vm_sw_driver_for("http://x"));
    assert_int_equal(d->open("fake:", NULL, &c, NULL), NFV_OK);
    assert_int_equal(d->trunk_ensure(c, "tor", "h1", &vl, NULL, NULL, &err), NFV_E_NOENT);
    assert_string_equal(err.msg, "bridge 'tor' does not exist on switch 'fake:'");
    assert_int_equal(d->bridge_ensure(c, "tor", "netdev", NULL), NFV_OK);
    assert_int_equal(d->trunk_ensure(c, "tor", "h1", &vl, &n_add, &n_rm, NULL), NFV_OK);
    assert_int_equal(n_add, 2);
    vl = set_of("100,300");
    assert_int_equal(d->trunk_ensure(c, "tor", "h1", &vl, &n_add, &n_rm, NULL), NFV_OK);
    assert_true(n_add == 1 && n_rm == 1);
    assert_int_equal(d->access_ensure(c, "tor", "vm1", 100, NULL), NFV_OK);
    assert_int_equal(d->access_ensure(c, "tor", "h1", 100, &err), NFV_E_EXIST);
    assert_int_equal(d->trunk_ensure(c, "tor", "vm1", &vl, NULL, NULL, &err), NFV_E_EXIST);
    assert_int_equal(d->port_get(c, "tor", "h1", &p, NULL), NFV_OK);
    assert_true(vm_sw_vlanset_equal(&p.trunks, &vl));

    /* Expected against actual: h1 has 100,300 but 100,200,300 is wanted; h2
     * is missing; vm1 is not managed. Repair makes it clean. */
    struct vm_sw_expect exp[2] = {{"h1", set_of("100,200,300")}, {"h2", set_of("400")}};
    assert_int_equal(vm_sw_check(d, c, "tor", exp, 2, &st, &n_st, NULL), NFV_OK);
    assert_int_equal(n_st, 3);
    assert_true(st[0].is_drift && st[0].is_present);
    assert_true(vm_sw_vlanset_has(&st[0].missing, 200));
    assert_true(st[1].is_drift && !st[1].is_present);
    assert_true(!st[2].is_expected && !st[2].is_drift);
    assert_string_equal(st[2].port, "vm1");
    free(st);
    assert_int_equal(vm_sw_repair(d, c, "tor", exp, 2, &n_rep, NULL), NFV_OK);
    assert_int_equal(n_rep, 2);
    assert_int_equal(vm_sw_check(d, c, "tor", exp, 2, &st, &n_st, NULL), NFV_OK);
    assert_false(st[0].is_drift || st[1].is_drift);
    free(st);
    /* trunks_ensure is all or nothing: a bad VLAN set on the second port
     * leaves the first one alone; a port given twice is refused. */
    struct vm_sw_expect bad[2] = {{"h1", set_of("100")}, {"h2", {{0}}}};
    assert_int_equal(d->trunks_ensure(c, "tor", bad, 2, NULL, &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "port 'h2': 'vlans': a trunk needs at least one VLAN");
    bad[1] = bad[0];
    assert_int_equal(d->trunks_ensure(c, "tor", bad, 2, NULL, &err), NFV_E_INVAL);
    assert_int_equal(d->port_get(c, "tor", "h1", &p, NULL), NFV_OK);
    assert_true(vm_sw_vlanset_equal(&p.trunks, &exp[0].vlans));
    /* The move: 300 from h1 to h2. */
    struct vm_sw_expect move[2] = {{"h1", set_of("100,200")}, {"h2", set_of("300,400")}};
    assert_int_equal(d->trunks_ensure(c, "tor", move, 2, &n_rep, NULL), NFV_OK);
    assert_int_equal(n_rep, 2);
    assert_int_equal(d->port_get(c, "tor", "h2", &p, NULL), NFV_OK);
    assert_true(vm_sw_vlanset_equal(&p.trunks, &move[1].vlans));
    assert_int_equal(d->port_delete(c, "tor", "h2", false, NULL), NFV_OK);
    assert_int_equal(d->port_delete(c, "tor", "h2", false, &err), NFV_E_NOENT);
    assert_int_equal(d->port_delete(c, "tor", "h2", true, NULL), NFV_OK);
    d->close(c);
    d->close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vlanset),         cmocka_unit_test(test_frame),
        cmocka_unit_test(test_golden_requests), cmocka_unit_test(test_parse_answers),
        cmocka_unit_test(test_fake_driver),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
