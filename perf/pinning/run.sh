#!/usr/bin/env bash
# perf/pinning/run.sh [BUILD_DIR] - the pinning benchmark, one invocation:
#   1. vmmgr-bench-pin: our planner on a 2 x 64-core SMT host (256 PUs) filled
#      to 90%, request = 4 dedicated vCPUs (thread policy prefer) and 1024 MiB
#      of memory; median of 7 runs x 20000 calls; also writes the filled host
#      and the request as JSON;
#   2. bench_nova_fit.py: Nova's numa_fit_instance_to_host (Debian
#      python3-nova) on that same host and request; median of 7 runs x 200;
#   3. checks that both read the same request, prints both times, the ratio
#      and the PUs each chose, writes perf/results/pinning.json.
# Build first: cmake --build BUILD_DIR --target vmmgr-bench-pin
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${1:-$ROOT/build}
BENCH=$BUILD/perf/pinning/vmmgr-bench-pin
[ -x "$BENCH" ] || BENCH=$(find "$BUILD" -name vmmgr-bench-pin -type f -perm -u+x | head -1)
[ -n "$BENCH" ] && [ -x "$BENCH" ] || { echo "vmmgr-bench-pin not built under $BUILD" >&2; exit 1; }
PY=/usr/bin/python3 # Debian's python, where python3-nova lives
TMP=$(mktemp -d /tmp/vmmgr-bench-pin.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
OUT=$ROOT/perf/results/pinning.json
mkdir -p "$ROOT/perf/results"

"$BENCH" --runs 7 --iters 20000 --state "$TMP/state.json" --out "$TMP/ours.json"
"$PY" "$HERE/bench_nova_fit.py" "$TMP/state.json" --runs 7 --iters 200 --out "$TMP/nova.json"

"$PY" - "$TMP/ours.json" "$TMP/nova.json" "$OUT" <<'PYEOF'
import json, platform, sys, time
ours, nova = (json.load(open(p)) for p in sys.argv[1:3])
ratio = nova["fit_ns"]["median"] / ours["plan_prefer_ns"]["median"]
if ours["request"] != nova["request"]:
    sys.exit("the two sides read different requests: %s vs %s" % (ours["request"], nova["request"]))
res = {
    "what": "plan one request (4 dedicated vCPUs, thread policy prefer, 1024 MiB in 4 KiB pages) "
            "on a 2 x 64-core SMT host (256 PUs) filled to 90%; vmmgr pin_plan_compute vs Nova "
            "numa_fit_instance_to_host on the same host and request, same invocation",
    "request": ours["request"],
    "chosen_pus": {"vmmgr": ours["plan_prefer_ns"]["pus"], "nova": nova["pus"]},
    "same_pus": ours["plan_prefer_ns"]["pus"] == nova["pus"],
    "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "machine": platform.machine() + " " + platform.node(),
    "vmmgr": ours, "nova": nova,
    "plan_median_ns": ours["plan_prefer_ns"]["median"],
    "nova_median_ns": nova["fit_ns"]["median"],
    "nova_over_vmmgr": ratio,
    "target_plan_median_ns": 20000,
    "meets_target": ours["plan_prefer_ns"]["median"] < 20000,
}
json.dump(res, open(sys.argv[3], "w"), indent=2)
print("vmmgr plan median %.0f ns, nova fit median %.0f ns: nova/vmmgr = %.0fx; target < 20000 ns: %s"
      % (res["plan_median_ns"], res["nova_median_ns"], ratio, "met" if res["meets_target"] else "MISSED"))
print("chosen PUs: vmmgr %s, nova %s (%s)" % (res["chosen_pus"]["vmmgr"], res["chosen_pus"]["nova"],
      "the same" if res["same_pus"] else "different"))
print("wrote", sys.argv[3])
PYEOF
