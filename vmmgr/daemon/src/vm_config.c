/*
 * vm_config.c - vmmgrd configuration (see vm_config.h).
 *
 * Keys are described once, in the table below: name, kind, where the value
 * goes and its limits. The parser and the flag handler both go through it, so
 * a key cannot be accepted in one place and rejected in the other.
 */
#include "vm/vm_config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm_sw.h"

enum key_kind {
    KEY_PATH,
    KEY_STR,
    KEY_UINT,
    KEY_OCTAL,
    KEY_SIZE,
    KEY_LEVEL,
    KEY_TARGET,
    KEY_RESERVE,
    KEY_BOOL
};

struct key_desc {
    const char *name;
    enum key_kind kind;
    size_t offset;
    size_t size; /* buffer size for strings */
    unsigned long long min, max;
};

#define F(field) offsetof(struct vm_config, field), sizeof(((struct vm_config *)0)->field)

static const struct key_desc keys[] = {
    {"socket", KEY_PATH, F(socket_path), 0, 0},
    {"socket_mode", KEY_OCTAL, F(socket_mode), 0, 0777},
    {"state_dir", KEY_PATH, F(state_dir), 0, 0},
    {"db", KEY_PATH, F(db_path), 0, 0},
    {"pid_file", KEY_PATH, F(pid_file), 0, 0},
    {"listen_tcp", KEY_STR, F(listen_tcp), 0, 0},
    {"api_token_file", KEY_PATH, F(token_file), 0, 0},
    {"log_level", KEY_LEVEL, F(log_level), 0, 0},
    {"log_target", KEY_TARGET, F(log_target), 0, 0},
    {"keepalive_interval", KEY_UINT, F(keepalive_interval_s), 0, 3600},
    {"keepalive_count", KEY_UINT, F(keepalive_count), 0, 100},
    {"reconnect_min_ms", KEY_UINT, F(reconnect_min_ms), 10, 3600000},
    {"reconnect_max_ms", KEY_UINT, F(reconnect_max_ms), 10, 3600000},
    {"max_body_bytes", KEY_SIZE, F(max_body_size), 1024, 64ull << 20},
    {"event_keep", KEY_UINT, F(event_keep), 100, 10000000},
    {"longpoll_max_s", KEY_UINT, F(longpoll_max_s), 1, 3600},
    {"healing_reserve", KEY_RESERVE, F(healing_reserve), 0, 0},
    {"debug_crash_at", KEY_STR, F(crash_at), 0, 0},
    {"tls_cert", KEY_PATH, F(tls_cert), 0, 0},
    {"tls_key", KEY_PATH, F(tls_key), 0, 0},
    {"tls_ca", KEY_PATH, F(tls_ca), 0, 0},
    {"allow_plain_tcp", KEY_BOOL, F(is_plain_tcp_allowed), 0, 0},
    {"max_connections", KEY_UINT, F(max_connections), 4, 4096},
    {"max_connections_per_ip", KEY_UINT, F(max_connections_per_ip), 1, 4096},
    {"http_timeout_s", KEY_UINT, F(http_timeout_s), 1, 600},
    {"heal", KEY_BOOL, F(is_heal_enabled), 0, 0},
    {"heal_poll_ms", KEY_UINT, F(heal_poll_ms), 50, 600000},
    {"heal_bmc_timeout_ms", KEY_UINT, F(heal_bmc_timeout_ms), 100, 60000},
    {"heal_fence_timeout_ms", KEY_UINT, F(heal_fence_timeout_ms), 500, 600000},
    {"heal_unreachable_periods", KEY_UINT, F(heal_unreachable_periods), 0, 1000},
    {"heal_rule_unreachable_and_off", KEY_BOOL, F(is_heal_unreachable_and_off), 0, 0},
    {"heal_rule_unreachable_and_sel", KEY_BOOL, F(is_heal_unreachable_and_sel), 0, 0},
    {"heal_rule_sel_alone", KEY_BOOL, F(is_heal_sel_alone), 0, 0},
    {"heal_rebuild_retry_ms", KEY_UINT, F(heal_rebuild_retry_ms), 100, 3600000},
    {"heal_hook_exec", KEY_PATH, F(heal_hook_exec), 0, 0},
    {"heal_hook_url", KEY_STR, F(heal_hook_url), 0, 0},
    {"heal_hook_timeout_ms", KEY_UINT, F(heal_hook_timeout_ms), 100, 60000},
    {"heal_hook_attempts", KEY_UINT, F(heal_hook_attempts), 1, 10},
    {"switch", KEY_STR, F(switch_target), 0, 0},
    {"switch_bridge", KEY_STR, F(switch_bridge), 0, 0},
    {"host_bridge", KEY_STR, F(host_bridge), 0, 0},
    {"switch_confirm", KEY_BOOL, F(is_switch_confirm), 0, 0},
    {"switch_iface_type", KEY_STR, F(switch_iface_type), 0, 0},
    {"switch_timeout_ms", KEY_UINT, F(switch_timeout_ms), 100, 600000},
    {"switch_bridge_datapath", KEY_STR, F(switch_bridge_datapath), 0, 0},
    {"nova_config", KEY_PATH, F(nova_config), 0, 0}, /* issue 14: Nova as the VIM */
};

