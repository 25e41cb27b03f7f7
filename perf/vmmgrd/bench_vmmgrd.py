#!/usr/bin/env python3
"""perf/vmmgrd/bench_vmmgrd.py - vmmgrd's two speed targets (issues 5 and 9).

1. Time from `vmmgrctl vm create` to pins verified on this machine (a 1-vCPU,
   64 MiB diskless guest under KVM, or QEMU's TCG where /dev/kvm is missing:
   vmmgrd picks, the domain type is recorded), against the same libvirt calls
   vmmgrd makes (define, start, read the vCPU and emulator pins back), made
   from C over one open connection by vmmgr-bench-virt on vmmgrd's own domain
   XML, in the same run, rounds alternating who goes first. Target: ratio
   <= 1.2.
2. `vm list` with 10,000 VMs: a state database with 100 simulated hosts of
   100 VMs each is generated, vmmgrd loads it, and GET /v1/vms and
   `vmmgrctl --json vm list` are timed (its output checked against the API's
   answer). Target: < 50 ms. --old-ctl times an older vmmgrctl beside it.

Medians of N runs (default 7, at least 5) are printed and written to
perf/results/vmmgrd.json. Runs as root next to a running libvirtd; leaves no
daemon, domain or temp dir behind.

usage: bench_vmmgrd.py [--build DIR] [--runs N] [--vms N] [--old-ctl PATH] [--out FILE]
"""
import argparse
import json
import os
import resource
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


def timed(*cmd):
    """Runs @cmd; returns its wall time and its own CPU time (user + system),
    in ms. CPU time says less about the other work on a shared machine."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    run(*cmd)
    wall = ms(t0)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000.0


def med(v):
    return {"median": statistics.median(v), "all": v}


def domain_type_here():
    """What this machine runs guests under: KVM when /dev/kvm is usable, else
    QEMU's TCG (libvirt domain type 'qemu'). vmmgrd decides the same way."""
    return "kvm" if os.access("/dev/kvm", os.R_OK | os.W_OK) else "qemu"


class VirtClient:
    """vmmgr-bench-virt (bench_virt_create.c): vmmgrd's libvirt calls for a
    create, over one connection opened once, driven line by line."""

    def __init__(self, build, uri):
        exe = os.path.join(build, "perf/vmmgrd/vmmgr-bench-virt")
        self.proc = subprocess.Popen([exe, uri], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)

    def cmd(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        out = self.proc.stdout.readline().strip()
        if not out.startswith("ok"):
            raise RuntimeError(f"vmmgr-bench-virt {line}: {out or 'exited'}")
        return out.split()[1:]

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=30)


