/*
 * heal_mon_ipmi.c - the IPMI monitor driver (heal/mon.h) on FreeIPMI's
 * libfreeipmi: an IPMI 2.0 / RMCP+ ("lanplus") session per BMC, cipher suite
 * 3 by default.
 *
 * The only file of healing/ that includes FreeIPMI. It reads chassis power
 * (Get Chassis Status), fences (Chassis Control: power down) and walks the
 * SEL with Get SEL Entry from the last record it saw, handing raw records to
 * heal_sel_decode() (pure, heal_sel.c).
 *
 * Sessions: opened at open() and kept. A request after a long idle opens a
 * fresh session first; a request that times out on a session opened by an
 * earlier call is sent once more on a fresh session (the BMC may have
 * dropped ours: ipmi_sim does so now and then while other clients come and
 * go); a timeout closes the session so that a BMC that comes back gets a new
 * one on the next call. Each exchange is bounded by FreeIPMI's session
 * timeout, set to half of cfg->timeout_ms, so that a request and its one
 * retry fit in timeout_ms.
 *
 * Messages: FreeIPMI's and the BMC's own texts are logged at debug level
 * only; callers get our sentences, which name the BMC address and the step.
 */
#include "heal/mon.h"

#include <freeipmi/freeipmi.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heal_mon_priv.h"
#include "nfv/log.h"

#define LOG_MODULE "heal_mon_ipmi"
/* Sessions idle longer than this are re-opened before use: BMCs drop idle
 * sessions (IPMI's default inactivity timeout is 60 s; some use less). */
#define SESSION_IDLE_MAX_MS 20000u

struct heal_mon {
    struct heal_mon_config cfg;
    char password[HEAL_MON_PASSWORD_SIZE];
    ipmi_ctx_t ctx;
    bool is_open;
    uint64_t last_ok_ms;
    bool has_last; /* last_id is valid: a record we already reported or skipped */
    uint16_t last_id;
    fiid_obj_t obj_status, obj_control, obj_sel;
};

/* Maps FreeIPMI's error of the last call to our code and sentence. */
static enum nfv_code fail(struct heal_mon *mon, const char *step, struct nfv_err *err)
{
    int e = ipmi_ctx_errnum(mon->ctx);
    const char *addr = mon->cfg.address;
    nfv_log(NFV_LOG_DEBUG, LOG_MODULE, "BMC '%s': %s: %s (errnum %d)", addr, step,
            ipmi_ctx_errormsg(mon->ctx), e);
    switch (e) {
    case IPMI_ERR_CONNECTION_TIMEOUT:
    case IPMI_ERR_SESSION_TIMEOUT:
    case IPMI_ERR_MESSAGE_TIMEOUT:
    case IPMI_ERR_DRIVER_TIMEOUT:
        /* The session may be dead on the BMC's side: start afresh next time. */
        if (mon->is_open) {
            ipmi_ctx_close(mon->ctx);
            mon->is_open = false;
        }
        return NFV_ERR(err, NFV_E_TIMEOUT, "BMC '%s': %s: no answer within %u ms", addr, step,
                       mon->cfg.timeout_ms);
    case IPMI_ERR_USERNAME_INVALID:
    case IPMI_ERR_PASSWORD_INVALID:
    case IPMI_ERR_K_G_INVALID:
    case IPMI_ERR_PRIVILEGE_LEVEL_INSUFFICIENT:
    case IPMI_ERR_PRIVILEGE_LEVEL_CANNOT_BE_OBTAINED:
    case IPMI_ERR_AUTHENTICATION_TYPE_UNAVAILABLE:
    case IPMI_ERR_PASSWORD_VERIFICATION_TIMEOUT:
        return NFV_ERR(err, NFV_E_PERM,
                       "BMC '%s': %s: login refused for user '%s' (user, password or privilege)",
                       addr, step, mon->cfg.user);
    case IPMI_ERR_CIPHER_SUITE_ID_UNAVAILABLE:
    case IPMI_ERR_IPMI_2_0_UNAVAILABLE:
        return NFV_ERR(err, NFV_E_UNSUPPORTED,
                       "BMC '%s': %s: IPMI 2.0 with cipher suite %u not offered", addr, step,
                       mon->cfg.cipher_suite);
    case IPMI_ERR_HOSTNAME_INVALID:
        return NFV_ERR(err, NFV_E_INVAL, "'address': '%s' cannot be resolved", addr);
    case IPMI_ERR_OUT_OF_MEMORY:
        return NFV_ERR(err, NFV_E_NOMEM, "BMC '%s': %s: out of memory", addr, step);
    case IPMI_ERR_BAD_COMPLETION_CODE:
    case IPMI_ERR_COMMAND_INVALID_OR_UNSUPPORTED:
    case IPMI_ERR_BMC_BUSY:
        return NFV_ERR(err, NFV_E_IO, "BMC '%s': %s: refused by the BMC", addr, step);
    default:
        return NFV_ERR(err, NFV_E_UNREACHABLE, "BMC '%s': %s failed", addr, step);
    }
}

