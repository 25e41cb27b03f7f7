/*
 * fuzz_nat_conf.c - vmmgr-nat's config file and --outside-ip list
 * (nat_conf_load_text, nat_conf_set_outside_ips, nat_conf_finish in
 * vnf-samples/nat/nat.h; syntax in docs/vnf-samples.md).
 *
 * Input: the config text; its first line, when it starts with "--", is
 * given to nat_conf_set_outside_ips instead. Properties: errors carry
 * "FILE:LINE: reason"; a finished config has 1..64 outside addresses, a
 * port range lo <= hi, at most NAT_MAX_FORWARDS forwards each found again
 * by nat_fwd_find, and port candidates that stay inside the range.
 */
#include "fuzz_util.h"
#include "nat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nfv_err err;

    if (size > 65536)
        return 0;
    char *text = fuzz_strndup(data, size);
    char *body = text;
    struct nat_conf *c = malloc(sizeof(*c));
    FUZZ_CHECK(c);
    nat_conf_init(c);
    if (strncmp(text, "--", 2) == 0) {
        char *nl = strchr(text, '\n');
        body = nl ? nl + 1 : text + strlen(text);
        if (nl)
            *nl = '\0';
        if (nat_conf_set_outside_ips(c, text + 2, &err) != NFV_OK)
            FUZZ_CHECK(err.msg[0]);
    }
    if (nat_conf_load_text(c, "fuzz.conf", body, &err) != NFV_OK) {
        FUZZ_CHECK(err.msg[0]);
        goto out;
    }
    if (nat_conf_finish(c, "fuzz.conf", &err) != NFV_OK) {
        FUZZ_CHECK(err.msg[0]);
        goto out;
    }
    FUZZ_CHECK(c->n_outside_ip >= 1 && c->n_outside_ip <= NAT_MAX_OUTSIDE_IPS);
    FUZZ_CHECK(c->port_lo <= c->port_hi);
    FUZZ_CHECK(c->n_fwd <= NAT_MAX_FORWARDS);
    for (unsigned i = 0; i < c->n_fwd; i++) {
        const struct nat_fwd *fw = &c->fwd[i];
        FUZZ_CHECK(nat_fwd_find(c, fw->proto, fw->out_ip, fw->out_port) == fw);
        FUZZ_CHECK(nat_fwd_find_inside(c, fw->proto, fw->in_ip, fw->in_port));
    }
    FUZZ_CHECK(nat_pick_outside(c, 0x0a000005u) < c->n_outside_ip);
    for (unsigned w = 0; w < 3; w++)
        for (unsigned a = 0; a < 4; a++) {
            uint16_t port = nat_port_candidate(c, 40000, 0x12345678u * (a + 1), w, 3, a);
            FUZZ_CHECK(port == 0 || (port >= c->port_lo && port <= c->port_hi));
        }
out:
    free(c);
    free(text);
    return 0;
}
