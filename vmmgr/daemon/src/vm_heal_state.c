/*
 * vm_heal_state.c - each host's healing state inside vmmgrd (see
 * vm_heal_state.h): the state machine fed under the lock, persisted, its
 * actions queued for the healer thread; BMC settings from host add.
 *
 * Calls: vm_ctx, vm_place.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nfv/log.h"
#include "vm/vm_req.h"
#include "vm_heal_state.h"
#include "vm_place.h"

#define MOD "heal"

void vm_heal_rules_from_config(const struct vm_config *cfg, struct heal_rules *ret)
{
    heal_rules_default(ret);
    /* Rule A counts libvirt keepalive periods: the daemon's own. */
    ret->keepalive_period_ms =
        cfg->keepalive_interval_s ? (uint64_t)cfg->keepalive_interval_s * 1000 : 5000;
    ret->unreachable_periods = cfg->heal_unreachable_periods;
    ret->is_unreachable_and_off = cfg->is_heal_unreachable_and_off;
    ret->is_unreachable_and_sel = cfg->is_heal_unreachable_and_sel;
    ret->is_sel_alone = cfg->is_heal_sel_alone;
}

enum nfv_code vm_heal_bmc_path(struct vm_daemon *d, const char *host, char *buf, size_t size,
                               struct nfv_err *err)
{
    int n = snprintf(buf, size, "%s/bmc/%s.password", d->cfg.state_dir, host);

    if (n < 0 || (size_t)n >= size)
        return NFV_ERR(err, NFV_E_INVAL, "'state_dir': path too long");
    return NFV_OK;
}

enum nfv_code vm_heal_bmc_parse(struct vm_daemon *d, const char *host, const json_t *bmc,
                                struct vm_heal_bmc *ret, struct nfv_err *err)
{
    static const char *const fields[] = {"address", "user", "password", NULL};
    const char *address = NULL, *user = NULL, *password = NULL;
    char path[PATH_MAX];
    size_t len;

    memset(ret, 0, sizeof(*ret));
    if (!bmc || json_is_null(bmc))
        return NFV_OK;
    if (!json_is_object(bmc))
        return NFV_ERR(err, NFV_E_INVAL,
                       "'bmc': must be an object {\"address\", \"user\", \"password\"}");
    if (vm_req_check_fields(bmc, fields, err) != NFV_OK ||
        vm_req_get_str(bmc, "address", true, &address, err) != NFV_OK ||
        vm_req_get_str(bmc, "user", true, &user, err) != NFV_OK ||
        vm_req_get_str(bmc, "password", true, &password, err) != NFV_OK) {
        nfv_err_prefix(err, "'bmc'");
        return NFV_E_INVAL;
    }
    /* No control characters: they would reach logs, events and the BMC. */
    if (vm_req_text_check("bmc.user", user, HEAL_MON_USER_SIZE - 1, err) != NFV_OK ||
        vm_req_text_check("bmc.password", password, HEAL_MON_PASSWORD_SIZE - 1, err) != NFV_OK)
        return NFV_E_INVAL;
    /* IPMI 2.0: 1..20 bytes, one line, no NUL (it goes to a file). */
    len = strlen(password);
    if (len == 0 || len >= HEAL_MON_PASSWORD_SIZE ||
        len != json_string_length(json_object_get(bmc, "password")) || strchr(password, '\n') ||
        strchr(password, '\r'))
        return NFV_ERR(err, NFV_E_INVAL,
                       "'bmc.password': must be 1..%d bytes on one line (IPMI 2.0)",
                       HEAL_MON_PASSWORD_SIZE - 1);
    if (vm_heal_bmc_path(d, host, path, sizeof(path), err) != NFV_OK)
        return NFV_E_INVAL;
    heal_mon_config_init(&ret->cfg);
    ret->cfg.timeout_ms = d->cfg.heal_bmc_timeout_ms;
    if (heal_mon_config_set(&ret->cfg, address, user, path, err) != NFV_OK) {
        nfv_err_prefix(err, "'bmc'");
        return NFV_E_INVAL;
    }
    snprintf(ret->password, sizeof(ret->password), "%s", password);
    ret->is_set = true;
    return NFV_OK;
}

enum nfv_code vm_heal_bmc_write(const struct vm_heal_bmc *bmc, struct nfv_err *err)
{
    char dir[PATH_MAX], tmp[PATH_MAX + 8];
    const char *slash;
    int fd;
    size_t len = strlen(bmc->password);

