/*
 * ctl_json.c - re-indents one member of a JSON answer without a jansson tree
 * (see ctl_json.h for why and when).
 *
 * Two passes of one recursive-descent scanner. The first reads the whole
 * document without output: it checks the grammar and that every token is in
 * jansson's output spelling (so that copying it verbatim equals what
 * json_dumps would print after json_loadb), checks that no object repeats a
 * key (jansson would keep one), and finds the member. The second scans only
 * the member's value and writes it, with whitespace exactly as jansson's
 * dump.c places it: "[", newline + indent before each element, "," between,
 * newline + the outer indent before "]"; "key": value in objects; "[]" and
 * "{}" when empty; no whitespace at all in compact mode.
 */
#include "ctl_json.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH          64  /* deeper documents go the tree way */
#define MAX_KEYS_PER_LEVEL 512 /* duplicate check is quadratic per object */

/* A key as it appears in the text, quotes included. */
struct key_span {
    const char *p;
    size_t len;
};

#define OUT_CHUNK 65536 /* written to the stream this much at a time */

struct scan {
    const char *p, *end;
    /* Output (second pass only; NULL in the first): a small buffer passed
     * on to @stream whenever it fills, so that a 2 MB answer costs no 2 MB
     * of fresh memory. */
    FILE *stream;
    char *out;
    size_t out_len;
    bool is_compact;
    bool is_oom;
    /* Keys of the objects being read, innermost last (first pass). */
    struct key_span *keys;
    size_t n_keys, keys_cap;
    /* The member looked for, as "\"key\"", and where its value is. */
    const char *want;
    size_t want_len;
    bool is_wanted; /* the key just read is it */
    const char *val_start, *val_end;
};

static void put(struct scan *s, const char *b, size_t n)
{
    if (!s->out)
        return;
    if (s->out_len + n > OUT_CHUNK) {
        fwrite(s->out, 1, s->out_len, s->stream);
        s->out_len = 0;
    }
    if (n > OUT_CHUNK) {
        fwrite(b, 1, n, s->stream); /* a very long string */
        return;
    }
    memcpy(s->out + s->out_len, b, n);
    s->out_len += n;
}

/* jansson's dump_indent() for JSON_INDENT(2): a newline and 2 spaces per level. */
static void put_indent(struct scan *s, int depth)
{
    static const char spaces[] = "                                ";
    size_t n = (size_t)depth * 2;

    if (s->is_compact)
        return;
    put(s, "\n", 1);
    while (n > 0) {
        size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
        put(s, spaces, k);
        n -= k;
    }
}

static void skip_ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static bool is_upper_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/*
 * A string in jansson's spelling (default dump flags): printable ASCII as
 * is, \" \\ \b \f \n \r \t, and \u00XX (upper-case hex) for the other
 * control characters except NUL, which json_loadb refuses. Anything else
 * (\/, \u00e9, raw UTF-8) would be re-spelt or needs UTF-8 checks: refused.
 */
static bool scan_string(struct scan *s)
{
    const char *start = s->p;

    if (s->p >= s->end || *s->p != '"')
        return false;
    for (s->p++; s->p < s->end; s->p++) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            s->p++;
            put(s, start, (size_t)(s->p - start));
            return true;
        }
        if (c < 0x20 || c >= 0x80)
            return false;
        if (c != '\\')
            continue;
        if (++s->p >= s->end)
            return false;
        switch (*s->p) {
        case '"':
        case '\\':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            break;
        case 'u': {
            unsigned v;
            if (s->end - s->p < 5 || s->p[1] != '0' || s->p[2] != '0' ||
                (s->p[3] != '0' && s->p[3] != '1') || !is_upper_hex(s->p[4]))
                return false;
            v = (unsigned)(s->p[3] - '0') * 16 +
                (unsigned)(s->p[4] <= '9' ? s->p[4] - '0' : s->p[4] - 'A' + 10);
            /* NUL is refused by the loader; the others have short escapes. */
            if (v == 0 || v == '\b' || v == '\f' || v == '\n' || v == '\r' || v == '\t')
                return false;
            s->p += 4;
            break;
        }
        default:
            return false;
        }
    }
    return false;
}

/* An integer as jansson prints one (%lld): no "-0", at most 18 digits so
 * that it surely fits json_int_t. Reals are refused: %.17g re-spells them. */
