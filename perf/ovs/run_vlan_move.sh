#!/usr/bin/env bash
# perf/ovs/run_vlan_move.sh - issue 15's benchmark: the VLAN move on failover
# at 1,000 trunk ports, through vmmgr's OVSDB driver and through ovs-vsctl,
# in the same run against the same Open vSwitch.
#
#   perf/ovs/run_vlan_move.sh [BUILD_DIR]
#   env: PORTS (1000), MOVES per run (100), RUNS per mode (5), OUT
#        (perf/results/ovs_vlan_move.json)
#
# Starts a private ovsdb-server + ovs-vswitchd (scripts/lib/ovs.sh; root),
# creates one netdev bridge with PORTS dummy trunk ports in one ovs-vsctl
# transaction, then alternates driver and vsctl runs of MOVES moves each
# (vmmgr-bench-vlan-move), waiting for ovs-vswitchd to apply each move as
# vmmgr does, and the same pair without waiting (-nowait: the database alone). After every run it checks that VLAN 4094 is on
# exactly the port the run ended on, then puts it back on h0000. Writes the
# medians over runs of each run's p50 and p99 to OUT.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
bench=$build/perf/ovs/vmmgr-bench-vlan-move
PORTS=${PORTS:-1000}
MOVES=${MOVES:-100}
RUNS=${RUNS:-5}
OUT=${OUT:-$src/perf/results/ovs_vlan_move.json}
. "$src/scripts/lib/ovs.sh"
[ -x "$bench" ] || { echo "run_vlan_move: build first ($bench missing)" >&2; exit 1; }

T=$(mktemp -d /tmp/vmmgr-bench-ovs-XXXXXX)
trap 'vmmgr_ovs_stop; rm -rf "$T"' EXIT
vmmgr_ovs_start "$T"
vmmgr_ovs_add_bridge br0
args=()
for i in $(seq 0 $((PORTS - 1))); do
    p=$(printf 'h%04d' "$i")
    args+=(-- add-port br0 "$p" -- set interface "$p" type=dummy -- set port "$p" "trunks=$((i % 4000 + 1))")
done
vsctl --timeout=120 "${args[@]}"
vsctl add port h0000 trunks 4094
echo "run_vlan_move: $PORTS ports on br0" >&2

target="unix:$VMMGR_OVS_DB_SOCK"
: >"$T/runs.jsonl"
for r in $(seq 1 "$RUNS"); do
    for mode in driver vsctl driver-nowait vsctl-nowait; do
        "$bench" "$mode" "$target" br0 "$PORTS" "$MOVES" >"$T/run.json"
        final=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["final_port"])' "$T/run.json")
        holders=$(vsctl --bare --columns=name find port 'trunks{>=}4094' | sed '/^$/d')
        if [ "$holders" != "$final" ]; then
            echo "run_vlan_move: $mode run $r: VLAN 4094 is on '$holders', want '$final'" >&2
            exit 1
        fi
        [ "$final" = h0000 ] || vsctl remove port "$final" trunks 4094 -- add port h0000 trunks 4094
        cat "$T/run.json" >>"$T/runs.jsonl"
        python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("run_vlan_move: %s run %s: p50 %.2f ms p99 %.2f ms" % (d["mode"], sys.argv[2], d["p50_ms"], d["p99_ms"]))' "$T/run.json" "$r" >&2
    done
done

python3 - "$T/runs.jsonl" "$OUT" "$PORTS" "$MOVES" "$RUNS" "$(git -C "$src" rev-parse --short HEAD)" \
    "$(ovs-vsctl --version | head -n1)" <<'EOF'
import json, statistics, sys, datetime
runs = [json.loads(l) for l in open(sys.argv[1])]
out = {"benchmark": "ovs_vlan_move",
       "what": "move one VLAN between two hosts' trunk ports (remove from one, add to the "
               "other), confirmed applied by ovs-vswitchd, on a bridge of N trunk ports",
       "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
       "commit": sys.argv[6], "ovs": sys.argv[7],
       "ports": int(sys.argv[3]), "moves_per_run": int(sys.argv[4]), "runs": int(sys.argv[5]),
       "modes": {}}
for mode in ("driver", "vsctl", "driver-nowait", "vsctl-nowait"):
    rs = [r for r in runs if r["mode"] == mode]
    out["modes"][mode] = {
        "p50_ms_median": round(statistics.median(r["p50_ms"] for r in rs), 3),
        "p99_ms_median": round(statistics.median(r["p99_ms"] for r in rs), 3),
        "p50_ms_runs": [r["p50_ms"] for r in rs],
        "p99_ms_runs": [r["p99_ms"] for r in rs]}
d, v = out["modes"]["driver"], out["modes"]["vsctl"]
out["driver_vs_vsctl_p50"] = round(d["p50_ms_median"] / v["p50_ms_median"], 3)
out["driver_vs_vsctl_p99"] = round(d["p99_ms_median"] / v["p99_ms_median"], 3)
d, v = out["modes"]["driver-nowait"], out["modes"]["vsctl-nowait"]
out["nowait_driver_vs_vsctl_p50"] = round(d["p50_ms_median"] / v["p50_ms_median"], 3)
out["nowait_driver_vs_vsctl_p99"] = round(d["p99_ms_median"] / v["p99_ms_median"], 3)
json.dump(out, open(sys.argv[2], "w"), indent=2)
open(sys.argv[2], "a").write("\n")
print(json.dumps({k: v for k, v in out.items() if k.endswith(("_p50", "_p99"))}),
      json.dumps({m: {k: x[k] for k in ("p50_ms_median", "p99_ms_median")} for m, x in out["modes"].items()}))
EOF
