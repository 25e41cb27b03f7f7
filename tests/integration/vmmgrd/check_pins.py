#!/usr/bin/python3
"""check_pins.py VMMGRCTL SOCKET DB - do the core maps and libvirt's live pins
agree with each VM's plan and with the database?

Checks that can fail (unlike "no PU held twice" on a table whose primary key
is (host, pu)), for every host and every VM vmmgrd knows:
  0. vmmgrd lists the database's VMs, each on the database's host;
  1. the host's core map (`vmmgrctl --json host show`, vmmgrd's in-memory
     view) has, for each VM, exactly the PUs of its plan (as stored in the
     database's vms.plan, the JSON `vm show` prints): each vCPU's PU
     listing that vCPU (a shared PU lists all of its vCPUs), the plan's
     blocked siblings as "blocked", and nothing else but emulator PUs of the
     plan; and it names no VM that is not on that host;
  2. the database's allocations rows are the core map's rows (host, PU, VM,
     vCPUs), no more and no fewer;
  3. for running VMs on a qemu:///system host, libvirt's live pins (`virsh
     vcpupin --live`, `virsh emulatorpin --live`) and the kernel's affinity of
     each vCPU thread (/proc/PID/task/*/status Cpus_allowed_list of the
     "CPU n/KVM" or "CPU n/TCG" threads) equal the plan.
Prints one line per disagreement and exits 1 if there is any; else prints
what it checked and exits 0.
"""
import json
import os
import sqlite3
import subprocess
import sys


def cpuset(text):
    """'0-2,5' -> {0, 1, 2, 5}; '' -> set()."""
    out = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def cpulist(items):
    """[0, 1, 2, 4] -> '0-2,4', the list format of the core map and libvirt."""
    out, items = [], sorted(items)
    i = 0
    while i < len(items):
        j = i
        while j + 1 < len(items) and items[j + 1] == items[j] + 1:
            j += 1
        out.append(str(items[i]) if i == j else "%d-%d" % (items[i], items[j]))
        i = j + 1
    return ",".join(out)


