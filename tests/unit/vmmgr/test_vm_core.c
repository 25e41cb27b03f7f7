/*
 * test_vm_core.c - vmmgrd's pure core: state rules, journal recovery
 * decisions, backoff, config parsing, request validation, metrics text and
 * simulated-host node files. No daemon, no libvirt.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "pin/topo.h"
#include "vm/vm_config.h"
#include "vm/vm_journal.h"
#include "vm/vm_metrics.h"
#include "vm/vm_req.h"
#include "vm/vm_state.h"
#include "vm/vm_topo.h"

static void test_state_names_round_trip(void **state)
{
    (void)state;
    for (int s = 0; s < VM_HOST__COUNT; s++)
        assert_int_equal(vm_host_state_from_string(vm_host_state_to_string(s)), s);
    for (int s = 0; s < VM_GUEST__COUNT; s++)
        assert_int_equal(vm_guest_state_from_string(vm_guest_state_to_string(s)), s);
    for (int s = 0; s < VM_OP__COUNT; s++)
        assert_int_equal(vm_op_kind_from_string(vm_op_kind_to_string(s)), s);
    for (int s = 0; s < VM_OPS__COUNT; s++)
        assert_int_equal(vm_op_state_from_string(vm_op_state_to_string(s)), s);
    assert_int_equal(vm_host_state_from_string("down"), VM_HOST__COUNT);
    assert_int_equal(vm_role_from_string("sby"), VM_ROLE_SBY);
    assert_int_equal(vm_scope_from_string("rack"), VM_SCOPE_RACK);
    assert_int_equal(vm_scope_from_string(NULL), VM_SCOPE__COUNT);
}

static void test_host_state_rules(void **state)
{
    struct nfv_err err;

    (void)state;
    /* A lost connection wins over the operator's state. */
    assert_int_equal(vm_host_state_effective(VM_HOST_UP, false), VM_HOST_UNREACHABLE);
    assert_int_equal(vm_host_state_effective(VM_HOST_MAINTENANCE, false), VM_HOST_UNREACHABLE);
    assert_int_equal(vm_host_state_effective(VM_HOST_MAINTENANCE, true), VM_HOST_MAINTENANCE);
    assert_int_equal(vm_host_state_effective(VM_HOST_UP, true), VM_HOST_UP);
    assert_int_equal(vm_host_state_check_request(VM_HOST_MAINTENANCE, &err), NFV_OK);
    assert_int_equal(vm_host_state_check_request(VM_HOST_UNREACHABLE, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'state'"));
    assert_int_equal(vm_host_state_check_request(VM_HOST__COUNT, &err), NFV_E_INVAL);
}

static void test_guest_lifecycle_is_idempotent(void **state)
{
    enum vm_guest_step step;
    enum vm_guest_state next;
    struct nfv_err err;

    (void)state;
    assert_int_equal(vm_guest_next(VM_GUEST_RUNNING, VM_ACT_START, &step, &next, &err), NFV_OK);
    assert_int_equal(step, VM_STEP_NOOP);
    assert_int_equal(vm_guest_next(VM_GUEST_STOPPED, VM_ACT_STOP, &step, &next, &err), NFV_OK);
    assert_int_equal(step, VM_STEP_NOOP);
    assert_int_equal(vm_guest_next(VM_GUEST_STOPPED, VM_ACT_START, &step, &next, &err), NFV_OK);
    assert_int_equal(step, VM_STEP_DO);
    assert_int_equal(next, VM_GUEST_RUNNING);
    assert_int_equal(vm_guest_next(VM_GUEST_RUNNING, VM_ACT_DELETE, &step, &next, &err), NFV_OK);
    assert_int_equal(next, VM_GUEST_DELETING);
    /* Refused: reboot of a stopped guest, anything during create/delete. */
    assert_int_equal(vm_guest_next(VM_GUEST_STOPPED, VM_ACT_REBOOT, &step, &next, &err),
                     NFV_E_STATE);
    assert_string_equal(err.msg, "cannot reboot a VM that is stopped");
    for (int a = 0; a < VM_ACT__COUNT; a++) {
        assert_int_equal(vm_guest_next(VM_GUEST_CREATING, a, &step, &next, &err), NFV_E_STATE);
        assert_int_equal(vm_guest_next(VM_GUEST_DELETING, a, &step, &next, &err), NFV_E_STATE);
    }
    /* A failed VM can be retried or deleted. */
    assert_int_equal(vm_guest_next(VM_GUEST_ERROR, VM_ACT_START, &step, &next, &err), NFV_OK);
    assert_int_equal(vm_guest_next(VM_GUEST_ERROR, VM_ACT_DELETE, &step, &next, &err), NFV_OK);
}

static void test_journal_decisions(void **state)
{
    struct vm_op_observed o = {0};

    (void)state;
    /* host add: the row is committed with the completion. */
    assert_int_equal(vm_journal_decide(VM_OP_HOST_ADD, &o), VM_RECOVER_ROLLBACK);
    o.is_db_present = true;
    assert_int_equal(vm_journal_decide(VM_OP_HOST_ADD, &o), VM_RECOVER_FINISH);
    assert_int_equal(vm_journal_decide(VM_OP_HOST_REMOVE, &o), VM_RECOVER_FINISH);
    /* VM ops cannot be judged without the host. */
    memset(&o, 0, sizeof(o));
    o.is_db_present = o.is_domain_defined = o.is_domain_running = true;
    assert_int_equal(vm_journal_decide(VM_OP_VM_CREATE, &o), VM_RECOVER_DEFER);
    o.is_host_reachable = true;
    assert_int_equal(vm_journal_decide(VM_OP_VM_CREATE, &o), VM_RECOVER_FINISH);
    /* A create that did not reach "running" never keeps its cores. */
    o.is_domain_running = false;
    assert_int_equal(vm_journal_decide(VM_OP_VM_CREATE, &o), VM_RECOVER_ROLLBACK);
    o.is_domain_defined = false;
    assert_int_equal(vm_journal_decide(VM_OP_VM_CREATE, &o), VM_RECOVER_ROLLBACK);
    assert_int_equal(vm_journal_decide(VM_OP_VM_DELETE, &o), VM_RECOVER_FINISH);
    assert_int_equal(vm_journal_decide(VM_OP_VM_REPIN, &o), VM_RECOVER_FINISH);
}

static void test_backoff_doubles_and_caps(void **state)
{
    unsigned d = 0;
    unsigned seen[8];

    (void)state;
    for (int i = 0; i < 8; i++)
        seen[i] = d = vm_backoff_next(d, 500, 30000);
    assert_int_equal(seen[0], 500);
    assert_int_equal(seen[1], 1000);
    assert_int_equal(seen[5], 16000);
    assert_int_equal(seen[6], 30000);
    assert_int_equal(seen[7], 30000);
    assert_int_equal(vm_backoff_next(0, 500, 200), 200); /* min above max: max wins */
}

static void test_config_defaults_and_file(void **state)
{
    struct vm_config c;
    struct nfv_err err = {0};
    const char *text = "# vmmgrd test config\n"
                       "socket = /tmp/x.sock\n"
                       "  socket_mode = 0600   # owner only\n"
                       "state_dir = \"/tmp/state dir\"\n"
                       "log_level = debug\n"
                       "max_body_bytes = 4096\n"
                       "healing_reserve = rack\n"
                       "\n";

    (void)state;
    vm_config_defaults(&c);
    assert_string_equal(c.socket_path, "/run/vmmgr/vmmgrd.sock");
    assert_int_equal(c.socket_mode, 0660);
    assert_int_equal(c.healing_reserve, VM_RESERVE_HOST); /* issue 4: keep it by default */
    assert_int_equal(vm_config_parse(&c, text, "t.conf", &err), NFV_OK);
    assert_string_equal(c.socket_path, "/tmp/x.sock");
    assert_int_equal(c.socket_mode, 0600);
    assert_string_equal(c.state_dir, "/tmp/state dir");
    assert_int_equal(c.log_level, NFV_LOG_DEBUG);
    assert_int_equal(c.max_body_size, 4096);
    assert_int_equal(c.healing_reserve, VM_RESERVE_RACK);
    assert_int_equal(vm_config_set(&c, "healing_reserve", "off", &err), NFV_OK);
    assert_int_equal(c.healing_reserve, VM_RESERVE_OFF);
    assert_string_equal(vm_reserve_to_string(c.healing_reserve), "off");
    assert_int_equal(vm_config_finish(&c, &err), NFV_OK);
    assert_string_equal(c.db_path, "/tmp/state dir/vmmgr.db");
}

static void test_config_errors_name_file_line_key(void **state)
{
    struct vm_config c;
    struct nfv_err err = {0};

    (void)state;
    vm_config_defaults(&c);
    assert_int_equal(vm_config_parse(&c, "socket = /a\nbogus = 1\n", "v.conf", &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "v.conf:2: 'bogus': unknown key");
    assert_int_equal(vm_config_parse(&c, "\n\nno equals sign\n", "v.conf", &err), NFV_E_PARSE);
    assert_string_equal(err.msg, "v.conf:3: expected 'key = value'");
    assert_int_equal(vm_config_parse(&c, "keepalive_count = -1\n", "v.conf", &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'keepalive_count'"));
    assert_int_equal(vm_config_parse(&c, "socket_mode = 0999\n", "v.conf", &err), NFV_E_INVAL);
    assert_int_equal(vm_config_parse(&c, "state_dir = relative/dir\n", "v.conf", &err),
                     NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "absolute"));
    assert_int_equal(vm_config_parse(&c, "log_level = loud\n", "v.conf", &err), NFV_E_INVAL);
    assert_int_equal(vm_config_parse(&c, "healing_reserve = zone\n", "v.conf", &err), NFV_E_INVAL);
    assert_string_equal(err.msg,
                        "v.conf:1: 'healing_reserve': 'zone' is not one of host, rack, off");
    assert_int_equal(vm_config_parse(&c, "socket = \"/unterminated\n", "v.conf", &err),
                     NFV_E_PARSE);
    /* TCP without a token is refused: it would open the API to the network. */
    vm_config_defaults(&c);
    assert_int_equal(vm_config_set(&c, "listen_tcp", "127.0.0.1:8080", &err), NFV_OK);
    assert_int_equal(vm_config_finish(&c, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "api_token_file"));
    assert_int_equal(vm_config_set(&c, "listen_tcp", "127.0.0.1:99999", &err), NFV_OK);
    assert_int_equal(vm_config_set(&c, "api_token_file", "/etc/t", &err), NFV_OK);
    assert_int_equal(vm_config_finish(&c, &err), NFV_E_INVAL);
}

/* The switch keys (issue 15): defaults, and refusals naming the key. */
static void test_config_switch(void **state)
{
    struct vm_config c;
    struct nfv_err err = {0};

    (void)state;
    vm_config_defaults(&c);
    assert_string_equal(c.switch_target, "");
    assert_string_equal(c.switch_bridge, "br-tor");
    assert_string_equal(c.host_bridge, "br-int");
    assert_true(c.is_switch_confirm);
    assert_int_equal(c.switch_timeout_ms, 5000);
    assert_int_equal(vm_config_finish(&c, &err), NFV_OK); /* no switch: fine */
    assert_int_equal(vm_config_parse(&c,
                                     "switch = unix:/run/openvswitch/db.sock\n"
                                     "switch_bridge = tor0\nswitch_confirm = no\n"
                                     "switch_iface_type = dummy\nswitch_timeout_ms = 2000\n",
                                     "s.conf", &err),
                     NFV_OK);
    assert_int_equal(vm_config_finish(&c, &err), NFV_OK);
    assert_false(c.is_switch_confirm);
    assert_string_equal(c.switch_bridge, "tor0");
    assert_int_equal(vm_config_set(&c, "switch", "ssl:1.2.3.4:6640", &err), NFV_OK);
    assert_int_equal(vm_config_finish(&c, &err), NFV_E_INVAL);
    assert_string_equal(
        err.msg, "'switch': 'ssl:1.2.3.4:6640' is not unix:PATH, tcp:HOST:PORT or fake:NAME");
    assert_int_equal(vm_config_set(&c, "switch", "tcp:127.0.0.1:6640", &err), NFV_OK);
    assert_int_equal(vm_config_set(&c, "switch_bridge", "a bridge", &err), NFV_OK);
    assert_int_equal(vm_config_finish(&c, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'switch_bridge'"));
    vm_config_defaults(&c);
    assert_int_equal(vm_config_set(&c, "host_bridge", "0123456789abcdef", &err), NFV_OK);
    assert_int_equal(vm_config_finish(&c, &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "'host_bridge': name must be 1..15 characters");
    assert_int_equal(vm_config_parse(&c, "switch_timeout_ms = 5\n", "s.conf", &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'switch_timeout_ms'"));
}

static void test_listen_split(void **state)
{
    char addr[64];
    unsigned port = 0;
    struct nfv_err err;

    (void)state;
    assert_int_equal(vm_config_split_listen("10.0.0.1:8774", addr, sizeof(addr), &port, &err),
                     NFV_OK);
    assert_string_equal(addr, "10.0.0.1");
    assert_int_equal(port, 8774);
    assert_int_equal(vm_config_split_listen(":80", addr, sizeof(addr), &port, &err), NFV_OK);
    assert_string_equal(addr, "");
    assert_int_equal(vm_config_split_listen("nocolon", addr, sizeof(addr), &port, &err),
                     NFV_E_INVAL);
}

static json_t *parse(const char *text)
{
    json_t *v = NULL;
    struct nfv_err err;

    assert_int_equal(vm_req_parse_object(text, strlen(text), &v, &err), NFV_OK);
    return v;
}

static void test_req_body_parsing(void **state)
{
    json_t *v = NULL;
    struct nfv_err err;

    (void)state;
    assert_int_equal(vm_req_parse_object("{\"a\":", 5, &v, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "malformed JSON"));
    assert_int_equal(vm_req_parse_object("[1]", 3, &v, &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "'body': must be a JSON object");
    assert_int_equal(vm_req_parse_object("{\"a\":1,\"a\":2}", 13, &v, &err), NFV_E_INVAL);
    /* An empty body is an empty object (DELETE with Content-Length: 0). */
    assert_int_equal(vm_req_parse_object("  ", 2, &v, &err), NFV_OK);
    assert_int_equal(json_object_size(v), 0);
    json_decref(v);
}

static void test_req_names(void **state)
{
    struct nfv_err err;
    char longname[80];

    (void)state;
    assert_int_equal(vm_req_name_check("name", "nat-act.1_a", &err), NFV_OK);
    assert_int_equal(vm_req_name_check("name", "", &err), NFV_E_INVAL);
    assert_int_equal(vm_req_name_check("name", "-x", &err), NFV_E_INVAL);
    assert_int_equal(vm_req_name_check("name", "a/b", &err), NFV_E_INVAL);
    assert_int_equal(vm_req_name_check("name", "a b", &err), NFV_E_INVAL);
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(vm_req_name_check("name", longname, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "longer than 63"));
}

static void test_req_host_spec(void **state)
{
    struct vm_host_spec s;
    struct nfv_err err;
    json_t *v;

    (void)state;
    v = parse("{\"name\":\"sim1\",\"uri\":\"test:///\",\"synthetic\":\"package:2 core:4 pu:2\","
              "\"reserved\":\"0-1\",\"labels\":{\"rack\":\"r1\"}}");
    assert_int_equal(vm_req_host_spec(v, &s, &err), NFV_OK);
    assert_string_equal(s.name, "sim1");
    assert_int_equal(s.topo_source, VM_TOPO_SYNTHETIC);
    assert_string_equal(s.topo, "package:2 core:4 pu:2");
    assert_string_equal(s.reserved, "0-1");
    assert_null(s.dedicated);
    assert_non_null(s.labels);
    json_decref(v);

    struct {
        const char *body, *want;
    } bad[] = {
        {"{\"name\":\"h\",\"uri\":\"qemu:///system\",\"colour\":\"red\"}",
         "'colour': unknown field"},
        {"{\"uri\":\"qemu:///system\"}", "'name': is required"},
        {"{\"name\":\"h\"}", "'uri': is required"},
        {"{\"name\":3,\"uri\":\"qemu:///system\"}", "'name': must be a string"},
        {"{\"name\":\"h\",\"uri\":\"xen:///\"}", "'uri': not an allowed libvirt URI"},
        {"{\"name\":\"h\",\"uri\":\"test:///\"}", "'synthetic': a test:// host needs"},
        {"{\"name\":\"h\",\"uri\":\"test:///\",\"synthetic\":\"pu:2\",\"hwloc_xml\":\"<x/>\"}",
         "'synthetic': give either"},
        {"{\"name\":\"h\",\"uri\":\"qemu:///system\",\"reserved\":\"3-1\"}", "'reserved'"},
        {"{\"name\":\"h\",\"uri\":\"qemu:///system\",\"labels\":{\"rack\":1}}",
         "'labels.rack': must be a string"},
        {"{\"name\":\"h\",\"uri\":\"qemu:///system\",\"labels\":[]}", "'labels': must be"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = parse(bad[i].body);
        assert_int_equal(vm_req_host_spec(v, &s, &err), NFV_E_INVAL);
        if (!strstr(err.msg, bad[i].want))
            fail_msg("case %zu: '%s' does not contain '%s'", i, err.msg, bad[i].want);
        json_decref(v);
    }
}

static void test_req_get_uint(void **state)
{
    json_t *v = parse("{\"n\":-3,\"m\":5,\"s\":\"5\"}");
    struct nfv_err err;
    uint64_t out = 77;

    (void)state;
    assert_int_equal(vm_req_get_uint(v, "n", true, 0, 10, &out, &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "'n': must not be negative");
    assert_int_equal(vm_req_get_uint(v, "m", true, 6, 10, &out, &err), NFV_E_INVAL);
    assert_int_equal(vm_req_get_uint(v, "s", true, 0, 10, &out, &err), NFV_E_INVAL);
    assert_int_equal(vm_req_get_uint(v, "absent", false, 0, 10, &out, &err), NFV_OK);
    assert_int_equal(out, 77);
    assert_int_equal(vm_req_get_uint(v, "m", true, 0, 10, &out, &err), NFV_OK);
    assert_int_equal(out, 5);
    json_decref(v);
}

static void test_metrics_text(void **state)
{
    struct vm_metrics_snapshot s;
    struct vm_metrics_ops ops;
    char *text;

    (void)state;
    memset(&s, 0, sizeof(s));
    memset(&ops, 0, sizeof(ops));
    s.hosts[VM_HOST_UP] = 20;
    s.hosts[VM_HOST_UNREACHABLE] = 1;
    s.pus_total[VM_POOL_DEDICATED] = 100;
    s.pus_used[VM_POOL_DEDICATED] = 30;
    s.vms[VM_GUEST_RUNNING][VM_ROLE_ACT] = 2;
    vm_metrics_observe(&ops, VM_OP_HOST_ADD, 0, 7);     /* <= 10 ms */
    vm_metrics_observe(&ops, VM_OP_HOST_ADD, 0, 120);   /* <= 250 ms */
    vm_metrics_observe(&ops, VM_OP_HOST_ADD, 0, 99999); /* +Inf */
    ops.drift_events = 3;
    text = vm_metrics_render(&s, &ops);
    assert_non_null(text);
    assert_non_null(strstr(text, "# TYPE vmmgr_hosts gauge\n"));
    assert_non_null(strstr(text, "vmmgr_hosts{state=\"up\"} 20\n"));
    assert_non_null(strstr(text, "vmmgr_hosts{state=\"unreachable\"} 1\n"));
    assert_non_null(strstr(text, "vmmgr_pus{pool=\"dedicated\",use=\"free\"} 70\n"));
    assert_non_null(strstr(text, "vmmgr_vms{state=\"running\",role=\"act\"} 2\n"));
    assert_non_null(strstr(text, "vmmgr_pin_drift_events_total 3\n"));
    /* Cumulative buckets: 1 at 10 ms, 2 from 250 ms on, 3 at +Inf. */
    assert_non_null(strstr(
        text,
        "vmmgr_operation_duration_seconds_bucket{op=\"host_add\",result=\"ok\",le=\"0.01\"} 1\n"));
    assert_non_null(strstr(
        text,
        "vmmgr_operation_duration_seconds_bucket{op=\"host_add\",result=\"ok\",le=\"0.25\"} 2\n"));
    assert_non_null(strstr(
        text,
        "vmmgr_operation_duration_seconds_bucket{op=\"host_add\",result=\"ok\",le=\"30\"} 2\n"));
    assert_non_null(strstr(
        text,
        "vmmgr_operation_duration_seconds_bucket{op=\"host_add\",result=\"ok\",le=\"+Inf\"} 3\n"));
    assert_non_null(
        strstr(text, "vmmgr_operation_duration_seconds_count{op=\"host_add\",result=\"ok\"} 3\n"));
    /* Kinds that never ran are left out. */
    assert_null(strstr(text, "op=\"vm_create\""));
    free(text);
}

static void test_node_xml_matches_topology(void **state)
{
    struct pin_topo *t = NULL;
    struct nfv_err err;
    char *xml;

    (void)state;
    /* 2 packages x 2 nodes x 16 cores x 2 threads = 128 PUs, 64 GiB per node. */
    assert_int_equal(pin_topo_new_synthetic(2, 2, 16, 2, 65536, &t, &err), NFV_OK);
    assert_int_equal(vm_topo_memory_mib(t), 4 * 65536);
    xml = vm_topo_node_xml(t, vm_topo_memory_mib(t));
    assert_non_null(xml);
    assert_non_null(strstr(xml, "<active>128</active>"));
    assert_non_null(strstr(xml, "<nodes>4</nodes>"));
    assert_non_null(strstr(xml, "<sockets>1</sockets>"));
    assert_non_null(strstr(xml, "<cores>16</cores>"));
    assert_non_null(strstr(xml, "<threads>2</threads>"));
    assert_non_null(strstr(xml, "<memory>268435456</memory>"));
    free(xml);
    pin_topo_unref(t);
    /* A topology without memory gets the documented default per node. */
    assert_int_equal(pin_topo_new_synthetic(1, 1, 4, 1, 0, &t, &err), NFV_OK);
    assert_int_equal(vm_topo_memory_mib(t), VM_TOPO_DEFAULT_NODE_MIB);
    pin_topo_unref(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_names_round_trip),
        cmocka_unit_test(test_host_state_rules),
        cmocka_unit_test(test_guest_lifecycle_is_idempotent),
        cmocka_unit_test(test_journal_decisions),
        cmocka_unit_test(test_backoff_doubles_and_caps),
        cmocka_unit_test(test_config_defaults_and_file),
        cmocka_unit_test(test_config_errors_name_file_line_key),
        cmocka_unit_test(test_config_switch),
        cmocka_unit_test(test_listen_split),
        cmocka_unit_test(test_req_body_parsing),
        cmocka_unit_test(test_req_names),
        cmocka_unit_test(test_req_host_spec),
        cmocka_unit_test(test_req_get_uint),
        cmocka_unit_test(test_metrics_text),
        cmocka_unit_test(test_node_xml_matches_topology),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
