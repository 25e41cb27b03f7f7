/*
 * test_sel.c - SEL record decoding (heal/sel.h) on records as BMCs store
 * them. The first is the very record ipmi_sim stores for DESIGN.md's Add SEL
 * Entry example ("Memory #0x01 | Uncorrectable ECC | Asserted").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "heal/sel.h"

struct sel_row {
    const char *name;
    uint8_t rec[16];
    enum heal_sel_kind want;
};

#define REC(id, st, num, dirtype, d1)                                                              \
    {                                                                                              \
        (id), 0, 0x02, 0x1e, 0x14, 0, 0, 0x20, 0, 0x04, (st), (num), (dirtype), (d1), 0xff, 0xff   \
    }

/* clang-format off */
static const struct sel_row sel_rows[] = {
    {"ipmi_sim memory uecc", {0x01, 0x00, 0x02, 0x1e, 0x14, 0x00, 0x00, 0x20, 0x00, 0x04, 0x0c, 0x01, 0x6f, 0x01, 0xff, 0xff}, HEAL_SEL_MEM_UECC},
    {"memory parity", REC(2, 0x0c, 1, 0x6f, 0x02), HEAL_SEL_MEM_UECC},
    {"memory correctable", REC(3, 0x0c, 1, 0x6f, 0x00), HEAL_SEL_OTHER},
    {"memory correctable limit", REC(4, 0x0c, 1, 0x6f, 0x05), HEAL_SEL_OTHER},
    {"memory uecc deasserted", REC(5, 0x0c, 1, 0xef, 0x01), HEAL_SEL_OTHER},
    {"memory uecc with event data flags", REC(6, 0x0c, 1, 0x6f, 0xa1), HEAL_SEL_MEM_UECC},
    {"processor ierr", REC(7, 0x07, 2, 0x6f, 0x00), HEAL_SEL_PROC_IERR},
    {"processor thermal trip", REC(8, 0x07, 2, 0x6f, 0x01), HEAL_SEL_THERMAL_TRIP},
    {"processor presence", REC(9, 0x07, 2, 0x6f, 0x07), HEAL_SEL_OTHER},
    {"temperature upper non-recoverable", REC(10, 0x01, 3, 0x01, 0x5b), HEAL_SEL_THERMAL_TRIP},
    {"temperature upper critical", REC(11, 0x01, 3, 0x01, 0x59), HEAL_SEL_OTHER},
    {"psu failure", REC(12, 0x08, 4, 0x6f, 0x01), HEAL_SEL_PSU_FAILURE},
    {"psu input lost", REC(13, 0x08, 4, 0x6f, 0x03), HEAL_SEL_PSU_FAILURE},
    {"psu presence", REC(14, 0x08, 4, 0x6f, 0x00), HEAL_SEL_OTHER},
    {"watchdog2 hard reset", REC(15, 0x23, 5, 0x6f, 0x01), HEAL_SEL_WATCHDOG},
    {"watchdog2 power down", REC(16, 0x23, 5, 0x6f, 0x02), HEAL_SEL_WATCHDOG},
    {"watchdog2 pre-timeout interrupt", REC(17, 0x23, 5, 0x6f, 0x08), HEAL_SEL_OTHER},
    {"watchdog1", REC(18, 0x11, 5, 0x6f, 0x00), HEAL_SEL_WATCHDOG},
    {"fan generic", REC(19, 0x04, 6, 0x07, 0x01), HEAL_SEL_OTHER},
    {"oem record", {20, 0, 0xc0, 1, 2, 3, 4, 5, 6, 7, 0x0c, 1, 0x6f, 0x01, 0, 0}, HEAL_SEL_OTHER},
};
/* clang-format on */

static void test_decode_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(sel_rows) / sizeof(sel_rows[0]); i++) {
        struct heal_sel_event ev;
        assert_int_equal(heal_sel_decode(sel_rows[i].rec, 16, &ev, NULL), NFV_OK);
        if (ev.kind != sel_rows[i].want)
            fail_msg("%s: decoded %s, want %s", sel_rows[i].name, heal_sel_kind_to_string(ev.kind),
                     heal_sel_kind_to_string(sel_rows[i].want));
        assert_int_equal(ev.record_id, sel_rows[i].rec[0] | sel_rows[i].rec[1] << 8);
    }
}

static void test_decode_fields(void **state)
{
    (void)state;
    const uint8_t rec[16] = {0x34, 0x12, 0x02, 0,    0,    0,    0,    0x20,
                             0,    0x04, 0x0c, 0x07, 0xef, 0x01, 0xff, 0xff};
    struct heal_sel_event ev;
    assert_int_equal(heal_sel_decode(rec, sizeof(rec), &ev, NULL), NFV_OK);
    assert_int_equal(ev.record_id, 0x1234);
    assert_int_equal(ev.sensor_type, 0x0c);
    assert_int_equal(ev.sensor_number, 0x07);
    assert_int_equal(ev.offset, 0x01);
    assert_true(ev.is_deassertion);
    assert_int_equal(ev.kind, HEAL_SEL_OTHER);
}

static void test_decode_short(void **state)
{
    (void)state;
    uint8_t rec[15] = {0};
    struct heal_sel_event ev = {.record_id = 77};
    struct nfv_err err = {0};
    assert_int_equal(heal_sel_decode(rec, sizeof(rec), &ev, &err), NFV_E_PARSE);
    assert_int_equal(ev.record_id, 77); /* untouched on error */
    assert_non_null(strstr(err.msg, "15 bytes"));
    assert_int_equal(heal_sel_decode(NULL, 16, &ev, NULL), NFV_E_PARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_table),
        cmocka_unit_test(test_decode_fields),
        cmocka_unit_test(test_decode_short),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
