/*
 * ctl.h - shared pieces of vmmgrctl, the operators' CLI.
 *
 * vmmgrctl [OPTIONS] VERB [ARGS...]. Verbs come from one table (ctl_main.c);
 * each verb lives in a ctl_<group>.c file, has the signature ctl_verb_fn and
 * is declared in ctl_verbs.h. A handler parses its arguments with the
 * ctl_verb_* shapes below (or ctl_opt_next() directly), fills an nfv_table
 * or a json_t, and prints it with ctl_print_table()/ctl_print_json() so that
 * every verb honours --json and --no-legend the same way. Errors: a handler
 * returns an nfv_code and fills the nfv_err; ctl_main prints one line
 * "vmmgrctl: <message>" on stderr and exits with nfv_code_exit().
 */
#ifndef VMMGR_CTL_H
#define VMMGR_CTL_H

#include <jansson.h>
#include <stdbool.h>

#include "nfv/err.h"
#include "nfv/table.h"

struct ctl_ctx {
    enum nfv_output_fmt fmt; /* NFV_OUT_TABLE unless --json[=pretty|short] */
    unsigned table_flags;    /* NFV_TABLE_NO_LEGEND */
    const char *socket_path; /* --socket, for client verbs */
    unsigned timeout_ms;     /* --timeout, for client verbs */
    bool is_quiet;           /* --quiet: no progress lines */
    const char *url;         /* --url / VMMGR_URL: https://HOST:PORT instead of the socket */
    const char *cacert;      /* --cacert / VMMGR_CACERT: CA bundle for --url */
    char token[512];         /* --token-file / VMMGR_TOKEN: bearer token, "" = none */
};

/* A verb handler: argv[0] is the verb (or the sub-verb for "host add"),
 * options follow. Returns NFV_OK or an error filled into @err. */
typedef enum nfv_code (*ctl_verb_fn)(struct ctl_ctx *ctx, int argc, char **argv,
                                     struct nfv_err *err);

struct ctl_verb {
    const char *name;  /* "topology", "host add" (two words: group and sub-verb) */
    const char *usage; /* one line of arguments, for --help */
    const char *help;  /* one sentence */
    ctl_verb_fn fn;
};

/* Prints @t in the context's format. */
enum nfv_code ctl_print_table(const struct ctl_ctx *ctx, const struct nfv_table *t);
/* Prints @v: as JSON in JSON mode; in table mode, pretty JSON (verbs that
 * have a human view print it themselves and call this only for --json). */
void ctl_print_json(const struct ctl_ctx *ctx, const json_t *v);

/* A column of a table printed from API objects: header and JSON member. */
struct ctl_col {
    const char *key;
    bool is_int; /* an integer member (else a string; missing: 0 / null) */
};
#define CTL_MAX_COLS 16
/* Prints the array of objects @rows as a table of @cols (one row each). */
enum nfv_code ctl_print_json_table(const struct ctl_ctx *ctx, const json_t *rows,
                                   const struct ctl_col *cols, size_t n_cols, struct nfv_err *err);

/*
 * Option parsing shared by verbs: long options only ("--vcpus 4" or
 * "--vcpus=4"). ctl_opt_next() walks argv from *idx; it returns the option
 * name (without "--") and sets *ret_value for options that @spec marks as
 * taking a value. @spec is a NULL-terminated list of "name" or "name=" (takes
 * a value). Returns NULL at the end; on an unknown option or missing value it
 * sets @err (NFV_E_INVAL, naming the option) and returns NULL as well, so
 * callers check err->code. Positional arguments are returned as "" with
 * *ret_value pointing at them.
 */
const char *ctl_opt_next(int argc, char **argv, int *idx, const char *const *spec,
                         const char **ret_value, struct nfv_err *err);

/* Parses an unsigned integer option value in [min, max]; names @opt in errors. */
enum nfv_code ctl_opt_uint(const char *opt, const char *value, unsigned long min, unsigned long max,
                           unsigned long *ret, struct nfv_err *err);

/*
 * The argument shapes of verbs, on top of ctl_opt_next().
 *
 * ctl_verb_args() walks all of argv: each option (a @spec entry, "name=" or
 * "name") goes to @on_opt (may be NULL) with its value (NULL for a flag); an
 * error @on_opt returns stops the walk. With @what NULL the verb takes no
 * positional argument ("VERB: unexpected argument 'x'"); otherwise exactly
 * one, named @what in "VERB: missing NAME" (or ID ...), returned in *ret_arg
 * (may be NULL). @spec NULL means no options.
 */
typedef enum nfv_code (*ctl_opt_fn)(void *opaque, const char *opt, const char *val,
                                    struct nfv_err *err);
enum nfv_code ctl_verb_args(int argc, char **argv, const char *verb, const char *what,
                            const char *const *spec, ctl_opt_fn on_opt, void *opaque,
                            const char **ret_arg, struct nfv_err *err);
/* "VERB ARG [--opt]": one positional; *ret_opt (may be NULL) receives the
 * last option given: its value, or its @spec entry for a flag (NULL if none). */
enum nfv_code ctl_verb_one_arg(int argc, char **argv, const char *verb, const char *what,
                               const char *const *spec, const char **ret_arg, const char **ret_opt,
                               struct nfv_err *err);
/* A verb with options only ("VERB: unexpected argument 'x'"): vals[i]
 * receives the value of option spec[i] (its spec entry for a flag), NULL
 * when not given; @vals has one slot per @spec entry. */
enum nfv_code ctl_verb_opts(int argc, char **argv, const char *verb, const char *const *spec,
                            const char **vals, struct nfv_err *err);
/* A verb without arguments: "VERB: takes no arguments", or the unknown option. */
enum nfv_code ctl_verb_no_args(int argc, char **argv, const char *verb, struct nfv_err *err);

#endif /* VMMGR_CTL_H */
