/*
 * test_ctl_json.c - vmmgrctl's --json fast path (ctl_json_member_dump)
 * prints exactly what jansson prints after parsing the same answer
 * (json_loadb, then json_dumps of the member with JSON_INDENT(2) or
 * JSON_COMPACT), and refuses every answer where it could not promise that,
 * so that vmmgrctl falls back to jansson.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_json.h"
#include "nfv/table.h"

/* What vmmgrctl printed before the fast path: the tree way (ctl_print_json). */
static char *tree_way(const char *text, const char *key, enum nfv_output_fmt fmt)
{
    json_error_t je;
    json_t *doc = json_loadb(text, strlen(text), 0, &je);
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);

    assert_non_null(doc);
    assert_non_null(f);
    nfv_json_print(json_object_get(doc, key), fmt, f);
    assert_int_equal(fclose(f), 0);
    json_decref(doc);
    return buf;
}

/* The fast path's output for @text (@len bytes), or NULL if it refused. */
static char *fast_way(const char *text, size_t len, const char *key, enum nfv_output_fmt fmt)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    bool is_taken;

    assert_non_null(f);
    is_taken = ctl_json_member_dump(text, len, key, fmt, f);
    assert_int_equal(fclose(f), 0);
    if (!is_taken) {
        assert_int_equal(size, 0); /* nothing written when refused */
        free(buf);
        return NULL;
    }
    return buf;
}

/* Asserts that the fast path takes @text and prints what jansson prints. */
static void assert_same(const char *text, const char *key)
{
    static const enum nfv_output_fmt fmts[] = {NFV_OUT_JSON_PRETTY, NFV_OUT_JSON_SHORT};

    for (size_t i = 0; i < 2; i++) {
        char *want = tree_way(text, key, fmts[i]);
        char *got = fast_way(text, strlen(text), key, fmts[i]);
        if (!got)
            fail_msg("refused: %s", text);
        assert_string_equal(got, want);
        free(got);
        free(want);
    }
}

static void assert_refused(const char *text, size_t len)
{
    char *got = fast_way(text, len, "vms", NFV_OUT_JSON_PRETTY);

    if (got)
        fail_msg("taken: %.*s", (int)len, text);
}

/* A string longer than the output chunk goes out whole. */
static void test_long_string(void **state)
{
    size_t n = 200000;
    char *text = malloc(n + 32);

    (void)state;
    assert_non_null(text);
    memcpy(text, "{\"vms\":[1,\"", 11);
    memset(text + 11, 'x', n);
    memcpy(text + 11 + n, "\",2]}", 6);
    assert_same(text, "vms");
    free(text);
}

/* The shapes vmmgrd answers, as its json_dumps(JSON_COMPACT) writes them. */
static void test_vmmgrd_answers(void **state)
{
    (void)state;
    assert_same("{\"vms\":[{\"name\":\"vm0-0\",\"host\":\"sim0\",\"state\":\"running\","
                "\"role\":\"none\",\"vcpus\":1,\"memory_mib\":64,\"pus\":\"2\",\"group\":null},"
                "{\"name\":\"vm0-1\",\"host\":\"sim0\",\"state\":\"error\",\"role\":\"act\","
                "\"vcpus\":4,\"memory_mib\":-1,\"pus\":\"4-7,10\",\"group\":\"g\"}]}",
                "vms");
    assert_same("{\"vms\":[]}", "vms");
    assert_same("{\"hosts\":[{\"name\":\"h\",\"labels\":{},\"nics\":[],\"up\":true,"
                "\"maint\":false,\"numa\":[[0,1],[2,3]],\"x\":{\"y\":{\"z\":[{}]}}}]}",
                "hosts");
    /* The member anywhere among others, any JSON type. */
    assert_same("{\"a\":[1,{\"vms\":2}],\"vms\":{\"k\":\"v\"},\"b\":\"vms\"}", "vms");
    assert_same("{\"vms\":null}", "vms");
    assert_same("{\"vms\":\"text\"}", "vms");
    assert_same("{\"vms\":-123456789012345678}", "vms");
    assert_same("{\"vms\":0}", "vms");
}

/* Whitespace anywhere (a pretty-printing server) changes nothing. */
static void test_whitespace(void **state)
{
    (void)state;
    assert_same(" \r\n\t{ \"vms\" :\n [ { \"a\" : [ ] , \"b\":{ }} ,\t1 ,true] }\n ", "vms");
}

/* Every escape jansson writes is copied as is. */
static void test_escapes(void **state)
{
    (void)state;
    assert_same("{\"vms\":[\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001F\\u0010\\u000B\x7f\"],"
                "\"k\\n\\u0002\":{\"\\\"\":1}}",
                "vms");
    assert_same("{\"vms\":{\"k\\n\\u0002\":{\"\\\"\":1,\"\":2}}}", "vms");
}

