#!/usr/bin/env python3
"""Writes the hand-made seed corpora of tests/data/fuzz/<target>/.

Text seeds are valid examples from the docs and tests/data (and a few
near-misses that reach the error paths); frame and pcap seeds are built
here with correct checksums, so the fuzzer starts past the checksum checks.
The pinning JSON seeds (pin_request_json, pin_alloc_json) are real output
of pin_request_to_json/pin_plan_to_json/pin_alloc_to_json and are not
written by this script. Run from anywhere: tests/fuzz/make_seeds.py
"""
import os
import struct

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "tests", "data", "fuzz")
DATA = os.path.join(ROOT, "tests", "data")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(*path):
    with open(os.path.join(DATA, *path), "rb") as f:
        return f.read()


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def ipv4(src, dst, proto, payload, ihl=5, frag=0, ttl=64):
    opts = b"\x01" * ((ihl - 5) * 4)
    total = ihl * 4 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total, 0x1234, frag, ttl, proto, 0,
                    ip4(src), ip4(dst)) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def l4(src, dst, proto, seg, off):
    pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, proto, len(seg))
    c = csum(pseudo + seg)
    if proto == 17 and c == 0:
        c = 0xFFFF
    return seg[:off] + struct.pack("!H", c) + seg[off + 2:]


def udp(src, dst, sport, dport, payload=b"hello", no_csum=False):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return seg if no_csum else l4(src, dst, 17, seg, 6)


def tcp(src, dst, sport, dport, flags=0x18, payload=b"GET / HTTP/1.0\r\n\r\n"):
    seg = struct.pack("!HHIIBBHHH", sport, dport, 1, 2, 5 << 4, flags, 65535, 0, 0) + payload
    return l4(src, dst, 6, seg, 16)


def icmp(typ, code, rest, payload):
    m = struct.pack("!BBH", typ, code, 0) + rest + payload
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def eth(payload, ethertype=0x0800):
    return bytes.fromhex("020000000002020000000001") + struct.pack("!H", ethertype) + payload


def frames():
    a, b = "10.0.0.5", "192.0.2.10"
    f = {}
    f["udp"] = eth(ipv4(a, b, 17, udp(a, b, 40000, 53)))
    f["udp-nocsum"] = eth(ipv4(a, b, 17, udp(a, b, 40001, 5353, no_csum=True)))
    f["tcp-syn"] = eth(ipv4(a, b, 6, tcp(a, b, 40002, 80, 0x02, b"")))
    f["tcp-data"] = eth(ipv4(a, b, 6, tcp(a, b, 40003, 8080)))
    f["icmp-echo"] = eth(ipv4(a, b, 1, icmp(8, 0, struct.pack("!HH", 0x4242, 1), b"ping" * 8)))
    inner = ipv4(b, "198.51.100.1", 17, udp(b, "198.51.100.1", 53, 1025))
    f["icmp-unreach-udp"] = eth(ipv4("203.0.113.1", b, 1, icmp(3, 3, b"\0" * 4, inner[:28 + 8])))
    inner = ipv4(a, b, 6, tcp(a, b, 40004, 443, 0x02, b""))
    f["icmp-ttl-tcp"] = eth(ipv4("203.0.113.1", a, 1, icmp(11, 0, b"\0" * 4, inner[:20 + 20])))
    inner = ipv4(a, b, 1, icmp(8, 0, struct.pack("!HH", 7, 1), b""))
    f["icmp-unreach-echo"] = eth(ipv4("203.0.113.1", a, 1, icmp(3, 1, b"\0" * 4, inner)))
    f["ipopts-udp"] = eth(ipv4(a, b, 17, udp(a, b, 1, 2), ihl=6))
    f["fragment"] = eth(ipv4(a, b, 17, udp(a, b, 1, 2), frag=0x2000))
    f["gre"] = eth(ipv4(a, b, 47, b"\0" * 8))
    f["arp"] = eth(bytes(28), 0x0806)
    f["truncated-tcp"] = f["tcp-data"][:14 + 20 + 10]
    return f


def pcap(frames_, nano=False, big=False):
    e = ">" if big else "<"
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, 65535, 1)
    for i, fr in enumerate(frames_):
        out += struct.pack(e + "IIII", 1700000000 + i, 1000 * i, len(fr), len(fr)) + fr
    return out