static enum nfv_code parse_ull(const char *key, const char *value, int base, unsigned long long min,
                               unsigned long long max, unsigned long long *ret,
                               struct nfv_err *err);

static const char *const reserve_names[VM_RESERVE__COUNT] = {"host", "rack", "off"};

const char *vm_reserve_to_string(enum vm_reserve r)
{
    return (unsigned)r < VM_RESERVE__COUNT ? reserve_names[r] : "?";
}

enum vm_reserve vm_reserve_from_string(const char *s)
{
    for (unsigned i = 0; i < VM_RESERVE__COUNT; i++)
        if (strcmp(reserve_names[i], s) == 0)
            return (enum vm_reserve)i;
    return VM_RESERVE__COUNT;
}

void vm_config_defaults(struct vm_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->socket_path, sizeof(c->socket_path), "/run/vmmgr/vmmgrd.sock");
    c->socket_mode = 0660;
    snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/vmmgr");
    c->log_level = NFV_LOG_INFO;
    c->log_target = VM_LOG_TARGET_STDERR;
    c->keepalive_interval_s = 5;
    c->keepalive_count = 3;
    c->reconnect_min_ms = 500;
    c->reconnect_max_ms = 30000;
    c->max_body_size = 1u << 20;
    c->event_keep = 100000;
    c->longpoll_max_s = 60;
    c->healing_reserve = VM_RESERVE_HOST;
    c->is_heal_enabled = true;
    c->heal_poll_ms = 1000;
    c->heal_bmc_timeout_ms = 1000;
    c->heal_fence_timeout_ms = 10000;
    c->heal_unreachable_periods = 3;
    c->is_heal_unreachable_and_off = true;
    c->is_heal_unreachable_and_sel = true;
    c->heal_rebuild_retry_ms = 30000;
    c->heal_hook_timeout_ms = 2000;
    c->heal_hook_attempts = 3;
    c->max_connections = 256;
    c->max_connections_per_ip = 16;
    c->http_timeout_s = 15;
    c->unix_peers.default_role = VM_AUTH_READER;
    snprintf(c->switch_bridge, sizeof(c->switch_bridge), "br-tor");
    snprintf(c->host_bridge, sizeof(c->host_bridge), "br-int");
    c->is_switch_confirm = true;
    c->switch_timeout_ms = 5000;
}

