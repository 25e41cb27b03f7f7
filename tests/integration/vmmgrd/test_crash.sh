#!/usr/bin/env bash
# Crash safety: vmmgrd is killed with SIGKILL at random moments (seeded,
# VMMGR_CRASH_SEED, default 5) while 50 creates and deletes run against it,
# on simulated hosts and this machine's KVM (or TCG) host. After every
# restart: the journal is empty, no VM is half made and each holds PUs, each
# host's core map holds exactly each VM's plan and equals the allocations
# table, libvirt's live pins (virsh and /proc) are the plans (check_pins.py),
# and on the real host libvirt's vmmgr domains are exactly vmmgrd's VMs (none
# leaked, none lost). Without a usable qemu:///system the simulated part runs
# and the test exits 77 naming the reason.
. "$(dirname "$0")/lib.sh"

seed=${VMMGR_CRASH_SEED:-5}
RANDOM=$seed
write_config ""
start_daemon
syn="package:1 numa:2(memory=16GB) core:8 pu:2"
expect_rc 0 ctl host add sim1 --uri test:/// --synthetic "$syn" --reserved 0-1 --label rack=r1
expect_rc 0 ctl host add sim2 --uri test:/// --synthetic "$syn" --reserved 0-1 --label rack=r2
kvm=0
libvirt_why=
if libvirt_usable; then
    expect_rc 0 ctl host add kvm --uri qemu:///system --reserved 0
    kvm=1
fi
prefix=vmmgr-test-crash-$$

db() { sqlite3 "$STATE/vmmgr.db" "$1"; }

journal_empty() { [ "$(db "SELECT COUNT(*) FROM journal WHERE state='pending'")" = 0 ]; }

invariants() {
    # Recovery may defer an entry while libvirt finishes the killed daemon's
    # last call; it retries every second.
    wait_for 20 "journal empty after restart" journal_empty
    check "every VM holds PUs" [ "$(db "SELECT COUNT(*) FROM vms WHERE id NOT IN (SELECT vm_id FROM allocations)")" = 0 ]
    check "no half-made VM" [ "$(db "SELECT COUNT(*) FROM vms WHERE state IN ('creating','deleting')")" = 0 ]
    ctl --json vm list >"$T/list.json" || fail "vm list"
    check "daemon lists the database's VMs" [ "$(jget '" ".join(sorted(v["name"] for v in d))' <"$T/list.json")" = \
        "$(db "SELECT name FROM vms ORDER BY name" | sort | tr '\n' ' ' | sed 's/ $//')" ]
    for v in $(jget '" ".join(v["name"] for v in d if v["state"]=="running")' <"$T/list.json"); do
        ctl --json vm pins "$v" >"$T/pins.json" || fail "vm pins $v"
        check "$v pinned as planned after restart" [ "$(jget 'str(d["live"])+str(d["drift"])' <"$T/pins.json")" = True0 ]
    done
    check_pins
    if [ $kvm = 1 ]; then
        local lv ours
        lv=$(virsh -q -c qemu:///system list --all --name | grep "^$prefix" | sort | tr '\n' ' ')
        ours=$(db "SELECT v.name FROM vms v JOIN hosts h ON h.id = v.host_id WHERE h.name='kvm' ORDER BY v.name" | sort | tr '\n' ' ')
        check "KVM host: libvirt has exactly vmmgrd's domains ('$lv' vs '$ours')" [ "$lv" = "$ours" ]
    fi
}

n_ops=0 n_kills=0
while [ $n_ops -lt 50 ]; do
    # A burst of operations in the background, killed at a random moment.
    (
        for _ in 1 2 3 4 5; do
            i=$((RANDOM % 8))
            case $((RANDOM % 3)) in
            0 | 1)
                if [ $kvm = 1 ] && [ $((RANDOM % 3)) = 0 ]; then
                    ctl vm create "$prefix-$i" --vcpus 1 --memory 64 --host kvm
                else
                    ctl vm create "$prefix-$i" --vcpus $((1 + RANDOM % 3)) --memory 128
                fi
                ;;
            2) ctl vm delete "$prefix-$i" ;;
            esac
        done
    ) >/dev/null 2>&1 &
    burst=$!
    n_ops=$((n_ops + 5))
    sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
    kill -KILL "$DPID" 2>/dev/null
    wait "$DPID" 2>/dev/null
    wait "$burst" 2>/dev/null
    n_kills=$((n_kills + 1))
    rm -f "$SOCK" # a killed daemon leaves its socket; the next one replaces a stale one anyway
    start_daemon
    invariants
done
echo "seed $seed: $n_ops operations, $n_kills kills, $(db "SELECT COUNT(*) FROM journal WHERE state='rolled_back'") rolled back, $(db "SELECT COUNT(*) FROM vms") VMs left"
for v in $(ctl --json vm list | jget '" ".join(v["name"] for v in d)'); do
    expect_rc 0 ctl vm delete "$v"
done
invariants
stop_daemon
[ $kvm = 1 ] || skip_real_host "$libvirt_why"
echo "PASS: $n_checks checks"
