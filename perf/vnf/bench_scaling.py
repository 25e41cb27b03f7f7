#!/usr/bin/python3
"""bench_scaling.py - aggregate throughput of N VNF instances, pinned vs unpinned.

One vmmgr-pktgen (pinned to --gen-cpu) serves 2N memif ports; instance i of
the VNF is the client of ports 2i (inside) and 2i+1 (outside). For each N from
1 to the number of --vnf-cpus, and for each placement:
  pinned:   instance i runs on --vnf-cpus[i] alone (EAL --lcores 0@cpu, taskset);
  unpinned: every instance may run on any CPU of this machine (the scheduler
            places it, as without vmmgr's pinning), the generator's included;
the generator offers as much as it can (no rate limit) on all inside ports
for --duration seconds after a warm-up, and the aggregate received rate is the
figure (maximum forwarding rate; --runs repetitions, median). The generator's
own core is the ceiling when the VNFs are cheap: the JSON records its TX rate
so a reader can tell. Seed 003 (Fig. 4) expects the pinned line to rise
linearly with N; on a 2-core machine N stops at 1 and the script says so.

Output: perf/results/vnf_scaling.json and a PNG plot through gnuplot.
Usage: perf/vnf/bench_scaling.py --build BUILD --gen-cpu 0 --vnf-cpus 1[,2,...]
       [--dut nat|fw|testpmd] [--runs 5] [--duration 3] [--out FILE] [--png FILE]
       perf/vnf/bench_scaling.py --replot [--out FILE] [--png FILE]
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

FLOWS = ["--src-ip", "10.0.0.1", "--src-port", "1024-2047", "--dst-ip", "192.0.2.1",
         "--dst-port", "53"]


def memif(name_n, role, d, sock_n):
    """A memif vdev named net_memif<name_n> on socket p<sock_n>.sock of @d."""
    return "--vdev=net_memif%d,role=%s,socket=%s/p%d.sock,socket-abstract=no,id=0" % (
        name_n, role, d, sock_n)


def dut_cmd(kind, build, lcores, d, i, prefix, rules):
    eal = ["--lcores", lcores, "--no-huge", "--no-pci", "-m", "512", "--log-level=error",
           "--file-prefix", prefix,
           memif(0, "client", d, 2 * i), memif(1, "client", d, 2 * i + 1)]
    if kind == "testpmd":
        return ["dpdk-testpmd"] + eal + ["--", "--forward-mode=io", "--total-num-mbufs=16384",
                                         "--stats-period", "1000"]
    if kind == "fw":
        return [os.path.join(build, "vnf-samples/firewall/vmmgr-fw")] + eal + [
            "--", "--rules", rules, "--default", "drop", "--link-wait", "30"]
    return [os.path.join(build, "vnf-samples/nat/vmmgr-nat")] + eal + [
        "--", "--flows", "65536", "--link-wait", "30"]


def run_one(args, n, pinned, d, rules, tag):
    all_cpus = sorted(os.sched_getaffinity(0))
    gen_prefix = "vmmgr-bench-sgen-%s" % tag
    result = os.path.join(d, "gen-%s.json" % tag)
    if os.path.exists(result):
        os.unlink(result)
    vdevs = [memif(p, "server", d, p) for p in range(2 * n)]
    gen = ["taskset", "-c", str(args.gen_cpu),
           os.path.join(args.build, "perf/pktgen/vmmgr-pktgen"), "--lcores",
           "0@%d" % args.gen_cpu, "--no-huge", "--no-pci", "-m", "512", "--log-level=error",
           "--file-prefix", gen_prefix] + vdevs + [
        "--", "--tx-port", ",".join(str(2 * i) for i in range(n)), "--size", "64",
        "--duration", str(args.duration), "--wait-return", "20", "--link-wait", "30",
        "--stats-interval", "0", "--drain-ms", "300", "--results", result] + FLOWS
    g = subprocess.Popen(gen, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(0.5)
    duts = []
    for i in range(n):
        if pinned:
            cpu = args.vnf_cpus[i]
            wrap, lc = ["taskset", "-c", str(cpu)], "0@%d" % cpu
            if args.dut == "testpmd":
                lc = "0@%d,1@%d" % (cpu, cpu)
        else:
            cpus = ",".join(str(c) for c in all_cpus)
            wrap, lc = [], "0@(%s)" % cpus
            if args.dut == "testpmd":
                lc = "0@(%s),1@(%s)" % (cpus, cpus)
        log = open(os.path.join(d, "dut-%s-%d.log" % (tag, i)), "w")
        duts.append((subprocess.Popen(
            wrap + dut_cmd(args.dut, args.build, lc, d, i, "vmmgr-bench-sdut-%s-%d" % (tag, i),
                           rules), stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL), log))
    try:
        out, _ = g.communicate(timeout=120 + args.duration)
    finally:
        for p, log in duts:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p, log in duts:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            log.close()
        if g.poll() is None:
            g.kill()
            g.wait()
        for entry in os.listdir("/var/run/dpdk") if os.path.isdir("/var/run/dpdk") else []:
            if entry.startswith("vmmgr-bench-s") and tag in entry:
                shutil.rmtree("/var/run/dpdk/" + entry, ignore_errors=True)
    if g.returncode != 0 or not os.path.exists(result):
        sys.stderr.write("N=%d %s: generator failed (%s):\n%s\n" % (
            n, "pinned" if pinned else "unpinned", g.returncode, out))
        return None
    return json.load(open(result))


def plot(png, data):
    """Median with min..max bars of every placement, from the JSON data."""
    if not shutil.which("gnuplot"):
        print("gnuplot not installed: no plot")
        return
    dut, gen_cpu, vnf_cpus = data["dut"], data["gen_cpu"], data["vnf_cpus"]
    max_n = len(vnf_cpus)
    d = tempfile.mkdtemp(prefix="vmmgr-bench-plot-")
    files = {}
    for name, is_pinned in (("pinned", True), ("unpinned", False)):
        pts = [p for p in data["points"] if p["pinned"] == is_pinned]
        if not pts:
            continue
        files[name] = os.path.join(d, name + ".dat")
        with open(files[name], "w") as f:
            for p in pts:
                # unpinned drawn a little to the right so the bars do not overlap
                f.write("%.2f %.4f %.4f %.4f\n" % (
                    p["n"] + (0 if is_pinned else 0.08), p["rx_pps_median"] / 1e6,
                    min(p["rx_pps_runs"]) / 1e6, max(p["rx_pps_runs"]) / 1e6))
    terms = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
    term = "pngcairo" if "pngcairo" in terms.stdout + terms.stderr else "png"
    script = [
        "set terminal %s size 900,500" % term,
        "set output '%s'" % png,
        "set title \"vmmgr-%s: aggregate forwarding rate vs instances (64 B, memif; generator "
        "on CPU %d, VNF CPUs %s)\\nmedian of %d runs, bars min..max\"" % (
            dut, gen_cpu, ",".join(map(str, vnf_cpus)), data["runs"]),
        "set xlabel 'VNF instances (N)'", "set ylabel 'aggregate Mpps received'",
        "set xrange [0.5:%f]" % (max_n + 0.5), "set xtics 1", "set yrange [0:*]", "set grid",
        "set key left top",
        "plot " + ", ".join("'%s' using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.5 title '%s'"
                            % (files[k], k) for k in files)]
    subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True, check=True)
    shutil.rmtree(d)
    print("plot: %s" % os.path.abspath(png))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build")
    ap.add_argument("--gen-cpu", type=int)
    ap.add_argument("--vnf-cpus", help="comma-separated, one per instance")
    ap.add_argument("--dut", default="nat", choices=["nat", "fw", "testpmd"])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--duration", type=float, default=3)
    ap.add_argument("--out", default=os.path.join(here, "../results/vnf_scaling.json"))
    ap.add_argument("--png", default=os.path.join(here, "../results/vnf_scaling.png"))
    ap.add_argument("--replot", action="store_true", help="only redraw --png from --out")
    args = ap.parse_args()
    if args.replot:
        plot(args.png, json.load(open(args.out)))
        return
    if args.build is None or args.gen_cpu is None or args.vnf_cpus is None:
        ap.error("--build, --gen-cpu and --vnf-cpus are required (unless --replot)")
    args.vnf_cpus = [int(c) for c in args.vnf_cpus.split(",")]
    if len(set(args.vnf_cpus)) != len(args.vnf_cpus):
        sys.exit("--vnf-cpus lists a CPU twice: each instance needs a core of its own")
    if args.gen_cpu in args.vnf_cpus:
        sys.exit("--gen-cpu %d is also a VNF CPU: the instances need cores of their own"
                 % args.gen_cpu)
    if len(args.vnf_cpus) < 2:
        print("note: %d VNF CPU(s) given: N stops at %d (a 2-core machine has one core "
              "for the generator and one for a VNF)" % (len(args.vnf_cpus), len(args.vnf_cpus)))
    d = tempfile.mkdtemp(prefix="vmmgr-bench-scale-")
    rules = os.path.join(d, "fw.rules")
    with open(rules, "w") as f:
        f.write("accept src 10.0.0.0/16 proto udp dport 53\n")
    data = {"dut": args.dut, "gen_cpu": args.gen_cpu, "vnf_cpus": args.vnf_cpus,
            "runs": args.runs, "duration_s": args.duration, "frame_size": 64,
            "flows_per_instance": 1024, "transport": "net_memif, generator as server",
            "metric": "aggregate received frames/s at unlimited offered rate (median of runs)",
            "points": []}
    try:
        for n in range(1, len(args.vnf_cpus) + 1):
            for pinned in (True, False):
                rx, tx, loss, full = [], [], [], []
                for r in range(args.runs):
                    res = run_one(args, n, pinned, d, rules, "%d%s%d" % (n, "p" if pinned else "u", r))
                    if res is None:
                        continue
                    rx.append(res["rx_pps"])
                    tx.append(res["tx_pps"])
                    loss.append(res["loss_ratio"])
                    full.append(res["tx_ring_full"] / max(res["tx"], 1))
                    print("N=%d %-8s run %d: rx %.3f Mpps (tx %.3f Mpps, loss %.4f, "
                          "ring refusals per frame sent %.2f)" % (
                              n, "pinned" if pinned else "unpinned", r + 1, res["rx_pps"] / 1e6,
                              res["tx_pps"] / 1e6, res["loss_ratio"], full[-1]), flush=True)
                if not rx:
                    continue
                p = {"n": n, "pinned": pinned, "rx_pps_runs": rx, "tx_pps_runs": tx,
                     "loss_ratio_runs": loss,
                     # frames the VNFs' input rings refused per frame sent: well above 0
                     # means the VNFs were the bottleneck, 0 means the generator was
                     "tx_refused_per_sent_runs": full,
                     "rx_pps_median": statistics.median(rx),
                     "tx_pps_median": statistics.median(tx),
                     "rx_pps_spread": (max(rx) - min(rx)) / statistics.median(rx)}
                data["points"].append(p)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print("\n%3s %10s %14s %14s" % ("N", "placement", "rx Mpps (med)", "spread"))
    for p in data["points"]:
        print("%3d %10s %14.3f %13.0f%%" % (p["n"], "pinned" if p["pinned"] else "unpinned",
                                            p["rx_pps_median"] / 1e6, 100 * p["rx_pps_spread"]))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    print("written: %s" % os.path.abspath(args.out))
    plot(args.png, data)


if __name__ == "__main__":
    main()