/* The switch keys together (a target the drivers know, usable names). */
static enum nfv_code switch_finish(const struct vm_config *c, struct nfv_err *err)
{
    if (vm_sw_name_check(c->host_bridge, "host_bridge", err) != NFV_OK)
        return NFV_E_INVAL;
    if (!c->switch_target[0])
        return NFV_OK;
    if (!vm_sw_driver_for(c->switch_target))
        return NFV_ERR(err, NFV_E_INVAL,
                       "'switch': '%s' is not unix:PATH, tcp:HOST:PORT or fake:NAME",
                       c->switch_target);
    if (vm_sw_name_check(c->switch_bridge, "switch_bridge", err) != NFV_OK)
        return NFV_E_INVAL;
    if (c->switch_iface_type[0] &&
        vm_sw_name_check(c->switch_iface_type, "switch_iface_type", err) != NFV_OK)
        return NFV_E_INVAL;
    if (c->switch_bridge_datapath[0] && strcmp(c->switch_bridge_datapath, "netdev") != 0 &&
        strcmp(c->switch_bridge_datapath, "system") != 0)
        return NFV_ERR(err, NFV_E_INVAL, "'switch_bridge_datapath': '%s' is not netdev or system",
                       c->switch_bridge_datapath);
    return NFV_OK;
}

/* Keys with a name part: uri_alias.NAME, unix_uid.N, unix_gid.N, and
 * unix_default_role. Returns NFV_E__COUNT when @key is none of them. */
static enum nfv_code set_named(struct vm_config *c, const char *key, const char *value,
                               struct nfv_err *err)
{
    unsigned long long id;
    enum vm_auth_role role;
    bool is_gid = strncmp(key, "unix_gid.", 9) == 0;

    if (strncmp(key, "uri_alias.", 10) == 0) {
        if (vm_uri_check_config(key + 10, value, NULL, NULL, err) != NFV_OK ||
            vm_uri_aliases_set(&c->uri_aliases, key + 10, value, err) != NFV_OK)
            return NFV_E_INVAL;
        return NFV_OK;
    }
    if (!is_gid && strncmp(key, "unix_uid.", 9) != 0 && strcmp(key, "unix_default_role") != 0)
        return NFV_E__COUNT;
    role = vm_auth_role_from_string(value);
    if (role == VM_AUTH__COUNT)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not one of none, reader, operator, admin",
                       key, value);
    if (key[5] == 'd') { /* unix_default_role */
        c->unix_peers.default_role = role;
        return NFV_OK;
    }
    if (parse_ull(key, key + 9, 10, 0, UINT32_MAX - 1, &id, err) != NFV_OK)
        return NFV_E_INVAL;
    return vm_auth_peers_set(&c->unix_peers, is_gid, (unsigned)id, role, err);
}

static enum nfv_code parse_ull(const char *key, const char *value, int base, unsigned long long min,
                               unsigned long long max, unsigned long long *ret, struct nfv_err *err)
{
    char *end;
    unsigned long long v;

    if (!*value || value[0] == '-' || value[0] == '+')
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not a number", key, value);
    errno = 0;
    v = strtoull(value, &end, base);
    if (errno || *end != '\0')
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not a number", key, value);
    if (v < min || v > max)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': %llu is out of range (%llu..%llu)", key, v, min,
                       max);
    *ret = v;
    return NFV_OK;
}

enum nfv_code vm_config_set(struct vm_config *c, const char *key, const char *value,
                            struct nfv_err *err)
{
    char *base = (char *)c;
    unsigned long long v;
    enum nfv_code code = set_named(c, key, value, err);

