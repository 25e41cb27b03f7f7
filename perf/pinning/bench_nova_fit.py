#!/usr/bin/python3
"""bench_nova_fit.py STATE.json [--runs N] [--iters N] [--out FILE]

Nova's own pinning fit, nova.virt.hardware.numa_fit_instance_to_host from
Debian's python3-nova, on exactly the host and request that bench_pin_plan
wrote to STATE.json: each host NUMA node becomes a NUMACell whose pcpuset is
the node's PUs (cpu_dedicated_set), whose siblings are the core pairs, and
whose pinned_cpus are the PUs held or kept empty there; the request is one
guest NUMA cell with N dedicated vCPUs under the same thread policy
(hw:cpu_policy=dedicated) and the request's memory (memory_mib, in 4 KiB
pages: the host cells offer theirs as 4 KiB pages too), as vmmgr's planner
got it. Prints the median time per fit over the runs and the PUs Nova chose,
and writes them as JSON.
"""
import argparse
import json
import logging
import statistics
import sys
import time

logging.disable(logging.CRITICAL)

from nova import objects  # noqa: E402
from nova.objects import fields  # noqa: E402
from nova.virt import hardware  # noqa: E402

objects.register_all()


def host_topology(state):
    cells = []
    for node in state["nodes"]:
        mem = node["memory_mib"]
        cells.append(objects.NUMACell(
            id=node["id"], socket=node["id"],
            cpuset=set(), pcpuset=set(node["pus"]),
            memory=mem, cpu_usage=0, memory_usage=0,
            pinned_cpus=set(node["pinned"]),
            siblings=[set(s) for s in node["siblings"]],
            mempages=[objects.NUMAPagesTopology(size_kb=4, total=mem * 256, used=0, reserved=0)],
            network_metadata=objects.NetworkMetadata(physnets=set(), tunneled=False)))
    return objects.NUMATopology(cells=cells)


def instance_topology(req):
    policy = {"prefer": fields.CPUThreadAllocationPolicy.PREFER,
              "isolate": fields.CPUThreadAllocationPolicy.ISOLATE,
              "require": fields.CPUThreadAllocationPolicy.REQUIRE}[req["thread_policy"]]
    return objects.InstanceNUMATopology(cells=[objects.InstanceNUMACell(
        id=0, cpuset=set(), pcpuset=set(range(req["vcpus"])), memory=req["memory_mib"],
        cpu_policy=fields.CPUAllocationPolicy.DEDICATED, cpu_thread_policy=policy)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("state")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.runs < 5:
        sys.exit("--runs must be at least 5")
    with open(args.state) as f:
        state = json.load(f)
    host = host_topology(state)
    req = state["request"]

    fitted = hardware.numa_fit_instance_to_host(host, instance_topology(req))
    pus = sorted(fitted.cells[0].cpu_pinning.values()) if fitted else None
    per_call = []
    for _ in range(args.runs):
        # a fresh request object per call, as the scheduler builds one per request
        insts = [instance_topology(req) for _ in range(args.iters)]
        t0 = time.perf_counter_ns()
        for inst in insts:
            hardware.numa_fit_instance_to_host(host, inst)
        per_call.append((time.perf_counter_ns() - t0) / args.iters)
    result = {
        "benchmark": "nova.virt.hardware.numa_fit_instance_to_host",
        "nova_version": __import__("nova.version", fromlist=["x"]).version_string(),
        "request": req, "runs": args.runs, "iters": args.iters,
        "fit_ns": {"median": statistics.median(per_call), "min": min(per_call),
                   "max": max(per_call)},
        "result": "OK" if fitted else "NO_FIT", "pus": pus,
    }
    print("nova fit, %d vCPUs dedicated, %s: median %.0f ns (min %.0f, max %.0f) over %d runs x "
          "%d calls -> %s %s" % (req["vcpus"], req["thread_policy"], result["fit_ns"]["median"],
                                 result["fit_ns"]["min"], result["fit_ns"]["max"], args.runs,
                                 args.iters, result["result"], pus))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