def bench_create(build, runs):
    uri = "qemu:///system"
    if run("virsh", "-q", "-c", uri, "version", check=False).returncode != 0:
        return {"skipped": f"{uri} not reachable"}
    tmp = tempfile.mkdtemp(prefix="vmmgr-test-bench-")
    d = Daemon(build, tmp)
    name = f"vmmgr-test-bench-{os.getpid()}"
    hv = domain_type_here()
    out = {"vm": f"1 vCPU exclusive, 64 MiB, no disk, local host ({hv})", "runs": runs,
           "baseline": "vmmgr-bench-virt: vmmgrd's libvirt calls (define; lookup, is-active, "
                       "create; lookup, vcpu pin info; lookup, emulator pin info) over one "
                       "connection, on vmmgrd's own domain XML (pins from <cputune>, no live "
                       "vcpupin)"}
    virt = None
    try:
        d.start()
        virt = VirtClient(build, uri)
        d.c("host", "add", "local", "--uri", uri, "--reserved", "0")
        xml_path = os.path.join(tmp, "dom.xml")

        def vmmgr_create():
            t0 = time.perf_counter()
            d.c("vm", "create", name, "--vcpus", "1", "--memory", "64", "--host", "local")
            t = ms(t0)
            pins = json.loads(d.c("--json", "vm", "pins", name).stdout)
            assert pins["drift"] == 0 and pins["live"], pins
            return t, pins

        # Warm-up round (not counted): vmmgrd's XML, its plan, and a first
        # QEMU start for both sides.
        _, pins = vmmgr_create()
        xml = run("virsh", "-c", uri, "dumpxml", "--inactive", name).stdout
        with open(xml_path, "w") as f:
            f.write(xml)
        out["domain_type"] = xml.split("type='", 1)[1].split("'", 1)[0]
        out["domain_type_expected"] = hv
        want = {"vcpu0": pins["vcpus"][0]["plan"], "emulator": pins["emulator_plan"]}
        out["pins"] = want
        d.c("vm", "delete", name)
        virt.cmd(f"create {xml_path} {name} 1")
        virt.cmd(f"destroy {name}")

        t_vmmgr, t_base, t_base_rt = [], [], []
        for i in range(runs):
            # Alternate who goes first, so that neither always follows the
            # other's teardown.
            for side in ((0, 1) if i % 2 == 0 else (1, 0)):
                if side == 0:
                    t, pins = vmmgr_create()
                    t_vmmgr.append(t)
                    assert pins["vcpus"][0]["plan"] == want["vcpu0"], pins
                    d.c("vm", "delete", name)
                else:
                    t0 = time.perf_counter()
                    r = virt.cmd(f"create {xml_path} {name} 1")
                    t_base_rt.append(ms(t0))
                    t_base.append(float(r[0]))
                    got = dict(kv.split("=", 1) for kv in r[1:])
                    assert got == want, (got, want)
                    virt.cmd(f"destroy {name}")
        out.update({"vmmgr_create_ms": med(t_vmmgr), "libvirt_calls_ms": med(t_base),
                    "libvirt_calls_roundtrip_ms": med(t_base_rt)})
        out["ratio"] = out["vmmgr_create_ms"]["median"] / out["libvirt_calls_ms"]["median"]
        out["target_ratio"] = 1.2
    finally:
        run("virsh", "-q", "-c", uri, "destroy", name, check=False)
        run("virsh", "-q", "-c", uri, "undefine", name, check=False)
        if virt:
            virt.close()
        d.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def bench_list(build, runs, n_vms, old_ctl=None):
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
        # vmmgrctl's output is the answer's "vms" indented by 2 (jansson's
        # JSON_INDENT(2), which Python's indent=2 matches on this ASCII data).
        api = run("curl", "-s", "--unix-socket", d.sock, "http://vmmgrd/v1/vms").stdout
        want = json.dumps(json.loads(api)["vms"], indent=2) + "\n"
        if d.c("--json", "vm", "list").stdout != want:
            raise RuntimeError("vmmgrctl --json vm list differs from the API's answer")
        ctl = [d.ctl, "--socket", d.sock, "--timeout", "60000", "--json", "vm", "list"]
        if old_ctl and run(old_ctl, *ctl[1:]).stdout != want:
            raise RuntimeError(f"{old_ctl} --json vm list differs from the API's answer")
        t_api, t_ctl, t_old, t_base, size = [], [], [], [], len(api)
        c_api, c_ctl, c_old = [], [], []
        for _ in range(runs):
            # Baseline: the same client on a tiny answer (process start, connect).
            t_base.append(timed("curl", "-s", "--unix-socket", d.sock,
                                "http://vmmgrd/v1/status")[0])
            w, c = timed("curl", "-s", "--unix-socket", d.sock, "http://vmmgrd/v1/vms")
            t_api.append(w)
            c_api.append(c)
            w, c = timed(*ctl)
            t_ctl.append(w)
            c_ctl.append(c)
            if old_ctl:
                w, c = timed(old_ctl, *ctl[1:])
                t_old.append(w)
                c_old.append(c)
        out.update({"api_get_vms_ms": med(t_api), "vmmgrctl_vm_list_json_ms": med(t_ctl),
                    "curl_get_status_baseline_ms": med(t_base),
                    "cpu_ms": {"what": "user + system time of the client process alone",
                               "curl_get_vms": med(c_api), "vmmgrctl_vm_list_json": med(c_ctl)},
                    "output_bytes": len(want), "output_checked": "byte-identical to the API "
                    "answer's vms indented by 2" + (" and to the old vmmgrctl's" if old_ctl
                                                    else ""),
                    "response_bytes": size, "target_ms": 50})
        out["vmmgrctl_vs_curl_get_vms"] = (out["vmmgrctl_vm_list_json_ms"]["median"] /
                                           out["api_get_vms_ms"]["median"])
        if old_ctl:
            out["old_vmmgrctl"] = old_ctl
            out["old_vmmgrctl_vm_list_json_ms"] = med(t_old)
            out["cpu_ms"]["old_vmmgrctl_vm_list_json"] = med(c_old)
            out["new_over_old"] = (out["vmmgrctl_vm_list_json_ms"]["median"] /
                                   out["old_vmmgrctl_vm_list_json_ms"]["median"])
    finally:
        d.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("VMMGR_BUILD_DIR", os.path.join(SRC, "build")))
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--vms", type=int, default=10000)
    ap.add_argument("--old-ctl", help="an older vmmgrctl binary, timed and diffed in the same run")
    ap.add_argument("--out", default=os.path.join(SRC, "perf/results/vmmgrd.json"))
    a = ap.parse_args()
    if a.runs < 5:
        sys.exit("--runs must be at least 5")
    res = {"bench": "vmmgrd", "host_cpus": os.cpu_count(),
           "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "load_average_at_start": os.getloadavg()[0],
           "create": bench_create(a.build, a.runs),
           "list": bench_list(a.build, a.runs, a.vms, a.old_ctl)}
    res["load_average_at_end"] = os.getloadavg()[0]
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    c, l = res["create"], res["list"]
    if "ratio" in c:
        print(f"create to pins verified ({c['domain_type']}): vmmgrd "
              f"{c['vmmgr_create_ms']['median']:.0f} ms, the same libvirt calls from C "
              f"{c['libvirt_calls_ms']['median']:.0f} ms, ratio {c['ratio']:.2f} "
              f"(target <= 1.2)")
    else:
        print(f"create: skipped ({c.get('skipped')})")
    print(f"vm list, {l['vms']} VMs: GET /v1/vms {l['api_get_vms_ms']['median']:.1f} ms, "
          f"vmmgrctl --json vm list {l['vmmgrctl_vm_list_json_ms']['median']:.1f} ms "
          f"({l['response_bytes']} bytes; target < 50 ms); curl baseline (GET /v1/status) "
          f"{l['curl_get_status_baseline_ms']['median']:.1f} ms; start-up load "
          f"{l['startup_load_ms']:.0f} ms")
    print(f"  client CPU time: vmmgrctl {l['cpu_ms']['vmmgrctl_vm_list_json']['median']:.1f} ms, "
          f"curl GET /v1/vms {l['cpu_ms']['curl_get_vms']['median']:.1f} ms")
    if "new_over_old" in l:
        print(f"old vmmgrctl ({l['old_vmmgrctl']}): "
              f"{l['old_vmmgrctl_vm_list_json_ms']['median']:.1f} ms; new/old "
              f"{l['new_over_old']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
