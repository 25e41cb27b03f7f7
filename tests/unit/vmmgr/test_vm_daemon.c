/*
 * test_vm_daemon.c - vmmgrd's host manager against a fake host driver: a
 * lost connection marks the host unreachable (event, metrics), reconnects
 * with backoff while the fake refuses, and comes back up when it answers;
 * the journal and event log survive a restart; a graceful stop whose guest
 * takes its time does not block readers or other VMs (the VM is busy, not
 * the daemon). The driver table (vm_hv.h) is what makes this testable
 * without killing a real libvirtd or waiting on a real guest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vm/vm_config.h"
#include "vm/vm_daemon.h"
#include "vm/vm_migrate.h"

/* ---- the fake driver ---- */

struct vm_hv_conn {
    struct vm_hv_events events;
    void *opaque;
    atomic_bool is_alive;
};

static struct {
    atomic_int n_opens;
    atomic_bool is_refusing;
    struct vm_hv_conn *last;
    /* One domain state for every domain: running until a stop; a graceful
     * stop only asks (ACPI) and the guest powers off when the test says. */
    atomic_bool is_running;
    atomic_bool is_acpi_pending;
    atomic_bool is_guest_slow;
    /* A libvirtd that accepts and never answers: open() hangs this long. */
    atomic_int open_hang_ms;
} fake;

static enum nfv_code f_open(const char *uri, const struct vm_hv_open_opts *opts,
                            struct vm_hv_conn **ret, struct nfv_err *err)
{
    struct vm_hv_conn *c;

    atomic_fetch_add(&fake.n_opens, 1);
    if (atomic_load(&fake.open_hang_ms))
        usleep((useconds_t)atomic_load(&fake.open_hang_ms) * 1000);
    if (atomic_load(&fake.is_refusing))
        return NFV_ERR(err, NFV_E_UNREACHABLE, "'%s': connection refused", uri);
    c = calloc(1, sizeof(*c));
    c->events = *opts->events;
    c->opaque = opts->opaque;
    atomic_store(&c->is_alive, true);
    fake.last = c;
    *ret = c;
    return NFV_OK;
}

static void f_close(struct vm_hv_conn *c)
{
    if (fake.last == c)
        fake.last = NULL;
    free(c);
}

static bool f_is_alive(struct vm_hv_conn *c)
{
    return atomic_load(&c->is_alive);
}

static enum nfv_code f_node_info(struct vm_hv_conn *c, struct vm_hv_node_info *ret,
                                 struct nfv_err *err)
{
    (void)c;
    (void)err;
    memset(ret, 0, sizeof(*ret));
    ret->n_cpus = 8;
    ret->memory_kib = 8u << 20;
    return NFV_OK;
}

static enum nfv_code f_domain_list(struct vm_hv_conn *c, vm_hv_domain_cb cb, void *opaque,
                                   struct nfv_err *err)
{
    (void)c;
    (void)cb;
    (void)opaque;
    (void)err;
    return NFV_OK;
}

static enum nfv_code f_dom_ok(struct vm_hv_conn *c, const char *name, struct nfv_err *err)
{
    (void)c;
    (void)name;
    (void)err;
    return NFV_OK;
}

static enum nfv_code f_define(struct vm_hv_conn *c, const char *xml, struct nfv_err *err)
{
    (void)xml;
    return f_dom_ok(c, NULL, err);
}

static enum nfv_code f_start(struct vm_hv_conn *c, const char *name, struct nfv_err *err)
{
    atomic_store(&fake.is_running, true);
    return f_dom_ok(c, name, err);
}

static enum nfv_code f_stop(struct vm_hv_conn *c, const char *name, bool is_force,
                            struct nfv_err *err)
{
    if (is_force || !atomic_load(&fake.is_guest_slow))
        atomic_store(&fake.is_running, false);
    else
        atomic_store(&fake.is_acpi_pending, true);
    return f_dom_ok(c, name, err);
}

static enum nfv_code f_state(struct vm_hv_conn *c, const char *name, enum vm_hv_dom_state *ret,
                             struct nfv_err *err)
{
    *ret = atomic_load(&fake.is_running) ? VM_HV_DOM_RUNNING : VM_HV_DOM_SHUTOFF;
    return f_dom_ok(c, name, err);
}

