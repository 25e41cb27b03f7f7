/*
 * test_ipmi.c - healing's IPMI monitor driver (heal_mon_ipmi) against a real
 * BMC: OpenIPMI's ipmi_sim on 127.0.0.1, started by scripts/lib/ipmisim.sh.
 *
 * Reads power on, sees an injected uncorrectable-ECC SEL event decoded right
 * (and nothing of the SEL's history), fences (power off, read back off, the
 * simulated host process really gone), times out within its bound on a BMC
 * that does not answer (wrong port; ipmi_sim stopped with SIGSTOP) and
 * recovers when it answers again, and refuses bad configuration naming the
 * field or file. Exits 77 with a reason if ipmi_sim cannot run here.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "heal/mon.h"
#include "nfv/log.h"
#include "ipmisim_util.h"

static char tmpdir[] = "/tmp/vmmgr-test-h-bmc-ipmiXXXXXX";
static struct ipmisim sim;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Messages are ours: none of FreeIPMI's own error strings leak out. */
static void assert_own_message(const struct nfv_err *err)
{
    static const char *const theirs[] = {"password invalid", "connection timeout",
                                         "session timeout",  "privilege level",
                                         "username invalid", "bad completion"};
    for (size_t i = 0; i < sizeof(theirs) / sizeof(theirs[0]); i++)
        if (strstr(err->msg, theirs[i]))
            fail_msg("message quotes FreeIPMI: %s", err->msg);
}

static void test_power_and_sel(void **state)
{
    (void)state;
    struct heal_mon_config cfg;
    struct heal_mon *mon = NULL;
    struct heal_mon_poll p;
    struct nfv_err err = {0};

    /* History: an event already in the SEL before the monitor opens. */
    assert_true(ipmisim_inject(&sim, "uecc"));
    ipmisim_config(&sim, &cfg);
    if (heal_mon_ipmi.open(&cfg, &mon, &err) != NFV_OK)
        fail_msg("open: %s", err.msg);
    assert_int_equal(heal_mon_ipmi.poll(mon, &p, &err), NFV_OK);
    assert_int_equal(p.power, HEAL_POWER_ON);
    assert_int_equal(p.n_events, 0);

    assert_true(ipmisim_inject(&sim, "uecc"));
    assert_int_equal(heal_mon_ipmi.poll(mon, &p, &err), NFV_OK);
    assert_int_equal(p.n_events, 1);
    assert_int_equal(p.events[0].kind, HEAL_SEL_MEM_UECC);
    assert_int_equal(p.events[0].sensor_type, 0x0c);
    assert_int_equal(p.events[0].sensor_number, 0x01);
    assert_false(p.events[0].is_deassertion);
    uint16_t first_id = p.events[0].record_id;

    assert_int_equal(heal_mon_ipmi.poll(mon, &p, &err), NFV_OK);
    assert_int_equal(p.n_events, 0); /* reported once */

    static const char *const kinds[] = {"ierr", "thermal", "psu", "watchdog", "other"};
    static const enum heal_sel_kind want[] = {HEAL_SEL_PROC_IERR, HEAL_SEL_THERMAL_TRIP,
                                              HEAL_SEL_PSU_FAILURE, HEAL_SEL_WATCHDOG,
                                              HEAL_SEL_OTHER};
    for (size_t i = 0; i < 5; i++)
        assert_true(ipmisim_inject(&sim, kinds[i]));
    assert_int_equal(heal_mon_ipmi.poll(mon, &p, &err), NFV_OK);
    assert_int_equal(p.n_events, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(p.events[i].kind, want[i]);
        assert_true(p.events[i].record_id > first_id);
    }
    heal_mon_ipmi.close(mon);
}

static void test_fence(void **state)
{
    (void)state;
    struct heal_mon_config cfg;
    struct heal_mon *mon = NULL;
    struct nfv_err err = {0};
    enum heal_power power;

    ipmisim_config(&sim, &cfg);
    assert_int_equal(heal_mon_ipmi.open(&cfg, &mon, &err), NFV_OK);
    assert_true(ipmisim_host_alive(&sim));
    assert_int_equal(heal_mon_ipmi.power_status(mon, &power, &err), NFV_OK);
    assert_int_equal(power, HEAL_POWER_ON);
    if (heal_mon_fence(&heal_mon_ipmi, mon, 3000, 50, &err) != NFV_OK)
        fail_msg("fence: %s", err.msg);
    assert_int_equal(heal_mon_ipmi.power_status(mon, &power, &err), NFV_OK);
    assert_int_equal(power, HEAL_POWER_OFF);
    assert_false(ipmisim_host_alive(&sim)); /* the "host" really stopped */
    /* Fencing a host that is off already is fine (power down is idempotent). */
    assert_int_equal(heal_mon_fence(&heal_mon_ipmi, mon, 3000, 50, &err), NFV_OK);
    heal_mon_ipmi.close(mon);
}

#define TIMEOUT_MS 500u
/* FreeIPMI's session timeout bounds each call; allow scheduling noise on a
 * machine shared by several builds. */
#define BOUND_MS (2 * TIMEOUT_MS + 500u)

