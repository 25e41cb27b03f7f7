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
# Then healing: sim01's BMC (a real ipmi_sim, scripts/lib/ipmisim.sh) reports
# an uncorrectable ECC error; vmmgrd fences sim01 (chassis power off read
# back), promotes the firewall's SBY (a hook is told) and rebuilds the lost
# member on the reserve, with timestamps.
#
#   scripts/demo.sh              run the demo (tears down an earlier one first)
#   scripts/demo.sh --teardown   delete the demo's VMs, stop its vmmgrd, remove its state
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/scripts/lib/daemons.sh"
. "$src/scripts/lib/ipmisim.sh"
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
    [ -d "$demo/bmc-sim01" ] && vmmgr_ipmisim_stop "$demo/bmc-sim01" >/dev/null 2>&1 && echo "stopped sim01's BMC"
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
# Healing: BMCs polled every 200 ms; a critical SEL event alone confirms a
# failure (rule D: the demo's simulated host keeps answering libvirt); the
# VNF is told of a promotion by a hook (here: a log line with the JSON).
cat >"$demo/promote-hook.sh" <<HOOK
#!/bin/sh
{ printf '%s promote: ' "\$(date -u +%H:%M:%S.%3N)"; cat; echo; } >>"$demo/promotions.log"
HOOK
chmod 0755 "$demo/promote-hook.sh"
cat >"$demo/vmmgrd.conf" <<CONF
state_dir = $demo/state
socket = $VMMGR_SOCKET
log_level = info
heal_poll_ms = 200
heal_rule_sel_alone = yes
heal_hook_exec = $demo/promote-hook.sh
CONF
setsid "$vmmgrd" --foreground --config "$demo/vmmgrd.conf" \
    --pid-file "$demo/vmmgrd.pid" >>"$demo/vmmgrd.log" 2>&1 </dev/null &
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
# sim01 gets a BMC: OpenIPMI's ipmi_sim on 127.0.0.1 (IPMI 2.0 / RMCP+).
bmc_port=$(vmmgr_ipmisim_free_port)
mkdir -p "$demo/bmc-sim01"
vmmgr_ipmisim_start "$demo/bmc-sim01" "$bmc_port" >/dev/null
printf '%s\n' "$VMMGR_IPMISIM_PASSWORD" >"$demo/bmc.password"
chmod 0600 "$demo/bmc.password"
echo "sim01's BMC: ipmi_sim on 127.0.0.1:$bmc_port"
for i in $(seq -w 1 20); do
    rack=$(((10#$i - 1) % 4 + 1))
    bmc=()
    [ "$i" = 01 ] && bmc=(--bmc "127.0.0.1:$bmc_port" --bmc-user "$VMMGR_IPMISIM_USER"
        --bmc-password-file "$demo/bmc.password")
    "$ctl" --quiet host add "sim$i" --uri test:/// --synthetic "$server" --reserved 0-1 \
        --label rack=r$rack --label zone=z$((rack % 2 + 1)) --label power=p$rack "${bmc[@]}" >/dev/null
done
echo "added sim01..sim20 ($server each; CPUs 0-1 reserved for the host; racks r1-r4; sim01 with a BMC)"
show host list

step "NAT ACT/SBY pair (rack anti-affinity): vCPU 0 shared (control), vCPU 1 exclusive (data plane)"
nat="vcpus=2,memory=128,cpu-mode=exclusive,shared-vcpus=0,emulator=shared"
show group create nat --scope rack \
    --member "nat-act:act:$nat,host=kvm0" \
    --member "nat-sby:sby:$nat"
show group show nat

step "Firewall ACT/SBY pair on simulated hosts: 4 vCPUs, vCPU 0 shared, 1-3 exclusive (isolate SMT siblings)"
fw="vcpus=4,memory=2048,cpu-mode=exclusive,shared-vcpus=0,thread-policy=isolate"
show group create fw --scope rack --member "fw-act:act:$fw,host=sim01" --member "fw-sby:sby:$fw"

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

step "Healing: sim01's BMC reports an uncorrectable ECC error (fw-act runs there)"
show heal status
ms() { date -u +%H:%M:%S.%3N; }
role_of() { "$ctl" --json=short vm show "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["role"], d["host"], d["state"])'; }
heal_of() { "$ctl" --json=short host show "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["heal"]["state"])'; }
echo "$(ms) injecting: ipmitool sel add (Memory | Uncorrectable ECC | Asserted) into sim01's BMC"
vmmgr_ipmisim_inject "$demo/bmc-sim01" uecc
echo "$(ms) injected"
seen=""
for _ in $(seq 300); do
    now="sim01 $(heal_of sim01); fw-act $(role_of fw-act); fw-sby $(role_of fw-sby)"
    [ "$now" != "$seen" ] && echo "$(ms) $now" && seen=$now
    case "$now" in "sim01 evacuated; fw-act sby "*" running; fw-sby act "*) break ;; esac
    sleep 0.05
done
echo "$(ms) sim01's chassis: $(vmmgr_ipmisim_ipmitool "$demo/bmc-sim01" chassis power status)"
show heal history --limit 20
show group show fw
echo "the VNF hook was told:"
cat "$demo/promotions.log"

step "Done in $(($(date +%s) - t0)) s"
cat <<TXT
The demo's vmmgrd keeps running so you can look around:
  $ctl host show sim01
  $ctl vm show fw-act --json
  $ctl events
  $ctl heal status                             (each host's healing state, each pair's protection)
  $ctl host recover sim01                      (after the repair: stale domains removed, back up)
  virsh -c qemu:///system vcpupin nat-act     (the real KVM guest)
Tear it all down (VMs, daemon, state in $demo):
  $0 --teardown
TXT
