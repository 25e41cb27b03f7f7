/*
 * vt_proc.h - read what the kernel says about a guest's threads.
 *
 * A test asserts pins the way an operator checks them: the QEMU process's
 * vCPU threads ("CPU n/KVM", or "CPU n/TCG" without KVM) and their
 * Cpus_allowed_list in /proc/<pid>/task/<tid>/status.
 */
#ifndef VT_PROC_H
#define VT_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* PID of the QEMU process of domain @name (from libvirt's pid file), or -1. */
pid_t vt_proc_qemu_pid(const char *name);

/* Thread id of vCPU @vcpu in QEMU process @pid, or -1 if not found. */
pid_t vt_proc_vcpu_tid(pid_t pid, unsigned vcpu);

/* Copies the Cpus_allowed_list of thread @tid of @pid into @buf.
 * Returns 0, or -1 if the thread or field cannot be read. */
int vt_proc_affinity(pid_t pid, pid_t tid, char *buf, size_t buf_size);

/* Shortcut: the Cpus_allowed_list of vCPU @vcpu's thread. Returns 0 or -1. */
int vt_proc_vcpu_affinity(pid_t pid, unsigned vcpu, char *buf, size_t buf_size);

#endif /* VT_PROC_H */
