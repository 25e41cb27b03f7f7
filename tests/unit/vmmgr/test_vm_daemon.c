/*
 * test_vm_daemon.c - vmmgrd's host manager against a fake host driver: a
 * lost connection marks the host unreachable (event, metrics), reconnects
 * with backoff while the fake refuses, and comes back up when it answers;
 * the journal and event log survive a restart. The driver table (vm_hv.h)
 * is what makes this testable without killing a real libvirtd.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm_config.h"
#include "vm_daemon.h"

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
} fake;

static enum nfv_code f_open(const char *uri, const struct vm_hv_open_opts *opts,
                            struct vm_hv_conn **ret, struct nfv_err *err)
{
    struct vm_hv_conn *c;

    atomic_fetch_add(&fake.n_opens, 1);
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

static const struct vm_hv_driver fake_driver = {
    .name = "fake",
    .open = f_open,
    .close = f_close,
    .is_alive = f_is_alive,
    .node_info = f_node_info,
    .domain_list = f_domain_list,
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lost_host_reconnects_with_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_state_and_fields_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
