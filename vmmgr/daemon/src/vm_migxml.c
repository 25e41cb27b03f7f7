/*
 * vm_migxml.c - pure helpers of migration (see vm_migrate.h): the
 * destination XML splice and the recovery decision.
 */
#include "vm/vm_migrate.h"

#include <stdlib.h>
#include <string.h>

/* Removes every <@tag ...>...</@tag> or <@tag .../> from @s (in place).
 * False if one is not closed. */
static bool drop_elem(char *s, const char *tag)
{
    size_t tl = strlen(tag);
    char *p = s;

    while ((p = strstr(p, "<")) != NULL) {
        char *end;
        if (strncmp(p + 1, tag, tl) != 0 ||
            (p[1 + tl] != '>' && p[1 + tl] != ' ' && p[1 + tl] != '/' && p[1 + tl] != '\n')) {
            p++;
            continue;
        }
        end = strchr(p, '>');
        if (!end)
            return false;
        if (end[-1] == '/') {
            end++;
        } else {
            char close[64];
            size_t cl;
            if (tl + 4 > sizeof(close))
                return false;
            close[0] = '<';
            close[1] = '/';
            memcpy(close + 2, tag, tl);
            close[2 + tl] = '>';
            close[3 + tl] = '\0';
            cl = 3 + tl;
            end = strstr(end, close);
            if (!end)
                return false;
            end += cl;
        }
        /* Also the line's indentation and its newline. */
        while (p > s && (p[-1] == ' ' || p[-1] == '\t'))
            p--;
        if (*end == '\n')
            end++;
        memmove(p, end, strlen(end) + 1);
    }
    return true;
}

enum nfv_code vm_migxml_splice(const char *xml, const char *fragments, char **ret,
                               struct nfv_err *err)
{
    size_t n = strlen(xml), nf = fragments ? strlen(fragments) : 0;
    char *s = malloc(n + 1), *out, *tail;

    if (!s)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    memcpy(s, xml, n + 1);
    if (!drop_elem(s, "cputune") || !drop_elem(s, "numatune")) {
        free(s);
        return NFV_ERR(err, NFV_E_INVAL, "domain XML: an element is not closed");
    }
    tail = strstr(s, "</domain>");
    if (!tail) {
        free(s);
        return NFV_ERR(err, NFV_E_INVAL, "domain XML: no </domain>");
    }
    n = strlen(s);
    out = malloc(n + nf + 1);
    if (!out) {
        free(s);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    memcpy(out, s, (size_t)(tail - s));
    memcpy(out + (tail - s), fragments ? fragments : "", nf);
    memcpy(out + (tail - s) + nf, tail, strlen(tail) + 1);
    free(s);
    *ret = out;
    return NFV_OK;
}

enum vm_recovery vm_migrate_decide(const struct vm_mig_observed *o)
{
    /* The guest runs at the source: nothing moved (whatever the destination
     * shows, or if it cannot be asked: a dead destination). */
    if (o->is_src_reachable && o->is_src_running)
        return VM_RECOVER_ROLLBACK;
    if (!o->is_src_reachable || !o->is_dst_reachable)
        return VM_RECOVER_DEFER;
    if (o->is_dst_running)
        return VM_RECOVER_FINISH;
    if (o->is_src_paused && o->is_dst_defined)
        return VM_RECOVER_DEFER; /* libvirt's own clean-up still runs */
    if (o->is_dst_defined && !o->is_src_defined)
        return VM_RECOVER_FINISH;
    return VM_RECOVER_ROLLBACK;
}
