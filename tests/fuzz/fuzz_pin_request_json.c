/*
 * fuzz_pin_request_json.c - pin_request_from_json() (pin/request.h): the
 * "pins" object of the daemon's VM create request and of its database rows.
 *
 * Properties: whatever loads re-serializes, loads again, and serializes to
 * the same JSON (the header promises an exact round trip); the loaded request
 * is either valid or refused by pin_request_validate with a message.
 */
#include "fuzz_util.h"
#include "pin/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nfv_err err;
    struct pin_request *req = NULL, *back = NULL;

    if (size > 65536)
        return 0;
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!doc)
        return 0;
    if (pin_request_from_json(doc, &req, &err) != NFV_OK) {
        FUZZ_CHECK(err.code != NFV_OK && err.msg[0]);
        json_decref(doc);
        return 0;
    }
    FUZZ_CHECK(req->n_vcpus >= 1 && req->n_vcpus <= PIN_MAX_VCPUS);
    json_t *j = pin_request_to_json(req);
    FUZZ_CHECK(j);
    FUZZ_CHECK(pin_request_from_json(j, &back, &err) == NFV_OK);
    json_t *j2 = pin_request_to_json(back);
    FUZZ_CHECK(json_equal(j, j2));
    if (pin_request_validate(req, &err) != NFV_OK)
        FUZZ_CHECK(err.msg[0]);
    struct pin_request *dup = pin_request_dup(req);
    FUZZ_CHECK(dup);
    pin_request_free(dup);
    json_decref(j2);
    json_decref(j);
    pin_request_free(back);
    pin_request_free(req);
    json_decref(doc);
    return 0;
}
