#!/usr/bin/env bash
# run_incremental.sh [BUILD_DIR] - a create on a long-lived cluster (issue 9).
#
# bench_incremental at 1,000 hosts up to 10,000 VMs (then 1,000 delete+create
# pairs at that count): the CPU time per create at every 1,000 VMs, next to
# what the old daemon path spent rebuilding the whole cluster before each
# create. Writes perf/results/placement_incremental.json and prints it; exits
# 1 if the median create at 10,000 VMs costs more than twice the one at 1,000
# (it would if a create scanned the VMs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-$top/build}
bench=$build/perf/placement/bench_incremental
[ -x "$bench" ] || { echo "run_incremental.sh: $bench not built (cmake --build $build --target bench_incremental)" >&2; exit 2; }
tmp=$(mktemp -d /tmp/vmmgr-bench-incremental.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$bench" --hosts 1000 --vms 10000 --churn 1000 >"$tmp/run.json"
mkdir -p "$top/perf/results"
/usr/bin/python3 - "$tmp/run.json" "$top/perf/results/placement_incremental.json" "$top" <<'PY'
import json, os, platform, subprocess, sys, time
run, out, top = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
commit = subprocess.run(["git", "-C", top, "rev-parse", "--short", "HEAD"], capture_output=True,
                        text=True).stdout.strip()
res = {
    "benchmark": "placement_incremental",
    "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "commit": commit,
    "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    "notes": "one create = pin request -> plc_bridge_demand -> plc_place (committed into the "
             "kept cluster) -> plc_bridge_plan -> pin_alloc_claim, thread CPU time per request "
             "(a pair request places and pins two VMs); rebuild_cpu_ms = what the old daemon "
             "path (cluster_build) spent before every create at that count, median of 3",
    "run": run,
}
json.dump(res, open(out, "w"), indent=2)
print(json.dumps(res, indent=2))
print("wrote", out)
m = run["milestones"]
ratio = m[-1]["create_cpu_p50_us"] / m[0]["create_cpu_p50_us"]
print("create p50: %.1f us at %d VMs, %.1f us at %d VMs (x%.2f); old rebuild %.1f ms -> %.1f ms"
      % (m[0]["create_cpu_p50_us"], m[0]["vms"], m[-1]["create_cpu_p50_us"], m[-1]["vms"], ratio,
         m[0]["rebuild_cpu_ms"], m[-1]["rebuild_cpu_ms"]))
sys.exit(0 if ratio < 2 else 1)
PY
