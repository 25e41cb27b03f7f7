/*
 * test_vnf_ct.c - the connection table (vnf/ct.h) on a real rte_hash.
 *
 * Needs the DPDK EAL (no hugepages, no telemetry socket, its own file prefix;
 * the runtime directory is removed at the end), hence the integration label. Checks what the VNFs
 * rely on: both keys find a flow with their direction, duplicates and a full table are refused with
 * EEXIST/ENOSPC, freed slots are reused, the bulk lookup agrees with single lookups, and expiry is
 * incremental: a sweep call examines at most its budget of slots and repeated calls reach every
 * expired flow.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>

#include <rte_eal.h>

#include "vnf/ct.h"
#include "vnf/pkt.h"

static struct vnf_timeouts tmo;

/* Removes the EAL runtime directory (its files are plain files and sockets). */
static void remove_dir(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;

    if (!d)
        return;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
    rmdir(path);
}

static void key_of(struct vnf_ct_key *k, uint32_t i, int is_reply)
{
    if (is_reply)
        vnf_ct_key_set(k, VNF_PROTO_UDP, 0xcb007105u, 53, 0xc6336401u, (uint16_t)(1024 + i));
    else
        vnf_ct_key_set(k, VNF_PROTO_UDP, 0x0a000000u + i, 5000, 0xcb007105u, 53);
}

static struct vnf_ct_flow *add(struct vnf_ct *ct, uint32_t i, uint64_t now, int *ret_errno)
{
    struct vnf_ct_key k0, k1;

    key_of(&k0, i, 0);
    key_of(&k1, i, 1);
    return vnf_ct_add(ct, &k0, &k1, 0, now, ret_errno);
}

static void test_add_lookup_delete(void **state)
{
    struct nfv_err err;
    struct vnf_ct *ct = vnf_ct_new("t_basic", 8, &err);
    struct vnf_ct_key k;
    unsigned dir = 9;
    int e = 0;

    (void)state;
    assert_non_null(ct);
    assert_int_equal(vnf_ct_capacity(ct), 8);
    struct vnf_ct_flow *f = add(ct, 1, 100, &e);
    assert_non_null(f);
    assert_int_equal(vnf_ct_count(ct), 1);
    key_of(&k, 1, 0);
    assert_ptr_equal(vnf_ct_lookup(ct, &k, &dir), f);
    assert_int_equal(dir, 0);
    assert_true(vnf_ct_flow_matches(f, 0, &k));
    key_of(&k, 1, 1);
    assert_ptr_equal(vnf_ct_lookup(ct, &k, &dir), f);
    assert_int_equal(dir, 1);
    assert_true(vnf_ct_has(ct, &k));
    assert_int_equal(f->last_ms, 100);
    assert_int_equal(f->state, VNF_FLOW_OPENING);

    /* The same flow twice, or a flow whose two keys are equal: EEXIST. */
    assert_null(add(ct, 1, 100, &e));
    assert_int_equal(e, EEXIST);
    struct vnf_ct_key same;
    key_of(&same, 2, 0);
    assert_null(vnf_ct_add(ct, &same, &same, 0, 0, &e));
    assert_int_equal(e, EEXIST);
    key_of(&k, 2, 0);
    assert_false(vnf_ct_has(ct, &k)); /* the refused add left nothing behind */

    vnf_ct_del(ct, f);
    assert_int_equal(vnf_ct_count(ct), 0);
    key_of(&k, 1, 0);
    assert_null(vnf_ct_lookup(ct, &k, &dir));
    key_of(&k, 1, 1);
    assert_false(vnf_ct_has(ct, &k));
    vnf_ct_free(ct);
    vnf_ct_free(NULL);
}

static void test_full_table(void **state)
{
    struct nfv_err err;
    struct vnf_ct *ct = vnf_ct_new("t_full", 100, &err);
    struct vnf_ct_flow *first = NULL;
    int e = 0;

    (void)state;
    for (uint32_t i = 0; i < 100; i++) {
        struct vnf_ct_flow *f = add(ct, i, 0, &e);
        assert_non_null(f);
        if (!first)
            first = f;
    }
    assert_null(add(ct, 100, 0, &e));
    assert_int_equal(e, ENOSPC);
    vnf_ct_del(ct, first);
    assert_non_null(add(ct, 100, 0, &e)); /* the freed slot is reused */
    assert_int_equal(vnf_ct_count(ct), 100);
    vnf_ct_free(ct);
}

