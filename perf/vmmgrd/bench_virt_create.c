/*
 * bench_virt_create.c - the baseline of bench_vmmgrd.py's create figure: the
 * libvirt calls vmmgrd makes to bring one VM up and verify its pins, made
 * straight from C over ONE connection, with nothing else around them.
 *
 * vmmgrd's create, once placed, planned and journaled, does (vm_vm.c
 * bring_up() and pins_repair(), vm_hv_libvirt.c): virDomainDefineXML of the
 * domain XML that already carries <vcpupin>/<emulatorpin>; lookup,
 * virDomainIsActive, virDomainCreate; lookup, virDomainGetVcpuPinInfo of the
 * planned vCPUs; lookup, virDomainGetEmulatorPinInfo. No live vcpupin: the
 * pins come from the XML, and a pin is re-applied only on drift. This
 * program makes exactly those calls, on a connection opened once at start
 * (vmmgrd keeps one per host), and times them.
 *
 * usage: vmmgr-bench-virt URI   (then commands on stdin, one per line)
 *   create XML_FILE NAME N_VCPUS
 *       -> "ok MS vcpu0=PUS ... emulator=PUS" (MS: define to last read, the
 *          XML read from the file before the clock starts)
 *   destroy NAME   -> "ok" (destroy and undefine; not timed)
 *   quit
 * Errors: "error MESSAGE" on stdout, and the process goes on. Exit 2 on
 * bad usage, 1 if the connection cannot be opened.
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pin/pin.h"
#include "pin/pin_libvirt.h"

#define MAPLEN (PIN_MAX_PUS / 8) /* vmmgrd's map size */

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void quiet_error(void *opaque, virErrorPtr e)
{
    (void)opaque;
    (void)e;
}

static int fail(const char *what)
{
    const char *msg = virGetLastErrorMessage();

    printf("error %s: %s\n", what, msg ? msg : "unknown");
    virResetLastError();
    return -1;
}

/* Reads @path into a malloc'ed string, or NULL. */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL) {
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
        }
    }
    fclose(f);
    return buf;
}

/* Appends " @label=PUS" for one libvirt cpumap to @out. */
static void add_pins(char *out, size_t size, const char *label, const unsigned char *map)
{
    struct pin_cpuset s;
    char pus[256];
    size_t len = strlen(out);

    pin_libvirt_cpumap_to_set(map, MAPLEN, &s);
    pin_cpuset_format(&s, pus, sizeof(pus));
    snprintf(out + len, size - len, " %s=%s", label, pus);
}

/* The timed part: what vmmgrd does from define to its pin check. */
static int create(virConnectPtr conn, const char *xml, const char *name, unsigned n_vcpus,
                  char *pins, size_t pins_size)
{
    unsigned char *maps = calloc(n_vcpus, MAPLEN), emu[MAPLEN];
    virDomainPtr d;
    int n, rc = -1;

    if (!maps)
        return fail("out of memory");
    /* hv_domain_define */
    if (!(d = virDomainDefineXML(conn, xml)))
        goto out;
    virDomainFree(d);
    /* hv_domain_start */
    if (!(d = virDomainLookupByName(conn, name)))
        goto out;
    if (virDomainIsActive(d) != 1 && virDomainCreate(d) < 0) {
        virDomainFree(d);
        goto out;
    }
    virDomainFree(d);
    /* hv_vcpu_pins */
    if (!(d = virDomainLookupByName(conn, name)))
        goto out;
    n = virDomainGetVcpuPinInfo(d, (int)n_vcpus, maps, MAPLEN, VIR_DOMAIN_AFFECT_CURRENT);
    virDomainFree(d);
    if (n < 0)
        goto out;
    /* hv_emulator_pins */
    if (!(d = virDomainLookupByName(conn, name)))
        goto out;
    memset(emu, 0, sizeof(emu));
    n = virDomainGetEmulatorPinInfo(d, emu, MAPLEN, VIR_DOMAIN_AFFECT_CURRENT);
    virDomainFree(d);
    if (n < 0)
        goto out;
    pins[0] = '\0';
    for (unsigned v = 0; v < n_vcpus; v++) {
        char label[32];
        snprintf(label, sizeof(label), "vcpu%u", v);
        add_pins(pins, pins_size, label, VIR_GET_CPUMAP(maps, MAPLEN, (int)v));
    }
    add_pins(pins, pins_size, "emulator", emu);
    rc = 0;
out:
    free(maps);
    return rc == 0 ? 0 : fail("create");
}

static void destroy(virConnectPtr conn, const char *name)
{
    virDomainPtr d = virDomainLookupByName(conn, name);

    if (!d) {
        fail("lookup");
        return;
    }
    if (virDomainIsActive(d) == 1)
        virDomainDestroy(d);
    if (virDomainUndefine(d) < 0) {
        virDomainFree(d);
        fail("undefine");
        return;
    }
    virDomainFree(d);
    printf("ok\n");
}

int main(int argc, char **argv)
{
    virConnectPtr conn;
    char line[4096];

    if (argc != 2) {
        fprintf(stderr, "usage: %s URI (commands on stdin: create XML NAME N | destroy NAME)\n",
                argv[0]);
        return 2;
    }
    virSetErrorFunc(NULL, quiet_error);
    if (!(conn = virConnectOpen(argv[1]))) {
        fprintf(stderr, "%s: cannot connect: %s\n", argv[1], virGetLastErrorMessage());
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof(line), stdin)) {
        char cmd[16], path[2048], name[256], pins[4096];
        unsigned n_vcpus;
        int n = sscanf(line, "%15s %2047s %255s %u", cmd, path, name, &n_vcpus);
        if (n == 4 && strcmp(cmd, "create") == 0 && n_vcpus >= 1 && n_vcpus <= 256) {
            char *xml = read_file(path);
            double t0;
            if (!xml) {
                printf("error cannot read %s\n", path);
                continue;
            }
            t0 = now_ms();
            if (create(conn, xml, name, n_vcpus, pins, sizeof(pins)) == 0)
                printf("ok %.3f%s\n", now_ms() - t0, pins);
            free(xml);
        } else if (n == 2 && strcmp(cmd, "destroy") == 0) {
            destroy(conn, path);
        } else if (n >= 1 && strcmp(cmd, "quit") == 0) {
            break;
        } else {
            printf("error bad command: %s", line);
        }
    }
    virConnectClose(conn);
    return 0;
}
