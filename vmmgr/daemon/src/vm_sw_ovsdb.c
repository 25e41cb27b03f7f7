/*
 * vm_sw_ovsdb.c - the Open vSwitch switch driver: JSON-RPC to ovsdb-server
 * over a unix or TCP socket (RFC 7047).
 *
 * The I/O half of vm_sw_ovsdb: connect, send a request, read JSON texts off
 * the stream (framed by vm_sw_ovsdb_frame) until the reply with our id,
 * answering the server's "echo" probes and taking "update" notifications of
 * our one monitor on the way. Messages are built and parsed by
 * vm_sw_ovsdb_msg.c. No ovs-vsctl, no OVS library.
 *
 * Confirmation: on connect the driver monitors Open_vSwitch.cur_cfg. With
 * is_confirm each write also bumps next_cfg; the call returns only when the
 * monitor shows cur_cfg has reached it, i.e. ovs-vswitchd has applied the
 * change to its forwarding tables (what ovs-vsctl waits for by default).
 *
 * Failures: any socket error or EOF closes the socket and returns
 * NFV_E_UNREACHABLE; the next call reconnects (and re-monitors). Writes are
 * "read, then write guarded by a wait" so a retry after a lost reply is
 * safe: it re-reads and finds nothing (or less) to do.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "nfv/log.h"
#include "vm_sw_ovsdb_priv.h"

#define LOG_MOD "sw-ovsdb"
/* Attempts of one trunk change when others edit the same port meanwhile. */
#define VM_SW_OVSDB_RACE_TRIES 5

struct vm_sw_conn {
    char *target;
    unsigned timeout_ms;
    bool is_confirm;
    char *iface_type;
    int fd; /* -1 when disconnected */
    json_int_t next_id;
    long long cur_cfg; /* from the monitor */
    char *buf;         /* received, not yet parsed */
    size_t buf_len, buf_cap;
};

static uint64_t vm_sw_ovsdb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void vm_sw_ovsdb_disconnect(struct vm_sw_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->buf_len = 0;
}

static enum nfv_code vm_sw_ovsdb_lost(struct vm_sw_conn *c, int errnum, const char *during,
                                      struct nfv_err *err)
{
    NFV_LOG_DEBUG(LOG_MOD, "%s: connection lost during %s: %s", c->target, during,
                  errnum ? strerror(errnum) : "end of stream");
    vm_sw_ovsdb_disconnect(c);
    return NFV_ERR_ERRNO(err, NFV_E_UNREACHABLE, errnum,
                         "switch '%s': connection lost during %s (retry)", c->target, during);
}

static int vm_sw_ovsdb_socket(const char *target, int *ret_errno)
{
    int fd = -1;
    if (strncmp(target, "unix:", 5) == 0) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(target + 5) >= sizeof(sa.sun_path)) {
            *ret_errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(sa.sun_path, target + 5, strlen(target + 5) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            *ret_errno = errno;
            close(fd);
            return -1;
        }
    } else {
        /* tcp:HOST:PORT (numeric host; IPv6 in brackets not needed here). */
        char host[64];
        const char *colon = strrchr(target + 4, ':');
        struct addrinfo hints = {.ai_family = AF_UNSPEC,
                                 .ai_socktype = SOCK_STREAM,
                                 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
        struct addrinfo *ai = NULL;
        if (!colon || (size_t)(colon - (target + 4)) >= sizeof(host)) {
            *ret_errno = EINVAL;
            return -1;
        }
        memcpy(host, target + 4, (size_t)(colon - (target + 4)));
        host[colon - (target + 4)] = '\0';
        if (getaddrinfo(host, colon + 1, &hints, &ai) != 0) {
            *ret_errno = EINVAL;
            return -1;
        }
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            *ret_errno = errno;
            close(fd);
            fd = -1;
        } else if (fd >= 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
        freeaddrinfo(ai);
        return fd;
    }
    if (fd < 0)
        *ret_errno = errno;
    return fd;
}

static enum nfv_code vm_sw_ovsdb_send(struct vm_sw_conn *c, json_t *msg, const char *during,
                                      struct nfv_err *err)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    size_t len, off = 0;
    if (!text)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory encoding a switch request");
    len = strlen(text);
    while (off < len) {
        ssize_t n = send(c->fd, text + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = errno;
            free(text);
            return vm_sw_ovsdb_lost(c, e, during, err);
        }
        off += (size_t)n;
    }
    free(text);
    return NFV_OK;
}

