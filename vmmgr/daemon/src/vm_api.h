/*
 * vm_api.h - the native REST API: routes /v1/... requests to the daemon.
 *
 * vm_api_handle() is the vm_http handler. It validates the method and path,
 * parses the body (vm_req.h), calls the service layer (vm_daemon.h) and fills
 * the response: 200/201 with a JSON document, or the error shape
 * {"error":{"code":"NOT_FOUND","message":"host 'h9' not found"}} with the
 * status nfv_code_http() gives. docs/vmmgrd.md lists every route.
 */
#ifndef VM_API_H
#define VM_API_H

#include "vm/vm_daemon.h"
#include "vm_http.h"

/* @opaque is the struct vm_daemon. */
void vm_api_handle(void *opaque, const struct vm_http_request *req, struct vm_http_response *resp);

#endif /* VM_API_H */
