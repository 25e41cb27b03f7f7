#!/bin/bash
# rfc2544.sh BUILD nat|fw|testpmd GEN_CPU VNF_CPU [pktgen options...]
#
# RFC 2544 zero-loss throughput of one VNF: vmmgr-pktgen (memif server,
# pinned to GEN_CPU) -> VNF (memif client, pinned to VNF_CPU) -> vmmgr-pktgen.
# Prints every trial and the result; writes perf/results/vnf_rfc2544_<dut>.json
# (override with --results FILE among the pktgen options). Defaults: 64-byte
# UDP frames over 1,024 flows, trials of 2 s, search 10 kpps .. 12 Mpps to
# 50 kpps; any pktgen option given after VNF_CPU is appended and wins.
# Across two cores of a shared VM this figure swings with the neighbours'
# load (DESIGN.md); compare VNFs with bench_cycles.py, not with this.
set -u
if [ $# -lt 4 ]; then
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
BUILD=$1 DUT=$2 GEN_CPU=$3 VNF_CPU=$4
shift 4
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(mktemp -d /tmp/vmmgr-bench-rfc.XXXXXX)
PFX=vmmgr-bench-rfc$$
GEN_PID= VNF_PID=
cleanup() {
    for p in $GEN_PID $VNF_PID; do kill -INT "$p" 2>/dev/null; done
    sleep 0.5
    for p in $GEN_PID $VNF_PID; do
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$DIR" /var/run/dpdk/${PFX}-*
}
trap cleanup EXIT

M0=net_memif0,role=server,socket=$DIR/in.sock,socket-abstract=no,id=0,rsize=12
M1=net_memif1,role=server,socket=$DIR/out.sock,socket-abstract=no,id=0,rsize=12
taskset -c "$GEN_CPU" "$BUILD/perf/pktgen/vmmgr-pktgen" --lcores 0@"$GEN_CPU" --no-huge --no-pci \
    -m 512 --log-level=error --file-prefix ${PFX}-gen --vdev=$M0 --vdev=$M1 -- \
    --rfc2544 --size 64 --src-ip 10.0.0.1 --src-port 1024-2047 --dst-ip 192.0.2.1 \
    --dst-port 53 --trial-sec 2 --min-rate 10k --max-rate 12M --resolution 50k \
    --wait-return 20 --link-wait 30 --results "$HERE/../results/vnf_rfc2544_$DUT.json" "$@" &
GEN_PID=$!
sleep 0.5
C0=${M0/server/client}
C1=${M1/server/client}
EAL=(--no-huge --no-pci -m 512 --log-level=error --file-prefix ${PFX}-vnf --vdev=$C0 --vdev=$C1)
case $DUT in
nat)
    taskset -c "$VNF_CPU" "$BUILD/vnf-samples/nat/vmmgr-nat" --lcores 0@"$VNF_CPU" "${EAL[@]}" \
        -- --flows 65536 --link-wait 30 > "$DIR/vnf.log" 2>&1 &
    ;;
fw)
    echo "accept src 10.0.0.0/16 proto udp dport 53" > "$DIR/rules"
    taskset -c "$VNF_CPU" "$BUILD/vnf-samples/firewall/vmmgr-fw" --lcores 0@"$VNF_CPU" \
        "${EAL[@]}" -- --rules "$DIR/rules" --default drop --link-wait 30 > "$DIR/vnf.log" 2>&1 &
    ;;
testpmd)
    taskset -c "$VNF_CPU" dpdk-testpmd --lcores 0@"$VNF_CPU",1@"$VNF_CPU" "${EAL[@]}" -- \
        --forward-mode=io --total-num-mbufs=16384 --stats-period 1000 > "$DIR/vnf.log" 2>&1 &
    ;;
*)
    echo "rfc2544.sh: '$DUT' is not nat, fw or testpmd" >&2
    exit 2
    ;;
esac
VNF_PID=$!
wait $GEN_PID
rc=$?
GEN_PID=
exit $rc