/* Handles a message that is not the reply being waited for. */
static enum nfv_code vm_sw_ovsdb_dispatch(struct vm_sw_conn *c, json_t *msg, struct nfv_err *err)
{
    const char *method = json_string_value(json_object_get(msg, "method"));
    if (!method)
        return NFV_OK; /* a stale reply (an earlier call that timed out) */
    if (strcmp(method, "echo") == 0) {
        json_t *reply = vm_sw_ovsdb_echo_reply_new(msg);
        enum nfv_code rc = vm_sw_ovsdb_send(c, reply, "keepalive", err);
        json_decref(reply);
        return rc;
    }
    if (strcmp(method, "update") == 0) {
        long long cfg;
        if (vm_sw_ovsdb_cur_cfg_parse(json_array_get(json_object_get(msg, "params"), 1), &cfg))
            c->cur_cfg = cfg;
    }
    return NFV_OK;
}

/* Takes the first complete message out of the buffer: *ret (owned) or
 * NULL when none is complete yet. */
static enum nfv_code vm_sw_ovsdb_pop(struct vm_sw_conn *c, json_t **ret, struct nfv_err *err)
{
    size_t n = vm_sw_ovsdb_frame(c->buf, c->buf_len);
    json_error_t jerr;
    *ret = NULL;
    if (n == (size_t)-1) {
        vm_sw_ovsdb_disconnect(c);
        return NFV_ERR(err, NFV_E_PARSE, "switch '%s' sent something that is not JSON-RPC",
                       c->target);
    }
    if (n == 0)
        return NFV_OK;
    *ret = json_loadb(c->buf, n, 0, &jerr);
    memmove(c->buf, c->buf + n, c->buf_len - n);
    c->buf_len -= n;
    if (!*ret) {
        NFV_LOG_DEBUG(LOG_MOD, "%s: bad JSON: %s", c->target, jerr.text);
        vm_sw_ovsdb_disconnect(c);
        return NFV_ERR(err, NFV_E_PARSE, "switch '%s' sent malformed JSON", c->target);
    }
    return NFV_OK;
}

/* One recv() into the buffer: >0 bytes read, 0 end of stream, -1 socket
 * error (errno), -2 out of memory (@err set). */
static ssize_t vm_sw_ovsdb_fill(struct vm_sw_conn *c, struct nfv_err *err)
{
    if (c->buf_cap - c->buf_len < 65536) {
        size_t cap = c->buf_cap ? c->buf_cap * 2 : 131072;
        char *b = realloc(c->buf, cap);
        if (!b) {
            NFV_ERR(err, NFV_E_NOMEM, "out of memory reading from the switch");
            return -2;
        }
        c->buf = b;
        c->buf_cap = cap;
    }
    ssize_t got;
    do
        got = recv(c->fd, c->buf + c->buf_len, c->buf_cap - c->buf_len, 0);
    while (got < 0 && errno == EINTR);
    if (got > 0)
        c->buf_len += (size_t)got;
    return got;
}

/* Reads one message, waiting until @deadline_ms. *ret is owned. */
static enum nfv_code vm_sw_ovsdb_recv(struct vm_sw_conn *c, uint64_t deadline_ms,
                                      const char *during, json_t **ret, struct nfv_err *err)
{
    for (;;) {
        enum nfv_code rc = vm_sw_ovsdb_pop(c, ret, err);
        if (rc != NFV_OK || *ret)
            return rc;
        uint64_t now = vm_sw_ovsdb_now_ms();
        if (now >= deadline_ms) {
            /* The reply may still come; drop the stream so it cannot be
             * taken for the answer to a later request. */
            vm_sw_ovsdb_disconnect(c);
            return NFV_ERR(err, NFV_E_TIMEOUT, "switch '%s' did not answer %s in %u ms", c->target,
                           during, c->timeout_ms);
        }
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)(deadline_ms - now));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return vm_sw_ovsdb_lost(c, errno, during, err);
        if (pr == 0)
            continue;
        ssize_t got = vm_sw_ovsdb_fill(c, err);
        if (got == -2)
            return NFV_E_NOMEM;
        if (got <= 0)
            return vm_sw_ovsdb_lost(c, got < 0 ? errno : 0, during, err);
    }
}

/*
 * Before a request: handles what arrived while the connection was idle
 * (the server's echo probes, monitor updates) and notices a connection the
 * server closed meanwhile (restart, idle probe timeout). Such a connection
 * is dropped quietly, so the call reconnects: nothing was sent on it, so
 * nothing can have been half done.
 */