/* Each exchange (session set-up, or one request) gets half the call's
 * budget, so that one retry on a fresh session still fits in timeout_ms. */
static unsigned half_timeout_ms(const struct heal_mon *mon)
{
    return mon->cfg.timeout_ms / 2 ? mon->cfg.timeout_ms / 2 : 1;
}

static enum nfv_code session_open(struct heal_mon *mon, struct nfv_err *err)
{
    unsigned timeout = half_timeout_ms(mon);
    unsigned retransmit = mon->cfg.retransmit_ms ? mon->cfg.retransmit_ms : timeout / 4;
    if (retransmit == 0)
        retransmit = 1;
    /* OPEN_SESSION_PRIVILEGE: ask for the privilege we need in the Open
     * Session request instead of "highest available"; legal for every BMC,
     * and needed by some (Sun's, OpenIPMI's ipmi_sim). */
    if (ipmi_ctx_open_outofband_2_0(
            mon->ctx, mon->cfg.address, mon->cfg.user, mon->password, NULL, 0,
            mon->cfg.is_admin ? IPMI_PRIVILEGE_LEVEL_ADMIN : IPMI_PRIVILEGE_LEVEL_OPERATOR,
            (uint8_t)mon->cfg.cipher_suite, timeout, retransmit,
            IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_OPEN_SESSION_PRIVILEGE, IPMI_FLAGS_DEFAULT) < 0)
        return fail(mon, "open session", err);
    mon->is_open = true;
    mon->last_ok_ms = heal_mon_now_ms();
    return NFV_OK;
}

static void session_close(struct heal_mon *mon)
{
    if (mon->is_open)
        ipmi_ctx_close(mon->ctx);
    mon->is_open = false;
}

enum ipmi_op { OP_CHASSIS_STATUS, OP_POWER_DOWN, OP_GET_SEL_ENTRY };
static const char *const op_steps[] = {
    [OP_CHASSIS_STATUS] = "get chassis status",
    [OP_POWER_DOWN] = "chassis power down",
    [OP_GET_SEL_ENTRY] = "get SEL entry",
};

static int op_send(struct heal_mon *mon, enum ipmi_op op, uint16_t sel_id)
{
    switch (op) {
    case OP_CHASSIS_STATUS:
        fiid_obj_clear(mon->obj_status);
        return ipmi_cmd_get_chassis_status(mon->ctx, mon->obj_status);
    case OP_POWER_DOWN:
        fiid_obj_clear(mon->obj_control);
        return ipmi_cmd_chassis_control(mon->ctx, IPMI_CHASSIS_CONTROL_POWER_DOWN,
                                        mon->obj_control);
    case OP_GET_SEL_ENTRY:
        fiid_obj_clear(mon->obj_sel);
        return ipmi_cmd_get_sel_entry(mon->ctx, 0, sel_id, 0,
                                      IPMI_SEL_READ_ENTIRE_RECORD_BYTES_TO_READ, mon->obj_sel);
    }
    return -1;
}

static bool is_timeout(int errnum)
{
    return errnum == IPMI_ERR_SESSION_TIMEOUT || errnum == IPMI_ERR_MESSAGE_TIMEOUT ||
           errnum == IPMI_ERR_CONNECTION_TIMEOUT || errnum == IPMI_ERR_DRIVER_TIMEOUT;
}

/*
 * One request and its response. A session the BMC dropped (its session table
 * recycled, it rebooted, an idle timeout we did not see) looks exactly like
 * silence: so when a request on a session opened by an earlier call times
 * out, open a fresh session and send once more. Every exchange is bounded by
 * half of timeout_ms, so a BMC that went silent costs at most timeout_ms.
 * For OP_GET_SEL_ENTRY, *ret_is_absent tells "no such record" (completion
 * code 0xcb) apart from a failure.
 */
