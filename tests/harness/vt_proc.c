/*
 * vt_proc.c - read guest thread affinity from /proc (see vt_proc.h).
 */
#include "vt_proc.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

pid_t vt_proc_qemu_pid(const char *name)
{
    char path[512];
    FILE *f;
    long pid = -1;

    snprintf(path, sizeof(path), "/run/libvirt/qemu/%s.pid", name);
    f = fopen(path, "r");
    if (!f)
        return -1;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = -1;
    fclose(f);
    return (pid_t)pid;
}

pid_t vt_proc_vcpu_tid(pid_t pid, unsigned vcpu)
{
    char path[512], comm[64], want_kvm[32], want_tcg[32];
    struct dirent *de;
    pid_t found = -1;
    DIR *d;

    snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
    snprintf(want_kvm, sizeof(want_kvm), "CPU %u/KVM", vcpu);
    snprintf(want_tcg, sizeof(want_tcg), "CPU %u/TCG", vcpu);
    d = opendir(path);
    if (!d)
        return -1;
    while (found < 0 && (de = readdir(d))) {
        FILE *f;
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/%ld/task/%s/comm", (long)pid, de->d_name);
        f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(comm, sizeof(comm), f)) {
            comm[strcspn(comm, "\n")] = '\0';
            if (strcmp(comm, want_kvm) == 0 || strcmp(comm, want_tcg) == 0)
                found = (pid_t)strtol(de->d_name, NULL, 10);
        }
        fclose(f);
    }
    closedir(d);
    return found;
}

int vt_proc_affinity(pid_t pid, pid_t tid, char *buf, size_t buf_size)
{
    char path[256], line[512];
    const char key[] = "Cpus_allowed_list:";
    int ret = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%ld/task/%ld/status", (long)pid, (long)tid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, key, sizeof(key) - 1) == 0) {
            char *v = line + sizeof(key) - 1;
            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = '\0';
            snprintf(buf, buf_size, "%s", v);
            ret = 0;
            break;
        }
    }
    fclose(f);
    return ret;
}

int vt_proc_vcpu_affinity(pid_t pid, unsigned vcpu, char *buf, size_t buf_size)
{
    pid_t tid = vt_proc_vcpu_tid(pid, vcpu);

    if (tid < 0)
        return -1;
    return vt_proc_affinity(pid, tid, buf, buf_size);
}
