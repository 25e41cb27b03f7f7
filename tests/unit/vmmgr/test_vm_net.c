/*
 * test_vm_net.c - vmmgrd's networks and switch code (vm_net.c) in process:
 * the real libvirt test driver for the hosts (test:///, in memory, no
 * libvirtd) and the switch port's in-memory switch (vm_sw_fake, target
 * "fake:"). What the integration test cannot reach through the API: the
 * VLAN move that healing and migration call (vm_net_move), as one job
 * would drive it, and the live-migration form that keeps both hosts'
 * trunks for a moment. The rest against a real Open vSwitch:
 * tests/integration/vmmgrd/test_net.sh, which also runs this program on
 * its switch (VMMGR_TEST_SWITCH=unix:PATH, VMMGR_TEST_SWITCH_BRIDGE=NAME:
 * trunk ports t1, t2 as dummy interfaces) and checks the outcome with
 * ovs-vsctl and ofproto/trace.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vm/vm_daemon.h"
#include "vm/vm_hv.h"
#include "vm_net.h"

struct fx {
    char dir[64];
    struct vm_config cfg;
    struct vm_daemon *d;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct nfv_err err;

    snprintf(f->dir, sizeof(f->dir), "/tmp/vmmgr-test-net-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    vm_config_defaults(&f->cfg);
    snprintf(f->cfg.state_dir, sizeof(f->cfg.state_dir), "%s/state", f->dir);
    snprintf(f->cfg.socket_path, sizeof(f->cfg.socket_path), "%s/s.sock", f->dir);
    f->cfg.healing_reserve = VM_RESERVE_OFF;
    const char *sw = getenv("VMMGR_TEST_SWITCH"), *br = getenv("VMMGR_TEST_SWITCH_BRIDGE");
    if (vm_config_set(&f->cfg, "switch", sw ? sw : "fake:", &err) != NFV_OK ||
        vm_config_set(&f->cfg, "switch_bridge_datapath", "netdev", &err) != NFV_OK ||
        (br && vm_config_set(&f->cfg, "switch_bridge", br, &err) != NFV_OK) ||
        (sw && vm_config_set(&f->cfg, "switch_iface_type", "dummy", &err) != NFV_OK) ||
        vm_config_finish(&f->cfg, &err) != NFV_OK)
        return -1;
    nfv_log_set_level(NFV_LOG_ERR);
    if (vm_hv_libvirt_init(&err) != NFV_OK ||
        vm_daemon_new(&f->cfg, &vm_hv_libvirt, &f->d, &err) != NFV_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    for (int i = 0; i < 500 && vm_daemon_is_recovering(f->d); i++)
        usleep(10000);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];

    vm_daemon_free(f->d);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", f->dir);
    free(f);
    return 0;
}

/* Calls an API function that takes a JSON body and must succeed. */
typedef enum nfv_code (*body_fn)(struct vm_daemon *d, const json_t *body, json_t **ret,
                                 struct nfv_err *err);

static void call_ok(struct vm_daemon *d, body_fn fn, const char *text)
{
    json_t *b = json_loads(text, 0, NULL), *r = NULL;
    struct nfv_err err = {0};

    assert_non_null(b);
    if (fn(d, b, &r, &err) != NFV_OK)
        fail_msg("%s: %s", text, err.msg);
    json_decref(r);
    json_decref(b);
}

static enum nfv_code vm_create(struct vm_daemon *d, const json_t *body, json_t **ret,
                               struct nfv_err *err)
{
    return vm_daemon_vm_create(d, body, false, ret, err);
}

/* "present actual/expected" of trunk @port as GET /v1/switch shows it. */
static void port_is(struct vm_daemon *d, const char *port, const char *want)
{
    json_t *sw = NULL, *p;
    struct nfv_err err = {0};
    char got[128] = "(not listed)";
    size_t i;

    assert_int_equal(vm_daemon_switch_show(d, &sw, &err), NFV_OK);
    json_array_foreach(json_object_get(sw, "ports"), i, p)
    {
        if (strcmp(json_string_value(json_object_get(p, "port")), port) != 0)
            continue;
        snprintf(got, sizeof(got), "%s %s/%s",
                 json_is_true(json_object_get(p, "present")) ? "present" : "absent",
                 json_string_value(json_object_get(p, "actual")),
                 json_string_value(json_object_get(p, "expected")));
    }
    json_decref(sw);
    if (strcmp(got, want) != 0)
        fail_msg("port %s: got '%s', want '%s'", port, got, want);
}

static int64_t host_id(struct vm_daemon *d, const char *name)
{
    int64_t id = 0;

    vm_d_lock(d);
    for (size_t i = 0; i < d->n_hosts; i++)
        if (strcmp(d->hosts[i]->name, name) == 0)
            id = d->hosts[i]->id;
    vm_d_unlock(d);
    assert_true(id > 0);
    return id;
}

/*
 * What healing/migration do: a job claims the VM, leaves the lock, moves
 * its VLANs (journal step "switched"), comes back and re-homes the VM.
 * @is_keep_from: the live-migration half (both trunks carry the VLANs).
 */
