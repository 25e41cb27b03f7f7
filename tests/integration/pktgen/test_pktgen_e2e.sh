#!/bin/bash
# test_pktgen_e2e.sh PKTGEN testpmd|nat|nat-first|nat-reply - end-to-end run through memif.
#
#   vmmgr-pktgen (memif server, port 0) -> VNF (memif client) -> vmmgr-pktgen (port 1)
#
# 256 flows (16 inside hosts sharing 16 source ports, so the NAT must move
# most of them to other outside ports), 20,000 frames at a low rate
# (10 kpps, --no-huge --no-pci; 4096-slot rings absorb 400 ms of a stalled
# VNF on a busy machine): every frame must come back, with no loss, no
# reordering, no duplicate and valid checksums.
# With "nat" the VNF is vnf-samples' vmmgr-nat (inside port 0, outside port 1,
# outside address 198.51.100.1): every received frame must carry that source
# address and the original destination. With "testpmd" it is
# `dpdk-testpmd --forward-mode=io`: frames must come back unchanged.
# With "nat-reply" the generator also plays the far end: it answers every
# frame that reaches port 1 (--reflect 1), the NAT translates the answers back,
# and they must arrive on port 0 from 192.0.2.1 to the original inside hosts.
# The VNF starts once the generator has started its ports (pktgen_wait_ready)
# and, with --link-wait, reconnects if its link still does not come up.
# "nat-first" is "nat" with the VNF started BEFORE the generator exists: its
# memif ports cannot connect, and it must restart them until they do
# (--link-wait; DPDK 22.11's memif client never retries by itself).
# Each process gets its own --file-prefix and the sockets a private directory;
# every process started here is killed on exit, whatever happened.
set -u
PKTGEN=$1
MODE=$2
PY=/usr/bin/python3
BIN=${VMMGR_BINARY_DIR:-$(dirname "$PKTGEN")/../..}
. "$(dirname "$0")/lib.sh"

REFLECT=()
case $MODE in
nat-reply)
    VNF=$BIN/vnf-samples/nat/vmmgr-nat
    [ -x "$VNF" ] || { echo "SKIP: $VNF is not built"; exit 77; }
    REFLECT=(--reflect 1)
    ;;
nat | nat-first)
    VNF=$BIN/vnf-samples/nat/vmmgr-nat
    [ -x "$VNF" ] || { echo "SKIP: $VNF is not built"; exit 77; }
    ;;
testpmd)
    VNF=$(command -v dpdk-testpmd) || { echo "SKIP: dpdk-testpmd not installed"; exit 77; }
    ;;
*)
    echo "usage: $0 PKTGEN testpmd|nat|nat-first|nat-reply"
    exit 2
    ;;
esac

DIR=$(mktemp -d /tmp/vmmgr-test-pktgen-e2e.XXXXXX)
PFX=vmmgr-test-e2e$$
GEN_PID=
VNF_PID=
cleanup() {
    for pid in $GEN_PID $VNF_PID; do
        kill -TERM "$pid" 2>/dev/null
    done
    sleep 0.5
    for pid in $GEN_PID $VNF_PID; do
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$DIR" /var/run/dpdk/${PFX}-* 2>/dev/null
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    echo "--- generator:"; cat "$DIR/gen.out" "$DIR/gen.err" 2>/dev/null | tail -20
    echo "--- vnf:"; tail -20 "$DIR/vnf.log" 2>/dev/null
    exit 1
}

