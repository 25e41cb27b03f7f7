#!/usr/bin/env bash
# Issue 12: vmmgrd killed in the middle of a recovery, and the restart
# finishes it. For each healing crash point (debug_crash_at), on simulated
# hosts: an ACT/SBY pair and a lone VM on h1, the operator confirms h1 dead,
# vmmgrd _exit()s at the point; the restarted vmmgrd (no crash point) ends
# with the SBY promoted exactly once in the database, the VNF hook run, the
# lost members rebuilt once each, nothing pending in the journal and every
# core map agreeing with the plans. Then two hosts fail at once (a rack).
VMMGR_TEST_TAG=healcrash
. "$(dirname "$0")/../vmmgrd/lib.sh"

hook_log="$T/hook.log"
cat >"$T/hook.sh" <<HOOK
#!/bin/sh
cat >>"$hook_log"
echo >>"$hook_log"
HOOK
chmod 0755 "$T/hook.sh"
syn="package:1 numa:1(memory=4GB) core:5 pu:1" # 4 usable cores (0 reserved)

heal_state() { # heal_state HOST
    ctl --json heal status | jget "[h['state'] for h in d['hosts'] if h['name']=='$1'][0]"
}
group_state() { # group_state GROUP
    ctl --json heal status | jget "([g['state'] for g in d['groups'] if g['name']=='$1'] or ['none'])[0]"
}
setup_cluster() {
    expect_rc 0 ctl host add h1 --uri test:/// --synthetic "$syn" --reserved 0 --label rack=r1
    expect_rc 0 ctl host add h2 --uri test:/// --synthetic "$syn" --reserved 0 --label rack=r2
    expect_rc 0 ctl host add h3 --uri test:/// --synthetic "$syn" --reserved 0 --label rack=r3
    expect_rc 0 ctl group create nat --scope host --member nat-a:act:vcpus=2,memory=64,host=h1 \
        --member nat-b:sby:vcpus=2,memory=64,host=h2
    expect_rc 0 ctl vm create lone --vcpus 1 --memory 64 --host h1
}
wait_exit() { # wait_exit PID : vmmgrd must _exit(99) at the crash point
    local rc
    for _ in $(seq 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    wait "$1"
    rc=$?
    [ "$rc" = 99 ] || fail "vmmgrd exited $rc, expected 99 at the crash point"
}

for point in group_promote.after_roles vm_rebuild.after_release; do
    rm -rf "$STATE" "$hook_log"
    write_config "heal_poll_ms = 100
heal_rebuild_retry_ms = 300
heal_hook_exec = $T/hook.sh
debug_crash_at = $point"
    start_daemon
    setup_cluster
    # The answer may or may not come back before the healer's _exit().
    ctl host fence h1 --confirm-dead >/dev/null 2>&1
    wait_exit "$DPID"
    write_config "heal_poll_ms = 100
heal_rebuild_retry_ms = 300
heal_hook_exec = $T/hook.sh"
    start_daemon
    wait_for 30 "$point: h1 evacuated after the restart" sh -c "[ \"\$('$VMMGRCTL' --socket '$SOCK' --json heal status | $PY -c \"import json,sys; d=json.load(sys.stdin); print([h['state'] for h in d['hosts'] if h['name']=='h1'][0])\")\" = evacuated ]"
    check "$point: the pair is protected" [ "$(group_state nat)" = protected ]
    check "$point: nat-b is the ACT" [ "$(ctl --json vm show nat-b | jget 'd["role"]')" = act ]
    check "$point: nat-a is the SBY" [ "$(ctl --json vm show nat-a | jget 'd["role"]')" = sby ]
    check "$point: nat-a left h1" [ "$(ctl --json vm show nat-a | jget 'd["host"]')" != h1 ]
    check "$point: lone left h1" [ "$(ctl --json vm show lone | jget 'd["host"]')" != h1 ]
    check "$point: one row per VM" [ "$(sqlite3 "$STATE/vmmgr.db" "SELECT COUNT(*) FROM vms")" = 3 ]
    check "$point: one ACT" [ "$(sqlite3 "$STATE/vmmgr.db" "SELECT COUNT(*) FROM vms WHERE role='act'")" = 1 ]
    check "$point: nothing pending" [ "$(sqlite3 "$STATE/vmmgr.db" "SELECT COUNT(*) FROM journal WHERE state='pending'")" = 0 ]
    check "$point: the hook ran" grep -q '"new_act":{"host":"h2","name":"nat-b"' "$hook_log"
    check_pins
    stop_daemon
done

# Two hosts of different racks at once, then a failure during the rebuild.
rm -rf "$STATE" "$hook_log"
write_config "heal_poll_ms = 100
heal_rebuild_retry_ms = 300
heal_hook_exec = $T/hook.sh"
start_daemon
setup_cluster
expect_rc 0 ctl host add h4 --uri test:/// --synthetic "$syn" --reserved 0 --label rack=r4
expect_rc 0 ctl group create fw --scope host --member fw-a:act:vcpus=1,memory=64,host=h2 \
    --member fw-b:sby:vcpus=1,memory=64,host=h3
expect_rc 0 ctl host fence h1 --confirm-dead
expect_rc 0 ctl host fence h2 --confirm-dead
wait_for 40 "h1 and h2 evacuated" sh -c "'$VMMGRCTL' --socket '$SOCK' --json heal status | $PY -c \"import json,sys; d=json.load(sys.stdin); s={h['name']:h['state'] for h in d['hosts']}; sys.exit(0 if s['h1']=='evacuated' and s['h2']=='evacuated' else 1)\""
expect_rc 0 ctl --json heal status
# nat lost its ACT (h1) and its SBY (h2) at once: no SBY to promote, both rebuilt.
check "fw-b was promoted" [ "$(ctl --json vm show fw-b | jget 'd["role"]')" = act ]
check "fw is protected" [ "$(group_state fw)" = protected ]
check "nat is protected again" [ "$(group_state nat)" = protected ]
for vm in nat-a nat-b fw-a fw-b lone; do
    h=$(ctl --json vm show $vm | jget 'd["host"]')
    check "$vm is on a healthy host (h3 or h4, not $h)" grep -qx 'h[34]' <<<"$h"
done
check "no group unprotected" sh -c "'$VMMGRCTL' --socket '$SOCK' metrics | grep -q '^vmmgr_groups_unprotected 0'"
check "nothing pending" [ "$(sqlite3 "$STATE/vmmgr.db" "SELECT COUNT(*) FROM journal WHERE state='pending'")" = 0 ]
check_pins
stop_daemon
echo "PASS: $n_checks checks"
