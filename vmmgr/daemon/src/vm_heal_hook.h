/*
 * vm_heal_hook.h - the VNF promotion hook (executable and/or webhook, from
 * the config file only). Called by vm_heal. Calls vm_ctx.
 */
#ifndef VM_HEAL_HOOK_H
#define VM_HEAL_HOOK_H

#include "vm_job.h"

/* Runs the configured hooks with @json, each attempt an event about
 * @object. True when every configured hook succeeded (or none is set).
 * Lock NOT held (it blocks up to attempts x timeout). */
bool vm_heal_hook_run(struct vm_daemon *d, const char *object, const char *json);

#endif /* VM_HEAL_HOOK_H */