static void test_bulk_lookup(void **state)
{
    struct nfv_err err;
    struct vnf_ct *ct = vnf_ct_new("t_bulk", 1000, &err);
    struct vnf_ct_key keys[VNF_CT_BULK_MAX];
    const struct vnf_ct_key *kp[VNF_CT_BULK_MAX];
    struct vnf_ct_flow *fl[VNF_CT_BULK_MAX];
    uint8_t dirs[VNF_CT_BULK_MAX];
    int e = 0;

    (void)state;
    for (uint32_t i = 0; i < 1000; i += 2)
        assert_non_null(add(ct, i, 0, &e));
    for (unsigned i = 0; i < VNF_CT_BULK_MAX; i++) {
        key_of(&keys[i], i * 7 % 1000, (int)(i % 3 == 0));
        kp[i] = &keys[i];
    }
    vnf_ct_lookup_bulk(ct, kp, VNF_CT_BULK_MAX, fl, dirs);
    for (unsigned i = 0; i < VNF_CT_BULK_MAX; i++) {
        unsigned dir = 9;
        struct vnf_ct_flow *one = vnf_ct_lookup(ct, &keys[i], &dir);

        assert_ptr_equal(fl[i], one);
        if (one) {
            assert_int_equal(dirs[i], dir);
            assert_true(vnf_ct_flow_matches(fl[i], dirs[i], &keys[i]));
        }
        assert_int_equal(one != NULL, (i * 7 % 1000) % 2 == 0);
    }
    vnf_ct_free(ct);
}

static void test_incremental_expiry(void **state)
{
    struct nfv_err err;
    struct vnf_ct *ct = vnf_ct_new("t_sweep", 4096, &err);
    unsigned calls = 0, total = 0;
    int e = 0;

    (void)state;
    for (uint32_t i = 0; i < 1000; i++)
        assert_non_null(add(ct, i, i < 500 ? 0 : 20000, &e));
    /* At 15 s nothing has outlived the 10 s UDP timeout but the first 500. */
    for (unsigned c = 0; c < 100; c++) {
        unsigned n = vnf_ct_sweep(ct, &tmo, 15000, 16);
        assert_true(n <= 16); /* never more than the budget per call */
        total += n;
    }
    assert_int_equal(total, 500);
    assert_int_equal(vnf_ct_count(ct), 500);
    /* Later all of them: ceil(used slots / budget) calls reach everything. */
    total = 0;
    while (vnf_ct_count(ct) && calls < 1000) {
        total += vnf_ct_sweep(ct, &tmo, 40000, 16);
        calls++;
    }
    assert_int_equal(total, 500);
    assert_true(calls <= 1000 / 16 + 2);
    /* An empty table sweeps nothing. */
    assert_int_equal(vnf_ct_sweep(ct, &tmo, 90000, 16), 0);
    vnf_ct_free(ct);
}

static void test_bad_size(void **state)
{
    struct nfv_err err;

    (void)state;
    assert_null(vnf_ct_new("t_zero", 0, &err));
    assert_int_equal(err.code, NFV_E_INVAL);
}

int main(void)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "--file-prefix=vmmgr-test-ct-%d", (int)getpid());
    char *argv[] = {"test_vnf_ct",
                    "-l",
                    "0",
                    "--no-huge",
                    "--no-pci",
                    "-m",
                    "256",
                    "--no-telemetry",
                    "--log-level=lib.eal:error",
                    prefix};
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_lookup_delete), cmocka_unit_test(test_full_table),
        cmocka_unit_test(test_bulk_lookup),       cmocka_unit_test(test_incremental_expiry),
        cmocka_unit_test(test_bad_size),
    };
    char run_dir[PATH_MAX];
    int rc;

    if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])), argv) < 0) {
        printf("SKIP: DPDK EAL cannot start here (--no-huge --no-pci)\n");
        return 77;
    }
    vnf_timeouts_default(&tmo);
    tmo.sec[VNF_TMO_UDP] = 10;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    snprintf(run_dir, sizeof(run_dir), "%s", rte_eal_get_runtime_dir());
    rte_eal_cleanup();
    remove_dir(run_dir);
    return rc;
}
