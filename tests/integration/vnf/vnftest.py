"""vnftest.py - shared helpers for the vmmgr-nat / vmmgr-fw functional tests.

Runs a VNF binary in one DPDK process with two net_pcap ports (rx_pcap and
tx_pcap files the test writes and reads back), using the VNFs' documented test
clock (--test-clock pcap: the capture timestamps are the clock and both ports
are merged in timestamp order) and --exit-on-idle so the process stops once
the captures are consumed. Checks checksums independently of the VNF code:
scapy recomputes every checksum of an expected packet, and tshark (when
installed) validates the output captures.

Exit code 77 (skip) is used only when the machine truly cannot run the test.
"""
import glob
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile

SKIP = 77


def skip(reason):
    print("SKIP: " + reason)
    sys.exit(SKIP)


import logging

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)  # raw frames have no link type

try:
    from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, IPv6, Raw, rdpcap, wrpcap  # noqa: F401
    from scapy.utils import PcapWriter
except ImportError:
    skip("python3-scapy is not installed (scripts/setup.sh installs it)")

MAC_A = "02:00:00:00:00:01"
MAC_B = "02:00:00:00:00:02"


def binary(rel):
    build = os.environ.get("VMMGR_BINARY_DIR")
    if not build:
        skip("VMMGR_BINARY_DIR is not set (run through ctest)")
    path = os.path.join(build, "vnf-samples", rel)
    if not os.access(path, os.X_OK):
        raise SystemExit("FAIL: %s was not built" % path)
    return path


def runtime_dirs(prefix):
    """Where EAL puts its runtime files for --file-prefix (root or not)."""
    dirs = ["/var/run/dpdk/" + prefix]
    if os.environ.get("XDG_RUNTIME_DIR"):
        dirs.append(os.path.join(os.environ["XDG_RUNTIME_DIR"], "dpdk", prefix))
    dirs.append("/tmp/dpdk/" + prefix)
    return dirs


class Workdir:
    """A temp dir and a unique EAL file prefix, both removed on exit, even on failure."""

    def __init__(self, tag):
        self.tag = tag

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="vmmgr-test-%s-" % self.tag)
        self.prefix = "vmmgr-test-%s-%d" % (self.tag, os.getpid())
        self.procs = []
        return self

    def path(self, name):
        return os.path.join(self.dir, name)

    def __exit__(self, *exc):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
        for d in runtime_dirs(self.prefix):
            shutil.rmtree(d, ignore_errors=True)
        return False

    def eal_args(self, mem=256, extra=()):
        return ["-l", "0", "--no-huge", "--no-pci", "-m", str(mem), "--file-prefix",
                self.prefix, "--log-level", "lib.eal:error"] + list(extra)


def write_pcap(path, pkts):
    """Writes @pkts (scapy packets with .time set) - an empty list gives a header-only file."""
    w = PcapWriter(path, linktype=1, sync=True)
    w._write_header(None)
    for p in pkts:
        w.write(p)
    w.close()


def read_pcap(path, parse=True):
    """Packets of a capture: scapy packets, or raw frame bytes with parse=False (fast)."""
    if parse:
        return list(rdpcap(path)) if os.path.getsize(path) > 24 else []
    with open(path, "rb") as f:
        data = f.read()
    order = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    out, off = [], 24
    while off + 16 <= len(data):
        caplen = struct.unpack(order + "I", data[off + 8:off + 12])[0]
        out.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    return out


