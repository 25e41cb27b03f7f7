#!/usr/bin/env bash
# Crash safety at named points (issue 9 item 8): for each operation and each
# point vmmgrd's `debug_crash_at = OP.POINT` names, start vmmgrd with that
# key, run the operation, check vmmgrd died there (exit 99) and the client
# got no success, restart vmmgrd without the key and check (check_crash.py,
# which says how) what a user would: acknowledged creates exist and
# acknowledged deletes are gone; the crashed operation is all or nothing and
# its journal entry says which; no journal entry is pending; each VM's core
# map PUs are its plan's and libvirt's live pins are too; qemu:///system's
# test domains are exactly vmmgrd's VMs there; a crashed host add left the
# host whole or gone with no node file.
# Creates and deletes run on a simulated host (test:///, asynchronous creates
# answering an operation id) and on this machine's qemu:///system (TCG
# without /dev/kvm; synchronous, so the client sees the connection drop);
# host adds on simulated hosts. VMMGR_CRASH_POINTS (a grep -E pattern over
# "OP.POINT@HOST", e.g. 'after_define@kvm') runs only the points it matches.
# Without a usable qemu:///system the
# simulated part runs and the test exits 77 naming the reason.
export VMMGR_TEST_TAG=crash # lib.sh: temp dir /tmp/vmmgr-test-crash-*
. "$(dirname "$0")/lib.sh"

# Test domains end in the test's pid: the libvirtd fixture's "stop" (any
# suite's) removes vmmgr-test-* domains whose last field is not a live pid.
ours="vmmgr-test-crash-*-$$"
name() { echo "vmmgr-test-crash-$1-$$"; }
syn="package:1 numa:2(memory=16GB) core:8 pu:2"
acked="" # VMs whose create was acknowledged and not deleted since
gone=""  # VMs whose delete was acknowledged
n_case=0 n_rolled=0 n_finished=0
since=0

# selected OP.POINT@HOST : in VMMGR_CRASH_POINTS (default: every point).
selected() { grep -qE "${VMMGR_CRASH_POINTS:-.}" <<<"$1"; }

db() { sqlite3 "$STATE/vmmgr.db" "$1"; }

# expect_crash WHAT : vmmgrd exits 99 (the crash point) within 60 s.
expect_crash() {
    local rc
    for _ in $(seq 600); do
        kill -0 "$DPID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$DPID" 2>/dev/null; then
        kill -KILL "$DPID"
        wait "$DPID" 2>/dev/null
        fail "$1: vmmgrd never reached its crash point"
    fi
    wait "$DPID"
    rc=$?
    n_checks=$((n_checks + 1))
    [ $rc = 99 ] || fail "$1: vmmgrd exited $rc, expected 99 (debug_crash_at)"
    rm -f "$SOCK" # an _exit leaves the socket behind
}

# restart : vmmgrd again, without the crash key (start-up recovery runs
# before it serves).
restart() {
    since=$(db "SELECT COALESCE(MAX(id), 0) FROM events")
    write_config ""
    start_daemon
}

# verify [KIND TARGET [HOST]] : check_crash.py; sets $res (present/absent)
# for the crashed operation.
verify() {
    local kvm_opt=""
    [ $kvm = 1 ] && kvm_opt=--kvm
    n_checks=$((n_checks + 1))
    python3 "$(dirname "$0")/check_crash.py" "$VMMGRCTL" "$SOCK" "$STATE/vmmgr.db" "$STATE" \
        "$ours" "$since" $kvm_opt --acked "$acked" --gone "$gone" ${1:+--case "$@"} \
        >"$T/check.out" 2>&1 || fail "after ${1:-clean-up} ${2:-}: $(cat "$T/check.out")"
    res=$(sed -n 's/^outcome: \([a-z]*\).*/\1/p' "$T/check.out")
    sed -n 's/^outcome: //p' "$T/check.out"
}

# crashed OP.POINT KIND TARGET [HOST] : vmmgrd died at OP.POINT; restart it,
# verify, and count the operation as finished or rolled back by recovery
# ($res is "present" after a finished create/add, "absent" after a delete).
crashed() {
    local at=$1
    shift
    expect_crash "$at"
    restart
    echo -n "$at${3:+ on $3}: "
    verify "$@"
    case "$1:$res" in
    vm_delete:absent | vm_create:present | host_add:present) n_finished=$((n_finished + 1)) ;;
    *) n_rolled=$((n_rolled + 1)) ;;
    esac
}

