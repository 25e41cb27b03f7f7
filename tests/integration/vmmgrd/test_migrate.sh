#!/usr/bin/env bash
# Issue 16 end to end: re-pin, migration, drain, defragment.
#
# Simulated hosts (libvirt's test driver): refusals (unknown host, no
# capacity with placement's reason, a move that would put a pair on one
# host), bad input (exit 2 naming the field), drain of a host holding a
# pair member (SBY first, anti-affinity kept, host in maintenance), cold
# moves, defragment dry run.
# Real hosts: this machine's libvirtd (qemu:///system) and a second one in
# its own mount namespace (scripts/lib/libvirtd2.sh, reached through a
# uri_alias): live re-pin, live and cold migration with the pins checked
# in /proc on both sides, the destination killed mid-migration (rolled
# back, the guest still runs at the source, no PU held twice), and
# vmmgrd killed right after libvirt moved the guest (debug_crash_at:
# recovery finishes the move).
VMMGR_TEST_TAG=migrate
. "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../../.." && pwd)
# The checks below run in "bash -c": they use these.
export PY VMMGRCTL SOCK
export -f jget ctl
L2="$T/l2"
l2_stop_on_exit() { bash "$src/scripts/lib/libvirtd2.sh" stop "$L2" >/dev/null 2>&1; }
trap 'l2_stop_on_exit; cleanup' EXIT

syn="package:1 numa:1(memory=64GB) core:4 pu:1"
small="package:1 numa:1(memory=64GB) core:1 pu:1"
L2URI=$(bash "$src/scripts/lib/libvirtd2.sh" uri "$L2")
write_config "healing_reserve = off
uri_alias.l2 = $L2URI"
start_daemon

# ---- simulated hosts ----
expect_rc 0 ctl host add s1 --uri test:/// --synthetic "$syn" --label rack=r1
expect_rc 0 ctl host add s2 --uri test:/// --synthetic "$syn" --label rack=r2
expect_rc 0 ctl host add s3 --uri test:/// --synthetic "$small" --label rack=r3
expect_rc 0 ctl group create pair --scope host \
    --member pa:act:vcpus=2,memory=256,host=s1 --member pb:sby:vcpus=2,memory=256,host=s2
expect_rc 0 ctl vm create lone --vcpus 1 --memory 128 --host s2

# Bad input: exit 2 naming the field.
expect_rc 2 ctl vm migrate pb --live --cold
api POST /v1/vms/pb/migrate '{"mode":"warp"}'
check "bad mode is 400 naming 'mode'" bash -c "[ $status = 400 ] && grep -q \"'mode'\" '$T/body'"
api POST /v1/vms/pb/migrate '{"colour":"red"}'
check "unknown field is 400 naming it" bash -c "[ $status = 400 ] && grep -q colour '$T/body'"
api POST /v1/vms/pb/migrate '{"host":"s2"}'
check "own host is 400 naming 'host'" bash -c "[ $status = 400 ] && grep -q \"'host'\" '$T/body'"
api POST /v1/vms/pb/repin '{}'
check "empty re-pin is 400" bash -c "[ $status = 400 ]"
expect_rc 2 ctl cluster defragment --memory 128
grep -q "'vcpus'" "$T/err" || fail "defragment without --vcpus names 'vcpus': $(cat "$T/err")"
# Unknown host (exit 3), unknown VM (exit 3).
expect_rc 3 ctl vm migrate pb --host nowhere
grep -q "nowhere" "$T/err" || fail "unknown host not named: $(cat "$T/err")"
expect_rc 3 ctl vm migrate ghost
# Anti-affinity: the SBY may not join its ACT on s1 (exit 5, placement's reason).
expect_rc 5 ctl vm migrate pb --host s1
grep -qi "anti" "$T/err" || fail "anti-affinity refusal without the reason: $(cat "$T/err")"
# No capacity: the 1 core of s3 holds no 2-vCPU VM (exit 5 with the reason).
expect_rc 0 ctl vm create big --vcpus 2 --memory 128 --host s1
expect_rc 5 ctl vm migrate big --host s3
grep -q "no host fits\|cores" "$T/err" || fail "no-capacity refusal without the reason: $(cat "$T/err")"
check "refusals left nothing held" bash -c \
    "[ \$(sqlite3 '$STATE/vmmgr.db' 'select count(*) from allocations a join hosts h on h.id=a.host_id where h.name=\"s3\"') = 0 ]"
expect_rc 0 ctl vm delete big

# A simulated move (the test driver cannot migrate: redefine) with new pins.
expect_rc 0 ctl vm migrate lone --host s3
ctl --json vm show lone >"$T/lone.json"
check "lone now on s3" bash -c "jget 'd[\"host\"]' <'$T/lone.json' | grep -qx s3"
check_pins