def run_pcap(wd, exe, in0, in1, app_args, mem=256, idle_ms=1000, name="run", test_clock=True,
             parse=True):
    """Runs @exe with two pcap ports; returns (final JSON stats, out0 packets, out1 packets).

    With test_clock=False the VNF runs its production loop: bursts of up to 32
    packets per port, TSC clock (no timeout can be asserted then).
    """
    i0, i1 = wd.path(name + "-in0.pcap"), wd.path(name + "-in1.pcap")
    o0, o1 = wd.path(name + "-out0.pcap"), wd.path(name + "-out1.pcap")
    write_pcap(i0, in0)
    write_pcap(i1, in1)
    cmd = [exe] + wd.eal_args(mem, [
        "--vdev", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (i0, o0),
        "--vdev", "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (i1, o1)]) + ["--"] + list(app_args) + [
        "--exit-on-idle", str(idle_ms), "--json"] + (["--test-clock", "pcap"] if test_clock else [])
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=60)
    if r.returncode != 0:
        raise SystemExit("FAIL: %s exited %d\nstderr:\n%s" % (exe, r.returncode, r.stderr))
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise SystemExit("FAIL: no JSON statistics on stdout:\n" + r.stdout)
    return json.loads(lines[-1]), read_pcap(o0, parse), read_pcap(o1, parse), o0, o1


def with_checksums(pkt):
    """@pkt with every checksum recomputed by scapy (an UDP checksum of 0 stays 0)."""
    p = Ether(bytes(pkt))
    if IP in p:
        del p[IP].chksum
        if TCP in p:
            del p[TCP].chksum
        if UDP in p and p[UDP].chksum != 0:
            del p[UDP].chksum
        if ICMP in p:
            del p[ICMP].chksum
    return Ether(bytes(p))


def tshark_validate(pcap_path, n_expected):
    """tshark's own checksum validation must call every checksum of the capture good."""
    tshark = shutil.which("tshark")
    if not tshark:
        print("note: tshark not installed; checksums verified with scapy only")
        return
    r = subprocess.run([tshark, "-n", "-r", pcap_path, "-o", "ip.check_checksum:TRUE",
                        "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                        "-T", "fields", "-E", "separator=,", "-e", "ip.checksum.status",
                        "-e", "tcp.checksum.status", "-e", "udp.checksum.status",
                        "-e", "icmp.checksum.status"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=60)
    rows = [ln for ln in r.stdout.splitlines() if ln.strip()]
    check(len(rows) == n_expected, "tshark read %d packets from %s, expected %d"
          % (len(rows), pcap_path, n_expected))
    for i, row in enumerate(rows):
        vals = [v for v in row.split(",") if v != ""]
        # 1 = good, 0 = bad, 2 = unverified (UDP without checksum)
        check(vals and vals[0] == "1", "%s packet %d: IPv4 checksum not good (%s)"
              % (pcap_path, i + 1, row))
        check("0" not in vals, "%s packet %d: a checksum is bad (%s)" % (pcap_path, i + 1, row))


FAILURES = []


def check(cond, msg):
    if not cond:
        FAILURES.append(msg)
        print("FAIL: " + msg)
    return cond


def finish():
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        sys.exit(1)
    print("all checks passed")
    sys.exit(0)


def assert_same_bytes(got, want, what):
    gb, wb = bytes(got), bytes(want)
    if gb != wb:
        check(False, "%s differs:\n  got  %s\n  want %s" % (what, Ether(gb).summary(),
                                                             Ether(wb).summary()))
        return False
    return True


def malformed(t, src="10.0.0.9", dst="203.0.113.5"):
    """One packet per malformed-packet class, with the counter each must land in."""
    e = Ether(src=MAC_A, dst=MAC_B)
    good = bytes(e / IP(src=src, dst=dst) / UDP(sport=1111, dport=2222) / Raw(b"m" * 30))
    cases = [
        ("drop_truncated", Ether(good[:-10])),
        ("drop_bad_header", e / IP(src=src, dst=dst, ihl=4) / UDP(sport=1, dport=2)),
        ("drop_bad_ip_checksum", e / IP(src=src, dst=dst, chksum=0x1234) / UDP(sport=1, dport=2)),
        ("drop_fragment", e / IP(src=src, dst=dst, flags="MF") / UDP(sport=1, dport=2)),
        ("drop_non_ipv4", e / ARP(psrc=src, pdst=dst)),
        ("drop_non_ipv4", e / IPv6() / UDP(sport=1, dport=2)),
    ]
    out = []
    for i, (counter, p) in enumerate(cases):
        p.time = t + i * 0.0001
        out.append((counter, p))
    return out