    if (!bmc->is_set)
        return NFV_OK;
    slash = strrchr(bmc->cfg.password_file, '/');
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - bmc->cfg.password_file),
             bmc->cfg.password_file);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return NFV_ERR_ERRNO(err, NFV_E_IO, errno, "'%s': %s", dir, strerror(errno));
    snprintf(tmp, sizeof(tmp), "%s.tmp", bmc->cfg.password_file);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return NFV_ERR_ERRNO(err, NFV_E_IO, errno, "'%s': %s", tmp, strerror(errno));
    if (fchmod(fd, 0600) != 0 || write(fd, bmc->password, len) != (ssize_t)len ||
        write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return NFV_ERR_ERRNO(err, NFV_E_IO, e, "'%s': %s", tmp, strerror(e));
    }
    close(fd);
    if (rename(tmp, bmc->cfg.password_file) != 0) {
        int e = errno;
        unlink(tmp);
        return NFV_ERR_ERRNO(err, NFV_E_IO, e, "'%s': %s", bmc->cfg.password_file, strerror(e));
    }
    return NFV_OK;
}

static enum nfv_code persist_row(struct vm_daemon *d, struct host_rt *h, struct nfv_err *err)
{
    struct vm_db_heal row = {0};

    row.host_id = h->id;
    snprintf(row.state, sizeof(row.state), "%s", heal_state_to_string(h->heal.state));
    row.since_ms = h->heal_since_ms;
    snprintf(row.reason, sizeof(row.reason), "%s", h->heal_reason);
    snprintf(row.bmc_address, sizeof(row.bmc_address), "%s", h->bmc_address);
    snprintf(row.bmc_user, sizeof(row.bmc_user), "%s", h->bmc_user);
    if (h->heal.is_critical_seen)
        snprintf(row.last_critical, sizeof(row.last_critical), "%s",
                 heal_sel_kind_to_string(h->heal.last_critical));
    return vm_db_heal_put(d->db, &row, err);
}

static void persist(struct vm_daemon *d, struct host_rt *h)
{
    struct nfv_err e = {0};

    if (h->id && persist_row(d, h, &e) != NFV_OK)
        NFV_LOG_ERR(MOD, "host '%s': %s", h->name, e.msg);
}

enum nfv_code vm_heal_host_added(struct vm_daemon *d, struct host_rt *h,
                                 const struct vm_heal_bmc *bmc, struct nfv_err *err)
{
    heal_host_init(&h->heal, (uint64_t)vm_d_mono_ms());
    h->heal_since_ms = vm_daemon_now_ms();
    snprintf(h->heal_reason, sizeof(h->heal_reason), "added");
    if (bmc && bmc->is_set) {
        snprintf(h->bmc_address, sizeof(h->bmc_address), "%s", bmc->cfg.address);
        snprintf(h->bmc_user, sizeof(h->bmc_user), "%s", bmc->cfg.user);
    }
    return persist_row(d, h, err);
}

void vm_heal_host_loaded(struct vm_daemon *d, struct host_rt *h)
{
    struct vm_db_heal row;
    enum heal_state st;
    uint64_t now = (uint64_t)vm_d_mono_ms();

    heal_host_init(&h->heal, now);
    if (vm_db_heal_get(d->db, h->id, &row, NULL) != NFV_OK) {
        h->heal_since_ms = vm_daemon_now_ms();
        return; /* a host of schema 3: up, no BMC */
    }
    snprintf(h->bmc_address, sizeof(h->bmc_address), "%s", row.bmc_address);
    snprintf(h->bmc_user, sizeof(h->bmc_user), "%s", row.bmc_user);
    snprintf(h->heal_reason, sizeof(h->heal_reason), "%s", row.reason);
    h->heal_since_ms = row.since_ms;
    st = heal_state_from_string(row.state);
    if (row.last_critical[0] && heal_sel_kind_from_string(row.last_critical) != HEAL_SEL__COUNT) {
        h->heal.is_critical_seen = true;
        h->heal.last_critical = heal_sel_kind_from_string(row.last_critical);
    }
    h->heal_first_ms = h->heal_failed_ms = (int64_t)now;
    switch (st) {
    case HEAL_FAILED:
        /* A fence was running or due: the next tick fences again (a power
         * off of a host already off is harmless). */
        h->heal.state = HEAL_FAILED;
        h->heal.is_fence_pending = false;
        h->heal.fence_due_ms = 0;
        h->heal.n_fence_attempts = 1;
        break;
    case HEAL_FENCED:
        /* Promotions and rebuilds resume (each is idempotent). */
        h->heal.state = HEAL_FENCED;
        h->heal_todo |= 1u << HEAL_ACT_PROMOTE | 1u << HEAL_ACT_REBUILD;
        break;
    case HEAL_EVACUATED:
        h->heal.state = HEAL_EVACUATED;
        break;
    default:
        /* UP or SUSPECT: suspicion is re-derived from what is seen now. */
        break;
    }
}

