/*
 * ctl_util.c - argument shapes shared by vmmgrctl's verbs (see ctl.h): the
 * option walk around ctl_opt_next() with its positional-argument rules, so
 * that every verb words "unexpected argument", "missing NAME" and "takes no
 * arguments" the same way.
 */
#include "ctl.h"

enum nfv_code ctl_verb_args(int argc, char **argv, const char *verb, const char *what,
                            const char *const *spec, ctl_opt_fn on_opt, void *opaque,
                            const char **ret_arg, struct nfv_err *err)
{
    static const char *const no_spec[] = {NULL};
    const char *opt, *val, *arg = NULL;
    enum nfv_code code;
    int i = 1;

    while ((opt = ctl_opt_next(argc, argv, &i, spec ? spec : no_spec, &val, err))) {
        if (*opt) {
            if (on_opt && (code = on_opt(opaque, opt, val, err)) != NFV_OK)
                return code;
            continue;
        }
        if (!what || arg)
            return NFV_ERR(err, NFV_E_INVAL, "%s: unexpected argument '%s'", verb, val);
        arg = val;
    }
    if (err && err->code)
        return err->code;
    if (what && !arg)
        return NFV_ERR(err, NFV_E_INVAL, "%s: missing %s", verb, what);
    if (ret_arg)
        *ret_arg = arg;
    return NFV_OK;
}

/* ctl_verb_one_arg()'s option callback: keeps the last option given. */
static enum nfv_code keep_opt(void *opaque, const char *opt, const char *val, struct nfv_err *err)
{
    const char **ret_opt = opaque;

    (void)err;
    if (ret_opt)
        *ret_opt = val ? val : opt;
    return NFV_OK;
}

enum nfv_code ctl_verb_one_arg(int argc, char **argv, const char *verb, const char *what,
                               const char *const *spec, const char **ret_arg, const char **ret_opt,
                               struct nfv_err *err)
{
    *ret_arg = NULL;
    if (ret_opt)
        *ret_opt = NULL;
    return ctl_verb_args(argc, argv, verb, what, spec, keep_opt, ret_opt, ret_arg, err);
}

enum nfv_code ctl_verb_no_args(int argc, char **argv, const char *verb, struct nfv_err *err)
{
    static const char *const spec[] = {NULL};
    const char *v;
    int i = 1;

    if (ctl_opt_next(argc, argv, &i, spec, &v, err))
        return NFV_ERR(err, NFV_E_INVAL, "%s: takes no arguments", verb);
    return err && err->code ? err->code : NFV_OK;
}

/* ctl_verb_opts()'s option callback: the value into the option's slot. */
struct opt_slots {
    const char *const *spec;
    const char **vals;
};

static enum nfv_code store_opt(void *opaque, const char *opt, const char *val, struct nfv_err *err)
{
    const struct opt_slots *s = opaque;

    (void)err;
    for (size_t i = 0; s->spec[i]; i++)
        if (s->spec[i] == opt)
            s->vals[i] = val ? val : opt;
    return NFV_OK;
}

enum nfv_code ctl_verb_opts(int argc, char **argv, const char *verb, const char *const *spec,
                            const char **vals, struct nfv_err *err)
{
    struct opt_slots s = {spec, vals};

    for (size_t i = 0; spec[i]; i++)
        vals[i] = NULL;
    return ctl_verb_args(argc, argv, verb, NULL, spec, store_opt, &s, NULL, err);
}

enum nfv_code ctl_print_json_table(const struct ctl_ctx *ctx, const json_t *rows,
                                   const struct ctl_col *cols, size_t n_cols, struct nfv_err *err)
{
    const char *keys[CTL_MAX_COLS];
    struct nfv_table *t;
    const json_t *r;
    enum nfv_code code;
    size_t i;

    if (n_cols > CTL_MAX_COLS)
        return NFV_ERR(err, NFV_E_INTERNAL, "table of %zu columns (at most %d)", n_cols,
                       CTL_MAX_COLS);
    for (size_t c = 0; c < n_cols; c++)
        keys[c] = cols[c].key;
    t = nfv_table_new(keys, n_cols);
    if (!t)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    json_array_foreach(rows, i, r)
    {
        nfv_table_add_row(t);
        for (size_t c = 0; c < n_cols; c++) {
            const json_t *v = json_object_get(r, cols[c].key);
            if (cols[c].is_int)
                nfv_table_add_int(t, json_integer_value(v));
            else
                nfv_table_add_str(t, json_string_value(v));
        }
    }
    code = ctl_print_table(ctx, t);
    nfv_table_free(t);
    return code;
}
