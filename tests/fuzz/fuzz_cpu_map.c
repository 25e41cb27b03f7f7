/*
 * fuzz_cpu_map.c - the per-vCPU options of a pin request (pin/request.h):
 * --cpu-map "0:4,1:6" (vCPU:PU) and --shared-vcpus "0,2-3".
 *
 * Input: the first byte picks the vCPU count (1..64), the rest up to the
 * first newline is the cpu map, the rest after it the shared-vCPU list.
 * Properties: after a successful cpu map every mapped vCPU is numbered on
 * a distinct PU below the bound; the request stays self-consistent enough
 * for validate, demand and the JSON round trip not to crash.
 */
#include <stdbool.h>

#include "fuzz_util.h"
#include "pin/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pin_request *req = NULL;
    struct nfv_err err;
    const unsigned n_max_pu = 256;

    if (size < 1 || size > 16384)
        return 0;
    unsigned n_vcpus = 1 + data[0] % 64;
    data++, size--;
    size_t k = fuzz_split(data, size, '\n');
    char *map = fuzz_strndup(data, k);
    char *shared = fuzz_strndup(data + (k < size ? k + 1 : size), k < size ? size - k - 1 : 0);

    FUZZ_CHECK(pin_request_new(n_vcpus, PIN_MODE_EXCLUSIVE, &req, &err) == NFV_OK);
    if (pin_request_set_cpu_map(req, map, n_max_pu, &err) == NFV_OK) {
        bool seen[256] = {false};
        for (unsigned v = 0; v < n_vcpus; v++) {
            if (req->vcpu_mode[v] != PIN_MODE_NUMBERED)
                continue;
            FUZZ_CHECK(req->vcpu_pu[v] >= 0 && (unsigned)req->vcpu_pu[v] < n_max_pu);
            FUZZ_CHECK(!seen[req->vcpu_pu[v]]);
            seen[req->vcpu_pu[v]] = true;
        }
    } else {
        FUZZ_CHECK(err.code != NFV_OK && err.msg[0]);
    }
    if (pin_request_set_mode_list(req, shared, PIN_MODE_SHARED, &err) != NFV_OK)
        FUZZ_CHECK(err.code != NFV_OK && err.msg[0]);

    struct pin_demand dem;
    pin_request_demand(req, 2, &dem);
    FUZZ_CHECK(dem.n_exclusive + dem.n_shared_vcpus + dem.n_numbered == n_vcpus);
    if (pin_request_validate(req, &err) == NFV_OK) {
        json_t *j = pin_request_to_json(req);
        struct pin_request *back = NULL;
        FUZZ_CHECK(j);
        FUZZ_CHECK(pin_request_from_json(j, &back, &err) == NFV_OK);
        json_t *j2 = pin_request_to_json(back);
        FUZZ_CHECK(json_equal(j, j2));
        json_decref(j2);
        json_decref(j);
        pin_request_free(back);
    }
    pin_request_free(req);
    free(map);
    free(shared);
    return 0;
}