static void test_wrong_port_times_out(void **state)
{
    (void)state;
    struct heal_mon_config cfg;
    struct heal_mon *mon = NULL;
    struct nfv_err err = {0};
    ipmisim_config(&sim, &cfg);
    /* A port nobody listens on: sim.port+1 may be taken; use a fresh free one. */
    struct ipmisim other = sim;
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "bash -c '. \"%s/scripts/lib/ipmisim.sh\" && vmmgr_ipmisim_free_port'",
             getenv("VMMGR_SOURCE_DIR"));
    FILE *pf = popen(cmd, "r");
    assert_non_null(pf);
    assert_int_equal(fscanf(pf, "%u", &other.port), 1);
    pclose(pf);
    snprintf(cfg.address, sizeof(cfg.address), "127.0.0.1:%u", other.port);
    cfg.timeout_ms = TIMEOUT_MS;
    uint64_t t0 = now_ms();
    assert_int_equal(heal_mon_ipmi.open(&cfg, &mon, &err), NFV_E_TIMEOUT);
    uint64_t took = now_ms() - t0;
    printf("wrong port: NFV_E_TIMEOUT after %llu ms (bound %u): %s\n", (unsigned long long)took,
           BOUND_MS, err.msg);
    assert_true(took <= BOUND_MS);
    assert_non_null(strstr(err.msg, cfg.address));
    assert_own_message(&err);
}

static void test_stopped_bmc_times_out_then_recovers(void **state)
{
    (void)state;
    struct heal_mon_config cfg;
    struct heal_mon *mon = NULL;
    struct heal_mon_poll p;
    struct nfv_err err = {0};
    ipmisim_config(&sim, &cfg);
    cfg.timeout_ms = TIMEOUT_MS;
    assert_int_equal(heal_mon_ipmi.open(&cfg, &mon, &err), NFV_OK);
    assert_true(ipmisim_signal(&sim, SIGSTOP));
    uint64_t t0 = now_ms();
    enum nfv_code code = heal_mon_ipmi.poll(mon, &p, &err);
    uint64_t took = now_ms() - t0;
    printf("stopped BMC: poll %s after %llu ms (bound %u): %s\n", nfv_code_name(code),
           (unsigned long long)took, BOUND_MS, err.msg);
    assert_int_equal(code, NFV_E_TIMEOUT);
    assert_true(took <= BOUND_MS);
    t0 = now_ms();
    assert_int_equal(heal_mon_ipmi.power_off(mon, &err), NFV_E_TIMEOUT);
    assert_true(now_ms() - t0 <= BOUND_MS);
    assert_own_message(&err);

    assert_true(ipmisim_signal(&sim, SIGCONT));
    /* The BMC is back: a monitor polling it gets answers again on a new
     * session. ipmi_sim first works through the datagrams queued while it
     * was stopped, so allow a few polls, as a 200 ms poll loop would. */
    t0 = now_ms();
    int n_polls = 0;
    do {
        n_polls++;
        code = heal_mon_ipmi.poll(mon, &p, &err);
    } while (code != NFV_OK && now_ms() - t0 < 5000);
    printf("BMC back: poll %s after %d poll(s), %llu ms\n", nfv_code_name(code), n_polls,
           (unsigned long long)(now_ms() - t0));
    if (code != NFV_OK)
        fail_msg("poll after SIGCONT: %s", err.msg);
    assert_int_equal(p.power, HEAL_POWER_ON);
    heal_mon_ipmi.close(mon);
}

static void test_bad_config(void **state)
{
    (void)state;
    struct heal_mon_config cfg;
    struct heal_mon *mon = NULL;
    struct nfv_err err = {0};
    char path[512];

    ipmisim_config(&sim, &cfg);
    snprintf(cfg.password_file, sizeof(cfg.password_file), "%s/missing.pw", tmpdir);
    assert_int_equal(heal_mon_ipmi.open(&cfg, &mon, &err), NFV_E_NOENT);
    assert_non_null(strstr(err.msg, cfg.password_file));
    printf("missing file: %s\n", err.msg);

    snprintf(path, sizeof(path), "%s/open.pw", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("fence-me-now\n", f);
    fclose(f);
    assert_int_equal(chmod(path, 0644), 0);
    ipmisim_config(&sim, &cfg);
    snprintf(cfg.password_file, sizeof(cfg.password_file), "%s", path);
    assert_int_equal(heal_mon_ipmi.open(&cfg, &mon, &err), NFV_E_PERM);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "0644"));
    printf("mode 0644: %s\n", err.msg);

    ipmisim_config(&sim, &cfg);
    snprintf(cfg.address, sizeof(cfg.address), "127.0.0.1:70000");
    assert_int_equal(heal_mon_ipmi.open(&cfg, &mon, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'address'"));
    printf("bad address: %s\n", err.msg);
    snprintf(cfg.address, sizeof(cfg.address), "bmc;reboot");
    assert_int_equal(heal_mon_ipmi.open(&cfg, &mon, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'address'"));

    /* Wrong password: a refused login, in our words. */
    assert_int_equal(chmod(path, 0600), 0);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("not-the-password\n", f);
    fclose(f);
    ipmisim_config(&sim, &cfg);
    snprintf(cfg.password_file, sizeof(cfg.password_file), "%s", path);
    assert_int_equal(heal_mon_ipmi.open(&cfg, &mon, &err), NFV_E_PERM);
    assert_non_null(strstr(err.msg, "login refused"));
    assert_null(strstr(err.msg, "not-the-password"));
    assert_own_message(&err);
    printf("wrong password: %s\n", err.msg);
}

int main(void)
{
    /* The driver's debug lines carry FreeIPMI's own words: useful when a step fails. */
    nfv_log_set_level(NFV_LOG_DEBUG);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    char dir[300];
    snprintf(dir, sizeof(dir), "%s/bmc", tmpdir);
    if (!ipmisim_start(&sim, dir)) {
        printf("SKIP: ipmi_sim cannot run here (see the lines above)\n");
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        (void)!system(cmd);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_power_and_sel),
        cmocka_unit_test(test_stopped_bmc_times_out_then_recovers),
        cmocka_unit_test(test_wrong_port_times_out),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_fence), /* last: the host stays off */
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    ipmisim_stop(&sim);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    (void)!system(cmd);
    return rc;
}