def main():
    # cpuset list syntax
    for i, s in enumerate(["0-3,8,^2", "0", "", " 1 , 2 ,3", "0-1023", "0-1023,^512-1000", "^0",
                           "3-1", "1024", "0-3,,5", "2-2", "0-15,^1,^3-5"]):
        put("cpuset", "seed-%02d" % i, s)
    # --cpu-map (first byte: vCPU count - 1) and --shared-vcpus after a newline
    for i, (n, m, s) in enumerate([(4, "0:4,1:6,2:8,3:10", ""), (4, "1:4", "0"),
                                   (8, "4:20,5:22", "0-2"), (2, "0:4,0:5", ""),
                                   (3, "0:4,1:4", "2"), (16, "", "0-15,^3")]):
        put("cpu_map", "seed-%02d" % i, bytes([n - 1]) + ("%s\n%s" % (m, s)).encode())
    # placement: cluster file then request file, concatenated
    cluster = read("placement", "small.json")
    for r in ["req_single.json", "req_pair.json", "req_list.json", "req_toobig.json"]:
        put("plc_json", "small+" + r, cluster + read("placement", r))
    tiny = (b'{"hosts":[{"name":"a","topology":"package:1 core:4 pu:2","memory_mib":8192},'
            b'{"name":"b","nodes":[{"cores":4,"memory_mib":4096}],"labels":{"rack":"r2"}}],'
            b'"reserve":{"failure":"off"}}')
    put("plc_json", "tiny+vm", tiny + b'{"name":"v","vcpus":2,"memory_mib":1024}')
    put("plc_json", "tiny+group", tiny + b'{"group":{"name":"g","scope":"host"},"vms":['
        b'{"name":"x","role":"act","exclusive":2,"memory_mib":512},'
        b'{"name":"y","role":"sby","exclusive":2,"memory_mib":512}]}')
    # packets
    fr = frames()
    for k, v in fr.items():
        put("vnf_pkt", k, v)
        put("pktgen_pkt", k, v)
    # Found here, fixed in 87a65bf: a valid echo reply, id 0x1234, seq 0, no
    # payload; the 6 bytes of Ethernet padding are the harness's rewrite values
    # (address, then port 0), so the NAT-style id rewrite 0x1234 -> 0 gave
    # checksum 0x0000 instead of 0xffff. Kept as a regression seed.
    put("vnf_pkt", "seed-icmp-echo-id-to-zero",
        eth(ipv4("198.51.100.1", "10.0.0.5", 1, icmp(0, 0, bytes.fromhex("12340000"), b"")))
        + bytes.fromhex("c633640a0000"))
    # pcap files (first byte: max frame length - 60)
    put("pktgen_pcap", "usec-le", bytes([255]) + pcap([fr["udp"], fr["tcp-data"]]))
    put("pktgen_pcap", "nsec-be", bytes([0]) + pcap([fr["icmp-echo"], fr["udp"]], nano=True,
                                                    big=True))
    put("pktgen_pcap", "one-frame", bytes([40]) + pcap([fr["tcp-syn"]]))
    # VNF config files
    put("nat_conf", "nat.conf", read("vnf", "nat.conf"))
    put("nat_conf", "outside-opt", "--198.51.100.7,198.51.100.8\nport-range 2000-2999\n"
        "forward tcp 198.51.100.7 80 10.0.0.9 8080\nforward tcp 198.51.100.8 81 10.0.0.9 8080\n")
    put("nat_conf", "bad-forward", "outside-ip 198.51.100.1\nforward tcp 198.51.100.9 80 10.0.0.1 80\n")
    put("fw_rules", "fw.rules", read("vnf", "fw.rules"))
    put("fw_rules", "fw.conf", read("vnf", "fw.conf"))
    put("fw_rules", "any", "accept\ndrop src 0.0.0.0/0 dst 10.1.2.3/32 proto any sport 1-65535\n")
    # vmmgrd config file
    put("vm_config", "full.conf", "# vmmgrd.conf\nsocket = /run/vmmgr/vmmgrd.sock\n"
        "socket_mode = 0660\nstate_dir = \"/var/lib/vmmgr\"\nlog_level = debug\n"
        "log_target = syslog\nkeepalive_interval = 5\nkeepalive_count = 3\n"
        "reconnect_min_ms = 500\nreconnect_max_ms = 30000 # cap\nmax_body_bytes = 1048576\n"
        "event_keep = 100000\nlongpoll_max_s = 60\nhealing_reserve = rack\n")
    put("vm_config", "tcp.conf", "listen_tcp = 127.0.0.1:8080\napi_token_file = /etc/vmmgr/token\n"
        "db = /tmp/x.db\npid_file = /run/vmmgrd.pid\n")
    put("vm_config", "bad.conf", "reconnect_min_ms = 9\nreconnect_max_ms = 1\nlisten_tcp = :0\n")
    # vmmgrd request bodies
    put("vm_req", "host-test", '{"name":"h1","uri":"test:///default","synthetic":"package:2 core:8 pu:2",'
        '"reserved":"0-1","dedicated":"2-31","labels":{"rack":"r1","zone":"z1"}}')
    put("vm_req", "host-qemu", '{"name":"kvm-1","uri":"qemu+ssh://root@10.0.0.2/system",'
        '"hwloc_xml":"<topology/>"}')
    put("vm_req", "vm-create", '{"name":"nat-a-act","vcpus":4,"memory_mib":2048,"host":"h1",'
        '"group":"nat-a","role":"act"}')
    put("vm_req", "empty", "")
    put("vm_req", "bad-uri", '{"name":"h","uri":"xen:///","synthetic":"core:2","colour":"red"}')
    # POST /v1/vms bodies (and group members): vm_spec_parse + vm_domxml_build
    put("vm_create_body", "minimal", '{"name":"vm1","vcpus":2,"memory_mib":512}')
    put("vm_create_body", "full", '{"name":"vnf-a.1","vcpus":4,"memory_mib":2048,'
        '"cpu_mode":"shared","cpu_map":"3:14","shared_vcpus":"0-1","thread_policy":"prefer",'
        '"emulator":"shared","numa_node":1,"host":"h1","group":"epc","role":"sby",'
        '"disk":"/srv/a.qcow2","nics":["bridge:br0","network:default","vhostuser:/run/vhu.sock"],'
        '"dry_run":true,"ignore_reserve":false}')
    put("vm_create_body", "numbered", '{"name":"nat-a-act","vcpus":2,"memory_mib":1024,'
        '"cpu_mode":"numbered","cpu_map":"0:4,1:6","host":"h1","emulator":"isolate",'
        '"thread_policy":"require"}')
    put("vm_create_body", "member", '{"name":"fw-b-sby","vcpus":3,"memory_mib":256,"role":"sby",'
        '"disk":"/var/lib/vmmgr/fw.img","nics":["vhostuser:/run/vmmgr/fw-0.sock"]}')
    put("vm_create_body", "mixed-float", '{"name":"m","vcpus":8,"memory_mib":4096,'
        '"shared_vcpus":"0","cpu_map":"7:15","emulator":"vcpus","numa_node":0}')
    put("vm_create_body", "bad-nics", '{"name":"x","vcpus":1,"memory_mib":16,'
        '"nics":["tap:x","bridge:","network:a>b",7]}')
    put("vm_create_body", "bad-types", '{"name":"x","vcpus":"1","memory_mib":-1,"dry_run":1,'
        '"role":"master","disk":"/a\\u0001b","colour":"red"}')
    put("vm_create_body", "numbered-no-host", '{"name":"x","vcpus":1,"memory_mib":64,'
        '"cpu_mode":"numbered","cpu_map":"0:2"}')
    # vmmgr-pktgen command lines (one argument per line)
    for i, args in enumerate([
            ["--tx-port", "0,1", "--rate", "1.5M", "--size", "128", "--proto", "tcp"],
            ["--imix", "imix", "--src-ip", "10.0.0.1-10.0.0.254", "--dst-port", "1000-1999",
             "--count", "1000", "--burst", "64"],
            ["--imix", "64:7,570:4,1518:1", "--rate-pct", "50", "--line-rate", "25", "--json"],
            ["--rfc2544", "--trial-sec", "1", "--loss", "0.001", "--verify-rx"],
            ["--reflect", "1", "--src-mac", "02:00:00:00:00:aa", "--window-us", "50,150"],
            ["--pcap", "/dev/null", "--duration", "2.5", "--stats-interval", "0"],
            ["--help"], ["--size", "63"], ["extra"]]):
        put("pktgen_opts", "seed-%02d" % i, "\n".join(args))
    # Found here, fixed in ee76a3d: a refused --size converted --count's stale
    # 100000.0 to uint16_t (UBSan float-cast-overflow). Kept as a regression seed.
    put("pktgen_opts", "seed-refused-size-after-count", "--count\n100000\n--size\nx")


if __name__ == "__main__":
    main()
