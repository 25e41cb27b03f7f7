/* test_err.c - the error type: messages, and the code tables every front end reads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "nfv/err.h"

static enum nfv_code fails_with_field(struct nfv_err *err)
{
    return NFV_ERR(err, NFV_E_INVAL, "'vcpus': %d is out of range (1..4096)", 0);
}

static void test_set_returns_code_and_formats(void **state)
{
    struct nfv_err err;

    (void)state;
    assert_int_equal(fails_with_field(&err), NFV_E_INVAL);
    assert_int_equal(err.code, NFV_E_INVAL);
    assert_string_equal(err.msg, "'vcpus': 0 is out of range (1..4096)");
    assert_string_equal(err.func, "fails_with_field");
    /* NULL error struct is allowed and still returns the code. */
    assert_int_equal(fails_with_field(NULL), NFV_E_INVAL);
}

static void test_errno_and_prefix(void **state)
{
    struct nfv_err err;

    (void)state;
    NFV_ERR_ERRNO(&err, NFV_E_IO, ENOENT, "cannot open '%s'", "/nope");
    assert_int_equal(err.sys_errno, ENOENT);
    nfv_err_prefix(&err, "host '%s'", "h1");
    assert_string_equal(err.msg, "host 'h1': cannot open '/nope'");
    nfv_err_clear(&err);
    assert_int_equal(err.code, NFV_OK);
    assert_string_equal(err.msg, "");
}

static void test_long_message_truncates(void **state)
{
    struct nfv_err err;
    char big[2000];

    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    NFV_ERR(&err, NFV_E_INVAL, "%s", big);
    assert_int_equal(strlen(err.msg), NFV_ERR_MSG_SIZE - 1);
}

static void test_code_tables(void **state)
{
    (void)state;
    /* STYLE.md exit codes. */
    assert_int_equal(nfv_code_exit(NFV_OK), 0);
    assert_int_equal(nfv_code_exit(NFV_E_INVAL), 2);
    assert_int_equal(nfv_code_exit(NFV_E_NOENT), 3);
    assert_int_equal(nfv_code_exit(NFV_E_EXIST), 4);
    assert_int_equal(nfv_code_exit(NFV_E_NOCAP), 5);
    assert_int_equal(nfv_code_exit(NFV_E_UNREACHABLE), 6);
    assert_int_equal(nfv_code_exit(NFV_E_PERM), 7);
    assert_int_equal(nfv_code_exit(NFV_E_TIMEOUT), 8);
    assert_int_equal(nfv_code_http(NFV_E_INVAL), 400);
    assert_int_equal(nfv_code_http(NFV_E_NOENT), 404);
    assert_int_equal(nfv_code_http(NFV_E_NOCAP), 409);
    assert_string_equal(nfv_code_name(NFV_E_NOCAP), "NO_CAPACITY");
    /* Every code has a distinct name that parses back. */
    for (int i = 0; i < NFV_E__COUNT; i++) {
        assert_non_null(nfv_code_name((enum nfv_code)i));
        assert_int_equal(nfv_code_from_name(nfv_code_name((enum nfv_code)i)), i);
        assert_true(nfv_code_http((enum nfv_code)i) >= 200);
    }
    assert_int_equal(nfv_code_from_name("NOPE"), NFV_E__COUNT);
    /* Out-of-range codes map to INTERNAL, never crash. */
    assert_string_equal(nfv_code_name((enum nfv_code)999), "INTERNAL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_returns_code_and_formats),
        cmocka_unit_test(test_errno_and_prefix),
        cmocka_unit_test(test_long_message_truncates),
        cmocka_unit_test(test_code_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