static enum nfv_code exchange(struct heal_mon *mon, enum ipmi_op op, uint16_t sel_id,
                              bool *ret_is_absent, struct nfv_err *err)
{
    if (ret_is_absent)
        *ret_is_absent = false;
    /* BMCs drop idle sessions (IPMI's default inactivity timeout is 60 s). */
    if (mon->is_open && heal_mon_now_ms() - mon->last_ok_ms > SESSION_IDLE_MAX_MS)
        session_close(mon);
    bool is_reused = mon->is_open;
    if (!mon->is_open) {
        enum nfv_code code = session_open(mon, err);
        if (code != NFV_OK)
            return code;
    }
    int rv = op_send(mon, op, sel_id);
    if (rv < 0 && is_reused && is_timeout(ipmi_ctx_errnum(mon->ctx))) {
        nfv_log(NFV_LOG_DEBUG, LOG_MODULE,
                "BMC '%s': %s: no answer on the open session (%s); opening a new one",
                mon->cfg.address, op_steps[op], ipmi_ctx_errormsg(mon->ctx));
        session_close(mon);
        enum nfv_code code = session_open(mon, err);
        if (code != NFV_OK)
            return code;
        rv = op_send(mon, op, sel_id);
    }
    if (rv < 0) {
        if (op == OP_GET_SEL_ENTRY && ret_is_absent &&
            ipmi_ctx_errnum(mon->ctx) == IPMI_ERR_BAD_COMPLETION_CODE &&
            ipmi_check_completion_code(
                mon->obj_sel, IPMI_COMP_CODE_REQUESTED_SENSOR_DATA_OR_RECORD_NOT_PRESENT) == 1) {
            *ret_is_absent = true;
            mon->last_ok_ms = heal_mon_now_ms();
            return NFV_OK;
        }
        return fail(mon, op_steps[op], err);
    }
    mon->last_ok_ms = heal_mon_now_ms();
    return NFV_OK;
}

/* Reads SEL record @id. *ret_is_absent when the BMC has no such record (an
 * empty or cleared SEL); otherwise fills @rec and *ret_next. */
static enum nfv_code sel_get(struct heal_mon *mon, uint16_t id, uint8_t *rec, uint16_t *ret_next,
                             bool *ret_is_absent, struct nfv_err *err)
{
    enum nfv_code code = exchange(mon, OP_GET_SEL_ENTRY, id, ret_is_absent, err);
    if (code != NFV_OK || *ret_is_absent)
        return code;
    uint64_t next = 0;
    if (fiid_obj_get(mon->obj_sel, "next_record_id", &next) < 0 ||
        fiid_obj_get_data(mon->obj_sel, "record_data", rec, HEAL_SEL_RECORD_SIZE) !=
            HEAL_SEL_RECORD_SIZE)
        return NFV_ERR(err, NFV_E_PARSE, "BMC '%s': get SEL entry: short record", mon->cfg.address);
    *ret_next = (uint16_t)next;
    return NFV_OK;
}

/* Notes the SEL's newest record so that older ones are never reported. */
static enum nfv_code sel_baseline(struct heal_mon *mon, struct nfv_err *err)
{
    uint8_t rec[HEAL_SEL_RECORD_SIZE];
    uint16_t next;
    bool is_absent;
    enum nfv_code code =
        sel_get(mon, IPMI_SEL_GET_RECORD_ID_LAST_ENTRY, rec, &next, &is_absent, err);
    if (code != NFV_OK)
        return code;
    mon->has_last = !is_absent;
    mon->last_id = is_absent ? 0 : (uint16_t)(rec[0] | rec[1] << 8);
    return NFV_OK;
}

static void ipmi_close(struct heal_mon *mon)
{
    if (!mon)
        return;
    if (mon->ctx) {
        if (mon->is_open)
            ipmi_ctx_close(mon->ctx);
        ipmi_ctx_destroy(mon->ctx);
    }
    if (mon->obj_status)
        fiid_obj_destroy(mon->obj_status);
    if (mon->obj_control)
        fiid_obj_destroy(mon->obj_control);
    if (mon->obj_sel)
        fiid_obj_destroy(mon->obj_sel);
    explicit_bzero(mon->password, sizeof(mon->password));
    free(mon);
}

