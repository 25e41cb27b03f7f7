/*
 * nfv/table.h - one table model, rendered for people or as JSON.
 *
 * Every vmmgrctl verb that prints data fills an nfv_table (or a jansson
 * object) and hands it to one renderer, as ovs-vsctl and systemd do: the same
 * data comes out as an aligned table with a header line, or as JSON
 * (`--json=pretty|short`). Columns are named by their JSON key ("cpu_mode");
 * the human header is the key upper-cased with '_' as ' ' ("CPU MODE").
 * Numeric columns are right-aligned; NULL cells show as "-".
 */
#ifndef NFV_TABLE_H
#define NFV_TABLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nfv/err.h"

enum nfv_output_fmt {
    NFV_OUT_TABLE,       /* aligned columns for people */
    NFV_OUT_JSON_PRETTY, /* indented JSON */
    NFV_OUT_JSON_SHORT,  /* one-line JSON */
    NFV_OUT__COUNT
};

/* "off" -> NFV_OUT_TABLE, "pretty", "short"; NFV_OUT__COUNT if unknown. */
enum nfv_output_fmt nfv_output_fmt_from_string(const char *s);

#define NFV_TABLE_NO_LEGEND 0x1u /* omit the header line (systemd --no-legend) */

struct nfv_table;

/* Creates a table with @n_columns columns named by the JSON keys in @keys
 * (copied). Returns NULL on allocation failure. */
struct nfv_table *nfv_table_new(const char *const *keys, size_t n_columns);
void nfv_table_free(struct nfv_table *t);

/* Starts a new row; cells are then added left to right. Adding more cells than
 * columns is a programming error (asserted). */
enum nfv_code nfv_table_add_row(struct nfv_table *t);
enum nfv_code nfv_table_add_str(struct nfv_table *t, const char *s); /* NULL -> null cell */
enum nfv_code nfv_table_add_fmt(struct nfv_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
enum nfv_code nfv_table_add_int(struct nfv_table *t, int64_t v);
enum nfv_code nfv_table_add_bool(struct nfv_table *t, bool v);
enum nfv_code nfv_table_add_double(struct nfv_table *t, double v, int precision);
enum nfv_code nfv_table_add_null(struct nfv_table *t);
/* Adds a JSON value shown compactly in the human table; @take_v is consumed. */
enum nfv_code nfv_table_add_json(struct nfv_table *t, json_t *take_v);

size_t nfv_table_n_rows(const struct nfv_table *t);

/* Returns a new JSON array of objects, one per row (owned by the caller). */
json_t *nfv_table_to_json(const struct nfv_table *t);

/* Renders @t in @fmt to @out. */
enum nfv_code nfv_table_render(const struct nfv_table *t, enum nfv_output_fmt fmt, unsigned flags,
                               FILE *out);

/* Prints a JSON value with the indentation @fmt asks for, plus a newline. */
void nfv_json_print(const json_t *v, enum nfv_output_fmt fmt, FILE *out);

/* True if @s holds a C0 control, DEL or a C1 control (UTF-8 0xC2 0x80..0x9F). */
bool nfv_text_has_control(const char *s);

/*
 * @s with every control byte written as \xNN, for printing text that came
 * from elsewhere (a daemon, a file) to a terminal. Returns @s itself when it
 * has none, else @buf (truncated to @buf_size). The table renderer does this
 * for every string cell.
 */
const char *nfv_text_escape(const char *s, char *buf, size_t buf_size);

#endif /* NFV_TABLE_H */