static enum nfv_code vm_sw_ovsdb_drain(struct vm_sw_conn *c, struct nfv_err *err)
{
    while (c->fd >= 0) {
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        json_t *msg;
        enum nfv_code rc;
        if (poll(&pfd, 1, 0) <= 0)
            return NFV_OK;
        ssize_t got = vm_sw_ovsdb_fill(c, err);
        if (got == -2)
            return NFV_E_NOMEM;
        if (got <= 0) {
            NFV_LOG_DEBUG(LOG_MOD, "%s: idle connection closed; reconnecting", c->target);
            vm_sw_ovsdb_disconnect(c);
            return NFV_OK;
        }
        while ((rc = vm_sw_ovsdb_pop(c, &msg, err)) == NFV_OK && msg) {
            rc = vm_sw_ovsdb_dispatch(c, msg, err);
            json_decref(msg);
            if (rc != NFV_OK)
                return rc;
        }
        if (rc != NFV_OK)
            return rc;
    }
    return NFV_OK;
}

static enum nfv_code vm_sw_ovsdb_connect(struct vm_sw_conn *c, struct nfv_err *err);

/* One request/reply. *ret_result (may be NULL) receives the "result" (owned). */
static enum nfv_code vm_sw_ovsdb_call(struct vm_sw_conn *c, const char *method, json_t *take_params,
                                      const char *during, json_t **ret_result, struct nfv_err *err)
{
    json_int_t id;
    json_t *req;
    enum nfv_code rc;
    uint64_t deadline;

    if ((rc = vm_sw_ovsdb_drain(c, err)) != NFV_OK) {
        json_decref(take_params);
        return rc;
    }
    if (c->fd < 0 && (rc = vm_sw_ovsdb_connect(c, err)) != NFV_OK) {
        json_decref(take_params);
        return rc;
    }
    id = c->next_id++;
    req = vm_sw_ovsdb_request_new(method, take_params, id);
    rc = vm_sw_ovsdb_send(c, req, during, err);
    json_decref(req);
    if (rc != NFV_OK)
        return rc;
    deadline = vm_sw_ovsdb_now_ms() + c->timeout_ms;
    for (;;) {
        json_t *msg, *jid, *jerror;
        if ((rc = vm_sw_ovsdb_recv(c, deadline, during, &msg, err)) != NFV_OK)
            return rc;
        jid = json_object_get(msg, "id");
        if (json_object_get(msg, "method") || !json_is_integer(jid) ||
            json_integer_value(jid) != id) {
            rc = vm_sw_ovsdb_dispatch(c, msg, err);
            json_decref(msg);
            if (rc != NFV_OK)
                return rc;
            continue;
        }
        jerror = json_object_get(msg, "error");
        if (jerror && !json_is_null(jerror)) {
            char *text = json_dumps(jerror, JSON_COMPACT | JSON_ENCODE_ANY);
            NFV_LOG_DEBUG(LOG_MOD, "%s: %s refused: %s", c->target, method, text ? text : "?");
            free(text);
            json_decref(msg);
            return NFV_ERR(err, NFV_E_HYPERVISOR, "switch '%s' refused %s", c->target, during);
        }
        if (ret_result)
            *ret_result = json_incref(json_object_get(msg, "result"));
        json_decref(msg);
        return NFV_OK;
    }
}

static enum nfv_code vm_sw_ovsdb_connect(struct vm_sw_conn *c, struct nfv_err *err)
{
    int e = 0;
    json_t *result = NULL;
    enum nfv_code rc;
    long long cfg;

    c->fd = vm_sw_ovsdb_socket(c->target, &e);
    if (c->fd < 0) {
        NFV_LOG_DEBUG(LOG_MOD, "%s: connect: %s", c->target, strerror(e));
        return NFV_ERR_ERRNO(err, e == EINVAL ? NFV_E_INVAL : NFV_E_UNREACHABLE, e,
                             "switch '%s' cannot be reached", c->target);
    }
    /* The monitor's initial reply carries the current cur_cfg. */
    rc = vm_sw_ovsdb_call(c, "monitor", vm_sw_ovsdb_monitor_params_new(), "monitor setup", &result,
                          err);
    if (rc != NFV_OK) {
        vm_sw_ovsdb_disconnect(c); /* a connection without its monitor is not used */
        return rc;
    }
    if (vm_sw_ovsdb_cur_cfg_parse(result, &cfg))
        c->cur_cfg = cfg;
    json_decref(result);
    NFV_LOG_DEBUG(LOG_MOD, "%s: connected, cur_cfg %lld", c->target, c->cur_cfg);
    return NFV_OK;
}

