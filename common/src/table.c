/*
 * table.c - the table model and its two renderers (see nfv/table.h).
 *
 * Cells are stored as jansson values so that the JSON rendering is exact
 * (integers stay integers, booleans stay booleans) and the human rendering is
 * derived from the same data. Column widths are measured in bytes; vmmgr's
 * names are ASCII.
 */
#include "nfv/table.h"

#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct nfv_table_cell {
    json_t *v;
    int precision; /* for reals: digits after the point in the human table */
};

struct nfv_table {
    size_t n_columns;
    char **keys;
    char **headers;
    bool *is_numeric;             /* right-align: every non-null cell is a number */
    struct nfv_table_cell *cells; /* n_rows * n_columns, row-major */
    size_t n_rows;
    size_t rows_cap;
    size_t n_filled; /* cells filled in the last row */
};

enum nfv_output_fmt nfv_output_fmt_from_string(const char *s)
{
    if (!s)
        return NFV_OUT__COUNT;
    if (strcmp(s, "off") == 0 || strcmp(s, "table") == 0)
        return NFV_OUT_TABLE;
    if (strcmp(s, "pretty") == 0)
        return NFV_OUT_JSON_PRETTY;
    if (strcmp(s, "short") == 0)
        return NFV_OUT_JSON_SHORT;
    return NFV_OUT__COUNT;
}

void nfv_table_free(struct nfv_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_rows * t->n_columns; i++)
        json_decref(t->cells[i].v);
    for (size_t c = 0; c < t->n_columns; c++) {
        if (t->keys)
            free(t->keys[c]);
        if (t->headers)
            free(t->headers[c]);
    }
    free(t->keys);
    free(t->headers);
    free(t->is_numeric);
    free(t->cells);
    free(t);
}

struct nfv_table *nfv_table_new(const char *const *keys, size_t n_columns)
{
    struct nfv_table *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    t->n_columns = n_columns;
    t->keys = calloc(n_columns, sizeof(*t->keys));
    t->headers = calloc(n_columns, sizeof(*t->headers));
    t->is_numeric = calloc(n_columns, sizeof(*t->is_numeric));
    if (!t->keys || !t->headers || !t->is_numeric)
        goto fail;
    for (size_t c = 0; c < n_columns; c++) {
        t->keys[c] = strdup(keys[c]);
        t->headers[c] = strdup(keys[c]);
        if (!t->keys[c] || !t->headers[c])
            goto fail;
        for (char *p = t->headers[c]; *p; p++)
            *p = *p == '_' ? ' ' : (char)toupper((unsigned char)*p);
        t->is_numeric[c] = true;
    }
    return t;
fail:
    nfv_table_free(t);
    return NULL;
}

enum nfv_code nfv_table_add_row(struct nfv_table *t)
{
    if (t->n_rows > 0)
        assert(t->n_filled == t->n_columns);
    if (t->n_rows == t->rows_cap) {
        size_t cap = t->rows_cap ? t->rows_cap * 2 : 16;
        struct nfv_table_cell *cells = realloc(t->cells, cap * t->n_columns * sizeof(*cells));
        if (!cells)
            return NFV_E_NOMEM;
        t->cells = cells;
        t->rows_cap = cap;
    }
    memset(&t->cells[t->n_rows * t->n_columns], 0, t->n_columns * sizeof(*t->cells));
    t->n_rows++;
    t->n_filled = 0;
    return NFV_OK;
}

static enum nfv_code add_cell(struct nfv_table *t, json_t *take_v, int precision)
{
    struct nfv_table_cell *cell;

    assert(t->n_rows > 0 && t->n_filled < t->n_columns);
    if (!take_v)
        return NFV_E_NOMEM;
    cell = &t->cells[(t->n_rows - 1) * t->n_columns + t->n_filled];
    cell->v = take_v;
    cell->precision = precision;
    if (!json_is_null(take_v) && !json_is_number(take_v))
        t->is_numeric[t->n_filled] = false;
    t->n_filled++;
    return NFV_OK;
}

enum nfv_code nfv_table_add_str(struct nfv_table *t, const char *s)
{
    return add_cell(t, s ? json_string(s) : json_null(), 0);
}

enum nfv_code nfv_table_add_fmt(struct nfv_table *t, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return nfv_table_add_str(t, buf);
}

enum nfv_code nfv_table_add_int(struct nfv_table *t, int64_t v)
{
    return add_cell(t, json_integer((json_int_t)v), 0);
}

enum nfv_code nfv_table_add_bool(struct nfv_table *t, bool v)
{
    return add_cell(t, json_boolean(v), 0);
}

enum nfv_code nfv_table_add_double(struct nfv_table *t, double v, int precision)
{
    return add_cell(t, json_real(v), precision);
}

enum nfv_code nfv_table_add_null(struct nfv_table *t)
{
    return add_cell(t, json_null(), 0);
}

enum nfv_code nfv_table_add_json(struct nfv_table *t, json_t *take_v)
{
    return add_cell(t, take_v, 0);
}

size_t nfv_table_n_rows(const struct nfv_table *t)
{
    return t->n_rows;
}