def ctl(vmmgrctl, sock, *args):
    res = subprocess.run([vmmgrctl, "--socket", sock, "--timeout", "10000", "--json"] + list(args),
                         capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit("vmmgrctl %s: exit %d: %s" % (" ".join(args), res.returncode,
                                                       res.stderr.strip()))
    return json.loads(res.stdout)


def virsh_affinity(dom, what):
    """{vcpu: cpuset} from `virsh vcpupin`, or {'*': cpuset} from emulatorpin;
    virsh's error message if it fails."""
    res = subprocess.run(["virsh", "-q", "-c", "qemu:///system", what, dom, "--live"],
                         capture_output=True, text=True, check=False)
    if res.returncode != 0:
        return "virsh %s failed: %s" % (what, res.stderr.strip())
    out = {}
    for line in res.stdout.splitlines():
        line = line.strip()
        if not line:
            continue
        if what == "emulatorpin":  # "0-1" with -q ("*: 0-1" without)
            out["*"] = cpuset(line.rpartition(":")[2])
            continue
        vcpu, _, cpus = line.partition(" ")  # " 0   0-1"
        out[vcpu] = cpuset(cpus.strip())
    return out


def proc_affinity(dom):
    """{vcpu: cpuset} of the guest's vCPU threads as the kernel has them."""
    try:
        with open("/run/libvirt/qemu/%s.pid" % dom) as f:
            pid = f.read().strip()
    except OSError:
        return None
    out = {}
    task_dir = "/proc/%s/task" % pid
    for tid in os.listdir(task_dir):
        try:
            with open("%s/%s/comm" % (task_dir, tid)) as f:
                comm = f.read().strip()
            if not comm.startswith("CPU ") or "/" not in comm:
                continue
            with open("%s/%s/status" % (task_dir, tid)) as f:
                for line in f:
                    if line.startswith("Cpus_allowed_list:"):
                        out[int(comm[4:comm.index("/")])] = cpuset(line.split(":", 1)[1].strip())
        except (OSError, ValueError):
            continue
    return out


def expected_rows(vm):
    """{pu: vcpus text} the core map must hold for @vm (emulator PUs apart)."""
    plan = vm["plan"]
    by_pu = {}
    for v in plan["vcpus"]:
        by_pu.setdefault(v["pu"], []).append(v["vcpu"])
    rows = {}
    for pu, vcpus in by_pu.items():
        rows[pu] = cpulist(vcpus)
    for pu in cpuset(plan.get("blocked", "")):
        rows[pu] = "blocked"
    return rows


def main():
    if len(sys.argv) != 4:
        print("usage: check_pins.py VMMGRCTL SOCKET DB", file=sys.stderr)
        return 2
    vmmgrctl, sock, db = sys.argv[1:]
    bad = []
    hosts = {h["name"]: h for h in ctl(vmmgrctl, sock, "host", "list")}
    vms = {v["name"]: v for v in ctl(vmmgrctl, sock, "vm", "list")}
    # The plans as the database has them (the JSON `vm show` gives, read in
    # one query rather than one request per VM).
    con = sqlite3.connect(db)
    db_rows = {(h, pu): (vm, vcpus) for h, pu, vm, vcpus in con.execute(
        "SELECT h.name, a.pu, v.name, a.vcpus FROM allocations a JOIN hosts h ON h.id = a.host_id "
        "JOIN vms v ON v.id = a.vm_id")}
    db_vms = {name: (host, json.loads(plan)) for name, host, plan in con.execute(
        "SELECT v.name, h.name, v.plan FROM vms v JOIN hosts h ON h.id = v.host_id")}
    con.close()
    if {n: v["host"] for n, v in vms.items()} != {n: h for n, (h, _) in db_vms.items()}:
        bad.append("vmmgrd lists VMs %s, the database has %s"
                   % (sorted((n, v["host"]) for n, v in vms.items()),
                      sorted((n, h) for n, (h, _) in db_vms.items())))
    for name, vm in vms.items():
        vm["plan"] = db_vms.get(name, (None, {"vcpus": []}))[1]
    map_rows = {}
    n_live = 0
    for hname, host in hosts.items():
        core_map = ctl(vmmgrctl, sock, "host", "show", hname)["core_map"]
        held = {}
        for e in core_map:
            if e["vm"]:
                held.setdefault(e["vm"], {})[e["pu"]] = e["vcpus"]
                map_rows[(hname, e["pu"])] = (e["vm"], e["vcpus"])
        for vname, rows in held.items():
            if vname not in vms or vms[vname]["host"] != hname:
                bad.append("host %s: core map gives PUs %s to '%s', which is not a VM of that host"
                           % (hname, sorted(rows), vname))
        for vname, vm in vms.items():
            if vm["host"] != hname:
                continue
            want = expected_rows(vm)
            have = held.get(vname, {})
            emulator = cpuset(vm["plan"].get("emulator", ""))
            extra = {pu: t for pu, t in have.items() if pu not in want}
            if any(t != "emulator" or pu not in emulator for pu, t in extra.items()) or \
                    any(have.get(pu) != t for pu, t in want.items()):
                bad.append("host %s: core map for %s is %s, its plan says %s (emulator %s)"
                           % (hname, vname, sorted(have.items()), sorted(want.items()),
                              vm["plan"].get("emulator")))
            if host["uri"] != "qemu:///system" or vm["state"] != "running":
                continue
            n_live += 1
            plan_pins = {v["vcpu"]: {v["pu"]} for v in vm["plan"]["vcpus"]}
            live = virsh_affinity(vname, "vcpupin")
            if isinstance(live, str) or {int(k): s for k, s in live.items()} != plan_pins:
                bad.append("%s: virsh vcpupin --live gives %s, the plan %s" % (vname, live, plan_pins))
            emu = virsh_affinity(vname, "emulatorpin")
            if emulator and (isinstance(emu, str) or emu.get("*") != emulator):
                bad.append("%s: virsh emulatorpin --live gives %s, the plan %s"
                           % (vname, emu, sorted(emulator)))
            kernel = proc_affinity(vname)
            if kernel != plan_pins:
                bad.append("%s: vCPU threads' Cpus_allowed_list in /proc are %s, the plan %s"
                           % (vname, kernel, plan_pins))
    if db_rows != map_rows:
        only_db = sorted(set(db_rows.items()) - set(map_rows.items()))
        only_map = sorted(set(map_rows.items()) - set(db_rows.items()))
        bad.append("allocations table and core maps differ: only in the database %s, only in the "
                   "core maps %s" % (only_db, only_map))
    for line in bad:
        print("check_pins: " + line)
    if bad:
        return 1
    print("check_pins: %d VMs on %d hosts agree with their plans and the database (%d PU rows; "
          "%d running on qemu:///system checked in virsh and /proc)"
          % (len(vms), len(hosts), len(map_rows), n_live))
    return 0


if __name__ == "__main__":
    sys.exit(main())
