#!/usr/bin/env bash
# run.sh [BUILD_DIR] - placement benchmark driver.
#
# 1. bench_place at 1,000 hosts (2 x 32 cores x 2 threads, 8 racks, 2 zones):
#    PAIRS (20,000) ACT/SBY pair requests placed one at a time, RUNS (5) runs
#    (medians); the first run also dumps 6 evenly spaced samples.
# 2. bench_place at 10,000 hosts, the same requests.
# 3. With BASE (default e9864af, the engine before issue 11's exact reserve;
#    BASE= to skip): that commit's bench_place, built from `git archive` in a
#    temp dir under /tmp (the repository is not touched), runs the same two
#    sizes in this invocation, right after ours, so before/after ratios come
#    from one run on the same load.
# 4. nova_compare.py: Nova's numa_fit_instance_to_host on the dumped samples
#    (every host, once per VM of the request, median of 3), ratio Nova/ours.
# 5. The healing reserve on small clusters: unit_placement_reserve_exact over
#    SOAK_SEEDS (100) seeds from SOAK_SEED0 (1000) with SOAK_BUDGET (300000)
#    brute-force nodes per domain check: unsound accepts (must be 0), the
#    needless-refusal rate and the undecided checks (counted as healable, so
#    needless refusals may be over-counted). SOAK_SEEDS=0 skips it.
# Writes perf/results/placement.json (keeping sections it does not produce,
# e.g. earlier hand-run figures) and prints every figure. Exits 1 when a
# target misses (per pair, CPU time p99 < 1 ms at 1,000 hosts and < 10 ms at
# 10,000 hosts; 0 unsound accepts), after writing the file; the wall-clock
# p99 is recorded beside it (on a shared machine it includes preemption).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-$top/build}
bench=$build/perf/placement/bench_place
soak=$build/tests/unit/placement/unit_placement_reserve_exact
[ -x "$bench" ] || { echo "run.sh: $bench not built (cmake --build $build --target bench_place)" >&2; exit 2; }
tmp=$(mktemp -d /tmp/vmmgr-bench-placement.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
runs=${RUNS:-5}
pairs=${PAIRS:-20000}
base=${BASE-e9864af}
soak_seeds=${SOAK_SEEDS:-100}

base_bench=
if [ -n "$base" ]; then
    echo "== building bench_place of $base in $tmp/base"
    mkdir -p "$tmp/base-src"
    git -C "$top" archive "$base" | tar -x -C "$tmp/base-src"
    cmake -S "$tmp/base-src" -B "$tmp/base" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$tmp/base" --target bench_place -j"${JOBS:-1}" >/dev/null
    base_bench=$tmp/base/perf/placement/bench_place
fi

for n in 1000 10000; do
    extra=()
    [ "$n" = 1000 ] && extra=(--dump-dir "$tmp" --samples 6)
    echo "== $n hosts, $pairs pair requests, $runs runs"
    "$bench" --hosts "$n" --pairs "$pairs" --runs "$runs" "${extra[@]}" >"$tmp/new-$n.json"
    cat "$tmp/new-$n.json"
    if [ -n "$base_bench" ]; then
        echo "== $n hosts, $base's engine"
        "$base_bench" --hosts "$n" --pairs "$pairs" --runs "$runs" >"$tmp/base-$n.json"
        cat "$tmp/base-$n.json"
    fi
done
echo "== Nova numa_fit_instance_to_host on the same inputs (1,000 hosts, 6 sampled requests)"
/usr/bin/python3 "$here/nova_compare.py" "$tmp" >"$tmp/nova.json"
cat "$tmp/nova.json"
: >"$tmp/soak.txt"
if [ "$soak_seeds" != 0 ]; then
    [ -x "$soak" ] || { echo "run.sh: $soak not built" >&2; exit 2; }
    echo "== healing reserve, $soak_seeds small clusters from seed ${SOAK_SEED0:-1000}"
    PLC_EXACT_REPORT=1 PLC_EXACT_SEEDS=$soak_seeds PLC_EXACT_SEED0=${SOAK_SEED0:-1000} \
        PLC_EXACT_BUDGET=${SOAK_BUDGET:-300000} "$soak" | grep '^exact reserve:' >"$tmp/soak.txt"
    cat "$tmp/soak.txt"
fi

mkdir -p "$top/perf/results"
/usr/bin/python3 - "$tmp" "$top/perf/results/placement.json" "$base" "$soak_seeds" \
    "${SOAK_SEED0:-1000}" "${SOAK_BUDGET:-300000}" <<'PY'
import json, os, platform, re, subprocess, sys, time
tmp, out, base, soak_seeds, soak_seed0, soak_budget = sys.argv[1:7]
def load(name):
    p = os.path.join(tmp, name)
    return json.load(open(p)) if os.path.exists(p) else None
k1, k10 = load("new-1000.json"), load("new-10000.json")
b1, b10 = load("base-1000.json"), load("base-10000.json")
nova = load("nova.json")
try:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
except OSError:
    commit = ""
try:
    old = json.load(open(out))
except (OSError, ValueError):
    old = {}
res = {
    "benchmark": "placement",
    "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "commit": commit,
    "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                "load_avg_at_end": list(os.getloadavg())},
    "notes": "latencies in microseconds per request (one request = one ACT/SBY pair); "
             "cpu_* = thread CPU time, p50/p99 = wall clock; medians over runs; "
             "before_* = bench_place of the base commit, run in the same invocation right "
             "after ours; nova = numa_fit_instance_to_host over every host once per VM, no "
             "anti-affinity or reserve (a lower bound for Nova); reserve_small_clusters = "
             "tests/unit/placement/test_reserve_exact.c (random 10-18-host clusters, every "
             "accept brute-forced for every host and rack failure, every refusal checked for "
             "a placement that existed)",
    "hosts_1000": k1,
    "hosts_10000": k10,
}
# Targets: p99 per pair below 1 ms at 1,000 hosts, 10 ms at 10,000. Judged
# on thread CPU time: on a shared machine the wall clock adds whatever
# preemption the other processes cause (both are recorded).
res["targets"] = {"hosts_1000_p99_us_below": 1000, "hosts_10000_p99_us_below": 10000,
                  "judged_on": "cpu_p99 (thread CPU time); wall p99 recorded beside it",
                  "hosts_1000_met": k1["cpu_p99"] < 1000,
                  "hosts_10000_met": k10["cpu_p99"] < 10000,
                  "hosts_1000_wall_p99_met": k1["p99"] < 1000,
                  "hosts_10000_wall_p99_met": k10["p99"] < 10000}
ok = res["targets"]["hosts_1000_met"] and res["targets"]["hosts_10000_met"]
if b1:
    res["base_commit"] = base
    res["before_hosts_1000"] = b1
    res["before_hosts_10000"] = b10
    res["ratio_after_over_before"] = {
        "hosts_%d" % n: {f: round(a[f] / b[f], 3) if b[f] else None
                         for f in ("cpu_p50", "cpu_p99", "p50", "p99", "placed")}
        for n, a, b in ((1000, k1, b1), (10000, k10, b10))}
res["nova_compare"] = nova
line = open(os.path.join(tmp, "soak.txt")).read().strip()
if line:
    m = re.match(r"exact reserve: (\d+) seeds, (\d+) requests, (\d+) placed, (\d+) refused "
                 r"\((\d+) needless, [\d.]+%\), (\d+) unsound accepts, (\d+) members lost by "
                 r"evacuate plans, (\d+) deletions, (\d+) broke the condition; (\d+) brute-force "
                 r"checks undecided", line)
    keys = ("seeds", "requests", "placed", "refused", "needless_refusals", "unsound_accepts",
            "members_lost_by_evacuate_plan", "deletions", "deletions_breaking_reserve",
            "brute_force_undecided")
    s = dict(zip(keys, map(int, m.groups())))
    s["seed0"] = int(soak_seed0)
    s["budget_nodes_per_domain"] = int(soak_budget)
    s["needless_rate"] = round(s["needless_refusals"] / s["refused"], 4) if s["refused"] else 0.0
    res["reserve_small_clusters"] = s
    ok = ok and s["unsound_accepts"] == 0
for k, v in old.items():  # hand-run sections (e.g. reserve_issue11) stay
    if k not in res:
        res[k] = v
json.dump(res, open(out, "w"), indent=2)
print("wrote", out)
for name, k, b in (("1,000", k1, b1), ("10,000", k10, b10)):
    print("%s hosts: %d placed, %.0f requests/s, cpu p50 %.0f us, cpu p99 %.0f us, wall p99 "
          "%.0f us, %d B/host" % (name, k["placed"], k["req_per_s"], k["cpu_p50"], k["cpu_p99"],
                                  k["p99"], k["bytes_per_host"]))
    if b:
        print("   before (%s): %d placed, cpu p50 %.0f us, cpu p99 %.0f us, wall p99 %.0f us"
              % (base, b["placed"], b["cpu_p50"], b["cpu_p99"], b["p99"]))
print("Nova/ours per request (median of %d samples): %.0fx"
      % (len(nova["samples"]), nova["median_ratio_nova_over_ours"]))
if "reserve_small_clusters" in res:
    s = res["reserve_small_clusters"]
    print("reserve, %d small clusters: %d unsound accepts, needless refusals %d of %d (%.1f%%), "
          "%d checks undecided" % (s["seeds"], s["unsound_accepts"], s["needless_refusals"],
                                   s["refused"], 100 * s["needless_rate"],
                                   s["brute_force_undecided"]))
print("targets met" if ok else "a target missed")
sys.exit(0 if ok else 1)
PY
