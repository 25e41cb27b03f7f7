/*
 * fuzz_fw_rules.c - vmmgr-fw's rules file and config file
 * (fw_rules_load_text, fw_conf_load_text in vnf-samples/firewall/fw.h).
 *
 * The same text goes to both parsers. Properties: errors carry a message
 * and leave *ret_rules alone; loaded rules have prefix depths <= 32,
 * ordered port ranges, an action, and a line number inside the file.
 */
#include "fuzz_util.h"
#include "fw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nfv_err err;
    struct fw_rules *rules = NULL;
    struct fw_conf conf;

    if (size > 65536)
        return 0;
    char *text = fuzz_strndup(data, size);
    unsigned n_lines = 1;
    for (const char *p = text; *p; p++)
        n_lines += *p == '\n';

    if (fw_rules_load_text("fuzz.rules", text, &rules, &err) == NFV_OK) {
        FUZZ_CHECK(rules);
        for (unsigned i = 0; i < rules->n_rules; i++) {
            const struct fw_rule *r = &rules->rules[i];
            FUZZ_CHECK(r->src_depth <= 32 && r->dst_depth <= 32);
            FUZZ_CHECK(r->sport_lo <= r->sport_hi && r->dport_lo <= r->dport_hi);
            FUZZ_CHECK(r->action < FW_ACTION__COUNT);
            FUZZ_CHECK(r->lineno >= 1 && r->lineno <= n_lines);
        }
        fw_rules_free(rules);
    } else {
        FUZZ_CHECK(rules == NULL && err.msg[0]);
    }
    fw_conf_init(&conf);
    if (fw_conf_load_text(&conf, "fuzz.conf", text, &err) == NFV_OK)
        FUZZ_CHECK(conf.default_action < FW_ACTION__COUNT);
    else
        FUZZ_CHECK(err.msg[0]);
    free(text);
    return 0;
}
