/*
 * test_mon.c - the monitor port's shared pieces (heal/mon.h) without a BMC:
 * configuration checks, the password file rules, the test driver and the
 * confirmed fence on it. The IPMI driver against a real BMC (ipmi_sim) is
 * tests/integration/healing/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "heal/mon.h"
#include "heal/mon_test.h"

static char tmpdir[] = "/tmp/vmmgr-test-h-bmc-unitXXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    unlink(path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void good_config(struct heal_mon_config *cfg)
{
    heal_mon_config_init(cfg);
    snprintf(cfg->address, sizeof(cfg->address), "127.0.0.1:9623");
    snprintf(cfg->user, sizeof(cfg->user), "admin");
}

static void test_config_check(void **state)
{
    (void)state;
    struct heal_mon_config cfg;
    struct nfv_err err = {0};
    good_config(&cfg);
    assert_int_equal(cfg.cipher_suite, 3);
    assert_int_equal(heal_mon_config_check(&cfg, &err), NFV_OK);
    snprintf(cfg.address, sizeof(cfg.address), "bmc-rack1-07.example");
    assert_int_equal(heal_mon_config_check(&cfg, &err), NFV_OK);

    static const char *const bad_addresses[] = {
        "",          ":623",       "127.0.0.1:",  "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:62x",
        "host name", "a;rm -rf /", "127.0.0.1:-1"};
    for (size_t i = 0; i < sizeof(bad_addresses) / sizeof(bad_addresses[0]); i++) {
        good_config(&cfg);
        snprintf(cfg.address, sizeof(cfg.address), "%s", bad_addresses[i]);
        assert_int_equal(heal_mon_config_check(&cfg, &err), NFV_E_INVAL);
        assert_non_null(strstr(err.msg, "'address'"));
    }
    good_config(&cfg);
    cfg.user[0] = '\0';
    assert_int_equal(heal_mon_config_check(&cfg, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'user'"));
    good_config(&cfg);
    cfg.timeout_ms = 0;
    assert_int_equal(heal_mon_config_check(&cfg, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'timeout_ms'"));
    good_config(&cfg);
    cfg.retransmit_ms = cfg.timeout_ms;
    assert_int_equal(heal_mon_config_check(&cfg, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'retransmit_ms'"));
    good_config(&cfg);
    cfg.cipher_suite = 5;
    assert_int_equal(heal_mon_config_check(&cfg, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'cipher_suite'"));
}

static void test_config_set(void **state)
{
    (void)state;
    struct heal_mon_config cfg;
    struct nfv_err err = {0};
    char long_value[HEAL_MON_PATH_SIZE + 8];
    heal_mon_config_init(&cfg);
    assert_int_equal(
        heal_mon_config_set(&cfg, "10.0.0.7:623", "fence", "/etc/vmmgr/bmc/h1.pw", &err), NFV_OK);
    assert_string_equal(cfg.address, "10.0.0.7:623");
    assert_string_equal(cfg.user, "fence");
    assert_string_equal(cfg.password_file, "/etc/vmmgr/bmc/h1.pw");
    assert_int_equal(cfg.cipher_suite, 3);

    /* Refused, naming the field; cfg untouched (all or nothing). */
    assert_int_equal(heal_mon_config_set(&cfg, "10.0.0.8", "fence", "relative.pw", &err),
                     NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'password_file'"));
    assert_string_equal(cfg.address, "10.0.0.7:623");
    assert_int_equal(heal_mon_config_set(&cfg, "10.0.0.8", "a-user-name-of-17", "/x.pw", &err),
                     NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'user'"));
    assert_int_equal(heal_mon_config_set(&cfg, NULL, "fence", "/x.pw", &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'address'"));
    assert_int_equal(heal_mon_config_set(&cfg, "10.0.0.8:0", "fence", "/x.pw", &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'address'"));
    memset(long_value, 'a', sizeof(long_value) - 1);
    long_value[sizeof(long_value) - 1] = '\0';
    long_value[0] = '/';
    assert_int_equal(heal_mon_config_set(&cfg, "10.0.0.8", "fence", long_value, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'password_file'"));
    assert_non_null(strstr(err.msg, "at most 4095"));
    assert_string_equal(cfg.address, "10.0.0.7:623");
}

static void test_password_file(void **state)
{
    (void)state;
    char path[256], link[256], pw[HEAL_MON_PASSWORD_SIZE];
    struct nfv_err err = {0};
    snprintf(path, sizeof(path), "%s/bmc.pw", tmpdir);

    write_file(path, "s3cret\n", 0600);
    assert_int_equal(heal_mon_password_read(path, pw, sizeof(pw), &err), NFV_OK);
    assert_string_equal(pw, "s3cret");
    write_file(path, "s3cret", 0400);
    assert_int_equal(heal_mon_password_read(path, pw, sizeof(pw), &err), NFV_OK);
    assert_string_equal(pw, "s3cret");

    write_file(path, "s3cret\n", 0644);
    assert_int_equal(heal_mon_password_read(path, pw, sizeof(pw), &err), NFV_E_PERM);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "0644"));
    assert_string_equal(pw, ""); /* wiped */
    write_file(path, "s3cret\n", 0640);
    assert_int_equal(heal_mon_password_read(path, pw, sizeof(pw), &err), NFV_E_PERM);

    write_file(path, "\n", 0600);
    assert_int_equal(heal_mon_password_read(path, pw, sizeof(pw), &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "empty"));
    write_file(path, "123456789012345678901\n", 0600); /* 21 bytes: IPMI allows 20 */
    assert_int_equal(heal_mon_password_read(path, pw, sizeof(pw), &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, path));
    write_file(path, "12345678901234567890\n", 0600);
    assert_int_equal(heal_mon_password_read(path, pw, sizeof(pw), &err), NFV_OK);
    write_file(path, "two\nlines\n", 0600);
    assert_int_equal(heal_mon_password_read(path, pw, sizeof(pw), &err), NFV_E_INVAL);

    snprintf(link, sizeof(link), "%s/missing.pw", tmpdir);
    assert_int_equal(heal_mon_password_read(link, pw, sizeof(pw), &err), NFV_E_NOENT);
    assert_non_null(strstr(err.msg, link));
    write_file(path, "s3cret\n", 0600);
    snprintf(link, sizeof(link), "%s/link.pw", tmpdir);
    assert_int_equal(symlink(path, link), 0);
    assert_int_equal(heal_mon_password_read(link, pw, sizeof(pw), &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "symlink"));
    assert_int_equal(heal_mon_password_read(tmpdir, pw, sizeof(pw), &err), NFV_E_INVAL);
    assert_int_equal(heal_mon_password_read("", pw, sizeof(pw), &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'password_file'"));
}

static void test_test_driver(void **state)
{
    (void)state;
    struct heal_mon_test_bmc bmc;
    struct heal_mon_config cfg;
    struct heal_mon *mon = NULL;
    struct heal_mon_poll p;
    struct nfv_err err = {0};
    heal_mon_test_bmc_init(&bmc);
    heal_mon_config_init(&cfg);
    assert_int_equal(heal_mon_test.open(&cfg, &mon, &err), NFV_E_INVAL);
    cfg.driver_data = &bmc;
    assert_int_equal(heal_mon_test_bmc_add_sel(&bmc, HEAL_SEL_OTHER, NULL), NFV_OK); /* history */
    assert_int_equal(heal_mon_test.open(&cfg, &mon, &err), NFV_OK);
    assert_int_equal(heal_mon_test.poll(mon, &p, &err), NFV_OK);
    assert_int_equal(p.power, HEAL_POWER_ON);
    assert_int_equal(p.n_events, 0);

    for (int i = 0; i < HEAL_MON_MAX_EVENTS + 2; i++)
        assert_int_equal(
            heal_mon_test_bmc_add_sel(&bmc, i ? HEAL_SEL_OTHER : HEAL_SEL_MEM_UECC, NULL), NFV_OK);
    assert_int_equal(heal_mon_test.poll(mon, &p, &err), NFV_OK);
    assert_int_equal(p.n_events, HEAL_MON_MAX_EVENTS);
    assert_true(p.is_truncated);
    assert_int_equal(p.events[0].kind, HEAL_SEL_MEM_UECC);
    assert_int_equal(heal_mon_test.poll(mon, &p, &err), NFV_OK);
    assert_int_equal(p.n_events, 2);
    assert_false(p.is_truncated);

    bmc.is_silent = true;
    assert_int_equal(heal_mon_test.poll(mon, &p, &err), NFV_E_TIMEOUT);
    assert_int_equal(heal_mon_fence(&heal_mon_test, mon, 50, 5, &err), NFV_E_TIMEOUT);
    bmc.is_silent = false;

    bmc.is_power_off_stuck = true;
    assert_int_equal(heal_mon_fence(&heal_mon_test, mon, 30, 5, &err), NFV_E_TIMEOUT);
    assert_non_null(strstr(err.msg, "not read back off"));
    bmc.is_power_off_stuck = false;
    assert_int_equal(heal_mon_fence(&heal_mon_test, mon, 30, 5, &err), NFV_OK);
    assert_int_equal(bmc.power, HEAL_POWER_OFF);
    assert_int_equal(bmc.n_power_off, 2);
    heal_mon_test.close(mon);
    heal_mon_test.close(NULL);
}

static void test_poll_inputs(void **state)
{
    (void)state;
    struct heal_mon_poll p = {.power = HEAL_POWER_ON, .n_events = 2};
    p.events[0].kind = HEAL_SEL_MEM_UECC;
    p.events[1].kind = HEAL_SEL_OTHER;
    struct heal_input in[HEAL_MON_POLL_MAX_INPUTS];
    assert_int_equal(heal_mon_poll_inputs(NFV_OK, &p, 1234, in), 3);
    assert_int_equal(in[0].kind, HEAL_IN_BMC_POWER);
    assert_int_equal(in[0].power, HEAL_POWER_ON);
    assert_int_equal(in[1].kind, HEAL_IN_BMC_SEL);
    assert_int_equal(in[1].sel, HEAL_SEL_MEM_UECC);
    assert_int_equal(in[2].sel, HEAL_SEL_OTHER);
    for (int i = 0; i < 3; i++)
        assert_int_equal(in[i].now_ms, 1234);
    /* A failed poll, whatever it left in @p: the BMC said nothing. */
    assert_int_equal(heal_mon_poll_inputs(NFV_E_TIMEOUT, &p, 99, in), 1);
    assert_int_equal(in[0].kind, HEAL_IN_BMC_NO_ANSWER);
    assert_int_equal(heal_mon_poll_inputs(NFV_E_PERM, &p, 99, in), 1);
    assert_int_equal(in[0].kind, HEAL_IN_BMC_NO_ANSWER);
    p.n_events = HEAL_MON_MAX_EVENTS;
    assert_int_equal(heal_mon_poll_inputs(NFV_OK, &p, 1, in), HEAL_MON_POLL_MAX_INPUTS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_check),  cmocka_unit_test(test_config_set),
        cmocka_unit_test(test_password_file), cmocka_unit_test(test_test_driver),
        cmocka_unit_test(test_poll_inputs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