static void test_refused(void **state)
{
    static const char *const texts[] = {
        "{\"vms\":1.5}",                 /* reals: %.17g re-spells them */
        "{\"vms\":1e3}",                 /* idem */
        "{\"vms\":[-0]}",                /* prints "0" */
        "{\"vms\":1234567890123456789}", /* 19 digits */
        "{\"vms\":\"a\\/b\"}",           /* jansson writes "/" */
        "{\"vms\":\"\\u00e9\"}",         /* written as UTF-8 */
        "{\"vms\":\"\\u001f\"}",         /* jansson writes upper-case hex */
        "{\"vms\":\"\\u000A\"}",         /* jansson writes \n */
        "{\"vms\":\"\\u0000\"}",         /* NUL: the loader refuses it */
        "{\"vms\":\"\xc3\xa9\"}",        /* non-ASCII: not checked here */
        "{\"vms\":\"a\tb\"}",            /* raw control character: invalid */
        "{\"vms\":[{\"a\":1,\"a\":2}]}", /* jansson keeps one "a" */
        "{\"vms\":1,\"vms\":2}",         /* idem at the top */
        "{\"other\":[]}",                /* no such member */
        "[{\"vms\":[]}]",                /* not an object */
        "{\"vms\":[]} x",                /* trailing garbage */
        "{\"vms\":[],}",                 /* trailing comma */
        "{\"vms\":[1,]}",                /* idem */
        "{\"vms\":[01]}",                /* leading zero */
        "{\"vms\":tru}",                 /* truncated literal */
        "{\"vms\":[1 2]}",               /* missing comma */
        "{\"vms\" []}",                  /* missing colon */
        "{\"vms\":[\"abc]}",             /* unterminated string */
        "{\"vms\":[",                    /* truncated */
        "",                              /* empty */
    };
    char deep[256];
    size_t n = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        assert_refused(texts[i], strlen(texts[i]));
    /* A NUL byte inside the text, which the loader refuses too. */
    assert_refused("{\"vms\":[]}\0", 11);
    /* Deeper than 64 levels: left to jansson. */
    n += (size_t)snprintf(deep, sizeof(deep), "{\"vms\":");
    for (int i = 0; i < 70; i++)
        deep[n++] = '[';
    for (int i = 0; i < 70; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    assert_refused(deep, n);
}

/* Random trees of everything the fast path takes, dumped compact the way
 * vmmgrd does (and indented by 3, a server that pretty-prints), must come
 * out as jansson prints them. */
static uint64_t g_rng = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (unsigned)(g_rng % n);
}

static json_t *rnd_string(void)
{
    char s[16];
    unsigned n = rnd(sizeof(s));

    for (unsigned i = 0; i < n; i++) {
        unsigned k = rnd(10);
        /* Mostly printable ASCII (quote, backslash, slash included), some
         * control characters, DEL. */
        s[i] = (char)(k < 7 ? 0x20 + rnd(0x5f) : k < 9 ? 1 + rnd(0x1f) : 0x7f);
    }
    return json_stringn(s, n);
}

static json_t *rnd_value(int depth)
{
    unsigned k = rnd(depth > 5 ? 5 : 8);

    switch (k) {
    case 0:
        return json_null();
    case 1:
        return json_boolean(rnd(2));
    case 2: {
        json_int_t v = (json_int_t)(rnd(1000000000) * (uint64_t)rnd(1000000000));
        return json_integer(rnd(2) ? -v : v);
    }
    case 3:
        return json_integer((json_int_t)rnd(100));
    case 4:
        return rnd_string();
    case 5:
    case 6: {
        json_t *a = json_array();
        for (unsigned i = rnd(5); i > 0; i--)
            json_array_append_new(a, rnd_value(depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (unsigned i = rnd(5); i > 0; i--) {
            json_t *key = rnd_string();
            json_object_set_new(o, json_string_value(key), rnd_value(depth + 1));
            json_decref(key);
        }
        return o;
    }
    }
}

static void test_random_trees(void **state)
{
    (void)state;
    for (int i = 0; i < 3000; i++) {
        json_t *doc = json_object();
        char *text;
        json_object_set_new(doc, "before", rnd_value(3));
        json_object_set_new(doc, "vms", rnd_value(0));
        json_object_set_new(doc, "after", rnd_value(3));
        text = json_dumps(doc, i % 2 ? JSON_COMPACT : JSON_INDENT(3));
        assert_non_null(text);
        assert_same(text, "vms");
        free(text);
        json_decref(doc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vmmgrd_answers), cmocka_unit_test(test_whitespace),
        cmocka_unit_test(test_escapes),        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_random_trees),   cmocka_unit_test(test_long_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