static void vm_sw_ovsdb_close(struct vm_sw_conn *c)
{
    if (!c)
        return;
    vm_sw_ovsdb_disconnect(c);
    free(c->buf);
    free(c->target);
    free(c->iface_type);
    free(c);
}

static enum nfv_code vm_sw_ovsdb_open(const char *target, const struct vm_sw_open_opts *opts,
                                      struct vm_sw_conn **ret, struct nfv_err *err)
{
    struct vm_sw_conn *c;
    enum nfv_code rc;
    if (!target || (strncmp(target, "unix:", 5) != 0 && strncmp(target, "tcp:", 4) != 0))
        return NFV_ERR(err, NFV_E_INVAL, "'target': '%s' is not unix:PATH or tcp:HOST:PORT",
                       target ? target : "");
    c = calloc(1, sizeof(*c));
    if (!c)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory opening a switch");
    c->fd = -1;
    c->next_id = 1;
    c->cur_cfg = -1;
    c->timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms : 5000;
    c->is_confirm = opts && opts->is_confirm;
    c->target = strdup(target);
    c->iface_type = strdup(opts && opts->iface_type ? opts->iface_type : "");
    if (!c->target || !c->iface_type) {
        vm_sw_ovsdb_close(c);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory opening a switch");
    }
    if ((rc = vm_sw_ovsdb_connect(c, err)) != NFV_OK) {
        vm_sw_ovsdb_close(c);
        return rc;
    }
    *ret = c;
    return NFV_OK;
}

static enum nfv_code vm_sw_ovsdb_ping(struct vm_sw_conn *c, struct nfv_err *err)
{
    return vm_sw_ovsdb_call(c, "echo", json_array(), "keepalive", NULL, err);
}

/* Waits until ovs-vswitchd reports cur_cfg >= @next_cfg (see the file header). */
static enum nfv_code vm_sw_ovsdb_confirm(struct vm_sw_conn *c, long long next_cfg,
                                         const char *during, struct nfv_err *err)
{
    uint64_t deadline = vm_sw_ovsdb_now_ms() + c->timeout_ms;
    while (c->is_confirm && next_cfg >= 0 && c->cur_cfg < next_cfg) {
        json_t *msg;
        enum nfv_code rc = vm_sw_ovsdb_recv(c, deadline, during, &msg, err);
        if (rc == NFV_E_TIMEOUT)
            return NFV_ERR(err, NFV_E_TIMEOUT,
                           "switch '%s' stored %s but ovs-vswitchd did not apply it in %u ms",
                           c->target, during, c->timeout_ms);
        if (rc != NFV_OK)
            return rc;
        rc = vm_sw_ovsdb_dispatch(c, msg, err);
        json_decref(msg);
        if (rc != NFV_OK)
            return rc;
    }
    return NFV_OK;
}

/* Sends write transaction @take_txn and waits for its confirmation. */
static enum nfv_code vm_sw_ovsdb_write(struct vm_sw_conn *c, json_t *take_txn, const char *during,
                                       enum vm_sw_ovsdb_txn_status *ret_status, struct nfv_err *err)
{
    json_t *result = NULL;
    long long next_cfg;
    char detail[256];
    enum nfv_code rc = vm_sw_ovsdb_call(c, "transact", take_txn, during, &result, err);
    if (rc != NFV_OK)
        return rc;
    rc = vm_sw_ovsdb_txn_parse(result, ret_status, &next_cfg, detail, sizeof(detail), err);
    json_decref(result);
    if (rc != NFV_OK)
        return rc;
    if (*ret_status != VM_SW_OVSDB_TXN_OK) {
        NFV_LOG_DEBUG(LOG_MOD, "%s: %s: %s", c->target, during, detail);
        return NFV_OK;
    }
    return vm_sw_ovsdb_confirm(c, next_cfg, during, err);
}

/* Reads a view of @bridge and the @n_ports @ports (all ports when 0),
 * whether the bridge exists or not. */