# CPUs: the first and the last we may run on (the same one on a 1-CPU box:
# time-sliced, slower, still lossless at this rate).
CPUS=$(/usr/bin/python3 -c 'import os; c = sorted(os.sched_getaffinity(0)); print(c[0], c[-1])')
CPU=${CPUS% *}
VCPU=${CPUS#* }
MEMIF0=net_memif0,role=server,socket=$DIR/in.sock,socket-abstract=no,id=0,rsize=12
MEMIF1=net_memif1,role=server,socket=$DIR/out.sock,socket-abstract=no,id=0,rsize=12

start_gen() {
    "$PKTGEN" --lcores 0@$CPU --no-huge --no-pci -m 256 --log-level=error --file-prefix ${PFX}-gen \
        --vdev=$MEMIF0 --vdev=$MEMIF1 -- \
        --tx-port 0 --rate 10000 --count 20000 --size 64 --src-ip 10.0.0.1-10.0.0.16 \
        --src-port 1024-1039 --dst-ip 192.0.2.1 --dst-port 53 --link-wait 20 --wait-return 20 \
        --verify-rx --json --stats-interval 0.5 --results $DIR/gen.json "${REFLECT[@]}" \
        > $DIR/gen.out 2> $DIR/gen.err &
    GEN_PID=$!
}

start_vnf() {
    local c0=${MEMIF0/server/client} c1=${MEMIF1/server/client}
    if [ $MODE != testpmd ]; then
        "$VNF" --lcores 0@$VCPU --no-huge --no-pci -m 512 --log-level=error \
            --file-prefix ${PFX}-vnf --vdev=$c0 --vdev=$c1 -- --flows 4096 --link-wait 20 \
            > $DIR/vnf.log 2>&1 &
    else
        "$VNF" --lcores 0@$VCPU,1@$VCPU --no-huge --no-pci -m 256 --log-level=error \
            --file-prefix ${PFX}-vnf --vdev=$c0 --vdev=$c1 -- --forward-mode=io \
            --total-num-mbufs=4096 --stats-period 100 > $DIR/vnf.log 2>&1 &
    fi
    VNF_PID=$!
}

if [ $MODE = nat-first ]; then
    start_vnf
    for _ in $(seq 300); do
        grep -q 'did not start' $DIR/vnf.log 2>/dev/null && break
        kill -0 $VNF_PID 2>/dev/null || fail "the VNF exited while its memif server was missing"
        sleep 0.1
    done
    grep -q 'did not start' $DIR/vnf.log || fail "the VNF did not report its unconnected port"
    start_gen
else
    start_gen
    pktgen_wait_ready $DIR/gen.err $GEN_PID || fail "generator not ready"
    start_vnf
fi

wait $GEN_PID
rc=$?
GEN_PID=
[ $rc = 0 ] || fail "generator exited with $rc"
if [ $MODE = nat-first ]; then
    grep -q 'restarting the port to reconnect' $DIR/vnf.log ||
        fail "the VNF connected without restarting its ports: the test did not test the retry"
    MODE=nat
fi
$PY - "$DIR/gen.json" "$MODE" "$DIR/gen.out" <<'PYEOF' || fail "end-to-end result: $(cat $DIR/gen.json)"
import json, sys
s = json.load(open(sys.argv[1]))
mode = sys.argv[2]
# --json on stdout: one line per 0.5 s interval (20,000 frames at 10 kpps take
# at least 2 s), counters never going back, then the summary, equal to --results.
lines = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]
ticks = [l for l in lines if "t" in l]
assert len(ticks) >= 3, ("per-interval lines", len(ticks))
assert all(a["tx"] <= b["tx"] and a["rx"] <= b["rx"] and a["t"] < b["t"]
           for a, b in zip(ticks, ticks[1:])), ticks
assert lines[-1] == s, "last stdout line differs from --results"
assert s["tx"] == 20000, ("frames sent", s["tx"])
assert s["rx_stream"] == s["tx"] and s["lost"] == 0, ("loss", s["tx"], s["rx_stream"])
assert s["reordered"] == 0 and s["duplicated"] == 0, s
assert s["rx_checksum_bad"] == 0, s
assert s["latency_ns"]["samples"] == s["tx"], s["latency_ns"]
if mode == "nat":
    assert s["rx_translated"] == s["rx"], ("untranslated frames", s["rx"] - s["rx_translated"])
    assert s["rx_src_ip_min"] == s["rx_src_ip_max"] == "198.51.100.1", s
    assert s["rx_dst_ip_min"] == s["rx_dst_ip_max"] == "192.0.2.1", s
elif mode == "nat-reply":
    # answered on port 1, translated back: from the server to the inside hosts
    assert s["reflected"] == s["tx"], ("answers sent", s["reflected"])
    assert s["rx_src_ip_min"] == s["rx_src_ip_max"] == "192.0.2.1", s
    assert (s["rx_dst_ip_min"], s["rx_dst_ip_max"]) == ("10.0.0.1", "10.0.0.16"), s
    assert s["ports"][0]["rx"] == s["tx"] and s["ports"][1]["rx"] == s["tx"], s["ports"]
else:
    assert s["rx_translated"] == 0, s
    assert (s["rx_src_ip_min"], s["rx_src_ip_max"]) == ("10.0.0.1", "10.0.0.16"), s
    assert s["rx_dst_ip_min"] == s["rx_dst_ip_max"] == "192.0.2.1", s
print("%s: %d frames sent, %d received, 0 lost, latency p99 %d ns"
      % (mode, s["tx"], s["rx_stream"], s["latency_ns"]["p99"]))
PYEOF
echo "PASS"