json_t *nfv_table_to_json(const struct nfv_table *t)
{
    json_t *arr = json_array();

    if (!arr)
        return NULL;
    for (size_t r = 0; r < t->n_rows; r++) {
        json_t *row = json_object();
        if (!row || json_array_append_new(arr, row) < 0) {
            json_decref(arr);
            return NULL;
        }
        for (size_t c = 0; c < t->n_columns; c++) {
            json_t *v = t->cells[r * t->n_columns + c].v;
            json_object_set(row, t->keys[c], v ? v : json_null());
        }
    }
    return arr;
}

/* C0 controls, DEL and C1 controls (U+0080..U+009F: 0xC2 0x80..0x9F in UTF-8). */
static size_t control_len(const unsigned char *p)
{
    if (p[0] < 0x20 || p[0] == 0x7f)
        return 1;
    if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0)
        return 2;
    return 0;
}

bool nfv_text_has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (control_len(p))
            return true;
    return false;
}

const char *nfv_text_escape(const char *s, char *buf, size_t buf_size)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;

    if (!nfv_text_has_control(s))
        return s;
    while (*p && o + 5 < buf_size) {
        size_t n = control_len(p);
        if (n == 0) {
            buf[o++] = (char)*p++;
            continue;
        }
        /* \xNN per byte: visible, and no terminal acts on it. */
        for (size_t i = 0; i < n; i++)
            o += (size_t)snprintf(buf + o, buf_size - o, "\\x%02x", p[i]);
        p += n;
    }
    buf[o] = '\0';
    return buf;
}

/* Human text of one cell, written into @buf. Strings from the daemon are
 * escaped: a label holding ESC [ ... must not drive the operator's terminal. */
static const char *cell_text(const struct nfv_table_cell *cell, char *buf, size_t buf_size)
{
    const json_t *v = cell->v;

    if (!v || json_is_null(v))
        return "-";
    if (json_is_string(v))
        return nfv_text_escape(json_string_value(v), buf, buf_size);
    if (json_is_integer(v)) {
        snprintf(buf, buf_size, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (json_is_real(v)) {
        snprintf(buf, buf_size, "%.*f", cell->precision, json_real_value(v));
        return buf;
    }
    if (json_is_boolean(v))
        return json_is_true(v) ? "yes" : "no";
    {
        /* json_dumps escapes C0 controls (\u001b) but not C1 ones. */
        char *s = json_dumps(v, JSON_COMPACT);
        if (!s || nfv_text_escape(s, buf, buf_size) == s)
            snprintf(buf, buf_size, "%s", s ? s : "?");
        free(s);
        return buf;
    }
}

static enum nfv_code render_text(const struct nfv_table *t, unsigned flags, FILE *out)
{
    size_t *width = calloc(t->n_columns ? t->n_columns : 1, sizeof(*width));
    char buf[4096];

    if (!width)
        return NFV_E_NOMEM;
    for (size_t c = 0; c < t->n_columns; c++) {
        if (!(flags & NFV_TABLE_NO_LEGEND))
            width[c] = strlen(t->headers[c]);
        for (size_t r = 0; r < t->n_rows; r++) {
            size_t w = strlen(cell_text(&t->cells[r * t->n_columns + c], buf, sizeof(buf)));
            if (w > width[c])
                width[c] = w;
        }
    }
    if (!(flags & NFV_TABLE_NO_LEGEND)) {
        for (size_t c = 0; c < t->n_columns; c++) {
            bool last = c + 1 == t->n_columns;
            if (t->is_numeric[c])
                fprintf(out, "%*s", (int)width[c], t->headers[c]);
            else
                fprintf(out, "%-*s", last ? 0 : (int)width[c], t->headers[c]);
            fputs(last ? "\n" : "  ", out);
        }
    }
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t c = 0; c < t->n_columns; c++) {
            bool last = c + 1 == t->n_columns;
            const char *s = cell_text(&t->cells[r * t->n_columns + c], buf, sizeof(buf));
            if (t->is_numeric[c])
                fprintf(out, "%*s", (int)width[c], s);
            else
                fprintf(out, "%-*s", last ? 0 : (int)width[c], s);
            fputs(last ? "\n" : "  ", out);
        }
    }
    free(width);
    return NFV_OK;
}

void nfv_json_print(const json_t *v, enum nfv_output_fmt fmt, FILE *out)
{
    size_t flags = fmt == NFV_OUT_JSON_SHORT ? JSON_COMPACT : JSON_INDENT(2);

    json_dumpf(v, out, flags | JSON_ENCODE_ANY);
    fputc('\n', out);
}

enum nfv_code nfv_table_render(const struct nfv_table *t, enum nfv_output_fmt fmt, unsigned flags,
                               FILE *out)
{
    json_t *arr;

    if (fmt == NFV_OUT_TABLE)
        return render_text(t, flags, out);
    arr = nfv_table_to_json(t);
    if (!arr)
        return NFV_E_NOMEM;
    nfv_json_print(arr, fmt, out);
    json_decref(arr);
    return NFV_OK;
}