static enum nfv_code vm_sw_ovsdb_view_read(struct vm_sw_conn *c, const char *bridge,
                                           const char *const *ports, size_t n_ports,
                                           const char *during, struct vm_sw_ovsdb_view *ret,
                                           struct nfv_err *err)
{
    json_t *result = NULL;
    enum nfv_code rc = vm_sw_ovsdb_call(
        c, "transact", vm_sw_ovsdb_read_txn_new(bridge, ports, n_ports), during, &result, err);
    if (rc != NFV_OK)
        return rc;
    rc = vm_sw_ovsdb_view_parse(result, ret, err);
    json_decref(result);
    return rc;
}

/* vm_sw_ovsdb_view_read, NFV_E_NOENT naming @bridge when it does not exist. */
static enum nfv_code vm_sw_ovsdb_read(struct vm_sw_conn *c, const char *bridge,
                                      const char *const *ports, size_t n_ports, const char *during,
                                      struct vm_sw_ovsdb_view *ret, struct nfv_err *err)
{
    enum nfv_code rc = vm_sw_ovsdb_view_read(c, bridge, ports, n_ports, during, ret, err);
    if (rc == NFV_OK && !ret->has_bridge) {
        vm_sw_ovsdb_view_free(ret);
        return NFV_ERR(err, NFV_E_NOENT, "bridge '%s' does not exist on switch '%s'", bridge,
                       c->target);
    }
    return rc;
}

static enum nfv_code vm_sw_ovsdb_bridge_ensure(struct vm_sw_conn *c, const char *bridge,
                                               const char *datapath_type, struct nfv_err *err)
{
    struct vm_sw_ovsdb_view v;
    enum vm_sw_ovsdb_txn_status st;
    enum nfv_code rc = vm_sw_name_check(bridge, "bridge", err);
    if (rc != NFV_OK)
        return rc;
    if ((rc = vm_sw_ovsdb_view_read(c, bridge, &bridge, 1, "bridge read", &v, err)) != NFV_OK)
        return rc;
    if (v.has_bridge) {
        vm_sw_ovsdb_view_free(&v);
        return NFV_OK;
    }
    if (!v.has_ovs_row) {
        vm_sw_ovsdb_view_free(&v);
        return NFV_ERR(err, NFV_E_STATE, "switch '%s' has no Open_vSwitch row (ovs-vsctl init)",
                       c->target);
    }
    if (v.n_ports > 0) {
        vm_sw_ovsdb_view_free(&v);
        return NFV_ERR(err, NFV_E_EXIST, "bridge '%s': a port of that name exists", bridge);
    }
    rc = vm_sw_ovsdb_write(
        c, vm_sw_ovsdb_bridge_create_txn_new(v.ovs_uuid, bridge, datapath_type, c->is_confirm),
        "bridge create", &st, err);
    vm_sw_ovsdb_view_free(&v);
    if (rc == NFV_OK && st != VM_SW_OVSDB_TXN_OK)
        rc = NFV_ERR(err, NFV_E_HYPERVISOR, "switch '%s' refused to create bridge '%s'", c->target,
                     bridge);
    return rc;
}

/* Finds @port in @v: NULL if absent; NFV_E_EXIST if on another bridge. */
static enum nfv_code vm_sw_ovsdb_find(struct vm_sw_conn *c, const struct vm_sw_ovsdb_view *v,
                                      const char *bridge, const char *port,
                                      const struct vm_sw_ovsdb_port **ret, struct nfv_err *err)
{
    (void)c;
    *ret = NULL;
    for (size_t i = 0; i < v->n_ports; i++) {
        if (strcmp(v->ports[i].info.name, port) != 0)
            continue;
        if (!vm_sw_ovsdb_view_on_bridge(v, v->ports[i].uuid))
            return NFV_ERR(err, NFV_E_EXIST, "port '%s' exists on a bridge other than '%s'", port,
                           bridge);
        *ret = &v->ports[i];
    }
    return NFV_OK;
}

/* The error for a write that did not apply (@st not OK, not RACE). */
static enum nfv_code vm_sw_ovsdb_status_err(struct vm_sw_conn *c, enum vm_sw_ovsdb_txn_status st,
                                            const char *bridge, const char *port,
                                            struct nfv_err *err)
{
    if (st == VM_SW_OVSDB_TXN_NO_ROW)
        return NFV_ERR(err, NFV_E_NOENT, "bridge '%s' or port '%s' vanished during the change",
                       bridge, port);
    return NFV_ERR(err, NFV_E_HYPERVISOR, "switch '%s' refused the change of port '%s'", c->target,
                   port);
}