    if (code != NFV_E__COUNT)
        return code;

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const struct key_desc *k = &keys[i];
        if (strcmp(k->name, key) != 0)
            continue;
        switch (k->kind) {
        case KEY_PATH:
        case KEY_STR:
            if (strlen(value) >= k->size)
                return NFV_ERR(err, NFV_E_INVAL, "'%s': value is longer than %zu bytes", key,
                               k->size - 1);
            if (k->kind == KEY_PATH && *value && value[0] != '/')
                return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not an absolute path", key, value);
            memcpy(base + k->offset, value, strlen(value) + 1);
            return NFV_OK;
        case KEY_UINT:
        case KEY_OCTAL:
            if (parse_ull(key, value, k->kind == KEY_OCTAL ? 8 : 10, k->min, k->max, &v, err))
                return NFV_E_INVAL;
            *(unsigned *)(base + k->offset) = (unsigned)v;
            return NFV_OK;
        case KEY_SIZE:
            if (parse_ull(key, value, 10, k->min, k->max, &v, err))
                return NFV_E_INVAL;
            *(size_t *)(base + k->offset) = (size_t)v;
            return NFV_OK;
        case KEY_LEVEL: {
            enum nfv_log_level l = nfv_log_level_from_string(value);
            if (l == NFV_LOG__COUNT)
                return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not one of err, warn, info, debug",
                               key, value);
            c->log_level = l;
            return NFV_OK;
        }
        case KEY_TARGET:
            if (strcmp(value, "stderr") == 0)
                c->log_target = VM_LOG_TARGET_STDERR;
            else if (strcmp(value, "syslog") == 0)
                c->log_target = VM_LOG_TARGET_SYSLOG;
            else
                return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not one of stderr, syslog", key,
                               value);
            return NFV_OK;
        case KEY_RESERVE: {
            enum vm_reserve r = vm_reserve_from_string(value);
            if (r == VM_RESERVE__COUNT)
                return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not one of host, rack, off", key,
                               value);
            c->healing_reserve = r;
            return NFV_OK;
        }
        case KEY_BOOL:
            if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
                *(bool *)(base + k->offset) = true;
            else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 ||
                     strcmp(value, "0") == 0)
                *(bool *)(base + k->offset) = false;
            else
                return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not yes or no", key, value);
            return NFV_OK;
        }
    }
    return NFV_ERR(err, NFV_E_INVAL, "'%s': unknown key", key);
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

enum nfv_code vm_config_lines(const char *text, const char *file_name, vm_config_set_fn set,
                              void *opaque, struct nfv_err *err)
{
    char line[PATH_MAX + 256];
    unsigned line_no = 0;
    const char *p = text;

    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *key, *value, *eq;
        enum nfv_code rc;

        line_no++;
        if (len >= sizeof(line))
            return NFV_ERR(err, NFV_E_PARSE, "%s:%u: line too long", file_name, line_no);
        memcpy(line, p, len);
        line[len] = '\0';
        p = nl ? nl + 1 : p + len;

        key = trim(line);
        if (*key == '\0' || *key == '#')
            continue;
        eq = strchr(key, '=');
        if (!eq)
            return NFV_ERR(err, NFV_E_PARSE, "%s:%u: expected 'key = value'", file_name, line_no);
        *eq = '\0';
        key = trim(key);
        value = trim(eq + 1);
        if (*value == '"') {
            size_t vlen = strlen(value);
            if (vlen < 2 || value[vlen - 1] != '"')
                return NFV_ERR(err, NFV_E_PARSE, "%s:%u: '%s': unterminated quote", file_name,
                               line_no, key);
            value[vlen - 1] = '\0';
            value++;
        } else {
            /* An unquoted value ends at a comment. */
            char *hash = strchr(value, '#');
            if (hash) {
                *hash = '\0';
                value = trim(value);
            }
        }
        rc = set(opaque, key, value, err);
        if (rc != NFV_OK) {
            nfv_err_prefix(err, "%s:%u", file_name, line_no);
            explicit_bzero(line, sizeof(line));
            return rc;
        }
    }
    explicit_bzero(line, sizeof(line)); /* nova_config's password passes here */
    return NFV_OK;
}

static enum nfv_code config_set_cb(void *opaque, const char *key, const char *value,
                                   struct nfv_err *err)
{
    return vm_config_set(opaque, key, value, err);
}

enum nfv_code vm_config_parse(struct vm_config *c, const char *text, const char *file_name,
                              struct nfv_err *err)
{
    return vm_config_lines(text, file_name, config_set_cb, c, err);
}

