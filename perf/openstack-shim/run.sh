#!/usr/bin/env bash
# perf/openstack-shim/run.sh - 100 `server create` calls through vmmgr-shim
# (in front of a real vmmgrd with 4 simulated hosts), RUNS times; medians
# into perf/results/openstack_shim.json.
#
#   RUNS=3 N=100 perf/openstack-shim/run.sh
#   NOVA_AUTH_URL=http://127.0.0.1:15000/v3 NOVA_RUNS=1 perf/openstack-shim/run.sh
#       also runs the same client against a real Nova (fake virt driver,
#       started beforehand, e.g. with the kit's os-up.sh: user admin/secret,
#       project admin, flavor m1.tiny, image cirros; raise the admin project's
#       quota first: openstack quota set --instances 1000 --cores 2000 admin)
#       in the same invocation, NOVA_RUNS times (default RUNS: a run takes
#       ~11 minutes on the development machine).
#
# bench_create.py is the client: one keep-alive connection, requests one
# after another, latency = request sent to 202 received; "active" rate =
# servers ACTIVE per second from the first request to the last ACTIVE.
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
export VMMGR_SOURCE_DIR=$src VMMGR_BINARY_DIR=${VMMGR_BUILD_DIR:-$src/build}
RUNS=${RUNS:-3}
N=${N:-100}
out=$src/perf/results/openstack_shim.json
# shellcheck source=../../tests/integration/openstack-shim/lib.sh
. "$src/tests/integration/openstack-shim/lib.sh"
start_shim 4
TOKEN=$(get_token admin admin secret)
shim POST /compute/v2.1/flavors '{"flavor":{"name":"bench","ram":256,"vcpus":1,"disk":0}}'
FID=$(echo "$body" | jq_ 'd["flavor"]["id"]')
shim POST "/compute/v2.1/flavors/$FID/os-extra_specs" '{"extra_specs":{"hw:cpu_policy":"dedicated"}}'
[ "$status" = 200 ] || fail "bench flavor: $body"

: >"$T/shim.runs"
for r in $(seq "$RUNS"); do
    echo "openstack-shim bench: shim run $r/$RUNS ($N creates)" >&2
    "$PY" "$src/perf/openstack-shim/bench_create.py" "$SHIM_URL/identity/v3" admin secret admin \
        "$N" bench cirros >>"$T/shim.runs" || fail "bench run $r"
    # Let the worker delete the run's VMs before the next one.
    wait_for 120 "VMs of run $r deleted" bash -c "! $(printf '%q ' "$VMMGRCTL") --socket $SOCK --json vm list | grep -q vmmgr-test-shim"
done
: >"$T/nova.runs"
if [ -n "${NOVA_AUTH_URL:-}" ]; then
    for r in $(seq "${NOVA_RUNS:-$RUNS}"); do
        echo "openstack-shim bench: Nova run $r/${NOVA_RUNS:-$RUNS} ($N creates)" >&2
        "$PY" "$src/perf/openstack-shim/bench_create.py" "$NOVA_AUTH_URL" admin secret admin \
            "$N" m1.tiny cirros >>"$T/nova.runs" || fail "Nova run $r"
        sleep 5
    done
fi
"$PY" - "$T/shim.runs" "$T/nova.runs" "$out" "$(git -C "$src" rev-parse --short HEAD)" "$(uptime)" <<'PYEOF'
import json, statistics, sys
def load(p):
    return [json.loads(l) for l in open(p) if l.strip()]
def med(runs):
    if not runs:
        return None
    return {"runs": len(runs), "n": runs[0]["n"],
            "latency_ms_p50": statistics.median(r["latency_ms"]["p50"] for r in runs),
            "latency_ms_p99": statistics.median(r["latency_ms"]["p99"] for r in runs),
            "api_servers_per_s": statistics.median(r["api_servers_per_s"] for r in runs),
            "active_servers_per_s": statistics.median(r["active_servers_per_s"] for r in runs),
            "active": [r["active"] for r in runs], "error": [r["error"] for r in runs],
            "each_run": runs}
shim, nova = med(load(sys.argv[1])), med(load(sys.argv[2]))
res = {"benchmark": "100 server creates through the Nova API (perf/openstack-shim/run.sh)",
       "commit": sys.argv[4], "load": sys.argv[5].strip(),
       "shim": shim, "nova": nova,
       "note": "shim: vmmgr-shim -> vmmgrd, 4 libvirt test-driver hosts, flavor 1 vCPU "
               "hw:cpu_policy=dedicated; nova: real Nova 26.2.2, fake virt driver, m1.tiny"}
if shim and nova:
    res["ratio_api_throughput"] = round(shim["api_servers_per_s"] / nova["api_servers_per_s"], 1)
    res["ratio_active_throughput"] = round(shim["active_servers_per_s"] / nova["active_servers_per_s"], 1)
json.dump(res, open(sys.argv[3], "w"), indent=2)
print(json.dumps({k: v for k, v in res.items() if k not in ("shim", "nova")}))
for name in ("shim", "nova"):
    if res[name]:
        r = res[name]
        print(f"{name}: p50 {r['latency_ms_p50']} ms, p99 {r['latency_ms_p99']} ms, "
              f"{r['api_servers_per_s']} accepted/s, {r['active_servers_per_s']} ACTIVE/s, "
              f"active {r['active']} error {r['error']}")
PYEOF