/* The counts trunk_ensure and trunks_ensure report. */
struct vm_sw_ovsdb_tally {
    unsigned n_added, n_removed, n_changed;
};

/* Appends to @txn what makes @e's port carry exactly its VLANs, given what
 * the switch has (@p, NULL if the port is missing), and counts it. */
static enum nfv_code vm_sw_ovsdb_trunk_append(struct vm_sw_conn *c, json_t *txn, unsigned idx,
                                              const char *bridge, const struct vm_sw_expect *e,
                                              const struct vm_sw_ovsdb_port *p,
                                              struct vm_sw_ovsdb_tally *t, struct nfv_err *err)
{
    struct vm_sw_vlanset add, remove;
    if (p && p->info.tag >= 0)
        return NFV_ERR(err, NFV_E_EXIST, "port '%s' is an access port (tag %d), not a trunk",
                       e->port, p->info.tag);
    if (!p) {
        vm_sw_ovsdb_port_create_append(txn, idx, bridge, e->port, c->iface_type, &e->vlans, -1);
        t->n_added += vm_sw_vlanset_count(&e->vlans);
        t->n_changed++;
        return NFV_OK;
    }
    for (size_t i = 0; i < 64; i++) {
        add.bits[i] = e->vlans.bits[i] & ~p->info.trunks.bits[i];
        remove.bits[i] = p->info.trunks.bits[i] & ~e->vlans.bits[i];
    }
    if (vm_sw_vlanset_count(&add) == 0 && vm_sw_vlanset_count(&remove) == 0)
        return NFV_OK;
    vm_sw_ovsdb_trunk_change_append(txn, p->uuid, &p->info.trunks, &add, &remove);
    t->n_added += vm_sw_vlanset_count(&add);
    t->n_removed += vm_sw_vlanset_count(&remove);
    t->n_changed++;
    return NFV_OK;
}

/*
 * The one trunk algorithm: read the bridge and the ports, build one
 * transaction for all of them (each changed port guarded by a "wait" on the
 * trunks read), send it if it holds anything, confirm. A "wait" that fails
 * means someone edited a port in between: read again.
 */
static enum nfv_code vm_sw_ovsdb_trunks_apply(struct vm_sw_conn *c, const char *bridge,
                                              const struct vm_sw_expect *ports, size_t n_ports,
                                              struct vm_sw_ovsdb_tally *ret, struct nfv_err *err)
{
    const char **names = NULL;
    const char *what = n_ports == 1 ? ports[0].port : bridge;
    enum nfv_code rc = vm_sw_trunks_check(bridge, ports, n_ports, err);
    if (rc != NFV_OK)
        return rc;
    if (!(names = calloc(n_ports, sizeof(*names))))
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory changing trunks");
    for (size_t i = 0; i < n_ports; i++)
        names[i] = ports[i].port;
    for (unsigned attempt = 0; attempt < VM_SW_OVSDB_RACE_TRIES; attempt++) {
        struct vm_sw_ovsdb_view v;
        struct vm_sw_ovsdb_tally t = {0};
        enum vm_sw_ovsdb_txn_status st;
        json_t *txn;
        long long db_cfg;
        if ((rc = vm_sw_ovsdb_read(c, bridge, names, n_ports, "trunk read", &v, err)) != NFV_OK)
            break;
        txn = vm_sw_ovsdb_txn_new("trunk change", what);
        for (size_t i = 0; rc == NFV_OK && i < n_ports; i++) {
            const struct vm_sw_ovsdb_port *p;
            if ((rc = vm_sw_ovsdb_find(c, &v, bridge, ports[i].port, &p, err)) == NFV_OK)
                rc = vm_sw_ovsdb_trunk_append(c, txn, (unsigned)i, bridge, &ports[i], p, &t, err);
        }
        db_cfg = v.next_cfg;
        vm_sw_ovsdb_view_free(&v);
        if (rc != NFV_OK || t.n_changed == 0) {
            json_decref(txn);
            /* Nothing to write: still wait until ovs-vswitchd has caught up
             * with the database (a retry after a stored but unconfirmed
             * change). */
            if (rc == NFV_OK && (rc = vm_sw_ovsdb_confirm(c, db_cfg, "trunk check", err)) == NFV_OK)
                *ret = t;
            break;
        }
        rc = vm_sw_ovsdb_write(c, vm_sw_ovsdb_txn_finish(txn, c->is_confirm), "trunk change", &st,
                               err);
        if (rc != NFV_OK) {
            nfv_err_prefix(err, "%s '%s'", n_ports == 1 ? "port" : "bridge", what);
            break;
        }
        if (st == VM_SW_OVSDB_TXN_RACE) {
            /* Someone edited the trunks since the read: read again. */
            rc = NFV_ERR(err, NFV_E_STATE,
                         "%s '%s': trunks changed by someone else %d times in a row",
                         n_ports == 1 ? "port" : "bridge", what, VM_SW_OVSDB_RACE_TRIES);
            continue;
        }
        if (st != VM_SW_OVSDB_TXN_OK)
            rc = vm_sw_ovsdb_status_err(c, st, bridge, what, err);
        else
            *ret = t;
        break;
    }
    free(names);
    return rc;
}