enum nfv_code vm_config_finish(struct vm_config *c, struct nfv_err *err)
{
    if (c->socket_path[0] == '\0')
        return NFV_ERR(err, NFV_E_INVAL, "'socket': must not be empty");
    if (c->state_dir[0] == '\0')
        return NFV_ERR(err, NFV_E_INVAL, "'state_dir': must not be empty");
    if (c->reconnect_min_ms > c->reconnect_max_ms)
        return NFV_ERR(err, NFV_E_INVAL, "'reconnect_min_ms': larger than reconnect_max_ms");
    if (switch_finish(c, err) != NFV_OK)
        return NFV_E_INVAL;
    if (c->db_path[0] == '\0') {
        int n = snprintf(c->db_path, sizeof(c->db_path), "%s/vmmgr.db", c->state_dir);
        if (n < 0 || (size_t)n >= sizeof(c->db_path))
            return NFV_ERR(err, NFV_E_INVAL, "'state_dir': path too long");
    }
    if (c->listen_tcp[0]) {
        char addr[128];
        unsigned port;
        if (vm_config_split_listen(c->listen_tcp, addr, sizeof(addr), &port, err) != NFV_OK)
            return NFV_E_INVAL;
        /* TCP without a token would expose the API to the network. */
        if (c->token_file[0] == '\0')
            return NFV_ERR(err, NFV_E_INVAL, "'listen_tcp': needs api_token_file");
        /* Without TLS the token crosses the network in clear: only where
         * the network is this machine, and only when asked for. */
        if (!c->tls_cert[0]) {
            if (!c->is_plain_tcp_allowed)
                return NFV_ERR(err, NFV_E_INVAL,
                               "'listen_tcp': needs tls_cert and tls_key (or allow_plain_tcp = "
                               "yes on a loopback address)");
            if (strncmp(addr, "127.", 4) != 0)
                return NFV_ERR(err, NFV_E_INVAL,
                               "'allow_plain_tcp': plain TCP only on a loopback address "
                               "(127.0.0.0/8), not '%s'",
                               addr[0] ? addr : "*");
        }
    }
    if ((c->tls_cert[0] != 0) != (c->tls_key[0] != 0))
        return NFV_ERR(err, NFV_E_INVAL, "'%s': tls_cert and tls_key go together",
                       c->tls_cert[0] ? "tls_key" : "tls_cert");
    if (c->tls_ca[0] && !c->tls_cert[0])
        return NFV_ERR(err, NFV_E_INVAL, "'tls_ca': needs tls_cert and tls_key");
    if (c->max_connections_per_ip > c->max_connections)
        return NFV_ERR(err, NFV_E_INVAL, "'max_connections_per_ip': larger than max_connections");
    if (c->heal_hook_url[0] && strncmp(c->heal_hook_url, "http://", 7) != 0 &&
        strncmp(c->heal_hook_url, "https://", 8) != 0)
        return NFV_ERR(err, NFV_E_INVAL, "'heal_hook_url': must start with http:// or https://");
    if (c->heal_bmc_timeout_ms > c->heal_fence_timeout_ms)
        return NFV_ERR(err, NFV_E_INVAL,
                       "'heal_bmc_timeout_ms': larger than heal_fence_timeout_ms");
    if (!c->heal_unreachable_periods && !c->is_heal_unreachable_and_off &&
        !c->is_heal_unreachable_and_sel && !c->is_heal_sel_alone)
        return NFV_ERR(err, NFV_E_INVAL,
                       "'heal_unreachable_periods': with every heal_rule_* off no failure could "
                       "ever be confirmed (set heal = no to turn healing off)");
    return NFV_OK;
}

enum nfv_code vm_config_split_listen(const char *listen, char *addr, size_t addr_size,
                                     unsigned *ret_port, struct nfv_err *err)
{
    const char *colon = strrchr(listen, ':');
    unsigned long long port;
    size_t alen;

    if (!colon)
        return NFV_ERR(err, NFV_E_INVAL, "'listen_tcp': '%s' is not ADDR:PORT", listen);
    alen = (size_t)(colon - listen);
    if (alen >= addr_size)
        return NFV_ERR(err, NFV_E_INVAL, "'listen_tcp': address too long");
    if (parse_ull("listen_tcp", colon + 1, 10, 1, 65535, &port, err) != NFV_OK)
        return NFV_E_INVAL;
    memcpy(addr, listen, alen);
    addr[alen] = '\0';
    *ret_port = (unsigned)port;
    return NFV_OK;
}