# Drain of s2 (holds SBY pb; two more VMs), with room on s4.
expect_rc 0 ctl host add s4 --uri test:/// --synthetic "$syn" --label rack=r4
expect_rc 0 ctl vm create v1 --vcpus 1 --memory 128 --host s2
expect_rc 0 ctl vm create v2 --vcpus 1 --memory 128 --host s2
expect_rc 0 ctl host drain s2 --dry-run
expect_rc 0 ctl --json host drain s2
ctl --json host show s2 >"$T/s2.json"
check "s2 in maintenance" bash -c "jget 'd[\"state\"]' <'$T/s2.json' | grep -qx maintenance"
check "s2 empty" bash -c "[ \"\$(jget 'd[\"vms\"]' <'$T/s2.json')\" = 0 ]"
ctl --json vm show pb >"$T/pb.json"
pbhost=$(jget 'd["host"]' <"$T/pb.json")
check "SBY not on its ACT's host ($pbhost)" bash -c "[ '$pbhost' != s1 ] && [ '$pbhost' != s2 ]"
# The SBY moved first.
api GET "/v1/events?limit=1000"
cp "$T/body" "$T/ev.json"
first=$(jget '[e["object"] for e in d["events"] if e["type"]=="vm_migrated" and "from s2" in e["message"] and e["object"]!="lone"][0]' <"$T/ev.json")
check "drain moved the SBY first (got $first)" bash -c "[ '$first' = pb ]"
check_pins
expect_rc 0 ctl host set s2 --state up
# Defragment: with 1 core free on s2 and on s4, a 2-vCPU VM fits nowhere;
# one move makes room.
for v in f1 f2 f3; do expect_rc 0 ctl vm create $v --vcpus 1 --memory 128 --host s2; done
expect_rc 0 ctl vm create g --vcpus 1 --memory 128 --host s4
expect_rc 5 ctl vm create probe --vcpus 2 --memory 128
expect_rc 0 ctl --json cluster defragment --vcpus 2 --memory 128 --dry-run
check "defragment plans moves" bash -c "[ \$(jget 'len(d[\"moves\"])' <'$T/out') -ge 1 ]"
expect_rc 0 ctl --json cluster defragment --vcpus 2 --memory 128
check "defragment moved" bash -c "[ \$(jget 'len(d[\"moves\"])' <'$T/out') -ge 1 ]"
expect_rc 0 ctl vm create probe --vcpus 2 --memory 128
check_pins
for v in f1 f2 f3 g probe; do expect_rc 0 ctl vm delete $v; done

# ---- real hosts: qemu:///system and a second libvirtd ----
if ! libvirt_usable; then
    skip_real_host "$libvirt_why"
fi
if ! bash "$src/scripts/lib/libvirtd2.sh" start "$L2" >"$T/l2.out" 2>&1; then
    skip_real_host "the second libvirtd does not start here: $(tail -1 "$T/l2.out")"
fi
stop_daemon
start_daemon
expect_rc 0 ctl host add h1 --uri qemu:///system --dedicated 0-1 --reserved ""
expect_rc 0 ctl host add h2 --uri alias:l2 --reserved 0
vm="vmmgr-test-mig-$$"
KVM_DOMAINS="$vm"
expect_rc 0 ctl vm create "$vm" --vcpus 1 --memory 64 --host h1