void vm_heal_host_removed(struct vm_daemon *d, const char *name)
{
    char path[PATH_MAX];

    if (vm_heal_bmc_path(d, name, path, sizeof(path), NULL) == NFV_OK && unlink(path) != 0 &&
        errno != ENOENT)
        NFV_LOG_WARN(MOD, "'%s': %s", path, strerror(errno));
}

bool vm_heal_is_unplaceable(const struct host_rt *h)
{
    return h->heal.state != HEAL_UP;
}

void vm_heal_feed_input(struct vm_daemon *d, struct host_rt *h, const struct heal_input *in)
{
    struct heal_step st;
    bool was_critical = h->heal.is_critical_seen;

    if (!d->cfg.is_heal_enabled || !h->id)
        return;
    heal_host_step(&h->heal, &d->heal_rules, in, &st);
    for (unsigned i = 0; i < st.n_actions; i++)
        if (st.actions[i] != HEAL_ACT_NOTIFY)
            h->heal_todo |= 1u << st.actions[i];
    if (st.from == st.to) {
        if (h->heal.is_critical_seen != was_critical)
            persist(d, h);
        if (heal_step_has(&st, HEAL_ACT_NOTIFY))
            vm_d_event(d, VM_SEV_WARN, "heal", h->name, "%s: %s", heal_state_to_string(st.to),
                       st.reason);
        if (st.n_actions)
            pthread_cond_broadcast(&d->cond);
        return;
    }
    /* A state change: timestamps for the latency metrics, the row, placement. */
    if (st.from == HEAL_UP)
        h->heal_first_ms = (int64_t)in->now_ms;
    if (st.to == HEAL_FAILED || (st.to == HEAL_FENCED && st.from != HEAL_FAILED)) {
        h->heal_failed_ms = (int64_t)in->now_ms;
        vm_metrics_hist_observe(&d->metrics.heal[VM_HEAL_DETECT],
                                (double)(h->heal_failed_ms - h->heal_first_ms));
    }
    h->heal_since_ms = vm_daemon_now_ms();
    snprintf(h->heal_reason, sizeof(h->heal_reason), "%s", st.reason);
    persist(d, h);
    vm_place_host_sync(d, h);
    vm_d_event(d,
               st.to == HEAL_UP                                   ? VM_SEV_INFO
               : st.to == HEAL_SUSPECT || st.to == HEAL_EVACUATED ? VM_SEV_WARN
                                                                  : VM_SEV_ERR,
               "heal_host", h->name, "%s -> %s: %s", heal_state_to_string(st.from),
               heal_state_to_string(st.to), st.reason);
    pthread_cond_broadcast(&d->cond);
}

void vm_heal_feed(struct vm_daemon *d, struct host_rt *h, enum heal_input_kind kind)
{
    struct heal_input in = {.kind = kind, .now_ms = (uint64_t)vm_d_mono_ms()};

    vm_heal_feed_input(d, h, &in);
}

json_t *vm_heal_host_json(const struct host_rt *h)
{
    json_t *j =
        json_pack("{s:s,s:I,s:s,s:b,s:s}", "state", heal_state_to_string(h->heal.state), "since_ms",
                  (json_int_t)h->heal_since_ms, "reason", h->heal_reason, "libvirt_lost",
                  h->heal.is_libvirt_lost, "power", heal_power_to_string(h->heal.power));

    if (!j)
        return NULL;
    if (h->heal.is_critical_seen)
        json_object_set_new(j, "critical_event",
                            json_string(heal_sel_kind_to_string(h->heal.last_critical)));
    if (h->heal.state == HEAL_FAILED)
        json_object_set_new(j, "fence_attempts", json_integer(h->heal.n_fence_attempts));
    if (h->bmc_address[0])
        json_object_set_new(j, "bmc",
                            json_pack("{s:s,s:s,s:s}", "address", h->bmc_address, "user",
                                      h->bmc_user, "status",
                                      h->bmc_status[0] ? h->bmc_status : "not polled yet"));
    return j;
}
