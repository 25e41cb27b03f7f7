#!/usr/bin/env bash
# scripts/demo.sh - the main job: a demo cluster with an ACT/SBY NAT pair
# placed and pinned.
#
# Starts vmmgrd (state in /var/lib/vmmgr-demo, API on vmmgrctl's default
# socket /run/vmmgr/vmmgrd.sock), registers this machine's real KVM host plus
# 20 simulated hosts (libvirt test driver; 2 sockets x 16 cores x 2 threads,
# 4 racks, 2 zones), creates a NAT ACT/SBY pair (ACT a real KVM guest here,
# SBY on a simulated host in another rack), a firewall pair and two more VNFs,
# and shows where and how each is pinned. The ACT's pins are checked in /proc.
#
#   scripts/demo.sh              run the demo (tears down an earlier one first)
#   scripts/demo.sh --teardown   delete the demo's VMs, stop its vmmgrd, remove its state
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/scripts/lib/daemons.sh"
bin=${VMMGR_BUILD_DIR:-$src/build}
ctl="$bin/vmmgr/ctl/vmmgrctl"
vmmgrd="$bin/vmmgr/daemon/vmmgrd"
demo=${VMMGR_DEMO_DIR:-/var/lib/vmmgr-demo}
export VMMGR_SOCKET=${VMMGR_SOCKET:-/run/vmmgr/vmmgrd.sock}
server="package:2 numa:1(memory=96GiB) core:16 pu:2"
t0=$(date +%s)

step() { printf '\n== [%3ss] %s\n' "$(($(date +%s) - t0))" "$*"; }
show() { printf '$ vmmgrctl %s\n' "$*"; "$ctl" "$@"; }

teardown() {
    local pid names
    if [ -f "$demo/vmmgrd.pid" ] && pid=$(cat "$demo/vmmgrd.pid") && kill -0 "$pid" 2>/dev/null; then
        names=$("$ctl" --json=short vm list 2>/dev/null |
            python3 -c 'import json,sys; print(" ".join(v["name"] for v in json.load(sys.stdin)))' || true)
        for n in $names; do
            "$ctl" --quiet vm delete "$n" --if-exists >/dev/null && echo "deleted VM $n"
        done
        kill -TERM "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        echo "stopped vmmgrd (pid $pid)"
    fi
    rm -rf "$demo"
}

if [ "${1:-}" = --teardown ]; then
    teardown
    echo "demo removed"
    exit 0
fi
[ -x "$vmmgrd" ] || { echo "demo: $vmmgrd is missing: run scripts/build.sh first" >&2; exit 1; }

step "libvirtd"
vmmgr_start_libvirtd
vmmgr_check_libvirt
if [ -d "$demo" ]; then
    echo "an earlier demo is here ($demo): tearing it down first"
    teardown
fi

step "Starting vmmgrd (state $demo, socket $VMMGR_SOCKET)"
mkdir -p "$demo" "$(dirname "$VMMGR_SOCKET")"
setsid "$vmmgrd" --foreground --state-dir "$demo/state" --socket "$VMMGR_SOCKET" \
    --pid-file "$demo/vmmgrd.pid" --log-level info >>"$demo/vmmgrd.log" 2>&1 </dev/null &
# Serving, and start-up recovery done (vmmgrd refuses changes until then).
for _ in $(seq 300); do
    "$ctl" --json status 2>/dev/null | grep -q '"recovering": false' && break
    sleep 0.1
done
show status

step "Registering this machine (qemu:///system: real guests, KVM or TCG) and 20 simulated hosts"
# This machine has only 2 CPUs: both go to the dedicated pool so a 2-vCPU VNF
# fits (on a real server, --reserved keeps CPUs for the OS and interrupts).
show host add kvm0 --uri qemu:///system --dedicated 0-1 --label rack=r0 --label zone=z1 --label power=p0
for i in $(seq -w 1 20); do
    rack=$(((10#$i - 1) % 4 + 1))
    "$ctl" --quiet host add "sim$i" --uri test:/// --synthetic "$server" --reserved 0-1 \
        --label rack=r$rack --label zone=z$((rack % 2 + 1)) --label power=p$rack >/dev/null
done
echo "added sim01..sim20 ($server each; CPUs 0-1 reserved for the host; racks r1-r4)"
show host list

step "NAT ACT/SBY pair (rack anti-affinity): vCPU 0 shared (control), vCPU 1 exclusive (data plane)"
nat="vcpus=2,memory=128,cpu-mode=exclusive,shared-vcpus=0,emulator=shared"
show group create nat --scope rack \
    --member "nat-act:act:$nat,host=kvm0" \
    --member "nat-sby:sby:$nat"
show group show nat

step "Firewall ACT/SBY pair on simulated hosts: 4 vCPUs, vCPU 0 shared, 1-3 exclusive (isolate SMT siblings)"
fw="vcpus=4,memory=2048,cpu-mode=exclusive,shared-vcpus=0,thread-policy=isolate"
show group create fw --scope rack --member "fw-act:act:$fw" --member "fw-sby:sby:$fw"

step "A VNF with operator-numbered cores (next to the NIC), and a light shared-core VM"
show vm create pgw --vcpus 2 --memory 1024 --cpu-mode numbered --cpu-map 0:40,1:42 --host sim05
show vm create dns --vcpus 2 --memory 512 --cpu-mode shared

step "Where each VM runs and on which PUs"
show vm list
sby_host=$("$ctl" --json=short vm show nat-sby | python3 -c 'import json,sys; print(json.load(sys.stdin)["host"])')
show host show kvm0
show host show "$sby_host"

step "The NAT ACT's live pins, from libvirt next to the plan, and from the kernel"
show vm pins nat-act
pid=$(cat /run/libvirt/qemu/nat-act.pid)
for task in /proc/"$pid"/task/*; do
    name=$(cat "$task/comm")
    case "$name" in
    "CPU "*) printf '  %-10s tid %-7s Cpus_allowed_list %s\n' "$name" "${task##*/}" \
        "$(awk '/Cpus_allowed_list/ {print $2}' "$task/status")" ;;
    esac
done

step "Done in $(($(date +%s) - t0)) s"
cat <<TXT
The demo's vmmgrd keeps running so you can look around:
  $ctl host show sim01
  $ctl vm show fw-act --json
  $ctl events
  virsh -c qemu:///system vcpupin nat-act     (the real KVM guest)
Tear it all down (VMs, daemon, state in $demo):
  $0 --teardown
TXT