static enum nfv_code ipmi_open(const struct heal_mon_config *cfg, struct heal_mon **ret,
                               struct nfv_err *err)
{
    enum nfv_code code = heal_mon_config_check(cfg, err);
    if (code != NFV_OK)
        return code;
    struct heal_mon *mon = calloc(1, sizeof(*mon));
    if (!mon)
        return NFV_ERR(err, NFV_E_NOMEM, "BMC '%s': out of memory", cfg->address);
    mon->cfg = *cfg;
    code = heal_mon_password_read(cfg->password_file, mon->password, sizeof(mon->password), err);
    if (code != NFV_OK)
        goto cleanup;
    mon->ctx = ipmi_ctx_create();
    mon->obj_status = fiid_obj_create(tmpl_cmd_get_chassis_status_rs);
    mon->obj_control = fiid_obj_create(tmpl_cmd_chassis_control_rs);
    mon->obj_sel = fiid_obj_create(tmpl_cmd_get_sel_entry_rs);
    if (!mon->ctx || !mon->obj_status || !mon->obj_control || !mon->obj_sel) {
        code = NFV_ERR(err, NFV_E_NOMEM, "BMC '%s': out of memory", cfg->address);
        goto cleanup;
    }
    code = session_open(mon, err);
    if (code == NFV_OK)
        code = sel_baseline(mon, err);
    if (code == NFV_OK)
        mon->last_ok_ms = heal_mon_now_ms();
cleanup:
    if (code != NFV_OK) {
        ipmi_close(mon);
        return code;
    }
    *ret = mon;
    return NFV_OK;
}

static enum nfv_code ipmi_power_status(struct heal_mon *mon, enum heal_power *ret,
                                       struct nfv_err *err)
{
    enum nfv_code code = exchange(mon, OP_CHASSIS_STATUS, 0, NULL, err);
    if (code != NFV_OK)
        return code;
    uint64_t on = 0;
    if (fiid_obj_get(mon->obj_status, "current_power_state.power_is_on", &on) < 0)
        return NFV_ERR(err, NFV_E_PARSE, "BMC '%s': get chassis status: no power state",
                       mon->cfg.address);
    *ret = on ? HEAL_POWER_ON : HEAL_POWER_OFF;
    return NFV_OK;
}

/* Appends the SEL records after the last one seen to @p. */
static enum nfv_code sel_read_new(struct heal_mon *mon, struct heal_mon_poll *p,
                                  struct nfv_err *err)
{
    uint8_t rec[HEAL_SEL_RECORD_SIZE];
    uint16_t id = IPMI_SEL_GET_RECORD_ID_FIRST_ENTRY, next = 0;
    bool is_absent = false;
    enum nfv_code code;

    if (mon->has_last) {
        code = sel_get(mon, mon->last_id, rec, &next, &is_absent, err);
        if (code != NFV_OK)
            return code;
        if (is_absent)
            mon->has_last = false; /* the SEL was cleared: everything in it is new */
        else if (next == IPMI_SEL_GET_RECORD_ID_LAST_ENTRY)
            return NFV_OK;
        else
            id = next;
    }
    for (;;) {
        if (p->n_events == HEAL_MON_MAX_EVENTS) {
            p->is_truncated = true;
            return NFV_OK;
        }
        code = sel_get(mon, id, rec, &next, &is_absent, err);
        if (code != NFV_OK || is_absent)
            return code;
        struct heal_sel_event *ev = &p->events[p->n_events];
        code = heal_sel_decode(rec, sizeof(rec), ev, err);
        if (code != NFV_OK)
            return code;
        p->n_events++;
        mon->has_last = true;
        mon->last_id = ev->record_id;
        if (next == IPMI_SEL_GET_RECORD_ID_LAST_ENTRY)
            return NFV_OK;
        id = next;
    }
}

static enum nfv_code ipmi_poll(struct heal_mon *mon, struct heal_mon_poll *ret, struct nfv_err *err)
{
    struct heal_mon_poll p = {.power = HEAL_POWER_UNKNOWN};
    enum nfv_code code = ipmi_power_status(mon, &p.power, err);
    if (code == NFV_OK)
        code = sel_read_new(mon, &p, err);
    if (code != NFV_OK)
        return code;
    mon->last_ok_ms = heal_mon_now_ms();
    *ret = p;
    return NFV_OK;
}

static enum nfv_code ipmi_power_off(struct heal_mon *mon, struct nfv_err *err)
{
    return exchange(mon, OP_POWER_DOWN, 0, NULL, err);
}

const struct heal_mon_driver heal_mon_ipmi = {
    .name = "ipmi",
    .open = ipmi_open,
    .poll = ipmi_poll,
    .power_off = ipmi_power_off,
    .power_status = ipmi_power_status,
    .close = ipmi_close,
};