static enum nfv_code vm_sw_ovsdb_trunk_ensure(struct vm_sw_conn *c, const char *bridge,
                                              const char *port, const struct vm_sw_vlanset *vlans,
                                              unsigned *ret_n_added, unsigned *ret_n_removed,
                                              struct nfv_err *err)
{
    struct vm_sw_expect e = {.port = port};
    struct vm_sw_ovsdb_tally t = {0};
    enum nfv_code rc;
    if (!vlans)
        return vm_sw_trunk_vlans_check(vlans, err);
    e.vlans = *vlans;
    if ((rc = vm_sw_ovsdb_trunks_apply(c, bridge, &e, 1, &t, err)) != NFV_OK)
        return rc;
    if (ret_n_added)
        *ret_n_added = t.n_added;
    if (ret_n_removed)
        *ret_n_removed = t.n_removed;
    return NFV_OK;
}

static enum nfv_code vm_sw_ovsdb_trunks_ensure(struct vm_sw_conn *c, const char *bridge,
                                               const struct vm_sw_expect *ports, size_t n_ports,
                                               unsigned *ret_n_changed, struct nfv_err *err)
{
    struct vm_sw_ovsdb_tally t = {0};
    enum nfv_code rc = vm_sw_ovsdb_trunks_apply(c, bridge, ports, n_ports, &t, err);
    if (rc == NFV_OK && ret_n_changed)
        *ret_n_changed = t.n_changed;
    return rc;
}

static enum nfv_code vm_sw_ovsdb_access_ensure(struct vm_sw_conn *c, const char *bridge,
                                               const char *port, unsigned tag, struct nfv_err *err)
{
    struct vm_sw_ovsdb_view v;
    const struct vm_sw_ovsdb_port *p;
    enum vm_sw_ovsdb_txn_status st = VM_SW_OVSDB_TXN_OK;
    json_t *txn = NULL;
    enum nfv_code rc = vm_sw_port_name_check(bridge, port, err);
    if (rc == NFV_OK)
        rc = vm_sw_vlan_check(tag, "tag", err);
    if (rc == NFV_OK)
        rc = vm_sw_ovsdb_read(c, bridge, &port, 1, "port read", &v, err);
    if (rc != NFV_OK)
        return rc;
    if ((rc = vm_sw_ovsdb_find(c, &v, bridge, port, &p, err)) != NFV_OK) {
        vm_sw_ovsdb_view_free(&v);
        return rc;
    }
    if (p && vm_sw_vlanset_count(&p->info.trunks)) {
        vm_sw_ovsdb_view_free(&v);
        return NFV_ERR(err, NFV_E_EXIST, "port '%s' is a trunk, not an access port", port);
    }
    if (!p) {
        txn = vm_sw_ovsdb_txn_new("access create", port);
        vm_sw_ovsdb_port_create_append(txn, 0, bridge, port, c->iface_type, NULL, (int)tag);
        txn = vm_sw_ovsdb_txn_finish(txn, c->is_confirm);
    } else if (p->info.tag != (int)tag)
        txn = vm_sw_ovsdb_tag_set_txn_new(p->uuid, tag, c->is_confirm);
    vm_sw_ovsdb_view_free(&v);
    if (txn && (rc = vm_sw_ovsdb_write(c, txn, "access port change", &st, err)) != NFV_OK) {
        nfv_err_prefix(err, "port '%s'", port);
        return rc;
    }
    return st == VM_SW_OVSDB_TXN_OK ? NFV_OK : vm_sw_ovsdb_status_err(c, st, bridge, port, err);
}