/* No pins to read: the daemon only warns (pins are not this test's topic). */
static enum nfv_code f_vcpu_pins(struct vm_hv_conn *c, const char *name, unsigned n_vcpus,
                                 struct pin_cpuset *ret_pus, struct nfv_err *err)
{
    (void)c;
    (void)n_vcpus;
    (void)ret_pus;
    return NFV_ERR(err, NFV_E_HYPERVISOR, "'%s': the fake has no pins", name);
}

static const struct vm_hv_driver fake_driver = {
    .name = "fake",
    .open = f_open,
    .close = f_close,
    .is_alive = f_is_alive,
    .node_info = f_node_info,
    .domain_list = f_domain_list,
    .domain_define = f_define,
    .domain_undefine = f_dom_ok,
    .domain_start = f_start,
    .domain_stop = f_stop,
    .domain_reboot = f_dom_ok,
    .domain_state = f_state,
    .vcpu_pins = f_vcpu_pins,
};

/* ---- fixture ---- */

struct fx {
    char dir[64];
    struct vm_config cfg;
    struct vm_daemon *d;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct nfv_err err;

    snprintf(f->dir, sizeof(f->dir), "/tmp/vmmgr-test-daemon-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    vm_config_defaults(&f->cfg);
    snprintf(f->cfg.state_dir, sizeof(f->cfg.state_dir), "%s/state", f->dir);
    snprintf(f->cfg.socket_path, sizeof(f->cfg.socket_path), "%s/s.sock", f->dir);
    f->cfg.reconnect_min_ms = 50;
    f->cfg.reconnect_max_ms = 200;
    if (vm_config_finish(&f->cfg, &err) != NFV_OK)
        return -1;
    nfv_log_set_level(NFV_LOG_ERR);
    atomic_store(&fake.is_refusing, false);
    atomic_store(&fake.n_opens, 0);
    atomic_store(&fake.open_hang_ms, 0);
    if (vm_daemon_new(&f->cfg, &fake_driver, &f->d, &err) != NFV_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
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

static json_t *body(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);

    assert_non_null(v);
    return v;
}

static const char *host_state(struct vm_daemon *d, const char *name, json_t **keep)
{
    struct nfv_err err;

    json_decref(*keep);
    *keep = NULL;
    assert_int_equal(vm_daemon_host_show(d, name, keep, &err), NFV_OK);
    return json_string_value(json_object_get(*keep, "state"));
}

/* Polls for up to 3 s. */
static bool wait_state(struct vm_daemon *d, const char *name, const char *want)
{
    json_t *keep = NULL;
    bool is_ok = false;

    for (int i = 0; i < 300 && !is_ok; i++) {
        is_ok = strcmp(host_state(d, name, &keep), want) == 0;
        if (!is_ok)
            usleep(10000);
    }
    json_decref(keep);
    return is_ok;
}

static bool has_event(struct vm_daemon *d, const char *type, const char *object)
{
    json_t *ev = NULL, *e;
    struct nfv_err err;
    bool is_found = false;
    size_t i;

    assert_int_equal(vm_daemon_events(d, 0, 1000, 0, &ev, &err), NFV_OK);
    json_array_foreach(json_object_get(ev, "events"), i, e) is_found |=
        strcmp(json_string_value(json_object_get(e, "type")), type) == 0 &&
        strcmp(json_string_value(json_object_get(e, "object")), object) == 0;
    json_decref(ev);
    return is_found;
}

static void test_lost_host_reconnects_with_backoff(void **state)
{
    struct fx *f = *state;
    struct nfv_err err;
    json_t *b = body("{\"name\":\"far\",\"uri\":\"qemu+ssh://far.example/system\","
                     "\"synthetic\":\"package:1 core:4 pu:2\",\"reserved\":\"0-1\"}");
    json_t *r = NULL, *keep = NULL;
    char *metrics = NULL;
    int opens;

    assert_int_equal(vm_daemon_host_add(f->d, b, &r, &err), NFV_OK);
    json_decref(r);
    json_decref(b);
    assert_string_equal(host_state(f->d, "far", &keep), "up");
    assert_non_null(fake.last);

    /* The connection dies (libvirt's close callback) and the host refuses
     * new ones for a while. */
    atomic_store(&fake.is_refusing, true);
    opens = atomic_load(&fake.n_opens);
    atomic_store(&fake.last->is_alive, false);
    fake.last->events.on_lost(fake.last->opaque, fake.last, "end of file");
    assert_true(wait_state(f->d, "far", "unreachable"));
    assert_true(has_event(f->d, "host_unreachable", "far"));
    /* Retries happen, spaced by the backoff (50 ms doubling to 200 ms):
     * in 600 ms a handful, not hundreds. */
    usleep(600 * 1000);
    assert_in_range(atomic_load(&fake.n_opens) - opens, 2, 8);

    /* The host answers again: up, with an event; the metrics count one loss. */
    atomic_store(&fake.is_refusing, false);
    assert_true(wait_state(f->d, "far", "up"));
    assert_true(has_event(f->d, "host_reconnected", "far"));
    assert_int_equal(vm_daemon_metrics(f->d, &metrics, &err), NFV_OK);
    assert_non_null(strstr(metrics, "vmmgr_host_disconnects_total 1\n"));
    free(metrics);

    /* Maintenance is the operator's; a lost connection still wins. */
    b = body("{\"state\":\"maintenance\"}");
    assert_int_equal(vm_daemon_host_update(f->d, "far", b, &r, &err), NFV_OK);
    json_decref(r);
    json_decref(b);
    assert_string_equal(host_state(f->d, "far", &keep), "maintenance");
    json_decref(keep);
}

static void test_unknown_state_and_fields_refused(void **state)
{
    struct fx *f = *state;
    struct nfv_err err;
    json_t *r = NULL;
    json_t *b = body("{\"state\":\"unreachable\"}");

    assert_int_equal(vm_daemon_host_update(f->d, "nohost", b, &r, &err), NFV_E_INVAL);
    json_decref(b);
    b = body("{\"state\":\"up\",\"extra\":1}");
    assert_int_equal(vm_daemon_host_update(f->d, "nohost", b, &r, &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "'extra': unknown field");
    json_decref(b);
    b = body("{\"state\":\"up\"}");
    assert_int_equal(vm_daemon_host_update(f->d, "nohost", b, &r, &err), NFV_E_NOENT);
    json_decref(b);
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static json_t *vm_get(struct vm_daemon *d, const char *name)
{
    struct nfv_err err;
    json_t *v = NULL;

    assert_int_equal(vm_daemon_vm_show(d, name, &v, &err), NFV_OK);
    return v;
}

struct stopper {
    struct vm_daemon *d;
    enum nfv_code code;
    struct nfv_err err;
};

static void *stop_main(void *arg)
{
    struct stopper *s = arg;
    json_t *r = NULL;

    s->code = vm_daemon_vm_action(s->d, "slow", "stop", NULL, &r, &s->err);
    json_decref(r);
    return NULL;
}

static void test_graceful_stop_does_not_block_the_daemon(void **state)
{
    struct fx *f = *state;
    struct nfv_err err;
    struct stopper st = {.d = f->d};
    json_t *b = body("{\"name\":\"h1\",\"uri\":\"qemu+ssh://h1.example/system\","
                     "\"synthetic\":\"package:1 core:4 pu:2\",\"reserved\":\"0-1\"}");
    json_t *r = NULL, *v;
    char *text = NULL;
    pthread_t t;
    int64_t t0;

    assert_int_equal(vm_daemon_host_add(f->d, b, &r, &err), NFV_OK);
    json_decref(r);
    json_decref(b);
    for (int i = 0; i < 2; i++) {
        b = body(i ? "{\"name\":\"other\",\"vcpus\":1,\"memory_mib\":64}"
                   : "{\"name\":\"slow\",\"vcpus\":1,\"memory_mib\":64}");
        assert_int_equal(vm_daemon_vm_create(f->d, b, false, &r, &err), NFV_OK);
        json_decref(r);
        json_decref(b);
    }

    /* The guest ignores ACPI for now: the stop waits (up to 10 s). */
    atomic_store(&fake.is_guest_slow, true);
    atomic_store(&fake.is_acpi_pending, false);
    assert_int_equal(pthread_create(&t, NULL, stop_main, &st), 0);
    for (int i = 0; i < 300 && !atomic_load(&fake.is_acpi_pending); i++)
        usleep(10000);
    assert_true(atomic_load(&fake.is_acpi_pending));

    /* Readers answer at once, and say what the VM is busy with. */
    t0 = mono_ms();
    assert_int_equal(vm_daemon_vm_list_text(f->d, &text, &err), NFV_OK);
    assert_non_null(strstr(text, "\"slow\""));
    free(text);
    v = vm_get(f->d, "slow");
    assert_string_equal(json_string_value(json_object_get(v, "busy")), "stop");
    assert_string_equal(json_string_value(json_object_get(v, "state")), "running");
    json_decref(v);
    assert_in_range(mono_ms() - t0, 0, 500);
    /* Another action on the same VM is refused, not queued behind it. */
    assert_int_equal(vm_daemon_vm_action(f->d, "slow", "reboot", NULL, &r, &err), NFV_E_STATE);
    assert_non_null(strstr(err.msg, "busy: stop in progress"));
    assert_int_equal(vm_daemon_vm_delete(f->d, "slow", &r, &err), NFV_E_STATE);
    /* Other VMs' actions proceed meanwhile. */
    t0 = mono_ms();
    b = body("{\"force\":true}");
    assert_int_equal(vm_daemon_vm_action(f->d, "other", "stop", b, &r, &err), NFV_OK);
    json_decref(b);
    json_decref(r);
    assert_in_range(mono_ms() - t0, 0, 500);
    v = vm_get(f->d, "other");
    assert_string_equal(json_string_value(json_object_get(v, "state")), "stopped");
    assert_true(json_is_null(json_object_get(v, "busy")));
    json_decref(v);

    /* The guest powers off: the stop finishes, journaled, the VM idle. */
    atomic_store(&fake.is_running, false);
    pthread_join(t, NULL);
    assert_int_equal(st.code, NFV_OK);
    v = vm_get(f->d, "slow");
    assert_string_equal(json_string_value(json_object_get(v, "state")), "stopped");
    assert_true(json_is_null(json_object_get(v, "busy")));
    json_decref(v);
    assert_true(has_event(f->d, "vm_stopped", "slow"));
    assert_int_equal(vm_daemon_vm_delete(f->d, "slow", &r, &err), NFV_OK);
    json_decref(r);
    atomic_store(&fake.is_guest_slow, false);
}

/* ---- a hanging host add blocks nothing else ---- */

struct add_arg {
    struct vm_daemon *d;
    enum nfv_code code;
};

static void *add_main(void *arg)
{
    struct add_arg *a = arg;
    json_t *b = json_loads("{\"name\":\"slow\",\"uri\":\"test:///\","
                           "\"synthetic\":\"package:1 core:8 pu:1\"}",
                           0, NULL);
    json_t *ret = NULL;
    struct nfv_err err;

    a->code = vm_daemon_host_add(a->d, b, &ret, &err);
    json_decref(ret);
    json_decref(b);
    return NULL;
}

/*
 * Issue 9: a host whose libvirtd accepts and never answers froze /v1/status,
 * /v1/vms, /v1/hosts and /metrics for as long as the connect hung. Now the
 * add is a job that leaves the daemon lock around libvirt: while it hangs
 * for 5 s, every reader answers in under 100 ms, a second add of the same
 * name is refused at once, and the add completes afterwards.
 */
static void test_hanging_host_add_blocks_no_reader(void **state)
{
    struct fx *f = *state;
    struct add_arg a = {f->d, NFV_E_INTERNAL};
    struct nfv_err err;
    json_t *ret = NULL, *again;
    char *text = NULL;
    pthread_t t;
    int64_t t0, worst = 0;

    atomic_store(&fake.open_hang_ms, 5000);
    assert_int_equal(pthread_create(&t, NULL, add_main, &a), 0);
    usleep(300 * 1000); /* the add is inside open() now */
    for (int i = 0; i < 5; i++) {
        t0 = mono_ms();
        assert_int_equal(vm_daemon_status(f->d, &ret, &err), NFV_OK);
        json_decref(ret);
        assert_int_equal(vm_daemon_host_list(f->d, &ret, &err), NFV_OK);
        json_decref(ret);
        assert_int_equal(vm_daemon_vm_list_text(f->d, &text, &err), NFV_OK);
        free(text);
        assert_int_equal(vm_daemon_metrics(f->d, &text, &err), NFV_OK);
        free(text);
        if (mono_ms() - t0 > worst)
            worst = mono_ms() - t0;
        usleep(200 * 1000);
    }
    assert_true(worst < 100);
    /* The name is taken by the add in progress. */
    again = body("{\"name\":\"slow\",\"uri\":\"test:///\","
                 "\"synthetic\":\"package:1 core:8 pu:1\"}");
    assert_int_equal(vm_daemon_host_add(f->d, again, &ret, &err), NFV_E_EXIST);
    json_decref(again);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(a.code, NFV_OK);
    atomic_store(&fake.open_hang_ms, 0);
    assert_int_equal(vm_daemon_host_show(f->d, "slow", &ret, &err), NFV_OK);
    json_decref(ret);
}

/* ---- events by UUID, defaults on a bare host ---- */

static void add_bare_host(struct vm_daemon *d)
{
    struct nfv_err err;
    json_t *r = NULL;
    /* No "reserved": a bare host, as an operator's first try would be. */
    json_t *b = body("{\"name\":\"bare\",\"uri\":\"qemu+ssh://bare.example/system\","
                     "\"synthetic\":\"package:1 core:4 pu:2\"}");

    assert_int_equal(vm_daemon_host_add(d, b, &r, &err), NFV_OK);
    json_decref(r);
    json_decref(b);
}

/*
 * Issue 9: "a host added without --reserved makes every vm create without
 * --host fail". Emulator threads now float over the VM's own PUs there
 * (Nova's default); an explicit "reserved" stays an error naming the field.
 */
static void test_bare_host_takes_default_creates(void **state)
{
    struct fx *f = *state;
    struct nfv_err err;
    json_t *r = NULL, *b, *plan;

    add_bare_host(f->d);
    b = body("{\"name\":\"plain\",\"vcpus\":2,\"memory_mib\":64}");
    assert_int_equal(vm_daemon_vm_create(f->d, b, false, &r, &err), NFV_OK);
    json_decref(b);
    plan = json_object_get(r, "plan");
    assert_string_equal(json_string_value(json_object_get(plan, "emulator_policy")), "vcpus");
    json_decref(r);
    b = body("{\"name\":\"strict\",\"vcpus\":1,\"memory_mib\":64,\"emulator\":\"reserved\"}");
    assert_int_not_equal(vm_daemon_vm_create(f->d, b, false, &r, &err), NFV_OK);
    assert_non_null(strstr(err.msg, "reserved"));
    json_decref(b);
}

/*
 * Issue 9: libvirt events were matched by domain name, so a stale event
 * about a deleted domain hit a just re-created VM of the same name
 * (vm_lost, state error). They are matched by UUID now: each create gets
 * a new one.
 */
static void test_stale_event_does_not_hit_a_recreated_vm(void **state)
{
    struct fx *f = *state;
    struct nfv_err err;
    char old_uuid[64];
    json_t *r = NULL, *b, *v;

    add_bare_host(f->d);
    b = body("{\"name\":\"again\",\"vcpus\":1,\"memory_mib\":64}");
    assert_int_equal(vm_daemon_vm_create(f->d, b, false, &r, &err), NFV_OK);
    snprintf(old_uuid, sizeof(old_uuid), "%s", json_string_value(json_object_get(r, "uuid")));
    assert_int_equal(strlen(old_uuid), 36);
    json_decref(r);
    assert_int_equal(vm_daemon_vm_delete(f->d, "again", &r, &err), NFV_OK);
    json_decref(r);
    assert_int_equal(vm_daemon_vm_create(f->d, b, false, &r, &err), NFV_OK);
    json_decref(b);
    assert_string_not_equal(json_string_value(json_object_get(r, "uuid")), old_uuid);
    json_decref(r);
    /* libvirt's event thread reports the old domain's undefine late. */
    assert_non_null(fake.last);
    fake.last->events.on_domain(fake.last->opaque, fake.last, "again", old_uuid,
                                VM_HV_EV_UNDEFINED);
    usleep(600 * 1000); /* the monitor handles notes every 200 ms */
    v = vm_get(f->d, "again");
    assert_string_equal(json_string_value(json_object_get(v, "state")), "running");
    /* The same event with the new UUID is about this VM. */
    fake.last->events.on_domain(fake.last->opaque, fake.last, "again",
                                json_string_value(json_object_get(v, "uuid")), VM_HV_EV_UNDEFINED);
    json_decref(v);
    usleep(600 * 1000);
    v = vm_get(f->d, "again");
    assert_string_equal(json_string_value(json_object_get(v, "state")), "error");
    json_decref(v);
}

/* Issue 16 with the fake driver: a re-pin whose pins cannot be applied (the
 * fake has no pins) is rolled back and leaves nothing claimed; a migration
 * between two hosts (the fake cannot migrate: define at the destination,
 * undefine at the source) moves the VM and its PUs. */
static void test_repin_rolls_back_and_migrate_moves(void **state)
{
    struct fx *f = *state;
    struct nfv_err err;
    json_t *b, *r = NULL;
    char old_pus[64];

    for (int i = 1; i <= 2; i++) {
        char text[256];
        snprintf(text, sizeof(text),
                 "{\"name\":\"h%d\",\"uri\":\"qemu+ssh://h%d.example/system\","
                 "\"synthetic\":\"package:1 core:4 pu:2\",\"reserved\":\"0-1\"}",
                 i, i);
        b = body(text);
        assert_int_equal(vm_daemon_host_add(f->d, b, &r, &err), NFV_OK);
        json_decref(r);
        json_decref(b);
    }
    b = body("{\"name\":\"v\",\"vcpus\":1,\"memory_mib\":64,\"host\":\"h1\"}");
    assert_int_equal(vm_daemon_vm_create(f->d, b, false, &r, &err), NFV_OK);
    snprintf(old_pus, sizeof(old_pus), "%s",
             json_string_value(json_object_get(json_object_get(r, "plan"), "claimed")));
    json_decref(r);
    json_decref(b);

    /* Bad input names the field. */
    b = body("{\"vcpus\":2}");
    assert_int_equal(vm_daemon_vm_repin(f->d, "v", b, &r, &err), NFV_E_INVAL);
    json_decref(b);
    b = body("{\"mode\":\"warp\"}");
    assert_int_equal(vm_daemon_vm_migrate(f->d, "v", b, false, &r, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'mode'"));
    json_decref(b);

    /* The pins cannot be applied: rolled back, twice (nothing was left held). */
    b = body("{\"cpu_mode\":\"numbered\",\"cpu_map\":\"0:6\"}");
    for (int i = 0; i < 2; i++) {
        assert_int_equal(vm_daemon_vm_repin(f->d, "v", b, &r, &err), NFV_E_HYPERVISOR);
        assert_non_null(strstr(err.msg, "old pins"));
    }
    json_decref(b);
    assert_int_equal(vm_daemon_vm_show(f->d, "v", &r, &err), NFV_OK);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "plan"), "claimed")),
                        old_pus);
    json_decref(r);
    /* PU 6 is free again: another VM can hold it. */
    b = body("{\"name\":\"w\",\"vcpus\":1,\"memory_mib\":64,\"host\":\"h1\","
             "\"cpu_mode\":\"numbered\",\"cpu_map\":\"0:6\"}");
    assert_int_equal(vm_daemon_vm_create(f->d, b, false, &r, &err), NFV_OK);
    json_decref(r);
    json_decref(b);

    /* Migration: placement may not pick the VM's own host. */
    b = body("{\"host\":\"h1\"}");
    assert_int_equal(vm_daemon_vm_migrate(f->d, "v", b, false, &r, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'host'"));
    json_decref(b);
    b = body("{\"host\":\"nowhere\"}");
    assert_int_equal(vm_daemon_vm_migrate(f->d, "v", b, false, &r, &err), NFV_E_NOENT);
    json_decref(b);
    assert_int_equal(vm_daemon_vm_migrate(f->d, "v", NULL, false, &r, &err), NFV_OK);
    assert_string_equal(json_string_value(json_object_get(r, "to")), "h2");
    json_decref(r);
    assert_int_equal(vm_daemon_vm_show(f->d, "v", &r, &err), NFV_OK);
    assert_string_equal(json_string_value(json_object_get(r, "host")), "h2");
    json_decref(r);
    assert_true(has_event(f->d, "vm_migrated", "v"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lost_host_reconnects_with_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_state_and_fields_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hanging_host_add_blocks_no_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bare_host_takes_default_creates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_event_does_not_hit_a_recreated_vm, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_graceful_stop_does_not_block_the_daemon, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_repin_rolls_back_and_migrate_moves, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