static bool scan_number(struct scan *s)
{
    const char *start = s->p, *digits;

    if (*s->p == '-')
        s->p++;
    digits = s->p;
    if (s->p >= s->end || *s->p < '0' || *s->p > '9')
        return false;
    if (*s->p == '0') {
        s->p++;
        if (start != digits)
            return false; /* "-0" prints as "0" */
    } else {
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
            s->p++;
    }
    if (s->p - digits > 18)
        return false;
    if (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E'))
        return false;
    put(s, start, (size_t)(s->p - start));
    return true;
}

static bool scan_literal(struct scan *s, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return false;
    s->p += n;
    put(s, word, n);
    return true;
}

static bool scan_value(struct scan *s, int depth);

/* Remembers the key at [@p, @p + @len) of the object whose keys start at
 * s->keys[@base]; false if it is there already (first pass only). */
static bool key_add(struct scan *s, size_t base, const char *p, size_t len)
{
    if (s->out)
        return true; /* second pass: checked in the first */
    for (size_t i = base; i < s->n_keys; i++)
        if (s->keys[i].len == len && memcmp(s->keys[i].p, p, len) == 0)
            return false;
    if (s->n_keys - base >= MAX_KEYS_PER_LEVEL)
        return false;
    if (s->n_keys == s->keys_cap) {
        size_t cap = s->keys_cap ? s->keys_cap * 2 : 64;
        struct key_span *k = realloc(s->keys, cap * sizeof(*k));
        if (!k) {
            s->is_oom = true;
            return false;
        }
        s->keys = k;
        s->keys_cap = cap;
    }
    s->keys[s->n_keys].p = p;
    s->keys[s->n_keys].len = len;
    s->n_keys++;
    return true;
}

/* A key and its colon, in an object whose keys start at s->keys[@base]. */
static bool scan_key(struct scan *s, size_t base, int depth)
{
    const char *key = s->p;
    size_t len;

    if (!scan_string(s))
        return false;
    len = (size_t)(s->p - key);
    if (!key_add(s, base, key, len))
        return false;
    /* The member asked for: a key of the top-level object (first pass). */
    s->is_wanted = depth == 0 && !s->out && len == s->want_len && memcmp(key, s->want, len) == 0;
    skip_ws(s);
    if (s->p >= s->end || *s->p != ':')
        return false;
    s->p++;
    put(s, s->is_compact ? ":" : ": ", s->is_compact ? 1 : 2);
    skip_ws(s);
    return true;
}

/* An array or an object, at *s->p. */
static bool scan_container(struct scan *s, int depth)
{
    bool is_object = *s->p == '{', is_first = true;
    char close = is_object ? '}' : ']';
    size_t base = s->n_keys;

    put(s, s->p, 1);
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        put(s, &close, 1);
        return true;
    }
    for (;;) {
        bool is_wanted = false;
        if (!is_first)
            put(s, ",", 1);
        put_indent(s, depth + 1);
        is_first = false;
        if (is_object) {
            if (!scan_key(s, base, depth))
                return false;
            is_wanted = s->is_wanted;
        }
        if (is_wanted)
            s->val_start = s->p;
        if (!scan_value(s, depth + 1))
            return false;
        if (is_wanted)
            s->val_end = s->p;
        skip_ws(s);
        if (s->p >= s->end)
            return false;
        if (*s->p == close)
            break;
        if (*s->p != ',')
            return false;
        s->p++;
        skip_ws(s);
    }
    s->p++;
    s->n_keys = base;
    put_indent(s, depth);
    put(s, &close, 1);
    return true;
}

static bool scan_value(struct scan *s, int depth)
{
    if (s->p >= s->end || depth > MAX_DEPTH)
        return false;
    switch (*s->p) {
    case '{':
    case '[':
        return scan_container(s, depth);
    case '"':
        return scan_string(s);
    case 't':
        return scan_literal(s, "true");
    case 'f':
        return scan_literal(s, "false");
    case 'n':
        return scan_literal(s, "null");
    default:
        return scan_number(s);
    }
}

bool ctl_json_member_dump(const char *text, size_t len, const char *key, enum nfv_output_fmt fmt,
                          FILE *out)
{
    struct scan s = {.p = text, .end = text + len};
    size_t key_len = strlen(key);
    char *want = malloc(key_len + 3);
    bool is_ok;

    if (!want)
        return false;
    want[0] = '"';
    memcpy(want + 1, key, key_len);
    want[key_len + 1] = '"';
    want[key_len + 2] = '\0';
    s.want = want;
    s.want_len = key_len + 2;

    /* Pass 1: the whole document, no output. jansson's loader wants an
     * object or array at the top and nothing but whitespace after it. */
    skip_ws(&s);
    is_ok = s.p < s.end && *s.p == '{' && scan_container(&s, 0);
    skip_ws(&s);
    is_ok = is_ok && s.p == s.end && s.val_start && !s.is_oom;
    free(s.keys);
    free(want);
    if (!is_ok || !(s.out = malloc(OUT_CHUNK)))
        return false;

    /* Pass 2: the member's value, re-indented. It was read once already,
     * so it cannot fail half-way. */
    s.p = s.val_start;
    s.end = s.val_end;
    s.stream = out;
    s.is_compact = fmt == NFV_OUT_JSON_SHORT;
    s.keys = NULL;
    s.n_keys = s.keys_cap = 0;
    is_ok = scan_value(&s, 0);
    assert(is_ok);
    put(&s, "\n", 1);
    fwrite(s.out, 1, s.out_len, out);
    free(s.out);
    return true;
}
