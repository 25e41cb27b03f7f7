/*
 * fuzz_vm_config.c - vmmgrd's configuration file (vm_config_parse,
 * vm_config_finish, vm_config_split_listen in vm_config.h; keys in
 * docs/vmmgrd.md).
 *
 * Properties: errors carry "FILE:LINE: ..." messages; every path of an
 * accepted config is NUL-terminated inside its buffer; retry delays keep
 * min <= max after finish; an accepted listen_tcp splits into an address
 * and a port 1..65535.
 */
#include "fuzz_util.h"
#include "vm/vm_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nfv_err err;

    if (size > 65536)
        return 0;
    char *text = fuzz_strndup(data, size);
    struct vm_config *c = malloc(sizeof(*c));
    FUZZ_CHECK(c);
    vm_config_defaults(c);
    if (vm_config_parse(c, text, "fuzz.conf", &err) != NFV_OK) {
        FUZZ_CHECK(strncmp(err.msg, "fuzz.conf:", 10) == 0);
        goto out;
    }
    FUZZ_CHECK(memchr(c->socket_path, '\0', sizeof(c->socket_path)));
    FUZZ_CHECK(memchr(c->state_dir, '\0', sizeof(c->state_dir)));
    FUZZ_CHECK(memchr(c->listen_tcp, '\0', sizeof(c->listen_tcp)));
    FUZZ_CHECK(c->log_target < VM_LOG_TARGET__COUNT && c->healing_reserve < VM_RESERVE__COUNT);
    if (vm_config_finish(c, &err) != NFV_OK) {
        FUZZ_CHECK(err.msg[0]);
        goto out;
    }
    FUZZ_CHECK(memchr(c->db_path, '\0', sizeof(c->db_path)));
    FUZZ_CHECK(c->reconnect_min_ms <= c->reconnect_max_ms);
    if (c->listen_tcp[0]) {
        char addr[128];
        unsigned port = 0;
        if (vm_config_split_listen(c->listen_tcp, addr, sizeof(addr), &port, &err) == NFV_OK)
            FUZZ_CHECK(port >= 1 && port <= 65535);
    }
out:
    free(c);
    free(text);
    return 0;
}
