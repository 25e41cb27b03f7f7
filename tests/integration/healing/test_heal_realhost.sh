#!/usr/bin/env bash
# Issue 12 on this machine's real libvirtd (qemu:///system, KVM or TCG):
#  A. kill -9 of an ACT's QEMU is a real crash: vmmgrd restarts it in place
#     and its pins are right again in /proc (check_pins);
#  B. split brain: a host whose libvirt connection is cut (a Unix-socket
#     proxy killed: the guest keeps running) while its BMC stops answering is
#     confirmed failed (rule A) but NOT promoted around while the fence
#     cannot be confirmed; once the BMC answers again, the fence powers it
#     off and only then is the SBY promoted and the ACT rebuilt elsewhere;
#     after the operator's recover, the stale domain the host still held is
#     destroyed and undefined (matched by UUID).
VMMGR_TEST_TAG=healreal
. "$(dirname "$0")/../vmmgrd/lib.sh"
. "$(dirname "$0")/../../../scripts/lib/ipmisim.sh"
# is_role VM ROLE : the VM's own role (not a peer's: vm show lists its peers too)
is_role() { [ "$("$VMMGRCTL" --socket "$SOCK" --json vm show "$1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["role"])')" = "$2" ]; }

libvirt_usable || { echo "SKIP: $libvirt_why"; exit 77; }
command -v ipmi_sim >/dev/null || { echo "SKIP: ipmi_sim is not installed (Debian package openipmi; scripts/setup.sh installs it)"; exit 77; }

BMCS=""
PROXY=""
stop_extra() {
    for b in $BMCS; do
        [ -f "$b/ipmi_sim.pid" ] && kill -CONT "$(cat "$b/ipmi_sim.pid")" 2>/dev/null
        vmmgr_ipmisim_stop "$b" >/dev/null 2>&1
    done
    [ -n "$PROXY" ] && kill "$PROXY" 2>/dev/null
}
trap 'stop_extra; cleanup' EXIT

LIBVIRT_SOCK=/var/run/libvirt/libvirt-sock
start_proxy() {
    "$PY" "$(dirname "$0")/../vmmgrd/unix_proxy.py" "$T/px.sock" "$LIBVIRT_SOCK" &
    PROXY=$!
    for _ in $(seq 50); do [ -S "$T/px.sock" ] && return 0; sleep 0.1; done
    fail "proxy did not start"
}

syn="package:1 numa:1(memory=4GB) core:4 pu:1"
act=vmmgr-test-hact-$$
sby=vmmgr-test-hsby-$$
act2=vmmgr-test-hact2-$$
sby2=vmmgr-test-hsby2-$$
KVM_DOMAINS="$act $act2"

write_config "heal_poll_ms = 200
keepalive_interval = 1
keepalive_count = 2
heal_unreachable_periods = 3
heal_fence_timeout_ms = 3000
heal_bmc_timeout_ms = 1000
healing_reserve = off
heal_rebuild_retry_ms = 500
uri_alias.px = qemu+unix:///system?socket=$T/px.sock"
start_daemon
expect_rc 0 ctl host add s1 --uri test:/// --synthetic "$syn" --reserved 0
expect_rc 0 ctl host add s2 --uri test:/// --synthetic "$syn" --reserved 0

# A. kill -9 of the ACT's QEMU.
expect_rc 0 ctl host add kvm --uri qemu:///system --reserved 0
expect_rc 0 ctl group create hpair --scope host --member "$act:act:vcpus=1,memory=64,host=kvm" \
    --member "$sby:sby:vcpus=1,memory=64,host=s1"
qpid=$(cat "/run/libvirt/qemu/$act.pid")
kill -9 "$qpid"
new_pid() { local p; p=$(cat "/run/libvirt/qemu/$act.pid" 2>/dev/null) && [ -n "$p" ] && [ "$p" != "$qpid" ]; }
wait_for 30 "$act restarted in place (new QEMU)" new_pid
wait_for 10 "$act running again" sh -c "'$VMMGRCTL' --socket '$SOCK' --json vm show '$act' | grep -q '\"state\": \"running\"'"
expect_rc 0 ctl events
check "the crash was recorded" grep -q "vm_crashed .*$act" "$T/out"
wait_for 10 "the restart was recorded" sh -c "'$VMMGRCTL' --socket '$SOCK' events | grep -q 'vm_restarted .*$act'"
check "$act is still the ACT" [ "$(ctl --json vm show "$act" | jget 'd["role"]')" = act ]
check "it stayed on kvm" [ "$(ctl --json vm show "$act" | jget 'd["host"]')" = kvm ]
check_pins
expect_rc 0 ctl vm delete "$act"
expect_rc 0 ctl vm delete "$sby"
expect_rc 0 ctl host remove kvm

# B. Split brain: the ACT runs on "px" (the same libvirtd through a proxy).
bmc="$T/bmc-px"
mkdir -p "$bmc"
port=$(vmmgr_ipmisim_free_port)
vmmgr_ipmisim_start "$bmc" "$port" >/dev/null 2>&1 || { echo "SKIP: ipmi_sim does not start here"; exit 77; }
BMCS="$bmc"
printf '%s\n' "$VMMGR_IPMISIM_PASSWORD" >"$T/bmc.pw"
chmod 0600 "$T/bmc.pw"
start_proxy
expect_rc 0 ctl host add px --uri alias:px --reserved 0 --bmc "127.0.0.1:$port" \
    --bmc-user "$VMMGR_IPMISIM_USER" --bmc-password-file "$T/bmc.pw"
expect_rc 0 ctl group create hpair2 --scope host --member "$act2:act:vcpus=1,memory=64,host=px" \
    --member "$sby2:sby:vcpus=1,memory=64,host=s1"
uuid_old=$(ctl --json vm show "$act2" | jget 'd["uuid"]')
wait_for 10 "px's BMC polled" sh -c "'$VMMGRCTL' --socket '$SOCK' --json heal status | grep -q 'power on'"

kill -STOP "$(cat "$bmc/ipmi_sim.pid")" # the BMC goes silent
kill "$PROXY"                           # and the network to the host is cut
PROXY=""
host_state() { ctl --json heal status | jget "[h['state'] for h in d['hosts'] if h['name']=='px'][0]"; }
wait_for 30 "px confirmed failed (unreachable for 3 keepalive periods)" sh -c "[ \"\$('$VMMGRCTL' --socket '$SOCK' --json heal status | $PY -c \"import json,sys; d=json.load(sys.stdin); print([h['state'] for h in d['hosts'] if h['name']=='px'][0])\")\" = failed ]"
sleep 7 # a fence attempt times out (3 s) and its retry is 5 s away
check "no promotion while the fence is unconfirmed" [ "$(ctl --json vm show "$sby2" | jget 'd["role"]')" = sby ]
check "px is still failed, not fenced" [ "$(host_state)" = failed ]
check "the old ACT really still runs" [ "$(virsh -q -c qemu:///system domstate "$act2")" = running ]
expect_rc 0 ctl --json heal history
check "the failed fence is in the history" grep -q host_fence_failed "$T/out"
check "the group is degraded, not promoting" [ "$(ctl --json heal status | jget "[g['state'] for g in d['groups'] if g['name']=='hpair2'][0]")" = degraded ]

kill -CONT "$(cat "$bmc/ipmi_sim.pid")" # the BMC answers again: the fence goes through
wait_for 30 "$sby2 promoted once the fence is confirmed" is_role $sby2 act
power_off() { [ "$(vmmgr_ipmisim_ipmitool "$bmc" chassis power status 2>/dev/null)" = "Chassis Power is off" ]; }
wait_for 10 "the BMC reads power off" power_off # ipmitool may need a retry after the SIGSTOP
wait_for 30 "$act2 rebuilt elsewhere" sh -c "'$VMMGRCTL' --socket '$SOCK' --json vm show '$act2' | grep -q '\"host\": \"s2\"'"
check "the rebuilt $act2 is the SBY" [ "$(ctl --json vm show "$act2" | jget 'd["role"]')" = sby ]

# The host comes back (the simulated chassis cannot stop this machine's
# guest: the stale domain is still running there, as on a host whose BMC
# lied). Recover removes exactly that domain.
vmmgr_ipmisim_ipmitool "$bmc" chassis power on >/dev/null
start_proxy
wait_for 30 "px reconnected" sh -c "'$VMMGRCTL' --socket '$SOCK' --json host show px | grep -q '\"connected\": true'"
expect_rc 0 ctl host recover px
check "the stale domain is gone" bash -c "! virsh -q -c qemu:///system dominfo '$act2' >/dev/null 2>&1"
check "px is up" [ "$(host_state)" = up ]
check_pins
echo "old ACT uuid $uuid_old removed"

# C. Power loss: the chassis goes off (ipmitool chassis power off) and the
# host vanishes from the network at once. Rule B (unreachable AND power
# off) confirms at once; the fence reads the power back off; promotion.
act3=vmmgr-test-hact3-$$
sby3=vmmgr-test-hsby3-$$
KVM_DOMAINS="$KVM_DOMAINS $act3"
# Up (a BMC slow to answer on a loaded machine makes it suspect for a while,
# and a suspect host takes no new VM).
wait_for 30 "px up" sh -c "[ \"\$('$VMMGRCTL' --socket '$SOCK' --json host show px | $PY -c \"import json,sys; print(json.load(sys.stdin)['heal']['state'])\")\" = up ]"
expect_rc 0 ctl group create hpair3 --scope host --member "$act3:act:vcpus=1,memory=64,host=px" \
    --member "$sby3:sby:vcpus=1,memory=64,host=s1"
wait_for 10 "px's BMC polled after the recover" sh -c "'$VMMGRCTL' --socket '$SOCK' --json heal status | grep -q 'power on'"
t0=$(date +%s%3N)
vmmgr_ipmisim_ipmitool "$bmc" chassis power off >/dev/null
kill "$PROXY"
PROXY=""
wait_for 20 "$sby3 promoted after the power loss" is_role $sby3 act
echo "power loss -> SBY promoted in $(($(date +%s%3N) - t0)) ms"
expect_rc 0 ctl --json heal history
check "rule B confirmed it" grep -q "libvirt unreachable and the BMC reads power off" "$T/out"
virsh -q -c qemu:///system destroy "$act3" >/dev/null 2>&1 # what the power loss did, really
echo "PASS: $n_checks checks"
