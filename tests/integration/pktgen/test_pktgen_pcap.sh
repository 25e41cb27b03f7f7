#!/bin/bash
# test_pktgen_pcap.sh PKTGEN - vmmgr-pktgen self-checks through DPDK's net_pcap.
#
# 1. Generated traffic written to a pcap file is checked independently with
#    scapy and tshark: frame count, IMIX sizes, every tuple of the flow ranges
#    equally often, sequence numbers, valid IPv4/UDP/TCP checksums.
# 2. Replay (--pcap) of that file reproduces its frames byte for byte.
# 3. The receive path: a capture with one frame dropped, two swapped and one
#    duplicated is fed to the generator's RX; it must report exactly that.
set -u
PKTGEN=$1
PY=/usr/bin/python3
command -v tshark >/dev/null || { echo "SKIP: tshark not installed"; exit 77; }
$PY -c 'import scapy' 2>/dev/null || { echo "SKIP: python3-scapy not installed"; exit 77; }

DIR=$(mktemp -d /tmp/vmmgr-test-pktgen-pcap.XXXXXX)
PFX=vmmgr-test-pg$$
cleanup() {
    rm -rf "$DIR" /var/run/dpdk/${PFX}-* 2>/dev/null
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
EAL=(--no-huge --no-pci -m 128 --log-level=error -l 0)

# 1. generate: 3 source IPs x 4 source ports x 2 destination ports = 24 flows, 4 rounds.
"$PKTGEN" "${EAL[@]}" --file-prefix ${PFX}-1 --vdev=net_pcap0,tx_pcap=$DIR/gen.pcap -- \
    --count 96 --imix imix --src-ip 10.0.0.1-10.0.0.3 --src-port 1000-1003 \
    --dst-ip 192.0.2.9 --dst-port 5000-5001 --rate 10000 --drain-ms 0 --stats-interval 0 \
    --json > $DIR/gen.json || fail "generator exited with $?"
$PY - "$DIR/gen.pcap" <<'PYEOF' || fail "scapy check of generated frames"
import sys, collections
from scapy.all import rdpcap, Ether, IP, UDP, raw
pk = rdpcap(sys.argv[1])
assert len(pk) == 96, len(pk)
sizes = collections.Counter(len(p) for p in pk)
# simple IMIX 64:7,570:4,1518:1 (sizes with FCS; the file holds frames without it)
assert sizes == {60: 56, 566: 32, 1514: 8}, sizes
tuples = collections.Counter()
for i, p in enumerate(pk):
    assert p.haslayer(IP) and p.haslayer(UDP), p.summary()
    ip, udp = p[IP], p[UDP]
    tuples[(ip.src, udp.sport, ip.dst, udp.dport)] += 1
    # independent checksum computation: rebuild without the fields
    q = Ether(raw(p))
    del q[IP].chksum
    del q[UDP].chksum
    q = Ether(raw(q))
    assert q[IP].chksum == ip.chksum, ("ip checksum", i)
    assert q[UDP].chksum == udp.chksum, ("udp checksum", i)
    pl = bytes(udp.payload)
    assert pl[0:2] == b"pg", pl[0:2]
    assert int.from_bytes(pl[4:8], "big") == i, ("sequence", i)
    assert ip.len == len(p) - 14 and udp.len == len(p) - 34
assert len(tuples) == 24 and set(tuples.values()) == {4}, tuples
for (src, sport, dst, dport) in tuples:
    assert src in ("10.0.0.1", "10.0.0.2", "10.0.0.3") and dst == "192.0.2.9"
    assert 1000 <= sport <= 1003 and dport in (5000, 5001)
print("scapy: 96 frames, IMIX 56/32/8, 24 flows x 4, checksums and sequence ok")
PYEOF
bad=$(tshark -r $DIR/gen.pcap -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
    -Y 'ip.checksum.status != 1 || udp.checksum.status != 1' 2>/dev/null | wc -l)
[ "$bad" = 0 ] || fail "tshark: $bad frames with a bad checksum"

# TCP frames, 128 bytes.
"$PKTGEN" "${EAL[@]}" --file-prefix ${PFX}-2 --vdev=net_pcap0,tx_pcap=$DIR/tcp.pcap -- \
    --count 10 --proto tcp --size 128 --rate 10000 --drain-ms 0 --stats-interval 0 \
    > /dev/null || fail "tcp generator exited with $?"
n=$(tshark -r $DIR/tcp.pcap -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
    -Y 'tcp.checksum.status == 1 && ip.checksum.status == 1 && frame.len == 124' \
    2>/dev/null | wc -l)
[ "$n" = 10 ] || fail "tshark: $n of 10 TCP frames of 124 bytes with a good checksum"

# 2. replay twice over.
"$PKTGEN" "${EAL[@]}" --file-prefix ${PFX}-3 --vdev=net_pcap0,tx_pcap=$DIR/replay.pcap -- \
    --pcap $DIR/gen.pcap --count 192 --rate 20000 --drain-ms 0 --stats-interval 0 \
    > /dev/null || fail "replay exited with $?"
$PY - "$DIR/gen.pcap" "$DIR/replay.pcap" <<'PYEOF' || fail "replayed frames differ"
import sys
from scapy.all import rdpcap, raw
a = [raw(p) for p in rdpcap(sys.argv[1])]
b = [raw(p) for p in rdpcap(sys.argv[2])]
assert b == a + a, (len(a), len(b))
print("replay: 192 frames identical to the file twice over")
PYEOF

# 3. receive accounting: drop seq 5, swap 10 and 11, duplicate 20 (stream 1 = a plain run).
$PY - "$DIR/gen.pcap" "$DIR/rx.pcap" <<'PYEOF' || fail "could not build the RX capture"
import sys
from scapy.all import rdpcap, wrpcap
p = list(rdpcap(sys.argv[1]))
q = p[:5] + p[6:10] + [p[11], p[10]] + p[12:21] + [p[20]] + p[21:]
wrpcap(sys.argv[2], q)
PYEOF
"$PKTGEN" "${EAL[@]}" --file-prefix ${PFX}-4 \
    --vdev=net_pcap0,rx_pcap=$DIR/rx.pcap,tx_pcap=$DIR/sink.pcap -- \
    --count 96 --imix imix --rate 10000 --drain-ms 500 --stats-interval 0 --verify-rx \
    --json > $DIR/rx.json || fail "rx run exited with $?"
$PY - "$DIR/rx.json" <<'PYEOF' || fail "receive accounting: $(cat $DIR/rx.json)"
import json, sys
s = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert s["tx"] == 96 and s["rx"] == 96, s
assert s["rx_stream"] == 95 and s["lost"] == 1, s
assert s["reordered"] == 1 and s["duplicated"] == 1, s
assert s["rx_checksum_bad"] == 0, s
print("rx accounting: 96 received, 95 unique, 1 lost, 1 reordered, 1 duplicated")
PYEOF

# Bad usage is one line and exit code 2.
out=$("$PKTGEN" "${EAL[@]}" --file-prefix ${PFX}-5 --vdev=net_pcap0,tx_pcap=$DIR/x.pcap -- \
    --count 1 --src-port 70000 2>&1 >/dev/null)
rc=$?
[ $rc = 2 ] || fail "bad --src-port exited with $rc, want 2"
echo "$out" | grep -q "'src-port'" || fail "bad --src-port message: $out"
echo "PASS"