static enum nfv_code move(struct vm_daemon *d, const char *vm_name, const char *from,
                          const char *to, bool is_keep_from, bool is_rehome)
{
    int64_t from_id = host_id(d, from), to_id = host_id(d, to);
    struct nfv_err err = {0};
    struct vm_job job;
    struct vm_rt *vm;
    enum nfv_code code;

    vm_d_lock(d);
    vm = vm_d_vm_find(d, vm_name);
    assert_non_null(vm);
    assert_int_equal(
        vm_job_begin(d, &job, VM_OP_VM_REPIN, "move", vm, NULL, false, NULL, NULL, &err), NFV_OK);
    vm_job_leave(&job);
    code = vm_net_move(d, &job, vm, from_id, to_id, is_keep_from, "switched", &err);
    vm_job_reenter(&job);
    if (code == NFV_OK && is_rehome)
        vm->host = vm_d_host_find_id(d, to_id);
    vm_job_end(&job, VM_OPS_DONE, NULL, false);
    vm_d_unlock(d);
    return code;
}

static void test_vlans_follow_moves(void **state)
{
    struct fx *f = *state;
    json_t *r = NULL;
    struct nfv_err err = {0};

    call_ok(f->d, vm_daemon_host_add,
            "{\"name\":\"h1\",\"uri\":\"test:///\",\"synthetic\":\"package:1 core:4 pu:1\","
            "\"switch_port\":\"t1\"}");
    call_ok(f->d, vm_daemon_host_add,
            "{\"name\":\"h2\",\"uri\":\"test:///\",\"synthetic\":\"package:1 core:4 pu:1\","
            "\"switch_port\":\"t2\"}");
    call_ok(f->d, vm_daemon_net_create, "{\"name\":\"n100\",\"vlan\":100}");
    call_ok(f->d, vm_daemon_net_create, "{\"name\":\"n200\",\"vlan\":200}");
    call_ok(f->d, vm_create,
            "{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":64,\"host\":\"h1\","
            "\"nics\":[{\"network\":\"n100\"}]}");
    call_ok(f->d, vm_create,
            "{\"name\":\"b\",\"vcpus\":1,\"memory_mib\":64,\"host\":\"h1\","
            "\"nics\":[{\"network\":\"n200\"},{\"network\":\"n100\"}]}");
    port_is(f->d, "t1", "present 100,200/100,200");
    port_is(f->d, "t2", "absent /");

    /* Failover of a: 100 stays on t1 (b uses it) and reaches t2. */
    assert_int_equal(move(f->d, "a", "h1", "h2", false, false), NFV_OK);
    port_is(f->d, "t1", "present 100,200/100,200");
    port_is(f->d, "t2", "present 100/100");
    /* Counted on h2 even before the caller re-homed it, and after. */
    assert_int_equal(move(f->d, "a", "h1", "h2", false, true), NFV_OK);
    port_is(f->d, "t2", "present 100/100");

    /* Live migration of b: both trunks carry its VLANs, then only h2's. */
    assert_int_equal(move(f->d, "b", "h1", "h2", true, false), NFV_OK);
    port_is(f->d, "t1", "present 100,200/100,200");
    port_is(f->d, "t2", "present 100,200/100,200");
    assert_int_equal(move(f->d, "b", "h1", "h2", false, true), NFV_OK);
    port_is(f->d, "t1", "absent /"); /* no VLAN left: no trunk port */
    port_is(f->d, "t2", "present 100,200/100,200");

    /* Networks in use stay; a delete drops what the last VM used. */
    assert_int_equal(vm_daemon_net_delete(f->d, "n200", &r, &err), NFV_E_STATE);
    assert_non_null(strstr(err.msg, "'b'"));
    assert_int_equal(vm_daemon_vm_delete(f->d, "b", &r, &err), NFV_OK);
    json_decref(r);
    port_is(f->d, "t2", "present 100/100");
    assert_int_equal(vm_daemon_net_delete(f->d, "n200", &r, &err), NFV_OK);
    json_decref(r);
}

/* A VM without networks never touches the switch; unknown networks are
 * refused before anything is placed. */
static void test_refusals(void **state)
{
    struct fx *f = *state;
    json_t *b, *r = NULL;
    struct nfv_err err = {0};

    call_ok(f->d, vm_daemon_host_add,
            "{\"name\":\"h1\",\"uri\":\"test:///\",\"synthetic\":\"package:1 core:4 pu:1\","
            "\"switch_port\":\"t1\"}");
    b = json_loads("{\"name\":\"x\",\"vcpus\":1,\"memory_mib\":64,"
                   "\"nics\":[\"bridge:br0\",{\"network\":\"nope\"}]}",
                   0, NULL);
    assert_int_equal(vm_daemon_vm_create(f->d, b, false, &r, &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "'nics[1].network': unknown network 'nope'");
    json_decref(b);
    b = json_loads("{\"name\":\"n\",\"vlan\":4095}", 0, NULL);
    assert_int_equal(vm_daemon_net_create(f->d, b, &r, &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "'vlan': 4095 is not a VLAN id (1..4094)");
    json_decref(b);
    call_ok(f->d, vm_create, "{\"name\":\"plain\",\"vcpus\":1,\"memory_mib\":64}");
    port_is(f->d, "t1", "absent /");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_vlans_follow_moves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
