#!/usr/bin/python3
"""nova_compare.py DIR - time Nova's NUMA fit on the inputs bench_place dumped.

For every DIR/sample-*.json (the cluster state before one request of the
1,000-host run, plus this engine's median latency for that request at that
state), builds each host's nova.objects.NUMATopology (2 cells, SMT-2 sibling
pairs, dedicated pcpuset, pinned_cpus = the PUs of the cores in use, 4 KiB
mempages for the memory in use; cpuset = pcpuset, Nova's legacy layout, the
only one where it accepts 'isolate' on SMT hosts) and the VM's InstanceNUMATopology (one cell,
cpu_policy=dedicated, cpu_thread_policy=isolate, one vCPU per core this
engine allocates, same memory), then times
nova.virt.hardware.numa_fit_instance_to_host over every host, once per VM of
the request - what Nova's NUMATopologyFilter does per candidate host. Nova
does no anti-affinity or reserve check here, so its figure is a lower bound.
Prints one JSON object: per-sample times and the median ratio Nova/ours.
"""
import glob
import json
import logging
import os
import statistics
import sys
import time

from nova import objects
from nova.objects import fields  # noqa: F401 (registers field types)
from nova.virt import hardware

objects.register_all()
logging.disable(logging.WARNING)


def host_topology(h):
    cells = []
    for nid, n in enumerate(h["nodes"]):
        first, ncores = n["first_core"], n["cores"]
        pus = set()
        siblings = []
        for c in range(first, first + ncores):
            pus |= {2 * c, 2 * c + 1}
            siblings.append({2 * c, 2 * c + 1})
        pinned = set()
        for c in n["used"]:
            pinned |= {2 * c, 2 * c + 1}
        mem = n["memory_mib"]
        used = mem - n["free_mib"]
        # cpuset == pcpuset is Nova's legacy ('vcpu_pin_set') layout, the
        # one under which it implements the 'isolate' thread policy on SMT
        # hosts (see nova/virt/hardware.py, bug #1889633).
        cells.append(objects.NUMACell(
            id=nid, socket=nid, cpuset=set(pus), pcpuset=pus, memory=mem,
            cpu_usage=0, memory_usage=used, pinned_cpus=pinned,
            siblings=siblings,
            mempages=[objects.NUMAPagesTopology(size_kb=4, total=mem * 256,
                                                used=used * 256, reserved=0)],
            network_metadata=objects.NetworkMetadata(physnets=set(),
                                                     tunneled=False)))
    return objects.NUMATopology(cells=cells)


def instance_topology(vm):
    return objects.InstanceNUMATopology(cells=[objects.InstanceNUMACell(
        id=0, cpuset=set(), pcpuset=set(range(vm["dedicated"])),
        memory=vm["memory_mib"], cpu_policy="dedicated",
        cpu_thread_policy="isolate")])


def main():
    d = sys.argv[1]
    reps = int(os.environ.get("NOVA_REPS", "3"))
    samples = []
    for path in sorted(glob.glob(os.path.join(d, "sample-*.json")),
                       key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0])):
        s = json.load(open(path))
        hosts = [host_topology(h) for h in s["hosts"]]
        inst = instance_topology(s["vm"])
        times = []
        fits = 0
        for _ in range(reps):
            t0 = time.perf_counter()
            fits = 0
            for _vm in range(s["n_vms"]):
                for ht in hosts:
                    if hardware.numa_fit_instance_to_host(ht, inst) is not None:
                        fits += 1
            times.append((time.perf_counter() - t0) * 1e6)
        nova_us = statistics.median(times)
        samples.append({"request": s["request"], "hosts": len(hosts),
                        "vm_cores": s["vm"]["dedicated"], "n_vms": s["n_vms"],
                        "nova_us": round(nova_us, 1), "ours_us": s["ours_us"],
                        "nova_fits_per_vm": fits // s["n_vms"],
                        "ratio": round(nova_us / s["ours_us"], 1)})
        print("request %d: nova %.0f us (%d hosts fit), ours %.1f us, %.0fx"
              % (s["request"], nova_us, fits // s["n_vms"], s["ours_us"],
                 nova_us / s["ours_us"]), file=sys.stderr)
    out = {"samples": samples, "reps": reps,
           "median_ratio_nova_over_ours":
               statistics.median([x["ratio"] for x in samples]) if samples else None}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
