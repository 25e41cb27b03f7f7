#!/usr/bin/env python3
"""perf/vmmgrd/bench_vmmgrd.py - vmmgrd's two speed targets (issue 5).

1. Time from `vmmgrctl vm create` to pins verified on this machine's KVM host
   (a 1-vCPU, 64 MiB diskless guest), against the same define + start + pin +
   read-back done directly with virsh in the same run, on the same domain XML
   (vmmgrd's own, taken with `virsh dumpxml --inactive`). Target: ratio <= 1.2.
2. `vm list` with 10,000 VMs: a state database with 100 simulated hosts of
   100 VMs each is generated, vmmgrd loads it, and GET /v1/vms and
   `vmmgrctl --json vm list` are timed. Target: < 50 ms.

Medians of N runs (default 7) are printed and written to
perf/results/vmmgrd.json. Runs as root next to a running libvirtd; leaves no
daemon, domain or temp dir behind.

usage: bench_vmmgrd.py [--build DIR] [--runs N] [--vms N]
"""
import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(*cmd, check=True, capture=True):
    r = subprocess.run(cmd, capture_output=capture, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


class Daemon:
    def __init__(self, build, tmp):
        self.bin = os.path.join(build, "vmmgr/daemon/vmmgrd")
        self.ctl = os.path.join(build, "vmmgr/ctl/vmmgrctl")
        self.sock = os.path.join(tmp, "vmmgrd.sock")
        self.state = os.path.join(tmp, "state")
        self.log = open(os.path.join(tmp, "vmmgrd.log"), "a")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([self.bin, "--socket", self.sock, "--state-dir", self.state,
                                      "--log-level", "warn"], stdout=self.log, stderr=self.log)
        for _ in range(600):
            if os.path.exists(self.sock) and self.c("status", check=False).returncode == 0:
                return
            if self.proc.poll() is not None:
                raise RuntimeError("vmmgrd exited at start-up")
            time.sleep(0.05)
        raise RuntimeError("vmmgrd did not answer")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def c(self, *args, check=True):
        return run(self.ctl, "--socket", self.sock, "--timeout", "60000", *args, check=check)


def ms(t0):
    return (time.perf_counter() - t0) * 1000.0


def bench_create(build, runs):
    if run("virsh", "-q", "-c", "qemu:///system", "version", check=False).returncode != 0:
        return {"skipped": "qemu:///system not reachable"}
    tmp = tempfile.mkdtemp(prefix="vmmgr-test-bench-")
    d = Daemon(build, tmp)
    name = f"vmmgr-test-bench-{os.getpid()}"
    out = {"vm": "1 vCPU exclusive, 64 MiB, no disk, KVM host", "runs": runs}
    try:
        d.start()
        d.c("host", "add", "kvm", "--uri", "qemu:///system", "--reserved", "0")
        t_vmmgr, t_virsh = [], []
        xml_path = os.path.join(tmp, "dom.xml")
        for i in range(runs):
            # vmmgrd: place, plan, journal, define, start, read pins back.
            t0 = time.perf_counter()
            d.c("vm", "create", name, "--vcpus", "1", "--memory", "64", "--host", "kvm")
            t_vmmgr.append(ms(t0))
            pins = json.loads(d.c("--json", "vm", "pins", name).stdout)
            assert pins["drift"] == 0 and pins["live"], pins
            if i == 0:
                xml = run("virsh", "-c", "qemu:///system", "dumpxml", "--inactive", name).stdout
                with open(xml_path, "w") as f:
                    f.write(xml)
                pu = pins["vcpus"][0]["plan"]
            d.c("vm", "delete", name)
            # virsh by hand: define, start, pin, read the pin back.
            t0 = time.perf_counter()
            run("virsh", "-q", "-c", "qemu:///system", "define", xml_path)
            run("virsh", "-q", "-c", "qemu:///system", "start", name)
            run("virsh", "-q", "-c", "qemu:///system", "vcpupin", name, "0", pu, "--live")
            got = run("virsh", "-q", "-c", "qemu:///system", "vcpupin", name, "0", "--live").stdout
            t_virsh.append(ms(t0))
            assert got.split()[-1] == pu, got
            run("virsh", "-q", "-c", "qemu:///system", "destroy", name, check=False)
            run("virsh", "-q", "-c", "qemu:///system", "undefine", name, check=False)
        out.update({
            "vmmgr_create_ms": {"median": statistics.median(t_vmmgr), "all": t_vmmgr},
            "virsh_define_start_pin_ms": {"median": statistics.median(t_virsh), "all": t_virsh},
        })
        out["ratio"] = out["vmmgr_create_ms"]["median"] / out["virsh_define_start_pin_ms"]["median"]
        out["target_ratio"] = 1.2
    finally:
        run("virsh", "-q", "-c", "qemu:///system", "destroy", name, check=False)
        run("virsh", "-q", "-c", "qemu:///system", "undefine", name, check=False)
        d.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def bench_list(build, runs, n_vms):
    """Generates a database with n_vms VMs on simulated hosts that vmmgrd cannot
    reach (their node files do not exist), so only the listing is measured."""
    tmp = tempfile.mkdtemp(prefix="vmmgr-test-bench-")
    d = Daemon(build, tmp)
    per_host = 100
    n_hosts = (n_vms + per_host - 1) // per_host
    out = {"vms": n_vms, "hosts": n_hosts, "runs": runs}
    try:
        # Let vmmgrd create the schema, then fill it as vmmgrd would have.
        d.start()
        d.stop()
        db = sqlite3.connect(os.path.join(d.state, "vmmgr.db"))
        syn = "package:2 numa:2(memory=256GB) core:64 pu:2"  # 256 PUs
        now = int(time.time() * 1000)
        for h in range(n_hosts):
            db.execute("INSERT INTO hosts (id, name, uri, admin_state, topo_source, topo, topo_json,"
                       " n_pus, memory_mib, reserved, dedicated, labels, created_ms)"
                       " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       (h + 1, f"sim{h}", f"test:///{tmp}/absent/sim{h}.xml", "up", "synthetic",
                        syn, "{}", 256, 1 << 20, "0-1", "2-255", '{"rack":"r%d"}' % (h % 4), now))
            for v in range(min(per_host, n_vms - h * per_host)):
                pu = 2 + 2 * v  # one exclusive vCPU per core, sibling kept empty
                plan = {"vcpus": [{"vcpu": 0, "pu": pu, "mode": "exclusive"}],
                        "emulator": "0-1", "iothreads": "0-1", "n_iothreads": 0,
                        "blocked": str(pu + 1), "shared": "", "claimed": str(pu),
                        "nodes": [0 if pu < 64 else 1 if pu < 128 else 2 if pu < 192 else 3],
                        "numa": "single", "memory_mib": 64, "hugepage_kib": 0,
                        "mem_strict": True}
                spec = {"name": f"vm{h}-{v}", "vcpus": 1, "memory_mib": 64}
                cur = db.execute("INSERT INTO vms (name, host_id, state, role, spec, plan,"
                                 " created_ms, updated_ms) VALUES (?,?,?,?,?,?,?,?)",
                                 (f"vm{h}-{v}", h + 1, "running", "none", json.dumps(spec),
                                  json.dumps(plan), now, now))
                db.execute("INSERT INTO allocations VALUES (?,?,?,?,?)",
                           (h + 1, pu, cur.lastrowid, "0", "exclusive"))
        db.commit()
        db.close()
        t0 = time.perf_counter()
        d.start()
        out["startup_load_ms"] = ms(t0)
        listed = json.loads(d.c("--json", "vm", "list").stdout)
        if len(listed) != n_vms:
            raise RuntimeError(f"vmmgrd lists {len(listed)} VMs, expected {n_vms}: the plan "
                               f"JSON format may have changed (see {tmp}/vmmgrd.log)")
        t_api, t_ctl, t_base, size = [], [], [], 0
        for _ in range(runs):
            # Baseline: the same client on a tiny answer (process start, connect).
            t0 = time.perf_counter()
            run("curl", "-s", "--unix-socket", d.sock, "http://vmmgrd/v1/status")
            t_base.append(ms(t0))
            t0 = time.perf_counter()
            r = run("curl", "-s", "--unix-socket", d.sock, "http://vmmgrd/v1/vms")
            t_api.append(ms(t0))
            size = len(r.stdout)
            t0 = time.perf_counter()
            d.c("--json", "vm", "list")
            t_ctl.append(ms(t0))
        out.update({"api_get_vms_ms": {"median": statistics.median(t_api), "all": t_api},
                    "vmmgrctl_vm_list_json_ms": {"median": statistics.median(t_ctl), "all": t_ctl},
                    "curl_get_status_baseline_ms": {"median": statistics.median(t_base),
                                                    "all": t_base},
                    "response_bytes": size, "target_ms": 50})
    finally:
        d.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("VMMGR_BUILD_DIR", os.path.join(SRC, "build")))
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--vms", type=int, default=10000)
    a = ap.parse_args()
    res = {"bench": "vmmgrd", "host_cpus": os.cpu_count(),
           "create": bench_create(a.build, a.runs), "list": bench_list(a.build, a.runs, a.vms)}
    os.makedirs(os.path.join(SRC, "perf/results"), exist_ok=True)
    with open(os.path.join(SRC, "perf/results/vmmgrd.json"), "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    c, l = res["create"], res["list"]
    if "ratio" in c:
        print(f"create to pins verified: vmmgrd {c['vmmgr_create_ms']['median']:.0f} ms, "
              f"virsh define+start+pin {c['virsh_define_start_pin_ms']['median']:.0f} ms, "
              f"ratio {c['ratio']:.2f} (target <= 1.2)")
    else:
        print(f"create: skipped ({c.get('skipped')})")
    print(f"vm list, {l['vms']} VMs: GET /v1/vms {l['api_get_vms_ms']['median']:.1f} ms, "
          f"vmmgrctl --json vm list {l['vmmgrctl_vm_list_json_ms']['median']:.1f} ms "
          f"({l['response_bytes']} bytes; target < 50 ms); curl baseline (GET /v1/status) "
          f"{l['curl_get_status_baseline_ms']['median']:.1f} ms; start-up load "
          f"{l['startup_load_ms']:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
