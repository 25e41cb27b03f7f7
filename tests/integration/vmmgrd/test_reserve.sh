#!/usr/bin/env bash
# The healing reserve of issue 4 in vmmgrd's placement, on simulated hosts
# only (libvirt's test driver): with the default "healing_reserve = host" a
# request that would leave no room to rebuild an ACT/SBY member after a host
# failure is refused with NO_CAPACITY naming the reserve, nothing is held,
# and the same request passes with an explicit override (--ignore-reserve,
# "ignore_reserve": true); "healing_reserve = off" keeps no reserve, "rack"
# keeps room for a whole rack.
. "$(dirname "$0")/lib.sh"

allocs() { sqlite3 "$STATE/vmmgr.db" "SELECT COUNT(*) FROM allocations"; }
nvms() { ctl --json vm list | jget 'len(d)'; }
syn="package:1 numa:1(memory=4GB) core:5 pu:1" # 5 cores (core 0 reserved), 1 node

write_config "" # default: healing_reserve = host
start_daemon
expect_rc 0 ctl --json status
check "status names the reserve" [ "$(jget 'd["healing_reserve"]' <"$T/out")" = host ]
expect_rc 0 ctl host add s1 --uri test:/// --synthetic "$syn" --reserved 0
expect_rc 0 ctl host add s2 --uri test:/// --synthetic "$syn" --reserved 0

# Two hosts: whichever fails, its member has nowhere to go but its peer's
# host, which anti-affinity forbids. Refused, and nothing held.
expect_rc 5 ctl group create p1 --scope host --member p1-a:act:vcpus=1,memory=64 \
    --member p1-b:sby:vcpus=1,memory=64
check "refusal names the healing reserve: $(cat "$T/err")" grep -q "healing reserve" "$T/err"
check "refused group left no VM" [ "$(nvms)" = 0 ]
check "refused group left no PU held" [ "$(allocs)" = 0 ]
expect_rc 3 ctl group show p1
expect_api_error 409 NO_CAPACITY POST /v1/groups \
    '{"name":"p1","scope":"host","members":[{"name":"p1-a","role":"act","vcpus":1,"memory_mib":64},{"name":"p1-b","role":"sby","vcpus":1,"memory_mib":64}]}'
check "API error message names the reserve" grep -q "healing reserve" "$T/body"
# The dry run answers the same.
expect_rc 5 ctl group create p1 --scope host --member p1-a:act:vcpus=1,memory=64 \
    --member p1-b:sby:vcpus=1,memory=64 --dry-run
# The operator waives it explicitly: placed.
expect_rc 0 ctl group create p1 --scope host --member p1-a:act:vcpus=1,memory=64 \
    --member p1-b:sby:vcpus=1,memory=64 --ignore-reserve
check "override placed both members" [ "$(nvms)" = 2 ]

# A third host gives each member a rebuild target: a second pair fits
# without the override...
expect_rc 0 ctl host add s3 --uri test:/// --synthetic "$syn" --reserved 0
api POST /v1/groups '{"name":"p2","scope":"host","members":[{"name":"p2-a","role":"act","vcpus":1,"memory_mib":64,"host":"s1"},{"name":"p2-b","role":"sby","vcpus":1,"memory_mib":64,"host":"s2"}]}'
check "pair placed with the reserve kept (HTTP $status: $body)" [ "$status" = 201 ]
# ...but a plain VM that would eat s3's 4 free cores (the spare ones the
# members of s1 and s2 need) is refused, and
# passes with "ignore_reserve" in the API body.
expect_rc 5 ctl vm create big --vcpus 4 --memory 64 --host s3
check "VM refusal names the reserve: $(cat "$T/err")" grep -q "healing reserve" "$T/err"
expect_api_error 400 INVALID_ARGUMENT POST /v1/vms '{"name":"big","vcpus":4,"memory_mib":64,"host":"s3","ignore_reserve":1}'
api POST /v1/vms '{"name":"big","vcpus":4,"memory_mib":64,"host":"s3","ignore_reserve":true}'
check "VM placed with the override (HTTP $status: $body)" [ "$status" = 201 ]
check "the override is not stored with the VM" \
    [ "$(sqlite3 "$STATE/vmmgr.db" "SELECT COUNT(*) FROM vms WHERE spec LIKE '%ignore_reserve%'")" = 0 ]

# healing_reserve = off: no reserve kept, no override needed.
stop_daemon
write_config "healing_reserve = off"
start_daemon
expect_rc 0 ctl status
check "status says the reserve is off" grep -q "reserve:  off (no healing reserve kept)" "$T/out"
expect_rc 0 ctl group create p3 --scope host --member p3-a:act:vcpus=1,memory=64,host=s1 \
    --member p3-b:sby:vcpus=1,memory=64,host=s2
# healing_reserve = rack: the hosts carry no rack label, so they share one
# rack ("-") whose failure nothing survives: even a pair that fits on cores
# is refused, naming the rack failure, unless waived.
expect_rc 0 ctl vm delete big
stop_daemon
write_config "healing_reserve = rack"
start_daemon
expect_rc 5 ctl group create p4 --scope host --member p4-a:act:vcpus=1,memory=64 \
    --member p4-b:sby:vcpus=1,memory=64 --dry-run
check "rack reserve named: $(cat "$T/err")" grep -q "healing reserve (failure 'rack'); first: if rack '-' fails" "$T/err"
expect_rc 0 ctl group create p4 --scope host --member p4-a:act:vcpus=1,memory=64 \
    --member p4-b:sby:vcpus=1,memory=64 --dry-run --ignore-reserve
expect_rc 0 ctl vm create big --vcpus 4 --memory 64 --host s3 --ignore-reserve --dry-run
# A bad value is refused at start-up, naming the key.
write_config "healing_reserve = zone"
expect_rc 2 "$VMMGRD" --config "$CONF" --check-config
check "bad healing_reserve named" grep -q "'healing_reserve'" "$T/out" "$T/err"
echo "ok: $n_checks checks"