vm_args() { # vm_args HOST
    if [ "$1" = kvm ]; then echo "--vcpus 1 --memory 64 --host kvm"; else echo "--vcpus 2 --memory 128 --host $1"; fi
}

# case_create HOST POINT [--async]
case_create() {
    local host=$1 point=$2 async=${3:-} vm rc
    selected "vm_create.$point@$host" || return 0
    n_case=$((n_case + 1))
    vm=$(name c$n_case)
    [ "$host" = kvm ] && KVM_DOMAINS="$KVM_DOMAINS $vm"
    write_config "debug_crash_at = vm_create.$point"
    start_daemon
    # shellcheck disable=SC2046
    ctl --json vm create "$vm" $(vm_args "$host") $async >"$T/out" 2>"$T/err"
    rc=$?
    if [ -z "$async" ]; then
        check "vm create $vm: the client sees the crash (exit $rc)" [ $rc != 0 ]
    elif [ $rc = 0 ]; then
        # Accepted (an operation id) before the crash: recovery resolves it.
        check "async create answers an operation id: $(cat "$T/out")" grep -q '"operation_id"' "$T/out"
    fi
    [ $rc = 0 ] && echo -n "[client: accepted] " || echo -n "[client: exit $rc] "
    crashed "vm_create.$point" vm_create "$vm" "$host"
    if [ "$res" = present ]; then
        expect_rc 0 ctl vm delete "$vm" # a recovered VM is an ordinary one
        gone="$gone $vm"
    fi
    stop_daemon
}

# case_delete HOST POINT
case_delete() {
    local host=$1 point=$2 vm rc
    selected "vm_delete.$point@$host" || return 0
    n_case=$((n_case + 1))
    vm=$(name d$n_case)
    [ "$host" = kvm ] && KVM_DOMAINS="$KVM_DOMAINS $vm"
    write_config "debug_crash_at = vm_delete.$point"
    start_daemon
    # shellcheck disable=SC2046
    expect_rc 0 ctl vm create "$vm" $(vm_args "$host")
    ctl vm delete "$vm" >"$T/out" 2>"$T/err"
    rc=$?
    check "vm delete $vm: the client sees the crash (exit $rc)" [ $rc != 0 ]
    crashed "vm_delete.$point" vm_delete "$vm" "$host"
    [ "$res" = present ] && expect_rc 0 ctl vm delete "$vm"
    gone="$gone $vm"
    stop_daemon
}

# case_host_add POINT
case_host_add() {
    local point=$1 hn rc
    selected "host_add.$point@sim" || return 0
    n_case=$((n_case + 1))
    hn=crash-h$n_case
    write_config "debug_crash_at = host_add.$point"
    start_daemon
    ctl host add "$hn" --uri test:/// --synthetic "$syn" --reserved 0-1 >"$T/out" 2>"$T/err"
    rc=$?
    check "host add $hn: the client sees the crash (exit $rc)" [ $rc != 0 ]
    crashed "host_add.$point" host_add "$hn"
    [ "$res" = present ] && expect_rc 0 ctl host remove "$hn"
    stop_daemon
}

# Hosts and a bystander VM that every recovery must leave alone.
write_config ""
start_daemon
expect_rc 0 ctl host add sim1 --uri test:/// --synthetic "$syn" --reserved 0-1
kvm=0
libvirt_why=
if libvirt_usable; then
    expect_rc 0 ctl host add kvm --uri qemu:///system --reserved 0
    kvm=1
fi
# shellcheck disable=SC2046
expect_rc 0 ctl vm create "$(name keep)" $(vm_args sim1)
acked="$(name keep)"
verify
stop_daemon

for point in after_journal after_define after_start before_commit; do
    case_host_add $point
done
for point in after_journal after_define after_start after_pin before_commit; do
    case_create sim1 $point --async
done
for point in after_journal after_undefine before_commit; do
    case_delete sim1 $point
done
if [ $kvm = 1 ]; then
    for point in after_journal after_define after_start after_pin before_commit; do
        case_create kvm $point
    done
    for point in after_journal after_undefine before_commit; do
        case_delete kvm $point
    done
fi

# The end: everything removed through vmmgrd, nothing left anywhere.
start_daemon
expect_rc 0 ctl vm delete "$(name keep)"
gone="$gone $(name keep)"
acked=""
verify
stop_daemon
echo "$n_case crash points: $n_finished finished, $n_rolled rolled back by recovery"
[ $kvm = 1 ] || skip_real_host "$libvirt_why"
echo "PASS: $n_checks checks"
