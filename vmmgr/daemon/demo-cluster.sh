#!/usr/bin/env bash
# vmmgr/daemon/demo-cluster.sh - issue 5's main job with vmmgrd running:
# start vmmgrd, register this machine's KVM host and 20 simulated servers
# (2 sockets x 16 cores x 2 threads, 4 racks), create a NAT ACT/SBY pair
# (ACT on the real KVM host, SBY on a simulated one), a firewall pair and
# two more VNFs, then show where and how each is pinned. About 10 s.
#
#   demo-cluster.sh [STATE_DIR]            run (default /tmp/vmmgr-demo)
#   demo-cluster.sh --teardown [STATE_DIR]  delete the VMs, stop vmmgrd, remove STATE_DIR
# VMMGR_BUILD_DIR selects the build (default: build/ of this checkout).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${VMMGR_BUILD_DIR:-$src/build}
teardown=0
if [ "${1:-}" = --teardown ]; then
    teardown=1
    shift
fi
dir=${1:-/tmp/vmmgr-demo}
sock=$dir/vmmgrd.sock
ctl() { "$build/vmmgr/ctl/vmmgrctl" --socket "$sock" "$@"; }
step() { printf '\n== %s\n' "$*"; }

if [ $teardown = 1 ]; then
    if [ -f "$dir/vmmgrd.pid" ]; then
        for v in $(ctl --json vm list | python3 -c 'import json,sys; print(" ".join(v["name"] for v in json.load(sys.stdin)))'); do
            ctl vm delete "$v"
        done
        kill -TERM "$(cat "$dir/vmmgrd.pid")"
        for _ in $(seq 50); do [ -e "$dir/vmmgrd.pid" ] || break; sleep 0.1; done
    fi
    rm -rf "$dir"
    echo "torn down: VMs deleted, vmmgrd stopped, $dir removed"
    exit 0
fi

[ -e "$dir" ] && { echo "$dir exists: run '$0 --teardown $dir' first" >&2; exit 1; }
mkdir -p "$dir"
t0=$(date +%s%N)
step "Start vmmgrd (state in $dir)"
"$build/vmmgr/daemon/vmmgrd" --daemon --socket "$sock" --state-dir "$dir/state" \
    --pid-file "$dir/vmmgrd.pid" --log-target stderr 2>>"$dir/vmmgrd.log"
ctl status

step "Register this machine's KVM host and 20 simulated servers in 4 racks"
server="package:2 numa:1(memory=192GB) core:16 pu:2"
kvm=0
if virsh -q -c qemu:///system version >/dev/null 2>&1 && [ "$(nproc --all)" -ge 2 ]; then
    ctl host add kvm --uri qemu:///system --reserved 0 --label rack=r0 >/dev/null
    kvm=1
fi
for i in $(seq -w 1 20); do
    ctl host add "sim$i" --uri test:/// --synthetic "$server" --reserved 0-1,32-33 \
        --label rack=r$(((10#$i - 1) % 4 + 1)) --label zone=z1 >/dev/null
done
ctl host list

step "NAT ACT/SBY pair, anti-affine by rack (ACT on the real KVM host when there is one)"
if [ $kvm = 1 ]; then
    ctl group create nat --scope rack --member "vmmgr-demo-nat-act:act:vcpus=1,memory=64,host=kvm" \
        --member "vmmgr-demo-nat-sby:sby:vcpus=1,memory=64"
else
    ctl group create nat --scope rack --member "vmmgr-demo-nat-act:act:vcpus=1,memory=64" \
        --member "vmmgr-demo-nat-sby:sby:vcpus=1,memory=64"
fi

step "Firewall pair: vCPU 0 shared (control), vCPUs 1-5 exclusive (data plane), different racks"
ctl group create fw --scope rack \
    --member "fw-act:act:vcpus=6,memory=4096,shared-vcpus=0,emulator=shared" \
    --member "fw-sby:sby:vcpus=6,memory=4096,shared-vcpus=0,emulator=shared"

step "A packet gateway (8 exclusive vCPUs) and a DPI VNF pinned to named PUs on sim05"
ctl vm create pgw --vcpus 8 --memory 8192
ctl vm create dpi --vcpus 2 --memory 2048 --cpu-mode numbered --cpu-map 0:40,1:42 --host sim05

step "Where everything runs"
ctl vm list
ctl group show fw

step "How the firewall's ACT is pinned: the plan next to the live pins from libvirt"
ctl vm pins fw-act
fw_host=$(ctl --json vm show fw-act | python3 -c 'import json,sys; print(json.load(sys.stdin)["host"])')
step "Core map of $fw_host (PUs held by a VM; the rest are free)"
ctl host show "$fw_host" | awk 'NR<=3 || $6 != "-"'
if [ $kvm = 1 ]; then
    step "The real KVM host: its core map and the NAT ACT's pins"
    ctl host show kvm
    ctl vm pins vmmgr-demo-nat-act
fi

step "Events"
ctl events
t1=$(date +%s%N)
printf '\nDone in %d ms. vmmgrd keeps running (socket %s).\n' $(((t1 - t0) / 1000000)) "$sock"
printf 'Try: %s/vmmgr/ctl/vmmgrctl --socket %s vm list\n' "$build" "$sock"
printf 'Tear down (deletes the VMs, stops vmmgrd, removes %s):\n  %s --teardown %s\n' "$dir" "$0" "$dir"
