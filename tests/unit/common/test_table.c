/* test_table.c - one table model rendered as aligned text and as JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfv/table.h"

static struct nfv_table *sample(void)
{
    static const char *const keys[] = {"name", "vcpus", "cpu_mode", "pinned"};
    struct nfv_table *t = nfv_table_new(keys, 4);

    assert_non_null(t);
    assert_int_equal(nfv_table_add_row(t), NFV_OK);
    nfv_table_add_str(t, "nat-act");
    nfv_table_add_int(t, 4);
    nfv_table_add_str(t, "exclusive");
    nfv_table_add_bool(t, true);
    assert_int_equal(nfv_table_add_row(t), NFV_OK);
    nfv_table_add_str(t, "fw");
    nfv_table_add_int(t, 12);
    nfv_table_add_null(t);
    nfv_table_add_bool(t, false);
    return t;
}

static char *render(const struct nfv_table *t, enum nfv_output_fmt fmt, unsigned flags)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);

    assert_non_null(f);
    assert_int_equal(nfv_table_render(t, fmt, flags, f), NFV_OK);
    fclose(f);
    return buf;
}

static void test_text(void **state)
{
    struct nfv_table *t = sample();
    char *out = render(t, NFV_OUT_TABLE, 0);

    (void)state;
    assert_string_equal(out, "NAME     VCPUS  CPU MODE   PINNED\n"
                             "nat-act      4  exclusive  yes\n"
                             "fw          12  -          no\n");
    free(out);
    out = render(t, NFV_OUT_TABLE, NFV_TABLE_NO_LEGEND);
    assert_string_equal(out, "nat-act   4  exclusive  yes\n"
                             "fw       12  -          no\n");
    free(out);
    nfv_table_free(t);
}

static void test_json_keeps_types(void **state)
{
    struct nfv_table *t = sample();
    char *out = render(t, NFV_OUT_JSON_SHORT, 0);

    (void)state;
    assert_string_equal(out, "[{\"name\":\"nat-act\",\"vcpus\":4,\"cpu_mode\":\"exclusive\","
                             "\"pinned\":true},{\"name\":\"fw\",\"vcpus\":12,\"cpu_mode\":null,"
                             "\"pinned\":false}]\n");
    free(out);
    nfv_table_free(t);
}

static void test_empty_and_formats(void **state)
{
    static const char *const keys[] = {"host"};
    struct nfv_table *t = nfv_table_new(keys, 1);
    char *out;

    (void)state;
    out = render(t, NFV_OUT_JSON_SHORT, 0);
    assert_string_equal(out, "[]\n");
    free(out);
    out = render(t, NFV_OUT_TABLE, 0);
    assert_string_equal(out, "HOST\n");
    free(out);
    nfv_table_free(t);
    nfv_table_free(NULL);
    assert_int_equal(nfv_output_fmt_from_string("pretty"), NFV_OUT_JSON_PRETTY);
    assert_int_equal(nfv_output_fmt_from_string("short"), NFV_OUT_JSON_SHORT);
    assert_int_equal(nfv_output_fmt_from_string("off"), NFV_OUT_TABLE);
    assert_int_equal(nfv_output_fmt_from_string("yaml"), NFV_OUT__COUNT);
}

/* Text from a daemon must not drive the operator's terminal (issue 10). */
static void test_control_characters_escaped(void **state)
{
    static const char *const keys[] = {"name", "labels"};
    struct nfv_table *t = nfv_table_new(keys, 2);
    char *out, buf[64];

    (void)state;
    nfv_table_add_row(t);
    nfv_table_add_str(t, "h1");
    nfv_table_add_str(t, "rack=r1\x1b[2J\xc2\x9b"
                         "31m\x07");
    out = render(t, NFV_OUT_TABLE, NFV_TABLE_NO_LEGEND);
    assert_string_equal(out, "h1  rack=r1\\x1b[2J\\xc2\\x9b31m\\x07\n");
    free(out);
    /* JSON output is jansson's: \u001b, \u009b. */
    out = render(t, NFV_OUT_JSON_SHORT, 0);
    assert_null(strchr(out, '\x1b'));
    free(out);
    nfv_table_free(t);
    assert_string_equal(nfv_text_escape("Zürich", buf, sizeof(buf)), "Zürich");
    assert_false(nfv_text_has_control("Zürich"));
    assert_true(nfv_text_has_control("a\rb"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_json_keeps_types),
        cmocka_unit_test(test_empty_and_formats),
        cmocka_unit_test(test_control_characters_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