# /proc: every vCPU thread of the guest's QEMU runs where the plan says.
proc_pins_ok() { # proc_pins_ok PU : the vCPU thread's affinity is exactly PU
    local pid t want=$1
    # The QEMU of whichever host runs the guest (pid files of both hosts).
    pid=$(cat /run/libvirt/qemu/"$vm".pid "$L2/run/qemu/$vm.pid" 2>/dev/null | head -1)
    [ -n "$pid" ] && [ -d /proc/"$pid" ] || return 1
    for t in /proc/"$pid"/task/*; do
        case "$(cat "$t/comm")" in
        "CPU 0/"*) grep -q "^Cpus_allowed_list:[[:space:]]*$want\$" "$t/status" && return 0 ;;
        esac
    done
    return 1
}

# Live re-pin on h1: PU -> the other PU, verified from /proc.
cur=$(ctl --json vm pins "$vm" | jget 'd["vcpus"][0]["live"]')
other=$((1 - cur))
expect_rc 0 ctl vm repin "$vm" --cpu-mode numbered --cpu-map "0:$other"
check "re-pinned vCPU in /proc" proc_pins_ok "$other"
expect_rc 0 ctl vm repin "$vm" --cpu-mode exclusive
check_pins

# Live migration h1 -> h2, pins in /proc at the destination.
expect_rc 0 ctl vm migrate "$vm" --host h2 --live
grep -q "migrating '$vm'" "$T/err" || fail "no progress line on stderr"
ctl --json vm show "$vm" >"$T/vm.json"
check "on h2" bash -c "jget 'd[\"host\"]' <'$T/vm.json' | grep -qx h2"
check "gone from qemu:///system" bash -c "! virsh -q -c qemu:///system dominfo $vm >/dev/null 2>&1"
check "persistent on the second host" bash -c "virsh -q -c '$L2URI' dominfo $vm | grep -q 'Persistent: *yes'"
check "destination vCPU pinned in /proc" proc_pins_ok 1
check "UUID kept" bash -c "[ \"\$(virsh -q -c '$L2URI' domuuid $vm)\" = \"\$(jget 'd[\"uuid\"]' <'$T/vm.json')\" ]"
check "h1 holds nothing" bash -c \
    "[ \$(sqlite3 '$STATE/vmmgr.db' 'select count(*) from allocations a join hosts h on h.id=a.host_id where h.name=\"h1\"') = 0 ]"

# Cold migration back h2 -> h1.
expect_rc 0 ctl vm migrate "$vm" --host h1 --cold
check "back on qemu:///system, running" bash -c "virsh -q -c qemu:///system domstate $vm | grep -q running"
check "undefined at the second host" bash -c "! virsh -q -c '$L2URI' dominfo $vm >/dev/null 2>&1"
pu=$(ctl --json vm pins "$vm" | jget 'd["vcpus"][0]["plan"]')
check "source vCPU pinned in /proc after the cold move" proc_pins_ok "$pu"
check_pins

# Asynchronous: the answer is the operation (HTTP 202) once the destination
# PUs are claimed; the move finishes on a worker thread.
expect_rc 0 ctl --json vm migrate "$vm" --host h2 --live --async
op=$(jget 'd["operation_id"]' <"$T/out")
api GET "/v1/vms/$vm/migration"
check "progress answers while the async move runs" bash -c "[ $status = 200 ]"
expect_rc 0 ctl --timeout 120000 operation show "$op" --wait
check "async migration done" bash -c "grep -q '\"done\"\|done' '$T/out' && ctl --json vm show $vm | jget 'd[\"host\"]' | grep -qx h2"
check "async: destination vCPU pinned in /proc" proc_pins_ok 1
expect_rc 0 ctl vm migrate "$vm" --host h1 --live
check_pins

# The destination dies mid-migration: rolled back, the guest runs on h1.
ctl vm migrate "$vm" --host h2 --live >"$T/mig.out" 2>"$T/mig.err" &
mpid=$!
for _ in $(seq 100); do
    api GET "/v1/vms/$vm/migration"
    printf '%s' "$body" | grep -q '"migrating": *true' && break
    sleep 0.05
done
sleep 0.3
kill -9 "$(cat "$L2/libvirtd.pid")"
# The destination's incoming QEMU (its pid file is in the second host's
# private /run/libvirt; a guest that arrived by migration has -incoming in
# its command line too, so the command line does not tell them apart).
inc=$(cat "$L2/run/qemu/$vm.pid" 2>/dev/null)
[ -n "$inc" ] && kill -9 "$inc"
wait "$mpid"
rc=$?
check "migration to a dead destination fails (rc $rc)" bash -c "[ $rc != 0 ]"
check "guest still runs at the source" bash -c "virsh -q -c qemu:///system domstate $vm | grep -q running"
ctl --json vm show "$vm" >"$T/vm.json"
check "still on h1" bash -c "jget 'd[\"host\"]' <'$T/vm.json' | grep -qx h1"
check "no row on h2 (no PU held twice)" bash -c \
    "[ \$(sqlite3 '$STATE/vmmgr.db' 'select count(*) from allocations a join hosts h on h.id=a.host_id where h.name=\"h2\"') = 0 ]"
check "operation failed" bash -c "sqlite3 '$STATE/vmmgr.db' \"select state from journal where kind='vm_migrate' order by id desc limit 1\" | grep -qx failed"
rm -f "$L2/libvirtd.pid"
bash "$src/scripts/lib/libvirtd2.sh" start "$L2" >/dev/null 2>&1 || fail "second libvirtd restart"
wait_for 30 "h2 reconnected" bash -c "ctl --json host show h2 | grep -q '\"state\": \"up\"'"

# vmmgrd dies during a migration (debug_crash_at, then a real kill -9):
# after the restart the guest runs on exactly one host, which the database
# names, and only that host's PUs are held.
restart_with() { # restart_with [CRASH_POINT]
    if kill -0 "$DPID" 2>/dev/null; then stop_daemon; fi
    write_config "healing_reserve = off
uri_alias.l2 = $L2URI${1:+
debug_crash_at = $1}"
    "$VMMGRD" --config "$CONF" >>"$T/vmmgrd.log" 2>&1 &
    DPID=$!
    PIDS="$PIDS $DPID"
    wait_for 60 "vmmgrd serves" bash -c "ctl --json status 2>/dev/null | grep -q '\"recovering\": false'"
    wait_for 60 "h2 up" bash -c "ctl --json host show h2 | grep -q '\"state\": \"up\"'"
}
rows_on() { sqlite3 "$STATE/vmmgr.db" "select count(*) from allocations a join hosts h on h.id=a.host_id where h.name='$1'"; }
uri_of() { [ "$1" = h1 ] && echo qemu:///system || echo "$L2URI"; }
# after_recovery WANT_HOST OTHER_HOST WHAT
after_recovery() {
    local want=$1 other=$2 what=$3
    ctl --json vm show "$vm" >"$T/vm.json"
    check "$what: the database says $want" bash -c "jget 'd[\"host\"]' <'$T/vm.json' | grep -qx $want"
    check "$what: running at $want" bash -c "virsh -q -c '$(uri_of "$want")' domstate $vm | grep -q running"
    check "$what: nothing left at $other" bash -c "! virsh -q -c '$(uri_of "$other")' dominfo $vm >/dev/null 2>&1"
    check "$what: PUs held on $want only" bash -c "[ \$(rows_on $want) -gt 0 ] && [ \$(rows_on $other) = 0 ]"
    check "$what: journal resolved" bash -c "[ \$(sqlite3 '$STATE/vmmgr.db' \"select count(*) from journal where state='pending'\") = 0 ]"
    check "$what: vCPU pinned in /proc" proc_pins_ok "$(ctl --json vm pins "$vm" | jget 'd["vcpus"][0]["plan"]')"
}
export -f rows_on
export STATE
# crash_at POINT FROM TO WANT: migrate FROM -> TO with vmmgrd exiting at POINT.
crash_at() {
    restart_with "vm_migrate.$1"
    ctl vm migrate "$vm" --host "$3" --live >/dev/null 2>&1
    wait "$DPID"
    local rc=$?
    check "vmmgrd exited at $1 (rc $rc)" bash -c "[ $rc = 99 ]"
    restart_with
    after_recovery "$4" "$([ "$4" = h1 ] && echo h2 || echo h1)" "crash at $1"
}
crash_at after_journal h1 h2 h1  # nothing moved yet: rolled back
crash_at after_migrate h1 h2 h2  # libvirt moved it: finished
crash_at before_commit h2 h1 h1  # moved and verified: finished
# A re-pin cut short after the new pins were applied: rolled back (the new
# PUs are free again) and reconcile pins the guest back to its plan.
old=$(ctl --json vm pins "$vm" | jget 'd["vcpus"][0]["plan"]')
restart_with "vm_pin_change.after_pin"
ctl vm repin "$vm" --cpu-mode numbered --cpu-map "0:$((1 - old))" >/dev/null 2>&1
wait "$DPID"
rc=$?
check "vmmgrd exited at vm_pin_change.after_pin (rc $rc)" bash -c "[ $rc = 99 ]"
restart_with
check "re-pin rolled back: plan keeps PU $old" bash -c \
    "[ \"\$(ctl --json vm pins $vm | jget 'd[\"vcpus\"][0][\"plan\"]')\" = '$old' ]"
wait_for 20 "reconcile pinned the guest back to PU $old" proc_pins_ok "$old"
check "no pending journal entry" bash -c "[ \$(sqlite3 '$STATE/vmmgr.db' \"select count(*) from journal where state='pending'\") = 0 ]"
check_pins # rows, core maps and live pins agree with the (old) plan
# A real kill -9 while libvirt is still copying the guest's memory.
ctl vm migrate "$vm" --host h2 --live >/dev/null 2>&1 &
for _ in $(seq 100); do
    api GET "/v1/vms/$vm/migration"
    printf '%s' "$body" | grep -q '"phase": *"migrating"' && break
    sleep 0.05
done
sleep 0.5
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
restart_with
where=$(ctl --json vm show "$vm" | jget 'd["host"]')
echo "kill -9 of vmmgrd mid-migration: recovery left the guest on $where"
after_recovery "$where" "$([ "$where" = h1 ] && echo h2 || echo h1)" "kill -9 mid-migration ($where)"
expect_rc 0 ctl vm delete "$vm"
stop_daemon
echo "PASS: $n_checks checks"
