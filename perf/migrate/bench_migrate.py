#!/usr/bin/env python3
"""perf/migrate/bench_migrate.py - issue 16's migration benchmark.

1. Live migration to pins verified at the destination: `vmmgrctl vm migrate`
   of a 1-vCPU, 64 MiB diskless guest (KVM, or QEMU's TCG without /dev/kvm)
   between this machine's libvirtd (qemu:///system) and a second libvirtd in
   its own mount namespace (scripts/lib/libvirtd2.sh), against plain
   `virsh migrate --live --persistent --undefinesource --xml` (destination
   XML with the new <vcpupin>) of a second guest of the same shape, in the
   same run: rounds alternate who goes first and each guest goes there and
   back. vmmgrctl's time includes placement, the claim, the journal, the
   migration and the pins read back at the destination.
2. Drain of a simulated host with 20 VMs (libvirt's test driver: each move
   is a define/start at the destination and an undefine at the source) to
   three other simulated hosts, several times (the drained host is set up
   again and the VMs moved back between runs).

Medians of N runs (default 5) are printed and written to
perf/results/migrate.json. Runs as root next to a running libvirtd; leaves
no daemon, domain or temp dir behind.

usage: bench_migrate.py [--build DIR] [--runs N] [--out FILE]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
L2SH = os.path.join(SRC, "scripts", "lib", "libvirtd2.sh")


def run(*cmd, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def timed(*cmd):
    t0 = time.monotonic()
    run(*cmd)
    return (time.monotonic() - t0) * 1000.0


def domain_type(build):
    return run(os.path.join(build, "tests", "harness", "vt-domain-type")).stdout.strip()


class Daemon:
    def __init__(self, build, tmp, extra_conf):
        self.ctl_bin = os.path.join(build, "vmmgr", "ctl", "vmmgrctl")
        self.sock = os.path.join(tmp, "vmmgrd.sock")
        conf = os.path.join(tmp, "vmmgrd.conf")
        with open(conf, "w") as f:
            f.write(f"socket = {self.sock}\nstate_dir = {tmp}/state\nlog_level = warn\n"
                    f"healing_reserve = off\n{extra_conf}\n")
        self.log = open(os.path.join(tmp, "vmmgrd.log"), "w")
        self.p = subprocess.Popen([os.path.join(build, "vmmgr", "daemon", "vmmgrd"), "--config",
                                   conf], stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(600):
            r = subprocess.run([self.ctl_bin, "--socket", self.sock, "--json", "status"],
                               capture_output=True, text=True)
            if r.returncode == 0 and '"recovering": false' in r.stdout:
                return
            if self.p.poll() is not None:
                raise RuntimeError("vmmgrd exited at start-up")
            time.sleep(0.1)
        raise RuntimeError("vmmgrd does not answer")

    def ctl(self, *args):
        return [self.ctl_bin, "--socket", self.sock, "--timeout", "600000", "-q", *args]

    def stop(self):
        self.p.terminate()
        self.p.wait(30)
        self.log.close()


def bench_migrate(build, runs, tmp):
    l2 = os.path.join(tmp, "l2")
    run("bash", L2SH, "start", l2)
    l2uri = run("bash", L2SH, "uri", l2).stdout.strip()
    d = Daemon(build, tmp, f"uri_alias.l2 = {l2uri}")
    pid = os.getpid()
    vm = f"vmmgr-test-benchmig-{pid}"
    raw = f"vmmgr-test-benchraw-{pid}"
    dtype = domain_type(build)
    ours, plain = [], []
    try:
        run(*d.ctl("host", "add", "h1", "--uri", "qemu:///system", "--reserved", "0"))
        run(*d.ctl("host", "add", "h2", "--uri", "alias:l2", "--reserved", "0"))
        run(*d.ctl("vm", "create", vm, "--vcpus", "1", "--memory", "64", "--host", "h1"))
        # The plain guest: same shape, vCPU on PU 1, emulator on PU 0.
        xml = (f"<domain type='{dtype}'><name>{raw}</name><uuid>{{uuid}}</uuid>"
               "<memory unit='MiB'>64</memory><vcpu placement='static'>1</vcpu>"
               "<cputune><vcpupin vcpu='0' cpuset='1'/><emulatorpin cpuset='0'/></cputune>"
               "<os><type arch='x86_64'>hvm</type></os>"
               "<devices><console type='pty'/></devices></domain>")
        import uuid as uuidmod
        u = str(uuidmod.uuid4())
        xpath = os.path.join(tmp, "raw.xml")
        with open(xpath, "w") as f:
            f.write(xml.format(uuid=u))
        run("virsh", "-q", "-c", "qemu:///system", "define", xpath)
        run("virsh", "-q", "-c", "qemu:///system", "start", raw)
        where = {"ours": "h1", "plain": "qemu:///system"}
        uris = {"h1": "qemu:///system", "h2": l2uri}
        for i in range(runs * 2):  # there and back: 2 moves per run each
            def do_ours():
                to = "h2" if where["ours"] == "h1" else "h1"
                ours.append(timed(*d.ctl("vm", "migrate", vm, "--host", to, "--live")))
                where["ours"] = to

            def do_plain():
                src = where["plain"]
                dst = l2uri if src == "qemu:///system" else "qemu:///system"
                plain.append(timed("virsh", "-q", "-c", src, "migrate", "--live", "--persistent",
                                   "--undefinesource", "--xml", xpath, raw, dst))
                # pinned at the destination: read back as vmmgrd does
                run("virsh", "-q", "-c", dst, "vcpupin", raw)
                where["plain"] = dst

            for f in ((do_ours, do_plain) if i % 2 == 0 else (do_plain, do_ours)):
                f()
        pins = run(*d.ctl("--json", "vm", "pins", vm)).stdout
        pins_ok = json.loads(pins).get("drift", 1) == 0
    finally:
        subprocess.run(d.ctl("vm", "delete", vm, "--if-exists"), capture_output=True)
        for uri in ("qemu:///system", l2uri):
            subprocess.run(["virsh", "-q", "-c", uri, "destroy", raw], capture_output=True)
            subprocess.run(["virsh", "-q", "-c", uri, "undefine", raw], capture_output=True)
        d.stop()
        run("bash", L2SH, "stop", l2, check=False)
    mo, mp = statistics.median(ours), statistics.median(plain)
    return {
        "vm": f"1 vCPU exclusive, 64 MiB, no disk ({dtype})",
        "between": "qemu:///system and a second libvirtd (scripts/lib/libvirtd2.sh) on this machine",
        "moves": len(ours),
        "vmmgr_migrate_ms": {"median": mo, "all": ours},
        "virsh_migrate_ms": {"median": mp, "all": plain},
        "ratio": mo / mp,
        "pins_verified_at_end": pins_ok,
    }


def bench_drain(build, runs, tmp):
    os.makedirs(os.path.join(tmp, "sim"), exist_ok=True)
    d = Daemon(build, os.path.join(tmp, "sim"), "")
    syn = "package:2 numa:2(memory=64GB) core:16 pu:2"
    times = []
    try:
        for h in ("a", "b", "c", "d"):
            run(*d.ctl("host", "add", h, "--uri", "test:///", "--synthetic", syn, "--reserved",
                       "0-1", "--label", f"rack=r{h}"))
        for i in range(20):
            run(*d.ctl("vm", "create", f"v{i}", "--vcpus", "1", "--memory", "1024", "--host", "a"))
        src = "a"
        for r in range(runs):
            times.append(timed(*d.ctl("host", "drain", src)))
            out = json.loads(run(*d.ctl("--json", "host", "show", src)).stdout)
            if out.get("vms") != 0:
                raise RuntimeError(f"drain left {out.get('vms')} VMs on {src}")
            run(*d.ctl("host", "set", src, "--state", "up"))
            # Back onto one host for the next run.
            nxt = "b" if src == "a" else "a"
            for h in ("a", "b", "c", "d"):
                if h != nxt:
                    run(*d.ctl("host", "set", h, "--state", "maintenance"))
            for i in range(20):
                show = json.loads(run(*d.ctl("--json", "vm", "show", f"v{i}")).stdout)
                if show["host"] != nxt:
                    run(*d.ctl("vm", "migrate", f"v{i}", "--host", nxt))
            for h in ("a", "b", "c", "d"):
                run(*d.ctl("host", "set", h, "--state", "up"))
            src = nxt
    finally:
        d.stop()
    return {
        "host": "simulated (libvirt test driver), 2 x 16 cores x 2 threads, 20 VMs of 1 vCPU; "
                "3 other such hosts",
        "runs": len(times),
        "drain_20_vms_ms": {"median": statistics.median(times), "all": times},
        "per_move_ms_median": statistics.median(times) / 20.0,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(SRC, "perf", "results", "migrate.json"))
    a = ap.parse_args()
    if a.runs < 3:
        sys.exit("--runs must be at least 3")
    tmp = tempfile.mkdtemp(prefix="vmmgr-bench-migrate-")
    try:
        res = {
            "bench": "migrate",
            "host_cpus": os.cpu_count(),
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "load_average_at_start": os.getloadavg()[0],
            "commit": run("git", "-C", SRC, "rev-parse", "--short", "HEAD").stdout.strip(),
            "migrate": bench_migrate(a.build, a.runs, tmp),
            "drain": bench_drain(a.build, a.runs, tmp),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    m, dr = res["migrate"], res["drain"]
    print(f"live migrate -> pinned at destination: vmmgrctl median {m['vmmgr_migrate_ms']['median']:.0f} ms, "
          f"virsh migrate {m['virsh_migrate_ms']['median']:.0f} ms, ratio {m['ratio']:.2f} "
          f"({m['moves']} moves each)")
    print(f"drain of a 20-VM simulated host: median {dr['drain_20_vms_ms']['median']:.0f} ms "
          f"({dr['per_move_ms_median']:.1f} ms per move, {dr['runs']} runs)")
    print(f"written to {a.out}")


if __name__ == "__main__":
    main()