static enum nfv_code vm_sw_ovsdb_port_get(struct vm_sw_conn *c, const char *bridge,
                                          const char *port, struct vm_sw_port_info *ret,
                                          struct nfv_err *err)
{
    struct vm_sw_ovsdb_view v;
    const struct vm_sw_ovsdb_port *p = NULL;
    enum nfv_code rc = vm_sw_port_name_check(bridge, port, err);
    if (rc == NFV_OK)
        rc = vm_sw_ovsdb_read(c, bridge, &port, 1, "port read", &v, err);
    if (rc != NFV_OK)
        return rc;
    rc = vm_sw_ovsdb_find(c, &v, bridge, port, &p, err);
    if (rc == NFV_OK && !p)
        rc = NFV_ERR(err, NFV_E_NOENT, "port '%s' is not on bridge '%s'", port, bridge);
    if (rc == NFV_OK)
        *ret = p->info;
    vm_sw_ovsdb_view_free(&v);
    return rc;
}

static enum nfv_code vm_sw_ovsdb_port_delete(struct vm_sw_conn *c, const char *bridge,
                                             const char *port, bool is_if_exists,
                                             struct nfv_err *err)
{
    struct vm_sw_ovsdb_view v;
    const struct vm_sw_ovsdb_port *p = NULL;
    enum vm_sw_ovsdb_txn_status st;
    enum nfv_code rc = vm_sw_port_name_check(bridge, port, err);
    if (rc == NFV_OK)
        rc = vm_sw_ovsdb_read(c, bridge, &port, 1, "port read", &v, err);
    if (rc != NFV_OK)
        return rc;
    rc = vm_sw_ovsdb_find(c, &v, bridge, port, &p, err);
    if (rc == NFV_OK && !p) {
        vm_sw_ovsdb_view_free(&v);
        return is_if_exists
                   ? NFV_OK
                   : NFV_ERR(err, NFV_E_NOENT, "port '%s' is not on bridge '%s'", port, bridge);
    }
    if (rc == NFV_OK)
        rc = vm_sw_ovsdb_write(c, vm_sw_ovsdb_port_delete_txn_new(bridge, p->uuid, c->is_confirm),
                               "port delete", &st, err);
    vm_sw_ovsdb_view_free(&v);
    if (rc == NFV_OK && st != VM_SW_OVSDB_TXN_OK)
        rc = vm_sw_ovsdb_status_err(c, st, bridge, port, err);
    return rc;
}

static int vm_sw_ovsdb_port_cmp(const void *a, const void *b)
{
    return strcmp(((const struct vm_sw_ovsdb_port *)a)->info.name,
                  ((const struct vm_sw_ovsdb_port *)b)->info.name);
}

static enum nfv_code vm_sw_ovsdb_port_list(struct vm_sw_conn *c, const char *bridge,
                                           vm_sw_port_cb cb, void *opaque, struct nfv_err *err)
{
    struct vm_sw_ovsdb_view v;
    enum nfv_code rc = vm_sw_name_check(bridge, "bridge", err);
    if (rc == NFV_OK)
        rc = vm_sw_ovsdb_read(c, bridge, NULL, 0, "port list", &v, err);
    if (rc != NFV_OK)
        return rc;
    qsort(v.ports, v.n_ports, sizeof(*v.ports), vm_sw_ovsdb_port_cmp);
    for (size_t i = 0; i < v.n_ports; i++) {
        if (!vm_sw_ovsdb_view_on_bridge(&v, v.ports[i].uuid) ||
            strcmp(v.ports[i].info.name, bridge) == 0)
            continue;
        if (cb(opaque, &v.ports[i].info) != 0)
            break;
    }
    vm_sw_ovsdb_view_free(&v);
    return NFV_OK;
}

const struct vm_sw_driver vm_sw_ovsdb = {
    .name = "ovsdb",
    .open = vm_sw_ovsdb_open,
    .close = vm_sw_ovsdb_close,
    .ping = vm_sw_ovsdb_ping,
    .bridge_ensure = vm_sw_ovsdb_bridge_ensure,
    .trunk_ensure = vm_sw_ovsdb_trunk_ensure,
    .trunks_ensure = vm_sw_ovsdb_trunks_ensure,
    .access_ensure = vm_sw_ovsdb_access_ensure,
    .port_get = vm_sw_ovsdb_port_get,
    .port_delete = vm_sw_ovsdb_port_delete,
    .port_list = vm_sw_ovsdb_port_list,
};
